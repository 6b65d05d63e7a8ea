#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// A customer (contact) of the business, as Prompt.io documents it.
///
/// A customer has the ``User`` fields (its ``userType`` is `CUSTOMER`) plus channels, tags,
/// identities, contact lists and global opt-out state. Every field is optional, and the
/// original object stays readable through ``json``.
public struct Customer: Sendable, Hashable {
    /// The customer's id.
    public var id: Int64?
    /// The name shown in Prompt.io.
    public var displayName: String?
    /// When the customer was created, in milliseconds since the Unix epoch.
    public var createdTimestamp: Int64?
    /// When the customer was created, as ISO 8601 text.
    public var createdDate: String?
    /// The user type; `CUSTOMER` for customers.
    public var userType: UserType?
    /// The channels the customer can be reached on (SMS numbers, …).
    public var channels: [Channel]?
    /// The tags applied to the customer.
    public var tags: [Tag]?
    /// Whether the customer opted out of all messages.
    public var globalOptOut: Bool?
    /// When the customer opted out, in milliseconds since the Unix epoch.
    public var globalOptOutTimestamp: Int64?
    /// When the customer opted out, as ISO 8601 text.
    public var globalOptOutDate: String?
    /// The customer's identities on each channel.
    public var identities: [Identity]?
    /// The contact lists the customer belongs to.
    public var contactLists: [ContactList]?
    /// The object this customer was read from, with every field, modelled or not.
    public var json: JSONObject

    /// Reads a customer from a JSON object, leniently.
    ///
    /// - Parameter json: The customer object.
    public init(json: JSONObject) {
        self.id = json.int64("id")
        self.displayName = json.string("displayName")
        self.createdTimestamp = json.int64("createdTimestamp")
        self.createdDate = json.string("createdDate")
        self.userType = json.string("userType").map(UserType.init(rawValue:))
        self.channels = json.objects("channels", Channel.init(json:))
        self.tags = json.objects("tags", Tag.init(json:))
        self.globalOptOut = json.bool("globalOptOut")
        self.globalOptOutTimestamp = json.int64("globalOptOutTimestamp")
        self.globalOptOutDate = json.string("globalOptOutDate")
        self.identities = json.objects("identities", Identity.init(json:))
        self.contactLists = json.objects("contactLists", ContactList.init(json:))
        self.json = json
    }

    /// When the customer was created: from ``createdTimestamp``, else from ``createdDate``.
    public var created: Date? {
        createdTimestamp.map(Date.init(promptTimestamp:)) ?? json.date("createdDate")
    }

    /// When the customer opted out: from ``globalOptOutTimestamp``, else ``globalOptOutDate``.
    public var optedOut: Date? {
        globalOptOutTimestamp.map(Date.init(promptTimestamp:)) ?? json.date("globalOptOutDate")
    }

    /// The customer's SMS phone numbers, from its channels.
    public var phoneNumbers: [String] {
        (channels ?? []).compactMap { $0.identityType == .sms ? $0.key : nil }
    }

    /// Finds the customer in an event body: under a `customer` key, or at the top level.
    ///
    /// Prompt.io does not document where the customer sits, so both are tried. The top level
    /// counts only when it carries at least one customer field besides `orgId`.
    ///
    /// - Parameter body: The event's top-level object.
    /// - Returns: The customer, or `nil` when the body has none.
    static func find(in body: JSONObject) -> Customer? {
        if let nested = body.object("customer") { return Customer(json: nested) }
        guard body.members.contains(where: { topLevelKeys.contains($0.key) }) else { return nil }
        return Customer(json: body)
    }

    /// Fields that mark a top-level object as a customer.
    private static let topLevelKeys: Set<String> = [
        "id", "displayName", "userType", "channels", "globalOptOut", "identities", "contactLists",
    ]
}
