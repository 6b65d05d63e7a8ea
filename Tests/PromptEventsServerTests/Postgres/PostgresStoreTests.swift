import Foundation
import PromptEvents
import Testing

@testable import PromptEventsServer

/// What only a shared store shows.
///
/// Several instances on one schema, migrations racing, bad credentials, a connection lost
/// inside a group, the listener end to end. Against the server
/// `PostgresTestServer` names; the contract every store shares is `DeliveryStoreConformanceTests`.
@Suite(.enabled(if: PostgresTestServer.isEnabled, PostgresTestServer.skipped), .serialized)
struct PostgresStoreTests {
    /// A fresh schema, dropped at the end.
    final class Schema: Sendable {
        let name = PostgresTestServer.freshSchema()
        deinit { PostgresTestServer.drop(schema: name) }

        func store(
            url: PostgresURL? = nil,
            configure: (inout PostgresDeliveryStore.Configuration) -> Void = { _ in }
        ) throws -> PostgresDeliveryStore {
            var configuration = PostgresDeliveryStore.Configuration(url: try url ?? PostgresTestServer.serverURL())
            configuration.schema = name
            configure(&configuration)
            return try PostgresDeliveryStore(configuration: configuration)
        }
    }

    static func append(_ store: PostgresDeliveryStore, _ body: String, key: String? = nil) throws
        -> Journal.AppendResult
    {
        try store.append(
            makeDelivery(body: body, receivedAt: Date()),
            kind: "message/added",
            deduplicationKey: key.map { Array($0.utf8) },
            acknowledgement: .durable,
            deadLetterReason: nil
        )
    }

    @Test func instancesOnOneSchemaShareDeduplicationAndOneIdSpace() throws {
        let schema = Schema()
        let first = try schema.store()
        let second = try schema.store()
        guard case .appended(let original) = try Self.append(first, "{}", key: "k") else {
            Issue.record("not appended")
            return
        }
        try first.commit()
        #expect(try Self.append(second, "{}", key: "k") == .duplicate(of: original.id))
        guard case .appended(let other) = try Self.append(second, #"{"n":2}"#, key: "other") else {
            Issue.record("not appended")
            return
        }
        try second.commit()
        #expect(other.id > original.id)
        #expect(try first.pendingEntries().map(\.id) == [original.id, other.id])
    }

    @Test func theSameKeyAppendedByTwoInstancesAtOnceIsStoredOnce() async throws {
        let schema = Schema()
        let stores = [try schema.store(), try schema.store()]
        // Each appends the key inside an open group; the second waits on the first's row lock
        // and, once the first commits, finds the key taken.
        let firstResult = try Self.append(stores[0], "{}", key: "same")
        let secondResult = Task.detached { try Self.append(stores[1], "{}", key: "same") }
        try await Task.sleep(for: .milliseconds(200))
        try stores[0].commit()
        let second = try await secondResult.value
        try stores[1].commit()
        guard case .appended(let record) = firstResult else {
            Issue.record("the first append was not appended")
            return
        }
        #expect(second == .duplicate(of: record.id))
        #expect(try stores[0].pendingEntries().count == 1)
    }

    @Test func instancesStartingAtOnceMigrateOnce() async throws {
        let schema = Schema()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 {
                group.addTask { _ = try schema.store() }
            }
            try await group.waitForAll()
        }
        let connection = try PostgresTestServer.connect()
        let versions = try connection.rows("SELECT version FROM \(schema.name).schema_version")
        #expect(try versions.map { try $0.int32(0) } == [Int32(PostgresSchema.currentVersion)])
    }

    @Test func aSchemaNewerThanThisBinaryIsRefused() throws {
        let schema = Schema()
        _ = try schema.store()
        let connection = try PostgresTestServer.connect()
        try connection.execute(script: "INSERT INTO \(schema.name).schema_version VALUES (99)")
        let error = #expect(throws: PostgresError.self) { try schema.store() }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains("version 99") == true)
    }

    @Test func aWrongPasswordIsRefusedWithoutNamingIt() throws {
        var url = try PostgresTestServer.serverURL()
        url.password = "not-the-password-4711"
        let error = #expect(throws: PostgresError.self) { try Schema().store(url: url) }
        #expect(error?.code == .authentication)
        #expect(error?.sqlState == "28P01")
        #expect(error?.description.contains("4711") == false)
    }

    @Test func nothingListeningIsAConnectionError() throws {
        var url = try PostgresTestServer.serverURL()
        // A port that was free a moment ago: bound, read, closed.
        let (fd, bound) = try Socket.listen(on: try SocketAddress.resolve(host: "127.0.0.1", port: 0), backlog: 1)
        Socket.close(fd)
        url.endpoint = .tcp(host: "127.0.0.1", port: bound.port)
        let error = #expect(throws: PostgresError.self) { try Schema().store(url: url) }
        #expect(error?.code == .connection)
    }

    @Test func aDatabaseThatDoesNotExistIsNamedByTheServer() throws {
        var url = try PostgresTestServer.serverURL()
        url.database = "no_such_database"
        let error = #expect(throws: PostgresError.self) { try Schema().store(url: url) }
        #expect(error?.sqlState == "3D000")
        #expect(error?.message.contains("no_such_database") == true)
    }

    @Test func aUnixSocketURLReachesTheSameServer() throws {
        let url = try PostgresTestServer.serverURL(PostgresTestServer.socketVariable)
        guard case .unixSocket = url.endpoint else {
            Issue.record("\(PostgresTestServer.socketVariable) is not a socket URL: \(url)")
            return
        }
        let schema = Schema()
        let store = try schema.store(url: url)
        _ = try Self.append(store, "{}")
        try store.commit()
        #expect(try store.pendingEntries().count == 1)
    }

    @Test func aConnectionLostInsideAGroupFailsTheGroupAndTheStoreReconnects() throws {
        let schema = Schema()
        let store = try schema.store()
        _ = try Self.append(store, #"{"n":1}"#)
        // The server ends the admission connection while its transaction is open.
        let admin = try PostgresTestServer.connect()
        let terminated = try admin.rows(
            """
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE application_name = 'prompt-listen' AND state = 'idle in transaction'
            """
        )
        #expect(terminated.count == 1)
        #expect(throws: PostgresError.self) { try Self.append(store, #"{"n":2}"#) }
        // Neither delivery of the group may be acknowledged.
        #expect(throws: PostgresError.self) { try store.commit() }
        // The next group runs on a new connection.
        guard case .appended(let record) = try Self.append(store, #"{"n":3}"#) else {
            Issue.record("not appended after reconnecting")
            return
        }
        try store.commit()
        #expect(try store.pendingEntries().map { String(decoding: $0.record.body, as: UTF8.self) } == [#"{"n":3}"#])
        #expect(try store.pendingEntries().map(\.id) == [record.id])
    }

    @Test func theListenerAcknowledgesAfterTheCommitAndRunsHandlersFromPostgres() async throws {
        let schema = Schema()
        let url = try PostgresTestServer.serverURL()
        let handled = Locked<[UInt64]>([])
        let server = try TestListener {
            $0.store = .postgres(url, schema: schema.name)
        } register: { receiver in
            receiver.on(.messageAdded, name: "record") { event in
                handled.withLock { $0.append(event.deliveryID ?? 0) }
            }
        }
        let (body, headers) = TestListener.signed(#"{"orgId":1,"message":{"id":7}}"#)
        let client = HTTPClient()
        let target = try HTTPURL(server.url + "/message/added")
        let first = try client.send(method: "POST", url: target, headers: Headers(headers), body: body)
        let again = try client.send(method: "POST", url: target, headers: Headers(headers), body: body)
        #expect(first.status == 200)
        #expect(again.status == 200)
        #expect(again.headers["Prompt-Listen-Duplicate"] == "true")
        _ = await server.received(atLeast: 1)
        let connection = try PostgresTestServer.connect()
        let rows = try connection.rows("SELECT id, body FROM \(schema.name).deliveries")
        #expect(rows.count == 1)
        #expect(try rows.first.map { try $0.bytes(1) } == body)
        for _ in 0..<200 where handled.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(10)) }
        let ids = try rows.map { try $0.id(0) }
        #expect(handled.withLock { $0 } == ids)
        await server.stop()
    }
}

extension PostgresStoreTests {
    /// A role of its own for a test that takes the database away from its listener: its
    /// connections are ended and its logins refused, while other tests go on.
    final class Role: Sendable {
        let name = "pe_role_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let password = "pw-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)

        init() throws {
            let admin = try PostgresTestServer.connect()
            try admin.execute(script: "CREATE ROLE \(name) LOGIN PASSWORD '\(password)'")
            try admin.execute(script: "GRANT CREATE ON DATABASE postgres TO \(name)")
        }

        deinit {
            guard let admin = try? PostgresTestServer.connect() else { return }
            try? admin.execute(
                script: "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '\(name)'"
            )
            try? admin.execute(script: "REVOKE CREATE ON DATABASE postgres FROM \(name)")
            try? admin.execute(script: "DROP ROLE IF EXISTS \(name)")
        }

        var url: PostgresURL {
            get throws {
                var url = try PostgresTestServer.serverURL()
                url.user = name
                url.password = password
                return url
            }
        }

        /// Ends the role's connections and refuses new ones, or lets them in again.
        func lockOut(_ locked: Bool) throws {
            let admin = try PostgresTestServer.connect()
            try admin.execute(script: "ALTER ROLE \(name) \(locked ? "NOLOGIN" : "LOGIN")")
            if locked {
                try admin.execute(
                    script: "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '\(name)'"
                )
            }
        }
    }

    @Test func whileTheDatabaseIsOutOfReachDeliveriesAre503AndHealthSaysWhyThenItRecovers() async throws {
        let role = try Role()
        let schema = Schema()
        let url = try role.url
        let server = try TestListener { $0.store = .postgres(url, schema: schema.name) }
        let client = HTTPClient()
        let events = try HTTPURL(server.url + "/message/added")
        let health = try HTTPURL(server.url + "/healthz")
        func post(_ n: Int) throws -> Int {
            let (body, headers) = TestListener.signed(#"{"orgId":1,"n":\#(n)}"#)
            return try client.send(method: "POST", url: events, headers: Headers(headers), body: body).status
        }
        #expect(try post(1) == 200)
        try role.lockOut(true)
        // The broken connection fails the first; reconnecting is refused for the rest.
        let during = try (2...4).map { try post($0) }
        #expect(during == [503, 503, 503])
        let unhealthy = try client.send(method: "GET", url: health, headers: Headers(), body: [])
        #expect(unhealthy.status == 503)
        let reason = String(decoding: unhealthy.body, as: UTF8.self)
        #expect(reason.hasPrefix("store unavailable: "), "\(reason)")
        #expect(!reason.contains(role.password))
        try role.lockOut(false)
        // Reconnection attempts are spaced by the store's reconnect delay (500 ms).
        var status = 0
        for n in 5..<50 where status != 200 {
            status = try post(n)
            if status != 200 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(status == 200)
        #expect(try client.send(method: "GET", url: health, headers: Headers(), body: []).status == 200)
        await server.stop()
        let admin = try PostgresTestServer.connect()
        let stored = try admin.rows("SELECT count(*) FROM \(schema.name).deliveries")
        #expect(try stored.first?.int64(0) == 2)
    }
}
