package import PromptEvents

/// The handlers the dispatcher runs, as seen from the journal: stable names and a way to run one.
///
/// The handler registry implements this. Names must be stable across restarts, because progress
/// is journaled per (delivery id, handler name): a renamed handler counts as a new one.
package protocol DeliveryHandlers: Sendable {
    /// Stable names of the handlers that must run for this delivery (e.g. ["message/added#0", "crm", "*#0"]).
    ///
    /// - Parameter record: The delivery.
    /// - Returns: The names; duplicates are ignored.
    func handlerNames(for record: JournalRecord) -> [String]

    /// Runs one handler once. Throwing = this attempt failed.
    ///
    /// - Parameters:
    ///   - name: One of the names from ``handlerNames(for:)``.
    ///   - record: The delivery.
    /// - Throws: Any error, which fails this attempt; its description is journaled as the error text.
    func run(handler name: String, record: JournalRecord) async throws

    /// Runs one handler once, given the record's body as the server already parsed it (`nil`
    /// when it was not, for example after a restart). By default, ignores `event`.
    ///
    /// - Parameters:
    ///   - name: One of the names from ``handlerNames(for:)``.
    ///   - record: The delivery.
    ///   - event: The parsed event, if there is one.
    /// - Throws: Any error, which fails this attempt.
    func run(handler name: String, record: JournalRecord, event: AnyEvent?) async throws
}

extension DeliveryHandlers {
    package func run(handler name: String, record: JournalRecord, event: AnyEvent?) async throws {
        try await run(handler: name, record: record)
    }
}

/// Sleeps for the dispatcher: backoff between attempts and handler time budgets.
///
/// Injected so tests can record the delays and not wait for them.
package protocol DispatcherClock: Sendable {
    /// Suspends for `duration`.
    ///
    /// - Parameter duration: How long.
    /// - Throws: `CancellationError` when the task is cancelled.
    func sleep(for duration: Duration) async throws
}

/// The real clock: `Task.sleep(for:)` on the continuous clock.
package struct ContinuousDispatcherClock: DispatcherClock {
    /// Creates the clock.
    package init() {}

    package func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }
}

/// How a delivery's handling ended, for a server answering after the handlers
/// (``AcknowledgementMode/afterHandlers``).
package enum DeliveryOutcome: Sendable, Hashable {
    /// Every handler succeeded (now or before a restart): answer 2xx.
    case succeeded
    /// At least one handler was dead-lettered: answer 500. The failures are listed by name.
    case failed([HandlerFailure])
    /// The dispatcher stopped before every handler finished; the delivery stays pending in the
    /// journal and resumes at the next start: answer 503.
    case interrupted
}

/// A handler that failed its last attempt.
package struct HandlerFailure: Sendable, Hashable {
    /// The handler's name.
    package var handler: String
    /// The error of its last attempt.
    package var error: String
    /// How many attempts it made.
    package var attempts: Int

    /// Creates a failure.
    ///
    /// - Parameters:
    ///   - handler: The handler's name.
    ///   - error: The last error.
    ///   - attempts: The attempts made.
    package init(handler: String, error: String, attempts: Int) {
        self.handler = handler
        self.error = error
        self.attempts = attempts
    }
}
