import PromptEvents
import Testing

@testable import PromptEventsServer

@Suite struct SCRAMTests {
    // RFC 7677 §3: user "user", password "pencil".
    static let password = "pencil"
    static let clientNonce = "rOprNGfwEbeRWgbNEkqO"
    static let combinedNonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    static let salt = "W22ZaJ0SNY7soEsUEjb6gQ=="
    static let serverFirst = "r=\(combinedNonce),s=\(salt),i=4096"
    static let clientFinal = "c=biws,r=\(combinedNonce),p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    static let serverFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

    /// A fresh client with the RFC's user name, password and nonce.
    static func rfcClient() -> SCRAMSHA256Client {
        SCRAMSHA256Client(username: "user", password: password, nonce: clientNonce)
    }

    /// A client that has accepted the RFC's server-first-message, computed once: 4096 iterations.
    static let clientAwaitingFinal: SCRAMSHA256Client? = {
        var client = SCRAMTests.rfcClient()
        guard (try? client.receiveServerFirst(Array(SCRAMTests.serverFirst.utf8))) != nil else { return nil }
        return client
    }()

    /// A message the client must refuse, and why.
    struct RefusedMessage: Sendable, CustomTestStringConvertible {
        var name: String
        var message: String
        var code: SCRAMError.Code
        var testDescription: String { name }
    }

    static let serverFirstRejections: [RefusedMessage] = [
        RefusedMessage(
            name: "server nonce not extending ours",
            message: "r=%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=\(salt),i=4096",
            code: .nonceMismatch
        ),
        RefusedMessage(
            name: "server nonce differing in our last character",
            message: "r=rOprNGfwEbeRWgbNEkqP%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=\(salt),i=4096",
            code: .nonceMismatch
        ),
        RefusedMessage(
            name: "server nonce a prefix of ours",
            message: "r=rOprNGfwEbe,s=\(salt),i=4096",
            code: .nonceMismatch
        ),
        RefusedMessage(
            name: "server nonce with a space",
            message: "r=\(combinedNonce) x,s=\(salt),i=4096",
            code: .malformedMessage
        ),
        RefusedMessage(name: "missing nonce", message: "s=\(salt),i=4096", code: .malformedMessage),
        RefusedMessage(name: "missing salt", message: "r=\(combinedNonce),i=4096", code: .malformedMessage),
        RefusedMessage(
            name: "missing iteration count",
            message: "r=\(combinedNonce),s=\(salt)",
            code: .malformedMessage
        ),
        RefusedMessage(
            name: "attributes out of order",
            message: "s=\(salt),r=\(combinedNonce),i=4096",
            code: .malformedMessage
        ),
        RefusedMessage(name: "empty message", message: "", code: .malformedMessage),
        RefusedMessage(name: "i=0", message: "r=\(combinedNonce),s=\(salt),i=0", code: .unacceptableIterationCount),
        RefusedMessage(name: "non-numeric i", message: "r=\(combinedNonce),s=\(salt),i=4k", code: .malformedMessage),
        RefusedMessage(name: "negative i", message: "r=\(combinedNonce),s=\(salt),i=-1", code: .malformedMessage),
        RefusedMessage(name: "empty i", message: "r=\(combinedNonce),s=\(salt),i=", code: .malformedMessage),
        RefusedMessage(
            name: "i with a leading zero",
            message: "r=\(combinedNonce),s=\(salt),i=04096",
            code: .malformedMessage
        ),
        RefusedMessage(
            name: "i above the maximum",
            message: "r=\(combinedNonce),s=\(salt),i=10000001",
            code: .unacceptableIterationCount
        ),
        RefusedMessage(
            name: "i beyond Int",
            message: "r=\(combinedNonce),s=\(salt),i=99999999999999999999999",
            code: .unacceptableIterationCount
        ),
        RefusedMessage(
            name: "bad base64 salt",
            message: "r=\(combinedNonce),s=W22ZaJ0SNY7soEsUEjb6gQ=!,i=4096",
            code: .malformedMessage
        ),
        RefusedMessage(name: "empty salt", message: "r=\(combinedNonce),s=,i=4096", code: .malformedMessage),
        RefusedMessage(
            name: "mandatory extension m=",
            message: "m=tls-server-end-point,r=\(combinedNonce),s=\(salt),i=4096",
            code: .unsupportedExtension
        ),
        RefusedMessage(
            name: "trailing comma",
            message: "r=\(combinedNonce),s=\(salt),i=4096,",
            code: .malformedMessage
        ),
    ]

    static let serverFinalRejections: [RefusedMessage] = [
        RefusedMessage(
            name: "wrong server signature",
            message: "v=67riTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
            code: .serverSignatureMismatch
        ),
        RefusedMessage(
            name: "truncated server signature",
            message: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95A==",
            code: .serverSignatureMismatch
        ),
        RefusedMessage(name: "empty server signature", message: "v=", code: .serverSignatureMismatch),
        RefusedMessage(name: "server error", message: "e=invalid-proof", code: .serverRejected),
        RefusedMessage(name: "signature not base64", message: "v=not*base64", code: .malformedMessage),
        RefusedMessage(
            name: "unknown attribute",
            message: "x=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
            code: .malformedMessage
        ),
        RefusedMessage(name: "empty message", message: "", code: .malformedMessage),
        RefusedMessage(name: "server-first-message again", message: serverFirst, code: .malformedMessage),
        RefusedMessage(name: "malformed extension", message: serverFinal + ",garbage", code: .malformedMessage),
    ]

    /// The error a fresh RFC client throws for a server-first-message, or `nil` if it accepts it.
    static func serverFirstError(_ message: String) -> SCRAMError? {
        var client = rfcClient()
        do {
            _ = try client.receiveServerFirst(Array(message.utf8))
            return nil
        } catch {
            return error
        }
    }

    /// The error an RFC client awaiting the server-final-message throws for it, or `nil` if it accepts it.
    static func serverFinalError(_ message: String) throws -> SCRAMError? {
        var client = try #require(clientAwaitingFinal)
        do {
            try client.receiveServerFinal(Array(message.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test func reproducesTheRFC7677ExampleExchange() throws {
        var client = Self.rfcClient()
        #expect(String(decoding: client.clientFirstMessage, as: UTF8.self) == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
        let clientFinal = try client.receiveServerFirst(Array(Self.serverFirst.utf8))
        #expect(String(decoding: clientFinal, as: UTF8.self) == Self.clientFinal)
        #expect(!client.isFinished)
        try client.receiveServerFinal(Array(Self.serverFinal.utf8))
        #expect(client.isFinished)
    }

    @Test func saltedPasswordMatchesTheRFC7914PBKDF2Vector() {
        // RFC 7914 §11, PBKDF2-HMAC-SHA-256 (P="passwd", S="salt", c=1, dkLen=64): the first 32 bytes.
        let expected: [UInt8] = [
            0x55, 0xAC, 0x04, 0x6E, 0x56, 0xE3, 0x08, 0x9F, 0xEC, 0x16, 0x91, 0xC2, 0x25, 0x44, 0xB6, 0x05,
            0xF9, 0x41, 0x85, 0x21, 0x6D, 0xDE, 0x04, 0x65, 0xE6, 0x8B, 0x9D, 0x57, 0xC2, 0x0D, 0xAC, 0xBC,
        ]
        let derived = SCRAMSHA256Client.saltedPassword(
            password: Array("passwd".utf8),
            salt: Array("salt".utf8),
            iterations: 1
        )
        #expect(derived == expected)
    }

    @Test func clientFirstMessageSendsAnEmptyUserNameByDefault() {
        let client = SCRAMSHA256Client(password: Self.password, nonce: "abc")
        #expect(String(decoding: client.clientFirstMessage, as: UTF8.self) == "n,,n=,r=abc")
    }

    @Test func clientFirstMessageEscapesEqualsSignsAndCommasInTheUserName() {
        let client = SCRAMSHA256Client(username: "a=b,c", password: Self.password, nonce: "abc")
        #expect(String(decoding: client.clientFirstMessage, as: UTF8.self) == "n,,n=a=3Db=2Cc,r=abc")
    }

    @Test func randomNoncesAreFresh24ByteBase64Strings() {
        let first = SCRAMSHA256Client.randomNonce()
        let second = SCRAMSHA256Client.randomNonce()
        #expect(first.utf8.count == 32)
        #expect(Base64.decode(first)?.count == 24)
        #expect(!first.contains(","))
        #expect(first != second)
        let client = SCRAMSHA256Client(password: Self.password, nonce: first)
        #expect(String(decoding: client.clientFirstMessage, as: UTF8.self) == "n,,n=,r=" + first)
    }

    @Test(arguments: serverFirstRejections)
    func refusesAnUnacceptableServerFirstMessage(_ rejection: RefusedMessage) {
        var client = Self.rfcClient()
        let error = #expect(throws: SCRAMError.self) {
            try client.receiveServerFirst(Array(rejection.message.utf8))
        }
        #expect(error?.code == rejection.code)
        #expect(error?.description.contains(Self.password) == false)
    }

    @Test func ignoresExtensionsAfterTheIterationCount() throws {
        var client = Self.rfcClient()
        let clientFinal = try client.receiveServerFirst(Array("r=\(Self.combinedNonce),s=\(Self.salt),i=1,x=ext".utf8))
        #expect(String(decoding: clientFinal, as: UTF8.self).hasPrefix("c=biws,r=\(Self.combinedNonce),p="))
    }

    @Test(arguments: serverFinalRejections)
    func refusesAnUnacceptableServerFinalMessage(_ rejection: RefusedMessage) throws {
        var client = try #require(Self.clientAwaitingFinal)
        let error = #expect(throws: SCRAMError.self) {
            try client.receiveServerFinal(Array(rejection.message.utf8))
        }
        #expect(error?.code == rejection.code)
        #expect(error?.description.contains(Self.password) == false)
        #expect(!client.isFinished)
    }

    @Test func serverErrorIsRefusedWithTheServersText() throws {
        let error = try #require(try Self.serverFinalError("e=invalid-proof"))
        #expect(error.code == .serverRejected)
        #expect(error.serverError == "invalid-proof")
        #expect(error.description.contains("invalid-proof"))
    }

    @Test func serverErrorTextIsReducedToPrintableASCII() throws {
        let error = try #require(try Self.serverFinalError("e=bad\u{1B}[31m\u{7F}é"))
        #expect(error.serverError == "bad?[31m???")
    }

    @Test func acceptsExtensionsAfterTheServerSignature() throws {
        #expect(try Self.serverFinalError(Self.serverFinal + ",x=ext") == nil)
    }

    @Test func noErrorDescriptionContainsThePassword() throws {
        var errors = Self.serverFirstRejections.compactMap { Self.serverFirstError($0.message) }
        for rejection in Self.serverFinalRejections {
            if let error = try Self.serverFinalError(rejection.message) { errors.append(error) }
        }
        #expect(errors.count == Self.serverFirstRejections.count + Self.serverFinalRejections.count)
        for error in errors {
            #expect(!error.description.contains(Self.password), "\(error.code)")
        }
    }

    @Test func serverFinalBeforeServerFirstIsOutOfOrder() {
        var client = Self.rfcClient()
        let error = #expect(throws: SCRAMError.self) { try client.receiveServerFinal(Array(Self.serverFinal.utf8)) }
        #expect(error?.code == .outOfOrder)
    }

    @Test func aSecondServerFirstMessageIsOutOfOrder() throws {
        var client = try #require(Self.clientAwaitingFinal)
        let error = #expect(throws: SCRAMError.self) { try client.receiveServerFirst(Array(Self.serverFirst.utf8)) }
        #expect(error?.code == .outOfOrder)
        // The exchange is over: even the right signature is refused now.
        let late = #expect(throws: SCRAMError.self) { try client.receiveServerFinal(Array(Self.serverFinal.utf8)) }
        #expect(late?.code == .outOfOrder)
    }

    @Test func aRefusedServerFirstMessageEndsTheExchange() {
        var client = Self.rfcClient()
        #expect(throws: SCRAMError.self) { try client.receiveServerFirst(Array("r=other,s=\(Self.salt),i=1".utf8)) }
        let error = #expect(throws: SCRAMError.self) {
            try client.receiveServerFirst(Array(Self.serverFirst.utf8))
        }
        #expect(error?.code == .outOfOrder)
    }

    @Test func aWrongServerSignatureEndsTheExchange() throws {
        var client = try #require(Self.clientAwaitingFinal)
        #expect(throws: SCRAMError.self) {
            try client.receiveServerFinal(Array("v=67riTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".utf8))
        }
        let error = #expect(throws: SCRAMError.self) { try client.receiveServerFinal(Array(Self.serverFinal.utf8)) }
        #expect(error?.code == .outOfOrder)
        #expect(!client.isFinished)
    }

    @Test func serverFinalAfterTheExchangeFinishedIsOutOfOrder() throws {
        var client = try #require(Self.clientAwaitingFinal)
        try client.receiveServerFinal(Array(Self.serverFinal.utf8))
        let error = #expect(throws: SCRAMError.self) { try client.receiveServerFinal(Array(Self.serverFinal.utf8)) }
        #expect(error?.code == .outOfOrder)
        // Any error ends the exchange, a finished one included: a server repeating itself is not trusted.
        #expect(!client.isFinished)
    }

    @Test func descriptionsNeverShowThePassword() throws {
        let client = try #require(Self.clientAwaitingFinal)
        var dumped = ""
        dump(client, to: &dumped)
        #expect(String(describing: client) == "SCRAMSHA256Client(awaitingFinal)")
        #expect(!String(reflecting: client).contains(Self.password))
        #expect(!dumped.contains(Self.password))
    }
}
