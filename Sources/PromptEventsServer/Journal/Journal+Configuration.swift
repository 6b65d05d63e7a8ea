extension Journal {
    /// How a journal sizes its files, how long it keeps finished deliveries, and what it never stores.
    public struct Configuration: Sendable, Hashable {
        /// The size at which the journal starts a new segment file.
        ///
        /// Default: 8 MiB. A record larger than this gets a segment of its own.
        public var segmentSize: Int
        /// The most bytes all segments together may hold.
        ///
        /// When appending a delivery would exceed it, ``Journal/append(_:kind:deduplicationKey:acknowledgement:deadLetterReason:)``
        /// throws ``JournalError/Code/full`` (answer 503 with `Retry-After`). Records of handler
        /// progress are small and are always written, so the journal may exceed the bound by them.
        /// Space comes back when ``Journal/applyRetention()`` removes finished segments. From 90 %
        /// of the bound on, retention also removes segments whose deliveries were all delivered
        /// (done) before ``completedRetention`` has passed (dead letters and pending deliveries are
        /// kept); the listener runs it at once when an append finds the journal full.
        ///
        /// Default: 1 GiB.
        public var maximumSize: Int
        /// How long a delivery whose handlers all succeeded is kept after it finished.
        ///
        /// Default: 24 hours.
        public var completedRetention: Duration
        /// How long a dead-lettered delivery is kept after it was dead-lettered.
        ///
        /// Default: 7 days.
        public var deadLetterRetention: Duration
        /// How long a de-duplication key is remembered after its delivery was received.
        ///
        /// A delivery is also kept until its key's window has passed, so the window survives
        /// restarts. Zero disables de-duplication. Default: 24 hours.
        public var deduplicationWindow: Duration
        /// Header names never stored, in addition to `Authorization` (always dropped).
        ///
        /// Pass the names of the token headers authentication reads. Matching ignores ASCII case.
        /// Default: none.
        public var droppedHeaderNames: [String]

        /// Creates a configuration; every parameter has the documented default.
        ///
        /// - Parameters:
        ///   - segmentSize: When to start a new segment (8 MiB).
        ///   - maximumSize: The bound on all segments together (1 GiB).
        ///   - completedRetention: How long finished deliveries stay (24 hours).
        ///   - deadLetterRetention: How long dead letters stay (7 days).
        ///   - deduplicationWindow: How long keys are remembered (24 hours).
        ///   - droppedHeaderNames: Headers never stored besides `Authorization` (none).
        public init(
            segmentSize: Int = 8 << 20,
            maximumSize: Int = 1 << 30,
            completedRetention: Duration = .seconds(24 * 3600),
            deadLetterRetention: Duration = .seconds(7 * 24 * 3600),
            deduplicationWindow: Duration = .seconds(24 * 3600),
            droppedHeaderNames: [String] = []
        ) {
            self.segmentSize = segmentSize
            self.maximumSize = maximumSize
            self.completedRetention = completedRetention
            self.deadLetterRetention = deadLetterRetention
            self.deduplicationWindow = deduplicationWindow
            self.droppedHeaderNames = droppedHeaderNames
        }
    }

    /// Whether a journal may change its files.
    public enum AccessMode: Sendable, Hashable {
        /// Take the journal's lock, recover (truncating a torn tail) and allow appends. Only one
        /// read-write journal per directory can be open at a time.
        case readWrite
        /// Read a snapshot of the files without locking or changing them, for inspection beside a
        /// running server. Mutating operations throw ``JournalError/Code/readOnly``.
        case readOnly
    }

    /// What ``Journal/append(_:kind:deduplicationKey:acknowledgement:deadLetterReason:)`` did.
    public enum AppendResult: Sendable, Hashable {
        /// The delivery was appended (not yet synced) under a new id.
        case appended(JournalRecord)
        /// The key was seen within the de-duplication window: nothing was appended. Answer 2xx
        /// after the same sync as the rest of the batch, and do not dispatch.
        case duplicate(of: UInt64)
    }
}
