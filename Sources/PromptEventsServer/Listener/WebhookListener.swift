import Dispatch
public import PromptEvents

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A webhook listener: an HTTP/1.1 server on POSIX sockets that runs a `WebhookReceiver`'s
/// pipeline — authenticate, journal, acknowledge, dispatch — for every delivery.
///
/// ```swift
/// var receiver = WebhookReceiver(authentication: authentication)
/// receiver.on(.customerAdded) { event in print(event.payload.customer?.displayName ?? "?") }
///
/// let listener = try WebhookListener(receiver: receiver, configuration: .init(port: 8080))
/// await listener.run()  // until the task is cancelled; then drains and returns
/// ```
///
/// **Threading.** One event-loop thread owns every socket (level-triggered epoll, non-blocking
/// descriptors); handlers run on Swift's concurrency pool, never on the loop. On two cores a
/// single loop measured faster than two `SO_REUSEPORT` loops (the load generator shares the
/// cores), and it lets the journal batch every delivery of one loop turn into one `fdatasync`.
public final class WebhookListener: Sendable {
    private let loop: EventLoop
    private let started = Locked(false)
    private let done = Locked<[CheckedContinuation<Void, Never>]?>([])
    private let pipeline: DeliveryPipeline
    private let shutdownGracePeriod: Duration

    /// The address the listener is bound to, with the real port when port 0 was asked for.
    public var address: SocketAddress { loop.boundAddress }
    /// The separate metrics address, when configured.
    public var metricsAddress: SocketAddress? { loop.metricsAddress }
    /// The listener's counters, also served at `GET /metrics`.
    public let metrics: Metrics

    /// Binds the listening socket(s), opens the journal and recovers pending deliveries.
    ///
    /// Nothing is accepted until ``run()`` or ``start()``.
    ///
    /// - Parameters:
    ///   - receiver: The receiver with its authentication and handlers.
    ///   - configuration: Address, limits, timeouts and delivery settings.
    ///   - observer: Told about every answered request and lifecycle change; it must be quick.
    /// - Throws: ``SystemCallError`` when binding fails, or a journal error when it cannot be opened.
    public init(
        receiver: WebhookReceiver,
        configuration: Configuration = Configuration(),
        observer: @escaping @Sendable (ListenerEvent) -> Void = { _ in }
    ) throws {
        ignoreSIGPIPE()
        let metrics = Metrics()
        self.metrics = metrics
        let pipeline = try DeliveryPipeline(
            receiver: receiver,
            configuration: configuration,
            metrics: metrics,
            observer: observer
        )
        self.pipeline = pipeline
        self.shutdownGracePeriod = configuration.shutdownGracePeriod
        let context = ServerContext(
            configuration: configuration,
            receiver: receiver,
            sink: pipeline,
            metrics: metrics,
            observer: observer,
            epochSeconds: { Int64(time(nil)) }
        )
        self.loop = try EventLoop(context: context, clock: configuration.clock)
        pipeline.attach(loop)
    }

    /// Starts serving on a dedicated thread and returns at once.
    public func start() {
        let first = started.withLock { started in
            defer { started = true }
            return !started
        }
        guard first else { return }
        startDetachedThread { self.serve() }
    }

    private func serve() {
        pipeline.start()
        loop.run()
        pipeline.stop(gracePeriod: shutdownGracePeriod)
        let waiters = done.withLock { waiters in
            defer { waiters = nil }
            return waiters ?? []
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Serves until the calling task is cancelled or ``shutdown()`` is called, then drains:
    /// stops accepting, finishes in-flight requests (up to the grace period), closes idle
    /// connections and returns.
    public func run() async {
        start()
        await withTaskCancellationHandler {
            await wait()
        } onCancel: {
            shutdown()
        }
    }

    /// ``run()``, with a graceful ``shutdown()`` when one of `signals` arrives.
    ///
    /// For a program's main: `await listener.run(stoppingOn: [SIGINT, SIGTERM])`. Each signal's
    /// default action is ignored from now on, and Dispatch signal sources (cancelled when this
    /// returns) turn it into a shutdown, so it is safe to call from top-level code. Without this,
    /// the library installs no signal handlers.
    ///
    /// - Parameters:
    ///   - signals: The signals that stop the listener, for example `[SIGINT, SIGTERM]`.
    ///   - onSignal: Told which signal arrived, before the shutdown begins (to log it).
    public func run(stoppingOn signals: [Int32], onSignal: @escaping @Sendable (Int32) -> Void = { _ in }) async {
        let sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                onSignal(number)
                shutdown()
            }
            source.resume()
            return source
        }
        await run()
        for source in sources { source.cancel() }
    }

    /// Waits until the listener has stopped.
    public func wait() async {
        await withCheckedContinuation { continuation in
            let stopped = done.withLock { waiters -> Bool in
                guard waiters != nil else { return true }
                waiters?.append(continuation)
                return false
            }
            if stopped { continuation.resume() }
        }
    }

    /// Begins a graceful shutdown; returns at once.
    ///
    /// Safe to call from any thread, more than once.
    public func shutdown() {
        loop.shutdown()
    }

    /// The journal, when the listener keeps one.
    public var journal: Journal? { pipeline.journal }
}

private func ignoreSIGPIPE() {
    // Sends use MSG_NOSIGNAL; this also covers writes to pipes of spawned commands.
    _ = signal(SIGPIPE, SIG_IGN)
}
