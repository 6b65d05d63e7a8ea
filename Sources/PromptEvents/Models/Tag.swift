/// A tag applied to a customer.
///
/// Prompt.io documents six fields without naming them all; the names below are inferred
/// (`id`, `name`, `apiId`). Read the others through ``json``.
public struct Tag: Sendable, Hashable {
    /// The tag's id (inferred name).
    public var id: Int64?
    /// The tag's name (inferred name).
    public var name: String?
    /// The tag's API identifier (inferred name).
    public var apiId: String?
    /// The object this tag was read from.
    public var json: JSONObject

    /// Reads a tag from a JSON object, leniently.
    ///
    /// - Parameter json: The tag object.
    public init(json: JSONObject) {
        self.id = json.int64("id")
        self.name = json.string("name")
        self.apiId = json.string("apiId")
        self.json = json
    }
}

/// A contact list a customer belongs to.
///
/// The field names are inferred from Prompt.io's specification page, not documented; every
/// field is optional and the full object is in ``json``.
public struct ContactList: Sendable, Hashable {
    /// The list's id.
    public var id: Int64?
    /// The list's name.
    public var name: String?
    /// The list's API identifier.
    public var apiId: String?
    /// The list's icon.
    public var icon: String?
    /// The list's description.
    public var description: String?
    /// A link to the list in an external system.
    public var externalUrl: String?
    /// Where the list comes from, for example `PROMPT` or `NGP_VAN`.
    public var type: String?
    /// The object this list was read from.
    public var json: JSONObject

    /// Reads a contact list from a JSON object, leniently.
    ///
    /// - Parameter json: The contact list object.
    public init(json: JSONObject) {
        self.id = json.int64("id")
        self.name = json.string("name")
        self.apiId = json.string("apiId")
        self.icon = json.string("icon")
        self.description = json.string("description")
        self.externalUrl = json.string("externalUrl")
        self.type = json.string("type")
        self.json = json
    }
}
