import PromptEvents

/// What every connection of one listener shares: the receiver, where accepted events go, the
/// counters, the observer, and whether the listener is draining.
///
/// Owned by one thread (the event loop's, or a test's), like the connections it serves. It
/// knows nothing of sockets: ``ServerConnection`` asks it to admit heads, deliver bodies and
/// serialise answers; the driver asks it to commit the turn's batch and resume parked
/// connections, and syncs the connections it returns.
final class ServerContext {
    /// The listener's settings (limits, timeouts, pipelining, the metrics port).
    let configuration: WebhookListener.Configuration
    let receiver: WebhookReceiver
    let sink: any DeliverySink
    let metrics: Metrics
    let observer: @Sendable (ListenerEvent) -> Void
    /// Wall-clock seconds since 1970, for the `Date` field (fixed in tests, for exact bytes).
    let epochSeconds: () -> Int64
    private var writer = ResponseWriter()

    /// Whether shutdown began: new requests are answered 503, answers close their connections.
    private(set) var isDraining = false
    /// Connections with an answer waiting for this turn's commit.
    private var awaitingCommit: [ServerConnection] = []
    /// Connections holding an event head until the handlers' backlog shrinks.
    private var parked: [ServerConnection] = []

    init(
        configuration: WebhookListener.Configuration,
        receiver: WebhookReceiver,
        sink: any DeliverySink,
        metrics: Metrics,
        observer: @escaping @Sendable (ListenerEvent) -> Void,
        epochSeconds: @escaping () -> Int64
    ) {
        self.configuration = configuration
        self.receiver = receiver
        self.sink = sink
        self.metrics = metrics
        self.observer = observer
        self.epochSeconds = epochSeconds
    }

    // MARK: - Asked by connections

    /// Serialises one answer; the only place an answer's bytes are built.
    func serialize(
        _ response: WebhookResponse,
        isHead: Bool,
        keepAlive: Bool,
        version: HTTPVersion,
        into bytes: inout [UInt8]
    ) {
        writer.writeResponse(
            status: response.status,
            headers: response.headers,
            body: response.body,
            isHeadRequest: isHead,
            keepAlive: keepAlive,
            clientVersion: version,
            epochSeconds: epochSeconds(),
            into: &bytes
        )
    }

    /// Remembers a connection whose answer waits for the commit at the end of this turn.
    func awaitCommit(_ connection: ServerConnection) {
        awaitingCommit.append(connection)
    }

    /// Remembers a parked connection, resumed by ``resumeParked(now:)``.
    func park(_ connection: ServerConnection) {
        parked.append(connection)
    }

    // MARK: - Asked by the driver

    /// Whether any connection is parked.
    var hasParked: Bool { !parked.isEmpty }

    /// Resumes the parked connections once the backlog is down to half; returns them, for the
    /// driver to write their answers and update what it waits for.
    ///
    /// Call before ``commitBatch(now:)``, so the deliveries they hold join this turn's batch.
    func resumeParked(now: UInt64) -> [ServerConnection] {
        guard !parked.isEmpty, isDraining || !sink.shouldPauseReading() else { return [] }
        let resumed = parked
        parked.removeAll(keepingCapacity: true)
        for connection in resumed { connection.resume(now: now) }
        return resumed
    }

    /// Makes this turn's deliveries durable (one `fdatasync` for all of them: group commit) and
    /// answers the requests that waited for it; returns their connections.
    func commitBatch(now: UInt64) -> [ServerConnection] {
        guard !awaitingCommit.isEmpty || sink.hasUncommitted else { return [] }
        let waiting = awaitingCommit
        awaitingCommit.removeAll(keepingCapacity: true)
        let outcome = sink.commit()
        for connection in waiting { connection.commitFinished(outcome, now: now) }
        return waiting
    }

    /// Begins draining: from now on new requests get 503 and answers close their connections.
    ///
    /// Tell each connection with ``ServerConnection/beginDraining(now:)`` afterwards.
    func beginDraining() {
        isDraining = true
    }
}
