/// The file-system calls the journal makes, as a seam for tests.
///
/// ``POSIXFileSystem`` forwards each requirement to the system call of the same name.
/// ``InMemoryFileSystem`` keeps files in memory and distinguishes what was written from what was
/// made durable, so a test can drop everything not yet synced with
/// ``InMemoryFileSystem/simulateCrash()``.
///
/// Descriptors are plain integers owned by the caller, which closes each exactly once.
/// Requirements throw ``FileSystemError``, carrying the call's name and `errno`.
package protocol FileSystem: Sendable {
    /// Creates a directory, failing with `EEXIST` when something already exists at `path`.
    ///
    /// - Parameters:
    ///   - path: The directory to create; its parent must exist.
    ///   - mode: The permission bits, applied exactly (not filtered by the umask).
    /// - Throws: ``FileSystemError`` from `mkdir(2)` or `chmod(2)`.
    func createDirectory(at path: String, mode: UInt32) throws(FileSystemError)

    /// Returns the permission bits of an existing file or directory, or `nil` when absent.
    ///
    /// - Parameter path: The path to examine.
    /// - Returns: The permission bits (for example `0o700`), or `nil` when nothing exists there.
    /// - Throws: ``FileSystemError`` from `stat(2)` for any error other than `ENOENT`.
    func permissions(at path: String) throws(FileSystemError) -> UInt32?

    /// Sets the permission bits of a file or directory.
    ///
    /// - Parameters:
    ///   - path: The path to change.
    ///   - mode: The new permission bits.
    /// - Throws: ``FileSystemError`` from `chmod(2)`.
    func setPermissions(at path: String, mode: UInt32) throws(FileSystemError)

    /// Opens a file.
    ///
    /// - Parameters:
    ///   - path: The file to open.
    ///   - options: How to open it.
    ///   - mode: The permission bits of a file this call creates, applied exactly.
    /// - Returns: A descriptor the caller must close.
    /// - Throws: ``FileSystemError`` from `open(2)`.
    func open(_ path: String, options: FileOpenOptions, mode: UInt32) throws(FileSystemError) -> Int32

    /// Opens a directory for `fsync` (`O_RDONLY | O_DIRECTORY`).
    ///
    /// - Parameter path: The directory.
    /// - Returns: A descriptor the caller must close.
    /// - Throws: ``FileSystemError`` from `open(2)`.
    func openDirectory(_ path: String) throws(FileSystemError) -> Int32

    /// Closes a descriptor, ignoring errors.
    ///
    /// - Parameter descriptor: The descriptor to close.
    func close(_ descriptor: Int32)

    /// Writes some of `bytes` at `offset`, returning how many were written (`pwrite(2)`).
    ///
    /// - Parameters:
    ///   - descriptor: An open file.
    ///   - bytes: The bytes to write.
    ///   - offset: Where in the file to write them.
    /// - Returns: How many bytes were written; fewer than asked is possible.
    /// - Throws: ``FileSystemError`` (for example `ENOSPC` or `EIO`).
    func pwrite(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws(FileSystemError) -> Int

    /// Reads up to `buffer.count` bytes at `offset`, returning how many were read (`pread(2)`).
    ///
    /// - Parameters:
    ///   - descriptor: An open file.
    ///   - buffer: Where to put the bytes.
    ///   - offset: Where in the file to start.
    /// - Returns: How many bytes were read; 0 at the end of the file.
    /// - Throws: ``FileSystemError`` from `pread(2)`.
    func pread(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(FileSystemError)
        -> Int

    /// Makes a file's data durable (`fdatasync(2)`).
    ///
    /// - Parameter descriptor: An open file.
    /// - Throws: ``FileSystemError``; after a failure the file's unsynced data may be lost. Also
    ///   `ENOENT` when the file no longer has a name (it was deleted while open).
    func fdatasync(_ descriptor: Int32) throws(FileSystemError)

    /// Makes a file's data and metadata durable; on a directory, its entries (`fsync(2)`).
    ///
    /// - Parameter descriptor: An open file or directory.
    /// - Throws: ``FileSystemError`` from `fsync(2)`.
    func fsync(_ descriptor: Int32) throws(FileSystemError)

    /// Sets a file's length (`ftruncate(2)`).
    ///
    /// - Parameters:
    ///   - descriptor: A file open for writing.
    ///   - length: The new length in bytes.
    /// - Throws: ``FileSystemError`` from `ftruncate(2)`.
    func ftruncate(_ descriptor: Int32, length: Int) throws(FileSystemError)

    /// The current length of an open file (`fstat(2)`).
    ///
    /// - Parameter descriptor: An open file.
    /// - Returns: The length in bytes.
    /// - Throws: ``FileSystemError`` from `fstat(2)`.
    func size(of descriptor: Int32) throws(FileSystemError) -> Int

    /// Renames a file, replacing any file at `destination` (`rename(2)`).
    ///
    /// - Parameters:
    ///   - source: The current path.
    ///   - destination: The new path.
    /// - Throws: ``FileSystemError`` from `rename(2)`.
    func rename(_ source: String, to destination: String) throws(FileSystemError)

    /// Removes a file (`unlink(2)`).
    ///
    /// - Parameter path: The file to remove.
    /// - Throws: ``FileSystemError`` from `unlink(2)`.
    func unlink(_ path: String) throws(FileSystemError)

    /// The names of the entries in a directory, without `.` and `..`, in no particular order.
    ///
    /// - Parameter path: The directory.
    /// - Returns: The entry names.
    /// - Throws: ``FileSystemError`` from `opendir(3)`.
    func contentsOfDirectory(_ path: String) throws(FileSystemError) -> [String]

    /// Tries to take an exclusive advisory lock on an open file without waiting (`flock(2)`).
    ///
    /// The lock is released when the descriptor is closed.
    ///
    /// - Parameter descriptor: An open file.
    /// - Returns: `true` when the lock was taken, `false` when another holder has it.
    /// - Throws: ``FileSystemError`` for any other failure.
    func tryLockExclusively(_ descriptor: Int32) throws(FileSystemError) -> Bool
}

/// How ``FileSystem/open(_:options:mode:)`` opens a file.
package struct FileOpenOptions: OptionSet, Sendable, Hashable {
    /// The raw bits.
    package var rawValue: UInt8

    /// Creates options from raw bits.
    ///
    /// - Parameter rawValue: The bits.
    package init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// Open for reading and writing; without it, read only.
    package static let readWrite = FileOpenOptions(rawValue: 1 << 0)
    /// Create the file when it does not exist.
    package static let create = FileOpenOptions(rawValue: 1 << 1)
    /// With ``create``, fail with `EEXIST` when the file exists.
    package static let exclusive = FileOpenOptions(rawValue: 1 << 2)
}

/// A failed file-system call: which call, on which path, and the `errno` it set.
package struct FileSystemError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The call that failed, for example `fdatasync`.
    package var call: String
    /// The path involved, when there is one.
    package var path: String?
    /// The `errno` value the call set.
    package var errno: Int32

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - call: The call that failed.
    ///   - path: The path involved, if any.
    ///   - errno: The error number.
    package init(call: String, path: String? = nil, errno: Int32) {
        self.call = call
        self.path = path
        self.errno = errno
    }

    /// The call, the path and the system's explanation of the error number.
    package var description: String {
        let subject = path.map { "\(call)(\($0))" } ?? call
        return "\(subject) failed: \(systemErrorMessage(errno)) (errno \(errno))"
    }
}

extension FileSystem {
    /// Writes all of `bytes` at `offset`, repeating `pwrite` after short writes.
    ///
    /// - Parameters:
    ///   - descriptor: An open file.
    ///   - bytes: The bytes to write.
    ///   - offset: Where in the file to write them.
    /// - Throws: ``FileSystemError``; some of the bytes may have been written.
    package func writeAll(_ descriptor: Int32, _ bytes: [UInt8], at offset: Int) throws(FileSystemError) {
        var written = 0
        while written < bytes.count {
            let count = try bytes.withUnsafeBytes { raw in
                Result { () throws(FileSystemError) -> Int in
                    try pwrite(descriptor, UnsafeRawBufferPointer(rebasing: raw[written...]), at: offset + written)
                }
            }.get()
            guard count > 0 else { throw FileSystemError(call: "pwrite", errno: ErrorNumber.io) }
            written += count
        }
    }

    /// Reads exactly `count` bytes at `offset`, or fewer when the file ends first.
    ///
    /// - Parameters:
    ///   - descriptor: An open file.
    ///   - count: How many bytes to read.
    ///   - offset: Where to start.
    /// - Returns: The bytes read.
    /// - Throws: ``FileSystemError`` from `pread`.
    package func read(_ descriptor: Int32, count: Int, at offset: Int) throws(FileSystemError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = try bytes.withUnsafeMutableBytes { raw in
                Result { () throws(FileSystemError) -> Int in
                    try pread(
                        descriptor,
                        into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...]),
                        at: offset + filled
                    )
                }
            }.get()
            if got == 0 { break }
            filled += got
        }
        if filled < count { bytes.removeLast(count - filled) }
        return bytes
    }
}
