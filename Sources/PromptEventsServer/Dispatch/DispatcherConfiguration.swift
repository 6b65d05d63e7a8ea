/// How the dispatcher runs handlers: concurrency, time budget, retries and journal upkeep.
public struct DispatcherConfiguration: Sendable, Hashable {
    /// The most handler attempts running at once, over all deliveries.
    ///
    /// Default: 16; at least 1. A handler that exceeded its time budget keeps its slot until it actually returns: a Swift
    /// task cannot be killed, only asked to stop.
    public var maximumConcurrentHandlers: Int
    /// The time budget of one handler attempt, or `nil` for none.
    ///
    /// Default: 30 seconds. An attempt over budget counts as failed (and is retried); its task is cancelled, which
    /// stops it only if it checks for cancellation.
    public var handlerTimeout: Duration?
    /// Retries and backoff.
    public var retryPolicy: RetryPolicy
    /// How long handler-progress records may wait before they are synced.
    ///
    /// Default: 5 ms. A handler that finished but whose record is not yet durable runs again after a crash; this
    /// delay (plus one `fdatasync`) bounds that window. Progress records are also made durable by
    /// the server's next group commit, whichever comes first.
    public var progressSyncDelay: Duration
    /// How often ``Journal/applyRetention()`` runs, or `nil` for never.
    ///
    /// Default: 60 seconds.
    public var retentionInterval: Duration?
    /// How many accepted deliveries may wait for their handlers before the server stops reading
    /// new requests.
    ///
    /// Default: 1024; at least 1. Beyond it, ``WebhookListener`` stops reading from its connections (TCP
    /// back-pressure: senders wait, nothing is refused or lost) until the backlog is down to half,
    /// so memory stays bounded however slow the handlers are.
    public var maximumBacklog: Int

    /// Creates a configuration; every parameter has the documented default.
    ///
    /// - Parameters:
    ///   - maximumConcurrentHandlers: Concurrent attempts (16).
    ///   - handlerTimeout: Budget per attempt (30 seconds).
    ///   - retryPolicy: Retries and backoff (``RetryPolicy/init(maximumAttempts:baseDelay:maximumDelay:)``).
    ///   - progressSyncDelay: Longest wait before progress is synced (5 ms).
    ///   - retentionInterval: Period of retention runs (60 seconds).
    ///   - maximumBacklog: Deliveries waiting for handlers before reading pauses (1024).
    public init(
        maximumConcurrentHandlers: Int = 16,
        handlerTimeout: Duration? = .seconds(30),
        retryPolicy: RetryPolicy = RetryPolicy(),
        progressSyncDelay: Duration = .milliseconds(5),
        retentionInterval: Duration? = .seconds(60),
        maximumBacklog: Int = 1024
    ) {
        self.maximumConcurrentHandlers = max(1, maximumConcurrentHandlers)
        self.handlerTimeout = handlerTimeout
        self.retryPolicy = retryPolicy
        self.progressSyncDelay = progressSyncDelay
        self.retentionInterval = retentionInterval
        self.maximumBacklog = max(1, maximumBacklog)
    }
}
