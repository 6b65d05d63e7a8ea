import Foundation
import Testing

@testable import PromptEvents

/// A document that must parse, and the value it must produce.
struct ValidDocument: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let expected: JSONValue

    init(_ name: String, _ text: String, _ expected: JSONValue) {
        self.name = name
        self.bytes = Array(text.utf8)
        self.expected = expected
    }

    var testDescription: String { name }
}

/// A document that must be rejected, with the error code and byte offset expected.
struct InvalidDocument: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let code: JSONParseError.Code
    let offset: Int

    init(_ name: String, _ text: String, _ code: JSONParseError.Code, at offset: Int) {
        self.init(name, bytes: Array(text.utf8), code, at: offset)
    }

    init(_ name: String, bytes: [UInt8], _ code: JSONParseError.Code, at offset: Int) {
        self.name = name
        self.bytes = bytes
        self.code = code
        self.offset = offset
    }

    var testDescription: String { name }
}

/// Makes a number from text the test knows is valid, failing the test otherwise.
func number(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONValue {
    .number(try #require(JSONNumber(text), sourceLocation: sourceLocation))
}

@Suite struct JSONParserTests {
    static let validDocuments: [ValidDocument] = [
        ValidDocument("null", "null", .null),
        ValidDocument("true", "true", true),
        ValidDocument("false", "false", false),
        ValidDocument("zero", "0", 0),
        ValidDocument("integer", "42", 42),
        ValidDocument("negative integer", "-17", -17),
        ValidDocument("fraction", "1.5", 1.5),
        ValidDocument("one point zero", "1.0", 1.0),
        ValidDocument("string", #""hello""#, "hello"),
        ValidDocument("empty string", #""""#, ""),
        ValidDocument("empty array", "[]", []),
        ValidDocument("empty object", "{}", [:]),
        ValidDocument("array of each type", #"[null,true,false,1,"a",[],{}]"#, [nil, true, false, 1, "a", [], [:]]),
        ValidDocument("object", #"{"a":1,"b":"two"}"#, ["a": 1, "b": "two"]),
        ValidDocument("nested", #"{"a":[{"b":[[{"c":null}]]}]}"#, ["a": [["b": [[["c": nil]]]]]]),
        ValidDocument("whitespace everywhere", " \t\n\r{ \"a\" : [ 1 , 2 ] } \r\n", ["a": [1, 2]]),
        ValidDocument("duplicate keys kept", #"{"a":1,"a":2}"#, ["a": 1, "a": 2]),
        ValidDocument("raw emoji", #""😀 ok""#, "😀 ok"),
        ValidDocument("raw accented", #""Ana María""#, "Ana María"),
        ValidDocument("escaped surrogate pair", #""\ud83d\ude00""#, "😀"),
        ValidDocument("escaped BMP character", #""\u00e9\u00C9""#, "éÉ"),
        ValidDocument("escaped NUL", #""a\u0000b""#, "a\u{0}b"),
        ValidDocument("simple escapes", #""\"\\\/\b\f\n\r\t""#, "\"\\/\u{8}\u{C}\n\r\t"),
        ValidDocument(
            "escape after long run",
            #""0123456789abcdef\n0123456789abcdef""#,
            "0123456789abcdef\n0123456789abcdef"
        ),
        ValidDocument("three-byte and four-byte UTF-8", #""€𝄞""#, "€𝄞"),
        ValidDocument("DEL is not a control character", "\"\u{7F}\"", "\u{7F}"),
        ValidDocument("Int64.max", "9223372036854775807", .number(JSONNumber(Int64.max))),
        ValidDocument("Int64.min", "-9223372036854775808", .number(JSONNumber(Int64.min))),
        ValidDocument("UInt64.max", "18446744073709551615", .number(JSONNumber(UInt64.max))),
        ValidDocument("scalar with surrounding whitespace", "  7  ", 7),
    ]

    @Test(arguments: validDocuments)
    func parsesValidDocument(_ document: ValidDocument) throws {
        #expect(try JSONValue(parsing: document.bytes) == document.expected)
        #expect(try JSONValue(parsing: String(decoding: document.bytes, as: UTF8.self)) == document.expected)
    }

    static let invalidDocuments: [InvalidDocument] = [
        InvalidDocument("empty input", "", .unexpectedEndOfInput, at: 0),
        InvalidDocument("whitespace only", " \n\t ", .unexpectedEndOfInput, at: 4),
        InvalidDocument("trailing comma in array", "[1,]", .unexpectedByte, at: 3),
        InvalidDocument("trailing comma in object", #"{"a":1,}"#, .unexpectedByte, at: 7),
        InvalidDocument("double comma", "[1,,2]", .unexpectedByte, at: 3),
        InvalidDocument("leading zero", "01", .invalidNumber, at: 1),
        InvalidDocument("negative leading zero", "-01", .invalidNumber, at: 2),
        InvalidDocument("leading plus", "+1", .unexpectedByte, at: 0),
        InvalidDocument("leading period", ".5", .unexpectedByte, at: 0),
        InvalidDocument("trailing period", "1.", .invalidNumber, at: 2),
        InvalidDocument("period before exponent", "1.e5", .invalidNumber, at: 2),
        InvalidDocument("empty exponent", "1e", .invalidNumber, at: 2),
        InvalidDocument("signed empty exponent", "1e+", .invalidNumber, at: 3),
        InvalidDocument("lone minus", "-", .invalidNumber, at: 1),
        InvalidDocument("hexadecimal", "0x10", .trailingData, at: 1),
        InvalidDocument("NaN", "NaN", .unexpectedByte, at: 0),
        InvalidDocument("Infinity", "Infinity", .unexpectedByte, at: 0),
        InvalidDocument("negative Infinity", "-Infinity", .invalidNumber, at: 1),
        InvalidDocument("truncated true", "tru", .invalidLiteral, at: 3),
        InvalidDocument("misspelled null", "nul1", .invalidLiteral, at: 3),
        InvalidDocument("capitalised True", "True", .unexpectedByte, at: 0),
        InvalidDocument("unterminated string", #""abc"#, .unterminatedString, at: 4),
        InvalidDocument("unterminated escape", #""abc\"#, .unterminatedString, at: 5),
        InvalidDocument("single-quoted string", "'a'", .unexpectedByte, at: 0),
        InvalidDocument("unknown escape", #""\x""#, .invalidEscape, at: 2),
        InvalidDocument("bad hex digit", #""\u12G4""#, .invalidEscape, at: 5),
        InvalidDocument("short unicode escape", #""\u00""#, .invalidEscape, at: 5),
        InvalidDocument("lone high surrogate", #""\ud800""#, .loneSurrogate, at: 1),
        InvalidDocument("lone low surrogate", #""x\udc00""#, .loneSurrogate, at: 2),
        InvalidDocument("high surrogate before non-surrogate", #""\ud800\u0041""#, .loneSurrogate, at: 1),
        InvalidDocument("raw control character", "\"a\u{1}b\"", .controlCharacterInString, at: 2),
        InvalidDocument("raw tab in string", "\"a\tb\"", .controlCharacterInString, at: 2),
        InvalidDocument("raw newline in long string", "\"0123456789\n\"", .controlCharacterInString, at: 11),
        InvalidDocument("overlong NUL", bytes: [0x22, 0xC0, 0x80, 0x22], .invalidUTF8, at: 1),
        InvalidDocument("0xFF in string", bytes: [0x22, 0x61, 0xFF, 0x22], .invalidUTF8, at: 2),
        InvalidDocument("stray continuation byte", bytes: [0x22, 0x80, 0x22], .invalidUTF8, at: 1),
        InvalidDocument("truncated sequence before quote", bytes: [0x22, 0xE2, 0x82, 0x22], .invalidUTF8, at: 1),
        InvalidDocument("truncated sequence at end", bytes: [0x22, 0xE2, 0x82], .invalidUTF8, at: 1),
        InvalidDocument("encoded surrogate", bytes: [0x22, 0xED, 0xA0, 0x80, 0x22], .invalidUTF8, at: 1),
        InvalidDocument("beyond U+10FFFF", bytes: [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], .invalidUTF8, at: 1),
        InvalidDocument(
            "invalid UTF-8 after eight ASCII bytes",
            bytes: Array(#""abcdefghij"#.utf8) + [0xC3, 0x28, 0x22],
            .invalidUTF8,
            at: 11
        ),
        InvalidDocument(
            "invalid UTF-8 in a key",
            bytes: [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D],
            .invalidUTF8,
            at: 2
        ),
        InvalidDocument("0xFF outside a string", bytes: [0xFF], .unexpectedByte, at: 0),
        InvalidDocument("byte order mark", bytes: [0xEF, 0xBB, 0xBF, 0x7B, 0x7D], .unexpectedByte, at: 0),
        InvalidDocument("line comment", "// c\n1", .unexpectedByte, at: 0),
        InvalidDocument("block comment", "[1 /* c */]", .unexpectedByte, at: 3),
        InvalidDocument("two top-level values", "1 2", .trailingData, at: 2),
        InvalidDocument("two top-level objects", "{} {}", .trailingData, at: 3),
        InvalidDocument("extra closing bracket", "[]]", .trailingData, at: 2),
        InvalidDocument("missing colon", #"{"a" 1}"#, .unexpectedByte, at: 5),
        InvalidDocument("missing comma between members", #"{"a":1 "b":2}"#, .unexpectedByte, at: 7),
        InvalidDocument("missing comma between elements", "[1 2]", .unexpectedByte, at: 3),
        InvalidDocument("unquoted key", "{a:1}", .unexpectedByte, at: 1),
        InvalidDocument("key without value", #"{"a":1,"a"}"#, .unexpectedByte, at: 10),
        InvalidDocument("non-string key", "{1:1}", .unexpectedByte, at: 1),
        InvalidDocument("unclosed array", "[", .unexpectedEndOfInput, at: 1),
        InvalidDocument("unclosed array after element", "[1", .unexpectedEndOfInput, at: 2),
        InvalidDocument("unclosed object", "{", .unexpectedEndOfInput, at: 1),
        InvalidDocument("object ends after key", #"{"a""#, .unexpectedEndOfInput, at: 4),
        InvalidDocument("object ends after colon", #"{"a":"#, .unexpectedEndOfInput, at: 5),
        InvalidDocument("vertical tab is not whitespace", "\u{B}1", .unexpectedByte, at: 0),
        InvalidDocument("no-break space is not whitespace", "\u{A0}1", .unexpectedByte, at: 0),
        InvalidDocument("mismatched brackets", "[1}", .unexpectedByte, at: 2),
    ]

    @Test(arguments: invalidDocuments)
    func rejectsInvalidDocument(_ document: InvalidDocument) {
        #expect {
            try JSONValue(parsing: document.bytes)
        } throws: { error in
            guard let error = error as? JSONParseError else { return false }
            return error.code == document.code && error.offset == document.offset
                && error.message.contains("at byte \(document.offset)")
        }
    }

    @Test func errorMessageNamesOffsetAndExpectation() throws {
        let error = try #require(throws: JSONParseError.self) { try JSONValue(parsing: #"{"a":1 x}"#) }
        #expect(error.code == .unexpectedByte)
        #expect(error.offset == 7)
        #expect(error.message == "Expected ',' or '}' after an object member at byte 7, found 'x'.")
        #expect(error.description == error.message)

        let colon = try #require(throws: JSONParseError.self) { try JSONValue(parsing: #"{"a" 1}"#) }
        #expect(colon.message == "Expected ':' after an object member name at byte 5, found '1'.")

        let end = try #require(throws: JSONParseError.self) { try JSONValue(parsing: "[1,") }
        #expect(end.message == "Expected a JSON value at byte 3, found end of input.")

        let trailing = try #require(throws: JSONParseError.self) { try JSONValue(parsing: "[1,]") }
        #expect(trailing.message.contains("trailing commas are not allowed"))

        let comment = try #require(throws: JSONParseError.self) { try JSONValue(parsing: "// c") }
        #expect(comment.message.contains("comments are not allowed"))

        let utf8 = try #require(throws: JSONParseError.self) { try JSONValue(parsing: [0x22, 0xFF, 0x22]) }
        #expect(utf8.message == "Expected a well-formed UTF-8 sequence at byte 1, found byte 0xFF.")
    }

    @Test func errorMessageQuotesAtMostOneByteOfInput() throws {
        let secret = "s3cr3t-t0k3n-" + String(repeating: "x", count: 200)
        let error = try #require(throws: JSONParseError.self) {
            try JSONValue(parsing: #"{"token":""# + secret + "\u{1}\"}")
        }
        #expect(error.code == .controlCharacterInString)
        #expect(!error.message.contains("s3cr3t"))
        #expect(error.message.count < 160)
    }

    @Test func errorCodesHaveStableNames() {
        #expect(JSONParseError.Code.unexpectedByte.description == "unexpectedByte")
        #expect(JSONParseError.Code.nestingTooDeep.description == "nestingTooDeep")
        #expect(JSONParseError.Code.invalidUTF8 != JSONParseError.Code.invalidEscape)
    }

    @Test func loneSurrogatesCanBeReplaced() throws {
        let options = JSONValue.ParsingOptions(replacesLoneSurrogates: true)
        #expect(try JSONValue(parsing: #""a\ud800b""#, options: options) == "a\u{FFFD}b")
        #expect(try JSONValue(parsing: #""\udc00""#, options: options) == "\u{FFFD}")
        #expect(try JSONValue(parsing: #""\ud800\u0041""#, options: options) == "\u{FFFD}A")
        #expect(try JSONValue(parsing: #""\ud800\ud83d\ude00""#, options: options) == "\u{FFFD}😀")
    }

    // MARK: - Numbers

    @Test func numbersKeepTheirExactText() throws {
        let value = try JSONValue(parsing: "[1, 1.0, -0, 1e400, 9223372036854775808, 123456789012345678901234567890]")
        let numbers = try #require(value.array).compactMap(\.number)
        #expect(
            numbers.map(\.description) == [
                "1", "1.0", "-0", "1e400", "9223372036854775808", "123456789012345678901234567890",
            ]
        )
        #expect(numbers[0] != numbers[1])
        #expect(numbers[0].isInteger)
        #expect(!numbers[1].isInteger)
        #expect(numbers[2].int64 == 0)
        #expect(numbers[3].double == .infinity)
        #expect(numbers[4].int64 == nil)
        #expect(numbers[4].uint64 == 9_223_372_036_854_775_808)
        #expect(numbers[5].int64 == nil)
        #expect(numbers[5].uint64 == nil)
        #expect(numbers[5].double == 1.2345678901234568e29)
    }

    @Test(arguments: [
        ("0", Int64(0)), ("-1", -1), ("9223372036854775807", .max), ("-9223372036854775808", .min),
        ("1000000", 1_000_000),
    ])
    func integersInRangeAreStoredDirectly(text: String, value: Int64) throws {
        let number = try #require(try JSONValue(parsing: text).number)
        #expect(number.storage == .int(value))
        #expect(number.description == text)
    }

    @Test(arguments: [
        "-0", "9223372036854775808", "-9223372036854775809", "18446744073709551616", "1.0", "1e2", "-0.0",
    ])
    func otherNumbersKeepText(text: String) throws {
        let number = try #require(try JSONValue(parsing: text).number)
        #expect(number.storage == .text(text))
    }

    // MARK: - Depth

    @Test func depthLimitIsExact() throws {
        let limit = JSONValue.ParsingOptions().maximumDepth
        #expect(limit == 512)
        let atLimit = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        #expect(throws: Never.self) { try JSONValue(parsing: atLimit) }

        let beyond = String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)
        let error = try #require(throws: JSONParseError.self) { try JSONValue(parsing: beyond) }
        #expect(error.code == .nestingTooDeep)
        #expect(error.offset == limit)
    }

    @Test func depthLimitCountsObjectsAndArrays() throws {
        let options = JSONValue.ParsingOptions(maximumDepth: 3)
        #expect(throws: Never.self) { try JSONValue(parsing: #"{"a":[{"b":1}]}"#, options: options) }
        let error = try #require(throws: JSONParseError.self) {
            try JSONValue(parsing: #"{"a":[{"b":[]}]}"#, options: options)
        }
        #expect(error.code == .nestingTooDeep)
        #expect(error.offset == 11)
        #expect(throws: Never.self) { try JSONValue(parsing: "1", options: .init(maximumDepth: 0)) }
    }

    @Test func deeplyNestedInputFailsWithoutCrashing() throws {
        let brackets = [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
        let error = try #require(throws: JSONParseError.self) { try JSONValue(parsing: brackets) }
        #expect(error.code == .nestingTooDeep)
        #expect(error.offset == 512)

        let objects = String(repeating: #"{"a":"#, count: 100_000)
        let objectError = try #require(throws: JSONParseError.self) { try JSONValue(parsing: objects) }
        #expect(objectError.code == .nestingTooDeep)
    }

    @Test func parserDoesNotRecurse() async {
        // Unclosed brackets far beyond the default limit, allowed by the options, on a thread with a
        // small stack: a recursive parser would overflow it. The partial value is never built, so
        // nothing deep is deallocated either.
        let brackets = [UInt8](repeating: UInt8(ascii: "["), count: 200_000)
        let code = await withCheckedContinuation { continuation in
            let thread = Thread {
                let result = Result { () throws(JSONParseError) in
                    try JSONValue(parsing: brackets, options: .init(maximumDepth: .max))
                }
                switch result {
                case .success: continuation.resume(returning: nil as JSONParseError.Code?)
                case .failure(let error): continuation.resume(returning: error.code)
                }
            }
            thread.stackSize = 128 * 1024
            thread.start()
        }
        #expect(code == .unexpectedEndOfInput)
    }

    // MARK: - Size and input forms

    @Test func parsesOneMebibyteDocument() throws {
        var text = "["
        var count = 0
        while text.utf8.count < 1 << 20 {
            if count > 0 { text += "," }
            text += #"{"id":\#(count),"name":"item \#(count) ✓","tags":["a","b\n"],"price":12.5,"ok":true,"n":null}"#
            count += 1
        }
        text += "]"
        let value = try JSONValue(parsing: Array(text.utf8))
        let elements = try #require(value.array)
        #expect(elements.count == count)
        #expect(elements.last?["id"]?.int64 == Int64(count - 1))
        #expect(elements[7]["tags"]?[1]?.string == "b\n")
    }

    @Test func parsesNonContiguousCollections() throws {
        let text = #"{"a":[1,"x"]}"#
        let lazyBytes = text.utf8.lazy.map { $0 }
        #expect(try JSONValue(parsing: lazyBytes) == ["a": [1, "x"]])
        #expect(try JSONValue(parsing: Data(text.utf8)) == ["a": [1, "x"]])
        #expect(try JSONValue(parsing: Array(text.utf8)[...]) == ["a": [1, "x"]])
    }

    @Test func parsesTheBenchmarkFixture() throws {
        let url = try #require(
            Bundle.module.url(forResource: "bench-event", withExtension: "json", subdirectory: "Fixtures")
        )
        let bytes = try Array(Data(contentsOf: url))
        #expect(bytes.count > 1_400 && bytes.count < 1_700)
        let event = try JSONValue(parsing: bytes)
        #expect(event["orgId"]?.int64 == 12_345)
        #expect(event["customer"]?["id"]?.int64 == 9_876_543_210_123)
        #expect(event["customer"]?["displayName"]?.string == "Ana María 😀")
        #expect(event["customer"]?["tags"]?.array?.count == 3)
        #expect(event["customer"]?["customFields"]?["notes"]?.string?.contains("\"urgent\".\n") == true)
    }

    // MARK: - Strings of every small length

    @Test(arguments: 0...40)
    func stringsOfEveryLengthMatchTheirBytes(length: Int) throws {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789é😀€ ".unicodeScalars)
        var text = ""
        var position = length
        while text.utf8.count < length {
            text.unicodeScalars.append(alphabet[position % alphabet.count])
            position += 7
        }
        let value = try JSONValue(parsing: "\"" + text + "\"")
        let string = try #require(value.string)
        #expect(string == text)
        #expect(Array(string.utf8) == Array(text.utf8))
        #expect(string.hashValue == text.hashValue)
        #expect(string.count == text.count)
    }
}
