import Foundation
import Testing

/// The quick start in README.md, run as written against the built binary, so it cannot rot.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct ReadmeTests {
    /// The shell commands in README.md's ```sh blocks, in order.
    static func readmeCommands() throws -> [String] {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../README.md").standardized
        let text = try String(contentsOf: readme, encoding: .utf8)
        var commands: [String] = []
        var inShell = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                inShell = line == "```sh"
                continue
            }
            if inShell, !line.isEmpty { commands.append(String(line)) }
        }
        return commands
    }

    @Test func readmeShowsTheTwoCommands() throws {
        let commands = try Self.readmeCommands()
        #expect(commands.contains("swift run prompt-listen"))
        #expect(commands.contains("swift test"))
    }

    @Test func quickStartRunsAsWritten() throws {
        let commands = try Self.readmeCommands()
        let run = "swift run prompt-listen"
        let serve = try #require(commands.first { $0 == run }, "README must show '\(run)'")
        let send = try #require(commands.first { $0.hasPrefix(run + " send ") }, "README must show a send command")
        // `swift run` would take the build lock inside `swift test`: run the built binary instead,
        // with the README's arguments; only the port changes (ServeProcess binds port 0).
        let serveArguments = Array(serve.split(separator: " ").dropFirst(3).map(String.init))
        let server = try ServeProcess(serveArguments)
        let sendArguments = send.split(separator: " ").dropFirst(3).map {
            $0 == "http://127.0.0.1:8080" ? server.url : String($0)
        }
        let sent = try Binary.run(Array(sendArguments))
        #expect(sent.status == 0, "\(sent.stdout)\(sent.stderr)")
        #expect(sent.stdout.hasPrefix("200 OK"))
        #expect(server.waitFor { $0.standardOutput.contains("\"kind\":\"customer/added\"") })
        #expect(server.terminate() == 0)
    }
}
