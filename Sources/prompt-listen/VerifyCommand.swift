import PromptEvents

/// `prompt-listen verify`: checks a signature offline and, with `--explain`, says why it fails.
enum VerifyCommand {
    static let spec = CommandSpec(
        name: "verify",
        abstract: "Check an X-Hub-Signature offline, and explain a mismatch.",
        options: [
            OptionSpec(name: "payload", value: "FILE", help: "The exact body bytes ('-' for stdin)."),
            OptionSpec(
                name: "signature",
                value: "VALUE",
                help: "The X-Hub-Signature value, e.g. sha1=… (or sha256=…)."
            ),
            OptionSpec(name: "explain", value: nil, help: "Say which check failed and the likely cause."),
        ] + AuthenticationOptions.specs(for: .verifying).filter { $0.name.hasPrefix("hub-secret") },
        discussion: """
            Verifies the signature over the file's exact bytes with the configured secrets (also
            PROMPT_LISTEN_HUB_SECRET). Exit status 0 when it verifies, 1 when it does not. With
            --explain, tries the usual causes — whitespace or a newline in the secret, a body
            altered in transit or re-encoded as JSON — and names the one that fits. Secrets
            and MACs are never printed.

            Example:
              prompt-listen verify --payload body.json --signature sha1=5d61… \\
                --hub-secret-file secret.txt --explain
            """
    )

    static func run(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) -> Int32 {
        guard let path = arguments.value("payload") else { throw UsageError(message: "verify needs --payload FILE.") }
        guard let signature = arguments.value("signature") else {
            throw UsageError(message: "verify needs --signature VALUE.")
        }
        let body: [UInt8]
        do {
            body = try readFile(path)
        } catch {
            throw UsageError(message: "Cannot read --payload '\(path)': \(error).")
        }
        // Only the signature is checked offline; Basic and header settings in the environment are
        // not even read, so a malformed one does not stop it.
        let (authentication, warnings) = try AuthenticationOptions.build(
            from: arguments,
            environment: environment,
            methods: [.hubSecret]
        )
        guard !authentication.hubSecrets.isEmpty else {
            throw UsageError(
                message: "verify needs a secret: --hub-secret, --hub-secret-file or PROMPT_LISTEN_HUB_SECRET."
            )
        }
        for warning in warnings { printError("warning: \(warning)") }
        let name =
            signature.lowercased().hasPrefix("sha256=") ? HubSignature.sha256HeaderName : HubSignature.sha1HeaderName
        let headers: Headers = [name: signature]
        let checks = authentication.explain(headers, body: body)
        let passed = checks.allSatisfy(\.passed)
        if passed {
            printOutput("valid: the \(name) signature matches the \(body.count)-byte body.")
        } else {
            for check in checks where !check.passed {
                printOutput("invalid: \(check.error?.description ?? "failed")")
                if arguments.flag("explain"), let hint = check.hint { printOutput("likely cause: \(hint)") }
            }
        }
        return passed ? 0 : 1
    }
}

/// `prompt-listen events`: the known kinds and what to subscribe to.
enum EventsCommand {
    static let spec = CommandSpec(
        name: "events",
        abstract: "List the known event kinds and the path to subscribe to for each.",
        options: [OptionSpec(name: "base-url", value: "URL", help: "Show full URLs below this base URL.")]
    )

    static let meanings: [EventKind: String] = [
        .messageAdded: "a message was added to a conversation (a customer replied)",
        .messageStatus: "a message's delivery status changed",
        .customerAdded: "a new customer (contact) was created",
        .customerOptOut: "a customer opted out (e.g. replied STOP)",
        .contactAction: "a contact performed an action",
        .broadcastStatusChanged: "a broadcast changed state (started, completed, …)",
        .smartlinkClicked: "a customer clicked a Smartlink",
    ]

    static func run(_ arguments: ParsedArguments) -> Int32 {
        let base = arguments.value("base-url").map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        let width = EventKind.known.map { ($0.rawValue.count) }.max() ?? 0
        for kind in EventKind.known {
            let path = "/" + kind.rawValue
            let shown = base.map { $0 + path } ?? path
            printOutput(shown.padding(to: width + 1 + (base?.count ?? 0)) + "  " + (meanings[kind] ?? ""))
        }
        printOutput("")
        printOutput("Any other path is delivered too, as an unknown kind (catch-all handlers and --exec '*=…').")
        return 0
    }
}
