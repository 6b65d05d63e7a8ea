/// When the server answers a delivery, relative to the journal and the handlers.
///
/// Prompt.io documents no retry policy, so whatever the server acknowledges must not be lost on
/// our side. The modes trade that guarantee against latency:
///
/// | Mode | Answer | A crash loses | Handler failure |
/// |---|---|---|---|
/// | ``durable`` | 2xx after the journal sync | nothing acknowledged | retried locally, then dead-lettered |
/// | ``afterHandlers`` | after the handlers: 2xx, or 500 | nothing acknowledged | 500: the sender may retry |
/// | ``inMemory`` | 2xx at once | everything not yet handled | retried locally while the process lives |
public enum AcknowledgementMode: String, Sendable, Hashable, CaseIterable {
    /// Journal the delivery, sync, answer 2xx, then run the handlers from the journal (default).
    ///
    /// Nothing acknowledged is lost: the handlers run at least once, across crashes and restarts,
    /// with retries, backoff and a dead-letter state. The answer waits for one group-committed
    /// `fdatasync`, not for the handlers.
    case durable
    /// Journal the delivery, run the handlers, and answer when they have finished: 2xx when every
    /// handler succeeded, 500 when one was dead-lettered.
    ///
    /// The answer waits for every retry, so keep ``RetryPolicy/maximumAttempts`` and the handler
    /// timeout small enough for the sender's timeout. The de-duplication key is remembered only
    /// once every handler succeeded, so a retry by the sender after a 500 is accepted and handled
    /// again as a new delivery.
    case afterHandlers
    /// Do not journal: answer 2xx at once and run the handlers from memory.
    ///
    /// Fastest, and lossy: a crash or restart loses every delivery whose handlers have not all
    /// succeeded, there is no dead-letter store or replay, and any de-duplication the server keeps
    /// in memory forgets everything on restart. Use it only when the events can be lost or are
    /// recoverable elsewhere.
    case inMemory
}
