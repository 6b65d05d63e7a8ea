#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file that could not be read.
struct FileError: Error, CustomStringConvertible {
    let path: String
    let errno: Int32
    var description: String { String(cString: strerror(errno)) }
}

/// Reads a whole file, or standard input for `-`.
func readFile(_ path: String) throws(FileError) -> [UInt8] {
    let fd = path == "-" ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw FileError(path: path, errno: errno) }
    defer { if fd != STDIN_FILENO { close(fd) } }
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count > 0 {
            result.append(contentsOf: chunk[0..<count])
        } else if count == 0 {
            return result
        } else if errno != EINTR {
            throw FileError(path: path, errno: errno)
        }
    }
}

/// The process environment.
func currentEnvironment() -> [String: String] {
    var result: [String: String] = [:]
    var pointer = environ
    while let entry = pointer.pointee {
        let text = String(cString: entry)
        if let equals = text.firstIndex(of: "=") {
            result[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        pointer += 1
    }
    return result
}

/// Writes text to a descriptor in full (used for stdout and stderr; no buffering surprises).
func writeAll(_ text: String, to fd: Int32) {
    writeAll(Array(text.utf8), to: fd)
}

/// Writes bytes to a descriptor in full.
func writeAll(_ bytes: [UInt8], to fd: Int32) {
    var offset = 0
    while offset < bytes.count {
        let count = bytes.withUnsafeBytes { buffer in
            write(fd, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
        }
        if count > 0 {
            offset += count
        } else if count < 0 && errno == EINTR {
            continue
        } else {
            return
        }
    }
}

/// Writes a line to standard error.
func printError(_ text: String) {
    writeAll(text + "\n", to: STDERR_FILENO)
}

/// Writes a line to standard output.
func printOutput(_ text: String) {
    writeAll(text + "\n", to: STDOUT_FILENO)
}

/// Writes bytes (a whole line, newline included) to standard output.
func writeOutput(_ bytes: [UInt8]) {
    writeAll(bytes, to: STDOUT_FILENO)
}
