public import PromptEvents
public import PromptEventsServer

/// The Prompt.io guide's "next steps": whenever a customer is added, fetch a random dog
/// picture from the Dog CEO API and hand it, with the customer, to the CRM as their avatar.
///
/// ```swift
/// var receiver = WebhookReceiver(authentication: authentication)
/// DogAvatars(pictures: try DogCEOClient(), crm: PrintingCRM()).register(on: &receiver)
/// ```
public struct DogAvatars: Sendable {
    /// The handler's stable name; the listener records progress under it.
    public static let handlerName = "dog-avatar"

    /// Where the pictures come from.
    public var pictures: any DogPictureSource
    /// Where the avatars go.
    public var crm: any CRM

    /// Creates the handler.
    ///
    /// - Parameters:
    ///   - pictures: Where the pictures come from, usually a ``DogCEOClient``.
    ///   - crm: Where the avatars go.
    public init(pictures: any DogPictureSource, crm: any CRM) {
        self.pictures = pictures
        self.crm = crm
    }

    /// Handles one `customer/added` event.
    ///
    /// An event without a customer is skipped: there is no one to give a picture to.
    ///
    /// - Parameter event: The event.
    /// - Throws: When the picture cannot be fetched or the CRM cannot be updated, so the attempt
    ///   is retried.
    public func handle(_ event: Event<CustomerAdded>) async throws {
        guard let customer = event.payload.customer else { return }
        let picture = try await pictures.randomPicture()
        try await crm.setAvatar(AvatarUpdate(organizationID: event.orgID, customer: customer, picture: picture))
    }

    /// Registers ``handle(_:)`` for `customer/added` under ``handlerName``.
    ///
    /// - Parameter receiver: The receiver to register on.
    public func register(on receiver: inout WebhookReceiver) {
        receiver.on(.customerAdded, name: Self.handlerName) { event in
            try await handle(event)
        }
    }

    /// Creates a durable listener running this handler: each event is journaled before the
    /// `200`, and a failed fetch or CRM call is retried with backoff (the Dog API being down
    /// does not lose the customer).
    ///
    /// - Parameters:
    ///   - hubSecret: The endpoint's signing secret, as configured in Prompt.io.
    ///   - host: The host to bind; default `127.0.0.1`.
    ///   - port: The port; 0 picks a free one (read it from `listener.address.port`).
    ///   - journalDirectory: Where the journal lives; one listener at a time may use it.
    ///   - retryPolicy: How failed attempts are retried; default 5 attempts, 1 s to 1 min apart.
    ///   - onError: Told about every failed attempt; prints it by default.
    ///   - observer: Told about every answered request; called on the server's loop thread.
    /// - Returns: The listener, bound but not yet serving.
    /// - Throws: When the address cannot be bound or the journal cannot be opened.
    public func makeListener(
        hubSecret: Secret,
        host: String = "127.0.0.1",
        port: Int,
        journalDirectory: String,
        retryPolicy: RetryPolicy = RetryPolicy(maximumAttempts: 5, baseDelay: .seconds(1), maximumDelay: .seconds(60)),
        onError: @escaping @Sendable (HandlerError) async -> Void = { error in print("error: \(error)") },
        observer: @escaping @Sendable (ListenerEvent) -> Void = { _ in }
    ) throws -> WebhookListener {
        var receiver = WebhookReceiver(authentication: Authentication(hubSecrets: [HubSecret(hubSecret)]))
        register(on: &receiver)
        receiver.onError { _, error in await onError(error) }
        var configuration = WebhookListener.Configuration(
            host: host,
            port: port,
            journalDirectory: journalDirectory
        )
        configuration.dispatcher.retryPolicy = retryPolicy
        configuration.shutdownGracePeriod = .seconds(2)
        return try WebhookListener(receiver: receiver, configuration: configuration, observer: observer)
    }
}
