/// Formats HTTP dates without Foundation.
///
/// RFC 9110 §5.6.7: a sender must generate dates in the IMF-fixdate format,
/// `Sun, 06 Nov 1994 08:49:37 GMT`, always in UTC.
enum HTTPDate {
    /// The earliest instant formatted, 0001-01-01T00:00:00Z; earlier ones are clamped to it.
    static let earliestEpochSeconds: Int64 = -62_135_596_800
    /// The latest instant formatted, 9999-12-31T23:59:59Z; later ones are clamped to it.
    static let latestEpochSeconds: Int64 = 253_402_300_799

    /// The length of every IMF-fixdate, in bytes.
    static let length = 29

    /// Formats an instant as an IMF-fixdate string.
    ///
    /// - Parameter epochSeconds: Seconds since 1970-01-01T00:00:00Z.
    /// - Returns: For example `Thu, 01 Jan 1970 00:00:00 GMT` for 0.
    static func imfFixdate(epochSeconds: Int64) -> String {
        var bytes: [UInt8] = []
        append(epochSeconds: epochSeconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the IMF-fixdate of an instant to `output`.
    ///
    /// - Parameters:
    ///   - epochSeconds: Seconds since 1970-01-01T00:00:00Z, clamped to years 1 through 9999.
    ///   - output: The buffer to append 29 bytes to.
    static func append(epochSeconds: Int64, to output: inout [UInt8]) {
        let seconds = min(max(epochSeconds, earliestEpochSeconds), latestEpochSeconds)
        // Floor division, so instants before 1970 fall on the right day.
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            days -= 1
            secondOfDay += 86_400
        }
        let (year, month, day) = civil(fromDays: days)
        // 1970-01-01 was a Thursday; index 0 is Sunday.
        var weekday = (days + 4) % 7
        if weekday < 0 { weekday += 7 }

        let dayNames: StaticString = "SunMonTueWedThuFriSat"
        let monthNames: StaticString = "JanFebMarAprMayJunJulAugSepOctNovDec"
        output.reserveCapacity(output.count + length)
        appendName(dayNames, index: Int(weekday), to: &output)
        output.append(UInt8(ascii: ","))
        output.append(UInt8(ascii: " "))
        appendDigits(Int(day), count: 2, to: &output)
        output.append(UInt8(ascii: " "))
        appendName(monthNames, index: Int(month) - 1, to: &output)
        output.append(UInt8(ascii: " "))
        appendDigits(Int(year), count: 4, to: &output)
        output.append(UInt8(ascii: " "))
        appendDigits(Int(secondOfDay / 3600), count: 2, to: &output)
        output.append(UInt8(ascii: ":"))
        appendDigits(Int(secondOfDay / 60 % 60), count: 2, to: &output)
        output.append(UInt8(ascii: ":"))
        appendDigits(Int(secondOfDay % 60), count: 2, to: &output)
        output.append(UInt8(ascii: " "))
        output.append(UInt8(ascii: "G"))
        output.append(UInt8(ascii: "M"))
        output.append(UInt8(ascii: "T"))
    }

    /// Converts days since 1970-01-01 to a proleptic Gregorian date.
    ///
    /// Howard Hinnant's `civil_from_days`: shift the epoch to 0000-03-01 so leap days fall at the
    /// end of each year, split into 400-year eras of 146097 days, then into years and months.
    ///
    /// - Parameter days: Days since 1970-01-01 (negative before it).
    /// - Returns: The year, the month (1–12) and the day of the month (1–31).
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097  // [0, 146096]
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365  // [0, 399]
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)  // [0, 365], from March 1
        let shiftedMonth = (5 * dayOfYear + 2) / 153  // [0, 11], March = 0
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    private static func appendName(_ names: StaticString, index: Int, to output: inout [UInt8]) {
        let start = names.utf8Start + index * 3
        output.append(start[0])
        output.append(start[1])
        output.append(start[2])
    }

    private static func appendDigits(_ value: Int, count: Int, to output: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<count { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            output.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }
}

/// The current `Date` header value, re-formatted at most once per second.
///
/// A server writes a `Date` into every response (RFC 9110 §6.6.1); formatting it once per second
/// instead of once per response keeps it off the hot path.
struct HTTPDateCache: Sendable {
    private var cachedSecond: Int64?
    private var cachedBytes: [UInt8] = []
    /// How many times the cache has formatted a date, for tests.
    private(set) var formatCount = 0

    /// Creates an empty cache; the first use formats.
    init() {}

    /// The IMF-fixdate bytes for `epochSeconds`, formatted only when the second changed.
    ///
    /// - Parameter epochSeconds: The current time in seconds since 1970-01-01T00:00:00Z.
    /// - Returns: 29 bytes such as `Sun, 06 Nov 1994 08:49:37 GMT`.
    mutating func bytes(epochSeconds: Int64) -> [UInt8] {
        if cachedSecond != epochSeconds {
            cachedBytes.removeAll(keepingCapacity: true)
            HTTPDate.append(epochSeconds: epochSeconds, to: &cachedBytes)
            cachedSecond = epochSeconds
            formatCount &+= 1
        }
        return cachedBytes
    }
}
