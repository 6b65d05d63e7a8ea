#if os(Linux)
package import PromptEvents

#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif

/// The ``DeliveryStore`` contract in PostgreSQL: one store shared by every instance.
///
/// - **Admission** runs on a connection of its own: the first ``append(_:kind:deduplicationKey:acknowledgement:deadLetterReason:)``
///   of a group opens a transaction (`BEGIN` travels with the first insert), each append is one
///   round trip, and ``commit()`` is one `COMMIT`: nobody hears 2xx before it returned (with
///   `synchronous_commit` on, the server's default, the row is on the server's disk). One failed
///   append fails the whole group: it is rolled back and ``commit()`` throws, so every delivery
///   of the group is answered 503 and retried by its sender.
/// - **De-duplication** is cluster-wide: a key is a row of `deduplication_keys`, claimed in the
///   same statement as the insert (`ON CONFLICT` on the key, replacing an expired claim), so two
///   instances given the same body store it once.
/// - **Progress** (attempts, outcomes) is buffered and written by ``commitProgress()`` in one
///   round trip on a second connection, which also serves inspection, replay and retention.
///
/// A broken connection is dropped and opened again on the next call; while the server cannot
/// be reached, calls fail at once for ``Configuration/reconnectDelay`` instead of each waiting
/// for a connect (the listener answers 503 meanwhile). Not done yet: the store's size bound
/// (``Journal/Configuration/maximumSize``) is not enforced, and the deliveries another
/// instance left pending are resumed by whichever instance starts next, not leased.
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

    /// One connection and where its transaction stands.
    private struct Session {
        enum Transaction {
            case none
            /// Open, holding the deliveries appended so far.
            case open(appended: [UInt64])
            /// An append failed: the transaction was rolled back; the next commit reports this.
            case failed(PostgresError)
        }

        var connection: PostgresConnection?
        var transaction = Transaction.none
        /// After a failed connect: fail at once until then (monotonic nanoseconds), with this error.
        var refused: (until: UInt64, error: PostgresError)?
    }

    /// A write of ``commitProgress()``.
    private enum ProgressWrite {
        case attempt(UInt64, HandlerProgress)
        case finished(UInt64, JournalRecord.State, at: Date)
    }

    private let configuration: Configuration
    private let schema: PostgresSchema
    private let droppedHeaderNames: Set<Headers.CanonicalName>
    private let admission: Locked<Session>
    private let operations: Locked<Session>
    private let buffered = Locked<[ProgressWrite]>([])
    /// The progress of the deliveries this instance appended or resumed and has not finished,
    /// so ``handlerProgress(for:)`` costs no round trip on the event loop's thread.
    private let progress = Locked<[UInt64: [String: HandlerProgress]]>([:])
    private let closed = Locked(false)
    /// The last connection failure of admission, until an append or commit succeeds again.
    private let outage = Locked<PostgresError?>(nil)
    private let statements: Statements
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
        self.statements = Statements(schema.name)
        self.now = now
        let first = try Self.connect(configuration)
        try schema.migrate(first)
        admission = Locked(Session(connection: first))
        operations = Locked(Session())
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
        let claims = key != nil && acknowledgement == .durable
        let parameters: [PostgresValue] = [
            .bytea(key),
            .timestamp(stored.receivedAt),
            .timestamp(current),
            .timestamp(key.map { _ in stored.receivedAt.addingTimeInterval(window.asTimeInterval) }),
            .text(kind),
            .text(stored.method),
            .text(stored.target),
            .text(Self.encode(stored.headers)),
            .bytea(stored.body),
            .text((deadLetterReason == nil ? JournalRecord.State.pending : .deadLettered).rawValue),
            .text(deadLetterReason),
            .timestamp(deadLetterReason == nil ? nil : current),
            .bool(key != nil && acknowledgement == .afterHandlers),
        ]
        let insert = PostgresConnection.Statement(claims ? statements.claimAndInsert : statements.insert, parameters)
        let result = try admission.withLock { (session) throws -> Journal.AppendResult in
            var appended: [UInt64]
            let begins: Bool
            switch session.transaction {
            case .failed(let error): throw error
            case .open(let ids): (appended, begins) = (ids, false)
            case .none: (appended, begins) = ([], true)
            }
            do {
                let connection = try openConnection(&session)
                let results = try connection.run(begins ? [PostgresConnection.Statement("BEGIN"), insert] : [insert])
                let row = try results[results.count - 1].rows.first.orThrow("the insert returned no row")
                if !row.isNull(0) {
                    let id = try row.id(0)
                    appended.append(id)
                    session.transaction = .open(appended: appended)
                    return .appended(
                        JournalRecord(id: id, kind: kind, delivery: stored, deadLetterReason: deadLetterReason)
                    )
                }
                session.transaction = .open(appended: appended)
                if !row.isNull(1) { return .duplicate(of: try row.id(1)) }
                // The key's holder committed while this statement waited on it: read it afresh.
                let holder = try connection.rows(statements.keyHolder, [.bytea(key)])
                return .duplicate(of: try holder.first.orThrow("a claimed key has no holder").id(0))
            } catch {
                // The transaction is aborted: end it. Deliveries appended before this one in the
                // group are gone with it, so the group's commit must fail.
                if let connection = session.connection, !connection.isBroken {
                    try? connection.execute(script: "ROLLBACK")
                }
                let failure = error as? PostgresError ?? PostgresError(.server, "\(error)")
                session.transaction = appended.isEmpty ? .none : .failed(failure)
                if failure.code != .server { outage.withLock { $0 = failure } }
                forgetProgress(of: appended)
                throw error
            }
        }
        if outage.withLock({ $0 != nil }) { outage.withLock { $0 = nil } }
        if case .appended(let record) = result, deadLetterReason == nil {
            progress.withLock { $0[record.id] = [:] }
        }
        return result
    }

    /// `COMMIT`s the open group, if any.
    ///
    /// - Throws: The error that failed an append of the group, or the commit's own: none of the
    ///   group's deliveries is stored.
    package func commit() throws {
        try admission.withLock { (session) throws in
            defer { session.transaction = .none }
            switch session.transaction {
            case .none:
                return
            case .failed(let error):
                throw error
            case .open(let appended):
                do {
                    let connection = try openConnection(&session)
                    let tag = try connection.run([PostgresConnection.Statement("COMMIT")])[0].tag
                    guard tag == "COMMIT" else {
                        throw PostgresError(.server, "the transaction was rolled back (\(tag))")
                    }
                } catch {
                    forgetProgress(of: appended)
                    throw error
                }
            }
        }
    }

    /// The last connection failure while admitting, until an append succeeds again.
    package var unavailability: String? { outage.withLock { $0?.description } }

    // MARK: Dispatch

    package func pendingEntries() throws -> [JournalEntry] {
        let entries = try entries(matching: JournalQuery(states: [.pending]))
        progress.withLock { progress in
            for entry in entries {
                progress[entry.id] = Dictionary(uniqueKeysWithValues: entry.handlers.map { ($0.handler, $0) })
            }
        }
        return entries
    }

    package func handlerProgress(for deliveryID: UInt64) -> [String: HandlerProgress]? {
        if let known = progress.withLock({ $0[deliveryID] }) { return known }
        guard let entry = try? entries(matching: JournalQuery(ids: [deliveryID])).first else { return nil }
        return Dictionary(uniqueKeysWithValues: entry.handlers.map { ($0.handler, $0) })
    }

    package func recordAttempt(deliveryID: UInt64, progress attempt: HandlerProgress) throws {
        try checkOpen()
        progress.withLock { progress in
            if progress[deliveryID] != nil { progress[deliveryID]?[attempt.handler] = attempt }
        }
        buffered.withLock { $0.append(.attempt(deliveryID, attempt)) }
    }

    package func recordFinished(deliveryID: UInt64, outcome: JournalRecord.State) throws {
        try checkOpen()
        let current = now()
        forgetProgress(of: [deliveryID])
        buffered.withLock { $0.append(.finished(deliveryID, outcome, at: current)) }
    }

    /// Writes the buffered attempts and outcomes in one round trip (one implicit transaction).
    package func commitProgress() throws {
        let writes = buffered.withLock { writes in
            defer { writes.removeAll() }
            return writes
        }
        guard !writes.isEmpty else { return }
        var batch: [PostgresConnection.Statement] = []
        for write in writes {
            switch write {
            case .attempt(let id, let attempt):
                batch.append(
                    PostgresConnection.Statement(
                        statements.upsertProgress,
                        [
                            .id(id), .text(attempt.handler), .text(attempt.status.rawValue),
                            .int32(Int32(clamping: attempt.attempts)), .text(attempt.lastError),
                            .timestamp(attempt.updatedAt),
                        ]
                    )
                )
            case .finished(let id, let outcome, let at):
                batch.append(
                    PostgresConnection.Statement(statements.finish, [.id(id), .text(outcome.rawValue), .timestamp(at)])
                )
                if outcome == .done {
                    batch.append(
                        PostgresConnection.Statement(statements.rememberKeyWhenDone, [.id(id), .timestamp(at)])
                    )
                }
            }
        }
        do {
            _ = try withOperations { try $0.run(batch) }
        } catch {
            // Not lost: put back in front, for the next commit.
            buffered.withLock { $0.insert(contentsOf: writes, at: 0) }
            throw error
        }
    }

    // MARK: Operations

    package func requeue(ids: [UInt64]) throws -> [JournalRecord] {
        try commitProgress()
        let rows = try withOperations {
            try $0.rows(statements.requeue, [.int64Array(Set(ids).sorted().map { Int64(bitPattern: $0) })])
        }
        let records = try rows.map { try Self.record($0) }
        progress.withLock { progress in
            for record in records { progress[record.id] = [:] }
        }
        return records
    }

    package func entries(matching query: JournalQuery) throws -> [JournalEntry] {
        try checkOpen()
        try commitProgress()
        let parameters: [PostgresValue] = [
            .timestamp(query.received?.lowerBound),
            .timestamp(query.received?.upperBound),
            query.kinds.map { .textArray($0.sorted()) } ?? .null(PostgresValue.textArrayOID),
            query.states.map { .textArray($0.map(\.rawValue).sorted()) } ?? .null(PostgresValue.textArrayOID),
            query.ids.map { .int64Array($0.sorted().map { Int64(bitPattern: $0) }) }
                ?? .null(PostgresValue.int8ArrayOID),
            query.limit.map { .int64(Int64($0)) } ?? .null(PostgresValue.int8OID),
        ]
        let results = try withOperations { connection in
            try connection.run([
                PostgresConnection.Statement(statements.select, parameters),
                PostgresConnection.Statement(statements.selectProgress, parameters),
            ])
        }
        var handlers: [UInt64: [HandlerProgress]] = [:]
        for row in results[1].rows {
            let progress = HandlerProgress(
                handler: try row.text(1),
                status: try HandlerProgress.Status(rawValue: row.text(2)).orThrow("an unknown handler status"),
                attempts: Int(try row.int32(3)),
                lastError: row.optionalText(4),
                updatedAt: try row.date(5)
            )
            handlers[try row.id(0), default: []].append(progress)
        }
        return try results[0].rows.map { row in
            let record = try Self.record(row)
            return JournalEntry(
                record: record,
                state: try JournalRecord.State(rawValue: row.text(7)).orThrow("an unknown delivery state"),
                handlers: handlers[record.id] ?? [],
                finishedAt: try row.optionalDate(9)
            )
        }
    }

    package func applyRetention() throws -> RetentionReport {
        try checkOpen()
        let current = now()
        let journal = configuration.journal
        let results = try withOperations { connection in
            try connection.run([
                PostgresConnection.Statement(
                    statements.retention,
                    [
                        .timestamp(current.addingTimeInterval(-journal.completedRetention.asTimeInterval)),
                        .timestamp(current.addingTimeInterval(-journal.deadLetterRetention.asTimeInterval)),
                        .timestamp(current.addingTimeInterval(-journal.deduplicationWindow.asTimeInterval)),
                    ]
                ),
                PostgresConnection.Statement(statements.forgetExpiredKeys, [.timestamp(current)]),
            ])
        }
        var report = RetentionReport()
        let row = try results[0].rows.first.orThrow("retention returned no row")
        report.deliveriesRemoved = Int(try row.int64(0))
        report.bytesFreed = Int(try row.int64(1))
        return report
    }

    package func purge(states: Set<JournalRecord.State>, finishedBefore: Date) throws -> Int {
        try DeliveryStoreArguments.checkPurge(states)
        try checkOpen()
        try commitProgress()
        let rows = try withOperations { connection in
            try connection.rows(
                statements.purge,
                [.textArray(states.map(\.rawValue).sorted()), .timestamp(finishedBefore)]
            )
        }
        return Int(try rows.first.orThrow("purge returned no row").int64(0))
    }

    package func close() throws {
        guard !closed.withLock({ $0 }) else { return }
        defer {
            closed.withLock { $0 = true }
            admission.withLock { $0.connection?.close() }
            operations.withLock { $0.connection?.close() }
        }
        try commit()
        try commitProgress()
    }

    // MARK: Connections

    private func checkOpen() throws(JournalError) {
        if closed.withLock({ $0 }) { throw JournalError(.closed, "the store is closed") }
    }

    /// The session's connection, connecting first if it has none (or a broken one).
    private func openConnection(_ session: inout Session) throws(PostgresError) -> PostgresConnection {
        if let connection = session.connection, !connection.isBroken { return connection }
        session.connection = nil
        if case .open = session.transaction {
            // The connection broke inside a transaction: the server rolled it back.
            let error = PostgresError(.connection, "the connection broke during a transaction; it was rolled back")
            session.transaction = .failed(error)
            throw error
        }
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

    private func withOperations<Result>(_ body: (PostgresConnection) throws -> Result) throws -> Result {
        try operations.withLock { (session) throws -> Result in
            try body(try openConnection(&session))
        }
    }

    private func forgetProgress(of ids: [UInt64]) {
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
    private static func record(_ row: PostgresRow) throws(PostgresError) -> JournalRecord {
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

    /// The store's SQL, with the schema's name in place.
    private struct Statements {
        let insert: String
        let claimAndInsert: String
        let keyHolder: String
        let upsertProgress: String
        let finish: String
        let rememberKeyWhenDone: String
        let requeue: String
        let select: String
        let selectProgress: String
        let retention: String
        let forgetExpiredKeys: String
        let purge: String

        init(_ s: String) {
            let columns = """
                id, kind, received_at, method, target, headers, body, state, dead_letter_reason, finished_at
                """
            let insertColumns = """
                INSERT INTO \(s).deliveries (id, kind, received_at, method, target, headers, body, state,
                    dead_letter_reason, finished_at, deduplication_key, key_expires_at, key_counts_when_done)
                """
            // $1 key, $2 received at, $3 now, $4 key expiry, $5 kind, $6 method, $7 target,
            // $8 headers, $9 body, $10 state, $11 dead-letter reason, $12 finished at,
            // $13 whether the key counts only once done. Returns (appended id, duplicate of).
            insert = """
                WITH existing AS (
                    SELECT delivery_id FROM \(s).deduplication_keys WHERE key = $1 AND expires_at > $3
                ), stored AS (
                    \(insertColumns)
                    SELECT nextval('\(s).delivery_ids'), $5, $2, $6, $7, $8, $9, $10, $11, $12, $1, $4, $13
                    WHERE NOT EXISTS (SELECT 1 FROM existing)
                    RETURNING id
                )
                SELECT (SELECT id FROM stored), (SELECT delivery_id FROM existing)
                """
            // The claim replaces an expired holder; a live one (or one committed while this
            // statement waited on its lock) leaves `claim` empty, and nothing is stored.
            claimAndInsert = """
                WITH claim AS (
                    INSERT INTO \(s).deduplication_keys AS k (key, delivery_id, expires_at)
                    VALUES ($1, nextval('\(s).delivery_ids'), $4)
                    ON CONFLICT (key) DO UPDATE SET delivery_id = excluded.delivery_id, expires_at = excluded.expires_at
                        WHERE k.expires_at <= $3
                    RETURNING delivery_id
                ), stored AS (
                    \(insertColumns)
                    SELECT delivery_id, $5, $2, $6, $7, $8, $9, $10, $11, $12, $1, $4, $13 FROM claim
                    RETURNING id
                )
                SELECT (SELECT id FROM stored),
                    (SELECT delivery_id FROM \(s).deduplication_keys WHERE key = $1 AND expires_at > $3)
                """
            keyHolder = "SELECT delivery_id FROM \(s).deduplication_keys WHERE key = $1"
            upsertProgress = """
                INSERT INTO \(s).handler_progress (delivery_id, handler, status, attempts, last_error, updated_at)
                SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM \(s).deliveries WHERE id = $1)
                ON CONFLICT (delivery_id, handler) DO UPDATE SET status = excluded.status,
                    attempts = excluded.attempts, last_error = excluded.last_error, updated_at = excluded.updated_at
                """
            // A done delivery's progress is not kept: every handler succeeded.
            finish = """
                WITH finished AS (
                    UPDATE \(s).deliveries SET state = $2, finished_at = $3 WHERE id = $1 RETURNING id, state
                )
                DELETE FROM \(s).handler_progress
                WHERE delivery_id IN (SELECT id FROM finished WHERE state = 'done')
                """
            rememberKeyWhenDone = """
                INSERT INTO \(s).deduplication_keys AS k (key, delivery_id, expires_at)
                SELECT deduplication_key, id, key_expires_at FROM \(s).deliveries
                WHERE id = $1 AND key_counts_when_done AND key_expires_at > $2
                ON CONFLICT (key) DO UPDATE SET delivery_id = excluded.delivery_id, expires_at = excluded.expires_at
                    WHERE k.expires_at <= $2
                """
            requeue = """
                WITH requeued AS (
                    UPDATE \(s).deliveries SET state = 'pending', finished_at = NULL
                    WHERE id = ANY($1) AND state <> 'pending'
                    RETURNING \(columns)
                ), cleared AS (
                    DELETE FROM \(s).handler_progress WHERE delivery_id IN (SELECT id FROM requeued)
                )
                SELECT \(columns) FROM requeued ORDER BY id
                """
            // $1, $2 received range; $3 kinds; $4 states; $5 ids; $6 limit (NULL: all).
            let matching = """
                FROM \(s).deliveries
                WHERE ($1::timestamptz IS NULL OR received_at >= $1) AND ($2::timestamptz IS NULL OR received_at < $2)
                    AND ($3::text[] IS NULL OR kind = ANY($3)) AND ($4::text[] IS NULL OR state = ANY($4))
                    AND ($5::bigint[] IS NULL OR id = ANY($5))
                ORDER BY id LIMIT $6
                """
            select = "SELECT \(columns) \(matching)"
            selectProgress = """
                SELECT delivery_id, handler, status, attempts, last_error, updated_at
                FROM \(s).handler_progress
                WHERE delivery_id IN (SELECT id \(matching))
                ORDER BY delivery_id, handler
                """
            // $1 done before, $2 dead-lettered before, $3 received before (keys still in their window stay).
            retention = """
                WITH gone AS (
                    DELETE FROM \(s).deliveries
                    WHERE ((state = 'done' AND finished_at <= $1) OR (state = 'deadLettered' AND finished_at <= $2))
                        AND received_at <= $3
                    RETURNING id, deduplication_key, octet_length(body) + octet_length(headers) AS size
                ), forgotten AS (
                    DELETE FROM \(s).deduplication_keys k USING gone
                    WHERE k.key = gone.deduplication_key AND k.delivery_id = gone.id
                )
                SELECT count(*), coalesce(sum(size), 0)::bigint FROM gone
                """
            forgetExpiredKeys = "DELETE FROM \(s).deduplication_keys WHERE expires_at <= $1"
            purge = """
                WITH gone AS (
                    DELETE FROM \(s).deliveries WHERE state = ANY($1) AND finished_at < $2 RETURNING id
                )
                SELECT count(*) FROM gone
                """
        }
    }
}

extension Optional {
    /// The value, or a ``PostgresError/Code/protocolViolation`` saying what was missing.
    fileprivate func orThrow(_ what: String) throws(PostgresError) -> Wrapped {
        guard let self else { throw PostgresError.protocolViolation(what) }
        return self
    }
}
#endif
