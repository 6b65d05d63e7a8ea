public import Hummingbird
public import Logging
import NIOCore
public import PromptEvents

/// Where and how the example application receives Prompt.io events.
public struct PromptAppConfiguration: Sendable {
    /// The host to bind; `127.0.0.1` keeps it reachable from this machine only (use a tunnel).
    public var host: String
    /// The port; 0 picks a free one (reported to `onServerRunning`).
    public var port: Int
    /// The endpoint's `X-Hub-Signature` secret, as configured in Prompt.io.
    public var hubSecret: Secret
    /// The path events arrive below: Prompt.io's endpoint URL is `https://your-host{basePath}`.
    public var basePath: String
    /// The largest body accepted.
    public var maxBodyBytes: Int

    /// Creates a configuration.
    ///
    /// - Parameters:
    ///   - hubSecret: The endpoint's signing secret.
    ///   - host: The host to bind; default `127.0.0.1`.
    ///   - port: The port; default 8080, 0 for any free port.
    ///   - basePath: The path events arrive below; default `/prompt`.
    ///   - maxBodyBytes: The largest body accepted; default 1 MiB.
    public init(
        hubSecret: Secret,
        host: String = "127.0.0.1",
        port: Int = 8080,
        basePath: String = "/prompt",
        maxBodyBytes: Int = 1 << 20
    ) {
        self.hubSecret = hubSecret
        self.host = host
        self.port = port
        self.basePath = basePath
        self.maxBodyBytes = maxBodyBytes
    }
}

/// Builds the receiver: `X-Hub-Signature` authentication, events below the base path, and one
/// typed handler for `message/added`.
///
/// - Parameters:
///   - configuration: The secret and base path.
///   - logger: Where handler failures are logged.
///   - onMessageAdded: Runs for every authenticated `message/added` event; throwing answers 500.
/// - Returns: The receiver, ready to mount.
public func makeReceiver(
    configuration: PromptAppConfiguration,
    logger: Logger = Logger(label: "PromptEvents"),
    onMessageAdded: @escaping @Sendable (Event<MessageAdded>) async throws -> Void
) -> WebhookReceiver {
    var receiver = WebhookReceiver(
        authentication: Authentication(hubSecrets: [HubSecret(configuration.hubSecret)]),
        routing: EventRouting(basePath: configuration.basePath)
    )
    receiver.on(.messageAdded, name: "message-added", perform: onMessageAdded)
    receiver.onError { _, error in
        logger.error("\(error)")
    }
    return receiver
}

/// Builds a Hummingbird application that receives Prompt.io events at `POST {basePath}/{kind}`.
///
/// ```swift
/// let app = buildApplication(configuration: PromptAppConfiguration(hubSecret: Secret(text))) { event in
///     print("message/added for org", event.orgID ?? 0)
/// }
/// try await app.runService()
/// ```
///
/// - Parameters:
///   - configuration: Address, secret, base path and body limit.
///   - logger: The application's logger; its level defaults to `LOG_LEVEL` or `info`.
///   - onServerRunning: Told the bound port once the server listens (useful with port 0).
///   - onMessageAdded: Runs for every authenticated `message/added` event.
/// - Returns: The application; run it with `runService()`, or as a service in a `ServiceGroup`.
public func buildApplication(
    configuration: PromptAppConfiguration,
    logger: Logger? = nil,
    onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in },
    onMessageAdded: @escaping @Sendable (Event<MessageAdded>) async throws -> Void
) -> some ApplicationProtocol {
    let logger = logger ?? defaultLogger()
    let router = Router()
    router.get("/") { _, _ in "Webhook Listener Running\n" }
    router.addPromptEvents(
        makeReceiver(configuration: configuration, logger: logger, onMessageAdded: onMessageAdded),
        maxBodyBytes: configuration.maxBodyBytes
    )
    return Application(
        router: router,
        configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port)),
        onServerRunning: { channel in
            await onServerRunning(channel.localAddress?.port ?? configuration.port)
        },
        logger: logger
    )
}

/// A logger at the level named by `LOG_LEVEL` (`trace` … `critical`), else `info`.
private func defaultLogger() -> Logger {
    var logger = Logger(label: "PromptEventsExample")
    logger.logLevel = Environment().get("LOG_LEVEL").flatMap(Logger.Level.init(rawValue:)) ?? .info
    return logger
}
