import Foundation
import PromptEvents
import Testing

@testable import PromptEventsServer

/// The real server on 127.0.0.1:0, driven by real clients.
///
/// Each test stops its listener.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct LiveServerTests {
    static let body = #"{"orgId":12345,"customer":{"id":42,"displayName":"Zoë 😀"}}"#

    @Test func curlPostsASignedEventAndTheHandlerRuns() async throws {
        let curl = try #require(which("curl"), "curl is installed by .ci/run")
        let server = try TestListener()
        let (body, headers) = TestListener.signed(Self.body, kind: .customerAdded)
        var arguments = ["-sS", "-i", "--data-binary", "@-", "\(server.url)/customer/added"]
        for (name, value) in headers { arguments += ["-H", "\(name): \(value)"] }
        let result = try runProgram(curl, arguments, input: Data(body))
        #expect(result.status == 0)
        #expect(result.output.hasPrefix("HTTP/1.1 200 OK"))
        let events = await server.received(atLeast: 1)
        #expect(events.first?.kind == .customerAdded)
        #expect(events.first?.body == body)
        #expect(events.first?.deliveryID == 1)
        await server.stop()
    }

    @Test func curlWithExpectContinueGetsOneHundredThenTwoHundred() async throws {
        let curl = try #require(which("curl"))
        let server = try TestListener()
        let (body, headers) = TestListener.signed(Self.body)
        var arguments = [
            "-sS", "-v", "-o", "/dev/null", "-H", "Expect: 100-continue", "--data-binary", "@-",
            "\(server.url)/message/added",
        ]
        for (name, value) in headers { arguments += ["-H", "\(name): \(value)"] }
        let result = try runProgram(curl, arguments, input: Data(body))
        #expect(result.output.contains("HTTP/1.1 100 Continue"))
        #expect(result.output.contains("HTTP/1.1 200 OK"))
        await server.stop()
    }

    @Test func curlWithWrongSignatureIsRejectedAndNothingRuns() async throws {
        let curl = try #require(which("curl"))
        let server = try TestListener()
        let result = try runProgram(
            curl,
            [
                "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                "X-Hub-Signature: sha1=" + String(repeating: "0", count: 40),
                "--data-binary", Self.body, "\(server.url)/message/added",
            ]
        )
        #expect(result.output == "401")
        #expect(await server.received(atLeast: 1).isEmpty)
        await server.stop()
    }

    @Test func pythonReusesOneKeepAliveConnectionAndSendsChunkedBodies() async throws {
        let python = try #require(which("python3"))
        let server = try TestListener()
        let (_, headers) = TestListener.signed(Self.body)
        let headerLiteral = "{" + headers.map { "\"\($0.0)\": \"\($0.1)\"" }.joined(separator: ", ") + "}"
        let script = """
            import http.client, sys
            headers = \(headerLiteral)
            body = '''\(Self.body)'''.encode()
            c = http.client.HTTPConnection('127.0.0.1', \(server.port), timeout=5)
            statuses = []
            for _ in range(3):
                c.request('POST', '/message/added', body=body, headers=headers)
                r = c.getresponse(); r.read(); statuses.append(r.status)
            sock = c.sock
            def chunks():
                yield body[:10]
                yield body[10:]
            c.request('POST', '/message/added', body=chunks(), headers=headers, encode_chunked=True)
            r = c.getresponse(); r.read(); statuses.append(r.status)
            print(statuses, c.sock is sock)
            """
        let result = try runProgram(python, ["-c", script])
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == "[200, 200, 200, 200] True")
        // Identical bodies: the first is dispatched, the rest are acknowledged as duplicates.
        let records = server.requestRecords
        #expect(records.filter(\.duplicate).count == 3)
        await server.stop()
    }

    @Test func nodeHTTPPostsASignedEvent() async throws {
        let node = try #require(which("node"), "node is installed by .ci/run")
        let server = try TestListener()
        let (_, headers) = TestListener.signed(Self.body, kind: .smartlinkClicked)
        let headerLiteral = "{" + headers.map { "'\($0.0)': '\($0.1)'" }.joined(separator: ", ") + "}"
        let script = """
            const http = require('http');
            const body = Buffer.from('\(Self.body)', 'utf8');
            const req = http.request({host: '127.0.0.1', port: \(server.port), method: 'POST', path: '/smartlink/clicked',
              headers: Object.assign(\(headerLiteral), {'Content-Length': body.length})}, res => {
              res.resume(); res.on('end', () => console.log(res.statusCode));
            });
            req.end(body);
            """
        let result = try runProgram(node, ["-e", script])
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == "200")
        #expect(await server.received(atLeast: 1).first?.kind == .smartlinkClicked)
        await server.stop()
    }

    @Test func javaHttpClientPostsASignedEvent() async throws {
        let java = try #require(which("java"), "a JDK is installed by .ci/run")
        let server = try TestListener()
        let (_, headers) = TestListener.signed(Self.body, kind: .broadcastStatusChanged)
        let directory = server.directory
        let source = """
            import java.net.URI;
            import java.net.http.*;
            public class Post {
              public static void main(String[] args) throws Exception {
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create("\(server.url)/broadcast/statusChanged"))
                  .POST(HttpRequest.BodyPublishers.ofString("\(Self.body.replacingOccurrences(of: "\"", with: "\\\""))"));
                \(headers.filter { $0.0 != "Content-Type" }.map { "builder.header(\"\($0.0)\", \"\($0.1)\");" }.joined(separator: "\n    "))
                builder.header("Content-Type", "application/json");
                HttpResponse<String> response = client.send(builder.build(), HttpResponse.BodyHandlers.ofString());
                System.out.println(response.statusCode());
              }
            }
            """
        let path = directory + "/Post.java"
        try source.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try runProgram(java, [path], timeout: 60)
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == "200")
        #expect(await server.received(atLeast: 1).first?.kind == .broadcastStatusChanged)
        await server.stop()
    }

    @Test(arguments: AcknowledgementMode.allCases)
    func everyAcknowledgementModeAnswersKeepAliveRequestsAndRunsHandlers(mode: AcknowledgementMode) async throws {
        let server = try TestListener(authentication: .open) { $0.acknowledgement = mode }
        let client = try RawClient(port: server.port)
        for index in 1...3 {
            let body = "{\"orgId\":\(index)}"
            client.send("POST /message/added HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            let response = try #require(await client.readResponses(1).first)
            #expect(response.hasPrefix("HTTP/1.1 200 OK"), "\(mode): \(response)")
        }
        #expect(Set(await server.received(atLeast: 3).compactMap(\.orgID)) == [1, 2, 3])
        await server.stop()
    }

    @Test func afterHandlersModeAnswers500WhenAHandlerIsDeadLettered() async throws {
        struct Failure: Error {}
        let server = try TestListener(authentication: .open) {
            $0.acknowledgement = .afterHandlers
            $0.dispatcher.retryPolicy.maximumAttempts = 1
        } register: { receiver in
            receiver.on(.customerOptOut, name: "mailing-list") { _ in throw Failure() }
        }
        let client = try RawClient(port: server.port)
        client.send("POST /customer/optOut HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n{\"orgId\":1}")
        #expect(await client.readResponses(1).first?.hasPrefix("HTTP/1.1 500") == true)
        client.send("POST /message/added HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n{\"orgId\":2}")
        #expect(await client.readResponses(1).first?.hasPrefix("HTTP/1.1 200") == true)
        await server.stop()
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let server = try TestListener(authentication: .open)
        let client = try RawClient(port: server.port)
        let requests =
            (1...3).map { index in
                let body = "{\"orgId\":\(index)}"
                return "POST /message/added HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            }.joined() + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        client.send(requests)
        let responses = await client.readResponses(4)
        #expect(responses.count == 4)
        #expect(responses.prefix(3).allSatisfy { $0.hasPrefix("HTTP/1.1 200 OK") && $0.hasSuffix("OK\n") })
        #expect(responses.last?.hasSuffix("ok\n") == true)
        let events = await server.received(atLeast: 3)
        #expect(Set(events.compactMap(\.orgID)) == [1, 2, 3])
        await server.stop()
    }

    /// RFC 9112 §9.6: a request pipelined behind one that closes the connection is never
    /// processed (found by scripts/hostile-http.py: it used to be delivered, unanswered).
    @Test(
        arguments: AcknowledgementMode.allCases,
        [
            "POST /message/added HTTP/1.1\r\nHost: x\r\nConnection: close\r\n",
            "POST /message/added HTTP/1.0\r\n",
        ]
    )
    func requestsBehindAClosingRequestAreNotProcessed(mode: AcknowledgementMode, front: String) async throws {
        let server = try TestListener(authentication: .open) { $0.acknowledgement = mode }
        let client = try RawClient(port: server.port)
        let hidden = "POST /smuggled/hidden HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n{\"orgId\":2}"
        client.send(front + "Content-Length: 11\r\n\r\n{\"orgId\":1}" + hidden)
        let (text, closed) = await client.read()
        #expect(text.hasPrefix("HTTP/1.1 200 OK"))
        #expect(RawClient.split(text).count == 1)
        #expect(closed)
        _ = await server.received(atLeast: 2)  // Waits two seconds for a second one that must not come.
        #expect(server.events.map(\.kind) == [.messageAdded])
        #expect(server.requestRecords.map(\.path) == ["/message/added"])
        await server.stop()
    }

    @Test func aFullHandlerBacklogPausesReadingUntilItDrains() async throws {
        let gate = Gate()
        let server = try TestListener(
            authentication: .open,
            configure: {
                $0.acknowledgement = .inMemory
                $0.dispatcher.maximumBacklog = 4
                // The loop's periodic wake-up, far beyond the read timeout: only the dispatcher's
                // wake-up when the backlog halves can resume the parked connections in time.
                $0.timerResolution = .seconds(30)
            },
            register: { receiver in receiver.onAny(name: "stuck") { _ in await gate.wait() } }
        )
        let clients = try (1...8).map { _ in try RawClient(port: server.port) }
        for (index, client) in clients.enumerated() {
            let body = "{\"orgId\":\(index)}"
            client.send("POST /message/added HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(server.requestRecords.count == 4, "only the backlog's worth is read while handlers are stuck")
        // A load balancer's health check is answered at once, on a new connection and behind a
        // parked one alike (it used to wait, unread, until the backlog drained).
        let clock = ContinuousClock()
        let begin = clock.now
        let health = try RawClient(port: server.port)
        health.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await health.readResponses(1).first?.hasPrefix("HTTP/1.1 200 OK") == true)
        #expect(begin.duration(to: clock.now) < .seconds(1), "the loop's timer is 30 s: only reading answers it")
        gate.open()
        for client in clients {
            #expect(await client.readResponses(1).first?.hasPrefix("HTTP/1.1 200 OK") == true)
        }
        #expect(await server.received(atLeast: 8).count == 8)
        await server.stop()
    }

    @Test func unauthenticatedHeadIsAnsweredBeforeTheBodyIsSent() async throws {
        let server = try TestListener(
            authentication: Authentication(headerTokens: [HeaderToken(name: "webhooktoken", value: Secret("abcdefg"))])
        )
        let client = try RawClient(port: server.port)
        client.send(
            "POST /message/added HTTP/1.1\r\nHost: x\r\nwebhooktoken: wrong\r\nExpect: 100-continue\r\nContent-Length: 500000\r\n\r\n"
        )
        let (text, closed) = await client.read()
        #expect(text.hasPrefix("HTTP/1.1 401 Unauthorized"))
        #expect(!text.contains("100 Continue"))
        #expect(text.contains("Connection: close"))
        #expect(closed)
        await server.stop()
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "200 OK", "Webhook Listener Running"),
        ("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", "200 OK", ""),
        ("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "200 OK", "ok"),
        ("DELETE /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "405 Method Not Allowed", "Method Not Allowed"),
        ("GET /message/added HTTP/1.1\r\nHost: x\r\n\r\n", "405 Method Not Allowed", "Method Not Allowed"),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", "404 Not Found", "Not Found"),
        (
            "POST /message/added HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n[1,2]", "400 Bad Request",
            "not an object"
        ),
        ("POST /message/added HTTP/1.1\r\nHost: x\r\n\r\n", "411 Length Required", ""),
        (
            "POST /message/added HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            "400 Bad Request", ""
        ),
        ("GET / HTTP/2.0\r\nHost: x\r\n\r\n", "505 HTTP Version Not Supported", ""),
    ])
    func routesAndStatusCodes(request: String, status: String, bodyContains: String) async throws {
        let server = try TestListener(authentication: .open)
        let client = try RawClient(port: server.port)
        client.send(request)
        let response =
            request.hasPrefix("HEAD")
            ? await client.read { $0.hasSuffix("\r\n\r\n") }.text : try #require(await client.readResponses(1).first)
        #expect(response.hasPrefix("HTTP/1.1 \(status)"), "got \(response)")
        #expect(bodyContains.isEmpty || response.contains(bodyContains))
        await server.stop()
    }

    @Test func bodiesOverTheLimitAreRejectedBeforeBeingRead() async throws {
        let server = try TestListener(authentication: .open) { $0.limits.maxBodyBytes = 1000 }
        let client = try RawClient(port: server.port)
        client.send("POST /message/added HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n")
        let (text, closed) = await client.read()
        #expect(text.hasPrefix("HTTP/1.1 413"))
        #expect(closed)
        await server.stop()
    }

    @Test func aSlowHeadIsCutWith408() async throws {
        let server = try TestListener(authentication: .open) {
            $0.headTimeout = .milliseconds(300)
            $0.timerResolution = .milliseconds(20)
        }
        let client = try RawClient(port: server.port)
        client.send("POST /message/added HTTP/1.1\r\nHo")
        let started = Date()
        let (text, closed) = await client.read()
        #expect(text.hasPrefix("HTTP/1.1 408"))
        #expect(closed)
        #expect(Date().timeIntervalSince(started) < 3)
        await server.stop()
    }

    @Test func idleKeepAliveConnectionsAreClosedQuietly() async throws {
        let server = try TestListener(authentication: .open) {
            $0.idleTimeout = .milliseconds(200)
            $0.timerResolution = .milliseconds(20)
        }
        let client = try RawClient(port: server.port)
        client.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        let (text, closed) = await client.read { $0.hasSuffix("ok\n") }
        #expect(text.hasSuffix("ok\n"))
        #expect(!closed)
        let after = await client.read()
        #expect(after.text.isEmpty)
        #expect(after.closed)
        await server.stop()
    }

    @Test func connectionsBeyondTheLimitGet503WithRetryAfter() async throws {
        let server = try TestListener(authentication: .open) { $0.maxConnections = 2 }
        let first = try RawClient(port: server.port)
        let second = try RawClient(port: server.port)
        first.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        second.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await first.readResponses(1).first?.hasPrefix("HTTP/1.1 200") == true)
        #expect(await second.readResponses(1).first?.hasPrefix("HTTP/1.1 200") == true)
        let third = try RawClient(port: server.port)
        let (text, closed) = await third.read()
        #expect(text.hasPrefix("HTTP/1.1 503"))
        #expect(text.contains("Retry-After: 1"))
        #expect(closed)
        await server.stop()
    }

    @Test func durableDeliveriesSurviveARestart() async throws {
        let directory = NSTemporaryDirectory() + "prompt-events-restart-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var configuration = WebhookListener.Configuration(port: 0, journalDirectory: directory)
        configuration.shutdownGracePeriod = .seconds(1)
        // First run: no handlers that succeed, so the delivery stays pending.
        var failing = WebhookReceiver()
        failing.on(.messageAdded, name: "crm") { _ in throw CancellationError() }
        configuration.dispatcher.retryPolicy.baseDelay = .seconds(60)
        let first = try WebhookListener(receiver: failing, configuration: configuration)
        first.start()
        let client = try RawClient(port: first.address.port)
        client.send("POST /message/added HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n{\"orgId\":99}")
        #expect(await client.readResponses(1).first?.hasPrefix("HTTP/1.1 200") == true)
        first.shutdown()
        await first.wait()
        // Second run: the same handler name now succeeds and sees the journaled delivery.
        let seen = Locked<[Int64]>([])
        var working = WebhookReceiver()
        working.on(.messageAdded, name: "crm") { event in seen.withLock { $0.append(event.orgID ?? 0) } }
        let second = try WebhookListener(receiver: working, configuration: configuration)
        second.start()
        for _ in 0..<200 where seen.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(seen.withLock { $0 } == [99])
        second.shutdown()
        await second.wait()
    }

    @Test func shutdownDrainsAndHealthReportsIt() async throws {
        let server = try TestListener(authentication: .open)
        let client = try RawClient(port: server.port)
        client.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await client.readResponses(1).first?.hasPrefix("HTTP/1.1 200") == true)
        await server.stop()
        // The idle connection was closed and the port no longer accepts.
        #expect(await client.read().closed)
        #expect(throws: (any Error).self) { _ = try RawClient(port: server.port) }
    }

    /// A handler that never returns is cancelled after the configured grace period (it was a
    /// fixed 5 s), and its delivery stays pending for the next start.
    @Test func shutdownWaitsForHandlersOnlyTheConfiguredGracePeriod() async throws {
        let started = Locked(false)
        let server = try TestListener(authentication: .open) {
            $0.shutdownGracePeriod = .milliseconds(200)
            $0.dispatcher.handlerTimeout = .seconds(60)
        } register: { receiver in
            receiver.on(.messageAdded, name: "stuck") { _ in
                started.withLock { $0 = true }
                while true { try await Task.sleep(for: .seconds(1)) }
            }
        }
        let client = try RawClient(port: server.port)
        client.send("POST /message/added HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n{\"orgId\":1}")
        #expect(await client.readResponses(1).first?.hasPrefix("HTTP/1.1 200") == true)
        for _ in 0..<200 where !started.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(started.withLock { $0 })
        let clock = ContinuousClock()
        let begin = clock.now
        server.listener.shutdown()
        await server.listener.wait()
        // 200 ms of grace for the requests, 200 ms for the handler; 5 s before the fix.
        #expect(begin.duration(to: clock.now) < .seconds(3))
        let journal = try Journal.open(at: server.directory + "/journal", access: .readOnly)
        #expect(try journal.entries().map(\.state) == [.pending])
        await server.stop()
    }
}
