public import ClaudeCode
import Dispatch
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Records one session: appends messages to its journal and folds the journal into the
/// snapshot at checkpoints.
///
/// Get one from ``FileRecordStore/makeWriter(for:workingDirectory:options:startTime:)`` or
/// ``FileRecordStore/openSession(_:workingDirectory:options:startTime:)``.
///
/// Records are written in the order they are submitted, by ``enqueue(_:)`` (returns at once)
/// or ``append(_:)`` (returns once the record is in the journal), on the store's I/O queue;
/// records submitted together are written together with one `write(2)`.
///
/// **Failures never lose records the writer still holds.** When a write fails (disk full,
/// permission denied, folder removed), the records stay queued in memory, a
/// ``PersistenceEvent/Kind/writeFailed`` event is emitted and logged (once per distinct error,
/// not on every retry), and the write is
/// retried on the next append, ``flush()`` or ``checkpoint()``. A record leaves the queue
/// only once it is in the journal. (The queue is unbounded while the disk keeps failing.)
///
/// Call ``checkpoint()`` at the end of each turn and ``close()`` when done. A writer released
/// without `close()` closes its files; records it could not write are reported with
/// ``PersistenceEvent/Kind/recordsDropped``.
///
/// - Important: ``append(_:)``, ``flush()`` and ``checkpoint()`` are not cancellable: a write
///   that has been submitted completes even if the calling task is cancelled.
package final class SessionWriter: Sendable {
    /// The session this writer records.
    package let sessionID: SessionID

    private let core: StoreCore
    private let state: Mutex<State>
    /// The file engine. Only used on the store's serial I/O queue; the mutex is uncontended.
    private let files: Mutex<SessionFiles>
    /// Wall time spent on the I/O queue writing, checkpointing and compacting (benchmarks).
    private let ioNanoseconds = Atomic<UInt64>(0)
    /// Held for the whole of a fold (one at a time per writer); never taken by appends.
    private let foldLock = Mutex<Int>(0)
    /// Folds in progress (0 or 1).
    private let folding = Atomic<Int>(0)
    /// A background fold is scheduled and has not started yet.
    private let foldScheduled = Atomic<Bool>(false)
    /// The longest fold so far, and how many ran (benchmarks).
    private let foldStats = Mutex<(count: Int, longest: Duration)>((0, .zero))

    private struct Waiter {
        var ticket: UInt64
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var pending: [PendingRecord] = []
        var head = 0
        var nextTicket: UInt64 = 1
        var lastWrittenTicket: UInt64 = 0
        var drainScheduled = false
        var waiters: [Waiter] = []
        var closed = false
        var failing = false
        var lastError: SessionStoreError?

        var pendingCount: Int { pending.count - head }

        mutating func removeWritten(_ count: Int) {
            head += count
            if head == pending.count {
                pending.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 1024 && head * 2 > pending.count {
                pending.removeFirst(head)
                head = 0
            }
        }
    }

    init(id: SessionID, core: StoreCore, metadata: SessionMetadata, initialUpdate: MetadataUpdate?) {
        self.sessionID = id
        self.core = core
        let files = core.makeFiles(id, metadata: metadata)
        files.initialUpdate = initialUpdate
        self.files = Mutex(files)
        self.state = Mutex(State())
    }

    deinit {
        let dropped = state.withLock { $0.pendingCount }
        if dropped > 0 {
            core.emit(
                PersistenceEvent(
                    kind: .recordsDropped, sessionID: sessionID, error: state.withLock { $0.lastError },
                    count: dropped))
        }
    }

    // MARK: Submitting records

    /// Queues a message for writing and returns at once. Never blocks and never throws;
    /// failures are reported as events and the message is retried.
    ///
    /// After ``close()`` the message is not recorded and a
    /// ``PersistenceEvent/Kind/recordsDropped`` event is emitted.
    package func enqueue(_ message: ConversationMessage) {
        submit(.message(message), waiter: nil)
    }

    /// Writes a message and returns once it is in the journal (handed to the kernel, and
    /// `fdatasync`ed under ``DurabilityPolicy/everyMessage``).
    ///
    /// - Throws: ``SessionStoreError`` when the write failed. The message is **not** lost:
    ///   it stays queued and is retried by the next append, flush or checkpoint. Under
    ///   ``DurabilityPolicy/everyMessage`` it also throws when the message was written but
    ///   `fdatasync` failed; the message is then in the journal and is not written again.
    ///   `.writerClosed` after ``close()``.
    package func append(_ message: ConversationMessage) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            submit(.message(message), waiter: continuation)
        }
    }

    /// Records a change of the session's working directory or options (`nil` keeps a value).
    package func updateMetadata(workingDirectory: String? = nil, options: [String: JSONValue]? = nil) {
        guard workingDirectory != nil || options != nil else { return }
        submit(.meta(MetadataUpdate(workingDirectory: workingDirectory, options: options), Date()), waiter: nil)
    }

    /// Records a change of the session's title or tag (`.some(nil)` clears one, `nil` keeps it).
    func updateLabels(title: String??, tag: String??) {
        guard title != nil || tag != nil else { return }
        submit(.meta(MetadataUpdate(title: title, tag: tag), Date()), waiter: nil)
    }

    /// Total wall time this writer has spent on the store's I/O queue (writing, syncing,
    /// compacting), excluding time spent waiting for the queue. For benchmarks.
    package var ioTime: Duration {
        .nanoseconds(Int64(ioNanoseconds.load(ordering: .relaxed)))
    }

    private func measured<T>(_ body: () throws(SessionStoreError) -> T) throws(SessionStoreError) -> T {
        let started = ContinuousClock.now
        defer {
            let (seconds, attoseconds) = (ContinuousClock.now - started).components
            ioNanoseconds.add(UInt64(max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000)), ordering: .relaxed)
        }
        return try body()
    }

    /// The number of records waiting to be written (normally 0 or a few; grows while the
    /// disk is failing).
    package var pendingCount: Int {
        state.withLock { $0.pendingCount }
    }

    // MARK: Writing synchronously

    /// Creates the session's files, or finds them, on the calling thread (no disk flush: see
    /// `docs/session-file-format.md` §5).
    package func prepareNow() throws(SessionStoreError) {
        try files.withLock { files throws(SessionStoreError) in try files.prepare() }
    }

    /// Writes messages to the journal on the calling thread, with one `write(2)`, and returns
    /// once they are in it: microseconds, no disk flush (except under
    /// ``DurabilityPolicy/everyMessage``). Takes only the journal's lock (this writer's mutex and
    /// the session's `flock` for the write itself), never waits for a checkpoint's `fsync` or a
    /// fold, which hold neither while they work.
    ///
    /// - Returns: How many leading messages are in the journal, and the error that stopped the
    ///   rest (reported once per distinct error as ``PersistenceEvent/Kind/writeFailed``; a
    ///   later success as ``PersistenceEvent/Kind/writeRecovered``). The caller keeps the rest
    ///   and retries.
    package func appendNow(_ messages: some Collection<ConversationMessage>) -> (
        written: Int, error: SessionStoreError?
    ) {
        guard !messages.isEmpty else { return (0, nil) }
        if state.withLock({ $0.closed }) { return (0, SessionStoreError(.writerClosed, sessionID: sessionID)) }
        let records = messages.map { PendingRecord(ticket: 0, payload: .message($0)) }
        let started = ContinuousClock.now
        let failure: AppendFailure? = files.withLock { files -> AppendFailure? in
            do throws(AppendFailure) {
                try files.append(records)
                return nil
            } catch {
                return error
            }
        }
        let (seconds, attoseconds) = (ContinuousClock.now - started).components
        ioNanoseconds.add(UInt64(max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000)), ordering: .relaxed)
        let (report, recovering) = state.withLock { state -> (Bool, Bool) in
            let wasFailing = state.failing
            let report = failure != nil && !(wasFailing && state.lastError == failure?.error)
            state.failing = failure != nil && failure?.syncFailed != true
            if let failure { state.lastError = failure.error }
            return (report, wasFailing && failure == nil)
        }
        if let failure {
            if report {
                core.emit(
                    PersistenceEvent(
                        kind: .writeFailed, sessionID: sessionID, error: failure.error,
                        count: records.count - failure.written, path: failure.error.path))
            }
            return (failure.written, failure.syncFailed ? nil : failure.error)
        }
        if recovering { core.emit(PersistenceEvent(kind: .writeRecovered, sessionID: sessionID, count: records.count)) }
        if files.withLock({ $0.wantsCompactionAfterAppend }) { scheduleFold() }
        return (records.count, nil)
    }

    /// How many folds this writer ran and the longest one's wall time (benchmarks).
    package var foldStatistics: (count: Int, longest: Duration) { foldStats.withLock { $0 } }

    /// Whether a fold of this writer is running (benchmarks).
    package var isFolding: Bool { folding.load(ordering: .relaxed) > 0 }

    private func submit(_ payload: PendingRecord.Payload, waiter: CheckedContinuation<Void, any Error>?) {
        enum Outcome { case scheduled, alreadyScheduled, closed }
        let outcome: Outcome = state.withLock { state in
            if state.closed { return .closed }
            let ticket = state.nextTicket
            state.nextTicket += 1
            state.pending.append(PendingRecord(ticket: ticket, payload: payload))
            if let waiter { state.waiters.append(Waiter(ticket: ticket, continuation: waiter)) }
            if state.drainScheduled { return .alreadyScheduled }
            state.drainScheduled = true
            return .scheduled
        }
        switch outcome {
        case .scheduled:
            core.queue.submit { _ = self.drainOnce() }
        case .alreadyScheduled:
            break
        case .closed:
            let error = SessionStoreError(.writerClosed, sessionID: sessionID)
            if let waiter {
                waiter.resume(throwing: error)
            } else {
                core.emit(PersistenceEvent(kind: .recordsDropped, sessionID: sessionID, error: error, count: 1))
            }
        }
    }

    // MARK: Flushing, checkpoints, closing

    /// Waits until every record submitted before the call is in the journal.
    /// - Throws: ``SessionStoreError`` when a write failed; the records stay queued.
    package func flush() async throws {
        let target = state.withLock { $0.nextTicket - 1 }
        try await core.write { () throws(SessionStoreError) in
            try self.drain(through: target)
        }
    }

    /// Ends a turn: writes queued records, makes the journal durable (under the default
    /// ``DurabilityPolicy/checkpoint``), and folds the journal into the snapshot when it
    /// has grown to the ``CompactionPolicy/checkpointRatio`` of the snapshot.
    /// - Throws: ``SessionStoreError``; also reported as a
    ///   ``PersistenceEvent/Kind/checkpointFailed`` event. Nothing is lost; the next
    ///   checkpoint retries.
    package func checkpoint() async throws {
        let target = state.withLock { $0.nextTicket - 1 }
        try await core.write { () throws(SessionStoreError) in
            try self.checkpointNow(through: target, forceCompaction: false)
        }
    }

    /// Like ``checkpoint()``, but returns at once; failures are reported as events only.
    package func requestCheckpoint() {
        let target = state.withLock { $0.nextTicket - 1 }
        core.queue.submit {
            _ = try? self.checkpointNow(through: target, forceCompaction: false)
        }
    }

    /// Writes everything, folds the journal into the snapshot, and closes the files. The
    /// writer accepts no more records.
    ///
    /// - Throws: ``SessionStoreError`` when records could not be written or folded. They
    ///   stay queued: call `close()` (or ``flush()``) again to retry.
    package func close() async throws {
        let target = state.withLock { state in
            state.closed = true
            return state.nextTicket - 1
        }
        try await core.write { () throws(SessionStoreError) in
            try self.checkpointNow(through: target, forceCompaction: true)
            self.files.withLock { $0.closeFiles() }
        }
    }

    /// Creates the session's files, or finds them (used by `openSession`).
    func prepare() async throws {
        try await core.write { () throws(SessionStoreError) in
            try self.files.withLock { files throws(SessionStoreError) in try files.prepare() }
        }
    }

    // MARK: On the I/O queue

    private func checkpointNow(through target: UInt64, forceCompaction: Bool) throws(SessionStoreError) {
        do {
            try drain(through: target)
            let wantsFold = try measured { () throws(SessionStoreError) -> Bool in
                let pending = try files.withLock { files throws(SessionStoreError) in
                    try files.beginCheckpoint(forceCompaction: forceCompaction)
                }
                do throws(SessionStoreError) {
                    // Without any lock: appends go on while the disk flushes.
                    try SessionFiles.performSync(pending, id: sessionID, root: core.root)
                } catch {
                    files.withLock { $0.syncFailed(pending) }
                    throw error
                }
                return pending.wantsFold
            }
            if forceCompaction {
                try fold(force: true)
            } else if wantsFold {
                scheduleFold()
            }
        } catch {
            core.emit(PersistenceEvent(kind: .checkpointFailed, sessionID: sessionID, error: error, path: error.path))
            throw error
        }
    }

    /// Writes until every record with a ticket ≤ `target` is written, or a write fails.
    private func drain(through target: UInt64) throws(SessionStoreError) {
        while state.withLock({ $0.lastWrittenTicket < target && $0.pendingCount > 0 }) {
            if let error = drainOnce() { throw error }
        }
    }

    /// Writes every queued record in one batch. Returns the error if the write failed.
    @discardableResult
    private func drainOnce() -> SessionStoreError? {
        (try? measured { () throws(SessionStoreError) in drainOnceUnmeasured() }) ?? nil
    }

    private func drainOnceUnmeasured() -> SessionStoreError? {
        let batch: [PendingRecord] = state.withLock { state in
            state.drainScheduled = false
            return Array(state.pending[state.head...])
        }
        guard !batch.isEmpty else { return nil }
        let failure: AppendFailure? = files.withLock { files -> AppendFailure? in
            do throws(AppendFailure) {
                try files.append(batch)
                return nil
            } catch {
                return error
            }
        }
        let written = failure?.written ?? batch.count
        var resumeOK: [CheckedContinuation<Void, any Error>] = []
        var resumeFailed: [CheckedContinuation<Void, any Error>] = []
        let (wasFailing, stillPending, recovering) = state.withLock { state in
            state.removeWritten(written)
            if written > 0 { state.lastWrittenTicket = batch[written - 1].ticket }
            let failedThrough = failure == nil ? 0 : batch[batch.count - 1].ticket
            var index = 0
            while index < state.waiters.count {
                let waiter = state.waiters[index]
                if waiter.ticket <= state.lastWrittenTicket && failure?.syncFailed != true {
                    resumeOK.append(waiter.continuation)
                } else if waiter.ticket <= failedThrough {
                    resumeFailed.append(waiter.continuation)
                } else {
                    break
                }
                index += 1
            }
            state.waiters.removeFirst(index)
            let wasFailing = state.failing
            let previousError = state.lastError
            state.failing = failure != nil
            state.lastError = failure?.error ?? state.lastError
            return (wasFailing && previousError == failure?.error, state.pendingCount, wasFailing && failure == nil)
        }
        for continuation in resumeOK { continuation.resume() }
        if let failure {
            for continuation in resumeFailed { continuation.resume(throwing: failure.error) }
            // Report a failure once, and again only when the error changes, not on every retry.
            if wasFailing { return failure.error }
            core.emit(
                PersistenceEvent(
                    kind: .writeFailed, sessionID: sessionID, error: failure.error, count: stillPending,
                    path: failure.error.path))
            return failure.error
        }
        if recovering {
            core.emit(PersistenceEvent(kind: .writeRecovered, sessionID: sessionID, count: written))
        }
        // Past the size threshold, fold without waiting for a checkpoint (in the background).
        if files.withLock({ $0.wantsCompactionAfterAppend }) { scheduleFold() }
        return nil
    }

    // MARK: Folding

    /// Waits until every fold scheduled in the background so far has finished (for tests and
    /// tools that need the folded files on disk; `close()` folds and waits by itself).
    package func waitForBackgroundFolds() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            core.foldQueue.submit { continuation.resume() }
        }
    }

    /// Folds in the background, on the store's fold queue, unless a fold is already waiting.
    private func scheduleFold() {
        guard !foldScheduled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        core.foldQueue.submit {
            self.foldScheduled.store(false, ordering: .releasing)
            guard !self.state.withLock({ $0.closed }) else { return }  // close() folds itself
            do throws(SessionStoreError) {
                try self.fold(force: false)
            } catch {
                self.core.emit(
                    PersistenceEvent(kind: .checkpointFailed, sessionID: self.sessionID, error: error, path: error.path)
                )
            }
        }
    }

    /// Folds the journal into the snapshot by streaming (see ``StreamingFold``): the session
    /// lock is held only to start, to rename the snapshot, and to swap the journal, each for
    /// microseconds (plus copying the records appended during the fold's last step), so appends
    /// go on into the journal while the fold runs. Memory stays bounded whatever the session's
    /// size. Snapshots in another layout (the Python original's) are folded in memory.
    package func fold(force: Bool) throws(SessionStoreError) {
        try foldLock.withLock { _ throws(SessionStoreError) in
            let started = ContinuousClock.now
            folding.add(1, ordering: .relaxed)
            defer {
                folding.subtract(1, ordering: .relaxed)
                let elapsed = ContinuousClock.now - started
                let (seconds, attoseconds) = elapsed.components
                ioNanoseconds.add(
                    UInt64(max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000)), ordering: .relaxed)
                foldStats.withLock { $0 = ($0.count + 1, max($0.longest, elapsed)) }
            }
            guard
                let start = try files.withLock({ files throws(SessionStoreError) in
                    try files.beginFold(force: force)
                })
            else { return }
            defer { start.closeFiles() }
            guard let output = try StreamingFold.write(start, id: sessionID, root: core.root) else {
                try files.withLock { files throws(SessionStoreError) in try files.compactInMemory() }
                return
            }
            guard
                try files.withLock({ files throws(SessionStoreError) in try files.commitFoldSnapshot(start, output) })
            else { return }
            if start.sync { try? start.directory.sync() }
            let next = try StreamingFold.writeNextJournal(
                start, baseSeq: output.messageCount, id: sessionID, root: core.root)
            guard
                try files.withLock({ files throws(SessionStoreError) in
                    try files.commitFoldJournal(start, name: next.name, fd: next.fd, copiedThrough: next.copiedThrough)
                })
            else { return }
            if start.sync { try? start.directory.sync() }
            core.emit(
                PersistenceEvent(
                    kind: .compacted, sessionID: sessionID, count: Int(output.messageCount),
                    path: core.root.filePath(sessionID.snapshotFileName)))
        }
    }
}
