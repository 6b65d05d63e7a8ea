/// The PostgreSQL v3 frontend/backend protocol, sans-IO: messages to bytes and bytes to messages.
///
/// Protocol 3.0 (PostgreSQL ≥ 7.4, "Frontend/Backend Protocol", chapter 55 of the manual). After
/// the startup packet every message is
///
///     message = type-byte length:int32 payload      ; length counts itself, not the type byte
///
/// with integers in network byte order and strings NUL-terminated. Nothing here touches a socket:
/// ``PostgresFrontend`` appends encoded messages to a buffer and ``PostgresMessageParser`` turns
/// received bytes, split anywhere, into ``PostgresBackendMessage`` values.
enum PostgresFrontend {
    /// The protocol version of the startup packet: 3.0.
    static let protocolVersion: Int32 = 196_608

    /// `StartupMessage`: length, version, then `name NUL value NUL` pairs and a final NUL.
    static func startup(user: String, database: String, parameters: [(String, String)], into out: inout [UInt8]) {
        let start = out.count
        out.appendInt32(0)
        out.appendInt32(protocolVersion)
        for (name, value) in [("user", user), ("database", database)] + parameters {
            out.appendCString(name)
            out.appendCString(value)
        }
        out.append(0)
        out.patchLength(at: start)
    }

    /// `SASLInitialResponse` ('p'): mechanism, then the client-first message with its length.
    static func saslInitialResponse(mechanism: String, data: [UInt8], into out: inout [UInt8]) {
        let start = out.beginMessage("p")
        out.appendCString(mechanism)
        out.appendInt32(Int32(data.count))
        out.append(contentsOf: data)
        out.patchLength(at: start)
    }

    /// `SASLResponse` ('p'): the bare SASL data.
    static func saslResponse(data: [UInt8], into out: inout [UInt8]) {
        let start = out.beginMessage("p")
        out.append(contentsOf: data)
        out.patchLength(at: start)
    }

    /// `Parse` ('P'): statement name, SQL, parameter type OIDs.
    static func parse(statement: String, sql: String, parameterTypes: [UInt32], into out: inout [UInt8]) {
        let start = out.beginMessage("P")
        out.appendCString(statement)
        out.appendCString(sql)
        out.appendInt16(Int16(parameterTypes.count))
        for type in parameterTypes { out.appendInt32(Int32(bitPattern: type)) }
        out.patchLength(at: start)
    }

    /// `Bind` ('B') to the unnamed portal: every parameter and every result column binary.
    static func bind(statement: String, parameters: [PostgresValue], into out: inout [UInt8]) {
        let start = out.beginMessage("B")
        out.appendCString("")  // the unnamed portal
        out.appendCString(statement)
        out.appendInt16(1)  // one format code for every parameter:
        out.appendInt16(1)  // binary
        out.appendInt16(Int16(parameters.count))
        for parameter in parameters {
            if let bytes = parameter.bytes {
                out.appendInt32(Int32(bytes.count))
                out.append(contentsOf: bytes)
            } else {
                out.appendInt32(-1)
            }
        }
        out.appendInt16(1)  // one format code for every result column:
        out.appendInt16(1)  // binary
        out.patchLength(at: start)
    }

    /// `Execute` ('E') of the unnamed portal, every row.
    static func execute(into out: inout [UInt8]) {
        let start = out.beginMessage("E")
        out.appendCString("")
        out.appendInt32(0)
        out.patchLength(at: start)
    }

    /// `Sync` ('S'): ends the implicit transaction of the messages before it.
    static func sync(into out: inout [UInt8]) {
        let start = out.beginMessage("S")
        out.patchLength(at: start)
    }

    /// `Query` ('Q'): the simple query protocol, for statements without parameters.
    static func query(_ sql: String, into out: inout [UInt8]) {
        let start = out.beginMessage("Q")
        out.appendCString(sql)
        out.patchLength(at: start)
    }

    /// `Terminate` ('X').
    static func terminate(into out: inout [UInt8]) {
        let start = out.beginMessage("X")
        out.patchLength(at: start)
    }
}

/// A message from the server, as far as this client uses them.
enum PostgresBackendMessage: Equatable {
    /// `Authentication*` ('R').
    enum Authentication: Equatable {
        case ok
        case cleartextPassword
        case md5Password
        case sasl(mechanisms: [String])
        case saslContinue([UInt8])
        case saslFinal([UInt8])
        /// Kerberos, GSSAPI, SSPI: named by their code.
        case unsupported(Int32)
    }

    case authentication(Authentication)
    /// `ParameterStatus` ('S').
    case parameterStatus(name: String, value: String)
    /// `BackendKeyData` ('K').
    case backendKeyData(processID: Int32, secretKey: Int32)
    /// `ReadyForQuery` ('Z') with the transaction status: `I` idle, `T` in a block, `E` failed block.
    case readyForQuery(transactionStatus: UInt8)
    /// `ParseComplete` ('1').
    case parseComplete
    /// `BindComplete` ('2').
    case bindComplete
    /// `CloseComplete` ('3').
    case closeComplete
    /// `NoData` ('n').
    case noData
    /// `EmptyQueryResponse` ('I').
    case emptyQuery
    /// `PortalSuspended` ('s').
    case portalSuspended
    /// `RowDescription` ('T'): the column names.
    case rowDescription([String])
    /// `DataRow` ('D'): each column's bytes, `nil` for SQL NULL.
    case dataRow([[UInt8]?])
    /// `CommandComplete` ('C'): the command tag, for example `INSERT 0 1`.
    case commandComplete(tag: String)
    /// `ErrorResponse` ('E'): the fields by their one-byte codes (`S` severity, `C` SQLSTATE, `M`
    /// message, `D` detail, …).
    case error([UInt8: String])
    /// `NoticeResponse` ('N').
    case notice([UInt8: String])
    /// `NotificationResponse` ('A'): from `LISTEN`/`NOTIFY`.
    case notification(processID: Int32, channel: String, payload: String)
    /// `ParameterDescription` ('t'): the parameter type OIDs.
    case parameterDescription([UInt32])
}

/// Turns bytes received from the server, split anywhere, into messages.
///
/// ```swift
/// var parser = PostgresMessageParser()
/// parser.append(received)
/// while let message = try parser.next() { … }
/// ```
struct PostgresMessageParser {
    /// The largest message accepted: a `DataRow` of a stored delivery is at most a few MiB.
    static let maximumMessageLength = 64 * 1024 * 1024

    private var buffer: [UInt8] = []
    private var start = 0

    /// Adds received bytes.
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if start > 0, start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Adds received bytes.
    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Whether bytes of an unfinished message are waiting.
    var hasPartialMessage: Bool { start < buffer.count }

    /// The next complete message, or `nil` until more bytes arrive.
    ///
    /// - Throws: ``PostgresError/Code/protocolViolation`` for a malformed or unknown message.
    mutating func next() throws(PostgresError) -> PostgresBackendMessage? {
        guard buffer.count - start >= 5 else { return nil }
        let type = buffer[start]
        let length = Int(readInt32(buffer, at: start + 1))
        guard length >= 4, length <= Self.maximumMessageLength else {
            throw PostgresError.protocolViolation("a message of type \(Self.name(type)) claims \(length) bytes")
        }
        guard buffer.count - start >= 1 + length else { return nil }
        let payload = buffer[(start + 5)..<(start + 1 + length)]
        start += 1 + length
        if start > 64 * 1024, start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        do {
            var reader = PayloadReader(payload)
            let message = try Self.decode(type, &reader)
            guard reader.isAtEnd else { throw PayloadReader.Malformed() }
            return message
        } catch let error as PostgresError {
            throw error
        } catch {
            throw PostgresError.protocolViolation("a malformed message of type \(Self.name(type))")
        }
    }

    private static func decode(_ type: UInt8, _ reader: inout PayloadReader) throws -> PostgresBackendMessage {
        switch type {
        case UInt8(ascii: "R"): return .authentication(try decodeAuthentication(&reader))
        case UInt8(ascii: "S"): return .parameterStatus(name: try reader.cString(), value: try reader.cString())
        case UInt8(ascii: "K"): return .backendKeyData(processID: try reader.int32(), secretKey: try reader.int32())
        case UInt8(ascii: "Z"): return .readyForQuery(transactionStatus: try reader.byte())
        case UInt8(ascii: "1"): return .parseComplete
        case UInt8(ascii: "2"): return .bindComplete
        case UInt8(ascii: "3"): return .closeComplete
        case UInt8(ascii: "n"): return .noData
        case UInt8(ascii: "I"): return .emptyQuery
        case UInt8(ascii: "s"): return .portalSuspended
        case UInt8(ascii: "C"): return .commandComplete(tag: try reader.cString())
        case UInt8(ascii: "E"): return .error(try decodeFields(&reader))
        case UInt8(ascii: "N"): return .notice(try decodeFields(&reader))
        case UInt8(ascii: "T"):
            let count = try reader.count16()
            var names: [String] = []
            names.reserveCapacity(count)
            for _ in 0..<count {
                names.append(try reader.cString())
                try reader.skip(18)  // table OID, column number, type OID, size, modifier, format
            }
            return .rowDescription(names)
        case UInt8(ascii: "D"):
            let count = try reader.count16()
            var columns: [[UInt8]?] = []
            columns.reserveCapacity(count)
            for _ in 0..<count {
                let length = try reader.int32()
                guard length >= -1 else { throw PayloadReader.Malformed() }
                columns.append(length == -1 ? nil : try reader.bytes(Int(length)))
            }
            return .dataRow(columns)
        case UInt8(ascii: "A"):
            return .notification(
                processID: try reader.int32(),
                channel: try reader.cString(),
                payload: try reader.cString()
            )
        case UInt8(ascii: "t"):
            let count = try reader.count16()
            var types: [UInt32] = []
            for _ in 0..<count { types.append(UInt32(bitPattern: try reader.int32())) }
            return .parameterDescription(types)
        default:
            throw PostgresError.protocolViolation("an unexpected message of type \(name(type))")
        }
    }

    private static func decodeAuthentication(_ reader: inout PayloadReader) throws
        -> PostgresBackendMessage.Authentication
    {
        switch try reader.int32() {
        case 0: return .ok
        case 3: return .cleartextPassword
        case 5:
            try reader.skip(4)  // the salt
            return .md5Password
        case 10:
            var mechanisms: [String] = []
            while true {
                let mechanism = try reader.cString()
                if mechanism.isEmpty { break }
                mechanisms.append(mechanism)
            }
            return .sasl(mechanisms: mechanisms)
        case 11: return .saslContinue(reader.rest())
        case 12: return .saslFinal(reader.rest())
        case let code:
            _ = reader.rest()
            return .unsupported(code)
        }
    }

    private static func decodeFields(_ reader: inout PayloadReader) throws -> [UInt8: String] {
        var fields: [UInt8: String] = [:]
        while true {
            let code = try reader.byte()
            if code == 0 { return fields }
            fields[code] = try reader.cString()
        }
    }

    private static func name(_ type: UInt8) -> String {
        (0x20..<0x7F).contains(type) ? "'\(Character(Unicode.Scalar(type)))'" : "0x\(String(type, radix: 16))"
    }
}

/// Reads the fields of one message's payload.
private struct PayloadReader {
    struct Malformed: Error {}

    private let bytes: ArraySlice<UInt8>
    private var index: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    var isAtEnd: Bool { index == bytes.endIndex }

    mutating func byte() throws(Malformed) -> UInt8 {
        guard index < bytes.endIndex else { throw Malformed() }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func int32() throws(Malformed) -> Int32 {
        guard bytes.endIndex - index >= 4 else { throw Malformed() }
        defer { index += 4 }
        return readInt32(bytes, at: index)
    }

    /// An `Int16` count, which must not be negative.
    mutating func count16() throws(Malformed) -> Int {
        guard bytes.endIndex - index >= 2 else { throw Malformed() }
        let value = Int16(bitPattern: UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]))
        index += 2
        guard value >= 0 else { throw Malformed() }
        return Int(value)
    }

    mutating func bytes(_ count: Int) throws(Malformed) -> [UInt8] {
        guard bytes.endIndex - index >= count else { throw Malformed() }
        defer { index += count }
        return Array(bytes[index..<(index + count)])
    }

    mutating func skip(_ count: Int) throws(Malformed) {
        guard bytes.endIndex - index >= count else { throw Malformed() }
        index += count
    }

    mutating func cString() throws(Malformed) -> String {
        guard let end = bytes[index...].firstIndex(of: 0) else { throw Malformed() }
        defer { index = end + 1 }
        return String(decoding: bytes[index..<end], as: UTF8.self)
    }

    mutating func rest() -> [UInt8] {
        defer { index = bytes.endIndex }
        return Array(bytes[index...])
    }
}

/// A big-endian `Int32` at `index` (an index of `bytes` itself); the caller checked the bounds.
func readInt32<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes, at index: Int) -> Int32 where Bytes.Index == Int {
    Int32(
        bitPattern: UInt32(bytes[index]) << 24 | UInt32(bytes[index + 1]) << 16 | UInt32(bytes[index + 2]) << 8
            | UInt32(bytes[index + 3])
    )
}

extension [UInt8] {
    mutating func appendInt16(_ value: Int16) {
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }

    mutating func appendInt32(_ value: Int32) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }

    mutating func appendInt64(_ value: Int64) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }

    mutating func appendCString(_ string: String) {
        append(contentsOf: string.utf8)
        append(0)
    }

    /// Appends a message's type byte and a length to patch; returns where the length is.
    mutating func beginMessage(_ type: Unicode.Scalar) -> Int {
        append(UInt8(type.value))
        let start = count
        appendInt32(0)
        return start
    }

    /// Writes the length of the message whose length field is at `start`.
    mutating func patchLength(at start: Int) {
        let length = Int32(count - start)
        Swift.withUnsafeBytes(of: length.bigEndian) { bytes in
            for offset in 0..<4 { self[start + offset] = bytes[offset] }
        }
    }
}
