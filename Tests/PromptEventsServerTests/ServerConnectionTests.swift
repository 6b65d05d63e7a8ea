import PromptEvents
import Testing

@testable import PromptEventsServer

/// A connection's behaviour, in-process: bytes in, exact bytes out, a test clock, no socket.
///
/// The live tests (`Live/`) keep a small set of the same behaviours against real clients.
@Suite struct ServerConnectionTests {
    static let ok = "HTTP/1.1 200 OK\r\n\(ConnectionHarness.date)Content-Length: 3\r\n\r\nOK\n"
    static let healthy = "HTTP/1.1 200 OK\r\n\(ConnectionHarness.date)Content-Length: 3\r\n\r\nok\n"

    @Test func healthCheckIsAnsweredWithExactBytes() throws {
        let harness = try ConnectionHarness()
        let connection = harness.connect()
        harness.send(ConnectionHarness.healthCheck, on: connection)
        #expect(harness.output(of: connection) == Self.healthy)
        #expect(!harness.isClosed(connection))
        #expect(connection.isIdle)
    }

    @Test func everySplitOfAnEventGivesTheSameAnswer() throws {
        let harness = try ConnectionHarness()
        let request = Array(ConnectionHarness.event().utf8)
        for split in 1..<request.count {
            let connection = harness.connect()
            harness.send(Array(request[..<split]), on: connection)
            #expect(harness.output(of: connection).isEmpty, "split at \(split)")
            harness.send(Array(request[split...]), on: connection)
            #expect(harness.output(of: connection) == Self.ok, "split at \(split)")
        }
        let byteByByte = harness.connect()
        for byte in request { harness.send([byte], on: byteByByte) }
        #expect(harness.output(of: byteByByte) == Self.ok)
        #expect(harness.records.allSatisfy { $0.status == 200 && $0.kind == .messageAdded })
    }

    @Test func pipelinedAnswersLeaveInRequestOrder() throws {
        let harness = try ConnectionHarness()
        let connection = harness.connect()
        harness.send(
            ConnectionHarness.healthCheck + ConnectionHarness.event() + "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /nowhere/healthz HTTP/1.1\r\nHost: x\r\n\r\n",
            on: connection
        )
        let responses = try harness.responses(of: connection)
        #expect(responses.map(\.status) == [200, 200, 200, 405])
        #expect(
            responses.prefix(3).map { String(decoding: $0.body, as: UTF8.self) } == [
                "ok\n", "OK\n", "Webhook Listener Running\n",
            ]
        )
        #expect(harness.records.map(\.path) == ["/healthz", "/", "/", "/nowhere/healthz"])
    }

    @Test func aLaterAnswerReadyFirstWaitsForTheEarlierOne() async throws {
        let gate = Gate()
        let harness = try ConnectionHarness {
            $0.acknowledgement = .afterHandlers
        } register: {
            $0.on(.messageAdded, name: "held") { _ in await gate.wait() }
        }
        let connection = harness.connect()
        harness.send(ConnectionHarness.event() + ConnectionHarness.healthCheck, on: connection)
        harness.turn()  // the group commit; the handler starts and waits at the gate
        #expect(harness.output(of: connection).isEmpty, "the health check's answer waits behind the event's")
        gate.open()
        await harness.turnAfterAnswers(1)
        #expect(harness.output(of: connection) == Self.ok + Self.healthy)
    }

    @Test func continueIsSentForAnAdmittedHeadBeforeItsBody() throws {
        let harness = try ConnectionHarness()
        let connection = harness.connect()
        let request = ConnectionHarness.event(extraHeaders: "Expect: 100-continue\r\n")
        let bodyStart = request.utf8.count - #"{"id":"m1"}"#.utf8.count
        let bytes = Array(request.utf8)
        harness.send(Array(bytes[..<bodyStart]), on: connection)
        #expect(harness.output(of: connection) == "HTTP/1.1 100 Continue\r\n\r\n")
        harness.send(Array(bytes[bodyStart...]), on: connection)
        #expect(harness.output(of: connection) == "HTTP/1.1 100 Continue\r\n\r\n" + Self.ok)
    }

    @Test func continueIsNotSentForARefusedHead() throws {
        // Basic credentials are checked at the head, before any body byte is asked for.
        let harness = try ConnectionHarness(
            authentication: Authentication(basicCredentials: [
                BasicCredential(username: "prompt", password: Secret("s3cret"))
            ])
        )
        let connection = harness.connect()
        harness.send(
            "POST / HTTP/1.1\r\nHost: x\r\nPrompt-EventType: messageAdded\r\nExpect: 100-continue\r\n"
                + "Content-Length: 2\r\n\r\n",
            on: connection
        )
        let output = harness.output(of: connection)
        #expect(output.hasPrefix("HTTP/1.1 401 Unauthorized\r\n"))
        #expect(!output.contains("100 Continue"))
        #expect(output.contains("Connection: close\r\n"))
        #expect(harness.isClosed(connection))
    }

    @Test func continueIsOmittedBehindAPendingAnswer() throws {
        let directory = try TemporaryDirectory()
        let harness = try ConnectionHarness {
            $0.acknowledgement = .durable
            $0.journalDirectory = directory.path
        }
        let connection = harness.connect()
        let second = ConnectionHarness.event(#"{"id":"m2"}"#, extraHeaders: "Expect: 100-continue\r\n")
        let head = String(second.dropLast(#"{"id":"m2"}"#.count))
        harness.send(ConnectionHarness.event() + head, on: connection)
        #expect(harness.output(of: connection).isEmpty, "the first answer waits for the commit")
        harness.turn()
        #expect(harness.output(of: connection) == Self.ok)
        harness.send(#"{"id":"m2"}"#, on: connection)
        harness.turn()
        #expect(harness.output(of: connection) == Self.ok + Self.ok)
    }

    @Test func pipeliningBeyondTheLimitWaitsForRoom() throws {
        let directory = try TemporaryDirectory()
        let harness = try ConnectionHarness {
            $0.acknowledgement = .durable
            $0.journalDirectory = directory.path
            $0.maxPipelinedRequests = 2
        }
        let connection = harness.connect()
        harness.send(
            (1...3).map { ConnectionHarness.event(#"{"id":"m\#($0)"}"#) }.joined(),
            on: connection
        )
        #expect(!connection.wantsToRead, "two answers pending: nothing more is read")
        #expect(harness.context.metrics.snapshot.received == 2, "the third head was not read")
        harness.turn()
        #expect(harness.output(of: connection) == Self.ok + Self.ok)
        #expect(connection.wantsToRead, "the answers left: the third request was read")
        harness.turn()
        #expect(harness.output(of: connection) == Self.ok + Self.ok + Self.ok)
    }

    @Test func aSlowReaderHoldsBackFurtherRequests() throws {
        let harness = try ConnectionHarness { $0.maxPipelinedRequests = 1 }
        harness.readLimit = 10
        let connection = harness.connect()
        harness.send(ConnectionHarness.healthCheck + ConnectionHarness.healthCheck, on: connection)
        #expect(harness.output(of: connection).count == 10)
        while harness.output(of: connection).count < Self.healthy.utf8.count {
            harness.peerReads(on: connection)
        }
        #expect(harness.output(of: connection).count <= Self.healthy.utf8.count + 10)
        harness.readLimit = nil
        harness.peerReads(on: connection)
        #expect(harness.output(of: connection) == Self.healthy + Self.healthy)
    }

    @Test func aParkedEventWaitsWhileHealthChecksAreAnswered() async throws {
        let gate = Gate()
        let harness = try ConnectionHarness {
            $0.dispatcher.maximumBacklog = 1
        } register: {
            $0.on(.messageAdded, name: "held") { _ in await gate.wait() }
        }
        let events = harness.connect()
        harness.send(ConnectionHarness.event(), on: events)
        harness.turn()  // handed to the dispatcher: the handler holds it
        harness.send(ConnectionHarness.event(#"{"id":"m2"}"#), on: events)
        #expect(!events.wantsToRead, "parked at the second event's head")
        #expect(harness.output(of: events) == Self.ok)

        let balancer = harness.connect()
        harness.send(ConnectionHarness.healthCheck, on: balancer)
        #expect(harness.output(of: balancer) == Self.healthy)

        // The server is behind, not the client: a parked request does not time out.
        harness.advance(by: .seconds(30))
        #expect(harness.output(of: events) == Self.ok)
        #expect(!harness.isClosed(events))

        gate.open()
        await harness.turnAfterWakeUp()
        #expect(harness.output(of: events) == Self.ok + Self.ok)
        #expect(events.wantsToRead)
    }

    @Test func aResumedRequestsTimersStartAgain() async throws {
        let gate = Gate()
        let harness = try ConnectionHarness {
            $0.dispatcher.maximumBacklog = 1
        } register: {
            $0.on(.messageAdded, name: "held") { _ in await gate.wait() }
        }
        let connection = harness.connect()
        harness.send(ConnectionHarness.event(), on: connection)
        harness.turn()
        let second = Array(ConnectionHarness.event(#"{"id":"m2"}"#).utf8)
        harness.send(Array(second.dropLast(3)), on: connection)  // parked at the head, body unfinished
        harness.advance(by: .seconds(30))
        gate.open()
        await harness.turnAfterWakeUp()
        harness.advance(by: .seconds(9))  // within the body timeout, counted from the resumption
        #expect(harness.output(of: connection) == Self.ok)
        harness.send(Array(second.suffix(3)), on: connection)
        #expect(harness.output(of: connection) == Self.ok + Self.ok)
    }

    enum Timing: String, CaseIterable, Sendable {
        case headTrickle, bodyStall, bodyTrickle, neverASingleByte, idleAfterAnAnswer
    }

    @Test(arguments: Timing.allCases)
    func timeouts(_ timing: Timing) throws {
        let harness = try ConnectionHarness()
        let connection = harness.connect()
        let request = Array(ConnectionHarness.event().utf8)
        let timeout =
            "HTTP/1.1 408 Request Timeout\r\n\(ConnectionHarness.date)Content-Length: 16\r\n"
            + "Connection: close\r\n\r\nRequest Timeout\n"
        switch timing {
        case .headTrickle:
            // Bytes keep arriving, but the head is not done within 10 s of its first byte.
            for byte in request.prefix(12) where !harness.isClosed(connection) {
                harness.send([byte], on: connection)
                harness.advance(by: .seconds(1))
            }
            #expect(harness.output(of: connection) == timeout)
            #expect(harness.records.map(\.reason) == ["request_timeout"])
        case .bodyStall:
            harness.send(Array(request.dropLast(2)), on: connection)
            harness.advance(by: .seconds(9))
            #expect(harness.output(of: connection).isEmpty)
            harness.advance(by: .seconds(2))
            #expect(harness.output(of: connection) == timeout)
            #expect(harness.records.map(\.method) == ["POST"])
        case .bodyTrickle:
            // The body timeout is the longest pause, not the whole body's time.
            let head = request.count - 11
            harness.send(Array(request[..<head]), on: connection)
            for byte in request[head...] {
                harness.advance(by: .seconds(5))
                harness.send([byte], on: connection)
            }
            #expect(harness.output(of: connection) == Self.ok)
        case .neverASingleByte:
            // Idle, not a slow head: closed quietly at the idle timeout.
            harness.advance(by: .seconds(59))
            #expect(!harness.isClosed(connection))
            harness.advance(by: .seconds(2))
            #expect(harness.output(of: connection).isEmpty)
        case .idleAfterAnAnswer:
            harness.send(ConnectionHarness.healthCheck, on: connection)
            harness.advance(by: .seconds(61))
            #expect(harness.output(of: connection) == Self.healthy)
        }
        #expect(harness.isClosed(connection) == (timing != .bodyTrickle))
    }

    @Test func aClosingRequestIsTheLastOneRead() throws {
        let harness = try ConnectionHarness()
        let connection = harness.connect()
        harness.send(
            "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + ConnectionHarness.healthCheck,
            on: connection
        )
        #expect(
            harness.output(of: connection)
                == "HTTP/1.1 200 OK\r\n\(ConnectionHarness.date)Content-Length: 3\r\nConnection: close\r\n\r\nok\n"
        )
        #expect(harness.isClosed(connection))
    }

    @Test func anHTTP10KeepAliveConnectionIsKept() throws {
        let harness = try ConnectionHarness()
        let connection = harness.connect()
        harness.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", on: connection)
        #expect(
            harness.output(of: connection)
                == "HTTP/1.1 200 OK\r\n\(ConnectionHarness.date)Content-Length: 3\r\nConnection: keep-alive\r\n\r\nok\n"
        )
        #expect(!harness.isClosed(connection))
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        let request: String
        let status: Int
        let reason: String
        /// Whether the connection closes: refused before its body was read, or unreadable.
        var closes = true
        var testDescription: String { "\(status) \(reason)" }
    }

    static let refusals: [Refusal] = [
        Refusal(request: "GARBAGE\r\n\r\n", status: 400, reason: "invalid_request_line"),
        Refusal(request: "GET / HTTP/2.0\r\nHost: x\r\n\r\n", status: 505, reason: "version_not_supported"),
        Refusal(
            request: "GET /\(String(repeating: "a", count: 9000)) HTTP/1.1\r\nHost: x\r\n\r\n",
            status: 414,
            reason: "target_too_long"
        ),
        Refusal(
            request: "GET / HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 17_000))\r\n\r\n",
            status: 431,
            reason: "head_too_large"
        ),
        Refusal(
            request: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            status: 501,
            reason: "unsupported_transfer_coding"
        ),
        Refusal(
            request: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n",
            status: 413,
            reason: "body_too_large"
        ),
        Refusal(
            request: "POST / HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\nContent-Length: 2\r\n\r\n{}",
            status: 417,
            reason: "unsupported_expectation"
        ),
        Refusal(
            request: "POST / HTTP/1.1\r\nHost: x\r\nPrompt-EventType: messageAdded\r\nContent-Length: 2\r\n\r\n{}",
            status: 401,
            reason: "missing_signature",
            closes: false  // a signature needs the body; once it is read, the connection is kept
        ),
        Refusal(
            request: "GET /messageAdded HTTP/1.1\r\nHost: x\r\n\r\n",
            status: 405,
            reason: "method_not_allowed"
        ),
        Refusal(
            request: "POST /a/../b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
            status: 400,
            reason: "unsafe_path"
        ),
    ]

    @Test(arguments: refusals)
    func refusedRequestsAreAnsweredAndClosed(_ refusal: Refusal) throws {
        let harness = try ConnectionHarness()
        let connection = harness.connect()
        harness.send(refusal.request + ConnectionHarness.healthCheck, on: connection)
        let responses = try harness.responses(of: connection)
        #expect(responses.first?.status == refusal.status)
        #expect(responses.first?.keepAlive == !refusal.closes)
        #expect(harness.isClosed(connection) == refusal.closes)
        if refusal.closes {
            #expect(responses.count == 1, "nothing after a closing refusal is answered")
            #expect(harness.records.map(\.reason) == [refusal.reason])
        } else {
            #expect(responses.map(\.status) == [refusal.status, 200])
            #expect(harness.records.map(\.reason) == [refusal.reason, nil])
        }
    }

    @Test func drainingClosesAfterTheLastPendingAnswer() throws {
        let directory = try TemporaryDirectory()
        let harness = try ConnectionHarness {
            $0.acknowledgement = .durable
            $0.journalDirectory = directory.path
        }
        let connection = harness.connect()
        harness.send(ConnectionHarness.event() + ConnectionHarness.event(#"{"id":"m2"}"#), on: connection)
        harness.beginDraining()
        #expect(!harness.isClosed(connection), "two answers are still owed")
        harness.turn()
        let responses = try harness.responses(of: connection)
        #expect(responses.map(\.status) == [200, 200])
        #expect(responses.map(\.keepAlive) == [true, false], "only the last answer says Connection: close")
        #expect(harness.isClosed(connection))
    }

    @Test func aRequestCompletedAfterDrainingBeganIsRefused() throws {
        let harness = try ConnectionHarness()
        let idle = harness.connect()
        let busy = harness.connect()
        let request = Array(ConnectionHarness.event().utf8)
        harness.send(Array(request.prefix(10)), on: busy)
        harness.beginDraining()
        #expect(harness.isClosed(idle))
        harness.send(Array(request.dropFirst(10)), on: busy)
        let output = harness.output(of: busy)
        #expect(output.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
        #expect(output.contains("Retry-After: 5\r\n"))
        #expect(output.hasSuffix("Connection: close\r\n\r\nShutting down\n"))
        #expect(harness.isClosed(busy))
    }

    @Test func metricsPortServesOnlyItsOwnRoutes() throws {
        let harness = try ConnectionHarness { $0.metricsPort = 0 }
        let connection = harness.connect(role: .metricsOnly)
        harness.send(ConnectionHarness.event() + "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", on: connection)
        let responses = try harness.responses(of: connection)
        #expect(responses.map(\.status) == [404, 200])
        #expect(String(decoding: responses[1].body, as: UTF8.self).contains("promptevents_deliveries_received_total 0"))
    }
}
