/// What the journal found when it opened: how much it read and what it had to skip or cut off.
///
/// A torn tail (the end of the newest segment, cut short by a crash while it was being written,
/// and never acknowledged) is expected after a crash: a read-write open truncates it. Damage
/// anywhere else is reported and skipped; the journal never stops opening because of it.
public struct RecoveryReport: Sendable, Hashable {
    /// One region of a segment that recovery could not use.
    public struct Problem: Sendable, Hashable {
        /// What kind of damage was found.
        public struct Kind: Hashable, Sendable {
            fileprivate enum Value: Hashable, Sendable {
                case truncatedTail
                case corruptRecord
                case unreadableRecord
                case damagedSegmentHeader
            }

            fileprivate let value: Value

            /// The newest segment ends with an incomplete record: a write torn by a crash.
            ///
            /// The bytes were cut off (read-write open) or ignored (read-only open). No synced
            /// record is ever in a torn tail.
            public static let truncatedTail = Kind(value: .truncatedTail)
            /// A record's checksum did not match, followed by valid records: the record was skipped.
            public static let corruptRecord = Kind(value: .corruptRecord)
            /// A record's checksums matched but its contents could not be decoded: it was skipped.
            public static let unreadableRecord = Kind(value: .unreadableRecord)
            /// A segment's header was damaged; its records were still read, and a read-write open
            /// rewrote the header of the newest segment.
            public static let damagedSegmentHeader = Kind(value: .damagedSegmentHeader)
        }

        /// What was found.
        public var kind: Kind
        /// The segment's file name, for example `segment-0000000000000003.log`.
        public var segment: String
        /// The offset of the damaged region in the segment.
        public var offset: Int
        /// The length of the damaged region in bytes.
        public var length: Int

        /// Creates a problem.
        ///
        /// - Parameters:
        ///   - kind: What was found.
        ///   - segment: The segment's file name.
        ///   - offset: Where the region starts.
        ///   - length: How long it is.
        public init(kind: Kind, segment: String, offset: Int, length: Int) {
            self.kind = kind
            self.segment = segment
            self.offset = offset
            self.length = length
        }
    }

    /// How many segment files were read.
    public var segmentsScanned = 0
    /// How many valid records (deliveries and state changes) were read.
    public var recordsRead = 0
    /// How many deliveries the journal holds after recovery.
    public var deliveries = 0
    /// How many of them still need handling.
    public var pendingDeliveries = 0
    /// Every damaged region found, in file order.
    public var problems: [Problem] = []

    /// Creates an empty report.
    public init() {}

    /// Whether nothing was damaged.
    public var isClean: Bool { problems.isEmpty }
}

extension RecoveryReport: CustomStringConvertible {
    /// A one-line summary for logs, listing any problems.
    public var description: String {
        var text =
            "\(segmentsScanned) segments, \(recordsRead) records, \(deliveries) deliveries "
            + "(\(pendingDeliveries) pending)"
        if !problems.isEmpty {
            text += "; " + problems.map(\.description).joined(separator: "; ")
        }
        return text
    }
}

extension RecoveryReport.Problem: CustomStringConvertible {
    /// The kind, the segment and the byte range, for logs.
    public var description: String {
        "\(kind) in \(segment) at bytes \(offset)..<\(offset + length)"
    }
}

extension RecoveryReport.Problem.Kind: CustomStringConvertible {
    /// A short phrase naming the kind, for example `torn tail`.
    public var description: String {
        switch value {
        case .truncatedTail: "torn tail"
        case .corruptRecord: "corrupt record"
        case .unreadableRecord: "unreadable record"
        case .damagedSegmentHeader: "damaged segment header"
        }
    }
}
