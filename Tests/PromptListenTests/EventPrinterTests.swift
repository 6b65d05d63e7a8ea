import Foundation
import PromptEvents
import Testing

@testable import PromptListen

/// What `serve` prints per event: one piece of text, written at once.
@Suite struct EventPrinterTests {
    static let body = #"{"orgId":7,"message":{"id":1}}"#

    static var event: AnyEvent {
        get throws {
            guard case .object(let json) = try JSONValue(parsing: Array(body.utf8)) else {
                throw UsageError(message: "not an object")
            }
            return AnyEvent(
                kind: .messageAdded,
                json: json,
                body: Array(body.utf8),
                receivedAt: Date(timeIntervalSince1970: 1_800_000_000),
                deliveryID: 42
            )
        }
    }

    @Test func aPrettyEventIsItsHeaderAndItsBodyInOneText() throws {
        let text = try #require(EventPrinter(output: .pretty, color: false).render(try Self.event))
        let lines = String(decoding: text, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "── 2027-01-15T08:00:00.000Z ── message/added  org 7  #42")
        let event = try Self.event
        #expect(
            lines.dropFirst().joined(separator: "\n") == JSONValue.object(event.json).serialized(pretty: true) + "\n"
        )
    }

    @Test func aJSONEventIsOneLine() throws {
        let text = try #require(EventPrinter(output: .json, color: false).render(try Self.event))
        let line = String(decoding: text, as: UTF8.self)
        #expect(line.hasSuffix("}\n") && line.filter { $0 == "\n" }.count == 1)
        #expect(line.contains(#""deliveryId":42,"event":{"orgId":7,"message":{"id":1}}"#))
    }

    @Test func quietPrintsNothing() throws {
        #expect(EventPrinter(output: .quiet, color: false).render(try Self.event) == nil)
    }
}
