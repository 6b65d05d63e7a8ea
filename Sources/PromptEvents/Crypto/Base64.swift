/// Base64 encoding of bytes (RFC 4648).
///
/// `encode` always produces the standard alphabet (§4: `A`–`Z`, `a`–`z`, `0`–`9`, `+`, `/`) with `=`
/// padding. `decode` is deliberately strict, but accepts what real senders produce:
///
/// - either the standard alphabet or the URL-safe one (§5: `-` and `_` instead of `+` and `/`), but not
///   both in one string;
/// - with or without padding; if padding is present it must be exactly the one or two `=` that complete
///   the last group of four;
/// - no whitespace, line breaks or any other character;
/// - the unused low bits of the last character must be zero (canonical encoding), so each byte string
///   has exactly one accepted padded and one unpadded spelling per alphabet.
///
/// ```swift
/// Base64.encode("foob".utf8)  // "Zm9vYg=="
/// Base64.decode("Zm9vYg")  // [0x66, 0x6F, 0x6F, 0x62]
/// ```
package enum Base64 {
    /// The standard alphabet, indexed by 6-bit value.
    private static let alphabet: [UInt8] = Array(
        ("ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "abcdefghijklmnopqrstuvwxyz" + "0123456789" + "+/").utf8
    )

    /// The two characters only the standard alphabet uses, for values 62 and 63.
    private static let standardOnlyCharacters: [UInt8] = Array("+/".utf8)

    /// The two characters only the URL-safe alphabet uses, for values 62 and 63.
    private static let urlSafeOnlyCharacters: [UInt8] = Array("-_".utf8)

    /// Marks a code unit that is in neither alphabet.
    private static let invalidValue: UInt8 = 0xFF

    /// The 6-bit value of every code unit in either alphabet, indexed by code unit; `invalidValue`
    /// for everything else, including `=` and whitespace.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: invalidValue, count: Int(UInt8.max) + 1)
        for (value, character) in alphabet.enumerated() {
            table[Int(character)] = UInt8(value)
        }
        for (standard, urlSafe) in zip(standardOnlyCharacters, urlSafeOnlyCharacters) {
            table[Int(urlSafe)] = table[Int(standard)]
        }
        return table
    }()

    /// The padding character.
    private static let paddingCharacter = UInt8(ascii: "=")

    /// The number of bits one character carries.
    private static let bitsPerCharacter = 6

    /// The number of bits in a byte.
    private static let bitsPerByte = 8

    /// Masks the low six bits.
    private static let sixBitMask: UInt32 = 0x3F

    /// The number of bytes in a full group.
    private static let bytesPerGroup = 3

    /// The number of characters that encode a full group.
    private static let charactersPerGroup = 4

    /// The most `=` characters a valid encoding ends with.
    private static let maximumPaddingCount = 2

    /// Encodes bytes with the standard alphabet and `=` padding.
    ///
    /// - Parameter bytes: The bytes to encode.
    /// - Returns: The encoding, a multiple of four ASCII characters long.
    package static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let input = Array(bytes)
        var output: [UInt8] = []
        output.reserveCapacity((input.count + bytesPerGroup - 1) / bytesPerGroup * charactersPerGroup)
        var start = 0
        while start < input.count {
            let groupByteCount = min(bytesPerGroup, input.count - start)
            var group: UInt32 = 0
            for offset in 0..<bytesPerGroup {
                let byte = offset < groupByteCount ? input[start + offset] : 0
                group = group << UInt32(bitsPerByte) | UInt32(byte)
            }
            // n bytes need n + 1 characters; the rest of the group of four is padding.
            for position in 0..<charactersPerGroup {
                if position <= groupByteCount {
                    let shift = UInt32(bitsPerCharacter * (charactersPerGroup - 1 - position))
                    output.append(alphabet[Int((group >> shift) & sixBitMask)])
                } else {
                    output.append(paddingCharacter)
                }
            }
            start += groupByteCount
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes Base64 in the standard or URL-safe alphabet, padded or not.
    ///
    /// See the type's documentation for exactly what is accepted.
    ///
    /// - Parameter text: The encoding; empty text decodes to no bytes.
    /// - Returns: The bytes, or `nil` if `text` is not a valid encoding.
    package static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var characters = Array(text.utf8)
        var paddingCount = 0
        while paddingCount < maximumPaddingCount, characters.last == paddingCharacter {
            characters.removeLast()
            paddingCount += 1
        }
        // Padding, when present, must complete a group of four; one leftover character is never valid.
        if paddingCount > 0 && !(characters.count + paddingCount).isMultiple(of: charactersPerGroup) {
            return nil
        }
        guard characters.count % charactersPerGroup != 1 else { return nil }
        let usesStandardAlphabet = characters.contains { standardOnlyCharacters.contains($0) }
        let usesURLSafeAlphabet = characters.contains { urlSafeOnlyCharacters.contains($0) }
        guard !(usesStandardAlphabet && usesURLSafeAlphabet) else { return nil }

        var bytes: [UInt8] = []
        bytes.reserveCapacity(characters.count * bitsPerCharacter / bitsPerByte)
        // Bits decoded but not yet emitted as a byte: always fewer than 8 between characters.
        var pendingBits: UInt32 = 0
        var pendingBitCount = 0
        for character in characters {
            let value = values[Int(character)]
            guard value != invalidValue else { return nil }
            pendingBits = pendingBits << UInt32(bitsPerCharacter) | UInt32(value)
            pendingBitCount += bitsPerCharacter
            if pendingBitCount >= bitsPerByte {
                pendingBitCount -= bitsPerByte
                bytes.append(UInt8(truncatingIfNeeded: pendingBits >> UInt32(pendingBitCount)))
                pendingBits &= (1 << UInt32(pendingBitCount)) - 1
            }
        }
        // A final group of 2 or 3 characters leaves 4 or 2 unused bits; a canonical encoding zeroes them.
        guard pendingBits == 0 else { return nil }
        return bytes
    }
}
