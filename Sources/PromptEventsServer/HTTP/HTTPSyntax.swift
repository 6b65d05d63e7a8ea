/// The HTTP versions the parsers accept.
package enum HTTPVersion: Sendable, Hashable {
    /// HTTP/1.0: connections close after each message unless `Connection: keep-alive`.
    case http10
    /// HTTP/1.1: connections persist unless `Connection: close`.
    case http11

    /// The protocol token as sent on the wire, `HTTP/1.0` or `HTTP/1.1`.
    package var text: String {
        switch self {
        case .http10: "HTTP/1.0"
        case .http11: "HTTP/1.1"
        }
    }
}

/// Byte-level grammar shared by the request and response parsers and the serializers.
///
/// Everything here works on bytes; strings are only built by callers, and only for fields that
/// have already been validated.
package enum HTTPSyntax {
    /// Carriage return, `\r`.
    static let cr: UInt8 = 0x0D
    /// Line feed, `\n`.
    static let lf: UInt8 = 0x0A
    /// Space.
    static let sp: UInt8 = 0x20
    /// Horizontal tab.
    static let htab: UInt8 = 0x09
    /// `:` between a field name and its value.
    static let colon: UInt8 = 0x3A
    /// `,` between list elements.
    static let comma: UInt8 = 0x2C
    /// `;` before a parameter or a chunk extension.
    static let semicolon: UInt8 = 0x3B

    /// Whether `byte` is a `tchar`, the bytes a token (method, field name, coding) is made of.
    ///
    /// RFC 9110 §5.6.2:
    ///
    ///     token          = 1*tchar
    ///     tchar          = "!" / "#" / "$" / "%" / "&" / "'" / "*"
    ///                    / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
    ///                    / DIGIT / ALPHA
    ///                    ; any VCHAR, except delimiters
    ///
    /// - Parameter byte: The byte to classify.
    /// - Returns: `true` for the 77 token bytes.
    @inline(__always)
    package static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "!"),
            UInt8(ascii: "#")...UInt8(ascii: "'"),  // # $ % & '
            UInt8(ascii: "*"),
            UInt8(ascii: "+"),
            UInt8(ascii: "-"),
            UInt8(ascii: "."),
            UInt8(ascii: "^")...UInt8(ascii: "`"),  // ^ _ `
            UInt8(ascii: "|"),
            UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    /// Whether `byte` may appear in a field value.
    ///
    /// RFC 9110 §5.5: `field-vchar = VCHAR / obs-text`, with SP and HTAB allowed between them.
    /// Every other control byte (NUL, CR, LF, …) and DEL is rejected.
    @inline(__always)
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == htab || (byte >= 0x20 && byte != 0x7F)
    }

    /// Whether `byte` is optional whitespace, `OWS = *( SP / HTAB )` (RFC 9110 §5.6.3).
    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == sp || byte == htab
    }

    /// The value of a hexadecimal digit, or `nil` for any other byte (RFC 5234 `HEXDIG`,
    /// case-insensitive as ABNF strings are).
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte &- UInt8(ascii: "A") &+ 10
        default: nil
        }
    }

    /// Whether every byte of `string` is a token byte and there is at least one.
    ///
    /// - Parameter string: A method, field name or coding.
    /// - Returns: `true` when `string` is a `token` (RFC 9110 §5.6.2).
    package static func isToken(_ string: String) -> Bool {
        !string.utf8.isEmpty && string.utf8.allSatisfy(isTokenByte)
    }

    /// Whether `string` can be sent as a field value without changing the message framing:
    /// no control bytes other than HTAB, no DEL, and no leading or trailing whitespace.
    ///
    /// - Parameter string: A field value.
    /// - Returns: `true` when `string` is a valid `field-value` (RFC 9110 §5.5).
    package static func isFieldValue(_ string: String) -> Bool {
        let utf8 = string.utf8
        guard let first = utf8.first, let last = utf8.last else { return true }
        return !isWhitespace(first) && !isWhitespace(last) && utf8.allSatisfy(isFieldValueByte)
    }

    /// Whether `string` can be sent as a request target: non-empty, visible ASCII only
    /// (RFC 9112 §3.2), with no `#` (fragments are never sent).
    ///
    /// - Parameter string: A request target such as `/message/added?x=1`.
    /// - Returns: `true` when the request line stays well formed with it.
    package static func isRequestTarget(_ string: String) -> Bool {
        !string.utf8.isEmpty && string.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "#") }
    }

    /// Returns the index of the first LF in `bytes[start..<end]`, or `nil`.
    ///
    /// Scans eight bytes at a time with the "has zero byte" bit trick: for `x = word ^ 0x0A…0A`,
    /// `(x - 0x01…01) & ~x & 0x80…80` has its lowest set bit in the first byte that was LF.
    @inline(__always)
    static func firstLineFeed(in bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        let raw = UnsafeRawPointer(base)
        var index = start
        while index &+ 8 <= end {
            let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            let x = word ^ 0x0A0A_0A0A_0A0A_0A0A
            let found = (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080
            if found != 0 {
                return index &+ (found.trailingZeroBitCount &>> 3)
            }
            index &+= 8
        }
        while index < end {
            if bytes[index] == lf { return index }
            index &+= 1
        }
        return nil
    }

    /// Whether `bytes[range]` equals `lowercase` ignoring ASCII case.
    ///
    /// - Parameters:
    ///   - bytes: The buffer.
    ///   - range: The bytes to compare.
    ///   - lowercase: The expected spelling, in lower case.
    /// - Returns: `true` on a case-insensitive match.
    @inline(__always)
    static func equalsIgnoringCase(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ range: Range<Int>,
        _ lowercase: StaticString
    ) -> Bool {
        guard range.count == lowercase.utf8CodeUnitCount else { return false }
        let expected = lowercase.utf8Start
        var offset = 0
        for index in range {
            var byte = bytes[index]
            if byte &- UInt8(ascii: "A") < 26 { byte |= 0x20 }
            if byte != expected[offset] { return false }
            offset &+= 1
        }
        return true
    }

    /// Whether `string` equals `lowercase` ignoring ASCII case.
    ///
    /// - Parameters:
    ///   - string: The string to compare, such as a field name.
    ///   - lowercase: The expected spelling, in lower case.
    /// - Returns: `true` on a case-insensitive match.
    static func equalsIgnoringCase(_ string: String, _ lowercase: StaticString) -> Bool {
        let utf8 = string.utf8
        guard utf8.count == lowercase.utf8CodeUnitCount else { return false }
        let expected = UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        return zip(utf8, expected).allSatisfy { byte, other in
            (byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte) == other
        }
    }

    /// Whether `bytes[range]` equals `literal` exactly (methods are case-sensitive).
    ///
    /// - Parameters:
    ///   - bytes: The buffer.
    ///   - range: The bytes to compare.
    ///   - literal: The expected bytes.
    /// - Returns: `true` on an exact match.
    @inline(__always)
    static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ literal: StaticString) -> Bool {
        guard range.count == literal.utf8CodeUnitCount else { return false }
        let expected = literal.utf8Start
        var offset = 0
        for index in range {
            if bytes[index] != expected[offset] { return false }
            offset &+= 1
        }
        return true
    }

    /// Returns the next element of a comma-separated list (RFC 9110 §5.6.1), without its
    /// surrounding whitespace, advancing `index` past it and its comma.
    ///
    /// Empty elements, including one after a trailing comma and the single element of an
    /// empty value, are returned as empty ranges; callers decide whether to ignore them.
    ///
    /// - Parameters:
    ///   - bytes: The buffer holding the field value.
    ///   - index: Where the element starts; moved past the element's comma, or to `end + 1`
    ///     after the last element.
    ///   - end: The end of the field value.
    /// - Returns: The element's trimmed range, or `nil` after the last element.
    @inline(__always)
    static func nextListElement(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int, end: Int) -> Range<Int>? {
        guard index <= end else { return nil }
        while index < end && isWhitespace(bytes[index]) { index &+= 1 }
        let start = index
        var last = index
        while index < end && bytes[index] != comma {
            if !isWhitespace(bytes[index]) { last = index &+ 1 }
            index &+= 1
        }
        index &+= 1  // past the comma, or past the end
        return start..<last
    }
}

/// Where a field line's name and value lie, after validation.
struct FieldLine {
    /// The field name's bytes.
    var name: Range<Int>
    /// The field value's bytes, without leading or trailing whitespace.
    var value: Range<Int>
    /// Whether every byte of the value is ASCII (no `obs-text`).
    var valueIsASCII: Bool

    /// Validates the field line `bytes[start..<end]` (its CRLF excluded).
    ///
    /// RFC 9112 §5 and RFC 9110 §5.1, §5.5:
    ///
    ///     field-line   = field-name ":" OWS field-value OWS
    ///     field-name   = token
    ///     field-value  = *field-content
    ///
    /// - A line that starts with SP or HTAB is obsolete line folding, which a server must reject
    ///   with 400 unless it unfolds it (RFC 9112 §5.2); this parser does not unfold.
    /// - No whitespace is allowed between the name and the colon; a server must reject such a
    ///   line with 400 (RFC 9112 §5.1).
    ///
    /// - Parameters:
    ///   - bytes: The buffer.
    ///   - start: The first byte of the line.
    ///   - end: The index of the line's CR.
    /// - Throws: `HTTPParseError` with status 400.
    @inline(__always)
    init(_ bytes: UnsafeBufferPointer<UInt8>, start: Int, end: Int) throws(HTTPParseError) {
        if HTTPSyntax.isWhitespace(bytes[start]) {
            throw HTTPParseError(.obsoleteLineFolding)
        }
        var index = start
        while index < end && HTTPSyntax.isTokenByte(bytes[index]) { index &+= 1 }
        let nameEnd = index
        guard index < end, bytes[index] == HTTPSyntax.colon else {
            while index < end && HTTPSyntax.isWhitespace(bytes[index]) { index &+= 1 }
            if index > nameEnd && index < end && bytes[index] == HTTPSyntax.colon && nameEnd > start {
                throw HTTPParseError(.whitespaceBeforeColon)
            }
            throw HTTPParseError(.invalidHeaderName)
        }
        guard nameEnd > start else { throw HTTPParseError(.emptyHeaderName) }
        index &+= 1
        while index < end && HTTPSyntax.isWhitespace(bytes[index]) { index &+= 1 }
        let valueStart = index
        var ascii = true
        if let base = bytes.baseAddress {
            // Eight bytes at a time while they are all printable ASCII (0x20–0x7E): a byte below
            // 0x20 sets bit 7 of `(word - 0x20…20) & ~word`, and a byte of 0x7F or more sets it
            // in `(word + 0x01…01) | word`. Any other word is checked byte by byte below.
            let raw = UnsafeRawPointer(base)
            while index &+ 8 <= end {
                let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                let control = (word &- 0x2020_2020_2020_2020) & ~word
                let high = (word &+ 0x0101_0101_0101_0101) | word
                if (control | high) & 0x8080_8080_8080_8080 == 0 {
                    index &+= 8
                    continue
                }
                for _ in 0..<8 {
                    try Self.checkValueByte(bytes[index], ascii: &ascii)
                    index &+= 1
                }
            }
        }
        while index < end {
            try Self.checkValueByte(bytes[index], ascii: &ascii)
            index &+= 1
        }
        var valueEnd = end
        while valueEnd > valueStart && HTTPSyntax.isWhitespace(bytes[valueEnd &- 1]) { valueEnd &-= 1 }
        name = start..<nameEnd
        value = valueStart..<valueEnd
        valueIsASCII = ascii
    }

    /// Rejects a control byte other than HTAB, or DEL; notes `obs-text` (RFC 9110 §5.5).
    @inline(__always)
    private static func checkValueByte(_ byte: UInt8, ascii: inout Bool) throws(HTTPParseError) {
        if byte >= 0x80 {
            ascii = false
        } else if (byte < 0x20 && byte != HTTPSyntax.htab) || byte == 0x7F {
            throw HTTPParseError(.invalidHeaderValue)
        }
    }

    /// The name as a string (always ASCII).
    func nameString(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[name]), as: UTF8.self)
    }

    /// The value as a string.
    ///
    /// RFC 9110 §5.5: a recipient should treat `obs-text` (%x80–FF) as opaque data. A value that
    /// is valid UTF-8 is read as UTF-8; any other is read as ISO-8859-1, one character per byte
    /// (WHATWG's "isomorphic decode"), so no byte is lost or replaced and nothing is refused.
    /// CR, LF, NUL and the other control bytes never get here (``checkValueByte``).
    func valueString(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        let slice = UnsafeBufferPointer(rebasing: bytes[value])
        if valueIsASCII {
            return String(decoding: slice, as: UTF8.self)
        }
        if let string = String(validating: slice, as: UTF8.self) {
            return string
        }
        var latin1 = String.UnicodeScalarView()
        latin1.append(contentsOf: slice.lazy.map { Unicode.Scalar($0) })
        return String(latin1)
    }
}

/// The header fields that decide message framing and connection handling.
enum FramingField {
    /// `Content-Length`.
    case contentLength
    /// `Transfer-Encoding`.
    case transferEncoding
    /// `Connection`.
    case connection
    /// `Host`.
    case host
    /// `Expect`.
    case expect

    /// Classifies a field name without building a string.
    ///
    /// - Parameters:
    ///   - bytes: The buffer.
    ///   - name: The name's bytes.
    /// - Returns: The field, or `nil` for any other name.
    @inline(__always)
    static func classify(_ bytes: UnsafeBufferPointer<UInt8>, _ name: Range<Int>) -> FramingField? {
        switch name.count {
        case 4: HTTPSyntax.equalsIgnoringCase(bytes, name, "host") ? .host : nil
        case 6: HTTPSyntax.equalsIgnoringCase(bytes, name, "expect") ? .expect : nil
        case 10: HTTPSyntax.equalsIgnoringCase(bytes, name, "connection") ? .connection : nil
        case 14: HTTPSyntax.equalsIgnoringCase(bytes, name, "content-length") ? .contentLength : nil
        case 17: HTTPSyntax.equalsIgnoringCase(bytes, name, "transfer-encoding") ? .transferEncoding : nil
        default: nil
        }
    }
}

/// What the framing fields of one message said, gathered field by field as the head arrives.
struct FramingFields {
    /// The agreed `Content-Length`, if any field carried one.
    var contentLength: Int?
    /// Whether any `Transfer-Encoding` field was present.
    var hasTransferEncoding = false
    /// The number of non-empty transfer codings over all `Transfer-Encoding` fields.
    var codingCount = 0
    /// How many of them were `chunked`.
    var chunkedCount = 0
    /// Whether the last coding so far is exactly `chunked`.
    var lastCodingIsChunked = false
    /// Whether a `Connection` field listed `close`.
    var connectionClose = false
    /// Whether a `Connection` field listed `keep-alive`.
    var connectionKeepAlive = false

    /// Folds one `Content-Length` field into ``contentLength``.
    ///
    /// RFC 9110 §8.6: `Content-Length = 1*DIGIT`. RFC 9112 §6.3: a list of identical values
    /// (`5, 5`, or the same value in two fields) may be accepted as that value; differing
    /// values, empty elements, signs or any non-digit make the framing invalid (400). A value
    /// too large for `Int` is invalid rather than "too large", since no limit could accept it.
    mutating func addContentLength(_ bytes: UnsafeBufferPointer<UInt8>, _ value: Range<Int>) throws(HTTPParseError) {
        var index = value.lowerBound
        while let element = HTTPSyntax.nextListElement(bytes, &index, end: value.upperBound) {
            guard !element.isEmpty else { throw HTTPParseError(.invalidContentLength) }
            var number = 0
            for position in element {
                let digit = bytes[position] &- UInt8(ascii: "0")
                guard digit < 10 else { throw HTTPParseError(.invalidContentLength) }
                let (times10, overflow1) = number.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(Int(digit))
                guard !overflow1 && !overflow2 else { throw HTTPParseError(.invalidContentLength) }
                number = sum
            }
            if let contentLength, contentLength != number {
                throw HTTPParseError(.conflictingContentLength)
            }
            contentLength = number
        }
    }

    /// Folds one `Transfer-Encoding` field into the coding counts.
    ///
    /// RFC 9112 §6.1: `Transfer-Encoding = #transfer-coding`, and several fields combine into
    /// one list in order. Empty list elements are ignored (RFC 9110 §5.6.1). Each element must
    /// be a token, optionally followed by `;` parameters; anything else is invalid (400).
    /// `chunked` matches case-insensitively but only when it has no parameters.
    mutating func addTransferEncoding(_ bytes: UnsafeBufferPointer<UInt8>, _ value: Range<Int>) throws(HTTPParseError) {
        hasTransferEncoding = true
        var index = value.lowerBound
        while let element = HTTPSyntax.nextListElement(bytes, &index, end: value.upperBound) {
            if element.isEmpty { continue }
            var position = element.lowerBound
            while position < element.upperBound && HTTPSyntax.isTokenByte(bytes[position]) { position &+= 1 }
            let nameEnd = position
            while position < element.upperBound && HTTPSyntax.isWhitespace(bytes[position]) { position &+= 1 }
            guard nameEnd > element.lowerBound,
                position == element.upperBound || bytes[position] == HTTPSyntax.semicolon
            else { throw HTTPParseError(.invalidTransferEncoding) }
            let isChunked = HTTPSyntax.equalsIgnoringCase(bytes, element, "chunked")
            codingCount &+= 1
            if isChunked { chunkedCount &+= 1 }
            lastCodingIsChunked = isChunked
        }
    }

    /// Folds one `Connection` field into ``connectionClose`` and ``connectionKeepAlive``.
    ///
    /// RFC 9110 §7.6.1: `Connection = #connection-option`, options are case-insensitive tokens;
    /// options other than `close` and `keep-alive` are ignored.
    mutating func addConnection(_ bytes: UnsafeBufferPointer<UInt8>, _ value: Range<Int>) {
        var index = value.lowerBound
        while let element = HTTPSyntax.nextListElement(bytes, &index, end: value.upperBound) {
            if HTTPSyntax.equalsIgnoringCase(bytes, element, "close") {
                connectionClose = true
            } else if HTTPSyntax.equalsIgnoringCase(bytes, element, "keep-alive") {
                connectionKeepAlive = true
            }
        }
    }

    /// Whether the connection may carry another message after this one (RFC 9112 §9.3).
    ///
    /// - Parameter version: The message's version.
    /// - Returns: For HTTP/1.1, `true` unless `close` was listed; for HTTP/1.0, `true` only when
    ///   `keep-alive` was listed and `close` was not.
    func keepAlive(version: HTTPVersion) -> Bool {
        switch version {
        case .http11: !connectionClose
        case .http10: connectionKeepAlive && !connectionClose
        }
    }

    /// Checks the transfer codings of a message that has a `Transfer-Encoding` field.
    ///
    /// - RFC 9112 §6.1: a recipient of an HTTP/1.0 message with `Transfer-Encoding` must treat
    ///   its framing as faulty → 400.
    /// - RFC 9112 §6.1, §6.3: `Transfer-Encoding` and `Content-Length` together are a
    ///   request-smuggling pattern; the server may reject the message, and this one does → 400.
    /// - RFC 9112 §6.3: if `chunked` is not the final coding the length cannot be determined → 400.
    ///   An empty list and `chunked` applied twice (forbidden by §6.1) are also 400.
    /// - RFC 9112 §6.1: a coding the server does not understand (`gzip, chunked`) → 501.
    ///
    /// - Parameter version: The message's version.
    /// - Throws: `HTTPParseError` with status 400 or 501.
    func validateTransferCodings(version: HTTPVersion) throws(HTTPParseError) {
        guard version == .http11 else { throw HTTPParseError(.transferEncodingInHTTP10) }
        guard contentLength == nil else { throw HTTPParseError(.contentLengthWithTransferEncoding) }
        guard lastCodingIsChunked, chunkedCount == 1 else { throw HTTPParseError(.invalidTransferEncoding) }
        guard codingCount == 1 else { throw HTTPParseError(.unsupportedTransferCoding) }
    }
}

/// The outcome of looking for the end of a line.
enum LineSearch {
    /// The line's LF is at this index, and the byte before it is CR.
    case found(Int)
    /// No LF yet, but the line may still end within its budget.
    case needMore
    /// No LF within the line's budget.
    case overBudget
}

extension HTTPSyntax {
    /// Looks for the LF that ends the line starting at `start`, resuming after the `scanned`
    /// bytes already searched, so a client sending one byte at a time costs one look per byte.
    ///
    /// RFC 9112 §2.2: a line ends with CRLF; a bare LF is rejected (400) rather than accepted,
    /// since other parsers may disagree about where the line ended.
    ///
    /// - Parameters:
    ///   - bytes: The buffer.
    ///   - start: The first byte of the line.
    ///   - end: The end of the buffered bytes.
    ///   - scanned: Bytes after `start` already searched; updated when the line is incomplete.
    ///   - budget: The most bytes the line may take, its CRLF included.
    /// - Returns: Where the LF is, or why there is none.
    /// - Throws: `bareLineFeed` when the LF is not preceded by CR.
    @inline(__always)
    static func findLineEnd(
        _ bytes: UnsafeBufferPointer<UInt8>,
        start: Int,
        end: Int,
        scanned: inout Int,
        budget: Int
    ) throws(HTTPParseError) -> LineSearch {
        let windowEnd = min(end, start &+ max(budget, 0))
        if let lineFeed = firstLineFeed(in: bytes, from: start &+ scanned, to: windowEnd) {
            guard lineFeed > start, bytes[lineFeed &- 1] == cr else { throw HTTPParseError(.bareLineFeed) }
            scanned = 0
            return .found(lineFeed)
        }
        scanned = windowEnd &- start
        return end &- start >= budget ? .overBudget : .needMore
    }
}
