import CustomListenerExample
import PromptEvents
import PromptEventsServer
import Testing

@Suite("Custom listener")
struct CustomListenerTests {
    /// What the two closures saw.
    actor Seen {
        var messageOrgIDs: [Int64?] = []
        var optOutNumbers: [[String]] = []

        func message(_ orgID: Int64?) { messageOrgIDs.append(orgID) }
        func optOut(_ numbers: [String]) { optOutNumbers.append(numbers) }
        var count: Int { messageOrgIDs.count + optOutNumbers.count }
    }

    /// Starts the example listener on 127.0.0.1 and a free port for the duration of `body`,
    /// then shuts it down and waits for it to stop, also when `body` throws.
    func withExampleListener(
        seen: Seen,
        observer: @escaping @Sendable (ListenerEvent) -> Void = { _ in },
        _ body: (_ baseURL: String) async throws -> Void
    ) async throws {
        let handlers = CustomListenerHandlers(
            onMessageAdded: { event in await seen.message(event.orgID) },
            onCustomerOptOut: { event in await seen.optOut(event.payload.customer?.phoneNumbers ?? []) }
        )
        let listener = try TwoKindListener.makeListener(
            hubSecret: Fixtures.secret,
            port: 0,
            handlers: handlers,
            observer: observer
        )
        listener.start()
        do {
            try await body(listener.address.url)
        } catch {
            listener.shutdown()
            await listener.wait()
            throw error
        }
        listener.shutdown()
        await listener.wait()
    }

    @Test("A signed event of each kind runs its closure with the decoded fields", .timeLimit(.minutes(1)))
    func signedEventsRunTheirClosures() async throws {
        let seen = Seen()
        try await withExampleListener(seen: seen) { baseURL in
            let message = try await HTTP.postEvent(
                to: baseURL,
                kind: "message/added",
                body: Fixtures.messageAdded(orgID: 31, text: "hello"),
                signingSecret: Fixtures.secret
            )
            let optOut = try await HTTP.postEvent(
                to: baseURL,
                kind: "customer/optOut",
                body: Fixtures.customerOptOut(orgID: 32, phone: "+15550001111"),
                signingSecret: Fixtures.secret
            )
            #expect(message.status == 200)
            #expect(optOut.status == 200)
            // In-memory acknowledgement answers first and runs the handlers after.
            try await waitUntil("both closures") {
                await seen.count == 2
            }
            #expect(await seen.messageOrgIDs == [31])
            #expect(await seen.optOutNumbers == [["+15550001111"]])
        }
    }

    @Test("A wrong signature is answered 401 and runs no closure", .timeLimit(.minutes(1)))
    func wrongSignatureIsRejected() async throws {
        let seen = Seen()
        let records = Locked<[RequestRecord]>([])
        let observer: @Sendable (ListenerEvent) -> Void = { event in
            if let record = event.request { records.withLock { $0.append(record) } }
        }
        try await withExampleListener(seen: seen, observer: observer) { baseURL in
            let forged = try await HTTP.postEvent(
                to: baseURL,
                kind: "message/added",
                body: Fixtures.messageAdded(orgID: 666, text: "forged"),
                signingSecret: Fixtures.wrongSecret
            )
            #expect(forged.status == 401)
            #expect(forged.body == "Unauthorized\n")

            // A rejected delivery never reaches the handlers; once a genuine one sent after it
            // has been handled, the forged one can be seen not to have run.
            let genuine = try await HTTP.postEvent(
                to: baseURL,
                kind: "message/added",
                body: Fixtures.messageAdded(orgID: 33, text: "genuine"),
                signingSecret: Fixtures.secret
            )
            #expect(genuine.status == 200)
            try await waitUntil("the genuine event") { await seen.messageOrgIDs.count == 1 }
            #expect(await seen.messageOrgIDs == [33])
        }
        let rejected = records.value.filter { $0.status == 401 }
        #expect(rejected.map(\.reason) == ["signature_mismatch"])
    }
}
