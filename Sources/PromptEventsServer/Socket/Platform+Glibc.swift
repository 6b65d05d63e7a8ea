#if os(Linux)
import CPromptEventsLinux
import Glibc

/// The socket calls the server and client use, on Linux.
///
/// All descriptors are non-blocking and close-on-exec; sends never raise SIGPIPE (`MSG_NOSIGNAL`).
enum Socket {
    /// The outcome of a non-blocking read or write.
    enum IOResult: Equatable {
        case bytes(Int)
        case wouldBlock
        case endOfFile
        case failed(Int32)
    }

    /// Creates a listening TCP socket with `SO_REUSEADDR` bound to `address`.
    static func listen(on address: SocketAddress, backlog: Int32) throws(SystemCallError) -> (
        fd: Int32, bound: SocketAddress
    ) {
        let fd = try systemCall("socket") {
            socket(address.family, cpe_sock_stream() | cpe_sock_nonblock() | cpe_sock_cloexec(), 0)
        }
        do {
            var one: Int32 = 1
            _ = try systemCall("setsockopt(SO_REUSEADDR)") {
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            }
            if address.isIPv6 {
                _ = try systemCall("setsockopt(IPV6_V6ONLY)") {
                    setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
                }
            }
            _ = try systemCall("bind") { address.withSockAddr { bind(fd, $0, $1) } }
            _ = try systemCall("listen") { Glibc.listen(fd, backlog) }
            return (fd, try localAddress(of: fd))
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    /// The address a socket is bound to (with the real port after binding port 0).
    static func localAddress(of fd: Int32) throws(SystemCallError) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try withUnsafeMutablePointer(to: &storage) { pointer throws(SystemCallError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address throws(SystemCallError) in
                try systemCall("getsockname") { getsockname(fd, address, &length) }
            }
        }
        let address = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress($0, length: length) }
        }
        guard let address else { throw SystemCallError(call: "getsockname", errno: EAFNOSUPPORT) }
        return address
    }

    /// Accepts one connection, non-blocking, with `TCP_NODELAY`; `nil` when none is waiting.
    static func accept(_ listener: Int32) throws(SystemCallError) -> Int32? {
        while true {
            let fd = cpe_accept4(listener, nil, nil, cpe_sock_nonblock() | cpe_sock_cloexec())
            if fd >= 0 {
                setNoDelay(fd)
                return fd
            }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return nil
            // The peer gave up before we accepted: not our failure, try the next one.
            case ECONNABORTED, EPROTO: continue
            case let code: throw SystemCallError(call: "accept4", errno: code)
            }
        }
    }

    /// Turns off Nagle's algorithm, so small responses leave at once.
    static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Reads what is available into `buffer`.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count > 0 { return .bytes(count) }
            if count == 0 { return .endOfFile }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            case let code: return .failed(code)
            }
        }
    }

    /// Sends as much of `bytes` as the socket takes now.
    static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> IOResult {
        while true {
            let count = Glibc.send(fd, bytes.baseAddress, bytes.count, cpe_msg_nosignal())
            if count >= 0 { return .bytes(count) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            case let code: return .failed(code)
            }
        }
    }

    /// Starts a non-blocking connect; completion is signalled by writability.
    static func connect(to address: SocketAddress) throws(SystemCallError) -> Int32 {
        let fd = try systemCall("socket") {
            socket(address.family, cpe_sock_stream() | cpe_sock_nonblock() | cpe_sock_cloexec(), 0)
        }
        let result = address.withSockAddr { Glibc.connect(fd, $0, $1) }
        if result < 0, errno != EINPROGRESS, errno != EINTR {
            let code = errno
            Glibc.close(fd)
            throw SystemCallError(call: "connect(\(address))", errno: code)
        }
        setNoDelay(fd)
        return fd
    }

    /// Starts a non-blocking connect to a Unix-domain stream socket.
    static func connect(unixPath path: String) throws(SystemCallError) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { throw SystemCallError(call: "connect(\(path))", errno: ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let fd = try systemCall("socket") {
            socket(AF_UNIX, cpe_sock_stream() | cpe_sock_nonblock() | cpe_sock_cloexec(), 0)
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if result < 0, errno != EINPROGRESS, errno != EINTR, errno != EAGAIN {
            let code = errno
            Glibc.close(fd)
            throw SystemCallError(call: "connect(\(path))", errno: code)
        }
        return fd
    }

    /// The pending error of a socket, after a non-blocking connect completes.
    static func pendingError(_ fd: Int32) -> Int32 {
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length)
        return code
    }

    /// Closes a descriptor; errors are ignored (the descriptor is gone either way).
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// Waits until `fd` is readable or writable, or `timeoutMilliseconds` pass.
    static func wait(_ fd: Int32, forWriting: Bool, timeoutMilliseconds: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(forWriting ? POLLOUT : POLLIN), revents: 0)
        while true {
            let result = poll(&entry, 1, timeoutMilliseconds)
            if result >= 0 { return result > 0 }
            if errno != EINTR { return false }
        }
    }
}

/// An epoll instance, level-triggered.
struct Epoll: ~Copyable {
    let fd: Int32

    init() throws(SystemCallError) {
        fd = try systemCall("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
    }

    deinit { Socket.close(fd) }

    static var readable: UInt32 { cpe_epollin() | cpe_epollrdhup() }
    static var writable: UInt32 { cpe_epollout() }
    static var hangUp: UInt32 { cpe_epollhup() | cpe_epollerr() | cpe_epollrdhup() }

    func add(_ target: Int32, events: UInt32) throws(SystemCallError) {
        var event = epoll_event()
        event.events = events
        event.data.fd = target
        _ = try systemCall("epoll_ctl(ADD)") { epoll_ctl(fd, EPOLL_CTL_ADD, target, &event) }
    }

    func modify(_ target: Int32, events: UInt32) {
        var event = epoll_event()
        event.events = events
        event.data.fd = target
        _ = epoll_ctl(fd, EPOLL_CTL_MOD, target, &event)
    }

    func remove(_ target: Int32) {
        var event = epoll_event()
        _ = epoll_ctl(fd, EPOLL_CTL_DEL, target, &event)
    }

    /// Waits for events; returns how many were written to `events` (0 on timeout or EINTR).
    func wait(_ events: UnsafeMutablePointer<epoll_event>, capacity: Int32, timeoutMilliseconds: Int32) -> Int {
        let count = epoll_wait(fd, events, capacity, timeoutMilliseconds)
        return count < 0 ? 0 : Int(count)
    }
}

/// An eventfd used to wake the loop from other threads.
struct WakeSignal: ~Copyable {
    let fd: Int32

    init() throws(SystemCallError) {
        fd = try systemCall("eventfd") { eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) }
    }

    deinit { Socket.close(fd) }

    func signal() {
        var one: UInt64 = 1
        _ = Glibc.write(fd, &one, 8)
    }

    func drain() {
        var value: UInt64 = 0
        _ = Glibc.read(fd, &value, 8)
    }
}
#endif
