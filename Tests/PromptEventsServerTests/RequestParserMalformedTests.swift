import PromptEvents
import Testing

@testable import PromptEventsServer

/// A request the parser must reject, and how.
struct MalformedRequest: Sendable, CustomTestStringConvertible {
    var name: String
    var raw: [UInt8]
    var reason: HTTPParseError.Reason
    var status: Int

    var testDescription: String { "\(name) → \(status)" }

    init(_ name: String, _ raw: String, _ status: Int, _ reason: HTTPParseError.Reason) {
        self.init(name, bytes(raw), status, reason)
    }

    init(_ name: String, _ raw: [UInt8], _ status: Int, _ reason: HTTPParseError.Reason) {
        self.name = name
        self.raw = raw
        self.status = status
        self.reason = reason
    }

    /// A POST with `Host: a` and the given extra header lines and body.
    static func post(_ name: String, headers: String, body: String = "", _ status: Int, _ reason: HTTPParseError.Reason)
        -> MalformedRequest
    {
        MalformedRequest(name, "POST /p HTTP/1.1\r\nHost: a\r\n\(headers)\r\n\(body)", status, reason)
    }

    /// A chunked POST whose body is `chunks`.
    static func chunked(_ name: String, _ chunks: String, _ status: Int, _ reason: HTTPParseError.Reason)
        -> MalformedRequest
    {
        post(name, headers: "Transfer-Encoding: chunked\r\n", body: chunks, status, reason)
    }

    static let all: [MalformedRequest] = requestLine + fieldLines + framing + chunkedBodies

    static let requestLine: [MalformedRequest] = [
        MalformedRequest("bare LF after request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400, .bareLineFeed),
        MalformedRequest("bare LF as first byte", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400, .bareLineFeed),
        MalformedRequest(
            "CR without LF before request line",
            "\rGET / HTTP/1.1\r\nHost: a\r\n\r\n",
            400,
            .invalidRequestLine
        ),
        MalformedRequest("empty method", " / HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidMethod),
        MalformedRequest("method with @", "G@T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidMethod),
        MalformedRequest("method with NUL", "G\0T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidMethod),
        MalformedRequest("method with obs-text", "G\u{E9}T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidMethod),
        MalformedRequest("tab as separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidMethod),
        MalformedRequest(
            "TLS ClientHello",
            [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03],
            400,
            .invalidMethod
        ),
        MalformedRequest("two spaces after method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidRequestLine),
        MalformedRequest("space inside target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidVersion),
        MalformedRequest("HTTP/0.9 request line", "GET /\r\n\r\n", 400, .invalidRequestLine),
        MalformedRequest("method only", "GET\r\n\r\n", 400, .invalidRequestLine),
        MalformedRequest("NUL in target", "GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidTarget),
        MalformedRequest("DEL in target", "GET /a\u{7F} HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidTarget),
        MalformedRequest("obs-text in target", "GET /caf\u{E9} HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidTarget),
        MalformedRequest("fragment in target", "GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidTarget),
        MalformedRequest("relative target", "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidTarget),
        MalformedRequest("asterisk with GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidTarget),
        MalformedRequest(
            "asterisk with lower-case options",
            "options * HTTP/1.1\r\nHost: a\r\n\r\n",
            400,
            .invalidTarget
        ),
        MalformedRequest("ftp scheme", "GET ftp://h/x HTTP/1.1\r\nHost: a\r\n\r\n", 400, .invalidTarget),
        MalformedRequest(
            "absolute-form without host",
            "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n",
            400,
            .invalidTarget
        ),
        MalformedRequest(
            "authority-form",
            "CONNECT h.example:443 HTTP/1.1\r\nHost: h.example:443\r\n\r\n",
            400,
            .invalidTarget
        ),
        MalformedRequest("lower-case version", "GET / http/1.1\r\nHost: a\r\n\r\n", 400, .invalidVersion),
        MalformedRequest("space after version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400, .invalidVersion),
        MalformedRequest("version without minor", "GET / HTTP/1\r\nHost: a\r\n\r\n", 400, .invalidVersion),
        MalformedRequest("two-digit major", "GET / HTTP/10.1\r\nHost: a\r\n\r\n", 400, .invalidVersion),
        MalformedRequest("version with letters", "GET / HTTP/1.x\r\nHost: a\r\n\r\n", 400, .invalidVersion),
        MalformedRequest("HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, .versionNotSupported),
        MalformedRequest("HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505, .versionNotSupported),
        MalformedRequest("HTTP/0.9 with version", "GET / HTTP/0.9\r\n\r\n", 505, .versionNotSupported),
        MalformedRequest("HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, .versionNotSupported),
    ]

    static let fieldLines: [MalformedRequest] = [
        MalformedRequest("bare LF after field", "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", 400, .bareLineFeed),
        MalformedRequest("bare LF ending the head", "GET / HTTP/1.1\r\nHost: a\r\n\n", 400, .bareLineFeed),
        MalformedRequest("bare CR in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400, .invalidHeaderValue),
        MalformedRequest("obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400, .obsoleteLineFolding),
        MalformedRequest(
            "obs-fold with tab",
            "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n",
            400,
            .obsoleteLineFolding
        ),
        MalformedRequest(
            "whitespace before first field",
            "GET / HTTP/1.1\r\n Host: a\r\n\r\n",
            400,
            .obsoleteLineFolding
        ),
        MalformedRequest("space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, .whitespaceBeforeColon),
        MalformedRequest(
            "tab before colon",
            "GET / HTTP/1.1\r\nHost: a\r\nContent-Length\t: 5\r\n\r\nhello",
            400,
            .whitespaceBeforeColon
        ),
        MalformedRequest("empty name", "GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", 400, .emptyHeaderName),
        MalformedRequest("no colon", "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400, .invalidHeaderName),
        MalformedRequest(
            "parenthesis in name",
            "GET / HTTP/1.1\r\nHost: a\r\nX(Y): 1\r\n\r\n",
            400,
            .invalidHeaderName
        ),
        MalformedRequest("NUL in name", "GET / HTTP/1.1\r\nHost: a\r\nX\0Y: 1\r\n\r\n", 400, .invalidHeaderName),
        MalformedRequest(
            "obs-text in name",
            "GET / HTTP/1.1\r\nHost: a\r\nX\u{E9}: 1\r\n\r\n",
            400,
            .invalidHeaderName
        ),
        MalformedRequest("NUL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 400, .invalidHeaderValue),
        MalformedRequest(
            "vertical tab in value",
            "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{0B}\r\n\r\n",
            400,
            .invalidHeaderValue
        ),
        MalformedRequest(
            "escape in value",
            "GET / HTTP/1.1\r\nHost: a\r\nX: \u{1B}[31m\r\n\r\n",
            400,
            .invalidHeaderValue
        ),
        MalformedRequest("DEL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{7F}\r\n\r\n", 400, .invalidHeaderValue),
        MalformedRequest("missing Host", "GET / HTTP/1.1\r\nX: y\r\n\r\n", 400, .missingHost),
        MalformedRequest("missing Host with absolute-form", "GET http://h/ HTTP/1.1\r\n\r\n", 400, .missingHost),
        MalformedRequest("two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, .multipleHost),
        MalformedRequest(
            "two Host fields in HTTP/1.0",
            "GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n",
            400,
            .multipleHost
        ),
        MalformedRequest("Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, .invalidHost),
        MalformedRequest("Host with path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, .invalidHost),
        MalformedRequest("Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400, .invalidHost),
        MalformedRequest(
            "unsupported expectation",
            "GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n",
            417,
            .unsupportedExpectation
        ),
        MalformedRequest(
            "100-continue with another expectation",
            "GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, x\r\n\r\n",
            417,
            .unsupportedExpectation
        ),
    ]

    static let framing: [MalformedRequest] = [
        post(
            "Content-Length and Transfer-Encoding",
            headers: "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
            400,
            .contentLengthWithTransferEncoding
        ),
        post(
            "Transfer-Encoding and Content-Length",
            headers: "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
            400,
            .contentLengthWithTransferEncoding
        ),
        post(
            "differing Content-Length fields",
            headers: "Content-Length: 5\r\nContent-Length: 6\r\n",
            400,
            .conflictingContentLength
        ),
        post("differing Content-Length list", headers: "Content-Length: 5, 6\r\n", 400, .conflictingContentLength),
        post("negative Content-Length", headers: "Content-Length: -5\r\n", 400, .invalidContentLength),
        post("signed Content-Length", headers: "Content-Length: +5\r\n", 400, .invalidContentLength),
        post("Content-Length with letters", headers: "Content-Length: 5a\r\n", 400, .invalidContentLength),
        post("hexadecimal Content-Length", headers: "Content-Length: 0x10\r\n", 400, .invalidContentLength),
        post("decimal point Content-Length", headers: "Content-Length: 5.0\r\n", 400, .invalidContentLength),
        post("space inside Content-Length", headers: "Content-Length: 1 2\r\n", 400, .invalidContentLength),
        post("empty Content-Length", headers: "Content-Length:\r\n", 400, .invalidContentLength),
        post("trailing comma Content-Length", headers: "Content-Length: 5,\r\n", 400, .invalidContentLength),
        post(
            "overflowing Content-Length",
            headers: "Content-Length: 99999999999999999999\r\n",
            400,
            .invalidContentLength
        ),
        post("Content-Length over the limit", headers: "Content-Length: 1048577\r\n", 413, .bodyTooLarge),
        post("gzip then chunked", headers: "Transfer-Encoding: gzip, chunked\r\n", 501, .unsupportedTransferCoding),
        post(
            "gzip and chunked in two fields",
            headers: "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
            501,
            .unsupportedTransferCoding
        ),
        post("chunked then gzip", headers: "Transfer-Encoding: chunked, gzip\r\n", 400, .invalidTransferEncoding),
        post(
            "chunked and gzip in two fields",
            headers: "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n",
            400,
            .invalidTransferEncoding
        ),
        post("identity", headers: "Transfer-Encoding: identity\r\n", 400, .invalidTransferEncoding),
        post("xchunked", headers: "Transfer-Encoding: xchunked\r\n", 400, .invalidTransferEncoding),
        post("chunkedx", headers: "Transfer-Encoding: chunkedx\r\n", 400, .invalidTransferEncoding),
        post("chunked twice", headers: "Transfer-Encoding: chunked, chunked\r\n", 400, .invalidTransferEncoding),
        post("chunked with a parameter", headers: "Transfer-Encoding: chunked;q=1\r\n", 400, .invalidTransferEncoding),
        post("quoted chunked", headers: "Transfer-Encoding: \"chunked\"\r\n", 400, .invalidTransferEncoding),
        post("chunked with inner space", headers: "Transfer-Encoding: chun ked\r\n", 400, .invalidTransferEncoding),
        post("empty Transfer-Encoding", headers: "Transfer-Encoding:\r\n", 400, .invalidTransferEncoding),
        post("chunked with vertical tab", headers: "Transfer-Encoding: chunked\u{0B}\r\n", 400, .invalidHeaderValue),
        post(
            "Transfer-Encoding with space before colon",
            headers: "Transfer-Encoding : chunked\r\n",
            400,
            .whitespaceBeforeColon
        ),
        MalformedRequest(
            "chunked in HTTP/1.0",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400,
            .transferEncodingInHTTP10
        ),
        MalformedRequest("POST without length", "POST / HTTP/1.1\r\nHost: a\r\n\r\n", 411, .lengthRequired),
        MalformedRequest("PUT without length in HTTP/1.0", "PUT / HTTP/1.0\r\n\r\n", 411, .lengthRequired),
    ]

    static let chunkedBodies: [MalformedRequest] = [
        chunked("chunk size not hex", "x\r\nabc\r\n0\r\n\r\n", 400, .invalidChunkSize),
        chunked("chunk size with 0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", 400, .invalidChunkSize),
        chunked("negative chunk size", "-1\r\n", 400, .invalidChunkSize),
        chunked("chunk size with leading space", " 5\r\nhello\r\n0\r\n\r\n", 400, .invalidChunkSize),
        chunked("empty chunk size line", "\r\n", 400, .invalidChunkSize),
        chunked("17-digit chunk size", "00000000000000005\r\nhello\r\n0\r\n\r\n", 400, .invalidChunkSize),
        chunked("chunk size with vertical tab", "5\u{0B}\r\nhello\r\n0\r\n\r\n", 400, .invalidChunkSize),
        chunked("chunk size over the limit", "100001\r\n", 413, .bodyTooLarge),
        chunked("64-bit chunk size", "FFFFFFFFFFFFFFFF\r\n", 413, .bodyTooLarge),
        chunked("trailing space after chunk size", "5 \r\nhello\r\n0\r\n\r\n", 400, .invalidChunkExtension),
        chunked("extension without name", "5;\r\nhello\r\n0\r\n\r\n", 400, .invalidChunkExtension),
        chunked("extension without semicolon", "5 ext\r\nhello\r\n0\r\n\r\n", 400, .invalidChunkExtension),
        chunked("extension with empty value", "5;a=\r\nhello\r\n0\r\n\r\n", 400, .invalidChunkExtension),
        chunked("unterminated quoted extension", "5;a=\"b\r\nhello\r\n0\r\n\r\n", 400, .invalidChunkExtension),
        chunked("control byte in extension", "5;a=\u{01}\r\nhello\r\n0\r\n\r\n", 400, .invalidChunkExtension),
        chunked("bare LF after chunk size", "5\nhello\r\n0\r\n\r\n", 400, .bareLineFeed),
        chunked("data longer than size", "5\r\nhelloX\r\n0\r\n\r\n", 400, .invalidChunkData),
        chunked("data followed by bare LF", "5\r\nhello\n0\r\n\r\n", 400, .invalidChunkData),
        chunked("data followed by CR only", "5\r\nhello\rX0\r\n\r\n", 400, .invalidChunkData),
        chunked("bare LF after last chunk", "0\n\r\n", 400, .bareLineFeed),
        chunked("bare LF ending trailers", "0\r\n\n", 400, .bareLineFeed),
        chunked("obs-fold in trailer", "0\r\nT: a\r\n b\r\n\r\n", 400, .obsoleteLineFolding),
        chunked("NUL in trailer", "0\r\nT: a\0\r\n\r\n", 400, .invalidHeaderValue),
        chunked("whitespace before colon in trailer", "0\r\nT : a\r\n\r\n", 400, .whitespaceBeforeColon),
    ]
}

@Suite struct RequestParserMalformedTests {
    @Test func tableIsLargeEnough() {
        #expect(MalformedRequest.all.count >= 40)
    }

    @Test(arguments: MalformedRequest.all)
    func rejectsMalformedRequestWhole(_ request: MalformedRequest) {
        let outcome = parse(request.raw)
        #expect(outcome.error?.reason == request.reason)
        #expect(outcome.error?.status == request.status)
    }

    @Test(arguments: MalformedRequest.all, [Chunking.fixed(1), .fixed(3), .random(seed: 9)])
    func rejectsMalformedRequestInPieces(_ request: MalformedRequest, chunking: Chunking) {
        let outcome = parse(request.raw, chunking: chunking)
        #expect(outcome.error?.reason == request.reason)
    }

    @Test func statusesMatchReasons() {
        for reason in HTTPParseError.Reason.allCases {
            let error = HTTPParseError(reason)
            #expect(error.status == reason.status)
            #expect([400, 411, 413, 414, 417, 431, 501, 502, 505].contains(error.status))
            #expect(!error.message.isEmpty)
            #expect(error.description.hasPrefix("\(error.status) \(reason.rawValue)"))
        }
    }

    /// The token bytes of RFC 9110 §5.6.2, written out independently of the parser.
    static let tokenBytes = Set(
        Array("!#$%&'*+-.^_`|~".utf8) + Array(UInt8(ascii: "0")...UInt8(ascii: "9"))
            + Array(UInt8(ascii: "A")...UInt8(ascii: "Z")) + Array(UInt8(ascii: "a")...UInt8(ascii: "z"))
    )

    @Test func tokenByteTableMatchesRFC() {
        #expect(Self.tokenBytes.count == 77)
        for byte in UInt8.min...UInt8.max {
            #expect(HTTPSyntax.isTokenByte(byte) == Self.tokenBytes.contains(byte), "byte \(byte)")
        }
    }

    @Test(arguments: 0...255)
    func headerNameAcceptsOnlyTokenBytes(_ value: Int) {
        let byte = UInt8(value)
        let raw = bytes("GET / HTTP/1.1\r\nHost: a\r\nX") + [byte] + bytes("Y: 1\r\n\r\n")
        let outcome = parse(raw)
        if Self.tokenBytes.contains(byte) {
            #expect(outcome.error == nil)
            let field = outcome.heads.first?.headers.fields.last
            #expect(field?.name.utf8.elementsEqual([UInt8(ascii: "X"), byte, UInt8(ascii: "Y")]) == true)
            #expect(field?.value == "1")
        } else if byte == HTTPSyntax.colon {
            // "X:Y: 1" is the field X with the value "Y: 1".
            #expect(outcome.error == nil)
            #expect(outcome.heads.first?.headers["X"] == "Y: 1")
        } else {
            #expect(outcome.error?.status == 400)
        }
    }

    @Test func headerValueAcceptsOnlyFieldBytesAtEveryPosition() {
        // Values of 1 to 24 bytes put each byte at every offset of the eight-byte fast path and
        // of the byte-by-byte tail.
        for length in 1...24 {
            for position in 0..<length {
                for value in 0...255 {
                    let byte = UInt8(value)
                    var fieldValue = [UInt8](repeating: UInt8(ascii: "v"), count: length)
                    fieldValue[position] = byte
                    let raw = bytes("GET / HTTP/1.1\r\nHost: a\r\nX: ") + fieldValue + bytes("\r\n\r\n")
                    let outcome = parse(raw)
                    let allowed = byte == HTTPSyntax.htab || (0x20...0x7E).contains(byte) || byte >= 0x80
                    if allowed {
                        // A lone byte above 0x7F is not UTF-8: obs-text, read as ISO-8859-1.
                        var latin1 = String.UnicodeScalarView()
                        latin1.append(contentsOf: fieldValue.map { Unicode.Scalar($0) })
                        let trimmed = String(latin1).trimmingOWS()
                        #expect(outcome.heads.first?.headers["X"] == trimmed, "byte \(byte) at \(position)/\(length)")
                    } else {
                        // Control bytes and DEL are invalid (RFC 9110 §5.5).
                        #expect(outcome.error?.status == 400, "byte \(byte) at \(position)/\(length)")
                    }
                }
            }
        }
    }

    @Test func utf8ValuesSurviveAtEveryPosition() {
        for length in 1...20 {
            for position in 0..<length {
                var value = String(repeating: "v", count: length)
                value.insert(contentsOf: "\u{E9}\u{1F600}", at: value.index(value.startIndex, offsetBy: position))
                let outcome = parse("GET / HTTP/1.1\r\nHost: a\r\nX: \(value)\r\n\r\n")
                #expect(outcome.heads.first?.headers["X"] == value)
            }
        }
    }

    @Test(arguments: 0...255)
    func methodAcceptsOnlyTokenBytes(_ value: Int) {
        let byte = UInt8(value)
        let raw = bytes("G") + [byte] + bytes("T / HTTP/1.1\r\nHost: a\r\n\r\n")
        let outcome = parse(raw)
        if Self.tokenBytes.contains(byte) {
            #expect(outcome.error == nil)
            #expect(outcome.heads.first?.method.utf8.count == 3)
        } else {
            #expect(outcome.error?.status == 400)
        }
    }

    /// The names the request log and the rejection metric use: snake case, acronyms whole.
    @Test func reasonLabelsAreSnakeCaseWithAcronymsKeptWhole() {
        #expect(HTTPParseError.Reason.transferEncodingInHTTP10.label == "transfer_encoding_in_http10")
        #expect(HTTPParseError.Reason.missingHost.label == "missing_host")
        for reason in HTTPParseError.Reason.allCases {
            let segments = reason.label.split(separator: "_", omittingEmptySubsequences: false)
            #expect(
                segments.allSatisfy { $0.count > 1 && $0.allSatisfy { $0.isLowercase || $0.isNumber } },
                "\(reason)"
            )
        }
    }
}

extension String {
    /// The string without leading and trailing SP and HTAB.
    fileprivate func trimmingOWS() -> String {
        var utf8 = Substring(self).utf8[...]
        while let first = utf8.first, first == 0x20 || first == 0x09 { utf8 = utf8.dropFirst() }
        while let last = utf8.last, last == 0x20 || last == 0x09 { utf8 = utf8.dropLast() }
        return String(Substring(utf8))
    }
}
