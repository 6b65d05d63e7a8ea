/// The reason a byte sequence is not a single valid JSON text (RFC 8259).
///
/// Every error carries the byte ``offset`` at which the problem was detected, a stable ``code``
/// to match on, and a one-sentence ``message`` that names the offset and says what was expected
/// there. Messages quote at most one byte of the input, so they are safe to log even when the
/// body holds personal data.
///
/// ```swift
/// do {
///     _ = try JSONValue(parsing: #"{"a" 1}"#)
/// } catch {
///     error.code     // .unexpectedByte
///     error.offset   // 5
///     error.message  // "Expected ':' after an object member name at byte 5, found '1'."
/// }
/// ```
public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable identifier for the kind of failure, suitable for matching in code and tests.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Kind: Sendable, Hashable {
            case unexpectedEndOfInput
            case unexpectedByte
            case invalidLiteral
            case invalidNumber
            case unterminatedString
            case controlCharacterInString
            case invalidEscape
            case loneSurrogate
            case invalidUTF8
            case nestingTooDeep
            case trailingData
        }

        private let kind: Kind

        private init(_ kind: Kind) {
            self.kind = kind
        }

        /// The input ended where a value, a separator or a closing bracket was expected.
        public static let unexpectedEndOfInput = Code(.unexpectedEndOfInput)
        /// A byte appeared that cannot start or continue the expected token.
        public static let unexpectedByte = Code(.unexpectedByte)
        /// A `true`, `false` or `null` literal was misspelled or cut short.
        public static let invalidLiteral = Code(.invalidLiteral)
        /// A number does not follow the JSON grammar (for example `01`, `1.`, `-` or `1e`).
        public static let invalidNumber = Code(.invalidNumber)
        /// The input ended inside a string.
        public static let unterminatedString = Code(.unterminatedString)
        /// A string contains a raw control character (U+0000 to U+001F) that must be escaped.
        public static let controlCharacterInString = Code(.controlCharacterInString)
        /// A backslash escape is not one of `\" \\ \/ \b \f \n \r \t \uXXXX`.
        public static let invalidEscape = Code(.invalidEscape)
        /// A `\uXXXX` escape encodes half of a UTF-16 surrogate pair without its other half.
        public static let loneSurrogate = Code(.loneSurrogate)
        /// A string contains bytes that are not well-formed UTF-8.
        public static let invalidUTF8 = Code(.invalidUTF8)
        /// Arrays and objects are nested deeper than ``JSONValue/ParsingOptions/maximumDepth``.
        public static let nestingTooDeep = Code(.nestingTooDeep)
        /// Something other than whitespace follows the top-level value.
        public static let trailingData = Code(.trailingData)

        /// The code's name, for example `unexpectedByte`.
        public var description: String {
            switch kind {
            case .unexpectedEndOfInput: "unexpectedEndOfInput"
            case .unexpectedByte: "unexpectedByte"
            case .invalidLiteral: "invalidLiteral"
            case .invalidNumber: "invalidNumber"
            case .unterminatedString: "unterminatedString"
            case .controlCharacterInString: "controlCharacterInString"
            case .invalidEscape: "invalidEscape"
            case .loneSurrogate: "loneSurrogate"
            case .invalidUTF8: "invalidUTF8"
            case .nestingTooDeep: "nestingTooDeep"
            case .trailingData: "trailingData"
            }
        }
    }

    /// What kind of failure this is.
    public let code: Code
    /// The zero-based byte offset in the input at which the failure was detected.
    ///
    /// When the input ended too early this is the input's length.
    public let offset: Int
    /// One sentence naming the offset and what was expected there.
    public let message: String

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: What kind of failure this is.
    ///   - offset: The byte offset at which it was detected.
    ///   - message: One sentence naming the offset and what was expected.
    public init(code: Code, offset: Int, message: String) {
        self.code = code
        self.offset = offset
        self.message = message
    }

    /// The ``message``.
    public var description: String { message }
}

extension JSONParseError {
    /// Describes one input byte (or the end of the input) for an error message without echoing more than that byte.
    static func describe(_ byte: UInt8?) -> String {
        guard let byte else { return "end of input" }
        switch byte {
        case 0x21..<0x7F: return "'\(Character(Unicode.Scalar(byte)))'"
        case 0x20: return "a space"
        case 0x09: return "a tab"
        case 0x0A: return "a line feed"
        case 0x0D: return "a carriage return"
        default:
            let digits = Array("0123456789ABCDEF".utf8)
            let hex = String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]], as: UTF8.self)
            return "byte 0x\(hex)"
        }
    }
}
