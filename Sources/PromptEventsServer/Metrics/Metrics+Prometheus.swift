extension Metrics {
    /// Every value in the Prometheus text exposition format (version 0.0.4).
    ///
    /// Metric names start with `promptevents_`; counters end in `_total`. Rejection reasons are
    /// labels, sorted by name. The sync batch size is a histogram with the bounds in
    /// ``syncBatchBuckets``. The output ends with a newline.
    ///
    /// - Returns: The exposition text.
    public func prometheusText() -> String {
        let values = snapshot
        var text = PrometheusText()
        text.metric(
            "promptevents_deliveries_received_total",
            .counter,
            "Requests that reached a webhook route.",
            values.received
        )
        text.metric(
            "promptevents_deliveries_authenticated_total",
            .counter,
            "Requests that passed authentication.",
            values.authenticated
        )
        text.header("promptevents_deliveries_rejected_total", .counter, "Requests rejected, by reason.")
        for (reason, count) in values.rejected.sorted(by: { $0.key < $1.key }) {
            text.sample("promptevents_deliveries_rejected_total", labels: [("reason", reason)], count)
        }
        text.metric(
            "promptevents_deliveries_duplicate_total",
            .counter,
            "Deliveries acknowledged as duplicates and not dispatched.",
            values.duplicates
        )
        text.metric(
            "promptevents_deliveries_dispatched_total",
            .counter,
            "Deliveries handed to their handlers.",
            values.dispatched
        )
        text.metric(
            "promptevents_handler_retries_total",
            .counter,
            "Failed handler attempts scheduled again.",
            values.retried
        )
        text.metric(
            "promptevents_handler_dead_letters_total",
            .counter,
            "Delivery and handler pairs that failed their last attempt.",
            values.deadLettered
        )
        text.metric(
            "promptevents_handler_timeouts_total",
            .counter,
            "Handler attempts that exceeded their time budget.",
            values.timeouts
        )
        text.metric("promptevents_journal_bytes", .gauge, "Bytes in the journal's segment files.", values.journalBytes)
        text.metric("promptevents_journal_segments", .gauge, "Journal segment files.", values.journalSegments)
        text.metric(
            "promptevents_journal_pending_deliveries",
            .gauge,
            "Deliveries whose handlers have not all finished.",
            values.pending
        )
        text.metric(
            "promptevents_journal_dead_letters",
            .gauge,
            "Dead-lettered deliveries kept in the journal.",
            values.deadLetters
        )
        text.metric(
            "promptevents_journal_fsyncs_total",
            .counter,
            "Journal syncs that made records durable.",
            values.syncs
        )
        text.metric(
            "promptevents_journal_fsync_failures_total",
            .counter,
            "Journal syncs that failed.",
            values.syncFailures
        )
        text.metric(
            "promptevents_journal_write_errors_total",
            .counter,
            "Handler progress records the journal could not write.",
            values.journalWriteErrors
        )
        let histogram = "promptevents_journal_sync_batch_size"
        text.header(histogram, .histogram, "Records made durable per journal sync (group commit batch size).")
        var cumulative = 0
        for (bound, count) in zip(Self.syncBatchBuckets, values.syncBatchCounts) {
            cumulative += count
            text.sample(histogram + "_bucket", labels: [("le", String(bound))], cumulative)
        }
        text.sample(histogram + "_bucket", labels: [("le", "+Inf")], values.syncs)
        text.sample(histogram + "_sum", labels: [], values.syncedRecords)
        text.sample(histogram + "_count", labels: [], values.syncs)
        return text.output
    }
}

/// Builds Prometheus text exposition output.
private struct PrometheusText {
    enum Kind: String {
        case counter
        case gauge
        case histogram
    }

    var output = ""

    mutating func header(_ name: String, _ kind: Kind, _ help: String) {
        output += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
    }

    mutating func sample(_ name: String, labels: [(String, String)], _ value: Int) {
        output += name
        if !labels.isEmpty {
            output += "{" + labels.map { "\($0.0)=\"\(Self.escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
        }
        output += " \(value)\n"
    }

    mutating func metric(_ name: String, _ kind: Kind, _ help: String, _ value: Int) {
        header(name, kind, help)
        sample(name, labels: [], value)
    }

    /// Help text escapes backslash and newline.
    static func escapeHelp(_ text: String) -> String {
        escape(text, quotes: false)
    }

    /// Label values escape backslash, double quote and newline.
    static func escapeLabel(_ text: String) -> String {
        escape(text, quotes: true)
    }

    private static func escape(_ text: String, quotes: Bool) -> String {
        var escaped = ""
        escaped.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\"" where quotes: escaped += "\\\""
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
