/// A JSON object: its members in document order, with duplicate keys kept.
///
/// RFC 8259 leaves duplicate keys to the implementation. `JSONObject` keeps every member, so
/// nothing that was signed or delivered is silently dropped, and serializing gives back the same
/// members in the same order. Lookup by key (``subscript(_:)``) returns the **last** member with
/// that key—the same choice JavaScript, Jackson and Foundation make—and ``values(forKey:)``
/// returns all of them.
///
/// Keys are compared by their exact UTF-8 code units, as RFC 8259 §8.3 recommends, not by
/// Unicode canonical equivalence: `"\u{E9}"` (é) and `"e\u{301}"` (e + combining acute) are
/// different keys.
///
/// Equality compares members in order: `{"a":1,"b":2}` and `{"b":2,"a":1}` are different values.
/// Like `String` equality, it treats canonically equivalent keys and strings as equal.
///
/// ```swift
/// let object: JSONObject = ["id": 1, "tag": "a", "tag": "b"]
/// object["tag"]                   // "b"
/// object.values(forKey: "tag")    // ["a", "b"]
/// object.keys                     // ["id", "tag", "tag"]
/// ```
public struct JSONObject: Sendable, Hashable, Sequence {
    /// One member of an object: a key and its value.
    public struct Member: Sendable, Hashable {
        /// The member's name.
        public var key: String {
            didSet { keyIsASCII = JSONObject.isASCII(key) }
        }
        /// The member's value.
        public var value: JSONValue
        /// Whether `key` is all ASCII, which lets lookups trust `==` (see ``JSONObject/keysMatch(_:_:length:)``).
        private(set) var keyIsASCII: Bool

        /// Creates a member.
        ///
        /// - Parameters:
        ///   - key: The member's name.
        ///   - value: The member's value.
        public init(key: String, value: JSONValue) {
            self.init(key: key, value: value, keyIsASCII: JSONObject.isASCII(key))
        }

        /// Creates a member whose key the parser has already classified.
        init(key: String, value: JSONValue, keyIsASCII: Bool) {
            self.key = key
            self.value = value
            self.keyIsASCII = keyIsASCII
        }
    }

    /// The members in document order, duplicates included.
    public var members: [Member]

    /// Creates an object from members, keeping their order and any duplicate keys.
    ///
    /// - Parameter members: The members, in order.
    public init(members: [Member] = []) {
        self.members = members
    }

    /// The value of the last member named `key`, or `nil` if there is none.
    ///
    /// The last member wins when a key is repeated; use ``values(forKey:)`` to see every one.
    public subscript(key: String) -> JSONValue? {
        guard let position = Self.lastPosition(of: key, in: members) else { return nil }
        return members[position].value
    }

    /// The position of the last member named `key`, scanning backwards.
    @inline(__always)
    static func lastPosition(of key: String, in members: [Member]) -> Int? {
        let length = key.utf8.count
        var position = members.count
        while position > 0 {
            position -= 1
            if keysMatch(members[position], key, length: length) { return position }
        }
        return nil
    }

    /// Whether a member's key has the same UTF-8 code units as `key`, as RFC 8259 §8.3 compares names.
    ///
    /// Unlike `==`, this tells apart canonically equivalent spellings such as `"\u{E9}"` and
    /// `"e\u{301}"`. Cheap checks come first: the length, then `==` (which is fast for equal
    /// strings). When the lengths match and either side is ASCII, `==` already implies identical
    /// bytes, since no non-ASCII scalar canonically decomposes into ASCII of the same length.
    ///
    /// - Parameters:
    ///   - member: The member whose key is compared.
    ///   - key: The key looked up.
    ///   - length: `key.utf8.count`, computed once by the caller.
    /// - Returns: Whether the keys are the same code units.
    @inline(__always)
    static func keysMatch(_ member: Member, _ key: String, length: Int) -> Bool {
        let candidate = member.key
        guard candidate.utf8.count == length, candidate == key else { return false }
        return member.keyIsASCII || candidate.utf8.elementsEqual(key.utf8)
    }

    /// Whether every code unit of `string` is ASCII; reads contiguous storage directly when it can.
    static func isASCII(_ string: String) -> Bool {
        let contiguous = string.utf8.withContiguousStorageIfAvailable { utf8 in
            utf8.allSatisfy { $0 < 0x80 }
        }
        return contiguous ?? string.utf8.allSatisfy { $0 < 0x80 }
    }

    /// The values of every member named `key`, in document order.
    ///
    /// - Parameter key: The member name.
    /// - Returns: The values, empty if no member has that name.
    public func values(forKey key: String) -> [JSONValue] {
        let length = key.utf8.count
        return members.filter { Self.keysMatch($0, key, length: length) }.map(\.value)
    }

    /// Every member name in document order, including repeated names.
    public var keys: [String] { members.map(\.key) }

    /// The number of members, counting each duplicate.
    public var count: Int { members.count }

    /// Whether the object has no members.
    public var isEmpty: Bool { members.isEmpty }

    /// Appends a member after the existing ones, keeping any earlier member with the same key.
    ///
    /// - Parameters:
    ///   - key: The member name.
    ///   - value: The member value.
    public mutating func append(key: String, value: JSONValue) {
        members.append(Member(key: key, value: value))
    }

    /// Returns an iterator over the members in document order.
    ///
    /// - Returns: The iterator.
    public func makeIterator() -> IndexingIterator<[Member]> {
        members.makeIterator()
    }

    /// The number of members; lets `Array(object)` allocate once.
    public var underestimatedCount: Int { members.count }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    /// Creates an object from a literal, keeping its order and any repeated keys.
    ///
    /// - Parameter elements: The key–value pairs, in order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        members = elements.map { Member(key: $0.0, value: $0.1) }
    }
}
