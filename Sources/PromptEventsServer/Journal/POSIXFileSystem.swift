#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The real file system: each requirement of ``FileSystem`` is one system call, retried on `EINTR`.
///
/// Descriptors are opened with `O_CLOEXEC`. On Linux `fdatasync` is `fdatasync(2)`; on Darwin,
/// where it is not exported, it is `fsync(2)`.
package struct POSIXFileSystem: FileSystem {
    /// Creates the file system.
    package init() {}

    package func createDirectory(at path: String, mode: UInt32) throws(FileSystemError) {
        try check("mkdir", path) { mkdir(path, mode_t(mode)) }
        try setPermissions(at: path, mode: mode)
    }

    package func permissions(at path: String) throws(FileSystemError) -> UInt32? {
        var info = stat()
        while stat(path, &info) != 0 {
            let code = errno
            if code == EINTR { continue }
            if code == ENOENT { return nil }
            throw FileSystemError(call: "stat", path: path, errno: code)
        }
        return UInt32(info.st_mode) & 0o7777
    }

    package func setPermissions(at path: String, mode: UInt32) throws(FileSystemError) {
        try check("chmod", path) { chmod(path, mode_t(mode)) }
    }

    package func open(_ path: String, options: FileOpenOptions, mode: UInt32) throws(FileSystemError) -> Int32 {
        var flags = O_CLOEXEC | (options.contains(.readWrite) ? O_RDWR : O_RDONLY)
        if options.contains(.create) { flags |= O_CREAT }
        if options.contains(.exclusive) { flags |= O_EXCL }
        let descriptor = try check("open", path) { systemOpen(path, flags, mode_t(mode)) }
        if options.contains(.create) {
            // The umask may have narrowed `mode`; apply it exactly. Never widens beyond `mode`.
            _ = fchmod(descriptor, mode_t(mode))
        }
        return descriptor
    }

    package func openDirectory(_ path: String) throws(FileSystemError) -> Int32 {
        try check("open", path) { systemOpen(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0) }
    }

    package func close(_ descriptor: Int32) {
        _ = systemClose(descriptor)
    }

    package func pwrite(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws(FileSystemError)
        -> Int
    {
        try check("pwrite") { systemPwrite(descriptor, bytes.baseAddress, bytes.count, off_t(offset)) }
    }

    package func pread(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int)
        throws(FileSystemError) -> Int
    {
        try check("pread") { systemPread(descriptor, buffer.baseAddress, buffer.count, off_t(offset)) }
    }

    package func fdatasync(_ descriptor: Int32) throws(FileSystemError) {
        try check("fdatasync") { systemFdatasync(descriptor) }
        // Data synced into a file that no longer has a name (its journal directory was deleted
        // under a running server) will not be found again: that is not durable.
        var status = stat()
        if fstat(descriptor, &status) == 0, status.st_nlink == 0 {
            throw FileSystemError(call: "fdatasync", path: nil, errno: ENOENT)
        }
    }

    package func fsync(_ descriptor: Int32) throws(FileSystemError) {
        try check("fsync") { systemFsync(descriptor) }
    }

    package func ftruncate(_ descriptor: Int32, length: Int) throws(FileSystemError) {
        try check("ftruncate") { systemFtruncate(descriptor, off_t(length)) }
    }

    package func size(of descriptor: Int32) throws(FileSystemError) -> Int {
        var info = stat()
        try check("fstat") { fstat(descriptor, &info) }
        return Int(info.st_size)
    }

    package func rename(_ source: String, to destination: String) throws(FileSystemError) {
        try check("rename", source) { systemRename(source, destination) }
    }

    package func unlink(_ path: String) throws(FileSystemError) {
        try check("unlink", path) { systemUnlink(path) }
    }

    package func contentsOfDirectory(_ path: String) throws(FileSystemError) -> [String] {
        guard let directory = opendir(path) else {
            throw FileSystemError(call: "opendir", path: path, errno: errno)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            var raw = entry.pointee.d_name
            let name = withUnsafeBytes(of: &raw) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    package func tryLockExclusively(_ descriptor: Int32) throws(FileSystemError) -> Bool {
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            if code == EWOULDBLOCK { return false }
            throw FileSystemError(call: "flock", errno: code)
        }
        return true
    }

    /// Runs a call until it does not fail with `EINTR`, reading `errno` at once on failure.
    @discardableResult
    private func check<Result: FixedWidthInteger>(
        _ call: String,
        _ path: String? = nil,
        _ body: () -> Result
    ) throws(FileSystemError) -> Result {
        while true {
            let result = body()
            guard result == -1 else { return result }
            let code = errno
            guard code == EINTR else { throw FileSystemError(call: call, path: path, errno: code) }
        }
    }
}

private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
    open(path, flags, mode)
}

private let systemClose = close
private let systemPwrite = pwrite
private let systemPread = pread
private let systemFsync = fsync
private let systemFtruncate = ftruncate
private let systemRename = rename
private let systemUnlink = unlink
#if canImport(Darwin)
private let systemFdatasync = fsync
#else
private let systemFdatasync = fdatasync
#endif

/// The `errno` values the journal and its in-memory file system name, without importing libc.
package enum ErrorNumber {
    /// `ENOENT`: no such file or directory.
    package static let noEntry: Int32 = ENOENT
    /// `EEXIST`: the file exists.
    package static let exists: Int32 = EEXIST
    /// `EBADF`: not an open descriptor.
    package static let badDescriptor: Int32 = EBADF
    /// `EWOULDBLOCK`: the operation would block (a lock is held).
    package static let wouldBlock: Int32 = EWOULDBLOCK
    /// `ENOSPC`: no space left on the device.
    package static let noSpace: Int32 = ENOSPC
    /// `EIO`: an input/output error.
    package static let io: Int32 = EIO
    /// `ENOTDIR`: not a directory.
    package static let notDirectory: Int32 = ENOTDIR
    /// `EISDIR`: is a directory.
    package static let isDirectory: Int32 = EISDIR
    /// `EACCES`: permission denied.
    package static let accessDenied: Int32 = EACCES
    /// `EROFS`: read-only file system.
    package static let readOnlyFileSystem: Int32 = EROFS
}

/// The system's message for an error number, for example "No space left on device".
///
/// - Parameter code: An `errno` value.
/// - Returns: The message.
func systemErrorMessage(_ code: Int32) -> String {
    guard let message = strerror(code) else { return "error \(code)" }
    return String(cString: message)
}

/// The id of this process, written into the journal's lock file for error messages.
///
/// - Returns: `getpid()`.
func currentProcessID() -> Int32 {
    getpid()
}
