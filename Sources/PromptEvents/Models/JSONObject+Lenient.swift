#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Lenient field access used by the models: a field that is absent, `null` or of a surprising
/// type reads as `nil`, and the event is still delivered.
extension JSONObject {
    func int64(_ key: String) -> Int64? { self[key]?.int64 }

    func string(_ key: String) -> String? { self[key]?.string }

    func bool(_ key: String) -> Bool? { self[key]?.bool }

    func object(_ key: String) -> JSONObject? { self[key]?.object }

    /// The elements of an array field that are objects, built with `make`; other elements are skipped.
    func objects<Model>(_ key: String, _ make: (JSONObject) -> Model) -> [Model]? {
        guard let array = self[key]?.array else { return nil }
        return array.compactMap { $0.object.map(make) }
    }

    /// A `*Date` field parsed as ISO 8601, leniently.
    func date(_ key: String) -> Date? {
        string(key).flatMap { ISO8601.date(from: $0) }
    }
}

extension Date {
    /// Creates a date from a Prompt.io `*Timestamp`: milliseconds since the Unix epoch.
    ///
    /// The nearest `Date` to the exact instant: the shift to Foundation's 2001 reference date is
    /// done in integers, so the division is the only rounding. (`timeIntervalSince1970: ms / 1000`
    /// rounds twice and is often one ulp off: 1712345679123 gave …479.1229999.)
    init(promptTimestamp milliseconds: Int64) {
        let (sinceReferenceDate, overflow) = milliseconds.subtractingReportingOverflow(978_307_200_000)
        if overflow {
            self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
        } else {
            self.init(timeIntervalSinceReferenceDate: Double(sinceReferenceDate) / 1000)
        }
    }
}
