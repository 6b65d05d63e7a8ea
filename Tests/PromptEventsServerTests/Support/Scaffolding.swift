import Foundation
import PromptEvents

@testable import PromptEventsServer

#if canImport(Glibc)
import Glibc
#endif

// Test scaffolding for this target, written once.

/// A directory under /tmp, removed with everything in it when released.
final class TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/journal-tests.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.flatMap { mkdtemp($0) }.map { String(cString: $0) }
        }
        guard let made else { throw FileSystemError(call: "mkdtemp", errno: errno) }
        path = made
    }

    deinit {
        Self.remove(path)
    }

    func contentsOfAllFiles() throws -> [UInt8] {
        var bytes: [UInt8] = []
        try collect(path, into: &bytes)
        return bytes
    }

    func size(of file: String) throws -> Int {
        var info = stat()
        guard stat(file, &info) == 0 else { throw FileSystemError(call: "stat", path: file, errno: errno) }
        return Int(info.st_size)
    }

    func mode(of file: String) throws -> UInt32 {
        var info = stat()
        guard stat(file, &info) == 0 else { throw FileSystemError(call: "stat", path: file, errno: errno) }
        return UInt32(info.st_mode) & 0o7777
    }

    func append(_ bytes: [UInt8], to file: String) throws {
        let fileSystem = POSIXFileSystem()
        let descriptor = try fileSystem.open(file, options: [.readWrite], mode: 0)
        defer { fileSystem.close(descriptor) }
        try fileSystem.writeAll(descriptor, bytes, at: fileSystem.size(of: descriptor))
    }

    private func collect(_ directory: String, into bytes: inout [UInt8]) throws {
        let fileSystem = POSIXFileSystem()
        for name in try fileSystem.contentsOfDirectory(directory) {
            let child = directory + "/" + name
            if Self.isDirectory(child) {
                try collect(child, into: &bytes)
            } else {
                let descriptor = try fileSystem.open(child, options: [], mode: 0)
                defer { fileSystem.close(descriptor) }
                bytes += try fileSystem.read(descriptor, count: fileSystem.size(of: descriptor), at: 0)
            }
        }
    }

    private static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    private static func remove(_ path: String) {
        if isDirectory(path) {
            for name in (try? POSIXFileSystem().contentsOfDirectory(path)) ?? [] { remove(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}

/// Suspends waiters (ignoring cancellation) until opened.
final class Gate: Sendable {
    private let state = Locked((isOpen: false, waiters: [CheckedContinuation<Void, Never>]()))

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let isOpen = state.withLock { state in
                if !state.isOpen { state.waiters.append(continuation) }
                return state.isOpen
            }
            if isOpen { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.isOpen = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

struct TimedOut: Error {}

/// Polls `condition` every few milliseconds for up to five seconds.
func waitUntil(_ condition: () -> Bool) async throws {
    for _ in 0..<1000 {
        if condition() { return }
        try await Task.sleep(for: .milliseconds(5))
    }
    throw TimedOut()
}
