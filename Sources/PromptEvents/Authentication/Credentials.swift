#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// A user name and password accepted with HTTP Basic authentication (RFC 7617).
public struct BasicCredential: Sendable, Hashable {
    /// The user name, compared exactly (UTF-8, case-sensitive).
    public var username: String
    /// The password; its expiry, if any, is the credential's expiry.
    public var password: Secret

    /// Creates a credential.
    ///
    /// - Parameters:
    ///   - username: The user name; it must not contain a colon.
    ///   - password: The password.
    public init(username: String, password: Secret) {
        self.username = username
        self.password = password
    }

    /// Parses `USER:PASSWORD`, splitting at the first colon (the password may contain colons).
    ///
    /// - Parameters:
    ///   - text: The credential, for example `prompt:s3cr3t`.
    ///   - expires: When the credential stops verifying; `nil` for never.
    /// - Returns: The credential, or `nil` when `text` has no colon or an empty user name.
    public static func parse(_ text: String, expires: Date? = nil) -> BasicCredential? {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else { return nil }
        return BasicCredential(
            username: String(text[..<colon]),
            password: Secret(String(text[text.index(after: colon)...]), expires: expires)
        )
    }

    /// The value of an `Authorization` header carrying this credential.
    public var authorizationValue: String {
        "Basic " + Base64.encode(Array(username.utf8) + [UInt8(ascii: ":")] + password.bytes)
    }
}

/// A value a named request header must carry, such as Prompt.io's custom header token.
///
/// Several tokens with the same header name are alternatives (rotation); tokens with different
/// names are all required.
public struct HeaderToken: Sendable, Hashable {
    /// The header name, matched ignoring ASCII case.
    public var name: String
    /// The accepted value; compared exactly, in constant time.
    public var value: Secret

    /// Creates a header requirement.
    ///
    /// - Parameters:
    ///   - name: The header name, for example `webhooktoken`.
    ///   - value: The value it must carry.
    public init(name: String, value: Secret) {
        self.name = name
        self.value = value
    }

    /// Parses `NAME=VALUE`, splitting at the first `=`.
    ///
    /// - Parameters:
    ///   - text: The requirement, for example `webhooktoken=abcdefg`.
    ///   - expires: When the value stops verifying; `nil` for never.
    /// - Returns: The requirement, or `nil` when there is no `=` or the name is empty or not a token.
    public static func parse(_ text: String, expires: Date? = nil) -> HeaderToken? {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else { return nil }
        let name = String(text[..<equals]).trimmingASCIIWhitespace()
        guard !name.isEmpty, name.utf8.allSatisfy(isTokenByte) else { return nil }
        return HeaderToken(name: name, value: Secret(String(text[text.index(after: equals)...]), expires: expires))
    }
}

/// A secret for `X-Hub-Signature` HMACs, with its HMAC keys prepared once.
public struct HubSecret: Sendable, Hashable {
    /// The secret.
    public let secret: Secret
    let sha1: HMAC<SHA1>
    let sha256: HMAC<SHA256>

    /// Creates a signing secret and prepares its HMAC-SHA1 and HMAC-SHA256 keys.
    ///
    /// - Parameter secret: The secret configured on the Prompt.io endpoint.
    public init(_ secret: Secret) {
        self.secret = secret
        self.sha1 = HMAC(key: secret.bytes)
        self.sha256 = HMAC(key: secret.bytes)
    }

    /// Whether two secrets are equal: same bytes and expiry.
    public static func == (lhs: HubSecret, rhs: HubSecret) -> Bool { lhs.secret == rhs.secret }

    /// Hashes the secret.
    public func hash(into hasher: inout Hasher) { hasher.combine(secret) }

    func mac(_ algorithm: HubSignature.Algorithm, _ body: some Collection<UInt8>) -> [UInt8] {
        switch algorithm {
        case .sha1: sha1.authenticationCode(for: body)
        case .sha256: sha256.authenticationCode(for: body)
        }
    }
}

extension HubSecret: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Always `HubSecret(<redacted>)`: neither the secret nor its prepared HMAC states print.
    public var description: String { "HubSecret(<redacted>)" }

    /// Always `HubSecret(<redacted>)`.
    public var debugDescription: String { description }

    /// A mirror with no children, so `dump` shows nothing of the secret or its HMAC states.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// RFC 9110 `tchar`: `!#$%&'*+-.^_`|~`, digits and letters.
func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"):
        true
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
        UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
        UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
        true
    default:
        false
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs, CR and LF.
    func trimmingASCIIWhitespace() -> String {
        // On bytes: ASCII whitespace never sits inside a multi-byte character, so the indices
        // found are character boundaries.
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
        let text = Substring(self)
        guard let first = text.utf8.firstIndex(where: { !isSpace($0) }),
            let last = text.utf8.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(text[first..<text.utf8.index(after: last)])
    }
}
