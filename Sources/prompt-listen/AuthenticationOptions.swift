import PromptEvents

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The authentication flags shared by `serve`, `send`, `verify` and `replay`, and how they
/// become an ``Authentication``.
///
/// Each method can come from a flag (repeatable), an environment variable (several values
/// separated by newlines) or a file (one value per line). Values for one method from all
/// sources are alternatives. A value may carry an expiry: `VALUE@until=2026-12-31T00:00:00Z`.
enum AuthenticationOptions {
    /// What a command does with the credentials, so each option's help is true where it is shown.
    enum Role {
        /// `serve`: requests must carry them.
        case accepting
        /// `send`, `replay --to`: requests are signed or sent with them.
        case sending
        /// `verify`: a saved body is checked with them.
        case verifying
    }

    /// The options, their help worded for `role`.
    static func specs(for role: Role) -> [OptionSpec] {
        let (basic, hub, header): (String, String, String) =
            switch role {
            case .accepting:
                (
                    "Basic credentials a request may use.", "X-Hub-Signature secret requests are signed with.",
                    "Header token a request must carry."
                )
            case .sending:
                ("Basic credentials to send.", "X-Hub-Signature secret to sign with.", "Header token to send.")
            case .verifying:
                ("Basic credentials (unused).", "X-Hub-Signature secret to verify with.", "Header token (unused).")
            }
        return [
            OptionSpec(name: "basic-auth", value: "USER:PASSWORD", help: basic, repeatable: true),
            OptionSpec(
                name: "basic-auth-file",
                value: "PATH",
                help: "Read USER:PASSWORD lines from a file.",
                repeatable: true
            ),
            OptionSpec(name: "hub-secret", value: "SECRET", help: hub, repeatable: true),
            OptionSpec(
                name: "hub-secret-file",
                value: "PATH",
                help: "Read hub secrets from a file, one per line.",
                repeatable: true
            ),
            OptionSpec(name: "header", value: "NAME=VALUE", help: header, repeatable: true),
            OptionSpec(
                name: "header-file",
                value: "PATH",
                help: "Read NAME=VALUE lines from a file.",
                repeatable: true
            ),
        ]
    }

    static let discussion = """
        Authentication: every configured method must pass; several values for one method are
        alternatives (rotation). Values also come from PROMPT_LISTEN_BASIC_AUTH,
        PROMPT_LISTEN_HUB_SECRET and PROMPT_LISTEN_HEADER (newline-separated). Give a value an
        expiry with VALUE@until=2026-12-31T00:00:00Z. Prefer files or the environment: values
        on the command line are visible in the process list.
        """

    /// An authentication method, for commands that use only some of them.
    enum Method: CaseIterable {
        case basic, hubSecret, header
    }

    /// One configured value and where it came from, for error messages that never quote it.
    private struct Value {
        var text: String
        var source: String
    }

    /// The configured authentication, and warnings for the user (never containing a secret).
    ///
    /// - Parameters:
    ///   - arguments: The parsed command line.
    ///   - environment: The process environment.
    ///   - methods: The methods the command uses; values for the others are not read, so a
    ///     malformed one cannot stop a command that would ignore it.
    /// - Returns: The authentication, and warnings about values given on the command line.
    /// - Throws: ``UsageError`` naming the flag, file line or variable line of a malformed value.
    static func build(
        from arguments: ParsedArguments,
        environment: [String: String],
        methods: Set<Method> = Set(Method.allCases)
    ) throws(UsageError) -> (authentication: Authentication, warnings: [String]) {
        var authentication = Authentication()
        var warnings: [String] = []
        func values(flag: String, file: String, variable: String) throws(UsageError) -> [Value] {
            var result = arguments.all(flag).map { Value(text: $0, source: "--\(flag)") }
            if !result.isEmpty {
                warnings.append(
                    "--\(flag) on the command line is visible in the process list; prefer --\(file) or \(variable)."
                )
            }
            for path in arguments.all(file) {
                let text: String
                do {
                    text = String(decoding: try readFile(path), as: UTF8.self)
                } catch {
                    throw UsageError(message: "Cannot read --\(file) '\(path)': \(error).")
                }
                result += numberedLines(text).map { Value(text: $1, source: "--\(file) '\(path)' line \($0)") }
            }
            if let text = environment[variable] {
                result += numberedLines(text).map { Value(text: $1, source: "\(variable) line \($0)") }
            }
            return result
        }
        /// The values of one method, each parsed by `parse`, or a usage error stating `rule`.
        func parsed<T>(
            _ method: Method,
            flag: String,
            variable: String,
            rule: String,
            _ parse: (String, Date?) -> T?
        ) throws(UsageError) -> [T] {
            guard methods.contains(method) else { return [] }
            var result: [T] = []
            for value in try values(flag: flag, file: flag + "-file", variable: variable) {
                let (text, expires) = try splitExpiry(value)
                guard let item = parse(text, expires) else { throw UsageError(message: "\(value.source): \(rule)") }
                result.append(item)
            }
            return result
        }
        authentication.basicCredentials = try parsed(
            .basic,
            flag: "basic-auth",
            variable: "PROMPT_LISTEN_BASIC_AUTH",
            rule: "a Basic credential must be USER:PASSWORD with a non-empty user."
        ) { BasicCredential.parse($0, expires: $1) }
        authentication.hubSecrets = try parsed(
            .hubSecret,
            flag: "hub-secret",
            variable: "PROMPT_LISTEN_HUB_SECRET",
            rule: "a hub secret must not be empty."
        ) { $0.isEmpty ? nil : HubSecret(Secret($0, expires: $1)) }
        authentication.headerTokens = try parsed(
            .header,
            flag: "header",
            variable: "PROMPT_LISTEN_HEADER",
            rule: "a required header must be NAME=VALUE with a valid header name."
        ) { HeaderToken.parse($0, expires: $1) }
        return (authentication, warnings)
    }

    /// Non-empty lines with their 1-based line numbers, without their line endings (other
    /// whitespace is part of the value).
    static func numberedLines(_ text: String) -> [(number: Int, line: String)] {
        text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
            .enumerated()
            .filter { !$0.element.isEmpty }
            .map { ($0.offset + 1, String($0.element)) }
    }

    /// Splits `VALUE@until=DATE` into the value and its expiry.
    private static func splitExpiry(_ value: Value) throws(UsageError) -> (String, Date?) {
        guard let marker = value.text.ranges(of: "@until=").last else { return (value.text, nil) }
        let dateText = value.text[marker.upperBound...]
        guard let date = ISO8601.date(from: dateText) else {
            throw UsageError(message: "\(value.source): the expiry is not an ISO 8601 date: '\(dateText)'.")
        }
        return (String(value.text[..<marker.lowerBound]), date)
    }
}
