import Foundation
import PromptEvents
import Testing

@testable import PromptEventsServer

/// A listener on 127.0.0.1:0 with a temporary journal, for live tests.
///
/// Stop it with `stop()`.
final class TestListener: Sendable {
    let listener: WebhookListener
    let directory: String
    static let secret = Secret("live-test-secret")

    init(
        authentication: Authentication = Authentication(hubSecrets: [HubSecret(TestListener.secret)]),
        configure: (inout WebhookListener.Configuration) -> Void = { _ in },
        register: (inout WebhookReceiver) -> Void = { _ in }
    ) throws {
        directory = NSTemporaryDirectory() + "prompt-events-test-\(UUID().uuidString)"
        var configuration = WebhookListener.Configuration(port: 0, journalDirectory: directory + "/journal")
        configuration.shutdownGracePeriod = .seconds(2)
        configure(&configuration)
        var receiver = WebhookReceiver(authentication: authentication)
        let events = Locked<[AnyEvent]>([])
        register(&receiver)
        receiver.onAny(name: "collect") { event in events.withLock { $0.append(event) } }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let records = Locked<[RequestRecord]>([])
        listener = try WebhookListener(receiver: receiver, configuration: configuration) { event in
            if let record = event.request { records.withLock { $0.append(record) } }
        }
        listener.start()
        self.eventsBox = events
        self.recordsBox = records
    }

    private let eventsBox: Locked<[AnyEvent]>
    private let recordsBox: Locked<[RequestRecord]>

    var port: Int { listener.address.port }
    var url: String { "http://127.0.0.1:\(port)" }

    /// The events the collecting handler saw, waiting up to two seconds for `count` of them.
    func received(atLeast count: Int) async -> [AnyEvent] {
        for _ in 0..<200 {
            let seen = eventsBox.withLock { $0 }
            if seen.count >= count { return seen }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return eventsBox.withLock { $0 }
    }

    var requestRecords: [RequestRecord] { recordsBox.withLock { $0 } }

    /// The events the collecting handler saw so far.
    var events: [AnyEvent] { eventsBox.withLock { $0 } }

    func stop() async {
        listener.shutdown()
        await listener.wait()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A signed body and its headers, as Prompt.io would send them.
    static func signed(_ body: String, kind: EventKind = .messageAdded) -> (body: [UInt8], headers: [(String, String)])
    {
        let bytes = Array(body.utf8)
        let signature = HubSignature.sign(bytes, secret: secret)
        return (
            bytes,
            [
                ("Content-Type", "application/json"), ("Prompt-EventType", kind.rawValue),
                (signature.name, signature.value),
            ]
        )
    }
}

/// Runs an external program and returns its exit status and output.
func runProgram(_ path: String, _ arguments: [String], input: Data? = nil, timeout: TimeInterval = 30) throws -> (
    status: Int32, output: String
) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    let stdin = Pipe()
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(input) }
    try stdin.fileHandleForWriting.close()
    let deadline = Date().addingTimeInterval(timeout)
    let data = output.fileHandleForReading.readDataToEndOfFile()
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Finds a program on PATH.
func which(_ name: String) -> String? {
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
        let path = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}
