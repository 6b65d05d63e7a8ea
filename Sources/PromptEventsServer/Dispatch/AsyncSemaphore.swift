import PromptEvents

/// A counting semaphore for tasks: `acquire()` suspends (without blocking a thread) until a
/// permit is free, in first-come order, and throws when the waiting task is cancelled.
final class AsyncSemaphore: Sendable {
    private struct State {
        var available: Int
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var cancelled: Set<UInt64> = []
        var nextID: UInt64 = 0
    }

    private let state: Locked<State>

    /// Creates a semaphore.
    ///
    /// - Parameter permits: How many holders may hold it at once.
    init(permits: Int) {
        state = Locked(State(available: permits))
    }

    /// Waits for a permit and takes it.
    ///
    /// - Throws: `CancellationError` when the task is cancelled while waiting (no permit is taken).
    func acquire() async throws {
        try Task.checkCancellation()
        let id = state.withLock { state -> UInt64? in
            // The common case: a permit is free, so no continuation and no cancellation handler.
            if state.available > 0, state.waiters.isEmpty {
                state.available -= 1
                return nil
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let result = state.withLock { state -> Result<Void, any Error>? in
                    if state.cancelled.remove(id) != nil { return .failure(CancellationError()) }
                    if state.available > 0 {
                        state.available -= 1
                        return .success(())
                    }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let result { continuation.resume(with: result) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                if let index = state.waiters.firstIndex(where: { $0.id == id }) {
                    return state.waiters.remove(at: index).continuation
                }
                state.cancelled.insert(id)
                return nil
            }
            waiter?.resume(throwing: CancellationError())
        }
        state.withLock { _ = $0.cancelled.remove(id) }
    }

    /// Returns a permit, waking the longest waiter if there is one.
    func release() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            guard !state.waiters.isEmpty else {
                state.available += 1
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        waiter?.resume()
    }
}

/// Resumes a continuation exactly once, whichever of several racers comes first.
final class ResumeOnce<Value: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Value, Never>?
        var onResume: [@Sendable () -> Void] = []
    }

    private let state: Locked<State>

    /// Wraps a continuation.
    ///
    /// - Parameter continuation: The continuation to resume once.
    init(_ continuation: CheckedContinuation<Value, Never>) {
        state = Locked(State(continuation: continuation))
    }

    /// Resumes with `value` unless already resumed.
    ///
    /// - Parameter value: The value.
    /// - Returns: `true` when this call resumed the continuation.
    @discardableResult
    func resume(_ value: Value) -> Bool {
        let (continuation, actions) = state.withLock { state in
            defer {
                state.continuation = nil
                state.onResume = []
            }
            return (state.continuation, state.onResume)
        }
        guard let continuation else { return false }
        continuation.resume(returning: value)
        for action in actions { action() }
        return true
    }

    /// Runs `action` when the continuation is resumed, or at once if it already was.
    ///
    /// - Parameter action: What to run, for example cancelling a timer.
    func onResume(_ action: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state in
            guard state.continuation != nil else { return true }
            state.onResume.append(action)
            return false
        }
        if runNow { action() }
    }
}
