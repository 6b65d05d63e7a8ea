/// The answer a receiver gives to a delivery it will not accept.
public struct Rejection: Error, Sendable, Hashable {
    /// Why a delivery was rejected; stable, for logs and metrics.
    public struct Reason: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
        /// The reason's snake-case name, for example `unauthenticated`.
        public let rawValue: String

        /// Creates a reason from its name.
        ///
        /// - Parameter rawValue: The snake-case name.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The method is not `POST` (405).
        public static let methodNotAllowed = Reason(rawValue: "method_not_allowed")
        /// The path is not below the base path (404).
        public static let outsideBasePath = Reason(rawValue: "outside_base_path")
        /// Neither the path nor `Prompt-EventType` names an event kind (404).
        public static let missingKind = Reason(rawValue: "missing_kind")
        /// Authentication failed (401); ``Rejection/authenticationError`` says why.
        public static let unauthenticated = Reason(rawValue: "unauthenticated")
        /// The body is not a JSON object (400); the delivery was authenticated.
        public static let malformedBody = Reason(rawValue: "malformed_body")
        /// The event path has a `..` segment, a percent-encoded `/` or another part that could
        /// walk a handler out of a directory (400); see ``EventRouting``.
        public static let unsafePath = Reason(rawValue: "unsafe_path")

        /// The snake-case name.
        public var description: String { rawValue }
    }

    /// The HTTP status to answer: 400, 401, 404 or 405.
    public var status: Int
    /// Why, in a stable form.
    public var reason: Reason
    /// One sentence for logs; free of secrets.
    ///
    /// Not sent to the client for 401s.
    public var message: String
    /// Headers the answer must carry, such as `WWW-Authenticate` or `Allow`.
    public var headers: Headers
    /// The authentication failure, for 401s.
    public var authenticationError: AuthenticationError?

    /// Creates a rejection.
    ///
    /// - Parameters:
    ///   - status: The HTTP status.
    ///   - reason: The stable reason.
    ///   - message: One sentence for logs.
    ///   - headers: Headers to send with the answer.
    ///   - authenticationError: The authentication failure, if any.
    public init(
        status: Int,
        reason: Reason,
        message: String,
        headers: Headers = Headers(),
        authenticationError: AuthenticationError? = nil
    ) {
        self.status = status
        self.reason = reason
        self.message = message
        self.headers = headers
        self.authenticationError = authenticationError
    }

    /// Whether the delivery passed authentication before being rejected (only malformed bodies),
    /// so it may be kept as a dead letter.
    public var isAuthenticated: Bool { reason == .malformedBody }

    /// The response to send: the same short body for every 401, whatever the cause.
    public var response: WebhookResponse {
        let text: String
        switch status {
        case 401: text = "Unauthorized\n"
        case 404: text = "Not Found\n"
        case 405: text = "Method Not Allowed\n"
        default: text = message + "\n"
        }
        return WebhookResponse(status: status, headers: headers, body: Array(text.utf8))
    }
}

/// A request head that passed ``WebhookReceiver/admitHead(method:target:headers:now:)``:
/// route, method and head-only authentication checked, the event kind resolved once.
///
/// Hand it back to ``WebhookReceiver/admit(_:head:now:)`` with the body. Only `admitHead`
/// makes one, so holding one means the head checks passed.
public struct AdmittedHead: Sendable, Hashable {
    /// The event kind, from the path or `Prompt-EventType`.
    public let kind: EventKind
}

/// What a receiver decided about a delivery at admission.
public enum Admission: Sendable {
    /// Authenticated, kind resolved, body a JSON object: ready to journal and dispatch.
    case accepted(AnyEvent)
    /// Refused, with the answer to give.
    case rejected(Rejection)
}

/// A response for a host server to send: status, headers and a short body.
public struct WebhookResponse: Sendable, Hashable {
    /// The HTTP status code.
    public var status: Int
    /// Headers to send (the host adds framing headers such as `Content-Length`).
    public var headers: Headers
    /// The body bytes; short text.
    public var body: [UInt8]

    /// Creates a response.
    ///
    /// - Parameters:
    ///   - status: The HTTP status code.
    ///   - headers: Headers to send.
    ///   - body: The body bytes.
    public init(status: Int, headers: Headers = Headers(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}
