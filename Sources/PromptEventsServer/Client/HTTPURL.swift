/// A plain `http://` URL: host, port and path.
///
/// HTTPS is deliberately not supported by the package's own client; use a command (`curl`) for HTTPS targets.
package struct HTTPURL: Sendable, Hashable, CustomStringConvertible {
    /// The host, without brackets for IPv6.
    package var host: String
    /// The port; 80 when the URL names none.
    package var port: Int
    /// The path and query, starting with `/`.
    package var path: String

    /// Parses `http://host[:port][/path]`.
    ///
    /// - Parameter text: The URL.
    /// - Throws: ``HTTPClientError`` explaining what is wrong with it.
    package init(_ text: String) throws(HTTPClientError) {
        guard text.lowercased().hasPrefix("http://") else {
            if text.lowercased().hasPrefix("https://") {
                throw HTTPClientError(
                    "'\(text)' is HTTPS, which the built-in client does not speak; "
                        + "use --exec with curl for HTTPS targets."
                )
            }
            throw HTTPClientError("'\(text)' is not an http:// URL.")
        }
        let rest = text.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        var path = String(rest.dropFirst(authority.count))
        if path.isEmpty || path.hasPrefix("?") { path = "/" + path }
        var host = String(authority)
        var port = 80
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else {
                throw HTTPClientError("'\(text)' has an unclosed IPv6 bracket.")
            }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") {
                guard let parsed = Int(after.dropFirst()), (1...65535).contains(parsed) else {
                    throw HTTPClientError("'\(text)' has an invalid port.")
                }
                port = parsed
            }
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if let colon = host.lastIndex(of: ":") {
            guard let parsed = Int(host[host.index(after: colon)...]), (1...65535).contains(parsed) else {
                throw HTTPClientError("'\(text)' has an invalid port.")
            }
            port = parsed
            host = String(host[..<colon])
        }
        guard !host.isEmpty, HTTPSyntax.isFieldValue(host), HTTPSyntax.isRequestTarget(path) else {
            throw HTTPClientError("'\(text)' is not a valid http:// URL.")
        }
        self.host = host
        self.port = port
        self.path = path
    }

    /// The `Host` header value.
    package var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == 80 ? name : "\(name):\(port)"
    }

    /// The URL with `path` appended below this URL's path, for example the event path.
    ///
    /// - Parameter suffix: The path to append, with or without a leading slash.
    /// - Returns: The combined URL.
    package func appending(path suffix: String) -> HTTPURL {
        var copy = self
        let base = path.hasSuffix("/") ? String(path.dropLast()) : path
        copy.path = base + (suffix.hasPrefix("/") ? suffix : "/" + suffix)
        return copy
    }

    /// `http://host:port/path`.
    package var description: String { "http://\(hostHeader)\(path)" }
}

/// A failure of the built-in HTTP client, in one sentence.
package struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    package let message: String

    /// Creates an error.
    ///
    /// - Parameter message: One sentence.
    package init(_ message: String) { self.message = message }

    /// The message.
    package var description: String { message }
}
