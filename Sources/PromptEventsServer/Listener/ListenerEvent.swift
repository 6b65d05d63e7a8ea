public import PromptEvents

/// Something the listener reports: it never prints, it tells its observer.
///
/// The `prompt-listen` binary turns these into log lines; tests and embedding apps can collect
/// them, count them, or forward them to their own logging.
public enum ListenerEvent: Sendable {
    /// The listener is accepting connections; `metrics` is the separate metrics address, if any.
    case listening(SocketAddress, metrics: SocketAddress?)
    /// A request was answered.
    case request(RequestRecord)
    /// Shutdown began: no new connections, in-flight requests finishing.
    case draining
    /// The listener stopped; every connection is closed.
    case stopped
    /// A handler attempt failed, a delivery was dead-lettered, or another non-fatal problem.
    case warning(String)
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
