package import PromptEvents

/// An incremental, sans-IO HTTP/1.1 response parser, for the command-line tool's own client.
///
/// Push bytes with ``append(_:)-(UnsafeRawBufferPointer)`` as they arrive and call ``next()``
/// until it returns `nil`; when the server closes the connection call ``finish()``, which
/// completes a body delimited by the close. Interim `1xx` responses (such as `100 Continue`)
/// are validated and skipped; `101 Switching Protocols` is an error, since this client never
/// asks to switch.
///
/// The body length follows RFC 9112 §6.3: none for a response to HEAD and for 1xx, 204 and
/// 304; chunked when `chunked` is the final transfer coding; read until close when another
/// coding is final; `Content-Length` otherwise; read until close when nothing says.
package struct ResponseParser {
    /// A complete response.
    package struct Response: Sendable, Hashable {
        /// The response's protocol version.
        package var version: HTTPVersion
        /// The status code, 200 through 599 (interim responses are skipped).
        package var status: Int
        /// The reason phrase, possibly empty.
        package var reason: String
        /// The header fields, in order, duplicates kept.
        package var headers: Headers
        /// The exact body bytes, de-chunked.
        package var body: [UInt8]
        /// Whether the connection may carry another request: `false` when the server said
        /// `Connection: close` (or is HTTP/1.0 without `keep-alive`), or delimited the body by
        /// closing.
        package var keepAlive: Bool
    }

    /// Where in a response the next byte belongs.
    private enum State {
        case statusLine
        case fields
        case body(remaining: Int)
        case chunked(ChunkedBodyDecoder)
        case untilClose
        case closed
    }

    /// The status line and fields received so far of the head being parsed.
    private struct PartialHead {
        var version = HTTPVersion.http11
        var status = 0
        var reason = ""
        var headers = Headers()
        var framing = FramingFields()
    }

    /// The limits this parser enforces; ``HTTPLimits/maxBodyBytes`` bounds the body.
    package let limits: HTTPLimits

    /// The method of the request the next response answers; a response to `HEAD` has no body.
    package var requestMethod: String

    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var state = State.statusLine
    private var scanned = 0
    private var headBytes = 0
    private var partial = PartialHead()
    private var keepAlive = true
    private var body: [UInt8] = []
    private var failure: HTTPParseError?

    /// Creates a parser for the response to a request.
    ///
    /// - Parameters:
    ///   - requestMethod: The method of the request sent; `HEAD` responses have no body.
    ///   - limits: The limits to enforce.
    package init(requestMethod: String = "GET", limits: HTTPLimits = HTTPLimits()) {
        self.requestMethod = requestMethod
        self.limits = limits
    }

    /// Appends received bytes.
    ///
    /// - Parameter bytes: The bytes, in the order received.
    package mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Appends received bytes.
    ///
    /// - Parameter bytes: The bytes, in the order received.
    package mutating func append(_ bytes: some Collection<UInt8>) {
        let appended: Void? = bytes.withContiguousStorageIfAvailable { append(UnsafeRawBufferPointer($0)) }
        if appended == nil {
            compact()
            buffer.append(contentsOf: bytes)
        }
    }

    private mutating func compact() {
        buffer.dropConsumed(upTo: &readIndex)
    }

    /// Parses as far as the buffered bytes allow.
    ///
    /// - Returns: The next complete response, or `nil` when more bytes are needed (or, for a
    ///   body delimited by the close, until ``finish()``).
    /// - Throws: `HTTPParseError` when the response is malformed or over a limit.
    package mutating func next() throws(HTTPParseError) -> Response? {
        if let failure { throw failure }
        let storage = buffer
        do throws(HTTPParseError) {
            return try storage.withUnsafeBufferPointer { bytes throws(HTTPParseError) -> Response? in
                try step(bytes)
            }
        } catch {
            failure = error
            throw error
        }
    }

    /// Tells the parser that the server closed the connection, after ``next()`` returned `nil`.
    ///
    /// - Returns: The response whose body the close delimited, or `nil` when the connection
    ///   closed between responses.
    /// - Throws: `incompleteMessage` when the close cut a response short.
    package mutating func finish() throws(HTTPParseError) -> Response? {
        if let failure { throw failure }
        switch state {
        case .untilClose:
            state = .closed
            return makeResponse()
        case .statusLine where headBytes == 0 && readIndex == buffer.count, .closed:
            state = .closed
            return nil
        default:
            failure = HTTPParseError(.incompleteMessage)
            throw HTTPParseError(.incompleteMessage)
        }
    }

    private mutating func step(_ bytes: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> Response? {
        let end = bytes.count
        while true {
            switch state {
            case .statusLine:
                guard try parseStatusLine(bytes, end: end) else { return nil }
            case .fields:
                guard let response = try parseFieldLine(bytes, end: end) else { return nil }
                if let response { return response }
            case .body(let remaining):
                let count = min(remaining, end &- readIndex)
                body.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[readIndex..<readIndex &+ count]))
                readIndex &+= count
                guard count == remaining else {
                    state = .body(remaining: remaining &- count)
                    return nil
                }
                state = .statusLine
                return makeResponse()
            case .chunked(var decoder):
                readIndex = try decoder.decode(bytes, from: readIndex, to: end, into: &body, limits: limits)
                guard decoder.isComplete else {
                    state = .chunked(decoder)
                    return nil
                }
                state = .statusLine
                return makeResponse()
            case .untilClose:
                let count = end &- readIndex
                guard body.count &+ count <= limits.maxBodyBytes else { throw HTTPParseError(.bodyTooLarge) }
                body.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[readIndex..<end]))
                readIndex = end
                return nil
            case .closed:
                readIndex = end
                return nil
            }
        }
    }

    private mutating func makeResponse() -> Response {
        let response = Response(
            version: partial.version,
            status: partial.status,
            reason: partial.reason,
            headers: partial.headers,
            body: body,
            keepAlive: keepAlive
        )
        partial = PartialHead()
        body = []
        headBytes = 0
        scanned = 0
        return response
    }

    /// Consumes the status line, or returns `false` if it is incomplete.
    ///
    /// RFC 9112 §4:
    ///
    ///     status-line = HTTP-version SP status-code SP [ reason-phrase ]
    ///     status-code = 3DIGIT
    ///
    /// A missing SP before an empty reason phrase is tolerated.
    private mutating func parseStatusLine(_ bytes: UnsafeBufferPointer<UInt8>, end: Int) throws(HTTPParseError) -> Bool
    {
        guard readIndex < end else { return false }
        let budget = limits.maxHeadBytes &- headBytes
        let lineFeed: Int
        switch try HTTPSyntax.findLineEnd(bytes, start: readIndex, end: end, scanned: &scanned, budget: budget) {
        case .found(let index): lineFeed = index
        case .needMore: return false
        case .overBudget: throw HTTPParseError(.headTooLarge)
        }
        let start = readIndex
        let lineEnd = lineFeed &- 1
        guard lineEnd &- start >= 12, bytes[start &+ 8] == HTTPSyntax.sp else {
            throw HTTPParseError(.invalidStatusLine)
        }
        let version: HTTPVersion
        do throws(HTTPParseError) {
            version = try HTTPSyntax.parseVersion(bytes, start: start, end: start &+ 8)
        } catch {
            throw HTTPParseError(.invalidStatusLine)
        }
        var status = 0
        for index in start &+ 9..<start &+ 12 {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { throw HTTPParseError(.invalidStatusLine) }
            status = status &* 10 &+ Int(digit)
        }
        // RFC 9110 §15: status codes are 100 through 599.
        guard (100...599).contains(status) else { throw HTTPParseError(.invalidStatusLine) }
        var reasonStart = start &+ 12
        if reasonStart < lineEnd {
            guard bytes[reasonStart] == HTTPSyntax.sp else { throw HTTPParseError(.invalidStatusLine) }
            reasonStart &+= 1
        }
        // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
        for index in reasonStart..<lineEnd where !HTTPSyntax.isFieldValueByte(bytes[index]) {
            throw HTTPParseError(.invalidStatusLine)
        }
        // RFC 9110 §15.2.2: 101 only answers a request that asked to upgrade; this client never does.
        guard status != 101 else { throw HTTPParseError(.unexpectedUpgrade) }
        partial.version = version
        partial.status = status
        partial.reason = String(decoding: UnsafeBufferPointer(rebasing: bytes[reasonStart..<lineEnd]), as: UTF8.self)
        headBytes &+= lineFeed &+ 1 &- start
        readIndex = lineFeed &+ 1
        state = .fields
        return true
    }

    /// Consumes one field line or the empty line that ends the head.
    ///
    /// - Returns: `nil` when more bytes are needed; `.some(nil)` after a field line or a skipped
    ///   interim response; `.some(response)` for a response without a body.
    private mutating func parseFieldLine(
        _ bytes: UnsafeBufferPointer<UInt8>,
        end: Int
    ) throws(HTTPParseError) -> Response?? {
        let budget = limits.maxHeadBytes &- headBytes
        let lineFeed: Int
        switch try HTTPSyntax.findLineEnd(bytes, start: readIndex, end: end, scanned: &scanned, budget: budget) {
        case .found(let index): lineFeed = index
        case .needMore: return nil
        case .overBudget: throw HTTPParseError(.headTooLarge)
        }
        let lineStart = readIndex
        headBytes &+= lineFeed &+ 1 &- lineStart
        readIndex = lineFeed &+ 1
        if lineFeed &- 1 == lineStart {
            return .some(try finishHead())
        }
        guard partial.headers.count < limits.maxHeaderCount else { throw HTTPParseError(.tooManyHeaders) }
        let field = try FieldLine(bytes, start: lineStart, end: lineFeed &- 1)
        let value = field.valueString(bytes)
        switch FramingField.classify(bytes, field.name) {
        case .contentLength: try partial.framing.addContentLength(bytes, field.value)
        case .transferEncoding: try partial.framing.addTransferEncoding(bytes, field.value)
        case .connection: partial.framing.addConnection(bytes, field.value)
        case .host, .expect, nil: break
        }
        partial.headers.append(name: field.nameString(bytes), value: value)
        return .some(nil)
    }

    /// Chooses the body framing once the head is complete (RFC 9112 §6.3).
    ///
    /// - Returns: The response when it has no body, otherwise `nil`.
    private mutating func finishHead() throws(HTTPParseError) -> Response? {
        let status = partial.status
        if status < 200 {
            // An interim response: skip it and read the next status line.
            partial = PartialHead()
            headBytes = 0
            state = .statusLine
            return nil
        }
        let framing = partial.framing
        keepAlive = framing.keepAlive(version: partial.version)
        if requestMethod == "HEAD" || status == 204 || status == 304 {
            state = .statusLine
            return makeResponse()
        }
        if framing.hasTransferEncoding {
            guard partial.version == .http11 else { throw HTTPParseError(.transferEncodingInHTTP10) }
            guard framing.contentLength == nil else { throw HTTPParseError(.contentLengthWithTransferEncoding) }
            if framing.lastCodingIsChunked {
                guard framing.chunkedCount == 1 else { throw HTTPParseError(.invalidTransferEncoding) }
                guard framing.codingCount == 1 else { throw HTTPParseError(.unsupportedTransferCoding) }
                state = .chunked(ChunkedBodyDecoder())
            } else {
                // §6.3 item 4: a response whose final coding is not chunked ends with the connection.
                keepAlive = false
                state = .untilClose
            }
        } else if let length = framing.contentLength {
            guard length <= limits.maxBodyBytes else { throw HTTPParseError(.bodyTooLarge) }
            state = .body(remaining: length)
        } else {
            keepAlive = false
            state = .untilClose
        }
        return nil
    }
}
