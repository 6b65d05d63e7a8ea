import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a shell command with `posix_spawn`, feeding it bytes on stdin and capturing a bounded
/// amount of its output, with a timeout that kills its whole process group.
enum CommandRunner {
    /// How a command ended.
    struct Result: Sendable {
        /// The exit status, when it exited.
        var exitStatus: Int32?
        /// The signal that ended it, when one did.
        var signal: Int32?
        /// Whether it was killed for running past its timeout.
        var timedOut = false
        /// Its stdout and stderr, interleaved, up to the capture limit.
        var output: [UInt8] = []
        /// Whether output beyond the limit was dropped.
        var truncated = false

        /// Whether it exited with status 0.
        var succeeded: Bool { exitStatus == 0 && !timedOut }

        /// A short account for logs, for example `exit status 3`.
        var summary: String {
            if timedOut { return "timed out (process group killed)" }
            if let signal { return "killed by signal \(signal)" }
            return "exit status \(exitStatus ?? -1)"
        }
    }

    /// Runs `/bin/sh -c command` without blocking a Swift concurrency thread.
    static func run(
        _ command: String,
        input: [UInt8],
        environment: [String: String],
        timeout: Duration,
        outputLimit: Int = 64 * 1024
    ) async -> Result {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    returning: runBlocking(
                        command,
                        input: input,
                        environment: environment,
                        timeout: timeout,
                        outputLimit: outputLimit
                    )
                )
            }
        }
    }

    /// The blocking implementation; runs on a Dispatch worker thread.
    static func runBlocking(
        _ command: String,
        input: [UInt8],
        environment: [String: String],
        timeout: Duration,
        outputLimit: Int
    ) -> Result {
        var result = Result()
        var stdinPipe: [Int32] = [-1, -1]
        var outputPipe: [Int32] = [-1, -1]
        guard pipe(&stdinPipe) == 0 else { return failure("pipe: \(String(cString: strerror(errno)))") }
        guard pipe(&outputPipe) == 0 else {
            close(stdinPipe[0])
            close(stdinPipe[1])
            return failure("pipe: \(String(cString: strerror(errno)))")
        }
        for fd in stdinPipe + outputPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], STDIN_FILENO)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], STDOUT_FILENO)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], STDERR_FILENO)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, so a timeout can kill the command and everything it started;
        // default signal handling, since ignored signals (our SIGPIPE) survive exec.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes,
            Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        )

        let arguments = ["/bin/sh", "-c", command]
        let environmentEntries = environment.map { "\($0.key)=\($0.value)" }
        var pid = pid_t()
        let spawnError = withCStrings(arguments) { argv in
            withCStrings(environmentEntries) { envp in
                posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, envp)
            }
        }
        close(stdinPipe[0])
        close(outputPipe[1])
        guard spawnError == 0 else {
            close(stdinPipe[1])
            close(outputPipe[0])
            return failure("posix_spawn: \(String(cString: strerror(spawnError)))")
        }

        let deadline =
            monotonicMilliseconds() + Int64(timeout.components.seconds * 1000)
            + Int64(timeout.components.attoseconds / 1_000_000_000_000_000)
        _ = fcntl(stdinPipe[1], F_SETFL, fcntl(stdinPipe[1], F_GETFL) | O_NONBLOCK)
        var inputOffset = 0
        var stdinOpen = true
        if input.isEmpty {
            close(stdinPipe[1])
            stdinOpen = false
        }
        var outputOpen = true
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while outputOpen || stdinOpen {
            let remaining = deadline - monotonicMilliseconds()
            if remaining <= 0 {
                result.timedOut = true
                break
            }
            var fds: [pollfd] = []
            if outputOpen { fds.append(pollfd(fd: outputPipe[0], events: Int16(POLLIN), revents: 0)) }
            if stdinOpen { fds.append(pollfd(fd: stdinPipe[1], events: Int16(POLLOUT), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(remaining, 1000)))
            if ready < 0 && errno != EINTR { break }
            for entry in fds where entry.revents != 0 {
                if entry.fd == outputPipe[0] {
                    let count = chunk.withUnsafeMutableBytes { read(outputPipe[0], $0.baseAddress, $0.count) }
                    if count > 0 {
                        let room = max(0, outputLimit - result.output.count)
                        result.output.append(contentsOf: chunk[0..<min(count, room)])
                        if count > room { result.truncated = true }
                    } else if count == 0 || errno != EINTR {
                        outputOpen = false
                    }
                } else {
                    let count = input.withUnsafeBytes { buffer in
                        write(stdinPipe[1], buffer.baseAddress.map { $0 + inputOffset }, buffer.count - inputOffset)
                    }
                    if count > 0 { inputOffset += count }
                    if inputOffset == input.count || (count < 0 && errno != EAGAIN && errno != EINTR) {
                        close(stdinPipe[1])
                        stdinOpen = false
                    }
                }
            }
        }
        if stdinOpen { close(stdinPipe[1]) }
        close(outputPipe[0])
        if result.timedOut { kill(-pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if result.timedOut {
            // The shell may have exited while its children run on: make sure the group is gone.
            kill(-pid, SIGKILL)
        }
        let signalNumber = status & 0x7F
        if signalNumber == 0 {
            result.exitStatus = (status >> 8) & 0xFF
        } else {
            result.signal = signalNumber
        }
        return result
    }

    private static func failure(_ message: String) -> Result {
        Result(exitStatus: 127, output: Array(message.utf8))
    }

    private static func monotonicMilliseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}

/// Calls `body` with a NULL-terminated C array of the strings.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeBufferPointer { buffer in
        body(buffer.baseAddress.unsafelyUnwrapped)
    }
}
