extension JSONValue {
    /// Serializes the value as JSON text (RFC 8259).
    ///
    /// Strings escape only what JSON requires: `"`, `\` and control characters (as `\b \f \n \r \t`
    /// or `\u00XX`). Non-ASCII characters are written as UTF-8 and `/` is not escaped. Numbers are
    /// written as their exact text. Object members keep their order and duplicates unless
    /// `sortedKeys` is set.
    ///
    /// - Parameters:
    ///   - pretty: Whether to put each element and member on its own line, indented by two spaces,
    ///     with `": "` between names and values. Empty arrays and objects stay `[]` and `{}`.
    ///   - sortedKeys: Whether to sort object members by the UTF-8 bytes of their names; members
    ///     with the same name keep their relative order.
    /// - Returns: The JSON text.
    public func serialized(pretty: Bool = false, sortedKeys: Bool = false) -> String {
        var writer = JSONWriter(pretty: pretty, sortedKeys: sortedKeys)
        writer.write(self, indent: 0)
        return writer.output.withBytes { String(decoding: $0, as: UTF8.self) }
    }

    /// The compact serialization as UTF-8 bytes, members in their original order.
    public var serializedBytes: [UInt8] { serializedBytes(pretty: false, sortedKeys: false) }

    /// Serializes the value as UTF-8 bytes.
    ///
    /// - Parameters:
    ///   - pretty: Whether to indent by two spaces, one element or member per line.
    ///   - sortedKeys: Whether to sort object members by the UTF-8 bytes of their names.
    /// - Returns: The JSON text as UTF-8.
    public func serializedBytes(pretty: Bool, sortedKeys: Bool) -> [UInt8] {
        var writer = JSONWriter(pretty: pretty, sortedKeys: sortedKeys)
        writer.write(self, indent: 0)
        return writer.output.withBytes { Array($0) }
    }
}

/// A growable byte buffer that appends without the uniqueness check an `Array` makes each time.
private struct OutputBuffer: ~Copyable {
    /// The storage; the first `count` bytes are written.
    private var base: UnsafeMutablePointer<UInt8>
    /// The number of bytes `base` can hold.
    private var capacity: Int
    /// The number of bytes written.
    private var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        base = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    }

    deinit {
        base.deallocate()
    }

    /// Appends one byte.
    @inline(__always)
    mutating func append(_ byte: UInt8) {
        if count == capacity { grow(toFit: 1) }
        base[count] = byte
        count &+= 1
    }

    /// Appends bytes.
    @inline(__always)
    mutating func append(bytes: UnsafeRawBufferPointer) {
        if bytes.count > capacity &- count { grow(toFit: bytes.count) }
        if let source = bytes.baseAddress {
            UnsafeMutableRawPointer(base + count).copyMemory(from: source, byteCount: bytes.count)
        }
        count &+= bytes.count
    }

    /// Appends an ASCII literal.
    @inline(__always)
    mutating func append(literal: StaticString) {
        append(bytes: UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// Appends a string's UTF-8.
    mutating func append(utf8Of string: String) {
        var string = string
        string.withUTF8 { append(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// Makes room for `extra` more bytes, at least doubling the capacity.
    @inline(never)
    private mutating func grow(toFit extra: Int) {
        let larger = Swift.max(capacity * 2, count + extra)
        let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: larger)
        storage.initialize(from: base, count: count)
        base.deallocate()
        base = storage
        capacity = larger
    }

    /// Calls `body` with the bytes written.
    func withBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        body(UnsafeBufferPointer(start: base, count: count))
    }
}

/// Writes JSON text for values.
private struct JSONWriter: ~Copyable {
    /// The output so far.
    var output = OutputBuffer(capacity: 1_024)
    /// Whether to indent.
    let pretty: Bool
    /// Whether to sort object members by name.
    let sortedKeys: Bool

    mutating func write(_ value: JSONValue, indent: Int) {
        switch value {
        case .null: output.append(literal: "null")
        case .bool(let bool): output.append(literal: bool ? "true" : "false")
        case .number(let number): write(number)
        case .string(let string): write(string)
        case .array(let elements):
            guard !elements.isEmpty else {
                output.append(literal: "[]")
                return
            }
            output.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                newline(indent: indent + 1)
                write(element, indent: indent + 1)
            }
            newline(indent: indent)
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            guard !object.isEmpty else {
                output.append(literal: "{}")
                return
            }
            var members = object.members
            if sortedKeys {
                // `sort` is stable, so repeated names keep their document order.
                members.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            }
            output.append(UInt8(ascii: "{"))
            for (position, member) in members.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                newline(indent: indent + 1)
                write(member.key)
                output.append(literal: pretty ? ": " : ":")
                write(member.value, indent: indent + 1)
            }
            newline(indent: indent)
            output.append(UInt8(ascii: "}"))
        }
    }

    mutating func newline(indent: Int) {
        guard pretty else { return }
        output.append(UInt8(ascii: "\n"))
        for _ in 0..<indent { output.append(literal: "  ") }
    }

    mutating func write(_ number: JSONNumber) {
        switch number.storage {
        case .int(let value): write(value)
        case .text(let text): output.append(utf8Of: text)
        }
    }

    /// Writes an integer's decimal digits without creating a `String`.
    mutating func write(_ value: Int64) {
        // 19 digits and a sign fit in 24 bytes.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { buffer in
            var position = buffer.count
            var magnitude = value.magnitude
            repeat {
                position -= 1
                buffer[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude != 0
            if value < 0 {
                position -= 1
                buffer[position] = UInt8(ascii: "-")
            }
            output.append(bytes: UnsafeRawBufferPointer(rebasing: buffer[position...]))
        }
    }

    /// Writes a string with the escapes JSON requires, copying runs of plain bytes in bulk.
    mutating func write(_ string: String) {
        output.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            guard let base = utf8.baseAddress else { return }
            let count = utf8.count
            var runStart = 0
            var position = 0
            while position < count {
                // Skip eight bytes at a time while none of them needs escaping.
                while position &+ 8 <= count {
                    let word = UInt64(littleEndian: UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self))
                    let flags = Self.bytesNeedingEscape(in: word)
                    if flags != 0 {
                        position &+= flags.trailingZeroBitCount &>> 3
                        break
                    }
                    position &+= 8
                }
                guard position < count else { break }
                let byte = base[position]
                guard byte < 0x20 || byte == 0x22 || byte == 0x5C else {
                    position &+= 1
                    continue
                }
                output.append(bytes: UnsafeRawBufferPointer(start: base + runStart, count: position &- runStart))
                writeEscape(for: byte)
                position &+= 1
                runStart = position
            }
            output.append(bytes: UnsafeRawBufferPointer(start: base + runStart, count: count &- runStart))
        }
        output.append(UInt8(ascii: "\""))
    }

    /// Flags (in bit 7 of each byte) the `"`, `\` and control bytes of a little-endian word.
    ///
    /// Only the lowest flag is exact (borrows can set flags above it), which is all the scan uses.
    @inline(__always)
    static func bytesNeedingEscape(in word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let quotes = word ^ (ones &* 0x22)
        let backslashes = word ^ (ones &* 0x5C)
        let isQuote = (quotes &- ones) & ~quotes
        let isBackslash = (backslashes &- ones) & ~backslashes
        let isControl = (word &- ones &* 0x20) & ~word
        return (isQuote | isBackslash | isControl) & (ones &* 0x80)
    }

    /// Writes the escape sequence for a `"`, `\` or control byte.
    mutating func writeEscape(for byte: UInt8) {
        switch byte {
        case 0x22: output.append(literal: "\\\"")
        case 0x5C: output.append(literal: "\\\\")
        case 0x08: output.append(literal: "\\b")
        case 0x0C: output.append(literal: "\\f")
        case 0x0A: output.append(literal: "\\n")
        case 0x0D: output.append(literal: "\\r")
        case 0x09: output.append(literal: "\\t")
        default:
            let hex: StaticString = "0123456789abcdef"
            output.append(literal: "\\u00")
            output.append(hex.utf8Start[Int(byte >> 4)])
            output.append(hex.utf8Start[Int(byte & 0x0F)])
        }
    }
}
