import HTTPTypes
public import Hummingbird
import Logging
import NIOCore
public import PromptEvents

extension RouterMethods {
    /// Mounts a PromptEvents receiver: every `POST` to the receiver's base path, and below it,
    /// is handed to `receiver` with its method, target, headers and raw body bytes.
    ///
    /// The body is collected as bytes and never decoded or re-encoded before the receiver sees
    /// it, so `X-Hub-Signature` verifies over exactly what the sender signed. Do not put
    /// middleware that reads or rewrites request bodies in front of these routes.
    ///
    /// ```swift
    /// let router = Router()
    /// router.addPromptEvents(receiver)  // receiver.routing.basePath == "/prompt"
    /// ```
    ///
    /// - Parameters:
    ///   - receiver: The receiver, with its authentication, routing and handlers.
    ///   - maxBodyBytes: The largest body accepted; a larger one is answered `413`.
    /// - Returns: The router, for chaining.
    @discardableResult
    public func addPromptEvents(_ receiver: WebhookReceiver, maxBodyBytes: Int = 1 << 20) -> Self {
        let base = receiver.routing.basePath.split(separator: "/").joined(separator: "/")
        let respond: @Sendable (Request, Context) async throws -> Response = { request, context in
            let response = await PromptEventsRoute.respond(to: request, with: receiver, maxBodyBytes: maxBodyBytes)
            if response.status.code >= 400 {
                // The receiver's answers say little on purpose (every 401 reads "Unauthorized").
                context.logger.notice("Prompt.io event rejected: \(response.status.code) \(request.uri.path)")
            }
            return response
        }
        // The base path itself (the kind then comes from `Prompt-EventType`), and every kind below it.
        post(RouterPath(base), use: respond)
        post(RouterPath(base.isEmpty ? "**" : base + "/**"), use: respond)
        return self
    }
}

/// The translation between Hummingbird's request and response types and PromptEvents'.
enum PromptEventsRoute {
    /// Checks the head, collects the raw body, hands both to the receiver, and converts its answer.
    ///
    /// The route is resolved once, by `admitHead`; a request it refuses (401, 404, 405, 400)
    /// is answered without reading its body.
    static func respond(to request: Request, with receiver: WebhookReceiver, maxBodyBytes: Int) async -> Response {
        var headers = Headers()
        for field in request.headers {
            headers.append(name: field.name.rawName, value: field.value)
        }
        let method = request.method.rawValue
        let target = request.uri.string
        let answer: WebhookResponse
        switch receiver.admitHead(method: method, target: target, headers: headers) {
        case .failure(let rejection):
            answer = rejection.response
        case .success(let head):
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: maxBodyBytes)
            } catch is NIOTooManyBytesError {
                return Response(
                    status: .contentTooLarge,
                    body: ResponseBody(byteBuffer: ByteBuffer(string: "Too large\n"))
                )
            } catch {
                return Response(status: .badRequest, body: ResponseBody(byteBuffer: ByteBuffer(string: "Bad body\n")))
            }
            let delivery = Delivery(
                method: method,
                target: target,
                headers: headers,
                body: Array(body.readableBytesView)
            )
            switch receiver.admit(delivery, head: head) {
            case .rejected(let rejection):
                answer = rejection.response
            case .accepted(let event):
                let report = await receiver.dispatch(event)
                answer =
                    report.succeeded
                    ? WebhookResponse(status: 200, body: Array("OK\n".utf8))
                    : WebhookResponse(status: 500, body: Array("Handler failed\n".utf8))
            }
        }
        var fields = HTTPFields()
        for field in answer.headers {
            if let name = HTTPField.Name(field.name) {
                fields.append(HTTPField(name: name, value: field.value))
            }
        }
        return Response(
            status: HTTPResponse.Status(code: answer.status),
            headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body))
        )
    }
}
