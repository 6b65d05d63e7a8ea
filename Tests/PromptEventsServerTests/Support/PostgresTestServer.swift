import Foundation
import Testing

@testable import PromptEventsServer

/// The PostgreSQL server the tests use: the one `scripts/postgres.sh start DIR` started, named
/// by `PROMPT_EVENTS_TEST_POSTGRES_URL` (source the env file it prints).
///
/// Without that variable the PostgreSQL tests are skipped with a message saying how to run
/// them, except under CI (`CI` set), where they run and fail: a CI without its server must not
/// pass quietly.
enum PostgresTestServer {
    static let variable = "PROMPT_EVENTS_TEST_POSTGRES_URL"
    static let socketVariable = "PROMPT_EVENTS_TEST_POSTGRES_SOCKET_URL"

    static var url: String? { ProcessInfo.processInfo.environment[variable] }

    /// Whether the PostgreSQL tests run: a server is named, or CI requires them.
    static var isEnabled: Bool { url != nil || ProcessInfo.processInfo.environment["CI"] != nil }

    static let skipped: Comment =
        "no PostgreSQL: run `source $(bash scripts/postgres.sh start /tmp/pe-postgres)` first (stop it with `bash scripts/postgres.sh stop /tmp/pe-postgres`)"

    /// The server's URL, or an error saying it is missing.
    static func serverURL(_ variable: String = variable) throws -> PostgresURL {
        guard let text = ProcessInfo.processInfo.environment[variable] else {
            throw PostgresError(
                .invalidConfiguration,
                "\(variable) is not set: CI must start PostgreSQL with scripts/postgres.sh before the tests"
            )
        }
        return try PostgresURL(text, environment: [:])
    }

    /// A schema name no other test uses.
    static func freshSchema() -> String {
        "pe_test_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
    }

    /// A connection of its own, for a test to look at or change the database behind a store.
    static func connect() throws -> PostgresConnection {
        try PostgresConnection.connect(to: try serverURL(), timeout: .seconds(10))
    }

    /// Drops a test's schema and everything in it.
    static func drop(schema: String) {
        guard let connection = try? connect() else { return }
        try? connection.execute(script: "DROP SCHEMA IF EXISTS \(schema) CASCADE")
        connection.close()
    }
}
