/// One segment file the journal has open.
struct Segment: Sendable {
    var sequence: UInt64
    var name: String
    var descriptor: Int32
    /// Where the next record goes (the file's valid length).
    var size: Int
    /// Deliveries whose delivery record is in this segment.
    var owned: Set<UInt64> = []
    /// Deliveries whose state records (attempts, resets, …) are in this segment.
    var referenced: Set<UInt64> = []
    /// Written since the last successful `fdatasync`.
    var isDirty = false
    /// No more appends go here (a write or sync failed, or it was rotated out).
    var isSealed = false

    /// Where the next record goes, without copying the segment's sets.
    var location: (descriptor: Int32, offset: Int, sequence: UInt64) { (descriptor, size, sequence) }
}

/// A record appended since the last sync that covered it.
struct UnsyncedRecord: Sendable {
    /// Increases with every append; a sync covers the records appended before it started.
    var serial: UInt64
    var segment: UInt64
    var deliveryID: UInt64
    /// The frame of a state record, kept to re-append it if its segment's sync fails; `nil` for
    /// a delivery, which is reported as not durable instead.
    var stateFrame: [UInt8]?
}

/// Everything mutable about an open journal, behind its mutex.
struct JournalState: Sendable {
    var isClosed = false
    var lockDescriptor: Int32?
    var directoryDescriptor: Int32?
    var segments: [Segment] = []
    var index = JournalIndex()
    var deduplication: DeduplicationIndex
    var totalBytes = 0
    var unsynced: [UnsyncedRecord] = []
    var nextSerial: UInt64 = 0
    var segmentsAwaitingDirectorySync: Set<UInt64> = []
    /// Deliveries a failed sync rolled back, not yet reported by ``Journal/sync()``.
    var unreportedLosses: [UInt64] = []
    var statistics = JournalStatistics()

    func segmentIndex(_ sequence: UInt64) -> Int? {
        segments.firstIndex { $0.sequence == sequence }
    }
}

/// Counters describing an open journal.
public struct JournalStatistics: Sendable, Hashable {
    /// Deliveries appended since the journal was opened.
    public var appendedDeliveries = 0
    /// Appends answered with ``Journal/AppendResult/duplicate(of:)`` since the journal was opened.
    public var duplicates = 0
    /// Bytes in all segment files.
    public var bytes = 0
    /// Segment files.
    public var segments = 0
    /// Deliveries whose handlers have not all finished.
    public var pending = 0
    /// Deliveries whose handlers all succeeded, still kept.
    public var done = 0
    /// Dead-lettered deliveries still kept.
    public var deadLettered = 0
    /// Syncs that wrote something (each is one `fdatasync` per dirty segment).
    public var syncs = 0
    /// Syncs that failed.
    public var failedSyncs = 0
    /// Records (deliveries and state changes) made durable by the most recent sync.
    public var lastSyncBatchSize = 0
    /// The most records any one sync made durable.
    public var largestSyncBatchSize = 0
    /// Records made durable since the journal was opened.
    public var syncedRecords = 0

    /// Creates zeroed statistics.
    public init() {}

    /// The mean number of records per sync: how well group commit is batching.
    public var averageSyncBatchSize: Double {
        syncs == 0 ? 0 : Double(syncedRecords) / Double(syncs)
    }
}
