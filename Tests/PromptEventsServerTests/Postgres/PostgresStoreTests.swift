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
        // The second instance learns it when committing: not stored, reported as a duplicate.
        guard case .appended(let repeated) = try Self.append(second, "{}", key: "k"),
            case .appended(let other) = try Self.append(second, #"{"n":2}"#, key: "other")
        else {
            Issue.record("not appended")
            return
        }
        #expect(try second.commit().duplicates == [repeated.id: original.id])
        #expect(other.id != original.id)
        let pending = try first.entries(matching: JournalQuery(states: [.pending]))
        #expect(pending.map(\.id) == [original.id, other.id].sorted())
    }

    @Test func theSameKeyCommittedByTwoInstancesAtOnceIsStoredOnce() async throws {
        let schema = Schema()
        let stores = [try schema.store(), try schema.store()]
        for round in 0..<20 {
            let key = "same-\(round)"
            var ids: [UInt64] = []
            for store in stores {
                guard case .appended(let record) = try Self.append(store, #"{"round":\#(round)}"#, key: key) else {
                    Issue.record("not appended")
                    return
                }
                ids.append(record.id)
            }
            async let first = Task.detached { try stores[0].commit() }.value
            async let second = Task.detached { try stores[1].commit() }.value
            let reports = try await [first, second]
            // Exactly one of the two stored it; the other names it as the original.
            let duplicates = reports.flatMap(\.duplicates)
            #expect(duplicates.count == 1, "round \(round)")
            if let (duplicate, original) = duplicates.first {
                #expect(Set([duplicate, original]) == Set(ids))
            }
        }
        #expect(try stores[0].entries(matching: JournalQuery(states: [.pending])).count == 20)
    }

    @Test func aDeadInstancesDeliveriesAreTakenOverOnceItsLeaseLapses() async throws {
        let schema = Schema()
        let lease: (inout PostgresDeliveryStore.Configuration) -> Void = { $0.lease = .milliseconds(600) }
        // An instance SIGKILLed after its commit: never closed, its leases stay until they lapse.
        let dead = try schema.store(configure: lease)
        let ids = try (1...2).map { n -> UInt64 in
            guard case .appended(let record) = try Self.append(dead, #"{"n":\#(n)}"#) else { return 0 }
            return record.id
        }
        try dead.commit()
        let survivor = try schema.store(configure: lease)
        let bystander = try schema.store(configure: lease)
        #expect(try survivor.pendingEntries().isEmpty, "taken while the lease was live")
        try await Task.sleep(for: .milliseconds(800))
        #expect(try survivor.renewClaims().map(\.id) == ids)
        // Claimed once: the other instance finds nothing, now or after renewals.
        #expect(try bystander.renewClaims().isEmpty)
        try await Task.sleep(for: .milliseconds(800))
        _ = try survivor.renewClaims()
        #expect(try bystander.renewClaims().isEmpty, "a renewed lease lapsed")
    }

    /// A commit whose answer was lost stores rows the instance then answered 503 for and never
    /// dispatches; they carry its name, but it does not hold them, so they must not stay leased.
    @Test func aRowStoredUnknowinglyIsClaimedOnceItsLeaseLapsesEvenByItsOwner() throws {
        let schema = Schema()
        let store = try schema.store()
        let admin = try PostgresTestServer.connect()
        try admin.execute(
            script: """
                INSERT INTO \(schema.name).deliveries (id, kind, received_at, method, target, headers, body, state,
                    key_counts_when_done, lease_owner, lease_expires_at)
                VALUES (99999, 'message/added', now(), 'POST', '/message/added', '', '{}', 'pending', false,
                    '\(store.owner)', now() - interval '1 second')
                """
        )
        #expect(try store.renewClaims().map(\.id) == [99999])
        // Now held: renewed, not claimed again.
        #expect(try store.renewClaims().isEmpty)
    }

    @Test func aStoreClosedCleanlyHandsItsPendingDeliveriesOverAtOnce() throws {
        let schema = Schema()
        let leaving = try schema.store()
        guard case .appended(let record) = try Self.append(leaving, "{}") else {
            Issue.record("not appended")
            return
        }
        try leaving.commit()
        try leaving.close()
        #expect(try schema.store().pendingEntries().map(\.id) == [record.id])
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

    @Test func aConnectionEndedBetweenGroupsIsReplacedAndTheCommitGoesThrough() throws {
        let schema = Schema()
        let store = try schema.store()
        _ = try Self.append(store, #"{"n":1}"#)
        try store.commit()
        _ = try Self.append(store, #"{"n":2}"#)
        // The server ends the store's connections (as a restart does) while the group waits.
        let admin = try PostgresTestServer.connect()
        // (Only this store's: their last statement names its schema; other tests run meanwhile.)
        let terminated = try admin.rows(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()",
            [.text("%\(schema.name).%")]
        )
        #expect(!terminated.isEmpty)
        // The commit finds its connection gone before its statement ran, and retries on a new one.
        try store.commit()
        let bodies = try store.pendingEntries().map { String(decoding: $0.record.body, as: UTF8.self) }
        #expect(bodies == [#"{"n":1}"#, #"{"n":2}"#])
    }

    @Test func theSameBodySentToTwoListenersIsOneRowAndOneHandlerRun() async throws {
        let schema = Schema()
        let url = try PostgresTestServer.serverURL()
        let runs = Locked(0)
        let listeners = try (0..<2).map { _ in
            try TestListener {
                $0.store = .postgres(url, schema: schema.name)
            } register: { receiver in
                receiver.on(.messageAdded, name: "count") { _ in runs.withLock { $0 += 1 } }
            }
        }
        let (body, headers) = TestListener.signed(#"{"orgId":1,"message":{"id":8}}"#)
        let client = HTTPClient()
        var answers: [ResponseParser.Response] = []
        for listener in listeners {
            let target = try HTTPURL(listener.url + "/message/added")
            answers.append(try client.send(method: "POST", url: target, headers: Headers(headers), body: body))
        }
        #expect(answers.map(\.status) == [200, 200])
        #expect(answers.map { $0.headers["Prompt-Listen-Duplicate"] } == [nil, "true"])
        _ = await listeners[0].received(atLeast: 1)
        try await Task.sleep(for: .milliseconds(300))
        #expect(runs.withLock { $0 } == 1)
        let connection = try PostgresTestServer.connect()
        #expect(try connection.rows("SELECT id FROM \(schema.name).deliveries").count == 1)
        for listener in listeners { await listener.stop() }
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

extension PostgresStoreTests {
    /// `replay` runs a dispatcher of its own with its own actions: it must run what it selects
    /// and nothing else, not claim the pending work a dead instance left.
    @Test func aDispatcherThatDoesNotResumeDoesNotClaimEither() async throws {
        let schema = Schema()
        let lease: (inout PostgresDeliveryStore.Configuration) -> Void = { $0.lease = .milliseconds(300) }
        let dead = try schema.store(configure: lease)
        _ = try Self.append(dead, "{}")
        try dead.commit()
        let store = try schema.store(configure: lease)
        let handlers = ScriptedHandlers(names: ["replay-action"]) { _, _, _ in }
        let dispatcher = Dispatcher(handlers: handlers, store: store, configuration: DispatcherConfiguration())
        try dispatcher.start(resumingPending: false)
        // Several renewal periods past the dead instance's lease.
        try await Task.sleep(for: .milliseconds(900))
        await dispatcher.shutdown(gracePeriod: .zero)
        #expect(handlers.runs("replay-action") == 0)
        #expect(try store.entries(matching: JournalQuery(states: [.pending])).count == 1)
    }

    @Test func aListenerWhoseStartUpReadFailsStillHandlesNewDeliveries() async throws {
        let role = try Role()
        let schema = Schema()
        var configuration = WebhookListener.Configuration(port: 0)
        configuration.store = .postgres(try role.url, schema: schema.name)
        let handled = Locked(0)
        var receiver = WebhookReceiver(authentication: Authentication(hubSecrets: [HubSecret(TestListener.secret)]))
        receiver.on(.messageAdded, name: "count") { _ in handled.withLock { $0 += 1 } }
        let listener = try WebhookListener(receiver: receiver, configuration: configuration)
        // The database goes away between opening the store and resuming its pending deliveries.
        try role.lockOut(true)
        listener.start()
        try await Task.sleep(for: .milliseconds(300))
        try role.lockOut(false)
        try await Task.sleep(for: .milliseconds(600))  // past the store's reconnect delay
        let (body, headers) = TestListener.signed(#"{"orgId":1}"#)
        let target = try HTTPURL("http://127.0.0.1:\(listener.address.port)/message/added")
        let response = try HTTPClient().send(method: "POST", url: target, headers: Headers(headers), body: body)
        #expect(response.status == 200)
        for _ in 0..<200 where handled.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(handled.withLock { $0 } == 1)
        listener.shutdown()
        await listener.wait()
    }

    @Test func healthRecoversWithoutADeliveryOnceTheDatabaseIsBack() async throws {
        let role = try Role()
        let schema = Schema()
        let store = try schema.store(url: try role.url)
        try role.lockOut(true)
        #expect(throws: PostgresError.self) { try store.renewClaims() }
        #expect(store.unavailability != nil)
        try role.lockOut(false)
        try await Task.sleep(for: .milliseconds(600))  // past the store's reconnect delay
        _ = try store.renewClaims()
        #expect(store.unavailability == nil)
    }
}
