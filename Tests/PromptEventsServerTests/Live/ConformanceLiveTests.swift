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
}
