// libFuzzer target for the JSON parser, serializer and decoder, and the lenient event models
// (Sources/PromptEvents/JSON, Events, Models).
//
// Built by scripts/fuzz.sh together with the PromptEvents sources as ONE module named
// `PromptEvents`. The whole input is the JSON text, so JSON fixtures are usable seeds as they are.
//
// Invariants checked (a violation is a crash, `fatalError`):
//   - `JSONValue(parsing:)` never traps, with default options and with lone surrogates replaced;
//     the byte and the String overloads agree when the input is valid UTF-8;
//   - if it parses, `serialized()` (compact and pretty) re-parses to an equal value, and
//     `serializedBytes` equals the UTF-8 of `serialized()`; the sorted-keys form re-parses;
//   - `JSONValueDecoder` decoding small `Decodable` structs never traps (errors are fine);
//   - `AnyEvent` built from any parsed object, and `Event<P>(…).payload` for every shipped
//     payload type, never trap; reading every lenient model field never traps.

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

private struct Small: Decodable {
    var orgId: Int64
    var name: String?
    var flags: [Bool]?
    var ratio: Double?
}

private struct Wide: Decodable {
    enum Kind: String, Decodable { case a, b, c }
    struct Nested: Decodable {
        var id: UInt8
        var tags: [String]?
        var child: [Nested]?
    }
    var i8: Int8?
    var u16: UInt16?
    var i32: Int32?
    var u64: UInt64?
    var int: Int?
    var float: Float?
    var double: Double?
    var date: Date?
    var kind: Kind?
    var map: [String: Int]?
    var nested: Nested?
    var list: [Nested]?
    var matrix: [[Int16]]?
    var optionalList: [String?]?
    var value: JSONValueBox?
}

/// Decodes anything through a single-value container, then an unkeyed, then a keyed one.
private struct JSONValueBox: Decodable {
    init(from decoder: any Decoder) throws {
        if let container = try? decoder.singleValueContainer() {
            _ = try? container.decode(String.self)
            _ = try? container.decode(Int64.self)
            _ = try? container.decode(Double.self)
            _ = try? container.decode(Bool.self)
            _ = container.decodeNil()
        }
        if var unkeyed = try? decoder.unkeyedContainer() {
            _ = unkeyed.count
            while !unkeyed.isAtEnd {
                if (try? unkeyed.decode(JSONValueBox.self)) == nil { break }
            }
        }
        if let keyed = try? decoder.container(keyedBy: AnyKey.self) {
            for key in keyed.allKeys.prefix(16) {
                _ = try? keyed.decode(JSONValueBox.self, forKey: key)
                _ = try? keyed.superDecoder(forKey: key)
                _ = try? keyed.nestedUnkeyedContainer(forKey: key)
            }
            _ = try? keyed.superDecoder()
        }
    }
}

private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

private func reparse(_ text: String, _ options: JSONValue.ParsingOptions, _ what: String) -> JSONValue {
    do {
        return try JSONValue(parsing: text, options: options)
    } catch {
        fatalError("\(what) does not re-parse: \(error)\n\(text)")
    }
}

private func touch(_ customer: Customer?) {
    guard let customer else { return }
    _ = customer.created
    _ = customer.optedOut
    _ = customer.phoneNumbers
    _ = customer.userType
    for channel in customer.channels ?? [] { _ = channel.identityType; _ = channel.key }
    _ = customer.tags?.count
    _ = customer.identities?.count
    _ = customer.contactLists?.count
}

private func checkEvents(_ object: JSONObject, body: [UInt8]) {
    let headers: Headers = ["Prompt-EventType": "customer/added", "Content-Type": "application/json"]
    let event = AnyEvent(kind: "customer/added", json: object, body: body, headers: headers)
    _ = event.orgID
    _ = event.declaredKind
    guard let added = try? Event<CustomerAdded>(event) else { fatalError("CustomerAdded must never fail") }
    touch(added.payload.customer)
    guard let optOut = try? Event<CustomerOptOut>(event) else { fatalError("CustomerOptOut must never fail") }
    touch(optOut.payload.customer)
    _ = try? Event<MessageAdded>(event).payload
    _ = try? Event<MessageStatus>(event).payload
    _ = try? Event<ContactAction>(event).payload
    _ = try? Event<BroadcastStatusChanged>(event).payload
    _ = try? Event<SmartlinkClicked>(event).payload
    _ = try? Event<GenericPayload>(event).payload
    _ = try? event.decode(Small.self)
}

private func check(_ bytes: UnsafeBufferPointer<UInt8>, options: JSONValue.ParsingOptions) {
    let value: JSONValue
    do {
        value = try JSONValue(parsing: bytes, options: options)
    } catch {
        _ = error.description
        return
    }
    // The String overload reads the same UTF-8 (a parsed document is valid UTF-8, so the String
    // holds exactly these bytes).
    let text = String(decoding: bytes, as: UTF8.self)
    guard let again = try? JSONValue(parsing: text, options: options), again == value else {
        fatalError("String overload disagrees with the byte overload")
    }

    let compact = value.serialized()
    let reparsed = reparse(compact, options, "serialized()")
    guard reparsed == value else { fatalError("serialized() round trip differs:\n\(compact)") }
    guard reparsed.hashValue == value.hashValue else { fatalError("equal values hash differently") }
    guard value.serializedBytes(pretty: false, sortedKeys: false) == Array(compact.utf8) else {
        fatalError("serializedBytes differs from serialized()")
    }
    let pretty = value.serialized(pretty: true)
    guard reparse(pretty, options, "serialized(pretty: true)") == value else {
        fatalError("pretty round trip differs:\n\(pretty)")
    }
    let sorted = value.serialized(sortedKeys: true)
    let reparsedSorted = reparse(sorted, options, "serialized(sortedKeys: true)")
    guard reparsedSorted.serialized(sortedKeys: true) == sorted else { fatalError("sorted form is not stable") }

    // Accessors never trap.
    _ = value.string; _ = value.int64; _ = value.uint64; _ = value.double; _ = value.bool
    _ = value.array?.count; _ = value.isNull; _ = value[0]; _ = value["orgId"]
    if let number = value.number { _ = number.int64; _ = number.uint64; _ = number.double }

    let decoder = JSONValueDecoder()
    _ = try? decoder.decode(Small.self, from: value)
    _ = try? decoder.decode(Wide.self, from: value)
    _ = try? decoder.decode([Wide].self, from: value)
    _ = try? decoder.decode(JSONValueBox.self, from: value)
    _ = try? decoder.decode([String: Date].self, from: value)
    _ = try? decoder.decode(Wide.Nested.self, from: bytes)

    if case .object(let object) = value {
        checkEvents(object, body: Array(bytes))
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    check(bytes, options: JSONValue.ParsingOptions())
    check(bytes, options: JSONValue.ParsingOptions(maximumDepth: 16, replacesLoneSurrogates: true))
    return 0
}
