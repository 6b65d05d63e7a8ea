#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// A Prompt.io user: a team member, a customer, a bot or the system.
///
/// Every field is optional: a field that is absent, `null` or of an unexpected type is `nil`,
/// and the original value stays readable through ``json``.
public struct User: Sendable, Hashable {
    /// The user's id.
    public var id: Int64?
    /// The name shown in Prompt.io.
    public var displayName: String?
    /// When the user was created, in milliseconds since the Unix epoch.
    public var createdTimestamp: Int64?
    /// When the user was created, as ISO 8601 text.
    public var createdDate: String?
    /// The user's role; unknown values are kept.
    public var userType: UserType?
    /// The object this user was read from, with every field, modelled or not.
    public var json: JSONObject

    /// Reads a user from a JSON object, leniently.
    ///
    /// - Parameter json: The object, for example `event.json["user"]?.object`.
    public init(json: JSONObject) {
        self.id = json.int64("id")
        self.displayName = json.string("displayName")
        self.createdTimestamp = json.int64("createdTimestamp")
        self.createdDate = json.string("createdDate")
        self.userType = json.string("userType").map(UserType.init(rawValue:))
        self.json = json
    }

    /// When the user was created: from ``createdTimestamp``, else from ``createdDate``.
    public var created: Date? {
        createdTimestamp.map(Date.init(promptTimestamp:)) ?? json.date("createdDate")
    }
}
