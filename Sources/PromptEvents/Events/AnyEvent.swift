#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// An authenticated event whose body is a JSON object, before any typed decoding.
///
/// It keeps everything that arrived: the exact body bytes (for hashing, forwarding or your own
/// decoding), the parsed JSON (for fields no model covers), and the headers in order. Catch-all
/// handlers (``WebhookReceiver/onAny(name:fileID:line:perform:)``) receive it directly; typed handlers get
/// an ``Event`` that wraps it.
public struct AnyEvent: Sendable {
    /// The kind, resolved from the request path (or the `Prompt-EventType` header).
    public var kind: EventKind
    /// The kind named by the `Prompt-EventType` header, when the request carried one.
    public var declaredKind: EventKind?
    /// The organization the event belongs to (`orgId`), when present as an integer.
    public var orgID: Int64?
    /// The body parsed as JSON; always an object.
    public var json: JSONObject
    /// The exact body bytes received.
    public var body: [UInt8]
    /// The request's headers, in order.
    public var headers: Headers
    /// When the request was received.
    public var receivedAt: Date
    /// The journal's record id, stable across retries and replays; `nil` when not journaled.
    public var deliveryID: UInt64?

    /// Creates an event from its parts; most code receives events rather than making them.
    ///
    /// - Parameters:
    ///   - kind: The event kind.
    ///   - json: The body's top-level object.
    ///   - body: The exact body bytes.
    ///   - headers: The request headers.
    ///   - receivedAt: When the request arrived.
    ///   - deliveryID: The journal record id, if any.
    public init(
        kind: EventKind,
        json: JSONObject,
        body: [UInt8],
        headers: Headers = Headers(),
        receivedAt: Date = Date(),
        deliveryID: UInt64? = nil
    ) {
        self.kind = kind
        self.declaredKind = headers[EventKind.headerName].map { EventKind($0) }
        self.orgID = json["orgId"]?.int64
        self.json = json
        self.body = body
        self.headers = headers
        self.receivedAt = receivedAt
        self.deliveryID = deliveryID
    }

    /// Decodes any `Decodable` type of your own from the event's JSON, without parsing again.
    ///
    /// ```swift
    /// struct Reply: Decodable { var orgId: Int64; var text: String? }
    /// let reply = try event.decode(Reply.self)
    /// ```
    ///
    /// - Parameter type: The type to decode.
    /// - Returns: The decoded value.
    /// - Throws: `DecodingError` when the JSON does not match `type`.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONValueDecoder().decode(type, from: .object(json))
    }
}

extension EventKind {
    /// The header in which Prompt.io names the event kind: `Prompt-EventType`.
    public static let headerName = "Prompt-EventType"
}
