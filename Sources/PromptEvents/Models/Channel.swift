/// A way to reach a customer, such as an SMS phone number.
public struct Channel: Sendable, Hashable {
    /// The channel's kind; unknown values are kept.
    public var identityType: IdentityType?
    /// The phone number or channel identifier.
    public var key: String?
    /// The object this channel was read from.
    public var json: JSONObject

    /// Reads a channel from a JSON object, leniently.
    ///
    /// - Parameter json: The channel object.
    public init(json: JSONObject) {
        self.identityType = json.string("identityType").map(IdentityType.init(rawValue:))
        self.key = json.string("key")
        self.json = json
    }
}

/// A customer's identity on one channel.
///
/// Prompt.io documents `type` and one more string field, probably `key`; read anything else
/// through ``json``.
public struct Identity: Sendable, Hashable {
    /// The identity's kind; unknown values are kept.
    public var type: IdentityType?
    /// The identifier on that channel (field name inferred, not documented).
    public var key: String?
    /// The object this identity was read from.
    public var json: JSONObject

    /// Reads an identity from a JSON object, leniently.
    ///
    /// - Parameter json: The identity object.
    public init(json: JSONObject) {
        self.type = json.string("type").map(IdentityType.init(rawValue:))
        self.key = json.string("key")
        self.json = json
    }
}
