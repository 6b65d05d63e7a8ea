/// Hexadecimal (base 16) encoding of bytes, two digits per byte, most significant nibble first.
///
/// ```swift
/// Hex.encode([0xDE, 0xAD])  // "dead"
/// Hex.decode("DEad")  // [0xDE, 0xAD]
/// ```
package enum Hex {
    /// The number of hex digits that spell one byte.
    private static let digitsPerByte = 2

    /// The number of bits in one hex digit.
    private static let bitsPerDigit: UInt8 = 4

    /// Masks the low hex digit of a byte.
    private static let lowDigitMask: UInt8 = 0x0F

    /// The number of decimal digit values, 0 through 9.
    private static let decimalDigitCount: UInt8 = 10

    /// Encodes bytes as hex digits.
    ///
    /// - Parameters:
    ///   - bytes: The bytes to encode.
    ///   - uppercase: Whether to use `A`–`F` rather than `a`–`f`; lower case by default.
    /// - Returns: A string of two ASCII hex digits per byte.
    package static func encode(_ bytes: some Sequence<UInt8>, uppercase: Bool = false) -> String {
        let letterBase = uppercase ? UInt8(ascii: "A") : UInt8(ascii: "a")
        var digits: [UInt8] = []
        digits.reserveCapacity(digitsPerByte * bytes.underestimatedCount)
        for byte in bytes {
            digits.append(digit(byte &>> bitsPerDigit, letterBase: letterBase))
            digits.append(digit(byte & lowDigitMask, letterBase: letterBase))
        }
        return String(decoding: digits, as: UTF8.self)
    }

    /// Decodes hex digits to bytes.
    ///
    /// Upper and lower case digits are both accepted, even mixed. Nothing else is: no `0x` prefix, no
    /// whitespace or separators.
    ///
    /// - Parameter text: An even number of hex digits; empty text decodes to no bytes.
    /// - Returns: The bytes, or `nil` if the length is odd or any character is not a hex digit.
    package static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let utf8 = text.utf8
        guard utf8.count.isMultiple(of: digitsPerByte) else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / digitsPerByte)
        var high: UInt8 = 0
        var expectingHigh = true
        for unit in utf8 {
            guard let value = value(ofDigit: unit) else { return nil }
            if expectingHigh {
                high = value
            } else {
                bytes.append(high &<< bitsPerDigit | value)
            }
            expectingHigh.toggle()
        }
        return bytes
    }

    /// Returns the ASCII hex digit for a value in `0..<16`.
    @inline(__always)
    private static func digit(_ value: UInt8, letterBase: UInt8) -> UInt8 {
        value < decimalDigitCount ? UInt8(ascii: "0") &+ value : letterBase &+ (value &- decimalDigitCount)
    }

    /// Returns the value of an ASCII hex digit of either case, or `nil` for any other code unit.
    @inline(__always)
    private static func value(ofDigit unit: UInt8) -> UInt8? {
        switch unit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            unit &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"):
            unit &- UInt8(ascii: "a") &+ decimalDigitCount
        case UInt8(ascii: "A")...UInt8(ascii: "F"):
            unit &- UInt8(ascii: "A") &+ decimalDigitCount
        default:
            nil
        }
    }
}
