/// Rebuilds a journal's state from its segment files.
///
/// Every segment is read in order of its sequence number and every frame verified:
///
/// - a valid frame is decoded and applied to the index;
/// - a frame whose header checks out but whose payload does not is skipped by its length
///   (reported as a corrupt record), unless it is the last frame of the newest segment, where it
///   is a torn write;
/// - a damaged header makes recovery search byte by byte for the next valid frame; the bytes in
///   between are reported as a corrupt record, or, when no valid frame follows in the newest
///   segment, as a torn tail.
///
/// A torn tail of the newest segment is truncated when the journal is opened read-write, so new
/// records follow the last valid one. Nothing else is ever changed on disk by recovery, apart from
/// rewriting a damaged header of the newest segment.
struct JournalRecovery {
    let directory: String
    let access: Journal.AccessMode
    let fileSystem: any FileSystem
    private(set) var report = RecoveryReport()

    init(directory: String, access: Journal.AccessMode, fileSystem: any FileSystem) {
        self.directory = directory
        self.access = access
        self.fileSystem = fileSystem
    }

    mutating func run(into state: inout JournalState) throws {
        let segments = try fileSystem.contentsOfDirectory(directory)
            .compactMap { name in JournalFormat.segmentSequence(fromName: name).map { (sequence: $0, name: name) } }
            .sorted { $0.sequence < $1.sequence }
        for (position, segment) in segments.enumerated() {
            try scan(segment.name, sequence: segment.sequence, isNewest: position == segments.count - 1, into: &state)
        }
    }

    private mutating func scan(_ name: String, sequence: UInt64, isNewest: Bool, into state: inout JournalState) throws
    {
        let path = directory + "/" + name
        let isWritable = access == .readWrite && isNewest
        let descriptor: Int32
        do {
            descriptor = try fileSystem.open(path, options: isWritable ? [.readWrite] : [], mode: 0)
        } catch {
            // Removed by the live server's retention since the directory was listed.
            if access == .readOnly && error.errno == ErrorNumber.noEntry { return }
            throw error
        }
        state.segments.append(
            Segment(sequence: sequence, name: name, descriptor: descriptor, size: 0, isSealed: !isWritable)
        )
        let position = state.segments.count - 1
        let bytes = try fileSystem.read(descriptor, count: fileSystem.size(of: descriptor), at: 0)
        report.segmentsScanned += 1

        let headerSize = JournalFormat.segmentHeaderSize
        let header = JournalFormat.parseSegmentHeader(bytes[...])
        if let header {
            guard header.version == JournalFormat.version else {
                throw JournalError(
                    .unsupportedFormat,
                    "\(path) has format version \(header.version); this build reads 1"
                )
            }
            state.index.nextID = max(state.index.nextID, header.nextID)
        } else if isNewest && bytes.count < headerSize {
            if !bytes.isEmpty { problem(.truncatedTail, name, offset: 0, length: bytes.count) }
        } else {
            problem(.damagedSegmentHeader, name, offset: 0, length: min(headerSize, bytes.count))
        }

        var offset = headerSize
        var tornAt: Int?
        while offset < bytes.count {
            switch JournalFormat.checkFrame(in: bytes, at: offset) {
            case .valid(let payload):
                apply(
                    bytes[payload],
                    name: name,
                    location: RecordLocation(segment: sequence, offset: offset, length: payload.upperBound - offset),
                    into: &state,
                    position: position
                )
                offset = payload.upperBound
            case .damagedPayload(let length, let isComplete):
                if isNewest && (!isComplete || offset + length == bytes.count) {
                    tornAt = offset
                } else {
                    let skipped = min(length, bytes.count - offset)
                    problem(.corruptRecord, name, offset: offset, length: skipped)
                    offset += skipped
                }
            case .damagedHeader:
                if let next = nextValidFrame(in: bytes, after: offset) {
                    problem(.corruptRecord, name, offset: offset, length: next - offset)
                    offset = next
                } else if isNewest {
                    tornAt = offset
                } else {
                    problem(.corruptRecord, name, offset: offset, length: bytes.count - offset)
                    offset = bytes.count
                }
            }
            if let tornAt {
                problem(.truncatedTail, name, offset: tornAt, length: bytes.count - tornAt)
                break
            }
        }

        var size = bytes.count
        if isWritable {
            if let tornAt {
                try fileSystem.ftruncate(descriptor, length: tornAt)
                size = tornAt
            }
            if header == nil {
                let fresh = JournalFormat.segmentHeader(sequence: sequence, nextID: state.index.nextID)
                try fileSystem.writeAll(descriptor, fresh, at: 0)
                size = max(size, headerSize)
            }
            if tornAt != nil || header == nil {
                state.segments[position].isDirty = true
            }
        }
        state.segments[position].size = size
        state.totalBytes += size
    }

    private mutating func apply(
        _ payload: ArraySlice<UInt8>,
        name: String,
        location: RecordLocation,
        into state: inout JournalState,
        position: Int
    ) {
        guard let record = try? StoredRecord.decode(payload) else {
            problem(.unreadableRecord, name, offset: location.offset, length: location.length)
            return
        }
        report.recordsRead += 1
        guard state.index.apply(record, at: location) else { return }
        if case .delivery = record {
            state.segments[position].owned.insert(record.deliveryID)
        } else {
            state.segments[position].referenced.insert(record.deliveryID)
        }
    }

    private func nextValidFrame(in bytes: [UInt8], after offset: Int) -> Int? {
        var candidate = offset + 1
        while candidate + JournalFormat.frameHeaderSize <= bytes.count {
            // The frame magic 0x524A4550 as it appears on disk: "PEJR".
            if bytes[candidate] == 0x50 && bytes[candidate + 1] == 0x45 && bytes[candidate + 2] == 0x4A
                && bytes[candidate + 3] == 0x52, case .valid = JournalFormat.checkFrame(in: bytes, at: candidate)
            {
                return candidate
            }
            candidate += 1
        }
        return nil
    }

    private mutating func problem(_ kind: RecoveryReport.Problem.Kind, _ segment: String, offset: Int, length: Int) {
        report.problems.append(RecoveryReport.Problem(kind: kind, segment: segment, offset: offset, length: length))
    }
}
