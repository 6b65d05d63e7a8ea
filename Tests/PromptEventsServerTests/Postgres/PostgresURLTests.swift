import Foundation
import Testing

@testable import PromptEventsServer

@Suite struct PostgresURLTests {
    struct Valid: Sendable, CustomTestStringConvertible {
        let url: String
        let endpoint: PostgresURL.Endpoint
        let user: String
        let database: String
        let password: String?
        var testDescription: String { url }
    }

    static let valid: [Valid] = [
        Valid(
            url: "postgres://prompt@127.0.0.1:5433/events",
            endpoint: .tcp(host: "127.0.0.1", port: 5433),
            user: "prompt",
            database: "events",
            password: nil
        ),
        Valid(
            url: "postgresql://prompt:s%40cret@db.internal/events",
            endpoint: .tcp(host: "db.internal", port: 5432),
            user: "prompt",
            database: "events",
            password: "s@cret"
        ),
        Valid(
            url: "postgres://prompt@[::1]:6000/events",
            endpoint: .tcp(host: "::1", port: 6000),
            user: "prompt",
            database: "events",
            password: nil
        ),
        Valid(
            url: "postgres://prompt@/events?host=/run/postgresql",
            endpoint: .unixSocket(directory: "/run/postgresql", port: 5432),
            user: "prompt",
            database: "events",
            password: nil
        ),
        Valid(
            url: "postgres://prompt:pw@/events?host=%2Ftmp%2Fpg&port=6001",
            endpoint: .unixSocket(directory: "/tmp/pg", port: 6001),
            user: "prompt",
            database: "events",
            password: "pw"
        ),
        Valid(
            url: "postgres://prompt@localhost",
            endpoint: .tcp(host: "localhost", port: 5432),
            user: "prompt",
            database: "prompt",
            password: nil
        ),
    ]

    @Test(arguments: valid)
    func aValidURLIsParsed(_ sample: Valid) throws {
        let url = try PostgresURL(sample.url, environment: [:])
        #expect(url.endpoint == sample.endpoint)
        #expect(url.user == sample.user)
        #expect(url.database == sample.database)
        #expect(url.password == sample.password)
        #expect(!url.description.contains(":pw@") && !url.description.contains("cret"))
    }

    static let invalid: [String] = [
        "mysql://prompt:hunter2@127.0.0.1/events",
        "postgres://prompt:hunter2@127.0.0.1:99999/events",
        "postgres://prompt:hunter2@127.0.0.1:port/events",
        "postgres://prompt:hunter2@/events",
        "postgres://prompt:hunter2@/events?host=relative",
        "postgres://prompt:hunter2%zz@127.0.0.1/events",
        "127.0.0.1:5432/events",
    ]

    @Test(arguments: invalid)
    func anInvalidURLIsRefusedWithoutItsPassword(_ text: String) {
        let error = #expect(throws: PostgresError.self) { try PostgresURL(text, environment: ["USER": "x"]) }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.description.contains("hunter2") == false)
    }

    @Test func thePasswordComesFromTheEnvironmentOrThePasswordFile() throws {
        let fromEnvironment = try PostgresURL("postgres://prompt@127.0.0.1/events", environment: ["PGPASSWORD": "pw1"])
        #expect(fromEnvironment.password == "pw1")
        let directory = try TemporaryDirectory()
        let file = directory.path + "/pgpass"
        try "# comment\nother:5432:*:*:no\n127.0.0.1:5432:events:prompt:pw2\n".write(
            toFile: file,
            atomically: true,
            encoding: .utf8
        )
        let fromFile = try PostgresURL("postgres://prompt@127.0.0.1/events", environment: ["PGPASSFILE": file])
        #expect(fromFile.password == "pw2")
        let urlWins = try PostgresURL("postgres://prompt:pw3@127.0.0.1/events", environment: ["PGPASSWORD": "pw1"])
        #expect(urlWins.password == "pw3")
    }

    @Test(arguments: [
        ("postgres://u@127.0.0.1/d", true), ("postgres://u@10.1.2.3/d", true), ("postgres://u@172.20.0.1/d", true),
        ("postgres://u@192.168.1.1/d", true), ("postgres://u@/d?host=/tmp", true), ("postgres://u@[::1]/d", true),
        ("postgres://u@203.0.113.9/d", false), ("postgres://u@fdb.example.com/d", false),
        ("postgres://u@[fc00::5]/d", true), ("postgres://u@[2001:db8::1]/d", false),
        ("postgres://u@172.32.0.1/d", false),
        ("postgres://u@db.example.com/d", false),
    ])
    func aServerOffLoopbackOrAPrivateNetworkIsNoticed(_ text: String, _ isPrivate: Bool) throws {
        #expect(try PostgresURL(text, environment: [:]).isLoopbackOrPrivate == isPrivate)
    }
}
