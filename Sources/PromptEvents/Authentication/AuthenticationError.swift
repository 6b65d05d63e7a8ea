/// Why a delivery failed authentication.
///
/// The ``code`` is stable (for logs, metrics and tests); the ``message`` is one sentence for a
/// person. Neither ever contains a secret, a MAC, a password or the value that was expected.
/// The HTTP answer to a client is the same for every code, so a client cannot probe which
/// check failed.
public struct AuthenticationError: Error, Sendable, Hashable {
    /// A stable classification of the failure.
    public struct Code: Sendable, Hashable {
        private enum Kind: Sendable, Hashable {
            case missingCredentials
            case malformedCredentials
            case wrongCredentials
            case expiredCredentials
            case missingSignature
            case malformedSignature
            case signatureMismatch
            case expiredSecret
            case missingHeader
            case wrongHeaderValue
            case expiredHeaderValue
        }

        private let kind: Kind

        /// No `Authorization: Basic` header although Basic Auth is configured.
        public static let missingCredentials = Code(kind: .missingCredentials)
        /// The `Authorization` header is not valid Basic credentials.
        public static let malformedCredentials = Code(kind: .malformedCredentials)
        /// The user name or password does not match any configured credential.
        public static let wrongCredentials = Code(kind: .wrongCredentials)
        /// The credentials match only a credential whose expiry has passed.
        public static let expiredCredentials = Code(kind: .expiredCredentials)
        /// No `X-Hub-Signature` or `X-Hub-Signature-256` header although signing is configured.
        public static let missingSignature = Code(kind: .missingSignature)
        /// A signature header is not hex or base64 of the expected length.
        public static let malformedSignature = Code(kind: .malformedSignature)
        /// The signature does not match the body under any configured secret.
        public static let signatureMismatch = Code(kind: .signatureMismatch)
        /// The signature matches only a secret whose expiry has passed.
        public static let expiredSecret = Code(kind: .expiredSecret)
        /// A required header is absent.
        public static let missingHeader = Code(kind: .missingHeader)
        /// A required header has none of the accepted values.
        public static let wrongHeaderValue = Code(kind: .wrongHeaderValue)
        /// A required header matches only a value whose expiry has passed.
        public static let expiredHeaderValue = Code(kind: .expiredHeaderValue)
    }

    /// What went wrong.
    public var code: Code
    /// One sentence for a person; never contains secret material.
    public var message: String

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The stable code.
    ///   - message: One sentence, free of secrets.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }
}

extension AuthenticationError.Code: CustomStringConvertible {
    /// A short snake-case name, stable for logs and metrics, for example `signature_mismatch`.
    public var description: String {
        switch kind {
        case .missingCredentials: "missing_credentials"
        case .malformedCredentials: "malformed_credentials"
        case .wrongCredentials: "wrong_credentials"
        case .expiredCredentials: "expired_credentials"
        case .missingSignature: "missing_signature"
        case .malformedSignature: "malformed_signature"
        case .signatureMismatch: "signature_mismatch"
        case .expiredSecret: "expired_secret"
        case .missingHeader: "missing_header"
        case .wrongHeaderValue: "wrong_header_value"
        case .expiredHeaderValue: "expired_header_value"
        }
    }
}

extension AuthenticationError: CustomStringConvertible {
    /// The code followed by the message, for logs.
    public var description: String { "\(code): \(message)" }
}
