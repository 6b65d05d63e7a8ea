import PromptEvents

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The on-disk layout of journal segments and records.
///
/// A journal directory holds `journal.lock` and segment files named
/// `segment-<16-digit sequence>.log`. A segment starts with a 32-byte header:
///
/// | Offset | Size | Field |
/// |---|---|---|
/// | 0 | 8 | magic `PEJOURNL` |
/// | 8 | 4 | format version (1) |
/// | 12 | 4 | reserved, zero |
/// | 16 | 8 | the segment's sequence number |
/// | 24 | 4 | the next delivery id when the segment was created |
/// | 28 | 4 | CRC-32C of bytes 0..<28 |
///
/// (the next delivery id is 64 bits: bytes 24..<28 hold its low half, and the reserved bytes
/// 12..<16 its high half). Records follow, each framed as:
///
/// | Offset | Size | Field |
/// |---|---|---|
/// | 0 | 4 | magic `0x524A4550` (`PEJR` on disk) |
/// | 4 | 4 | payload length |
/// | 8 | 4 | CRC-32C of the payload |
/// | 12 | 4 | CRC-32C of bytes 0..<12 |
/// | 16 | n | payload (a ``StoredRecord``) |
///
/// All integers are little-endian. The separate header checksum lets recovery trust a length
/// before reading the payload, so a damaged payload is skipped by its length, while a damaged
/// header makes recovery search for the next valid frame.
enum JournalFormat {
    static let segmentMagic: [UInt8] = Array("PEJOURNL".utf8)
    static let version: UInt32 = 1
    static let segmentHeaderSize = 32
    static let frameMagic: UInt32 = 0x524A_4550
    static let frameHeaderSize = 16
    /// No payload is larger than this; a header claiming more is damaged.
    static let maximumPayloadSize = 1 << 30
    static let lockFileName = "journal.lock"
    private static let segmentPrefix = "segment-"
    private static let segmentSuffix = ".log"

    static func segmentName(_ sequence: UInt64) -> String {
        let digits = String(sequence)
        return segmentPrefix + String(repeating: "0", count: max(0, 16 - digits.count)) + digits + segmentSuffix
    }

    static func segmentSequence(fromName name: String) -> UInt64? {
        guard name.hasPrefix(segmentPrefix), name.hasSuffix(segmentSuffix) else { return nil }
        let digits = name.dropFirst(segmentPrefix.count).dropLast(segmentSuffix.count)
        guard digits.count == 16 else { return nil }
        return UInt64(digits)
    }

    static func segmentHeader(sequence: UInt64, nextID: UInt64) -> [UInt8] {
        var writer = ByteWriter(capacity: segmentHeaderSize)
        writer.bytes.append(contentsOf: segmentMagic)
        writer.write(version)
        writer.write(UInt32(truncatingIfNeeded: nextID >> 32))
        writer.write(sequence)
        writer.write(UInt32(truncatingIfNeeded: nextID))
        writer.write(CRC32C.checksum(writer.bytes))
        return writer.bytes
    }

    /// What a segment header says.
    struct SegmentHeader: Hashable {
        var version: UInt32
        var sequence: UInt64
        var nextID: UInt64
    }

    /// Parses a segment header, returning `nil` when it is short or damaged.
    static func parseSegmentHeader(_ bytes: ArraySlice<UInt8>) -> SegmentHeader? {
        guard bytes.count >= segmentHeaderSize else { return nil }
        let header = bytes.prefix(segmentHeaderSize)
        guard header.prefix(8).elementsEqual(segmentMagic) else { return nil }
        var reader = ByteReader(header.dropFirst(8))
        guard let version = try? reader.read(UInt32.self),
            let high = try? reader.read(UInt32.self),
            let sequence = try? reader.read(UInt64.self),
            let low = try? reader.read(UInt32.self),
            let checksum = try? reader.read(UInt32.self),
            checksum == CRC32C.checksum(header.prefix(28))
        else { return nil }
        return SegmentHeader(version: version, sequence: sequence, nextID: UInt64(high) << 32 | UInt64(low))
    }

    /// Frames a payload: header with both checksums, then the payload.
    static func frame(_ payload: [UInt8]) -> [UInt8] {
        var writer = ByteWriter(capacity: frameHeaderSize + payload.count)
        writer.write(frameMagic)
        writer.write(UInt32(truncatingIfNeeded: payload.count))
        writer.write(CRC32C.checksum(payload))
        writer.write(CRC32C.checksum(writer.bytes))
        writer.bytes.append(contentsOf: payload)
        return writer.bytes
    }

    /// What a frame header at some offset says.
    enum FrameCheck {
        /// A complete frame whose checksums match: its payload's range.
        case valid(payload: Range<Int>)
        /// A header that checks out, but the payload is cut short or its checksum differs.
        case damagedPayload(frameLength: Int, isComplete: Bool)
        /// Too few bytes for a header, or the header's magic or checksum is wrong.
        case damagedHeader
    }

    static func checkFrame(in bytes: [UInt8], at offset: Int) -> FrameCheck {
        guard bytes.count - offset >= frameHeaderSize else { return .damagedHeader }
        var reader = ByteReader(bytes[offset..<offset + frameHeaderSize])
        guard let magic = try? reader.read(UInt32.self), magic == frameMagic,
            let length = try? reader.read(UInt32.self),
            let payloadChecksum = try? reader.read(UInt32.self),
            let headerChecksum = try? reader.read(UInt32.self),
            headerChecksum == CRC32C.checksum(bytes[offset..<offset + 12]),
            Int(length) <= maximumPayloadSize
        else { return .damagedHeader }
        let start = offset + frameHeaderSize
        let end = start + Int(length)
        guard end <= bytes.count else {
            return .damagedPayload(frameLength: frameHeaderSize + Int(length), isComplete: false)
        }
        guard CRC32C.checksum(bytes[start..<end]) == payloadChecksum else {
            return .damagedPayload(frameLength: frameHeaderSize + Int(length), isComplete: true)
        }
        return .valid(payload: start..<end)
    }
}

/// One record in a segment: a delivery, or a change to a delivery's handling state.
enum StoredRecord: Hashable, Sendable {
    /// A delivery was journaled.
    case delivery(StoredDelivery)
    /// A handler attempt finished.
    case attempt(id: UInt64, progress: HandlerProgress)
    /// Every handler finished: the delivery is done or dead-lettered.
    case finished(id: UInt64, state: JournalRecord.State, at: Date)
    /// The delivery was requeued for replay: its handler progress is cleared.
    case reset(id: UInt64, at: Date)
    /// The delivery was purged: it no longer shows in inspection and its segment may go.
    case purged(id: UInt64, at: Date)
    /// The complete handling state of a delivery, carried forward when older segments are removed.
    case snapshot(StoredSnapshot)

    private enum Tag: UInt8 {
        case delivery = 1
        case attempt = 2
        case finished = 3
        case reset = 4
        case purged = 5
        case snapshot = 6
    }

    /// The delivery this record is about.
    var deliveryID: UInt64 {
        switch self {
        case .delivery(let delivery): delivery.record.id
        case .attempt(let id, _), .finished(let id, _, _), .reset(let id, _), .purged(let id, _): id
        case .snapshot(let snapshot): snapshot.id
        }
    }

    func encoded() -> [UInt8] {
        switch self {
        case .delivery(let delivery):
            return delivery.encoded(tag: Tag.delivery.rawValue)
        case .attempt(let id, let progress):
            var writer = ByteWriter(capacity: 64 + progress.handler.utf8.count + (progress.lastError?.utf8.count ?? 0))
            writer.write(Tag.attempt.rawValue)
            writer.write(id)
            writer.write(progress)
            return writer.bytes
        case .finished(let id, let state, let date):
            var writer = ByteWriter(capacity: 18)
            writer.write(Tag.finished.rawValue)
            writer.write(id)
            writer.write(state.code)
            writer.write(date.timeIntervalSinceReferenceDate)
            return writer.bytes
        case .reset(let id, let date), .purged(let id, let date):
            var writer = ByteWriter(capacity: 17)
            if case .reset = self { writer.write(Tag.reset.rawValue) } else { writer.write(Tag.purged.rawValue) }
            writer.write(id)
            writer.write(date.timeIntervalSinceReferenceDate)
            return writer.bytes
        case .snapshot(let snapshot):
            var writer = ByteWriter()
            writer.write(Tag.snapshot.rawValue)
            writer.write(snapshot.id)
            writer.write(snapshot.state.code)
            writer.write(UInt8((snapshot.isPurged ? 1 : 0) | (snapshot.finishedAt == nil ? 0 : 2)))
            writer.write(
                (snapshot.finishedAt ?? Date(timeIntervalSinceReferenceDate: 0)).timeIntervalSinceReferenceDate
            )
            writer.write(UInt32(snapshot.handlers.count))
            for progress in snapshot.handlers { writer.write(progress) }
            return writer.bytes
        }
    }

    static func decode(_ payload: ArraySlice<UInt8>) throws(ByteReaderError) -> StoredRecord {
        var reader = ByteReader(payload)
        guard let tag = Tag(rawValue: try reader.readByte()) else { throw ByteReaderError(what: "record type") }
        let record: StoredRecord
        switch tag {
        case .delivery:
            record = .delivery(try StoredDelivery(reading: &reader))
        case .attempt:
            let id = try reader.read(UInt64.self)
            record = .attempt(id: id, progress: try reader.readProgress())
        case .finished:
            let id = try reader.read(UInt64.self)
            let state = try JournalRecord.State(code: reader.readByte())
            record = .finished(id: id, state: state, at: Date(timeIntervalSinceReferenceDate: try reader.readDouble()))
        case .reset, .purged:
            let id = try reader.read(UInt64.self)
            let date = Date(timeIntervalSinceReferenceDate: try reader.readDouble())
            record = tag == .reset ? .reset(id: id, at: date) : .purged(id: id, at: date)
        case .snapshot:
            let id = try reader.read(UInt64.self)
            let state = try JournalRecord.State(code: reader.readByte())
            let flags = try reader.readByte()
            let finishedAt = Date(timeIntervalSinceReferenceDate: try reader.readDouble())
            let count = try reader.read(UInt32.self)
            var handlers: [HandlerProgress] = []
            for _ in 0..<count { handlers.append(try reader.readProgress()) }
            record = .snapshot(
                StoredSnapshot(
                    id: id,
                    state: state,
                    finishedAt: flags & 2 != 0 ? finishedAt : nil,
                    isPurged: flags & 1 != 0,
                    handlers: handlers
                )
            )
        }
        guard reader.isAtEnd else { throw ByteReaderError(what: "end of record") }
        return record
    }
}

/// A delivery as stored, with what the journal needs beyond the record itself.
struct StoredDelivery: Hashable, Sendable {
    var record: JournalRecord
    /// The de-duplication key the caller passed, if any (at most 64 bytes).
    var deduplicationKey: [UInt8]?
    /// Whether the key counts only once every handler succeeded (``AcknowledgementMode/afterHandlers``).
    var remembersKeyOnlyWhenDone: Bool

    fileprivate func encoded(tag: UInt8) -> [UInt8] {
        let delivery = record.delivery
        var capacity = 64 + record.kind.utf8.count + delivery.target.utf8.count + delivery.body.count
        for field in delivery.headers { capacity += 8 + field.name.utf8.count + field.value.utf8.count }
        var writer = ByteWriter(capacity: capacity)
        writer.write(tag)
        var flags: UInt8 = 0
        if record.deadLetterReason != nil { flags |= 1 }
        if deduplicationKey != nil { flags |= 2 }
        if remembersKeyOnlyWhenDone { flags |= 4 }
        writer.write(flags)
        writer.write(record.id)
        writer.write(delivery.receivedAt.timeIntervalSinceReferenceDate)
        writer.write(record.kind)
        writer.write(delivery.method)
        writer.write(delivery.target)
        writer.write(UInt32(truncatingIfNeeded: delivery.headers.count))
        for field in delivery.headers {
            writer.write(field.name)
            writer.write(field.value)
        }
        if let deduplicationKey { writer.writeBlock(deduplicationKey) }
        if let reason = record.deadLetterReason { writer.write(reason) }
        writer.writeBlock(delivery.body)
        return writer.bytes
    }

    fileprivate init(reading reader: inout ByteReader) throws(ByteReaderError) {
        let flags = try reader.readByte()
        let id = try reader.read(UInt64.self)
        let receivedAt = Date(timeIntervalSinceReferenceDate: try reader.readDouble())
        let kind = try reader.readString()
        let method = try reader.readString()
        let target = try reader.readString()
        let headerCount = try reader.read(UInt32.self)
        var headers = Headers()
        for _ in 0..<headerCount {
            let name = try reader.readString()
            headers.append(name: name, value: try reader.readString())
        }
        deduplicationKey = flags & 2 != 0 ? Array(try reader.readBlock()) : nil
        let reason = flags & 1 != 0 ? try reader.readString() : nil
        let body = Array(try reader.readBlock())
        remembersKeyOnlyWhenDone = flags & 4 != 0
        record = JournalRecord(
            id: id,
            kind: kind,
            delivery: Delivery(method: method, target: target, headers: headers, body: body, receivedAt: receivedAt),
            deadLetterReason: reason
        )
    }

    init(record: JournalRecord, deduplicationKey: [UInt8]?, remembersKeyOnlyWhenDone: Bool) {
        self.record = record
        self.deduplicationKey = deduplicationKey
        self.remembersKeyOnlyWhenDone = remembersKeyOnlyWhenDone
    }
}

/// The complete handling state of one delivery.
struct StoredSnapshot: Hashable, Sendable {
    var id: UInt64
    var state: JournalRecord.State
    var finishedAt: Date?
    var isPurged: Bool
    var handlers: [HandlerProgress]
}

extension JournalRecord.State {
    fileprivate var code: UInt8 {
        switch self {
        case .pending: 0
        case .done: 1
        case .deadLettered: 2
        }
    }

    fileprivate init(code: UInt8) throws(ByteReaderError) {
        switch code {
        case 0: self = .pending
        case 1: self = .done
        case 2: self = .deadLettered
        default: throw ByteReaderError(what: "state \(code)")
        }
    }
}

extension ByteWriter {
    fileprivate mutating func write(_ progress: HandlerProgress) {
        let status: UInt8 =
            switch progress.status {
            case .succeeded: 1
            case .failed: 2
            case .deadLettered: 3
            }
        write(status)
        write(UInt32(clamping: progress.attempts))
        write(progress.updatedAt.timeIntervalSinceReferenceDate)
        write(progress.handler)
        write(UInt8(progress.lastError == nil ? 0 : 1))
        write(progress.lastError ?? "")
    }
}

extension ByteReader {
    fileprivate mutating func readProgress() throws(ByteReaderError) -> HandlerProgress {
        let status: HandlerProgress.Status
        switch try readByte() {
        case 1: status = .succeeded
        case 2: status = .failed
        case 3: status = .deadLettered
        case let other: throw ByteReaderError(what: "handler status \(other)")
        }
        let attempts = Int(try read(UInt32.self))
        let updatedAt = Date(timeIntervalSinceReferenceDate: try readDouble())
        let handler = try readString()
        let hasError = try readByte() != 0
        let error = try readString()
        return HandlerProgress(
            handler: handler,
            status: status,
            attempts: attempts,
            lastError: hasError ? error : nil,
            updatedAt: updatedAt
        )
    }
}
