#if os(Linux)
import Glibc
package import PromptEvents

/// A small blocking HTTP/1.1 client for `http://` targets, with keep-alive and timeouts.
///
/// Used by `prompt-listen send` and `--forward-to`. It is blocking: call it from a thread of
/// its own (``HTTPClient/sendAsync(method:url:headers:body:timeout:)`` hops to Dispatch so no
/// Swift concurrency thread is blocked). One client holds at most one connection and is not
/// thread-safe: use one per thread.
package final class HTTPClient {
    private var fd: Int32 = -1
    private var connectedTo: HTTPURL?

    /// Creates a client with no connection yet.
    package init() {}

    deinit { disconnect() }

    /// Sends a request and waits for the whole response.
    ///
    /// A kept-alive connection to the same host and port is reused; if the server had closed it,
    /// the request is retried once on a fresh connection.
    ///
    /// - Parameters:
    ///   - method: The method, for example `POST`.
    ///   - url: The target.
    ///   - headers: Header fields (the client adds `Host` and `Content-Length`).
    ///   - body: The exact body bytes.
    ///   - timeout: The time allowed for connecting, sending and receiving.
    /// - Returns: The response.
    /// - Throws: ``HTTPClientError`` for connection failures, timeouts and malformed responses.
    package func send(
        method: String,
        url: HTTPURL,
        headers: Headers,
        body: [UInt8],
        timeout: Duration = .seconds(10)
    ) throws(HTTPClientError) -> ResponseParser.Response {
        let request = serializeRequest(
            method: method,
            target: url.path,
            host: url.hostHeader,
            headers: headers,
            body: body
        )
        let reused = fd >= 0 && connectedTo?.host == url.host && connectedTo?.port == url.port
        do {
            return try exchange(request, method: method, url: url, timeout: timeout)
        } catch {
            disconnect()
            guard reused else { throw error }
            return try exchange(request, method: method, url: url, timeout: timeout)
        }
    }

    /// ``send(method:url:headers:body:timeout:)`` on a Dispatch thread, for async callers.
    ///
    /// - Parameters:
    ///   - method: The method.
    ///   - url: The target.
    ///   - headers: Header fields.
    ///   - body: The body bytes.
    ///   - timeout: The time allowed.
    /// - Returns: The response.
    /// - Throws: ``HTTPClientError``.
    package static func sendAsync(
        method: String,
        url: HTTPURL,
        headers: Headers,
        body: [UInt8],
        timeout: Duration = .seconds(10)
    ) async throws(HTTPClientError) -> ResponseParser.Response {
        let result: Result<ResponseParser.Response, HTTPClientError> = await withCheckedContinuation { continuation in
            BlockingWork.run {
                let client = HTTPClient()
                do throws(HTTPClientError) {
                    continuation.resume(
                        returning: .success(
                            try client.send(method: method, url: url, headers: headers, body: body, timeout: timeout)
                        )
                    )
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    private func exchange(
        _ request: [UInt8],
        method: String,
        url: HTTPURL,
        timeout: Duration
    ) throws(HTTPClientError) -> ResponseParser.Response {
        let deadline = monotonicNanoseconds() &+ timeout.nanoseconds
        if fd < 0 || connectedTo?.host != url.host || connectedTo?.port != url.port {
            disconnect()
            try connect(url, deadline: deadline)
        }
        var offset = 0
        while offset < request.count {
            try waitFor(writing: true, deadline: deadline, url: url)
            let result = request.withUnsafeBytes { Socket.send(fd, UnsafeRawBufferPointer(rebasing: $0[offset...])) }
            switch result {
            case .bytes(let count): offset += count
            case .wouldBlock: continue
            case .endOfFile, .failed:
                throw HTTPClientError("The connection to \(url.hostHeader) was closed while sending.")
            }
        }
        var parser = ResponseParser(requestMethod: method)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            do {
                if let response = try parser.next() {
                    if !response.keepAlive { disconnect() }
                    return response
                }
            } catch {
                throw HTTPClientError("The response from \(url.hostHeader) is malformed: \(error).")
            }
            try waitFor(writing: false, deadline: deadline, url: url)
            let result = buffer.withUnsafeMutableBytes { Socket.read(fd, into: $0) }
            switch result {
            case .bytes(let count):
                buffer.withUnsafeBytes { parser.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            case .wouldBlock:
                continue
            case .endOfFile, .failed:
                let finished: ResponseParser.Response?
                do {
                    finished = try parser.finish()
                } catch {
                    throw HTTPClientError(
                        "The connection to \(url.hostHeader) closed before the response was complete."
                    )
                }
                disconnect()
                guard let finished else {
                    throw HTTPClientError("The connection to \(url.hostHeader) closed without a response.")
                }
                return finished
            }
        }
    }

    private func connect(_ url: HTTPURL, deadline: UInt64) throws(HTTPClientError) {
        do {
            let address = try SocketAddress.resolve(host: url.host, port: url.port)
            fd = try Socket.connect(to: address)
        } catch {
            throw HTTPClientError("Cannot connect to \(url.hostHeader): \(error).")
        }
        try waitFor(writing: true, deadline: deadline, url: url)
        let code = Socket.pendingError(fd)
        guard code == 0 else {
            disconnect()
            throw HTTPClientError("Cannot connect to \(url.hostHeader): \(String(cString: strerror(code))).")
        }
        connectedTo = url
    }

    private func waitFor(writing: Bool, deadline: UInt64, url: HTTPURL) throws(HTTPClientError) {
        let now = monotonicNanoseconds()
        guard now < deadline,
            Socket.wait(
                fd,
                forWriting: writing,
                timeoutMilliseconds: Int32(min((deadline - now) / 1_000_000 + 1, 60_000))
            )
        else {
            disconnect()
            throw HTTPClientError("Timed out waiting for \(url.hostHeader).")
        }
    }

    private func disconnect() {
        if fd >= 0 { Socket.close(fd) }
        fd = -1
        connectedTo = nil
    }
}
#endif
