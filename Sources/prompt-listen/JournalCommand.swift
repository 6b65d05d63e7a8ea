import PromptEvents
import PromptEventsServer

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `prompt-listen journal`: inspect, purge and export the journal.
enum JournalCommand {
    static let filterSpecs: [OptionSpec] =
        StoreSelection.declarations.map(\.spec) + [
            OptionSpec(name: "kind", value: "KIND", help: "Only this event kind.", repeatable: true),
            OptionSpec(
                name: "state",
                value: "STATE",
                help: "Only pending, done or dead.",
                repeatable: true,
                choices: ["pending", "done", "dead"]
            ),
            OptionSpec(name: "since", value: "TIME", help: "Received at or after TIME (ISO 8601, or 30m, 2h, 7d ago)."),
            OptionSpec(name: "until", value: "TIME", help: "Received before TIME."),
        ]

    static let spec = CommandSpec(
        name: "journal",
        abstract: "List, show, purge or export journaled deliveries.",
        arguments: "[list | show ID | purge | export]",
        options: filterSpecs + [
            OptionSpec(name: "limit", value: "N", help: "Show at most N records (list)."),
            OptionSpec(
                name: "older-than",
                value: "AGE",
                help: "purge: only records finished before AGE ago (e.g. 7d)."
            ),
            OptionSpec(name: "redact", value: nil, help: "export: mask names, phone numbers and free text."),
            OptionSpec(
                name: "body",
                value: nil,
                help: "show: only the body, the exact bytes received."
            ),
        ],
        discussion: """
            list (the default) prints counts by state and one line per record; show ID prints a
            record's headers and body (pretty-printed; with --body, only the exact bytes received,
            no newline added); export prints matching records as JSON lines (with
            --redact, shareable as fixtures); purge removes finished records (done and dead
            unless --state says otherwise). list, show and export open the journal read-only
            and may run beside a live listener; purge needs it to be stopped. With --store
            postgres://USER@HOST/DB they work on the PostgreSQL store instead, from any machine
            that reaches it, beside running listeners (purge too).

            Examples:
              prompt-listen journal --state dead
              prompt-listen journal show 8 --body > body.json
              prompt-listen journal export --redact --kind customer/optOut \\
                > fixtures.jsonl
            """
    )

    static func query(_ arguments: ParsedArguments) throws(UsageError) -> JournalQuery {
        var query = JournalQuery()
        let kinds = arguments.all("kind").map { EventKind($0).rawValue }
        if !kinds.isEmpty { query.kinds = Set(kinds) }
        if !arguments.all("state").isEmpty {
            var states: Set<JournalRecord.State> = []
            for state in arguments.all("state") {
                switch state {
                case "pending": states.insert(.pending)
                case "done": states.insert(.done)
                case "dead", "dead-lettered": states.insert(.deadLettered)
                default: throw UsageError(message: "--state must be pending, done or dead; got '\(state)'.")
                }
            }
            query.states = states
        }
        let since = try arguments.value("since").map { text throws(UsageError) in try time(text, "--since") }
        let until = try arguments.value("until").map { text throws(UsageError) in try time(text, "--until") }
        if since != nil || until != nil {
            let lower = since ?? Date(timeIntervalSince1970: 0)
            let upper = until ?? Date.distantFuture
            guard lower < upper else { throw UsageError(message: "--since must be before --until.") }
            query.received = lower..<upper
        }
        return query
    }

    /// ISO 8601, or an age such as `90s`, `30m`, `2h`, `7d` (meaning that long ago).
    static func time(_ text: String, _ name: String) throws(UsageError) -> Date {
        if let age = try? age(text, name) { return Date().addingTimeInterval(-age) }
        guard let date = ISO8601.date(from: text) else {
            throw UsageError(message: "\(name) must be an ISO 8601 time or an age like 30m, 2h, 7d; got '\(text)'.")
        }
        return date
    }

    static func age(_ text: String, _ name: String) throws(UsageError) -> Double {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        guard let unit = text.last.flatMap({ units[$0] }), let count = Double(text.dropLast()), count >= 0 else {
            throw UsageError(message: "\(name) must be an age like 90s, 30m, 2h or 7d; got '\(text)'.")
        }
        return count * unit
    }

    static func run(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) -> Int32 {
        let action = arguments.positionals.first ?? "list"
        let selection = try StoreSelection.parse(arguments, environment: environment)
        let query = try query(arguments)
        do {
            switch action {
            case "list":
                let limit = try arguments.value("limit").map { text throws(UsageError) in
                    try parseInteger(text, "--limit", in: 1...Int.max)
                }
                return list(try selection.open(readOnly: true), query: query, limit: limit)
            case "show":
                guard arguments.positionals.count == 2, let id = UInt64(arguments.positionals[1]) else {
                    throw UsageError(message: "journal show needs one record ID.")
                }
                let store = try selection.open(readOnly: true)
                guard let entry = try store.entries(matching: JournalQuery(ids: [id])).first else {
                    printError("Error: no record \(id) in \(selection.name).")
                    return 1
                }
                if arguments.flag("body") {
                    writeOutput(entry.record.body)  // exactly as received: what was signed
                } else {
                    show(entry)
                }
                return 0
            case "export":
                let store = try selection.open(readOnly: true)
                for entry in try store.entries(matching: query) {
                    printOutput(JSONValue.object(export(entry, redact: arguments.flag("redact"))).serialized())
                }
                return 0
            case "purge":
                for ignored in ["kind", "since", "until"] where arguments.value(ignored) != nil {
                    throw UsageError(
                        message: "journal purge selects by --state and --older-than only, not --\(ignored)."
                    )
                }
                let store = try selection.open(readOnly: false)
                let age =
                    try arguments.value("older-than").map { text throws(UsageError) in
                        try self.age(text, "--older-than")
                    } ?? 0
                let removed = try store.purge(
                    states: query.states ?? [.done, .deadLettered],
                    finishedBefore: Date().addingTimeInterval(-age)
                )
                try store.close()
                printOutput("purged \(removed) record\(removed == 1 ? "" : "s")")
                return 0
            default:
                throw UsageError(message: "Unknown journal action '\(action)'; use list, show, purge or export.")
            }
        } catch let error as UsageError {
            throw error
        } catch {
            printError("Error: \(error)")
            return 1
        }
    }

    static func stateName(_ state: JournalRecord.State) -> String {
        state == .deadLettered ? "dead" : state.rawValue
    }

    private static func list(_ journal: any DeliveryStore, query: JournalQuery, limit: Int?) -> Int32 {
        do {
            let entries = try journal.entries(matching: query)
            let counts = Dictionary(grouping: entries, by: \.state).mapValues(\.count)
            printOutput(
                "pending: \(counts[.pending] ?? 0)  done: \(counts[.done] ?? 0)  dead: \(counts[.deadLettered] ?? 0)"
            )
            for entry in entries.suffix(limit ?? entries.count) {
                let received = Timestamp.format(
                    milliseconds: Int64((entry.record.receivedAt.timeIntervalSince1970 * 1000).rounded())
                )
                var line = "\(entry.id)  \(received)  \(stateName(entry.state).padding(to: 7))  \(entry.record.kind)"
                let failing = entry.handlers.filter { $0.status != .succeeded }
                if let reason = entry.deadLetterReason {
                    line += "  (\(reason))"
                } else if !failing.isEmpty {
                    line +=
                        "  "
                        + failing.map { "\($0.handler): \($0.status.rawValue) after \($0.attempts)" }.joined(
                            separator: ", "
                        )
                }
                printOutput(line)
            }
            return 0
        } catch {
            printError("Error: \(error)")
            return 1
        }
    }

    private static func show(_ entry: JournalEntry) {
        printOutput("id: \(entry.id)")
        printOutput("kind: \(entry.record.kind)")
        printOutput("state: \(stateName(entry.state))")
        printOutput(
            "received: \(Timestamp.format(milliseconds: Int64((entry.record.receivedAt.timeIntervalSince1970 * 1000).rounded())))"
        )
        for progress in entry.handlers {
            printOutput(
                "handler \(progress.handler): \(progress.status.rawValue), \(progress.attempts) attempt(s)"
                    + (progress.lastError.map { ", last error: \($0)" } ?? "")
            )
        }
        if let reason = entry.deadLetterReason { printOutput("dead letter: \(reason)") }
        for field in entry.record.headers { printOutput("\(field.name): \(field.value)") }
        printOutput("")
        if let json = try? JSONValue(parsing: entry.record.body) {
            printOutput(json.serialized(pretty: true))
        } else {
            printOutput(String(decoding: entry.record.body, as: UTF8.self))
        }
    }

    /// A record as a JSON fixture; with `redact`, personal data is masked.
    static func export(_ entry: JournalEntry, redact: Bool) -> JSONObject {
        var object = JSONObject()
        object.append(key: "id", value: .number(JSONNumber(entry.id)))
        object.append(key: "kind", value: .string(entry.record.kind))
        object.append(key: "state", value: .string(stateName(entry.state)))
        object.append(
            key: "receivedAt",
            value: .string(
                Timestamp.format(milliseconds: Int64((entry.record.receivedAt.timeIntervalSince1970 * 1000).rounded()))
            )
        )
        var headers = JSONObject()
        for field in entry.record.headers { headers.append(key: field.name, value: .string(field.value)) }
        object.append(key: "headers", value: .object(headers))
        if let json = try? JSONValue(parsing: entry.record.body) {
            object.append(key: "body", value: redact ? Redaction.redact(json) : json)
        } else {
            object.append(
                key: "bodyText",
                value: .string(
                    redact
                        ? Redaction.mask(String(decoding: entry.record.body, as: UTF8.self))
                        : String(decoding: entry.record.body, as: UTF8.self)
                )
            )
        }
        return object
    }
}

/// Masks personal data in a payload while keeping its shape: every string becomes one of the
/// same length with letters as `x` and digits as `0` (so `+15551234567` becomes `+00000000000`),
/// except values of enum-like and date fields (`userType`, `identityType`, `type`, `status`,
/// `*Date`), which carry no personal data and are what a fixture needs.
enum Redaction {
    static func redact(_ value: JSONValue, key: String? = nil) -> JSONValue {
        switch value {
        case .string(let text):
            if let key, isKept(key) { return value }
            return .string(mask(text))
        case .array(let elements):
            return .array(elements.map { redact($0, key: key) })
        case .object(let object):
            return .object(
                JSONObject(members: object.members.map { .init(key: $0.key, value: redact($0.value, key: $0.key)) })
            )
        default:
            return value
        }
    }

    static func isKept(_ key: String) -> Bool {
        let lower = key.lowercased()
        return lower.hasSuffix("type") || lower == "status" || lower.hasSuffix("date") || lower == "kind"
    }

    static func mask(_ text: String) -> String {
        String(
            text.unicodeScalars.map { scalar -> Character in
                if scalar.properties.isAlphabetic { return "x" }
                if ("0"..."9").contains(scalar) { return "0" }
                return Character(scalar)
            }
        )
    }
}
