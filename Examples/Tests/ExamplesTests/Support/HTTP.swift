import Foundation
import PromptEvents

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An answer as the tests read it.
struct HTTPAnswer: Sendable {
    var status: Int
    var body: String
}

/// The tests' HTTP client: URLSession, with a timeout on every request.
enum HTTP {
    /// Sends one request and returns the status and body.
    static func send(
        _ method: String,
        _ urlText: String,
        headers: [(String, String)] = [],
        body: [UInt8]? = nil
    ) async throws -> HTTPAnswer {
        guard let url = URL(string: urlText) else { throw TestSetupError("bad URL \(urlText)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = 10
        for (name, value) in headers {
            request.addValue(value, forHTTPHeaderField: name)
        }
        if let body { request.httpBody = Data(body) }
        let (data, response) = try await URLSession.shared.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw TestSetupError("not an HTTP response") }
        return HTTPAnswer(status: http.statusCode, body: String(decoding: data, as: UTF8.self))
    }

    /// POSTs an event exactly as Prompt.io would: JSON, `Prompt-EventType`, and `X-Hub-Signature`
    /// made with `signingSecret` over the exact body bytes.
    static func postEvent(
        to baseURL: String,
        kind: String,
        body: String,
        signingSecret: Secret
    ) async throws -> HTTPAnswer {
        let bytes = Array(body.utf8)
        let signature = HubSignature.sign(bytes, secret: signingSecret)
        return try await send(
            "POST",
            baseURL + "/" + kind,
            headers: [
                ("Content-Type", "application/json"),
                ("Prompt-EventType", kind),
                (signature.name, signature.value),
            ],
            body: bytes
        )
    }
}
