import PromptEvents
import Testing

@testable import PromptEventsServer

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct JournalTests {
    // MARK: - Round trip

    @Test func roundTripKeepsExactBytesAndHeadersButNeverSecrets() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/journal"
        let body: [UInt8] = Array(#"{"text":"héllo"}"#.utf8) + [0x00, 0xFF, 0xFE, 0x0A]
        let headers: Headers = [
            "Content-Type": "application/json",
            "Authorization": "Basic c2VjcmV0LXVzZXI6c2VjcmV0LXBhc3M=",
            "Prompt-EventType": "message/added",
            "x-prompt-token": "tok-SECRET-123",
            "X-Hub-Signature": "sha1=0123456789abcdef",
            "Prompt-EventType": "duplicate kept",
            "AUTHORIZATION": "Bearer second-secret",
        ]
        let delivery = Delivery(
            method: "POST",
            target: "/message/added?x=1",
            headers: headers,
            body: body,
            receivedAt: Date(timeIntervalSinceReferenceDate: 789_012_345.678_9)
        )
        let configuration = Journal.Configuration(droppedHeaderNames: ["X-Prompt-Token"])
        let journal = try Journal.open(at: path, configuration: configuration)
        let appended = try journal.append(delivery, kind: "message/added")
        try journal.sync()
        try journal.close()

        let reopened = try Journal.open(at: path, configuration: configuration)
        defer { try? reopened.close() }
        let entries = try reopened.entries()
        let entry = try #require(entries.first)
        #expect(entries.count == 1)
        #expect(reopened.recoveryReport.isClean)
        guard case .appended(let record) = appended else {
            Issue.record("expected an append")
            return
        }
        #expect(entry.record == record)
        #expect(entry.record.body == body)
        #expect(entry.record.kind == "message/added")
        #expect(entry.record.delivery.method == "POST")
        #expect(entry.record.delivery.target == "/message/added?x=1")
        #expect(entry.record.receivedAt == delivery.receivedAt)
        #expect(entry.state == .pending)
        let stored = entry.record.headers.fields.map { [$0.name, $0.value] }
        #expect(
            stored == [
                ["Content-Type", "application/json"],
                ["Prompt-EventType", "message/added"],
                ["X-Hub-Signature", "sha1=0123456789abcdef"],
                ["Prompt-EventType", "duplicate kept"],
            ]
        )

        let raw = try directory.contentsOfAllFiles()
        for secret in [
            "c2VjcmV0LXVzZXI6c2VjcmV0LXBhc3M=", "Bearer second-secret", "tok-SECRET-123", "uthorization",
            "UTHORIZATION", "x-prompt-token",
        ] {
            #expect(!raw.contains(Array(secret.utf8)), "\(secret) was written to disk")
        }
        #expect(raw.contains(body))
    }

    @Test func idsIncreaseAndSurviveRestart() throws {
        let fileSystem = InMemoryFileSystem()
        var ids: [UInt64] = []
        for _ in 0..<3 {
            let journal = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
            for _ in 0..<2 { ids.append(try journal.append(makeDelivery(), kind: "k").record.id) }
            try journal.sync()
            try journal.close()
        }
        #expect(ids == [1, 2, 3, 4, 5, 6])
    }

    @Test func aReopenedServerJournalKeepsNoProgressOfDoneDeliveriesButTheRecordsDo() throws {
        let fileSystem = InMemoryFileSystem()
        let journal = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        let done = try journal.append(makeDelivery(), kind: "k").record.id
        let pending = try journal.append(makeDelivery(), kind: "k").record.id
        try journal.recordAttempt(deliveryID: done, progress: progress("crm", .succeeded))
        try journal.recordAttempt(deliveryID: pending, progress: progress("crm", .failed, error: "down"))
        try journal.recordFinished(deliveryID: done, outcome: .done)
        try journal.sync()
        try journal.syncStateRecords()
        try journal.close()

        let reopened = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        #expect(reopened.handlerProgress(for: done) == [:])
        #expect(reopened.handlerProgress(for: pending)?["crm"]?.status == .failed, "pending ones resume with it")
        try reopened.close()
        let inspected = try Journal.open(at: "/tmp/j", access: .readOnly, fileSystem: fileSystem)
        #expect(try inspected.entry(id: done)?.handlers.map(\.status) == [.succeeded])
    }

    /// Found by fuzzing journal recovery: a record with the last id made the next id wrap, so
    /// the journal gave out an id below ones it held.
    @Test func aDeliveryWithTheLastPossibleIdStopsNewIdsInsteadOfWrapping() throws {
        let fileSystem = InMemoryFileSystem()
        try Journal.open(at: "/tmp/j", fileSystem: fileSystem).close()
        let last = StoredRecord.delivery(
            StoredDelivery(
                record: JournalRecord(id: .max, kind: "k", delivery: makeDelivery()),
                deduplicationKey: nil,
                remembersKeyOnlyWhenDone: false
            )
        )
        fileSystem.replaceContents(
            of: "/tmp/j/" + JournalFormat.segmentName(1),
            with: JournalFormat.segmentHeader(sequence: 1, nextID: 1) + JournalFormat.frame(last.encoded())
        )
        let journal = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        #expect(try journal.entry(id: .max)?.record.kind == "k")
        let error = #expect(throws: JournalError.self) { try journal.append(makeDelivery(), kind: "k") }
        #expect(error?.code == .full)
        #expect(try journal.entries(matching: JournalQuery()).map(\.id) == [.max])
        try journal.close()
    }

    @Test func syncReportsTheBatchSizeOfGroupCommit() throws {
        let metrics = Metrics()
        let fileSystem = InMemoryFileSystem()
        let journal = try Journal.open(at: "/tmp/j", fileSystem: fileSystem, metrics: metrics)
        for _ in 0..<5 { _ = try journal.append(makeDelivery(), kind: "k") }
        try journal.sync()
        _ = try journal.append(makeDelivery(), kind: "k")
        try journal.sync()
        try journal.sync()  // Nothing to do: not counted.
        let statistics = journal.statistics
        #expect(statistics.syncs == 2)
        #expect(statistics.lastSyncBatchSize == 1)
        #expect(statistics.largestSyncBatchSize == 5)
        #expect(statistics.averageSyncBatchSize == 3)
        #expect(metrics.snapshot.syncs == 2)
        #expect(metrics.snapshot.syncBatchCounts[0] == 1)  // ≤ 1
        #expect(metrics.snapshot.syncBatchCounts[3] == 1)  // ≤ 8
        #expect(metrics.snapshot.pending == 6)
    }

    // MARK: - Recovery

    @Test func tornTailAtEveryOffsetOfTheLastRecordKeepsEarlierRecords() throws {
        let fileSystem = InMemoryFileSystem()
        let segment = "/tmp/j/" + JournalFormat.segmentName(1)
        let journal = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        _ = try journal.append(makeDelivery(body: "first"), kind: "k")
        _ = try journal.append(makeDelivery(body: "second"), kind: "k")
        try journal.sync()
        let lastStart = try #require(fileSystem.contents(of: segment)).count
        _ = try journal.append(makeDelivery(body: "third, the one torn"), kind: "k")
        try journal.close()
        let full = try #require(fileSystem.contents(of: segment))
        #expect(full.count - lastStart > JournalFormat.frameHeaderSize)

        for cut in lastStart..<full.count {
            fileSystem.replaceContents(of: segment, with: Array(full[..<cut]))
            let recovered = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
            #expect(try recovered.entries().map(\.record.body) == [Array("first".utf8), Array("second".utf8)])
            let expected =
                cut == lastStart
                ? []
                : [
                    RecoveryReport.Problem(
                        kind: .truncatedTail,
                        segment: JournalFormat.segmentName(1),
                        offset: lastStart,
                        length: cut - lastStart
                    )
                ]
            #expect(recovered.recoveryReport.problems == expected, "cut at \(cut)")
            #expect(fileSystem.contents(of: segment)?.count == lastStart)

            let next = try recovered.append(makeDelivery(body: "after"), kind: "k").record
            try recovered.sync()
            try recovered.close()
            #expect(next.id == 3)
            let reopened = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
            #expect(reopened.recoveryReport.isClean)
            #expect(try reopened.entries().map(\.id) == [1, 2, 3])
            try reopened.close()
        }
    }

    @Test(arguments: [1, 15, 16, 17, 40])
    func tornTailOnTheRealFileSystemIsTruncated(bytesKept: Int) throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/journal"
        let journal = try Journal.open(at: path)
        _ = try journal.append(makeDelivery(body: "kept"), kind: "k")
        try journal.sync()
        try journal.close()
        let segment = path + "/" + JournalFormat.segmentName(1)
        let keptSize = try directory.size(of: segment)
        let torn = JournalFormat.frame(Array(repeating: 0x41, count: 64)).prefix(bytesKept)
        try directory.append(Array(torn), to: segment)

        let recovered = try Journal.open(at: path)
        #expect(recovered.recoveryReport.problems.map(\.kind) == [.truncatedTail])
        #expect(try recovered.entries().map(\.record.body) == [Array("kept".utf8)])
        #expect(try directory.size(of: segment) == keptSize)
        _ = try recovered.append(makeDelivery(body: "next"), kind: "k")
        try recovered.sync()
        try recovered.close()
        let reopened = try Journal.open(at: path)
        #expect(reopened.recoveryReport.isClean)
        #expect(try reopened.entries().count == 2)
        try reopened.close()
    }

    /// Where in the middle record to flip a byte: in its frame header, or in its payload.
    static let flipPositions = [0, 5, 11, 13, 16, 30, -1]

    @Test(arguments: flipPositions)
    func flippedByteInAMiddleRecordIsReportedAndSkipped(position: Int) throws {
        let fileSystem = InMemoryFileSystem()
        let segment = "/tmp/j/" + JournalFormat.segmentName(1)
        let journal = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        _ = try journal.append(makeDelivery(body: "one"), kind: "k")
        try journal.sync()
        let start = try #require(fileSystem.contents(of: segment)).count
        _ = try journal.append(makeDelivery(body: "two, damaged"), kind: "k")
        try journal.sync()
        let end = try #require(fileSystem.contents(of: segment)).count
        _ = try journal.append(makeDelivery(body: "three"), kind: "k")
        try journal.close()

        var bytes = try #require(fileSystem.contents(of: segment))
        let offset = position >= 0 ? start + position : end + position
        bytes[offset] ^= 0x20
        fileSystem.replaceContents(of: segment, with: bytes)

        let recovered = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        #expect(
            recovered.recoveryReport.problems == [
                RecoveryReport.Problem(
                    kind: .corruptRecord,
                    segment: JournalFormat.segmentName(1),
                    offset: start,
                    length: end - start
                )
            ]
        )
        #expect(try recovered.entries().map(\.record.body) == [Array("one".utf8), Array("three".utf8)])
        let next = try recovered.append(makeDelivery(body: "four"), kind: "k").record
        #expect(next.id == 4)
        try recovered.close()
        let reopened = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        #expect(reopened.recoveryReport.problems.map(\.kind) == [.corruptRecord])
        #expect(try reopened.entries().map(\.id) == [1, 3, 4])
        try reopened.close()
    }

    @Test func recoveryReportReadsWellInLogs() throws {
        let fileSystem = InMemoryFileSystem()
        let segment = "/tmp/j/" + JournalFormat.segmentName(1)
        let journal = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        _ = try journal.append(makeDelivery(), kind: "k")
        try journal.close()
        let synced = try #require(fileSystem.contents(of: segment))
        fileSystem.replaceContents(of: segment, with: synced + [0x50, 0x45, 0x4A])
        let recovered = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        #expect(
            "\(recovered.recoveryReport)"
                == "1 segments, 1 records, 1 deliveries (1 pending); torn tail in segment-0000000000000001.log "
                + "at bytes \(synced.count)..<\(synced.count + 3)"
        )
    }

    @Test func crashDropsAppendedButUnsyncedRecordsAndKeepsSyncedOnes() throws {
        let fileSystem = InMemoryFileSystem()
        let journal = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        _ = try journal.append(makeDelivery(body: "acknowledged"), kind: "k")
        try journal.sync()
        _ = try journal.append(makeDelivery(body: "never acknowledged"), kind: "k")
        #expect(try journal.entries().count == 2)  // Readable before the crash…
        fileSystem.simulateCrash()

        let recovered = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        #expect(try recovered.entries().map(\.record.body) == [Array("acknowledged".utf8)])  // …gone after it.
        #expect(recovered.recoveryReport.isClean)
        try recovered.close()
    }

    /// Acknowledges like the server (append a batch, sync, then acknowledge), crashing after any step.
    @Test(arguments: 0..<12)
    func everyAcknowledgedDeliverySurvivesACrashAtAnyStep(crashAfter steps: Int) throws {
        let fileSystem = InMemoryFileSystem()
        let configuration = Journal.Configuration(segmentSize: 300)
        let journal = try Journal.open(at: "/tmp/j", configuration: configuration, fileSystem: fileSystem)
        var acknowledged: [UInt64] = []
        var batch: [UInt64] = []
        var step = 0
        crash: for turn in 0..<4 {
            for item in 0..<2 {
                if step == steps { break crash }
                batch.append(try journal.append(makeDelivery(body: "turn \(turn) item \(item)"), kind: "k").record.id)
                step += 1
            }
            if step == steps { break crash }
            try journal.sync()
            acknowledged += batch
            batch = []
            step += 1
        }
        fileSystem.simulateCrash()
        let recovered = try Journal.open(at: "/tmp/j", configuration: configuration, fileSystem: fileSystem)
        let survived = try recovered.entries().map(\.id)
        #expect(Set(acknowledged).isSubset(of: Set(survived)))
        #expect(survived == acknowledged, "nothing unsynced should survive either")
        try recovered.close()
    }

    @Test func recordsSpanningSeveralSegmentsSurviveACrash() throws {
        let fileSystem = InMemoryFileSystem()
        let configuration = Journal.Configuration(segmentSize: 200)
        let journal = try Journal.open(at: "/tmp/j", configuration: configuration, fileSystem: fileSystem)
        for index in 0..<10 { _ = try journal.append(makeDelivery(body: "record \(index)"), kind: "k") }
        try journal.sync()
        #expect(journal.statistics.segments > 3)
        fileSystem.simulateCrash()
        let recovered = try Journal.open(at: "/tmp/j", configuration: configuration, fileSystem: fileSystem)
        #expect(try recovered.entries().map(\.id) == Array(1...10))
        #expect(recovered.recoveryReport.isClean)
        try recovered.close()
    }

    // MARK: - Locking and access

    @Test func secondOpenFailsWithAClearErrorWhileReadOnlyOpenWorks() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/journal"
        let server = try Journal.open(at: path)
        _ = try server.append(makeDelivery(body: "synced"), kind: "k")
        try server.sync()

        let error = #expect(throws: JournalError.self) { try Journal.open(at: path) }
        #expect(error?.code == .locked)
        #expect(error?.message.contains(path) == true)
        #expect(error?.message.contains("process \(getpid())") == true)

        let inspector = try Journal.open(at: path, access: .readOnly)
        #expect(try inspector.entries().map(\.record.body) == [Array("synced".utf8)])
        try inspector.close()

        _ = try server.append(makeDelivery(body: "still writable"), kind: "k")
        try server.sync()
        try server.close()
        let reopened = try Journal.open(at: path)  // The lock is released on close.
        #expect(try reopened.entries().count == 2)
        try reopened.close()
    }

    @Test func readOnlyOpenReportsButNeverTruncatesTheLiveTail() throws {
        let fileSystem = InMemoryFileSystem()
        let segment = "/tmp/j/" + JournalFormat.segmentName(1)
        let writer = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        _ = try writer.append(makeDelivery(), kind: "k")
        try writer.sync()
        let withPartialWrite = try #require(fileSystem.contents(of: segment)) + Array(repeating: 0, count: 10)
        fileSystem.replaceContents(of: segment, with: withPartialWrite)

        let reader = try Journal.open(at: "/tmp/j", access: .readOnly, fileSystem: fileSystem)
        #expect(reader.recoveryReport.problems.map(\.kind) == [.truncatedTail])
        #expect(try reader.entries().count == 1)
        #expect(fileSystem.contents(of: segment) == withPartialWrite)
        try reader.close()
        try writer.close()
    }

    @Test func mutationsOnAReadOnlyJournalThrow() throws {
        let fileSystem = InMemoryFileSystem()
        let writer = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        _ = try writer.append(makeDelivery(), kind: "k")
        try writer.sync()
        let reader = try Journal.open(at: "/tmp/j", access: .readOnly, fileSystem: fileSystem)
        let attempts: [(String, () throws -> Void)] = [
            ("append", { _ = try reader.append(makeDelivery(), kind: "k") }),
            ("sync", { try reader.sync() }),
            ("requeue", { _ = try reader.requeue(ids: [1]) }),
            ("purge", { try reader.purge(finishedBefore: .distantFuture) }),
            ("retention", { try reader.applyRetention() }),
            (
                "progress",
                {
                    try reader.recordAttempt(
                        deliveryID: 1,
                        progress: HandlerProgress(
                            handler: "h",
                            status: .succeeded,
                            attempts: 1,
                            lastError: nil,
                            updatedAt: Date()
                        )
                    )
                }
            ),
        ]
        for (name, attempt) in attempts {
            let error = #expect(throws: JournalError.self, "\(name)") { try attempt() }
            #expect(error?.code == .readOnly, "\(name)")
        }
        #expect(try reader.entries().count == 1)
    }

    @Test func readOnlyOpenOfAMissingDirectoryFails() {
        let error = #expect(throws: JournalError.self) {
            try Journal.open(at: "/tmp/missing", access: .readOnly, fileSystem: InMemoryFileSystem())
        }
        #expect(error?.code == .notFound)
    }

    @Test func directoryIsPrivateAndFilesAreOwnerOnly() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/state/journal"
        let journal = try Journal.open(at: path, configuration: Journal.Configuration(segmentSize: 100))
        for _ in 0..<3 { _ = try journal.append(makeDelivery(), kind: "k") }
        try journal.sync()
        #expect(try directory.mode(of: directory.path + "/state") == 0o700)
        #expect(try directory.mode(of: path) == 0o700)
        let names = try POSIXFileSystem().contentsOfDirectory(path)
        #expect(names.count >= 3)
        for name in names {
            #expect(try directory.mode(of: path + "/" + name) == 0o600, "\(name)")
        }
        try journal.close()

        #expect(chmod(path, 0o755) == 0)
        try Journal.open(at: path).close()
        #expect(try directory.mode(of: path) == 0o700)
    }

    // MARK: - Limits and disk errors

    @Test func appendBeyondTheSizeBoundThrowsFull() throws {
        let configuration = Journal.Configuration(maximumSize: 1000)
        let journal = try Journal.open(at: "/tmp/j", configuration: configuration, fileSystem: InMemoryFileSystem())
        var appended = 0
        let error = #expect(throws: JournalError.self) {
            while true {
                _ = try journal.append(makeDelivery(body: String(repeating: "x", count: 100)), kind: "k")
                appended += 1
            }
        }
        #expect(error?.code == .full)
        #expect(appended > 0)
        #expect(journal.statistics.bytes <= 1000)
        try journal.sync()
        #expect(try journal.entries().count == appended)
    }

    @Test(arguments: [ErrorNumber.noSpace, ErrorNumber.io])
    func diskErrorsOnAppendAreThrownAndLeaveTheJournalUsable(errno: Int32) throws {
        let fileSystem = InMemoryFileSystem()
        let journal = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        _ = try journal.append(makeDelivery(body: "before"), kind: "k")
        fileSystem.failWrites(errno: errno)
        let error = #expect(throws: JournalError.self) { try journal.append(makeDelivery(body: "during"), kind: "k") }
        #expect(error?.code == .io)
        #expect(error?.errno == errno)
        fileSystem.failWrites(errno: nil)
        _ = try journal.append(makeDelivery(body: "after"), kind: "k")
        try journal.sync()
        try journal.close()
        let reopened = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        #expect(reopened.recoveryReport.isClean)
        #expect(try reopened.entries().map(\.record.body) == [Array("before".utf8), Array("after".utf8)])
    }

    @Test func failedSyncReportsUnsyncedDeliveriesAndMovesToANewSegment() throws {
        let fileSystem = InMemoryFileSystem()
        let journal = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        _ = try journal.append(makeDelivery(body: "durable"), kind: "k")
        try journal.sync()
        let lost = [
            try journal.append(makeDelivery(body: "lost 1"), kind: "k").record.id,
            try journal.append(makeDelivery(body: "lost 2"), kind: "k").record.id,
        ]
        fileSystem.failNextSync(errno: ErrorNumber.io)
        let error = #expect(throws: JournalError.self) { try journal.sync() }
        #expect(error?.code == .syncFailed)
        #expect(error?.notDurable == lost)
        #expect(error?.errno == ErrorNumber.io)
        #expect(try journal.entries().map(\.record.body) == [Array("durable".utf8)])
        #expect(journal.statistics.failedSyncs == 1)

        let next = try journal.append(makeDelivery(body: "next"), kind: "k").record
        try journal.sync()
        #expect(next.id == 4)
        #expect(try fileSystem.contentsOfDirectory("/tmp/j").contains(JournalFormat.segmentName(2)))
        fileSystem.simulateCrash()
        let recovered = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        #expect(try recovered.entries().map(\.record.body).contains(Array("durable".utf8)))
        #expect(try recovered.entries().map(\.record.body).contains(Array("next".utf8)))
    }

    @Test func aSegmentDeletedUnderTheJournalIsNotDurable() throws {
        let fileSystem = InMemoryFileSystem()
        let journal = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        let appended = try journal.append(makeDelivery(body: "unnamed"), kind: "k").record.id
        try fileSystem.unlink("/tmp/j/" + JournalFormat.segmentName(1))
        let error = #expect(throws: JournalError.self) { try journal.sync() }
        #expect(error?.code == .syncFailed)
        #expect(error?.notDurable == [appended])
        #expect(error?.errno == ErrorNumber.noEntry)
    }

    @Test func failedSyncKeepsProgressRecordsByWritingThemAgain() throws {
        let fileSystem = InMemoryFileSystem()
        let journal = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        let id = try journal.append(makeDelivery(), kind: "k").record.id
        try journal.sync()
        try journal.recordAttempt(deliveryID: id, progress: progress("crm", .succeeded))
        fileSystem.failNextSync(errno: ErrorNumber.io)
        try journal.sync()  // The progress record is re-appended to a new segment and synced.
        fileSystem.simulateCrash()
        let recovered = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        #expect(recovered.handlerProgress(for: id)?["crm"]?.status == .succeeded)
    }

    // MARK: - States, inspection, purge, retention

    @Test func bodyThatIsNotJSONIsJournaledAsADeadLetter() throws {
        let journal = try Journal.open(at: "/tmp/j", fileSystem: InMemoryFileSystem())
        _ = try journal.append(makeDelivery(body: "{}"), kind: "k")
        let dead = try journal.append(
            makeDelivery(body: "not json"),
            kind: "k",
            deadLetterReason: "body is not a JSON object"
        )
        .record
        try journal.sync()
        let entry = try #require(try journal.entry(id: dead.id))
        #expect(entry.state == .deadLettered)
        #expect(entry.deadLetterReason == "body is not a JSON object")
        #expect(entry.record.body == Array("not json".utf8))
        #expect(try journal.pendingEntries().map(\.id) == [1])
        #expect(journal.statistics.deadLettered == 1)
    }

    @Test func inspectionFiltersByTimeKindAndState() throws {
        let journal = try Journal.open(at: "/tmp/j", fileSystem: InMemoryFileSystem())
        let base = Date(timeIntervalSinceReferenceDate: 1_000_000)
        let kinds = ["message/added", "customer/updated", "message/added", "message/added"]
        for (index, kind) in kinds.enumerated() {
            _ = try journal.append(makeDelivery(receivedAt: base.addingTimeInterval(Double(index) * 60)), kind: kind)
        }
        try journal.recordFinished(deliveryID: 3, outcome: .done)
        try journal.recordFinished(deliveryID: 4, outcome: .deadLettered)
        try journal.sync()

        let cases: [(JournalQuery, [UInt64])] = [
            (JournalQuery(), [1, 2, 3, 4]),
            (JournalQuery(kinds: ["message/added"]), [1, 3, 4]),
            (JournalQuery(states: [.pending]), [1, 2]),
            (JournalQuery(states: [.done, .deadLettered]), [3, 4]),
            (JournalQuery(received: base.addingTimeInterval(60)..<base.addingTimeInterval(180)), [2, 3]),
            (JournalQuery(kinds: ["message/added"], states: [.pending]), [1]),
            (JournalQuery(limit: 2), [1, 2]),
            (JournalQuery(ids: [4, 9]), [4]),
        ]
        for (query, expected) in cases {
            #expect(try journal.entries(matching: query).map(\.id) == expected, "\(query)")
        }
    }

    @Test func requeueClearsProgressAndKeepsIdAndBytes() throws {
        let fileSystem = InMemoryFileSystem()
        let journal = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        let record = try journal.append(makeDelivery(body: "replay me"), kind: "k").record
        try journal.recordAttempt(deliveryID: record.id, progress: progress("crm", .deadLettered, error: "down"))
        try journal.recordFinished(deliveryID: record.id, outcome: .deadLettered)
        try journal.sync()

        let requeued = try journal.requeue(ids: [record.id, 99])
        #expect(requeued == [record])
        fileSystem.simulateCrash()  // The requeue was synced.
        let recovered = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        let entry = try #require(try recovered.entry(id: record.id))
        #expect(entry.state == .pending)
        #expect(entry.handlers.isEmpty)
        #expect(entry.record == record)
        #expect(try recovered.requeue(ids: [record.id]).isEmpty)  // Already pending.
    }

    @Test func purgeRemovesFinishedDeliveriesByStateAndAge() throws {
        let clock = TestClock()
        let fileSystem = InMemoryFileSystem()
        let configuration = Journal.Configuration(segmentSize: 150, deduplicationWindow: .zero)
        let journal = try Journal.open(
            at: "/tmp/j",
            configuration: configuration,
            fileSystem: fileSystem,
            now: clock.now
        )
        for _ in 0..<6 { _ = try journal.append(makeDelivery(), kind: "k") }
        try journal.recordFinished(deliveryID: 1, outcome: .done)
        try journal.recordFinished(deliveryID: 2, outcome: .deadLettered)
        clock.advance(by: 3600)
        try journal.recordFinished(deliveryID: 3, outcome: .done)
        try journal.recordFinished(deliveryID: 4, outcome: .deadLettered)
        try journal.sync()
        let cutoff = clock.now().addingTimeInterval(-60)

        let invalid = #expect(throws: JournalError.self) {
            try journal.purge(states: [.pending], finishedBefore: cutoff)
        }
        #expect(invalid?.code == .invalidArgument)
        #expect(try journal.purge(states: [.deadLettered], finishedBefore: cutoff) == 1)
        #expect(try journal.entries().map(\.id) == [1, 3, 4, 5, 6])
        #expect(try journal.purge(finishedBefore: clock.now().addingTimeInterval(1)) == 3)
        #expect(try journal.entries().map(\.id) == [5, 6])

        fileSystem.simulateCrash()
        let recovered = try Journal.open(
            at: "/tmp/j",
            configuration: configuration,
            fileSystem: fileSystem,
            now: clock.now
        )
        #expect(try recovered.entries().map(\.id) == [5, 6])
        #expect(try recovered.append(makeDelivery(), kind: "k").record.id == 7)
    }

    /// With de-duplication on (the default window is as long as the retention), and off.
    @Test(arguments: [Duration.zero, .seconds(86_400)])
    func aNearlyFullJournalMakesRoomFromDeliveredDeliveriesOnly(deduplicationWindow: Duration) throws {
        let configuration = Journal.Configuration(
            segmentSize: 150,
            maximumSize: 2000,
            completedRetention: .seconds(3600),
            deduplicationWindow: deduplicationWindow
        )
        let journal = try Journal.open(at: "/tmp/j", configuration: configuration, fileSystem: InMemoryFileSystem())
        var ids: [UInt64] = []
        let error = #expect(throws: JournalError.self) {
            while true {
                let key: [UInt8]? = deduplicationWindow == .zero ? nil : Array("key \(ids.count)".utf8)
                ids.append(try journal.append(makeDelivery(), kind: "k", deduplicationKey: key).record.id)
            }
        }
        #expect(error?.code == .full)
        try journal.sync()
        // Half delivered, one dead-lettered, the rest pending: only the delivered ones may go.
        let delivered = Set(ids.prefix(ids.count / 2))
        for id in delivered { try journal.recordFinished(deliveryID: id, outcome: .done) }
        try journal.recordFinished(deliveryID: ids[ids.count / 2], outcome: .deadLettered)
        try journal.sync()
        let report = try journal.applyRetention()
        #expect(report.deliveriesRemoved > 0)
        let kept = Set(try journal.entries().map(\.id))
        #expect(kept.isSuperset(of: ids[(ids.count / 2)...]), "dead letters and pending deliveries stay")
        #expect(Set(ids).subtracting(kept).isSubset(of: delivered))
        _ = try journal.append(makeDelivery(), kind: "k")
        try journal.sync()
    }

    @Test func retentionRemovesFinishedSegmentsOnlyAfterTheirPeriod() throws {
        let clock = TestClock()
        let fileSystem = InMemoryFileSystem()
        let configuration = Journal.Configuration(
            segmentSize: 150,
            completedRetention: .seconds(3600),
            deadLetterRetention: .seconds(7200),
            deduplicationWindow: .zero
        )
        let journal = try Journal.open(
            at: "/tmp/j",
            configuration: configuration,
            fileSystem: fileSystem,
            now: clock.now
        )
        for _ in 0..<8 { _ = try journal.append(makeDelivery(), kind: "k") }
        for id in 1...4 { try journal.recordFinished(deliveryID: UInt64(id), outcome: id == 4 ? .deadLettered : .done) }
        try journal.sync()
        let bytesBefore = journal.statistics.bytes

        #expect(try journal.applyRetention() == RetentionReport())
        clock.advance(by: 3601)
        let first = try journal.applyRetention()
        #expect(first.deliveriesRemoved == 3)
        #expect(first.segmentsRemoved >= 3)
        #expect(journal.statistics.bytes == bytesBefore - first.bytesFreed)
        #expect(try journal.entries().map(\.id) == [4, 5, 6, 7, 8])
        clock.advance(by: 3600)
        #expect(try journal.applyRetention().deliveriesRemoved == 1)
        #expect(try journal.entries().map(\.id) == [5, 6, 7, 8])

        try journal.close()
        let reopened = try Journal.open(
            at: "/tmp/j",
            configuration: configuration,
            fileSystem: fileSystem,
            now: clock.now
        )
        #expect(try reopened.entries().map(\.id) == [5, 6, 7, 8])
        #expect(reopened.recoveryReport.isClean)
    }

    @Test func retentionCarriesForwardProgressOfDeliveriesKeptInOlderSegments() throws {
        let clock = TestClock()
        let fileSystem = InMemoryFileSystem()
        let configuration = Journal.Configuration(
            segmentSize: 150,
            completedRetention: .zero,
            deduplicationWindow: .zero
        )
        let journal = try Journal.open(
            at: "/tmp/j",
            configuration: configuration,
            fileSystem: fileSystem,
            now: clock.now
        )
        let pending = try journal.append(makeDelivery(body: "slow"), kind: "k").record.id
        let done = try journal.append(makeDelivery(body: "fast"), kind: "k").record.id
        try journal.recordAttempt(deliveryID: pending, progress: progress("crm", .succeeded))
        try journal.recordAttempt(deliveryID: pending, progress: progress("mail", .failed, error: "smtp down"))
        try journal.recordFinished(deliveryID: done, outcome: .done)
        for _ in 0..<4 { _ = try journal.append(makeDelivery(body: "filler"), kind: "k") }
        for id in 3...6 { try journal.recordFinished(deliveryID: UInt64(id), outcome: .done) }
        try journal.sync()

        clock.advance(by: 1)
        let report = try journal.applyRetention()
        #expect(report.segmentsRemoved >= 1)
        #expect(try journal.entries().map(\.id) == [pending])
        fileSystem.simulateCrash()

        let recovered = try Journal.open(
            at: "/tmp/j",
            configuration: configuration,
            fileSystem: fileSystem,
            now: clock.now
        )
        let progress = try #require(recovered.handlerProgress(for: pending))
        #expect(progress["crm"]?.status == .succeeded)
        #expect(progress["mail"]?.lastError == "smtp down")
        #expect(try recovered.entries().map(\.id) == [pending])
    }
}

// MARK: - Test support

/// A settable wall clock for retention and de-duplication windows.
final class TestClock: Sendable {
    private let current = Locked(Date(timeIntervalSinceReferenceDate: 800_000_000))

    var now: @Sendable () -> Date {
        { self.current.withLock { $0 } }
    }

    func advance(by seconds: Double) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}

func makeDelivery(
    body: String = #"{"event":"message/added"}"#,
    receivedAt: Date = Date(timeIntervalSinceReferenceDate: 800_000_000)
) -> Delivery {
    Delivery(
        target: "/message/added",
        headers: ["Content-Type": "application/json", "Prompt-EventType": "message/added"],
        body: Array(body.utf8),
        receivedAt: receivedAt
    )
}

func progress(_ handler: String, _ status: HandlerProgress.Status, attempts: Int = 1, error: String? = nil)
    -> HandlerProgress
{
    HandlerProgress(
        handler: handler,
        status: status,
        attempts: attempts,
        lastError: error,
        updatedAt: Date(timeIntervalSinceReferenceDate: 800_000_000)
    )
}

extension Journal.AppendResult {
    /// The appended record; fails the test (with an empty record) on a duplicate.
    var record: JournalRecord {
        guard case .appended(let record) = self else {
            Issue.record("expected an appended record, got \(self)")
            return JournalRecord(id: 0, kind: "", delivery: Delivery(target: "", body: []))
        }
        return record
    }
}

extension [UInt8] {
    func contains(_ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return needle.isEmpty }
        return (0...(count - needle.count)).contains { self[$0..<$0 + needle.count].elementsEqual(needle) }
    }
}
