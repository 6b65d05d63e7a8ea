import PromptEvents
import Testing

@testable import PromptEventsServer

@Suite struct ListenerEventTests {
    @Test func eachKindCarriesOnlyItsOwnPayload() throws {
        let address = try SocketAddress.resolve(host: "127.0.0.1", port: 8080)
        let record = RequestRecord(method: "POST", path: "/message/added", status: 200)
        let events: [ListenerEvent] = [
            .listening(address, metrics: nil), .request(record), .warning("disk slow"), .draining, .stopped,
        ]
        #expect(events.map(\.kind) == [.listening, .request, .warning, .draining, .stopped])
        #expect(events.map { $0.listening?.address } == [address, nil, nil, nil, nil])
        #expect(events.map(\.request) == [nil, record, nil, nil, nil])
        #expect(events.map(\.warning) == [nil, nil, "disk slow", nil, nil])
        #expect(
            events.map(\.description) == [
                "listening(\(address), metrics: -)", "request(POST /message/added 200)", "warning(disk slow)",
                "draining",
                "stopped",
            ]
        )
    }
}
