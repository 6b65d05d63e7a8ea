/// The header fields of an HTTP request, in the order received, with duplicates kept.
///
/// Lookup is case-insensitive (`headers["content-type"]` finds `Content-Type`), while each
/// field keeps the spelling it arrived with. Nothing is merged or dropped, so what was signed,
/// journaled or forwarded is exactly what was received.
///
/// ```swift
/// var headers = Headers()
/// headers.append(name: "Prompt-EventType", value: "message/added")
/// headers["prompt-eventtype"]  // "message/added"
/// ```
public struct Headers: Sendable, Hashable {
    /// One header field: a name as received and its value.
    public struct Field: Sendable, Hashable {
        /// The name as it was received, for example `X-Hub-Signature`.
        public let name: String
        /// The value as given (the server's parser strips surrounding whitespace, RFC 9112 §5).
        public let value: String
        /// The name folded to ASCII lower case, computed once for lookups.
        let canonicalName: String

        /// Creates a field.
        ///
        /// - Parameters:
        ///   - name: The field name; lookups ignore its ASCII case.
        ///   - value: The field value.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
            self.canonicalName = Headers.canonical(name)
        }

        /// Whether two fields are equal: the same name ignoring ASCII case, and the same value.
        public static func == (lhs: Field, rhs: Field) -> Bool {
            lhs.canonicalName == rhs.canonicalName && lhs.value == rhs.value
        }

        /// Hashes the canonical name and the value.
        public func hash(into hasher: inout Hasher) {
            hasher.combine(canonicalName)
            hasher.combine(value)
        }
    }

    /// The fields in the order they were received.
    public private(set) var fields: [Field]

    /// Creates an empty set of headers.
    public init() {
        fields = []
    }

    /// Creates headers from name–value pairs, keeping their order.
    ///
    /// - Parameter pairs: The fields, in order.
    public init(_ pairs: [(String, String)]) {
        fields = pairs.map { Field(name: $0.0, value: $0.1) }
    }

    /// Appends a field after the existing ones, keeping any earlier field of the same name.
    ///
    /// - Parameters:
    ///   - name: The field name.
    ///   - value: The field value.
    public mutating func append(name: String, value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// Removes every field with the given name (ignoring ASCII case).
    ///
    /// - Parameter name: The field name to remove.
    public mutating func removeAll(named name: String) {
        let canonical = Headers.canonical(name)
        fields.removeAll { $0.canonicalName == canonical }
    }

    /// Replaces every field with the given name by a single field with `value`.
    ///
    /// - Parameters:
    ///   - name: The field name.
    ///   - value: The new value.
    public mutating func replaceOrAdd(name: String, value: String) {
        removeAll(named: name)
        append(name: name, value: value)
    }

    /// Removes every field whose name, ignoring ASCII case, is one of `names`.
    ///
    /// Each field's folded name was computed once, when it was made: nothing is lowercased here.
    ///
    /// - Parameter names: The field names to remove.
    public mutating func removeAll(namedAnyOf names: Set<CanonicalName>) {
        guard !names.isEmpty else { return }
        fields.removeAll { names.contains(CanonicalName(folded: $0.canonicalName)) }
    }

    /// A field name folded to ASCII lower case once, for repeated lookups such as
    /// ``Headers/removeAll(namedAnyOf:)``.
    public struct CanonicalName: Sendable, Hashable {
        let folded: String

        fileprivate init(folded: String) { self.folded = folded }

        /// Folds `name` to ASCII lower case.
        ///
        /// - Parameter name: A field name in any case, for example `Authorization`.
        public init(_ name: String) { folded = Headers.canonical(name) }
    }

    /// The value of the first field named `name`, ignoring ASCII case, or `nil`.
    public subscript(name: String) -> String? {
        let canonical = Headers.canonical(name)
        return fields.first { $0.canonicalName == canonical }?.value
    }

    /// Every value of the fields named `name`, in order, ignoring ASCII case.
    ///
    /// - Parameter name: The field name.
    /// - Returns: The values, possibly empty.
    public func values(for name: String) -> [String] {
        let canonical = Headers.canonical(name)
        return fields.compactMap { $0.canonicalName == canonical ? $0.value : nil }
    }

    /// Whether at least one field is named `name`, ignoring ASCII case.
    ///
    /// - Parameter name: The field name.
    /// - Returns: `true` when present.
    public func contains(_ name: String) -> Bool {
        let canonical = Headers.canonical(name)
        return fields.contains { $0.canonicalName == canonical }
    }

    /// Folds ASCII upper-case letters to lower case; other bytes are kept as they are.
    static func canonical(_ name: String) -> String {
        let utf8 = name.utf8
        guard utf8.contains(where: { $0 &- UInt8(ascii: "A") < 26 }) else { return name }
        return String(unsafeUninitializedCapacity: utf8.count) { buffer in
            var count = 0
            for byte in utf8 {
                buffer[count] = byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte
                count += 1
            }
            return count
        }
    }
}

extension Headers: Sequence {
    /// Iterates over the fields in the order received.
    ///
    /// - Returns: An iterator over ``Field`` values.
    public func makeIterator() -> IndexingIterator<[Field]> {
        fields.makeIterator()
    }

    /// The number of fields, duplicates included.
    public var count: Int { fields.count }

    /// Whether there are no fields.
    public var isEmpty: Bool { fields.isEmpty }
}

extension Headers: ExpressibleByDictionaryLiteral {
    /// Creates headers from a literal, keeping the literal's order.
    ///
    /// - Parameter elements: The name–value pairs.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }
}
