#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// What an endpoint requires of each delivery: any combination of Basic credentials, `X-Hub-Signature` secrets and required headers.
///
/// **Every configured method must pass.**
///
/// Within one method, several values are alternatives, which is how secrets are rotated: add the
/// new secret, switch Prompt.io over, then remove (or let expire) the old one.
///
/// ```swift
/// var authentication = Authentication.open
/// authentication.hubSecrets = [HubSecret(Secret("new")), HubSecret(Secret("old", expires: deadline))]
/// authentication.headerTokens = [HeaderToken(name: "webhooktoken", value: Secret("abcdefg"))]
/// ```
///
/// With nothing configured the endpoint is ``open``: every delivery is accepted. That is a
/// deliberate choice, visible as ``isOpen``.
public struct Authentication: Sendable, Hashable {
    /// Accepted Basic credentials; any one of them passes.
    public var basicCredentials: [BasicCredential]
    /// Accepted `X-Hub-Signature` secrets; a signature made with any one of them passes.
    public var hubSecrets: [HubSecret]
    /// Required headers; same-name tokens are alternatives, different names are all required.
    public var headerTokens: [HeaderToken]

    /// Creates a configuration; every non-empty list is a method that must pass.
    ///
    /// - Parameters:
    ///   - basicCredentials: Accepted user names and passwords.
    ///   - hubSecrets: Accepted signing secrets.
    ///   - headerTokens: Required header values.
    public init(
        basicCredentials: [BasicCredential] = [],
        hubSecrets: [HubSecret] = [],
        headerTokens: [HeaderToken] = []
    ) {
        self.basicCredentials = basicCredentials
        self.hubSecrets = hubSecrets
        self.headerTokens = headerTokens
    }

    /// No authentication: every delivery is accepted.
    ///
    /// Use it knowingly.
    public static let open = Authentication()

    /// Whether no method is configured, so anyone who knows the URL can post events.
    public var isOpen: Bool { basicCredentials.isEmpty && hubSecrets.isEmpty && headerTokens.isEmpty }

    /// Whether a valid delivery needs its body checked (a hub signature is configured).
    public var needsBody: Bool { !hubSecrets.isEmpty }

    /// The names of headers whose values are secrets, which must never be stored or logged.
    public var secretHeaderNames: [String] {
        var names = ["Authorization"]
        for token in headerTokens
        where !names.contains(where: { Headers.canonical($0) == Headers.canonical(token.name) }) {
            names.append(token.name)
        }
        return names
    }

    /// Checks what can be checked from the request head alone: Basic credentials and header tokens.
    ///
    /// A server calls this before reading the body, so a client without credentials gets its 401
    /// before sending (or before being told `100 Continue` to send) a large body.
    ///
    /// - Parameters:
    ///   - headers: The request headers.
    ///   - now: The current time, for expiries.
    /// - Throws: ``AuthenticationError`` naming the first failing check.
    public func verifyHead(_ headers: Headers, now: Date = Date()) throws(AuthenticationError) {
        if !basicCredentials.isEmpty { try verifyBasic(headers, now: now) }
        if !headerTokens.isEmpty { try verifyHeaderTokens(headers, now: now) }
    }

    /// Checks the body's signature over its exact bytes.
    ///
    /// - Parameters:
    ///   - headers: The request headers carrying `X-Hub-Signature` / `X-Hub-Signature-256`.
    ///   - body: The exact body bytes received.
    ///   - now: The current time, for expiries.
    /// - Throws: ``AuthenticationError`` when the signature is missing, malformed or wrong.
    public func verifyBody(
        _ headers: Headers,
        body: some Collection<UInt8>,
        now: Date = Date()
    ) throws(AuthenticationError) {
        guard !hubSecrets.isEmpty else { return }
        try verifySignature(headers, body: body, now: now)
    }

    /// Checks every configured method: head first, then body.
    ///
    /// - Parameters:
    ///   - headers: The request headers.
    ///   - body: The exact body bytes.
    ///   - now: The current time, for expiries.
    /// - Throws: ``AuthenticationError`` naming the first failing check.
    public func verify(
        _ headers: Headers,
        body: some Collection<UInt8>,
        now: Date = Date()
    ) throws(AuthenticationError) {
        try verifyHead(headers, now: now)
        try verifyBody(headers, body: body, now: now)
    }

    // MARK: - Basic (RFC 7617)

    private func verifyBasic(_ headers: Headers, now: Date) throws(AuthenticationError) {
        guard let authorization = headers["authorization"] else {
            throw AuthenticationError(code: .missingCredentials, message: "The request has no Authorization header.")
        }
        guard let (user, password) = Self.basicCredentials(in: authorization) else {
            throw AuthenticationError(
                code: .malformedCredentials,
                message: "The Authorization header is not 'Basic' followed by base64 of user:password."
            )
        }
        var matched = false
        var matchedExpired = false
        for credential in basicCredentials {
            // Both comparisons always run, so the time does not reveal which part differed.
            let userMatches = constantTimeEquals(Array(credential.username.utf8), user)
            let passwordMatches = constantTimeEquals(credential.password.bytes, password)
            if userMatches && passwordMatches {
                if credential.password.isExpired(at: now) { matchedExpired = true } else { matched = true }
            }
        }
        if matched { return }
        if matchedExpired {
            throw AuthenticationError(code: .expiredCredentials, message: "The Basic credentials have expired.")
        }
        throw AuthenticationError(code: .wrongCredentials, message: "The Basic user name or password is wrong.")
    }

    /// Splits `Basic <base64(user:password)>` at the first colon of the decoded text.
    static func basicCredentials(in authorization: String) -> (user: [UInt8], password: [UInt8])? {
        let value = authorization.trimmingASCIIWhitespace()
        guard value.utf8.count > 6, value.prefix(6).lowercased() == "basic " else { return nil }
        let token = value.dropFirst(6).trimmingASCIIWhitespace()
        guard let decoded = Base64.decode(token), let colon = decoded.firstIndex(of: UInt8(ascii: ":")) else {
            return nil
        }
        return (Array(decoded[..<colon]), Array(decoded[(colon + 1)...]))
    }

    // MARK: - Header tokens

    private func verifyHeaderTokens(_ headers: Headers, now: Date) throws(AuthenticationError) {
        var groups: [(name: String, tokens: [HeaderToken])] = []
        for token in headerTokens {
            if let index = groups.firstIndex(where: { Headers.canonical($0.name) == Headers.canonical(token.name) }) {
                groups[index].tokens.append(token)
            } else {
                groups.append((token.name, [token]))
            }
        }
        for group in groups {
            let received = headers.values(for: group.name)
            guard !received.isEmpty else {
                throw AuthenticationError(
                    code: .missingHeader,
                    message: "The required header '\(group.name)' is absent."
                )
            }
            var matched = false
            var matchedExpired = false
            for value in received {
                let bytes = Array(value.utf8)
                for token in group.tokens where constantTimeEquals(token.value.bytes, bytes) {
                    if token.value.isExpired(at: now) { matchedExpired = true } else { matched = true }
                }
            }
            if matched { continue }
            if matchedExpired {
                throw AuthenticationError(
                    code: .expiredHeaderValue,
                    message: "The value of header '\(group.name)' has expired."
                )
            }
            throw AuthenticationError(
                code: .wrongHeaderValue,
                message: "The header '\(group.name)' does not carry an accepted value."
            )
        }
    }

    // MARK: - X-Hub-Signature

    private func verifySignature(
        _ headers: Headers,
        body: some Collection<UInt8>,
        now: Date
    ) throws(AuthenticationError) {
        // Lower-case names: lookups then fold nothing and allocate nothing.
        let present: [(name: String, algorithm: HubSignature.Algorithm)] = [
            ("x-hub-signature", .sha1), ("x-hub-signature-256", .sha256),
        ]
        .filter { headers.contains($0.name) }
        guard !present.isEmpty else {
            throw AuthenticationError(
                code: .missingSignature,
                message: "The request has neither an X-Hub-Signature nor an X-Hub-Signature-256 header."
            )
        }
        // Every present header must verify; within one header (several fields or a comma list),
        // any entry that matches is enough.
        let contiguousBody = Array(body)
        for (lowercasedName, algorithm) in present {
            let name = algorithm == .sha1 ? HubSignature.sha1HeaderName : HubSignature.sha256HeaderName
            var candidates: [HubSignature.Candidate] = []
            for value in headers.values(for: lowercasedName) {
                guard let parsed = HubSignature.candidates(in: value, defaultAlgorithm: algorithm) else {
                    throw AuthenticationError(
                        code: .malformedSignature,
                        message: "The \(name) header is not sha1=/sha256= hex, bare hex or base64 of the right length."
                    )
                }
                candidates += parsed
            }
            var matched = false
            var matchedExpired = false
            for secret in hubSecrets {
                // Each algorithm's MAC is computed at most once per secret.
                var sha1MAC: [UInt8]?
                var sha256MAC: [UInt8]?
                for candidate in candidates {
                    let mac: [UInt8]
                    switch candidate.algorithm {
                    case .sha1:
                        mac = sha1MAC ?? secret.mac(.sha1, contiguousBody)
                        sha1MAC = mac
                    case .sha256:
                        mac = sha256MAC ?? secret.mac(.sha256, contiguousBody)
                        sha256MAC = mac
                    }
                    if constantTimeEquals(mac, candidate.mac) {
                        if secret.secret.isExpired(at: now) { matchedExpired = true } else { matched = true }
                    }
                }
            }
            if matched { continue }
            if matchedExpired {
                throw AuthenticationError(
                    code: .expiredSecret,
                    message: "The \(name) signature was made with a secret that has expired."
                )
            }
            throw AuthenticationError(
                code: .signatureMismatch,
                message: "The \(name) signature does not match the body under any configured secret."
            )
        }
    }
}
