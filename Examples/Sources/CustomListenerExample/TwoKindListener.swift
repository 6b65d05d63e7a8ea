public import PromptEvents
public import PromptEventsServer

/// What the custom listener does with the two kinds it handles.
///
/// Each closure receives a typed event. Throwing fails the attempt: the listener retries it
/// with backoff, up to ``TwoKindListener/retryPolicy``'s attempts.
public struct CustomListenerHandlers: Sendable {
    /// Runs for every authenticated `message/added` event.
    public var onMessageAdded: @Sendable (Event<MessageAdded>) async throws -> Void
    /// Runs for every authenticated `customer/optOut` event.
    public var onCustomerOptOut: @Sendable (Event<CustomerOptOut>) async throws -> Void

    /// Creates the handlers.
    ///
    /// - Parameters:
    ///   - onMessageAdded: Runs for `message/added`.
    ///   - onCustomerOptOut: Runs for `customer/optOut`.
    public init(
        onMessageAdded: @escaping @Sendable (Event<MessageAdded>) async throws -> Void,
        onCustomerOptOut: @escaping @Sendable (Event<CustomerOptOut>) async throws -> Void
    ) {
        self.onMessageAdded = onMessageAdded
        self.onCustomerOptOut = onCustomerOptOut
    }
}

/// A minimal listener of your own, written against `PromptEventsServer`'s `WebhookListener`:
/// `X-Hub-Signature` authentication, two typed handlers, and in-memory acknowledgement (`200`
/// at once, no journal on disk).
///
/// ```swift
/// let listener = try TwoKindListener.makeListener(hubSecret: Secret(text), port: 8081, handlers: handlers)
/// await listener.run()  // until cancelled or listener.shutdown()
/// ```
///
/// In-memory acknowledgement is the fastest mode and the lossiest: an event whose handlers have
/// not finished when the process stops is gone. Leave ``WebhookListener/Configuration/acknowledgement``
/// at `.durable` (and give it a `journalDirectory`) when events must not be lost.
public enum TwoKindListener {
    /// Handler retries: three attempts, 200 ms apart at first, at most 2 s apart.
    public static let retryPolicy = RetryPolicy(
        maximumAttempts: 3,
        baseDelay: .milliseconds(200),
        maximumDelay: .seconds(2)
    )

    /// The receiver: authentication by `X-Hub-Signature`, events at `/{kind}`, and the two handlers.
    ///
    /// - Parameters:
    ///   - hubSecret: The endpoint's signing secret, as configured in Prompt.io.
    ///   - handlers: What to do with each kind.
    /// - Returns: The receiver.
    public static func makeReceiver(hubSecret: Secret, handlers: CustomListenerHandlers) -> WebhookReceiver {
        var receiver = WebhookReceiver(authentication: Authentication(hubSecrets: [HubSecret(hubSecret)]))
        // Stable names: the listener tracks each handler's progress by name.
        receiver.on(.messageAdded, name: "message-added", perform: handlers.onMessageAdded)
        receiver.on(.customerOptOut, name: "opt-out", perform: handlers.onCustomerOptOut)
        receiver.onError { event, error in
            print("error: \(error) (delivery \(event.deliveryID.map(String.init) ?? "-"))")
        }
        return receiver
    }

    /// The listener's configuration: the address, in-memory acknowledgement, and ``retryPolicy``.
    ///
    /// - Parameters:
    ///   - host: The host to bind; default `127.0.0.1`.
    ///   - port: The port; 0 picks a free one (read it from `listener.address.port`).
    /// - Returns: The configuration.
    public static func configuration(host: String = "127.0.0.1", port: Int) -> WebhookListener.Configuration {
        var configuration = WebhookListener.Configuration(host: host, port: port)
        configuration.acknowledgement = .inMemory
        configuration.dispatcher.retryPolicy = retryPolicy
        configuration.shutdownGracePeriod = .seconds(2)
        return configuration
    }

    /// Creates the listener, bound but not yet serving; call `run()` or `start()` on it.
    ///
    /// - Parameters:
    ///   - hubSecret: The endpoint's signing secret.
    ///   - host: The host to bind; default `127.0.0.1`.
    ///   - port: The port; 0 picks a free one.
    ///   - handlers: What to do with each kind.
    ///   - observer: Told about every answered request; called on the server's loop thread, so
    ///     keep it quick. Defaults to ``logRequest(_:)``.
    /// - Returns: The listener.
    /// - Throws: `SystemCallError` when the address cannot be bound.
    public static func makeListener(
        hubSecret: Secret,
        host: String = "127.0.0.1",
        port: Int,
        handlers: CustomListenerHandlers,
        observer: @escaping @Sendable (ListenerEvent) -> Void = logRequest
    ) throws -> WebhookListener {
        try WebhookListener(
            receiver: makeReceiver(hubSecret: hubSecret, handlers: handlers),
            configuration: configuration(host: host, port: port),
            observer: observer
        )
    }

    /// Prints one line when the listener starts, for every rejected request, and for warnings.
    ///
    /// - Parameter event: What happened.
    @Sendable
    public static func logRequest(_ event: ListenerEvent) {
        if let (address, _) = event.listening {
            print("listening on \(address.url)")
        } else if let record = event.request, record.status >= 400 {
            print("\(record.status) \(record.method) \(record.path) \(record.reason ?? "")")
        } else if let message = event.warning {
            print("warning: \(message)")
        }
    }
}
