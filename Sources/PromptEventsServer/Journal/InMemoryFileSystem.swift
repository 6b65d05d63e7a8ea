import PromptEvents

/// A ``FileSystem`` in memory that remembers which bytes and names were made durable.
///
/// Every file keeps two versions of its contents: what reads see (the "page cache") and what
/// `fdatasync`/`fsync` last made durable. Names in a directory likewise become durable only when
/// the directory itself is `fsync`ed; directories themselves are durable as soon as they are made.
/// ``simulateCrash()`` throws away everything that was not durable, closes every descriptor and
/// releases every lock, which is what a power cut does to a real disk.
///
/// Faults can be injected: ``failNextSync(errno:)`` makes the next sync fail, and
/// ``failWrites(errno:)`` makes writes fail (for example with `ENOSPC`).
///
/// Descriptors are never reused, so a stale descriptor of a crashed journal cannot touch the
/// files of a journal reopened after the crash.
package final class InMemoryFileSystem: FileSystem {
    private struct Node {
        var isDirectory: Bool
        var data: [UInt8] = []
        var durable: [UInt8] = []
        var mode: UInt32
        var lockHolder: Int32?
    }

    private struct OpenFile {
        var node: Int
        var path: String
        var isWritable: Bool
    }

    private struct State {
        var nodes: [Int: Node] = [0: Node(isDirectory: true, mode: 0o755)]
        var nextNode = 1
        var names: [String: Int] = ["/": 0]
        var durableNames: [String: Int] = ["/": 0]
        var descriptors: [Int32: OpenFile] = [:]
        var nextDescriptor: Int32 = 1000
        var syncFailures: [Int32] = []
        var writeFailure: Int32?
        var syncCount = 0

        func file(_ descriptor: Int32, call: String) throws(FileSystemError) -> OpenFile {
            guard let file = descriptors[descriptor] else {
                throw FileSystemError(call: call, errno: ErrorNumber.badDescriptor)
            }
            return file
        }

        mutating func sync(_ descriptor: Int32, call: String) throws(FileSystemError) {
            let file = try self.file(descriptor, call: call)
            if !syncFailures.isEmpty {
                throw FileSystemError(call: call, path: file.path, errno: syncFailures.removeFirst())
            }
            syncCount += 1
            guard let node = nodes[file.node] else { return }
            if node.isDirectory {
                let prefix = file.path == "/" ? "/" : file.path + "/"
                let isChild = { (name: String) in
                    name.hasPrefix(prefix) && name != prefix && !name.dropFirst(prefix.count).contains("/")
                }
                for name in durableNames.keys where isChild(name) && names[name] == nil {
                    durableNames[name] = nil
                }
                for (name, child) in names where isChild(name) {
                    durableNames[name] = child
                }
            } else {
                // As the POSIX file system: a file without a name is not durable.
                guard names.values.contains(file.node) else {
                    throw FileSystemError(call: call, path: file.path, errno: ErrorNumber.noEntry)
                }
                nodes[file.node]?.durable = node.data
            }
        }
    }

    private let state = Locked(State())

    /// Creates an empty file system containing only `/`, with `/tmp` as a convenience.
    package init() {
        state.withLock { state in
            state.nodes[1] = Node(isDirectory: true, mode: 0o777)
            state.names["/tmp"] = 1
            state.durableNames["/tmp"] = 1
            state.nextNode = 2
        }
    }

    // MARK: - Test controls

    /// Drops every byte and name that was not made durable, closes all descriptors and releases
    /// all locks, as a power cut would.
    package func simulateCrash() {
        state.withLock { state in
            state.names = state.durableNames
            let live = Set(state.names.values)
            for (id, node) in state.nodes {
                if live.contains(id) {
                    state.nodes[id]?.data = node.durable
                    state.nodes[id]?.lockHolder = nil
                } else {
                    state.nodes[id] = nil
                }
            }
            state.descriptors = [:]
        }
    }

    /// Makes the next sync (`fdatasync` or `fsync`) fail with `errno`, leaving the data unsynced.
    ///
    /// - Parameter errno: The error number to report, for example `EIO`.
    package func failNextSync(errno: Int32) {
        state.withLock { $0.syncFailures.append(errno) }
    }

    /// Makes every write fail with `errno` until called again with `nil`.
    ///
    /// - Parameter errno: The error number, for example `ENOSPC`, or `nil` to stop failing.
    package func failWrites(errno: Int32?) {
        state.withLock { $0.writeFailure = errno }
    }

    /// How many syncs (`fdatasync` or `fsync`, files and directories) have succeeded.
    package var syncCount: Int {
        state.withLock { $0.syncCount }
    }

    /// The bytes a read of `path` would see now, or `nil` when no such file exists.
    ///
    /// - Parameter path: A file path.
    /// - Returns: The current contents.
    package func contents(of path: String) -> [UInt8]? {
        state.withLock { state in
            state.names[path].flatMap { state.nodes[$0]?.data }
        }
    }

    /// Replaces the contents of a file, both current and durable, as if edited on disk.
    ///
    /// - Parameters:
    ///   - path: An existing file.
    ///   - bytes: The new contents.
    package func replaceContents(of path: String, with bytes: [UInt8]) {
        state.withLock { state in
            guard let node = state.names[path] else { return }
            state.nodes[node]?.data = bytes
            state.nodes[node]?.durable = bytes
        }
    }

    // MARK: - FileSystem

    package func createDirectory(at path: String, mode: UInt32) throws(FileSystemError) {
        try state.withLock { (state) throws(FileSystemError) in
            guard state.names[path] == nil else {
                throw FileSystemError(call: "mkdir", path: path, errno: ErrorNumber.exists)
            }
            guard let parent = state.names[Self.parent(of: path)], state.nodes[parent]?.isDirectory == true else {
                throw FileSystemError(call: "mkdir", path: path, errno: ErrorNumber.noEntry)
            }
            let node = state.nextNode
            state.nextNode += 1
            state.nodes[node] = Node(isDirectory: true, mode: mode)
            state.names[path] = node
            state.durableNames[path] = node
        }
    }

    package func permissions(at path: String) throws(FileSystemError) -> UInt32? {
        state.withLock { state in state.names[path].flatMap { state.nodes[$0]?.mode } }
    }

    package func setPermissions(at path: String, mode: UInt32) throws(FileSystemError) {
        try state.withLock { (state) throws(FileSystemError) in
            guard let node = state.names[path] else {
                throw FileSystemError(call: "chmod", path: path, errno: ErrorNumber.noEntry)
            }
            state.nodes[node]?.mode = mode
        }
    }

    package func open(_ path: String, options: FileOpenOptions, mode: UInt32) throws(FileSystemError) -> Int32 {
        try state.withLock { (state) throws(FileSystemError) -> Int32 in
            var node = state.names[path]
            if let existing = node {
                if options.contains(.create) && options.contains(.exclusive) {
                    throw FileSystemError(call: "open", path: path, errno: ErrorNumber.exists)
                }
                if state.nodes[existing]?.isDirectory == true && options.contains(.readWrite) {
                    throw FileSystemError(call: "open", path: path, errno: ErrorNumber.isDirectory)
                }
            } else {
                guard options.contains(.create) else {
                    throw FileSystemError(call: "open", path: path, errno: ErrorNumber.noEntry)
                }
                guard let parent = state.names[Self.parent(of: path)], state.nodes[parent]?.isDirectory == true else {
                    throw FileSystemError(call: "open", path: path, errno: ErrorNumber.noEntry)
                }
                let created = state.nextNode
                state.nextNode += 1
                state.nodes[created] = Node(isDirectory: false, mode: mode)
                state.names[path] = created
                node = created
            }
            guard let node else { throw FileSystemError(call: "open", path: path, errno: ErrorNumber.noEntry) }
            let descriptor = state.nextDescriptor
            state.nextDescriptor += 1
            state.descriptors[descriptor] = OpenFile(node: node, path: path, isWritable: options.contains(.readWrite))
            return descriptor
        }
    }

    package func openDirectory(_ path: String) throws(FileSystemError) -> Int32 {
        try state.withLock { (state) throws(FileSystemError) -> Int32 in
            guard let node = state.names[path] else {
                throw FileSystemError(call: "open", path: path, errno: ErrorNumber.noEntry)
            }
            guard state.nodes[node]?.isDirectory == true else {
                throw FileSystemError(call: "open", path: path, errno: ErrorNumber.notDirectory)
            }
            let descriptor = state.nextDescriptor
            state.nextDescriptor += 1
            state.descriptors[descriptor] = OpenFile(node: node, path: path, isWritable: false)
            return descriptor
        }
    }

    package func close(_ descriptor: Int32) {
        state.withLock { state in
            guard let file = state.descriptors.removeValue(forKey: descriptor) else { return }
            if state.nodes[file.node]?.lockHolder == descriptor {
                state.nodes[file.node]?.lockHolder = nil
            }
        }
    }

    package func pwrite(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int) throws(FileSystemError)
        -> Int
    {
        try state.withLock { (state) throws(FileSystemError) -> Int in
            let file = try state.file(descriptor, call: "pwrite")
            guard file.isWritable else { throw FileSystemError(call: "pwrite", errno: ErrorNumber.badDescriptor) }
            if let failure = state.writeFailure {
                throw FileSystemError(call: "pwrite", path: file.path, errno: failure)
            }
            // Moved out, not copied: a copy would share `data` and make the write below copy the
            // whole file.
            guard var node = state.nodes.removeValue(forKey: file.node) else { return 0 }
            if node.data.count < offset + bytes.count {
                node.data.append(contentsOf: repeatElement(0, count: offset + bytes.count - node.data.count))
            }
            node.data.replaceSubrange(offset..<offset + bytes.count, with: bytes)
            state.nodes[file.node] = node
            return bytes.count
        }
    }

    package func pread(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int)
        throws(FileSystemError) -> Int
    {
        try state.withLock { (state) throws(FileSystemError) -> Int in
            let file = try state.file(descriptor, call: "pread")
            guard let data = state.nodes[file.node]?.data, offset < data.count else { return 0 }
            let count = min(buffer.count, data.count - offset)
            data.withUnsafeBytes { source in
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<offset + count]))
            }
            return count
        }
    }

    package func fdatasync(_ descriptor: Int32) throws(FileSystemError) {
        try state.withLock { (state) throws(FileSystemError) in try state.sync(descriptor, call: "fdatasync") }
    }

    package func fsync(_ descriptor: Int32) throws(FileSystemError) {
        try state.withLock { (state) throws(FileSystemError) in try state.sync(descriptor, call: "fsync") }
    }

    package func ftruncate(_ descriptor: Int32, length: Int) throws(FileSystemError) {
        try state.withLock { (state) throws(FileSystemError) in
            let file = try state.file(descriptor, call: "ftruncate")
            guard var data = state.nodes[file.node]?.data else { return }
            if data.count > length {
                data.removeLast(data.count - length)
            } else {
                data.append(contentsOf: repeatElement(0, count: length - data.count))
            }
            state.nodes[file.node]?.data = data
        }
    }

    package func size(of descriptor: Int32) throws(FileSystemError) -> Int {
        try state.withLock { (state) throws(FileSystemError) -> Int in
            let file = try state.file(descriptor, call: "fstat")
            return state.nodes[file.node]?.data.count ?? 0
        }
    }

    package func rename(_ source: String, to destination: String) throws(FileSystemError) {
        try state.withLock { (state) throws(FileSystemError) in
            guard let node = state.names.removeValue(forKey: source) else {
                throw FileSystemError(call: "rename", path: source, errno: ErrorNumber.noEntry)
            }
            state.names[destination] = node
        }
    }

    package func unlink(_ path: String) throws(FileSystemError) {
        try state.withLock { (state) throws(FileSystemError) in
            guard let node = state.names[path] else {
                throw FileSystemError(call: "unlink", path: path, errno: ErrorNumber.noEntry)
            }
            guard state.nodes[node]?.isDirectory != true else {
                throw FileSystemError(call: "unlink", path: path, errno: ErrorNumber.isDirectory)
            }
            state.names[path] = nil
        }
    }

    package func contentsOfDirectory(_ path: String) throws(FileSystemError) -> [String] {
        try state.withLock { (state) throws(FileSystemError) -> [String] in
            guard let node = state.names[path], state.nodes[node]?.isDirectory == true else {
                throw FileSystemError(call: "opendir", path: path, errno: ErrorNumber.noEntry)
            }
            let prefix = path == "/" ? "/" : path + "/"
            return state.names.keys.compactMap { name in
                guard name.hasPrefix(prefix), name != prefix else { return nil }
                let rest = name.dropFirst(prefix.count)
                return rest.contains("/") ? nil : String(rest)
            }
        }
    }

    package func tryLockExclusively(_ descriptor: Int32) throws(FileSystemError) -> Bool {
        try state.withLock { (state) throws(FileSystemError) -> Bool in
            let file = try state.file(descriptor, call: "flock")
            let holder = state.nodes[file.node]?.lockHolder
            guard holder == nil || holder == descriptor else { return false }
            state.nodes[file.node]?.lockHolder = descriptor
            return true
        }
    }

    private static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
