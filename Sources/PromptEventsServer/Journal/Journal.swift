public import PromptEvents

#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif

/// An append-only, checksummed journal of deliveries, so that nothing acknowledged is lost.
///
/// The journal lives in one directory (mode 0700) of segment files (mode 0600). Each record is
/// framed with its length and CRC-32C checksums. A delivery record holds the received time, the
/// event kind, the method and target, the headers (never `Authorization` nor the configured token
/// headers) and the exact body bytes. Handler progress is recorded as further records, so the
/// state of every delivery survives restarts.
///
/// ## Acknowledging
///
/// ``append(_:kind:deduplicationKey:acknowledgement:deadLetterReason:)`` writes a record (one
/// `pwrite(2)`, no sync). ``sync()`` makes everything appended so far durable with `fdatasync(2)`
/// (and `fsync(2)` of the directory after a new segment was created). A server appends all
/// deliveries of one event-loop turn, calls ``sync()`` once (group commit) and only then answers
/// 2xx. If ``sync()`` throws ``JournalError/Code/syncFailed``, the deliveries listed in
/// ``JournalError/notDurable`` must be answered with a 5xx. Delivery appends and ``sync()`` are meant to
/// be called from one thread (the event loop); state records from the dispatcher may be appended
/// from any thread.
///
/// ## Recovery
///
/// Opening read-write takes an exclusive `flock` on `journal.lock`, scans every segment, verifies
/// checksums, truncates a torn tail, skips (and reports in ``recoveryReport``) damaged records
/// elsewhere, and rebuilds the state of every delivery and the de-duplication window. A crash at
/// any instant loses no synced record.
///
/// Thread-safe: all state is behind a mutex; syncs run outside it.
public final class Journal: Sendable {
    /// The journal's directory.
    public let directory: String
    /// The configuration it was opened with.
    public let configuration: Configuration
    /// Whether it may change its files.
    public let access: AccessMode
    /// What recovery found when the journal was opened.
    public let recoveryReport: RecoveryReport

    let fileSystem: any FileSystem
    package let now: @Sendable () -> Date
    let metrics: Metrics?
    private let droppedHeaderNames: Set<Headers.CanonicalName>
    let state: Locked<JournalState>
    /// Serializes syncs, retention and closing; always taken before `state`, never inside it.
    let syncLock = Locked(())

    /// Opens (read-write: creating if needed) the journal in `directory`.
    ///
    /// - Parameters:
    ///   - directory: The journal directory. Read-write, it is created (mode 0700, with any
    ///     missing parents) when missing, and its mode is narrowed to 0700 when it is wider.
    ///   - configuration: Sizes, retention and dropped headers.
    ///   - access: ``AccessMode/readWrite`` (default) or ``AccessMode/readOnly``.
    ///   - metrics: Where to report journal size, pending count and sync batches, if anywhere.
    /// - Returns: The open journal; see ``recoveryReport`` for what recovery found.
    /// - Throws: ``JournalError``: ``JournalError/Code/locked`` when another process has it open
    ///   read-write, ``JournalError/Code/notFound`` when a read-only journal's directory is
    ///   missing, ``JournalError/Code/io`` when a file cannot be read or written.
    public static func open(
        at directory: String,
        configuration: Configuration = Configuration(),
        access: AccessMode = .readWrite,
        metrics: Metrics? = nil
    ) throws -> Journal {
        try open(
            at: directory,
            configuration: configuration,
            access: access,
            fileSystem: POSIXFileSystem(),
            metrics: metrics
        )
    }

    /// Opens a journal on a given file system with a given clock; for tests.
    ///
    /// - Parameters:
    ///   - directory: The journal directory.
    ///   - configuration: Sizes, retention and dropped headers.
    ///   - access: Read-write or read-only.
    ///   - fileSystem: The file system, for example an ``InMemoryFileSystem``.
    ///   - now: The clock used for retention, de-duplication windows and state records.
    ///   - metrics: Where to report, if anywhere.
    /// - Returns: The open journal.
    /// - Throws: ``JournalError``, as for ``open(at:configuration:access:metrics:)``.
    package static func open(
        at directory: String,
        configuration: Configuration = Configuration(),
        access: AccessMode = .readWrite,
        fileSystem: any FileSystem,
        now: @escaping @Sendable () -> Date = { Date() },
        metrics: Metrics? = nil
    ) throws(JournalError) -> Journal {
        let directory = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        var state = JournalState(deduplication: DeduplicationIndex(window: configuration.deduplicationWindow))
        let report: RecoveryReport
        do {
            if access == .readWrite {
                try prepareDirectory(directory, fileSystem: fileSystem)
                state.lockDescriptor = try lock(directory, fileSystem: fileSystem)
                state.directoryDescriptor = try fileSystem.openDirectory(directory)
            } else if try fileSystem.permissions(at: directory) == nil {
                throw JournalError(.notFound, "no journal directory at \(directory)")
            }
            var recovery = JournalRecovery(directory: directory, access: access, fileSystem: fileSystem)
            try recovery.run(into: &state)
            if access == .readWrite { state.index.forgetProgressOfDoneDeliveries() }
            report = recovery.report
        } catch let error as FileSystemError {
            close(state, fileSystem: fileSystem)
            throw JournalError(error, context: "opening the journal at \(directory)")
        } catch let error as JournalError {
            close(state, fileSystem: fileSystem)
            throw error
        } catch {
            close(state, fileSystem: fileSystem)
            throw JournalError(.io, "opening the journal at \(directory): \(error)")
        }
        let journal = Journal(
            directory: directory,
            configuration: configuration,
            access: access,
            report: report,
            fileSystem: fileSystem,
            now: now,
            metrics: metrics,
            state: state
        )
        do {
            try journal.finishOpening()
        } catch {
            journal.state.withLock { state in
                close(state, fileSystem: fileSystem)
                state.isClosed = true
            }
            throw error
        }
        return journal
    }

    private init(
        directory: String,
        configuration: Configuration,
        access: AccessMode,
        report: RecoveryReport,
        fileSystem: any FileSystem,
        now: @escaping @Sendable () -> Date,
        metrics: Metrics?,
        state: JournalState
    ) {
        self.directory = directory
        self.configuration = configuration
        self.access = access
        self.fileSystem = fileSystem
        self.now = now
        self.metrics = metrics
        self.droppedHeaderNames = Set(
            (["Authorization"] + configuration.droppedHeaderNames).map(Headers.CanonicalName.init)
        )
        var state = state
        var report = report
        report.deliveries = state.index.pendingCount + state.index.doneCount + state.index.deadLetterCount
        report.pendingDeliveries = state.index.pendingCount
        self.recoveryReport = report
        let current = now()
        for entry in state.index.entries.values.sorted(by: { $0.id < $1.id }) where entry.keyCounts && !entry.isPurged {
            if let key = entry.deduplicationKey {
                state.deduplication.remember(key, id: entry.id, receivedAt: entry.receivedAt, now: current)
            }
        }
        self.state = Locked(state)
    }

    deinit {
        let fileSystem = self.fileSystem
        state.withLock { state in
            if !state.isClosed { Self.close(state, fileSystem: fileSystem) }
        }
    }

    /// Creates the first segment of a new journal and makes the directory durable.
    private func finishOpening() throws(JournalError) {
        guard access == .readWrite else { return }
        try state.withLock { (state) throws(JournalError) in
            if state.segments.isEmpty || state.segments[state.segments.count - 1].isSealed {
                try rotate(&state)
            }
            publish(state)
        }
        try syncLock.withLock { (_) throws(JournalError) in try performSync() }
    }

    // MARK: - Appending

    /// Appends a delivery (without syncing), or reports it as a duplicate.
    ///
    /// The record gets the next delivery id. Headers named `Authorization` or listed in
    /// ``Configuration/droppedHeaderNames`` are not stored. Nothing is durable until ``sync()``
    /// returns; do not acknowledge before.
    ///
    /// - Parameters:
    ///   - delivery: The authenticated request; its body is stored byte for byte.
    ///   - kind: The event kind, for example `message/added`.
    ///   - deduplicationKey: An opaque key of at most 64 bytes (for example the kind and the
    ///     SHA-256 of the body), or `nil` to skip de-duplication.
    ///   - acknowledgement: ``AcknowledgementMode/durable`` remembers the key at once;
    ///     ``AcknowledgementMode/afterHandlers`` only once every handler succeeded.
    ///     ``AcknowledgementMode/inMemory`` is rejected: such deliveries are not journaled.
    ///   - deadLetterReason: When set (for example "body is not a JSON object"), the delivery is
    ///     journaled straight into the dead letters with this reason and never dispatched.
    /// - Returns: The record appended, or the id of the delivery this one duplicates.
    /// - Throws: ``JournalError``: ``JournalError/Code/full`` when the size bound would be
    ///   exceeded, ``JournalError/Code/io`` for disk errors (for example `ENOSPC`),
    ///   ``JournalError/Code/readOnly``, ``JournalError/Code/closed``,
    ///   ``JournalError/Code/invalidArgument``.
    public func append(
        _ delivery: Delivery,
        kind: String,
        deduplicationKey: [UInt8]? = nil,
        acknowledgement: AcknowledgementMode = .durable,
        deadLetterReason: String? = nil
    ) throws -> AppendResult {
        let stored = try DeliveryStoreArguments.check(
            delivery,
            deduplicationKey: deduplicationKey,
            acknowledgement: acknowledgement,
            droppingHeadersNamed: droppedHeaderNames
        )
        let current = now()
        return try state.withLock { (state) throws(JournalError) -> AppendResult in
            try checkWritable(state)
            if let key = deduplicationKey, let original = state.deduplication.lookup(key, now: current) {
                state.statistics.duplicates += 1
                return .duplicate(of: original)
            }
            guard !state.index.idsExhausted else {
                // Ids only ever increase: giving out a smaller one would break that promise.
                throw JournalError(
                    .full,
                    "a delivery in \(directory) holds the last possible delivery id; no new one can be given"
                )
            }
            let record = JournalRecord(
                id: state.index.nextID,
                kind: kind,
                delivery: stored,
                deadLetterReason: deadLetterReason
            )
            let storedRecord = StoredRecord.delivery(
                StoredDelivery(
                    record: record,
                    deduplicationKey: deduplicationKey,
                    remembersKeyOnlyWhenDone: acknowledgement == .afterHandlers
                )
            )
            let frame = JournalFormat.frame(storedRecord.encoded())
            let needed = frame.count + (needsRotation(for: frame.count, state) ? JournalFormat.segmentHeaderSize : 0)
            guard state.totalBytes + needed <= configuration.maximumSize else {
                throw JournalError(
                    .full,
                    "the journal at \(directory) holds \(state.totalBytes) bytes; appending \(needed) more "
                        + "would exceed the bound of \(configuration.maximumSize)"
                )
            }
            try appendFrame(frame, record: storedRecord, to: &state)
            if let key = deduplicationKey, acknowledgement == .durable {
                state.deduplication.remember(key, id: record.id, receivedAt: record.receivedAt, now: current)
            }
            state.statistics.appendedDeliveries += 1
            publish(state)
            return .appended(record)
        }
    }

    /// Appends a state record about an existing delivery; the dispatcher's and replay's path.
    func appendState(_ record: StoredRecord, to state: inout JournalState) throws(JournalError) {
        try checkWritable(state)
        try appendFrame(JournalFormat.frame(record.encoded()), record: record, to: &state)
    }

    private func checkWritable(_ state: JournalState) throws(JournalError) {
        guard !state.isClosed else { throw JournalError(.closed, "the journal at \(directory) is closed") }
        guard access == .readWrite else {
            throw JournalError(.readOnly, "the journal at \(directory) was opened read-only")
        }
    }

    /// Writes one frame with one `pwrite`, rotating first when the segment is full or sealed.
    private func appendFrame(_ frame: [UInt8], record: StoredRecord, to state: inout JournalState) throws(JournalError)
    {
        var active = state.segments.count - 1
        if needsRotation(for: frame.count, state) {
            if active >= 0 { state.segments[active].isSealed = true }
            try rotate(&state)
            active = state.segments.count - 1
        }
        // Only the scalars: a copy of the segment would share its `owned`/`referenced` sets and
        // make each insert below copy the whole set (O(records in the segment) per append).
        let (descriptor, offset, sequence) = state.segments[active].location
        do {
            try fileSystem.writeAll(descriptor, frame, at: offset)
        } catch {
            // Cut off whatever part of the frame reached the file; if even that fails, stop
            // appending to this segment (recovery reports and skips the partial frame).
            do {
                try fileSystem.ftruncate(descriptor, length: offset)
            } catch {
                state.segments[active].isSealed = true
            }
            throw JournalError(error, context: "appending to \(directory)/\(state.segments[active].name)")
        }
        let location = RecordLocation(segment: sequence, offset: offset, length: frame.count)
        state.segments[active].size += frame.count
        state.segments[active].isDirty = true
        state.totalBytes += frame.count
        let id = record.deliveryID
        if state.index.apply(record, at: location) {
            if case .delivery = record {
                state.segments[active].owned.insert(id)
            } else {
                state.segments[active].referenced.insert(id)
            }
        }
        let isDelivery: Bool
        if case .delivery = record { isDelivery = true } else { isDelivery = false }
        state.unsynced.append(
            UnsyncedRecord(
                serial: state.nextSerial,
                segment: sequence,
                deliveryID: id,
                stateFrame: isDelivery ? nil : frame
            )
        )
        state.nextSerial += 1
    }

    /// Whether a frame of `length` bytes goes to a new segment: there is no open segment, or the
    /// current one holds records and would grow past ``Configuration/segmentSize``.
    private func needsRotation(for length: Int, _ state: JournalState) -> Bool {
        guard let active = state.segments.last, !active.isSealed else { return true }
        return active.size > JournalFormat.segmentHeaderSize && active.size + length > configuration.segmentSize
    }

    /// Starts a new segment file; its name becomes durable at the next directory sync.
    func rotate(_ state: inout JournalState) throws(JournalError) {
        let sequence = (state.segments.last?.sequence ?? 0) + 1
        let name = JournalFormat.segmentName(sequence)
        let path = directory + "/" + name
        let header = JournalFormat.segmentHeader(sequence: sequence, nextID: state.index.nextID)
        let descriptor: Int32
        do {
            descriptor = try fileSystem.open(path, options: [.readWrite, .create, .exclusive], mode: 0o600)
        } catch {
            throw JournalError(error, context: "creating segment \(path)")
        }
        do {
            try fileSystem.writeAll(descriptor, header, at: 0)
        } catch {
            fileSystem.close(descriptor)
            try? fileSystem.unlink(path)
            throw JournalError(error, context: "writing the header of \(path)")
        }
        if let last = state.segments.indices.last { state.segments[last].isSealed = true }
        state.segments.append(
            Segment(sequence: sequence, name: name, descriptor: descriptor, size: header.count, isDirty: true)
        )
        state.segmentsAwaitingDirectorySync.insert(sequence)
        state.totalBytes += header.count
    }

    // MARK: - Syncing

    /// Makes everything appended so far durable: `fdatasync` of each written segment, and `fsync`
    /// of the directory after a segment was created.
    ///
    /// Call it once per batch of appends (group commit) and acknowledge the batch only after it
    /// returns. When a sync fails, the segment is abandoned (the journal continues in a new one),
    /// the deliveries appended to it since its last good sync are removed from the index, and
    /// this method throws so they are not acknowledged.
    ///
    /// - Throws: ``JournalError`` with code ``JournalError/Code/syncFailed`` listing in
    ///   ``JournalError/notDurable`` every delivery not made durable (including ones a sync on
    ///   another thread failed to make durable since the last call); ``JournalError/Code/io``
    ///   when no new segment could be created; ``JournalError/Code/readOnly`` or
    ///   ``JournalError/Code/closed``.
    public func sync() throws {
        var failure: JournalError?
        do {
            try syncLock.withLock { (_) throws(JournalError) in try performSync() }
        } catch {
            failure = error
        }
        let losses = state.withLock { state in
            defer { state.unreportedLosses = [] }
            return state.unreportedLosses
        }
        if !losses.isEmpty {
            throw JournalError(
                .syncFailed,
                "\(losses.count) deliveries are not durable: \(failure?.message ?? "an earlier sync failed")",
                errno: failure?.errno,
                notDurable: losses.sorted()
            )
        }
        if let failure, failure.code != .syncFailed { throw failure }
    }

    /// Makes state records durable without consuming the loss reports meant for ``sync()``; the
    /// dispatcher's path for completion records.
    ///
    /// - Throws: ``JournalError`` when the sync failed.
    package func syncStateRecords() throws(JournalError) {
        try syncLock.withLock { (_) throws(JournalError) in try performSync() }
    }

    /// Syncs everything appended so far; the caller holds `syncLock`.
    ///
    /// After a failed round (the segment is abandoned and its lost progress records re-appended
    /// to a new one), another round runs, up to three. The first failure is thrown even when a
    /// later round succeeds, because deliveries may have been lost.
    func performSync() throws(JournalError) {
        var firstFailure: JournalError?
        for _ in 0..<3 {
            guard let failure = try syncRound() else { break }
            if firstFailure == nil { firstFailure = failure }
        }
        if let firstFailure { throw firstFailure }
    }

    private struct SyncPlan {
        var segments: [(sequence: UInt64, descriptor: Int32)]
        var directory: (descriptor: Int32, segments: Set<UInt64>)?
        var serialLimit: UInt64
    }

    /// One sync: plan under the state lock, sync outside it, account under it again.
    ///
    /// - Returns: `nil` when everything is durable, or the failure (after rotating and re-appending
    ///   the state records that were lost, which the next round syncs).
    private func syncRound() throws(JournalError) -> JournalError? {
        let plan = try state.withLock { (state) throws(JournalError) -> SyncPlan? in
            try checkWritable(state)
            var plan = SyncPlan(segments: [], directory: nil, serialLimit: state.nextSerial)
            for index in state.segments.indices where state.segments[index].isDirty {
                state.segments[index].isDirty = false
                plan.segments.append((state.segments[index].sequence, state.segments[index].descriptor))
            }
            if !state.segmentsAwaitingDirectorySync.isEmpty, let descriptor = state.directoryDescriptor {
                plan.directory = (descriptor, state.segmentsAwaitingDirectorySync)
                state.segmentsAwaitingDirectorySync = []
            }
            return plan.segments.isEmpty && plan.directory == nil ? nil : plan
        }
        guard let plan else { return nil }
        var failed: [UInt64: FileSystemError] = [:]
        for segment in plan.segments {
            do {
                try fileSystem.fdatasync(segment.descriptor)
            } catch {
                failed[segment.sequence] = error
            }
        }
        if let directorySync = plan.directory {
            do {
                try fileSystem.fsync(directorySync.descriptor)
            } catch {
                for sequence in directorySync.segments where failed[sequence] == nil { failed[sequence] = error }
            }
        }
        return try state.withLock { (state) throws(JournalError) -> JournalError? in
            finishSync(plan: plan, failed: failed, state: &state)
        }
    }

    private func finishSync(plan: SyncPlan, failed: [UInt64: FileSystemError], state: inout JournalState)
        -> JournalError?
    {
        var batch = 0
        var lostDeliveries: [UInt64] = []
        var lostStateFrames: [UnsyncedRecord] = []
        state.unsynced.removeAll { record in
            if failed[record.segment] != nil {
                if record.stateFrame == nil {
                    lostDeliveries.append(record.deliveryID)
                } else {
                    lostStateFrames.append(record)
                }
                return true
            }
            if record.serial < plan.serialLimit {
                batch += 1
                return true
            }
            return false
        }
        if batch > 0 {
            state.statistics.syncs += 1
            state.statistics.syncedRecords += batch
            state.statistics.lastSyncBatchSize = batch
            state.statistics.largestSyncBatchSize = max(state.statistics.largestSyncBatchSize, batch)
            metrics?.recordJournalSync(batchSize: batch)
        }
        guard let firstFailure = failed.values.first else {
            publish(state)
            return nil
        }
        state.statistics.failedSyncs += 1
        metrics?.recordJournalSyncFailure()
        for sequence in failed.keys {
            if let index = state.segmentIndex(sequence) { state.segments[index].isSealed = true }
        }
        for id in lostDeliveries {
            guard let entry = state.index.remove(id) else { continue }
            if let key = entry.deduplicationKey { state.deduplication.forget(key, id: id) }
            if let index = state.segmentIndex(entry.location.segment) { state.segments[index].owned.remove(id) }
            state.unreportedLosses.append(id)
        }
        var failure = JournalError(
            firstFailure,
            code: .syncFailed,
            context: "syncing \(directory) (segments \(failed.keys.sorted().map(String.init).joined(separator: ", ")))"
        )
        do {
            if state.segments.last?.isSealed ?? true { try rotate(&state) }
            for record in lostStateFrames where state.index.entries[record.deliveryID] != nil {
                if let frame = record.stateFrame {
                    try appendRawStateFrame(frame, deliveryID: record.deliveryID, to: &state)
                }
            }
        } catch {
            failure = error
        }
        publish(state)
        return failure
    }

    /// Re-appends a state record's frame whose earlier copy was lost with its segment.
    private func appendRawStateFrame(_ frame: [UInt8], deliveryID: UInt64, to state: inout JournalState)
        throws(JournalError)
    {
        guard let active = state.segments.indices.last, !state.segments[active].isSealed else { return }
        // Only the scalars: a copy of the segment would share its `owned`/`referenced` sets and
        // make each insert below copy the whole set (O(records in the segment) per append).
        let (descriptor, offset, sequence) = state.segments[active].location
        do {
            try fileSystem.writeAll(descriptor, frame, at: offset)
        } catch {
            throw JournalError(error, context: "appending to \(directory)/\(state.segments[active].name)")
        }
        state.segments[active].size += frame.count
        state.segments[active].isDirty = true
        state.segments[active].referenced.insert(deliveryID)
        state.totalBytes += frame.count
        state.unsynced.append(
            UnsyncedRecord(
                serial: state.nextSerial,
                segment: sequence,
                deliveryID: deliveryID,
                stateFrame: frame
            )
        )
        state.nextSerial += 1
    }

    // MARK: - Closing

    /// Syncs, then closes every file and releases the lock.
    ///
    /// Later calls do nothing; other operations then throw ``JournalError/Code/closed``.
    ///
    /// - Throws: ``JournalError`` when the final sync failed (the files are closed anyway).
    public func close() throws {
        var failure: JournalError?
        syncLock.withLock { _ in
            if access == .readWrite {
                do throws(JournalError) {
                    try performSync()
                } catch {
                    failure = error
                }
            }
            state.withLock { state in
                guard !state.isClosed else { return }
                Self.close(state, fileSystem: fileSystem)
                state.isClosed = true
            }
        }
        if let failure, failure.code != .closed { throw failure }
    }

    private static func close(_ state: JournalState, fileSystem: any FileSystem) {
        for segment in state.segments { fileSystem.close(segment.descriptor) }
        if let descriptor = state.directoryDescriptor { fileSystem.close(descriptor) }
        if let descriptor = state.lockDescriptor { fileSystem.close(descriptor) }
    }

    // MARK: - Statistics

    /// Counters: sizes, states, syncs and the records each sync made durable.
    public var statistics: JournalStatistics {
        state.withLock { state in
            var statistics = state.statistics
            statistics.bytes = state.totalBytes
            statistics.segments = state.segments.count
            statistics.pending = state.index.pendingCount
            statistics.done = state.index.doneCount
            statistics.deadLettered = state.index.deadLetterCount
            return statistics
        }
    }

    /// Reports sizes and counts to ``metrics``.
    func publish(_ state: JournalState) {
        metrics?.updateJournal(
            bytes: state.totalBytes,
            segments: state.segments.count,
            pending: state.index.pendingCount,
            deadLettered: state.index.deadLetterCount
        )
    }

    // MARK: - Opening helpers

    private static func prepareDirectory(_ directory: String, fileSystem: any FileSystem) throws(FileSystemError) {
        if let mode = try fileSystem.permissions(at: directory) {
            if mode & 0o077 != 0 { try fileSystem.setPermissions(at: directory, mode: 0o700) }
            return
        }
        try createDirectoryTree(directory, fileSystem: fileSystem)
    }

    /// Creates `directory` and any missing parents, each with mode 0700 (like `mkdir -p -m 700`).
    private static func createDirectoryTree(_ directory: String, fileSystem: any FileSystem) throws(FileSystemError) {
        do {
            try fileSystem.createDirectory(at: directory, mode: 0o700)
        } catch {
            if error.errno == ErrorNumber.exists { return }  // Created concurrently: fine.
            guard error.errno == ErrorNumber.noEntry, let slash = directory.lastIndex(of: "/"),
                slash != directory.startIndex
            else { throw error }
            try createDirectoryTree(String(directory[..<slash]), fileSystem: fileSystem)
            try createDirectoryTree(directory, fileSystem: fileSystem)
        }
    }

    private static func lock(_ directory: String, fileSystem: any FileSystem) throws -> Int32 {
        let path = directory + "/" + JournalFormat.lockFileName
        let descriptor = try fileSystem.open(path, options: [.readWrite, .create], mode: 0o600)
        let locked: Bool
        do {
            locked = try fileSystem.tryLockExclusively(descriptor)
        } catch {
            fileSystem.close(descriptor)
            throw error
        }
        guard locked else {
            let holder = (try? fileSystem.read(descriptor, count: 32, at: 0)).map {
                String(decoding: $0, as: UTF8.self)
            }
            fileSystem.close(descriptor)
            let pid = holder.map { $0.filter(\.isNumber) }.flatMap { $0.isEmpty ? nil : " (process \($0))" } ?? ""
            throw JournalError(
                .locked,
                "the journal at \(directory) is already open for writing by another server\(pid); "
                    + "two servers cannot share a journal directory (open it read-only to inspect it)"
            )
        }
        let pid = Array("\(currentProcessID())\n".utf8)
        try? fileSystem.ftruncate(descriptor, length: 0)
        try? fileSystem.writeAll(descriptor, pid, at: 0)
        return descriptor
    }
}
