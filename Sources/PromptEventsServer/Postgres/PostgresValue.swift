#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A statement parameter in PostgreSQL's binary format, with its type.
///
/// Every parameter and every result column travels in binary: no number or time is printed
/// and parsed again, and a body goes as its exact bytes (`bytea`).
struct PostgresValue: Equatable {
    /// The type OID (`pg_type.oid`).
    let type: UInt32
    /// The binary representation, or `nil` for SQL NULL.
    let bytes: [UInt8]?

    static let int8OID: UInt32 = 20
    static let int4OID: UInt32 = 23
    static let textOID: UInt32 = 25
    static let byteaOID: UInt32 = 17
    static let boolOID: UInt32 = 16
    static let timestamptzOID: UInt32 = 1184
    static var int8ArrayOID: UInt32 { 1016 }
    static var textArrayOID: UInt32 { 1009 }

    /// SQL NULL of a type.
    static func null(_ type: UInt32) -> PostgresValue {
        PostgresValue(type: type, bytes: nil)
    }

    /// `bigint`.
    static func int64(_ value: Int64) -> PostgresValue {
        var bytes: [UInt8] = []
        bytes.appendInt64(value)
        return PostgresValue(type: int8OID, bytes: bytes)
    }

    /// `bigint` from a delivery id.
    static func id(_ value: UInt64) -> PostgresValue { .int64(Int64(bitPattern: value)) }

    static let float8OID: UInt32 = 701

    /// `double precision`.
    static func double(_ value: Double) -> PostgresValue {
        var bytes: [UInt8] = []
        bytes.appendInt64(Int64(bitPattern: value.bitPattern))
        return PostgresValue(type: float8OID, bytes: bytes)
    }

    /// A lease length in seconds, for `make_interval(secs => …)`.
    static func seconds(_ duration: Duration) -> PostgresValue {
        .double(duration.asTimeInterval)
    }

    /// `integer`.
    static func int32(_ value: Int32) -> PostgresValue {
        var bytes: [UInt8] = []
        bytes.appendInt32(value)
        return PostgresValue(type: int4OID, bytes: bytes)
    }

    /// `text`, or NULL.
    static func text(_ value: String?) -> PostgresValue {
        PostgresValue(type: textOID, bytes: value.map { Array($0.utf8) })
    }

    /// `bytea`, or NULL.
    static func bytea(_ value: [UInt8]?) -> PostgresValue {
        PostgresValue(type: byteaOID, bytes: value)
    }

    /// `boolean`.
    static func bool(_ value: Bool) -> PostgresValue {
        PostgresValue(type: boolOID, bytes: [value ? 1 : 0])
    }

    /// `timestamptz`, or NULL: microseconds since 2000-01-01 00:00 UTC.
    static func timestamp(_ value: Date?) -> PostgresValue {
        guard let value else { return PostgresValue(type: timestamptzOID, bytes: nil) }
        var bytes: [UInt8] = []
        bytes.appendInt64(microseconds(value))
        return PostgresValue(type: timestamptzOID, bytes: bytes)
    }

    /// `bigint[]`.
    static func int64Array(_ values: [Int64]) -> PostgresValue {
        array(values.map { int64($0) }, of: int8OID)
    }

    /// `text[]`.
    static func textArray(_ values: [String]) -> PostgresValue {
        array(values.map { text($0) }, of: textOID)
    }

    /// The array types of the element types used here.
    static let arrayOIDs: [UInt32: UInt32] = [
        int8OID: 1016, textOID: 1009, byteaOID: 1001, boolOID: 1000, timestamptzOID: 1185, int4OID: 1007,
    ]

    /// A one-dimensional array of values of one type, NULLs allowed: dimensions, has-nulls flag,
    /// element type, then (size, lower bound) per dimension and (length or -1, bytes) per element.
    static func array(_ elements: [PostgresValue], of element: UInt32) -> PostgresValue {
        precondition(elements.allSatisfy { $0.type == element }, "an array of mixed element types")
        var bytes: [UInt8] = []
        bytes.appendInt32(elements.isEmpty ? 0 : 1)
        bytes.appendInt32(elements.contains { $0.bytes == nil } ? 1 : 0)
        bytes.appendInt32(Int32(bitPattern: element))
        if !elements.isEmpty {
            bytes.appendInt32(Int32(elements.count))
            bytes.appendInt32(1)
        }
        for element in elements {
            if let value = element.bytes {
                bytes.appendInt32(Int32(value.count))
                bytes.append(contentsOf: value)
            } else {
                bytes.appendInt32(-1)
            }
        }
        guard let type = arrayOIDs[element] else { preconditionFailure("no array type for OID \(element)") }
        return PostgresValue(type: type, bytes: bytes)
    }

    /// Seconds from 1970 to PostgreSQL's epoch, 2000-01-01 00:00 UTC.
    static let epochOffset: Double = 946_684_800

    static func microseconds(_ date: Date) -> Int64 {
        Int64(((date.timeIntervalSince1970 - epochOffset) * 1_000_000).rounded())
    }
}

/// One result row: each column's binary value, read by position.
///
/// The reader names the type it expects; a NULL where a value must be, or bytes of the wrong
/// length, is a ``PostgresError/Code/protocolViolation`` (the schema and the statement disagree).
struct PostgresRow {
    let columns: [[UInt8]?]

    func isNull(_ index: Int) -> Bool { columns[index] == nil }

    func int64(_ index: Int) throws(PostgresError) -> Int64 {
        let bytes = try value(index, length: 8)
        return bytes.reduce(0) { $0 << 8 | Int64($1) }
    }

    func id(_ index: Int) throws(PostgresError) -> UInt64 {
        UInt64(bitPattern: try int64(index))
    }

    func int32(_ index: Int) throws(PostgresError) -> Int32 {
        Int32(truncatingIfNeeded: try value(index, length: 4).reduce(0) { $0 << 8 | Int64($1) })
    }

    func text(_ index: Int) throws(PostgresError) -> String {
        String(decoding: try value(index), as: UTF8.self)
    }

    func optionalText(_ index: Int) -> String? {
        columns[index].map { String(decoding: $0, as: UTF8.self) }
    }

    func bytes(_ index: Int) throws(PostgresError) -> [UInt8] {
        try value(index)
    }

    func optionalBytes(_ index: Int) -> [UInt8]? {
        columns[index]
    }

    func date(_ index: Int) throws(PostgresError) -> Date {
        let microseconds = try int64(index)
        return Date(timeIntervalSince1970: Double(microseconds) / 1_000_000 + PostgresValue.epochOffset)
    }

    func optionalDate(_ index: Int) throws(PostgresError) -> Date? {
        isNull(index) ? nil : try date(index)
    }

    private func value(_ index: Int, length: Int? = nil) throws(PostgresError) -> [UInt8] {
        guard index < columns.count, let bytes = columns[index] else {
            throw PostgresError.protocolViolation("column \(index) is NULL or missing")
        }
        if let length, bytes.count != length {
            throw PostgresError.protocolViolation("column \(index) has \(bytes.count) bytes, not \(length)")
        }
        return bytes
    }
}
