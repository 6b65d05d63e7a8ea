import PromptEvents

/// The listener's own routes, answered by the event loop itself whatever the base path:
/// `GET`/`HEAD /` (the page Prompt.io's guide checks), `/healthz` and `/metrics`.
enum ReservedRoutes {
    /// What `/healthz` answers.
    enum Health: Equatable {
        case serving
        /// Shutdown began: a load balancer should stop sending here.
        case draining
        /// The store cannot be reached (PostgreSQL down); deliveries are answered 503 meanwhile.
        case storeUnavailable(String)
    }

    private static let paths: Set<String> = ["healthz", "metrics"]
    private static let rootRouting = EventRouting(basePath: "/")

    /// Whether a head is for the listener's own routes rather than an event.
    ///
    /// Everything on the metrics port is; on the main port `/` is the page for `GET` and `HEAD`
    /// only (a `POST` there is an event for the base path, its kind from `Prompt-EventType`),
    /// and `/healthz` and `/metrics` are reserved for every method.
    static func isReserved(_ head: RequestHead, role: ServerConnection.Role) -> Bool {
        if role == .metricsOnly { return true }
        let path = rootRouting.eventPath(target: head.originFormTarget) ?? ""
        let isPage = path.isEmpty && (head.method == "GET" || head.method == "HEAD")
        return isPage || paths.contains(path)
    }

    /// The answer to a reserved head.
    ///
    /// - Parameters:
    ///   - head: A head for which ``isReserved(_:role:)`` holds.
    ///   - role: The connection's role.
    ///   - health: What `/healthz` says: `200 ok`, or 503 while draining or while the store is
    ///     out of reach.
    ///   - metrics: The metrics to serve at `/metrics`, or `nil` when they are served elsewhere.
    /// - Returns: The response.
    static func answer(_ head: RequestHead, role: ServerConnection.Role, health: Health, metrics: Metrics?)
        -> WebhookResponse
    {
        let path = rootRouting.eventPath(target: head.originFormTarget) ?? ""
        // The metrics port serves two routes; anything else there is not found, whatever the method.
        if role == .metricsOnly, !paths.contains(path) {
            return WebhookResponse(status: 404, body: Array("Not Found\n".utf8))
        }
        guard head.method == "GET" || head.method == "HEAD" else {
            return WebhookResponse(
                status: 405,
                headers: ["Allow": "GET, HEAD"],
                body: Array("Method Not Allowed\n".utf8)
            )
        }
        switch path {
        case "healthz":
            switch health {
            case .serving:
                return WebhookResponse(status: 200, body: Array("ok\n".utf8))
            case .draining:
                return WebhookResponse(status: 503, headers: ["Retry-After": "5"], body: Array("draining\n".utf8))
            case .storeUnavailable(let why):
                return WebhookResponse(
                    status: 503,
                    headers: ["Retry-After": "5"],
                    body: Array("store unavailable: \(why)\n".utf8)
                )
            }
        case "metrics":
            guard let metrics else { return WebhookResponse(status: 404, body: Array("Not Found\n".utf8)) }
            return WebhookResponse(
                status: 200,
                headers: ["Content-Type": Metrics.prometheusContentType],
                body: Array(metrics.prometheusText().utf8)
            )
        case "" where role == .events:
            return WebhookResponse(
                status: 200,
                headers: ["Content-Type": "text/plain; charset=utf-8"],
                body: Array("Webhook Listener Running\n".utf8)
            )
        default:
            return WebhookResponse(status: 404, body: Array("Not Found\n".utf8))
        }
    }
}
