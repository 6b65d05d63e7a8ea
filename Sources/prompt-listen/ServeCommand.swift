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
        options: [
            OptionSpec(name: "host", value: "HOST", help: "Address to bind (default: 127.0.0.1)."),
            OptionSpec(name: "port", value: "PORT", help: "Port to bind, 0 for any (default: $PORT or 8080)."),
            OptionSpec(name: "base-path", value: "PATH", help: "Path below which events arrive (default: /)."),
            OptionSpec(name: "output", value: "MODE", help: "pretty, json or quiet (default: pretty on a terminal)."),
            OptionSpec(
                name: "exec",
                value: "KIND=COMMAND",
                help: "Run COMMAND for each KIND event ('*' for all).",
                repeatable: true
            ),
            OptionSpec(name: "exec-timeout", value: "SECONDS", help: "Kill a command running longer (default: 30)."),
            OptionSpec(
                name: "forward-to",
                value: "URL",
                help: "Re-POST each event's exact bytes to an http:// URL.",
                repeatable: true
            ),
            OptionSpec(name: "journal", value: "DIR", help: "Journal directory (default: .prompt-listen/journal)."),
            OptionSpec(name: "no-journal", value: nil, help: "Keep nothing on disk (same as --ack memory)."),
            OptionSpec(name: "ack", value: "MODE", help: "durable (default), after-handlers or memory."),
            OptionSpec(
                name: "dedup-window",
                value: "SECONDS",
                help: "Remember delivered bodies this long; 0 disables (default: 86400)."
            ),
            OptionSpec(
                name: "keep-delivered",
                value: "SECONDS",
                help: "Keep delivered events in the journal this long (default: 86400)."
            ),
            OptionSpec(
                name: "max-attempts",
                value: "N",
                help: "Attempts per handler before dead-lettering (default: 5)."
            ),
            OptionSpec(name: "concurrency", value: "N", help: "Handlers running at once (default: 16)."),
            OptionSpec(name: "max-body", value: "BYTES", help: "Largest accepted body (default: 1048576)."),
            OptionSpec(name: "max-connections", value: "N", help: "Connections served at once (default: 10000)."),
            OptionSpec(name: "head-timeout", value: "SECONDS", help: "Time to receive a request head (default: 10)."),
            OptionSpec(name: "idle-timeout", value: "SECONDS", help: "Idle keep-alive time (default: 60)."),
            OptionSpec(
                name: "metrics-port",
                value: "PORT",
                help: "Serve /metrics on 127.0.0.1:PORT instead of the main port."
            ),
            OptionSpec(name: "log-format", value: "FORMAT", help: "text (default) or json, on stderr."),
        ] + AuthenticationOptions.specs,
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

    struct Options {
        var host = "127.0.0.1"
        var port = 8080
        var basePath = "/"
        var output: Output = .pretty
        var color = false
        var execs: [(kind: EventKind?, command: String)] = []
        var execTimeout: Duration = .seconds(30)
        var forwards: [HTTPURL] = []
        var journalDirectory = ".prompt-listen/journal"
        var acknowledgement: AcknowledgementMode = .durable
        var maxAttempts = 5
        var deduplicationWindow: Duration = .seconds(86_400)
        var keepDelivered: Duration = .seconds(86_400)
        var concurrency = 16
        var maxBody = 1024 * 1024
        var maxConnections = 10_000
        var headTimeout: Duration = .seconds(10)
        var idleTimeout: Duration = .seconds(60)
        var metricsPort: Int?
        var logFormat: LogFormat = .text
        var authentication = Authentication()
        var warnings: [String] = []
    }

    static func options(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) -> Options {
        guard arguments.positionals.isEmpty else {
            throw UsageError(message: "Unexpected argument '\(arguments.positionals[0])'.")
        }
        var options = Options()
        options.host = arguments.value("host") ?? options.host
        if let port = arguments.value("port") ?? environment["PORT"] {
            options.port = try integer(port, "--port", in: 0...65535)
        }
        options.basePath = arguments.value("base-path") ?? "/"
        guard options.basePath.hasPrefix("/") else { throw UsageError(message: "--base-path must start with '/'.") }
        let interactive = isatty(STDOUT_FILENO) == 1
        if let output = arguments.value("output") {
            guard let parsed = Output(rawValue: output) else {
                throw UsageError(message: "--output must be pretty, json or quiet; got '\(output)'.")
            }
            options.output = parsed
        } else {
            options.output = interactive ? .pretty : .json
        }
        options.color = interactive && environment["NO_COLOR"].map(\.isEmpty) ?? true
        for exec in arguments.all("exec") {
            guard let equals = exec.firstIndex(of: "="), equals != exec.startIndex,
                !exec[exec.index(after: equals)...].isEmpty
            else {
                throw UsageError(message: "--exec must be KIND=COMMAND, for example 'customer/optOut=./remove.sh'.")
            }
            let kind = String(exec[..<equals])
            options.execs.append((kind == "*" ? nil : EventKind(kind), String(exec[exec.index(after: equals)...])))
        }
        if let seconds = arguments.value("exec-timeout") {
            options.execTimeout = .seconds(try integer(seconds, "--exec-timeout", in: 1...86_400))
        }
        for url in arguments.all("forward-to") {
            do {
                options.forwards.append(try HTTPURL(url))
            } catch {
                throw UsageError(message: "--forward-to: \(error.message)")
            }
        }
        options.journalDirectory = arguments.value("journal") ?? options.journalDirectory
        if let ack = arguments.value("ack") {
            switch ack {
            case "durable": options.acknowledgement = .durable
            case "after-handlers": options.acknowledgement = .afterHandlers
            case "memory": options.acknowledgement = .inMemory
            default: throw UsageError(message: "--ack must be durable, after-handlers or memory; got '\(ack)'.")
            }
        }
        if arguments.flag("no-journal") {
            if let ack = arguments.value("ack"), ack != "memory" {
                throw UsageError(message: "--no-journal cannot be combined with --ack \(ack).")
            }
            options.acknowledgement = .inMemory
        }
        if let value = arguments.value("dedup-window") {
            options.deduplicationWindow = .seconds(try integer(value, "--dedup-window", in: 0...(365 * 86_400)))
        }
        if let value = arguments.value("keep-delivered") {
            options.keepDelivered = .seconds(try integer(value, "--keep-delivered", in: 0...(365 * 86_400)))
        }
        if let value = arguments.value("max-attempts") {
            options.maxAttempts = try integer(value, "--max-attempts", in: 1...1000)
        }
        if let value = arguments.value("concurrency") {
            options.concurrency = try integer(value, "--concurrency", in: 1...10_000)
        }
        if let value = arguments.value("max-body") {
            options.maxBody = try integer(value, "--max-body", in: 0...(1 << 30))
        }
        if let value = arguments.value("max-connections") {
            options.maxConnections = try integer(value, "--max-connections", in: 1...1_000_000)
        }
        if let value = arguments.value("head-timeout") {
            options.headTimeout = .seconds(try integer(value, "--head-timeout", in: 1...3600))
        }
        if let value = arguments.value("idle-timeout") {
            options.idleTimeout = .seconds(try integer(value, "--idle-timeout", in: 1...86_400))
        }
        if let value = arguments.value("metrics-port") {
            options.metricsPort = try integer(value, "--metrics-port", in: 0...65535)
        }
        if let format = arguments.value("log-format") {
            guard let parsed = LogFormat(rawValue: format) else {
                throw UsageError(message: "--log-format must be text or json; got '\(format)'.")
            }
            options.logFormat = parsed
        }
        (options.authentication, options.warnings) = try AuthenticationOptions.build(
            from: arguments,
            environment: environment
        )
        return options
    }

    static func integer(_ text: String, _ name: String, in range: ClosedRange<Int>) throws(UsageError) -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw UsageError(
                message: "\(name) must be an integer from \(range.lowerBound) to \(range.upperBound); got '\(text)'."
            )
        }
        return value
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
        var configuration = WebhookListener.Configuration(
            host: options.host,
            port: options.port,
            journalDirectory: options.journalDirectory
        )
        configuration.acknowledgement = options.acknowledgement
        configuration.limits.maxBodyBytes = options.maxBody
        configuration.maxConnections = options.maxConnections
        configuration.headTimeout = options.headTimeout
        configuration.idleTimeout = options.idleTimeout
        configuration.metricsPort = options.metricsPort
        configuration.journal.deduplicationWindow = options.deduplicationWindow
        configuration.journal.completedRetention = options.keepDelivered
        configuration.dispatcher.retryPolicy.maximumAttempts = options.maxAttempts
        configuration.dispatcher.maximumConcurrentHandlers = options.concurrency
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
