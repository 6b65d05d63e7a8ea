import PromptEvents
import Testing

@testable import PromptEventsServer

// MARK: - Support shared by the HTTP test files

/// How a raw message is cut into the pieces handed to `append`.
enum Chunking: Sendable, CustomTestStringConvertible {
    case whole
    case fixed(Int)
    case random(seed: UInt64)

    static let all: [Chunking] = [
        .whole, .fixed(1), .fixed(2), .fixed(3), .fixed(7), .fixed(64), .fixed(4096),
        .random(seed: 1), .random(seed: 42), .random(seed: 0xC0FFEE),
    ]

    var testDescription: String {
        switch self {
        case .whole: "whole"
        case .fixed(let size): "\(size)-byte pieces"
        case .random(let seed): "random pieces (seed \(seed))"
        }
    }

    /// Cuts `bytes` into pieces.
    func pieces(of bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var pieces: [ArraySlice<UInt8>] = []
        var generator = SplitMix64(seed: 0)
        var size = bytes.count
        switch self {
        case .whole: break
        case .fixed(let fixed): size = fixed
        case .random(let seed): generator = SplitMix64(seed: seed)
        }
        var start = 0
        while start < bytes.count {
            var length = size
            if case .random = self {
                length = Int.random(in: 1...97, using: &generator)
            }
            let end = min(bytes.count, start + max(length, 1))
            pieces.append(bytes[start..<end])
            start = end
        }
        return pieces
    }
}

/// A small seeded generator, so random chunkings are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The result of feeding a message to a parser: every event, and the error if one was thrown.
struct ParseOutcome {
    var events: [RequestParser.Event] = []
    var error: HTTPParseError?

    var heads: [RequestHead] {
        events.compactMap { event in
            if case .head(let head) = event { return head }
            return nil
        }
    }

    var bodies: [[UInt8]] {
        events.compactMap { event in
            if case .end(let body) = event { return body }
            return nil
        }
    }
}

/// Feeds `raw` in the given pieces, draining events after each piece, until an error.
func parse(_ raw: [UInt8], chunking: Chunking = .whole, limits: HTTPLimits = HTTPLimits()) -> ParseOutcome {
    var parser = RequestParser(limits: limits)
    var outcome = ParseOutcome()
    for piece in chunking.pieces(of: raw) {
        parser.append(piece)
        do {
            while let event = try parser.next() {
                outcome.events.append(event)
            }
        } catch {
            outcome.error = error
            return outcome
        }
    }
    return outcome
}

func parse(_ raw: String, chunking: Chunking = .whole, limits: HTTPLimits = HTTPLimits()) -> ParseOutcome {
    parse(Array(raw.utf8), chunking: chunking, limits: limits)
}

func bytes(_ text: String) -> [UInt8] {
    Array(text.utf8)
}

// MARK: - Valid requests

/// A valid request and what the parser must make of it.
struct ValidRequest: Sendable, CustomTestStringConvertible {
    var name: String
    var raw: [UInt8]
    var method: String
    var target: String
    var version: HTTPVersion = .http11
    var headers: [(String, String)]
    var body: [UInt8]
    var keepAlive = true
    var expectsContinue = false
    var framing: BodyFraming

    var testDescription: String { name }

    static let all: [ValidRequest] = [
        ValidRequest(
            name: "GET with Host",
            raw: bytes(
                """
                GET /health HTTP/1.1\r
                Host: hooks.example.com\r
                \r

                """
            ),
            method: "GET",
            target: "/health",
            headers: [("Host", "hooks.example.com")],
            body: [],
            framing: .none
        ),
        ValidRequest(
            name: "typical webhook POST",
            raw: bytes(
                """
                POST /message/added?tenant=7 HTTP/1.1\r
                Host: hooks.example.com:8443\r
                User-Agent: Prompt.io-Webhooks/2.1\r
                Content-Type: application/json; charset=utf-8\r
                Prompt-EventType: message/added\r
                X-Hub-Signature: sha256=0123456789abcdef\r
                Content-Length: 27\r
                \r
                {"id":42,"text":"hi there"}
                """
            ),
            method: "POST",
            target: "/message/added?tenant=7",
            headers: [
                ("Host", "hooks.example.com:8443"),
                ("User-Agent", "Prompt.io-Webhooks/2.1"),
                ("Content-Type", "application/json; charset=utf-8"),
                ("Prompt-EventType", "message/added"),
                ("X-Hub-Signature", "sha256=0123456789abcdef"),
                ("Content-Length", "27"),
            ],
            body: bytes(#"{"id":42,"text":"hi there"}"#),
            framing: .contentLength(27)
        ),
        ValidRequest(
            name: "chunked POST with extensions and trailers",
            raw: bytes(
                """
                POST /events HTTP/1.1\r
                Host: a\r
                Transfer-Encoding: chunked\r
                \r
                5;ext=1\r
                hello\r
                00006 ; name = "quoted \\" value" ; flag\r
                , worl\r
                1\r
                d\r
                A\r
                0123456789\r
                0\r
                Trailer-One: x\r
                Trailer-Two: y\r
                \r

                """
            ),
            method: "POST",
            target: "/events",
            headers: [("Host", "a"), ("Transfer-Encoding", "chunked")],
            body: bytes("hello, world0123456789"),
            framing: .chunked
        ),
        ValidRequest(
            name: "chunked with upper-case coding, hex digits and no trailers",
            raw: bytes(
                """
                PUT /x HTTP/1.1\r
                Host: a\r
                Transfer-Encoding: , CHUNKED\r
                \r
                1a\r
                abcdefghijklmnopqrstuvwxyz\r
                000\r
                \r

                """
            ),
            method: "PUT",
            target: "/x",
            headers: [("Host", "a"), ("Transfer-Encoding", ", CHUNKED")],
            body: bytes("abcdefghijklmnopqrstuvwxyz"),
            framing: .chunked
        ),
        ValidRequest(
            name: "HTTP/1.0 without Host closes",
            raw: bytes(
                """
                GET / HTTP/1.0\r
                \r

                """
            ),
            method: "GET",
            target: "/",
            version: .http10,
            headers: [],
            body: [],
            keepAlive: false,
            framing: .none
        ),
        ValidRequest(
            name: "HTTP/1.0 keep-alive POST",
            raw: bytes(
                """
                POST /a HTTP/1.0\r
                Connection: Keep-Alive\r
                Content-Length: 3\r
                \r
                abc
                """
            ),
            method: "POST",
            target: "/a",
            version: .http10,
            headers: [("Connection", "Keep-Alive"), ("Content-Length", "3")],
            body: bytes("abc"),
            framing: .contentLength(3)
        ),
        ValidRequest(
            name: "HTTP/1.1 Connection close among other options",
            raw: bytes(
                """
                GET / HTTP/1.1\r
                Host: a\r
                Connection: upgrade, CLOSE\r
                \r

                """
            ),
            method: "GET",
            target: "/",
            headers: [("Host", "a"), ("Connection", "upgrade, CLOSE")],
            body: [],
            keepAlive: false,
            framing: .none
        ),
        ValidRequest(
            name: "Expect 100-continue",
            raw: bytes(
                """
                POST /a HTTP/1.1\r
                Host: a\r
                Expect: 100-Continue\r
                Content-Length: 2\r
                \r
                ok
                """
            ),
            method: "POST",
            target: "/a",
            headers: [("Host", "a"), ("Expect", "100-Continue"), ("Content-Length", "2")],
            body: bytes("ok"),
            expectsContinue: true,
            framing: .contentLength(2)
        ),
        ValidRequest(
            name: "HTTP/1.0 Expect is ignored",
            raw: bytes(
                """
                POST /a HTTP/1.0\r
                Expect: something-else\r
                Content-Length: 0\r
                \r

                """
            ),
            method: "POST",
            target: "/a",
            version: .http10,
            headers: [("Expect", "something-else"), ("Content-Length", "0")],
            body: [],
            keepAlive: false,
            framing: .contentLength(0)
        ),
        ValidRequest(
            name: "empty lines before the request line",
            raw: bytes(
                """
                \r
                \r
                DELETE /items/1 HTTP/1.1\r
                Host: a\r
                Content-Length: 0\r
                \r

                """
            ),
            method: "DELETE",
            target: "/items/1",
            headers: [("Host", "a"), ("Content-Length", "0")],
            body: [],
            framing: .contentLength(0)
        ),
        ValidRequest(
            name: "absolute-form target",
            raw: bytes(
                """
                GET HTTP://hooks.example.com:80/path?q=1 HTTP/1.1\r
                Host: hooks.example.com\r
                \r

                """
            ),
            method: "GET",
            target: "HTTP://hooks.example.com:80/path?q=1",
            headers: [("Host", "hooks.example.com")],
            body: [],
            framing: .none
        ),
        ValidRequest(
            name: "asterisk-form OPTIONS",
            raw: bytes(
                """
                OPTIONS * HTTP/1.1\r
                Host: a\r
                \r

                """
            ),
            method: "OPTIONS",
            target: "*",
            headers: [("Host", "a")],
            body: [],
            framing: .none
        ),
        ValidRequest(
            name: "whitespace trimmed, duplicates kept, UTF-8 value, empty value",
            raw: bytes(
                "GET /d HTTP/1.1\r\nHost:\ta \r\nX-Dup: one\r\nx-dup:  two\t\r\nX-Name: na\u{EF}ve caf\u{E9}\r\n"
                    + "X-Empty:\r\nX-Spaces: a  b\r\n\r\n"
            ),
            method: "GET",
            target: "/d",
            headers: [
                ("Host", "a"), ("X-Dup", "one"), ("x-dup", "two"), ("X-Name", "na\u{EF}ve caf\u{E9}"),
                ("X-Empty", ""), ("X-Spaces", "a  b"),
            ],
            body: [],
            framing: .none
        ),
        ValidRequest(
            name: "identical duplicate Content-Length values",
            raw: bytes(
                """
                POST /a HTTP/1.1\r
                Host: a\r
                Content-Length: 4, 4\r
                Content-Length: 0004\r
                \r
                abcd
                """
            ),
            method: "POST",
            target: "/a",
            headers: [("Host", "a"), ("Content-Length", "4, 4"), ("Content-Length", "0004")],
            body: bytes("abcd"),
            framing: .contentLength(4)
        ),
        ValidRequest(
            name: "binary body with CRLFs and NUL",
            raw: bytes("POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 8\r\n\r\n") + [
                0x0D, 0x0A, 0x0D, 0x0A, 0, 0xFF, 0x0A, 0x0D,
            ],
            method: "POST",
            target: "/b",
            headers: [("Host", "a"), ("Content-Length", "8")],
            body: [0x0D, 0x0A, 0x0D, 0x0A, 0, 0xFF, 0x0A, 0x0D],
            framing: .contentLength(8)
        ),
        ValidRequest(
            name: "empty Host and unusual token method",
            raw: bytes(
                """
                M-SEARCH /x HTTP/1.1\r
                Host:\r
                \r

                """
            ),
            method: "M-SEARCH",
            target: "/x",
            headers: [("Host", "")],
            body: [],
            framing: .none
        ),
    ]
}

@Suite struct RequestParserTests {
    @Test(arguments: ValidRequest.all, Chunking.all)
    func parsesValidRequest(_ request: ValidRequest, chunking: Chunking) throws {
        let outcome = parse(request.raw, chunking: chunking)
        #expect(outcome.error == nil)
        try #require(outcome.events.count == 2)
        let head = try #require(outcome.heads.first)
        #expect(head.method == request.method)
        #expect(head.target == request.target)
        #expect(head.version == request.version)
        #expect(head.headers == Headers(request.headers))
        #expect(head.headers.fields.map(\.name) == request.headers.map(\.0))
        #expect(head.keepAlive == request.keepAlive)
        #expect(head.expectsContinue == request.expectsContinue)
        #expect(head.framing == request.framing)
        #expect(outcome.bodies == [request.body])
    }

    @Test(arguments: Chunking.all)
    func pipelinedRequestsComeOutInOrder(chunking: Chunking) {
        let keptAlive = ValidRequest.all.filter(\.keepAlive)
        let stream = keptAlive.flatMap(\.raw)
        let outcome = parse(stream, chunking: chunking)
        #expect(outcome.error == nil)
        #expect(outcome.heads.map(\.target) == keptAlive.map(\.target))
        #expect(outcome.bodies == keptAlive.map(\.body))
        // Heads and ends alternate.
        for (index, event) in outcome.events.enumerated() {
            if case .head = event {
                #expect(index.isMultiple(of: 2))
            } else {
                #expect(!index.isMultiple(of: 2))
            }
        }
    }

    @Test func surplusBytesAreKeptForTheNextRequest() throws {
        var parser = RequestParser()
        parser.append(bytes("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HT"))
        guard case .head(let first) = try parser.next() else {
            Issue.record("expected a head")
            return
        }
        #expect(first.target == "/1")
        #expect(try parser.next() == .end(body: []))
        #expect(parser.hasBufferedBytes)
        #expect(parser.bufferedByteCount == 9)
        #expect(parser.isMidMessage)
        #expect(try parser.next() == nil)
        parser.append(bytes("TP/1.1\r\nHost: a\r\n\r\n"))
        guard case .head(let second) = try parser.next() else {
            Issue.record("expected a second head")
            return
        }
        #expect(second.target == "/2")
        #expect(try parser.next() == .end(body: []))
        #expect(!parser.hasBufferedBytes)
        #expect(!parser.isMidMessage)
        #expect(try parser.next() == nil)
    }

    @Test func headIsEmittedBeforeTheBodyArrives() throws {
        var parser = RequestParser()
        #expect(!parser.isMidMessage)
        parser.append(
            bytes(
                """
                POST /message/added HTTP/1.1\r
                Host: a\r
                Expect: 100-continue\r
                Content-Length: 11\r
                \r

                """
            )
        )
        guard case .head(let head) = try parser.next() else {
            Issue.record("expected the head")
            return
        }
        #expect(head.expectsContinue)
        #expect(head.framing == .contentLength(11))
        #expect(try parser.next() == nil)
        #expect(parser.isMidMessage)
        parser.append(bytes("hello "))
        #expect(try parser.next() == nil)
        parser.append(bytes("world"))
        #expect(try parser.next() == .end(body: bytes("hello world")))
        #expect(try parser.next() == nil)
        #expect(!parser.isMidMessage)
    }

    @Test func chunkedHeadIsEmittedBeforeTheFirstChunk() throws {
        var parser = RequestParser()
        parser.append(bytes("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"))
        guard case .head(let head) = try parser.next() else {
            Issue.record("expected the head")
            return
        }
        #expect(head.framing == .chunked)
        #expect(try parser.next() == nil)
        parser.append(bytes("3\r\nabc\r\n0\r\n\r\n"))
        #expect(try parser.next() == .end(body: bytes("abc")))
    }

    struct KeepAliveCase: Sendable, CustomTestStringConvertible {
        var version: String
        var connection: String?
        var keepAlive: Bool
        var testDescription: String { "\(version) Connection: \(connection ?? "(none)")" }
    }

    @Test(arguments: [
        KeepAliveCase(version: "HTTP/1.1", connection: nil, keepAlive: true),
        KeepAliveCase(version: "HTTP/1.1", connection: "keep-alive", keepAlive: true),
        KeepAliveCase(version: "HTTP/1.1", connection: "close", keepAlive: false),
        KeepAliveCase(version: "HTTP/1.1", connection: "Close", keepAlive: false),
        KeepAliveCase(version: "HTTP/1.1", connection: "keep-alive, close", keepAlive: false),
        KeepAliveCase(version: "HTTP/1.1", connection: "closed", keepAlive: true),
        KeepAliveCase(version: "HTTP/1.1", connection: "", keepAlive: true),
        KeepAliveCase(version: "HTTP/1.0", connection: nil, keepAlive: false),
        KeepAliveCase(version: "HTTP/1.0", connection: "keep-alive", keepAlive: true),
        KeepAliveCase(version: "HTTP/1.0", connection: "KEEP-ALIVE", keepAlive: true),
        KeepAliveCase(version: "HTTP/1.0", connection: "te, keep-alive", keepAlive: true),
        KeepAliveCase(version: "HTTP/1.0", connection: "keep-alive, close", keepAlive: false),
        KeepAliveCase(version: "HTTP/1.0", connection: "keepalive", keepAlive: false),
    ])
    func keepAliveFollowsVersionAndConnection(_ testCase: KeepAliveCase) throws {
        var raw = "GET / \(testCase.version)\r\nHost: a\r\n"
        if let connection = testCase.connection {
            raw += "Connection: \(connection)\r\n"
        }
        raw += "\r\n"
        let head = try #require(parse(raw).heads.first)
        #expect(head.keepAlive == testCase.keepAlive)
    }

    @Test func connectionListsInSeveralFieldsCombine() throws {
        let head = try #require(
            parse("GET / HTTP/1.0\r\nConnection: te\r\nConnection: keep-alive\r\n\r\n").heads.first
        )
        #expect(head.keepAlive)
    }

    @Test(arguments: [
        ("/a/b?c=d", RequestTargetForm.origin, "/a/b?c=d"),
        ("http://h.example/a?b", .absolute, "/a?b"),
        ("https://h.example", .absolute, "/"),
        ("http://h.example?q", .absolute, "/?q"),
        ("HTTP://H:8080/x", .absolute, "/x"),
    ])
    func targetFormsAndOriginFormTarget(target: String, form: RequestTargetForm, origin: String) throws {
        let head = try #require(parse("GET \(target) HTTP/1.1\r\nHost: h\r\n\r\n").heads.first)
        #expect(head.target == target)
        #expect(head.targetForm == form)
        #expect(head.originFormTarget == origin)
    }

    @Test func largeBodyInManySmallChunksIsExact() {
        var body: [UInt8] = []
        var raw = bytes("POST /big HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
        var generator = SplitMix64(seed: 7)
        while body.count < 100_000 {
            let size = Int.random(in: 1...3000, using: &generator)
            let chunk = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            body += chunk
            raw += bytes(String(size, radix: 16) + "\r\n") + chunk + bytes("\r\n")
        }
        raw += bytes("0\r\n\r\n")
        for chunking in [Chunking.whole, .fixed(1000), .random(seed: 3)] {
            let outcome = parse(raw, chunking: chunking)
            #expect(outcome.error == nil)
            #expect(outcome.bodies == [body])
        }
    }

    @Test func rawBufferAppendAsTheServerDoes() throws {
        var parser = RequestParser()
        let raw = bytes("POST /r HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz")
        raw.withUnsafeBytes { parser.append($0) }
        guard case .head(let head) = try parser.next() else {
            Issue.record("expected the head")
            return
        }
        #expect(head.target == "/r")
        #expect(try parser.next() == .end(body: bytes("xyz")))
    }

    @Test func longPipelinedStreamSurvivesCompaction() {
        // Thousands of requests streamed in pieces that never align with request boundaries
        // exercise both compaction paths (drop everything, move the rest down).
        var stream: [UInt8] = []
        var targets: [String] = []
        for index in 0..<2000 {
            let body = String(repeating: "b", count: index % 300)
            targets.append("/r/\(index)")
            stream += bytes("POST /r/\(index) HTTP/1.1\r\nHost: a\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        }
        for chunking in [Chunking.fixed(5000), .fixed(4099), .random(seed: 11)] {
            let outcome = parse(stream, chunking: chunking)
            #expect(outcome.error == nil)
            #expect(outcome.heads.map(\.target) == targets)
            #expect(outcome.bodies.map(\.count) == (0..<2000).map { $0 % 300 })
        }
    }

    @Test func errorsAreSticky() {
        var parser = RequestParser()
        parser.append(bytes("GET / HTTP/1.1\nHost: a\r\n\r\n"))
        #expect(throws: HTTPParseError(.bareLineFeed)) { try parser.next() }
        parser.append(bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
        #expect(throws: HTTPParseError(.bareLineFeed)) { try parser.next() }
    }

    @Test func byteByByteHeadIsScannedOnce() throws {
        // A slow client sending one byte at a time must not make the parser rescan: a large
        // head fed byte by byte completes, and each call returns nil until the final LF.
        var raw = "POST /slow HTTP/1.1\r\nHost: a\r\n"
        for index in 0..<90 {
            raw += "X-Field-\(index): " + String(repeating: "v", count: 150) + "\r\n"
        }
        raw += "Content-Length: 0\r\n\r\n"
        let outcome = parse(raw, chunking: .fixed(1))
        #expect(outcome.error == nil)
        #expect(outcome.heads.first?.headers.count == 92)
    }
}
