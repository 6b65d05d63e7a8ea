import Dispatch
import PromptEvents
import PromptEventsServer
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `send --count N --concurrency C`: a quick, bounded load generator with a summary.
enum LoadGenerator {
    private struct Tally: Sendable {
        var latencies: [UInt64] = []
        var statuses: [Int: Int] = [:]
        var errors: [String: Int] = [:]
    }

    static func run(
        url: HTTPURL,
        headers: Headers,
        body: [UInt8],
        count: Int,
        concurrency: Int,
        timeout: Duration
    ) -> Int32 {
        let next = Atomic<Int>(0)
        let tally = Locked(Tally())
        let group = DispatchGroup()
        let started = monotonicNow()
        for _ in 0..<concurrency {
            group.enter()
            startDetachedThread {
                let client = HTTPClient()
                var local = Tally()
                while next.add(1, ordering: .relaxed).oldValue < count {
                    let begin = monotonicNow()
                    do throws(HTTPClientError) {
                        let response = try client.send(
                            method: "POST",
                            url: url,
                            headers: headers,
                            body: body,
                            timeout: timeout
                        )
                        local.statuses[response.status, default: 0] += 1
                    } catch {
                        local.errors[error.message, default: 0] += 1
                    }
                    local.latencies.append(monotonicNow() - begin)
                }
                tally.withLock { total in
                    total.latencies += local.latencies
                    total.statuses.merge(local.statuses, uniquingKeysWith: +)
                    total.errors.merge(local.errors, uniquingKeysWith: +)
                }
                group.leave()
            }
        }
        let progress = isatty(STDERR_FILENO) == 1
        while group.wait(timeout: .now() + .milliseconds(500)) == .timedOut {
            if progress {
                let done = min(next.load(ordering: .relaxed), count)
                writeAll("\rsent \(done)/\(count)", to: STDERR_FILENO)
            }
        }
        if progress { writeAll("\r", to: STDERR_FILENO) }
        let elapsed = Double(monotonicNow() - started) / 1e9
        let result = tally.withLock { $0 }
        let sorted = result.latencies.sorted()
        func percentile(_ p: Double) -> String {
            guard !sorted.isEmpty else { return "-" }
            let index = min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)
            return formatMilliseconds(sorted[max(0, index)])
        }
        let succeeded = result.statuses.filter { (200..<300).contains($0.key) }.values.reduce(0, +)
        let failed = count - succeeded
        printOutput("requests: \(count)  concurrency: \(concurrency)  elapsed: \(formatDecimal(elapsed, places: 2)) s")
        printOutput(
            "throughput: \(formatDecimal(Double(count) / elapsed, places: 0)) req/s  p50: \(percentile(0.5))  p99: \(percentile(0.99))  max: \(percentile(1.0))"
        )
        let statuses = result.statuses.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")
        printOutput("statuses: \(statuses.isEmpty ? "none" : statuses)  errors: \(failed)")
        for (message, times) in result.errors.sorted(by: { $0.value > $1.value }) {
            printError("  \(times)× \(message)")
        }
        return failed == 0 ? 0 : 1
    }

    private static func monotonicNow() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}

/// `1.234 ms`.
func formatMilliseconds(_ nanoseconds: UInt64) -> String {
    formatDecimal(Double(nanoseconds) / 1e6, places: 3) + " ms"
}

/// A number with a fixed count of decimals, without Foundation's formatters.
func formatDecimal(_ value: Double, places: Int) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    let scaled = Int64((abs(value) * scale).rounded())
    let sign = value < 0 && scaled != 0 ? "-" : ""
    let whole = scaled / Int64(scale)
    guard places > 0 else { return sign + "\(whole)" }
    var fraction = String(scaled % Int64(scale))
    while fraction.count < places { fraction = "0" + fraction }
    return sign + "\(whole).\(fraction)"
}
