import PromptEvents
import Testing

@testable import PromptEventsServer

@Suite struct DispatcherTests {
    /// No timeout, no retention loop, a clock that records and does not wait.
    static func configuration(
        attempts: Int = 5,
        base: Duration = .milliseconds(100),
        cap: Duration = .milliseconds(300),
        concurrency: Int = 4,
        timeout: Duration? = nil
    ) -> DispatcherConfiguration {
        DispatcherConfiguration(
            maximumConcurrentHandlers: concurrency,
            handlerTimeout: timeout,
            retryPolicy: RetryPolicy(maximumAttempts: attempts, baseDelay: base, maximumDelay: cap),
            progressSyncDelay: .milliseconds(1),
            retentionInterval: nil
        )
    }

    @Test func handlerThatSucceededDoesNotRunAgainWhenAnotherFails() async throws {
        let fileSystem = InMemoryFileSystem()
        let journal = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        let handlers = ScriptedHandlers(names: ["A", "B"]) { name, _, attempt in
            if name == "B" && attempt <= 2 { throw TestError("B failed \(attempt)") }
        }
        let dispatcher = Dispatcher(
            handlers: handlers,
            store: journal,
            configuration: Self.configuration(),
            clock: RecordingClock(),
            random: { 0.5 }
        )
        try dispatcher.start()
        let record = try journal.append(makeDelivery(), kind: "message/added").record
        try journal.sync()

        #expect(await dispatcher.submit(record) == .succeeded)
        #expect(handlers.runs("A") == 1)
        #expect(handlers.runs("B") == 3)
        #expect(try journal.entry(id: record.id)?.state == .done)
        await dispatcher.shutdown()
        // The server's index drops a done delivery's progress; the records on disk keep it.
        #expect(journal.handlerProgress(for: record.id) == [:])
        let inspected = try Journal.open(at: "/tmp/j", access: .readOnly, fileSystem: fileSystem)
        let progress = try #require(try inspected.entry(id: record.id)?.handlers)
        #expect(progress.map(\.handler) == ["A", "B"])
        #expect(progress.map(\.status) == [.succeeded, .succeeded])
        #expect(progress.map(\.attempts) == [1, 3])
    }

    @Test func retriesFollowExponentialBackoffWithFullJitter() async throws {
        let clock = RecordingClock()
        let randoms = RandomSequence([0.5, 0.25, 0.75, 0.5])
        let handlers = ScriptedHandlers(names: ["B"]) { _, _, attempt in
            if attempt <= 4 { throw TestError("attempt \(attempt)") }
        }
        let journal = try Journal.open(at: "/tmp/j", fileSystem: InMemoryFileSystem())
        let dispatcher = Dispatcher(
            handlers: handlers,
            store: journal,
            configuration: Self.configuration(attempts: 5),
            metrics: Metrics(),
            clock: clock,
            random: randoms.next
        )
        try dispatcher.start()
        let record = try journal.append(makeDelivery(), kind: "k").record
        #expect(await dispatcher.submit(record) == .succeeded)
        // Ceilings 100, 200, 300 (capped from 400), 300 ms, scaled by 0.5, 0.25, 0.75, 0.5.
        #expect(clock.sleeps == [.milliseconds(50), .milliseconds(50), .milliseconds(225), .milliseconds(150)])
        await dispatcher.shutdown()
    }

    static let ceilings: [(attempt: Int, seconds: Int64)] = [
        (1, 1), (2, 2), (3, 4), (4, 8), (5, 10), (6, 10), (64, 10), (1000, 10),
    ]

    @Test(arguments: ceilings.indices)
    func backoffCeilingDoublesUpToTheCap(index: Int) {
        let policy = RetryPolicy(maximumAttempts: 10, baseDelay: .seconds(1), maximumDelay: .seconds(10))
        let (attempt, seconds) = Self.ceilings[index]
        #expect(policy.ceiling(afterAttempt: attempt) == .seconds(seconds))
        #expect(policy.delay(afterAttempt: attempt, random: 0) == .zero)
        #expect(policy.delay(afterAttempt: attempt, random: 0.5) == .seconds(seconds) / 2)
        #expect(policy.delay(afterAttempt: attempt, random: 0.999_999) < .seconds(seconds))
    }

    @Test func handlerIsDeadLetteredAfterItsLastAttemptWithTheLastError() async throws {
        let fileSystem = InMemoryFileSystem()
        let metrics = Metrics()
        let journal = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        let handlers = ScriptedHandlers(names: ["crm", "log"]) { name, _, attempt in
            if name == "crm" { throw TestError("crm said no (\(attempt))") }
        }
        let dispatcher = Dispatcher(
            handlers: handlers,
            store: journal,
            configuration: Self.configuration(attempts: 3),
            metrics: metrics,
            clock: RecordingClock(),
            random: { 0 }
        )
        try dispatcher.start()
        let record = try journal.append(makeDelivery(), kind: "k").record
        try journal.sync()

        let outcome = await dispatcher.submit(record)
        #expect(outcome == .failed([HandlerFailure(handler: "crm", error: "crm said no (3)", attempts: 3)]))
        #expect(handlers.runs("crm") == 3)
        #expect(handlers.runs("log") == 1)
        let entry = try #require(try journal.entry(id: record.id))
        #expect(entry.state == .deadLettered)
        #expect(entry.deadLetterReason == "crm said no (3)")
        #expect(entry.handlers.map(\.status) == [.deadLettered, .succeeded])
        #expect(metrics.snapshot.retried == 2)
        #expect(metrics.snapshot.deadLettered == 1)
        #expect(metrics.snapshot.dispatched == 1)
        await dispatcher.shutdown()
        try journal.close()

        let reopened = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        #expect(try reopened.pendingEntries().isEmpty)
        #expect(try reopened.entry(id: record.id)?.deadLetterReason == "crm said no (3)")
    }

    @Test func attemptOverItsTimeBudgetCountsAsFailureAndIsCancelled() async throws {
        let metrics = Metrics()
        let cancelled = Locked(0)
        let handlers = ScriptedHandlers(names: ["slow"]) { _, _, _ in
            do {
                try await Task.sleep(for: .seconds(3600))
            } catch {
                cancelled.withLock { $0 += 1 }
                throw error
            }
        }
        let journal = try Journal.open(at: "/tmp/j", fileSystem: InMemoryFileSystem())
        let dispatcher = Dispatcher(
            handlers: handlers,
            store: journal,
            configuration: Self.configuration(attempts: 2, timeout: .seconds(2)),
            metrics: metrics,
            clock: RecordingClock(),
            random: { 0.5 }
        )
        try dispatcher.start()
        let record = try journal.append(makeDelivery(), kind: "k").record
        let outcome = await dispatcher.submit(record)
        #expect(
            outcome == .failed([HandlerFailure(handler: "slow", error: "timed out after 2.0 seconds", attempts: 2)])
        )
        #expect(metrics.snapshot.timeouts == 2)
        await dispatcher.waitUntilIdle()
        try await waitUntil { cancelled.withLock { $0 } == 2 }
        await dispatcher.shutdown()
    }

    @Test func deliveriesResumedAtStartDoNotCountAsBacklog() async throws {
        let gate = Gate()
        let handlers = ScriptedHandlers(names: ["stuck"]) { _, _, _ in await gate.wait() }
        let journal = try Journal.open(at: "/tmp/j", fileSystem: InMemoryFileSystem())
        for _ in 0..<3 { _ = try journal.append(makeDelivery(), kind: "k") }
        try journal.sync()
        let dispatcher = Dispatcher(
            handlers: handlers,
            store: journal,
            configuration: Self.configuration(attempts: 1),
            clock: RecordingClock(),
            random: { 0 }
        )
        try dispatcher.start()
        #expect(dispatcher.backlog == 0, "three pending deliveries resumed: not new work")
        let fresh = try journal.append(makeDelivery(body: "fresh"), kind: "k").record
        try journal.sync()
        #expect(dispatcher.enqueue(fresh))
        #expect(dispatcher.backlog == 1)
        gate.open()
        await dispatcher.waitUntilIdle()
        #expect(dispatcher.backlog == 0)
        await dispatcher.shutdown()
    }

    @Test func backlogWatcherFiresOnceWhenTheBacklogFallsToItsLimit() async throws {
        let gates = (0..<3).map { _ in Gate() }
        let handlers = ScriptedHandlers(names: ["h"]) { _, record, _ in await gates[Int(record.id - 1)].wait() }
        let dispatcher = Dispatcher(
            handlers: handlers,
            store: nil,
            configuration: Self.configuration(concurrency: 3),
            clock: RecordingClock()
        )
        try dispatcher.start()
        for _ in 0..<3 { #expect(dispatcher.enqueue(dispatcher.makeEphemeralRecord(for: makeDelivery(), kind: "k"))) }
        let fired = Locked(0)
        dispatcher.whenBacklog(atMost: 1) { fired.withLock { $0 += 1 } }
        gates[0].open()
        try await waitUntil { dispatcher.backlog == 2 }
        #expect(fired.value == 0)
        gates[1].open()
        try await waitUntil { fired.value == 1 }
        gates[2].open()
        await dispatcher.waitUntilIdle()
        #expect(fired.value == 1, "once, not again at 0")
        // Already at the limit: at once.
        dispatcher.whenBacklog(atMost: 0) { fired.withLock { $0 += 1 } }
        #expect(fired.value == 2)
        await dispatcher.shutdown()
    }

    @Test func realClockDeadlinesFireOnceAndCancelledOnesAreForgotten() async throws {
        let clock = ContinuousDispatcherClock()
        let fired = Locked<[Int]>([])
        let start = ContinuousClock.now
        _ = clock.deadline(after: .milliseconds(30)) { fired.withLock { $0.append(1) } }
        let cancel = clock.deadline(after: .milliseconds(30)) { fired.withLock { $0.append(2) } }
        cancel()
        // A busy server: many attempts finish long before their budget; none may linger.
        for _ in 0..<10_000 {
            let cancelAtOnce = clock.deadline(after: .seconds(30)) {}
            cancelAtOnce()
        }
        #expect(clock.pendingDeadlines == 1)
        try await waitUntil { fired.withLock { $0 } == [1] }
        #expect(ContinuousClock.now - start >= .milliseconds(30))
        try await Task.sleep(for: .milliseconds(50))
        #expect(fired.withLock { $0 } == [1])
        #expect(clock.pendingDeadlines == 0)
    }

    @Test func timedOutHandlerKeepsItsSlotUntilItReturns() async throws {
        let gate = Gate()
        let handlers = ScriptedHandlers(
            names: { $0.body == Array("stuck".utf8) ? ["stubborn"] : ["quick"] },
            behaviour: { name, _, _ in
                if name == "stubborn" { await gate.wait() }  // Ignores cancellation.
            }
        )
        let dispatcher = Dispatcher(
            handlers: handlers,
            store: nil,
            configuration: Self.configuration(attempts: 1, concurrency: 1, timeout: .seconds(1)),
            clock: RecordingClock(),
            random: { 0 }
        )
        try dispatcher.start()
        let stuck = dispatcher.makeEphemeralRecord(for: makeDelivery(body: "stuck"), kind: "k")
        let outcome = await dispatcher.submit(stuck)
        #expect(
            outcome == .failed([HandlerFailure(handler: "stubborn", error: "timed out after 1.0 seconds", attempts: 1)])
        )

        let quick = dispatcher.makeEphemeralRecord(for: makeDelivery(body: "quick"), kind: "k")
        #expect(quick.id == stuck.id + 1)
        #expect(dispatcher.enqueue(quick))
        try await Task.sleep(for: .milliseconds(100))
        #expect(handlers.runs("quick") == 0, "the timed-out handler still holds the only slot")
        gate.open()
        await dispatcher.waitUntilIdle()
        #expect(handlers.runs("quick") == 1)
        await dispatcher.shutdown()
    }

    @Test(arguments: [1, 2, 3])
    func concurrencyBoundIsRespected(bound: Int) async throws {
        let running = Locked((now: 0, most: 0))
        let handlers = ScriptedHandlers(names: ["a", "b"]) { _, _, _ in
            running.withLock {
                $0.now += 1
                $0.most = max($0.most, $0.now)
            }
            try await Task.sleep(for: .milliseconds(15))
            running.withLock { $0.now -= 1 }
        }
        let journal = try Journal.open(at: "/tmp/j", fileSystem: InMemoryFileSystem())
        let dispatcher = Dispatcher(
            handlers: handlers,
            store: journal,
            configuration: Self.configuration(concurrency: bound),
            clock: RecordingClock()
        )
        try dispatcher.start()
        for _ in 0..<6 {
            #expect(dispatcher.enqueue(try journal.append(makeDelivery(), kind: "k").record))
        }
        await dispatcher.waitUntilIdle()
        #expect(running.withLock { $0.most } == bound)
        #expect(handlers.runs("a") + handlers.runs("b") == 12)
        #expect(journal.statistics.done == 6)
        await dispatcher.shutdown()
    }

    @Test func restartRunsOnlyTheHandlersThatHaveNotFinished() async throws {
        let fileSystem = InMemoryFileSystem()
        var journal = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        let first = ScriptedHandlers(names: ["A", "B", "C"]) { name, _, _ in
            if name == "B" { throw TestError("B is down") }
            if name == "C" { throw TestError("C is gone for good") }
        }
        var dispatcher = Dispatcher(
            handlers: first,
            store: journal,
            configuration: Self.configuration(attempts: 3),
            clock: SuspendingClock()
        )
        try dispatcher.start()
        let record = try journal.append(makeDelivery(), kind: "k").record
        try journal.sync()
        #expect(dispatcher.enqueue(record))
        try await waitUntil {
            let progress = journal.handlerProgress(for: record.id)
            return progress?["A"]?.status == .succeeded && progress?["B"]?.status == .failed
                && progress?["C"]?.status == .failed
        }
        try journal.recordAttempt(
            deliveryID: record.id,
            progress: progress("C", .deadLettered, attempts: 3, error: "gone")
        )
        await dispatcher.shutdown(gracePeriod: .seconds(1))
        try journal.close()

        journal = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        #expect(try journal.pendingEntries().map(\.id) == [record.id])
        let second = ScriptedHandlers(names: ["A", "B", "C"]) { _, _, _ in }
        dispatcher = Dispatcher(
            handlers: second,
            store: journal,
            configuration: Self.configuration(attempts: 3),
            clock: RecordingClock()
        )
        try dispatcher.start()
        await dispatcher.waitUntilIdle()
        #expect(first.runs("A") == 1)
        #expect(second.runs("A") == 0)
        #expect(second.runs("B") == 1)
        #expect(second.runs("C") == 0)
        let entry = try #require(try journal.entry(id: record.id))
        #expect(entry.handlers.map(\.attempts) == [1, 2, 3])
        #expect(entry.state == .deadLettered)
        await dispatcher.shutdown()
    }

    @Test func progressIsSyncedPromptlyWithoutAnotherGroupCommit() async throws {
        let fileSystem = InMemoryFileSystem()
        let journal = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        let handlers = ScriptedHandlers(names: ["A"]) { _, _, _ in }
        let dispatcher = Dispatcher(
            handlers: handlers,
            store: journal,
            configuration: Self.configuration(),
            clock: RecordingClock()
        )
        try dispatcher.start()
        let record = try journal.append(makeDelivery(), kind: "k").record
        try journal.sync()
        #expect(dispatcher.enqueue(record))
        await dispatcher.waitUntilIdle()
        try await waitUntil { journal.statistics.syncedRecords >= 3 }  // delivery, attempt, finished
        fileSystem.simulateCrash()
        await dispatcher.shutdown()

        let recovered = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        #expect(try recovered.entry(id: record.id)?.state == .done)
        #expect(try recovered.pendingEntries().isEmpty)
    }

    @Test func replayRunsFinishedDeliveriesAgainUnderTheSameId() async throws {
        let journal = try Journal.open(at: "/tmp/j", fileSystem: InMemoryFileSystem())
        let seen = Locked<[UInt64]>([])
        let handlers = ScriptedHandlers(names: ["A"]) { _, record, _ in seen.withLock { $0.append(record.id) } }
        let dispatcher = Dispatcher(
            handlers: handlers,
            store: journal,
            configuration: Self.configuration(),
            clock: RecordingClock()
        )
        try dispatcher.start()
        let done = try journal.append(makeDelivery(), kind: "k").record
        let dead = try journal.append(makeDelivery(body: "oops"), kind: "k", deadLetterReason: "not JSON").record
        try journal.sync()
        #expect(await dispatcher.submit(done) == .succeeded)

        #expect(try dispatcher.replay(ids: [done.id, dead.id]) == [done.id, dead.id])
        await dispatcher.waitUntilIdle()
        #expect(seen.withLock { $0 }.sorted() == [done.id, done.id, dead.id])
        #expect(try journal.entry(id: dead.id)?.state == .done)
        await dispatcher.shutdown()
    }

    @Test func deliveryWithoutMatchingHandlersIsDone() async throws {
        let journal = try Journal.open(at: "/tmp/j", fileSystem: InMemoryFileSystem())
        let dispatcher = Dispatcher(
            handlers: ScriptedHandlers(names: []) { _, _, _ in },
            store: journal,
            configuration: Self.configuration(),
            clock: RecordingClock()
        )
        try dispatcher.start()
        let record = try journal.append(makeDelivery(), kind: "k").record
        #expect(await dispatcher.submit(record) == .succeeded)
        #expect(try journal.entry(id: record.id)?.state == .done)
        await dispatcher.shutdown()
    }

    @Test func deadLettersJournaledOnArrivalAreNotDispatched() async throws {
        let fileSystem = InMemoryFileSystem()
        let journal = try Journal.open(at: "/tmp/j", fileSystem: fileSystem)
        _ = try journal.append(makeDelivery(body: "<xml/>"), kind: "k", deadLetterReason: "not a JSON object")
        let pending = try journal.append(makeDelivery(), kind: "k").record
        try journal.sync()
        let handlers = ScriptedHandlers(names: ["A"]) { _, _, _ in }
        let dispatcher = Dispatcher(
            handlers: handlers,
            store: journal,
            configuration: Self.configuration(),
            clock: RecordingClock()
        )
        try dispatcher.start()
        await dispatcher.waitUntilIdle()
        #expect(handlers.runs("A") == 1)
        #expect(try journal.entry(id: pending.id)?.state == .done)
        await dispatcher.shutdown()
    }

    @Test func submitAfterShutdownIsInterrupted() async throws {
        let dispatcher = Dispatcher(
            handlers: ScriptedHandlers(names: ["A"]) { _, _, _ in },
            store: nil,
            configuration: Self.configuration(),
            clock: RecordingClock()
        )
        try dispatcher.start()
        await dispatcher.shutdown()
        let record = dispatcher.makeEphemeralRecord(for: makeDelivery(), kind: "k")
        #expect(await dispatcher.submit(record) == .interrupted)
        #expect(!dispatcher.enqueue(record))
    }
}

// MARK: - Test support

struct TestError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Handlers whose names and behaviour are closures; counts runs per handler name.
final class ScriptedHandlers: DeliveryHandlers {
    private let names: @Sendable (JournalRecord) -> [String]
    private let behaviour: @Sendable (String, JournalRecord, Int) async throws -> Void
    private let counts = Locked<[String: Int]>([:])

    init(
        names: @escaping @Sendable (JournalRecord) -> [String],
        behaviour: @escaping @Sendable (String, JournalRecord, Int) async throws -> Void
    ) {
        self.names = names
        self.behaviour = behaviour
    }

    convenience init(names: [String], behaviour: @escaping @Sendable (String, JournalRecord, Int) async throws -> Void)
    {
        self.init(names: { _ in names }, behaviour: behaviour)
    }

    func runs(_ name: String) -> Int {
        counts.withLock { $0[name, default: 0] }
    }

    func handlerNames(for record: JournalRecord) -> [String] {
        names(record)
    }

    func run(handler name: String, record: JournalRecord, event: AnyEvent?) async throws {
        let attempt = counts.withLock { counts in
            counts[name, default: 0] += 1
            return counts[name, default: 0]
        }
        try await behaviour(name, record, attempt)
    }
}

/// Records every requested sleep and returns at once.
final class RecordingClock: DispatcherClock {
    private let recorded = Locked<[Duration]>([])

    var sleeps: [Duration] { recorded.withLock { $0 } }

    func sleep(for duration: Duration) async throws {
        recorded.withLock { $0.append(duration) }
        try Task.checkCancellation()
        await Task.yield()
    }
}

/// Sleeps until cancelled, whatever the duration.
struct SuspendingClock: DispatcherClock {
    func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: .seconds(86_400))
    }
}

/// Returns the given values in turn, then the last one forever.
final class RandomSequence: Sendable {
    private let values: Locked<[Double]>

    init(_ values: [Double]) {
        self.values = Locked(values)
    }

    var next: @Sendable () -> Double {
        {
            self.values.withLock { values in values.count > 1 ? values.removeFirst() : values.first ?? 0 }
        }
    }
}
