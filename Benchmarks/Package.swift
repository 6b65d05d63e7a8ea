// swift-tools-version: 6.1
// The comparison peers for Benchmarks/run.sh. This nested package may depend on other
// packages; the root package never does.
import PackageDescription

let package = Package(
    name: "PromptEventsBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        // The same work as prompt-listen: webhooktoken header, X-Hub-Signature (HMAC-SHA1, constant
        // time) over the raw body, JSON decode of the whole body, 200.
        .executableTarget(
            name: "HummingbirdPeer",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        )
    ]
)
