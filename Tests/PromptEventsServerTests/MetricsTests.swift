import Testing

@testable import PromptEventsServer

@Suite struct MetricsTests {
    @Test func prometheusTextIsPinned() {
        let metrics = Metrics()
        for _ in 0..<5 { metrics.recordReceived() }
        for _ in 0..<3 { metrics.recordAuthenticated() }
        metrics.recordRejected(reason: "bad_signature")
        metrics.recordRejected(reason: "not_json")
        metrics.recordRejected(reason: "bad_signature")
        metrics.recordDuplicate()
        metrics.recordDispatched()
        metrics.recordDispatched()
        metrics.recordRetry()
        metrics.recordDeadLetter()
        metrics.recordTimeout()
        metrics.updateJournal(bytes: 4096, segments: 2, pending: 1, deadLettered: 1)
        metrics.recordJournalSync(batchSize: 1)
        metrics.recordJournalSync(batchSize: 3)
        metrics.recordJournalSync(batchSize: 300)

        #expect(
            metrics.prometheusText() == """
                # HELP promptevents_deliveries_received_total Requests that reached a webhook route.
                # TYPE promptevents_deliveries_received_total counter
                promptevents_deliveries_received_total 5
                # HELP promptevents_deliveries_authenticated_total Requests that passed authentication.
                # TYPE promptevents_deliveries_authenticated_total counter
                promptevents_deliveries_authenticated_total 3
                # HELP promptevents_deliveries_rejected_total Requests rejected, by reason.
                # TYPE promptevents_deliveries_rejected_total counter
                promptevents_deliveries_rejected_total{reason="bad_signature"} 2
                promptevents_deliveries_rejected_total{reason="not_json"} 1
                # HELP promptevents_deliveries_duplicate_total Deliveries acknowledged as duplicates and not dispatched.
                # TYPE promptevents_deliveries_duplicate_total counter
                promptevents_deliveries_duplicate_total 1
                # HELP promptevents_deliveries_dispatched_total Deliveries handed to their handlers.
                # TYPE promptevents_deliveries_dispatched_total counter
                promptevents_deliveries_dispatched_total 2
                # HELP promptevents_handler_retries_total Failed handler attempts scheduled again.
                # TYPE promptevents_handler_retries_total counter
                promptevents_handler_retries_total 1
                # HELP promptevents_handler_dead_letters_total Delivery and handler pairs that failed their last attempt.
                # TYPE promptevents_handler_dead_letters_total counter
                promptevents_handler_dead_letters_total 1
                # HELP promptevents_handler_timeouts_total Handler attempts that exceeded their time budget.
                # TYPE promptevents_handler_timeouts_total counter
                promptevents_handler_timeouts_total 1
                # HELP promptevents_journal_bytes Bytes in the journal's segment files.
                # TYPE promptevents_journal_bytes gauge
                promptevents_journal_bytes 4096
                # HELP promptevents_journal_segments Journal segment files.
                # TYPE promptevents_journal_segments gauge
                promptevents_journal_segments 2
                # HELP promptevents_journal_pending_deliveries Deliveries whose handlers have not all finished.
                # TYPE promptevents_journal_pending_deliveries gauge
                promptevents_journal_pending_deliveries 1
                # HELP promptevents_journal_dead_letters Dead-lettered deliveries kept in the journal.
                # TYPE promptevents_journal_dead_letters gauge
                promptevents_journal_dead_letters 1
                # HELP promptevents_journal_fsyncs_total Journal syncs that made records durable.
                # TYPE promptevents_journal_fsyncs_total counter
                promptevents_journal_fsyncs_total 3
                # HELP promptevents_journal_fsync_failures_total Journal syncs that failed.
                # TYPE promptevents_journal_fsync_failures_total counter
                promptevents_journal_fsync_failures_total 0
                # HELP promptevents_journal_write_errors_total Handler progress records the journal could not write.
                # TYPE promptevents_journal_write_errors_total counter
                promptevents_journal_write_errors_total 0
                # HELP promptevents_journal_sync_batch_size Records made durable per journal sync (group commit batch size).
                # TYPE promptevents_journal_sync_batch_size histogram
                promptevents_journal_sync_batch_size_bucket{le="1"} 1
                promptevents_journal_sync_batch_size_bucket{le="2"} 1
                promptevents_journal_sync_batch_size_bucket{le="4"} 2
                promptevents_journal_sync_batch_size_bucket{le="8"} 2
                promptevents_journal_sync_batch_size_bucket{le="16"} 2
                promptevents_journal_sync_batch_size_bucket{le="32"} 2
                promptevents_journal_sync_batch_size_bucket{le="64"} 2
                promptevents_journal_sync_batch_size_bucket{le="128"} 2
                promptevents_journal_sync_batch_size_bucket{le="256"} 2
                promptevents_journal_sync_batch_size_bucket{le="+Inf"} 3
                promptevents_journal_sync_batch_size_sum 304
                promptevents_journal_sync_batch_size_count 3

                """
        )
    }

    @Test(arguments: [
        ("plain", #"reason="plain""#),
        (#"a"quote"#, #"reason="a\"quote""#),
        (#"back\slash"#, #"reason="back\\slash""#),
        ("new\nline", #"reason="new\nline""#),
    ])
    func labelValuesAreEscaped(reason: String, rendered: String) {
        let metrics = Metrics()
        metrics.recordRejected(reason: reason)
        #expect(metrics.prometheusText().contains("promptevents_deliveries_rejected_total{\(rendered)} 1\n"))
    }

    @Test func countersAreThreadSafe() async {
        let metrics = Metrics()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for _ in 0..<1000 {
                        metrics.recordReceived()
                        metrics.recordRejected(reason: "r")
                        metrics.recordJournalSync(batchSize: 2)
                    }
                }
            }
        }
        let snapshot = metrics.snapshot
        #expect(snapshot.received == 8000)
        #expect(snapshot.rejected == ["r": 8000])
        #expect(snapshot.syncs == 8000)
        #expect(snapshot.syncedRecords == 16000)
    }

    @Test func journalReportsItsSizeAndPendingCount() throws {
        let metrics = Metrics()
        let journal = try Journal.open(at: "/tmp/j", fileSystem: InMemoryFileSystem(), metrics: metrics)
        _ = try journal.append(makeDelivery(), kind: "k")
        _ = try journal.append(makeDelivery(), kind: "k", deadLetterReason: "not JSON")
        try journal.sync()
        let snapshot = metrics.snapshot
        #expect(snapshot.journalBytes == journal.statistics.bytes)
        #expect(snapshot.journalSegments == 1)
        #expect(snapshot.pending == 1)
        #expect(snapshot.deadLetters == 1)
        #expect(snapshot.syncs == 1)
    }
}
