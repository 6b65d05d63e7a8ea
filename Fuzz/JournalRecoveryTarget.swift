// libFuzzer target for journal recovery (Sources/PromptEventsServer/Journal).
//
// Built by scripts/fuzz.sh together with the PromptEvents sources, the server's Journal and
// Metrics sources and AcknowledgementMode.swift as ONE module named `PromptEvents`, so
// `package`/internal API (InMemoryFileSystem, JournalFormat, StoredRecord) is visible here.
//
// Input layout: byte 0 selects the mode (low 2 bits), the rest is mode-specific.
//   mode 0, raw:      bytes 1... are written verbatim as segment-0000000000000001.log.
//   mode 1, framed:   a valid segment header (next id from bytes 1...4), then frames with correct
//                     checksums whose payloads come from the input: each payload is one length
//                     byte followed by that many bytes. Reaches record decoding and the index,
//                     which raw bytes almost never do (CRC32C). Bit 2 of byte 0 cuts the last
//                     frame short, bit 3 writes a second segment holding the remaining payloads.
//   mode 2, append-then-corrupt: a real journal appends deliveries made from the input (and
//                     handler progress records), is closed, then the segment is damaged by
//                     (offset, xor) pairs from the input and optionally truncated.
//   mode 3, raw two segments: bytes 1... are split (at the position given by byte 1) into two
//                     segment files.
//
// Invariants checked (a violation is a crash, `fatalError`):
//   - `Journal.open(…, fileSystem:)` (read-only, then read-write) never traps: damaged bytes are
//     reported in `recoveryReport` or as a thrown `JournalError`;
//   - `entries(matching:)` never traps, returns ids in increasing order, and agrees between the
//     read-only and the read-write open;
//   - after a read-write open (which truncates a torn tail) a delivery can be appended, and a
//     second open reports no torn tail and lists the same entries plus the new one.
//
// Environment: PROMPT_FUZZ_WRITE_SEEDS=<dir> makes the binary write seed inputs for this target
// into <dir> and exit (scripts/fuzz.sh seeds uses it).

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

private let directory = "/tmp/j"
private let clock: @Sendable () -> Date = { Date(timeIntervalSinceReferenceDate: 800_000_000) }

private struct Reader {
    var bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    var isAtEnd: Bool { index >= bytes.count }
    mutating func byte() -> UInt8 {
        guard index < bytes.count else { return 0 }
        defer { index &+= 1 }
        return bytes[index]
    }
    mutating func take(_ count: Int) -> [UInt8] {
        let end = min(bytes.count, index &+ count)
        defer { index = end }
        return Array(bytes[index..<end])
    }
    mutating func rest() -> [UInt8] { take(bytes.count) }
}

private func writeFile(_ fileSystem: InMemoryFileSystem, _ name: String, _ bytes: [UInt8]) {
    do {
        let descriptor = try fileSystem.open(directory + "/" + name, options: [.readWrite, .create], mode: 0o600)
        try fileSystem.writeAll(descriptor, bytes, at: 0)
        try fileSystem.fsync(descriptor)
        fileSystem.close(descriptor)
    } catch {
        fatalError("cannot write \(name) into the in-memory file system: \(error)")
    }
}

private func makeFileSystem() -> InMemoryFileSystem {
    let fileSystem = InMemoryFileSystem()
    do { try fileSystem.createDirectory(at: directory, mode: 0o700) } catch { fatalError("mkdir: \(error)") }
    return fileSystem
}

/// Frames payloads read as (length byte, bytes) pairs.
private func frames(_ reader: inout Reader, count: Int) -> [[UInt8]] {
    var result: [[UInt8]] = []
    while !reader.isAtEnd && result.count < count {
        let length = Int(reader.byte())
        result.append(JournalFormat.frame(reader.take(length)))
    }
    return result
}

private func delivery(_ body: [UInt8], _ n: Int) -> Delivery {
    Delivery(
        method: "POST",
        target: "/customer/added?n=\(n)",
        headers: ["Content-Type": "application/json", "Prompt-EventType": "customer/added"],
        body: body,
        receivedAt: Date(timeIntervalSinceReferenceDate: 799_999_000 + Double(n))
    )
}

/// Builds the in-memory journal directory the input describes.
private func prepare(_ input: UnsafeBufferPointer<UInt8>) -> InMemoryFileSystem? {
    var reader = Reader(bytes: input)
    let mode = reader.byte()
    let fileSystem = makeFileSystem()
    switch mode & 3 {
    case 0:
        writeFile(fileSystem, JournalFormat.segmentName(1), reader.rest())
    case 1:
        let nextID = UInt64(reader.byte()) | UInt64(reader.byte()) << 8 | UInt64(reader.byte()) << 16
            | UInt64(reader.byte()) << 56
        var segment = JournalFormat.segmentHeader(sequence: 1, nextID: nextID)
        let first = frames(&reader, count: mode & 8 != 0 ? 8 : Int.max)
        for frame in first { segment += frame }
        if mode & 4 != 0, let last = first.last, !segment.isEmpty {
            segment.removeLast(1 + Int(UInt(last.count) % 7))
        }
        writeFile(fileSystem, JournalFormat.segmentName(1), segment)
        if mode & 8 != 0 {
            var second = JournalFormat.segmentHeader(sequence: 2, nextID: nextID &+ 8)
            for frame in frames(&reader, count: Int.max) { second += frame }
            writeFile(fileSystem, JournalFormat.segmentName(2), second)
        }
    case 2:
        do {
            let journal = try Journal.open(at: directory, fileSystem: fileSystem, now: clock)
            let count = Int(reader.byte() % 4) + 1
            for n in 0..<count {
                let body = reader.take(Int(reader.byte()))
                let key: [UInt8]? = n & 1 == 0 ? Array(body.prefix(8)) : nil
                let result = try journal.append(delivery(body, n), kind: "customer/added", deduplicationKey: key)
                if case .appended(let record) = result, mode & 4 != 0 {
                    let progress = HandlerProgress(
                        handler: "h\(n)", status: n & 1 == 0 ? .succeeded : .failed, attempts: n + 1,
                        lastError: n & 1 == 0 ? nil : "boom", updatedAt: clock()
                    )
                    try journal.recordAttempt(deliveryID: record.id, progress: progress)
                    if n & 1 == 0 { try journal.recordFinished(deliveryID: record.id, outcome: .done) }
                }
            }
            try journal.sync()
            try journal.close()
        } catch {
            fatalError("building a journal to corrupt failed: \(error)")
        }
        let path = directory + "/" + JournalFormat.segmentName(1)
        guard var bytes = fileSystem.contents(of: path), !bytes.isEmpty else { fatalError("no segment written") }
        while !reader.isAtEnd {
            let operation = reader.byte()
            let offset = (Int(reader.byte()) << 8 | Int(reader.byte())) % bytes.count
            if operation == 0xFF {
                bytes.removeLast(bytes.count - offset)  // truncate
                if bytes.isEmpty { break }
            } else {
                bytes[offset] ^= operation == 0 ? 0x01 : operation
            }
        }
        fileSystem.replaceContents(of: path, with: bytes)
    default:
        let split = Int(reader.byte())
        let rest = reader.rest()
        let cut = min(split * 8, rest.count)
        writeFile(fileSystem, JournalFormat.segmentName(1), Array(rest[..<cut]))
        writeFile(fileSystem, JournalFormat.segmentName(3), Array(rest[cut...]))
    }
    return fileSystem
}

/// What both kinds of open must agree on.
///
/// Handler progress is compared for pending deliveries only, the ones a server resumes with it:
/// a read-write journal drops a delivery's progress once it is done (see
/// `JournalEntry.handlers`), and a crafted journal can mark a delivery dead after done.
private func summary(_ entries: [JournalEntry]) -> [String] {
    entries.map { entry in
        let handlers = entry.state == .pending ? "\(entry.handlers.count)" : "-"
        return "\(entry.id) \(entry.state) \(entry.record.kind) \(entry.record.body.count) \(handlers)"
    }
}

private func readAll(_ journal: Journal, _ what: String) -> [JournalEntry]? {
    let all: [JournalEntry]
    do {
        all = try journal.entries(matching: JournalQuery())
    } catch {
        _ = "\(error)"
        return nil
    }
    for (a, b) in zip(all, all.dropFirst()) where a.id >= b.id {
        fatalError("\(what): entries not in increasing id order: \(a.id) then \(b.id)")
    }
    for entry in all {
        _ = entry.record.delivery.headers.count
        _ = entry.finishedAt
        _ = try? journal.entry(id: entry.id)
    }
    // Queries with every filter; they must not trap.
    let window = Date(timeIntervalSinceReferenceDate: 0)..<Date(timeIntervalSinceReferenceDate: 900_000_000)
    _ = try? journal.entries(
        matching: JournalQuery(received: window, kinds: ["customer/added"], states: [.pending, .done], limit: 2)
    )
    _ = try? journal.entries(matching: JournalQuery(ids: Set(all.prefix(3).map(\.id)), limit: 0))
    _ = journal.statistics
    _ = journal.recoveryReport.description
    return all
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJournalRecovery(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    guard let fileSystem = prepare(UnsafeBufferPointer(start: data, count: size)) else { return 0 }

    // Read-only first: it must not change anything on disk.
    var readOnlyEntries: [JournalEntry]?
    if let journal = try? Journal.open(at: directory, access: .readOnly, fileSystem: fileSystem, now: clock) {
        readOnlyEntries = readAll(journal, "read-only")
        try? journal.close()
    }

    let journal: Journal
    do {
        journal = try Journal.open(at: directory, fileSystem: fileSystem, now: clock)
    } catch {
        _ = "\(error)"  // reported, not crashed: fine
        return 0
    }
    let report = journal.recoveryReport
    guard let first = readAll(journal, "read-write") else {
        try? journal.close()
        return 0
    }
    if let readOnlyEntries, summary(readOnlyEntries) != summary(first) {
        fatalError("read-only and read-write opens disagree:\n\(summary(readOnlyEntries))\n\(summary(first))")
    }

    // Append after recovery, then reopen: the torn tail is gone and the new delivery follows.
    let appended: JournalRecord
    do {
        guard case .appended(let record) = try journal.append(delivery([0x7B, 0x7D], 99), kind: "after") else {
            fatalError("a delivery without a key was reported as a duplicate")
        }
        appended = record
        try journal.sync()
        try journal.close()
    } catch {
        // For example an id space exhausted by a crafted record; reported, not crashed.
        _ = "\(error)"
        try? journal.close()
        return 0
    }
    if let maxID = first.map(\.id).max(), appended.id <= maxID {
        fatalError("appended id \(appended.id) is not above the recovered ids (max \(maxID))\n\(report)")
    }
    let reopened: Journal
    do {
        reopened = try Journal.open(at: directory, fileSystem: fileSystem, now: clock)
    } catch {
        fatalError("reopening after a successful recovery and append failed: \(error)\nfirst report: \(report)")
    }
    defer { try? reopened.close() }
    if reopened.recoveryReport.problems.contains(where: { $0.kind == .truncatedTail }) {
        fatalError("a torn tail survived recovery:\nfirst: \(report)\nsecond: \(reopened.recoveryReport)")
    }
    guard let second = readAll(reopened, "reopened") else {
        fatalError("entries unreadable after reopening")
    }
    let expected = summary(first) + summary([JournalEntry(record: appended, state: .pending, handlers: [], finishedAt: nil)])
    if summary(second) != expected {
        fatalError("entries changed across reopen:\nbefore: \(expected)\nafter:  \(summary(second))\nfirst report: \(report)\nsecond report: \(reopened.recoveryReport)")
    }
    return 0
}

// MARK: - Seeds

private func writeSeed(_ directory: String, _ name: String, _ bytes: [UInt8]) {
    let path = directory + "/" + name
    guard let file = fopen(path, "wb") else { fatalError("cannot create \(path)") }
    _ = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
    fclose(file)
}

/// Writes one seed per mode, built from a real journal's segment where that helps.
private func writeSeeds(to seeds: String) {
    let body = Array(#"{"orgId":42,"customer":{"id":7,"displayName":"Ada"}}"#.utf8)
    // A real segment with deliveries, attempts and a finished record.
    let fileSystem = makeFileSystem()
    var segment: [UInt8] = []
    do {
        let journal = try Journal.open(at: directory, fileSystem: fileSystem, now: clock)
        for n in 0..<3 {
            guard case .appended(let record) = try journal.append(
                delivery(body, n), kind: "customer/added", deduplicationKey: n == 0 ? [1, 2, 3] : nil,
                deadLetterReason: n == 2 ? "not an object" : nil
            ) else { continue }
            try journal.recordAttempt(
                deliveryID: record.id,
                progress: HandlerProgress(handler: "print", status: .failed, attempts: 1, lastError: "x", updatedAt: clock())
            )
            if n == 1 { try journal.recordFinished(deliveryID: record.id, outcome: .done) }
        }
        try journal.sync()
        try journal.close()
        segment = fileSystem.contents(of: directory + "/" + JournalFormat.segmentName(1)) ?? []
    } catch {
        fatalError("seed journal: \(error)")
    }
    writeSeed(seeds, "raw-valid-segment", [0x00] + segment)
    writeSeed(seeds, "raw-torn-tail", [0x00] + segment.dropLast(5))
    var flipped = segment
    if flipped.count > 60 { flipped[60] ^= 0x20 }
    writeSeed(seeds, "raw-corrupt-record", [0x00] + flipped)
    writeSeed(seeds, "two-segments", [0x03, UInt8(min(segment.count / 8, 255))] + segment + segment)

    // Framed: the payloads of the real segment's frames, re-framed by the harness.
    var payloads: [UInt8] = []
    var offset = JournalFormat.segmentHeaderSize
    while offset < segment.count {
        guard case .valid(let range) = JournalFormat.checkFrame(in: segment, at: offset) else { break }
        if range.count <= 255 { payloads += [UInt8(range.count)] + segment[range] }
        offset = range.upperBound
    }
    let states = StoredRecord.finished(id: 2, state: .deadLettered, at: clock()).encoded()
        + []  // keep the expression simple for the type checker
    let snapshot = StoredRecord.snapshot(
        StoredSnapshot(id: 1, state: .pending, finishedAt: nil, isPurged: false, handlers: [
            HandlerProgress(handler: "a", status: .succeeded, attempts: 2, lastError: nil, updatedAt: clock())
        ])
    ).encoded()
    let extra = [UInt8(states.count)] + states + [UInt8(snapshot.count)] + snapshot
        + [UInt8(17)] + StoredRecord.purged(id: 3, at: clock()).encoded()
        + [UInt8(17)] + StoredRecord.reset(id: 1, at: clock()).encoded()
    writeSeed(seeds, "framed-records", [0x01, 4, 0, 0, 0] + payloads + extra)
    writeSeed(seeds, "framed-torn", [0x05, 4, 0, 0, 0] + payloads)
    writeSeed(seeds, "framed-two-segments", [0x09, 4, 0, 0, 0] + payloads + extra)
    writeSeed(seeds, "append-corrupt", [0x06, 3, 5] + Array("hello".utf8) + [3] + Array("abc".utf8) + [0, 0, 0]
        + [0x40, 0, 70] + [0xFF, 0, 200])
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzJournalInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    if let seeds = getenv("PROMPT_FUZZ_WRITE_SEEDS") {
        writeSeeds(to: String(cString: seeds))
        exit(0)
    }
    return 0
}
