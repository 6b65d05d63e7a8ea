import PromptEvents
import PromptEventsServer

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `prompt-listen send`: posts a sample or given payload exactly as Prompt.io would.
enum SendCommand {
    static let spec = CommandSpec(
        name: "send",
        abstract: "Send a signed test event, as Prompt.io would.",
        arguments: "KIND",
        options: [
            OptionSpec(name: "to", value: "URL", help: "The listener's base URL (default: http://127.0.0.1:8080)."),
            OptionSpec(
                name: "payload",
                value: "FILE",
                help: "Send this file's bytes ('-' for stdin) instead of a sample."
            ),
            OptionSpec(
                name: "set",
                value: "KEY=VALUE",
                help: "Set a top-level field (VALUE as JSON, else as a string).",
                repeatable: true
            ),
            OptionSpec(
                name: "signature-format",
                value: "FORMAT",
                help: "sha1 (default), hex, base64 or sha256.",
                choices: ["sha1", "hex", "base64", "sha256"]
            ),
            OptionSpec(name: "count", value: "N", help: "Send N times (a quick load test); default 1."),
            OptionSpec(name: "concurrency", value: "C", help: "Connections used with --count; default 1."),
            OptionSpec(name: "timeout", value: "SECONDS", help: "Per-request timeout; default 10."),
        ] + AuthenticationOptions.specs(for: .sending),
        discussion: """
            KIND is an event path such as message/added (see 'prompt-listen events'). Without
            --payload a built-in synthetic sample is sent, marked with a
            'Prompt-Listen-Sample: synthetic' header. The body is signed with every configured
            method exactly as Prompt.io would sign it. Exit status: 0 when every answer is 2xx.

            Example:
              prompt-listen send customer/optOut --to http://127.0.0.1:8080 \\
                --hub-secret-file secret.txt
            """
    )

    struct Options {
        var kind: EventKind
        var url: HTTPURL
        var body: [UInt8]
        var isSample: Bool
        var signatureFormat: HubSignature.Format
        var count: Int
        var concurrency: Int
        var timeout: Duration
        var authentication: Authentication
        var warnings: [String]
    }

    static func options(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) -> Options {
        guard arguments.positionals.count == 1, let kindText = arguments.positionals.first else {
            throw UsageError(message: "send needs exactly one KIND, for example 'message/added'.")
        }
        let kind = EventKind(kindText)
        guard !kind.rawValue.isEmpty else { throw UsageError(message: "KIND must not be empty.") }
        let url: HTTPURL
        do {
            url = try HTTPURL(arguments.value("to") ?? "http://127.0.0.1:8080")
        } catch {
            throw UsageError(message: error.message)
        }
        var body: [UInt8]
        if let path = arguments.value("payload") {
            do {
                body = try readFile(path)
            } catch {
                throw UsageError(message: "Cannot read --payload '\(path)': \(error).")
            }
        } else {
            body = Array(Samples.payload(for: kind).utf8)
        }
        let assignments = arguments.all("set")
        if !assignments.isEmpty {
            body = try applying(assignments, to: body)
        }
        let format = arguments.value("signature-format") ?? "sha1"
        guard let signatureFormat = HubSignature.Format(rawValue: format) else {
            throw UsageError(message: "--signature-format must be sha1, hex, base64 or sha256; got '\(format)'.")
        }
        let count = try positiveInteger(arguments, "count", default: 1)
        let concurrency = try positiveInteger(arguments, "concurrency", default: 1)
        let timeout = try positiveInteger(arguments, "timeout", default: 10)
        let (authentication, warnings) = try AuthenticationOptions.build(from: arguments, environment: environment)
        return Options(
            kind: kind,
            url: url,
            body: body,
            isSample: arguments.value("payload") == nil,
            signatureFormat: signatureFormat,
            count: count,
            concurrency: min(concurrency, count),
            timeout: .seconds(timeout),
            authentication: authentication,
            warnings: warnings
        )
    }

    /// Sets top-level fields of a JSON object body.
    static func applying(_ assignments: [String], to body: [UInt8]) throws(UsageError) -> [UInt8] {
        guard case .object(var object)? = try? JSONValue(parsing: body) else {
            throw UsageError(message: "--set needs a payload that is a JSON object.")
        }
        for assignment in assignments {
            guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
                throw UsageError(message: "--set must be KEY=VALUE; got '\(assignment)'.")
            }
            let key = String(assignment[..<equals])
            let text = String(assignment[assignment.index(after: equals)...])
            let value = (try? JSONValue(parsing: text)) ?? .string(text)
            if let index = object.members.lastIndex(where: { $0.key == key }) {
                object.members[index].value = value
            } else {
                object.append(key: key, value: value)
            }
        }
        return JSONValue.object(object).serializedBytes
    }

    /// The headers Prompt.io would send with `body`, signed with every configured method.
    static func headers(
        kind: EventKind,
        body: [UInt8],
        authentication: Authentication,
        signatureFormat: HubSignature.Format,
        isSample: Bool
    ) -> Headers {
        var headers: Headers = ["Content-Type": "application/json", "Prompt-EventType": kind.rawValue]
        headers.append(name: "User-Agent", value: "prompt-listen/\(PromptListen.version)")
        if isSample { headers.append(name: "Prompt-Listen-Sample", value: "synthetic") }
        let now = Date()
        if let secret = authentication.hubSecrets.first(where: { !$0.secret.isExpired(at: now) }) {
            let signature = HubSignature.sign(body, secret: secret.secret, format: signatureFormat)
            headers.append(name: signature.name, value: signature.value)
        }
        if let credential = authentication.basicCredentials.first(where: { !$0.password.isExpired(at: now) }) {
            headers.append(name: "Authorization", value: credential.authorizationValue)
        }
        var named: Set<String> = []
        for token in authentication.headerTokens where !token.value.isExpired(at: now) {
            guard named.insert(token.name.lowercased()).inserted else { continue }
            headers.append(name: token.name, value: String(decoding: token.value.bytes, as: UTF8.self))
        }
        return headers
    }

    static func run(_ options: Options) -> Int32 {
        for warning in options.warnings { printError("warning: \(warning)") }
        let headers = headers(
            kind: options.kind,
            body: options.body,
            authentication: options.authentication,
            signatureFormat: options.signatureFormat,
            isSample: options.isSample
        )
        let url = options.url.appending(path: options.kind.rawValue)
        if options.count == 1 {
            do {
                let response = try HTTPClient().send(
                    method: "POST",
                    url: url,
                    headers: headers,
                    body: options.body,
                    timeout: options.timeout
                )
                printOutput("\(response.status) \(response.reason)")
                let text = String(decoding: response.body, as: UTF8.self)
                if !text.isEmpty { writeAll(text.hasSuffix("\n") ? text : text + "\n", to: STDOUT_FILENO) }
                return (200..<300).contains(response.status) ? 0 : 1
            } catch {
                printError("Error: \(error.message)")
                return 1
            }
        }
        return LoadGenerator.run(
            url: url,
            headers: headers,
            body: options.body,
            count: options.count,
            concurrency: options.concurrency,
            timeout: options.timeout
        )
    }

    private static func positiveInteger(_ arguments: ParsedArguments, _ name: String, default value: Int)
        throws(UsageError) -> Int
    {
        guard let text = arguments.value(name) else { return value }
        guard let number = Int(text), number > 0 else {
            throw UsageError(message: "--\(name) must be a positive integer; got '\(text)'.")
        }
        return number
    }
}
