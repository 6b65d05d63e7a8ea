import PromptEvents

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// Which journaled deliveries to list: every condition set must hold.
public struct JournalQuery: Sendable, Hashable {
    /// Only deliveries received in this range (start included, end excluded).
    public var received: Range<Date>?
    /// Only these event kinds.
    public var kinds: Set<String>?
    /// Only deliveries in these states.
    public var states: Set<JournalRecord.State>?
    /// Only these delivery ids.
    public var ids: Set<UInt64>?
    /// At most this many entries (the lowest ids).
    public var limit: Int?

    /// Creates a query; a `nil` condition matches everything.
    ///
    /// - Parameters:
    ///   - received: The range of receive times.
    ///   - kinds: The event kinds.
    ///   - states: The states.
    ///   - ids: The delivery ids.
    ///   - limit: The most entries to return.
    public init(
        received: Range<Date>? = nil,
        kinds: Set<String>? = nil,
        states: Set<JournalRecord.State>? = nil,
        ids: Set<UInt64>? = nil,
        limit: Int? = nil
    ) {
        self.received = received
        self.kinds = kinds
        self.states = states
        self.ids = ids
        self.limit = limit
    }

    func matches(_ entry: IndexEntry) -> Bool {
        (received?.contains(entry.receivedAt) ?? true) && (kinds?.contains(entry.kind) ?? true)
            && (states?.contains(entry.state) ?? true) && (ids?.contains(entry.id) ?? true)
    }
}

/// What ``Journal/applyRetention()`` removed.
public struct RetentionReport: Sendable, Hashable {
    /// Segment files deleted.
    public var segmentsRemoved = 0
    /// Bytes those files held.
    public var bytesFreed = 0
    /// Deliveries that were in them.
    public var deliveriesRemoved = 0

    /// Creates an empty report.
    public init() {}
}

// Inspection, replay, purge and retention.
extension Journal {
    /// The deliveries matching `query`, in id order, with their exact bytes, headers and state.
    ///
    /// Purged deliveries are not listed. On a read-only journal this is a snapshot taken at open.
    ///
    /// - Parameter query: Which deliveries; by default all.
    /// - Returns: The matching entries.
    /// - Throws: ``JournalError`` when a record cannot be read or the journal is closed.
    public func entries(matching query: JournalQuery = JournalQuery()) throws -> [JournalEntry] {
        try entries(where: query.matches, limit: query.limit)
    }

    /// One delivery with its state, or `nil` when the journal does not hold it.
    ///
    /// - Parameter id: The delivery id.
    /// - Returns: The entry.
    /// - Throws: ``JournalError`` when the record cannot be read.
    public func entry(id: UInt64) throws -> JournalEntry? {
        try entries(matching: JournalQuery(ids: [id])).first
    }

    /// Marks finished deliveries as pending again, clearing their per-handler progress, so every
    /// handler runs once more; the change is synced before this returns.
    ///
    /// The ids (and bytes) stay the same. A running dispatcher picks the records up when they are
    /// passed to its `replay`; otherwise the next dispatcher started on this journal runs them.
    /// Pending deliveries are skipped: they are already queued.
    ///
    /// - Parameter ids: The deliveries to run again.
    /// - Returns: The records requeued, in id order.
    /// - Throws: ``JournalError`` (for example ``JournalError/Code/readOnly``).
    public func requeue(ids: [UInt64]) throws -> [JournalRecord] {
        let current = now()
        let records = try state.withLock { (state) throws(JournalError) -> [JournalRecord] in
            var records: [JournalRecord] = []
            for id in Set(ids).sorted() {
                guard let entry = state.index.entries[id], !entry.isPurged, entry.state != .pending else { continue }
                let record = try readRecord(entry, in: state)
                try appendState(.reset(id: id, at: current), to: &state)
                records.append(record)
            }
            publish(state)
            return records
        }
        try syncStateRecords()
        return records
    }

    /// Removes finished deliveries before their retention period ends.
    ///
    /// Purged deliveries disappear from inspection at once; their segments are deleted as soon as
    /// nothing else in them is kept (this method runs ``applyRetention()``). Their
    /// de-duplication keys are still honoured until this process exits.
    ///
    /// - Parameters:
    ///   - states: Which finished states to purge: ``JournalRecord/State/done``,
    ///     ``JournalRecord/State/deadLettered`` or both (the default).
    ///   - finishedBefore: Only deliveries that finished before this time.
    /// - Returns: How many deliveries were purged.
    /// - Throws: ``JournalError``: ``JournalError/Code/invalidArgument`` when `states` contains
    ///   ``JournalRecord/State/pending``.
    @discardableResult
    public func purge(states: Set<JournalRecord.State> = [.done, .deadLettered], finishedBefore: Date) throws -> Int {
        try DeliveryStoreArguments.checkPurge(states)
        let current = now()
        let count = try state.withLock { (state) throws(JournalError) -> Int in
            try checkWritableForMaintenance(state)
            let ids = state.index.entries.values.lazy
                .filter {
                    !$0.isPurged && states.contains($0.state) && ($0.finishedAt ?? .distantFuture) < finishedBefore
                }
                .map(\.id).sorted()
            for id in ids { try appendState(.purged(id: id, at: current), to: &state) }
            publish(state)
            return ids.count
        }
        try applyRetention()
        return count
    }

    /// Deletes segment files whose deliveries are all past retention (or purged).
    ///
    /// A delivery is kept while pending; for ``Configuration/completedRetention`` after it was
    /// done; for ``Configuration/deadLetterRetention`` after it was dead-lettered; and while its
    /// de-duplication key's window lasts. The newest segment is never deleted. When a deleted
    /// segment holds progress records of deliveries kept elsewhere, their state is first written
    /// again to the newest segment and synced. Run it periodically (the dispatcher does).
    ///
    /// - Returns: What was removed.
    /// - Throws: ``JournalError`` when a sync fails or the journal is read-only.
    @discardableResult
    public func applyRetention() throws -> RetentionReport {
        try syncLock.withLock { (_) throws(JournalError) -> RetentionReport in try applyRetentionHoldingSyncLock() }
    }

    private func applyRetentionHoldingSyncLock() throws(JournalError) -> RetentionReport {
        let current = now()
        // Decided once: removing the planned segments lowers the size, and a segment whose
        // state was already carried forward must then still go.
        let (removable, pressed) = try state.withLock { (state) throws(JournalError) -> ([UInt64], Bool) in
            let pressed = isUnderSizePressure(state)
            return (try planRetention(now: current, pressed: pressed, state: &state), pressed)
        }
        try performSync()
        guard !removable.isEmpty else { return RetentionReport() }
        let (report, directoryDescriptor) = state.withLock { state in
            (removeSegments(removable, now: current, pressed: pressed, state: &state), state.directoryDescriptor)
        }
        if report.segmentsRemoved > 0, let directoryDescriptor {
            do {
                try fileSystem.fsync(directoryDescriptor)
            } catch {
                throw JournalError(error, context: "syncing \(directory) after removing segments")
            }
        }
        return report
    }

    /// Picks the segments to remove and carries forward the state of deliveries kept elsewhere
    /// whose progress records are in them.
    private func planRetention(now: Date, pressed: Bool, state: inout JournalState) throws(JournalError) -> [UInt64] {
        try checkWritableForMaintenance(state)
        var removable: Set<UInt64> = []
        for segment in state.segments.dropLast() where isRemovable(segment, now: now, pressed: pressed, state: state) {
            removable.insert(segment.sequence)
        }
        // A segment of progress records only, all about deliveries kept elsewhere, would just be
        // written again: keep it until one of those deliveries goes.
        for segment in state.segments where removable.contains(segment.sequence) && segment.owned.isEmpty {
            let kept = segment.referenced.filter { id in
                state.index.entries[id].map { !removable.contains($0.location.segment) } ?? false
            }
            if !segment.referenced.isEmpty && kept.count == segment.referenced.count {
                removable.remove(segment.sequence)
            }
        }
        var carried: Set<UInt64> = []
        for segment in state.segments where removable.contains(segment.sequence) {
            for id in segment.referenced.sorted() where !carried.contains(id) {
                guard let entry = state.index.entries[id], !removable.contains(entry.location.segment) else { continue }
                try appendState(.snapshot(entry.snapshot), to: &state)
                carried.insert(id)
            }
        }
        return removable.sorted()
    }

    /// Deletes the planned segments that are still removable; the carried state is already synced.
    private func removeSegments(_ sequences: [UInt64], now: Date, pressed: Bool, state: inout JournalState)
        -> RetentionReport
    {
        var report = RetentionReport()
        for sequence in sequences {
            guard let position = state.segmentIndex(sequence), position < state.segments.count - 1 else { continue }
            let segment = state.segments[position]
            guard isRemovable(segment, now: now, pressed: pressed, state: state) else { continue }
            do {
                try fileSystem.unlink(directory + "/" + segment.name)
            } catch {
                continue  // Kept: deleting it later is safe, forgetting it while on disk is not.
            }
            fileSystem.close(segment.descriptor)
            for id in segment.owned where state.index.remove(id) != nil { report.deliveriesRemoved += 1 }
            state.totalBytes -= segment.size
            state.segments.remove(at: position)
            report.segmentsRemoved += 1
            report.bytesFreed += segment.size
        }
        publish(state)
        return report
    }

    private func isRemovable(_ segment: Segment, now: Date, pressed: Bool, state: JournalState) -> Bool {
        segment.owned.allSatisfy { isRemovable(state.index.entries[$0], now: now, pressed: pressed, state: state) }
    }

    /// At 90 % of ``Configuration/maximumSize``, delivered (done) deliveries go before their
    /// retention period ends: new deliveries matter more than a record of finished ones.
    private func isUnderSizePressure(_ state: JournalState) -> Bool {
        state.totalBytes >= configuration.maximumSize / 10 * 9
    }

    private func checkWritableForMaintenance(_ state: JournalState) throws(JournalError) {
        guard !state.isClosed else { throw JournalError(.closed, "the journal at \(directory) is closed") }
        guard access == .readWrite else {
            throw JournalError(.readOnly, "the journal at \(directory) was opened read-only")
        }
    }

    private func isRemovable(_ entry: IndexEntry?, now: Date, pressed: Bool, state: JournalState) -> Bool {
        guard let entry else { return true }
        if entry.isPurged { return true }
        guard entry.state != .pending, let finishedAt = entry.finishedAt else { return false }
        let retention = entry.state == .done ? configuration.completedRetention : configuration.deadLetterRetention
        // Under size pressure a delivered one goes even while its de-duplication key is young:
        // with the default window (as long as the retention) nothing could go otherwise. The
        // running listener still remembers the key; only a restart forgets it early.
        if pressed && entry.state == .done { return true }
        guard finishedAt.addingTimeInterval(retention.asTimeInterval) <= now else { return false }
        return !entry.keyCounts || state.deduplication.hasExpired(receivedAt: entry.receivedAt, now: now)
    }
}
