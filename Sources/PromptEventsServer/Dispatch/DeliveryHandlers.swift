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
    ///   - event: The record's body as the server already parsed it, or `nil` when it was not
    ///     (a delivery resumed after a restart, say).
    /// - Throws: Any error, which fails this attempt; its description is journaled as the error text.
    func run(handler name: String, record: JournalRecord, event: AnyEvent?) async throws
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

    /// Calls `expire` once `duration` has passed, unless the returned closure is called first.
    ///
    /// The time budget of every handler attempt. By default a task sleeping for `duration`.
    ///
    /// - Parameters:
    ///   - duration: How long until `expire` runs.
    ///   - expire: What to run then.
    /// - Returns: Cancels the deadline; calling it after `expire` ran does nothing.
    func deadline(after duration: Duration, _ expire: @escaping @Sendable () -> Void) -> @Sendable () -> Void
}

extension DispatcherClock {
    package func deadline(after duration: Duration, _ expire: @escaping @Sendable () -> Void) -> @Sendable () -> Void {
        let task = Task {
            do {
                try await sleep(for: duration)
            } catch {
                return
            }
            expire()
        }
        return { task.cancel() }
    }
}

/// The real clock: `Task.sleep(for:)` on the continuous clock, and deadlines kept in a table
/// that one task checks every ``Deadlines/resolution`` while any are pending.
package struct ContinuousDispatcherClock: DispatcherClock {
    private let deadlines = Deadlines()

    /// Creates the clock.
    package init() {}

    package func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }

    package func deadline(after duration: Duration, _ expire: @escaping @Sendable () -> Void) -> @Sendable () -> Void {
        deadlines.schedule(after: duration, expire)
    }

    /// Deadlines not yet expired nor cancelled; for tests.
    package var pendingDeadlines: Int { deadlines.pending }
}

/// Handler time budgets without a sleeping task per attempt.
///
/// A cancelled `Task.sleep` keeps its timer (and the task) allocated until the original
/// deadline on Linux: with one per attempt and a 30 s budget, a busy server held tens of
/// thousands of them. Here a deadline is an entry in a table, removed when cancelled; one task
/// wakes every ``resolution`` while the table is not empty, and stops when it is.
final class Deadlines: Sendable {
    /// How late an expiry may run.
    static let resolution = Duration.milliseconds(10)

    private struct Entry {
        var deadline: ContinuousClock.Instant
        var expire: @Sendable () -> Void
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        var nextID: UInt64 = 0
        var isTicking = false
    }

    private let state = Locked(State())

    var pending: Int { state.withLock { $0.entries.count } }

    func schedule(after duration: Duration, _ expire: @escaping @Sendable () -> Void) -> @Sendable () -> Void {
        let deadline = ContinuousClock.now.advanced(by: duration)
        let (id, startTicking) = state.withLock { state in
            state.nextID &+= 1
            state.entries[state.nextID] = Entry(deadline: deadline, expire: expire)
            defer { state.isTicking = true }
            return (state.nextID, !state.isTicking)
        }
        if startTicking { Task { await self.tick() } }
        // A strong capture: the table outlives its entries anyway, and a weak reference's side
        // table reads as a leak to LeakSanitizer, failing the instrumented binary's exit status.
        return { _ = self.state.withLock { $0.entries.removeValue(forKey: id) } }
    }

    private func tick() async {
        while true {
            try? await Task.sleep(for: Self.resolution)
            let now = ContinuousClock.now
            let (expired, isEmpty) = state.withLock { state in
                let due = state.entries.filter { $0.value.deadline <= now }
                for id in due.keys { state.entries.removeValue(forKey: id) }
                if state.entries.isEmpty { state.isTicking = false }
                return (due.values.map(\.expire), state.entries.isEmpty)
            }
            for expire in expired { expire() }
            if isEmpty { return }
        }
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
