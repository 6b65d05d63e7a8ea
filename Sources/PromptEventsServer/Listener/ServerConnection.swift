import PromptEvents

/// One client connection as a sans-IO state machine: bytes, timer ticks, "the commit is done"
/// and late answers go in; bytes to write, whether to read, and whether to close come out.
///
/// It never touches a socket or a clock (every input carries `now`, monotonic nanoseconds), so
/// the whole of a connection's behaviour — pipelining, every split of a request's bytes,
/// `100-continue`, back-pressure, timeouts, closing — runs in-process in tests, byte for byte.
/// The driver (``EventLoop``, or a test) reads ``pendingOutput``, reports what it wrote with
/// ``didWrite(_:now:)``, reads from the socket while ``wantsToRead`` holds, and closes once
/// ``isFinished``.
///
/// The state is one enum; a transition that cannot happen traps with the state in the message.
final class ServerConnection {
    /// What a connection may ask for: everything, or only health and metrics.
    enum Role {
        case events
        case metricsOnly
    }

    /// Where the request being read goes once its body is in.
    enum Route {
        /// `/`, `/healthz` or `/metrics`: answered by the listener itself.
        case reserved
        /// An event whose head the receiver admitted (its checks are not repeated for the body).
        case event(AdmittedHead)
    }

    /// What the connection is doing; `since` is when the current request's first byte arrived.
    enum State {
        /// Between requests, nothing of the next one buffered.
        case idle
        /// Part of a request head has arrived.
        case readingHead(since: UInt64)
        /// A head was routed; its body is being read.
        case readingBody(RequestHead, Route, since: UInt64)
        /// Back-pressure: an event head arrived while the handlers' backlog was full. Held, and
        /// nothing more read, until ``resume(now:)``; heads of reserved routes are still served
        /// because they are read before a head is held.
        case parked(RequestHead, since: UInt64)
        /// Pipelining back-pressure: `maxPipelinedRequests` answers are pending; buffered bytes
        /// wait until answers leave.
        case waitingForRoom
        /// Nothing more is read: once the queued answers are written (the last one says
        /// `Connection: close`), the connection closes.
        case closing
        /// Closed by the driver; every input is ignored.
        case closed
    }

    let fd: Int32
    let generation: UInt64
    let role: Role
    private let context: ServerContext
    private(set) var state: State = .idle
    private var parser: RequestParser
    private var answers = AnswerQueue()
    private var output: [UInt8] = []
    private var outputOffset = 0
    /// When bytes last arrived (the idle and body timeouts count from it).
    private var lastReadAt: UInt64

    /// Creates the state for an accepted connection.
    ///
    /// - Parameters:
    ///   - fd: The descriptor, part of the tickets that route late answers back here.
    ///   - generation: Distinguishes this connection from an earlier one on the same descriptor.
    ///   - role: What the connection may ask for.
    ///   - context: What the listener's connections share.
    ///   - now: Monotonic nanoseconds.
    init(fd: Int32, generation: UInt64, role: Role, context: ServerContext, now: UInt64) {
        self.fd = fd
        self.generation = generation
        self.role = role
        self.context = context
        self.parser = RequestParser(limits: context.configuration.limits)
        self.lastReadAt = now
    }

    // MARK: - Outputs

    /// The bytes to write next (empty when there are none).
    var pendingOutput: ArraySlice<UInt8> { output[outputOffset...] }

    /// Whether the driver should read from the socket (it still reads while closing, to notice
    /// a hang-up; what arrives then is discarded).
    var wantsToRead: Bool {
        switch state {
        case .parked, .waitingForRoom, .closed: false
        case .idle, .readingHead, .readingBody, .closing: true
        }
    }

    /// Whether the connection is done: close it now.
    var isFinished: Bool {
        guard case .closing = state else { return false }
        return answers.isEmpty && outputOffset == output.count
    }

    /// Whether nothing is in progress: no partial request, no answer pending or unsent.
    var isIdle: Bool {
        guard case .idle = state else { return false }
        return answers.isEmpty && outputOffset == output.count
    }

    // MARK: - Inputs

    /// Bytes arrived from the peer.
    func received(_ bytes: UnsafeRawBufferPointer, now: UInt64) {
        lastReadAt = now
        switch state {
        case .closing, .closed:
            return  // RFC 9112 §9.6: nothing after a closing request is processed.
        case .idle:
            state = .readingHead(since: now)
        case .readingHead, .readingBody, .parked, .waitingForRoom:
            break
        }
        parser.append(bytes)
        parse(now: now)
    }

    /// The driver wrote `count` bytes of ``pendingOutput``.
    func didWrite(_ count: Int, now: UInt64) {
        outputOffset += count
        guard outputOffset == output.count else { return }
        output.removeAll(keepingCapacity: output.capacity <= 64 * 1024)
        outputOffset = 0
        // Answers freed pipeline room, and the client reads them: go on with buffered requests.
        if case .waitingForRoom = state { parse(now: now) }
    }

    /// The group commit this connection's answers waited for is done: each waiting answer is
    /// sent, or the outcome's failure (a 503) instead, or the duplicate answer for a delivery
    /// found to repeat another instance's.
    func commitFinished(_ outcome: CommitOutcome, now: UInt64) {
        answers.commitFinished(outcome)
        queueReadyAnswers(now: now)
    }

    /// The handlers finished the request with ticket `sequence` (after-handlers mode).
    func answer(_ sequence: UInt64, with response: WebhookResponse, now: UInt64) {
        guard answers.answer(sequence, with: response) else { return }
        queueReadyAnswers(now: now)
    }

    /// The handlers' backlog shrank: a parked head is admitted and reading goes on.
    ///
    /// Time spent parked is the server's, not the client's: the request's timers start again.
    func resume(now: UInt64) {
        guard case .parked(let head, _) = state else { return }
        lastReadAt = now
        admit(head, since: now, now: now)
        parse(now: now)
    }

    /// Timers: a head or body too slow is answered 408; an idle connection is closed.
    func expireTimers(now: UInt64) {
        let configuration = context.configuration
        switch state {
        case .readingHead(let since) where now &- since > configuration.headTimeout.nanoseconds:
            requestTimedOut(head: nil, since: since, now: now)
        case .readingBody(let head, _, let since) where now &- lastReadAt > configuration.bodyTimeout.nanoseconds:
            requestTimedOut(head: head, since: since, now: now)
        case .idle where isIdle && now &- lastReadAt > configuration.idleTimeout.nanoseconds:
            state = .closing
        default:
            // Parked and waiting-for-room connections wait for the server, not the other way round.
            break
        }
    }

    /// Shutdown began (``ServerContext/beginDraining()`` was called): nothing new is read; a
    /// request in progress is finished and its answer closes the connection.
    func beginDraining(now: UInt64) {
        switch state {
        case .idle, .waitingForRoom:
            state = .closing
            queueReadyAnswers(now: now)  // the last answer, if ready, now says `Connection: close`
        case .parked:
            resume(now: now)  // answered 503 "Shutting down", so the sender retries elsewhere
        case .readingHead, .readingBody, .closing, .closed:
            break
        }
    }

    /// The grace period is over: answers still awaited from the handlers are 503, so their
    /// senders retry (the deliveries stay pending in the journal).
    func abandonAwaitedAnswers(now: UInt64) {
        answers.abandonAwaited(with: Self.unavailable("Shutting down\n"))
        state = .closing
        queueReadyAnswers(now: now)
    }

    /// The driver closed the socket.
    func closed() {
        state = .closed
    }

    // MARK: - Parsing

    private func parse(now: UInt64) {
        let maximumPending = context.configuration.maxPipelinedRequests
        while true {
            switch state {
            case .closing, .closed, .parked:
                return
            case .waitingForRoom:
                guard answers.count < maximumPending, outputOffset == output.count else { return }
                state = parser.hasBufferedBytes ? .readingHead(since: now) : .idle
            case .idle, .readingHead:
                guard answers.count < maximumPending else {
                    state = .waitingForRoom
                    return
                }
            case .readingBody:
                break
            }
            let event: RequestParser.Event?
            do {
                event = try parser.next()
            } catch {
                return framingError(error, now: now)
            }
            switch event {
            case nil:
                return
            case .head(let head):
                receivedHead(head, now: now)
            case .end(let body):
                receivedBody(body, now: now)
            }
        }
    }

    private func receivedHead(_ head: RequestHead, now: UInt64) {
        let since: UInt64
        switch state {
        case .readingHead(let started): since = started
        case .idle: since = now
        default: preconditionFailure("a request head arrived while the connection was \(state)")
        }
        if ReservedRoutes.isReserved(head, role: role) {
            state = .readingBody(head, .reserved, since: since)
        } else if !context.isDraining, context.sink.shouldPauseReading() {
            state = .parked(head, since: since)
            context.park(self)
        } else {
            admit(head, since: since, now: now)
        }
    }

    /// Admits an event head (route, method, authentication that needs no body) or answers it.
    private func admit(_ head: RequestHead, since: UInt64, now: UInt64) {
        // Every request to a webhook route, whatever happens to it next.
        context.metrics.recordReceived()
        if context.isDraining {
            return answerAndClose(head, Self.unavailable("Shutting down\n"), reason: nil, since: since, now: now)
        }
        let admission = context.receiver.admitHead(
            method: head.method,
            target: head.originFormTarget,
            headers: head.headers
        )
        switch admission {
        case .success(let admitted):
            state = .readingBody(head, .event(admitted), since: since)
            // RFC 9110 §10.1.1: a server MAY omit the interim response; it does so behind
            // pipelined answers, which must leave first.
            if head.expectsContinue, head.framing != .none, answers.isEmpty {
                ResponseWriter.writeContinue(into: &output)
            }
        case .failure(let rejection):
            // The body has not been read: answer and close rather than skip it.
            let reason = rejection.authenticationError.map { "\($0.code)" } ?? rejection.reason.rawValue
            context.metrics.recordRejected(reason: reason)
            answerAndClose(head, rejection.response, reason: reason, since: since, now: now)
        }
    }

    private func receivedBody(_ body: [UInt8], now: UInt64) {
        guard case .readingBody(let head, let route, let since) = state else {
            preconditionFailure("a request body ended while the connection was \(state)")
        }
        // Decided first, so an answer queued below knows whether it is the last one.
        if !head.keepAlive || context.isDraining {
            state = .closing  // RFC 9112 §9.6: nothing after a closing request is processed
        } else {
            state = parser.hasBufferedBytes ? .readingHead(since: now) : .idle
        }
        switch route {
        case .reserved:
            // `/metrics` is served on the metrics port when there is one, else on this one.
            let servesMetrics = context.configuration.metricsPort == nil || role == .metricsOnly
            let response = ReservedRoutes.answer(
                head,
                role: role,
                health: context.isDraining
                    ? .draining : context.sink.unavailability.map { .storeUnavailable($0) } ?? .serving,
                metrics: servesMetrics ? context.metrics : nil
            )
            reserveAnswer(head, record(head), .ready(response), since: since, now: now)
        case .event(let admitted):
            deliver(head, body: body, admitted: admitted, since: since, now: now)
        }
    }

    private func deliver(_ head: RequestHead, body: [UInt8], admitted: AdmittedHead, since: UInt64, now: UInt64) {
        let delivery = Delivery(method: head.method, target: head.originFormTarget, headers: head.headers, body: body)
        let metrics = context.metrics
        switch context.receiver.admit(delivery, head: admitted) {
        case .rejected(let rejection):
            var response = rejection.response
            var reason = rejection.authenticationError.map { "\($0.code)" } ?? rejection.reason.rawValue
            // A body that is not JSON passed authentication: counted as authenticated, kept.
            if rejection.isAuthenticated {
                metrics.recordAuthenticated()
                if !context.sink.keepDeadLetter(delivery, kind: admitted.kind, reason: rejection.message) {
                    response = Self.unavailable("Journal unavailable\n")
                    reason = "journal_unavailable"
                }
            }
            metrics.recordRejected(reason: reason)
            var record = record(head)
            record.bodyBytes = body.count
            record.reason = reason
            reserveAnswer(head, record, .ready(response), since: since, now: now)
        case .accepted(let event):
            metrics.recordAuthenticated()
            var record = record(head)
            record.kind = event.kind
            record.bodyBytes = body.count
            let ticket = Ticket(fd: fd, generation: generation, sequence: answers.nextSequence)
            let answer: AnswerQueue.Answer
            switch context.sink.accept(event, ticket: ticket) {
            case .respond(let response, let deliveryID, let duplicate):
                record.deliveryID = deliveryID
                record.duplicate = duplicate
                if response.status == 503 {
                    // The journal could not take it (full, or failing): counted and logged with why.
                    record.reason = "journal_unavailable"
                    metrics.recordRejected(reason: "journal_unavailable")
                }
                answer = .ready(response)
            case .respondAfterCommit(let response, let deliveryID, let duplicate):
                record.deliveryID = deliveryID
                record.duplicate = duplicate
                if !answers.awaitsCommit { context.awaitCommit(self) }
                answer = .afterCommit(response)
            case .respondLater(let deliveryID):
                record.deliveryID = deliveryID
                answer = .afterHandlers
            }
            reserveAnswer(head, record, answer, since: since, now: now)
        }
    }

    private func framingError(_ error: HTTPParseError, now: UInt64) {
        context.metrics.recordRejected(reason: error.reason.label)
        let response = WebhookResponse(status: error.status, body: Array((error.description + "\n").utf8))
        let head: RequestHead?
        let since: UInt64
        switch state {
        case .readingBody(let current, _, let started): (head, since) = (current, started)
        case .readingHead(let started): (head, since) = (nil, started)
        default: (head, since) = (nil, now)
        }
        var record = head.map(record) ?? RequestRecord(method: "-", path: "-", status: 0)
        record.reason = error.reason.label
        state = .closing
        reserveAnswer(head, record, .ready(response), since: since, now: now)
    }

    private func requestTimedOut(head: RequestHead?, since: UInt64, now: UInt64) {
        context.metrics.recordRejected(reason: "request_timeout")
        var record = head.map(record) ?? RequestRecord(method: "-", path: "-", status: 0)
        record.reason = "request_timeout"
        state = .closing
        let response = WebhookResponse(status: 408, body: Array("Request Timeout\n".utf8))
        reserveAnswer(head, record, .ready(response), since: since, now: now)
    }

    // MARK: - Answering

    private func answerAndClose(
        _ head: RequestHead,
        _ response: WebhookResponse,
        reason: String?,
        since: UInt64,
        now: UInt64
    ) {
        var record = record(head)
        record.reason = reason
        state = .closing
        reserveAnswer(head, record, .ready(response), since: since, now: now)
    }

    private func record(_ head: RequestHead) -> RequestRecord {
        RequestRecord(method: head.method, path: pathOnly(head.originFormTarget), status: 0)
    }

    /// Takes the next place in the answer order, and writes what is ready.
    private func reserveAnswer(
        _ head: RequestHead?,
        _ record: RequestRecord,
        _ answer: AnswerQueue.Answer,
        since: UInt64,
        now: UInt64
    ) {
        answers.reserve(
            version: head?.version ?? .http11,
            isHead: head?.method == "HEAD",
            record: record,
            answer: answer,
            since: since
        )
        queueReadyAnswers(now: now)
    }

    /// Moves the ready answers at the front of the order into the output, serialised; the last
    /// answer of a closing connection says `Connection: close`.
    private func queueReadyAnswers(now: UInt64) {
        let closing = if case .closing = state { true } else { false }
        answers.departReady(closing: closing) { departure in
            if outputOffset == output.count {
                output.removeAll(keepingCapacity: true)
                outputOffset = 0
            }
            context.serialize(
                departure.response,
                isHead: departure.place.isHead,
                keepAlive: !departure.isLast,
                version: departure.place.version,
                into: &output
            )
            var record = departure.place.record
            record.status = departure.response.status
            record.latency = .nanoseconds(Int64(bitPattern: now &- departure.place.startedAt))
            context.observer(.request(record))
        }
    }

    private static func unavailable(_ text: String) -> WebhookResponse {
        WebhookResponse(status: 503, headers: ["Retry-After": "5"], body: Array(text.utf8))
    }
}

/// The path of a request target, without its query.
private func pathOnly(_ target: String) -> String {
    guard let question = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return target }
    return String(target[..<question])
}
