#if canImport(Glibc)
import CPromptEventsLinux
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address and port.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// The numeric host, for example `127.0.0.1` or `::1`.
    public let host: String
    /// The port.
    public let port: Int
    /// Whether this is an IPv6 address.
    public let isIPv6: Bool

    /// `127.0.0.1:8080`, or `[::1]:8080` for IPv6.
    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The base URL for this address, for example `http://127.0.0.1:8080`.
    public var url: String { "http://\(description)" }

    /// Resolves a host (numeric, bracketed IPv6, `localhost` or a name) and port.
    ///
    /// - Parameters:
    ///   - host: The host, for example `127.0.0.1`, `::1`, `[::1]` or `localhost`.
    ///   - port: The port, 0–65535.
    /// - Returns: The resolved address.
    /// - Throws: ``SystemCallError`` (call `getaddrinfo`) when the host does not resolve.
    public static func resolve(host: String, port: Int) throws(SystemCallError) -> SocketAddress {
        var name = host
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name == "localhost" { name = "127.0.0.1" }
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, String(port), &hints, &result)
        guard status == 0, let first = result else {
            throw SystemCallError(call: "getaddrinfo(\(host))", errno: status == EAI_SYSTEM ? errno : EINVAL)
        }
        defer { freeaddrinfo(result) }
        guard let address = first.pointee.ai_addr,
            let resolved = SocketAddress(address, length: first.pointee.ai_addrlen)
        else {
            throw SystemCallError(call: "getaddrinfo(\(host))", errno: EAFNOSUPPORT)
        }
        return resolved
    }

    /// Reads an address from a `sockaddr`.
    init?(_ address: UnsafePointer<sockaddr>, length: socklen_t) {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            var v4 = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
            guard inet_ntop(AF_INET, &v4.sin_addr, &buffer, socklen_t(buffer.count)) != nil else { return nil }
            host = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            port = Int(UInt16(bigEndian: v4.sin_port))
            isIPv6 = false
        case AF_INET6:
            var v6 = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee }
            guard inet_ntop(AF_INET6, &v6.sin6_addr, &buffer, socklen_t(buffer.count)) != nil else { return nil }
            host = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            port = Int(UInt16(bigEndian: v6.sin6_port))
            isIPv6 = true
        default:
            return nil
        }
    }

    /// Calls `body` with this address as a `sockaddr`.
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        if isIPv6 {
            var v6 = sockaddr_in6()
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = UInt16(port).bigEndian
            _ = inet_pton(AF_INET6, host, &v6.sin6_addr)
            return withUnsafePointer(to: &v6) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
        var v4 = sockaddr_in()
        v4.sin_family = sa_family_t(AF_INET)
        v4.sin_port = UInt16(port).bigEndian
        _ = inet_pton(AF_INET, host, &v4.sin_addr)
        return withUnsafePointer(to: &v4) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    var family: Int32 { isIPv6 ? AF_INET6 : AF_INET }
}
