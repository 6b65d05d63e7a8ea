import Foundation
import PromptEvents
import PromptEventsServer
import Testing

@testable import PromptListen

@Suite struct OptionsTests {
    private func serve(_ arguments: [String], environment: [String: String] = [:]) throws -> ServeCommand.Options {
        try ServeCommand.options(try ParsedArguments.parse(arguments, for: ServeCommand.spec), environment: environment)
    }

    @Test func defaultsAreSafe() throws {
        let options = try serve([])
        #expect(options.configuration.host == "127.0.0.1")
        #expect(options.configuration.port == 8080)
        #expect(options.basePath == "/")
        #expect(options.configuration.acknowledgement == .durable)
        #expect(options.configuration.journalDirectory == ".prompt-listen/journal")
        #expect(options.authentication.isOpen)
        #expect(options.configuration.journal.completedRetention == .seconds(86_400))
        #expect(try serve(["--keep-delivered", "3600"]).configuration.journal.completedRetention == .seconds(3600))
    }

    @Test func portComesFromTheEnvironmentUnlessGiven() throws {
        #expect(try serve([], environment: ["PORT": "9000"]).configuration.port == 9000)
        #expect(try serve(["--port", "9001"], environment: ["PORT": "9000"]).configuration.port == 9001)
        #expect(try serve(["--port=0"]).configuration.port == 0)
    }

    @Test func authenticationComesFromFlagsEnvironmentAndBoth() throws {
        let options = try serve(
            ["--hub-secret", "one", "--basic-auth", "u:p:w", "--header", "webhooktoken=abcdefg"],
            environment: ["PROMPT_LISTEN_HUB_SECRET": "two\nthree\n", "PROMPT_LISTEN_HEADER": "X-Team=blue"]
        )
        #expect(
            options.authentication.hubSecrets.map { String(decoding: $0.secret.bytes, as: UTF8.self) } == [
                "one", "two", "three",
            ]
        )
        #expect(options.authentication.basicCredentials.first?.username == "u")
        #expect(options.authentication.basicCredentials.first?.password.bytes == Array("p:w".utf8))
        #expect(options.authentication.headerTokens.map(\.name) == ["webhooktoken", "X-Team"])
        #expect(options.warnings.count == 3)
        #expect(options.warnings.allSatisfy { !$0.contains("one") && !$0.contains("abcdefg") })
    }

    @Test func secretsFromTheEnvironmentDoNotWarn() throws {
        #expect(try serve([], environment: ["PROMPT_LISTEN_HUB_SECRET": "s"]).warnings.isEmpty)
    }

    @Test func aValueCanCarryAnExpiry() throws {
        let options = try serve([], environment: ["PROMPT_LISTEN_HUB_SECRET": "old@until=2026-12-31T00:00:00Z\nnew"])
        let secrets = options.authentication.hubSecrets.map(\.secret)
        #expect(secrets[0].bytes == Array("old".utf8))
        #expect(secrets[0].expires == ISO8601.date(from: "2026-12-31T00:00:00Z"))
        #expect(secrets[1].expires == nil)
    }

    @Test func execAndForwardFlagsAreParsed() throws {
        let options = try serve([
            "--exec", "customer/optOut=./remove.sh --flag=1", "--exec", "*=cat", "--forward-to",
            "http://127.0.0.1:9090/in",
        ])
        #expect(options.execs.count == 2)
        #expect(options.execs[0].kind == .customerOptOut)
        #expect(options.execs[0].command == "./remove.sh --flag=1")
        #expect(options.execs[1].kind == nil)
        #expect(options.forwards.map(\.description) == ["http://127.0.0.1:9090/in"])
    }

    @Test(arguments: [
        (["--port", "70000"], "--port must be an integer from 0 to 65535; got '70000'."),
        (["--port"], "Missing value for '--port PORT'."),
        (["--bogus"], "Unknown option '--bogus'."),
        (["--keep-delivered", "-1"], "--keep-delivered must be an integer from 0 to 31536000; got '-1'."),
        (["-x"], "Unknown option '-x'."),
        (["--output", "fancy"], "--output must be pretty, json or quiet; got 'fancy'."),
        (["--ack", "never"], "--ack must be durable, after-handlers or memory; got 'never'."),
        (["--no-journal", "--ack", "durable"], "--no-journal cannot be combined with --ack durable."),
        (["--exec", "nocommand"], "--exec must be KIND=COMMAND, for example 'customer/optOut=./remove.sh'."),
        (["--exec", "kind="], "--exec must be KIND=COMMAND, for example 'customer/optOut=./remove.sh'."),
        (
            ["--forward-to", "https://example.com"],
            "--forward-to: 'https://example.com' is HTTPS, which the built-in client does not speak; use --exec with curl for HTTPS targets."
        ),
        (["--basic-auth", "nocolon"], "--basic-auth: a Basic credential must be USER:PASSWORD with a non-empty user."),
        (["--header", "bad name=x"], "--header: a required header must be NAME=VALUE with a valid header name."),
        (
            ["--hub-secret", "x@until=someday"],
            "--hub-secret: the expiry is not an ISO 8601 date: 'someday'."
        ),
        (["--base-path", "hooks"], "--base-path must start with '/'."),
        (["--host", "a", "--host", "b"], "The option '--host' was given more than once."),
        (["extra"], "Unexpected argument 'extra'."),
        (["--no-journal=yes"], "The flag '--no-journal' takes no value."),
    ])
    func invalidServeOptionsAreUsageErrors(arguments: [String], message: String) {
        let error = #expect(throws: UsageError.self) { try serve(arguments) }
        #expect(error?.message == message)
    }

    @Test(arguments: [
        ("PROMPT_LISTEN_BASIC_AUTH", "a:b\n\nnocolon", "PROMPT_LISTEN_BASIC_AUTH line 3: a Basic credential must be"),
        ("PROMPT_LISTEN_HEADER", "bad name=x", "PROMPT_LISTEN_HEADER line 1: a required header must be"),
        ("PROMPT_LISTEN_HUB_SECRET", "s@until=soon", "PROMPT_LISTEN_HUB_SECRET line 1: the expiry is not"),
    ])
    func aMalformedValueIsReportedWithItsSourceNotItsText(variable: String, value: String, start: String) {
        let error = #expect(throws: UsageError.self) { try serve([], environment: [variable: value]) }
        #expect(error?.message.hasPrefix(start) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("nocolon") == false)
        #expect(error?.message.contains("bad name") == false)
    }

    @Test func aMalformedValueInAFileNamesTheFileAndLine() throws {
        let path = NSTemporaryDirectory() + "prompt-listen-credentials-\(UUID().uuidString)"
        try "ana:pw\r\n# not a credential\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = #expect(throws: UsageError.self) { try serve(["--basic-auth-file", path]) }
        #expect(
            error?.message
                == "--basic-auth-file '\(path)' line 2: a Basic credential must be USER:PASSWORD with a non-empty user."
        )
    }

    @Test func verifyReadsOnlyTheSecretsItUses() throws {
        let arguments = try ParsedArguments.parse(
            ["--payload", "body.json", "--signature", "sha1=00"],
            for: VerifyCommand.spec
        )
        let (authentication, _) = try AuthenticationOptions.build(
            from: arguments,
            environment: ["PROMPT_LISTEN_BASIC_AUTH": "nocolon", "PROMPT_LISTEN_HUB_SECRET": "s3cr3t"],
            methods: [.hubSecret]
        )
        #expect(authentication.hubSecrets.count == 1)
        #expect(authentication.basicCredentials.isEmpty)
    }

    @Test func sendBuildsSignedPromptHeaders() throws {
        let parsed = try ParsedArguments.parse(
            [
                "customer/optOut", "--signature-format", "base64", "--header", "webhooktoken=abc", "--set", "orgId=7",
                "--set", "note=hi",
            ],
            for: SendCommand.spec
        )
        let options = try SendCommand.options(parsed, environment: ["PROMPT_LISTEN_HUB_SECRET": "s"])
        #expect(options.kind == .customerOptOut)
        #expect(options.url.description == "http://127.0.0.1:8080/")
        let json = try JSONValue(parsing: options.body)
        #expect(json["orgId"]?.int64 == 7)
        #expect(json["note"]?.string == "hi")
        let headers = SendCommand.headers(
            kind: options.kind,
            body: options.body,
            authentication: options.authentication,
            signatureFormat: options.signatureFormat,
            isSample: true
        )
        #expect(headers["Prompt-EventType"] == "customer/optOut")
        #expect(headers["webhooktoken"] == "abc")
        #expect(headers["Prompt-Listen-Sample"] == "synthetic")
        try options.authentication.verify(headers, body: options.body)
    }

    @Test(arguments: EventKind.known)
    func everySampleIsAJSONObjectWithAnOrgID(kind: EventKind) throws {
        let json = try JSONValue(parsing: Array(Samples.payload(for: kind).utf8))
        #expect(json["orgId"]?.int64 == 12345)
    }

    @Test(
        arguments: [
            ("pending", [.pending]),
            ("dead", [.deadLettered]),
            ("done", [.done]),
        ] as [(String, Set<JournalRecord.State>)]
    )
    func journalStatesParse(text: String, states: Set<JournalRecord.State>) throws {
        let query = try JournalCommand.query(try ParsedArguments.parse(["--state", text], for: JournalCommand.spec))
        #expect(query.states == states)
    }

    @Test(arguments: [("90s", 90.0), ("30m", 1800), ("2h", 7200), ("7d", 604_800)])
    func agesParse(text: String, seconds: Double) throws {
        #expect(try JournalCommand.age(text, "--since") == seconds)
    }

    @Test func redactionMasksPersonalDataAndKeepsShape() throws {
        let json = try JSONValue(
            parsing:
                #"{"orgId":1,"customer":{"displayName":"Ana María","userType":"CUSTOMER","channels":[{"identityType":"SMS","key":"+15551234567"}],"createdDate":"2024-04-05T19:34:38Z"}}"#
        )
        let redacted = Redaction.redact(json)
        #expect(redacted["customer"]?["displayName"]?.string == "xxx xxxxx")
        #expect(redacted["customer"]?["channels"]?[0]?["key"]?.string == "+00000000000")
        #expect(redacted["customer"]?["channels"]?[0]?["identityType"]?.string == "SMS")
        #expect(redacted["customer"]?["userType"]?.string == "CUSTOMER")
        #expect(redacted["customer"]?["createdDate"]?.string == "2024-04-05T19:34:38Z")
        #expect(redacted["orgId"]?.int64 == 1)
    }

    @Test func timestampsFormatAsISO8601() {
        #expect(Timestamp.format(milliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.format(milliseconds: 1_712_345_678_901) == "2024-04-05T19:34:38.901Z")
        #expect(Timestamp.format(milliseconds: 951_782_400_000) == "2000-02-29T00:00:00.000Z")
    }
}
