#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// The transport-free heart of the package: authenticates deliveries, resolves their kind,
/// parses their JSON once, and routes each event to the closures registered for it.
///
/// Register handlers, then hand it deliveries from any server:
///
/// ```swift
/// var receiver = WebhookReceiver(authentication: Authentication(hubSecrets: [HubSecret(Secret("s3cr3t"))]))
/// receiver.on(.customerOptOut) { event in
///     print("opted out:", event.payload.customer?.phoneNumbers ?? [])
/// }
/// receiver.onAny { event in print(event.kind) }
///
/// let response = await receiver.respond(to: delivery)  // status, headers, body to send
/// ```
///
/// It works in two steps, so a server can put work between them (the socket server journals
/// each event to disk before acknowledging it):
/// - ``admit(_:now:)`` turns a ``Delivery`` into an ``AnyEvent`` or a ``Rejection``;
/// - ``dispatch(_:)`` runs the matching handlers and reports each one's outcome.
///
/// **Handler order**: ``dispatch(_:)`` and ``respond(to:now:)`` run the matching handlers one
/// after another in registration order (typed and catch-all alike). Every handler runs even when
/// an earlier one failed; a failure never escapes as a crash, it becomes a ``HandlerOutcome`` and
/// is passed to the error hook. The socket server's dispatcher instead runs a delivery's handlers
/// **concurrently**, each with its own retries and journaled progress, so handlers must not rely
/// on each other's order. Different events may always be handled concurrently.
public struct WebhookReceiver: Sendable {
    /// What each delivery must prove; ``Authentication/open`` accepts everything.
    public var authentication: Authentication
    /// How kinds are resolved from the path and the `Prompt-EventType` header.
    public var routing: EventRouting
    /// The registered handlers, in registration order.
    public private(set) var handlers: [Handler] = []
    private var errorHook: (@Sendable (AnyEvent, HandlerError) async -> Void)?

    /// Creates a receiver.
    ///
    /// - Parameters:
    ///   - authentication: What each delivery must prove; defaults to open (accept all).
    ///   - routing: How kinds are found; defaults to events at `/{kind}`.
    public init(authentication: Authentication = .open, routing: EventRouting = EventRouting()) {
        self.authentication = authentication
        self.routing = routing
    }

    // MARK: - Registration

    /// One registered handler.
    public struct Handler: Sendable {
        /// The handler's stable name, used to record its progress in the journal.
        public let name: String
        /// The kind it handles, or `nil` for a catch-all.
        public let kind: EventKind?
        let run: @Sendable (AnyEvent) async throws -> Void
    }

    /// Registers a handler for one kind; the closure receives a typed ``Event``.
    ///
    /// ```swift
    /// receiver.on(.messageAdded, name: "crm") { event in
    ///     try await crm.recordReply(org: event.orgID, json: event.json)
    /// }
    /// ```
    ///
    /// Throwing marks this delivery as failed for this handler: the socket server retries it
    /// with backoff and finally dead-letters it; ``respond(to:now:)`` answers 500.
    ///
    /// - Parameters:
    ///   - type: The event kind and payload type, for example `.messageAdded`.
    ///   - name: A stable name: the journal records progress under it, so a handler that
    ///     succeeded is not run again after a restart. Defaults to the kind and the place of this
    ///     call, `"{kind}@{file}:{line}"`, which does not depend on the order of registrations but
    ///     changes when the call moves (its pending deliveries then run it again, never skip it).
    ///     Give one to anything you deploy.
    ///   - fileID: The calling file, for the default name.
    ///   - line: The calling line, for the default name.
    ///   - handler: The closure to run.
    public mutating func on<Payload>(
        _ type: EventType<Payload>,
        name: String? = nil,
        fileID: String = #fileID,
        line: Int = #line,
        perform handler: @escaping @Sendable (Event<Payload>) async throws -> Void
    ) {
        register(kind: type.kind, name: name ?? "\(type.kind.rawValue)@\(fileID):\(line)") { event in
            try await handler(try Event<Payload>(event))
        }
    }

    /// Registers a catch-all handler that sees every accepted event, unknown kinds included.
    ///
    /// - Parameters:
    ///   - name: A stable name; defaults to `"*@{file}:{line}"` (see
    ///     ``on(_:name:fileID:line:perform:)``).
    ///   - fileID: The calling file, for the default name.
    ///   - line: The calling line, for the default name.
    ///   - handler: The closure to run.
    public mutating func onAny(
        name: String? = nil,
        fileID: String = #fileID,
        line: Int = #line,
        perform handler: @escaping @Sendable (AnyEvent) async throws -> Void
    ) {
        register(kind: nil, name: name ?? "*@\(fileID):\(line)", handler)
    }

    /// Sets the hook told about every handler failure, with the event and the error.
    ///
    /// - Parameter hook: The closure to call; it must not throw.
    public mutating func onError(_ hook: @escaping @Sendable (AnyEvent, HandlerError) async -> Void) {
        errorHook = hook
    }

    private mutating func register(
        kind: EventKind?,
        name: String,
        _ run: @escaping @Sendable (AnyEvent) async throws -> Void
    ) {
        precondition(
            !handlers.contains { $0.name == name },
            "A handler named '\(name)' is already registered; registrations in a loop need a name: each."
        )
        handlers.append(Handler(name: name, kind: kind, run: run))
    }

    /// The handlers that run for a kind, in order.
    ///
    /// - Parameter kind: The event kind.
    /// - Returns: Handlers registered for `kind`, and catch-alls.
    public func handlers(for kind: EventKind) -> [Handler] {
        handlers.filter { $0.kind == nil || $0.kind == kind }
    }

    // MARK: - Admission

    /// Checks the request head alone: route, method and head-only authentication.
    ///
    /// A server calls this as soon as the head has arrived, to answer 400, 401, 404 or 405
    /// before reading (or asking for, with `100 Continue`) the body, and then hands the body to
    /// ``admit(_:head:now:)`` with the head this returned: the route is resolved once.
    ///
    /// ```swift
    /// switch receiver.admitHead(method: method, target: target, headers: headers) {
    /// case .failure(let rejection): return rejection.response       // the body is never read
    /// case .success(let head):
    ///     let body = try await readBody()
    ///     let admission = receiver.admit(Delivery(method: method, target: target,
    ///                                             headers: headers, body: body), head: head)
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - method: The request method.
    ///   - target: The request target.
    ///   - headers: The request headers.
    ///   - now: The current time, for credential expiries.
    /// - Returns: The admitted head, with its resolved kind, or the rejection to answer.
    public func admitHead(
        method: String,
        target: String,
        headers: Headers,
        now: Date = Date()
    ) -> Result<AdmittedHead, Rejection> {
        let kind: EventKind
        switch routing.resolve(target: target, headers: headers) {
        case .outsideBasePath:
            return .failure(
                Rejection(status: 404, reason: .outsideBasePath, message: "The path is not below the base path.")
            )
        case .missingKind:
            return .failure(
                Rejection(
                    status: 404,
                    reason: .missingKind,
                    message: "The request names no event kind in its path or Prompt-EventType header."
                )
            )
        case .unsafePath(let message):
            return .failure(Rejection(status: 400, reason: .unsafePath, message: message))
        case .kind(let resolved):
            kind = resolved
        }
        guard method == "POST" else {
            return .failure(
                Rejection(
                    status: 405,
                    reason: .methodNotAllowed,
                    message: "Events must be POSTed; got \(method).",
                    headers: ["Allow": "POST"]
                )
            )
        }
        do {
            try authentication.verifyHead(headers, now: now)
        } catch {
            return .failure(unauthenticated(error))
        }
        return .success(AdmittedHead(kind: kind))
    }

    /// Decides about a whole delivery: head checks, signature over the exact body bytes, then whether the body is a JSON object.
    ///
    /// The JSON is parsed once, here.
    ///
    /// - Parameters:
    ///   - delivery: The request as received.
    ///   - now: The current time, for credential expiries.
    /// - Returns: The accepted event, or the rejection to answer.
    public func admit(_ delivery: Delivery, now: Date = Date()) -> Admission {
        switch admitHead(method: delivery.method, target: delivery.target, headers: delivery.headers, now: now) {
        case .failure(let rejection): .rejected(rejection)
        case .success(let head): admit(delivery, head: head, now: now)
        }
    }

    /// The body half of ``admit(_:now:)``, for a delivery whose head already passed
    /// ``admitHead(method:target:headers:now:)``: the head checks are not repeated, and the
    /// event gets the kind the head resolved.
    ///
    /// - Parameters:
    ///   - delivery: The request as received; its head must be the one `head` was admitted from.
    ///   - head: What ``admitHead(method:target:headers:now:)`` returned for it.
    ///   - now: The current time, for credential expiries.
    /// - Returns: The accepted event, or the rejection to answer (401 or 400).
    public func admit(_ delivery: Delivery, head: AdmittedHead, now: Date = Date()) -> Admission {
        do {
            try authentication.verifyBody(delivery.headers, body: delivery.body, now: now)
        } catch {
            return .rejected(unauthenticated(error))
        }
        let json: JSONValue
        do {
            json = try JSONValue(parsing: delivery.body)
        } catch {
            return .rejected(
                Rejection(status: 400, reason: .malformedBody, message: "The body is not valid JSON: \(error.message)")
            )
        }
        guard case .object(let object) = json else {
            return .rejected(
                Rejection(
                    status: 400,
                    reason: .malformedBody,
                    message: "The body is JSON but not an object (it is \(json.typeName)); events are JSON objects."
                )
            )
        }
        return .accepted(
            AnyEvent(
                kind: head.kind,
                json: object,
                body: delivery.body,
                headers: delivery.headers,
                receivedAt: delivery.receivedAt
            )
        )
    }

    private func unauthenticated(_ error: AuthenticationError) -> Rejection {
        var headers = Headers()
        if !authentication.basicCredentials.isEmpty {
            headers.append(name: "WWW-Authenticate", value: "Basic realm=\"prompt-events\", charset=\"UTF-8\"")
        }
        return Rejection(
            status: 401,
            reason: .unauthenticated,
            message: error.description,
            headers: headers,
            authenticationError: error
        )
    }

    // MARK: - Dispatch

    /// Runs every handler matching the event's kind, in registration order.
    ///
    /// - Parameter event: An accepted event.
    /// - Returns: Each handler's outcome.
    public func dispatch(_ event: AnyEvent) async -> DispatchReport {
        var outcomes: [HandlerOutcome] = []
        for handler in handlers(for: event.kind) {
            outcomes.append(HandlerOutcome(name: handler.name, kind: event.kind, error: await run(handler, event)))
        }
        return DispatchReport(outcomes: outcomes)
    }

    /// Runs one handler by name, as the journal's dispatcher does for each pending handler.
    ///
    /// - Parameters:
    ///   - name: The handler's name.
    ///   - event: The event.
    /// - Throws: ``HandlerError`` when the handler throws or no handler has that name.
    public func run(handlerNamed name: String, event: AnyEvent) async throws(HandlerError) {
        guard let handler = handlers.first(where: { $0.name == name }) else {
            throw HandlerError(
                handlerName: name,
                kind: event.kind,
                message: "No handler named '\(name)' is registered."
            )
        }
        if let error = await run(handler, event) { throw error }
    }

    private func run(_ handler: Handler, _ event: AnyEvent) async -> HandlerError? {
        do {
            try await handler.run(event)
            return nil
        } catch {
            let failure = HandlerError(handlerName: handler.name, kind: event.kind, underlying: error)
            await errorHook?(event, failure)
            return failure
        }
    }

    // MARK: - One call

    /// Admits a delivery, runs its handlers, and says what to answer.
    ///
    /// For hosts that answer after the handlers have run: 200 when all succeeded, 500 when one
    /// failed (so the sender may retry), or the rejection's status. Nothing is stored: if the
    /// process dies mid-way the sender's retry is the only safety net. Use the socket server's
    /// journal for durable delivery.
    ///
    /// - Parameters:
    ///   - delivery: The request as received.
    ///   - now: The current time, for credential expiries.
    /// - Returns: The response to send.
    public func respond(to delivery: Delivery, now: Date = Date()) async -> WebhookResponse {
        switch admit(delivery, now: now) {
        case .rejected(let rejection):
            return rejection.response
        case .accepted(let event):
            let report = await dispatch(event)
            return report.succeeded
                ? WebhookResponse(status: 200, body: Array("OK\n".utf8))
                : WebhookResponse(status: 500, body: Array("Handler failed\n".utf8))
        }
    }
}

extension JSONValue {
    /// The JSON type's name with an article, for messages: `an array`, `a string`, ….
    fileprivate var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
