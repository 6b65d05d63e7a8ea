#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// One HTTP request as received, before anything is decided about it.
///
/// A `Delivery` is what every layer hands to the next: the socket server's parser produces one,
/// a host framework (Hummingbird, Vapor, …) builds one from its own request, the journal stores
/// one, and replay reads one back. The body is kept as the exact bytes received, because
/// signatures are computed over those bytes.
public struct Delivery: Sendable, Hashable {
    /// The request method, for example `POST`.
    public var method: String
    /// The request target as received: the path, possibly followed by `?` and a query.
    public var target: String
    /// The request's header fields, in order, duplicates kept.
    public var headers: Headers
    /// The exact body bytes received.
    public var body: [UInt8]
    /// When the request was received.
    public var receivedAt: Date

    /// Creates a delivery.
    ///
    /// - Parameters:
    ///   - method: The request method; defaults to `POST`.
    ///   - target: The request target, for example `/message/added`.
    ///   - headers: The header fields.
    ///   - body: The exact body bytes.
    ///   - receivedAt: When the request arrived; defaults to now.
    public init(
        method: String = "POST",
        target: String,
        headers: Headers = Headers(),
        body: [UInt8],
        receivedAt: Date = Date()
    ) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.receivedAt = receivedAt
    }

    /// The target's path, without any query string.
    public var path: Substring {
        let target = self.target[...]
        guard let question = target.firstIndex(where: { $0 == "?" || $0 == "#" }) else { return target }
        return target[..<question]
    }
}
