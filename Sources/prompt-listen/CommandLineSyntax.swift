/// One option a command accepts, described once: the parser and the help screen both read it.
struct OptionSpec: Sendable {
    /// The long name without dashes, for example `port`.
    let name: String
    /// The placeholder for the value (`PORT`), or `nil` for a flag that takes none.
    let value: String?
    /// One line of help.
    let help: String
    /// Whether the option may be given more than once.
    var repeatable = false
    /// The values it accepts, when it accepts only a fixed set (shell completion offers them).
    var choices: [String] = []
}

/// A subcommand's description: its options, arguments and help text.
struct CommandSpec: Sendable {
    let name: String
    let abstract: String
    /// The arguments part of the usage line, for example `KIND`.
    var arguments: String = ""
    let options: [OptionSpec]
    var discussion: String = ""

    /// The one-line usage, for example `prompt-listen send KIND [OPTIONS]`.
    var usage: String {
        let command = name == "serve" ? "prompt-listen [serve]" : "prompt-listen \(name)"
        return [command, arguments, options.isEmpty ? "" : "[OPTIONS]"].filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// The `--help` screen: OVERVIEW, USAGE, OPTIONS, DISCUSSION.
    var help: String {
        var lines = ["OVERVIEW: \(abstract)", "", "USAGE: \(usage)", "", "OPTIONS:"]
        let rows = (options + [OptionSpec(name: "help", value: nil, help: "Show this help and exit.")]).map { option in
            (
                "--\(option.name)" + (option.value.map { " \($0)" } ?? ""),
                option.help + (option.repeatable ? " (repeatable)" : "")
            )
        }
        let width = min(30, rows.map(\.0.count).max() ?? 0)
        let indent = String(repeating: " ", count: 2 + width + 2)
        for (left, right) in rows {
            var wrapped = Self.wrap(right, width: Self.columns - indent.count)
            if left.count > width {
                lines.append("  \(left)")
            } else {
                lines.append("  " + left.padding(to: width) + "  " + wrapped.removeFirst())
            }
            lines += wrapped.map { indent + $0 }
        }
        if !discussion.isEmpty {
            lines += ["", "DISCUSSION:"] + Self.reflow(discussion).map { $0.isEmpty ? "" : "  " + $0 }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension CommandSpec {
    /// Help screens fit a terminal of this many columns.
    static let columns = 80

    /// `text` in lines of at most `width` characters, broken between words (a longer word
    /// stands alone on its line).
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if line.isEmpty {
                line = String(word)
            } else if line.count + 1 + word.count <= width {
                line += " " + word
            } else {
                lines.append(line)
                line = String(word)
            }
        }
        return lines + [line]
    }

    /// A discussion re-flowed to the help screen's width: each paragraph of prose (lines that
    /// begin without a space, up to a blank or indented line) wrapped anew; indented lines
    /// (examples) kept as written.
    static func reflow(_ discussion: String) -> [String] {
        var lines: [String] = []
        var paragraph: [Substring] = []
        func flush() {
            if !paragraph.isEmpty { lines += wrap(paragraph.joined(separator: " "), width: columns - 2) }
            paragraph = []
        }
        for line in discussion.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty || line.hasPrefix(" ") {
                flush()
                lines.append(String(line))
            } else {
                paragraph.append(line)
            }
        }
        flush()
        return lines
    }
}

/// A mistake in how the command was called: printed as `Error: …` with a usage hint, exit 64.
struct UsageError: Error, Equatable, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// The options and arguments of one invocation, as given.
struct ParsedArguments: Equatable {
    var values: [String: [String]] = [:]
    var flags: Set<String> = []
    var positionals: [String] = []
    var wantsHelp = false

    /// The last value of an option, if given.
    func value(_ name: String) -> String? { values[name]?.last }

    /// Every value of a repeatable option, in order.
    func all(_ name: String) -> [String] { values[name] ?? [] }

    /// Whether a flag was given.
    func flag(_ name: String) -> Bool { flags.contains(name) }

    /// Parses arguments against a command's option table.
    ///
    /// Accepts `--name value`, `--name=value`, flags, positional arguments, and `--` to end options.
    static func parse(_ arguments: [String], for command: CommandSpec) throws(UsageError) -> ParsedArguments {
        var parsed = ParsedArguments()
        var index = 0
        var optionsEnded = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if optionsEnded || !argument.hasPrefix("-") || argument == "-" {
                parsed.positionals.append(argument)
                continue
            }
            if argument == "--" {
                optionsEnded = true
                continue
            }
            if argument == "--help" || argument == "-h" {
                parsed.wantsHelp = true
                continue
            }
            guard argument.hasPrefix("--") else { throw UsageError(message: "Unknown option '\(argument)'.") }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let option = command.options.first(where: { $0.name == name }) else {
                throw UsageError(message: "Unknown option '--\(name)'.")
            }
            guard option.value != nil else {
                if inlineValue != nil { throw UsageError(message: "The flag '--\(name)' takes no value.") }
                parsed.flags.insert(name)
                continue
            }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else {
                guard index < arguments.count else {
                    throw UsageError(message: "Missing value for '--\(name) \(option.value ?? "")'.")
                }
                value = arguments[index]
                index += 1
            }
            if !option.repeatable, parsed.values[name] != nil {
                throw UsageError(message: "The option '--\(name)' was given more than once.")
            }
            parsed.values[name, default: []].append(value)
        }
        return parsed
    }
}

extension String {
    func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
