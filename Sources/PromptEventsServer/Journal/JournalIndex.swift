#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where a record's frame lives.
struct RecordLocation: Hashable, Sendable {
    var segment: UInt64
    var offset: Int
    var length: Int
}

/// What the journal keeps in memory about one delivery; the body stays on disk.
struct IndexEntry: Sendable {
    var id: UInt64
    var location: RecordLocation
    var kind: String
    var receivedAt: Date
    var state: JournalRecord.State
    var finishedAt: Date?
    var handlers: [String: HandlerProgress]
    var deduplicationKey: [UInt8]?
    var remembersKeyOnlyWhenDone: Bool
    var isPurged: Bool

    /// Whether the de-duplication key counts: always, or (after-handlers mode) once done.
    var keyCounts: Bool {
        deduplicationKey != nil && (!remembersKeyOnlyWhenDone || state == .done)
    }

    var snapshot: StoredSnapshot {
        StoredSnapshot(
            id: id,
            state: state,
            finishedAt: finishedAt,
            isPurged: isPurged,
            handlers: handlers.values.sorted { $0.handler < $1.handler }
        )
    }
}

/// The journal's in-memory view of every delivery, built by applying records in order.
///
/// Recovery and live appends share ``apply(_:at:)``, so the state after a restart is the state
/// before it, for everything that was synced.
struct JournalIndex: Sendable {
    private(set) var entries: [UInt64: IndexEntry] = [:]
    private(set) var pendingCount = 0
    private(set) var doneCount = 0
    private(set) var deadLetterCount = 0
    /// The id the next delivery gets.
    var nextID: UInt64 = 1
    /// Whether a delivery holds the last possible id, so no new one can be given (only a crafted
    /// or corrupted journal gets there).
    private(set) var idsExhausted = false
    /// One copy of each event kind's text for all entries (kinds repeat; long ones are allocated).
    private var kinds: Set<String> = []

    /// Applies one record; returns `false` when it refers to an unknown delivery (an orphan whose
    /// delivery was removed with an old segment) or repeats a known delivery id.
    @discardableResult
    mutating func apply(_ record: StoredRecord, at location: RecordLocation) -> Bool {
        switch record {
        case .delivery(let stored):
            let record = stored.record
            guard entries[record.id] == nil else { return false }
            let isDead = record.deadLetterReason != nil
            insert(
                IndexEntry(
                    id: record.id,
                    location: location,
                    kind: intern(record.kind),
                    receivedAt: record.receivedAt,
                    state: isDead ? .deadLettered : .pending,
                    finishedAt: isDead ? record.receivedAt : nil,
                    handlers: [:],
                    deduplicationKey: stored.deduplicationKey,
                    remembersKeyOnlyWhenDone: stored.remembersKeyOnlyWhenDone,
                    isPurged: false
                )
            )
            if record.id == .max { idsExhausted = true } else { nextID = max(nextID, record.id + 1) }
            return true
        case .attempt(let id, let progress):
            return modify(id) { $0.handlers[progress.handler] = progress }
        case .finished(let id, let state, let date):
            return modify(id) { entry in
                entry.state = state
                entry.finishedAt = state == .pending ? nil : date
            }
        case .reset(let id, _):
            return modify(id) { entry in
                entry.state = .pending
                entry.finishedAt = nil
                entry.handlers = [:]
            }
        case .purged(let id, _):
            return modify(id) { $0.isPurged = true }
        case .snapshot(let snapshot):
            return modify(snapshot.id) { entry in
                entry.state = snapshot.state
                entry.finishedAt = snapshot.finishedAt
                entry.isPurged = snapshot.isPurged
                entry.handlers = Dictionary(snapshot.handlers.map { ($0.handler, $0) }) { _, last in last }
            }
        }
    }

    /// Drops the per-handler progress of `id` if it is done.
    ///
    /// A server keeps done deliveries for the retention period (a day by default) and never reads
    /// their progress again (every handler succeeded): with one handler it was most of an
    /// entry's memory. Only a read-write journal forgets, after recovery and at each finish, so
    /// records are applied the same way in every mode; read-only inspection keeps everything.
    mutating func forgetProgress(of id: UInt64) {
        guard entries[id]?.state == .done, entries[id]?.handlers.isEmpty == false else { return }
        entries[id]?.handlers = [:]
    }

    /// ``forgetProgress(of:)`` for every done delivery, after recovery.
    mutating func forgetProgressOfDoneDeliveries() {
        // Ids first: changing `entries` while iterating it would copy the whole table.
        let ids = entries.compactMap { id, entry in entry.state == .done && !entry.handlers.isEmpty ? id : nil }
        for id in ids { entries[id]?.handlers = [:] }
    }

    mutating func remove(_ id: UInt64) -> IndexEntry? {
        guard let entry = entries.removeValue(forKey: id) else { return nil }
        account(entry, -1)
        return entry
    }

    @discardableResult
    mutating func modify(_ id: UInt64, _ body: (inout IndexEntry) -> Void) -> Bool {
        guard var entry = entries[id] else { return false }
        account(entry, -1)
        body(&entry)
        account(entry, 1)
        entries[id] = entry
        return true
    }

    private mutating func intern(_ kind: String) -> String {
        if let known = kinds.firstIndex(of: kind) { return kinds[known] }
        if kinds.count < 1024 { kinds.insert(kind) }  // Bounded: kinds come from the network.
        return kind
    }

    private mutating func insert(_ entry: IndexEntry) {
        entries[entry.id] = entry
        account(entry, 1)
    }

    private mutating func account(_ entry: IndexEntry, _ delta: Int) {
        guard !entry.isPurged else { return }
        switch entry.state {
        case .pending: pendingCount += delta
        case .done: doneCount += delta
        case .deadLettered: deadLetterCount += delta
        }
    }
}
