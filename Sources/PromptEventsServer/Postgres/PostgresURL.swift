#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where a PostgreSQL server is and how to sign in: parsed from a `postgres://` URL.
///
/// ```text
/// postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE
/// postgres://USER@/DATABASE?host=/run/postgresql        (a Unix socket in that directory)
/// postgresql://…                                         (the same)
/// ```
///
/// The password comes from the URL, else `PGPASSWORD`, else the password file (`PGPASSFILE`,
/// default `~/.pgpass`, lines `host:port:database:user:password`). It is never part of
/// ``description``, of an error, or of a log line.
public struct PostgresURL: Sendable, Hashable, CustomStringConvertible {
    /// How to reach the server.
    public enum Endpoint: Sendable, Hashable {
        /// TCP to a host name or address.
        case tcp(host: String, port: Int)
        /// The Unix socket `DIRECTORY/.s.PGSQL.PORT`.
        case unixSocket(directory: String, port: Int)
    }

    /// How to reach the server.
    public var endpoint: Endpoint
    /// The user to sign in as.
    public var user: String
    /// The database.
    public var database: String
    /// The password, if one was found; never printed.
    var password: String?

    /// Whether a password was found (in the URL, the environment or the password file).
    package var hasPassword: Bool { password != nil }

    /// Parses a URL, reading the password from the environment or the password file when the
    /// URL has none.
    ///
    /// - Parameters:
    ///   - text: The URL, for example `postgres://prompt@127.0.0.1:5432/events`.
    ///   - environment: The process environment (`PGPASSWORD`, `PGPASSFILE`, `HOME`, `USER`).
    /// - Throws: ``PostgresError/Code/invalidConfiguration`` naming what is wrong (never the password).
    public init(_ text: String, environment: [String: String]) throws(PostgresError) {
        func invalid(_ why: String) -> PostgresError {
            PostgresError(.invalidConfiguration, "the PostgreSQL URL \(Self.redacted(text)) is not valid: \(why)")
        }
        guard let schemeEnd = Self.endOfScheme(text),
            ["postgres://", "postgresql://"].contains(text[..<schemeEnd].lowercased())
        else { throw invalid("it must begin with postgres:// or postgresql://") }
        var rest = Substring(text[schemeEnd...])
        var query: [String: String] = [:]
        if let mark = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: mark)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, let name = Self.decode(parts[0]), let value = Self.decode(parts[1]) else {
                    throw invalid("the query has a malformed parameter")
                }
                query[name] = value
            }
            rest = rest[..<mark]
        }
        let authority: Substring
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            guard let database = Self.decode(rest[rest.index(after: slash)...]) else {
                throw invalid("the database name is malformed")
            }
            self.database = database
        } else {
            authority = rest
            self.database = ""
        }
        var hostPort = authority
        var user: String?
        if let at = authority.lastIndex(of: "@") {
            let credentials = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            let parts = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            user = Self.decode(parts[0])
            if parts.count == 2 {
                guard let password = Self.decode(parts[1]) else { throw invalid("the password is malformed") }
                self.password = password
            }
        }
        guard let user = user ?? query["user"] ?? environment["PGUSER"] ?? environment["USER"], !user.isEmpty else {
            throw invalid("it names no user")
        }
        self.user = user
        if database.isEmpty { database = query["dbname"] ?? user }
        var host = String(hostPort)
        var port = 5432
        if let colon = hostPort.lastIndex(of: ":"), !hostPort.hasSuffix("]") {
            guard let number = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(number) else {
                throw invalid("the port must be a number from 1 to 65535")
            }
            port = number
            host = String(hostPort[..<colon])
        }
        if let value = query["port"] {
            guard let number = Int(value), (1...65535).contains(number) else {
                throw invalid("the port must be a number from 1 to 65535")
            }
            port = number
        }
        if let directory = query["host"], directory.hasPrefix("/") {
            endpoint = .unixSocket(directory: directory, port: port)
        } else if host.isEmpty {
            guard query["host"] == nil else { throw invalid("host= must be a socket directory beginning with /") }
            throw invalid("it names no host (for a Unix socket, add ?host=/run/postgresql)")
        } else {
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            endpoint = .tcp(host: host, port: port)
        }
        if password == nil {
            password = environment["PGPASSWORD"] ?? Self.passwordFromFile(environment: environment, url: self)
        }
    }

    /// Parses a URL, with the password from this process's environment when the URL has none.
    ///
    /// - Parameter text: The URL.
    /// - Throws: ``PostgresError/Code/invalidConfiguration`` naming what is wrong.
    public init(_ text: String) throws(PostgresError) {
        try self.init(text, environment: ProcessInfo.processInfo.environment)
    }

    /// `postgres://USER@HOST:PORT/DATABASE`, without the password.
    public var description: String {
        switch endpoint {
        case .tcp(let host, let port):
            let shown = host.contains(":") ? "[\(host)]" : host
            return "postgres://\(user)@\(shown):\(port)/\(database)"
        case .unixSocket(let directory, let port):
            return "postgres://\(user)@/\(database)?host=\(directory)&port=\(port)"
        }
    }

    /// Whether the server is on this machine or a private network (RFC 1918, loopback, link
    /// local, unique local IPv6, or a Unix socket): traffic to it is not encrypted.
    public var isLoopbackOrPrivate: Bool {
        guard case .tcp(let host, _) = endpoint else { return true }
        let lowered = host.lowercased()
        if lowered == "localhost" || lowered == "::1" { return true }
        if lowered.contains(":") {
            // IPv6: unique local fc00::/7, link local fe80::/10.
            return ["fc", "fd", "fe8", "fe9", "fea", "feb"].contains { lowered.hasPrefix($0) }
        }
        let octets = host.split(separator: ".").compactMap { UInt8($0) }
        guard octets.count == 4 else { return false }
        switch (octets[0], octets[1]) {
        case (127, _), (10, _), (192, 168), (169, 254): return true
        case (172, let second): return (16...31).contains(second)
        default: return false
        }
    }

    /// The URL with any password replaced by `***`, for error messages.
    static func redacted(_ text: String) -> String {
        guard let schemeEnd = endOfScheme(text),
            let at = text[schemeEnd...].lastIndex(of: "@"),
            let colon = text[schemeEnd..<at].firstIndex(of: ":")
        else { return text }
        return String(text[..<text.index(after: colon)]) + "***" + String(text[at...])
    }

    /// The index just past `://`.
    private static func endOfScheme(_ text: String) -> String.Index? {
        var index = text.startIndex
        while index < text.endIndex {
            if text[index...].hasPrefix("://") { return text.index(index, offsetBy: 3) }
            if text[index] == "/" || text[index] == "@" { return nil }
            index = text.index(after: index)
        }
        return nil
    }

    /// Percent-decoding (RFC 3986 §2.1); `nil` for a malformed escape or bytes that are not UTF-8.
    private static func decode(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                return nil
            }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The first matching line of the password file (`*` matches anything), as libpq reads it.
    private static func passwordFromFile(environment: [String: String], url: PostgresURL) -> String? {
        guard let path = environment["PGPASSFILE"] ?? environment["HOME"].map({ $0 + "/.pgpass" }),
            let data = FileManager.default.contents(atPath: path)
        else { return nil }
        let (host, port): (String, Int) =
            switch url.endpoint {
            case .tcp(let host, let port): (host, port)
            case .unixSocket(_, let port): ("localhost", port)
            }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: ":", maxSplits: 4, omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 5 else { continue }
            let wanted = [host, String(port), url.database, url.user]
            if zip(fields, wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
        }
        return nil
    }
}
