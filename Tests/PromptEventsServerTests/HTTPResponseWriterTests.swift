import PromptEvents
import Testing

@testable import PromptEventsServer

@Suite struct HTTPResponseWriterTests {
    /// Sun, 06 Nov 1994 08:49:37 GMT, the example date of RFC 9110 §5.6.7.
    static let rfcExampleEpoch: Int64 = 784_111_777

    func write(
        status: Int,
        headers: Headers = Headers(),
        body: String = "",
        isHeadRequest: Bool = false,
        keepAlive: Bool = true,
        clientVersion: HTTPVersion = .http11
    ) -> String {
        var writer = ResponseWriter()
        var output: [UInt8] = []
        writer.writeResponse(
            status: status,
            headers: headers,
            body: Array(body.utf8),
            isHeadRequest: isHeadRequest,
            keepAlive: keepAlive,
            clientVersion: clientVersion,
            epochSeconds: Self.rfcExampleEpoch,
            into: &output
        )
        return String(decoding: output, as: UTF8.self)
    }

    @Test func okWithBody() {
        let output = write(status: 200, headers: ["Content-Type": "application/json"], body: #"{"ok":true}"#)
        #expect(
            output == """
                HTTP/1.1 200 OK\r
                Date: Sun, 06 Nov 1994 08:49:37 GMT\r
                Content-Type: application/json\r
                Content-Length: 11\r
                \r
                {"ok":true}
                """
        )
    }

    @Test func noContentClosingHasNoContentLengthAndNoBody() {
        let output = write(status: 204, body: "ignored", keepAlive: false)
        #expect(
            output == """
                HTTP/1.1 204 No Content\r
                Date: Sun, 06 Nov 1994 08:49:37 GMT\r
                Connection: close\r
                \r

                """
        )
    }

    @Test func headResponseHasContentLengthButNoBody() {
        let output = write(status: 200, headers: ["Content-Type": "text/plain"], body: "hello", isHeadRequest: true)
        #expect(
            output == """
                HTTP/1.1 200 OK\r
                Date: Sun, 06 Nov 1994 08:49:37 GMT\r
                Content-Type: text/plain\r
                Content-Length: 5\r
                \r

                """
        )
    }

    @Test func keptAliveHTTP10ClientGetsKeepAlive() {
        let output = write(status: 202, keepAlive: true, clientVersion: .http10)
        #expect(
            output == """
                HTTP/1.1 202 Accepted\r
                Date: Sun, 06 Nov 1994 08:49:37 GMT\r
                Content-Length: 0\r
                Connection: keep-alive\r
                \r

                """
        )
        #expect(!write(status: 202, keepAlive: false, clientVersion: .http10).contains("keep-alive"))
    }

    @Test func errorResponseWithCloseAndOwnedFieldsSkipped() {
        let headers: Headers = [
            "Content-Type": "text/plain; charset=utf-8",
            "Content-Length": "999",
            "connection": "keep-alive",
            "Transfer-Encoding": "chunked",
            "Date": "yesterday",
            "X-Injected": "a\r\nSet-Cookie: evil=1",
            "Bad Name": "x",
            "Retry-After": "5",
        ]
        let output = write(status: 413, headers: headers, body: "Content too large.\n", keepAlive: false)
        #expect(
            output == """
                HTTP/1.1 413 Content Too Large\r
                Date: Sun, 06 Nov 1994 08:49:37 GMT\r
                Content-Type: text/plain; charset=utf-8\r
                Retry-After: 5\r
                Content-Length: 19\r
                Connection: close\r
                \r
                Content too large.

                """
        )
    }

    @Test func unknownStatusHasEmptyReasonPhrase() {
        #expect(write(status: 299).hasPrefix("HTTP/1.1 299 \r\n"))
    }

    @Test(arguments: [
        (100, "Continue"), (200, "OK"), (202, "Accepted"), (204, "No Content"), (400, "Bad Request"),
        (401, "Unauthorized"), (404, "Not Found"), (405, "Method Not Allowed"), (408, "Request Timeout"),
        (411, "Length Required"), (413, "Content Too Large"), (414, "URI Too Long"),
        (415, "Unsupported Media Type"), (417, "Expectation Failed"), (431, "Request Header Fields Too Large"),
        (500, "Internal Server Error"), (501, "Not Implemented"), (503, "Service Unavailable"),
        (505, "HTTP Version Not Supported"),
    ])
    func reasonPhrases(status: Int, phrase: String) {
        #expect(ResponseWriter.reasonPhrase(for: status).description == phrase)
    }

    @Test func everyParseErrorStatusHasAReasonPhrase() {
        for reason in HTTPParseError.Reason.allCases {
            #expect(ResponseWriter.reasonPhrase(for: reason.status).utf8CodeUnitCount > 0)
        }
    }

    @Test func continueResponseBytes() {
        var output: [UInt8] = Array("x".utf8)
        ResponseWriter.writeContinue(into: &output)
        #expect(String(decoding: output, as: UTF8.self) == "xHTTP/1.1 100 Continue\r\n\r\n")
    }

    @Test func responsesAppendToExistingOutput() {
        var writer = ResponseWriter()
        var output: [UInt8] = []
        for _ in 0..<2 {
            writer.writeResponse(status: 200, body: Array("a".utf8), keepAlive: true, epochSeconds: 0, into: &output)
        }
        let one = "HTTP/1.1 200 OK\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\nContent-Length: 1\r\n\r\na"
        #expect(String(decoding: output, as: UTF8.self) == one + one)
    }

    @Test func writtenResponseParsesBack() throws {
        var writer = ResponseWriter()
        var output: [UInt8] = []
        writer.writeResponse(
            status: 401,
            headers: ["WWW-Authenticate": #"Signature realm="prompt""#],
            body: Array("no".utf8),
            keepAlive: false,
            epochSeconds: Self.rfcExampleEpoch,
            into: &output
        )
        var parser = ResponseParser(requestMethod: "POST")
        parser.append(output)
        let response = try #require(try parser.next())
        #expect(response.status == 401)
        #expect(response.reason == "Unauthorized")
        #expect(response.headers["www-authenticate"] == #"Signature realm="prompt""#)
        #expect(response.headers["Date"] == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(response.body == Array("no".utf8))
        #expect(!response.keepAlive)
    }
}

@Suite struct HTTPDateTests {
    @Test(arguments: [
        (Int64(0), "Thu, 01 Jan 1970 00:00:00 GMT"),
        (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
        (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
        (1_700_000_000, "Tue, 14 Nov 2023 22:13:20 GMT"),
        (1_709_164_800, "Thu, 29 Feb 2024 00:00:00 GMT"),
        (4_107_542_400, "Mon, 01 Mar 2100 00:00:00 GMT"),
        (-1, "Wed, 31 Dec 1969 23:59:59 GMT"),
        (-2_208_988_800, "Mon, 01 Jan 1900 00:00:00 GMT"),
        (-62_135_596_800, "Mon, 01 Jan 0001 00:00:00 GMT"),
        (253_402_300_799, "Fri, 31 Dec 9999 23:59:59 GMT"),
        (Int64.min, "Mon, 01 Jan 0001 00:00:00 GMT"),
        (Int64.max, "Fri, 31 Dec 9999 23:59:59 GMT"),
    ])
    func formatsKnownInstants(epochSeconds: Int64, expected: String) {
        #expect(HTTPDate.imfFixdate(epochSeconds: epochSeconds) == expected)
        #expect(expected.utf8.count == HTTPDate.length)
    }

    @Test func civilDatesMatchADayByDayCalendar() {
        // Walk every day from 1800-01-01 to 2200-12-31 with a naive calendar.
        var year: Int64 = 1800
        var month: Int64 = 1
        var day: Int64 = 1
        var days: Int64 = -62_091  // 1800-01-01 is 62091 days before 1970-01-01
        func isLeap(_ year: Int64) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }
        func length(_ year: Int64, _ month: Int64) -> Int64 {
            switch month {
            case 2: isLeap(year) ? 29 : 28
            case 4, 6, 9, 11: 30
            default: 31
            }
        }
        var mismatches = 0
        while year <= 2200 {
            let civil = HTTPDate.civil(fromDays: days)
            if civil != (year, month, day) { mismatches += 1 }
            days += 1
            day += 1
            if day > length(year, month) {
                day = 1
                month += 1
                if month > 12 {
                    month = 1
                    year += 1
                }
            }
        }
        #expect(mismatches == 0)
    }

    @Test func cacheReformatsOnlyWhenTheSecondChanges() {
        var cache = HTTPDateCache()
        let first = cache.bytes(epochSeconds: 784_111_777)
        #expect(String(decoding: first, as: UTF8.self) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(cache.bytes(epochSeconds: 784_111_777) == first)
        #expect(cache.formatCount == 1)
        #expect(
            String(decoding: cache.bytes(epochSeconds: 784_111_778), as: UTF8.self) == "Sun, 06 Nov 1994 08:49:38 GMT"
        )
        #expect(cache.formatCount == 2)
        for _ in 0..<1000 {
            _ = cache.bytes(epochSeconds: 784_111_778)
        }
        #expect(cache.formatCount == 2)
    }
}
