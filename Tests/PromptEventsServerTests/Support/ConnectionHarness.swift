import Foundation
import PromptEvents
import Testing

@testable import PromptEventsServer

/// One ``ServerConnection`` driven in-process, as the event loop drives it, with no socket:
/// bytes in, the exact bytes written out, a test clock, and the real receiver, pipeline and
/// dispatcher behind it (what NIO's `EmbeddedChannel` gives a channel handler).
///
/// `turn()` does what the loop does at the end of each epoll turn: deliver late answers,
/// resume parked connections, commit the batch. Everything runs on the calling task; handlers
/// run on the concurrency pool, as in the server.
final class ConnectionHarness {
    static let secret = Secret("harness-secret")
    /// Fixed wall-clock time for the `Date` field, so answers are comparable byte for byte.
    static let date = "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"

    private(set) var now: UInt64 = 1_000_000_000
    let context: ServerContext
    let pipeline: DeliveryPipeline
    let mailbox = CollectingMailbox()
    let directory: TemporaryDirectory
    private let recordsBox = Locked<[RequestRecord]>([])
    private var connections: [ServerConnection] = []
    /// What each connection wrote, in order, and whether it was closed.
    private var writtenBytes: [ObjectIdentifier: [UInt8]] = [:]
    private var closedConnections: Set<ObjectIdentifier> = []
    /// How many bytes the peer reads per write (`nil`: everything at once).
    var readLimit: Int?

    /// A harness with `register`'s handlers and `configure`'s settings (in-memory
    /// acknowledgement unless told otherwise).
    init(
        authentication: Authentication = Authentication(hubSecrets: [HubSecret(ConnectionHarness.secret)]),
        configure: (inout WebhookListener.Configuration) -> Void = { _ in },
        register: (inout WebhookReceiver) -> Void = { _ in }
    ) throws {
        directory = try TemporaryDirectory()
        var configuration = WebhookListener.Configuration(port: 0, journalDirectory: directory.path + "/journal")
        configuration.acknowledgement = .inMemory
        configure(&configuration)
        var receiver = WebhookReceiver(authentication: authentication)
        register(&receiver)
        let metrics = Metrics()
        let records = recordsBox
        let observer: @Sendable (ListenerEvent) -> Void = { event in
            if let record = event.request { records.withLock { $0.append(record) } }
        }
        pipeline = try DeliveryPipeline(
            receiver: receiver,
            configuration: configuration,
            metrics: metrics,
            observer: observer
        )
        pipeline.attach(mailbox)
        pipeline.start()
        context = ServerContext(
            configuration: configuration,
            receiver: receiver,
            sink: pipeline,
            metrics: metrics,
            observer: observer,
            epochSeconds: { 0 }
        )
    }

    deinit {
        // Not `stop`: that blocks its thread, and tests run on the concurrency pool.
        let pipeline = self.pipeline
        Task { await pipeline.shutdown(gracePeriod: .zero) }
    }

    /// The requests answered so far, as the observer saw them.
    var records: [RequestRecord] { recordsBox.withLock { $0 } }

    /// Opens a connection on the main port (or the metrics port).
    func connect(role: ServerConnection.Role = .events) -> ServerConnection {
        let connection = ServerConnection(
            fd: Int32(connections.count),
            generation: 1,
            role: role,
            context: context,
            now: now
        )
        connections.append(connection)
        return connection
    }

    /// The peer sends `bytes`; what the connection answers is written at once.
    func send(_ bytes: [UInt8], on connection: ServerConnection) {
        precondition(connection.wantsToRead, "the driver would not read now: \(connection.state)")
        bytes.withUnsafeBytes { connection.received($0, now: now) }
        sync(connection)
    }

    func send(_ text: String, on connection: ServerConnection) {
        send(Array(text.utf8), on: connection)
    }

    /// The end of a loop turn: late answers, parked connections, the group commit.
    func turn() {
        for (ticket, response) in mailbox.takeAnswers() {
            let connection = connections[Int(ticket.fd)]
            connection.answer(ticket.sequence, with: response, now: now)
            sync(connection)
        }
        for connection in context.resumeParked(now: now) { sync(connection) }
        for connection in context.commitBatch(now: now) { sync(connection) }
    }

    /// Moves the test clock on and fires every connection's timers.
    func advance(by duration: Duration) {
        now += duration.nanoseconds
        for connection in connections {
            connection.expireTimers(now: now)
            sync(connection)
        }
    }

    /// Shutdown begins, as the loop begins it.
    func beginDraining() {
        context.beginDraining()
        for connection in connections {
            connection.beginDraining(now: now)
            sync(connection)
        }
    }

    /// Waits for `count` late answers from the handlers, then runs a turn.
    func turnAfterAnswers(_ count: Int) async {
        await mailbox.waitForAnswers(count)
        turn()
    }

    /// Waits until the pipeline asks for another look at parked connections, then runs a turn.
    func turnAfterWakeUp() async {
        await mailbox.waitForWakeUp()
        turn()
    }

    /// Everything `connection` wrote so far, as text.
    func output(of connection: ServerConnection) -> String {
        String(decoding: writtenBytes[ObjectIdentifier(connection)] ?? [], as: UTF8.self)
    }

    /// The responses `connection` wrote so far, parsed.
    func responses(of connection: ServerConnection) throws -> [ResponseParser.Response] {
        var parser = ResponseParser(requestMethod: "POST")
        parser.append(writtenBytes[ObjectIdentifier(connection)] ?? [])
        var responses: [ResponseParser.Response] = []
        while let response = try parser.next() { responses.append(response) }
        return responses
    }

    /// Whether the driver closed `connection`.
    func isClosed(_ connection: ServerConnection) -> Bool {
        closedConnections.contains(ObjectIdentifier(connection))
    }

    /// What the event loop does after every input: write, then close when finished.
    private func sync(_ connection: ServerConnection) {
        let id = ObjectIdentifier(connection)
        guard !closedConnections.contains(id) else { return }
        while !connection.pendingOutput.isEmpty {
            let chunk = connection.pendingOutput.prefix(readLimit ?? .max)
            writtenBytes[id, default: []].append(contentsOf: chunk)
            connection.didWrite(chunk.count, now: now)
            if readLimit != nil { break }
        }
        if connection.isFinished {
            connection.closed()
            closedConnections.insert(id)
        }
    }

    /// The peer reads once more (with ``readLimit``), as a writable event would let the loop write.
    func peerReads(on connection: ServerConnection) {
        sync(connection)
    }

    // MARK: - Requests

    /// A signed event POST, as Prompt.io sends it.
    static func event(
        _ body: String = #"{"id":"m1"}"#,
        kind: EventKind = .messageAdded,
        path: String = "/",
        extraHeaders: String = "",
        version: String = "HTTP/1.1"
    ) -> String {
        let signature = HubSignature.sign(Array(body.utf8), secret: secret)
        return "POST \(path) \(version)\r\nHost: x\r\nContent-Type: application/json\r\n"
            + "Prompt-EventType: \(kind.rawValue)\r\n\(signature.name): \(signature.value)\r\n"
            + "Content-Length: \(body.utf8.count)\r\n\(extraHeaders)\r\n\(body)"
    }

    static let healthCheck = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
}

/// Collects late answers and wake-ups from the pipeline, from any thread, and lets a test wait
/// for them without polling.
final class CollectingMailbox: AnswerMailbox, @unchecked Sendable {
    // @unchecked: every property is behind `state`'s lock.
    private struct State {
        var answers: [(Ticket, WebhookResponse)] = []
        var delivered = 0
        var wakeUps = 0
        var answerWaiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
        var wakeUpWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Locked(State())

    func complete(_ ticket: Ticket, with response: WebhookResponse) {
        let ready = state.withLock { state in
            state.answers.append((ticket, response))
            state.delivered += 1
            let total = state.delivered
            let ready = state.answerWaiters.filter { $0.count <= total }.map(\.continuation)
            state.answerWaiters.removeAll { $0.count <= total }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    func wakeUp() {
        let ready = state.withLock { state in
            state.wakeUps += 1
            defer { state.wakeUpWaiters.removeAll() }
            return state.wakeUpWaiters
        }
        for continuation in ready { continuation.resume() }
    }

    func takeAnswers() -> [(Ticket, WebhookResponse)] {
        state.withLock { state in
            defer { state.answers.removeAll() }
            return state.answers
        }
    }

    /// Returns once `count` answers in all have arrived.
    func waitForAnswers(_ count: Int) async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                if state.delivered >= count { return true }
                state.answerWaiters.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Returns at the next wake-up (or at once if one arrived since the last wait).
    func waitForWakeUp() async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                if state.wakeUps > 0 {
                    state.wakeUps = 0
                    return true
                }
                state.wakeUpWaiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }
}
