import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A TCP client that sends exact bytes and reads what comes back, for tests that need control
/// over every byte (pipelining, malformed requests, slow clients).
///
/// Reads block in `recv` (up to 5 s), so they run on a Dispatch thread, not on the cooperative
/// pool: with two cores the pool has two threads, and two tests blocked in reads would starve the
/// handlers an after-handlers server must run before it can answer them.
final class RawClient: @unchecked Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress.map { $0 + offset }, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if count <= 0 { return }
            offset += count
        }
    }

    /// Reads until `predicate` holds for what was read, the peer closes, or the timeout passes.
    func read(until predicate: @escaping @Sendable (String) -> Bool = { _ in false }) async -> (
        text: String, closed: Bool
    ) {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: self.blockingRead(until: predicate)) }
        }
    }

    private func blockingRead(until predicate: (String) -> Bool) -> (text: String, closed: Bool) {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                data += buffer[0..<count]
                if predicate(String(decoding: data, as: UTF8.self)) {
                    return (String(decoding: data, as: UTF8.self), false)
                }
            } else {
                return (String(decoding: data, as: UTF8.self), count == 0)
            }
        }
    }

    /// Reads until `count` complete responses with Content-Length bodies have arrived.
    func readResponses(_ count: Int) async -> [String] {
        let text = await read { text in Self.split(text).count >= count }.text
        return Self.split(text)
    }

    static func split(_ text: String) -> [String] {
        var responses: [String] = []
        var rest = Substring(text)
        while let headEnd = rest.range(of: "\r\n\r\n") {
            let head = rest[..<headEnd.lowerBound]
            let length =
                head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            let bodyStart = headEnd.upperBound
            guard rest.distance(from: bodyStart, to: rest.endIndex) >= length else { break }
            let end = rest.index(bodyStart, offsetBy: length)
            responses.append(String(rest[..<end]))
            rest = rest[end...]
        }
        return responses
    }
}
