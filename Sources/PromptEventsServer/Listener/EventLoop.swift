#if os(Linux)
import CPromptEventsLinux
import Glibc
import PromptEvents

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The single-threaded epoll loop that owns every socket of a listener.
///
/// One thread, level-triggered epoll, one read per wake-up, all state in plain classes touched
/// only by this thread. Other threads talk to it through ``inbox`` plus an eventfd wake-up.
/// Handlers never run here: they run on Swift's concurrency pool, via the sink.
final class EventLoop: @unchecked Sendable {
    // @unchecked: every mutable property below `inbox` is touched by the loop thread only;
    // `inbox` is locked, and `wake` is an eventfd safe to write from any thread.

    enum Message {
        case complete(Ticket, WebhookResponse)
        case shutdown
    }

    private let configuration: WebhookListener.Configuration
    private let receiver: WebhookReceiver
    private let sink: any DeliverySink
    private let observer: @Sendable (ListenerEvent) -> Void
    private let metrics: Metrics
    private let clock: @Sendable () -> UInt64
    private let inbox = Locked<[Message]>([])
    private let wake: WakeSignal
    private let epoll: Epoll

    private var listeners: [(fd: Int32, role: Connection.Role)] = []
    private var connections: [Connection?] = []
    private var connectionCount = 0
    /// Connections not read from until the handlers' backlog shrinks.
    private var parked: [Connection] = []
    private var nextGeneration: UInt64 = 1
    private var draining = false
    private var drainDeadline: UInt64 = 0
    private var pendingCommit: [(Ticket, WebhookResponse, RequestRecord)] = []
    private var deferredRecords: [Ticket: RequestRecord] = [:]
    private var readBuffer: UnsafeMutableRawBufferPointer
    private var lastTimerScan: UInt64 = 0
    private var writer = ResponseWriter()

    /// The bound addresses: events, then metrics (if separate).
    let boundAddress: SocketAddress
    let metricsAddress: SocketAddress?

    init(
        configuration: WebhookListener.Configuration,
        receiver: WebhookReceiver,
        sink: any DeliverySink,
        metrics: Metrics,
        observer: @escaping @Sendable (ListenerEvent) -> Void,
        clock: @escaping @Sendable () -> UInt64
    ) throws(SystemCallError) {
        self.configuration = configuration
        self.receiver = receiver
        self.sink = sink
        self.metrics = metrics
        self.observer = observer
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
        observer(.listening(boundAddress, metrics: metricsAddress))
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
                        readable(connection)
                    }
                    if event.events & Epoll.writable != 0, self.connection(fd) === connection { flush(connection) }
                }
            }
            // Before the commit: the deliveries the resumed connections hold join this turn's batch.
            if !parked.isEmpty, !sink.shouldPauseReading() { unparkAll() }
            commitBatch()
            let now = clock()
            if now &- lastTimerScan >= configuration.timerResolution.nanoseconds {
                lastTimerScan = now
                expireTimeouts(now: now)
            }
            if draining, connectionCount == 0 || now >= drainDeadline { break }
        }
        // The grace period is over: answers still awaited from the handlers (after-handlers
        // mode) are 503, so their senders retry; the deliveries stay pending in the journal.
        for (ticket, record) in deferredRecords {
            guard let connection = connection(ticket.fd), connection.generation == ticket.generation else { continue }
            let response = unavailable("Shutting down\n")
            answer(
                connection,
                ticket.sequence,
                response,
                record: finish(record, status: 503, connection, ticket.sequence)
            )
        }
        deferredRecords.removeAll()
        for index in connections.indices { if let connection = connections[index] { close(connection) } }
        for listener in listeners { Socket.close(listener.fd) }
        listeners.removeAll()
        observer(.stopped)
    }

    /// Back-pressure: parks a connection at an event head while the handlers are behind.
    ///
    /// The request whose head just arrived waits, and the rest waits in the socket (the sender
    /// waits) rather than in memory. Heads are still read, so `/healthz` and the other reserved
    /// routes are answered at once.
    private func park(_ connection: Connection, holding head: RequestHead) {
        connection.heldHead = head
        parked.append(connection)
        updateInterest(connection)
    }

    private func unparkAll() {
        let resumed = parked
        parked.removeAll(keepingCapacity: true)
        let now = clock()
        for connection in resumed where self.connection(connection.fd) === connection {
            guard let head = connection.heldHead else { continue }
            connection.heldHead = nil
            // Time spent parked is the server's, not the client's: timeouts start again.
            connection.lastReadAt = now
            connection.requestStartedAt = now
            receivedHead(head, isReserved: false, on: connection)
            parseRequests(connection)
        }
    }

    private func connection(_ fd: Int32) -> Connection? {
        fd >= 0 && Int(fd) < connections.count ? connections[Int(fd)] : nil
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
                let record = deferredRecords.removeValue(forKey: ticket)
                guard let connection = connection(ticket.fd), connection.generation == ticket.generation else {
                    continue
                }
                answer(
                    connection,
                    ticket.sequence,
                    response,
                    record: record.map { finish($0, status: response.status, connection, ticket.sequence) }
                )
            }
        }
    }

    private func beginDraining() {
        guard !draining else { return }
        draining = true
        drainDeadline = clock() &+ configuration.shutdownGracePeriod.nanoseconds
        observer(.draining)
        for listener in listeners {
            epoll.remove(listener.fd)
            Socket.close(listener.fd)
        }
        listeners.removeAll()
        // Parked heads are answered now: 503 "Shutting down", so their senders retry elsewhere.
        unparkAll()
        for index in connections.indices {
            if let connection = connections[index], connection.isIdle { close(connection) }
        }
    }

    // MARK: - Accepting

    private func acceptConnections(on listener: Int32, role: Connection.Role) {
        while true {
            let accepted: Int32?
            do {
                accepted = try Socket.accept(listener)
            } catch {
                // EMFILE/ENFILE: out of descriptors. Stop accepting this turn; the backlog waits.
                observer(.warning("accept failed: \(error)"))
                return
            }
            guard let fd = accepted else { return }
            if connectionCount >= configuration.maxConnections {
                refuseOverCapacity(fd)
                continue
            }
            let connection = Connection(
                fd: fd,
                generation: nextGeneration,
                role: role,
                limits: configuration.limits,
                now: clock()
            )
            nextGeneration &+= 1
            if Int(fd) >= connections.count {
                connections.append(contentsOf: repeatElement(nil, count: Int(fd) + 1 - connections.count))
            }
            connections[Int(fd)] = connection
            connectionCount += 1
            connection.interest = Epoll.readable
            do {
                try epoll.add(fd, events: connection.interest)
            } catch {
                close(connection)
            }
        }
    }

    /// Beyond the connection limit: one 503 with `Retry-After`, then close.
    private func refuseOverCapacity(_ fd: Int32) {
        metrics.recordRejected(reason: "over_capacity")
        var headers = Headers()
        headers.append(name: "Retry-After", value: "1")
        let bytes = serialize(
            WebhookResponse(status: 503, headers: headers, body: Array("Too many connections\n".utf8)),
            isHead: false,
            keepAlive: false,
            version: .http11
        )
        _ = bytes.withUnsafeBytes { Socket.send(fd, $0) }
        Socket.close(fd)
    }

    // MARK: - Reading and parsing

    private func readable(_ connection: Connection) {
        if connection.stopReading {
            // Nothing more will be read; if the peer hung up, we are done with it.
            let result = Socket.read(connection.fd, into: readBuffer)
            if case .bytes = result { return }
            if case .wouldBlock = result { return }
            close(connection)
            return
        }
        switch Socket.read(connection.fd, into: readBuffer) {
        case .bytes(let count):
            let now = clock()
            connection.lastReadAt = now
            if connection.requestStartedAt == nil { connection.requestStartedAt = now }
            connection.parser.append(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
            parseRequests(connection)
        case .wouldBlock:
            return
        case .endOfFile, .failed:
            close(connection)
        }
    }

    private func parseRequests(_ connection: Connection) {
        connection.pausedForRoom = false
        parsing: while !connection.stopReading, connection.heldHead == nil {
            guard connection.slots.count < configuration.maxPipelinedRequests else {
                // Back-pressure: stop reading until answers free room (see `flush`).
                connection.pausedForRoom = true
                break
            }
            let next: RequestParser.Event?
            do {
                next = try connection.parser.next()
            } catch {
                respondToFramingError(connection, error)
                return
            }
            guard let next else { break }
            switch next {
            case .head(let head):
                if connection.requestStartedAt == nil { connection.requestStartedAt = clock() }
                let isReserved = ReservedRoutes.isReserved(head, role: connection.role)
                if !isReserved, !draining, sink.shouldPauseReading() {
                    park(connection, holding: head)
                    break parsing
                }
                receivedHead(head, isReserved: isReserved, on: connection)
            case .end(let body):
                guard let head = connection.head else { break }
                connection.head = nil
                receivedRequest(head, body: body, on: connection)
                connection.requestStartedAt = connection.parser.hasBufferedBytes ? clock() : nil
            }
        }
        updateInterest(connection)
        flush(connection)
    }

    private func receivedHead(_ head: RequestHead, isReserved: Bool, on connection: Connection) {
        connection.head = head
        connection.admittedHead = nil
        connection.headIsReserved = isReserved
        if isReserved { return }
        // Every request to a webhook route, whatever happens to it next.
        metrics.recordReceived()
        if draining || !sink.isAccepting {
            return answerNow(
                connection,
                head,
                unavailable(draining ? "Shutting down\n" : "Journal unavailable\n"),
                close: true
            )
        }
        switch receiver.admitHead(method: head.method, target: head.originFormTarget, headers: head.headers) {
        case .success(let admitted):
            connection.admittedHead = admitted
        case .failure(let rejection):
            // The body has not been read: answer and close rather than skip it.
            metrics.recordRejected(
                reason: rejection.authenticationError.map { "\($0.code)" } ?? rejection.reason.rawValue
            )
            return answerNow(
                connection,
                head,
                rejection.response,
                close: true,
                reason: rejection.authenticationError.map { "\($0.code)" } ?? rejection.reason.rawValue
            )
        }
        if head.expectsContinue, head.framing != .none {
            ResponseWriter.writeContinue(into: &connection.output)
        }
    }

    private func receivedRequest(_ head: RequestHead, body: [UInt8], on connection: Connection) {
        let target = head.originFormTarget
        if connection.headIsReserved {
            // `/metrics` is served on the metrics port when there is one, else on this one.
            let servesMetrics = configuration.metricsPort == nil || connection.role == .metricsOnly
            let response = ReservedRoutes.answer(
                head,
                role: connection.role,
                draining: draining,
                metrics: servesMetrics ? metrics : nil
            )
            return answerNow(connection, head, response, close: !head.keepAlive)
        }
        let delivery = Delivery(method: head.method, target: target, headers: head.headers, body: body)
        // Set by `receivedHead`: a head that was not admitted is answered before its body is read.
        let admitted = connection.admittedHead
        let admission = admitted.map { receiver.admit(delivery, head: $0) } ?? receiver.admit(delivery)
        switch admission {
        case .rejected(let rejection):
            var response = rejection.response
            var reason = rejection.authenticationError.map { "\($0.code)" } ?? rejection.reason.rawValue
            // A body that is not JSON passed authentication: counted as authenticated, kept.
            if rejection.isAuthenticated { metrics.recordAuthenticated() }
            if rejection.isAuthenticated, let kind = admitted?.kind,
                !sink.keepDeadLetter(delivery, kind: kind, reason: rejection.message)
            {
                response = unavailable("Journal unavailable\n")
                reason = "journal_unavailable"
            }
            metrics.recordRejected(reason: reason)
            answerNow(connection, head, response, close: !head.keepAlive, reason: reason, bodyBytes: body.count)
        case .accepted(let event):
            metrics.recordAuthenticated()
            let sequence = connection.reserveSlot(
                startedAt: connection.requestStartedAt ?? clock(),
                for: head,
                closeAfter: !head.keepAlive
            )
            // RFC 9112 §9.6: nothing after a request that closes the connection is processed.
            if !head.keepAlive { connection.stopReading = true }
            let ticket = Ticket(fd: connection.fd, generation: connection.generation, sequence: sequence)
            var record = RequestRecord(
                method: head.method,
                path: pathOnly(target),
                status: 0,
                kind: event.kind,
                bodyBytes: body.count
            )
            switch sink.accept(event, ticket: ticket) {
            case .respond(let response, let deliveryID, let duplicate):
                record.deliveryID = deliveryID
                record.duplicate = duplicate
                if response.status == 503 {
                    // The journal could not take it (full, or failing): counted and logged with why.
                    record.reason = "journal_unavailable"
                    metrics.recordRejected(reason: "journal_unavailable")
                }
                answer(
                    connection,
                    sequence,
                    response,
                    record: finish(record, status: response.status, connection, sequence)
                )
            case .respondAfterCommit(let response, let deliveryID, let duplicate):
                record.deliveryID = deliveryID
                record.duplicate = duplicate
                pendingCommit.append((ticket, response, record))
            case .respondLater(let deliveryID):
                record.deliveryID = deliveryID
                deferredRecords[ticket] = record
            }
        }
    }

    private func unavailable(_ text: String) -> WebhookResponse {
        WebhookResponse(status: 503, headers: ["Retry-After": "5"], body: Array(text.utf8))
    }

    private func respondToFramingError(_ connection: Connection, _ error: HTTPParseError) {
        metrics.recordRejected(reason: error.reason.label)
        let sequence = connection.reserveSlot(
            startedAt: connection.requestStartedAt ?? clock(),
            for: connection.head,
            closeAfter: true
        )
        let response = WebhookResponse(status: error.status, body: Array((error.description + "\n").utf8))
        let record = RequestRecord(
            method: connection.head?.method ?? "-",
            path: connection.head.map { pathOnly($0.originFormTarget) } ?? "-",
            status: error.status,
            reason: error.reason.label
        )
        connection.stopReading = true
        answer(connection, sequence, response, record: finish(record, status: error.status, connection, sequence))
    }

    // MARK: - Answering

    private func answerNow(
        _ connection: Connection,
        _ head: RequestHead,
        _ response: WebhookResponse,
        close: Bool,
        reason: String? = nil,
        bodyBytes: Int = 0
    ) {
        let sequence = connection.reserveSlot(
            startedAt: connection.requestStartedAt ?? clock(),
            for: head,
            closeAfter: close
        )
        let record = RequestRecord(
            method: head.method,
            path: pathOnly(head.originFormTarget),
            status: response.status,
            bodyBytes: bodyBytes,
            reason: reason
        )
        answer(connection, sequence, response, record: finish(record, status: response.status, connection, sequence))
        if close {
            connection.stopReading = true
            connection.head = nil
        }
    }

    /// Fills a request's slot with its answer; the one place an answer's bytes are built, from
    /// what the slot recorded of its request (version, method, whether it closes).
    private func answer(
        _ connection: Connection,
        _ sequence: UInt64,
        _ response: WebhookResponse,
        record: RequestRecord?
    ) {
        guard let slot = connection.slots.first(where: { $0.sequence == sequence }) else { return }
        let keepAlive = !slot.closeAfter && !draining
        let bytes = serialize(response, isHead: slot.isHead, keepAlive: keepAlive, version: slot.version)
        _ = connection.fill(sequence, bytes: bytes, closeAfter: !keepAlive, record: record)
        emit(connection.moveReadySlotsToOutput())
        flush(connection)
    }

    private func finish(_ record: RequestRecord, status: Int, _ connection: Connection, _ sequence: UInt64)
        -> RequestRecord
    {
        var record = record
        record.status = status
        let started = connection.slots.first { $0.sequence == sequence }?.startedAt ?? clock()
        record.latency = .nanoseconds(Int64(clock() &- started))
        return record
    }

    private func emit(_ records: [RequestRecord]) {
        for record in records {
            observer(.request(record))
        }
    }

    private func commitBatch() {
        guard !pendingCommit.isEmpty || sink.hasUncommitted else { return }
        let batch = pendingCommit
        pendingCommit.removeAll(keepingCapacity: true)
        let failure = sink.commit()
        for (ticket, response, record) in batch {
            guard let connection = connection(ticket.fd), connection.generation == ticket.generation else { continue }
            let final = failure ?? response
            answer(
                connection,
                ticket.sequence,
                final,
                record: finish(record, status: final.status, connection, ticket.sequence)
            )
        }
    }

    private func serialize(_ response: WebhookResponse, isHead: Bool, keepAlive: Bool, version: HTTPVersion)
        -> [UInt8]
    {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(160 + response.body.count)
        writer.writeResponse(
            status: response.status,
            headers: response.headers,
            body: response.body,
            isHeadRequest: isHead,
            keepAlive: keepAlive,
            clientVersion: version,
            epochSeconds: Int64(time(nil)),
            into: &bytes
        )
        return bytes
    }

    // MARK: - Writing

    private func flush(_ connection: Connection) {
        while connection.outputOffset < connection.output.count {
            let result = connection.output.withUnsafeBytes { buffer in
                Socket.send(connection.fd, UnsafeRawBufferPointer(rebasing: buffer[connection.outputOffset...]))
            }
            switch result {
            case .bytes(let count):
                connection.outputOffset += count
            case .wouldBlock:
                updateInterest(connection)
                return
            case .endOfFile, .failed:
                close(connection)
                return
            }
        }
        connection.output.removeAll(keepingCapacity: connection.output.capacity <= 64 * 1024)
        connection.outputOffset = 0
        if connection.closeAfterFlush || (draining && connection.isIdle) {
            close(connection)
            return
        }
        // Answers freed pipeline room: continue with the requests already buffered.
        if connection.pausedForRoom, connection.slots.count < configuration.maxPipelinedRequests {
            parseRequests(connection)
            return
        }
        updateInterest(connection)
    }

    private func updateInterest(_ connection: Connection) {
        guard self.connection(connection.fd) === connection else { return }
        var interest: UInt32 = 0
        if connection.slots.count < configuration.maxPipelinedRequests, connection.heldHead == nil {
            interest |= Epoll.readable
        }
        if connection.outputOffset < connection.output.count { interest |= Epoll.writable }
        if interest != connection.interest {
            connection.interest = interest
            epoll.modify(connection.fd, events: interest)
        }
    }

    private func close(_ connection: Connection) {
        guard self.connection(connection.fd) === connection else { return }
        epoll.remove(connection.fd)
        Socket.close(connection.fd)
        connections[Int(connection.fd)] = nil
        connectionCount -= 1
    }

    // MARK: - Timeouts

    private func expireTimeouts(now: UInt64) {
        for index in connections.indices {
            // A parked connection waits for the server, not the other way round.
            guard let connection = connections[index], !connection.stopReading, connection.heldHead == nil else {
                continue
            }
            if let started = connection.requestStartedAt {
                let waiting =
                    connection.head == nil
                    ? now &- started > configuration.headTimeout.nanoseconds
                    : now &- connection.lastReadAt > configuration.bodyTimeout.nanoseconds
                if waiting {
                    metrics.recordRejected(reason: "request_timeout")
                    let head = connection.head ?? RequestHead.placeholder
                    answerNow(
                        connection,
                        head,
                        WebhookResponse(status: 408, body: Array("Request Timeout\n".utf8)),
                        close: true,
                        reason: "request_timeout"
                    )
                    updateInterest(connection)
                }
            } else if connection.isIdle, now &- connection.lastReadAt > configuration.idleTimeout.nanoseconds {
                close(connection)
            }
        }
    }
}

extension RequestHead {
    /// Stands in for a request whose head never completed (a timeout while reading it).
    fileprivate static let placeholder = RequestHead(
        method: "-",
        target: "-",
        targetForm: .origin,
        version: .http11,
        headers: Headers(),
        keepAlive: false,
        expectsContinue: false,
        framing: .none
    )
}

/// `bodyTooLarge` → `body_too_large`, so every reason label in logs and metrics reads alike.
private func pathOnly(_ target: String) -> String {
    guard let question = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return target }
    return String(target[..<question])
}

extension Duration {
    /// The duration in whole nanoseconds, clamped at zero.
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        return UInt64(max(0, seconds)) &* 1_000_000_000 &+ UInt64(max(0, attoseconds) / 1_000_000_000)
    }
}
#endif
