#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `prompt-listen`: receive Prompt.io Event Endpoints, and act on each event.
///
/// This file reads top to bottom like a user's own `main.swift` would: pick the subcommand,
/// parse its options, run it. Exit codes: 0 success, 64 usage error, 1 runtime failure.
@main
enum PromptListen {
    static let version = "0.1.0"

    static let commands: [CommandSpec] = [
        ServeCommand.spec, SendCommand.spec, VerifyCommand.spec, ReplayCommand.spec, JournalCommand.spec,
        EventsCommand.spec,
    ]

    static func main() async {
        // A command that exits without reading its stdin must not kill us with SIGPIPE: writes
        // then fail with EPIPE instead, which every caller handles.
        signal(SIGPIPE, SIG_IGN)
        exit(await run(Array(CommandLine.arguments.dropFirst()), environment: currentEnvironment()))
    }

    /// Runs one invocation and returns its exit code.
    ///
    /// As in swift-argument-parser tools: `-h`, `--help` and `help` print the overview;
    /// `help SUB`, `SUB --help` and `SUB -h` print SUB's help; `--version`, `-V` and `version`
    /// print the version.
    static func run(_ arguments: [String], environment: [String: String]) async -> Int32 {
        if arguments.count == 1, ["--version", "-V", "version"].contains(arguments[0]) {
            printOutput("prompt-listen \(version)")
            return 0
        }
        if arguments.first == "--generate-completion-script" {
            guard arguments.count == 2, let shell = CompletionScripts.Shell(rawValue: arguments[1]) else {
                printError("Error: --generate-completion-script takes bash, zsh or fish.")
                printError("Usage: prompt-listen --generate-completion-script bash|zsh|fish")
                return 64
            }
            writeAll(CompletionScripts.script(for: shell, commands: commands), to: STDOUT_FILENO)
            return 0
        }
        if arguments.count == 1, ["--help", "-h", "help"].contains(arguments[0]) {
            writeAll(overview, to: STDOUT_FILENO)
            return 0
        }
        if arguments.first == "help" {
            guard arguments.count == 2, let spec = commands.first(where: { $0.name == arguments[1] }) else {
                return unknownSubcommand(arguments.dropFirst().joined(separator: " "))
            }
            writeAll(spec.help, to: STDOUT_FILENO)
            return 0
        }
        var rest = arguments
        let name = rest.first.flatMap { $0.hasPrefix("-") ? nil : $0 } ?? "serve"
        if rest.first == name { rest.removeFirst() }
        guard let spec = commands.first(where: { $0.name == name }) else {
            return unknownSubcommand(name)
        }
        do {
            let parsed = try ParsedArguments.parse(rest, for: spec)
            if parsed.wantsHelp {
                writeAll(spec.help, to: STDOUT_FILENO)
                return 0
            }
            switch name {
            case "send":
                return SendCommand.run(try SendCommand.options(parsed, environment: environment))
            case "verify":
                return try VerifyCommand.run(parsed, environment: environment)
            case "events":
                return EventsCommand.run(parsed)
            case "replay":
                return await ReplayCommand.run(try ReplayCommand.options(parsed, environment: environment))
            case "journal":
                return try JournalCommand.run(parsed, environment: environment)
            default:
                return await ServeCommand.run(try ServeCommand.options(parsed, environment: environment))
            }
        } catch {
            return usageError(error, spec: spec)
        }
    }

    /// Prints `Error: …`, the usage line and a pointer to `--help`; returns 64 (EX_USAGE).
    static func usageError(_ error: UsageError, spec: CommandSpec) -> Int32 {
        printError("Error: \(error.message)")
        printError("Usage: \(spec.usage)")
        let helpCommand = spec.name == "serve" ? "prompt-listen --help" : "prompt-listen \(spec.name) --help"
        printError("See '\(helpCommand)' for more information.")
        return 64
    }

    /// Says that `name` is no subcommand, lists the subcommands, and returns 64.
    static func unknownSubcommand(_ name: String) -> Int32 {
        printError("Error: Unknown subcommand '\(name)'.")
        printError("Subcommands: " + commands.map(\.name).joined(separator: ", ") + ".")
        printError("Usage: prompt-listen [SUBCOMMAND] [OPTIONS]")
        printError("See 'prompt-listen --help' for more information.")
        return 64
    }

    static var overview: String {
        var lines = [
            "OVERVIEW: Receive Prompt.io Event Endpoints (webhooks) and act on each event.",
            "",
            "USAGE: prompt-listen [SUBCOMMAND] [OPTIONS]",
            "",
            "SUBCOMMANDS:",
        ]
        let width = commands.map(\.name.count).max() ?? 0
        let indent = String(repeating: " ", count: 2 + width + 2)
        for command in commands {
            var abstract = CommandSpec.wrap(
                command.abstract + (command.name == "serve" ? " (default)" : ""),
                width: CommandSpec.columns - indent.count
            )
            lines.append("  " + command.name.padding(to: width) + "  " + abstract.removeFirst())
            lines += abstract.map { indent + $0 }
        }
        lines += [
            "",
            "OPTIONS:",
            "  -h, --help     Show this help (also: help); help SUBCOMMAND shows its options.",
            "  -V, --version  Show the version (also: version).",
            "  --generate-completion-script SHELL",
            "                 Print a completion script: bash, zsh or fish (see Docs/CLI.md).",
            "",
            "  See 'prompt-listen SUBCOMMAND --help' for each subcommand's options.",
            "",
        ]
        return lines.joined(separator: "\n")
    }
}
