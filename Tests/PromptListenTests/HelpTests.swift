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

    @Test func overviewIsPinned() throws {
        #expect(PromptListen.overview == (try Self.pinned("overview")))
    }
}
