import DogCEOExample
import Foundation
import Hummingbird
import PromptEvents
import PromptEventsServer
import Testing

/// A local stand-in for the Dog CEO API: `GET /api/breeds/image/random`, with the first
/// `failures` requests answered 503.
final class DogAPIStub: Sendable {
    static let picture = "https://images.dog.ceo/breeds/x.jpg"

    let failures: Int
    private let hits = Locked(0)

    init(failures: Int = 0) {
        self.failures = failures
    }

    /// The number of requests served so far.
    var requestCount: Int { hits.value }

    /// Runs the stub on 127.0.0.1 and a free port for the duration of `body`, which receives the
    /// base URL to configure (`http://127.0.0.1:PORT/api`).
    func run(_ body: (_ baseURL: String) async throws -> Void) async throws {
        let router = Router()
        router.get("api/breeds/image/random") { _, _ -> Response in
            let count = self.hits.withLock { count in
                count += 1
                return count
            }
            guard count > self.failures else { return Response(status: .serviceUnavailable) }
            let json = #"{"message":"\#(Self.picture)","status":"success"}"#
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: json))
            )
        }
        let boundPort = BoundPort()
        let report = boundPort.report
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in await report(channel.localAddress?.port ?? 0) },
            logger: quietLogger
        )
        try await withRunningApplication(app, boundPort: boundPort) { port in
            try await body("http://127.0.0.1:\(port)/api")
        }
    }
}

@Suite("Dog CEO next steps")
struct DogCEOTests {
    /// Starts the example's durable listener, with a journal in a fresh temporary directory, on
    /// 127.0.0.1 and a free port for the duration of `body`; then stops it and removes the journal.
    func withDogListener(
        dogAPI: String,
        crm: InMemoryCRM,
        failures: Recorder<String> = Recorder(),
        _ body: (_ baseURL: String) async throws -> Void
    ) async throws {
        let journal = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: journal) }
        let avatars = DogAvatars(pictures: try DogCEOClient(baseURLString: dogAPI, timeout: .seconds(5)), crm: crm)
        let listener = try avatars.makeListener(
            hubSecret: Fixtures.secret,
            port: 0,
            journalDirectory: journal,
            retryPolicy: RetryPolicy(
                maximumAttempts: 5,
                baseDelay: .milliseconds(50),
                maximumDelay: .milliseconds(200)
            ),
            onError: { error in await failures.record(error.description) }
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

    @Test("customer/added gives the customer a dog picture in the CRM", .timeLimit(.minutes(1)))
    func customerAddedSetsAvatar() async throws {
        let stub = DogAPIStub()
        let crm = InMemoryCRM()
        try await stub.run { dogAPI in
            try await withDogListener(dogAPI: dogAPI, crm: crm) { baseURL in
                let answer = try await HTTP.postEvent(
                    to: baseURL,
                    kind: "customer/added",
                    body: Fixtures.customerAdded(orgID: 12_345, customerID: 9_876_543_210_123, name: "Ana"),
                    signingSecret: Fixtures.secret
                )
                #expect(answer.status == 200)
                try await waitUntil("the CRM update") { await !crm.updates.isEmpty }
            }
        }
        let updates = await crm.updates
        try #require(updates.count == 1)
        #expect(updates[0].organizationID == 12_345)
        #expect(updates[0].customer.id == 9_876_543_210_123)
        #expect(updates[0].customer.displayName == "Ana")
        #expect(updates[0].customer.phoneNumbers == ["+15551234567"])
        #expect(updates[0].picture.absoluteString == DogAPIStub.picture)
        #expect(stub.requestCount == 1)
    }

    @Test("A wrong signature is answered 401 and fetches no picture", .timeLimit(.minutes(1)))
    func wrongSignatureIsRejected() async throws {
        let stub = DogAPIStub()
        let crm = InMemoryCRM()
        try await stub.run { dogAPI in
            try await withDogListener(dogAPI: dogAPI, crm: crm) { baseURL in
                let forged = try await HTTP.postEvent(
                    to: baseURL,
                    kind: "customer/added",
                    body: Fixtures.customerAdded(orgID: 1, customerID: 666, name: "Mallory"),
                    signingSecret: Fixtures.wrongSecret
                )
                #expect(forged.status == 401)
                // Once a genuine event sent after it has been handled, the forged one can be seen
                // not to have run.
                let genuine = try await HTTP.postEvent(
                    to: baseURL,
                    kind: "customer/added",
                    body: Fixtures.customerAdded(orgID: 2, customerID: 42, name: "Bob"),
                    signingSecret: Fixtures.secret
                )
                #expect(genuine.status == 200)
                try await waitUntil("the CRM update") { await !crm.updates.isEmpty }
            }
        }
        #expect(await crm.updates.map(\.customer.id) == [42])
        #expect(stub.requestCount == 1)
    }

    @Test("A failing Dog API is retried until the CRM gets its picture", .timeLimit(.minutes(1)))
    func failedFetchIsRetried() async throws {
        let stub = DogAPIStub(failures: 2)
        let crm = InMemoryCRM()
        let failures = Recorder<String>()
        try await stub.run { dogAPI in
            try await withDogListener(dogAPI: dogAPI, crm: crm, failures: failures) { baseURL in
                let answer = try await HTTP.postEvent(
                    to: baseURL,
                    kind: "customer/added",
                    body: Fixtures.customerAdded(orgID: 3, customerID: 7, name: "Retry"),
                    signingSecret: Fixtures.secret
                )
                #expect(answer.status == 200)  // journaled: acknowledged before the fetch
                try await waitUntil("the CRM update after retries") { await !crm.updates.isEmpty }
            }
        }
        #expect(await crm.updates.map(\.customer.id) == [7])
        #expect(stub.requestCount == 3)
        let failure = "handler 'dog-avatar' for customer/added failed: the Dog API answered HTTP 503"
        #expect(await failures.values == [failure, failure])
    }

    @Test("The client reads the picture URL from the API's answer", .timeLimit(.minutes(1)))
    func clientReadsPicture() async throws {
        try await DogAPIStub().run { dogAPI in
            let client = try DogCEOClient(baseURLString: dogAPI)
            #expect(client.randomPictureURL.absoluteString == dogAPI + "/breeds/image/random")
            #expect(try await client.randomPicture().absoluteString == DogAPIStub.picture)
        }
    }

    @Test(
        "The client reports a non-200 answer, an unreachable API and a base URL that is not http(s)",
        .timeLimit(.minutes(1))
    )
    func clientReportsErrors() async throws {
        try await DogAPIStub(failures: 1).run { dogAPI in
            await #expect(throws: DogCEOError.httpStatus(503)) {
                try await DogCEOClient(baseURLString: dogAPI).randomPicture()
            }
        }
        #expect(throws: DogCEOError.invalidBaseURL("dog.ceo/api")) {
            try DogCEOClient(baseURLString: "dog.ceo/api")
        }
        #expect(try DogCEOClient().baseURL.absoluteString == "https://dog.ceo/api")
        let unreachable = await #expect(throws: DogCEOError.self) {
            try await DogCEOClient(baseURLString: "http://127.0.0.1:1/api", timeout: .seconds(5)).randomPicture()
        }
        guard case .unreachable = unreachable else {
            Issue.record("expected .unreachable for a closed port, got \(String(describing: unreachable))")
            return
        }
    }
}
