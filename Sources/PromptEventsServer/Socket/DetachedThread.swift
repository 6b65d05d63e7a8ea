#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs `body` on a new, detached POSIX thread: for the event loop and for blocking work
/// (load generation) that must never occupy a thread of Swift's concurrency pool.
///
/// - Parameter body: The work; the thread ends when it returns.
package func startDetachedThread(_ body: @escaping @Sendable () -> Void) {
    final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    var handle = pthread_t()
    let result = pthread_create(
        &handle,
        nil,
        { context in
            #if canImport(Glibc)
            guard let context else { return nil }
            #endif
            Unmanaged<Box>.fromOpaque(context).takeRetainedValue().body()
            return nil
        },
        context
    )
    precondition(result == 0, "pthread_create failed: \(result)")
    // Nobody joins these threads: detached, their resources are freed when they return.
    pthread_detach(handle)
}
