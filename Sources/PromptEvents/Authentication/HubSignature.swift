/// Producing and reading `X-Hub-Signature` header values.
///
/// Prompt.io signs each body with HMAC-SHA1 keyed by the endpoint's secret. Its encoding is not
/// documented, so verification accepts `sha1=<hex>` (GitHub's convention), bare hex in either
/// case and base64, plus `X-Hub-Signature-256: sha256=<hex>`.
public enum HubSignature {
    /// The `X-Hub-Signature` header name (HMAC-SHA1).
    public static let sha1HeaderName = "X-Hub-Signature"
    /// The `X-Hub-Signature-256` header name (HMAC-SHA256).
    public static let sha256HeaderName = "X-Hub-Signature-256"

    /// A MAC algorithm.
    public enum Algorithm: String, Sendable, Hashable, CaseIterable {
        /// HMAC-SHA1, 20 bytes.
        case sha1
        /// HMAC-SHA256, 32 bytes.
        case sha256

        var macByteCount: Int { self == .sha1 ? 20 : 32 }
    }

    /// How a signature is written in its header.
    public enum Format: String, Sendable, Hashable, CaseIterable {
        /// `X-Hub-Signature: sha1=<lowercase hex>` (GitHub's convention; the default).
        case sha1
        /// `X-Hub-Signature: <lowercase hex>`.
        case hex
        /// `X-Hub-Signature: <base64>`.
        case base64
        /// `X-Hub-Signature-256: sha256=<lowercase hex>`.
        case sha256
    }

    /// Signs a body exactly as a sender would, returning the header to attach.
    ///
    /// ```swift
    /// let (name, value) = HubSignature.sign(body, secret: Secret("s3cr3t"))
    /// // name == "X-Hub-Signature", value == "sha1=…"
    /// ```
    ///
    /// - Parameters:
    ///   - body: The exact body bytes that will be sent.
    ///   - secret: The endpoint's signing secret.
    ///   - format: The encoding; defaults to `sha1=<hex>`.
    /// - Returns: The header name and value.
    public static func sign(
        _ body: some Collection<UInt8>,
        secret: Secret,
        format: Format = .sha1
    ) -> (name: String, value: String) {
        let key = HubSecret(secret)
        switch format {
        case .sha1: return (sha1HeaderName, "sha1=" + Hex.encode(key.mac(.sha1, body)))
        case .hex: return (sha1HeaderName, Hex.encode(key.mac(.sha1, body)))
        case .base64: return (sha1HeaderName, Base64.encode(key.mac(.sha1, body)))
        case .sha256: return (sha256HeaderName, "sha256=" + Hex.encode(key.mac(.sha256, body)))
        }
    }

    /// One signature read from a header value.
    struct Candidate: Equatable {
        var algorithm: Algorithm
        var mac: [UInt8]
    }

    /// Reads the signatures in one header value: a comma-separated list of `algo=<hex>`, hex or base64 entries.
    ///
    /// Returns `nil` when any entry is malformed.
    ///
    /// - Parameters:
    ///   - value: The header value.
    ///   - defaultAlgorithm: The algorithm implied by the header name, for entries without a prefix.
    /// - Returns: The signatures, or `nil` when an entry is malformed or there are none.
    static func candidates(in value: String, defaultAlgorithm: Algorithm) -> [Candidate]? {
        // On bytes: a valid header is ASCII, and Character iteration would cost grapheme breaking
        // on every request. ASCII separators never sit inside a multi-byte character.
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
        var result: [Candidate] = []
        for entry in value.utf8.split(separator: UInt8(ascii: ",")) {
            guard let first = entry.firstIndex(where: { !isSpace($0) }),
                let last = entry.lastIndex(where: { !isSpace($0) })
            else { continue }
            guard let candidate = candidate(entry[first...last], defaultAlgorithm: defaultAlgorithm) else { return nil }
            result.append(candidate)
        }
        return result.isEmpty ? nil : result
    }

    private static func candidate(_ entry: Substring.UTF8View, defaultAlgorithm: Algorithm) -> Candidate? {
        var algorithm = defaultAlgorithm
        var encoded = entry
        if let equals = entry.firstIndex(of: UInt8(ascii: "=")),
            let named = Algorithm.allCases.first(where: { Self.equalsIgnoringASCIICase(entry[..<equals], $0.rawValue) })
        {
            algorithm = named
            encoded = entry[entry.index(after: equals)...]
        }
        let expected = algorithm.macByteCount
        let text = Substring(encoded)
        if encoded.count == expected * 2, let mac = Hex.decode(text) {
            return Candidate(algorithm: algorithm, mac: mac)
        }
        if let mac = Base64.decode(text), mac.count == expected {
            return Candidate(algorithm: algorithm, mac: mac)
        }
        return nil
    }

    private static func equalsIgnoringASCIICase(_ bytes: Substring.UTF8View, _ lowercase: String) -> Bool {
        bytes.elementsEqual(lowercase.utf8) { byte, expected in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 == expected : byte == expected
        }
    }
}
