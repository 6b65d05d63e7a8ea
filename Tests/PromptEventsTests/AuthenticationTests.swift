import Foundation
import PromptEvents
import Testing

@Suite struct AuthenticationTests {
    static let secret = Secret("It's a Secret to Everybody")
    static let body = Array(#"{"orgId":12345,"text":"Hello, World! 😀"}"#.utf8)
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func sha1Hex(_ body: [UInt8] = body, secret: Secret = secret) -> String {
        String(HubSignature.sign(body, secret: secret, format: .hex).value)
    }

    struct SignatureCase: Sendable, CustomTestStringConvertible {
        var name: String
        var headers: Headers
        var body: [UInt8] = AuthenticationTests.body
        var expected: AuthenticationError.Code?
        var testDescription: String { name }
    }

    static var signatureCases: [SignatureCase] {
        let hex = sha1Hex()
        let base64 = HubSignature.sign(body, secret: secret, format: .base64).value
        let sha256 = HubSignature.sign(body, secret: secret, format: .sha256).value
        let other = sha1Hex(secret: Secret("another secret"))
        let emptyBody: [UInt8] = []
        let nonUTF8: [UInt8] = [0xFF, 0xFE, 0x00, 0x80, 0x7B]
        return [
            SignatureCase(name: "sha1=hex", headers: ["X-Hub-Signature": "sha1=" + hex]),
            SignatureCase(name: "SHA1= upper-case prefix", headers: ["X-Hub-Signature": "SHA1=" + hex]),
            SignatureCase(name: "bare lower-case hex", headers: ["X-Hub-Signature": hex]),
            SignatureCase(name: "bare upper-case hex", headers: ["X-Hub-Signature": hex.uppercased()]),
            SignatureCase(name: "base64", headers: ["X-Hub-Signature": base64]),
            SignatureCase(name: "header name in lower case", headers: ["x-hub-signature": "sha1=" + hex]),
            SignatureCase(name: "surrounding whitespace", headers: ["X-Hub-Signature": "  sha1=\(hex) "]),
            SignatureCase(name: "sha256 header", headers: ["X-Hub-Signature-256": sha256]),
            SignatureCase(
                name: "both headers valid",
                headers: ["X-Hub-Signature": "sha1=" + hex, "X-Hub-Signature-256": sha256]
            ),
            SignatureCase(name: "comma list, one matches", headers: ["X-Hub-Signature": "sha1=\(other), sha1=\(hex)"]),
            SignatureCase(
                name: "two fields, one matches",
                headers: ["X-Hub-Signature": "sha1=" + other, "x-hub-signature": hex]
            ),
            SignatureCase(
                name: "empty body signed",
                headers: ["X-Hub-Signature": "sha1=" + sha1Hex(emptyBody)],
                body: emptyBody
            ),
            SignatureCase(
                name: "non-UTF-8 body signed",
                headers: ["X-Hub-Signature": "sha1=" + sha1Hex(nonUTF8)],
                body: nonUTF8
            ),
            SignatureCase(name: "absent", headers: [:], expected: .missingSignature),
            SignatureCase(
                name: "wrong secret",
                headers: ["X-Hub-Signature": "sha1=" + other],
                expected: .signatureMismatch
            ),
            SignatureCase(
                name: "truncated MAC",
                headers: ["X-Hub-Signature": "sha1=" + hex.dropLast(2)],
                expected: .malformedSignature
            ),
            SignatureCase(
                name: "not hex",
                headers: ["X-Hub-Signature": "sha1=" + String(repeating: "z", count: 40)],
                expected: .malformedSignature
            ),
            SignatureCase(name: "empty value", headers: ["X-Hub-Signature": ""], expected: .malformedSignature),
            SignatureCase(
                name: "sha256 MAC in the sha1 slot",
                headers: ["X-Hub-Signature": "sha1=" + sha256.dropFirst(7)],
                expected: .malformedSignature
            ),
            SignatureCase(
                name: "body altered by one byte",
                headers: ["X-Hub-Signature": "sha1=" + hex],
                body: body.dropLast() + [UInt8(ascii: " ")],
                expected: .signatureMismatch
            ),
            SignatureCase(
                name: "valid sha1 but wrong sha256",
                headers: [
                    "X-Hub-Signature": "sha1=" + hex,
                    "X-Hub-Signature-256": "sha256=" + String(repeating: "0", count: 64),
                ],
                expected: .signatureMismatch
            ),
        ]
    }

    @Test(arguments: signatureCases)
    func hubSignatureAcceptsEveryEncodingAndRejectsTheRest(_ testCase: SignatureCase) {
        let authentication = Authentication(hubSecrets: [HubSecret(Self.secret)])
        do {
            try authentication.verify(testCase.headers, body: testCase.body, now: Self.now)
            #expect(testCase.expected == nil)
        } catch {
            #expect(error.code == testCase.expected)
            #expect(!error.message.contains(Self.sha1Hex()))
            #expect(!error.message.contains("Secret to Everybody"))
        }
    }

    @Test func githubPublishedVectorVerifies() throws {
        // GitHub's documented example: secret "It's a Secret to Everybody", payload "Hello, World!".
        let body = Array("Hello, World!".utf8)
        let expected = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        #expect(HubSignature.sign(body, secret: Self.secret, format: .sha256).value == "sha256=" + expected)
        let authentication = Authentication(hubSecrets: [HubSecret(Self.secret)])
        try authentication.verify(["X-Hub-Signature-256": "sha256=" + expected], body: body)
    }

    @Test func rotationAcceptsEveryCurrentSecretAndNotAnExpiredOne() throws {
        let old = Secret("old", expires: Self.now.addingTimeInterval(-1))
        let new = Secret("new")
        let authentication = Authentication(hubSecrets: [HubSecret(new), HubSecret(old)])
        try authentication.verify(["X-Hub-Signature": Self.sha1Hex(secret: new)], body: Self.body, now: Self.now)
        let error = #expect(throws: AuthenticationError.self) {
            try authentication.verify(["X-Hub-Signature": Self.sha1Hex(secret: old)], body: Self.body, now: Self.now)
        }
        #expect(error?.code == .expiredSecret)
        // Before its expiry the old secret still works.
        try authentication.verify(
            ["X-Hub-Signature": Self.sha1Hex(secret: old)],
            body: Self.body,
            now: Self.now.addingTimeInterval(-10)
        )
    }

    struct BasicCase: Sendable, CustomTestStringConvertible {
        var name: String
        var authorization: String?
        var expected: AuthenticationError.Code?
        var testDescription: String { name }
    }

    static func basic(_ text: String) -> String { "Basic " + Data(text.utf8).base64EncodedString() }

    static let basicCases: [BasicCase] = [
        BasicCase(name: "valid", authorization: basic("prompt:pa:ss wörd")),
        BasicCase(
            name: "scheme in lower case",
            authorization: "basic " + Data("prompt:pa:ss wörd".utf8).base64EncodedString()
        ),
        BasicCase(name: "second credential", authorization: basic("backup:backup-pass")),
        BasicCase(name: "absent", authorization: nil, expected: .missingCredentials),
        BasicCase(name: "bearer", authorization: "Bearer abc", expected: .malformedCredentials),
        BasicCase(name: "not base64", authorization: "Basic !!!", expected: .malformedCredentials),
        BasicCase(name: "no colon", authorization: basic("promptpass"), expected: .malformedCredentials),
        BasicCase(name: "wrong password", authorization: basic("prompt:nope"), expected: .wrongCredentials),
        BasicCase(name: "wrong user case", authorization: basic("Prompt:pa:ss wörd"), expected: .wrongCredentials),
        BasicCase(name: "expired credential", authorization: basic("expired:gone"), expected: .expiredCredentials),
    ]

    @Test(arguments: basicCases)
    func basicAuthFollowsRFC7617(_ testCase: BasicCase) {
        let authentication = Authentication(basicCredentials: [
            BasicCredential(username: "prompt", password: Secret("pa:ss wörd")),
            BasicCredential(username: "backup", password: Secret("backup-pass")),
            BasicCredential(username: "expired", password: Secret("gone", expires: Self.now.addingTimeInterval(-60))),
        ])
        var headers = Headers()
        if let value = testCase.authorization { headers.append(name: "Authorization", value: value) }
        do {
            try authentication.verifyHead(headers, now: Self.now)
            #expect(testCase.expected == nil)
        } catch {
            #expect(error.code == testCase.expected)
            #expect(!error.message.contains("pa:ss"))
        }
    }

    @Test func basicCredentialParsingSplitsAtTheFirstColon() throws {
        let credential = try #require(BasicCredential.parse("user:pa:ss"))
        #expect(credential.username == "user")
        #expect(credential.password.bytes == Array("pa:ss".utf8))
        #expect(BasicCredential.parse("nocolon") == nil)
        #expect(BasicCredential.parse(":onlypass") == nil)
        #expect(credential.authorizationValue == Self.basic("user:pa:ss"))
    }

    struct HeaderCase: Sendable, CustomTestStringConvertible {
        var name: String
        var headers: Headers
        var expected: AuthenticationError.Code?
        var testDescription: String { name }
    }

    static let headerCases: [HeaderCase] = [
        HeaderCase(name: "both required headers", headers: ["webhooktoken": "abcdefg", "X-Team": "blue"]),
        HeaderCase(name: "rotated alternative value", headers: ["WebhookToken": "hijklmn", "x-team": "blue"]),
        HeaderCase(
            name: "one of two fields matches",
            headers: ["webhooktoken": "wrong", "webhooktoken": "abcdefg", "X-Team": "blue"]
        ),
        HeaderCase(name: "second name missing", headers: ["webhooktoken": "abcdefg"], expected: .missingHeader),
        HeaderCase(
            name: "wrong value",
            headers: ["webhooktoken": "abcdefh", "X-Team": "blue"],
            expected: .wrongHeaderValue
        ),
        HeaderCase(
            name: "value case matters",
            headers: ["webhooktoken": "ABCDEFG", "X-Team": "blue"],
            expected: .wrongHeaderValue
        ),
        HeaderCase(
            name: "expired value",
            headers: ["webhooktoken": "old", "X-Team": "blue"],
            expected: .expiredHeaderValue
        ),
    ]

    @Test(arguments: headerCases)
    func headerTokensRequireEveryNameAndAcceptAnyAlternative(_ testCase: HeaderCase) {
        let authentication = Authentication(headerTokens: [
            HeaderToken(name: "webhooktoken", value: Secret("abcdefg")),
            HeaderToken(name: "webhooktoken", value: Secret("hijklmn")),
            HeaderToken(name: "webhooktoken", value: Secret("old", expires: Self.now)),
            HeaderToken(name: "X-Team", value: Secret("blue")),
        ])
        do {
            try authentication.verifyHead(testCase.headers, now: Self.now)
            #expect(testCase.expected == nil)
        } catch {
            #expect(error.code == testCase.expected)
            #expect(!error.message.contains("abcdefg"))
        }
    }

    @Test func everyConfiguredMethodMustPass() {
        let authentication = Authentication(
            basicCredentials: [BasicCredential(username: "u", password: Secret("p"))],
            hubSecrets: [HubSecret(Self.secret)],
            headerTokens: [HeaderToken(name: "webhooktoken", value: Secret("abcdefg"))]
        )
        let good: Headers = [
            "Authorization": Self.basic("u:p"), "webhooktoken": "abcdefg", "X-Hub-Signature": "sha1=" + Self.sha1Hex(),
        ]
        #expect((try? authentication.verify(good, body: Self.body)) != nil)
        var badSignature = good
        badSignature.replaceOrAdd(name: "X-Hub-Signature", value: "sha1=" + Self.sha1Hex(secret: Secret("x")))
        #expect(throws: AuthenticationError.self) { try authentication.verify(badSignature, body: Self.body) }
        var noToken = good
        noToken.removeAll(named: "webhooktoken")
        #expect(throws: AuthenticationError.self) { try authentication.verify(noToken, body: Self.body) }
        var badBasic = good
        badBasic.replaceOrAdd(name: "Authorization", value: Self.basic("u:q"))
        #expect(throws: AuthenticationError.self) { try authentication.verify(badBasic, body: Self.body) }
    }

    @Test func openAuthenticationIsExplicitAndAcceptsAll() throws {
        #expect(Authentication.open.isOpen)
        try Authentication.open.verify([:], body: [])
        #expect(!Authentication(hubSecrets: [HubSecret(Self.secret)]).isOpen)
    }

    @Test func secretsNeverPrint() {
        let secret = Secret("hunter2-very-secret")
        var dumped = ""
        dump(secret, to: &dumped)
        let credential = BasicCredential(username: "user", password: secret)
        var dumpedCredential = ""
        dump(credential, to: &dumpedCredential)
        let texts = [
            secret.description, secret.debugDescription, "\(secret)", String(reflecting: secret), dumped,
            "\(credential)", dumpedCredential, "\(HubSecret(secret))",
            "\(Authentication(hubSecrets: [HubSecret(secret)]))",
        ]
        for text in texts {
            #expect(!text.contains("hunter2"), "leaked in: \(text)")
        }
        #expect(secret.description == "Secret(<redacted>)")
        // The prepared HMAC states would let anyone forge signatures: they must not print either.
        let hubSecret = HubSecret(secret)
        var dumpedAuthentication = ""
        dump(Authentication(hubSecrets: [hubSecret]), to: &dumpedAuthentication)
        #expect("\(hubSecret)" == "HubSecret(<redacted>)")
        #expect(String(reflecting: hubSecret) == "HubSecret(<redacted>)")
        for text in [dumpedAuthentication, "\(Authentication(hubSecrets: [hubSecret]))"] {
            #expect(
                !text.contains("HMAC") && !text.contains("state") && !text.contains("hunter2"),
                "leaked in: \(text)"
            )
        }
    }

    struct ExplainCase: Sendable, CustomTestStringConvertible {
        var name: String
        var configured: String
        var signedWith: String
        var bodyReceived: [UInt8]
        var hintContains: String
        var testDescription: String { name }
    }

    static let explainCases: [ExplainCase] = [
        ExplainCase(
            name: "newline in secret file",
            configured: "s3cr3t\n",
            signedWith: "s3cr3t",
            bodyReceived: body,
            hintContains: "whitespace"
        ),
        ExplainCase(
            name: "sender secret has newline",
            configured: "s3cr3t",
            signedWith: "s3cr3t\n",
            bodyReceived: body,
            hintContains: "newline"
        ),
        ExplainCase(
            name: "newline appended to body",
            configured: "s3cr3t",
            signedWith: "s3cr3t",
            bodyReceived: body + [0x0A],
            hintContains: "trailing newline was added"
        ),
        ExplainCase(
            name: "body re-encoded",
            configured: "s3cr3t",
            signedWith: "s3cr3t",
            bodyReceived: Array("{\n  \"orgId\" : 12345,\n  \"text\" : \"Hello, World! 😀\"\n}".utf8),
            hintContains: "re-encoded"
        ),
        ExplainCase(
            name: "plainly different secret",
            configured: "s3cr3t",
            signedWith: "other",
            bodyReceived: body,
            hintContains: "altered after signing, or the secret differs"
        ),
    ]

    @Test(arguments: explainCases)
    func explainNamesTheLikelyCauseWithoutRevealingSecrets(_ testCase: ExplainCase) throws {
        let authentication = Authentication(hubSecrets: [HubSecret(Secret(testCase.configured))])
        let signature = Self.sha1Hex(secret: Secret(testCase.signedWith))
        // For the re-encoded case the sender signed the compact body; the receiver got it pretty.
        let signedBody =
            testCase.name == "body re-encoded"
            ? Array(#"{"orgId":12345,"text":"Hello, World! 😀"}"#.utf8) : Self.body
        let header = HubSignature.sign(signedBody, secret: Secret(testCase.signedWith)).value
        let checks = authentication.explain(["X-Hub-Signature": header], body: testCase.bodyReceived)
        let check = try #require(checks.first)
        #expect(check.method == "signature")
        #expect(!check.passed)
        let hint = try #require(check.hint)
        #expect(hint.contains(testCase.hintContains), "hint was: \(hint)")
        #expect(!hint.contains("s3cr3t"))
        #expect(!hint.contains(signature))
    }

    @Test func explainReportsEveryMethod() {
        let authentication = Authentication(
            basicCredentials: [BasicCredential(username: "u", password: Secret("p"))],
            hubSecrets: [HubSecret(Self.secret)],
            headerTokens: [HeaderToken(name: "webhooktoken", value: Secret("abcdefg"))]
        )
        let checks = authentication.explain(["webhooktoken": "abcdefg"], body: Self.body)
        #expect(checks.map(\.method) == ["basic", "header", "signature"])
        #expect(checks.map(\.passed) == [false, true, false])
        #expect(checks[0].error?.code == .missingCredentials)
        #expect(checks[2].error?.code == .missingSignature)
    }

    @Test(arguments: HubSignature.Format.allCases)
    func signProducesWhatVerifyAccepts(format: HubSignature.Format) throws {
        let (name, value) = HubSignature.sign(Self.body, secret: Self.secret, format: format)
        try Authentication(hubSecrets: [HubSecret(Self.secret)]).verify([name: value], body: Self.body)
    }

    @Test(arguments: [
        ("webhooktoken=abcdefg", "webhooktoken", "abcdefg"),
        ("X-Token=a=b", "X-Token", "a=b"),
    ])
    func headerTokenParsing(text: String, name: String, value: String) throws {
        let token = try #require(HeaderToken.parse(text))
        #expect(token.name == name)
        #expect(token.value.bytes == Array(value.utf8))
    }

    @Test(arguments: ["=value", "bad name=value", "novalue"])
    func headerTokenParsingRejectsBadInput(text: String) {
        #expect(HeaderToken.parse(text) == nil)
    }
}
