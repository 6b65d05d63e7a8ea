extension JSONValue {
    /// Limits and choices for `JSONValue(parsing:options:)`.
    public struct ParsingOptions: Sendable, Hashable {
        /// The deepest nesting of arrays and objects accepted; deeper input fails with
        /// ``JSONParseError/Code/nestingTooDeep``.
        ///
        /// `[]` has depth 1 and `[[]]` depth 2; a lone scalar has depth 0. The parser itself does
        /// not recurse, so it never overflows the call stack. Other operations on the parsed value
        /// do recurse once per level—comparing, hashing, serializing, decoding and deallocating
        /// it—so keep this limit modest. The default, 512, is far beyond any real webhook payload
        /// and well within the smallest (512 KiB) thread stacks.
        public var maximumDepth: Int
        /// Whether a `\uXXXX` escape encoding half of a surrogate pair without its other half becomes
        /// U+FFFD REPLACEMENT CHARACTER instead of failing with ``JSONParseError/Code/loneSurrogate``.
        ///
        /// Off by default: a lone surrogate cannot be represented in a Swift `String`, and replacing it
        /// silently changes the text.
        public var replacesLoneSurrogates: Bool

        /// Creates parsing options.
        ///
        /// - Parameters:
        ///   - maximumDepth: The deepest nesting of arrays and objects accepted; 512 by default.
        ///   - replacesLoneSurrogates: Whether lone surrogate escapes become U+FFFD instead of failing.
        public init(maximumDepth: Int = 512, replacesLoneSurrogates: Bool = false) {
            self.maximumDepth = maximumDepth
            self.replacesLoneSurrogates = replacesLoneSurrogates
        }
    }

    /// Parses a single JSON text (RFC 8259) from UTF-8 bytes.
    ///
    /// The grammar is applied strictly: no comments, trailing commas, leading zeros, leading `+`,
    /// `NaN` or `Infinity`, no unescaped control characters in strings, no byte order mark, and
    /// nothing but space, tab, line feed and carriage return around the single top-level value.
    /// Strings must be well-formed UTF-8. Duplicate object keys are kept (see ``JSONObject``), and
    /// numbers keep their exact text (see ``JSONNumber``). A `\uXXXX` escape of a lone UTF-16
    /// surrogate fails with ``JSONParseError/Code/loneSurrogate`` unless
    /// ``ParsingOptions/replacesLoneSurrogates`` is set.
    ///
    /// - Parameters:
    ///   - bytes: The UTF-8 encoded JSON text. Contiguous collections such as `[UInt8]` are read in
    ///     place; others are copied once.
    ///   - options: Limits and choices; the defaults suit webhook bodies.
    /// - Throws: ``JSONParseError`` naming the byte offset and what was expected there.
    public init(parsing bytes: some Collection<UInt8>, options: ParsingOptions = .init()) throws(JSONParseError) {
        let result = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONParseError) in try JSONParser.parse(buffer, options: options) }
        }
        if let result {
            self = try result.get()
        } else {
            let copy = Array(bytes)
            self = try copy.withUnsafeBufferPointer { buffer in
                Result { () throws(JSONParseError) in try JSONParser.parse(buffer, options: options) }
            }.get()
        }
    }

    /// Parses a single JSON text (RFC 8259) from a string, reading its UTF-8 in place.
    ///
    /// The rules are those of the byte-collection initializer: strict RFC 8259, well-formed UTF-8.
    ///
    /// - Parameters:
    ///   - text: The JSON text.
    ///   - options: Limits and choices; the defaults suit webhook bodies.
    /// - Throws: ``JSONParseError`` naming the byte offset (in the UTF-8 encoding) and what was expected there.
    public init(parsing text: String, options: ParsingOptions = .init()) throws(JSONParseError) {
        var text = text
        self = try text.withUTF8 { buffer in
            Result { () throws(JSONParseError) in try JSONParser.parse(buffer, options: options) }
        }.get()
    }
}

/// Byte values the parser compares against.
private enum ASCII {
    static let tab: UInt8 = 0x09
    static let lineFeed: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C
    static let minus: UInt8 = 0x2D
    static let period: UInt8 = 0x2E
    static let slash: UInt8 = 0x2F
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let colon: UInt8 = 0x3A
    static let openBracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C
    static let closeBracket: UInt8 = 0x5D
    static let lowerB: UInt8 = 0x62
    static let lowerE: UInt8 = 0x65
    static let lowerF: UInt8 = 0x66
    static let lowerN: UInt8 = 0x6E
    static let lowerR: UInt8 = 0x72
    static let lowerT: UInt8 = 0x74
    static let lowerU: UInt8 = 0x75
    static let openBrace: UInt8 = 0x7B
    static let closeBrace: UInt8 = 0x7D
}

/// A single-pass, index-based RFC 8259 parser over a contiguous UTF-8 buffer.
///
/// It does not recurse (see ``parseValue()``). Elements and members are collected on two shared
/// stacks and moved into an exactly-sized array when their container closes, so each array and
/// object costs one allocation.
struct JSONParser: ~Copyable {
    /// The input.
    let bytes: UnsafeBufferPointer<UInt8>
    /// The input's length.
    let end: Int
    /// The offset of the next byte to read.
    var index = 0
    /// The deepest nesting allowed.
    let maximumDepth: Int
    /// Whether lone surrogate escapes become U+FFFD.
    let replacesLoneSurrogates: Bool
    /// The offset of the opening quote of the string being parsed, for error messages.
    var stringStart = 0
    /// Whether the last string parsed was all ASCII.
    var stringIsASCII = true
    /// Reused storage for decoding strings that contain escapes.
    var scratch: [UInt8] = []
    /// Elements of the arrays being parsed, innermost last.
    var elementStack = MoveStack<JSONValue>()
    /// Members of the objects being parsed, innermost last.
    var memberStack = MoveStack<JSONObject.Member>()

    /// Creates a parser positioned at the first byte.
    init(bytes: UnsafeBufferPointer<UInt8>, options: JSONValue.ParsingOptions) {
        self.bytes = bytes
        self.end = bytes.count
        self.maximumDepth = options.maximumDepth
        self.replacesLoneSurrogates = options.replacesLoneSurrogates
    }

    /// Parses `bytes` as one JSON text.
    static func parse(
        _ bytes: UnsafeBufferPointer<UInt8>,
        options: JSONValue.ParsingOptions
    ) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes: bytes, options: options)
        return try parser.parseDocument()
    }

    /// Parses a value surrounded by optional whitespace that must span the whole input.
    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        guard index == end else {
            throw failure(.trailingData, at: index, expected: "Expected only whitespace after the top-level value")
        }
        return value
    }

    // MARK: - Structure

    /// Skips space, tab, line feed and carriage return.
    @inline(__always)
    mutating func skipWhitespace() {
        while index < end {
            let byte = bytes[index]
            guard byte <= ASCII.space,
                byte == ASCII.space || byte == ASCII.lineFeed || byte == ASCII.carriageReturn || byte == ASCII.tab
            else { return }
            index += 1
        }
    }

    /// An array or object that encloses the innermost open one, saved until that one closes.
    struct OpenContainer {
        /// Whether this is an object (otherwise an array).
        let isObject: Bool
        /// Where its elements or members begin on ``elementStack`` or ``memberStack``.
        let start: Int
        /// For an object, the name of the member whose value is being parsed.
        let key: String
        /// Whether `key` is all ASCII.
        let keyIsASCII: Bool
    }

    /// Parses the value starting at `index`, which must not be whitespace.
    ///
    /// Iterative rather than recursive: the innermost open array or object is tracked in local
    /// variables and the ones around it on an explicit stack, so the call stack stays the same
    /// size however deeply the input nests, on any thread and in debug builds alike.
    mutating func parseValue() throws(JSONParseError) -> JSONValue {
        var enclosing: [OpenContainer] = []
        // The innermost open container, if `depth > 0`.
        var depth = 0
        var inObject = false
        var start = 0
        var key = ""
        var keyIsASCII = true
        parsing: while true {
            // Read one value, or open a container and go on to its first element or member.
            var value: JSONValue
            guard index < end else {
                throw failure(.unexpectedEndOfInput, at: index, expected: "Expected a JSON value")
            }
            switch bytes[index] {
            case ASCII.quote:
                value = .string(try parseString())
            case ASCII.minus, ASCII.zero...ASCII.nine:
                value = .number(try parseNumber())
            case ASCII.openBrace:
                if depth >= maximumDepth { throw nestingTooDeep() }
                index += 1
                skipWhitespace()
                if index < end, bytes[index] == ASCII.closeBrace {
                    index += 1
                    value = .object(JSONObject())
                } else {
                    let name = try parseMemberName(orClosingBrace: true)
                    if depth > 0 {
                        Self.save(
                            OpenContainer(isObject: inObject, start: start, key: key, keyIsASCII: keyIsASCII),
                            to: &enclosing
                        )
                    }
                    depth += 1
                    inObject = true
                    start = memberStack.count
                    key = name
                    keyIsASCII = stringIsASCII
                    continue parsing
                }
            case ASCII.openBracket:
                if depth >= maximumDepth { throw nestingTooDeep() }
                index += 1
                skipWhitespace()
                if index < end, bytes[index] == ASCII.closeBracket {
                    index += 1
                    value = .array([])
                } else {
                    if depth > 0 {
                        Self.save(
                            OpenContainer(isObject: inObject, start: start, key: key, keyIsASCII: keyIsASCII),
                            to: &enclosing
                        )
                    }
                    depth += 1
                    inObject = false
                    start = elementStack.count
                    continue parsing
                }
            case ASCII.lowerT:
                try parseLiteral("true")
                value = .bool(true)
            case ASCII.lowerF:
                try parseLiteral("false")
                value = .bool(false)
            case ASCII.lowerN:
                try parseLiteral("null")
                value = .null
            default:
                throw unexpectedValueByte()
            }

            // Add the value to the innermost open container; each container it closes is a value
            // for the next one out.
            while depth > 0 {
                skipWhitespace()
                if inObject {
                    memberStack.push(JSONObject.Member(key: consume key, value: consume value, keyIsASCII: keyIsASCII))
                    guard index < end else {
                        throw failure(at: index, expected: "Expected ',' or '}' after an object member")
                    }
                    let byte = bytes[index]
                    if byte == ASCII.comma {
                        index += 1
                        skipWhitespace()
                        if index < end, bytes[index] == ASCII.closeBrace { throw trailingComma() }
                        key = try parseMemberName(orClosingBrace: false)
                        keyIsASCII = stringIsASCII
                        continue parsing
                    }
                    guard byte == ASCII.closeBrace else {
                        throw failure(at: index, expected: "Expected ',' or '}' after an object member")
                    }
                    index += 1
                    value = .object(JSONObject(members: memberStack.popArray(from: start)))
                } else {
                    elementStack.push(consume value)
                    guard index < end else {
                        throw failure(at: index, expected: "Expected ',' or ']' after an array element")
                    }
                    let byte = bytes[index]
                    if byte == ASCII.comma {
                        index += 1
                        skipWhitespace()
                        if index < end, bytes[index] == ASCII.closeBracket { throw trailingComma() }
                        continue parsing
                    }
                    guard byte == ASCII.closeBracket else {
                        throw failure(at: index, expected: "Expected ',' or ']' after an array element")
                    }
                    index += 1
                    value = .array(elementStack.popArray(from: start))
                }
                depth -= 1
                if let outer = enclosing.popLast() {
                    inObject = outer.isObject
                    start = outer.start
                    key = outer.key
                    keyIsASCII = outer.keyIsASCII
                } else {
                    key = ""
                }
            }
            return value
        }
    }

    /// Pushes an enclosing container, reserving room for several at the first one.
    @inline(__always)
    static func save(_ container: consuming OpenContainer, to enclosing: inout [OpenContainer]) {
        if enclosing.capacity == 0 { enclosing.reserveCapacity(16) }
        enclosing.append(container)
    }

    /// Parses a member name and the `:` after it, leaving `index` at the member's value.
    ///
    /// - Parameter orClosingBrace: Whether `}` could have come instead, for the error message.
    /// - Returns: The member name.
    /// - Throws: ``JSONParseError`` if there is no name and `:` here.
    @inline(__always)
    mutating func parseMemberName(orClosingBrace: Bool) throws(JSONParseError) -> String {
        guard index < end, bytes[index] == ASCII.quote else {
            let expected = "Expected '\"' to begin a member name" + (orClosingBrace ? " or '}'" : "")
            throw failure(at: index, expected: expected)
        }
        let key = try parseString()
        skipWhitespace()
        guard index < end, bytes[index] == ASCII.colon else {
            throw failure(at: index, expected: "Expected ':' after an object member name")
        }
        index += 1
        skipWhitespace()
        return key
    }

    /// Parses `true`, `false` or `null`; `index` is at its first letter.
    @inline(__always)
    mutating func parseLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        if index + count <= end {
            let start = literal.utf8Start
            var matches = true
            for offset in 1..<count where bytes[index + offset] != start[offset] {
                matches = false
            }
            if matches {
                index += count
                return
            }
        }
        throw invalidLiteral(literal)
    }

    // MARK: - Strings

    /// Parses a string; `index` is at its opening quote.
    ///
    /// Skips eight plain bytes at a time; strings without escapes are created directly from the
    /// input. The common case—ASCII without escapes—stays in this small function, and anything
    /// else continues in ``parseStringContinued(from:)``.
    mutating func parseString() throws(JSONParseError) -> String {
        stringStart = index
        stringIsASCII = true
        let start = index &+ 1
        let end = self.end
        guard let base = bytes.baseAddress else { throw unterminatedString() }
        var position = start
        while true {
            while position &+ 8 <= end {
                let word = UInt64(littleEndian: UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self))
                let special = Self.specialBytes(in: word)
                if special != 0 {
                    position &+= special.trailingZeroBitCount &>> 3
                    break
                }
                position &+= 8
            }
            guard position < end else { break }
            let byte = base[position]
            if byte == ASCII.quote {
                index = position &+ 1
                return makeString(from: start, to: position)
            }
            // A plain byte among the last seven: step over it; anything else takes the slow path.
            guard byte &- ASCII.space < 0x60, byte != ASCII.backslash else { break }
            position &+= 1
        }
        index = position
        return try parseStringContinued(from: start)
    }

    /// Continues a string that has an escape, non-ASCII bytes, an error, or ends the input;
    /// `index` is at the first such byte and `start` is just after the opening quote.
    @inline(never)
    mutating func parseStringContinued(from start: Int) throws(JSONParseError) -> String {
        while index < end {
            let byte = bytes[index]
            if byte &- ASCII.space < 0x60 {
                if byte == ASCII.quote {
                    let string = makeString(from: start, to: index)
                    index += 1
                    return string
                }
                if byte == ASCII.backslash { return try parseEscapedString(from: start) }
                index += 1
            } else if byte >= 0x80 {
                try skipUTF8Sequence()
            } else {
                throw controlCharacter()
            }
        }
        throw unterminatedString()
    }

    /// Flags (in bit 7 of each byte) the bytes of a little-endian word that end a plain run in a string:
    /// `"`, `\`, control characters and non-ASCII bytes.
    ///
    /// Only the lowest flag is exact (borrows can set flags above it), which is all the scan uses.
    @inline(__always)
    static func specialBytes(in word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let quotes = word ^ (ones &* UInt64(ASCII.quote))
        let backslashes = word ^ (ones &* UInt64(ASCII.backslash))
        let isQuote = (quotes &- ones) & ~quotes
        let isBackslash = (backslashes &- ones) & ~backslashes
        let isControl = (word &- ones &* UInt64(ASCII.space)) & ~word
        return (isQuote | isBackslash | isControl | word) & (ones &* 0x80)
    }

    /// Creates a string from the validated UTF-8 input bytes `start..<end`.
    @inline(__always)
    func makeString(from start: Int, to end: Int) -> String {
        Self.makeString(UnsafeBufferPointer(rebasing: bytes[start..<end]))
    }

    /// Creates a string from validated UTF-8 with the standard library's public initializer
    /// (strings of up to 15 bytes are stored inline by it, without a heap allocation).
    static func makeString(_ utf8: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: utf8, as: UTF8.self)
    }

    /// Finishes a string that contains an escape; `index` is at the first backslash.
    mutating func parseEscapedString(from start: Int) throws(JSONParseError) -> String {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < end {
            let byte = bytes[index]
            if byte &- ASCII.space < 0x60 {
                if byte == ASCII.quote {
                    index += 1
                    return scratch.withUnsafeBufferPointer { Self.makeString($0) }
                }
                if byte == ASCII.backslash {
                    try parseEscape()
                } else {
                    scratch.append(byte)
                    index += 1
                }
            } else if byte >= 0x80 {
                let sequenceStart = index
                try skipUTF8Sequence()
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[sequenceStart..<index]))
            } else {
                throw controlCharacter()
            }
        }
        throw unterminatedString()
    }

    /// Decodes one escape into `scratch`; `index` is at its backslash.
    mutating func parseEscape() throws(JSONParseError) {
        let backslash = index
        index += 1
        guard index < end else { throw unterminatedString() }
        let byte = bytes[index]
        index += 1
        switch byte {
        case ASCII.quote, ASCII.backslash, ASCII.slash: scratch.append(byte)
        case ASCII.lowerB: scratch.append(0x08)
        case ASCII.lowerF: scratch.append(0x0C)
        case ASCII.lowerN: scratch.append(ASCII.lineFeed)
        case ASCII.lowerR: scratch.append(ASCII.carriageReturn)
        case ASCII.lowerT: scratch.append(ASCII.tab)
        case ASCII.lowerU:
            let unit = try parseHex4()
            switch unit {
            case 0xD800...0xDBFF:
                if index + 1 < end, bytes[index] == ASCII.backslash, bytes[index + 1] == ASCII.lowerU {
                    let next = index
                    index += 2
                    let low = try parseHex4()
                    if (0xDC00...0xDFFF).contains(low) {
                        appendUTF8(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                        return
                    }
                    index = next  // Not a low surrogate: it is decoded as an escape of its own.
                }
                try loneSurrogate(unit, at: backslash)
            case 0xDC00...0xDFFF:
                try loneSurrogate(unit, at: backslash)
            default:
                appendUTF8(unit)
            }
        default:
            index -= 1
            throw failure(
                .invalidEscape,
                at: index,
                expected: "Expected one of '\"', '\\', '/', 'b', 'f', 'n', 'r', 't' or 'u' after a backslash"
            )
        }
    }

    /// Reads the four hexadecimal digits of a `\u` escape.
    mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < end else { throw unterminatedString() }
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case ASCII.zero...ASCII.nine: digit = byte &- ASCII.zero
            case 0x61...0x66: digit = byte &- 0x61 &+ 10
            case 0x41...0x46: digit = byte &- 0x41 &+ 10
            default:
                throw failure(.invalidEscape, at: index, expected: "Expected a hexadecimal digit in a \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// Handles a lone surrogate escape: U+FFFD if allowed, otherwise an error.
    mutating func loneSurrogate(_ unit: UInt32, at offset: Int) throws(JSONParseError) {
        guard replacesLoneSurrogates else {
            let hex = String(unit, radix: 16, uppercase: true)
            let expected =
                unit < 0xDC00
                ? "Expected a low surrogate escape (\\uDC00 to \\uDFFF) after the high surrogate \\u\(hex) at byte \(offset)"
                : "Expected a high surrogate escape (\\uD800 to \\uDBFF) before the low surrogate \\u\(hex) at byte \(offset)"
            throw JSONParseError(
                code: .loneSurrogate,
                offset: offset,
                message: "\(expected); a lone surrogate is not a Unicode scalar."
            )
        }
        appendUTF8(0xFFFD)
    }

    /// Appends a Unicode scalar value to `scratch` as UTF-8.
    mutating func appendUTF8(_ scalar: UInt32) {
        if scalar >= 0x80 { stringIsASCII = false }
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(truncatingIfNeeded: scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(truncatingIfNeeded: 0xC0 | scalar >> 6))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(truncatingIfNeeded: 0xE0 | scalar >> 12))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(truncatingIfNeeded: 0xF0 | scalar >> 18))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar & 0x3F))
        }
    }

    /// Skips one well-formed multi-byte UTF-8 sequence (RFC 3629); `index` is at its lead byte.
    ///
    /// Rejects stray continuation bytes, overlong forms, encoded surrogates, values above U+10FFFF
    /// and sequences cut short.
    mutating func skipUTF8Sequence() throws(JSONParseError) {
        stringIsASCII = false
        let lead = bytes[index]
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        let length: Int
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            upper = 0x9F
        case 0xF0:
            length = 4
            lower = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            upper = 0x8F
        default: throw invalidUTF8()
        }
        for offset in 1..<length {
            guard index + offset < end else { throw invalidUTF8() }
            let byte = bytes[index + offset]
            guard byte >= lower, byte <= upper else { throw invalidUTF8() }
            lower = 0x80
            upper = 0xBF
        }
        index += length
    }

    // MARK: - Numbers

    /// Parses a number; `index` is at its `-` or first digit.
    ///
    /// A plain integer within `Int64` range is accumulated directly; anything else keeps its text.
    mutating func parseNumber() throws(JSONParseError) -> JSONNumber {
        let start = index
        let negative = bytes[index] == ASCII.minus
        if negative { index += 1 }
        guard index < end, bytes[index] &- ASCII.zero < 10 else {
            throw failure(.invalidNumber, at: index, expected: "Expected a digit after '-'")
        }
        var magnitude: UInt64 = 0
        var digitCount = 0
        if bytes[index] == ASCII.zero {
            index += 1
            if index < end, bytes[index] &- ASCII.zero < 10 {
                throw failure(
                    .invalidNumber,
                    at: index,
                    expected: "Expected '.', 'e' or the end of the number after a leading '0'"
                )
            }
        } else {
            let digitsStart = index
            while index < end {
                let digit = bytes[index] &- ASCII.zero
                if digit >= 10 { break }
                // Wraps only beyond 19 digits, which are never stored as an integer anyway.
                magnitude = magnitude &* 10 &+ UInt64(digit)
                index += 1
            }
            digitCount = index - digitsStart
        }
        var isInteger = true
        if index < end, bytes[index] == ASCII.period {
            isInteger = false
            index += 1
            try skipDigits(expected: "Expected a digit after '.'")
        }
        if index < end, bytes[index] | 0x20 == ASCII.lowerE {
            isInteger = false
            index += 1
            if index < end, bytes[index] == ASCII.plus || bytes[index] == ASCII.minus { index += 1 }
            try skipDigits(expected: "Expected a digit in the exponent")
        }
        // Up to 19 digits cannot overflow a UInt64; the range checks below do the rest.
        if isInteger, digitCount <= 19 {
            if negative {
                if magnitude != 0, magnitude <= 1 << 63 {
                    return JSONNumber(storage: .int(Int64(bitPattern: 0 &- magnitude)))
                }
            } else if magnitude <= UInt64(Int64.max) {
                return JSONNumber(storage: .int(Int64(magnitude)))
            }
        }
        return JSONNumber(storage: .text(makeString(from: start, to: index)))
    }

    /// Skips one or more digits.
    mutating func skipDigits(expected: String) throws(JSONParseError) {
        guard index < end, bytes[index] &- ASCII.zero < 10 else {
            throw failure(.invalidNumber, at: index, expected: expected)
        }
        index += 1
        while index < end, bytes[index] &- ASCII.zero < 10 { index += 1 }
    }

    // MARK: - Errors

    /// Makes an error whose message is "`expected` at byte N, found X.".
    @inline(never)
    func failure(_ code: JSONParseError.Code, at offset: Int, expected: String) -> JSONParseError {
        let found = offset < end ? bytes[offset] : nil
        return JSONParseError(
            code: code,
            offset: offset,
            message: "\(expected) at byte \(offset), found \(JSONParseError.describe(found))."
        )
    }

    /// Makes an ``JSONParseError/Code/unexpectedByte`` or, at the end, ``JSONParseError/Code/unexpectedEndOfInput`` error.
    @inline(never)
    func failure(at offset: Int, expected: String) -> JSONParseError {
        failure(offset < end ? .unexpectedByte : .unexpectedEndOfInput, at: offset, expected: expected)
    }

    /// The error for a byte that cannot start a value, with a hint for common non-JSON syntax.
    @inline(never)
    func unexpectedValueByte() -> JSONParseError {
        let hint: String
        switch bytes[index] {
        case ASCII.slash: hint = " (comments are not allowed)"
        case ASCII.plus: hint = " (a number cannot start with '+')"
        case ASCII.period: hint = " (a number must have a digit before '.')"
        case 0x4E, 0x49: hint = " (NaN and Infinity are not JSON)"
        case 0x27: hint = " (strings use double quotes)"
        default: hint = ""
        }
        let error = failure(.unexpectedByte, at: index, expected: "Expected a JSON value")
        guard !hint.isEmpty else { return error }
        return JSONParseError(code: error.code, offset: index, message: String(error.message.dropLast()) + hint + ".")
    }

    /// The error for `,` directly followed by `]` or `}`.
    @inline(never)
    func trailingComma() -> JSONParseError {
        let error = failure(.unexpectedByte, at: index, expected: "Expected a value after ','")
        return JSONParseError(
            code: error.code,
            offset: index,
            message: String(error.message.dropLast()) + " (trailing commas are not allowed)."
        )
    }

    /// The error for a misspelled or truncated literal; `index` is at its first letter.
    @inline(never)
    func invalidLiteral(_ literal: StaticString) -> JSONParseError {
        let start = literal.utf8Start
        var offset = 1
        while offset < literal.utf8CodeUnitCount, index + offset < end, bytes[index + offset] == start[offset] {
            offset += 1
        }
        let letter = Character(Unicode.Scalar(start[offset]))
        return failure(.invalidLiteral, at: index + offset, expected: "Expected '\(letter)' to continue '\(literal)'")
    }

    /// The error for a raw control character in a string; `index` is at it.
    @inline(never)
    func controlCharacter() -> JSONParseError {
        failure(
            .controlCharacterInString,
            at: index,
            expected: "Expected a printable character or an escape in the string that starts at byte \(stringStart)"
        )
    }

    /// The error for input ending inside a string.
    @inline(never)
    func unterminatedString() -> JSONParseError {
        failure(
            .unterminatedString,
            at: end,
            expected: "Expected '\"' to close the string that starts at byte \(stringStart)"
        )
    }

    /// The error for a malformed UTF-8 sequence starting at `index`.
    @inline(never)
    func invalidUTF8() -> JSONParseError {
        failure(.invalidUTF8, at: index, expected: "Expected a well-formed UTF-8 sequence")
    }

    /// The error for an array or object beyond the depth limit; `index` is at its bracket.
    @inline(never)
    func nestingTooDeep() -> JSONParseError {
        failure(
            .nestingTooDeep,
            at: index,
            expected: "Expected at most \(maximumDepth) levels of nested arrays and objects"
        )
    }
}

/// A growable stack that hands out its top elements by moving them into a new array.
///
/// Moving avoids the retain–release pair per element that copying out of an `Array` would cost.
struct MoveStack<Element>: ~Copyable {
    /// The storage; `count` elements are initialized.
    private var base: UnsafeMutablePointer<Element>
    /// The number of elements on the stack.
    private(set) var count = 0
    /// The number of elements `base` can hold.
    private var capacity: Int

    init() {
        capacity = 64
        base = UnsafeMutablePointer<Element>.allocate(capacity: capacity)
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    /// Pushes an element.
    @inline(__always)
    mutating func push(_ element: consuming Element) {
        if count == capacity { grow() }
        (base + count).initialize(to: element)
        count += 1
    }

    /// Doubles the capacity.
    @inline(never)
    private mutating func grow() {
        let larger = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
        larger.moveInitialize(from: base, count: count)
        base.deallocate()
        base = larger
        capacity *= 2
    }

    /// Moves the elements from `start` to the top into a new array, leaving `start` elements.
    ///
    /// `reserveCapacity` plus `append` is specialized in this module; `Array(unsafeUninitializedCapacity:)`
    /// is not, and would look up the array's generic metadata at run time on every call.
    mutating func popArray(from start: Int) -> [Element] {
        var array: [Element] = []
        array.reserveCapacity(count - start)
        for position in start..<count {
            array.append((base + position).move())
        }
        count = start
        return array
    }
}
