import PromptEvents

/// How a request's body is delimited (RFC 9112 §6.3).
package enum BodyFraming: Sendable, Hashable {
    /// No body: neither `Content-Length` nor `Transfer-Encoding` was sent.
    case none
    /// Exactly this many bytes follow the head.
    case contentLength(Int)
    /// A chunked body follows the head.
    case chunked
}

/// The form of a request target (RFC 9112 §3.2).
package enum RequestTargetForm: Sendable, Hashable {
    /// `/path?query`, the form every request to an origin server normally uses (§3.2.1).
    case origin
    /// `http://host/path?query`, which servers must accept (§3.2.2).
    case absolute
    /// `*`, only with `OPTIONS` (§3.2.4).
    case asterisk
}

/// The request line and header section of a request, validated.
///
/// A parser emits the head as soon as its empty line arrives, before the body, so the server
/// can answer `401`, `413` or `100 Continue` without reading the body first.
package struct RequestHead: Sendable, Hashable {
    /// The method, case-sensitive, for example `POST` (RFC 9110 §9.1).
    var method: String
    /// The request target exactly as received.
    var target: String
    /// Which form the target has.
    var targetForm: RequestTargetForm
    /// The protocol version of the request.
    var version: HTTPVersion
    /// The header fields, in order, duplicates kept, values trimmed of surrounding whitespace.
    var headers: Headers
    /// Whether the connection may carry another request after this one's response.
    ///
    /// HTTP/1.1 keeps the connection unless `Connection` lists `close`; HTTP/1.0 keeps it only
    /// when `Connection` lists `keep-alive` and not `close` (RFC 9112 §9.3).
    var keepAlive: Bool
    /// Whether the client sent `Expect: 100-continue` and waits for `100 Continue` (or a final
    /// status) before sending the body.
    ///
    /// Always `false` for HTTP/1.0, whose expectations a server must ignore (RFC 9110 §10.1.1).
    /// The server should send `100 Continue` only when ``framing`` announces a body.
    var expectsContinue: Bool
    /// How the body is delimited.
    var framing: BodyFraming

    /// The target in origin form, `/path?query`: the target itself in origin form, the path
    /// and query of an absolute-form target (`/` when it has no path), or `*`.
    var originFormTarget: String {
        guard targetForm == .absolute else { return target }
        let utf8 = target.utf8
        guard let schemeEnd = utf8.firstIndex(of: UInt8(ascii: ":")) else { return target }
        let authorityStart = utf8.index(schemeEnd, offsetBy: 3)
        let isPathStart: (UInt8) -> Bool = { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") }
        guard let pathStart = utf8[authorityStart...].firstIndex(where: isPathStart) else { return "/" }
        let rest = String(target[pathStart...])
        return rest.utf8.first == UInt8(ascii: "?") ? "/" + rest : rest
    }
}
