import Foundation
import Testing

@testable import PromptListen

/// `prompt-listen --generate-completion-script SHELL`, run by the shells themselves.
@Suite struct CompletionTests {
    /// What bash completes for `line` (the words typed so far, the last one being completed).
    static func bashCompletions(_ line: [String], directory: String? = nil) throws -> [String] {
        let script = CompletionScripts.script(for: .bash, commands: PromptListen.commands)
        let words = line.map { "'\($0)'" }.joined(separator: " ")
        let driver = """
            \(script)
            COMP_WORDS=(\(words)); COMP_CWORD=\(line.count - 1)
            _prompt_listen
            printf '%s\\n' "${COMPREPLY[@]}"
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["--norc", "-c", driver]
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init).sorted()
    }

    static let cases: [(line: [String], expected: [String])] = [
        (["prompt-listen", "se"], ["send", "serve"]),
        (["prompt-listen", "--ou"], ["--output"]),
        (["prompt-listen", "--output", ""], ["json", "pretty", "quiet"]),
        (["prompt-listen", "serve", "--ack", "a"], ["after-handlers"]),
        (["prompt-listen", "journal", "--st"], ["--state", "--store", "--store-schema"]),
        (["prompt-listen", "journal", "--state", "d"], ["dead", "done"]),
        (["prompt-listen", "send", "message/added", "--signature-format", "s"], ["sha1", "sha256"]),
        (["prompt-listen", "verify", "--ex"], ["--explain"]),
        (["prompt-listen", "--port", ""], []),
    ]

    @Test(arguments: cases)
    func bashCompletesSubcommandsOptionsAndChoices(_ line: [String], _ expected: [String]) throws {
        #expect(try Self.bashCompletions(line) == expected)
    }

    @Test func bashCompletesFilesForFileOptionsAndDirectoriesForTheJournal() throws {
        let directory = NSTemporaryDirectory() + "completion-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/journal-dir", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: directory + "/journal-file.json", contents: Data())
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(
            try Self.bashCompletions(["prompt-listen", "verify", "--payload", "jou"], directory: directory)
                == ["journal-dir", "journal-file.json"]
        )
        #expect(
            try Self.bashCompletions(["prompt-listen", "--journal", "jou"], directory: directory) == ["journal-dir"]
        )
    }

    @Test(arguments: CompletionScripts.Shell.allCases)
    func everyOptionOfEveryCommandIsInTheScript(_ shell: CompletionScripts.Shell) {
        let script = CompletionScripts.script(for: shell, commands: PromptListen.commands)
        for command in PromptListen.commands {
            #expect(script.contains(command.name))
            for option in command.options {
                let spelled = shell == .fish ? "-l \(option.name)" : "--\(option.name)"
                #expect(script.contains(spelled), "\(shell): \(command.name) --\(option.name)")
            }
        }
    }

    /// zsh and fish read their scripts without error.
    ///
    /// `-n`: parse only. Under CI both shells must be there (`.ci/run` installs them); elsewhere
    /// a missing one is left out.
    @Test(arguments: [CompletionScripts.Shell.zsh, .fish])
    func zshAndFishParseTheirScripts(_ shell: CompletionScripts.Shell) throws {
        let path = "/usr/bin/\(shell.rawValue)"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            if ProcessInfo.processInfo.environment["CI"] != nil { Issue.record("\(path) is missing under CI") }
            return
        }
        let file = NSTemporaryDirectory() + "completion-\(UUID().uuidString).\(shell.rawValue)"
        try CompletionScripts.script(for: shell, commands: PromptListen.commands)
            .write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["-n", file]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(message)")
    }

    @Test func theBinaryPrintsTheScriptAndRefusesAnUnknownShell() throws {
        let bash = try Binary.run(["--generate-completion-script", "bash"])
        #expect(bash.status == 0)
        #expect(bash.stdout == CompletionScripts.script(for: .bash, commands: PromptListen.commands))
        let unknown = try Binary.run(["--generate-completion-script", "tcsh"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("bash, zsh or fish"))
    }
}
