/// How often a failing handler is retried, and how long to wait in between.
///
/// After attempt *n* fails (and *n* is below ``maximumAttempts``), the next attempt waits a
/// random delay in `0 ..< min(maximumDelay, baseDelay × 2ⁿ⁻¹)`: exponential backoff with full
/// jitter, which spreads retries of many deliveries over time instead of synchronizing them. When
/// attempt ``maximumAttempts`` fails, that (delivery, handler) pair is dead-lettered with the last
/// error.
///
/// With the defaults (10 attempts, 1 second base, 10 minute cap), the ceilings are 1, 2, 4, …,
/// 256 seconds, and a handler that never succeeds is dead-lettered after about four minutes on
/// average (at most about eight and a half).
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts per (delivery, handler) pair, the first included.
    ///
    /// Default: 10; at least 1.
    public var maximumAttempts: Int
    /// The ceiling of the delay after the first failure; it doubles after each further one.
    ///
    /// Default: 1 second.
    public var baseDelay: Duration
    /// The largest ceiling.
    ///
    /// Default: 10 minutes.
    public var maximumDelay: Duration

    /// Creates a policy; every parameter has the documented default.
    ///
    /// - Parameters:
    ///   - maximumAttempts: Attempts per pair (10); values below 1 count as 1.
    ///   - baseDelay: The first ceiling (1 second).
    ///   - maximumDelay: The largest ceiling (10 minutes).
    public init(maximumAttempts: Int = 10, baseDelay: Duration = .seconds(1), maximumDelay: Duration = .seconds(600)) {
        self.maximumAttempts = max(1, maximumAttempts)
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
    }

    /// The ceiling of the delay after attempt `attempt` failed: `min(maximumDelay, baseDelay × 2^(attempt − 1))`.
    ///
    /// - Parameter attempt: The attempt that failed, counting from 1.
    /// - Returns: The ceiling.
    public func ceiling(afterAttempt attempt: Int) -> Duration {
        let base = Self.nanoseconds(baseDelay)
        let cap = Self.nanoseconds(maximumDelay)
        let shift = max(0, attempt - 1)
        guard shift < 62 else { return .nanoseconds(cap) }
        let (scaled, overflow) = base.multipliedReportingOverflow(by: Int64(1) << shift)
        return .nanoseconds(overflow ? cap : min(cap, scaled))
    }

    /// The delay after attempt `attempt` failed: the ceiling scaled by `random` (full jitter).
    ///
    /// - Parameters:
    ///   - attempt: The attempt that failed, counting from 1.
    ///   - random: A value in `0 ..< 1`; the dispatcher draws it from its random source.
    /// - Returns: The delay, rounded down to a whole nanosecond.
    public func delay(afterAttempt attempt: Int, random: Double) -> Duration {
        let ceiling = Self.nanoseconds(ceiling(afterAttempt: attempt))
        let fraction = min(max(random, 0), 1)
        return .nanoseconds(min(ceiling, Int64((Double(ceiling) * fraction).rounded(.down))))
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}
