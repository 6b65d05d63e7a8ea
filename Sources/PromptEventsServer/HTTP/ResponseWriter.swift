import PromptEvents

/// Serializes HTTP/1.1 responses into an output buffer.
///
/// Every response is written as:
///
///     HTTP/1.1 <status> <reason>\r\n
///     Date: <IMF-fixdate>\r\n
///     <caller's fields>\r\n
///     Content-Length: <n>\r\n          (not for 1xx, 204 and 304)
///     Connection: close\r\n            (when the connection will close)
///     Connection: keep-alive\r\n       (when an HTTP/1.0 client's connection is kept)
///     \r\n
///     <body>                           (not for HEAD, 1xx, 204 and 304)
///
/// The status line always says HTTP/1.1, the highest version this server conforms to, also to
/// HTTP/1.0 clients (RFC 9110 §6.2). The writer owns `Date`, `Content-Length`,
/// `Transfer-Encoding` and `Connection`: caller fields with those names are skipped, and so is
/// any caller field whose name is not a token or whose value is not a valid field value, so no
/// caller string can change the framing.
struct ResponseWriter {
    private var dateCache = HTTPDateCache()

    /// Creates a writer.
    init() {}

    /// The bytes of the interim response `HTTP/1.1 100 Continue`, sent to a client that asked
    /// for it with `Expect: 100-continue` once the head has been accepted (RFC 9110 §10.1.1).
    static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// Appends the `100 Continue` interim response to `output`.
    ///
    /// - Parameter output: The connection's output buffer.
    static func writeContinue(into output: inout [UInt8]) {
        output.append(contentsOf: continueResponse)
    }

    /// Appends a complete response to `output`.
    ///
    /// - Parameters:
    ///   - status: The status code, 200 through 599 (1xx interim responses other than
    ///     `100 Continue` are not sent by this server).
    ///   - headers: Extra fields, such as `Content-Type`, written in order.
    ///   - body: The content. Not written for HEAD requests (whose `Content-Length` still says
    ///     how long it is, RFC 9110 §9.3.2) nor for 204 and 304 responses.
    ///   - isHeadRequest: Whether the request's method was `HEAD`.
    ///   - keepAlive: Whether the server keeps the connection open after this response; when
    ///     `false` the response carries `Connection: close` (RFC 9112 §9.6).
    ///   - clientVersion: The request's version; an HTTP/1.0 connection that is kept open gets
    ///     `Connection: keep-alive` (RFC 9112 §9.3).
    ///   - epochSeconds: The current time, for the `Date` field.
    ///   - output: The connection's output buffer.
    mutating func writeResponse(
        status: Int,
        headers: Headers = Headers(),
        body: [UInt8] = [],
        isHeadRequest: Bool = false,
        keepAlive: Bool,
        clientVersion: HTTPVersion = .http11,
        epochSeconds: Int64,
        into output: inout [UInt8]
    ) {
        // RFC 9110 §8.6, §15.3.5, §15.4.5: no Content-Length and no content in 1xx, 204 and 304.
        let hasNoContent = status < 200 || status == 204 || status == 304
        output.reserveCapacity(output.count + 128 + (hasNoContent || isHeadRequest ? 0 : body.count))
        Self.appendASCII("HTTP/1.1 ", to: &output)
        Self.appendDecimal(status, to: &output)
        output.append(HTTPSyntax.sp)
        Self.appendASCII(Self.reasonPhrase(for: status), to: &output)
        Self.appendCRLF(to: &output)

        Self.appendASCII("Date: ", to: &output)
        output.append(contentsOf: dateCache.bytes(epochSeconds: epochSeconds))
        Self.appendCRLF(to: &output)

        for field in headers where Self.isWritable(field) {
            output.append(contentsOf: field.name.utf8)
            output.append(HTTPSyntax.colon)
            output.append(HTTPSyntax.sp)
            output.append(contentsOf: field.value.utf8)
            Self.appendCRLF(to: &output)
        }

        if !hasNoContent {
            Self.appendASCII("Content-Length: ", to: &output)
            Self.appendDecimal(body.count, to: &output)
            Self.appendCRLF(to: &output)
        }
        if !keepAlive {
            Self.appendASCII("Connection: close\r\n", to: &output)
        } else if clientVersion == .http10 {
            Self.appendASCII("Connection: keep-alive\r\n", to: &output)
        }
        Self.appendCRLF(to: &output)
        if !hasNoContent && !isHeadRequest {
            output.append(contentsOf: body)
        }
    }

    /// The reason phrase for a status code (RFC 9110 §15), or an empty string for codes this
    /// server never sends; the reason phrase is informational and may be empty (RFC 9112 §4).
    ///
    /// - Parameter status: The status code.
    /// - Returns: For example `Not Found` for 404.
    static func reasonPhrase(for status: Int) -> StaticString {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 301: "Moved Permanently"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 417: "Expectation Failed"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: ""
        }
    }

    /// Whether a caller field may be written: not one the writer owns, and well formed.
    private static func isWritable(_ field: Headers.Field) -> Bool {
        let name = field.name
        if HTTPSyntax.equalsIgnoringCase(name, "date") || HTTPSyntax.equalsIgnoringCase(name, "connection")
            || HTTPSyntax.equalsIgnoringCase(name, "content-length")
            || HTTPSyntax.equalsIgnoringCase(name, "transfer-encoding")
        {
            return false
        }
        return HTTPSyntax.isToken(name) && HTTPSyntax.isFieldValue(field.value)
    }

    private static func appendASCII(_ text: StaticString, to output: inout [UInt8]) {
        output.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    private static func appendCRLF(to output: inout [UInt8]) {
        output.append(HTTPSyntax.cr)
        output.append(HTTPSyntax.lf)
    }

    /// Appends a non-negative integer in decimal.
    static func appendDecimal(_ value: Int, to output: inout [UInt8]) {
        guard value > 0 else {
            output.append(UInt8(ascii: "0"))
            return
        }
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            output.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}
