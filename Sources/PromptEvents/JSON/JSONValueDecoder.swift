#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Decodes `Decodable` types from a parsed ``JSONValue``, or from bytes in one step.
///
/// A full `Decoder`: keyed, unkeyed and single-value containers, nested containers and
/// `superDecoder`, with the coding path of the failing value in every `DecodingError`.
///
/// - **Integers** of every width are range-checked exactly. A number with a nonzero fraction
///   (`1.5`) is a `typeMismatch`; an integral number out of range (`300` for `UInt8`) is
///   `dataCorrupted`. Integral values written with a fraction or exponent (`1.0`, `1e3`) are
///   accepted, as Foundation's `JSONDecoder` does, and converted exactly.
/// - **Floating point** accepts any number; one too large for the type (`1e400`) is `dataCorrupted`.
/// - **`Date`** accepts a number of *milliseconds* since 1970-01-01T00:00:00Z, or a string read by
///   ``ISO8601/date(from:)``.
/// - **Keys** are matched by their exact UTF-8 code units, and a repeated key resolves to its
///   last member, as in ``JSONObject``.
/// - `null` where a value is required is `valueNotFound`; a missing key is `keyNotFound`.
///
/// ```swift
/// struct Event: Decodable { var orgId: Int64; var customer: Customer }
/// let event = try JSONValueDecoder().decode(Event.self, from: delivery.body)
/// ```
public struct JSONValueDecoder: Sendable {
    /// The options used to parse bytes given to `decode(_:from:)`.
    public var parsingOptions: JSONValue.ParsingOptions
    /// Values made available to the types being decoded through `Decoder.userInfo`.
    public var userInfo: [CodingUserInfoKey: any Sendable]

    /// Creates a decoder with default parsing options and no user info.
    public init() {
        parsingOptions = JSONValue.ParsingOptions()
        userInfo = [:]
    }

    /// Decodes a value of the given type from a parsed JSON value.
    ///
    /// - Parameters:
    ///   - type: The type to decode.
    ///   - value: The JSON value.
    /// - Returns: The decoded value.
    /// - Throws: `DecodingError` if the JSON does not match the type, or any error the type's
    ///   `init(from:)` throws.
    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        let decoder = JSONValueDecoderImpl(value: value, parent: .root, component: .empty, userInfo: userInfo)
        return try decoder.unwrap(value, as: T.self, parent: .root, component: .empty)
    }

    /// Parses UTF-8 JSON bytes and decodes a value of the given type from them.
    ///
    /// - Parameters:
    ///   - type: The type to decode.
    ///   - bytes: The UTF-8 encoded JSON text.
    /// - Returns: The decoded value.
    /// - Throws: ``JSONParseError`` if the bytes are not valid JSON (see ``parsingOptions``);
    ///   `DecodingError` if the JSON does not match the type.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        let value = try JSONValue(parsing: bytes, options: parsingOptions)
        return try decode(type, from: value)
    }
}

// MARK: - Coding paths

/// One step of a coding path, kept unboxed until a path is actually needed.
///
/// Not optional on purpose: `Optional<CodingPathComponent>` in generic code costs a metadata lookup.
enum CodingPathComponent {
    /// No step: the value is the container itself (the top level, or a single-value container).
    case empty
    /// A member of a keyed container.
    case key(any CodingKey)
    /// An element of an unkeyed container.
    case index(Int)

    /// The component as a coding key, if it is a step.
    var codingKey: (any CodingKey)? {
        switch self {
        case .empty: nil
        case .key(let key): key
        case .index(let index): IndexCodingKey(index: index)
        }
    }
}

/// A coding path as a chain to the root, shared by nested containers and materialized only on demand.
indirect enum CodingPathNode {
    /// The top-level value.
    case root
    /// A step below `parent`.
    case node(CodingPathComponent, parent: CodingPathNode)

    /// The path from the root, outermost first.
    var path: [any CodingKey] {
        var keys: [any CodingKey] = []
        var current = self
        while case .node(let component, let parent) = current {
            if let key = component.codingKey { keys.append(key) }
            current = parent
        }
        return keys.reversed()
    }

    /// The path from the root, followed by `component` if it is a step.
    func path(appending component: CodingPathComponent) -> [any CodingKey] {
        guard let key = component.codingKey else { return path }
        return path + [key]
    }

    /// This node extended by `component`, or itself if it is not a step.
    func appending(_ component: CodingPathComponent) -> CodingPathNode {
        if case .empty = component { return self }
        return .node(component, parent: self)
    }
}

/// The coding key of an array element: `intValue` is the index, `stringValue` is `Index N`.
struct IndexCodingKey: CodingKey {
    let stringValue: String
    let intValue: Int?

    init(index: Int) {
        stringValue = "Index \(index)"
        intValue = index
    }

    init?(stringValue: String) {
        return nil
    }

    init?(intValue: Int) {
        self.init(index: intValue)
    }
}

/// A plain string coding key, used for `super`.
struct StringCodingKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }

    init(stringValue: String) {
        self.stringValue = stringValue
    }

    init?(intValue: Int) {
        return nil
    }
}

// MARK: - Decoder

/// The `Decoder` handed to `init(from:)`; also its own single-value container.
///
/// One instance serves a whole decode: nested values swap `value` and the path in and out around
/// each `init(from:)` call instead of allocating a decoder per value.
final class JSONValueDecoderImpl {
    /// What changes as decoding descends into nested values.
    struct State {
        /// The value being decoded.
        var value: JSONValue
        /// The path of the container that holds `value`.
        var parent: CodingPathNode
        /// The step from `parent` to `value`; `.empty` at the top level.
        var component: CodingPathComponent
    }

    /// The current state, kept behind a pointer: as stored `var`s of a class, the three fields
    /// would cost a dynamic exclusivity check on each of the several accesses per nested value.
    private let state: UnsafeMutablePointer<State>
    /// The user info given to the ``JSONValueDecoder``.
    let sendableUserInfo: [CodingUserInfoKey: any Sendable]

    init(
        value: JSONValue,
        parent: CodingPathNode,
        component: CodingPathComponent,
        userInfo: [CodingUserInfoKey: any Sendable]
    ) {
        state = UnsafeMutablePointer<State>.allocate(capacity: 1)
        state.initialize(to: State(value: value, parent: parent, component: component))
        sendableUserInfo = userInfo
    }

    deinit {
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// The value being decoded.
    var value: JSONValue { state.pointee.value }
    /// The path of the container that holds `value`.
    var parent: CodingPathNode { state.pointee.parent }
    /// The step from `parent` to `value`; `.empty` at the top level.
    var component: CodingPathComponent { state.pointee.component }

    /// The path node of the current value, allocated when a container needs it.
    var node: CodingPathNode { parent.appending(component) }

    /// Decodes `type` from `value` found at `component` below `parent`.
    func unwrap<T: Decodable>(
        _ value: JSONValue,
        as type: T.Type,
        parent: CodingPathNode,
        component: CodingPathComponent
    ) throws -> T {
        if ObjectIdentifier(type) == ObjectIdentifier(Date.self) {
            return try Self.unwrapDate(value, as: type, path: parent.path(appending: component))
        }
        let saved = state.move()
        state.initialize(to: State(value: value, parent: parent, component: component))
        defer {
            state.deinitialize(count: 1)
            state.initialize(to: saved)
        }
        return try T(from: self)
    }
}

extension JSONValueDecoderImpl: Decoder {
    var codingPath: [any CodingKey] { parent.path(appending: component) }

    var userInfo: [CodingUserInfoKey: Any] {
        sendableUserInfo.mapValues { $0 }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else {
            throw Self.mismatch([String: Any].self, value, codingPath)
        }
        return KeyedDecodingContainer(JSONKeyedContainer<Key>(decoder: self, object: object, node: node))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else {
            throw Self.mismatch([Any].self, value, codingPath)
        }
        return JSONUnkeyedContainer(decoder: self, elements: elements, node: node)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        self
    }
}

extension JSONValueDecoderImpl: SingleValueDecodingContainer {
    func decodeNil() -> Bool { value.isNull }
    func decode(_ type: Bool.Type) throws -> Bool { try Self.unwrapBool(value, path: codingPath) }
    func decode(_ type: String.Type) throws -> String { try Self.unwrapString(value, path: codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try Self.unwrapDouble(value, path: codingPath) }
    func decode(_ type: Float.Type) throws -> Float { try Self.unwrapFloat(value, path: codingPath) }
    func decode(_ type: Int.Type) throws -> Int { try Self.unwrapInteger(value, path: codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try Self.unwrapInteger(value, path: codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try Self.unwrapInteger(value, path: codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try Self.unwrapInteger(value, path: codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try Self.unwrapInteger(value, path: codingPath) }
    func decode(_ type: Int128.Type) throws -> Int128 { try Self.unwrapInteger(value, path: codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try Self.unwrapInteger(value, path: codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try Self.unwrapInteger(value, path: codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try Self.unwrapInteger(value, path: codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try Self.unwrapInteger(value, path: codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try Self.unwrapInteger(value, path: codingPath) }
    func decode(_ type: UInt128.Type) throws -> UInt128 { try Self.unwrapInteger(value, path: codingPath) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try unwrap(value, as: T.self, parent: parent, component: component)
    }
}

// MARK: - Unwrapping

extension JSONValueDecoderImpl {
    static func unwrapBool(_ value: JSONValue, path: @autoclosure () -> [any CodingKey]) throws -> Bool {
        guard case .bool(let bool) = value else { throw mismatch(Bool.self, value, path()) }
        return bool
    }

    static func unwrapString(_ value: JSONValue, path: @autoclosure () -> [any CodingKey]) throws -> String {
        guard case .string(let string) = value else { throw mismatch(String.self, value, path()) }
        return string
    }

    static func unwrapDouble(_ value: JSONValue, path: @autoclosure () -> [any CodingKey]) throws -> Double {
        guard case .number(let number) = value else { throw mismatch(Double.self, value, path()) }
        let double = number.double
        guard double.isFinite else { throw doesNotFit(number, Double.self, path()) }
        return double
    }

    static func unwrapFloat(_ value: JSONValue, path: @autoclosure () -> [any CodingKey]) throws -> Float {
        guard case .number(let number) = value else { throw mismatch(Float.self, value, path()) }
        let float = number.float
        guard float.isFinite else { throw doesNotFit(number, Float.self, path()) }
        return float
    }

    static func unwrapInteger<T: FixedWidthInteger>(
        _ value: JSONValue,
        path: @autoclosure () -> [any CodingKey]
    ) throws -> T {
        guard case .number(let number) = value else { throw mismatch(T.self, value, path()) }
        if case .int(let int) = number.storage {
            guard let result = T(exactly: int) else { throw doesNotFit(number, T.self, path()) }
            return result
        }
        switch number.integralValue {
        case .notIntegral:
            throw DecodingError.typeMismatch(
                T.self,
                DecodingError.Context(
                    codingPath: path(),
                    debugDescription: "Expected to decode \(T.self) but found the non-integral number \(brief(number))."
                )
            )
        case .tooLarge:
            throw doesNotFit(number, T.self, path())
        case .integral(let negative, let digits):
            if digits == "0" { return 0 }
            guard let result = T(negative ? "-" + digits : digits) else { throw doesNotFit(number, T.self, path()) }
            return result
        }
    }

    /// Decodes a `Date` as `T`, which the caller has checked is `Date`.
    ///
    /// Kept out of line and free of `T?` in its signature: any `Optional<T>` in
    /// ``unwrap(_:as:parent:component:)`` would make Swift look up its metadata on every call.
    @inline(never)
    static func unwrapDate<T>(
        _ value: JSONValue,
        as type: T.Type,
        path: @autoclosure () -> [any CodingKey]
    ) throws -> T {
        guard let date = try unwrapDate(value, path: path()) as? T else {
            preconditionFailure("unwrapDate(_:as:path:) called with \(T.self), not Date.")
        }
        return date
    }

    static func unwrapDate(_ value: JSONValue, path: @autoclosure () -> [any CodingKey]) throws -> Date {
        switch value {
        case .number(let number):
            if case .int(let milliseconds) = number.storage { return Date(promptTimestamp: milliseconds) }
            let milliseconds = number.double
            guard milliseconds.isFinite else { throw doesNotFit(number, Date.self, path()) }
            return Date(timeIntervalSince1970: milliseconds / 1_000)
        case .string(let string):
            guard let date = ISO8601.date(from: string) else {
                throw DecodingError.dataCorrupted(
                    DecodingError.Context(
                        codingPath: path(),
                        debugDescription: "Expected a date as an ISO 8601 string such as 2024-04-05T19:34:38Z."
                    )
                )
            }
            return date
        default:
            throw mismatch(Date.self, value, path())
        }
    }

    /// A `valueNotFound` error for `null`, otherwise a `typeMismatch` naming what was found.
    static func mismatch(_ type: Any.Type, _ value: JSONValue, _ path: [any CodingKey]) -> DecodingError {
        let found: String
        switch value {
        case .null:
            return DecodingError.valueNotFound(
                type,
                DecodingError.Context(codingPath: path, debugDescription: "Expected \(type) but found null instead.")
            )
        case .bool: found = "a Boolean"
        case .number: found = "a number"
        case .string: found = "a string"
        case .array: found = "an array"
        case .object: found = "an object"
        }
        return DecodingError.typeMismatch(
            type,
            DecodingError.Context(
                codingPath: path,
                debugDescription: "Expected to decode \(type) but found \(found) instead."
            )
        )
    }

    /// A `dataCorrupted` error for a number outside the range of `type`.
    static func doesNotFit(_ number: JSONNumber, _ type: Any.Type, _ path: [any CodingKey]) -> DecodingError {
        DecodingError.dataCorrupted(
            DecodingError.Context(
                codingPath: path,
                debugDescription: "The number \(brief(number)) does not fit in \(type)."
            )
        )
    }

    /// The number's text, shortened if it is long.
    static func brief(_ number: JSONNumber) -> String {
        let text = number.description
        return text.utf8.count <= 40 ? text : String(text.prefix(40)) + "…"
    }
}

// MARK: - Keyed container

/// Reads an object's members; a repeated key resolves to its last member.
///
/// Small objects are searched backwards (see ``JSONObject/lastPosition(of:in:)``). A large object
/// gets a dictionary index after a few lookups, so decoding a big `[String: T]` stays linear.
///
/// A class rather than a struct: `KeyedDecodingContainer` boxes its container and calls it
/// through unspecialized generic code, which would copy (and retain) every field of a struct on
/// each call.
final class JSONKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    /// Objects with more members than this may get an index.
    static var indexableCount: Int { 32 }
    /// Lookups answered by scanning before a large object is indexed.
    static var scansBeforeIndexing: Int { 8 }

    let decoder: JSONValueDecoderImpl
    let members: [JSONObject.Member]
    let node: CodingPathNode
    /// Lookups answered by scanning so far; only counted for large objects.
    private var scans = 0
    /// Each key's last position, once built for a large object.
    private var positions: [String: Int]?

    init(decoder: JSONValueDecoderImpl, object: JSONObject, node: CodingPathNode) {
        self.decoder = decoder
        self.members = object.members
        self.node = node
    }

    /// The value of the last member named `key`.
    @inline(__always)
    func lookup(_ key: Key) -> JSONValue? {
        let name = key.stringValue
        let position =
            members.count > Self.indexableCount
            ? indexedPosition(of: name) : JSONObject.lastPosition(of: name, in: members)
        guard let position else { return nil }
        return members[position].value
    }

    /// The position of the last member named `name` in a large object, via the index once it is worth building.
    func indexedPosition(of name: String) -> Int? {
        guard let positions else {
            scans += 1
            if scans > Self.scansBeforeIndexing {
                var positions = [String: Int](minimumCapacity: members.count)
                for (position, member) in members.enumerated() { positions[member.key] = position }
                self.positions = positions
            }
            return JSONObject.lastPosition(of: name, in: members)
        }
        // The dictionary compares keys by canonical equivalence; confirm the code units match exactly.
        guard let position = positions[name] else { return nil }
        if JSONObject.keysMatch(members[position], name, length: name.utf8.count) { return position }
        return JSONObject.lastPosition(of: name, in: members)
    }

    var codingPath: [any CodingKey] { node.path }

    var allKeys: [Key] {
        var seen = Set<String>(minimumCapacity: members.count)
        var keys: [Key] = []
        for (position, member) in members.enumerated() {
            if !seen.insert(member.key).inserted {
                // A key equal to an earlier one: skip it only if the code units are the same too.
                let length = member.key.utf8.count
                let repeated = members[..<position].contains {
                    JSONObject.keysMatch($0, member.key, length: length)
                }
                if repeated { continue }
            }
            if let key = Key(stringValue: member.key) { keys.append(key) }
        }
        return keys
    }

    /// The value for `key`, or `keyNotFound`.
    func value(forKey key: Key) throws -> JSONValue {
        guard let value = lookup(key) else {
            throw DecodingError.keyNotFound(
                key,
                DecodingError.Context(
                    codingPath: codingPath,
                    debugDescription: "No value associated with key \"\(key.stringValue)\"."
                )
            )
        }
        return value
    }

    /// The value for `key` unless it is missing or `null`.
    func presentValue(forKey key: Key) -> JSONValue? {
        guard let value = lookup(key), !value.isNull else { return nil }
        return value
    }

    /// The coding path of the member named `key`.
    func path(_ key: Key) -> [any CodingKey] { node.path(appending: .key(key)) }

    func contains(_ key: Key) -> Bool { lookup(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool { try value(forKey: key).isNull }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        try JSONValueDecoderImpl.unwrapBool(value(forKey: key), path: path(key))
    }

    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        try JSONValueDecoderImpl.unwrapString(value(forKey: key), path: path(key))
    }

    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        try JSONValueDecoderImpl.unwrapDouble(value(forKey: key), path: path(key))
    }

    func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
        try JSONValueDecoderImpl.unwrapFloat(value(forKey: key), path: path(key))
    }

    func decode(_ type: Int.Type, forKey key: Key) throws -> Int {
        try JSONValueDecoderImpl.unwrapInteger(value(forKey: key), path: path(key))
    }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 {
        try JSONValueDecoderImpl.unwrapInteger(value(forKey: key), path: path(key))
    }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 {
        try JSONValueDecoderImpl.unwrapInteger(value(forKey: key), path: path(key))
    }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 {
        try JSONValueDecoderImpl.unwrapInteger(value(forKey: key), path: path(key))
    }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 {
        try JSONValueDecoderImpl.unwrapInteger(value(forKey: key), path: path(key))
    }
    func decode(_ type: Int128.Type, forKey key: Key) throws -> Int128 {
        try JSONValueDecoderImpl.unwrapInteger(value(forKey: key), path: path(key))
    }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt {
        try JSONValueDecoderImpl.unwrapInteger(value(forKey: key), path: path(key))
    }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 {
        try JSONValueDecoderImpl.unwrapInteger(value(forKey: key), path: path(key))
    }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 {
        try JSONValueDecoderImpl.unwrapInteger(value(forKey: key), path: path(key))
    }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 {
        try JSONValueDecoderImpl.unwrapInteger(value(forKey: key), path: path(key))
    }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 {
        try JSONValueDecoderImpl.unwrapInteger(value(forKey: key), path: path(key))
    }
    func decode(_ type: UInt128.Type, forKey key: Key) throws -> UInt128 {
        try JSONValueDecoderImpl.unwrapInteger(value(forKey: key), path: path(key))
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decoder.unwrap(value(forKey: key), as: T.self, parent: node, component: .key(key))
    }

    // One lookup instead of the default `contains` + `decodeNil` + `decode`. Each integer width is
    // spelled out so the conversion is specialized: a generic helper inside this generic type is not.

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        guard let value = presentValue(forKey: key) else { return nil }
        return try JSONValueDecoderImpl.unwrapBool(value, path: path(key))
    }

    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        guard let value = presentValue(forKey: key) else { return nil }
        return try JSONValueDecoderImpl.unwrapString(value, path: path(key))
    }

    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        guard let value = presentValue(forKey: key) else { return nil }
        return try JSONValueDecoderImpl.unwrapDouble(value, path: path(key))
    }

    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? {
        guard let value = presentValue(forKey: key) else { return nil }
        return try JSONValueDecoderImpl.unwrapFloat(value, path: path(key))
    }

    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        guard let value = presentValue(forKey: key) else { return nil }
        return try JSONValueDecoderImpl.unwrapInteger(value, path: path(key))
    }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? {
        guard let value = presentValue(forKey: key) else { return nil }
        return try JSONValueDecoderImpl.unwrapInteger(value, path: path(key))
    }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? {
        guard let value = presentValue(forKey: key) else { return nil }
        return try JSONValueDecoderImpl.unwrapInteger(value, path: path(key))
    }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? {
        guard let value = presentValue(forKey: key) else { return nil }
        return try JSONValueDecoderImpl.unwrapInteger(value, path: path(key))
    }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? {
        guard let value = presentValue(forKey: key) else { return nil }
        return try JSONValueDecoderImpl.unwrapInteger(value, path: path(key))
    }
    func decodeIfPresent(_ type: Int128.Type, forKey key: Key) throws -> Int128? {
        guard let value = presentValue(forKey: key) else { return nil }
        return try JSONValueDecoderImpl.unwrapInteger(value, path: path(key))
    }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? {
        guard let value = presentValue(forKey: key) else { return nil }
        return try JSONValueDecoderImpl.unwrapInteger(value, path: path(key))
    }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? {
        guard let value = presentValue(forKey: key) else { return nil }
        return try JSONValueDecoderImpl.unwrapInteger(value, path: path(key))
    }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? {
        guard let value = presentValue(forKey: key) else { return nil }
        return try JSONValueDecoderImpl.unwrapInteger(value, path: path(key))
    }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? {
        guard let value = presentValue(forKey: key) else { return nil }
        return try JSONValueDecoderImpl.unwrapInteger(value, path: path(key))
    }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? {
        guard let value = presentValue(forKey: key) else { return nil }
        return try JSONValueDecoderImpl.unwrapInteger(value, path: path(key))
    }
    func decodeIfPresent(_ type: UInt128.Type, forKey key: Key) throws -> UInt128? {
        guard let value = presentValue(forKey: key) else { return nil }
        return try JSONValueDecoderImpl.unwrapInteger(value, path: path(key))
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = presentValue(forKey: key) else { return nil }
        return try decoder.unwrap(value, as: T.self, parent: node, component: .key(key))
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let value = try value(forKey: key)
        guard case .object(let object) = value else {
            throw JSONValueDecoderImpl.mismatch([String: Any].self, value, path(key))
        }
        let nested = JSONKeyedContainer<NestedKey>(decoder: decoder, object: object, node: node.appending(.key(key)))
        return KeyedDecodingContainer(nested)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        let value = try value(forKey: key)
        guard case .array(let elements) = value else {
            throw JSONValueDecoderImpl.mismatch([Any].self, value, path(key))
        }
        return JSONUnkeyedContainer(decoder: decoder, elements: elements, node: node.appending(.key(key)))
    }

    func superDecoder() throws -> any Decoder {
        let key = StringCodingKey(stringValue: "super")
        return JSONValueDecoderImpl(
            value: lookup(name: key.stringValue) ?? .null,
            parent: node,
            component: .key(key),
            userInfo: decoder.sendableUserInfo
        )
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        JSONValueDecoderImpl(
            value: lookup(key) ?? .null,
            parent: node,
            component: .key(key),
            userInfo: decoder.sendableUserInfo
        )
    }

    /// The value of the last member named `name`.
    func lookup(name: String) -> JSONValue? {
        JSONObject.lastPosition(of: name, in: members).map { members[$0].value }
    }
}

// MARK: - Unkeyed container

/// Reads an array's elements in order.
struct JSONUnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: JSONValueDecoderImpl
    let elements: [JSONValue]
    let node: CodingPathNode
    private(set) var currentIndex = 0

    init(decoder: JSONValueDecoderImpl, elements: [JSONValue], node: CodingPathNode) {
        self.decoder = decoder
        self.elements = elements
        self.node = node
    }

    var codingPath: [any CodingKey] { node.path }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    /// The coding path of the current element.
    var elementPath: [any CodingKey] { node.path(appending: .index(currentIndex)) }

    /// The current element, or `valueNotFound` at the end.
    func next(_ type: Any.Type) throws -> JSONValue {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                type,
                DecodingError.Context(
                    codingPath: elementPath,
                    debugDescription: "Expected \(type) but the array has only \(elements.count) elements."
                )
            )
        }
        return elements[currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        guard try next(Any?.self).isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool {
        let result = try JSONValueDecoderImpl.unwrapBool(next(type), path: elementPath)
        currentIndex += 1
        return result
    }

    mutating func decode(_ type: String.Type) throws -> String {
        let result = try JSONValueDecoderImpl.unwrapString(next(type), path: elementPath)
        currentIndex += 1
        return result
    }

    mutating func decode(_ type: Double.Type) throws -> Double {
        let result = try JSONValueDecoderImpl.unwrapDouble(next(type), path: elementPath)
        currentIndex += 1
        return result
    }

    mutating func decode(_ type: Float.Type) throws -> Float {
        let result = try JSONValueDecoderImpl.unwrapFloat(next(type), path: elementPath)
        currentIndex += 1
        return result
    }

    mutating func decode(_ type: Int.Type) throws -> Int { try integer() }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try integer() }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try integer() }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try integer() }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try integer() }
    mutating func decode(_ type: Int128.Type) throws -> Int128 { try integer() }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try integer() }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try integer() }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try integer() }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try integer() }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try integer() }
    mutating func decode(_ type: UInt128.Type) throws -> UInt128 { try integer() }

    mutating func integer<T: FixedWidthInteger>() throws -> T {
        let result: T = try JSONValueDecoderImpl.unwrapInteger(next(T.self), path: elementPath)
        currentIndex += 1
        return result
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let result = try decoder.unwrap(next(type), as: T.self, parent: node, component: .index(currentIndex))
        currentIndex += 1
        return result
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let value = try next(KeyedDecodingContainer<NestedKey>.self)
        guard case .object(let object) = value else {
            throw JSONValueDecoderImpl.mismatch([String: Any].self, value, elementPath)
        }
        let nested = JSONKeyedContainer<NestedKey>(
            decoder: decoder,
            object: object,
            node: node.appending(.index(currentIndex))
        )
        currentIndex += 1
        return KeyedDecodingContainer(nested)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let value = try next((any UnkeyedDecodingContainer).self)
        guard case .array(let elements) = value else {
            throw JSONValueDecoderImpl.mismatch([Any].self, value, elementPath)
        }
        let nested = JSONUnkeyedContainer(
            decoder: decoder,
            elements: elements,
            node: node.appending(.index(currentIndex))
        )
        currentIndex += 1
        return nested
    }

    mutating func superDecoder() throws -> any Decoder {
        let value = try next((any Decoder).self)
        let decoder = JSONValueDecoderImpl(
            value: value,
            parent: node,
            component: .index(currentIndex),
            userInfo: self.decoder.sendableUserInfo
        )
        currentIndex += 1
        return decoder
    }
}
