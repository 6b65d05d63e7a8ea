#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// A secret value — a password, a signing secret, a header token — that never prints itself.
///
/// `description`, `debugDescription`, string interpolation and `dump` all show
/// `Secret(<redacted>)`, so a secret can't leak into a log line by accident. An optional expiry
/// supports rotation: after `expires`, the secret no longer verifies anything.
///
/// ```swift
/// let secret = Secret("s3cr3t", expires: rotationDeadline)
/// print(secret)  // Secret(<redacted>)
/// ```
public struct Secret: Sendable, Hashable {
    /// The secret's bytes; read them only to use the secret, never to show it.
    public let bytes: [UInt8]
    /// When the secret stops verifying, or `nil` if it never expires.
    public var expires: Date?

    /// Creates a secret from text, using its UTF-8 bytes exactly (no trimming).
    ///
    /// - Parameters:
    ///   - text: The secret.
    ///   - expires: When the secret stops verifying; `nil` for never.
    public init(_ text: String, expires: Date? = nil) {
        self.bytes = Array(text.utf8)
        self.expires = expires
    }

    /// Creates a secret from raw bytes.
    ///
    /// - Parameters:
    ///   - bytes: The secret's bytes.
    ///   - expires: When the secret stops verifying; `nil` for never.
    public init(bytes: some Sequence<UInt8>, expires: Date? = nil) {
        self.bytes = Array(bytes)
        self.expires = expires
    }

    /// Whether the secret has expired at `date`.
    ///
    /// - Parameter date: The moment to check.
    /// - Returns: `true` once `date` is at or past ``expires``.
    public func isExpired(at date: Date) -> Bool {
        guard let expires else { return false }
        return date >= expires
    }
}

extension Secret: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Always `Secret(<redacted>)`.
    public var description: String { "Secret(<redacted>)" }

    /// Always `Secret(<redacted>)`.
    public var debugDescription: String { description }

    /// A mirror with no children, so `dump` shows nothing of the secret.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
