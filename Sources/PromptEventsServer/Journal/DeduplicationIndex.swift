#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif

/// Remembers de-duplication keys for a window of time, mapping each to the delivery that first
/// carried it.
///
/// Prompt.io sends no delivery id, so the caller derives a key from what it received (the event
/// kind and the SHA-256 of the body) and passes it here. A key is remembered from the moment its
/// delivery was received until `window` later. The ``Journal`` keeps one of these and rebuilds it
/// from its records when it opens, so the window survives restarts; a server running in
/// ``AcknowledgementMode/inMemory`` may keep its own (lost on restart).
///
/// Not thread-safe by itself: keep it behind a lock.
package struct DeduplicationIndex: Sendable {
    private struct Entry: Sendable {
        var id: UInt64
        var expiresAt: Date
    }

    /// The longest key accepted, in bytes.
    package static let maximumKeyLength = 64

    /// How long a key is remembered after its delivery was received.
    package let window: Duration
    private var entries: [[UInt8]: Entry] = [:]
    /// Keys in the order remembered, with the expiry they were remembered with, for eviction.
    private var expiries: [(key: [UInt8], expiresAt: Date)] = []
    private var expiriesStart = 0

    /// Creates an empty index.
    ///
    /// - Parameter window: How long each key is remembered; zero disables de-duplication.
    package init(window: Duration) {
        self.window = window
    }

    /// How many keys are remembered, expired ones included until evicted.
    package var count: Int { entries.count }

    /// The delivery that carried `key`, if the key is remembered and its window has not passed.
    ///
    /// - Parameters:
    ///   - key: The de-duplication key.
    ///   - now: The current time.
    /// - Returns: The id of the first delivery with this key, or `nil`.
    package mutating func lookup(_ key: [UInt8], now: Date) -> UInt64? {
        evictExpired(now: now)
        guard let entry = entries[key], entry.expiresAt > now else { return nil }
        return entry.id
    }

    /// Remembers `key` for the delivery `id` received at `receivedAt`.
    ///
    /// A key already remembered keeps its first delivery, unless that one's window has passed.
    ///
    /// - Parameters:
    ///   - key: The de-duplication key.
    ///   - id: The delivery that carried it.
    ///   - receivedAt: When that delivery was received; the window starts here.
    ///   - now: The current time; a key whose window has already passed is not remembered.
    package mutating func remember(_ key: [UInt8], id: UInt64, receivedAt: Date, now: Date) {
        guard window > .zero else { return }
        let expiresAt = receivedAt.addingTimeInterval(window.asTimeInterval)
        guard expiresAt > now else { return }
        if let existing = entries[key], existing.expiresAt > now { return }
        entries[key] = Entry(id: id, expiresAt: expiresAt)
        expiries.append((key, expiresAt))
    }

    /// Forgets `key` if it is remembered for delivery `id`.
    ///
    /// - Parameters:
    ///   - key: The de-duplication key.
    ///   - id: The delivery it must belong to.
    package mutating func forget(_ key: [UInt8], id: UInt64) {
        if entries[key]?.id == id { entries[key] = nil }
    }

    /// Whether the window of a delivery received at `receivedAt` has passed.
    ///
    /// - Parameters:
    ///   - receivedAt: When the delivery was received.
    ///   - now: The current time.
    /// - Returns: `true` once the key no longer needs to be remembered.
    package func hasExpired(receivedAt: Date, now: Date) -> Bool {
        receivedAt.addingTimeInterval(window.asTimeInterval) <= now
    }

    private mutating func evictExpired(now: Date) {
        while expiriesStart < expiries.count, expiries[expiriesStart].expiresAt <= now {
            let (key, expiresAt) = expiries[expiriesStart]
            if let entry = entries[key], entry.expiresAt <= expiresAt { entries[key] = nil }
            expiriesStart += 1
        }
        if expiriesStart > 1024 && expiriesStart * 2 > expiries.count {
            expiries.removeFirst(expiriesStart)
            expiriesStart = 0
        }
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var asTimeInterval: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
