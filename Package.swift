// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "PromptEvents",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "PromptEvents", targets: ["PromptEvents"]),
        .library(name: "PromptEventsServer", targets: ["PromptEventsServer"]),
        .executable(name: "prompt-listen", targets: ["PromptListen"]),
    ],
    targets: [
        // Pure: event kinds, models, JSON, authentication, the transport-free receiver.
        .target(name: "PromptEvents"),
        // Declarations Glibc does not export (epoll, eventfd, accept4). No logic.
        .target(name: "CPromptEventsLinux"),
        // Everything that touches the operating system: sockets, HTTP/1.1, the journal.
        .target(
            name: "PromptEventsServer",
            dependencies: [
                "PromptEvents",
                .target(name: "CPromptEventsLinux", condition: .when(platforms: [.linux])),
            ]
        ),
        .executableTarget(
            name: "PromptListen",
            dependencies: ["PromptEvents", "PromptEventsServer"],
            path: "Sources/prompt-listen"
        ),
        // Micro-benchmarks of each stage: swift run -c release PromptEventsMicroBenchmarks. Not a
        // product (nothing depending on this package sees it); it stays in this package because it
        // times package-only stages (the request parser, HMAC, SHA-1) that Benchmarks/ cannot import.
        .executableTarget(
            name: "PromptEventsMicroBenchmarks",
            dependencies: ["PromptEvents", "PromptEventsServer"],
            path: "Benchmarks/Micro"
        ),
        .testTarget(
            name: "PromptEventsTests",
            dependencies: ["PromptEvents"],
            resources: [.copy("Fixtures")]
        ),
        // Fixtures/ holds the outside request corpus, read by path in OutsideCorpusTests.
        .testTarget(name: "PromptEventsServerTests", dependencies: ["PromptEventsServer"], exclude: ["Fixtures"]),
        // Help/ holds the pinned help screens, read by path in HelpTests.
        .testTarget(
            name: "PromptListenTests",
            dependencies: ["PromptListen", "PromptEvents", "PromptEventsServer"],
            exclude: ["Help"]
        ),
    ]
)

for target in package.targets where target.name != "CPromptEventsLinux" {
    var settings = target.swiftSettings ?? []
    // SE-0335: existential types must be spelled `any P`.
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    // SE-0444: a file sees only the members of modules it imports itself.
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    // SE-0409: imports are internal unless written `public import`.
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}
