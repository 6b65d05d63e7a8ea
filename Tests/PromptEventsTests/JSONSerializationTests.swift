import Testing

@testable import PromptEvents

@Suite struct JSONSerializationTests {
    @Test(arguments: JSONParserTests.validDocuments)
    func roundTripsValidDocument(_ document: ValidDocument) throws {
        let value = try JSONValue(parsing: document.bytes)
        let compact = value.serialized()
        #expect(try JSONValue(parsing: compact) == value)
        #expect(try JSONValue(parsing: value.serializedBytes) == value)
        #expect(try JSONValue(parsing: value.serialized(pretty: true)) == value)
        // Serializing the reparsed value gives the same text again.
        #expect(try JSONValue(parsing: compact).serialized() == compact)
    }

    @Test func compactOutputKeepsOrderDuplicatesAndNumberText() throws {
        let text = #"{"b":1,"a":[1.0,-0,1e400,18446744073709551616,2.50],"b":{"z":null,"y":true}}"#
        let value = try JSONValue(parsing: text)
        #expect(value.serialized() == text)
        #expect(String(decoding: value.serializedBytes, as: UTF8.self) == text)
    }

    @Test func compactOutputDropsInsignificantWhitespace() throws {
        let value = try JSONValue(parsing: " { \"a\" : [ 1 , 2 ] ,\n\"b\" : { } , \"c\" : [ ] } ")
        #expect(value.serialized() == #"{"a":[1,2],"b":{},"c":[]}"#)
    }

    @Test func prettyOutputIndentsByTwoSpaces() throws {
        let value = try JSONValue(parsing: #"{"a":[1,{"b":null}],"c":{},"d":[],"e":"x"}"#)
        let expected = """
            {
              "a": [
                1,
                {
                  "b": null
                }
              ],
              "c": {},
              "d": [],
              "e": "x"
            }
            """
        #expect(value.serialized(pretty: true) == expected)
        #expect(JSONValue.number(1).serialized(pretty: true) == "1")
    }

    @Test func sortedKeysOrdersByUTF8AndKeepsDuplicateOrder() throws {
        let value = try JSONValue(parsing: #"{"b":1,"a":{"z":1,"Z":2},"é":0,"b":2,"B":3}"#)
        #expect(value.serialized(sortedKeys: true) == #"{"B":3,"a":{"Z":2,"z":1},"b":1,"b":2,"é":0}"#)
        // Sorting is for output only; the value keeps document order.
        #expect(value.serialized() == #"{"b":1,"a":{"z":1,"Z":2},"é":0,"b":2,"B":3}"#)
    }

    @Test func stringsEscapeOnlyWhatJSONRequires() {
        let value: JSONValue = "quote\" backslash\\ slash/ é 😀 \u{8}\u{C}\n\r\t \u{0}\u{1}\u{1F} \u{7F} \u{2028}"
        let expected = #""quote\" backslash\\ slash/ é 😀 \b\f\n\r\t \u0000\u0001\u001f "# + "\u{7F} \u{2028}\""
        #expect(value.serialized() == expected)
    }

    @Test func escapedStringsRoundTrip() throws {
        let strings = [
            "", "plain", "\"", "\\", "\u{0}", "a\nb", "\u{1F}x", "😀\t", String(repeating: "ab\"", count: 40),
        ]
        for string in strings {
            let value = JSONValue.string(string)
            #expect(try JSONValue(parsing: value.serialized()) == value)
        }
    }

    @Test func keysAreEscapedToo() throws {
        let value: JSONValue = ["a\"b\n": 1]
        #expect(value.serialized() == #"{"a\"b\n":1}"#)
        #expect(try JSONValue(parsing: value.serialized()) == value)
    }

    @Test func builtValuesSerialize() throws {
        let value: JSONValue = [
            "int": 12,
            "double": 0.1,
            "big": .number(JSONNumber(UInt64.max)),
            "list": [true, false, nil],
            "text": "x",
        ]
        #expect(
            value.serialized()
                == #"{"int":12,"double":0.1,"big":18446744073709551615,"list":[true,false,null],"text":"x"}"#
        )
    }
}
