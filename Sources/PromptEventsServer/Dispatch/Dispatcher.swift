import Dispatch
package import PromptEvents
import Synchronization

/// Runs the registered handlers for each journaled delivery, with retries, backoff, a time budget
/// per attempt and a bound on concurrency.
///
/// ## Contract
///
/// - **At least once.** Every journaled delivery runs every matching handler (as named by
///   ``DeliveryHandlers/handlerNames(for:)``) at least once, across crashes and restarts:
///   ``start()`` resumes every pending delivery from the journal.
/// - **Progress per handler.** Each attempt's outcome is journaled per (delivery id, handler
///   name). A handler that succeeded does not run again because another handler of the same
///   delivery failed, nor after a restart.
/// - **Retries.** A failed attempt is retried after a delay drawn with exponential backoff and
///   full jitter (``RetryPolicy``), up to ``RetryPolicy/maximumAttempts``; then that
///   (delivery, handler) pair is dead-lettered with the last error, and the delivery's state
///   becomes ``JournalRecord/State/deadLettered`` once its other handlers have finished.
/// - **The one window for a second run.** Between a handler returning and its progress record
///   reaching disk, a crash makes that handler run again after the restart. The window is kept
///   small: progress records are synced at most ``DispatcherConfiguration/progressSyncDelay``
///   (default 5 ms) after they are written, or earlier by the server's next group commit. Make
///   handlers idempotent with ``JournalRecord/id``, which is the same on every attempt and replay.
/// - **Time budgets.** An attempt exceeding ``DispatcherConfiguration/handlerTimeout`` counts as
///   failed (and is retried) and its task is cancelled. Cancellation is cooperative: a Swift task
///   cannot be killed, so a handler that ignores it keeps running, and keeps counting against
///   ``DispatcherConfiguration/maximumConcurrentHandlers`` until it returns.
/// - **No ordering** between deliveries, nor between the handlers of one delivery, which run
///   concurrently.
///
/// Hand records over after ``Journal/sync()`` returned: ``enqueue(_:)`` for
/// ``AcknowledgementMode/durable``, ``submit(_:)`` to await the outcome for
/// ``AcknowledgementMode/afterHandlers``. Without a journal (``AcknowledgementMode/inMemory``),
/// progress lives in memory only.
package final class Dispatcher: Sendable {
    private struct Job: Sendable {
        var record: JournalRecord
        var progress: [String: HandlerProgress]
        /// The event as the server already parsed it, when it hands the record over itself.
        var event: AnyEvent? = nil
    }

    private enum Phase {
        case idle
        case running
        case stopped
    }

    private struct State {
        var phase = Phase.idle
        /// Jobs go over in batches: one wake-up of the root task per batch, not per job.
        var jobs: AsyncStream<[Job]>.Continuation?
        var progressSyncRequests: AsyncStream<Void>.Continuation?
        var root: Task<Void, Never>?
        var inFlight: Set<UInt64> = []
        /// The in-flight deliveries resumed from the journal by ``start(resumingPending:)``.
        var resumed: Set<UInt64> = []
        /// What ``Dispatcher/backlog`` reports.
        var backlog: Int { inFlight.count - resumed.count }
        var waiters: [UInt64: [CheckedContinuation<DeliveryOutcome, Never>]] = [:]
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
        var runningHandlers: [UInt64: Task<Void, Never>] = [:]
        var finishedHandlers: Set<UInt64> = []
        var nextEphemeralID: UInt64 = 1
    }

    private enum AttemptResult: Sendable {
        case succeeded
        case failed(String)
        case timedOut(String)
        case interrupted
    }

    private enum HandlerResult: Sendable {
        case succeeded
        case deadLettered(HandlerFailure)
    }

    /// How handlers are run.
    package let configuration: DispatcherConfiguration
    private let handlers: any DeliveryHandlers
    private let journal: Journal?
    private let metrics: Metrics?
    private let clock: any DispatcherClock
    private let random: @Sendable () -> Double
    private let permits: AsyncSemaphore
    private let state = Mutex(State())
    /// `state.backlog`, readable without the lock.
    private let inFlightCount = Atomic(0)
    private let nextHandlerToken = Atomic<UInt64>(0)
    private let ioQueue = DispatchQueue(label: "PromptEventsServer.Dispatcher.journal")

    /// Creates a dispatcher; call ``start()`` before handing it records.
    ///
    /// - Parameters:
    ///   - handlers: The handlers to run.
    ///   - journal: The journal to record progress in and resume from, or `nil` for
    ///     ``AcknowledgementMode/inMemory``.
    ///   - configuration: Concurrency, time budget, retries and upkeep.
    ///   - metrics: Where to count dispatches, retries, dead letters and timeouts.
    ///   - clock: Sleeps for backoff and time budgets; tests inject one that does not wait.
    ///   - random: Returns values in `0 ..< 1` for jitter; tests inject a fixed sequence.
    package init(
        handlers: any DeliveryHandlers,
        journal: Journal?,
        configuration: DispatcherConfiguration = DispatcherConfiguration(),
        metrics: Metrics? = nil,
        clock: any DispatcherClock = ContinuousDispatcherClock(),
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.handlers = handlers
        self.journal = journal
        self.configuration = configuration
        self.metrics = metrics
        self.clock = clock
        self.random = random
        self.permits = AsyncSemaphore(permits: configuration.maximumConcurrentHandlers)
    }

    // MARK: - Lifecycle

    /// Starts running handlers, beginning with every delivery the journal holds as pending.
    ///
    /// Handlers that already succeeded or were dead-lettered for a pending delivery are not run
    /// again; failed ones continue with their attempt count.
    ///
    /// - Parameter resumingPending: Whether to resume the journal's pending deliveries; `false`
    ///   for a replay tool that must run only what it selects, with its own handlers.
    /// - Throws: ``JournalError`` when the pending records cannot be read.
    package func start(resumingPending: Bool = true) throws {
        let pending = resumingPending ? try journal?.pendingEntries() ?? [] : []
        let (jobs, jobsContinuation) = AsyncStream.makeStream(of: [Job].self)
        let (syncRequests, syncContinuation) = AsyncStream.makeStream(
            of: Void.self,
            bufferingPolicy: .bufferingNewest(1)
        )
        let started = state.withLock { state -> Bool in
            guard state.phase == .idle else { return false }
            state.phase = .running
            state.jobs = jobsContinuation
            state.progressSyncRequests = syncContinuation
            var batch: [Job] = []
            for entry in pending where state.inFlight.insert(entry.id).inserted {
                let progress = Dictionary(entry.handlers.map { ($0.handler, $0) }) { _, last in last }
                batch.append(Job(record: entry.record, progress: progress))
                state.resumed.insert(entry.id)
            }
            if !batch.isEmpty { jobsContinuation.yield(batch) }
            return true
        }
        guard started else { return }
        let root = Task { await self.run(jobs: jobs, syncRequests: syncRequests) }
        state.withLock { $0.root = root }
    }

    /// Stops: accepts nothing new, abandons backoff waits, lets running attempts finish for up to
    /// `gracePeriod`, cancels those still running, then syncs the journal's progress records.
    ///
    /// Deliveries not finished stay pending in the journal and resume at the next ``start()``;
    /// their ``submit(_:)`` callers get ``DeliveryOutcome/interrupted``. Handler tasks that ignore
    /// cancellation may still be running when this returns.
    ///
    /// - Parameter gracePeriod: How long running attempts may take to finish. Default: 10 seconds.
    package func shutdown(gracePeriod: Duration = .seconds(10)) async {
        let (root, jobs) = state.withLock { state in
            state.phase = .stopped
            defer { state.jobs = nil }
            return (state.root, state.jobs)
        }
        jobs?.finish()
        if let root {
            root.cancel()
            let finished = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let once = ResumeOnce(continuation)
                let timer = Task {
                    try? await Task.sleep(for: gracePeriod)
                    once.resume(false)
                }
                once.onResume { timer.cancel() }
                Task {
                    await root.value
                    once.resume(true)
                }
            }
            if !finished {
                let running = state.withLock { Array($0.runningHandlers.values) }
                for task in running { task.cancel() }
            }
        }
        await syncProgress()
        let waiters = state.withLock { state in
            defer { state.waiters = [:] }
            return state.waiters.values.flatMap { $0 }
        }
        for waiter in waiters { waiter.resume(returning: .interrupted) }
    }

    // MARK: - Handing over deliveries

    /// Queues a journaled (and synced) delivery for its handlers, without waiting.
    ///
    /// - Parameters:
    ///   - record: The record returned by ``Journal/append(_:kind:deduplicationKey:acknowledgement:deadLetterReason:)``.
    ///   - event: The record's body as already parsed, if it was, so handlers need not parse it again.
    /// - Returns: `false` when the dispatcher is not running (the record stays pending in the
    ///   journal and runs at the next start) or the delivery is already being handled.
    @discardableResult
    package func enqueue(_ record: JournalRecord, event: AnyEvent? = nil) -> Bool {
        let progress = journal?.handlerProgress(for: record.id) ?? [:]
        return queue([Job(record: record, progress: progress, event: event)]) == 1
    }

    /// Queues several journaled (and synced) deliveries at once, without waiting; see
    /// ``enqueue(_:event:)``.
    ///
    /// For records just appended, which no handler has run on yet: their progress is not looked
    /// up in the journal (a lock per record on the event loop's thread).
    ///
    /// - Parameter deliveries: Records, each with its parsed event if there is one.
    /// - Returns: How many were queued.
    @discardableResult
    package func enqueue(contentsOf deliveries: [(record: JournalRecord, event: AnyEvent?)]) -> Int {
        queue(deliveries.map { record, event in Job(record: record, progress: [:], event: event) })
    }

    private func queue(_ jobs: [Job]) -> Int {
        state.withLock { state in
            guard state.phase == .running, let continuation = state.jobs else { return 0 }
            let accepted = jobs.filter { state.inFlight.insert($0.record.id).inserted }
            inFlightCount.store(state.backlog, ordering: .relaxed)
            if !accepted.isEmpty { continuation.yield(accepted) }
            return accepted.count
        }
    }

    /// Queues a delivery and waits until every handler has finished with it.
    ///
    /// For ``AcknowledgementMode/afterHandlers``: answer 2xx for ``DeliveryOutcome/succeeded``,
    /// 500 for ``DeliveryOutcome/failed(_:)``, 503 for ``DeliveryOutcome/interrupted``. Waits
    /// through retries. If the delivery is already being handled, waits for that.
    ///
    /// - Parameters:
    ///   - record: The record.
    ///   - event: The record's body as already parsed, if it was.
    /// - Returns: How handling ended.
    package func submit(_ record: JournalRecord, event: AnyEvent? = nil) async -> DeliveryOutcome {
        let progress = journal?.handlerProgress(for: record.id) ?? [:]
        return await withCheckedContinuation { continuation in
            let accepted = state.withLock { state -> Bool in
                guard state.phase == .running, let jobs = state.jobs else { return false }
                state.waiters[record.id, default: []].append(continuation)
                if state.inFlight.insert(record.id).inserted {
                    inFlightCount.store(state.backlog, ordering: .relaxed)
                    jobs.yield([Job(record: record, progress: progress, event: event)])
                }
                return true
            }
            if !accepted { continuation.resume(returning: .interrupted) }
        }
    }

    /// Runs finished deliveries again: clears their per-handler progress in the journal (synced)
    /// and queues them, keeping their ids.
    ///
    /// - Parameter ids: The deliveries to run again; pending or in-flight ones are skipped.
    /// - Returns: The ids queued.
    /// - Throws: ``JournalError`` when the journal cannot record the replay, or
    ///   ``JournalError/Code/invalidArgument`` without a journal.
    package func replay(ids: [UInt64]) throws -> [UInt64] {
        guard let journal else {
            throw JournalError(.invalidArgument, "replay needs a journal; in-memory deliveries are not kept")
        }
        let busy = state.withLock { $0.inFlight }
        let records = try journal.requeue(ids: ids.filter { !busy.contains($0) })
        return records.filter { enqueue($0) }.map(\.id)
    }

    /// Creates a record for a delivery that is not journaled (``AcknowledgementMode/inMemory``),
    /// with an id unique within this process.
    ///
    /// - Parameters:
    ///   - delivery: The delivery.
    ///   - kind: Its event kind.
    /// - Returns: A record to pass to ``enqueue(_:)`` or ``submit(_:)``.
    package func makeEphemeralRecord(for delivery: Delivery, kind: String) -> JournalRecord {
        let id = state.withLock { state in
            defer { state.nextEphemeralID += 1 }
            return state.nextEphemeralID
        }
        return JournalRecord(id: id, kind: kind, delivery: delivery)
    }

    /// How many deliveries were handed over and have not finished (waiting, running or between
    /// retries), not counting those resumed from the journal at start: they were journaled
    /// before, and a long backlog left by an outage must not keep new deliveries from being
    /// journaled (the listener's back-pressure reads this).
    package var backlog: Int { inFlightCount.load(ordering: .relaxed) }

    /// Waits until no delivery is being handled; for tests and graceful drains.
    package func waitUntilIdle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { state -> Bool in
                guard !state.inFlight.isEmpty else { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    // MARK: - Running

    private func run(jobs: AsyncStream<[Job]>, syncRequests: AsyncStream<Void>) async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.syncProgressLoop(syncRequests) }
            if let interval = configuration.retentionInterval, journal != nil {
                group.addTask { await self.retentionLoop(every: interval) }
            }
            for await batch in jobs {
                for job in batch { group.addTask { await self.process(job) } }
            }
            state.withLock { $0.progressSyncRequests?.finish() }
            group.cancelAll()
        }
    }

    private func process(_ job: Job) async {
        let record = job.record
        metrics?.recordDispatched()
        var names: [String] = []
        var seen: Set<String> = []
        for name in handlers.handlerNames(for: record) where seen.insert(name).inserted { names.append(name) }

        var results: [String: HandlerResult] = [:]
        for name in names {
            guard let progress = job.progress[name] else { continue }
            switch progress.status {
            case .succeeded:
                results[name] = .succeeded
            case .deadLettered:
                results[name] = .deadLettered(
                    HandlerFailure(handler: name, error: progress.lastError ?? "", attempts: progress.attempts)
                )
            case .failed:
                break
            }
        }
        let toRun = names.filter { results[$0] == nil }
        if toRun.count == 1, let name = toRun.first {
            // The common case needs no task group.
            results[name] = await runHandler(name, job: job)
        } else {
            await withTaskGroup(of: (String, HandlerResult?).self) { group in
                for name in toRun {
                    group.addTask { (name, await self.runHandler(name, job: job)) }
                }
                for await (name, result) in group {
                    if let result { results[name] = result }
                }
            }
        }
        guard results.count == names.count else {
            finish(record.id, outcome: .interrupted)
            return
        }
        let failures = names.compactMap { name -> HandlerFailure? in
            if case .deadLettered(let failure) = results[name] { return failure }
            return nil
        }
        journalWrite { journal in
            try journal.recordFinished(deliveryID: record.id, outcome: failures.isEmpty ? .done : .deadLettered)
        }
        finish(record.id, outcome: failures.isEmpty ? .succeeded : .failed(failures))
    }

    /// Runs one handler until it succeeds or is dead-lettered; `nil` when interrupted by shutdown.
    private func runHandler(_ name: String, job: Job) async -> HandlerResult? {
        let record = job.record
        var attempts = job.progress[name]?.attempts ?? 0
        let policy = configuration.retryPolicy
        while !Task.isCancelled {
            attempts += 1
            let message: String
            switch await attempt(name, record: record, event: job.event) {
            case .interrupted:
                return nil
            case .succeeded:
                recordProgress(record.id, name, .succeeded, attempts: attempts, error: nil)
                return .succeeded
            case .failed(let error):
                message = error
            case .timedOut(let error):
                metrics?.recordTimeout()
                message = error
            }
            if attempts >= policy.maximumAttempts {
                recordProgress(record.id, name, .deadLettered, attempts: attempts, error: message)
                metrics?.recordDeadLetter()
                return .deadLettered(HandlerFailure(handler: name, error: message, attempts: attempts))
            }
            recordProgress(record.id, name, .failed, attempts: attempts, error: message)
            metrics?.recordRetry()
            do {
                try await clock.sleep(for: policy.delay(afterAttempt: attempts, random: random()))
            } catch {
                return nil
            }
        }
        return nil
    }

    /// One attempt: takes a permit, runs the handler in its own task (which returns the permit
    /// when the handler really returns) and races it against the time budget.
    private func attempt(_ name: String, record: JournalRecord, event: AnyEvent?) async -> AttemptResult {
        do {
            try await permits.acquire()
        } catch {
            return .interrupted
        }
        let token = nextHandlerToken.add(1, ordering: .relaxed).newValue
        return await withCheckedContinuation { continuation in
            let once = ResumeOnce(continuation)
            let handlers = self.handlers
            let task = Task {
                do {
                    try await handlers.run(handler: name, record: record, event: event)
                    once.resume(.succeeded)
                } catch {
                    once.resume(.failed(String(describing: error)))
                }
                self.permits.release()
                self.handlerFinished(token)
            }
            state.withLock { state in
                if state.finishedHandlers.remove(token) == nil { state.runningHandlers[token] = task }
            }
            if let timeout = configuration.handlerTimeout {
                let cancelDeadline = clock.deadline(after: timeout) {
                    if once.resume(.timedOut("timed out after \(timeout)")) { task.cancel() }
                }
                once.onResume(cancelDeadline)
            }
        }
    }

    private func handlerFinished(_ token: UInt64) {
        state.withLock { state in
            if state.runningHandlers.removeValue(forKey: token) == nil { state.finishedHandlers.insert(token) }
        }
    }

    private func recordProgress(
        _ id: UInt64,
        _ name: String,
        _ status: HandlerProgress.Status,
        attempts: Int,
        error: String?
    ) {
        guard let journal else { return }
        let progress = HandlerProgress(
            handler: name,
            status: status,
            attempts: attempts,
            lastError: error,
            updatedAt: journal.now()
        )
        journalWrite { try $0.recordAttempt(deliveryID: id, progress: progress) }
    }

    /// Appends a progress record and asks for it to be synced soon; counts failures.
    private func journalWrite(_ write: (Journal) throws -> Void) {
        guard let journal else { return }
        do {
            try write(journal)
        } catch {
            metrics?.recordJournalWriteError()
        }
        _ = state.withLock { $0.progressSyncRequests?.yield(()) }
    }

    private func finish(_ id: UInt64, outcome: DeliveryOutcome) {
        let (waiters, idleWaiters) = state.withLock { state in
            state.inFlight.remove(id)
            state.resumed.remove(id)
            inFlightCount.store(state.backlog, ordering: .relaxed)
            let waiters = state.waiters.removeValue(forKey: id) ?? []
            guard state.inFlight.isEmpty else { return (waiters, [CheckedContinuation<Void, Never>]()) }
            defer { state.idleWaiters = [] }
            return (waiters, state.idleWaiters)
        }
        for waiter in waiters { waiter.resume(returning: outcome) }
        for waiter in idleWaiters { waiter.resume() }
    }

    // MARK: - Journal upkeep

    private func syncProgressLoop(_ requests: AsyncStream<Void>) async {
        for await _ in requests {
            try? await Task.sleep(for: configuration.progressSyncDelay)
            await syncProgress()
        }
    }

    private func retentionLoop(every interval: Duration) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            guard let journal else { return }
            await onIOQueue { _ = try? journal.applyRetention() }
        }
    }

    /// Makes progress records durable, off the cooperative thread pool.
    private func syncProgress() async {
        guard let journal else { return }
        await onIOQueue {
            do {
                try journal.syncStateRecords()
            } catch {
                // Counted by the journal as a failed sync; lost progress records are re-appended.
            }
        }
    }

    /// Runs blocking file-system work on a dispatch queue so it never blocks the task pool.
    private func onIOQueue(_ work: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            ioQueue.async {
                work()
                continuation.resume()
            }
        }
    }
}
