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
        /// Called once when `backlog` falls to the limit; see ``Dispatcher/whenBacklog(atMost:_:)``.
        var backlogWatcher: (limit: Int, action: @Sendable () -> Void)?
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
        var nextEphemeralID: UInt64 = 1
    }

    /// One handler's next attempt, as a task: waiting (for its backoff delay or a permit) or
    /// running the handler.
    private struct Chain {
        var task: Task<Void, Never>?
        var isRunning = false
    }

    /// The attempts' tasks, under their own lock: the event loop's hand-over takes `state`'s.
    private struct Chains {
        /// Cleared by the shutdown: no attempt starts after it.
        var accepting = true
        /// Every chain by token: the shutdown cancels them.
        var tasks: [UInt64: Chain] = [:]
        /// Resumed when `tasks` becomes empty during the shutdown.
        var drainWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// How one handler ended for a delivery; `nil` where it was interrupted by the shutdown.
    private enum HandlerResult: Sendable {
        case succeeded
        case deadLettered(HandlerFailure)
    }

    /// One delivery in flight: collects its handlers' results as they come in, in any order,
    /// and finishes the delivery with the last one.
    private final class Run: Sendable {
        let job: Job
        /// The handlers, in their order; failures are reported in it.
        let names: [String]
        private let pending: Locked<(remaining: Int, failures: [HandlerFailure], interrupted: Bool)>

        init(job: Job, names: [String], remaining: Int, failures: [HandlerFailure]) {
            self.job = job
            self.names = names
            pending = Locked((remaining, failures, false))
        }

        /// Records one handler's result; returns the delivery's outcome when it was the last.
        func report(_ result: HandlerResult?) -> (failures: [HandlerFailure], interrupted: Bool)? {
            pending.withLock { pending in
                switch result {
                case nil: pending.interrupted = true
                case .deadLettered(let failure): pending.failures.append(failure)
                case .succeeded: break
                }
                pending.remaining -= 1
                guard pending.remaining == 0 else { return nil }
                let order = names
                let failures = pending.failures.sorted {
                    (order.firstIndex(of: $0.handler) ?? 0) < (order.firstIndex(of: $1.handler) ?? 0)
                }
                return (failures, pending.interrupted)
            }
        }
    }

    /// Decides, once, whether an attempt finished or ran out of time first.
    private final class AttemptClaim: Sendable {
        private let state = Atomic<UInt8>(0)

        /// Claims the attempt for its handler's return; `false` if its time ran out first.
        func finish() -> Bool { claim(1) }

        /// Claims the attempt for its deadline; `false` if the handler returned first.
        func expire() -> Bool { claim(2) }

        private func claim(_ winner: UInt8) -> Bool {
            state.compareExchange(expected: 0, desired: winner, ordering: .acquiringAndReleasing).exchanged
        }
    }

    /// How handlers are run.
    package let configuration: DispatcherConfiguration
    private let handlers: any DeliveryHandlers
    private let journal: (any DeliveryStore)?
    private let metrics: Metrics?
    private let clock: any DispatcherClock
    private let random: @Sendable () -> Double
    private let permits: AsyncSemaphore
    private let state = Locked(State())
    private let chains = Locked(Chains())
    /// `state.backlog`, readable without the lock.
    private let inFlightCount = Atomic(0)
    private let nextChainToken = Atomic<UInt64>(0)
    private let ioQueue = DispatchQueue(label: "PromptEventsServer.Dispatcher.journal")

    /// Creates a dispatcher; call ``start()`` before handing it records.
    ///
    /// - Parameters:
    ///   - handlers: The handlers to run.
    ///   - journal: The store to record progress in and resume from (the file journal, say), or
    ///     `nil` for ``AcknowledgementMode/inMemory``.
    ///   - configuration: Concurrency, time budget, retries and upkeep.
    ///   - metrics: Where to count dispatches, retries, dead letters and timeouts.
    ///   - clock: Sleeps for backoff and time budgets; tests inject one that does not wait.
    ///   - random: Returns values in `0 ..< 1` for jitter; tests inject a fixed sequence.
    package init(
        handlers: any DeliveryHandlers,
        store journal: (any DeliveryStore)?,
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
    /// - Parameter resumingPending: Whether to resume the journal's pending deliveries, and with
    ///   a shared store to keep claiming what dead instances leave; `false` for a replay tool that
    ///   must run only what it selects, with its own handlers.
    /// - Throws: The store's error when the pending records cannot be read. The dispatcher runs
    ///   all the same: new deliveries are handled, and a shared store's claims pick the pending
    ///   ones up later.
    package func start(resumingPending: Bool = true) throws {
        var pending: [JournalEntry] = []
        var failure: (any Error)?
        if resumingPending {
            do {
                pending = try journal?.pendingEntries() ?? []
            } catch {
                failure = error
            }
        }
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
            Self.resume(pending, in: &state, continuation: jobsContinuation)
            return true
        }
        guard started else { return }
        let root = Task { await self.run(jobs: jobs, syncRequests: syncRequests, claiming: resumingPending) }
        state.withLock { $0.root = root }
        if let failure { throw failure }
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
        root?.cancel()
        await root?.value
        // Backoff and permit waits end now; running attempts get the grace period.
        let waiting = chains.withLock { chains in
            chains.accepting = false
            return chains.tasks.values.filter { !$0.isRunning }.compactMap(\.task)
        }
        for task in waiting { task.cancel() }
        let drained = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let once = ResumeOnce(continuation)
            let timer = Task {
                try? await Task.sleep(for: gracePeriod)
                once.resume(false)
            }
            once.onResume { timer.cancel() }
            Task {
                await self.chainsDrained()
                once.resume(true)
            }
        }
        if !drained {
            let running = chains.withLock { $0.tasks.values.compactMap(\.task) }
            for task in running { task.cancel() }
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

    private func run(jobs: AsyncStream<[Job]>, syncRequests: AsyncStream<Void>, claiming: Bool) async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.syncProgressLoop(syncRequests) }
            if let interval = configuration.retentionInterval, journal != nil {
                group.addTask { await self.retentionLoop(every: interval) }
            }
            if claiming, let interval = journal?.claimRenewalInterval {
                group.addTask { await self.claimLoop(every: interval) }
            }
            for await batch in jobs {
                for job in batch { begin(job) }
            }
            state.withLock { $0.progressSyncRequests?.finish() }
            group.cancelAll()
        }
    }

    /// Starts the handlers a delivery still needs, each in its own chain of attempts.
    private func begin(_ job: Job) {
        metrics?.recordDispatched()
        var names: [String] = []
        for name in handlers.handlerNames(for: job.record) where !names.contains(name) { names.append(name) }
        var toRun: [(name: String, attempts: Int)] = []
        var failures: [HandlerFailure] = []
        for name in names {
            let progress = job.progress[name]
            switch progress?.status {
            case .succeeded:
                break
            case .deadLettered:
                failures.append(
                    HandlerFailure(handler: name, error: progress?.lastError ?? "", attempts: progress?.attempts ?? 0)
                )
            case .failed, nil:
                toRun.append((name, progress?.attempts ?? 0))
            }
        }
        let run = Run(job: job, names: names, remaining: toRun.count, failures: failures)
        guard !toRun.isEmpty else {
            complete(run, failures: failures, interrupted: false)
            return
        }
        for (name, attempts) in toRun { startChain(run, name, attempts: attempts, after: nil) }
    }

    /// Starts a task that waits `delay` (a backoff), then makes one attempt of `name`.
    ///
    /// One attempt per task: a handler that overruns its budget is abandoned by cancelling its
    /// task (cancellation is sticky), and the next attempt starts in a new one. The handler runs
    /// inline in that task: no second task, no hand-over, for the attempt that succeeds.
    private func startChain(_ run: Run, _ name: String, attempts: Int, after delay: Duration?) {
        let token = nextChainToken.add(1, ordering: .relaxed).newValue
        let started = chains.withLock { chains -> Bool in
            guard chains.accepting else { return false }
            chains.tasks[token] = Chain()
            chains.tasks[token]?.task = Task {
                await self.attemptChain(run, name, attempts: attempts + 1, after: delay, token: token)
                self.endChain(token)
            }
            return true
        }
        if !started { report(run, nil) }
    }

    private func attemptChain(_ run: Run, _ name: String, attempts: Int, after delay: Duration?, token: UInt64) async {
        do {
            if let delay { try await clock.sleep(for: delay) }
            try await permits.acquire()
        } catch {
            report(run, nil)
            return
        }
        let mayRun = chains.withLock { chains -> Bool in
            guard chains.accepting, !Task.isCancelled else { return false }
            chains.tasks[token]?.isRunning = true
            return true
        }
        guard mayRun else {
            permits.release()
            report(run, nil)
            return
        }
        let claim = AttemptClaim()
        let cancelDeadline = configuration.handlerTimeout.map { timeout in
            clock.deadline(after: timeout) {
                guard claim.expire() else { return }
                self.metrics?.recordTimeout()
                self.chains.withLock { $0.tasks[token]?.task }?.cancel()
                self.failed(run, name, attempts: attempts, error: "timed out after \(timeout)")
            }
        }
        let error: String?
        do {
            try await handlers.run(handler: name, record: run.job.record, event: run.job.event)
            error = nil
        } catch let thrown {
            error = String(describing: thrown)
        }
        cancelDeadline?()
        permits.release()
        // An attempt abandoned at its deadline was already counted as failed there.
        guard claim.finish() else { return }
        if let error {
            failed(run, name, attempts: attempts, error: error)
        } else {
            recordProgress(run.job.record.id, name, .succeeded, attempts: attempts, error: nil)
            report(run, .succeeded)
        }
    }

    /// After a failed attempt: the next one after a backoff delay, or the dead letter.
    private func failed(_ run: Run, _ name: String, attempts: Int, error: String) {
        let id = run.job.record.id
        let policy = configuration.retryPolicy
        guard attempts < policy.maximumAttempts else {
            recordProgress(id, name, .deadLettered, attempts: attempts, error: error)
            metrics?.recordDeadLetter()
            report(run, .deadLettered(HandlerFailure(handler: name, error: error, attempts: attempts)))
            return
        }
        recordProgress(id, name, .failed, attempts: attempts, error: error)
        metrics?.recordRetry()
        startChain(run, name, attempts: attempts, after: policy.delay(afterAttempt: attempts, random: random()))
    }

    /// Records a handler's result; the delivery finishes with its last handler.
    private func report(_ run: Run, _ result: HandlerResult?) {
        guard let (failures, interrupted) = run.report(result) else { return }
        complete(run, failures: failures, interrupted: interrupted)
    }

    private func complete(_ run: Run, failures: [HandlerFailure], interrupted: Bool) {
        let id = run.job.record.id
        guard !interrupted else {
            finish(id, outcome: .interrupted)
            return
        }
        journalWrite { journal in
            try journal.recordFinished(deliveryID: id, outcome: failures.isEmpty ? .done : .deadLettered)
        }
        finish(id, outcome: failures.isEmpty ? .succeeded : .failed(failures))
    }

    private func endChain(_ token: UInt64) {
        let waiters = chains.withLock { chains -> [CheckedContinuation<Void, Never>] in
            chains.tasks.removeValue(forKey: token)
            guard chains.tasks.isEmpty else { return [] }
            defer { chains.drainWaiters = [] }
            return chains.drainWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns when no chain is left; for the shutdown, after new chains stopped starting.
    private func chainsDrained() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let drained = chains.withLock { chains -> Bool in
                guard !chains.tasks.isEmpty else { return true }
                chains.drainWaiters.append(continuation)
                return false
            }
            if drained { continuation.resume() }
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
    private func journalWrite(_ write: (any DeliveryStore) throws -> Void) {
        guard let journal else { return }
        do {
            try write(journal)
        } catch {
            metrics?.recordJournalWriteError()
        }
        _ = state.withLock { $0.progressSyncRequests?.yield(()) }
    }

    private func finish(_ id: UInt64, outcome: DeliveryOutcome) {
        let (waiters, idleWaiters, watcher) = state.withLock { state in
            state.inFlight.remove(id)
            state.resumed.remove(id)
            inFlightCount.store(state.backlog, ordering: .relaxed)
            let waiters = state.waiters.removeValue(forKey: id) ?? []
            var watcher: (@Sendable () -> Void)?
            if let (limit, action) = state.backlogWatcher, state.backlog <= limit {
                state.backlogWatcher = nil
                watcher = action
            }
            guard state.inFlight.isEmpty else { return (waiters, [CheckedContinuation<Void, Never>](), watcher) }
            defer { state.idleWaiters = [] }
            return (waiters, state.idleWaiters, watcher)
        }
        for waiter in waiters { waiter.resume(returning: outcome) }
        for waiter in idleWaiters { waiter.resume() }
        watcher?()
    }

    /// Calls `action` once, as soon as ``backlog`` is at most `limit` (at once if it already
    /// is), from whichever thread finished the delivery that brought it there.
    ///
    /// The listener's back-pressure: having stopped reading, it is woken to read again instead
    /// of polling. A later call replaces an earlier one that has not fired.
    ///
    /// - Parameters:
    ///   - limit: The backlog to wait for.
    ///   - action: What to call; must not call back into the dispatcher synchronously.
    package func whenBacklog(atMost limit: Int, _ action: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            guard state.backlog > limit else {
                state.backlogWatcher = nil
                return true
            }
            state.backlogWatcher = (limit, action)
            return false
        }
        if now { action() }
    }

    // MARK: - Journal upkeep

    private func syncProgressLoop(_ requests: AsyncStream<Void>) async {
        for await _ in requests {
            try? await Task.sleep(for: configuration.progressSyncDelay)
            await syncProgress()
        }
    }

    /// Queues stored deliveries that no handler of this dispatcher is running yet.
    private static func resume(
        _ entries: [JournalEntry],
        in state: inout State,
        continuation: AsyncStream<[Job]>.Continuation
    ) {
        var batch: [Job] = []
        for entry in entries where state.inFlight.insert(entry.id).inserted {
            let progress = Dictionary(entry.handlers.map { ($0.handler, $0) }) { _, last in last }
            batch.append(Job(record: entry.record, progress: progress))
            state.resumed.insert(entry.id)
        }
        if !batch.isEmpty { continuation.yield(batch) }
    }

    /// A shared store: renews this instance's leases and runs what a dead instance left.
    private func claimLoop(every interval: Duration) async {
        await periodically(every: interval) { journal in
            let claimed = Locked<[JournalEntry]>([])
            await onIOQueue {
                do {
                    let entries = try journal.renewClaims()
                    claimed.withLock { $0 = entries }
                } catch {
                    self.metrics?.recordJournalWriteError()
                }
            }
            let entries = claimed.withLock { $0 }
            guard !entries.isEmpty else { return }
            state.withLock { state in
                guard state.phase == .running, let continuation = state.jobs else { return }
                Self.resume(entries, in: &state, continuation: continuation)
                inFlightCount.store(state.backlog, ordering: .relaxed)
            }
        }
    }

    private func retentionLoop(every interval: Duration) async {
        await periodically(every: interval) { journal in
            await onIOQueue { _ = try? journal.applyRetention() }
        }
    }

    /// Runs `work` on the store every `interval`, until the task is cancelled.
    private func periodically(every interval: Duration, _ work: (any DeliveryStore) async -> Void) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            guard let journal else { return }
            await work(journal)
        }
    }

    /// Makes progress records durable, off the cooperative thread pool.
    private func syncProgress() async {
        guard let journal else { return }
        await onIOQueue {
            do {
                try journal.commitProgress()
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
