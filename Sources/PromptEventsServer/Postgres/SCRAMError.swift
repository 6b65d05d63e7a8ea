/// Why a SCRAM-SHA-256 exchange failed, in words safe to log.
///
/// Match on ``code``; read ``message`` for a person. Neither ever contains the password, a derived
/// key, the proof or a signature. The only text taken from the server is its `e=` error value, in
/// ``serverError`` and the message, reduced to at most 200 printable ASCII characters.
package struct SCRAMError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable classification of SCRAM failures.
    package enum Code: Hashable, Sendable, CustomStringConvertible {
        /// A server message does not follow the SCRAM syntax: a missing, misplaced or malformed attribute.
        case malformedMessage
        /// The server-first-message requires a mandatory extension (`m=`).
        case unsupportedExtension
        /// The server nonce does not begin with the client nonce.
        case nonceMismatch
        /// The iteration count is 0 or above ``SCRAMSHA256Client/maximumIterationCount``.
        case unacceptableIterationCount
        /// The server sent `e=`: it refused the proof (a wrong password) or failed otherwise.
        case serverRejected
        /// The server's signature is wrong: the server does not know the password's verifier.
        case serverSignatureMismatch
        /// A message arrived in the wrong state, for example a second server-first-message.
        case outOfOrder

        /// A short snake-case name, stable for logs, for example `server_signature_mismatch`.
        package var description: String {
            switch self {
            case .malformedMessage: "malformed_message"
            case .unsupportedExtension: "unsupported_extension"
            case .nonceMismatch: "nonce_mismatch"
            case .unacceptableIterationCount: "unacceptable_iteration_count"
            case .serverRejected: "server_rejected"
            case .serverSignatureMismatch: "server_signature_mismatch"
            case .outOfOrder: "out_of_order"
            }
        }
    }

    /// What went wrong.
    package var code: Code
    /// One sentence for a person; never contains secret material.
    package var message: String
    /// For ``Code/serverRejected``: the server's error value, for example `invalid-proof`.
    package var serverError: String?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The classification.
    ///   - message: The explanation, free of secrets.
    ///   - serverError: The server's `e=` value, already reduced to printable ASCII.
    package init(_ code: Code, _ message: String, serverError: String? = nil) {
        self.code = code
        self.message = message
        self.serverError = serverError
    }

    /// The code followed by the message, for logs.
    package var description: String { "\(code): \(message)" }
}
