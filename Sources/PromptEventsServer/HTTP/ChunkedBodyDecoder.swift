/// Decodes a chunked message body incrementally (RFC 9112 §7.1), for requests and responses.
///
///     chunked-body   = *chunk
///                      last-chunk
///                      trailer-section
///                      CRLF
///     chunk          = chunk-size [ chunk-ext ] CRLF
///                      chunk-data CRLF
///     chunk-size     = 1*HEXDIG
///     last-chunk     = 1*("0") [ chunk-ext ] CRLF
///
/// The decoder consumes what it can from the bytes it is shown and reports how many it used;
/// chunk data is copied into the body as it arrives, so the input buffer never has to hold a
/// whole chunk. Trailer fields are validated like header fields and then discarded.
struct ChunkedBodyDecoder: Sendable {
    /// Where in the chunked grammar the next byte belongs.
    private enum State: Sendable {
        case size
        case data(remaining: Int)
        case dataEnd
        case trailer
        case done
    }

    /// The most hexadecimal digits a chunk size may have, leading zeros included; 16 digits
    /// cover every 64-bit size, so the arithmetic below cannot overflow.
    static let maxSizeDigits = 16

    private var state = State.size
    /// Bytes of the current line already searched for its LF.
    private var scanned = 0
    /// Body bytes decoded so far.
    private(set) var bodyBytes = 0
    /// Chunk-extension bytes seen so far, over the whole body.
    private var extensionBytes = 0
    /// Trailer-section bytes seen so far, its final CRLF included.
    private var trailerBytes = 0
    /// Trailer fields seen so far.
    private var trailerCount = 0

    /// Creates a decoder positioned before the first chunk size.
    init() {}

    /// Whether the final CRLF after the trailer section has been consumed.
    var isComplete: Bool {
        if case .done = state { return true }
        return false
    }

    /// Consumes bytes of the chunked body from `bytes[start..<end]`.
    ///
    /// - Parameters:
    ///   - bytes: The buffer.
    ///   - start: The first unconsumed byte.
    ///   - end: The end of the buffered bytes.
    ///   - body: The decoded body, appended to.
    ///   - limits: The limits on body, extension and trailer sizes.
    /// - Returns: The index of the first byte not consumed; ``isComplete`` tells whether the
    ///   body ended there.
    /// - Throws: `HTTPParseError` with status 400, 413 or 431.
    mutating func decode(
        _ bytes: UnsafeBufferPointer<UInt8>,
        from start: Int,
        to end: Int,
        into body: inout [UInt8],
        limits: HTTPLimits
    ) throws(HTTPParseError) -> Int {
        var position = start
        while position < end {
            switch state {
            case .size:
                guard let next = try decodeSizeLine(bytes, from: position, to: end, limits: limits) else {
                    return position
                }
                position = next
            case .data(let remaining):
                let count = min(remaining, end &- position)
                body.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[position..<position &+ count]))
                bodyBytes &+= count
                position &+= count
                state = remaining == count ? .dataEnd : .data(remaining: remaining &- count)
            case .dataEnd:
                // RFC 9112 §7.1: chunk-data is followed by exactly CRLF; anything else means the
                // size did not match the data.
                guard bytes[position] == HTTPSyntax.cr else { throw HTTPParseError(.invalidChunkData) }
                guard position &+ 1 < end else { return position }
                guard bytes[position &+ 1] == HTTPSyntax.lf else { throw HTTPParseError(.invalidChunkData) }
                position &+= 2
                state = .size
            case .trailer:
                guard let next = try decodeTrailerLine(bytes, from: position, to: end, limits: limits) else {
                    return position
                }
                position = next
            case .done:
                return position
            }
        }
        return position
    }

    /// Consumes one `chunk-size [ chunk-ext ] CRLF` line, or nothing if it is incomplete.
    private mutating func decodeSizeLine(
        _ bytes: UnsafeBufferPointer<UInt8>,
        from start: Int,
        to end: Int,
        limits: HTTPLimits
    ) throws(HTTPParseError) -> Int? {
        // RFC 9112 §7.1: chunk-size = 1*HEXDIG. Rejecting a non-digit first byte at once turns
        // away garbage without waiting for a line end.
        guard HTTPSyntax.hexValue(bytes[start]) != nil else { throw HTTPParseError(.invalidChunkSize) }
        let budget = Self.maxSizeDigits + max(limits.maxChunkExtensionBytes - extensionBytes, 0) + 2
        let lineFeed: Int
        switch try HTTPSyntax.findLineEnd(bytes, start: start, end: end, scanned: &scanned, budget: budget) {
        case .found(let index):
            lineFeed = index
        case .needMore:
            return nil
        case .overBudget:
            var digits = 0
            while digits <= Self.maxSizeDigits && HTTPSyntax.hexValue(bytes[start &+ digits]) != nil { digits &+= 1 }
            throw HTTPParseError(digits > Self.maxSizeDigits ? .invalidChunkSize : .chunkExtensionsTooLarge)
        }
        let lineEnd = lineFeed &- 1  // the CR
        var index = start
        var size: UInt64 = 0
        while index < lineEnd, let digit = HTTPSyntax.hexValue(bytes[index]) {
            guard index &- start < Self.maxSizeDigits else { throw HTTPParseError(.invalidChunkSize) }
            size = size &<< 4 | UInt64(digit)
            index &+= 1
        }
        if index < lineEnd {
            // RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ).
            // After the digits only BWS or ";" may follow ("5x", "0x5", "5\v" are invalid sizes).
            let next = bytes[index]
            guard next == HTTPSyntax.semicolon || HTTPSyntax.isWhitespace(next) else {
                throw HTTPParseError(.invalidChunkSize)
            }
            extensionBytes &+= lineEnd &- index
            guard extensionBytes <= limits.maxChunkExtensionBytes else {
                throw HTTPParseError(.chunkExtensionsTooLarge)
            }
            try Self.validateExtensions(bytes, from: index, to: lineEnd)
        }
        // The running total is checked before any of the chunk's data is read.
        guard size <= UInt64(limits.maxBodyBytes &- bodyBytes) else { throw HTTPParseError(.bodyTooLarge) }
        state = size == 0 ? .trailer : .data(remaining: Int(size))
        return lineFeed &+ 1
    }

    /// Checks chunk extensions loosely: `;`-separated `name[=value]` pairs where names are
    /// tokens and values are tokens or quoted strings, with BWS around `;` and `=`.
    private static func validateExtensions(
        _ bytes: UnsafeBufferPointer<UInt8>,
        from start: Int,
        to end: Int
    ) throws(HTTPParseError) {
        var index = start
        func skipWhitespace() {
            while index < end && HTTPSyntax.isWhitespace(bytes[index]) { index &+= 1 }
        }
        func skipToken() -> Bool {
            let tokenStart = index
            while index < end && HTTPSyntax.isTokenByte(bytes[index]) { index &+= 1 }
            return index > tokenStart
        }
        while index < end {
            skipWhitespace()
            guard index < end, bytes[index] == HTTPSyntax.semicolon else {
                throw HTTPParseError(.invalidChunkExtension)
            }
            index &+= 1
            skipWhitespace()
            guard skipToken() else { throw HTTPParseError(.invalidChunkExtension) }
            skipWhitespace()
            guard index < end, bytes[index] == UInt8(ascii: "=") else { continue }
            index &+= 1
            skipWhitespace()
            guard index < end else { throw HTTPParseError(.invalidChunkExtension) }
            if bytes[index] == UInt8(ascii: "\"") {
                // quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE (RFC 9110 §5.6.4)
                index &+= 1
                var closed = false
                while index < end {
                    let byte = bytes[index]
                    if byte == UInt8(ascii: "\"") {
                        closed = true
                        index &+= 1
                        break
                    }
                    if byte == UInt8(ascii: "\\") { index &+= 1 }
                    guard index < end, HTTPSyntax.isFieldValueByte(bytes[index]) else {
                        throw HTTPParseError(.invalidChunkExtension)
                    }
                    index &+= 1
                }
                guard closed else { throw HTTPParseError(.invalidChunkExtension) }
            } else {
                guard skipToken() else { throw HTTPParseError(.invalidChunkExtension) }
            }
        }
    }

    /// Consumes one trailer field line or the final empty line, or nothing if it is incomplete.
    ///
    /// RFC 9112 §7.1.2: `trailer-section = *( field-line CRLF )`. Trailer fields are checked with
    /// the header-field rules, bounded by ``HTTPLimits/maxHeadBytes`` and
    /// ``HTTPLimits/maxHeaderCount`` (431), and discarded: nothing here uses them.
    private mutating func decodeTrailerLine(
        _ bytes: UnsafeBufferPointer<UInt8>,
        from start: Int,
        to end: Int,
        limits: HTTPLimits
    ) throws(HTTPParseError) -> Int? {
        let budget = limits.maxHeadBytes &- trailerBytes
        let lineFeed: Int
        switch try HTTPSyntax.findLineEnd(bytes, start: start, end: end, scanned: &scanned, budget: budget) {
        case .found(let index):
            lineFeed = index
        case .needMore:
            return nil
        case .overBudget:
            throw HTTPParseError(.headTooLarge)
        }
        trailerBytes &+= lineFeed &+ 1 &- start
        if lineFeed &- 1 == start {
            state = .done
            return lineFeed &+ 1
        }
        _ = try FieldLine(bytes, start: start, end: lineFeed &- 1)
        trailerCount &+= 1
        guard trailerCount <= limits.maxHeaderCount else { throw HTTPParseError(.tooManyHeaders) }
        return lineFeed &+ 1
    }
}
