import Foundation
import Testing

@testable import PromptEventsServer

/// The sans-IO protocol layer: exact bytes out, messages in from any split of the stream.
@Suite struct PostgresProtocolTests {
    /// A backend message: type, length (counting itself), payload.
    static func message(_ type: Unicode.Scalar, _ payload: [UInt8]) -> [UInt8] {
        var bytes = [UInt8(ascii: type)]
        bytes.appendInt32(Int32(payload.count + 4))
        return bytes + payload
    }

    static func cString(_ text: String) -> [UInt8] { Array(text.utf8) + [0] }

    static func int32(_ value: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendInt32(value)
        return bytes
    }

    /// What a server sends from SASL to the end of one statement, and what it means.
    static let conversation: [(bytes: [UInt8], message: PostgresBackendMessage)] = [
        (
            message("R", int32(10) + cString("SCRAM-SHA-256") + [0]),
            .authentication(.sasl(mechanisms: ["SCRAM-SHA-256"]))
        ),
        (
            message("R", int32(11) + Array("r=abc,s=c2FsdA==,i=4096".utf8)),
            .authentication(.saslContinue(Array("r=abc,s=c2FsdA==,i=4096".utf8)))
        ),
        (message("R", int32(12) + Array("v=c2ln".utf8)), .authentication(.saslFinal(Array("v=c2ln".utf8)))),
        (message("R", int32(0)), .authentication(.ok)),
        (
            message("S", cString("server_version") + cString("15.8")),
            .parameterStatus(name: "server_version", value: "15.8")
        ),
        (message("K", int32(4242) + int32(-7)), .backendKeyData(processID: 4242, secretKey: -7)),
        (message("Z", [UInt8(ascii: "I")]), .readyForQuery(transactionStatus: UInt8(ascii: "I"))),
        (message("1", []), .parseComplete),
        (message("2", []), .bindComplete),
        (message("D", [0, 3] + int32(2) + [0xFF, 0x00] + int32(-1) + int32(0)), .dataRow([[0xFF, 0x00], nil, []])),
        (message("C", cString("INSERT 0 1")), .commandComplete(tag: "INSERT 0 1")),
        (message("N", [UInt8(ascii: "S")] + cString("WARNING") + [0]), .notice([UInt8(ascii: "S"): "WARNING"])),
        (
            message("E", [UInt8(ascii: "C")] + cString("23505") + [UInt8(ascii: "M")] + cString("duplicate key") + [0]),
            .error([UInt8(ascii: "C"): "23505", UInt8(ascii: "M"): "duplicate key"])
        ),
        (
            message("A", int32(9) + cString("deliveries") + cString("17")),
            .notification(processID: 9, channel: "deliveries", payload: "17")
        ),
        (message("T", [0, 1] + cString("id") + [UInt8](repeating: 0, count: 18)), .rowDescription(["id"])),
        (message("n", []), .noData),
        (message("I", []), .emptyQuery),
    ]

    @Test func everySplitOfTheStreamGivesTheSameMessages() throws {
        let stream = Self.conversation.flatMap(\.bytes)
        let expected = Self.conversation.map(\.message)
        for split in 0...stream.count {
            var parser = PostgresMessageParser()
            var messages: [PostgresBackendMessage] = []
            for part in [Array(stream[..<split]), Array(stream[split...])] {
                parser.append(part)
                while let message = try parser.next() { messages.append(message) }
            }
            #expect(messages == expected, "split at \(split)")
            #expect(!parser.hasPartialMessage)
        }
    }

    @Test func byteByByteGivesTheSameMessages() throws {
        var parser = PostgresMessageParser()
        var messages: [PostgresBackendMessage] = []
        for byte in Self.conversation.flatMap(\.bytes) {
            parser.append([byte])
            while let message = try parser.next() { messages.append(message) }
        }
        #expect(messages == Self.conversation.map(\.message))
    }

    struct Malformed: Sendable, CustomTestStringConvertible {
        let name: String
        let bytes: [UInt8]
        var testDescription: String { name }
    }

    static let malformed: [Malformed] = [
        Malformed(name: "length below 4", bytes: [UInt8(ascii: "Z"), 0, 0, 0, 3, 0]),
        Malformed(name: "length beyond the bound", bytes: [UInt8(ascii: "D"), 0x7F, 0xFF, 0xFF, 0xFF]),
        Malformed(name: "unknown type", bytes: message("?", [])),
        Malformed(name: "copy-in response", bytes: message("G", [0, 0, 0])),
        Malformed(name: "string without its NUL", bytes: message("C", Array("INSERT".utf8))),
        Malformed(name: "data row column past the end", bytes: message("D", [0, 1] + int32(5) + [1, 2])),
        Malformed(name: "data row length below -1", bytes: message("D", [0, 1] + int32(-2))),
        Malformed(name: "negative column count", bytes: message("D", [0xFF, 0xFF])),
        Malformed(name: "trailing bytes", bytes: message("1", [0])),
        Malformed(name: "ready without a status", bytes: message("Z", [])),
        Malformed(name: "authentication without a code", bytes: message("R", [0, 0])),
    ]

    @Test(arguments: malformed)
    func malformedMessagesAreProtocolViolations(_ sample: Malformed) {
        var parser = PostgresMessageParser()
        parser.append(sample.bytes)
        let error = #expect(throws: PostgresError.self) { _ = try parser.next() }
        #expect(error?.code == .protocolViolation)
    }

    @Test func startupPacketHasTheVersionAndParameters() {
        var bytes: [UInt8] = []
        PostgresFrontend.startup(user: "u", database: "d", parameters: [("application_name", "a")], into: &bytes)
        let body =
            Self.int32(196_608) + Self.cString("user") + Self.cString("u") + Self.cString("database")
            + Self.cString("d") + Self.cString("application_name") + Self.cString("a") + [0]
        #expect(bytes == Self.int32(Int32(body.count + 4)) + body)
    }

    @Test func extendedQueryMessagesHaveTheirExactBytes() {
        var bytes: [UInt8] = []
        PostgresFrontend.parse(statement: "pe1", sql: "SELECT $1", parameterTypes: [20], into: &bytes)
        #expect(bytes == Self.message("P", Self.cString("pe1") + Self.cString("SELECT $1") + [0, 1] + Self.int32(20)))
        bytes = []
        PostgresFrontend.bind(statement: "pe1", parameters: [.int64(7), .text(nil)], into: &bytes)
        let parameters = Self.int32(8) + [0, 0, 0, 0, 0, 0, 0, 7] + Self.int32(-1)
        #expect(
            bytes == Self.message("B", [0] + Self.cString("pe1") + [0, 1, 0, 1] + [0, 2] + parameters + [0, 1, 0, 1])
        )
        bytes = []
        PostgresFrontend.execute(into: &bytes)
        PostgresFrontend.sync(into: &bytes)
        #expect(bytes == Self.message("E", [0] + Self.int32(0)) + Self.message("S", []))
    }

    @Test func valuesHaveTheBinaryFormat() throws {
        // 2000-01-01 00:00:01.5 UTC is 1,500,000 µs after PostgreSQL's epoch.
        let date = Date(timeIntervalSince1970: 946_684_801.5)
        #expect(PostgresValue.timestamp(date).bytes == [0, 0, 0, 0, 0, 0x16, 0xE3, 0x60])
        let row = PostgresRow(columns: [PostgresValue.timestamp(date).bytes, PostgresValue.int64(-2).bytes, nil])
        #expect(try row.date(0) == date)
        #expect(try row.int64(1) == -2)
        #expect(row.optionalText(2) == nil)
        #expect(throws: PostgresError.self) { try row.int64(2) }
        // bigint[] {5}: one dimension, no nulls, element type 20, size 1 from 1, then (8, 5).
        #expect(
            PostgresValue.int64Array([5]).bytes
                == Self.int32(1) + Self.int32(0) + Self.int32(20) + Self.int32(1) + Self.int32(1) + Self.int32(8)
                + [0, 0, 0, 0, 0, 0, 0, 5]
        )
        #expect(PostgresValue.textArray([]).bytes == Self.int32(0) + Self.int32(0) + Self.int32(25))
    }

    @Test func aServerErrorCarriesItsSQLStateAndDetail() {
        let error = PostgresError(serverFields: [
            UInt8(ascii: "C"): "23505", UInt8(ascii: "M"): "duplicate key value", UInt8(ascii: "D"): "Key (id)=(1)",
        ])
        #expect(error.code == .server)
        #expect(error.sqlState == "23505")
        #expect(error.description == "PostgreSQL error 23505: duplicate key value (Key (id)=(1))")
        #expect(!error.breaksConnection)
        #expect(PostgresError(serverFields: [UInt8(ascii: "C"): "28P01"]).code == .authentication)
        #expect(PostgresError(serverFields: [UInt8(ascii: "C"): "57P01"]).breaksConnection)
    }
}
