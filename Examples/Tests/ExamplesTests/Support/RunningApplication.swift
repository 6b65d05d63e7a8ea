import Hummingbird
import Logging
import ServiceLifecycle

/// A logger for servers under test: only critical messages, so expected failures stay quiet.
let quietLogger: Logger = {
    var logger = Logger(label: "ExamplesTests")
    logger.logLevel = .critical
    return logger
}()

/// Carries the port a server reports once it listens (to its `onServerRunning` callback) to
/// the test waiting for it.
struct BoundPort: Sendable {
    private let ports: AsyncStream<Int>
    private let continuation: AsyncStream<Int>.Continuation

    init() {
        (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    }

    /// The callback to give the server.
    var report: @Sendable (Int) async -> Void {
        { [continuation] port in continuation.yield(port) }
    }

    /// Says that no port will come (the server stopped).
    func finish() {
        continuation.finish()
    }

    /// The reported port; waits up to 10 s.
    func value() async throws -> Int {
        let ports = self.ports
        let port = try await withTimeout(.seconds(10), waitingFor: "the server to start") {
            await ports.first { _ in true }
        }
        guard let port else { throw TestSetupError("the server did not start") }
        return port
    }
}

/// Runs a Hummingbird application in a `ServiceGroup` for the duration of `body`, which
/// receives the port the server is bound to; the application is then shut down gracefully and
/// awaited, also when `body` throws.
///
/// - Parameters:
///   - app: The application, built with `boundPort.report` as its `onServerRunning` callback.
///   - boundPort: Where the application reports its port.
///   - body: The test, given the port.
/// - Throws: What `body` throws, a `TimeoutError` when the server does not start within 10 s,
///   or what the application throws when it fails.
func withRunningApplication(
    _ app: some ApplicationProtocol,
    boundPort: BoundPort,
    _ body: (Int) async throws -> Void
) async throws {
    let services = ServiceGroup(configuration: ServiceGroupConfiguration(services: [app], logger: quietLogger))
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            // A bind failure ends the stream, so the wait below fails at once.
            defer { boundPort.finish() }
            try await services.run()
        }
        do {
            try await body(try await boundPort.value())
        } catch {
            await services.triggerGracefulShutdown()
            throw error
        }
        await services.triggerGracefulShutdown()
        try await group.waitForAll()
    }
}
