#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value behind a `pthread_mutex_t`: the same `withLock` as `Synchronization.Mutex`, but a lock
/// that ThreadSanitizer sees.
///
/// `Mutex` waits in the Swift runtime (a futex loop the sanitizer does not instrument), so under
/// contention ThreadSanitizer misses its acquire and reports every critical section as a race with
/// the previous one (`scripts/tsan-mutex-repro.swift`). pthreads are intercepted, so the suite can
/// run clean under `--sanitize=thread` and a real race still shows.
package final class Locked<Value: ~Copyable>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @exclusivity(unchecked) private var value: Value

    /// Creates a lock holding `value`.
    ///
    /// - Parameter value: The initial value.
    package init(_ value: consuming sending Value) {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        let status = pthread_mutex_init(mutex, nil)
        precondition(status == 0, "pthread_mutex_init failed: \(status)")
        self.value = value
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value.
    ///
    /// - Parameter body: Reads or changes the value; must not take this lock again.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    package func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}

extension Locked where Value: Sendable {
    /// A copy of the value.
    package var value: Value { withLock { $0 } }
}
