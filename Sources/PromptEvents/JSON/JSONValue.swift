/// Any JSON value, parsed once and kept exactly.
///
/// A `JSONValue` keeps what a generic decoder would lose: object members stay in document order
/// with duplicate keys (see ``JSONObject``), and numbers keep their exact text (see
/// ``JSONNumber``), so `1.0` is distinguishable from `1` and integers beyond 64 bits are not
/// rounded. Parse with `JSONValue(parsing:)`, read with the accessors below, and decode
/// `Decodable` types with ``JSONValueDecoder``.
///
/// ```swift
/// let event = try JSONValue(parsing: body)
/// let orgID = event["orgId"]?.int64
/// let name = event["customer"]?["displayName"]?.string
/// ```
///
/// The accessors never trap: each returns `nil` when the value has a different type.
public enum JSONValue: Sendable, Hashable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, kept exactly as written.
    case number(JSONNumber)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object, members in order with duplicates kept.
    case object(JSONObject)

    /// The value of the last member named `key`, or `nil` if this is not an object or has no such member.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let object) = self else { return nil }
        return object[key]
    }

    /// The element at `index`, or `nil` if this is not an array or the index is out of bounds.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// The string, if this is a string.
    public var string: String? {
        guard case .string(let string) = self else { return nil }
        return string
    }

    /// The integer, if this is a number written as a plain integer within `Int64` range.
    ///
    /// Strict on purpose: `1.5`, `1.0`, `1e3` and `9223372036854775808` give `nil`. See ``JSONNumber/int64``.
    public var int64: Int64? {
        guard case .number(let number) = self else { return nil }
        return number.int64
    }

    /// The integer, if this is a number written as a plain integer within `UInt64` range.
    ///
    /// Strict on purpose: `1.0` and `-1` give `nil`. See ``JSONNumber/uint64``.
    public var uint64: UInt64? {
        guard case .number(let number) = self else { return nil }
        return number.uint64
    }

    /// The nearest `Double`, if this is a number (any number; `1e400` gives `+infinity`).
    public var double: Double? {
        guard case .number(let number) = self else { return nil }
        return number.double
    }

    /// The exact number, if this is a number.
    public var number: JSONNumber? {
        guard case .number(let number) = self else { return nil }
        return number
    }

    /// The Boolean, if this is `true` or `false`.
    public var bool: Bool? {
        guard case .bool(let bool) = self else { return nil }
        return bool
    }

    /// The elements, if this is an array.
    public var array: [JSONValue]? {
        guard case .array(let elements) = self else { return nil }
        return elements
    }

    /// The object, if this is an object.
    public var object: JSONObject? {
        guard case .object(let object) = self else { return nil }
        return object
    }

    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension JSONValue: CustomStringConvertible, CustomDebugStringConvertible {
    /// The compact serialization, as produced by ``serialized(pretty:sortedKeys:)``: what
    /// `print(value)` shows.
    public var description: String { serialized() }

    /// The value's case and its compact serialization, for `debugPrint` and the debugger, for
    /// example `JSONValue.number(42)`.
    public var debugDescription: String {
        let name =
            switch self {
            case .null: "null"
            case .bool: "bool"
            case .number: "number"
            case .string: "string"
            case .array: "array"
            case .object: "object"
            }
        return "JSONValue.\(name)(\(serialized()))"
    }
}

extension JSONObject: CustomStringConvertible, CustomDebugStringConvertible {
    /// The compact JSON text of the object, members in their order: what `print(event.json)` shows.
    public var description: String { JSONValue.object(self).serialized() }

    /// The member count and the compact JSON text, for `debugPrint` and the debugger.
    public var debugDescription: String { "JSONObject(\(count) members: \(description))" }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    /// Creates `null`.
    ///
    /// - Parameter nilLiteral: The literal `nil`.
    public init(nilLiteral: ()) {
        self = .null
    }

    /// Creates a Boolean.
    ///
    /// - Parameter value: The Boolean.
    public init(booleanLiteral value: Bool) {
        self = .bool(value)
    }

    /// Creates an integer number.
    ///
    /// - Parameter value: The integer.
    public init(integerLiteral value: Int64) {
        self = .number(JSONNumber(value))
    }

    /// Creates a number from a floating-point literal; `1.0` is kept as `1.0`.
    ///
    /// - Parameter value: The value; must be finite.
    public init(floatLiteral value: Double) {
        self = .number(JSONNumber(floatLiteral: value))
    }

    /// Creates a string.
    ///
    /// - Parameter value: The string.
    public init(stringLiteral value: String) {
        self = .string(value)
    }

    /// Creates an array.
    ///
    /// - Parameter elements: The elements.
    public init(arrayLiteral elements: JSONValue...) {
        self = .array(elements)
    }

    /// Creates an object, keeping the literal's order and any repeated keys.
    ///
    /// - Parameter elements: The key–value pairs, in order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(members: elements.map { JSONObject.Member(key: $0.0, value: $0.1) }))
    }
}
