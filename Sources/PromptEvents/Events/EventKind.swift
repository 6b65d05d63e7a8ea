/// The kind of a Prompt.io event, named by its path, such as `message/added`.
///
/// The set is open: Prompt.io may send paths this package has never heard of, and every one of
/// them is a valid kind. Known kinds are static members; declare your own in two lines:
///
/// ```swift
/// extension EventKind {
///     static let customerOptIn: EventKind = "customer/optIn"
/// }
/// ```
public struct EventKind: Sendable, Hashable, Comparable, RawRepresentable, ExpressibleByStringLiteral {
    /// The event path without leading or trailing slashes, for example `broadcast/statusChanged`.
    public let rawValue: String

    /// Creates a kind from its path; leading, trailing and doubled slashes are removed.
    ///
    /// - Parameter rawValue: The event path, for example `/message/added`.
    public init(rawValue: String) {
        self.rawValue = EventKind.normalize(rawValue[...])
    }

    /// Creates a kind from its path; leading, trailing and doubled slashes are removed.
    ///
    /// - Parameter path: The event path, for example `message/added`.
    public init(_ path: some StringProtocol) {
        self.rawValue = EventKind.normalize(Substring(path))
    }

    /// Creates a kind from a string literal.
    ///
    /// - Parameter value: The event path.
    public init(stringLiteral value: String) {
        self.init(rawValue: value)
    }

    /// Orders kinds by their path.
    public static func < (lhs: EventKind, rhs: EventKind) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Whether this is one of the seven kinds Prompt.io's guide subscribes to.
    public var isKnown: Bool { EventKind.known.contains(self) }

    /// Drops empty path segments, so `//message//added/` becomes `message/added`.
    private static func normalize(_ path: Substring) -> String {
        // The common case, already normalized, is checked on bytes (no grapheme breaking).
        let slash = UInt8(ascii: "/")
        let utf8 = path.utf8
        if utf8.first != slash, utf8.last != slash,
            !zip(utf8, utf8.dropFirst()).contains(where: { $0 == slash && $1 == slash })
        {
            return String(path)
        }
        return path.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
    }
}

extension EventKind {
    /// A message was added to a conversation, for example a customer replied (`message/added`).
    public static let messageAdded: EventKind = "message/added"
    /// A message's delivery status changed (`message/status`).
    public static let messageStatus: EventKind = "message/status"
    /// A new customer (contact) was created (`customer/added`).
    public static let customerAdded: EventKind = "customer/added"
    /// A customer opted out, for example by replying STOP (`customer/optOut`).
    public static let customerOptOut: EventKind = "customer/optOut"
    /// A contact performed an action (`contactAction`; note: no slash).
    public static let contactAction: EventKind = "contactAction"
    /// A broadcast changed state, for example started or completed (`broadcast/statusChanged`).
    public static let broadcastStatusChanged: EventKind = "broadcast/statusChanged"
    /// A customer clicked a Smartlink, a tracked short link (`smartlink/clicked`).
    public static let smartlinkClicked: EventKind = "smartlink/clicked"

    /// The seven kinds from Prompt.io's Event Endpoints guide, in the guide's order.
    public static let known: [EventKind] = [
        .messageAdded, .messageStatus, .customerAdded, .customerOptOut, .contactAction,
        .broadcastStatusChanged, .smartlinkClicked,
    ]
}

extension EventKind: CustomStringConvertible {
    /// The event path, for example `message/added`.
    public var description: String { rawValue }
}
