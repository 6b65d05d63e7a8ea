import PromptEvents
import Testing

@testable import PromptEventsServer

/// Feeds a response in pieces and collects every complete response, then signals the close.
func parseResponses(
    _ raw: [UInt8],
    requestMethod: String = "POST",
    chunking: Chunking = .whole,
    close: Bool = false,
    limits: HTTPLimits = HTTPLimits()
) throws(HTTPParseError) -> [ResponseParser.Response] {
    var parser = ResponseParser(requestMethod: requestMethod, limits: limits)
    var responses: [ResponseParser.Response] = []
    for piece in chunking.pieces(of: raw) {
        parser.append(piece)
        while let response = try parser.next() {
            responses.append(response)
        }
    }
    if close, let last = try parser.finish() {
        responses.append(last)
    }
    return responses
}

@Suite struct HTTPResponseParserTests {
    @Test(arguments: Chunking.all)
    func contentLengthResponse(chunking: Chunking) throws {
        let raw = bytes(
            """
            HTTP/1.1 200 OK\r
            Content-Type: application/json\r
            Content-Length: 11\r
            \r
            {"ok":true}
            """
        )
        let responses = try parseResponses(raw, chunking: chunking)
        try #require(responses.count == 1)
        let response = responses[0]
        #expect(response.version == .http11)
        #expect(response.status == 200)
        #expect(response.reason == "OK")
        #expect(response.headers == ["Content-Type": "application/json", "Content-Length": "11"])
        #expect(response.body == bytes(#"{"ok":true}"#))
        #expect(response.keepAlive)
    }

    @Test(arguments: Chunking.all)
    func chunkedResponseWithTrailers(chunking: Chunking) throws {
        let raw = bytes(
            """
            HTTP/1.1 202 Accepted\r
            Transfer-Encoding: chunked\r
            \r
            7\r
            queued \r
            b;note=x\r
            for replay.\r
            0\r
            Checksum: abc\r
            \r

            """
        )
        let responses = try parseResponses(raw, chunking: chunking)
        #expect(responses.map(\.status) == [202])
        #expect(responses.first?.body == bytes("queued for replay."))
    }

    @Test(arguments: Chunking.all)
    func interimContinueIsSkipped(chunking: Chunking) throws {
        let raw = bytes(
            """
            HTTP/1.1 100 Continue\r
            \r
            HTTP/1.1 102 Processing\r
            X-Interim: yes\r
            \r
            HTTP/1.1 201 Created\r
            Content-Length: 2\r
            \r
            id
            """
        )
        let responses = try parseResponses(raw, chunking: chunking)
        #expect(responses.map(\.status) == [201])
        #expect(responses.first?.headers.contains("X-Interim") == false)
        #expect(responses.first?.body == bytes("id"))
    }

    @Test(arguments: Chunking.all)
    func bodyUntilClose(chunking: Chunking) throws {
        let raw = bytes(
            """
            HTTP/1.0 200 OK\r
            Content-Type: text/plain\r
            \r
            everything until the end\r
            \r
            including blank lines
            """
        )
        #expect(try parseResponses(raw, chunking: chunking).isEmpty)
        let responses = try parseResponses(raw, chunking: chunking, close: true)
        try #require(responses.count == 1)
        #expect(responses[0].version == .http10)
        #expect(responses[0].body == bytes("everything until the end\r\n\r\nincluding blank lines"))
        #expect(!responses[0].keepAlive)
    }

    @Test func nonChunkedFinalCodingReadsUntilClose() throws {
        let raw = bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxyz")
        let responses = try parseResponses(raw, close: true)
        #expect(responses.first?.body == bytes("xyz"))
        #expect(responses.first?.keepAlive == false)
    }

    @Test func headResponseHasNoBody() throws {
        let raw = bytes("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
        let responses = try parseResponses(raw, requestMethod: "HEAD")
        #expect(responses.map(\.status) == [200, 204])
        #expect(responses.allSatisfy { $0.body.isEmpty })
    }

    @Test func noContentAndNotModifiedHaveNoBody() throws {
        let raw = bytes("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n")
        #expect(try parseResponses(raw).map(\.status) == [204, 304])
    }

    @Test func pipelinedResponsesAndConnectionClose() throws {
        let raw = bytes(
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
                + "HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        )
        let responses = try parseResponses(raw, chunking: .fixed(3), close: true)
        #expect(responses.map(\.status) == [200, 500])
        #expect(responses.map(\.keepAlive) == [true, false])
    }

    @Test func statusLineWithoutReasonPhrase() throws {
        let responses = try parseResponses(
            bytes("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\nHTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n")
        )
        #expect(responses.map(\.status) == [200, 404])
        #expect(responses.map(\.reason) == ["", ""])
    }

    @Test func cleanCloseBetweenResponsesIsNotAnError() throws {
        var parser = ResponseParser()
        #expect(try parser.finish() == nil)
    }

    @Test(arguments: [
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc", HTTPParseError.Reason.incompleteMessage),
        ("HTTP/1.1 200 OK\r\nContent-", .incompleteMessage),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", .incompleteMessage),
        ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", .unexpectedUpgrade),
        ("HTTP/1.1 20 OK\r\n\r\n", .invalidStatusLine),
        ("HTTP/1.1 2000 OK\r\n\r\n", .invalidStatusLine),
        ("HTTP/1.1 099 Low\r\n\r\n", .invalidStatusLine),
        ("HTTP/2.0 200 OK\r\n\r\n", .invalidStatusLine),
        ("HTTP/1.1  200 OK\r\n\r\n", .invalidStatusLine),
        ("ICY 200 OK\r\n\r\n", .invalidStatusLine),
        ("HTTP/1.1 200 O\u{0}K\r\n\r\n", .invalidStatusLine),
        ("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", .bareLineFeed),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n", .conflictingContentLength),
        (
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            .contentLengthWithTransferEncoding
        ),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", .unsupportedTransferCoding),
        ("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", .transferEncodingInHTTP10),
        ("HTTP/1.1 200 OK\r\n Folded: x\r\n\r\n", .obsoleteLineFolding),
        ("HTTP/1.1 200 OK\r\nContent-Length: 2000000\r\n\r\n", .bodyTooLarge),
    ])
    func rejectsMalformedResponses(raw: String, reason: HTTPParseError.Reason) {
        #expect(throws: HTTPParseError(reason)) {
            _ = try parseResponses(bytes(raw), close: true)
        }
    }

    @Test func bodyUntilCloseIsBounded() {
        let limits = HTTPLimits(maxBodyBytes: 10)
        #expect(throws: HTTPParseError(.bodyTooLarge)) {
            _ = try parseResponses(bytes("HTTP/1.1 200 OK\r\n\r\n0123456789A"), close: true, limits: limits)
        }
        #expect(
            (try? parseResponses(bytes("HTTP/1.1 200 OK\r\n\r\n0123456789"), close: true, limits: limits))?.first?.body
                .count == 10
        )
    }
}

@Suite struct HTTPRequestSerializerTests {
    @Test func postWithBodyAndFields() {
        let output = serializeRequest(
            method: "POST",
            target: "/message/added",
            host: "localhost:8080",
            headers: [
                "Content-Type": "application/json",
                "content-length": "999",
                "Host": "evil",
                "Transfer-Encoding": "chunked",
                "X-Injected": "a\r\nX-Evil: 1",
                "Prompt-EventType": "message/added",
            ],
            body: Array(#"{"a":1}"#.utf8)
        )
        #expect(
            String(decoding: output, as: UTF8.self) == """
                POST /message/added HTTP/1.1\r
                Host: localhost:8080\r
                Content-Type: application/json\r
                Prompt-EventType: message/added\r
                Content-Length: 7\r
                \r
                {"a":1}
                """
        )
    }

    @Test func getWithoutBodyHasNoContentLength() {
        let output = serializeRequest(method: "GET", target: "/health", host: "a", headers: ["Connection": "close"])
        #expect(
            String(decoding: output, as: UTF8.self) == "GET /health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        )
    }

    @Test func emptyPostStillDeclaresItsLength() {
        let output = serializeRequest(method: "POST", target: "/", host: "a")
        #expect(String(decoding: output, as: UTF8.self) == "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")
    }

    @Test(arguments: [Chunking.whole, .fixed(1)])
    func serializedRequestParsesBack(chunking: Chunking) throws {
        let body = (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let headers: Headers = ["Content-Type": "application/octet-stream", "X-Hub-Signature": "sha256=00ff"]
        let raw = serializeRequest(method: "PUT", target: "/a?b=c", host: "h.example:9", headers: headers, body: body)
        let outcome = parse(raw, chunking: chunking)
        #expect(outcome.error == nil)
        let head = try #require(outcome.heads.first)
        #expect(head.method == "PUT")
        #expect(head.target == "/a?b=c")
        #expect(head.headers["host"] == "h.example:9")
        #expect(head.headers["x-hub-signature"] == "sha256=00ff")
        #expect(head.framing == .contentLength(3000))
        #expect(outcome.bodies == [body])
    }

    @Test func validatorsForUserInput() {
        #expect(HTTPSyntax.isToken("POST"))
        #expect(!HTTPSyntax.isToken(""))
        #expect(!HTTPSyntax.isToken("PO ST"))
        #expect(HTTPSyntax.isRequestTarget("/a?b=c"))
        #expect(!HTTPSyntax.isRequestTarget("/a b"))
        #expect(!HTTPSyntax.isRequestTarget("/a#b"))
        #expect(!HTTPSyntax.isRequestTarget(""))
        #expect(HTTPSyntax.isFieldValue("sha256=ab cd"))
        #expect(HTTPSyntax.isFieldValue(""))
        #expect(!HTTPSyntax.isFieldValue(" padded"))
        #expect(!HTTPSyntax.isFieldValue("a\r\nb"))
        #expect(!HTTPSyntax.isFieldValue("a\u{0}"))
    }
}
