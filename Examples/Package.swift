// swift-tools-version: 6.1
// Runnable examples of PromptEvents: mounting the receiver in Hummingbird, a custom listener,
// and the Prompt.io guide's "next steps" (a dog picture for every new customer). This nested
// package may depend on other packages; the root package never does.
import PackageDescription

let package = Package(
    name: "PromptEventsExamples",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "PromptEvents", path: ".."),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // 1. PromptEvents' WebhookReceiver mounted on one route of a Hummingbird 2 application.
        .target(
            name: "HummingbirdExample",
            dependencies: [
                .product(name: "PromptEvents", package: "PromptEvents"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "HummingbirdEmbedding",
            dependencies: [
                "HummingbirdExample",
                .product(name: "PromptEvents", package: "PromptEvents"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),

        // 2. A listener of your own on PromptEventsServer's WebhookListener.
        .target(
            name: "CustomListenerExample",
            dependencies: [
                .product(name: "PromptEvents", package: "PromptEvents"),
                .product(name: "PromptEventsServer", package: "PromptEvents"),
            ]
        ),
        .executableTarget(
            name: "CustomListener",
            dependencies: [
                "CustomListenerExample",
                .product(name: "PromptEvents", package: "PromptEvents"),
                .product(name: "PromptEventsServer", package: "PromptEvents"),
            ]
        ),

        // 3. The guide's next steps: customer/added -> a random dog picture -> the CRM.
        .target(
            name: "DogCEOExample",
            dependencies: [
                .product(name: "PromptEvents", package: "PromptEvents"),
                .product(name: "PromptEventsServer", package: "PromptEvents"),
            ]
        ),
        .executableTarget(
            name: "DogCEO",
            dependencies: [
                "DogCEOExample",
                .product(name: "PromptEvents", package: "PromptEvents"),
                .product(name: "PromptEventsServer", package: "PromptEvents"),
            ]
        ),

        .testTarget(
            name: "ExamplesTests",
            dependencies: [
                "HummingbirdExample",
                "CustomListenerExample",
                "DogCEOExample",
                .product(name: "PromptEvents", package: "PromptEvents"),
                .product(name: "PromptEventsServer", package: "PromptEvents"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)

for target in package.targets {
    var settings = target.swiftSettings ?? []
    // The same upcoming features as the root package.
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}
