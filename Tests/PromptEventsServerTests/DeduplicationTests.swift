import PromptEvents
import Testing

@testable import PromptEventsServer

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

@Suite struct DeduplicationTests {
    static let key = Array("message/added:0123456789abcdef0123456789abcdef".utf8)

    @Test func duplicateWithinTheWindowIsAcknowledgedButNotAppended() throws {
        let journal = try Journal.open(at: "/tmp/j", fileSystem: InMemoryFileSystem(), now: TestClock().now)
        let first = try journal.append(makeDelivery(), kind: "k", deduplicationKey: Self.key)
        #expect(
            try journal.append(makeDelivery(), kind: "k", deduplicationKey: Self.key) == .duplicate(of: first.record.id)
        )
        #expect(try journal.append(makeDelivery(), kind: "k", deduplicationKey: Array("other".utf8)).record.id == 2)
        #expect(try journal.append(makeDelivery(), kind: "k").record.id == 3)  // No key, no de-duplication.
        try journal.sync()
        #expect(try journal.entries().count == 3)
        #expect(journal.statistics.duplicates == 1)
    }

    @Test func windowSurvivesAReopen() throws {
        let fileSystem = InMemoryFileSystem()
        let clock = TestClock()
        let configuration = Journal.Configuration(deduplicationWindow: .seconds(600))
        let journal = try Journal.open(
            at: "/tmp/j",
            configuration: configuration,
            fileSystem: fileSystem,
            now: clock.now
        )
        _ = try journal.append(makeDelivery(receivedAt: clock.now()), kind: "k", deduplicationKey: Self.key)
        try journal.sync()
        try journal.close()

        clock.advance(by: 599)
        let reopened = try Journal.open(
            at: "/tmp/j",
            configuration: configuration,
            fileSystem: fileSystem,
            now: clock.now
        )
        #expect(try reopened.append(makeDelivery(), kind: "k", deduplicationKey: Self.key) == .duplicate(of: 1))
        try reopened.close()
    }

    @Test(arguments: [false, true])
    func keyExpiresAfterTheWindow(acrossReopen: Bool) throws {
        let fileSystem = InMemoryFileSystem()
        let clock = TestClock()
        let configuration = Journal.Configuration(deduplicationWindow: .seconds(600))
        var journal = try Journal.open(
            at: "/tmp/j",
            configuration: configuration,
            fileSystem: fileSystem,
            now: clock.now
        )
        _ = try journal.append(makeDelivery(receivedAt: clock.now()), kind: "k", deduplicationKey: Self.key)
        try journal.sync()
        clock.advance(by: 600)
        if acrossReopen {
            try journal.close()
            journal = try Journal.open(
                at: "/tmp/j",
                configuration: configuration,
                fileSystem: fileSystem,
                now: clock.now
            )
        }
        let again = try journal.append(makeDelivery(receivedAt: clock.now()), kind: "k", deduplicationKey: Self.key)
        #expect(again.record.id == 2)
        #expect(try journal.append(makeDelivery(), kind: "k", deduplicationKey: Self.key) == .duplicate(of: 2))
    }

    @Test func afterHandlersRemembersAKeyOnlyOnceItsHandlersSucceeded() throws {
        let fileSystem = InMemoryFileSystem()
        let journal = try Journal.open(at: "/tmp/j", fileSystem: fileSystem, now: TestClock().now)
        let deadKey = Array("dead".utf8)
        let first = try journal.append(
            makeDelivery(),
            kind: "k",
            deduplicationKey: Self.key,
            acknowledgement: .afterHandlers
        )
        let second = try journal.append(
            makeDelivery(),
            kind: "k",
            deduplicationKey: Self.key,
            acknowledgement: .afterHandlers
        )
        #expect(second.record.id == first.record.id + 1, "not remembered while the handlers run")
        let dead = try journal.append(
            makeDelivery(),
            kind: "k",
            deduplicationKey: deadKey,
            acknowledgement: .afterHandlers
        )

        try journal.recordFinished(deliveryID: first.record.id, outcome: .done)
        try journal.recordFinished(deliveryID: dead.record.id, outcome: .deadLettered)
        #expect(
            try journal.append(makeDelivery(), kind: "k", deduplicationKey: Self.key) == .duplicate(of: first.record.id)
        )
        let retried = try journal.append(
            makeDelivery(),
            kind: "k",
            deduplicationKey: deadKey,
            acknowledgement: .afterHandlers
        )
        #expect(retried.record.id == dead.record.id + 1, "a failed delivery's retry is accepted")
        try journal.sync()
        try journal.close()

        let reopened = try Journal.open(at: "/tmp/j", fileSystem: fileSystem, now: TestClock().now)
        #expect(
            try reopened.append(makeDelivery(), kind: "k", deduplicationKey: Self.key)
                == .duplicate(of: first.record.id)
        )
        #expect(try reopened.append(makeDelivery(), kind: "k", deduplicationKey: deadKey).record.id > retried.record.id)
    }

    @Test func afterHandlersWithTheDispatcher() async throws {
        let journal = try Journal.open(at: "/tmp/j", fileSystem: InMemoryFileSystem(), now: TestClock().now)
        let handlers = ScriptedHandlers(names: ["A"]) { _, record, _ in
            if record.body == Array("fails".utf8) { throw TestError("no") }
        }
        let dispatcher = Dispatcher(
            handlers: handlers,
            store: journal,
            configuration: DispatcherConfiguration(
                handlerTimeout: nil,
                retryPolicy: RetryPolicy(maximumAttempts: 1),
                retentionInterval: nil
            ),
            clock: RecordingClock()
        )
        try dispatcher.start()
        let failingKey = Array("failing".utf8)
        let ok = try journal.append(
            makeDelivery(body: "ok"),
            kind: "k",
            deduplicationKey: Self.key,
            acknowledgement: .afterHandlers
        )
        let failing = try journal.append(
            makeDelivery(body: "fails"),
            kind: "k",
            deduplicationKey: failingKey,
            acknowledgement: .afterHandlers
        )
        try journal.sync()
        #expect(await dispatcher.submit(ok.record) == .succeeded)
        #expect(
            await dispatcher.submit(failing.record) == .failed([HandlerFailure(handler: "A", error: "no", attempts: 1)])
        )
        #expect(
            try journal.append(
                makeDelivery(body: "ok"),
                kind: "k",
                deduplicationKey: Self.key,
                acknowledgement: .afterHandlers
            ) == .duplicate(of: ok.record.id)
        )
        #expect(
            try journal.append(
                makeDelivery(body: "fails"),
                kind: "k",
                deduplicationKey: failingKey,
                acknowledgement: .afterHandlers
            ).record.id == 3
        )
        await dispatcher.shutdown()
    }

    @Test func keysOfDeliveriesLostToAFailedSyncAreForgotten() throws {
        let fileSystem = InMemoryFileSystem()
        let journal = try Journal.open(at: "/tmp/j", fileSystem: fileSystem, now: TestClock().now)
        let lost = try journal.append(makeDelivery(), kind: "k", deduplicationKey: Self.key).record
        fileSystem.failNextSync(errno: ErrorNumber.io)
        let error = #expect(throws: JournalError.self) { try journal.sync() }
        #expect(error?.notDurable == [lost.id])
        let retry = try journal.append(makeDelivery(), kind: "k", deduplicationKey: Self.key)
        #expect(retry.record.id == lost.id + 1)
    }

    @Test func keyLongerThan64BytesIsRejected() throws {
        let journal = try Journal.open(at: "/tmp/j", fileSystem: InMemoryFileSystem(), now: TestClock().now)
        _ = try journal.append(makeDelivery(), kind: "k", deduplicationKey: Array(repeating: 7, count: 64))
        let error = #expect(throws: JournalError.self) {
            try journal.append(makeDelivery(), kind: "k", deduplicationKey: Array(repeating: 7, count: 65))
        }
        #expect(error?.code == .invalidArgument)
        let inMemory = #expect(throws: JournalError.self) {
            try journal.append(makeDelivery(), kind: "k", acknowledgement: .inMemory)
        }
        #expect(inMemory?.code == .invalidArgument)
    }

    @Test func indexRemembersForgetsAndExpires() {
        let start = Date(timeIntervalSinceReferenceDate: 0)
        var index = DeduplicationIndex(window: .seconds(10))
        index.remember([1], id: 1, receivedAt: start, now: start)
        index.remember([1], id: 2, receivedAt: start, now: start)  // First delivery wins.
        index.remember([2], id: 3, receivedAt: start.addingTimeInterval(5), now: start)
        index.remember([3], id: 4, receivedAt: start.addingTimeInterval(-20), now: start)  // Already expired.
        #expect(index.lookup([1], now: start.addingTimeInterval(9.9)) == 1)
        #expect(index.lookup([3], now: start) == nil)
        #expect(index.lookup([1], now: start.addingTimeInterval(10)) == nil)
        #expect(index.lookup([2], now: start.addingTimeInterval(10)) == 3)
        index.forget([2], id: 99)
        #expect(index.lookup([2], now: start.addingTimeInterval(10)) == 3)
        index.forget([2], id: 3)
        #expect(index.lookup([2], now: start.addingTimeInterval(10)) == nil)

        var disabled = DeduplicationIndex(window: .zero)
        disabled.remember([1], id: 1, receivedAt: start, now: start)
        #expect(disabled.lookup([1], now: start) == nil)
    }
}
