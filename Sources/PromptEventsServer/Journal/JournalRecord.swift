public import PromptEvents

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// One journaled delivery: its id, its event kind and the request exactly as received.
///
/// The ``id`` is the delivery id handlers see. The journal assigns ids in increasing order, never
/// reuses one (also across restarts), and keeps it across retries and replays, so handlers can use
/// it as an idempotency key.
///
/// The ``delivery`` holds the exact body bytes and the headers as stored: the journal never stores
/// the `Authorization` header or the configured token headers
/// (``Journal/Configuration/droppedHeaderNames``).
public struct JournalRecord: Sendable, Hashable, Identifiable {
    /// The delivery id: increasing, never reused, stable across retries and replays.
    public var id: UInt64
    /// The event kind, for example `message/added`.
    public var kind: String
    /// The request as received, minus the headers the journal never stores.
    public var delivery: Delivery
    /// Why the delivery went straight to the dead letters when it was journaled, if it did (for
    /// example, an authenticated body that is not a JSON object).
    public var deadLetterReason: String?

    /// Creates a record.
    ///
    /// The journal creates records in ``Journal/append(_:kind:deduplicationKey:acknowledgement:deadLetterReason:)``;
    /// this initializer exists for tests and for deliveries that are not journaled
    /// (``AcknowledgementMode/inMemory``).
    ///
    /// - Parameters:
    ///   - id: The delivery id.
    ///   - kind: The event kind.
    ///   - delivery: The request.
    ///   - deadLetterReason: Why the delivery is a dead letter from the start, if it is.
    public init(id: UInt64, kind: String, delivery: Delivery, deadLetterReason: String? = nil) {
        self.id = id
        self.kind = kind
        self.delivery = delivery
        self.deadLetterReason = deadLetterReason
    }

    /// The exact body bytes received.
    public var body: [UInt8] { delivery.body }

    /// The headers as stored.
    public var headers: Headers { delivery.headers }

    /// When the request was received.
    public var receivedAt: Date { delivery.receivedAt }

    /// Where a journaled delivery stands.
    public enum State: String, Sendable, Hashable, CaseIterable {
        /// At least one handler has not finished: it has not run yet, or it failed and will be retried.
        case pending
        /// Every handler succeeded.
        case done
        /// Handling stopped: a handler failed its last attempt, or the delivery was journaled as a
        /// dead letter.
        case deadLettered
    }
}

/// How far one handler got with one delivery.
public struct HandlerProgress: Sendable, Hashable {
    /// The outcome of a handler's latest attempt.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        /// The handler succeeded; it will not run again unless the delivery is replayed.
        case succeeded
        /// The latest attempt failed; another attempt will follow after a backoff.
        case failed
        /// The last allowed attempt failed; the handler will not run again unless replayed.
        case deadLettered
    }

    /// The handler's stable name, as given by the handler registry.
    public var handler: String
    /// The outcome of the latest attempt.
    public var status: Status
    /// How many attempts have been made, counting the latest.
    public var attempts: Int
    /// The error of the latest failed attempt, if the latest attempt failed.
    public var lastError: String?
    /// When the latest attempt finished.
    public var updatedAt: Date

    /// Creates a progress value.
    ///
    /// - Parameters:
    ///   - handler: The handler's name.
    ///   - status: The outcome of the latest attempt.
    ///   - attempts: How many attempts have been made.
    ///   - lastError: The latest error, if any.
    ///   - updatedAt: When the latest attempt finished.
    public init(handler: String, status: Status, attempts: Int, lastError: String?, updatedAt: Date) {
        self.handler = handler
        self.status = status
        self.attempts = attempts
        self.lastError = lastError
        self.updatedAt = updatedAt
    }

    /// Whether the handler will not run again (it succeeded or was dead-lettered).
    public var isFinished: Bool { status != .failed }
}

/// A journaled delivery together with its handling state, as returned by inspection.
public struct JournalEntry: Sendable, Hashable, Identifiable {
    /// The record: id, kind, exact request.
    public var record: JournalRecord
    /// Where handling stands.
    public var state: JournalRecord.State
    /// Per-handler progress, sorted by handler name.
    ///
    /// Empty for a ``JournalRecord/State/done`` delivery of a journal opened read-write: a server
    /// keeps done deliveries for a day by default, and dropping their progress (every handler
    /// succeeded) keeps its memory per retained delivery small. A journal opened
    /// ``Journal/AccessMode/readOnly``, as `prompt-listen journal` does, reads it back from disk.
    public var handlers: [HandlerProgress]
    /// When the delivery reached ``JournalRecord/State/done`` or
    /// ``JournalRecord/State/deadLettered``; `nil` while pending.
    public var finishedAt: Date?

    /// The delivery id.
    public var id: UInt64 { record.id }

    /// Creates an entry.
    ///
    /// - Parameters:
    ///   - record: The record.
    ///   - state: Where handling stands.
    ///   - handlers: Per-handler progress.
    ///   - finishedAt: When handling finished, if it has.
    public init(record: JournalRecord, state: JournalRecord.State, handlers: [HandlerProgress], finishedAt: Date?) {
        self.record = record
        self.state = state
        self.handlers = handlers
        self.finishedAt = finishedAt
    }

    /// The last error of the first dead-lettered handler, or the record's dead-letter reason.
    public var deadLetterReason: String? {
        guard state == .deadLettered else { return nil }
        return handlers.first { $0.status == .deadLettered }?.lastError ?? record.deadLetterReason
    }
}
