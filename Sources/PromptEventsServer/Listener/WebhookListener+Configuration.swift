#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension WebhookListener {
    /// Everything a listener can be told: where to listen, what to accept, how long to wait, and how to deliver.
    ///
    /// Every default is documented and safe for the open internet.
    public struct Configuration: Sendable {
        /// The host to bind.
        ///
        /// Default `127.0.0.1`: reachable only from this machine, behind a tunnel or a TLS-terminating proxy. Use
        /// `0.0.0.0` or `::` to listen on every interface.
        public var host: String
        /// The port.
        ///
        /// Default 8080; 0 picks a free port (read it from ``WebhookListener/address``).
        public var port: Int
        /// The listen backlog.
        ///
        /// Default 1024.
        public var backlog: Int32 = 1024
        /// Request size limits (head 16 KiB, 100 headers, body 1 MiB by default).
        public var limits = HTTPLimits()
        /// The most connections served at once; beyond it, new ones get `503` with `Retry-After`.
        ///
        /// Default 10,000.
        public var maxConnections = 10_000
        /// The most requests one connection may have awaiting answers (pipelining).
        ///
        /// Default 32.
        public var maxPipelinedRequests = 32
        /// The time allowed to receive a request's head, from its first byte (slow-loris guard).
        ///
        /// Default 10 s; expiry answers 408 and closes.
        public var headTimeout: Duration = .seconds(10)
        /// The longest pause allowed between body bytes.
        ///
        /// Default 10 s; expiry answers 408.
        public var bodyTimeout: Duration = .seconds(10)
        /// How long an idle keep-alive connection is kept.
        ///
        /// Default 60 s; expiry closes quietly.
        public var idleTimeout: Duration = .seconds(60)
        /// How long shutdown waits for in-flight requests before closing everything, and then
        /// for running handler attempts before cancelling them (their deliveries stay pending in
        /// the journal and run again at the next start).
        ///
        /// Default 10 s.
        public var shutdownGracePeriod: Duration = .seconds(10)
        /// How often timeouts are checked.
        ///
        /// Default 100 ms.
        public var timerResolution: Duration = .milliseconds(100)
        /// Serve `GET /metrics` on a separate listener at this port (on ``metricsHost``) instead of the public one.
        ///
        /// Default `nil`: metrics are on the main listener.
        public var metricsPort: Int?
        /// The host for the separate metrics listener.
        ///
        /// Default `127.0.0.1`.
        public var metricsHost = "127.0.0.1"
        /// When to answer 2xx, and whether to journal.
        ///
        /// Default ``AcknowledgementMode/durable``.
        public var acknowledgement: AcknowledgementMode = .durable
        /// Where the journal lives.
        ///
        /// Default `.prompt-listen/journal` below the working directory.
        public var journalDirectory: String
        /// Where durable deliveries are kept.
        ///
        /// Default ``StoreLocation/journal``, the file journal; ``StoreLocation/postgres(_:schema:lease:)``
        /// shares one store between several instances. Unused in ``AcknowledgementMode/inMemory``.
        public var store: StoreLocation = .journal
        /// The journal's limits and retention; used unless the mode is ``AcknowledgementMode/inMemory``.
        ///
        /// With ``StoreLocation/postgres(_:schema:lease:)``, its dropped headers, de-duplication window
        /// and retention periods apply; its size bound does not.
        public var journal = Journal.Configuration()
        /// Handler concurrency, time budget and retries.
        public var dispatcher = DispatcherConfiguration()
        /// The monotonic clock, in nanoseconds; replace it in tests.
        public var clock: @Sendable () -> UInt64 = monotonicNanoseconds

        /// Where durable deliveries are kept.
        public enum StoreLocation: Sendable, Hashable {
            /// The file journal in ``WebhookListener/Configuration/journalDirectory``, on this machine.
            case journal
            /// Tables in `schema` of a PostgreSQL database, shared by every instance given the same
            /// URL and schema: de-duplication and delivery ids span them all. The schema is
            /// created or migrated at start. A pending delivery is leased to the instance handling
            /// it; one not renewed for `lease` (an instance that died) is taken over by another.
            case postgres(PostgresURL, schema: String = "prompt_events", lease: Duration = .seconds(30))
        }

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - host: The host to bind; default `127.0.0.1`.
        ///   - port: The port; default 8080, 0 for any free port.
        ///   - journalDirectory: Where the journal lives; default `.prompt-listen/journal`.
        public init(host: String = "127.0.0.1", port: Int = 8080, journalDirectory: String = ".prompt-listen/journal") {
            self.host = host
            self.port = port
            self.journalDirectory = journalDirectory
        }
    }
}

/// `CLOCK_MONOTONIC` in nanoseconds.
@Sendable
func monotonicNanoseconds() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
}
