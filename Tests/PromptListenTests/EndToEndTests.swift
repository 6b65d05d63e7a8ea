import Foundation
import Testing

/// The built binary end to end: serve and send, actions, replay, signals.
///
/// Every server listens on 127.0.0.1:0 and is stopped by PID.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct EndToEndTests {
    static let kinds = [
        "message/added", "message/status", "customer/added", "customer/optOut", "contactAction",
        "broadcast/statusChanged", "smartlink/clicked",
    ]

    struct AuthCase: Sendable, CustomTestStringConvertible {
        var name: String
        var environment: [String: String]
        var testDescription: String { name }
    }

    static let authCases: [AuthCase] = [
        AuthCase(name: "hub secret", environment: ["PROMPT_LISTEN_HUB_SECRET": "s3cr3t"]),
        AuthCase(name: "basic", environment: ["PROMPT_LISTEN_BASIC_AUTH": "prompt:pa55"]),
        AuthCase(name: "header token", environment: ["PROMPT_LISTEN_HEADER": "webhooktoken=abcdefg"]),
        AuthCase(
            name: "all three",
            environment: [
                "PROMPT_LISTEN_HUB_SECRET": "s3cr3t", "PROMPT_LISTEN_BASIC_AUTH": "prompt:pa55",
                "PROMPT_LISTEN_HEADER": "webhooktoken=abcdefg",
            ]
        ),
    ]

    @Test(arguments: authCases)
    func serveAndSendEveryKindWithEachAuthenticationMethod(_ testCase: AuthCase) throws {
        let server = try ServeProcess([], environment: testCase.environment)
        for kind in Self.kinds {
            let sent = try Binary.run(["send", kind, "--to", server.url], environment: testCase.environment)
            #expect(sent.status == 0, "\(kind): \(sent.stdout) \(sent.stderr)")
            #expect(sent.stdout.hasPrefix("200 OK"))
        }
        #expect(server.waitFor { $0.standardOutput.split(separator: "\n").count >= Self.kinds.count })
        let printed = server.standardOutput.split(separator: "\n")
        for kind in Self.kinds {
            #expect(printed.contains { $0.contains("\"kind\":\"\(kind)\"") })
        }
        // Without credentials the same send is refused.
        let refused = try Binary.run(["send", "message/added", "--to", server.url])
        #expect(refused.status == 1)
        #expect(refused.stdout.hasPrefix("401"))
        #expect(server.terminate() == 0)
        #expect(!server.standardError.contains("s3cr3t"))
        #expect(!server.standardError.contains("pa55"))
        #expect(!server.standardError.contains("abcdefg"))
    }

    @Test func jsonOutputIsOneLinePerEventWithTheBodyAsSent() throws {
        let server = try ServeProcess(["--output", "json"], environment: ["PROMPT_LISTEN_HUB_SECRET": "s3cr3t"])
        let body = "{\r\n  \"orgId\" : 77,\n  \"note\": \"two\\nlines 😀\",\n  \"n\": 1.50 }\n"
        let payload = server.directory + "/payload.json"
        try body.write(toFile: payload, atomically: true, encoding: .utf8)
        let sent = try Binary.run(
            ["send", "message/added", "--to", server.url, "--payload", payload],
            environment: ["PROMPT_LISTEN_HUB_SECRET": "s3cr3t"]
        )
        #expect(sent.status == 0, "\(sent.stdout) \(sent.stderr)")
        #expect(server.waitFor { $0.standardOutput.hasSuffix("\n") })
        #expect(server.terminate() == 0)
        let lines = server.standardOutput.split(separator: "\n")
        try #require(lines.count == 1)
        let line = try #require(
            JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        )
        #expect(line["kind"] as? String == "message/added")
        #expect(line["orgId"] as? Int == 77)
        let event = try #require(line["event"] as? [String: Any])
        #expect(event["note"] as? String == "two\nlines 😀")
        // The body's own bytes, not a re-encoding: the number keeps its text.
        #expect(lines[0].contains("\"n\": 1.50 }"))
    }

    @Test func execReceivesTheExactBytesAndTheEnvironment() throws {
        let server = try ServeProcess(
            [
                "--exec",
                #"customer/added=cat > "received-$PROMPT_DELIVERY_ID.json"; env | grep ^PROMPT_ > "env-$PROMPT_DELIVERY_ID.txt""#,
            ],
            environment: ["PROMPT_LISTEN_HUB_SECRET": "s3cr3t"]
        )
        let body = "{ \"orgId\" : 77,\n  \"note\": \"exact bytes 😀\" }\n"
        let payload = server.directory + "/payload.json"
        try body.write(toFile: payload, atomically: true, encoding: .utf8)
        let sent = try Binary.run(
            ["send", "customer/added", "--to", server.url, "--payload", payload],
            environment: ["PROMPT_LISTEN_HUB_SECRET": "s3cr3t"]
        )
        #expect(sent.status == 0)
        let received = server.directory + "/received-1.json"
        // The shell creates the file before `env` fills it: wait for the last variable to arrive.
        #expect(
            server.waitFor { _ in
                ((try? String(contentsOfFile: server.directory + "/env-1.txt", encoding: .utf8)) ?? "")
                    .contains("PROMPT_RECEIVED_AT")
            }
        )
        #expect(try Data(contentsOf: URL(fileURLWithPath: received)) == Data(body.utf8))
        let environment = try String(contentsOfFile: server.directory + "/env-1.txt", encoding: .utf8)
        #expect(environment.contains("PROMPT_EVENT_TYPE=customer/added"))
        #expect(environment.contains("PROMPT_ORG_ID=77"))
        #expect(environment.contains("PROMPT_DELIVERY_ID=1"))
        #expect(environment.contains("PROMPT_RECEIVED_AT=20"))
        // The listener's own secrets never reach a command.
        #expect(!environment.contains("PROMPT_LISTEN_"))
        #expect(!environment.contains("s3cr3t"))
        #expect(server.terminate() == 0)
    }

    @Test func forwardDeliversByteIdenticalBodiesToASecondListener() throws {
        let environment = ["PROMPT_LISTEN_HUB_SECRET": "s3cr3t"]
        let downstream = try ServeProcess(
            ["--exec", #"*=cat > "forwarded-$PROMPT_DELIVERY_ID.json""#],
            environment: environment
        )
        let upstream = try ServeProcess(["--forward-to", downstream.url], environment: environment)
        let body = "{\"orgId\": 5,   \"spacing\":\"kept\" }"
        let payload = upstream.directory + "/payload.json"
        try body.write(toFile: payload, atomically: true, encoding: .utf8)
        #expect(
            try Binary.run(
                ["send", "smartlink/clicked", "--to", upstream.url, "--payload", payload],
                environment: environment
            ).status == 0
        )
        let forwarded = downstream.directory + "/forwarded-1.json"
        #expect(downstream.waitFor { _ in (try? Data(contentsOf: URL(fileURLWithPath: forwarded))) == Data(body.utf8) })
        #expect(downstream.standardOutput.contains("\"kind\":\"smartlink/clicked\""))
        upstream.terminate()
        downstream.terminate()
    }

    @Test func aFailingExecIsRetriedThenDeadLetteredAndReplayRunsItAgain() throws {
        let directory = NSTemporaryDirectory() + "prompt-listen-replay-\(UUID().uuidString)"
        let server = try ServeProcess(
            [
                "--exec", "message/status=echo attempt >> attempts.txt; exit 3", "--max-attempts", "2", "--output",
                "quiet",
            ],
            directory: directory
        )
        #expect(try Binary.run(["send", "message/status", "--to", server.url]).status == 0)
        let attempts = directory + "/attempts.txt"
        #expect(
            server.waitFor(15) { _ in
                ((try? String(contentsOfFile: attempts, encoding: .utf8)) ?? "").split(separator: "\n").count >= 2
            }
        )
        #expect(server.waitFor { $0.standardError.contains("exit status 3") })
        #expect(server.terminate() == 0)
        let listing = try Binary.run(["journal", "--state", "dead"], directory: directory)
        #expect(listing.stdout.contains("pending: 0  done: 0  dead: 1"), "\(listing.stdout)\(listing.stderr)")
        let replay = try Binary.run(
            [
                "replay", "--state", "dead", "--exec", "message/status=echo replayed >> replayed.txt", "--output",
                "quiet",
            ],
            directory: directory
        )
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect((try? String(contentsOfFile: directory + "/replayed.txt", encoding: .utf8)) == "replayed\n")
        let after = try Binary.run(["journal"], directory: directory)
        #expect(after.stdout.contains("done: 1"), "\(after.stdout)")
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Handler progress is recorded under names derived from each action, so reordering the
    /// `--exec` flags across a restart neither re-runs a handler that succeeded nor skips one
    /// that had not (with positional names, both happened).
    @Test func reorderingExecFlagsAcrossARestartChangesNothing() throws {
        let directory = NSTemporaryDirectory() + "prompt-listen-reorder-\(UUID().uuidString)"
        let first = "message/status=echo A >> a.txt"
        let second = "message/status=test -f go && echo B >> b.txt"
        func lines(_ name: String) -> Int {
            ((try? String(contentsOfFile: directory + "/" + name, encoding: .utf8)) ?? "").split(separator: "\n").count
        }
        let before = try ServeProcess(
            ["--exec", first, "--exec", second, "--max-attempts", "50", "--output", "quiet"],
            directory: directory
        )
        #expect(try Binary.run(["send", "message/status", "--to", before.url]).status == 0)
        #expect(before.waitFor(15) { _ in lines("a.txt") == 1 })
        #expect(before.waitFor { $0.standardError.contains("exit status 1") })
        #expect(before.terminate() == 0)
        _ = FileManager.default.createFile(atPath: directory + "/go", contents: Data())
        let after = try ServeProcess(
            ["--exec", second, "--exec", first, "--max-attempts", "50", "--output", "quiet"],
            directory: directory
        )
        #expect(after.waitFor(15) { _ in lines("b.txt") == 1 })
        #expect(after.terminate() == 0)
        let listing = try Binary.run(["journal"], directory: directory)
        #expect(listing.stdout.contains("pending: 0  done: 1"), "\(listing.stdout)\(listing.stderr)")
        #expect(lines("a.txt") == 1, "the handler that had succeeded ran again")
        #expect(lines("b.txt") == 1)
        withExtendedLifetime((before, after)) {}
    }

    /// `journal show ID --body` gives back the exact bytes received, so `verify` can check them
    /// (the pretty-printed `show` is a re-encoding, which verify rightly refuses).
    @Test func journalShowBodyGivesTheExactBytesThatVerify() throws {
        let server = try ServeProcess(["--output", "quiet"], environment: ["PROMPT_LISTEN_HUB_SECRET": "s3cr3t"])
        let body = "{\"orgId\" : 77,\n \"n\": 1.50}"
        try body.write(toFile: server.directory + "/payload.json", atomically: true, encoding: .utf8)
        let sent = try Binary.run(
            ["send", "message/added", "--to", server.url, "--payload", "payload.json"],
            environment: ["PROMPT_LISTEN_HUB_SECRET": "s3cr3t"],
            directory: server.directory
        )
        #expect(sent.status == 0, "\(sent.stderr)")
        #expect(server.terminate() == 0)
        let shown = try Binary.run(["journal", "show", "1", "--body"], directory: server.directory)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout == body)
        try shown.stdout.write(toFile: server.directory + "/saved.json", atomically: true, encoding: .utf8)
        let verified = try Binary.run(
            [
                "verify", "--payload", "saved.json", "--signature", "sha1=" + sha1HMAC(key: "s3cr3t", message: body),
            ],
            environment: ["PROMPT_LISTEN_HUB_SECRET": "s3cr3t"],
            directory: server.directory
        )
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
    }

    @Test func sigtermDrainsAndExitsZero() throws {
        let server = try ServeProcess(["--output", "quiet"])
        #expect(server.terminate() == 0)
        #expect(server.standardError.contains("received SIGTERM, draining"))
        #expect(server.standardError.contains("stopped"))
    }

    @Test func startupPrintsExactlyOneListeningLineAndWarnsWhenOpen() throws {
        let server = try ServeProcess([])
        let lines = server.standardError.split(separator: "\n").filter { $0.hasPrefix("listening on ") }
        #expect(lines == ["listening on http://127.0.0.1:\(server.port)"])
        #expect(server.standardError.contains("NO AUTHENTICATION"))
        server.terminate()
    }

    @Test func verifyExplainsAMismatchWithoutPrintingTheSecret() throws {
        let directory = NSTemporaryDirectory() + "prompt-listen-verify-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try #"{"orgId":1}"#.write(toFile: directory + "/body.json", atomically: true, encoding: .utf8)
        try "s3cr3t\n".write(toFile: directory + "/secret.txt", atomically: true, encoding: .utf8)
        // HMAC-SHA1 of {"orgId":1} keyed with "s3cr3t " (a trailing space the file does not have).
        let good = try Binary.run(
            ["send", "x", "--to", "http://127.0.0.1:1", "--payload", "body.json"],
            directory: directory
        )
        #expect(good.status == 1)
        let valid = try Binary.run(
            [
                "verify", "--payload", "body.json", "--signature",
                "sha1=" + sha1HMAC(key: "s3cr3t", message: #"{"orgId":1}"#), "--hub-secret-file", "secret.txt",
            ],
            directory: directory
        )
        #expect(valid.status == 0, "\(valid.stdout)\(valid.stderr)")
        #expect(valid.stdout.hasPrefix("valid"))
        let explained = try Binary.run(
            [
                "verify", "--payload", "body.json", "--signature",
                "sha1=" + sha1HMAC(key: "s3cr3t\n", message: #"{"orgId":1}"#),
                "--hub-secret-file", "secret.txt", "--explain",
            ],
            directory: directory
        )
        #expect(explained.status == 1)
        #expect(explained.stdout.contains("likely cause: The sender's secret ends with a newline"))
        #expect(!explained.stdout.contains("s3cr3t"))
    }

    @Test(
        arguments: [
            (["--bogus"], 64),
            (["send"], 64),
            (["nonsense-subcommand"], 64),
            (["--help"], 0),
            (["send", "--help"], 0),
            (["--version"], 0),
            (["events"], 0),
            (["help", "nonsense-subcommand"], 64),
        ] as [([String], Int32)]
    )
    func exitCodes(arguments: [String], status: Int32) throws {
        let result = try Binary.run(arguments)
        #expect(result.status == status)
        if status == 64 {
            #expect(result.stderr.hasPrefix("Error: "))
            #expect(result.stderr.contains("Usage: prompt-listen"))
            #expect(result.stderr.contains("--help' for more information."))
        }
    }
}

/// HMAC-SHA1 in hex via Python's hmac module, an implementation independent of ours.
func sha1HMAC(key: String, message: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
        "python3", "-c",
        "import hmac,hashlib,sys; print(hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha1).hexdigest())",
        key, message,
    ]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}
