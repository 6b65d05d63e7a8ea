#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

extension Authentication {
    /// The outcome of one authentication method, explained for a person.
    public struct Check: Sendable, Hashable {
        /// The method: `basic`, `header`, or `signature`.
        public var method: String
        /// The failure, or `nil` when the method passed.
        public var error: AuthenticationError?
        /// The likely cause and what to do, when something failed and a cause could be found.
        public var hint: String?

        /// Whether the method passed.
        public var passed: Bool { error == nil }
    }

    /// Runs every configured method and explains each result, without revealing any secret.
    ///
    /// For a signature mismatch it tries the usual culprits — whitespace or a newline at the end
    /// of the secret, a body altered in transit (a trailing newline, JSON re-encoded), a secret
    /// hex-encoded on one side only — and names the one that makes the signature match.
    ///
    /// - Parameters:
    ///   - headers: The request headers.
    ///   - body: The exact body bytes.
    ///   - now: The current time, for expiries.
    /// - Returns: One check per configured method, in the order basic, header, signature.
    public func explain(_ headers: Headers, body: [UInt8], now: Date = Date()) -> [Check] {
        var checks: [Check] = []
        if !basicCredentials.isEmpty {
            let only = Authentication(basicCredentials: basicCredentials)
            checks.append(
                check("basic", now: now) { () throws(AuthenticationError) in try only.verifyHead(headers, now: now) }
            )
        }
        if !headerTokens.isEmpty {
            let only = Authentication(headerTokens: headerTokens)
            checks.append(
                check("header", now: now) { () throws(AuthenticationError) in try only.verifyHead(headers, now: now) }
            )
        }
        if !hubSecrets.isEmpty {
            var result = check("signature", now: now) { () throws(AuthenticationError) in
                try verifyBody(headers, body: body, now: now)
            }
            if let error = result.error {
                result.hint = signatureHint(for: error, headers: headers, body: body, now: now)
            }
            checks.append(result)
        }
        return checks
    }

    private func check(_ method: String, now: Date, _ body: () throws(AuthenticationError) -> Void) -> Check {
        do {
            try body()
            return Check(method: method, error: nil, hint: nil)
        } catch {
            return Check(method: method, error: error, hint: Self.genericHint(for: error.code))
        }
    }

    private static func genericHint(for code: AuthenticationError.Code) -> String? {
        switch code {
        case .missingCredentials, .missingSignature, .missingHeader:
            "Enable the method on the Prompt.io endpoint, and check no proxy or tunnel strips the header."
        case .malformedCredentials:
            "Send 'Authorization: Basic <base64 of user:password>'."
        case .malformedSignature:
            "The header must be sha1=<40 hex>, sha256=<64 hex> (X-Hub-Signature-256), bare hex or base64."
        case .expiredCredentials, .expiredSecret, .expiredHeaderValue:
            "The value matched one that has expired: update the Prompt.io endpoint to the current value."
        case .wrongCredentials, .wrongHeaderValue:
            "Compare the value configured on the Prompt.io endpoint with this listener's, including case."
        default:
            nil
        }
    }

    /// Tries the usual causes of a mismatch and names the first that explains it.
    private func signatureHint(
        for error: AuthenticationError,
        headers: Headers,
        body: [UInt8],
        now: Date
    ) -> String? {
        guard error.code == .signatureMismatch else { return Self.genericHint(for: error.code) }
        func verifies(secrets: [Secret], body: [UInt8]) -> Bool {
            let trial = Authentication(hubSecrets: secrets.map(HubSecret.init))
            return (try? trial.verifyBody(headers, body: body, now: now)) != nil
        }
        let secrets = hubSecrets.map(\.secret)
        let trimmed = secrets.map { Secret(bytes: Self.trimmingWhitespace($0.bytes)) }
        if trimmed != secrets, verifies(secrets: trimmed, body: body) {
            return "The configured secret ends (or starts) with whitespace or a newline, often from a secret file; "
                + "the sender's does not. Remove it."
        }
        let newline = secrets.flatMap { [Secret(bytes: $0.bytes + [0x0A]), Secret(bytes: $0.bytes + [0x0D, 0x0A])] }
        if verifies(secrets: newline, body: body) {
            return "The sender's secret ends with a newline that the configured secret lacks."
        }
        let hexDecoded = secrets.compactMap { secret in
            Hex.decode(String(decoding: secret.bytes, as: UTF8.self)).map { Secret(bytes: $0) }
        }
        if !hexDecoded.isEmpty, verifies(secrets: hexDecoded, body: body) {
            return "The secret is hex-encoded on one side only: the sender used the decoded bytes."
        }
        if body.last == 0x0A, verifies(secrets: secrets, body: Array(body.dropLast())) {
            return "A trailing newline was added to the body after signing (by a proxy, a file, or an editor)."
        }
        if verifies(secrets: secrets, body: body + [0x0A]) {
            return "The body lost its trailing newline after signing."
        }
        if let json = try? JSONValue(parsing: body) {
            for variant in [json.serializedBytes, Array(json.serialized(pretty: true).utf8)] where variant != body {
                if verifies(secrets: secrets, body: variant) {
                    return "The body was re-encoded as JSON after signing; verify the exact bytes received."
                }
            }
        }
        return "The body was altered after signing, or the secret differs from the one on the Prompt.io endpoint."
    }

    private static func trimmingWhitespace(_ bytes: [UInt8]) -> [UInt8] {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) })
        else { return [] }
        return Array(bytes[first...last])
    }
}
