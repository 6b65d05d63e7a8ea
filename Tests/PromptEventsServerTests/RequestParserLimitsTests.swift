import PromptEvents
import Testing

@testable import PromptEventsServer

@Suite struct RequestParserLimitsTests {
    @Test func defaultsAreDocumentedValues() {
        let limits = HTTPLimits()
        #expect(limits.maxHeadBytes == 16_384)
        #expect(limits.maxTargetBytes == 8192)
        #expect(limits.maxHeaderCount == 100)
        #expect(limits.maxBodyBytes == 1_048_576)
        #expect(limits.maxChunkExtensionBytes == 4096)
    }

    /// A GET whose head is exactly `size` bytes, padded with one header value.
    static func head(ofSize size: Int, leadingEmptyLines: Int = 0) -> [UInt8] {
        let prefix = String(repeating: "\r\n", count: leadingEmptyLines) + "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: "
        let suffix = "\r\n\r\n"
        let padding = size - prefix.utf8.count - suffix.utf8.count
        return bytes(prefix + String(repeating: "p", count: padding) + suffix)
    }

    @Test(arguments: [HTTPLimits(), HTTPLimits(maxHeadBytes: 200)], [Chunking.whole, .fixed(1), .fixed(64)])
    func headAtLimitIsAcceptedAndOneMoreByteIsNot(limits: HTTPLimits, chunking: Chunking) {
        let atLimit = Self.head(ofSize: limits.maxHeadBytes)
        #expect(atLimit.count == limits.maxHeadBytes)
        let accepted = parse(atLimit, chunking: chunking, limits: limits)
        #expect(accepted.error == nil)
        #expect(accepted.bodies == [[]])

        let over = parse(Self.head(ofSize: limits.maxHeadBytes + 1), chunking: chunking, limits: limits)
        #expect(over.error == HTTPParseError(.headTooLarge))
        #expect(over.error?.status == 431)
    }

    /// Request lines that the HTTP fuzz target once answered with a status depending on how the
    /// bytes were segmented (Fuzz/Corpus/http/regression-1…4): now the same for every chunking.
    @Test(arguments: [
        ("POST /" + String(repeating: "A", count: 9000) + " HTTP/1.1\n", HTTPLimits(), 414),  // bare LF after
        ("POST /" + String(repeating: "A", count: 9000) + " x", HTTPLimits(), 414),  // line not ended yet
        (String(repeating: "P", count: 200) + "\u{1}OST / HTTP/1.1\r\n", HTTPLimits(maxHeadBytes: 200), 431),
        (
            "GET /" + String(repeating: "a", count: 150) + " HTTP/1.1" + String(repeating: " ", count: 60),
            HTTPLimits(maxHeadBytes: 200), 431
        ),
    ])
    func overlongRequestLinesGetOneStatusWhateverTheSegmentation(line: String, limits: HTTPLimits, status: Int) {
        for chunking in [Chunking.whole, .fixed(1), .fixed(7), .fixed(64)] {
            #expect(parse(line, chunking: chunking, limits: limits).error?.status == status, "\(chunking)")
        }
    }

    @Test func emptyLinesBeforeTheRequestLineCountTowardsTheHead() {
        let limits = HTTPLimits(maxHeadBytes: 200)
        #expect(parse(Self.head(ofSize: 200, leadingEmptyLines: 3), limits: limits).error == nil)
        #expect(parse(Self.head(ofSize: 201, leadingEmptyLines: 3), limits: limits).error?.status == 431)
        let flood = bytes(String(repeating: "\r\n", count: 101))
        #expect(parse(flood, limits: limits).error?.status == 431)
    }

    @Test func unterminatedHeadIsRejectedAtTheLimitWithoutWaiting() throws {
        let limits = HTTPLimits(maxHeadBytes: 100)
        let partial = bytes("GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "v", count: 200))
        var parser = RequestParser(limits: limits)
        parser.append(partial.prefix(100))
        #expect(throws: HTTPParseError(.headTooLarge)) { try parser.next() }

        var undecided = RequestParser(limits: limits)
        undecided.append(partial.prefix(99))
        #expect(try undecided.next() == nil)
    }

    static func request(withFieldCount count: Int) -> String {
        var raw = "GET / HTTP/1.1\r\nHost: a\r\n"
        for index in 1..<count {
            raw += "X-\(index): v\r\n"
        }
        return raw + "\r\n"
    }

    @Test(arguments: [Chunking.whole, .fixed(5)])
    func headerCountAtLimitIsAcceptedAndOneMoreIsNot(chunking: Chunking) {
        let accepted = parse(Self.request(withFieldCount: 100), chunking: chunking)
        #expect(accepted.error == nil)
        #expect(accepted.heads.first?.headers.count == 100)
        let flood = parse(Self.request(withFieldCount: 101), chunking: chunking)
        #expect(flood.error == HTTPParseError(.tooManyHeaders))
        #expect(flood.error?.status == 431)

        let small = HTTPLimits(maxHeaderCount: 3)
        #expect(parse(Self.request(withFieldCount: 3), limits: small).error == nil)
        #expect(parse(Self.request(withFieldCount: 4), limits: small).error?.status == 431)
    }

    static func target(ofLength length: Int) -> String {
        "/" + String(repeating: "t", count: length - 1)
    }

    @Test(arguments: [Chunking.whole, .fixed(1), .fixed(100)])
    func targetAtLimitIsAcceptedAndOneMoreByteIsNot(chunking: Chunking) {
        let atLimit = parse("GET \(Self.target(ofLength: 8192)) HTTP/1.1\r\nHost: a\r\n\r\n", chunking: chunking)
        #expect(atLimit.error == nil)
        #expect(atLimit.heads.first?.target.utf8.count == 8192)
        let over = parse("GET \(Self.target(ofLength: 8193)) HTTP/1.1\r\nHost: a\r\n\r\n", chunking: chunking)
        #expect(over.error == HTTPParseError(.targetTooLong))
        #expect(over.error?.status == 414)
    }

    @Test func overlongTargetIsRejectedBeforeTheLineEnds() throws {
        let limits = HTTPLimits(maxTargetBytes: 50)
        var parser = RequestParser(limits: limits)
        parser.append(bytes("GET " + Self.target(ofLength: 50)))
        #expect(try parser.next() == nil)
        parser.append(bytes("t"))
        #expect(throws: HTTPParseError(.targetTooLong)) { try parser.next() }
    }

    @Test func overlongRequestLineIsURITooLongNotHeadTooLarge() {
        // The head limit is reached inside the target: the answer is 414, not 431.
        let limits = HTTPLimits(maxHeadBytes: 100, maxTargetBytes: 90)
        let outcome = parse("GET " + Self.target(ofLength: 200), limits: limits)
        #expect(outcome.error?.status == 414)
        // A long method with no target yet is still 431 at the head limit.
        let method = parse(String(repeating: "M", count: 150), limits: limits)
        #expect(method.error?.status == 431)
    }

    @Test(arguments: [Chunking.whole, .fixed(1000)])
    func contentLengthAtLimitIsAcceptedAndOneMoreIsNot(chunking: Chunking) {
        let limit = 1_048_576
        let body = [UInt8](repeating: 0x61, count: limit)
        let atLimit = parse(
            bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \(limit)\r\n\r\n") + body,
            chunking: chunking
        )
        #expect(atLimit.error == nil)
        #expect(atLimit.bodies.first?.count == limit)

        // Rejected from the head alone, before any body byte is sent.
        let over = parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \(limit + 1)\r\n\r\n", chunking: chunking)
        #expect(over.error == HTTPParseError(.bodyTooLarge))
        #expect(over.error?.status == 413)
        #expect(over.events.isEmpty)
    }

    @Test func smallBodyLimitBoundary() {
        let limits = HTTPLimits(maxBodyBytes: 5)
        #expect(
            parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", limits: limits).bodies == [
                bytes("hello")
            ]
        )
        #expect(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\n", limits: limits).error?.status == 413)
        let zero = HTTPLimits(maxBodyBytes: 0)
        #expect(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", limits: zero).bodies == [[]])
        #expect(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n", limits: zero).error?.status == 413)
    }

    static func chunkedRequest(chunkSizes: [Int], extensions: String = "") -> [UInt8] {
        var raw = bytes("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
        for size in chunkSizes {
            raw += bytes(String(size, radix: 16) + extensions + "\r\n") + [UInt8](repeating: 0x62, count: size)
            raw += bytes("\r\n")
        }
        return raw + bytes("0\r\n\r\n")
    }

    @Test(arguments: [Chunking.whole, .fixed(7)])
    func chunkedRunningTotalAtLimitIsAcceptedAndOneMoreIsNot(chunking: Chunking) {
        let limits = HTTPLimits(maxBodyBytes: 1000)
        let atLimit = parse(Self.chunkedRequest(chunkSizes: [400, 400, 200]), chunking: chunking, limits: limits)
        #expect(atLimit.error == nil)
        #expect(atLimit.bodies.first?.count == 1000)

        let over = parse(Self.chunkedRequest(chunkSizes: [400, 400, 201]), chunking: chunking, limits: limits)
        #expect(over.error == HTTPParseError(.bodyTooLarge))
        // The head came out; the body did not.
        #expect(over.heads.count == 1)
        #expect(over.bodies.isEmpty)
    }

    @Test func chunkOverTheRemainingBudgetIsRejectedBeforeItsData() throws {
        var parser = RequestParser(limits: HTTPLimits(maxBodyBytes: 10))
        parser.append(bytes("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n"))
        _ = try parser.next()
        #expect(try parser.next() == nil)
        parser.append(bytes("5\r\n"))
        #expect(throws: HTTPParseError(.bodyTooLarge)) { try parser.next() }
    }

    @Test func chunkExtensionBytesAreBoundedOverTheWholeBody() {
        let limits = HTTPLimits(maxChunkExtensionBytes: 20)
        // ";e=12345" is 8 bytes, ";e=1" is 4 bytes: 8 + 8 + 4 = 20 at the limit.
        var raw = bytes("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
        raw += bytes("1;e=12345\r\na\r\n1;e=12345\r\nb\r\n0;e=1\r\n\r\n")
        #expect(parse(raw, limits: limits).bodies == [bytes("ab")])
        var over = bytes("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
        over += bytes("1;e=12345\r\na\r\n1;e=12345\r\nb\r\n0;e=12\r\n\r\n")
        #expect(parse(over, limits: limits).error == HTTPParseError(.chunkExtensionsTooLarge))
        #expect(parse(over, chunking: .fixed(1), limits: limits).error?.status == 413)
    }

    @Test func unterminatedChunkExtensionIsRejectedAtTheLimit() {
        let limits = HTTPLimits(maxChunkExtensionBytes: 64)
        let raw = Self.chunkedRequest(chunkSizes: []).dropLast(5) + bytes("5;" + String(repeating: "x", count: 500))
        #expect(
            parse(Array(raw), chunking: .fixed(1), limits: limits).error == HTTPParseError(.chunkExtensionsTooLarge)
        )
    }

    @Test func trailersAreBoundedByTheHeadLimits() {
        let limits = HTTPLimits(maxHeadBytes: 200, maxHeaderCount: 3)
        let prefix = bytes("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n")
        #expect(parse(prefix + bytes("A: 1\r\nB: 2\r\nC: 3\r\n\r\n"), limits: limits).bodies == [[]])
        #expect(
            parse(prefix + bytes("A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"), limits: limits).error
                == HTTPParseError(.tooManyHeaders)
        )
        // Trailer section of exactly 200 bytes (one field plus the final CRLF), then 201.
        let value = String(repeating: "v", count: 200 - 7)
        #expect(parse(prefix + bytes("T: \(value)\r\n\r\n"), limits: limits).bodies == [[]])
        #expect(parse(prefix + bytes("T: \(value)v\r\n\r\n"), limits: limits).error == HTTPParseError(.headTooLarge))
    }
}
