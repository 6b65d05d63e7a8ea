import Testing

@testable import PromptEvents

@Suite struct JSONValueTests {
    static let sample: JSONValue = [
        "id": 7,
        "name": "Ana",
        "ratio": 0.5,
        "ok": true,
        "nothing": nil,
        "list": [1, "two", [3]],
        "nested": ["deep": ["deeper": "yes"]],
    ]

    /// `print(event.json)` shows JSON text, not a dump of the types behind it.
    @Test func printingShowsCompactJSONAndDebugPrintingNamesTheType() throws {
        let object = try #require(
            try JSONValue(parsing: Array(#"{"orgId":1,"customer":{"id":42,"tags":["a"]}}"#.utf8)).object
        )
        #expect("\(object)" == #"{"orgId":1,"customer":{"id":42,"tags":["a"]}}"#)
        #expect(String(reflecting: object) == #"JSONObject(2 members: {"orgId":1,"customer":{"id":42,"tags":["a"]}})"#)
        #expect("\(JSONValue.object(object))" == "\(object)")
        #expect(String(reflecting: JSONValue.number(42)) == "JSONValue.number(42)")
        #expect(String(reflecting: JSONValue.string("a\"b")) == #"JSONValue.string("a\"b")"#)
    }

    @Test func accessorsReturnValuesOfTheirOwnType() {
        let value = Self.sample
        #expect(value["id"]?.int64 == 7)
        #expect(value["id"]?.uint64 == 7)
        #expect(value["id"]?.double == 7)
        #expect(value["name"]?.string == "Ana")
        #expect(value["ratio"]?.double == 0.5)
        #expect(value["ok"]?.bool == true)
        #expect(value["nothing"]?.isNull == true)
        #expect(value["list"]?.array?.count == 3)
        #expect(value["list"]?[1]?.string == "two")
        #expect(value["list"]?[2]?[0]?.int64 == 3)
        #expect(value["nested"]?["deep"]?["deeper"]?.string == "yes")
        #expect(value.object?.count == 7)
        #expect(value["id"]?.number == JSONNumber(7))
    }

    @Test func accessorsReturnNilForOtherTypes() {
        let value = Self.sample
        #expect(value["missing"] == nil)
        #expect(value["name"]?.int64 == nil)
        #expect(value["id"]?.string == nil)
        #expect(value["ok"]?.int64 == nil)
        #expect(value["list"]?["key"] == nil)
        #expect(value["list"]?[3] == nil)
        #expect(value["list"]?[-1] == nil)
        #expect(value[0] == nil)
        #expect(value["name"]?.array == nil)
        #expect(value["name"]?.object == nil)
        #expect(value["name"]?.bool == nil)
        #expect(value["name"]?.double == nil)
        #expect(value["name"]?.number == nil)
        #expect(value["name"]?.isNull == false)
    }

    @Test(arguments: [
        ("1", Int64(1) as Int64?, UInt64(1) as UInt64?),
        ("-1", -1, nil),
        ("1.5", nil, nil),
        ("1.0", nil, nil),
        ("1e3", nil, nil),
        ("-0", 0, 0),
        ("9223372036854775807", .max, 9_223_372_036_854_775_807),
        ("9223372036854775808", nil, 9_223_372_036_854_775_808),
        ("18446744073709551615", nil, .max),
        ("18446744073709551616", nil, nil),
        ("-9223372036854775809", nil, nil),
    ])
    func integerAccessorsAreStrict(text: String, int64: Int64?, uint64: UInt64?) throws {
        let value = try JSONValue(parsing: text)
        #expect(value.int64 == int64)
        #expect(value.uint64 == uint64)
        #expect(value.double != nil)
    }

    @Test func descriptionIsCompactSerialization() {
        let value: JSONValue = ["a": [1, 2.5, "x"], "b": nil]
        #expect(value.description == #"{"a":[1,2.5,"x"],"b":null}"#)
        #expect("\(value)" == #"{"a":[1,2.5,"x"],"b":null}"#)
    }

    // MARK: - JSONNumber

    @Test(arguments: ["0", "-0", "1", "-1", "1.0", "0.5", "1e5", "1E+5", "-1.5e-7", "123456789012345678901234567890"])
    func numberAcceptsJSONText(text: String) throws {
        let number = try #require(JSONNumber(text))
        #expect(number.description == text)
        #expect(number.text == text)
    }

    @Test(arguments: ["", "-", "+1", "01", "1.", ".5", "1e", "NaN", "Infinity", " 1", "1 ", "0x1", "1_000", "--1"])
    func numberRejectsOtherText(text: String) {
        #expect(JSONNumber(text) == nil)
    }

    @Test func numberFromDoubleUsesShortestRoundTrippingText() throws {
        // `JSONNumber(1.0)` with a literal is the float literal initializer; pass `Double` values instead.
        let values: [Double] = [1.0, 0.1, -2.5e-8, 1e300, .leastNonzeroMagnitude]
        let texts = values.map { JSONNumber($0)?.description }
        #expect(texts == ["1.0", "0.1", "-2.5e-08", "1e+300", "5e-324"])
        #expect(JSONNumber(Double.nan) == nil)
        #expect(JSONNumber(Double.infinity) == nil)
        #expect(JSONNumber(-Double.infinity) == nil)
        let tiny = try #require(JSONNumber(values[4]))
        #expect(tiny.double == .leastNonzeroMagnitude)
    }

    @Test func numberEqualityComparesText() throws {
        #expect(JSONNumber(1) == JSONNumber(Int64(1)))
        #expect(JSONNumber(1) == JSONNumber("1"))
        #expect(JSONNumber(1) != JSONNumber("1.0"))
        #expect(JSONNumber(0) != JSONNumber("-0"))
        #expect(JSONNumber(UInt64.max) == JSONNumber("18446744073709551615"))
        #expect(JSONNumber(UInt64(5)) == JSONNumber(5))
        let literal: JSONNumber = 2.5
        #expect(literal == JSONNumber("2.5"))
        let integer: JSONNumber = 12
        #expect(integer.int64 == 12)
    }

    @Test func numberIsIntegerDependsOnTextOnly() throws {
        #expect(try #require(JSONNumber("10")).isInteger)
        #expect(try #require(JSONNumber("-0")).isInteger)
        #expect(try #require(JSONNumber("99999999999999999999999")).isInteger)
        #expect(try !#require(JSONNumber("10.0")).isInteger)
        #expect(try !#require(JSONNumber("1e1")).isInteger)
    }

    @Test(arguments: [
        ("1", "1"), ("1.0", "1"), ("1e3", "1000"), ("1.5e1", "15"), ("-2.50e2", "-250"), ("0.000", "0"), ("-0", "0"),
        ("0e999999999999", "0"), ("12345678901234567890123", "12345678901234567890123"), ("100e-2", "1"),
    ])
    func integralValueIsExact(text: String, digits: String) throws {
        let number = try #require(JSONNumber(text))
        guard case .integral(let negative, let magnitude) = number.integralValue else {
            Issue.record("\(text) should be integral")
            return
        }
        #expect((negative ? "-" : "") + magnitude == digits)
    }

    @Test(arguments: ["1.5", "0.1", "1e-1", "123.456e2", "1e-400", "-0.5"])
    func integralValueRejectsFractions(text: String) throws {
        let number = try #require(JSONNumber(text))
        guard case .notIntegral = number.integralValue else {
            Issue.record("\(text) should not be integral")
            return
        }
    }

    @Test(arguments: ["1e40", "1e400", "123456789012345678901234567890123456789012"])
    func integralValueFlagsHugeNumbers(text: String) throws {
        let number = try #require(JSONNumber(text))
        guard case .tooLarge = number.integralValue else {
            Issue.record("\(text) should be too large")
            return
        }
    }

    // MARK: - JSONObject

    @Test func objectKeepsOrderAndDuplicates() throws {
        let value = try JSONValue(parsing: #"{"b":1,"a":2,"b":3}"#)
        let object = try #require(value.object)
        #expect(object.keys == ["b", "a", "b"])
        #expect(object.count == 3)
        #expect(!object.isEmpty)
        #expect(object["b"] == 3)
        #expect(object.values(forKey: "b") == [1, 3])
        #expect(object.values(forKey: "missing").isEmpty)
        #expect(object.map(\.key) == ["b", "a", "b"])
        #expect(Array(object).count == 3)
    }

    @Test func objectEqualityIsOrderSensitive() {
        let first: JSONObject = ["a": 1, "b": 2]
        let second: JSONObject = ["b": 2, "a": 1]
        #expect(first != second)
        #expect(first == JSONObject(members: [.init(key: "a", value: 1), .init(key: "b", value: 2)]))
    }

    @Test func objectAppendKeepsEarlierMembers() {
        var object = JSONObject()
        #expect(object.isEmpty)
        object.append(key: "k", value: "first")
        object.append(key: "k", value: "second")
        #expect(object["k"] == "second")
        #expect(object.values(forKey: "k") == ["first", "second"])
        #expect(JSONValue.object(object).serialized() == #"{"k":"first","k":"second"}"#)
    }

    @Test func objectLookupComparesExactCodeUnits() throws {
        let object = try #require(try JSONValue(parsing: #"{"ab":1,"abc":2,"\u00e9":3,"e\u0301":4}"#).object)
        #expect(object["ab"] == 1)
        #expect(object["abc"] == 2)
        #expect(object["a"] == nil)
        // Canonically equivalent spellings are still different keys, as RFC 8259 §8.3 compares code units.
        #expect(object["\u{E9}"] == 3)
        #expect(object["e\u{301}"] == 4)
        #expect(object.values(forKey: "\u{E9}") == [3])
    }

    @Test func objectLookupTellsApartReorderedCombiningMarks() throws {
        // Same length, canonically equivalent, different code units.
        let first = "a\u{301}\u{316}"
        let second = "a\u{316}\u{301}"
        #expect(first == second)
        let object: JSONObject = [first: 1, second: 2]
        #expect(object[first] == 1)
        #expect(object[second] == 2)
        let parsed = try #require(try JSONValue(parsing: JSONValue.object(object).serialized()).object)
        #expect(parsed[first] == 1)
        #expect(parsed[second] == 2)
    }

    @Test func memberKeysCanBeChanged() {
        var member = JSONObject.Member(key: "\u{E9}", value: 1)
        member.key = "e"
        var object = JSONObject(members: [member])
        #expect(object["e"] == 1)
        object.members[0].key = "e\u{301}"
        #expect(object["e"] == nil)
        #expect(object["e\u{301}"] == 1)
        #expect(object["\u{E9}"] == nil)
    }

    @Test func valuesAreHashable() {
        let set: Set<JSONValue> = [1, 1, "1", [1], ["a": 1], nil, true, 1.0]
        #expect(set.count == 7)
    }
}
