/// A JSON number, kept exactly as it was written.
///
/// JSON numbers have no size or precision limit, and `1`, `1.0` and `1e0` are different texts.
/// `JSONNumber` keeps the exact source text, so nothing is lost: numbers beyond 64 bits survive a
/// parse–serialize round trip unchanged, and `1.0` stays distinguishable from `1`. The common
/// case—an integer written without fraction or exponent that fits in `Int64`—is stored as an
/// `Int64` and costs no allocation.
///
/// Two numbers are equal when their texts are equal: `1.0` and `1` are different values, as are
/// `0` and `-0`. Compare ``double`` or ``int64`` to compare numerically.
///
/// ```swift
/// let number = try JSONValue(parsing: "18446744073709551616").number  // 2^64
/// number?.int64        // nil
/// number?.description  // "18446744073709551616"
/// number?.double       // 1.8446744073709552e19
/// ```
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible, LosslessStringConvertible {
    /// The two ways a number is stored.
    enum Storage: Sendable, Hashable {
        /// A plain integer in `Int64` range whose canonical text is its source text (never `-0`).
        case int(Int64)
        /// Any other valid JSON number, as its exact source text.
        case text(String)
    }

    /// The stored number.
    let storage: Storage

    /// Creates a number from storage the parser has already validated.
    init(storage: Storage) {
        self.storage = storage
    }

    /// Creates an integer number.
    ///
    /// - Parameter value: The integer.
    public init(_ value: Int64) {
        storage = .int(value)
    }

    /// Creates an integer number.
    ///
    /// - Parameter value: The integer.
    public init(_ value: Int) {
        storage = .int(Int64(value))
    }

    /// Creates an integer number, including values above `Int64.max`.
    ///
    /// - Parameter value: The integer.
    public init(_ value: UInt64) {
        if let small = Int64(exactly: value) {
            storage = .int(small)
        } else {
            storage = .text(String(value))
        }
    }

    /// Creates a number from a `Double`, written in Swift's shortest round-tripping form (`1.0`, `0.1`, `1e-07`).
    ///
    /// Fails for NaN and infinities, which JSON cannot represent.
    ///
    /// - Parameter value: The value.
    public init?(_ value: Double) {
        guard value.isFinite, let number = JSONNumber(value.description) else { return nil }
        self = number
    }

    /// Creates a number from its JSON text, which must follow the RFC 8259 number grammar exactly.
    ///
    /// Fails if the text is not a JSON number, including when it has surrounding whitespace.
    ///
    /// - Parameter description: The text, for example `-12`, `1.0` or `6.02e23`.
    public init?(_ description: String) {
        var text = description
        let number = text.withUTF8 { bytes -> JSONNumber? in
            guard let first = bytes.first, first == UInt8(ascii: "-") || first &- UInt8(ascii: "0") < 10 else {
                return nil
            }
            var parser = JSONParser(bytes: bytes, options: JSONValue.ParsingOptions())
            guard let number = try? parser.parseNumber(), parser.index == bytes.count else { return nil }
            return number
        }
        guard let number else { return nil }
        self = number
    }

    /// The exact JSON text of the number, for example `1.0`, `-0` or `18446744073709551616`.
    public var description: String {
        switch storage {
        case .int(let value): String(value)
        case .text(let text): text
        }
    }

    /// The exact JSON text of the number; the same as ``description``.
    public var text: String { description }

    /// Whether the number is written as a plain integer: no fraction and no exponent.
    ///
    /// `1` and `-0` are integers; `1.0` and `1e3` are not, even though their values are integral.
    public var isInteger: Bool {
        switch storage {
        case .int: return true
        case .text(let text):
            for byte in text.utf8 where byte == UInt8(ascii: ".") || byte | 0x20 == UInt8(ascii: "e") {
                return false
            }
            return true
        }
    }

    /// The value as an `Int64`, if the number is written as a plain integer (see ``isInteger``) within `Int64` range.
    ///
    /// Strict on purpose: `1.0`, `1e3` and `9223372036854775808` give `nil`. `-0` gives `0`.
    public var int64: Int64? {
        switch storage {
        case .int(let value): value
        case .text(let text): text == "-0" ? 0 : nil
        }
    }

    /// The value as a `UInt64`, if the number is written as a plain integer (see ``isInteger``) within `UInt64` range.
    ///
    /// Strict on purpose: `1.0`, `-1` and `18446744073709551616` give `nil`. `-0` gives `0`.
    public var uint64: UInt64? {
        switch storage {
        case .int(let value): return UInt64(exactly: value)
        case .text(let text):
            if text == "-0" { return 0 }
            return UInt64(text)
        }
    }

    /// The value as the nearest `Double`.
    ///
    /// Every JSON number has one: magnitudes too large for `Double` (like `1e400`) give `±infinity`, and
    /// magnitudes too small give `±0`. Integers above 2^53 are rounded.
    public var double: Double {
        switch storage {
        case .int(let value): return Double(value)
        case .text(let text): return Double(text) ?? .nan
        }
    }

    /// The value as the nearest `Float`, rounded once from the exact text.
    var float: Float {
        switch storage {
        case .int(let value): return Float(value)
        case .text(let text): return Float(text) ?? .nan
        }
    }
}

extension JSONNumber: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    /// Creates an integer number from a literal.
    ///
    /// - Parameter value: The integer.
    public init(integerLiteral value: Int64) {
        self.init(value)
    }

    /// Creates a number from a floating-point literal, such as `1.5`.
    ///
    /// - Parameter value: The value; must be finite.
    public init(floatLiteral value: Double) {
        guard let number = JSONNumber(value) else { preconditionFailure("JSON cannot represent \(value).") }
        self = number
    }
}

extension JSONNumber {
    /// The value of a number whose value is integral, however it is written.
    enum IntegralValue {
        /// The value has a nonzero fractional part, like `1.5` or `1e-400`.
        case notIntegral
        /// The value is integral: its sign and its decimal digits without leading zeros (`"0"` for zero).
        case integral(negative: Bool, digits: String)
        /// The value is integral but has more than 40 digits, beyond any fixed-width integer.
        case tooLarge
    }

    /// Whether the value is integral, computed exactly from the text (`1.0`, `1e3`, `1.5e1` are integral).
    var integralValue: IntegralValue {
        switch storage {
        case .int(let value):
            return .integral(negative: value < 0, digits: String(value.magnitude))
        case .text(let text):
            return Self.integralValue(of: Array(text.utf8))
        }
    }

    /// Computes ``integralValue`` from valid JSON number text.
    private static func integralValue(of text: [UInt8]) -> IntegralValue {
        var index = 0
        let negative = text.first == UInt8(ascii: "-")
        if negative { index += 1 }
        var digits: [UInt8] = []
        digits.reserveCapacity(text.count)
        var fractionCount = 0
        var inFraction = false
        while index < text.count, text[index] | 0x20 != UInt8(ascii: "e") {
            if text[index] == UInt8(ascii: ".") {
                inFraction = true
            } else {
                digits.append(text[index])
                if inFraction { fractionCount += 1 }
            }
            index += 1
        }
        var exponent = 0
        if index < text.count {
            index += 1
            var exponentNegative = false
            if text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
                exponentNegative = text[index] == UInt8(ascii: "-")
                index += 1
            }
            while index < text.count {
                // Clamp: anything beyond a million digits is decided by the mantissa alone.
                exponent = min(exponent * 10 + Int(text[index] &- UInt8(ascii: "0")), 1_000_000)
                index += 1
            }
            if exponentNegative { exponent = -exponent }
        }
        // Drop leading zeros; an all-zero mantissa is zero whatever the exponent.
        guard let firstNonZero = digits.firstIndex(where: { $0 != UInt8(ascii: "0") }) else {
            return .integral(negative: false, digits: "0")
        }
        digits.removeFirst(firstNonZero)
        let scale = exponent - fractionCount
        if scale < 0 {
            let dropped = -scale
            if dropped >= digits.count { return .notIntegral }
            guard digits.suffix(dropped).allSatisfy({ $0 == UInt8(ascii: "0") }) else { return .notIntegral }
            digits.removeLast(dropped)
        } else if scale > 0 {
            if digits.count + scale > 40 { return .tooLarge }
            digits.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: scale))
        }
        if digits.count > 40 { return .tooLarge }
        return .integral(negative: negative, digits: String(decoding: digits, as: UTF8.self))
    }
}
