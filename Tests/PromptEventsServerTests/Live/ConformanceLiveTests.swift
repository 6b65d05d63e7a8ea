import Foundation
import PromptEvents
import Testing

@testable import PromptEventsServer

/// Regressions for defects found by testing against an outside corpus (issue 20), against the
/// real server on 127.0.0.1:0.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ConformanceLiveTests {
    /// RFC 9112 §9.3 and Appendix C.2.2: an HTTP/1.0 client asking for keep-alive is told the
    /// connection stays open — in every acknowledgement mode, including the answer sent after
    /// the journal's group commit (it used to lack the header there).
    @Test(arguments: AcknowledgementMode.allCases)
    func http10KeepAliveIsAnsweredWithTheHeaderInEveryMode(mode: AcknowledgementMode) async throws {
        let server = try TestListener(authentication: .open) { $0.acknowledgement = mode }
        let client = try RawClient(port: server.port)
        for index in 1...2 {
            let body = "{\"orgId\":\(index)}"
            client.send(
                "POST /message/added HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            )
            let response = try #require(await client.readResponses(1).first, "\(mode): answer \(index)")
            #expect(response.hasPrefix("HTTP/1.1 200 OK"), "\(mode): \(response)")
            #expect(response.lowercased().contains("\r\nconnection: keep-alive\r\n"), "\(mode): \(response)")
        }
        #expect(Set(await server.received(atLeast: 2).compactMap(\.orgID)) == [1, 2])
        await server.stop()
    }

    /// An HTTP/1.0 request without keep-alive is answered and closed, with no keep-alive header.
    @Test(arguments: AcknowledgementMode.allCases)
    func http10WithoutKeepAliveIsClosed(mode: AcknowledgementMode) async throws {
        let server = try TestListener(authentication: .open) { $0.acknowledgement = mode }
        let client = try RawClient(port: server.port)
        client.send("POST /message/added HTTP/1.0\r\nContent-Length: 11\r\n\r\n{\"orgId\":1}")
        let (text, closed) = await client.read()
        #expect(text.hasPrefix("HTTP/1.1 200 OK"), "\(mode): \(text)")
        #expect(!text.lowercased().contains("keep-alive"), "\(mode): \(text)")
        #expect(closed)
        await server.stop()
    }

    /// A kind with a `..` segment or an encoded separator never reaches a handler or the journal.
    @Test(arguments: ["/../../etc/passwd", "/message/%2E%2E/x", "/a%2Fb", "/a%00b", "/a%5Cb"])
    func unsafeEventPathsAreRefusedAndNothingIsStored(_ path: String) async throws {
        let server = try TestListener()
        let (body, headers) = TestListener.signed(LiveServerTests.body)
        let client = try RawClient(port: server.port)
        let head = headers.map { "\($0.0): \($0.1)\r\n" }.joined()
        client.send(bytes("POST \(path) HTTP/1.1\r\nHost: x\r\n\(head)Content-Length: \(body.count)\r\n\r\n") + body)
        let response = try #require(await client.readResponses(1).first)
        #expect(response.hasPrefix("HTTP/1.1 400 Bad Request"), "\(response)")
        #expect(server.listener.metrics.snapshot.rejected["unsafe_path"] == 1)
        let journal = try #require(server.listener.journal)
        #expect(try journal.entries().isEmpty)
        #expect(server.events.isEmpty)
        await server.stop()
    }

    /// Each counter against the requests that produced it.
    @Test func everyCounterMatchesTheRequestsThatProducedIt() async throws {
        let server = try TestListener()
        func post(_ path: String, _ body: [UInt8], _ headers: [(String, String)]) async -> String {
            guard let client = try? RawClient(port: server.port) else { return "no connection" }
            let head = headers.map { "\($0.0): \($0.1)\r\n" }.joined()
            client.send(
                bytes("POST \(path) HTTP/1.1\r\nHost: x\r\n\(head)Content-Length: \(body.count)\r\n\r\n") + body
            )
            return await client.readResponses(1).first ?? "no answer"
        }
        let first = TestListener.signed(#"{"orgId":1}"#)
        let second = TestListener.signed(#"{"orgId":2}"#)
        let notJSON = TestListener.signed("not json")
        let forged = (first.body, [("X-Hub-Signature", "sha1=" + String(repeating: "0", count: 40))])
        #expect(await post("/message/added", first.body, first.headers).hasPrefix("HTTP/1.1 200"))
        #expect(await post("/message/added", second.body, second.headers).hasPrefix("HTTP/1.1 200"))
        #expect(await post("/message/added", first.body, first.headers).hasPrefix("HTTP/1.1 200"))  // duplicate
        #expect(await post("/message/added", notJSON.body, notJSON.headers).hasPrefix("HTTP/1.1 400"))
        #expect(await post("/message/added", forged.0, forged.1).hasPrefix("HTTP/1.1 401"))
        #expect(await post("/../x", first.body, first.headers).hasPrefix("HTTP/1.1 400"))
        let health = try RawClient(port: server.port)
        health.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await health.readResponses(1).first?.hasPrefix("HTTP/1.1 200") == true)
        _ = await server.received(atLeast: 2)
        let snapshot = server.listener.metrics.snapshot
        #expect(snapshot.received == 6)  // every webhook request; not /healthz
        #expect(snapshot.authenticated == 4)  // two events, the duplicate, the body that is not JSON
        #expect(snapshot.duplicates == 1)
        #expect(snapshot.rejected == ["malformed_body": 1, "signature_mismatch": 1, "unsafe_path": 1])
        #expect(snapshot.dispatched == 2)
        #expect(snapshot.deadLetters == 1)  // the body that is not JSON, kept
        await server.stop()
    }

    // MARK: - Promises of Server.md that had no test

    /// Server.md "Shutdown": a request in progress finishes and is answered with
    /// `Connection: close`; a new request on an open connection gets `503 Shutting down`; a
    /// health check gets `503 draining`; each with `Retry-After: 5`.
    @Test func shutdownFinishesRequestsInProgressAndRefusesNewOnes() async throws {
        let server = try TestListener(authentication: .open)
        let inProgress = try RawClient(port: server.port)
        let idleThenEvent = try RawClient(port: server.port)
        let idleThenHealth = try RawClient(port: server.port)
        // Keep the two idle connections open across the shutdown with a first request each.
        for client in [idleThenEvent, idleThenHealth] {
            client.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await client.readResponses(1).first?.hasPrefix("HTTP/1.1 200") == true)
        }
        inProgress.send("POST /message/added HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n{\"org")
        idleThenEvent.send("POST /message/added HTTP/1.1\r\nHost: x\r\nContent-")
        idleThenHealth.send("GET /healthz HTTP/1.1\r\nHo")
        try await Task.sleep(for: .milliseconds(100))
        server.listener.shutdown()
        try await Task.sleep(for: .milliseconds(100))
        inProgress.send("Id\":1}")
        idleThenEvent.send("Length: 11\r\n\r\n{\"orgId\":2}")
        idleThenHealth.send("st: x\r\n\r\n")
        let finished = try #require(await inProgress.readResponses(1).first)
        #expect(finished.hasPrefix("HTTP/1.1 200 OK"), "\(finished)")
        #expect(finished.lowercased().contains("\r\nconnection: close\r\n"))
        let refused = try #require(await idleThenEvent.readResponses(1).first)
        #expect(refused.hasPrefix("HTTP/1.1 503"), "\(refused)")
        #expect(refused.contains("Retry-After: 5") && refused.hasSuffix("Shutting down\n"), "\(refused)")
        let health = try #require(await idleThenHealth.readResponses(1).first)
        #expect(health.hasPrefix("HTTP/1.1 503") && health.hasSuffix("draining\n"), "\(health)")
        #expect(health.contains("Retry-After: 5"))
        await server.listener.wait()
        #expect(server.events.compactMap(\.orgID) == [1])
        await server.stop()
    }

    /// Server.md: a request whose answer waits for the handlers is not subject to the head,
    /// body or idle timeouts — the server is the one waiting.
    @Test func aRequestWaitingForItsHandlersIsNotTimedOut() async throws {
        let server = try TestListener(authentication: .open) {
            $0.acknowledgement = .afterHandlers
            $0.headTimeout = .milliseconds(200)
            $0.bodyTimeout = .milliseconds(200)
            $0.idleTimeout = .milliseconds(200)
            $0.timerResolution = .milliseconds(20)
        } register: { receiver in
            receiver.on(.messageAdded, name: "slow") { _ in try await Task.sleep(for: .seconds(1)) }
        }
        let client = try RawClient(port: server.port)
        client.send("POST /message/added HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n{\"orgId\":1}")
        let answer = try #require(await client.readResponses(1).first)
        #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
        await server.stop()
    }

    /// Server.md "Pipelining": past `maxPipelinedRequests` waiting answers the server stops
    /// reading (back-pressure, not an error); every request is answered, in order, even while
    /// its handlers are slower than the head timeout.
    @Test(arguments: [AcknowledgementMode.durable, .afterHandlers])
    func pipeliningPastTheLimitIsBackPressureNotAnError(mode: AcknowledgementMode) async throws {
        let server = try TestListener(authentication: .open) {
            $0.acknowledgement = mode
            $0.maxPipelinedRequests = 4
            $0.headTimeout = .milliseconds(300)
            $0.timerResolution = .milliseconds(20)
        } register: { receiver in
            receiver.on(.messageAdded, name: "slow") { _ in try await Task.sleep(for: .milliseconds(150)) }
        }
        let client = try RawClient(port: server.port)
        let requests = (1...10).map { index in
            let body = "{\"orgId\":\(index)}"
            return "POST /message/added HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        }
        client.send(requests.joined())
        let answers = await client.readResponses(10)
        #expect(answers.count == 10)
        #expect(answers.allSatisfy { $0.hasPrefix("HTTP/1.1 200") }, "\(answers.map { $0.prefix(12) })")
        #expect(Set(await server.received(atLeast: 10).compactMap(\.orgID)) == Set(1...10))
        await server.stop()
    }

    /// Server.md "Routes" and "Status codes": the headers each answer promises.
    @Test func answersCarryThePromisedHeaders() async throws {
        let server = try TestListener(
            authentication: Authentication(basicCredentials: [BasicCredential(username: "u", password: Secret("p"))])
        )
        func answer(_ request: String) async -> String {
            guard let client = try? RawClient(port: server.port) else { return "" }
            client.send(request)
            return await client.readResponses(1).first ?? ""
        }
        let page = await answer("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(
            page.contains("Content-Type: text/plain; charset=utf-8") && page.hasSuffix("Webhook Listener Running\n")
        )
        let wrongMethod = await answer("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        #expect(wrongMethod.hasPrefix("HTTP/1.1 405") && wrongMethod.contains("Allow: GET, HEAD"), "\(wrongMethod)")
        let eventGet = await answer("GET /message/added HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(eventGet.hasPrefix("HTTP/1.1 405") && eventGet.contains("Allow: POST"), "\(eventGet)")
        // Every 401 looks alike and asks for Basic credentials, whatever the cause.
        let post = "POST /message/added HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
        let missing = await answer(post + "\r\n{}")
        let wrong = await answer(post + "Authorization: Basic dTp3cm9uZw==\r\n\r\n{}")
        for refusal in [missing, wrong] {
            #expect(refusal.hasPrefix("HTTP/1.1 401") && refusal.hasSuffix("Unauthorized\n"), "\(refusal)")
            #expect(refusal.contains("WWW-Authenticate: Basic realm=\"prompt-events\""), "\(refusal)")
        }
        // A duplicate is acknowledged and marked.
        let good = post + "Authorization: Basic dTpw\r\n\r\n{}"
        let first = await answer(good)
        let second = await answer(good)
        #expect(first.hasPrefix("HTTP/1.1 200") && !first.contains("Prompt-Listen-Duplicate"), "\(first)")
        #expect(second.hasPrefix("HTTP/1.1 200") && second.contains("Prompt-Listen-Duplicate: true"), "\(second)")
        await server.stop()
    }

    /// Server.md: `/`, `/healthz` and `/metrics` are matched at the root whatever the base path;
    /// with a metrics port, `/metrics` moves there and the main port answers it 404.
    @Test func reservedRoutesStayAtTheRootAndMetricsMoveToTheirPort() async throws {
        let server = try TestListener(
            authentication: .open,
            configure: { $0.metricsPort = 0 },
            register: { $0.routing = EventRouting(basePath: "/hooks") }
        )
        func answer(_ port: Int, _ request: String) async -> String {
            guard let client = try? RawClient(port: port) else { return "" }
            client.send(request)
            return await client.readResponses(1).first ?? ""
        }
        let metricsPort = try #require(server.listener.metricsAddress?.port)
        let event = "POST /hooks/message/added HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n{\"orgId\":1}"
        #expect(await answer(server.port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").hasPrefix("HTTP/1.1 200"))
        #expect(await answer(server.port, event).hasPrefix("HTTP/1.1 200"))
        #expect(await answer(server.port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").hasPrefix("HTTP/1.1 404"))
        let metrics = await answer(metricsPort, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(metrics.hasPrefix("HTTP/1.1 200") && metrics.contains("text/plain; version=0.0.4"))
        #expect(metrics.contains("promptevents_deliveries_received_total 1"))
        #expect(await answer(metricsPort, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").hasPrefix("HTTP/1.1 200"))
        #expect(await answer(metricsPort, "GET / HTTP/1.1\r\nHost: x\r\n\r\n").hasPrefix("HTTP/1.1 404"))
        #expect(await answer(metricsPort, event).hasPrefix("HTTP/1.1 404"))
        await server.stop()
    }

    /// Server.md "Status codes": in after-handlers mode, a request whose handlers a shutdown
    /// interrupted is answered 503 with `Retry-After: 5` (the sender retries; the delivery stays
    /// pending in the journal), not left without an answer.
    @Test func afterHandlersAnswers503WhenShutdownInterruptsTheHandlers() async throws {
        let server = try TestListener(authentication: .open) {
            $0.acknowledgement = .afterHandlers
            $0.shutdownGracePeriod = .milliseconds(300)
        } register: { receiver in
            receiver.on(.messageAdded, name: "stuck") { _ in
                while true { try await Task.sleep(for: .seconds(1)) }
            }
        }
        let client = try RawClient(port: server.port)
        client.send("POST /message/added HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n{\"orgId\":1}")
        try await Task.sleep(for: .milliseconds(200))
        server.listener.shutdown()
        let (text, _) = await client.read()
        #expect(text.hasPrefix("HTTP/1.1 503") && text.contains("Retry-After: 5"), "\(text)")
        await server.listener.wait()
        let journal = try Journal.open(at: server.directory + "/journal", access: .readOnly)
        #expect(try journal.entries().map(\.state) == [.pending])
        await server.stop()
    }
}
