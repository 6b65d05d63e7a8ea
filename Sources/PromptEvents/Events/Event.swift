#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// A payload type that can be read from an event: the typed part of an ``Event``.
///
/// The payloads this package ships never fail. Your own `Decodable` payloads get a default
/// implementation that decodes them from the event's JSON; if that throws, the handler fails
/// (and is retried or dead-lettered like any other failure).
public protocol EventPayload: Sendable {
    /// Reads the payload from an accepted event.
    ///
    /// - Parameter event: The event, with its JSON already parsed.
    /// - Throws: Only for payloads that validate, such as your own `Decodable` types.
    init(event: AnyEvent) throws
}

extension EventPayload where Self: Decodable {
    /// Decodes the payload from the event's JSON with ``JSONValueDecoder``.
    ///
    /// - Parameter event: The event.
    /// - Throws: `DecodingError` when the JSON does not match.
    public init(event: AnyEvent) throws {
        self = try event.decode(Self.self)
    }
}

/// An event with a typed payload, as handed to a handler registered with
/// ``WebhookReceiver/on(_:name:fileID:line:perform:)``.
public struct Event<Payload: EventPayload>: Sendable {
    /// The typed payload.
    public var payload: Payload
    /// The untyped event: raw bytes, JSON, headers.
    public var underlying: AnyEvent

    /// Creates a typed event from an accepted one.
    ///
    /// - Parameter event: The accepted event.
    /// - Throws: When the payload cannot be read (only for validating payload types).
    public init(_ event: AnyEvent) throws {
        self.payload = try Payload(event: event)
        self.underlying = event
    }

    /// The event kind.
    public var kind: EventKind { underlying.kind }
    /// The organization id (`orgId`), when present.
    public var orgID: Int64? { underlying.orgID }
    /// The body parsed as JSON.
    public var json: JSONObject { underlying.json }
    /// The exact body bytes received.
    public var body: [UInt8] { underlying.body }
    /// The request's headers, in order.
    public var headers: Headers { underlying.headers }
    /// When the request was received.
    public var receivedAt: Date { underlying.receivedAt }
    /// The journal record id, when journaled.
    public var deliveryID: UInt64? { underlying.deliveryID }

    /// Decodes any `Decodable` type of your own from the event's JSON.
    ///
    /// - Parameter type: The type to decode.
    /// - Returns: The decoded value.
    /// - Throws: `DecodingError` when the JSON does not match `type`.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try underlying.decode(type)
    }
}

/// An event kind tagged with the payload type its handlers receive.
///
/// The static members let `on(.messageAdded) { event in … }` infer `Event<MessageAdded>`.
/// Add your own the same way:
///
/// ```swift
/// struct OptIn: EventPayload, Decodable { var orgId: Int64? }
/// extension EventType where Payload == OptIn {
///     static var customerOptIn: Self { Self("customer/optIn") }
/// }
/// ```
public struct EventType<Payload: EventPayload>: Sendable, Hashable {
    /// The kind this type routes.
    public let kind: EventKind

    /// Creates a typed event kind.
    ///
    /// - Parameter kind: The event kind, for example `"customer/optIn"`.
    public init(_ kind: EventKind) {
        self.kind = kind
    }
}
