#if os(Linux)
import PromptEvents

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the dispatcher asks of the PostgreSQL store: the pending deliveries to resume, leases
/// renewed and claimed, and the progress of handlers (buffered, then written set-based).
extension PostgresDeliveryStore {
    /// The pending deliveries this instance holds, and claims every one nobody holds (all of
    /// them when no other instance runs).
    package func pendingEntries() throws -> [JournalEntry] {
        try checkOpen()
        return try claim(includingOwn: true)
    }

    package var claimRenewalInterval: Duration? { configuration.lease / 3 }

    package func renewClaims() throws -> [JournalEntry] {
        try checkOpen()
        // Progress a failed write left buffered goes out now, not only with the next attempt's.
        try commitProgress()
        let held = heldIDs()
        if !held.isEmpty {
            _ = try withOperations { connection in
                try connection.rows(
                    statements.renewLeases,
                    [.text(owner), .seconds(configuration.lease), .int64Array(held)]
                )
            }
        }
        return try claim(includingOwn: false)
    }

    /// The deliveries this instance's dispatcher holds: appended or claimed here, not finished.
    ///
    /// Only these are renewed. A row this instance stored without knowing it (a commit whose
    /// answer was lost, then answered 503) is not held: its lease lapses and a claim, here or
    /// elsewhere, runs it.
    private func heldIDs() -> [Int64] {
        progress.withLock { $0.keys.map { Int64(bitPattern: $0) } }.sorted()
    }

    /// Leases the pending deliveries whose lease lapsed (or that never had one) to this
    /// instance, skipping rows another instance is claiming at this moment; with
    /// `includingOwn`, also those it holds already.
    private func claim(includingOwn: Bool) throws -> [JournalEntry] {
        let lease: [PostgresValue] = [
            .text(owner), .seconds(configuration.lease), .bool(includingOwn), .int64Array(heldIDs()),
        ]
        let rows = try withOperations { try $0.rows(statements.claim, lease) }
        let records = try rows.map { try Self.record($0) }
        guard !records.isEmpty else { return [] }
        let handlers = try withOperations { connection in
            try connection.rows(statements.progressOf, [.int64Array(records.map { Int64(bitPattern: $0.id) })])
        }
        var progressByID: [UInt64: [HandlerProgress]] = [:]
        for row in handlers { progressByID[try row.id(0), default: []].append(try Self.progress(row)) }
        let entries = records.map {
            JournalEntry(record: $0, state: .pending, handlers: progressByID[$0.id] ?? [], finishedAt: nil)
        }
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
        // Folded first: the latest attempt per handler, the last outcome per delivery, and no
        // attempt of a delivery done in this batch (its progress is not kept).
        var attempts: [String: (id: UInt64, progress: HandlerProgress)] = [:]
        var outcomes: [UInt64: (state: JournalRecord.State, at: Date)] = [:]
        for write in writes {
            switch write {
            case .attempt(let id, let attempt): attempts["\(id)/\(attempt.handler)"] = (id, attempt)
            case .finished(let id, let state, let at): outcomes[id] = (state, at)
            }
        }
        let kept = attempts.values.filter { outcomes[$0.id]?.state != .done }.sorted {
            ($0.id, $0.progress.handler) < ($1.id, $1.progress.handler)
        }
        let finished = outcomes.sorted { $0.key < $1.key }
        var batch: [PostgresConnection.Statement] = []
        if !kept.isEmpty {
            batch.append(
                PostgresConnection.Statement(
                    statements.upsertProgress,
                    [
                        .array(kept.map { .id($0.id) }, of: PostgresValue.int8OID),
                        .array(kept.map { .text($0.progress.handler) }, of: PostgresValue.textOID),
                        .array(kept.map { .text($0.progress.status.rawValue) }, of: PostgresValue.textOID),
                        .array(kept.map { .int32(Int32(clamping: $0.progress.attempts)) }, of: PostgresValue.int4OID),
                        .array(kept.map { .text($0.progress.lastError) }, of: PostgresValue.textOID),
                        .array(kept.map { .timestamp($0.progress.updatedAt) }, of: PostgresValue.timestamptzOID),
                    ]
                )
            )
        }
        if !finished.isEmpty {
            batch.append(
                PostgresConnection.Statement(
                    statements.finish,
                    [
                        .array(finished.map { .id($0.key) }, of: PostgresValue.int8OID),
                        .array(finished.map { .text($0.value.state.rawValue) }, of: PostgresValue.textOID),
                        .array(finished.map { .timestamp($0.value.at) }, of: PostgresValue.timestamptzOID),
                        .timestamp(now()),
                    ]
                )
            )
        }
        do {
            _ = try withOperations { try $0.run(batch) }
        } catch {
            // Not lost: put back in front, for the next commit.
            buffered.withLock { $0.insert(contentsOf: writes, at: 0) }
            throw error
        }
    }
}
#endif
