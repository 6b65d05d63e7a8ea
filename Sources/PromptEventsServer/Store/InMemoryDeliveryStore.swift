package import PromptEvents

#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif

/// The ``DeliveryStore`` contract kept in memory: nothing survives the process.
///
/// The reference conformer: the conformance suite checks it against the same expectations as
/// the file journal, so a new store (PostgreSQL) has a second, simple implementation to be
/// compared with. It honours the journal's configuration: dropped headers, de-duplication
/// window, retention periods and the size bound (counted in stored body and header bytes).
package final class InMemoryDeliveryStore: DeliveryStore {
    private struct Stored {
        var record: JournalRecord
        var state: JournalRecord.State
        var handlers: [String: HandlerProgress] = [:]
        var finishedAt: Date?
        let deduplicationKey: [UInt8]?
        let remembersKeyOnlyWhenDone: Bool
        let size: Int
    }

    private struct State {
        var deliveries: [UInt64: Stored] = [:]
        var nextID: UInt64 = 1
        var totalSize = 0
        var deduplication: DeduplicationIndex
        var isClosed = false
    }

    private let configuration: Journal.Configuration
    private let droppedHeaderNames: Set<Headers.CanonicalName>
    private let state: Locked<State>
    package let now: @Sendable () -> Date

    /// Creates an empty store.
    ///
    /// - Parameters:
    ///   - configuration: Dropped headers, de-duplication window, retention and size bound.
    ///   - now: The clock for retention, de-duplication windows and state records.
    package init(
        configuration: Journal.Configuration = Journal.Configuration(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.configuration = configuration
        self.droppedHeaderNames = Set(
            (["Authorization"] + configuration.droppedHeaderNames).map(Headers.CanonicalName.init)
        )
        self.state = Locked(State(deduplication: DeduplicationIndex(window: configuration.deduplicationWindow)))
        self.now = now
    }

    package func append(
        _ delivery: Delivery,
        kind: String,
        deduplicationKey: [UInt8]?,
        acknowledgement: AcknowledgementMode,
        deadLetterReason: String?
    ) throws -> Journal.AppendResult {
        let stored = try DeliveryStoreArguments.check(
            delivery,
            deduplicationKey: deduplicationKey,
            acknowledgement: acknowledgement,
            droppingHeadersNamed: droppedHeaderNames
        )
        let current = now()
        let size = stored.body.count + stored.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count }
        return try state.withLock { (state) throws(JournalError) -> Journal.AppendResult in
            try Self.checkOpen(state)
            if let key = deduplicationKey, let original = state.deduplication.lookup(key, now: current) {
                return .duplicate(of: original)
            }
            guard state.totalSize + size <= configuration.maximumSize else {
                throw JournalError(
                    .full,
                    "the store holds \(state.totalSize) bytes; \(size) more would exceed \(configuration.maximumSize)"
                )
            }
            let record = JournalRecord(
                id: state.nextID,
                kind: kind,
                delivery: stored,
                deadLetterReason: deadLetterReason
            )
            state.nextID += 1
            state.totalSize += size
            state.deliveries[record.id] = Stored(
                record: record,
                state: deadLetterReason == nil ? .pending : .deadLettered,
                finishedAt: deadLetterReason == nil ? nil : current,
                deduplicationKey: deduplicationKey,
                remembersKeyOnlyWhenDone: acknowledgement == .afterHandlers,
                size: size
            )
            if let key = deduplicationKey, acknowledgement == .durable {
                state.deduplication.remember(key, id: record.id, receivedAt: record.receivedAt, now: current)
            }
            return .appended(record)
        }
    }

    /// Nothing to do: memory is as durable as this store gets.
    ///
    /// - Throws: ``JournalError/Code/closed`` once the store is closed.
    @discardableResult
    package func commit() throws -> CommitReport {
        try state.withLock { (state) throws(JournalError) in try Self.checkOpen(state) }
        return CommitReport()
    }

    package func pendingEntries() throws -> [JournalEntry] {
        var query = JournalQuery()
        query.states = [.pending]
        return try entries(matching: query)
    }

    package func handlerProgress(for deliveryID: UInt64) -> [String: HandlerProgress]? {
        state.withLock { $0.deliveries[deliveryID]?.handlers }
    }

    package func recordAttempt(deliveryID: UInt64, progress: HandlerProgress) throws {
        try state.withLock { (state) throws(JournalError) in
            try Self.checkOpen(state)
            state.deliveries[deliveryID]?.handlers[progress.handler] = progress
        }
    }

    package func recordFinished(deliveryID: UInt64, outcome: JournalRecord.State) throws {
        let current = now()
        try state.withLock { (state) throws(JournalError) in
            try Self.checkOpen(state)
            guard var stored = state.deliveries[deliveryID] else { return }
            stored.state = outcome
            stored.finishedAt = current
            // As the journal does: a done delivery's progress is not kept (every handler succeeded).
            if outcome == .done { stored.handlers = [:] }
            state.deliveries[deliveryID] = stored
            if outcome == .done, stored.remembersKeyOnlyWhenDone, let key = stored.deduplicationKey {
                state.deduplication.remember(key, id: deliveryID, receivedAt: stored.record.receivedAt, now: current)
            }
        }
    }

    /// Always `nil`: memory is always there.
    package var unavailability: String? { nil }

    /// `nil`: nobody else sees this memory.
    package var claimRenewalInterval: Duration? { nil }

    /// Nothing to renew or claim: nobody else sees this memory.
    package func renewClaims() throws -> [JournalEntry] { [] }

    package func commitProgress() throws {
        try state.withLock { (state) throws(JournalError) in try Self.checkOpen(state) }
    }

    package func requeue(ids: [UInt64]) throws -> [JournalRecord] {
        try state.withLock { (state) throws(JournalError) -> [JournalRecord] in
            try Self.checkOpen(state)
            var records: [JournalRecord] = []
            for id in Set(ids).sorted() {
                guard var stored = state.deliveries[id], stored.state != .pending else { continue }
                stored.state = .pending
                stored.handlers = [:]
                stored.finishedAt = nil
                state.deliveries[id] = stored
                records.append(stored.record)
            }
            return records
        }
    }

    package func entries(matching query: JournalQuery) throws -> [JournalEntry] {
        try state.withLock { (state) throws(JournalError) -> [JournalEntry] in
            try Self.checkOpen(state)
            var entries: [JournalEntry] = []
            for id in state.deliveries.keys.sorted() {
                if let limit = query.limit, entries.count >= limit { break }
                guard let stored = state.deliveries[id], Self.matches(query, stored) else { continue }
                entries.append(
                    JournalEntry(
                        record: stored.record,
                        state: stored.state,
                        handlers: stored.handlers.values.sorted { $0.handler < $1.handler },
                        finishedAt: stored.finishedAt
                    )
                )
            }
            return entries
        }
    }

    package func applyRetention() throws -> RetentionReport {
        let current = now()
        return try state.withLock { (state) throws(JournalError) -> RetentionReport in
            try Self.checkOpen(state)
            var report = RetentionReport()
            for (id, stored) in state.deliveries {
                guard let finishedAt = stored.finishedAt else { continue }
                let period =
                    stored.state == .done ? configuration.completedRetention : configuration.deadLetterRetention
                let expired = finishedAt.addingTimeInterval(period.asTimeInterval) <= current
                // Kept while its key's window lasts, so a late retry is still known as a duplicate.
                guard expired, state.deduplication.hasExpired(receivedAt: stored.record.receivedAt, now: current)
                else { continue }
                state.deliveries[id] = nil
                state.totalSize -= stored.size
                if let key = stored.deduplicationKey { state.deduplication.forget(key, id: id) }
                report.deliveriesRemoved += 1
                report.bytesFreed += stored.size
            }
            return report
        }
    }

    package func purge(states: Set<JournalRecord.State>, finishedBefore: Date) throws -> Int {
        try DeliveryStoreArguments.checkPurge(states)
        return try state.withLock { (state) throws(JournalError) -> Int in
            try Self.checkOpen(state)
            let ids = state.deliveries.filter { _, stored in
                states.contains(stored.state) && (stored.finishedAt ?? .distantFuture) < finishedBefore
            }.keys
            for id in ids {
                state.totalSize -= state.deliveries[id]?.size ?? 0
                state.deliveries[id] = nil
            }
            return ids.count
        }
    }

    package func close() throws {
        state.withLock { $0.isClosed = true }
    }

    private static func checkOpen(_ state: State) throws(JournalError) {
        if state.isClosed { throw JournalError(.closed, "the store is closed") }
    }

    private static func matches(_ query: JournalQuery, _ stored: Stored) -> Bool {
        (query.received?.contains(stored.record.receivedAt) ?? true)
            && (query.kinds?.contains(stored.record.kind) ?? true)
            && (query.states?.contains(stored.state) ?? true) && (query.ids?.contains(stored.record.id) ?? true)
    }
}
