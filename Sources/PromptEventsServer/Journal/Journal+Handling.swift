import PromptEvents

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// The dispatcher's view of the journal: what is pending, and recording handler progress.
extension Journal {
    /// Records the outcome of one handler attempt (appended, not synced).
    ///
    /// Attempts for deliveries the journal no longer holds are ignored.
    ///
    /// - Parameters:
    ///   - deliveryID: The delivery.
    ///   - progress: The handler's progress after the attempt.
    /// - Throws: ``JournalError`` when the record cannot be written.
    package func recordAttempt(deliveryID: UInt64, progress: HandlerProgress) throws(JournalError) {
        try state.withLock { (state) throws(JournalError) in
            guard state.index.entries[deliveryID] != nil else { return }
            try appendState(.attempt(id: deliveryID, progress: progress), to: &state)
        }
    }

    /// Records that every handler of a delivery finished (appended, not synced).
    ///
    /// When the delivery is done and its key counts only once handled
    /// (``AcknowledgementMode/afterHandlers``), the key is remembered from now on.
    ///
    /// - Parameters:
    ///   - deliveryID: The delivery.
    ///   - outcome: ``JournalRecord/State/done`` or ``JournalRecord/State/deadLettered``.
    /// - Throws: ``JournalError`` when the record cannot be written.
    package func recordFinished(deliveryID: UInt64, outcome: JournalRecord.State) throws(JournalError) {
        let current = now()
        try state.withLock { (state) throws(JournalError) in
            guard let entry = state.index.entries[deliveryID] else { return }
            try appendState(.finished(id: deliveryID, state: outcome, at: current), to: &state)
            state.index.forgetProgress(of: deliveryID)
            if outcome == .done, entry.remembersKeyOnlyWhenDone, let key = entry.deduplicationKey {
                state.deduplication.remember(key, id: deliveryID, receivedAt: entry.receivedAt, now: current)
            }
            publish(state)
        }
    }

    /// The progress of each handler of a delivery, or `nil` when the journal does not hold it.
    ///
    /// - Parameter deliveryID: The delivery.
    /// - Returns: Progress by handler name.
    package func handlerProgress(for deliveryID: UInt64) -> [String: HandlerProgress]? {
        state.withLock { $0.index.entries[deliveryID]?.handlers }
    }

    /// Every pending delivery with its handler progress, in id order, read from disk.
    ///
    /// A record that can no longer be read (its bytes changed on disk since the journal was
    /// opened) is skipped, so one damaged record cannot stop the others from being handled.
    ///
    /// - Returns: The pending entries.
    /// - Throws: ``JournalError`` when the journal is closed.
    package func pendingEntries() throws(JournalError) -> [JournalEntry] {
        try entries(where: { $0.state == .pending }, limit: nil, skippingUnreadable: true)
    }

    /// The entries whose index data satisfy `include`, in id order, each read from disk.
    func entries(
        where include: (IndexEntry) -> Bool,
        limit: Int?,
        skippingUnreadable: Bool = false
    ) throws(JournalError) -> [JournalEntry] {
        let ids = try state.withLock { (state) throws(JournalError) -> [UInt64] in
            guard !state.isClosed else { throw JournalError(.closed, "the journal at \(directory) is closed") }
            let ids = state.index.entries.values.filter { !$0.isPurged && include($0) }.map(\.id).sorted()
            return limit.map { Array(ids.prefix($0)) } ?? ids
        }
        var entries: [JournalEntry] = []
        entries.reserveCapacity(ids.count)
        for id in ids {
            let entry = try state.withLock { (state) throws(JournalError) -> JournalEntry? in
                guard !state.isClosed else { throw JournalError(.closed, "the journal at \(directory) is closed") }
                guard let entry = state.index.entries[id], !entry.isPurged else { return nil }
                do throws(JournalError) {
                    return try makeEntry(entry, in: state)
                } catch {
                    if skippingUnreadable { return nil }
                    throw error
                }
            }
            if let entry { entries.append(entry) }
        }
        return entries
    }

    func makeEntry(_ entry: IndexEntry, in state: JournalState) throws(JournalError) -> JournalEntry {
        JournalEntry(
            record: try readRecord(entry, in: state),
            state: entry.state,
            handlers: entry.handlers.values.sorted { $0.handler < $1.handler },
            finishedAt: entry.finishedAt
        )
    }

    /// Reads a delivery record back from its segment and verifies it.
    func readRecord(_ entry: IndexEntry, in state: JournalState) throws(JournalError) -> JournalRecord {
        guard let position = state.segmentIndex(entry.location.segment) else {
            throw JournalError(.notFound, "the segment of delivery \(entry.id) was removed")
        }
        let segment = state.segments[position]
        let bytes: [UInt8]
        do {
            bytes = try fileSystem.read(segment.descriptor, count: entry.location.length, at: entry.location.offset)
        } catch {
            throw JournalError(error, context: "reading delivery \(entry.id) from \(directory)/\(segment.name)")
        }
        guard case .valid(let payload) = JournalFormat.checkFrame(in: bytes, at: 0),
            case .delivery(let stored) = try? StoredRecord.decode(bytes[payload]),
            stored.record.id == entry.id
        else {
            throw JournalError(
                .io,
                "delivery \(entry.id) in \(directory)/\(segment.name) no longer matches its checksum"
            )
        }
        return stored.record
    }
}
