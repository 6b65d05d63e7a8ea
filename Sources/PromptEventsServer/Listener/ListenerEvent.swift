public import PromptEvents

/// Something the listener reports: it never prints, it tells its observer.
///
/// The `prompt-listen` binary turns these into log lines; tests and embedding apps can collect
/// them, count them, or forward them to their own logging.
///
/// The set of kinds is open, like `AuthenticationError.Code` in PromptEvents: a later version may
/// report more kinds, and code written today keeps compiling. Read the payload through the
/// property named after its kind, and let everything else fall through:
///
/// ```swift
/// let listener = try WebhookListener(receiver: receiver, configuration: configuration) { event in
///     if let (address, _) = event.listening { print("listening on", address.url) }
///     if let record = event.request, record.status >= 400 { print(record.status, record.path) }
///     if let message = event.warning { print("warning:", message) }
///     if event.kind == .stopped { print("stopped") }
/// }
/// ```
public struct ListenerEvent: Sendable, CustomStringConvertible {
    /// What kind of thing happened; an open set.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        /// The kind's name, for example `request`.
        public let description: String

        private init(_ name: String) { description = name }

        /// The listener is accepting connections (``ListenerEvent/listening``).
        public static let listening = Kind("listening")
        /// A request was answered (``ListenerEvent/request``).
        public static let request = Kind("request")
        /// Shutdown began: no new connections, in-flight requests finishing.
        public static let draining = Kind("draining")
        /// The listener stopped; every connection is closed.
        public static let stopped = Kind("stopped")
        /// A handler attempt failed, a delivery was dead-lettered, or another non-fatal problem
        /// (``ListenerEvent/warning``).
        public static let warning = Kind("warning")
    }

    private enum Payload: Sendable {
        case none
        case listening(SocketAddress, metrics: SocketAddress?)
        case request(RequestRecord)
        case warning(String)
    }

    /// What happened.
    public let kind: Kind
    private let payload: Payload

    private init(_ kind: Kind, _ payload: Payload) {
        self.kind = kind
        self.payload = payload
    }

    /// The listener is accepting connections; `metrics` is the separate metrics address, if any.
    ///
    /// - Parameters:
    ///   - address: The bound address.
    ///   - metrics: The separate metrics address.
    /// - Returns: The event.
    public static func listening(_ address: SocketAddress, metrics: SocketAddress?) -> ListenerEvent {
        ListenerEvent(.listening, .listening(address, metrics: metrics))
    }

    /// A request was answered.
    ///
    /// - Parameter record: What was answered.
    /// - Returns: The event.
    public static func request(_ record: RequestRecord) -> ListenerEvent {
        ListenerEvent(.request, .request(record))
    }

    /// A non-fatal problem.
    ///
    /// - Parameter message: One line, free of secrets.
    /// - Returns: The event.
    public static func warning(_ message: String) -> ListenerEvent {
        ListenerEvent(.warning, .warning(message))
    }

    /// Shutdown began.
    public static let draining = ListenerEvent(.draining, .none)
    /// The listener stopped.
    public static let stopped = ListenerEvent(.stopped, .none)

    /// The bound address and the separate metrics address, for a ``Kind/listening`` event.
    public var listening: (address: SocketAddress, metrics: SocketAddress?)? {
        if case .listening(let address, let metrics) = payload { return (address, metrics) }
        return nil
    }

    /// The answered request, for a ``Kind/request`` event.
    public var request: RequestRecord? {
        if case .request(let record) = payload { return record }
        return nil
    }

    /// The message, for a ``Kind/warning`` event.
    public var warning: String? {
        if case .warning(let message) = payload { return message }
        return nil
    }

    /// The kind and its payload, for debugging.
    public var description: String {
        switch payload {
        case .none: "\(kind)"
        case .listening(let address, let metrics): "listening(\(address), metrics: \(metrics.map { "\($0)" } ?? "-"))"
        case .request(let record): "request(\(record.method) \(record.path) \(record.status))"
        case .warning(let message): "warning(\(message))"
        }
    }
}

/// One answered request, for access logs and metrics.
///
/// Never contains secrets or bodies.
public struct RequestRecord: Sendable, Hashable {
    /// The request method, or `-` when the request line was unreadable.
    public var method: String
    /// The request target's path, without the query string.
    public var path: String
    /// The status answered.
    public var status: Int
    /// The event kind, for event deliveries.
    public var kind: EventKind?
    /// The number of body bytes received.
    public var bodyBytes: Int
    /// Time from the request's first byte to the response being queued.
    public var latency: Duration
    /// Why the request was rejected (a stable code such as `signature_mismatch`), if it was.
    public var reason: String?
    /// The journal record id, when the delivery was journaled.
    public var deliveryID: UInt64?
    /// Whether the delivery was a duplicate of one already received.
    public var duplicate: Bool

    /// Creates a record.
    ///
    /// - Parameters:
    ///   - method: The request method.
    ///   - path: The path.
    ///   - status: The status answered.
    ///   - kind: The event kind.
    ///   - bodyBytes: The body size.
    ///   - latency: The time taken.
    ///   - reason: The rejection reason.
    ///   - deliveryID: The journal record id.
    ///   - duplicate: Whether it was a duplicate.
    public init(
        method: String,
        path: String,
        status: Int,
        kind: EventKind? = nil,
        bodyBytes: Int = 0,
        latency: Duration = .zero,
        reason: String? = nil,
        deliveryID: UInt64? = nil,
        duplicate: Bool = false
    ) {
        self.method = method
        self.path = path
        self.status = status
        self.kind = kind
        self.bodyBytes = bodyBytes
        self.latency = latency
        self.reason = reason
        self.deliveryID = deliveryID
        self.duplicate = duplicate
    }
}
