/// The role of a Prompt.io user: an open set, so values Prompt.io adds later are kept, not rejected.
public struct UserType: Sendable, Hashable, RawRepresentable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The value as sent, for example `CUSTOMER`.
    public let rawValue: String

    /// Creates a user type from its wire value.
    ///
    /// - Parameter rawValue: The value as sent.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Creates a user type from a string literal.
    ///
    /// - Parameter value: The value as sent.
    public init(stringLiteral value: String) { self.rawValue = value }

    /// A member of the business's team.
    public static let teamMember: UserType = "TEAM_MEMBER"
    /// A customer (contact) of the business.
    public static let customer: UserType = "CUSTOMER"
    /// An automated bot.
    public static let bot: UserType = "BOT"
    /// Prompt.io itself.
    public static let system: UserType = "SYSTEM"
    /// A troubleshooting account.
    public static let troubleshooting: UserType = "TROUBLESHOOTING"

    /// The value as sent.
    public var description: String { rawValue }
}

/// The kind of a channel or identity (SMS, Facebook, …): an open set, unknown values are kept.
public struct IdentityType: Sendable, Hashable, RawRepresentable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The value as sent, for example `SMS`.
    public let rawValue: String

    /// Creates an identity type from its wire value.
    ///
    /// - Parameter rawValue: The value as sent.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Creates an identity type from a string literal.
    ///
    /// - Parameter value: The value as sent.
    public init(stringLiteral value: String) { self.rawValue = value }

    /// Text messages; the key is a phone number.
    public static let sms: IdentityType = "SMS"
    /// Facebook Messenger.
    public static let facebook: IdentityType = "FB"
    /// An identifier from the business's own systems.
    public static let customerExternal: IdentityType = "CUSTOMER_EXTERNAL"
    /// The website live chat.
    public static let liveChat: IdentityType = "LIVE_CHAT"
    /// The LINE messenger.
    public static let line: IdentityType = "LINE"

    /// The value as sent.
    public var description: String { rawValue }
}
