import PromptEvents

/// Identifies one request's response slot across threads: the connection's descriptor, its
/// generation (descriptors are reused after close), and the slot's sequence number.
struct Ticket: Hashable, Sendable {
    let fd: Int32
    let generation: UInt64
    let sequence: UInt64
}

/// What the loop should answer for an accepted event.
enum SinkDecision {
    /// Answer now.
    case respond(WebhookResponse, deliveryID: UInt64?, duplicate: Bool)
    /// Answer once the current batch is committed to disk (group commit).
    case respondAfterCommit(WebhookResponse, deliveryID: UInt64?, duplicate: Bool)
    /// The answer will arrive later through ``AnswerMailbox/complete(_:with:)``.
    case respondLater(deliveryID: UInt64?)
}

/// How a group commit ended, for the requests that waited on it.
struct CommitOutcome {
    /// The answer to send instead of each request's own (a 503) when the commit failed.
    var failure: WebhookResponse?
    /// Deliveries found only when committing to repeat one another instance had committed.
    ///
    /// Their provisional id → the original's id (a shared store); answered as duplicates.
    var duplicates: [UInt64: UInt64] = [:]
    /// The answer to a duplicate.
    var duplicateAnswer = DeliveryPipeline.duplicate

    /// Every delivery is durable, none a late duplicate.
    static var succeeded: CommitOutcome { CommitOutcome() }
}

/// Where accepted events go: the journal and dispatcher, per acknowledgement mode.
///
/// Called on the event loop thread only. ``commit()`` runs once per loop turn, after every
/// request read in that turn was accepted, so one `fdatasync` covers them all.
protocol DeliverySink: AnyObject {
    /// Takes an accepted event.
    func accept(_ event: AnyEvent, ticket: Ticket) -> SinkDecision
    /// Keeps an authenticated delivery whose body is not a JSON object, as a dead letter.
    /// Returns `false` when it could not be stored (the loop then answers 503, not 400).
    func keepDeadLetter(_ delivery: Delivery, kind: EventKind, reason: String) -> Bool
    /// Makes everything accepted since the last commit durable.
    func commit() -> CommitOutcome
    /// Whether deliveries were accepted since the last commit (the loop then commits this turn).
    var hasUncommitted: Bool { get }
    /// Why deliveries cannot be stored now (a shared store out of reach), for `/healthz`; `nil`
    /// when they can. Requests still try the store, and the first that succeeds clears it.
    var unavailability: String? { get }
    /// Whether so many deliveries wait for handlers that the loop should stop reading requests
    /// (with hysteresis: once `true`, it stays so until the backlog is down to half).
    func shouldPauseReading() -> Bool
}

/// Where late answers go, from any thread: the event loop in a server, a test's collector
/// in-process.
protocol AnswerMailbox: AnyObject, Sendable {
    /// Delivers the answer to the request with `ticket` (after its handlers, say).
    func complete(_ ticket: Ticket, with response: WebhookResponse)
    /// Asks for another look at parked connections: the handlers' backlog shrank.
    func wakeUp()
}
