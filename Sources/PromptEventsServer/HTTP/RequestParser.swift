import PromptEvents

/// An incremental, sans-IO HTTP/1.1 request parser.
///
/// Push bytes with ``append(_:)-(UnsafeRawBufferPointer)`` as they arrive, then call ``next()``
/// until it returns `nil` (more bytes needed). Each request produces a ``Event/head(_:)`` as
/// soon as its header section is complete, before any body byte is read, then an
/// ``Event/end(body:)`` with the complete body (de-chunked). After `.end` the parser starts on
/// the next pipelined request, keeping the bytes it already holds.
///
/// ```swift
/// var parser = RequestParser()
/// parser.append(received)
/// while let event = try parser.next() {
///     switch event {
///     case .head(let head): // authenticate, maybe send 100 Continue
///     case .end(let body): // hand the request on
///     }
/// }
/// ```
///
/// Framing is strict (RFC 9112): anything that two parsers could read differently is rejected
/// with an ``HTTPParseError`` carrying the status to answer with. Errors are sticky: after one,
/// every call to ``next()`` throws it again, and the server answers once and closes.
///
/// Decisions beyond the RFC's MUSTs:
/// - Targets may be origin-form (`/path?q`) or absolute-form (`http://host/path`, which servers
///   must accept, RFC 9112 §3.2.2); `*` is accepted only with `OPTIONS`; authority-form and
///   any other scheme are 400. Target bytes must be visible ASCII other than `#`.
/// - Only HTTP/1.0 and HTTP/1.1 are accepted; any other well-formed version (`HTTP/2.0`,
///   `HTTP/1.2`, the HTTP/2 preface `PRI * HTTP/2.0`) is 505.
/// - POST, PUT and PATCH without `Content-Length` or `Transfer-Encoding` are 411: a webhook
///   without a declared body is a broken client, and RFC 9110 §15.5.12 lets a server require it.
/// - `Content-Length` together with `Transfer-Encoding` is 400 (RFC 9112 §6.1 allows rejecting).
/// - Field values may hold `obs-text` (RFC 9110 §5.5): UTF-8 is read as UTF-8, anything else as
///   ISO-8859-1, byte for byte. CR, LF, NUL and other control bytes are 400.
/// - The order of checks once a head is complete is: `Host` (400), framing (400/501),
///   411, `Expect` (417), then the `Content-Length` limit (413).
package struct RequestParser {
    /// What the parser produced from the bytes so far.
    package enum Event: Sendable, Hashable {
        /// A request's head, complete and validated; the body has not been read yet.
        case head(RequestHead)
        /// The end of the request whose head came last, with its exact (de-chunked) body.
        case end(body: [UInt8])
    }

    /// Where in a request the next byte belongs.
    private enum State {
        case requestLine
        case fields
        case body(remaining: Int)
        case chunked(ChunkedBodyDecoder)
    }

    /// The outcome of parsing one line of the header section.
    private enum HeadStep {
        case needMore
        case parsedField
        case complete(RequestHead)
    }

    /// The request line and fields received so far of the head being parsed.
    private struct PartialHead {
        var method = ""
        var target = ""
        var targetForm = RequestTargetForm.origin
        var version = HTTPVersion.http11
        var framing = FramingFields()
        var hostCount = 0
        var expectsContinue = false
        var hasUnsupportedExpectation = false
    }

    /// What has been checked of a request line whose CRLF has not arrived yet, so that garbage
    /// and over-long targets are rejected without waiting for the line to end.
    private struct RequestLineProgress {
        var checked = 0
        var methodEnd: Int?
        var targetEnd: Int?
    }

    /// The limits this parser enforces.
    let limits: HTTPLimits
    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var state = State.requestLine
    /// Bytes of the current line already searched for its LF.
    private var scanned = 0
    /// Bytes of the current head consumed so far.
    private var headBytes = 0
    private var partial = PartialHead()
    /// The fields of the head being parsed; kept across requests for its capacity.
    private var fields: [(String, String)] = []
    private var lineProgress = RequestLineProgress()
    private var body: [UInt8] = []
    private var failure: HTTPParseError?

    /// Creates a parser waiting for the first byte of a request.
    ///
    /// - Parameter limits: The limits to enforce.
    package init(limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits
    }

    /// The number of bytes received but not consumed yet.
    var bufferedByteCount: Int { buffer.count &- readIndex }

    /// Whether bytes were received that no event has accounted for yet, such as the start of
    /// a pipelined request.
    var hasBufferedBytes: Bool { readIndex < buffer.count }

    /// Whether part of a request has been received: `false` only between requests with nothing
    /// buffered, where a connection may close cleanly.
    var isMidMessage: Bool {
        if case .requestLine = state {
            return headBytes > 0 || hasBufferedBytes
        }
        return true
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
    /// - Returns: The next event, or `nil` when more bytes are needed.
    /// - Throws: `HTTPParseError` when the request is malformed or over a limit; the error's
    ///   `status` is the response to send before closing the connection.
    package mutating func next() throws(HTTPParseError) -> Event? {
        if let failure { throw failure }
        let storage = buffer
        do throws(HTTPParseError) {
            return try storage.withUnsafeBufferPointer { bytes throws(HTTPParseError) -> Event? in
                try step(bytes)
            }
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func step(_ bytes: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> Event? {
        let end = bytes.count
        while true {
            switch state {
            case .requestLine:
                guard try parseRequestLine(bytes, end: end) else { return nil }
            case .fields:
                switch try parseFieldLine(bytes, end: end) {
                case .needMore: return nil
                case .parsedField: continue
                case .complete(let head): return .head(head)
                }
            case .body(let remaining):
                let count = min(remaining, end &- readIndex)
                if count > 0 {
                    body.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[readIndex..<readIndex &+ count]))
                    readIndex &+= count
                }
                guard count == remaining else {
                    state = .body(remaining: remaining &- count)
                    return nil
                }
                return .end(body: finishMessage())
            case .chunked(var decoder):
                readIndex = try decoder.decode(bytes, from: readIndex, to: end, into: &body, limits: limits)
                guard decoder.isComplete else {
                    state = .chunked(decoder)
                    return nil
                }
                return .end(body: finishMessage())
            }
        }
    }

    /// Resets for the next request and hands over the body.
    private mutating func finishMessage() -> [UInt8] {
        state = .requestLine
        headBytes = 0
        scanned = 0
        lineProgress = RequestLineProgress()
        let complete = body
        body = []
        return complete
    }

    // MARK: - Request line

    /// Consumes empty lines and then the request line, or returns `false` if it is incomplete.
    private mutating func parseRequestLine(_ bytes: UnsafeBufferPointer<UInt8>, end: Int) throws(HTTPParseError) -> Bool
    {
        // RFC 9112 §2.2: a server SHOULD ignore at least one empty line (CRLF) received before the
        // request line. Any number is ignored here, counted against the head limit.
        while scanned == 0 && readIndex < end && bytes[readIndex] == HTTPSyntax.cr {
            guard readIndex &+ 1 < end else { return false }
            guard bytes[readIndex &+ 1] == HTTPSyntax.lf else { throw HTTPParseError(.invalidRequestLine) }
            readIndex &+= 2
            headBytes &+= 2
            guard headBytes <= limits.maxHeadBytes else { throw HTTPParseError(.headTooLarge) }
        }
        guard readIndex < end else { return false }
        let budget = limits.maxHeadBytes &- headBytes
        let search: LineSearch
        do {
            search = try HTTPSyntax.findLineEnd(bytes, start: readIndex, end: end, scanned: &scanned, budget: budget)
        } catch {
            // A bare LF: what came before it is judged first, as it was if it arrived earlier.
            let window = min(end, readIndex &+ budget)
            if let lineFeed = HTTPSyntax.firstLineFeed(in: bytes, from: readIndex, to: window) {
                try checkPartialRequestLine(bytes, end: lineFeed)
            }
            throw error
        }
        switch search {
        case .found(let lineFeed):
            // The same checks as for a line still arriving, first: the answer must not depend
            // on how the bytes were segmented (a 414 found early must also win when whole).
            try checkPartialRequestLine(bytes, end: lineFeed)
            try parseRequestLine(bytes, start: readIndex, end: lineFeed &- 1)
            headBytes &+= lineFeed &+ 1 &- readIndex
            readIndex = lineFeed &+ 1
            lineProgress = RequestLineProgress()
            state = .fields
            return true
        case .needMore:
            try checkPartialRequestLine(bytes, end: min(end, readIndex &+ budget))
            return false
        case .overBudget:
            // Only bytes within the head budget are judged: received in pieces, the budget
            // would have been reached before any later byte arrived.
            try checkPartialRequestLine(bytes, end: min(end, readIndex &+ budget))
            throw HTTPParseError(.headTooLarge)
        }
    }

    /// Checks the part of a request line received so far.
    ///
    /// The method must be a token, and the target must not already be longer than
    /// ``HTTPLimits/maxTargetBytes`` (414 rather than waiting for the head limit's 431). Each
    /// byte is looked at once over all calls.
    private mutating func checkPartialRequestLine(_ bytes: UnsafeBufferPointer<UInt8>, end: Int) throws(HTTPParseError)
    {
        let lineStart = readIndex
        var progress = lineProgress
        defer { lineProgress = progress }
        while progress.targetEnd == nil && lineStart &+ progress.checked < end {
            let byte = bytes[lineStart &+ progress.checked]
            if progress.methodEnd == nil {
                if byte == HTTPSyntax.sp {
                    guard progress.checked > 0 else { throw HTTPParseError(.invalidMethod) }
                    progress.methodEnd = progress.checked
                } else if !HTTPSyntax.isTokenByte(byte) {
                    // A CR may be the first half of the line's CRLF; the complete line decides.
                    guard byte == HTTPSyntax.cr else { throw HTTPParseError(.invalidMethod) }
                    return
                }
            } else if byte == HTTPSyntax.sp {
                progress.targetEnd = progress.checked
                if let methodEnd = progress.methodEnd, progress.checked &- methodEnd &- 1 > limits.maxTargetBytes {
                    throw HTTPParseError(.targetTooLong)
                }
            }
            progress.checked &+= 1
        }
        if let methodEnd = progress.methodEnd, progress.targetEnd == nil,
            end &- lineStart &- methodEnd &- 1 > limits.maxTargetBytes
        {
            throw HTTPParseError(.targetTooLong)
        }
    }

    /// Validates a complete request line, `bytes[start..<end]` without its CRLF.
    ///
    /// RFC 9112 §3:
    ///
    ///     request-line   = method SP request-target SP HTTP-version
    ///
    /// Exactly one SP separates the parts; a server must not accept other whitespace as a
    /// separator here, since that would read the line differently from a strict peer.
    private mutating func parseRequestLine(
        _ bytes: UnsafeBufferPointer<UInt8>,
        start: Int,
        end: Int
    ) throws(HTTPParseError) {
        // RFC 9110 §9.1: method = token (case-sensitive).
        var index = start
        while index < end && HTTPSyntax.isTokenByte(bytes[index]) { index &+= 1 }
        guard index < end else { throw HTTPParseError(.invalidRequestLine) }
        guard index > start, bytes[index] == HTTPSyntax.sp else { throw HTTPParseError(.invalidMethod) }
        let methodEnd = index
        index &+= 1

        // RFC 9112 §3.2: request-target, one SP on each side; 414 when longer than the limit.
        let targetStart = index
        while index < end && bytes[index] != HTTPSyntax.sp { index &+= 1 }
        let targetEnd = index
        guard targetEnd &- targetStart <= limits.maxTargetBytes else { throw HTTPParseError(.targetTooLong) }
        guard targetEnd > targetStart, index < end else { throw HTTPParseError(.invalidRequestLine) }
        for position in targetStart..<targetEnd {
            // Visible ASCII only (URIs are ASCII, RFC 3986 §2); no fragment (RFC 9112 §3.2).
            let byte = bytes[position]
            guard byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: "#") else {
                throw HTTPParseError(.invalidTarget)
            }
        }

        let version = try HTTPSyntax.parseVersion(bytes, start: index &+ 1, end: end)
        let methodRange = start..<methodEnd
        let targetRange = targetStart..<targetEnd
        partial.targetForm = try Self.targetForm(bytes, targetRange, method: methodRange)
        partial.version = version
        partial.method = String(decoding: UnsafeBufferPointer(rebasing: bytes[methodRange]), as: UTF8.self)
        partial.target = String(decoding: UnsafeBufferPointer(rebasing: bytes[targetRange]), as: UTF8.self)
    }

    /// Classifies the request target (RFC 9112 §3.2).
    ///
    /// - origin-form `absolute-path [ "?" query ]` (§3.2.1): accepted for every method.
    /// - absolute-form `http://…` or `https://…` (§3.2.2): "a server MUST accept the
    ///   absolute-form"; the scheme is case-insensitive and the authority must not be empty
    ///   (RFC 9110 §4.2.1). The target is kept as received; see ``RequestHead/originFormTarget``.
    /// - asterisk-form `*` (§3.2.4): only for `OPTIONS`.
    /// - authority-form (§3.2.3, CONNECT only) and everything else: 400.
    private static func targetForm(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ target: Range<Int>,
        method: Range<Int>
    ) throws(HTTPParseError) -> RequestTargetForm {
        let first = bytes[target.lowerBound]
        if first == UInt8(ascii: "/") {
            return .origin
        }
        if first == UInt8(ascii: "*") && target.count == 1 {
            guard HTTPSyntax.equals(bytes, method, "OPTIONS") else { throw HTTPParseError(.invalidTarget) }
            return .asterisk
        }
        for scheme: StaticString in ["http://", "https://"] {
            let prefixEnd = target.lowerBound &+ scheme.utf8CodeUnitCount
            guard prefixEnd < target.upperBound,
                HTTPSyntax.equalsIgnoringCase(bytes, target.lowerBound..<prefixEnd, scheme)
            else { continue }
            let authorityFirst = bytes[prefixEnd]
            guard authorityFirst != UInt8(ascii: "/") && authorityFirst != UInt8(ascii: "?") else {
                throw HTTPParseError(.invalidTarget)
            }
            return .absolute
        }
        throw HTTPParseError(.invalidTarget)
    }

    // MARK: - Header section

    /// Consumes one field line, or the empty line that completes the head.
    private mutating func parseFieldLine(_ bytes: UnsafeBufferPointer<UInt8>, end: Int) throws(HTTPParseError)
        -> HeadStep
    {
        let budget = limits.maxHeadBytes &- headBytes
        let lineFeed: Int
        switch try HTTPSyntax.findLineEnd(bytes, start: readIndex, end: end, scanned: &scanned, budget: budget) {
        case .found(let index): lineFeed = index
        case .needMore: return .needMore
        case .overBudget: throw HTTPParseError(.headTooLarge)
        }
        let lineStart = readIndex
        headBytes &+= lineFeed &+ 1 &- lineStart
        readIndex = lineFeed &+ 1
        if lineFeed &- 1 == lineStart {
            return .complete(try finishHead())
        }
        guard fields.count < limits.maxHeaderCount else { throw HTTPParseError(.tooManyHeaders) }
        // RFC 9112 §2.2: whitespace between the request line and the first field, like obs-fold
        // later on, is rejected by FieldLine (400).
        let field = try FieldLine(bytes, start: lineStart, end: lineFeed &- 1)
        let value = field.valueString(bytes)
        if let known = FramingField.classify(bytes, field.name) {
            switch known {
            case .contentLength:
                try partial.framing.addContentLength(bytes, field.value)
            case .transferEncoding:
                try partial.framing.addTransferEncoding(bytes, field.value)
            case .connection:
                partial.framing.addConnection(bytes, field.value)
            case .host:
                partial.hostCount &+= 1
                guard Self.isValidHost(bytes, field.value) else { throw HTTPParseError(.invalidHost) }
            case .expect:
                addExpectation(bytes, field.value)
            }
        }
        fields.append((field.nameString(bytes), value))
        return .parsedField
    }

    /// Records an `Expect` field.
    ///
    /// RFC 9110 §10.1.1: `Expect = #expectation`; the only expectation defined is `100-continue`,
    /// matched case-insensitively. A server that receives any other expectation may answer 417.
    /// An empty value carries no expectation.
    private mutating func addExpectation(_ bytes: UnsafeBufferPointer<UInt8>, _ value: Range<Int>) {
        var index = value.lowerBound
        while let element = HTTPSyntax.nextListElement(bytes, &index, end: value.upperBound) {
            if element.isEmpty { continue }
            if HTTPSyntax.equalsIgnoringCase(bytes, element, "100-continue") {
                partial.expectsContinue = true
            } else {
                partial.hasUnsupportedExpectation = true
            }
        }
    }

    /// Whether a `Host` value is `uri-host [ ":" port ]` (RFC 9112 §3.2, RFC 3986 §3.2.2).
    ///
    /// Only unreserved characters, sub-delims, `%`, `:` and the brackets of an IP literal are
    /// allowed. An empty value is allowed (RFC 9112 §3.2 requires it when the target has no
    /// authority).
    private static func isValidHost(_ bytes: UnsafeBufferPointer<UInt8>, _ value: Range<Int>) -> Bool {
        for index in value {
            switch bytes[index] {
            case UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"),
                UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"),
                UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"),
                UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="), UInt8(ascii: "%"),
                UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "]"):
                continue
            default:
                return false
            }
        }
        return true
    }

    /// Applies the checks that need the whole head and chooses the body framing.
    private mutating func finishHead() throws(HTTPParseError) -> RequestHead {
        let version = partial.version
        // RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any
        // HTTP/1.1 request message that lacks a Host header field and to any request message
        // that contains more than one Host header field line".
        guard partial.hostCount <= 1 else { throw HTTPParseError(.multipleHost) }
        guard partial.hostCount == 1 || version == .http10 else { throw HTTPParseError(.missingHost) }

        // RFC 9112 §6.3: Transfer-Encoding first, then Content-Length, else no body.
        let framing: BodyFraming
        if partial.framing.hasTransferEncoding {
            try partial.framing.validateTransferCodings(version: version)
            framing = .chunked
        } else if let contentLength = partial.framing.contentLength {
            framing = .contentLength(contentLength)
        } else {
            // RFC 9110 §15.5.12: a server may refuse a request without a defined length (411);
            // this one requires a length for the methods that carry content.
            switch partial.method {
            case "POST", "PUT", "PATCH": throw HTTPParseError(.lengthRequired)
            default: framing = .none
            }
        }

        // RFC 9110 §10.1.1: expectations in an HTTP/1.0 request MUST be ignored.
        let expectsContinue = version == .http11 && partial.expectsContinue
        guard version == .http10 || !partial.hasUnsupportedExpectation else {
            throw HTTPParseError(.unsupportedExpectation)
        }

        // 413 before any body byte is read.
        if case .contentLength(let length) = framing, length > limits.maxBodyBytes {
            throw HTTPParseError(.bodyTooLarge)
        }

        let head = RequestHead(
            method: partial.method,
            target: partial.target,
            targetForm: partial.targetForm,
            version: version,
            headers: Headers(fields),
            keepAlive: partial.framing.keepAlive(version: version),
            expectsContinue: expectsContinue,
            framing: framing
        )
        partial = PartialHead()
        fields.removeAll(keepingCapacity: true)
        switch framing {
        case .none: state = .body(remaining: 0)
        case .contentLength(let length): state = .body(remaining: length)
        case .chunked: state = .chunked(ChunkedBodyDecoder())
        }
        return head
    }
}

extension HTTPSyntax {
    /// Parses `HTTP-version` in `bytes[start..<end]`.
    ///
    /// RFC 9112 §2.3:
    ///
    ///     HTTP-version  = HTTP-name "/" DIGIT "." DIGIT
    ///     HTTP-name     = %s"HTTP"   ; case-sensitive
    ///
    /// - Returns: HTTP/1.0 or HTTP/1.1.
    /// - Throws: `invalidVersion` (400) for anything else in form, `versionNotSupported` (505)
    ///   for a well-formed version other than 1.0 and 1.1.
    static func parseVersion(_ bytes: UnsafeBufferPointer<UInt8>, start: Int, end: Int) throws(HTTPParseError)
        -> HTTPVersion
    {
        guard end &- start == 8,
            bytes[start] == UInt8(ascii: "H"),
            bytes[start &+ 1] == UInt8(ascii: "T"),
            bytes[start &+ 2] == UInt8(ascii: "T"),
            bytes[start &+ 3] == UInt8(ascii: "P"),
            bytes[start &+ 4] == UInt8(ascii: "/"),
            bytes[start &+ 6] == UInt8(ascii: ".")
        else { throw HTTPParseError(.invalidVersion) }
        let major = bytes[start &+ 5] &- UInt8(ascii: "0")
        let minor = bytes[start &+ 7] &- UInt8(ascii: "0")
        guard major < 10, minor < 10 else { throw HTTPParseError(.invalidVersion) }
        switch (major, minor) {
        case (1, 0): return .http10
        case (1, 1): return .http11
        default: throw HTTPParseError(.versionNotSupported)
        }
    }
}
