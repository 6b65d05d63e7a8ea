#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call: which call, and the `errno` read immediately after it.
public struct SystemCallError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The call that failed, for example `bind`.
    public let call: String
    /// The `errno` value it set.
    public let errno: Int32

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - call: The call's name.
    ///   - errno: The error number.
    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    /// `call failed: message (errno N)`.
    public var description: String {
        "\(call) failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// Runs a system call, retrying on `EINTR` and reading `errno` at once on failure.
///
/// `errno` is captured before anything else runs, since ARC traffic or another call could
/// otherwise overwrite it.
///
/// - Parameters:
///   - call: The call's name, for the error.
///   - body: The call.
/// - Returns: The call's non-negative result.
/// - Throws: ``SystemCallError`` for any failure other than `EINTR`.
@inline(__always)
func systemCall<Result: FixedWidthInteger>(
    _ call: StaticString,
    _ body: () -> Result
) throws(SystemCallError) -> Result {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = errno
        if code != EINTR { throw SystemCallError(call: "\(call)", errno: code) }
    }
}
