#if os(Linux)
import Glibc
package import PromptEvents

#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif

/// The ``DeliveryStore`` contract in PostgreSQL: one store shared by every instance.
///
/// - **Admission** costs no round trip per delivery: ``append(_:kind:deduplicationKey:acknowledgement:deadLetterReason:)``
///   takes an id from this instance's block (reserved from the sequence, one round trip per
///   ``PostgresSchema/idBlockSize`` deliveries) and keeps the row; ``commit()`` stores the whole
///   group in one statement, one round trip, atomically, and nobody hears 2xx before it returned
///   (with `synchronous_commit` on, the server's default, the rows are on the server's disk).
/// - **De-duplication** is cluster-wide: each key is a row of `deduplication_keys`, claimed in
///   the statement that stores its delivery (`ON CONFLICT` on the key, replacing an expired
///   claim), so two instances given one body store it once. A repeat within one group is known
///   at append; one committed first by another instance is reported by ``commit()`` (its
///   delivery is not stored, and the sender hears it was a duplicate).
/// - **Progress** (attempts, outcomes) is buffered and written by ``commitProgress()`` in one
///   round trip on a second connection, which also serves inspection, replay and retention.
///
/// - **Leases**: each pending delivery belongs to the instance handling it (``Configuration/lease``,
///   renewed by ``renewClaims()``); one whose lease lapsed (its instance died) is claimed by
///   the next ``renewClaims()`` anywhere.
///
/// A broken connection is dropped and opened again on the next call; while the server cannot
/// be reached, calls fail at once for ``Configuration/reconnectDelay`` instead of each waiting
/// for a connect (the listener answers 503 meanwhile, and `/healthz` says why until a call
/// succeeds again: a delivery, or the dispatcher's renewal every third of the lease). Not done
/// yet: the store's size bound (``Journal/Configuration/maximumSize``) is not enforced.
package final class PostgresDeliveryStore: DeliveryStore {
    /// Where the database is and how the store uses it.
    package struct Configuration: Sendable {
        /// The server and credentials.
        package var url: PostgresURL
        /// The schema holding the tables; default `prompt_events`.
        package var schema = "prompt_events"
        /// The bound on connecting and on each round trip; default 10 s.
        package var timeout: Duration = .seconds(10)
        /// How long calls fail at once after a failed connect; default 500 ms.
        package var reconnectDelay: Duration = .milliseconds(500)
        /// Whether opening the store creates or migrates its schema (a listener), or only checks
        /// that it is there at this binary's version (inspection, which must not create an
        /// empty schema for a mistyped name); default `true`.
        package var migrates = true
        /// How long a pending delivery stays with the instance handling it without a renewal.
        ///
        /// Default 30 s, renewed every third of it; past it, another instance takes it over.
        package var lease = defaultLease

        /// 30 seconds.
        package static let defaultLease: Duration = .seconds(30)
        /// Dropped headers, de-duplication window and retention periods (the size bound is not
        /// used).
        package var journal = Journal.Configuration()

        /// Creates a configuration for a server.
        ///
        /// - Parameter url: The server and credentials.
        package init(url: PostgresURL) {
            self.url = url
        }
    }

    /// A delivery appended and not yet committed.
    private struct Row {
        let record: JournalRecord
        let key: [UInt8]?
        let keyExpiresAt: Date?
        let finishedAt: Date?
        /// Whether the key is claimed when stored (durable acknowledgement).
        let claims: Bool
        /// Whether the key is remembered only once the delivery is done (after-handlers).
        let countsWhenDone: Bool
    }

    /// The deliveries appended since the last commit.
    private struct Batch {
        var rows: [Row] = []
        /// The keys claimed by this batch, so a repeat inside it is a duplicate at once.
        var claimedKeys: [[UInt8]: UInt64] = [:]
    }

    /// One connection, with what is pending on it.
    private struct Session {
        var connection: PostgresConnection?
        var batch = Batch()
        /// The rest of this instance's block of delivery ids.
        var ids: Range<UInt64> = 0..<0
        /// After a failed connect: fail at once until then (monotonic nanoseconds), with this error.
        var refused: (until: UInt64, error: PostgresError)?
    }

    /// A write of ``commitProgress()``.
    enum ProgressWrite {
        case attempt(UInt64, HandlerProgress)
        case finished(UInt64, JournalRecord.State, at: Date)
    }

    let configuration: Configuration
    private let schema: PostgresSchema
    private let droppedHeaderNames: Set<Headers.CanonicalName>
    private let admission: Locked<Session>
    private let operations: Locked<Session>
    let buffered = Locked<[ProgressWrite]>([])
    /// The progress of the deliveries this instance appended or resumed and has not finished,
    /// so ``handlerProgress(for:)`` costs no round trip on the event loop's thread.
    let progress = Locked<[UInt64: [String: HandlerProgress]]>([:])
    private let closed = Locked(false)
    /// The last connection failure of admission, until an append or commit succeeds again.
    private let outage = Locked<PostgresError?>(nil)
    let statements: PostgresStoreStatements
    /// This instance's name on its leases: host, process id and a random part.
    let owner: String
    package let now: @Sendable () -> Date

    /// Connects, creates or migrates the schema, and returns the store.
    ///
    /// - Parameters:
    ///   - configuration: The server, schema and journal settings.
    ///   - now: The clock for retention, de-duplication windows and progress times.
    /// - Throws: ``PostgresError``: the server cannot be reached, refuses the credentials, or
    ///   holds a schema newer than this binary.
    package init(
        configuration: Configuration,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws(PostgresError) {
        self.configuration = configuration
        self.schema = try PostgresSchema(configuration.schema)
        self.droppedHeaderNames = Set(
            (["Authorization"] + configuration.journal.droppedHeaderNames).map(Headers.CanonicalName.init)
        )
        self.statements = PostgresStoreStatements(schema.name)
        self.owner = Self.instanceName()
        self.now = now
        let first = try Self.connect(configuration)
        if configuration.migrates {
            try schema.migrate(first)
        } else {
            try schema.check(first)
        }
        admission = Locked(Session(connection: first))
        operations = Locked(Session())
    }

    private static func instanceName() -> String {
        var host = [CChar](repeating: 0, count: 256)
        _ = gethostname(&host, host.count - 1)
        let name = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "\(name)/\(getpid())/\(String(UInt64.random(in: 0...UInt64.max), radix: 36))"
    }

    private static func connect(_ configuration: Configuration) throws(PostgresError) -> PostgresConnection {
        try PostgresConnection.connect(
            to: configuration.url,
            timeout: configuration.timeout,
            parameters: [("statement_timeout", String(configuration.timeout.nanoseconds / 1_000_000))]
        )
    }

    // MARK: Admission

    package func append(
        _ delivery: Delivery,
        kind: String,
        deduplicationKey: [UInt8]?,
        acknowledgement: AcknowledgementMode,
        deadLetterReason: String?
    ) throws -> Journal.AppendResult {
        let stored = try DeliveryStoreArguments.check(
            delivery,
            deduplicationKey: deduplicationKey,
            acknowledgement: acknowledgement,
            droppingHeadersNamed: droppedHeaderNames
        )
        try checkOpen()
        let current = now()
        let window = configuration.journal.deduplicationWindow
        let key = window > .zero ? deduplicationKey : nil
        let record = try admission.withLock { (session) throws -> Journal.AppendResult in
            let claims = key != nil && acknowledgement == .durable
            if claims, let key, let original = session.batch.claimedKeys[key] { return .duplicate(of: original) }
            let id = try nextID(&session)
            let record = JournalRecord(id: id, kind: kind, delivery: stored, deadLetterReason: deadLetterReason)
            session.batch.rows.append(
                Row(
                    record: record,
                    key: key,
                    keyExpiresAt: key.map { _ in stored.receivedAt.addingTimeInterval(window.asTimeInterval) },
                    finishedAt: deadLetterReason == nil ? nil : current,
                    claims: claims,
                    countsWhenDone: key != nil && acknowledgement == .afterHandlers
                )
            )
            if claims, let key { session.batch.claimedKeys[key] = id }
            return .appended(record)
        }
        if case .appended(let record) = record, deadLetterReason == nil {
            progress.withLock { $0[record.id] = [:] }
        }
        return record
    }

    /// The next delivery id: from this instance's block, reserving a new block of
    /// ``PostgresSchema/idBlockSize`` ids from the sequence when it runs out (one round trip).
    private func nextID(_ session: inout Session) throws(PostgresError) -> UInt64 {
        if session.ids.isEmpty {
            let first = try runAdmission(&session) { connection throws(PostgresError) in
                try connection.rows(statements.reserveIDs).first.orThrow("nextval returned no row").id(0)
            }
            session.ids = first..<(first + PostgresSchema.idBlockSize)
        }
        defer { session.ids = session.ids.dropFirst() }
        return session.ids.lowerBound
    }

    /// Stores the group in one statement (one round trip), and reports the deliveries another
    /// instance had committed first: appended here as new, they are not stored.
    ///
    /// A connection lost before the answer is retried once on a new one: the statement either
    /// ran and committed (the retry then conflicts on the ids and fails: answered 503, the
    /// sender retries, the key finds the original) or did not run at all.
    ///
    /// - Throws: ``PostgresError``: nothing of the group is stored.
    @discardableResult
    package func commit() throws -> CommitReport {
        let current = now()
        return try admission.withLock { (session) throws -> CommitReport in
            let rows = session.batch.rows
            session.batch = Batch()
            guard !rows.isEmpty else { return CommitReport() }
            let statement = PostgresConnection.Statement(
                statements.insertBatch,
                batchParameters(rows, now: current)
            )
            do {
                let result = try runAdmission(&session) { connection throws(PostgresError) in
                    try connection.rows(statement.sql, statement.parameters)
                }
                var report = CommitReport()
                var unresolved: [[UInt8]] = []
                for row in result {
                    let id = try row.id(0)
                    if row.isNull(1) {
                        // Its key's holder committed while this statement waited on it.
                        if let key = rows.first(where: { $0.record.id == id })?.key { unresolved.append(key) }
                        report.duplicates[id] = 0
                    } else {
                        report.duplicates[id] = try row.id(1)
                    }
                }
                if !unresolved.isEmpty {
                    let holders = try runAdmission(&session) { connection throws(PostgresError) in
                        try connection.rows(
                            statements.keyHolders,
                            [.array(unresolved.map { .bytea($0) }, of: PostgresValue.byteaOID)]
                        )
                    }
                    var holderByKey: [[UInt8]: UInt64] = [:]
                    for holder in holders { holderByKey[try holder.bytes(0)] = try holder.id(1) }
                    for row in rows where report.duplicates[row.record.id] == 0 {
                        report.duplicates[row.record.id] = row.key.flatMap { holderByKey[$0] } ?? 0
                    }
                }
                forgetProgress(of: Array(report.duplicates.keys))
                if outage.withLock({ $0 != nil }) { outage.withLock { $0 = nil } }
                return report
            } catch {
                forgetProgress(of: rows.map(\.record.id))
                throw error
            }
        }
    }

    /// Runs `body` on the admission connection; a connection failure is remembered for
    /// `/healthz` until a call succeeds.
    ///
    /// A connection that had been open and turns out dead (the server restarted, or ended it,
    /// while it was idle) is replaced and `body` run once more. For a commit that is safe: the
    /// statement either never ran, or ran and committed, and then the retry conflicts on the
    /// group's ids and fails (503; the sender's retry meets the key of the stored original).
    private func runAdmission<Result>(
        _ session: inout Session,
        _ body: (PostgresConnection) throws(PostgresError) -> Result
    ) throws(PostgresError) -> Result {
        let wasOpen = session.connection.map { !$0.isBroken } ?? false
        do {
            do {
                return try body(try openConnection(&session))
            } catch let error where wasOpen && error.code == .connection {
                return try body(try openConnection(&session))
            }
        } catch {
            if error.code != .server { outage.withLock { $0 = error } }
            throw error
        }
    }

    /// The group's rows as one array per column, for `unnest`.
    private func batchParameters(_ rows: [Row], now: Date) -> [PostgresValue] {
        func column(_ type: UInt32, _ value: (Row) -> PostgresValue) -> PostgresValue {
            .array(rows.map(value), of: type)
        }
        return [
            column(PostgresValue.int8OID) { .id($0.record.id) },
            column(PostgresValue.byteaOID) { .bytea($0.key) },
            column(PostgresValue.timestamptzOID) { .timestamp($0.record.receivedAt) },
            column(PostgresValue.timestamptzOID) { .timestamp($0.keyExpiresAt) },
            column(PostgresValue.textOID) { .text($0.record.kind) },
            column(PostgresValue.textOID) { .text($0.record.delivery.method) },
            column(PostgresValue.textOID) { .text($0.record.delivery.target) },
            column(PostgresValue.textOID) { .text(Self.encode($0.record.headers)) },
            column(PostgresValue.byteaOID) { .bytea($0.record.body) },
            column(PostgresValue.textOID) {
                .text(($0.record.deadLetterReason == nil ? JournalRecord.State.pending : .deadLettered).rawValue)
            },
            column(PostgresValue.textOID) { .text($0.record.deadLetterReason) },
            column(PostgresValue.timestamptzOID) { .timestamp($0.finishedAt) },
            column(PostgresValue.boolOID) { .bool($0.countsWhenDone) },
            column(PostgresValue.boolOID) { .bool($0.claims) },
            .timestamp(now),
            .text(owner),
            .seconds(configuration.lease),
        ]
    }

    /// The last connection failure while committing, until a commit succeeds again.
    package var unavailability: String? { outage.withLock { $0?.description } }

    package func close() throws {
        guard !closed.withLock({ $0 }) else { return }
        defer {
            closed.withLock { $0 = true }
            admission.withLock { $0.connection?.close() }
            operations.withLock { $0.connection?.close() }
        }
        _ = try commit()
        try commitProgress()
        // Let the others take over at once what this instance leaves pending.
        _ = try? withOperations { try $0.rows(statements.releaseLeases, [.text(owner)]) }
    }

    // MARK: Connections

    func checkOpen() throws(JournalError) {
        if closed.withLock({ $0 }) { throw JournalError(.closed, "the store is closed") }
    }

    /// The session's connection, connecting first if it has none (or a broken one).
    private func openConnection(_ session: inout Session) throws(PostgresError) -> PostgresConnection {
        if let connection = session.connection, !connection.isBroken { return connection }
        session.connection = nil
        let current = monotonicNanoseconds()
        if let refused = session.refused, current < refused.until { throw refused.error }
        do {
            let connection = try Self.connect(configuration)
            session.connection = connection
            session.refused = nil
            return connection
        } catch {
            session.refused = (current &+ configuration.reconnectDelay.nanoseconds, error)
            throw error
        }
    }

    /// Runs `body` on the operations connection.
    ///
    /// Its outcome also tells `/healthz`: a connection failure is an outage, a success ends one
    /// (so an idle instance notices both within one renewal).
    func withOperations<Result>(_ body: (PostgresConnection) throws -> Result) throws -> Result {
        do {
            let result = try operations.withLock { (session) throws -> Result in
                try body(try openConnection(&session))
            }
            if outage.withLock({ $0 != nil }) { outage.withLock { $0 = nil } }
            return result
        } catch let error as PostgresError where error.code != .server {
            outage.withLock { $0 = error }
            throw error
        }
    }

    func forgetProgress(of ids: [UInt64]) {
        guard !ids.isEmpty else { return }
        progress.withLock { progress in
            for id in ids { progress[id] = nil }
        }
    }

    // MARK: Rows

    /// Headers as stored: one `Name: value` per line (field values never hold CR or LF).
    static func encode(_ headers: Headers) -> String {
        headers.map { "\($0.name): \($0.value)\r\n" }.joined()
    }

    static func decodeHeaders(_ text: String) -> Headers {
        var headers = Headers()
        for line in text.split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append(name: String(line[..<colon]), value: String(line[line.index(after: colon)...].dropFirst()))
        }
        return headers
    }

    /// A record from the columns `id, kind, received_at, method, target, headers, body, _,
    /// dead_letter_reason`.
    static func record(_ row: PostgresRow) throws(PostgresError) -> JournalRecord {
        JournalRecord(
            id: try row.id(0),
            kind: try row.text(1),
            delivery: Delivery(
                method: try row.text(3),
                target: try row.text(4),
                headers: decodeHeaders(try row.text(5)),
                body: try row.bytes(6),
                receivedAt: try row.date(2)
            ),
            deadLetterReason: row.optionalText(8)
        )
    }

    /// Progress from the columns `delivery_id, handler, status, attempts, last_error, updated_at`.
    static func progress(_ row: PostgresRow) throws(PostgresError) -> HandlerProgress {
        HandlerProgress(
            handler: try row.text(1),
            status: try HandlerProgress.Status(rawValue: row.text(2)).orThrow("an unknown handler status"),
            attempts: Int(try row.int32(3)),
            lastError: row.optionalText(4),
            updatedAt: try row.date(5)
        )
    }

}

extension Optional {
    /// The value, or a ``PostgresError/Code/protocolViolation`` saying what was missing.
    func orThrow(_ what: String) throws(PostgresError) -> Wrapped {
        guard let self else { throw PostgresError.protocolViolation(what) }
        return self
    }
}
#endif
