/// The payload of `message/added`: a message was added to a conversation.
///
/// Prompt.io does not document this payload's fields beyond `orgId`; read them from
/// ``Event/json`` or decode your own type with ``Event/decode(_:)``.
public struct MessageAdded: EventPayload, Hashable {
    /// The organization id (`orgId`).
    public var orgID: Int64?

    /// Reads the payload; never fails.
    ///
    /// - Parameter event: The event.
    public init(event: AnyEvent) { orgID = event.orgID }
}

/// The payload of `message/status`: a message's delivery status changed.
///
/// Only `orgId` is documented; read the rest from ``Event/json``.
public struct MessageStatus: EventPayload, Hashable {
    /// The organization id (`orgId`).
    public var orgID: Int64?

    /// Reads the payload; never fails.
    ///
    /// - Parameter event: The event.
    public init(event: AnyEvent) { orgID = event.orgID }
}

/// The payload of `customer/added`: a customer (contact) was created.
public struct CustomerAdded: EventPayload, Hashable {
    /// The organization id (`orgId`).
    public var orgID: Int64?
    /// The new customer, found under a `customer` key or at the top level.
    public var customer: Customer?

    /// Reads the payload; never fails.
    ///
    /// - Parameter event: The event.
    public init(event: AnyEvent) {
        orgID = event.orgID
        customer = Customer.find(in: event.json)
    }
}

/// The payload of `customer/optOut`: a customer opted out, for example by replying STOP.
public struct CustomerOptOut: EventPayload, Hashable {
    /// The organization id (`orgId`).
    public var orgID: Int64?
    /// The customer who opted out, found under a `customer` key or at the top level.
    public var customer: Customer?

    /// Reads the payload; never fails.
    ///
    /// - Parameter event: The event.
    public init(event: AnyEvent) {
        orgID = event.orgID
        customer = Customer.find(in: event.json)
    }
}

/// The payload of `contactAction`: a contact performed an action.
///
/// Only `orgId` is documented; read the rest from ``Event/json``.
public struct ContactAction: EventPayload, Hashable {
    /// The organization id (`orgId`).
    public var orgID: Int64?

    /// Reads the payload; never fails.
    ///
    /// - Parameter event: The event.
    public init(event: AnyEvent) { orgID = event.orgID }
}

/// The payload of `broadcast/statusChanged`: a broadcast changed state.
///
/// Only `orgId` is documented; read the rest from ``Event/json``.
public struct BroadcastStatusChanged: EventPayload, Hashable {
    /// The organization id (`orgId`).
    public var orgID: Int64?

    /// Reads the payload; never fails.
    ///
    /// - Parameter event: The event.
    public init(event: AnyEvent) { orgID = event.orgID }
}

/// The payload of `smartlink/clicked`: a customer clicked a Smartlink.
///
/// Only `orgId` is documented; read the rest from ``Event/json``.
public struct SmartlinkClicked: EventPayload, Hashable {
    /// The organization id (`orgId`).
    public var orgID: Int64?

    /// Reads the payload; never fails.
    ///
    /// - Parameter event: The event.
    public init(event: AnyEvent) { orgID = event.orgID }
}

/// A payload for kinds without a model of their own: just the organization id.
///
/// Use it to register a typed handler for a kind this package does not know:
/// `receiver.on(EventType<GenericPayload>("customer/optIn")) { event in … }`.
public struct GenericPayload: EventPayload, Hashable {
    /// The organization id (`orgId`).
    public var orgID: Int64?

    /// Reads the payload; never fails.
    ///
    /// - Parameter event: The event.
    public init(event: AnyEvent) { orgID = event.orgID }
}

extension EventType where Payload == MessageAdded {
    /// `message/added`: a message was added to a conversation.
    public static var messageAdded: Self { Self(.messageAdded) }
}

extension EventType where Payload == MessageStatus {
    /// `message/status`: a message's delivery status changed.
    public static var messageStatus: Self { Self(.messageStatus) }
}

extension EventType where Payload == CustomerAdded {
    /// `customer/added`: a customer was created.
    public static var customerAdded: Self { Self(.customerAdded) }
}

extension EventType where Payload == CustomerOptOut {
    /// `customer/optOut`: a customer opted out.
    public static var customerOptOut: Self { Self(.customerOptOut) }
}

extension EventType where Payload == ContactAction {
    /// `contactAction`: a contact performed an action.
    public static var contactAction: Self { Self(.contactAction) }
}

extension EventType where Payload == BroadcastStatusChanged {
    /// `broadcast/statusChanged`: a broadcast changed state.
    public static var broadcastStatusChanged: Self { Self(.broadcastStatusChanged) }
}

extension EventType where Payload == SmartlinkClicked {
    /// `smartlink/clicked`: a customer clicked a Smartlink.
    public static var smartlinkClicked: Self { Self(.smartlinkClicked) }
}
