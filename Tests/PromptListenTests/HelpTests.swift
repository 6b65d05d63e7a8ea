import Foundation
import Testing

@testable import PromptListen

/// Every help screen is generated from its command's option table and pinned here, so a change
/// to an option shows up as a reviewed change to these files (regenerate them with
/// `prompt-listen <command> --help > Tests/PromptListenTests/Help/<command>.txt`).
@Suite struct HelpTests {
    static func pinned(_ name: String) throws -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Help/\(name).txt")
        return try String(contentsOf: url, encoding: .utf8)
    }

    @Test(arguments: PromptListen.commands.map(\.name))
    func helpScreenIsPinned(command: String) throws {
        let spec = try #require(PromptListen.commands.first { $0.name == command })
        #expect(spec.help == (try Self.pinned(command)))
        #expect(spec.help.contains("USAGE: "))
        #expect(spec.help.contains("OPTIONS:"))
    }

    /// Every help screen fits an 80-column terminal, examples included.
    @Test(arguments: PromptListen.commands.map(\.name) + ["overview"])
    func helpScreenLinesFitEightyColumns(_ name: String) {
        let help =
            name == "overview" ? PromptListen.overview : PromptListen.commands.first { $0.name == name }?.help ?? ""
        for line in help.split(separator: "\n") where line.count > CommandSpec.columns {
            Issue.record("\(name): \(line.count) columns: \(line)")
        }
    }

    @Test func overviewIsPinned() throws {
        #expect(PromptListen.overview == (try Self.pinned("overview")))
    }

    /// The conventions of swift-argument-parser tools: each group prints the same bytes.
    static let spellings: [[[String]]] =
        [[["-h"], ["--help"], ["help"]], [["--version"], ["-V"], ["version"]]]
        + PromptListen.commands.map { command -> [[String]] in
            [["help", command.name], [command.name, "--help"], [command.name, "-h"]]
        }

    @Test(arguments: spellings)
    func helpAndVersionSpellingsAgree(_ spellings: [[String]]) throws {
        let outputs = try spellings.map { try Binary.run($0) }
        #expect(outputs.allSatisfy { $0.status == 0 })
        #expect(Set(outputs.map(\.stdout)).count == 1, "\(spellings)")
        #expect(outputs[0].stdout.isEmpty == false)
        if let name = spellings[0].count == 2 ? spellings[0][1] : nil,
            let spec = PromptListen.commands.first(where: { $0.name == name })
        {
            #expect(outputs[0].stdout == spec.help)
        }
    }

    @Test func anUnknownSubcommandIsNamedAndTheSubcommandsListed() throws {
        let result = try Binary.run(["srve"])
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("Error: Unknown subcommand 'srve'."))
        #expect(result.stderr.contains("Subcommands: serve, send, verify, replay, journal, events."))
    }
}
