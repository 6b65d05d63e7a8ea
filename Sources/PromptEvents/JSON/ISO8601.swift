#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// A lenient parser for ISO 8601 / RFC 3339 timestamps, without Foundation formatters.
///
/// Accepted forms (extended format only, a four-digit year):
///
/// - `2024-03-05T14:07:09Z`, with `t`, `z` or a space instead of `T` and `Z`;
/// - fractional seconds of any length after `.` or `,` (`14:07:09.901`, `14:07:09.123456789`);
/// - seconds omitted (`14:07Z`);
/// - offsets `+hh:mm`, `+hhmm` and `+hh` (and `-`); an offset of up to 23:59 either way;
/// - **no offset at all, which is read as UTC** (webhook producers that omit it send UTC);
/// - a date alone, `2024-03-05`, which is midnight UTC.
///
/// Out-of-range fields are rejected rather than rolled over: month 13, February 30, hour 24,
/// minute 60, second 60 (leap seconds are not supported). Leading or trailing whitespace, the
/// basic format (`20240305T140709Z`), week dates and ordinal dates are rejected too.
public enum ISO8601 {
    /// Parses a timestamp in one of the accepted forms.
    ///
    /// - Parameter text: The timestamp, for example `2024-04-05T19:34:38.901Z`.
    /// - Returns: The instant, or `nil` if the text is not an accepted form or a field is out of range.
    public static func date(from text: some StringProtocol) -> Date? {
        let parsed = text.utf8.withContiguousStorageIfAvailable { parse($0) }
        let instant: (seconds: Int64, fraction: Double)?
        if let parsed {
            instant = parsed
        } else {
            var copy = String(text)
            instant = copy.withUTF8 { parse($0) }
        }
        guard let instant else { return nil }
        // One rounding only: the whole seconds are moved to the reference date exactly.
        let secondsFrom1970To2001: Int64 = 978_307_200
        return Date(timeIntervalSinceReferenceDate: Double(instant.seconds - secondsFrom1970To2001) + instant.fraction)
    }

    /// Parses the UTF-8 of a timestamp into whole seconds since 1970 (UTC) and a fraction of a second.
    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> (seconds: Int64, fraction: Double)? {
        var reader = Reader(bytes: bytes)
        guard let year = reader.number(digits: 4), reader.skip("-"),
            let month = reader.number(digits: 2), reader.skip("-"),
            let day = reader.number(digits: 2),
            (1...12).contains(month), (1...daysInMonth(year: year, month: month)).contains(day)
        else { return nil }
        let days = Int64(daysFromCivil(year: year, month: month, day: day))
        if reader.isAtEnd { return (days * 86_400, 0) }

        guard reader.skip("T") || reader.skip("t") || reader.skip(" "),
            let hour = reader.number(digits: 2), reader.skip(":"),
            let minute = reader.number(digits: 2),
            hour < 24, minute < 60
        else { return nil }
        var second = 0
        var fraction = 0.0
        if reader.skip(":") {
            guard let value = reader.number(digits: 2), value < 60 else { return nil }
            second = value
            if reader.skip(".") || reader.skip(",") {
                guard let value = reader.fraction() else { return nil }
                fraction = value
            }
        }
        var offset = 0
        if reader.skip("Z") || reader.skip("z") {
            // UTC.
        } else if !reader.isAtEnd {
            let sign: Int
            if reader.skip("+") {
                sign = 1
            } else if reader.skip("-") {
                sign = -1
            } else {
                return nil
            }
            guard let offsetHours = reader.number(digits: 2), offsetHours < 24 else { return nil }
            var offsetMinutes = 0
            if !reader.isAtEnd {
                _ = reader.skip(":")
                guard let value = reader.number(digits: 2), value < 60 else { return nil }
                offsetMinutes = value
            }
            offset = sign * (offsetHours * 3_600 + offsetMinutes * 60)
        }
        guard reader.isAtEnd else { return nil }
        let seconds = days * 86_400 + Int64(hour * 3_600 + minute * 60 + second - offset)
        return (seconds, fraction)
    }

    /// The number of days in a month of the proleptic Gregorian calendar.
    private static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2:
            let isLeap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            return isLeap ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let year = month <= 2 ? year - 1 : year
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Reads fixed-width fields from ASCII bytes.
    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        var isAtEnd: Bool { index == bytes.count }

        /// Consumes `character` if it is next.
        mutating func skip(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }

        /// Reads exactly `digits` decimal digits.
        mutating func number(digits: Int) -> Int? {
            guard bytes.count - index >= digits else { return nil }
            var value = 0
            for _ in 0..<digits {
                let digit = bytes[index] &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                value = value * 10 + Int(digit)
                index += 1
            }
            return value
        }

        /// Reads one or more digits after a decimal separator as a fraction of a second.
        ///
        /// Digits beyond the eighteenth are checked but ignored; they are below `Double`'s resolution anyway.
        mutating func fraction() -> Double? {
            var numerator: UInt64 = 0
            var denominator: UInt64 = 1
            let start = index
            while index < bytes.count, bytes[index] &- UInt8(ascii: "0") < 10 {
                if denominator < 1_000_000_000_000_000_000 {
                    numerator = numerator * 10 + UInt64(bytes[index] &- UInt8(ascii: "0"))
                    denominator *= 10
                }
                index += 1
            }
            guard index > start else { return nil }
            return Double(numerator) / Double(denominator)
        }
    }
}
