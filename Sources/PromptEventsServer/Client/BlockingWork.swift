import Dispatch

/// Runs blocking work (a socket wait, `waitpid`) on a Dispatch thread, never on the Swift
/// concurrency pool, whose few threads must not block.
package enum BlockingWork {
    /// Runs `work` on a global Dispatch queue.
    ///
    /// - Parameter work: The blocking work.
    package static func run(_ work: @escaping @Sendable () -> Void) {
        DispatchQueue.global().async(execute: work)
    }
}
