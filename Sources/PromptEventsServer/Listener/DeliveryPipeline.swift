import Dispatch
package import PromptEvents
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Connects the event loop to the journal and the dispatcher, per acknowledgement mode.
///
/// The modes:
///
/// - ``AcknowledgementMode/durable``: append to the journal, answer 2xx once the loop turn's
///   group commit (`fdatasync`) succeeded, then dispatch from the journal;
/// - ``AcknowledgementMode/afterHandlers``: append and commit, run the handlers, answer 2xx
///   when all succeeded or 500 when one was dead-lettered;
/// - ``AcknowledgementMode/inMemory``: nothing on disk; answer 2xx at once and dispatch.
///
/// De-duplication keys are the event kind plus the SHA-256 of the exact body; a duplicate is
/// answered 2xx and not dispatched again.
final class DeliveryPipeline: DeliverySink, @unchecked Sendable {
    // @unchecked: `uncommitted` is touched only on the event loop thread (the DeliverySink
    // contract); `loop` is set once before the loop starts; everything else is immutable or
    // thread-safe (Journal, Dispatcher, Metrics).

    /// Where deliveries are kept (the file journal), or `nil` in memory mode.
    let store: (any DeliveryStore)?
    /// The store, when it is the file journal.
    var journal: Journal? { store as? Journal }
    private let dispatcher: Dispatcher
    private let mode: AcknowledgementMode
    private let deduplicates: Bool
    /// `Authorization` and token headers: never handed to handlers, stored or forwarded.
    private let secretHeaderNames: Set<Headers.CanonicalName>
    private let metrics: Metrics
    private let observer: @Sendable (ListenerEvent) -> Void
    private var uncommitted: [(record: JournalRecord, event: AnyEvent, ticket: Ticket)] = []
    /// In-memory deliveries accepted this loop turn, not yet handed to the dispatcher.
    private var undispatched: [(record: JournalRecord, event: AnyEvent)] = []
    private weak var loop: (any AnswerMailbox)?
    private let maximumBacklog: Int
    private var paused = false
    private let retentionRunning = Atomic(false)
    /// During an outage (a full or vanished disk) every request fails the same way: its request
    /// line says 503 each time; the cause is worth a line every few seconds, not per request.
    private var appendFailures = RepeatedWarning(interval: .seconds(10))
    private var syncFailures = RepeatedWarning(interval: .seconds(10))

    init(
        receiver: WebhookReceiver,
        configuration: WebhookListener.Configuration,
        metrics: Metrics,
        observer: @escaping @Sendable (ListenerEvent) -> Void
    ) throws {
        mode = configuration.acknowledgement
        maximumBacklog = configuration.dispatcher.maximumBacklog
        deduplicates = configuration.journal.deduplicationWindow > .zero
        secretHeaderNames = Set(receiver.authentication.secretHeaderNames.map(Headers.CanonicalName.init))
        self.metrics = metrics
        self.observer = observer
        if mode == .inMemory {
            store = nil
        } else {
            var journalConfiguration = configuration.journal
            journalConfiguration.droppedHeaderNames += receiver.authentication.secretHeaderNames
            switch configuration.store {
            case .journal:
                let journal = try Journal.open(
                    at: configuration.journalDirectory,
                    configuration: journalConfiguration,
                    metrics: metrics
                )
                let report = journal.recoveryReport
                if !report.isClean { observer(.warning("journal recovery: \(report)")) }
                store = journal
            case .postgres(let url, let schema, let lease):
                var postgres = PostgresDeliveryStore.Configuration(url: url)
                postgres.schema = schema
                postgres.lease = lease
                postgres.journal = journalConfiguration
                if !url.isLoopbackOrPrivate {
                    observer(
                        .warning(
                            "the PostgreSQL store \(url) is not on loopback or a private network, and this "
                                + "connection is not encrypted: use a TLS tunnel (stunnel, pgbouncer)"
                        )
                    )
                }
                store = try PostgresDeliveryStore(configuration: postgres)
            }
        }
        dispatcher = Dispatcher(
            handlers: ReceiverHandlers(receiver: receiver),
            store: store,
            configuration: configuration.dispatcher,
            metrics: metrics
        )
    }

    func attach(_ loop: any AnswerMailbox) {
        self.loop = loop
    }

    func start() {
        do {
            try dispatcher.start()
        } catch {
            observer(.warning("cannot resume pending deliveries (new ones are handled): \(error)"))
        }
    }

    /// Stops the handlers (cancelling those still running after `gracePeriod`) and closes the
    /// journal; blocks the calling thread, which must not be one of the concurrency pool's.
    func stop(gracePeriod: Duration) {
        let done = DispatchSemaphore(value: 0)
        Task {
            await shutdown(gracePeriod: gracePeriod)
            done.signal()
        }
        // The loop thread is ours (not the concurrency pool's): blocking it until the handlers
        // stop keeps `run()` from returning early, without polling.
        done.wait()
    }

    /// Stops the handlers (cancelling those still running after `gracePeriod`) and closes the journal.
    func shutdown(gracePeriod: Duration) async {
        await dispatcher.shutdown(gracePeriod: gracePeriod)
        try? store?.close()
    }

    // MARK: - DeliverySink

    var unavailability: String? { store?.unavailability }

    var hasUncommitted: Bool { !uncommitted.isEmpty || !undispatched.isEmpty }

    func shouldPauseReading() -> Bool {
        let backlog = dispatcher.backlog + uncommitted.count + undispatched.count
        paused = paused ? backlog > maximumBacklog / 2 : backlog >= maximumBacklog
        if paused {
            // The loop sleeps until this wakes it: no polling while handlers catch up.
            dispatcher.whenBacklog(atMost: maximumBacklog / 2) { [weak loop] in loop?.wakeUp() }
        }
        return paused
    }

    func accept(_ event: AnyEvent, ticket: Ticket) -> SinkDecision {
        var delivery = Delivery(
            method: "POST",
            target: "/" + event.kind.rawValue,
            headers: event.headers,
            body: event.body,
            receivedAt: event.receivedAt
        )
        guard let store else {
            // The journal drops these itself (they are in its droppedHeaderNames); without one:
            delivery.headers.removeAll(namedAnyOf: secretHeaderNames)
            // Handed to the dispatcher at the end of the loop turn, all at once: one wake-up of
            // the concurrency pool per turn instead of one per delivery.
            let record = dispatcher.makeEphemeralRecord(for: delivery, kind: event.kind.rawValue)
            undispatched.append((record, Self.handlerEvent(event, record: record)))
            return .respond(Self.accepted, deliveryID: record.id, duplicate: false)
        }
        let result: Journal.AppendResult
        do {
            result = try store.append(
                delivery,
                kind: event.kind.rawValue,
                deduplicationKey: deduplicates ? Self.deduplicationKey(kind: event.kind, body: event.body) : nil,
                acknowledgement: mode,
                deadLetterReason: nil
            )
        } catch {
            if let warning = appendFailures.report(
                "journal append failed, answering 503 (Prompt.io retries): \(error)"
            ) {
                observer(.warning(warning))
            }
            if let error = error as? JournalError, error.code == .full { makeRoom(in: store) }
            return .respond(Self.unavailable, deliveryID: nil, duplicate: false)
        }
        switch result {
        case .duplicate(let original):
            metrics.recordDuplicate()
            // Answered after the commit, so the original is on disk before anyone hears 2xx.
            return .respondAfterCommit(Self.duplicate, deliveryID: original, duplicate: true)
        case .appended(let record):
            uncommitted.append((record, Self.handlerEvent(event, record: record), ticket))
            return mode == .afterHandlers
                ? .respondLater(deliveryID: record.id)
                : .respondAfterCommit(Self.accepted, deliveryID: record.id, duplicate: false)
        }
    }

    /// A full journal: retention now, off the loop thread (at 90 % of the bound it also removes
    /// delivered deliveries younger than their retention period), at most one run at a time.
    private func makeRoom(in store: any DeliveryStore) {
        guard !retentionRunning.exchange(true, ordering: .acquiringAndReleasing) else { return }
        DispatchQueue.global().async {
            do {
                let report = try store.applyRetention()
                self.observer(.warning("journal full: retention freed \(report.bytesFreed) bytes"))
            } catch {
                self.observer(.warning("journal full, and retention failed: \(error)"))
            }
            self.retentionRunning.store(false, ordering: .releasing)
        }
    }

    func keepDeadLetter(_ delivery: Delivery, kind: EventKind, reason: String) -> Bool {
        guard let store else { return true }
        do {
            _ = try store.append(
                delivery,
                kind: kind.rawValue,
                deduplicationKey: nil,
                acknowledgement: .durable,
                deadLetterReason: reason
            )
            return true
        } catch {
            observer(.warning("journal append of a dead letter failed: \(error)"))
            return false
        }
    }

    func commit() -> CommitOutcome {
        guard let store else {
            dispatcher.enqueue(contentsOf: undispatched.map { ($0.record, $0.event) })
            undispatched.removeAll(keepingCapacity: true)
            return .succeeded
        }
        var batch = uncommitted
        uncommitted.removeAll(keepingCapacity: true)
        let report: CommitReport
        do {
            report = try store.commit()
        } catch {
            if let warning = syncFailures.report("journal sync failed, answering 503: \(error)") {
                observer(.warning(warning))
            }
            for (_, _, ticket) in batch where mode == .afterHandlers {
                loop?.complete(ticket, with: Self.unavailable)
            }
            return CommitOutcome(failure: Self.unavailable)
        }
        if !report.duplicates.isEmpty {
            // Another instance committed these first: answered as duplicates, not dispatched.
            for (record, _, ticket) in batch where report.duplicates[record.id] != nil {
                metrics.recordDuplicate()
                if mode == .afterHandlers { loop?.complete(ticket, with: Self.duplicate) }
            }
            batch.removeAll { report.duplicates[$0.record.id] != nil }
        }
        guard mode == .afterHandlers else {
            dispatcher.enqueue(contentsOf: batch.map { ($0.record, $0.event) })
            return CommitOutcome(duplicates: report.duplicates)
        }
        for (record, event, ticket) in batch {
            let dispatcher = self.dispatcher
            let loop = self.loop
            Task {
                let outcome = await dispatcher.submit(record, event: event)
                loop?.complete(ticket, with: Self.response(for: outcome))
            }
        }
        return .succeeded
    }

    /// The event as handlers see it: what the record holds (no secret headers, the journal's
    /// id and time), with the JSON the loop already parsed.
    static func handlerEvent(_ event: AnyEvent, record: JournalRecord) -> AnyEvent {
        var event = event
        event.headers = record.headers
        event.receivedAt = record.receivedAt
        event.deliveryID = record.id
        return event
    }

    // MARK: - Answers

    static let accepted = WebhookResponse(status: 200, body: Array("OK\n".utf8))
    static let duplicate = WebhookResponse(
        status: 200,
        headers: ["Prompt-Listen-Duplicate": "true"],
        body: Array("OK\n".utf8)
    )
    static let unavailable = WebhookResponse(
        status: 503,
        headers: ["Retry-After": "5"],
        body: Array("Journal unavailable\n".utf8)
    )

    static func response(for outcome: DeliveryOutcome) -> WebhookResponse {
        switch outcome {
        case .succeeded: accepted
        case .failed: WebhookResponse(status: 500, body: Array("Handler failed\n".utf8))
        case .interrupted:
            WebhookResponse(status: 503, headers: ["Retry-After": "5"], body: Array("Shutting down\n".utf8))
        }
    }

    /// The kind, a zero byte, then the SHA-256 of the exact body.
    static func deduplicationKey(kind: EventKind, body: [UInt8]) -> [UInt8] {
        Array(kind.rawValue.utf8.prefix(31)) + [0] + SHA256.hash(body)
    }
}

/// The receiver's handlers as the dispatcher sees them: names per record, and a way to run one.
package struct ReceiverHandlers: DeliveryHandlers {
    let receiver: WebhookReceiver

    /// Wraps a receiver.
    ///
    /// - Parameter receiver: The receiver whose handlers run.
    package init(receiver: WebhookReceiver) {
        self.receiver = receiver
    }

    /// The names of the handlers registered for the record's kind, and catch-alls.
    ///
    /// - Parameter record: The delivery.
    /// - Returns: Handler names, in registration order.
    package func handlerNames(for record: JournalRecord) -> [String] {
        receiver.handlers(for: EventKind(record.kind)).map(\.name)
    }

    /// Runs one handler on the record, with the event as already parsed when there is one.
    ///
    /// - Parameters:
    ///   - name: The handler's name.
    ///   - record: The delivery.
    ///   - event: The event as parsed when the delivery arrived, or `nil` to parse the record's body.
    /// - Throws: ``HandlerError`` when the handler fails.
    package func run(handler name: String, record: JournalRecord, event: AnyEvent?) async throws {
        if let event {
            return try await receiver.run(handlerNamed: name, event: event)
        }
        guard case .object(let json) = try JSONValue(parsing: record.body) else {
            throw HandlerError(
                handlerName: name,
                kind: EventKind(record.kind),
                message: "The journaled body is not a JSON object."
            )
        }
        var event = AnyEvent(
            kind: EventKind(record.kind),
            json: json,
            body: record.body,
            headers: record.headers,
            receivedAt: record.receivedAt,
            deliveryID: record.id
        )
        event.deliveryID = record.id
        try await receiver.run(handlerNamed: name, event: event)
    }
}

/// A warning that would repeat for every request while a fault lasts: reported at most once per
/// `interval`, saying how many were folded into it.
struct RepeatedWarning {
    let interval: Duration
    private var lastReport: ContinuousClock.Instant?
    private var folded = 0

    init(interval: Duration) {
        self.interval = interval
    }

    /// Returns the line to log now, or `nil` when it was folded into the next one.
    mutating func report(_ message: String, now: ContinuousClock.Instant = .now) -> String? {
        if let lastReport, now - lastReport < interval {
            folded += 1
            return nil
        }
        defer {
            lastReport = now
            folded = 0
        }
        return folded == 0 ? message : "\(message) (and \(folded) more since the last report)"
    }
}
