import PromptEvents
import PromptEventsServer

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How log lines on stderr look.
enum LogFormat: String {
    case text, json
}

/// Diagnostics on stderr: one line per delivery and per lifecycle change.
///
/// It sees only what the listener reports, which never includes secrets, `Authorization` values or bodies.
struct Logger: Sendable {
    let format: LogFormat

    func info(_ message: String) { line("info", message, fields: []) }
    func warning(_ message: String) { line("warning", message, fields: []) }
    func error(_ message: String) { line("error", message, fields: []) }

    func listenerEvent(_ event: ListenerEvent, basePath: String) {
        if let (address, metrics) = event.listening {
            // Exactly one line in this form, whatever the log format: scripts wait for it.
            printError("listening on \(address.url)")
            let base = address.url + (basePath == "/" ? "" : basePath)
            info(
                "Prompt.io Event Endpoint URL: \(base) (through your tunnel's public URL); subscribe to "
                    + EventKind.known.map { "/" + $0.rawValue }.joined(separator: ", ")
            )
            if let metrics { info("metrics on \(metrics.url)/metrics") }
        } else if let record = event.request {
            var fields: [(String, String)] = [
                ("status", "\(record.status)"), ("method", record.method), ("path", record.path),
                ("bytes", "\(record.bodyBytes)"),
                ("latency_ms", formatDecimal(Double(record.latency.nanoseconds) / 1e6, places: 3)),
            ]
            if let kind = record.kind { fields.append(("kind", kind.rawValue)) }
            if let id = record.deliveryID { fields.append(("delivery", "\(id)")) }
            if record.duplicate { fields.append(("duplicate", "true")) }
            if let reason = record.reason { fields.append(("reason", reason)) }
            line(record.status >= 500 ? "error" : record.status >= 400 ? "warning" : "info", "request", fields: fields)
        } else if let message = event.warning {
            warning(message)
        } else if event.kind == .draining {
            info("draining: no new connections, finishing in-flight requests")
        } else if event.kind == .stopped {
            info("stopped")
        }
    }

    private func line(_ level: String, _ message: String, fields: [(String, String)]) {
        let time = Timestamp.now()
        switch format {
        case .text:
            // Assembled as bytes: this runs once per request on the listener's thread.
            var bytes: [UInt8] = []
            bytes.reserveCapacity(160)
            bytes += time.utf8
            bytes.append(UInt8(ascii: " "))
            bytes += level.utf8
            bytes.append(UInt8(ascii: " "))
            bytes += message.utf8
            for (key, value) in fields {
                bytes.append(UInt8(ascii: " "))
                bytes += key.utf8
                bytes.append(UInt8(ascii: "="))
                bytes += quoteIfNeeded(value).utf8
            }
            bytes.append(UInt8(ascii: "\n"))
            writeAll(bytes, to: STDERR_FILENO)
        case .json:
            var object = JSONObject()
            object.append(key: "time", value: .string(time))
            object.append(key: "level", value: .string(level))
            object.append(key: "message", value: .string(message))
            for (key, value) in fields { object.append(key: key, value: .string(value)) }
            printError(JSONValue.object(object).serialized())
        }
    }

    private func quoteIfNeeded(_ value: String) -> String {
        value.utf8.contains { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "=") }
            ? JSONValue.string(value).serialized() : value
    }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}

/// UTC timestamps in ISO 8601 with milliseconds, without Foundation's formatters.
enum Timestamp {
    static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return format(milliseconds: Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000)
    }

    /// `2026-11-29T18:40:00.123Z` for milliseconds since the Unix epoch.
    static func format(milliseconds: Int64) -> String {
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let millis = milliseconds - seconds * 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Days to civil date (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        func digits(_ value: Int64, _ width: Int) {
            var divisor: Int64 = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(year, 4)
        bytes.append(UInt8(ascii: "-"))
        digits(month, 2)
        bytes.append(UInt8(ascii: "-"))
        digits(day, 2)
        bytes.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3600, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(secondOfDay / 60 % 60, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(secondOfDay % 60, 2)
        bytes.append(UInt8(ascii: "."))
        digits(millis, 3)
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }
}
