import PromptEvents

/// The bytes and small predicates of the SCRAM message syntax (RFC 5802 §7).
enum SCRAMSyntax {
    /// Separates attributes.
    static let comma = UInt8(ascii: ",")

    /// Separates an attribute's letter from its value.
    static let equalsSign = UInt8(ascii: "=")

    /// The digit zero.
    static let zeroDigit = UInt8(ascii: "0")

    /// The base of the iteration count's notation.
    static let decimalBase = 10

    /// The GS2 header without channel binding or authorization identity: the client does not support
    /// channel binding.
    static let gs2Header = Array("n,,".utf8)

    /// Starts the client-first-message-bare.
    static let usernamePrefix = Array("n=".utf8)

    /// Separates the user name from the nonce in the client-first-message-bare.
    static let nonceSeparator = Array(",r=".utf8)

    /// `=` in a saslname.
    static let escapedEqualsSign = Array("=3D".utf8)

    /// `,` in a saslname.
    static let escapedComma = Array("=2C".utf8)

    /// Starts the client-final-message: the Base64 GS2 header (`c=biws`), then the nonce attribute.
    static let channelBindingAndNoncePrefix = Array(("c=" + Base64.encode(gs2Header) + ",r=").utf8)

    /// Introduces the proof at the end of the client-final-message.
    static let proofPrefix = Array(",p=".utf8)

    /// A mandatory extension, which no server defines and the client must refuse.
    static let mandatoryExtensionPrefix = Array("m=".utf8)

    /// The combined nonce.
    static let noncePrefix = Array("r=".utf8)

    /// The Base64 salt.
    static let saltPrefix = Array("s=".utf8)

    /// The iteration count.
    static let iterationCountPrefix = Array("i=".utf8)

    /// The server signature in the server-final-message.
    static let verifierPrefix = Array("v=".utf8)

    /// The server's error in the server-final-message.
    static let errorPrefix = Array("e=".utf8)

    /// The message of ClientKey = HMAC(SaltedPassword, "Client Key").
    static let clientKeyLabel = Array("Client Key".utf8)

    /// The message of ServerKey = HMAC(SaltedPassword, "Server Key").
    static let serverKeyLabel = Array("Server Key".utf8)

    /// INT(1), the big-endian index of PBKDF2's first and only block.
    static let firstBlockIndex: [UInt8] = [0, 0, 0, 1]

    /// The bytes `printable` keeps: space through tilde.
    static let printableBytes: ClosedRange<UInt8> = 0x20...0x7E

    /// The most bytes of a server error kept for messages.
    static let maximumServerErrorByteCount = 200

    /// Whether a byte may appear in a nonce: printable ASCII except `,` (RFC 5802 `printable`).
    ///
    /// - Parameter byte: The byte.
    /// - Returns: Whether it is in `%x21-2B / %x2D-7E`.
    static func isNonceByte(_ byte: UInt8) -> Bool {
        byte != comma && byte != UInt8(ascii: " ") && printableBytes.contains(byte)
    }

    /// Whether a byte is an ASCII decimal digit.
    ///
    /// - Parameter byte: The byte.
    /// - Returns: Whether it is `0` through `9`.
    static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// Whether a field is an attribute: an ASCII letter, `=`, then any value.
    ///
    /// - Parameter field: One comma-separated field.
    /// - Returns: Whether it has the shape of an attribute.
    static func isAttribute(_ field: ArraySlice<UInt8>) -> Bool {
        guard field.count >= 2, let letter = field.first else { return false }
        let isLetter =
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(letter)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(letter)
        return isLetter && field[field.index(after: field.startIndex)] == equalsSign
    }

    /// The value of a field if it is the given attribute.
    ///
    /// - Parameters:
    ///   - prefix: The attribute's letter and `=`.
    ///   - field: One comma-separated field.
    /// - Returns: The bytes after the prefix, or `nil` if the field is another attribute.
    static func value(of prefix: [UInt8], in field: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        guard field.starts(with: prefix) else { return nil }
        return field.dropFirst(prefix.count)
    }

    /// Server text made safe for a log line: printable ASCII only, other bytes as `?`, truncated.
    ///
    /// - Parameter bytes: The server's bytes.
    /// - Returns: At most ``maximumServerErrorByteCount`` printable ASCII characters.
    static func printable(_ bytes: ArraySlice<UInt8>) -> String {
        let visible = bytes.prefix(maximumServerErrorByteCount).map { byte in
            printableBytes.contains(byte) ? byte : UInt8(ascii: "?")
        }
        return String(decoding: visible, as: UTF8.self)
    }
}
