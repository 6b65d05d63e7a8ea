import PromptEvents
import Testing

@testable import PromptEventsServer

/// RFC 9110 §5.5: `obs-text` (%x80–FF) in a field value is opaque data, not an error.
@Suite struct ObsTextTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var value: [UInt8]
        var expected: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "ISO-8859-1 é", value: Array("caf".utf8) + [0xE9], expected: "caf\u{E9}"),
        Case(name: "UTF-8 é stays UTF-8", value: Array("caf".utf8) + [0xC3, 0xA9], expected: "café"),
        Case(name: "a lone continuation byte", value: [0x61, 0x80, 0x62], expected: "a\u{80}b"),
        Case(name: "a truncated UTF-8 sequence", value: [0xE2, 0x82], expected: "\u{E2}\u{82}"),
        Case(
            name: "every high byte",
            value: Array(0x80...0xFF),
            expected: String(String.UnicodeScalarView((0x80...0xFF).map { Unicode.Scalar(UInt8($0)) }))
        ),
    ]

    @Test(arguments: cases)
    func headerValueWithObsTextIsKeptByteForByte(_ test: Case) throws {
        let raw =
            bytes("POST /message/added HTTP/1.1\r\nHost: a\r\nX-Name: ") + test.value
            + bytes("\r\nContent-Length: 2\r\n\r\n{}")
        let outcome = parse(raw)
        #expect(outcome.error == nil)
        let head = try #require(outcome.heads.first)
        #expect(head.headers["X-Name"] == test.expected)
        // ISO-8859-1 is reversible: the characters are the bytes received.
        if String(validating: test.value, as: UTF8.self) == nil {
            #expect(head.headers["X-Name"]?.unicodeScalars.map { UInt8($0.value) } == test.value)
        }
        #expect(outcome.bodies == [Array("{}".utf8)])
    }

    @Test(arguments: [UInt8(0x00), 0x0A, 0x0D, 0x01, 0x1F, 0x7F])
    func controlBytesInAValueAreStillRefused(_ byte: UInt8) {
        let raw = bytes("GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf") + [0xE9, byte, 0x61] + bytes("\r\n\r\n")
        #expect(parse(raw).error?.status == 400)
    }

    /// An authentication header that must be ASCII fails authentication with its reason, not
    /// the parser: the request is answered 401 and counted under that reason.
    @Test(arguments: [
        ("X-Hub-Signature", AuthenticationError.Code.malformedSignature),
        ("Authorization", AuthenticationError.Code.malformedCredentials),
    ])
    func obsTextInAnAuthenticationHeaderFailsAuthentication(_ name: String, _ code: AuthenticationError.Code) throws {
        let raw =
            bytes("POST /message/added HTTP/1.1\r\nHost: a\r\n\(name): sha1=caf") + [0xE9]
            + bytes("\r\nContent-Length: 2\r\n\r\n{}")
        let outcome = parse(raw)
        let head = try #require(outcome.heads.first)
        let authentication: Authentication =
            name == "Authorization"
            ? Authentication(basicCredentials: [BasicCredential(username: "u", password: Secret("p"))])
            : Authentication(hubSecrets: [HubSecret(Secret("s3cr3t"))])
        let receiver = WebhookReceiver(authentication: authentication)
        let delivery = Delivery(method: head.method, target: head.target, headers: head.headers, body: Array("{}".utf8))
        guard case .rejected(let rejection) = receiver.admit(delivery) else {
            Issue.record("a malformed \(name) was accepted")
            return
        }
        #expect(rejection.status == 401)
        #expect(rejection.authenticationError?.code == code)
    }
}
