import HummingbirdExample
import PromptEvents
import Testing

@Suite("Hummingbird embedding")
struct HummingbirdEmbeddingTests {
    /// What the message/added handler saw: the organization and the message text.
    struct Seen: Sendable, Equatable {
        var orgID: Int64?
        var text: String?
    }

    /// A message/added handler that records what it saw.
    static func recording(into seen: Recorder<Seen>) -> @Sendable (Event<MessageAdded>) async throws -> Void {
        { event in await seen.record(Seen(orgID: event.orgID, text: event.json["message"]?["text"]?.string)) }
    }

    /// Runs the example application on 127.0.0.1 and a free port for the duration of `body`.
    func withExampleApp(
        maxBodyBytes: Int = 1 << 20,
        onMessageAdded: @escaping @Sendable (Event<MessageAdded>) async throws -> Void,
        _ body: (_ baseURL: String) async throws -> Void
    ) async throws {
        let configuration = PromptAppConfiguration(hubSecret: Fixtures.secret, port: 0, maxBodyBytes: maxBodyBytes)
        let boundPort = BoundPort()
        let app = buildApplication(
            configuration: configuration,
            logger: quietLogger,
            onServerRunning: boundPort.report,
            onMessageAdded: onMessageAdded
        )
        try await withRunningApplication(app, boundPort: boundPort) { port in
            try await body("http://127.0.0.1:\(port)/prompt")
        }
    }

    @Test("A signed message/added runs the handler with the decoded orgId and text", .timeLimit(.minutes(1)))
    func signedEventRunsHandler() async throws {
        let seen = Recorder<Seen>()
        try await withExampleApp(onMessageAdded: Self.recording(into: seen)) { baseURL in
            let answer = try await HTTP.postEvent(
                to: baseURL,
                kind: "message/added",
                body: Fixtures.messageAdded(orgID: 4242, text: "see you at 3pm"),
                signingSecret: Fixtures.secret
            )
            #expect(answer.status == 200)
            #expect(answer.body == "OK\n")
            // respond(to:) runs the handlers before answering, so they have run by now.
            #expect(await seen.values == [Seen(orgID: 4242, text: "see you at 3pm")])
        }
    }

    @Test("A wrong signature is answered 401 and runs no handler", .timeLimit(.minutes(1)))
    func wrongSignatureIsRejected() async throws {
        let seen = Recorder<Seen>()
        try await withExampleApp(onMessageAdded: Self.recording(into: seen)) { baseURL in
            let answer = try await HTTP.postEvent(
                to: baseURL,
                kind: "message/added",
                body: Fixtures.messageAdded(orgID: 1, text: "forged"),
                signingSecret: Fixtures.wrongSecret
            )
            #expect(answer.status == 401)
            #expect(answer.body == "Unauthorized\n")
            #expect(await seen.values.isEmpty)
        }
    }

    @Test("The base path takes its kind from Prompt-EventType", .timeLimit(.minutes(1)))
    func basePathUsesEventTypeHeader() async throws {
        let seen = Recorder<Seen>()
        try await withExampleApp(onMessageAdded: Self.recording(into: seen)) { baseURL in
            let body = Array(Fixtures.messageAdded(orgID: 7, text: "header").utf8)
            let signature = HubSignature.sign(body, secret: Fixtures.secret)
            let answer = try await HTTP.send(
                "POST",
                baseURL,
                headers: [("Prompt-EventType", "message/added"), (signature.name, signature.value)],
                body: body
            )
            #expect(answer.status == 200)
            #expect(await seen.values == [Seen(orgID: 7, text: "header")])
        }
    }

    @Test("A throwing handler is answered 500", .timeLimit(.minutes(1)))
    func throwingHandlerAnswers500() async throws {
        struct CRMDown: Error {}
        let failing: @Sendable (Event<MessageAdded>) async throws -> Void = { _ in throw CRMDown() }
        try await withExampleApp(onMessageAdded: failing) { baseURL in
            let answer = try await HTTP.postEvent(
                to: baseURL,
                kind: "message/added",
                body: Fixtures.messageAdded(orgID: 1, text: "x"),
                signingSecret: Fixtures.secret
            )
            #expect(answer.status == 500)
            #expect(answer.body == "Handler failed\n")
        }
    }

    @Test("A body over the limit is answered 413 without running the handler", .timeLimit(.minutes(1)))
    func oversizedBodyIsRejected() async throws {
        let seen = Recorder<Seen>()
        try await withExampleApp(maxBodyBytes: 32, onMessageAdded: Self.recording(into: seen)) { baseURL in
            let answer = try await HTTP.postEvent(
                to: baseURL,
                kind: "message/added",
                body: Fixtures.messageAdded(orgID: 1, text: String(repeating: "x", count: 100)),
                signingSecret: Fixtures.secret
            )
            #expect(answer.status == 413)
            #expect(await seen.values.isEmpty)
        }
    }
}
