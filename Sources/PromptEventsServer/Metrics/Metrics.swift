import PromptEvents
import Synchronization

/// Counters and gauges of the receive → journal → dispatch path, rendered as Prometheus text.
///
/// Read it with ``snapshot`` or ``prometheusText()``; only this package's components write it.
/// One instance is shared by the server (request-level counters), the ``Journal`` (sizes and
/// syncs) and the dispatcher (handler outcomes). Every method is thread-safe and cheap: a mutex
/// around a few integers. ``prometheusText()`` renders the
/// [text exposition format](https://prometheus.io/docs/instrumenting/exposition_formats/)
/// served at `/metrics` with content type ``prometheusContentType``.
///
/// Who increments what:
///
/// | Method | Called by |
/// |---|---|
/// | `recordReceived()`, `recordAuthenticated()`, `recordRejected(reason:)`, `recordDuplicate()` | the server |
/// | `recordDispatched()`, `recordRetry()`, `recordDeadLetter()`, `recordTimeout()`, `recordJournalWriteError()` | the dispatcher |
/// | `updateJournal(bytes:segments:pending:deadLettered:)`, `recordJournalSync(batchSize:)`, `recordJournalSyncFailure()` | the journal |
public final class Metrics: Sendable {
    /// A copy of every value, as ``snapshot`` returns it.
    public struct Snapshot: Sendable, Hashable {
        /// Requests that reached a webhook route (every head that is not `/`, `/healthz` or
        /// `/metrics`), whether accepted or rejected.
        public var received = 0
        /// Requests that passed authentication, including those then refused because their body
        /// is not a JSON object (they are kept as dead letters).
        public var authenticated = 0
        /// Requests rejected, by reason code (for example `bad_signature`, `not_json`).
        public var rejected: [String: Int] = [:]
        /// Deliveries acknowledged as duplicates and not dispatched.
        public var duplicates = 0
        /// Deliveries handed to the handlers (replays included).
        public var dispatched = 0
        /// Handler attempts that failed and were scheduled again.
        public var retried = 0
        /// (delivery, handler) pairs that failed their last attempt.
        public var deadLettered = 0
        /// Handler attempts that exceeded their time budget.
        public var timeouts = 0
        /// Bytes in the journal's segment files.
        public var journalBytes = 0
        /// The journal's segment files.
        public var journalSegments = 0
        /// Deliveries whose handlers have not all finished.
        public var pending = 0
        /// Dead-lettered deliveries still in the journal.
        public var deadLetters = 0
        /// Journal syncs that made records durable.
        public var syncs = 0
        /// Journal syncs that failed.
        public var syncFailures = 0
        /// Handler-progress records that could not be written to the journal.
        public var journalWriteErrors = 0
        /// For each upper bound in ``Metrics/syncBatchBuckets``, the syncs whose batch was at
        /// most that size (not cumulative); the last element counts larger batches.
        public var syncBatchCounts: [Int] = Array(repeating: 0, count: Metrics.syncBatchBuckets.count + 1)
        /// The records made durable by all syncs together.
        public var syncedRecords = 0

        /// Creates zeroed values.
        public init() {}
    }

    /// The upper bounds of the sync batch-size histogram.
    public static let syncBatchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256]

    /// The content type of ``prometheusText()``.
    public static let prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"

    private let values = Locked(Snapshot())
    // The three counters every delivery moves, two of them on the event loop: atomics, so the
    // loop and the handlers' threads never wait on each other's lock for them.
    private let receivedCount = Atomic(0)
    private let authenticatedCount = Atomic(0)
    private let dispatchedCount = Atomic(0)

    /// Creates metrics with every value at zero.
    public init() {}

    /// A copy of every value.
    ///
    /// The received, authenticated and dispatched counters are read one by one, so under load
    /// they may be a few deliveries apart from each other.
    public var snapshot: Snapshot {
        var snapshot = values.withLock { $0 }
        snapshot.received = receivedCount.load(ordering: .relaxed)
        snapshot.authenticated = authenticatedCount.load(ordering: .relaxed)
        snapshot.dispatched = dispatchedCount.load(ordering: .relaxed)
        return snapshot
    }

    // MARK: - Server

    /// Counts a request that reached a webhook route.
    package func recordReceived() {
        receivedCount.wrappingAdd(1, ordering: .relaxed)
    }

    /// Counts a request that passed authentication.
    package func recordAuthenticated() {
        authenticatedCount.wrappingAdd(1, ordering: .relaxed)
    }

    /// Counts a rejected request.
    ///
    /// - Parameter reason: A short, stable reason code such as `bad_signature`, `missing_credentials`,
    ///   `not_json`, `too_large`, `journal_full`. Never pass secrets or request data: the code
    ///   becomes a label value.
    package func recordRejected(reason: String) {
        values.withLock { $0.rejected[reason, default: 0] += 1 }
    }

    /// Counts a delivery acknowledged as a duplicate and not dispatched.
    package func recordDuplicate() {
        values.withLock { $0.duplicates += 1 }
    }

    // MARK: - Dispatcher

    /// Counts a delivery handed to its handlers.
    package func recordDispatched() {
        dispatchedCount.wrappingAdd(1, ordering: .relaxed)
    }

    /// Counts a failed handler attempt that will be retried.
    package func recordRetry() {
        values.withLock { $0.retried += 1 }
    }

    /// Counts a (delivery, handler) pair moved to the dead letters.
    package func recordDeadLetter() {
        values.withLock { $0.deadLettered += 1 }
    }

    /// Counts a handler attempt that exceeded its time budget.
    package func recordTimeout() {
        values.withLock { $0.timeouts += 1 }
    }

    /// Counts a handler-progress record the journal could not write.
    package func recordJournalWriteError() {
        values.withLock { $0.journalWriteErrors += 1 }
    }

    // MARK: - Journal

    /// Sets the journal gauges.
    ///
    /// - Parameters:
    ///   - bytes: Bytes in all segment files.
    ///   - segments: Segment files.
    ///   - pending: Pending deliveries.
    ///   - deadLettered: Dead-lettered deliveries kept.
    package func updateJournal(bytes: Int, segments: Int, pending: Int, deadLettered: Int) {
        values.withLock { values in
            values.journalBytes = bytes
            values.journalSegments = segments
            values.pending = pending
            values.deadLetters = deadLettered
        }
    }

    /// Counts a sync and the number of records it made durable (the group-commit batch).
    ///
    /// - Parameter batchSize: Records made durable by this sync.
    package func recordJournalSync(batchSize: Int) {
        values.withLock { values in
            values.syncs += 1
            values.syncedRecords += batchSize
            let bucket = Self.syncBatchBuckets.firstIndex { batchSize <= $0 } ?? Self.syncBatchBuckets.count
            values.syncBatchCounts[bucket] += 1
        }
    }

    /// Counts a failed sync.
    package func recordJournalSyncFailure() {
        values.withLock { $0.syncFailures += 1 }
    }
}
