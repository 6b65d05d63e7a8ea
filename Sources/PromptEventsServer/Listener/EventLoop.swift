#if os(Linux)
import CPromptEventsLinux
import Glibc
import PromptEvents

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The socket driver: one thread, level-triggered epoll, that accepts connections, reads,
/// writes and ticks timers, and knows nothing of HTTP.
///
/// Each connection's behaviour is its ``ServerConnection`` (sans-IO); what they share is the
/// ``ServerContext``. After every input the driver *syncs* the connection: writes its pending
/// output, closes it when it is finished, and waits for what it wants next. Handlers never run
/// here: they run on Swift's concurrency pool, via the sink. Other threads talk to the loop
/// through ``inbox`` plus an eventfd wake-up.
final class EventLoop: AnswerMailbox, @unchecked Sendable {
    // @unchecked: every mutable property below `inbox` is touched by the loop thread only;
    // `inbox` is locked, and `wake` is an eventfd safe to write from any thread.

    enum Message {
        case complete(Ticket, WebhookResponse)
        case shutdown
    }

    /// A connection and the epoll interest registered for it.
    private struct Registration {
        let connection: ServerConnection
        var interest: UInt32
    }

    private let configuration: WebhookListener.Configuration
    private let context: ServerContext
    private let clock: @Sendable () -> UInt64
    private let inbox = Locked<[Message]>([])
    private let wake: WakeSignal
    private let epoll: Epoll

    private var listeners: [(fd: Int32, role: ServerConnection.Role)] = []
    /// Indexed by descriptor.
    private var registrations: [Registration?] = []
    private var connectionCount = 0
    private var nextGeneration: UInt64 = 1
    private var drainDeadline: UInt64?
    private var readBuffer: UnsafeMutableRawBufferPointer
    private var lastTimerScan: UInt64 = 0

    /// The bound addresses: events, then metrics (if separate).
    let boundAddress: SocketAddress
    let metricsAddress: SocketAddress?

    init(context: ServerContext, clock: @escaping @Sendable () -> UInt64) throws(SystemCallError) {
        let configuration = context.configuration
        self.configuration = configuration
        self.context = context
        self.clock = clock
        self.wake = try WakeSignal()
        self.epoll = try Epoll()
        self.readBuffer = .allocate(byteCount: 64 * 1024, alignment: 16)
        let address = try SocketAddress.resolve(host: configuration.host, port: configuration.port)
        let main = try Socket.listen(on: address, backlog: configuration.backlog)
        listeners.append((main.fd, .events))
        boundAddress = main.bound
        if let metricsPort = configuration.metricsPort {
            let metricsHost = try SocketAddress.resolve(host: configuration.metricsHost, port: metricsPort)
            let separate = try Socket.listen(on: metricsHost, backlog: 64)
            listeners.append((separate.fd, .metricsOnly))
            metricsAddress = separate.bound
        } else {
            metricsAddress = nil
        }
        try epoll.add(wake.fd, events: Epoll.readable)
        for listener in listeners { try epoll.add(listener.fd, events: Epoll.readable) }
    }

    deinit {
        readBuffer.deallocate()
    }

    // MARK: - Cross-thread entry points

    /// Delivers a late answer (after handlers, say) to a connection; safe from any thread.
    func complete(_ ticket: Ticket, with response: WebhookResponse) {
        inbox.withLock { $0.append(.complete(ticket, response)) }
        wake.signal()
    }

    /// Wakes the loop for nothing but another look at its state (parked connections, say);
    /// safe from any thread.
    func wakeUp() {
        wake.signal()
    }

    /// Starts a graceful shutdown; safe from any thread.
    func shutdown() {
        inbox.withLock { $0.append(.shutdown) }
        wake.signal()
    }

    // MARK: - The loop

    /// Runs until shutdown has drained every connection.
    ///
    /// Call on a dedicated thread.
    func run() {
        context.observer(.listening(boundAddress, metrics: metricsAddress))
        let capacity: Int32 = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: Int(capacity))
        defer { events.deallocate() }
        while true {
            // Parked connections are resumed when the dispatcher's backlog halves, which wakes
            // the loop (`wakeUp()`); the timer scan's period is the fallback.
            let timeout = Int32(max(1, configuration.timerResolution.nanoseconds / 1_000_000))
            let count = epoll.wait(events, capacity: capacity, timeoutMilliseconds: timeout)
            for index in 0..<count {
                let event = events[index]
                let fd = event.data.fd
                if fd == wake.fd {
                    wake.drain()
                    handleInbox()
                } else if let listener = listeners.first(where: { $0.fd == fd }) {
                    acceptConnections(on: listener.fd, role: listener.role)
                } else if let connection = connection(fd) {
                    if event.events & (Epoll.readable | Epoll.hangUp) != 0 {
                        read(connection)
                    } else if event.events & Epoll.writable != 0 {
                        sync(connection)
                    }
                }
            }
            // Before the commit: the deliveries the resumed connections hold join this turn's batch.
            let now = clock()
            for connection in context.resumeParked(now: now) { sync(connection) }
            for connection in context.commitBatch(now: now) { sync(connection) }
            if now &- lastTimerScan >= configuration.timerResolution.nanoseconds {
                lastTimerScan = now
                expireTimers(now: now)
            }
            if let drainDeadline, connectionCount == 0 || now >= drainDeadline { break }
        }
        let now = clock()
        for case let registration? in registrations {
            registration.connection.abandonAwaitedAnswers(now: now)
            writeOnce(registration.connection)
            close(registration.connection)
        }
        for listener in listeners { Socket.close(listener.fd) }
        listeners.removeAll()
        context.observer(.stopped)
    }

    private func handleInbox() {
        let messages = inbox.withLock { messages in
            defer { messages.removeAll() }
            return messages
        }
        for message in messages {
            switch message {
            case .shutdown:
                beginDraining()
            case .complete(let ticket, let response):
                guard let connection = connection(ticket.fd), connection.generation == ticket.generation else {
                    continue
                }
                connection.answer(ticket.sequence, with: response, now: clock())
                sync(connection)
            }
        }
    }

    private func beginDraining() {
        guard drainDeadline == nil else { return }
        let now = clock()
        drainDeadline = now &+ configuration.shutdownGracePeriod.nanoseconds
        context.beginDraining()
        context.observer(.draining)
        for listener in listeners {
            epoll.remove(listener.fd)
            Socket.close(listener.fd)
        }
        listeners.removeAll()
        for case let registration? in registrations {
            registration.connection.beginDraining(now: now)
            sync(registration.connection)
        }
    }

    // MARK: - Accepting

    private func acceptConnections(on listener: Int32, role: ServerConnection.Role) {
        while true {
            let accepted: Int32?
            do {
                accepted = try Socket.accept(listener)
            } catch {
                // EMFILE/ENFILE: out of descriptors. Stop accepting this turn; the backlog waits.
                context.observer(.warning("accept failed: \(error)"))
                return
            }
            guard let fd = accepted else { return }
            if connectionCount >= configuration.maxConnections {
                refuseOverCapacity(fd)
                continue
            }
            let connection = ServerConnection(
                fd: fd,
                generation: nextGeneration,
                role: role,
                context: context,
                now: clock()
            )
            nextGeneration &+= 1
            if Int(fd) >= registrations.count {
                registrations.append(contentsOf: repeatElement(nil, count: Int(fd) + 1 - registrations.count))
            }
            registrations[Int(fd)] = Registration(connection: connection, interest: Epoll.readable)
            connectionCount += 1
            do {
                try epoll.add(fd, events: Epoll.readable)
            } catch {
                close(connection)
            }
        }
    }

    /// Beyond the connection limit: one 503 with `Retry-After`, then close.
    private func refuseOverCapacity(_ fd: Int32) {
        context.metrics.recordRejected(reason: "over_capacity")
        var bytes: [UInt8] = []
        context.serialize(
            WebhookResponse(status: 503, headers: ["Retry-After": "1"], body: Array("Too many connections\n".utf8)),
            isHead: false,
            keepAlive: false,
            version: .http11,
            into: &bytes
        )
        _ = bytes.withUnsafeBytes { Socket.send(fd, $0) }
        Socket.close(fd)
    }

    // MARK: - Reading and writing

    private func connection(_ fd: Int32) -> ServerConnection? {
        fd >= 0 && Int(fd) < registrations.count ? registrations[Int(fd)]?.connection : nil
    }

    private func read(_ connection: ServerConnection) {
        switch Socket.read(connection.fd, into: readBuffer) {
        case .bytes(let count):
            connection.received(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]), now: clock())
            sync(connection)
        case .wouldBlock:
            return
        case .endOfFile, .failed:
            close(connection)
        }
    }

    /// Writes what the connection has to say, closes it when it is finished, and waits for
    /// what it wants next.
    private func sync(_ connection: ServerConnection) {
        guard self.connection(connection.fd) === connection else { return }
        while !connection.pendingOutput.isEmpty {
            let result = connection.pendingOutput.withUnsafeBytes { Socket.send(connection.fd, $0) }
            switch result {
            case .bytes(let count):
                connection.didWrite(count, now: clock())
            case .wouldBlock:
                return updateInterest(connection)
            case .endOfFile, .failed:
                return close(connection)
            }
        }
        if connection.isFinished { return close(connection) }
        updateInterest(connection)
    }

    /// One attempt to send what is pending, at shutdown: nothing waits for a slow reader then.
    private func writeOnce(_ connection: ServerConnection) {
        guard !connection.pendingOutput.isEmpty else { return }
        _ = connection.pendingOutput.withUnsafeBytes { Socket.send(connection.fd, $0) }
    }

    private func updateInterest(_ connection: ServerConnection) {
        guard var registration = registrations[Int(connection.fd)], registration.connection === connection else {
            return
        }
        var interest: UInt32 = 0
        if connection.wantsToRead { interest |= Epoll.readable }
        if !connection.pendingOutput.isEmpty { interest |= Epoll.writable }
        guard interest != registration.interest else { return }
        registration.interest = interest
        registrations[Int(connection.fd)] = registration
        epoll.modify(connection.fd, events: interest)
    }

    private func close(_ connection: ServerConnection) {
        guard self.connection(connection.fd) === connection else { return }
        epoll.remove(connection.fd)
        Socket.close(connection.fd)
        registrations[Int(connection.fd)] = nil
        connection.closed()
        connectionCount -= 1
    }

    // MARK: - Timers

    private func expireTimers(now: UInt64) {
        for case let registration? in registrations {
            registration.connection.expireTimers(now: now)
            sync(registration.connection)
        }
    }
}

extension Duration {
    /// The duration in whole nanoseconds, clamped at zero.
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        return UInt64(max(0, seconds)) &* 1_000_000_000 &+ UInt64(max(0, attoseconds) / 1_000_000_000)
    }
}
#endif
