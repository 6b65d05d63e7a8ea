import PromptEvents
import PromptEventsServer

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `prompt-listen replay`: run journaled deliveries again, through the configured actions or
/// by re-sending their exact bytes to a URL.
enum ReplayCommand {
    static let spec = CommandSpec(
        name: "replay",
        abstract: "Re-run journaled deliveries through actions, or re-send them to a URL.",
        options: JournalCommand.filterSpecs + [
            OptionSpec(name: "to", value: "URL", help: "Re-send each record's exact bytes to this listener base URL.")
        ]
            + ServeCommand.spec.options.filter {
                ["output", "exec", "exec-timeout", "forward-to", "max-attempts", "base-path"].contains($0.name)
            } + AuthenticationOptions.specs(for: .sending),
        discussion: """
            Selects records with --kind, --state, --since and --until (all records by default).
            With --to, re-sends each record's exact body and Prompt.io headers, signed with the
            configured credentials, to URL/KIND; the journal is only read, so this may run beside
            a live listener. Without --to, the records run again through the actions given here
            (--exec, --forward-to, printing) with their progress journaled; this needs the
            listener to be stopped. --max-attempts defaults to 1 for replays.

            Examples:
              prompt-listen replay --state dead --exec 'customer/optOut=./remove.sh'
              prompt-listen replay --kind message/added --since 2h \\
                --to http://127.0.0.1:9090
            """
    )

    struct Options {
        var query: JournalQuery
        var target: HTTPURL?
        var serve: ServeCommand.Options
    }

    static func options(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) -> Options {
        var serve = try ServeCommand.options(arguments, environment: environment)
        if arguments.value("max-attempts") == nil { serve.configuration.dispatcher.retryPolicy.maximumAttempts = 1 }
        let target: HTTPURL?
        do {
            target = try arguments.value("to").map { text throws(HTTPClientError) in try HTTPURL(text) }
        } catch {
            throw UsageError(message: "--to: \(error.message)")
        }
        return Options(
            query: try JournalCommand.query(arguments),
            target: target,
            serve: serve
        )
    }

    static func run(_ options: Options) async -> Int32 {
        let log = Logger(format: options.serve.logFormat)
        do {
            if let target = options.target {
                return try resend(options, to: target)
            }
            let journal = try options.serve.store.open(readOnly: false)
            let ids = try journal.entries(matching: options.query).map(\.id)
            let receiver = ServeCommand.makeReceiver(options.serve, log: log)
            var configuration = DispatcherConfiguration()
            configuration.retryPolicy = options.serve.configuration.dispatcher.retryPolicy
            configuration.handlerTimeout = options.serve.execTimeout + .seconds(5)
            let dispatcher = Dispatcher(
                handlers: ReceiverHandlers(receiver: receiver),
                store: journal,
                configuration: configuration
            )
            try dispatcher.start(resumingPending: false)
            let queued = try dispatcher.replay(ids: ids)
            await dispatcher.waitUntilIdle()
            await dispatcher.shutdown()
            let after = try journal.entries(matching: JournalQuery(ids: Set(queued)))
            let dead = after.filter { $0.state == .deadLettered }.count
            try journal.close()
            printError(
                "replayed \(queued.count) record\(queued.count == 1 ? "" : "s"): \(queued.count - dead) done, \(dead) dead"
            )
            return dead == 0 ? 0 : 1
        } catch {
            printError("Error: \(error)")
            return 1
        }
    }

    private static func resend(_ options: Options, to target: HTTPURL) throws -> Int32 {
        let journal = try options.serve.store.open(readOnly: true)
        let entries = try journal.entries(matching: options.query)
        let client = HTTPClient()
        var failures = 0
        for entry in entries {
            var headers = Headers()
            for field in entry.record.headers where !ForwardAction.dropped.contains(field.name.lowercased()) {
                headers.append(name: field.name, value: field.value)
            }
            let signed = SendCommand.headers(
                kind: EventKind(entry.record.kind),
                body: entry.record.body,
                authentication: options.serve.authentication,
                signatureFormat: .sha1,
                isSample: false
            )
            for field in signed where !headers.contains(field.name) {
                headers.append(name: field.name, value: field.value)
            }
            do {
                let response = try client.send(
                    method: "POST",
                    url: target.appending(path: entry.record.kind),
                    headers: headers,
                    body: entry.record.body
                )
                printOutput("\(entry.id) \(entry.record.kind) → \(response.status)")
                if !(200..<300).contains(response.status) { failures += 1 }
            } catch {
                printOutput("\(entry.id) \(entry.record.kind) → \(error.message)")
                failures += 1
            }
        }
        printError("re-sent \(entries.count) record\(entries.count == 1 ? "" : "s"), \(failures) failed")
        return failures == 0 ? 0 : 1
    }
}
