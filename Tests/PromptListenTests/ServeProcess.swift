import Foundation
import PromptEvents
import Testing

/// The built `prompt-listen` binary, next to the test bundle.
enum Binary {
    static var path: String {
        get throws {
            var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            for _ in 0..<3 {
                let candidate = directory.appendingPathComponent("prompt-listen").path
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
                directory = directory.deletingLastPathComponent()
            }
            let fallback = FileManager.default.currentDirectoryPath + "/.build/debug/prompt-listen"
            return try #require(
                FileManager.default.isExecutableFile(atPath: fallback) ? fallback : nil,
                "build prompt-listen first"
            )
        }
    }

    /// Runs the binary to completion.
    static func run(
        _ arguments: [String],
        environment: [String: String] = [:],
        input: Data? = nil,
        directory: String? = nil
    ) throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PROMPT_LISTEN_") }
            .merging(environment) { $1 }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let stdout = Pipe()
        let stderr = Pipe()
        let stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(input) }
        try stdin.fileHandleForWriting.close()
        let errors = Locked(Data())
        let reader = Thread { errors.withLock { $0 = stderr.fileHandleForReading.readDataToEndOfFile() } }
        reader.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while reader.isExecuting || !reader.isFinished { usleep(1000) }
        return (
            process.terminationStatus, String(decoding: output, as: UTF8.self),
            String(decoding: errors.withLock { $0 }, as: UTF8.self)
        )
    }
}

/// A `prompt-listen serve` process on 127.0.0.1:0, stopped by PID.
final class ServeProcess: @unchecked Sendable {
    // @unchecked: `process` is set once in init; the buffers are locked.
    let process = Process()
    let directory: String
    private let stdout = Locked(Data())
    private let stderr = Locked(Data())
    private(set) var port = 0

    init(_ arguments: [String], environment: [String: String] = [:], directory: String? = nil) throws {
        self.directory = directory ?? NSTemporaryDirectory() + "prompt-listen-e2e-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: try Binary.path)
        let output = arguments.contains("--output") ? [] : ["--output", "json"]
        process.arguments = ["serve", "--port", "0"] + output + arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PROMPT_LISTEN_") }
            .merging(environment) { $1 }
        process.currentDirectoryURL = URL(fileURLWithPath: self.directory)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        out.fileHandleForReading.readabilityHandler = { [stdout] handle in
            let data = handle.availableData
            stdout.withLock { $0.append(data) }
        }
        err.fileHandleForReading.readabilityHandler = { [stderr] handle in
            let data = handle.availableData
            stderr.withLock { $0.append(data) }
        }
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let line = standardError.split(separator: "\n").first(where: { $0.hasPrefix("listening on http://") }),
                let port = Int(line.split(separator: ":").last ?? "")
            {
                self.port = port
                return
            }
            if !process.isRunning { break }
            usleep(10_000)
        }
        process.terminate()
        Issue.record("prompt-listen did not start: \(standardError)")
    }

    var url: String { "http://127.0.0.1:\(port)" }
    var standardOutput: String { String(decoding: stdout.withLock { $0 }, as: UTF8.self) }
    var standardError: String { String(decoding: stderr.withLock { $0 }, as: UTF8.self) }

    /// Waits until `condition` holds for stdout/stderr, up to `timeout` seconds.
    func waitFor(_ timeout: TimeInterval = 10, _ condition: (ServeProcess) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(self) { return true }
            usleep(20_000)
        }
        return condition(self)
    }

    /// Sends SIGTERM to this process (by PID) and waits; returns the exit status.
    @discardableResult
    func terminate() -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(15)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
