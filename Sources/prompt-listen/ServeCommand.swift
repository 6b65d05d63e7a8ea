import PromptEvents
import PromptEventsServer

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `prompt-listen serve` (the default): run a listener and wire closures to event kinds.
enum ServeCommand {
    static let spec = CommandSpec(
        name: "serve",
        abstract: "Listen for Prompt.io events and act on each one.",
        options: declarations.map(\.spec) + AuthenticationOptions.specs(for: .accepting),
        discussion: """
            Prints each event (pretty on a terminal, one JSON object per line otherwise) unless
            --output quiet. --exec runs COMMAND with /bin/sh -c, the raw body on stdin and
            PROMPT_EVENT_TYPE, PROMPT_ORG_ID, PROMPT_RECEIVED_AT and PROMPT_DELIVERY_ID in its
            environment; a non-zero exit or a timeout is a failure, retried with backoff and
            then dead-lettered. Every delivery is journaled and synced before the 2xx answer
            unless --ack says otherwise.

            \(AuthenticationOptions.discussion)

            Example:
              PROMPT_LISTEN_HUB_SECRET=s3cr3t prompt-listen --port 8080 \\
                --exec 'customer/optOut=./remove-from-list.sh'
            """
    )

    enum Output: String {
        case pretty, json, quiet
    }

    /// What `serve` is told.
    ///
    /// The listener's settings live in `configuration`, whose defaults are the library's except
    /// where `prompt-listen` chooses its own (``Options/init()``).
    struct Options {
        var configuration = WebhookListener.Configuration()
        var basePath = "/"
        var output: Output = .pretty
        var color = false
        var execs: [(kind: EventKind?, command: String)] = []
        var execTimeout: Duration = .seconds(30)
        var forwards: [HTTPURL] = []
        var store = StoreSelection()
        var logFormat: LogFormat = .text
        var authentication = Authentication()
        var warnings: [String] = []

        /// The defaults; `--help` renders each option's from here.
        init() {
            // Fewer attempts than the library's 10: a command-line user watches the outcome.
            configuration.dispatcher.retryPolicy.maximumAttempts = 5
        }
    }

    /// Every `serve` option, declared once.
    ///
    /// Each has its name, help, default (rendered from ``Options``) and where its value goes;
    /// `replay` reuses some of them by name.
    static var declarations: [OptionDeclaration<Options>] {
        let defaults = Options()
        typealias Declaration = OptionDeclaration<Options>
        return [
            .text("host", "HOST", help: "Address to bind", \.configuration.host, defaults: defaults),
            Declaration(
                "port",
                "PORT",
                help: Declaration.withDefault("Port to bind, 0 for any", "$PORT or \(defaults.configuration.port)"),
                environment: "PORT"
            ) { options, value in
                options.configuration.port = try parseInteger(value, "--port", in: 0...65535)
            },
            Declaration(
                "base-path",
                "PATH",
                help: Declaration.withDefault("Path below which events arrive", defaults.basePath)
            ) { options, value in
                guard value.hasPrefix("/") else { throw UsageError(message: "--base-path must start with '/'.") }
                options.basePath = value
            },
            .choice(
                "output",
                "MODE",
                help: "pretty, json or quiet (default: pretty on a terminal).",
                \.output,
                ["pretty": .pretty, "json": .json, "quiet": .quiet]
            ),
            Declaration(
                "exec",
                "KIND=COMMAND",
                help: "Run COMMAND for each KIND event ('*' for all).",
                repeatable: true
            ) { options, exec in
                guard let equals = exec.firstIndex(of: "="), equals != exec.startIndex,
                    !exec[exec.index(after: equals)...].isEmpty
                else {
                    throw UsageError(message: "--exec must be KIND=COMMAND, for example 'customer/optOut=./remove.sh'.")
                }
                let kind = String(exec[..<equals])
                options.execs.append((kind == "*" ? nil : EventKind(kind), String(exec[exec.index(after: equals)...])))
            },
            .seconds(
                "exec-timeout",
                help: "Kill a command running longer",
                \.execTimeout,
                in: 1...86_400,
                defaults: defaults
            ),
            Declaration(
                "forward-to",
                "URL",
                help: "Re-POST each event's exact bytes to an http:// URL.",
                repeatable: true
            ) { options, url in
                do throws(HTTPClientError) {
                    options.forwards.append(try HTTPURL(url))
                } catch {
                    throw UsageError(message: "--forward-to: \(error.message)")
                }
            },
        ] + StoreSelection.declarations.map { $0.lifted(\Options.store) } + [
            Declaration("no-journal", nil, help: "Keep nothing on disk (same as --ack memory).") { options, _ in
                options.configuration.acknowledgement = .inMemory
            },
            .choice(
                "ack",
                "MODE",
                help: "durable (default), after-handlers or memory.",
                \.configuration.acknowledgement,
                ["durable": .durable, "after-handlers": .afterHandlers, "memory": .inMemory]
            ),
            .seconds(
                "dedup-window",
                help: "Remember delivered bodies this long; 0 disables",
                \.configuration.journal.deduplicationWindow,
                in: 0...(365 * 86_400),
                defaults: defaults
            ),
            .seconds(
                "keep-delivered",
                help: "Keep delivered events in the journal this long",
                \.configuration.journal.completedRetention,
                in: 0...(365 * 86_400),
                defaults: defaults
            ),
            .integer(
                "max-attempts",
                "N",
                help: "Attempts per handler before dead-lettering",
                \.configuration.dispatcher.retryPolicy.maximumAttempts,
                in: 1...1000,
                defaults: defaults
            ),
            .integer(
                "concurrency",
                "N",
                help: "Handlers running at once",
                \.configuration.dispatcher.maximumConcurrentHandlers,
                in: 1...10_000,
                defaults: defaults
            ),
            .integer(
                "max-body",
                "BYTES",
                help: "Largest accepted body",
                \.configuration.limits.maxBodyBytes,
                in: 0...(1 << 30),
                defaults: defaults
            ),
            .integer(
                "max-connections",
                "N",
                help: "Connections served at once",
                \.configuration.maxConnections,
                in: 1...1_000_000,
                defaults: defaults
            ),
            .seconds(
                "head-timeout",
                help: "Time to receive a request head",
                \.configuration.headTimeout,
                in: 1...3600,
                defaults: defaults
            ),
            .seconds(
                "idle-timeout",
                help: "Idle keep-alive time",
                \.configuration.idleTimeout,
                in: 1...86_400,
                defaults: defaults
            ),
            Declaration(
                "metrics-port",
                "PORT",
                help: "Serve /metrics on 127.0.0.1:PORT instead of the main port."
            ) { options, value in
                options.configuration.metricsPort = try parseInteger(value, "--metrics-port", in: 0...65535)
            },
            .choice(
                "log-format",
                "FORMAT",
                help: "text (default) or json, on stderr.",
                \.logFormat,
                [
                    "text": .text, "json": .json,
                ]
            ),
        ]
    }

    static func options(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) -> Options {
        guard arguments.positionals.isEmpty else {
            throw UsageError(message: "Unexpected argument '\(arguments.positionals[0])'.")
        }
        if arguments.flag("no-journal"), let ack = arguments.value("ack"), ack != "memory" {
            throw UsageError(message: "--no-journal cannot be combined with --ack \(ack).")
        }
        var options = Options()
        let interactive = isatty(STDOUT_FILENO) == 1
        options.output = interactive ? .pretty : .json
        options.color = interactive && environment["NO_COLOR"].map(\.isEmpty) ?? true
        try OptionDeclaration.apply(declarations, arguments, environment: environment, to: &options)
        try options.store.validate(arguments)
        if options.store.url != nil, options.configuration.acknowledgement == .inMemory {
            throw UsageError(
                message:
                    "--store (or $\(StoreSelection.variable)) keeps deliveries; it cannot be combined with --no-journal or --ack memory."
            )
        }
        options.configuration.journalDirectory = options.store.journalDirectory
        options.configuration.store = options.store.location
        (options.authentication, options.warnings) = try AuthenticationOptions.build(
            from: arguments,
            environment: environment
        )
        if let warning = StoreSelection.warning(arguments) { options.warnings.append(warning) }
        return options
    }

    // MARK: - Running

    static func run(_ options: Options) async -> Int32 {
        let log = Logger(format: options.logFormat)
        for warning in options.warnings { log.warning(warning) }
        if options.authentication.isOpen {
            log.warning(
                "NO AUTHENTICATION is configured: anyone who can reach this port can post events. "
                    + "Add --hub-secret-file, --basic-auth-file or --header (see --help)."
            )
        }
        let receiver = makeReceiver(options, log: log)
        var configuration = options.configuration
        // A command's own timeout kills it first; the handler's budget is the backstop.
        configuration.dispatcher.handlerTimeout = options.execTimeout + .seconds(5)
        raiseFileDescriptorLimit()
        let listener: WebhookListener
        do {
            listener = try WebhookListener(receiver: receiver, configuration: configuration) { event in
                log.listenerEvent(event, basePath: options.basePath)
            }
        } catch {
            log.error("cannot start: \(error)")
            return 1
        }
        await listener.run(stoppingOn: [SIGINT, SIGTERM]) { signal in
            log.info("received \(signal == SIGINT ? "SIGINT" : "SIGTERM"), draining")
        }
        return 0
    }

    /// Registers one closure per configured action, exactly as a user's own program would.
    static func makeReceiver(_ options: Options, log: Logger) -> WebhookReceiver {
        var receiver = WebhookReceiver(
            authentication: options.authentication,
            routing: EventRouting(basePath: options.basePath)
        )
        let printer = EventPrinter(output: options.output, color: options.color)
        if options.output != .quiet {
            receiver.onAny(name: "print") { event in printer.print(event) }
        }
        var seen: [String: Int] = [:]
        for exec in options.execs {
            // Named after what it is, as written on the command line, so reordering the flags
            // changes no handler's progress; a repeated identical flag gets a count.
            var name = "exec:\(exec.kind?.rawValue ?? "*")=\(exec.command)"
            seen[name, default: 0] += 1
            if let count = seen[name], count > 1 { name += "#\(count)" }
            let action = ExecAction(command: exec.command, timeout: options.execTimeout, log: log, name: name)
            if let kind = exec.kind {
                receiver.on(EventType<GenericPayload>(kind), name: name) { event in
                    try await action.run(event.underlying)
                }
            } else {
                receiver.onAny(name: name) { event in try await action.run(event) }
            }
        }
        for url in options.forwards {
            let action = ForwardAction(url: url, authentication: options.authentication)
            receiver.onAny(name: "forward:\(url)") { event in try await action.run(event) }
        }
        receiver.onError { event, error in
            log.warning("\(error) (delivery \(event.deliveryID.map(String.init) ?? "-"))")
        }
        return receiver
    }

    /// Many idle keep-alive connections need descriptors: raise the soft limit to the hard one.
    static func raiseFileDescriptorLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
