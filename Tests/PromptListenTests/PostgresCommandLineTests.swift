import Foundation
import PromptEvents
import Testing

@testable import PromptEventsServer

/// `--store postgres://…` from the command line: serve, inspect, and the errors a user meets.
///
/// Against the server `scripts/postgres.sh` started (`PROMPT_EVENTS_TEST_POSTGRES_URL`); skipped
/// without one, failing under CI.
@Suite(
    .enabled(
        if: ProcessInfo.processInfo.environment["PROMPT_EVENTS_TEST_POSTGRES_URL"] != nil
            || ProcessInfo.processInfo.environment["CI"] != nil,
        "no PostgreSQL: run `source $(bash scripts/postgres.sh start /tmp/pe-postgres)` first"
    ),
    .serialized
)
struct PostgresCommandLineTests {
    static var url: String {
        get throws {
            try #require(
                ProcessInfo.processInfo.environment["PROMPT_EVENTS_TEST_POSTGRES_URL"],
                "CI must start PostgreSQL with scripts/postgres.sh before the tests"
            )
        }
    }

    /// The URL's password, to check it never reaches the output.
    static func password(in url: String) throws -> String {
        let credentials = try #require(url.split(separator: "@").first?.split(separator: "//").last)
        return String(try #require(credentials.split(separator: ":").last))
    }

    /// A fresh schema, dropped at the end.
    final class Schema {
        let name = "pe_cli_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        deinit {
            guard let text = ProcessInfo.processInfo.environment["PROMPT_EVENTS_TEST_POSTGRES_URL"],
                let url = try? PostgresURL(text, environment: [:]),
                let connection = try? PostgresConnection.connect(to: url, timeout: .seconds(10))
            else { return }
            try? connection.execute(script: "DROP SCHEMA IF EXISTS \(name) CASCADE")
        }
    }

    @Test func serveKeepsDeliveriesInPostgresAndTheJournalCommandsReadThem() throws {
        let url = try Self.url
        let schema = Schema()
        let store = ["--store", url, "--store-schema", schema.name]
        let secret = ["PROMPT_LISTEN_HUB_SECRET": "s3cr3t"]
        let server = try ServeProcess(["--output", "quiet"] + store, environment: secret)
        for n in 1...2 {
            let sent = try Binary.run(
                ["send", "message/added", "--to", server.url, "--payload", "-"],
                environment: secret,
                input: Data(#"{"orgId":1,"n":\#(n)}"#.utf8)
            )
            #expect(sent.status == 0, "\(sent.stdout)\(sent.stderr)")
        }
        // Acknowledged means committed: another process sees both at once.
        let listing = try Binary.run(["journal"] + store)
        #expect(listing.status == 0, "\(listing.stderr)")
        #expect(listing.stdout.contains("message/added"))
        #expect(server.waitFor { _ in (try? Binary.run(["journal"] + store).stdout.contains("done: 2")) == true })
        let shown = try Binary.run(["journal", "show", "2", "--body"] + store)
        #expect(shown.stdout == #"{"orgId":1,"n":2}"#)
        #expect(server.terminate() == 0)
        let password = try Self.password(in: url)
        #expect(!server.standardError.contains(password))
        #expect(server.standardError.contains("visible in the process list"))
        #expect(!listing.stdout.contains(password) && !listing.stderr.contains(password))
    }

    @Test func inspectingASchemaThatDoesNotExistSaysSoAndCreatesNothing() throws {
        let url = try Self.url
        let schema = Schema()
        let listing = try Binary.run(["journal", "--store", url, "--store-schema", schema.name])
        #expect(listing.status == 1)
        #expect(listing.stderr.contains("there is no prompt-listen schema \(schema.name)"), "\(listing.stderr)")
        let connection = try PostgresConnection.connect(
            to: try PostgresURL(url, environment: [:]),
            timeout: .seconds(10)
        )
        let found = try connection.rows(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1",
            [.text(schema.name)]
        )
        #expect(try found.first?.int64(0) == 0)
    }

    @Test func aMalformedStoreURLIsAUsageError() throws {
        let result = try Binary.run(["serve", "--port", "0", "--store", "postgres://u:hunter2@127.0.0.1:0/db"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--store"))
        #expect(!result.stderr.contains("hunter2"))
        let both = try Binary.run(["journal", "--store", "postgres://u@127.0.0.1/db", "--journal", "dir"])
        #expect(both.status == 64)
        #expect(both.stderr.contains("two stores"))
    }

    @Test func aWrongPasswordStopsTheListenerWithTheServersMessage() throws {
        let url = try Self.url
        let password = try Self.password(in: url)
        let wrong = url.replacingOccurrences(of: ":\(password)@", with: ":wrong-password-4711@")
        let result = try Binary.run(["serve", "--port", "0", "--store", wrong])
        #expect(result.status == 1)
        #expect(result.stderr.contains("password authentication failed"), "\(result.stderr)")
        #expect(!result.stderr.contains("4711") && !result.stderr.contains(password))
    }
}
