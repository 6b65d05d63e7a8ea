import Foundation
import PromptEvents
import Testing

@testable import PromptEventsServer

/// One contract, every conformer.
///
/// What the pipeline and the dispatcher rely on of a `DeliveryStore`, run against each conformer
/// this package has (the file journal, the in-memory store and PostgreSQL); a new conformer joins
/// `StoreKind` and must pass all of it. The PostgreSQL cases need the server `PostgresTestServer`
/// describes: without one they are left out (and a developer sees `PostgresStoreTests` skipped
/// with how to run them), under CI they fail.
@Suite struct DeliveryStoreConformanceTests {
    enum StoreKind: String, CaseIterable, Sendable {
        case fileJournal, inMemory, postgres

        /// Every kind this machine can test.
        static var available: [StoreKind] { allCases.filter { $0 != .postgres || PostgresTestServer.isEnabled } }
    }

    /// A store of `kind` with a settable clock, in a directory of its own.
    final class Subject {
        let store: any DeliveryStore
        let clock = TestClock()
        private let directory: TemporaryDirectory
        private var schema: String?

        init(_ kind: StoreKind, configure: (inout Journal.Configuration) -> Void = { _ in }) throws {
            directory = try TemporaryDirectory()
            var configuration = Journal.Configuration()
            configuration.droppedHeaderNames = ["X-Token"]
            configure(&configuration)
            switch kind {
            case .fileJournal:
                store = try Journal.open(
                    at: directory.path,
                    configuration: configuration,
                    fileSystem: POSIXFileSystem(),
                    now: clock.now
                )
            case .inMemory:
                store = InMemoryDeliveryStore(configuration: configuration, now: clock.now)
            case .postgres:
                let schema = PostgresTestServer.freshSchema()
                var postgres = PostgresDeliveryStore.Configuration(url: try PostgresTestServer.serverURL())
                postgres.schema = schema
                postgres.journal = configuration
                store = try PostgresDeliveryStore(configuration: postgres, now: clock.now)
                self.schema = schema
            }
        }

        deinit {
            try? store.close()
            if let schema { PostgresTestServer.drop(schema: schema) }
        }

        @discardableResult
        func append(
            _ body: String,
            kind: String = "message/added",
            key: String? = nil,
            acknowledgement: AcknowledgementMode = .durable,
            deadLetterReason: String? = nil
        ) throws -> Journal.AppendResult {
            try store.append(
                makeDelivery(body: body, receivedAt: clock.now()),
                kind: kind,
                deduplicationKey: key.map { Array($0.utf8) },
                acknowledgement: acknowledgement,
                deadLetterReason: deadLetterReason
            )
        }

        /// An append and its commit, with the commit's late duplicates folded in: what the
        /// sender of the delivery is finally told.
        func appendAndCommit(
            _ body: String,
            key: String? = nil,
            acknowledgement: AcknowledgementMode = .durable
        ) throws -> Journal.AppendResult {
            let result = try append(body, key: key, acknowledgement: acknowledgement)
            let report = try store.commit()
            if case .appended(let record) = result, let original = report.duplicates[record.id] {
                return .duplicate(of: original)
            }
            return result
        }

        func appendedID(_ body: String, kind: String = "message/added") throws -> UInt64 {
            guard case .appended(let record) = try append(body, kind: kind) else {
                throw JournalError(.invalidArgument, "expected an append")
            }
            return record.id
        }

        func progress(_ handler: String, _ status: HandlerProgress.Status, attempts: Int) -> HandlerProgress {
            HandlerProgress(
                handler: handler,
                status: status,
                attempts: attempts,
                lastError: nil,
                updatedAt: clock.now()
            )
        }
    }

    @Test(arguments: StoreKind.available)
    func appendsGetIncreasingIdsAndArePendingWithTheirExactBytes(_ kind: StoreKind) throws {
        let subject = try Subject(kind)
        let first = try subject.appendedID(#"{"n":1}"#)
        let second = try subject.appendedID(#"{"n":2}"#, kind: "customer/added")
        try subject.store.commit()
        #expect(second > first)
        let pending = try subject.store.pendingEntries()
        #expect(pending.map(\.record.id) == [first, second])
        #expect(pending.map { String(decoding: $0.record.body, as: UTF8.self) } == [#"{"n":1}"#, #"{"n":2}"#])
        #expect(pending.map(\.record.kind) == ["message/added", "customer/added"])
        #expect(pending.allSatisfy { $0.state == .pending && $0.handlers.isEmpty && $0.finishedAt == nil })
    }

    @Test(arguments: StoreKind.available)
    func secretHeadersAreNeverStored(_ kind: StoreKind) throws {
        let subject = try Subject(kind)
        var delivery = makeDelivery()
        delivery.headers.append(name: "authorization", value: "Basic cHJvbXB0OnMzY3JldA==")
        delivery.headers.append(name: "x-token", value: "secret")
        _ = try subject.store.append(
            delivery,
            kind: "message/added",
            deduplicationKey: nil,
            acknowledgement: .durable,
            deadLetterReason: nil
        )
        try subject.store.commit()
        let stored = try #require(try subject.store.pendingEntries().first).record.headers
        #expect(stored["Authorization"] == nil)
        #expect(stored["X-Token"] == nil)
        #expect(stored["Content-Type"] == "application/json")
    }

    @Test(arguments: StoreKind.available)
    func aRepeatedKeyIsReportedAsADuplicateOfTheOriginal(_ kind: StoreKind) throws {
        let subject = try Subject(kind)
        guard case .appended(let original) = try subject.append("{}", key: "k") else {
            Issue.record("the first append was not appended")
            return
        }
        // In the same group, and in a later one.
        #expect(try subject.append("{}", key: "k") == .duplicate(of: original.id))
        try subject.store.commit()
        #expect(try subject.appendAndCommit("{}", key: "k") == .duplicate(of: original.id))
        #expect(try subject.store.pendingEntries().count == 1)
        // Past the window, the key is new again.
        subject.clock.advance(by: 24 * 3600 + 1)
        guard case .appended = try subject.appendAndCommit("{}", key: "k") else {
            Issue.record("a key past its window was still a duplicate")
            return
        }
    }

    @Test(arguments: StoreKind.available)
    func afterHandlersAKeyCountsOnlyOnceItsDeliveryIsDone(_ kind: StoreKind) throws {
        let subject = try Subject(kind)
        let first = try subject.appendAndCommit("{}", key: "k", acknowledgement: .afterHandlers)
        guard case .appended(let record) = first else {
            Issue.record("not appended")
            return
        }
        // Not done yet: a retry is appended again (its sender never heard 2xx).
        guard case .appended = try subject.appendAndCommit("{}", key: "k", acknowledgement: .afterHandlers) else {
            Issue.record("a key counted before its delivery was done")
            return
        }
        try subject.store.recordFinished(deliveryID: record.id, outcome: .done)
        try subject.store.commitProgress()
        #expect(
            try subject.appendAndCommit("{}", key: "k", acknowledgement: .afterHandlers) == .duplicate(of: record.id)
        )
    }

    @Test(arguments: StoreKind.available)
    func aDeadLetterIsStoredButNeverPending(_ kind: StoreKind) throws {
        let subject = try Subject(kind)
        try subject.append("not json", deadLetterReason: "body is not a JSON object")
        try subject.store.commit()
        #expect(try subject.store.pendingEntries().isEmpty)
        var query = JournalQuery()
        query.states = [.deadLettered]
        let dead = try subject.store.entries(matching: query)
        #expect(dead.map(\.record.deadLetterReason) == ["body is not a JSON object"])
        #expect(dead.first?.finishedAt != nil)
    }

    @Test(arguments: StoreKind.available)
    func progressIsKeptPerHandlerUntilTheDeliveryIsDone(_ kind: StoreKind) throws {
        let subject = try Subject(kind)
        let id = try subject.appendedID("{}")
        try subject.store.commit()
        try subject.store.recordAttempt(deliveryID: id, progress: subject.progress("mail", .failed, attempts: 1))
        try subject.store.recordAttempt(deliveryID: id, progress: subject.progress("print", .succeeded, attempts: 1))
        try subject.store.recordAttempt(deliveryID: id, progress: subject.progress("mail", .succeeded, attempts: 2))
        try subject.store.commitProgress()
        let progress = try #require(subject.store.handlerProgress(for: id))
        #expect(progress.mapValues(\.attempts) == ["mail": 2, "print": 1])
        #expect(try subject.store.pendingEntries().first?.handlers.map(\.handler) == ["mail", "print"])
        // Unknown ids are ignored, not errors.
        try subject.store.recordAttempt(deliveryID: id + 100, progress: subject.progress("mail", .failed, attempts: 1))
        #expect(subject.store.handlerProgress(for: id + 100) == nil)

        try subject.store.recordFinished(deliveryID: id, outcome: .done)
        try subject.store.commitProgress()
        #expect(try subject.store.pendingEntries().isEmpty)
        var query = JournalQuery()
        query.ids = [id]
        #expect(try subject.store.entries(matching: query).map(\.state) == [.done])
        // Every handler succeeded: a done delivery's progress is not kept (memory per retained delivery).
        #expect(try subject.store.entries(matching: query).first?.handlers.isEmpty == true)
    }

    @Test(arguments: StoreKind.available)
    func requeueRunsFinishedDeliveriesAgainAndSkipsPendingOnes(_ kind: StoreKind) throws {
        let subject = try Subject(kind)
        let done = try subject.appendedID(#"{"n":1}"#)
        let dead = try subject.appendedID(#"{"n":2}"#)
        let pending = try subject.appendedID(#"{"n":3}"#)
        try subject.store.commit()
        try subject.store.recordAttempt(
            deliveryID: dead,
            progress: subject.progress("mail", .deadLettered, attempts: 5)
        )
        try subject.store.recordFinished(deliveryID: done, outcome: .done)
        try subject.store.recordFinished(deliveryID: dead, outcome: .deadLettered)
        let requeued = try subject.store.requeue(ids: [pending, dead, done, 999])
        #expect(requeued.map(\.id) == [done, dead])
        let entries = try subject.store.pendingEntries()
        #expect(entries.map(\.record.id) == [done, dead, pending])
        #expect(entries.allSatisfy { $0.handlers.isEmpty && $0.finishedAt == nil })
    }

    @Test(arguments: StoreKind.available)
    func entriesMatchTheirQuery(_ kind: StoreKind) throws {
        let subject = try Subject(kind)
        let a = try subject.appendedID("{}", kind: "message/added")
        subject.clock.advance(by: 60)
        let b = try subject.appendedID("{}", kind: "customer/added")
        let c = try subject.appendedID("{}", kind: "message/added")
        try subject.store.commit()
        try subject.store.recordFinished(deliveryID: c, outcome: .done)
        try subject.store.commitProgress()
        func ids(_ configure: (inout JournalQuery) -> Void) throws -> [UInt64] {
            var query = JournalQuery()
            configure(&query)
            return try subject.store.entries(matching: query).map(\.record.id)
        }
        #expect(try ids { _ in } == [a, b, c])
        #expect(try ids { $0.kinds = ["message/added"] } == [a, c])
        #expect(try ids { $0.states = [.pending] } == [a, b])
        #expect(try ids { $0.ids = [b, c] } == [b, c])
        #expect(try ids { $0.limit = 2 } == [a, b])
        let start = Date(timeIntervalSinceReferenceDate: 800_000_030)
        #expect(try ids { $0.received = start..<start.addingTimeInterval(3600) } == [b, c])
    }

    @Test(arguments: StoreKind.available)
    func retentionKeepsPendingDeliveries(_ kind: StoreKind) throws {
        let subject = try Subject(kind) { $0.segmentSize = 1 }
        let pending = try subject.appendedID("{}")
        try subject.store.commit()
        subject.clock.advance(by: 30 * 24 * 3600)
        _ = try subject.store.applyRetention()
        #expect(try subject.store.pendingEntries().map(\.record.id) == [pending])
    }

    @Test(arguments: StoreKind.available)
    func purgeRemovesFinishedDeliveriesOfTheGivenStatesOnly(_ kind: StoreKind) throws {
        let subject = try Subject(kind)
        let done = try subject.appendedID(#"{"n":1}"#)
        let dead = try subject.appendedID(#"{"n":2}"#)
        let pending = try subject.appendedID(#"{"n":3}"#)
        try subject.store.commit()
        try subject.store.recordFinished(deliveryID: done, outcome: .done)
        try subject.store.recordFinished(deliveryID: dead, outcome: .deadLettered)
        try subject.store.commitProgress()
        #expect(throws: JournalError.self) {
            try subject.store.purge(states: [.pending], finishedBefore: subject.clock.now().addingTimeInterval(1))
        }
        // Finished at the clock's time: not before it.
        #expect(try subject.store.purge(states: [.done], finishedBefore: subject.clock.now()) == 0)
        subject.clock.advance(by: 1)
        #expect(try subject.store.purge(states: [.done], finishedBefore: subject.clock.now()) == 1)
        #expect(try subject.store.entries(matching: JournalQuery()).map(\.id) == [dead, pending])
        #expect(try subject.store.purge(states: [.done, .deadLettered], finishedBefore: subject.clock.now()) == 1)
        #expect(try subject.store.entries(matching: JournalQuery()).map(\.id) == [pending])
    }

    @Test(arguments: StoreKind.available)
    func badArgumentsAndAClosedStoreAreRefused(_ kind: StoreKind) throws {
        let subject = try Subject(kind)
        #expect(throws: JournalError.self) { try subject.append("{}", key: String(repeating: "k", count: 65)) }
        #expect(throws: JournalError.self) { try subject.append("{}", acknowledgement: .inMemory) }
        try subject.store.close()
        #expect(throws: JournalError.self) { try subject.append("{}") }
    }
}
