import Foundation
import Testing

@testable import PromptEvents

/// The coding path as strings, for comparing in expectations.
func pathStrings(_ path: [any CodingKey]) -> [String] {
    path.map(\.stringValue)
}

/// Decodes `type` from JSON text.
func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
    try JSONValueDecoder().decode(type, from: Array(text.utf8))
}

@Suite struct JSONValueDecoderTests {
    struct Customer: Decodable, Equatable {
        enum UserType: String, Decodable {
            case customer = "CUSTOMER"
            case user = "USER"
        }

        struct Channel: Decodable, Equatable {
            var identityType: String
            var key: String
        }

        var id: Int64
        var displayName: String
        var nickname: String?
        var score: Double?
        var userType: UserType
        var channels: [Channel]
        var tags: [String]
        var globalOptOut: Bool
    }

    struct Event: Decodable, Equatable {
        var orgId: Int
        var customer: Customer
    }

    static let eventText = """
        {"orgId":12345,"ignored":{"deep":[1,2,3]},"customer":{"id":9223372036854775806,"displayName":"Ana María 😀",
        "nickname":null,"userType":"CUSTOMER","channels":[{"identityType":"SMS","key":"+15551234567"}],
        "tags":["vip","es"],"globalOptOut":false}}
        """

    @Test func decodesNestedStructs() throws {
        let event = try decode(Event.self, Self.eventText)
        #expect(event.orgId == 12_345)
        #expect(event.customer.id == 9_223_372_036_854_775_806)
        #expect(event.customer.displayName == "Ana María 😀")
        #expect(event.customer.nickname == nil)
        #expect(event.customer.score == nil)
        #expect(event.customer.userType == .customer)
        #expect(event.customer.channels == [Customer.Channel(identityType: "SMS", key: "+15551234567")])
        #expect(event.customer.tags == ["vip", "es"])
        #expect(!event.customer.globalOptOut)
    }

    @Test func decodesFromParsedValueAndFromBytesAlike() throws {
        let value = try JSONValue(parsing: Self.eventText)
        #expect(try JSONValueDecoder().decode(Event.self, from: value) == decode(Event.self, Self.eventText))
    }

    @Test func decodesTheBenchmarkFixture() throws {
        struct Small: Decodable {
            struct Customer: Decodable { var id: Int64 }
            var orgId: Int64
            var customer: Customer
        }
        let url = try #require(
            Bundle.module.url(forResource: "bench-event", withExtension: "json", subdirectory: "Fixtures")
        )
        let event = try JSONValueDecoder().decode(Small.self, from: Data(contentsOf: url))
        #expect(event.orgId == 12_345)
        #expect(event.customer.id == 9_876_543_210_123)
    }

    // MARK: - Errors and coding paths

    @Test func typeMismatchCarriesTheFullPath() throws {
        let text =
            #"{"orgId":1,"customer":{"id":1,"displayName":"x","userType":"USER","channels":[{"identityType":"SMS","key":5}],"tags":[],"globalOptOut":true}}"#
        let error = try #require(throws: DecodingError.self) { try decode(Event.self, text) }
        guard case .typeMismatch(let type, let context) = error else {
            Issue.record("Expected typeMismatch, got \(error)")
            return
        }
        #expect(ObjectIdentifier(type) == ObjectIdentifier(String.self))
        #expect(pathStrings(context.codingPath) == ["customer", "channels", "Index 0", "key"])
        #expect(context.codingPath[2].intValue == 0)
    }

    @Test func keyNotFoundCarriesTheContainerPath() throws {
        let text = #"{"orgId":1,"customer":{"id":1,"userType":"USER","channels":[],"tags":[],"globalOptOut":true}}"#
        let error = try #require(throws: DecodingError.self) { try decode(Event.self, text) }
        guard case .keyNotFound(let key, let context) = error else {
            Issue.record("Expected keyNotFound, got \(error)")
            return
        }
        #expect(key.stringValue == "displayName")
        #expect(pathStrings(context.codingPath) == ["customer"])
    }

    @Test func nullForARequiredValueIsValueNotFound() throws {
        let error = try #require(throws: DecodingError.self) {
            try decode([String: Int].self, #"{"a":1,"b":null}"#)
        }
        guard case .valueNotFound(_, let context) = error else {
            Issue.record("Expected valueNotFound, got \(error)")
            return
        }
        #expect(pathStrings(context.codingPath) == ["b"])
    }

    @Test func unknownEnumValueIsDataCorrupted() throws {
        let error = try #require(throws: DecodingError.self) {
            try decode([Customer.UserType].self, #"["USER","ADMIN"]"#)
        }
        guard case .dataCorrupted(let context) = error else {
            Issue.record("Expected dataCorrupted, got \(error)")
            return
        }
        #expect(pathStrings(context.codingPath) == ["Index 1"])
    }

    @Test func containerOfTheWrongTypeIsTypeMismatch() throws {
        let error = try #require(throws: DecodingError.self) { try decode(Event.self, "[1]") }
        guard case .typeMismatch(_, let context) = error else {
            Issue.record("Expected typeMismatch, got \(error)")
            return
        }
        #expect(context.codingPath.isEmpty)
        #expect(throws: DecodingError.self) { try decode([Int].self, #"{"a":1}"#) }
        #expect(throws: DecodingError.self) { try decode(Event.self, "null") }
    }

    @Test func invalidJSONThrowsTheParseError() throws {
        let error = try #require(throws: JSONParseError.self) { try decode(Event.self, #"{"orgId":1,}"#) }
        #expect(error.code == .unexpectedByte)
        #expect(error.offset == 11)
    }

    // MARK: - Numbers

    @Test(arguments: [
        ("0", 0), ("-12", -12), ("1.0", 1), ("1e3", 1_000), ("1.5e1", 15), ("-0", 0), ("100e-2", 1),
        ("9223372036854775807", .max), ("-9223372036854775808", .min),
    ])
    func decodesIntegralNumbersExactly(text: String, expected: Int64) throws {
        #expect(try decode(Int64.self, text) == expected)
    }

    @Test(arguments: ["1.5", "0.1", "-2.25", "1e-5"])
    func fractionIntoIntegerIsTypeMismatch(text: String) throws {
        let error = try #require(throws: DecodingError.self) { try decode(Int.self, text) }
        guard case .typeMismatch(let type, _) = error else {
            Issue.record("Expected typeMismatch, got \(error)")
            return
        }
        #expect(ObjectIdentifier(type) == ObjectIdentifier(Int.self))
    }

    @Test func integerOutOfRangeIsDataCorrupted() throws {
        let cases: [(String, any Decodable.Type)] = [
            ("300", UInt8.self), ("-1", UInt8.self), ("128", Int8.self), ("-129", Int8.self), ("65536", UInt16.self),
            ("2147483648", Int32.self), ("-1", UInt.self), ("9223372036854775808", Int64.self),
            ("18446744073709551616", UInt64.self), ("1e400", Int.self), ("-1", UInt64.self),
        ]
        for (text, type) in cases {
            let error = try #require(throws: DecodingError.self, "\(text) as \(type)") {
                try JSONValueDecoder().decode(type, from: Array(text.utf8))
            }
            guard case .dataCorrupted(let context) = error else {
                Issue.record("Expected dataCorrupted for \(text) as \(type), got \(error)")
                continue
            }
            #expect(context.debugDescription.contains("does not fit"))
        }
    }

    @Test func decodesEveryIntegerWidthAtItsLimits() throws {
        #expect(try decode(Int8.self, "-128") == .min)
        #expect(try decode(UInt8.self, "255") == .max)
        #expect(try decode(Int16.self, "32767") == .max)
        #expect(try decode(UInt16.self, "65535") == .max)
        #expect(try decode(Int32.self, "-2147483648") == .min)
        #expect(try decode(UInt32.self, "4294967295") == .max)
        #expect(try decode(Int.self, "9223372036854775807") == .max)
        #expect(try decode(UInt.self, "18446744073709551615") == .max)
        #expect(try decode(UInt64.self, "18446744073709551615") == .max)
        #expect(try decode(UInt64.self, "1.8446744073709551615e19") == .max)
        #expect(try decode(Int128.self, "-170141183460469231731687303715884105728") == .min)
        #expect(try decode(UInt128.self, "340282366920938463463374607431768211455") == .max)
        #expect(try decode([UInt8].self, "[0,1,255]") == [0, 1, 255])
    }

    @Test func decodesFloatingPointFromAnyNumber() throws {
        #expect(try decode(Double.self, "1") == 1)
        #expect(try decode(Double.self, "-0.5e-3") == -0.0005)
        #expect(try decode(Double.self, "18446744073709551616") == 18_446_744_073_709_551_616)
        #expect(try decode(Float.self, "0.1") == Float(0.1))
        #expect(try decode(Float.self, "16777217") == 16_777_216)
        #expect(throws: DecodingError.self) { try decode(Double.self, "1e400") }
        #expect(throws: DecodingError.self) { try decode(Float.self, "1e39") }
        #expect(throws: DecodingError.self) { try decode(Double.self, #""1.5""#) }
    }

    @Test func decodesStringsAndBoolsStrictly() throws {
        #expect(try decode(String.self, #""x""#) == "x")
        #expect(try decode(Bool.self, "true"))
        #expect(throws: DecodingError.self) { try decode(Bool.self, "1") }
        #expect(throws: DecodingError.self) { try decode(String.self, "1") }
        #expect(throws: DecodingError.self) { try decode(Int.self, #""1""#) }
    }

    // MARK: - Dates

    @Test func decodesDatesFromMillisecondsAndISO8601() throws {
        struct Stamped: Decodable {
            var createdTimestamp: Date
            var createdDate: Date
            var modified: Date?
            var missing: Date?
        }
        let text =
            #"{"createdTimestamp":1712345678901,"createdDate":"2024-04-05T19:34:38.901Z","modified":"2024-04-05"}"#
        let stamped = try decode(Stamped.self, text)
        #expect(abs(stamped.createdTimestamp.timeIntervalSince1970 - 1_712_345_678.901) < 1e-6)
        #expect(abs(stamped.createdDate.timeIntervalSince1970 - 1_712_345_678.901) < 1e-6)
        #expect(stamped.modified?.timeIntervalSince1970 == 1_712_275_200)
        #expect(stamped.missing == nil)
        #expect(try decode(Date.self, "0").timeIntervalSince1970 == 0)
        #expect(try decode(Date.self, "-1500").timeIntervalSince1970 == -1.5)
        #expect(try decode([Date].self, #"[1000,"1970-01-01T00:00:02Z"]"#).map(\.timeIntervalSince1970) == [1, 2])
    }

    /// Values where `ms / 1000` since 1970 and the exact instant round to different `Date`s.
    @Test(arguments: [1_712_345_679_123, 1_250_412_573_173, 836_022_225_947, 0, -1500, Int64.max, Int64.min])
    func millisecondTimestampsGiveTheSameDateEverywhere(milliseconds: Int64) throws {
        let decoded = try decode(Date.self, "\(milliseconds)")
        #expect(decoded == Date(promptTimestamp: milliseconds))
        let customer = PromptEvents.Customer(json: ["createdTimestamp": .number(JSONNumber(milliseconds))])
        #expect(customer.created == decoded)
        let (sinceReferenceDate, overflow) = milliseconds.subtractingReportingOverflow(978_307_200_000)
        if !overflow {
            #expect(decoded.timeIntervalSinceReferenceDate == Double(sinceReferenceDate) / 1000)
        }
    }

    @Test func invalidDatesAreDecodingErrors() throws {
        struct Stamped: Decodable { var at: Date }
        let error = try #require(throws: DecodingError.self) { try decode(Stamped.self, #"{"at":"yesterday"}"#) }
        guard case .dataCorrupted(let context) = error else {
            Issue.record("Expected dataCorrupted, got \(error)")
            return
        }
        #expect(pathStrings(context.codingPath) == ["at"])
        #expect(throws: DecodingError.self) { try decode(Stamped.self, #"{"at":true}"#) }
        #expect(throws: DecodingError.self) { try decode(Stamped.self, #"{"at":1e400}"#) }
    }

    // MARK: - Collections

    @Test func decodesDictionaries() throws {
        #expect(try decode([String: Int].self, #"{"a":1,"b":2}"#) == ["a": 1, "b": 2])
        #expect(try decode([String: Int].self, #"{"a":1,"a":2}"#) == ["a": 2])
        #expect(try decode([String: [String: Bool]].self, #"{"x":{"y":true}}"#) == ["x": ["y": true]])
        #expect(try decode([Int: String].self, #"{"1":"one","2":"two"}"#) == [1: "one", 2: "two"])
        #expect(try decode([String: Int?].self, #"{"a":null}"#) == ["a": nil])
    }

    @Test func decodesLargeObjectsThroughTheIndex() throws {
        var members: [String] = []
        for index in 0..<200 { members.append(#""key\#(index)":\#(index)"#) }
        members.append(#""key7":-7"#)
        let dictionary = try decode([String: Int].self, "{" + members.joined(separator: ",") + "}")
        #expect(dictionary.count == 200)
        #expect(dictionary["key199"] == 199)
        #expect(dictionary["key7"] == -7)
    }

    @Test func duplicateKeysResolveToTheLastMember() throws {
        struct Single: Decodable { var a: Int }
        #expect(try decode(Single.self, #"{"a":1,"b":0,"a":3}"#).a == 3)
    }

    @Test func decodesNestedArraysWithPaths() throws {
        #expect(try decode([[Int]].self, "[[1,2],[],[3]]") == [[1, 2], [], [3]])
        let error = try #require(throws: DecodingError.self) { try decode([[Int]].self, #"[[1],[2,"x"]]"#) }
        guard case .typeMismatch(_, let context) = error else {
            Issue.record("Expected typeMismatch, got \(error)")
            return
        }
        #expect(pathStrings(context.codingPath) == ["Index 1", "Index 1"])
    }

    @Test func decodesTopLevelScalarsAndOptionals() throws {
        #expect(try decode(Int.self, "5") == 5)
        #expect(try decode(String?.self, "null") == nil)
        #expect(try decode(Int?.self, "7") == 7)
        #expect(try decode([Int?].self, "[1,null,3]") == [1, nil, 3])
    }

    // MARK: - Hand-written Decodable implementations

    struct Manual: Decodable, Equatable {
        var id: Int
        var first: String
        var rest: [Int]
        var hasExtra: Bool
        var keys: [String]

        enum Keys: String, CodingKey {
            case id, info, list
        }

        enum InfoKeys: String, CodingKey {
            case name
        }

        init(id: Int, first: String, rest: [Int], hasExtra: Bool, keys: [String]) {
            self.id = id
            self.first = first
            self.rest = rest
            self.hasExtra = hasExtra
            self.keys = keys
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            id = try container.decode(Int.self, forKey: .id)
            let info = try container.nestedContainer(keyedBy: InfoKeys.self, forKey: .info)
            first = try info.decode(String.self, forKey: .name)
            var list = try container.nestedUnkeyedContainer(forKey: .list)
            var rest: [Int] = []
            #expect(list.count == 3)
            _ = try list.decodeNil()
            while !list.isAtEnd {
                if try list.decodeNil() { continue }
                rest.append(try list.decode(Int.self))
            }
            self.rest = rest
            hasExtra = container.contains(.info)
            keys = container.allKeys.map(\.stringValue)
            #expect(pathStrings(info.codingPath) == ["info"])
            #expect(pathStrings(list.codingPath) == ["list"])
        }
    }

    @Test func supportsNestedContainers() throws {
        let manual = try decode(Manual.self, #"{"id":1,"info":{"name":"n"},"list":[4,null,5],"other":0,"id":2}"#)
        #expect(manual == Manual(id: 2, first: "n", rest: [4, 5], hasExtra: true, keys: ["id", "info", "list"]))
    }

    @Test func unkeyedContainerReportsItsEnd() throws {
        struct Pair: Decodable {
            init(from decoder: any Decoder) throws {
                var container = try decoder.unkeyedContainer()
                _ = try container.decode(Int.self)
                _ = try container.decode(Int.self)
            }
        }
        let error = try #require(throws: DecodingError.self) { try decode(Pair.self, "[1]") }
        guard case .valueNotFound(_, let context) = error else {
            Issue.record("Expected valueNotFound, got \(error)")
            return
        }
        #expect(pathStrings(context.codingPath) == ["Index 1"])
    }

    class Animal: Decodable {
        var name: String

        enum Keys: String, CodingKey {
            case name
        }

        required init(from decoder: any Decoder) throws {
            name = try decoder.container(keyedBy: Keys.self).decode(String.self, forKey: .name)
        }
    }

    final class Dog: Animal {
        var breed: String

        enum DogKeys: String, CodingKey {
            case breed
        }

        required init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: DogKeys.self)
            breed = try container.decode(String.self, forKey: .breed)
            try super.init(from: container.superDecoder())
        }
    }

    @Test func supportsSuperDecoders() throws {
        let dog = try decode(Dog.self, #"{"breed":"beagle","super":{"name":"Rex"}}"#)
        #expect(dog.breed == "beagle")
        #expect(dog.name == "Rex")
        let error = try #require(throws: DecodingError.self) { try decode(Dog.self, #"{"breed":"beagle"}"#) }
        guard case .valueNotFound(_, let context) = error else {
            Issue.record("Expected valueNotFound, got \(error)")
            return
        }
        #expect(pathStrings(context.codingPath) == ["super"])
    }

    @Test func passesUserInfoThrough() throws {
        struct Reader: Decodable {
            var flag: Bool
            init(from decoder: any Decoder) throws {
                let key = try #require(CodingUserInfoKey(rawValue: "flag"))
                flag = decoder.userInfo[key] as? Bool ?? false
            }
        }
        var decoder = JSONValueDecoder()
        let key = try #require(CodingUserInfoKey(rawValue: "flag"))
        decoder.userInfo[key] = true
        #expect(try decoder.decode(Reader.self, from: .null).flag)
    }

    @Test func singleValueContainersReadWrappedValues() throws {
        struct Identifier: Decodable, Equatable {
            var raw: String
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                #expect(!container.decodeNil())
                raw = try container.decode(String.self)
            }
            init(raw: String) { self.raw = raw }
        }
        #expect(try decode([String: Identifier].self, #"{"a":"x"}"#) == ["a": Identifier(raw: "x")])
        let error = try #require(throws: DecodingError.self) { try decode([String: Identifier].self, #"{"a":1}"#) }
        guard case .typeMismatch(_, let context) = error else {
            Issue.record("Expected typeMismatch, got \(error)")
            return
        }
        #expect(pathStrings(context.codingPath) == ["a"])
    }
}
