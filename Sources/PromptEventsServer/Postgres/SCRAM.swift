import PromptEvents

/// The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL uses it, sans-IO.
///
/// PostgreSQL offers the mechanism in `AuthenticationSASL`; the exchange is then three messages, each
/// carried by the protocol layer and never touched by a socket here:
///
/// ```swift
/// var scram = SCRAMSHA256Client(password: password, nonce: SCRAMSHA256Client.randomNonce())
/// send(scram.clientFirstMessage)  // SASLInitialResponse, mechanism "SCRAM-SHA-256"
/// send(try scram.receiveServerFirst(serverFirst))  // AuthenticationSASLContinue → SASLResponse
/// try scram.receiveServerFinal(serverFinal)  // AuthenticationSASLFinal: the server proved itself
/// ```
///
/// There is no channel binding: the GS2 header is `n,,` (the client does not support it), so the
/// client-final-message carries `c=biws`. PostgreSQL ignores the user name in the client-first-message
/// (it uses the startup packet's) and libpq sends an empty one, the default here.
///
/// Any failure, including a message that arrives out of order, ends the exchange: every later call
/// throws ``SCRAMError/Code/outOfOrder``.
///
/// Passwords: PostgreSQL prepares passwords with SASLprep (RFC 4013) when it computes a verifier, and
/// libpq does when it logs in. SASLprep leaves ASCII unchanged, so ASCII passwords are exact. This
/// client does not implement SASLprep's mappings or NFKC normalization: a non-ASCII password is used
/// as its UTF-8 bytes. That is what libpq does when SASLprep fails (a prohibited character), and it
/// matches the server whenever SASLprep would leave the password unchanged (text already in NFKC,
/// without non-ASCII spaces or characters SASLprep maps to nothing, such as a soft hyphen).
package struct SCRAMSHA256Client: Sendable {
    /// The SASL mechanism name, as PostgreSQL lists it in `AuthenticationSASL`.
    package static let mechanism = "SCRAM-SHA-256"

    /// The largest iteration count accepted from a server; PostgreSQL's default is 4096.
    ///
    /// Larger counts are refused rather than computed: a hostile or misconfigured server could
    /// otherwise make the client spin for minutes.
    package static let maximumIterationCount = 10_000_000

    /// The number of random bytes in a nonce from ``randomNonce()``, as in libpq.
    private static let nonceByteCount = 24

    /// Where the exchange is.
    private enum State: Sendable {
        /// The client-first-message may be sent; the server-first-message is expected.
        case initial
        /// The client-final-message was produced; the server-final-message must carry this signature.
        case awaitingFinal(serverSignature: [UInt8])
        /// The server proved it knows the password's verifier.
        case finished
        /// A message was refused; the exchange cannot continue.
        case failed

        /// The state as a phrase completing "… received", for error messages.
        var phrase: String {
            switch self {
            case .initial: "before the server-first-message"
            case .awaitingFinal: "while awaiting the server-final-message"
            case .finished: "after the exchange finished"
            case .failed: "after the exchange failed"
            }
        }

        /// The state's name, for descriptions; never the signature.
        var name: String {
            switch self {
            case .initial: "initial"
            case .awaitingFinal: "awaitingFinal"
            case .finished: "finished"
            case .failed: "failed"
            }
        }
    }

    /// The client nonce, printable ASCII without commas.
    private let clientNonce: [UInt8]

    /// The client-first-message without the GS2 header: `n=<saslname>,r=<nonce>`.
    private let clientFirstBare: [UInt8]

    /// The password's UTF-8 bytes.
    private let password: [UInt8]

    /// Where the exchange is.
    private var state: State = .initial

    /// Prepares an exchange.
    ///
    /// - Parameters:
    ///   - username: The user name for the client-first-message; PostgreSQL ignores it. `=` and `,` are
    ///     escaped as RFC 5802 requires.
    ///   - password: The password; see the type's documentation for non-ASCII passwords.
    ///   - nonce: The client nonce: non-empty printable ASCII without commas, fresh and unpredictable for
    ///     every exchange. Use ``randomNonce()``; tests pass a fixed one. Anything else is a programming
    ///     error and traps.
    package init(username: String = "", password: String, nonce: String) {
        let nonceBytes = Array(nonce.utf8)
        precondition(
            !nonceBytes.isEmpty && nonceBytes.allSatisfy(SCRAMSyntax.isNonceByte),
            "a SCRAM nonce must be non-empty printable ASCII without commas"
        )
        var bare = SCRAMSyntax.usernamePrefix
        for byte in username.utf8 {
            switch byte {
            case SCRAMSyntax.equalsSign: bare.append(contentsOf: SCRAMSyntax.escapedEqualsSign)
            case SCRAMSyntax.comma: bare.append(contentsOf: SCRAMSyntax.escapedComma)
            default: bare.append(byte)
            }
        }
        bare.append(contentsOf: SCRAMSyntax.nonceSeparator)
        bare.append(contentsOf: nonceBytes)
        self.clientNonce = nonceBytes
        self.clientFirstBare = bare
        self.password = Array(password.utf8)
    }

    /// Makes a fresh client nonce: 24 bytes from the system's secure random source, in Base64.
    ///
    /// - Returns: 32 characters of the standard Base64 alphabet, which never contains a comma.
    package static func randomNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<nonceByteCount).map { _ in UInt8.random(in: UInt8.min...UInt8.max, using: &generator) }
        return Base64.encode(bytes)
    }

    /// The client-first-message: `n,,n=<saslname>,r=<nonce>`.
    ///
    /// Send it as the data of `SASLInitialResponse`. Reading it does not advance the exchange.
    package var clientFirstMessage: [UInt8] { SCRAMSyntax.gs2Header + clientFirstBare }

    /// Checks the server-first-message and computes the client-final-message with the client's proof.
    ///
    /// The server-first-message is `r=<nonce>,s=<salt>,i=<iterations>`, optionally followed by
    /// extensions, which are ignored. Refused: a mandatory extension (`m=`), a missing or misplaced
    /// attribute, a server nonce that does not begin with the client's, a salt that is empty or not
    /// Base64, and an iteration count that is not a decimal number in 1…``maximumIterationCount``.
    ///
    /// This derives the salted password with the server's iteration count, the exchange's only
    /// expensive step (about 2 × 4096 SHA-256 blocks at PostgreSQL's default).
    ///
    /// - Parameter message: The data of `AuthenticationSASLContinue`, exactly as received.
    /// - Returns: The client-final-message, `c=biws,r=<nonce>,p=<proof>`, for `SASLResponse`.
    /// - Throws: ``SCRAMError`` if the message is refused or arrives out of order; the exchange is
    ///   then over.
    package mutating func receiveServerFirst(_ message: [UInt8]) throws(SCRAMError) -> [UInt8] {
        guard case .initial = state else {
            let error = SCRAMError(.outOfOrder, "server-first-message received \(state.phrase)")
            state = .failed
            throw error
        }
        // Any error thrown below leaves the exchange failed; only an accepted message moves it on.
        state = .failed
        let serverFirst = try ServerFirstMessage(parsing: message, clientNonce: clientNonce)

        let saltedPassword = Self.saltedPassword(
            password: password,
            salt: serverFirst.salt,
            iterations: serverFirst.iterationCount
        )
        let saltedPasswordMAC = HMAC<SHA256>(key: saltedPassword)
        let clientKey = saltedPasswordMAC.authenticationCode(for: SCRAMSyntax.clientKeyLabel)
        let storedKey = SHA256.hash(clientKey)
        let serverKey = saltedPasswordMAC.authenticationCode(for: SCRAMSyntax.serverKeyLabel)

        var clientFinal = SCRAMSyntax.channelBindingAndNoncePrefix
        clientFinal.append(contentsOf: serverFirst.nonce)
        var authMessage = clientFirstBare
        authMessage.append(SCRAMSyntax.comma)
        authMessage.append(contentsOf: message)
        authMessage.append(SCRAMSyntax.comma)
        authMessage.append(contentsOf: clientFinal)

        let clientSignature = HMAC<SHA256>(key: storedKey).authenticationCode(for: authMessage)
        let clientProof = zip(clientKey, clientSignature).map { $0 ^ $1 }
        let serverSignature = HMAC<SHA256>(key: serverKey).authenticationCode(for: authMessage)

        clientFinal.append(contentsOf: SCRAMSyntax.proofPrefix)
        clientFinal.append(contentsOf: Base64.encode(clientProof).utf8)
        state = .awaitingFinal(serverSignature: serverSignature)
        return clientFinal
    }

    /// Checks the server-final-message: the server's proof that it holds the password's verifier.
    ///
    /// `v=<signature>` is accepted only if the signature equals the expected one, compared in constant
    /// time; `e=<error>` throws ``SCRAMError/Code/serverRejected`` with the server's error text.
    /// Extensions after either are ignored.
    ///
    /// Do not treat the login as done until this returns, even if PostgreSQL already sent
    /// `AuthenticationOk`: without it nothing shows the server knew the password.
    ///
    /// - Parameter message: The data of `AuthenticationSASLFinal`, exactly as received.
    /// - Throws: ``SCRAMError`` if the server sent an error, a wrong or malformed signature, or the
    ///   message arrives out of order; the exchange is then over.
    package mutating func receiveServerFinal(_ message: [UInt8]) throws(SCRAMError) {
        guard case .awaitingFinal(let expectedSignature) = state else {
            let error = SCRAMError(.outOfOrder, "server-final-message received \(state.phrase)")
            state = .failed
            throw error
        }
        // Any error thrown below leaves the exchange failed.
        state = .failed
        try Self.verify(serverFinal: message, expectedSignature: expectedSignature)
        state = .finished
    }

    /// Whether the server has proved itself: ``receiveServerFinal(_:)`` accepted its signature.
    package var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    /// Hi(password, salt, i) of RFC 5802 §2.2: PBKDF2-HMAC-SHA-256 with one 32-byte block.
    ///
    /// U1 = HMAC(password, salt ‖ INT(1)), Uₙ = HMAC(password, Uₙ₋₁), and the result is U1 ⊕ … ⊕ Uᵢ.
    /// The password's keyed HMAC states are computed once, so each iteration costs two SHA-256 blocks.
    ///
    /// - Parameters:
    ///   - password: The password bytes (PBKDF2's P).
    ///   - salt: The salt (S).
    ///   - iterations: The iteration count (c); at least 1.
    /// - Returns: The salted password, 32 bytes: the first block of PBKDF2's output.
    static func saltedPassword(
        password: some Collection<UInt8>,
        salt: some Collection<UInt8>,
        iterations: Int
    ) -> [UInt8] {
        precondition(iterations >= 1, "PBKDF2 needs at least one iteration")
        let passwordMAC = HMAC<SHA256>(key: password)
        var stream = passwordMAC.makeStream()
        stream.update(salt)
        stream.update(SCRAMSyntax.firstBlockIndex)
        var block = stream.finalize()
        var result = block
        for _ in 1..<iterations {
            block = passwordMAC.authenticationCode(for: block)
            for index in result.indices {
                result[index] ^= block[index]
            }
        }
        return result
    }

    /// Checks a server-final-message against the expected server signature.
    ///
    /// - Parameters:
    ///   - message: The server-final-message.
    ///   - expectedSignature: ServerSignature, computed from the server-first-message.
    /// - Throws: ``SCRAMError`` unless the message is `v=` with the expected signature.
    private static func verify(serverFinal message: [UInt8], expectedSignature: [UInt8]) throws(SCRAMError) {
        let fields = message.split(separator: SCRAMSyntax.comma, omittingEmptySubsequences: false)
        let first = fields.first ?? []
        if let errorValue = SCRAMSyntax.value(of: SCRAMSyntax.errorPrefix, in: first) {
            let text = SCRAMSyntax.printable(errorValue)
            throw SCRAMError(.serverRejected, "the server rejected the authentication: \(text)", serverError: text)
        }
        guard let encodedSignature = SCRAMSyntax.value(of: SCRAMSyntax.verifierPrefix, in: first) else {
            throw SCRAMError(
                .malformedMessage,
                "the server-final-message has neither a verifier (v=) nor an error (e=)"
            )
        }
        guard fields.dropFirst().allSatisfy(SCRAMSyntax.isAttribute) else {
            throw SCRAMError(.malformedMessage, "the server-final-message has a malformed extension")
        }
        guard let signature = Base64.decode(String(decoding: encodedSignature, as: UTF8.self)) else {
            throw SCRAMError(.malformedMessage, "the server signature (v=) is not Base64")
        }
        guard constantTimeEquals(expectedSignature, signature) else {
            throw SCRAMError(
                .serverSignatureMismatch,
                "the server signature does not match: the server does not know this password's verifier"
            )
        }
    }
}

extension SCRAMSHA256Client: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The state of the exchange, for example `SCRAMSHA256Client(awaitingFinal)`; never the password.
    package var description: String { "SCRAMSHA256Client(\(state.name))" }

    /// The same as ``description``: nothing secret is shown.
    package var debugDescription: String { description }

    /// Only the state's name, so `dump` and debuggers never show the password.
    package var customMirror: Mirror {
        Mirror(self, children: ["state": state.name], displayStyle: .struct)
    }
}

extension SCRAMSHA256Client {
    /// The attributes of an accepted server-first-message.
    private struct ServerFirstMessage {
        /// The combined nonce: the client's followed by the server's part.
        var nonce: ArraySlice<UInt8>
        /// The decoded salt, never empty.
        var salt: [UInt8]
        /// The iteration count, in 1…``SCRAMSHA256Client/maximumIterationCount``.
        var iterationCount: Int

        /// Parses and checks a server-first-message.
        ///
        /// - Parameters:
        ///   - message: The server-first-message, exactly as received.
        ///   - clientNonce: The nonce of the client-first-message, which the server's must extend.
        /// - Throws: ``SCRAMError`` when the message is malformed or unacceptable.
        init(parsing message: [UInt8], clientNonce: [UInt8]) throws(SCRAMError) {
            let fields = message.split(separator: SCRAMSyntax.comma, omittingEmptySubsequences: false)
            if let first = fields.first, SCRAMSyntax.value(of: SCRAMSyntax.mandatoryExtensionPrefix, in: first) != nil {
                throw SCRAMError(
                    .unsupportedExtension,
                    "the server-first-message requires an extension (m=) this client does not support"
                )
            }
            let nonce = try Self.attribute(SCRAMSyntax.noncePrefix, at: 0, of: fields, meaning: "nonce")
            let encodedSalt = try Self.attribute(SCRAMSyntax.saltPrefix, at: 1, of: fields, meaning: "salt")
            let digits = try Self.attribute(
                SCRAMSyntax.iterationCountPrefix,
                at: 2,
                of: fields,
                meaning: "iteration count"
            )
            guard fields.dropFirst(3).allSatisfy(SCRAMSyntax.isAttribute) else {
                throw SCRAMError(.malformedMessage, "the server-first-message has a malformed extension")
            }

            guard nonce.allSatisfy(SCRAMSyntax.isNonceByte) else {
                throw SCRAMError(.malformedMessage, "the server nonce (r=) is not printable ASCII")
            }
            guard nonce.count >= clientNonce.count, nonce.starts(with: clientNonce) else {
                throw SCRAMError(.nonceMismatch, "the server nonce (r=) does not begin with the client nonce")
            }
            guard let salt = Base64.decode(String(decoding: encodedSalt, as: UTF8.self)), !salt.isEmpty else {
                throw SCRAMError(.malformedMessage, "the salt (s=) is not non-empty Base64")
            }
            self.nonce = nonce
            self.salt = salt
            self.iterationCount = try Self.parseIterationCount(digits)
        }

        /// The value of the attribute expected at a position of the server-first-message.
        ///
        /// - Parameters:
        ///   - prefix: The attribute's letter and `=`, for example `s=`.
        ///   - index: The attribute's position among the comma-separated fields.
        ///   - fields: The message's fields.
        ///   - meaning: What the attribute is, for the error message.
        /// - Returns: The bytes after the prefix.
        /// - Throws: ``SCRAMError`` when the field is absent or is another attribute.
        private static func attribute(
            _ prefix: [UInt8],
            at index: Int,
            of fields: [ArraySlice<UInt8>],
            meaning: String
        ) throws(SCRAMError) -> ArraySlice<UInt8> {
            guard index < fields.count, let value = SCRAMSyntax.value(of: prefix, in: fields[index]) else {
                let name = String(decoding: prefix, as: UTF8.self)
                throw SCRAMError(
                    .malformedMessage,
                    "the server-first-message has no \(meaning) (\(name)) where expected"
                )
            }
            return value
        }

        /// Parses the iteration count: a decimal number without sign or leading zero, in range.
        ///
        /// - Parameter digits: The value of the `i=` attribute.
        /// - Returns: The count, in 1…``SCRAMSHA256Client/maximumIterationCount``.
        /// - Throws: ``SCRAMError`` when the value is not a number or out of range.
        private static func parseIterationCount(_ digits: ArraySlice<UInt8>) throws(SCRAMError) -> Int {
            guard !digits.isEmpty, digits.allSatisfy(SCRAMSyntax.isDigit) else {
                throw SCRAMError(.malformedMessage, "the iteration count (i=) is not a decimal number")
            }
            let maximum = SCRAMSHA256Client.maximumIterationCount
            var count = 0
            for digit in digits {
                count = count * SCRAMSyntax.decimalBase + Int(digit - SCRAMSyntax.zeroDigit)
                guard count <= maximum else {
                    throw SCRAMError(.unacceptableIterationCount, "the iteration count (i=) is above \(maximum)")
                }
            }
            guard count >= 1 else {
                throw SCRAMError(.unacceptableIterationCount, "the iteration count (i=) is 0; it must be at least 1")
            }
            guard digits.first != SCRAMSyntax.zeroDigit else {
                throw SCRAMError(.malformedMessage, "the iteration count (i=) has a leading zero")
            }
            return count
        }
    }
}
