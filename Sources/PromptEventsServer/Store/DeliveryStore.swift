package import PromptEvents

#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif

/// What the pipeline and the dispatcher need of a durable store of deliveries: the seam every
/// store plugs into without the pipeline changing.
///
/// Conformers: ``Journal`` (append-only files on this machine), ``PostgresDeliveryStore`` (one
/// store shared by several instances) and ``InMemoryDeliveryStore`` (the same contract in
/// memory, for tests and as the reference). `Tests/PromptEventsServerTests/
/// DeliveryStoreConformanceTests.swift` runs one suite against every conformer.
///
/// The contract, in the order a delivery meets it:
///
/// 1. **Admission** (the event loop thread). ``append(_:kind:deduplicationKey:acknowledgement:deadLetterReason:)``
///    gives the delivery the next id (ids only increase) or reports the delivery it
///    duplicates; nothing is durable until ``commit()`` returns, and nobody hears 2xx before.
///    One commit covers every append before it (group commit). A shared store may learn only
///    when committing that a delivery repeats one another instance committed meanwhile: the
///    commit's ``CommitReport`` names it, and it is neither stored nor dispatched.
/// 2. **Dispatch.** ``pendingEntries()`` at start; ``handlerProgress(for:)`` before running a
///    delivery's handlers; ``recordAttempt(deliveryID:progress:)`` after each attempt and
///    ``recordFinished(deliveryID:outcome:)`` once every handler finished (both buffered until
///    ``commitProgress()``). With ``AcknowledgementMode/afterHandlers`` a key is remembered for
///    de-duplication only once its delivery is done.
/// 3. **Operations.** ``requeue(ids:)`` (replay), ``entries(matching:)`` (inspection),
///    ``applyRetention()``, ``close()``.
///
/// Reads (``pendingEntries()``, ``entries(matching:)``, ``requeue(ids:)``) see every delivery
/// committed and every progress record committed; a store on this machine may show more (the
/// file journal shows appends before their `fdatasync`), a shared one does not (PostgreSQL shows
/// other transactions' rows only once committed). Progress is recorded only for committed
/// deliveries: the dispatcher hears of a delivery after its commit.
package protocol DeliveryStore: AnyObject, Sendable {
    /// Appends a delivery without committing it, or reports the delivery it duplicates.
    ///
    /// - Parameters:
    ///   - delivery: The authenticated request; its body is stored byte for byte, without the
    ///     store's dropped (secret) headers.
    ///   - kind: The event kind, for example `message/added`.
    ///   - deduplicationKey: At most 64 bytes, or `nil` to skip de-duplication.
    ///   - acknowledgement: ``AcknowledgementMode/durable`` remembers the key at once,
    ///     ``AcknowledgementMode/afterHandlers`` once every handler succeeded.
    ///   - deadLetterReason: When set, the delivery is stored straight into the dead letters.
    /// - Returns: The record appended, or the id of the delivery this one duplicates.
    /// - Throws: ``JournalError``: ``JournalError/Code/full`` at the store's size bound (the
    ///   listener then answers 503 and runs retention), ``JournalError/Code/invalidArgument``,
    ///   ``JournalError/Code/closed``, or the store's own I/O errors.
    func append(
        _ delivery: Delivery,
        kind: String,
        deduplicationKey: [UInt8]?,
        acknowledgement: AcknowledgementMode,
        deadLetterReason: String?
    ) throws -> Journal.AppendResult

    /// Makes every append so far durable.
    ///
    /// - Returns: The appended deliveries found, when committing, to repeat an earlier one
    ///   (not stored).
    /// - Throws: The store's error: none of the appends since the last commit is durable.
    @discardableResult
    func commit() throws -> CommitReport

    /// Every pending delivery with its handler progress, in id order, for the dispatcher to
    /// resume at start; a shared store returns only those nobody else holds, and claims them.
    func pendingEntries() throws -> [JournalEntry]

    /// The progress of each handler of a delivery, or `nil` when the store does not hold it.
    func handlerProgress(for deliveryID: UInt64) -> [String: HandlerProgress]?

    /// How often ``renewClaims()`` must run, or `nil` for a store no other instance shares.
    var claimRenewalInterval: Duration? { get }

    /// Renews this instance's hold on the pending deliveries it handles, and claims those that
    /// nobody holds any more (their instance died).
    ///
    /// A shared store leases each pending delivery to the instance handling it: the one that
    /// stored it, or the one that claimed it through ``pendingEntries()`` or here. A lease not
    /// renewed in time lapses, and the delivery goes to whichever instance claims it next.
    ///
    /// - Returns: The deliveries newly claimed, with their progress, for the dispatcher to run.
    func renewClaims() throws -> [JournalEntry]

    /// Records the outcome of one handler attempt (buffered until ``commitProgress()``).
    func recordAttempt(deliveryID: UInt64, progress: HandlerProgress) throws

    /// Records that every handler of a delivery finished: done or dead-lettered.
    func recordFinished(deliveryID: UInt64, outcome: JournalRecord.State) throws

    /// Makes the recorded attempts and outcomes durable.
    func commitProgress() throws

    /// Runs finished deliveries again: their progress is cleared and they are pending again.
    ///
    /// - Returns: The records requeued, in id order (pending and unknown ids are skipped).
    func requeue(ids: [UInt64]) throws -> [JournalRecord]

    /// The deliveries matching `query`, in id order.
    func entries(matching query: JournalQuery) throws -> [JournalEntry]

    /// Removes finished deliveries older than their retention period.
    func applyRetention() throws -> RetentionReport

    /// Removes finished deliveries now, whatever their retention period (`journal purge`).
    ///
    /// De-duplication keys are kept until their window passes.
    ///
    /// - Parameters:
    ///   - states: Which finished states to remove; ``JournalRecord/State/pending`` is refused.
    ///   - finishedBefore: Only deliveries finished before this time.
    /// - Returns: How many deliveries were removed.
    /// - Throws: ``JournalError/Code/invalidArgument`` when `states` holds pending.
    func purge(states: Set<JournalRecord.State>, finishedBefore: Date) throws -> Int

    /// Commits what is outstanding and releases the store; later calls throw.
    func close() throws

    /// The store's clock (retention, de-duplication windows, progress times).
    var now: @Sendable () -> Date { get }

    /// Why the store cannot take deliveries now, if it cannot (a server out of reach); shown
    /// by `/healthz`. A store on this machine reports its faults per call instead: `nil`.
    var unavailability: String? { get }
}

/// What a group commit found.
package struct CommitReport: Sendable, Hashable {
    /// Deliveries appended as new that repeat one committed meanwhile by another instance.
    ///
    /// Their id → the original's id. They were not stored.
    package var duplicates: [UInt64: UInt64] = [:]

    /// A report of nothing found.
    package init() {}
}

extension Journal: DeliveryStore {
    /// ``sync()``: one `fdatasync` for every append since the last one; every duplicate was
    /// known at append.
    @discardableResult
    package func commit() throws -> CommitReport {
        try sync()
        return CommitReport()
    }

    /// Always `nil`: a journal's faults (a full disk, say) are reported per call.
    package var unavailability: String? { nil }

    /// `nil`: one process owns a journal.
    package var claimRenewalInterval: Duration? { nil }

    /// Nothing to renew or claim: one process owns a journal.
    package func renewClaims() throws -> [JournalEntry] { [] }

    /// ``syncStateRecords()``.
    package func commitProgress() throws {
        try syncStateRecords()
    }
}

/// The checks every store makes of its arguments, in one place.
enum DeliveryStoreArguments {
    /// Refuses to purge pending deliveries.
    static func checkPurge(_ states: Set<JournalRecord.State>) throws(JournalError) {
        guard !states.contains(.pending) else {
            throw JournalError(.invalidArgument, "pending deliveries cannot be purged; only done or dead-lettered ones")
        }
    }

    /// Refuses a key longer than 64 bytes and in-memory acknowledgement; returns the delivery
    /// as it is stored, without the dropped (secret) headers.
    static func check(
        _ delivery: Delivery,
        deduplicationKey: [UInt8]?,
        acknowledgement: AcknowledgementMode,
        droppingHeadersNamed dropped: Set<Headers.CanonicalName>
    ) throws(JournalError) -> Delivery {
        if let key = deduplicationKey, key.count > DeduplicationIndex.maximumKeyLength {
            throw JournalError(.invalidArgument, "a de-duplication key has at most 64 bytes, not \(key.count)")
        }
        guard acknowledgement != .inMemory else {
            throw JournalError(.invalidArgument, "deliveries acknowledged in memory are not stored")
        }
        var stored = delivery
        stored.headers.removeAll(namedAnyOf: dropped)
        return stored
    }
}
