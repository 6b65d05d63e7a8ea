#if os(Linux)
import PromptEvents

#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif

/// What inspection and maintenance ask of the PostgreSQL store: replay, queries, retention and
/// purge, all on the operations connection.
extension PostgresDeliveryStore {
    package func requeue(ids: [UInt64]) throws -> [JournalRecord] {
        try commitProgress()
        let rows = try withOperations {
            try $0.rows(
                statements.requeue,
                [
                    .int64Array(Set(ids).sorted().map { Int64(bitPattern: $0) }), .text(owner),
                    .seconds(configuration.lease),
                ]
            )
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
            handlers[try row.id(0), default: []].append(try Self.progress(row))
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
}
#endif
