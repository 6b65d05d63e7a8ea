import PromptEvents
import PromptEventsServer

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The default action: print each event to stdout.
struct EventPrinter: Sendable {
    let output: ServeCommand.Output
    let color: Bool

    /// Writes the event to standard output in one write, so a log line on stderr (or another
    /// event printed at the same time) lands before or after it on a terminal, never inside.
    func print(_ event: AnyEvent) {
        if let text = render(event) { writeOutput(text) }
    }

    /// The event as printed, its final newline included; `nil` when quiet.
    func render(_ event: AnyEvent) -> [UInt8]? {
        let received = Timestamp.format(milliseconds: Int64((event.receivedAt.timeIntervalSince1970 * 1000).rounded()))
        switch output {
        case .quiet:
            return nil
        case .json:
            var line: [UInt8] = []
            line.reserveCapacity(event.body.count + 160)
            line += #"{"receivedAt":""#.utf8
            line += received.utf8
            line += #"","kind":"#.utf8
            line += JSONValue.string(event.kind.rawValue).serialized().utf8
            line += #","orgId":"#.utf8
            line += (event.orgID.map(String.init) ?? "null").utf8
            line += #","deliveryId":"#.utf8
            line += (event.deliveryID.map(String.init) ?? "null").utf8
            line += #","event":"#.utf8
            // The event's own bytes, not a re-encoding of the whole tree for every delivery. It
            // parsed, so it is valid JSON, where a raw CR or LF can only be whitespace between
            // tokens (never inside a string): turning them into spaces keeps it on one line.
            let start = line.count
            line += event.body
            line.withUnsafeMutableBufferPointer { line in
                for index in start..<line.count where line[index] == 0x0A || line[index] == 0x0D {
                    line[index] = 0x20
                }
            }
            line += "}\n".utf8
            return line
        case .pretty:
            let bold = color ? "\u{1B}[1;36m" : ""
            let dim = color ? "\u{1B}[2m" : ""
            let reset = color ? "\u{1B}[0m" : ""
            var title = "\(bold)\(event.kind.rawValue)\(reset)"
            if let org = event.orgID { title += "  org \(org)" }
            if let id = event.deliveryID { title += "  #\(id)" }
            return Array(
                "\(dim)── \(received) ──\(reset) \(title)\n\(JSONValue.object(event.json).serialized(pretty: true))\n"
                    .utf8
            )
        }
    }
}

/// `--exec KIND=COMMAND`: run a shell command with the raw body on stdin.
struct ExecAction: Sendable {
    let command: String
    let timeout: Duration
    let log: Logger
    let name: String
    /// The listener's environment without its own secrets (PROMPT_LISTEN_*), read once.
    let environment = currentEnvironment().filter { !$0.key.hasPrefix("PROMPT_LISTEN_") }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    func run(_ event: AnyEvent) async throws {
        var environment = self.environment
        environment["PROMPT_EVENT_TYPE"] = event.kind.rawValue
        environment["PROMPT_ORG_ID"] = event.orgID.map(String.init) ?? ""
        environment["PROMPT_RECEIVED_AT"] = Timestamp.format(
            milliseconds: Int64((event.receivedAt.timeIntervalSince1970 * 1000).rounded())
        )
        environment["PROMPT_DELIVERY_ID"] = event.deliveryID.map(String.init) ?? ""
        let result = await CommandRunner.run(command, input: event.body, environment: environment, timeout: timeout)
        let output = String(decoding: result.output, as: UTF8.self)
        if !output.isEmpty {
            let tail = output.hasSuffix("\n") ? String(output.dropLast()) : output
            log.info("\(name) output\(result.truncated ? " (truncated)" : ""): \(tail)")
        }
        guard result.succeeded else {
            throw Failure(description: "command \(result.summary)")
        }
    }
}

/// `--forward-to URL`: re-POST the exact bytes with Prompt.io's headers, re-authenticated.
struct ForwardAction: Sendable {
    let url: HTTPURL
    let authentication: Authentication

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Headers that describe the hop, not the event, or that carry credentials: never forwarded.
    static let dropped: Set<String> = [
        "host", "content-length", "transfer-encoding", "connection", "keep-alive", "expect", "te", "upgrade",
        "authorization", "x-hub-signature", "x-hub-signature-256", "proxy-authorization",
    ]

    func run(_ event: AnyEvent) async throws {
        let secretNames = Set(authentication.headerTokens.map { $0.name.lowercased() })
        var headers = Headers()
        for field in event.headers
        where !Self.dropped.contains(field.name.lowercased()) && !secretNames.contains(field.name.lowercased()) {
            headers.append(name: field.name, value: field.value)
        }
        let signed = SendCommand.headers(
            kind: event.kind,
            body: event.body,
            authentication: authentication,
            signatureFormat: .sha1,
            isSample: false
        )
        for field in signed where !headers.contains(field.name) {
            headers.append(name: field.name, value: field.value)
        }
        if let id = event.deliveryID { headers.replaceOrAdd(name: "Prompt-Listen-Delivery", value: String(id)) }
        let response = try await HTTPClient.sendAsync(
            method: "POST",
            url: url.appending(path: event.kind.rawValue),
            headers: headers,
            body: event.body
        )
        guard (200..<300).contains(response.status) else {
            throw Failure(description: "\(url) answered \(response.status)")
        }
    }
}
