import ClaudeCode

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Settings the file engine needs.
struct StoreSettings: Sendable {
    var durability: DurabilityPolicy
    var compaction: CompactionPolicy
    var lockTimeout: Duration
}

/// The metadata a writer keeps in memory, to start the session again if its files vanish.
struct SessionMetadata: Sendable, Hashable {
    var startTime: Date
    var workingDirectory: String
    var options: [String: JSONValue]
}

/// A record waiting to be written.
struct PendingRecord: Sendable {
    enum Payload: Sendable {
        case message(ConversationMessage)
        case meta(MetadataUpdate, Date)
    }
    var ticket: UInt64
    var payload: Payload
}

/// An append that stopped early: the first `written` records are in the journal. When
/// `syncFailed`, all records were written but the `fdatasync` that should have made them
/// durable failed: they must not be written again, nor acknowledged as durable.
struct AppendFailure: Error {
    var written: Int
    var error: SessionStoreError
    var syncFailed = false
}

/// The files of one session and every operation on them.
///
/// Not thread-safe: a writer keeps one inside a mutex and uses it only from its store's
/// serial I/O queue; readers make a fresh one per call.
///
/// Locking: every mutation holds an exclusive `flock` on `<id>.lock` (append, compaction,
/// creation, deletion); loads hold a shared one. After taking the lock the engine checks that
/// the lock file on disk is still the one it locked (it may have been deleted with the
/// session), and that its open journal is still the journal on disk (a compaction by
/// another writer replaces it); if not, it reopens and resynchronises from the journal's
/// tail. The journal is opened `O_APPEND`.
final class SessionFiles {
    let id: SessionID
    let root: StoreRoot
    let settings: StoreSettings
    let emit: (PersistenceEvent) -> Void
    var metadata: SessionMetadata
    /// Metadata to record when an existing session is opened.
    var initialUpdate: MetadataUpdate?
    /// Whether the session's files were created or found.
    private var prepared = false

    private var directory: DirectoryHandle?
    private var lockFD: Int32 = -1
    private var lockInode: UInt64 = 0
    private var lockless = false

    struct JournalState {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var nextSeq: Int64
        var endsWithNewline: Bool
        var hasRecords: Bool
    }

    private var journalFD: Int32 = -1
    private var journal: JournalState?
    /// Size of the snapshot, for the compaction ratio.
    private(set) var snapshotSize: Int64 = 0
    /// Bytes written to the journal but not yet `fsync`ed.
    private var journalDirty = false
    /// A journal was created or replaced and the folder not yet `fsync`ed.
    private var directoryDirty = false
    /// The snapshot was created without `fsync` (a new session, made on the reader's path):
    /// the next checkpoint syncs it.
    private var snapshotNeedsSync = false

    init(
        id: SessionID, root: StoreRoot, settings: StoreSettings, metadata: SessionMetadata,
        emit: @escaping (PersistenceEvent) -> Void
    ) {
        self.id = id
        self.root = root
        self.settings = settings
        self.metadata = metadata
        self.emit = emit
    }

    deinit {
        POSIX.closeQuietly(journalFD)
        POSIX.closeQuietly(lockFD)
    }

    func closeFiles() {
        POSIX.closeQuietly(journalFD)
        journalFD = -1
        journal = nil
        POSIX.closeQuietly(lockFD)
        lockFD = -1
    }

    // MARK: Paths and errors

    var snapshotPath: String { root.filePath(id.snapshotFileName) }
    var journalPath: String { root.filePath(id.journalFileName) }

    private func failure(_ error: SystemError, _ name: String) -> SessionStoreError {
        let path = root.filePath(name)
        if error.number == ELOOP {
            return SessionStoreError(
                .unsafePath, path: path, sessionID: id, systemErrorNumber: error.number,
                reason: "refusing to follow a symbolic link")
        }
        return SessionStoreError(.ioFailure, path: path, sessionID: id, systemErrorNumber: error.number)
    }

    private func unsafe(_ name: String, _ reason: String) -> SessionStoreError {
        SessionStoreError(.unsafePath, path: root.filePath(name), sessionID: id, reason: reason)
    }

    // MARK: Locking

    /// Runs `body` holding the session lock.
    ///
    /// - Parameters:
    ///   - exclusive: exclusive for mutations, shared for reads.
    ///   - create: create the folder and the lock file when missing (writers). Readers get
    ///     `.sessionNotFound` when the folder is missing, and read without a lock when the
    ///     lock file cannot be created (a read-only folder).
    func withLock<T>(exclusive: Bool, create: Bool, _ body: (DirectoryHandle) throws(SessionStoreError) -> T)
        throws(SessionStoreError) -> T
    {
        let directory = try acquire(exclusive: exclusive, create: create)
        defer { if lockFD >= 0 { POSIX.unlock(lockFD) } }
        return try body(directory)
    }

    private func acquire(exclusive: Bool, create: Bool) throws(SessionStoreError) -> DirectoryHandle {
        var revalidated = false
        for _ in 0..<8 {
            let handle: DirectoryHandle
            if let directory {
                handle = directory
            } else if let opened = try root.handle(create: create) {
                handle = opened
                directory = opened
            } else {
                throw SessionStoreError(.sessionNotFound, path: snapshotPath, sessionID: id)
            }
            if lockFD < 0 {
                if !create {
                    // Readers and delete: never create a lock file for a session that does not exist.
                    switch try sessionFilesExist(handle) {
                    case .some(true):
                        break
                    case .some(false):
                        throw SessionStoreError(.sessionNotFound, path: snapshotPath, sessionID: id)
                    case nil where !revalidated:
                        revalidated = true
                        directory = nil
                        guard let fresh = try root.revalidate(create: false) else {
                            throw SessionStoreError(.sessionNotFound, path: snapshotPath, sessionID: id)
                        }
                        directory = fresh
                        continue
                    case nil:
                        throw SessionStoreError(.sessionNotFound, path: snapshotPath, sessionID: id)
                    }
                }
                // Readers never create a file: they take a shared lock on the lock file when
                // there is one (opened read-only: `flock` needs no write access, and a reader run
                // as another user, root included, must not leave a file the owner cannot open)
                // and read without a lock when there is none (see `loadLocked()`).
                let reader = !exclusive && !create
                do {
                    let flags = reader ? O_RDONLY | O_NOFOLLOW : O_RDWR | O_CREAT | O_NOFOLLOW
                    let fd = try POSIX.openAt(handle.fd, id.lockFileName, flags)
                    lockFD = fd
                    let status = try POSIX.status(of: fd)
                    guard status.isRegularFile else {
                        closeFiles()
                        throw unsafe(id.lockFileName, "lock file is not a regular file")
                    }
                    if !reader && status.permissions != 0o600 { try POSIX.setMode(fd, POSIX.fileMode) }
                    lockInode = status.inode
                    lockless = false
                } catch let error as SystemError {
                    if reader && error.number == ENOENT {
                        // No lock file (a session written before lock files, copied, or restored):
                        // read without one.
                        lockless = true
                        return handle
                    }
                    if error.number == ENOENT && !revalidated {
                        // The folder was removed under us: find (or make) it again.
                        revalidated = true
                        directory = nil
                        guard let fresh = try root.revalidate(create: create) else {
                            throw SessionStoreError(.sessionNotFound, path: snapshotPath, sessionID: id)
                        }
                        directory = fresh
                        continue
                    }
                    if !exclusive && (error.number == EACCES || error.number == EROFS || error.number == EPERM) {
                        // A read-only folder: no writer can be active there; read without a lock.
                        lockless = true
                        return handle
                    }
                    throw failure(error, id.lockFileName)
                } catch {
                    throw error as! SessionStoreError
                }
            }
            let locked: Bool
            do {
                locked = try POSIX.lock(lockFD, exclusive: exclusive, timeout: settings.lockTimeout)
            } catch {
                throw failure(error, id.lockFileName)
            }
            guard locked else {
                throw SessionStoreError(
                    .lockTimeout, path: root.filePath(id.lockFileName), sessionID: id,
                    reason: "another writer held the session lock too long")
            }
            // The lock file may have been deleted (with the session) or replaced while we waited.
            let onDisk: FileStatus?
            do {
                onDisk = try POSIX.status(handle.fd, id.lockFileName)
            } catch {
                POSIX.unlock(lockFD)
                throw failure(error, id.lockFileName)
            }
            if let onDisk, onDisk.inode == lockInode {
                return handle
            }
            POSIX.unlock(lockFD)
            POSIX.closeQuietly(lockFD)
            lockFD = -1
            if onDisk == nil && !revalidated {
                // Deleted: possibly the whole folder. Look again.
                revalidated = true
                directory = nil
                guard let fresh = try root.revalidate(create: create) else {
                    throw SessionStoreError(.sessionNotFound, path: snapshotPath, sessionID: id)
                }
                directory = fresh
            }
        }
        throw SessionStoreError(
            .ioFailure, path: root.filePath(id.lockFileName), sessionID: id,
            reason: "the lock file kept changing")
    }

    /// Whether the snapshot, journal or lock file exists: `true`/`false`, or `nil` when
    /// nothing exists *and* the folder may have been replaced (worth revalidating).
    private func sessionFilesExist(_ directory: DirectoryHandle) throws(SessionStoreError) -> Bool? {
        for name in [id.lockFileName, id.snapshotFileName, id.journalFileName] {
            do {
                if try POSIX.status(directory.fd, name) != nil { return true }
            } catch {
                throw failure(error, name)
            }
        }
        return root.isCurrent(directory) ? false : nil
    }

    // MARK: Reading

    /// Reads a whole file; `nil` when it does not exist. Refuses links and non-regular files.
    func readFile(_ directory: DirectoryHandle, _ name: String) throws(SessionStoreError) -> [UInt8]? {
        let fd: Int32
        do {
            fd = try POSIX.openAt(directory.fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
        } catch {
            if error.number == ENOENT { return nil }
            throw failure(error, name)
        }
        defer { POSIX.closeQuietly(fd) }
        do {
            let status = try POSIX.status(of: fd)
            guard status.isRegularFile else { throw unsafe(name, "not a regular file") }
            return try POSIX.readAll(fd, sizeHint: status.size)
        } catch let error as SystemError {
            throw failure(error, name)
        } catch {
            throw error as! SessionStoreError
        }
    }

    /// Reads and decodes the snapshot; `nil` when it does not exist.
    func readSnapshot(_ directory: DirectoryHandle) throws(SessionStoreError) -> SessionData? {
        guard let bytes = try readFile(directory, id.snapshotFileName) else { return nil }
        snapshotSize = Int64(bytes.count)
        return try SessionFileCodec.decodeSnapshot(bytes, expectedID: id, path: snapshotPath)
    }

    /// Loads the session (snapshot plus journal). Call while holding the lock.
    func load(_ directory: DirectoryHandle) throws(SessionStoreError) -> LoadedSession {
        let journalBytes = try readFile(directory, id.journalFileName)
        guard let snapshot = try readSnapshot(directory) else {
            if journalBytes != nil {
                throw SessionStoreError(
                    .damagedFile, path: journalPath, sessionID: id,
                    reason: "journal without its snapshot (\(id.snapshotFileName) is missing)")
            }
            throw SessionStoreError(.sessionNotFound, path: snapshotPath, sessionID: id)
        }
        guard let journalBytes else {
            var diagnostics = SessionLoadDiagnostics()
            diagnostics.snapshotMessageCount = snapshot.conversationHistory.count
            return LoadedSession(data: snapshot, diagnostics: diagnostics)
        }
        let contents = try SessionFileCodec.decodeJournal(journalBytes, expectedID: id, path: journalPath)
        let (data, diagnostics) = SessionFileCodec.merge(snapshot: snapshot, journal: contents)
        return LoadedSession(data: data, diagnostics: diagnostics)
    }

    /// Loads under a shared lock, or without one when the session has no lock file or the
    /// folder is read-only, retrying if a file changed meanwhile.
    ///
    /// Why a lockless read is consistent: a writer that creates the lock file after we looked
    /// can only change the session in two ways. It replaces the snapshot or the journal by
    /// `rename` (a new inode: an open file never changes under us), or it appends to the journal
    /// with one `write` (the size grows; a record cut short by a concurrent read is a torn last
    /// line, which the journal decoder drops as it does after a crash). The fingerprint (inode
    /// and size of both files) taken before and after the read tells either apart: when it did
    /// not change, the snapshot and journal read belong together and hold every record up to a
    /// complete line. A compaction replaces the snapshot and then the journal (the journal's
    /// records the new snapshot already holds are skipped by sequence number); a read between
    /// the two renames sees the change and is retried.
    func loadLocked() throws(SessionStoreError) -> LoadedSession {
        try withLock(exclusive: false, create: false) { directory throws(SessionStoreError) in
            if !lockless { return try load(directory) }
            for _ in 0..<5 {
                let before = fingerprint(directory)
                let loaded = try load(directory)
                if fingerprint(directory) == before { return loaded }
            }
            return try load(directory)
        }
    }

    private func fingerprint(_ directory: DirectoryHandle) -> [Int64] {
        [id.snapshotFileName, id.journalFileName].flatMap { name -> [Int64] in
            guard let status = try? POSIX.status(directory.fd, name) else { return [-1, -1] }
            return [Int64(bitPattern: status.inode), status.size]
        }
    }

    // MARK: Writing files

    /// Writes `bytes` to a new temporary file in the folder (`O_CREAT|O_EXCL|O_NOFOLLOW`,
    /// mode 0600), optionally `fsync`s it, and renames it over `name`. Returns the open
    /// descriptor of the new file when `keepOpen`, else -1.
    private func replaceFile(
        _ directory: DirectoryHandle, _ name: String, _ bytes: [UInt8], sync: Bool, keepOpen: Bool
    ) throws(SessionStoreError) -> Int32 {
        let temporary = "." + name + ".tmp-" + POSIX.randomSuffix()
        let fd: Int32
        do {
            fd = try POSIX.openAt(
                directory.fd, temporary, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW)
        } catch {
            throw failure(error, temporary)
        }
        var failedName = temporary
        do {
            try POSIX.setMode(fd, POSIX.fileMode)
            try POSIX.writeAll(fd, bytes)
            if sync { try POSIX.sync(fd) }
            failedName = name
            try POSIX.rename(directory.fd, temporary, name)
        } catch {
            POSIX.closeQuietly(fd)
            _ = try? POSIX.unlink(directory.fd, temporary)
            throw failure(error, failedName)
        }
        if sync {
            do { try directory.sync() } catch { /* the rename is done; only its durability is unknown */
                directoryDirty = true
            }
        } else {
            directoryDirty = true
        }
        if keepOpen { return fd }
        POSIX.closeQuietly(fd)
        return -1
    }

    /// Writes a new snapshot atomically. Returns its size.
    @discardableResult
    func writeSnapshot(_ directory: DirectoryHandle, _ data: SessionData, sync: Bool? = nil) throws(SessionStoreError)
        -> Int64
    {
        let bytes = SessionFileCodec.encodeSnapshot(data)
        let synced = sync ?? settings.durability.syncsAtCheckpoint
        _ = try replaceFile(directory, id.snapshotFileName, bytes, sync: synced, keepOpen: false)
        if !synced && settings.durability.syncsAtCheckpoint { snapshotNeedsSync = true }
        snapshotSize = Int64(bytes.count)
        return snapshotSize
    }

    /// Creates (or replaces) the journal with just its header.
    private func createJournal(_ directory: DirectoryHandle, baseSeq: Int64, sync: Bool? = nil)
        throws(SessionStoreError)
    {
        let header = SessionFileCodec.journalHeader(sessionID: id, baseSeq: baseSeq, created: Date())
        let synced = sync ?? settings.durability.syncsAtCheckpoint
        let fd = try replaceFile(directory, id.journalFileName, header, sync: synced, keepOpen: true)
        POSIX.closeQuietly(journalFD)
        journalFD = fd
        let status: FileStatus
        do { status = try POSIX.status(of: fd) } catch { throw failure(error, id.journalFileName) }
        journal = JournalState(
            device: status.device, inode: status.inode, size: status.size, nextSeq: baseSeq, endsWithNewline: true,
            hasRecords: false)
        journalDirty = !synced
    }

    /// Creates the session's files when missing (a snapshot with no messages and an empty
    /// journal) or, for an existing session, records ``initialUpdate``.
    func prepare() throws(SessionStoreError) {
        guard !prepared else { return }
        try withLock(exclusive: true, create: true) { directory throws(SessionStoreError) in
            try prepareLocked(directory)
        }
    }

    private func prepareLocked(_ directory: DirectoryHandle) throws(SessionStoreError) {
        guard !prepared else { return }
        let snapshot: FileStatus?
        let journalStatus: FileStatus?
        do {
            snapshot = try POSIX.status(directory.fd, id.snapshotFileName)
            journalStatus = try POSIX.status(directory.fd, id.journalFileName)
        } catch {
            throw failure(error, id.snapshotFileName)
        }
        if snapshot == nil {
            // A new session. (A journal left without its snapshot is kept: its records merge in.)
            // Created without `fsync`: a process crash cannot lose what the kernel holds, and the
            // next checkpoint (or, under `.everyMessage`, the first append) syncs both files and
            // the folder, so creating a record costs no disk flush on the reader's path.
            let data = SessionData(
                sessionID: id, startTime: metadata.startTime, lastActivity: metadata.startTime,
                workingDirectory: metadata.workingDirectory, options: metadata.options)
            try writeSnapshot(directory, data, sync: false)
            if journalStatus == nil { try createJournal(directory, baseSeq: 0, sync: false) }
        } else if let update = initialUpdate {
            prepared = true  // (appendLocked would otherwise call back into here)
            initialUpdate = nil
            let record = PendingRecord(ticket: 0, payload: .meta(update, Date()))
            do {
                try appendLocked(directory, [record])
            } catch {
                switch error {
                case .append(let failure): throw failure.error
                case .store(let error): throw error
                }
            }
        }
        _ = try prepareJournal(directory)
        initialUpdate = nil
        prepared = true
    }

    // MARK: Journal synchronisation

    /// Brings the cached journal state up to date with the disk. Call holding the exclusive lock.
    /// When the session's files are gone, starts it again from the in-memory metadata.
    private func prepareJournal(_ directory: DirectoryHandle) throws(SessionStoreError) -> JournalState {
        let onDisk: FileStatus?
        do { onDisk = try POSIX.status(directory.fd, id.journalFileName) } catch {
            throw failure(error, id.journalFileName)
        }
        guard let onDisk else {
            POSIX.closeQuietly(journalFD)
            journalFD = -1
            journal = nil
            if let snapshot = try readSnapshot(directory) {
                try createJournal(directory, baseSeq: Int64(snapshot.conversationHistory.count))
            } else {
                let data = SessionData(
                    sessionID: id, startTime: metadata.startTime, lastActivity: Date(),
                    workingDirectory: metadata.workingDirectory, options: metadata.options)
                try writeSnapshot(directory, data)
                try createJournal(directory, baseSeq: 0)
                emit(PersistenceEvent(kind: .sessionRecreated, sessionID: id, path: snapshotPath))
            }
            return journal!
        }
        guard onDisk.isRegularFile else { throw unsafe(id.journalFileName, "journal is not a regular file") }
        guard onDisk.linkCount == 1 else { throw unsafe(id.journalFileName, "journal has other hard links") }
        if let journal, journalFD >= 0, journal.inode == onDisk.inode, journal.device == onDisk.device,
            journal.size == onDisk.size
        {
            return journal
        }
        // Another writer appended or compacted, or an earlier write of ours failed: resync.
        if journalFD < 0 || journal?.inode != onDisk.inode || journal?.device != onDisk.device {
            POSIX.closeQuietly(journalFD)
            journalFD = -1
            journal = nil
            do {
                journalFD = try POSIX.openAt(directory.fd, id.journalFileName, O_RDWR | O_APPEND | O_NOFOLLOW)
            } catch {
                throw failure(error, id.journalFileName)
            }
        }
        let status: FileStatus
        let tail: JournalTail
        do {
            status = try POSIX.status(of: journalFD)
            tail = try JournalTail.scan(journalFD, size: status.size, expectedID: id)
        } catch {
            throw failure(error, id.journalFileName)
        }
        var nextSeq: Int64
        if let last = tail.lastSeq {
            nextSeq = last + 1
        } else if let base = tail.baseSeq {
            nextSeq = base
        } else {
            nextSeq = Int64(try readSnapshot(directory)?.conversationHistory.count ?? 0)
        }
        if let snapshotStatus = try? POSIX.status(directory.fd, id.snapshotFileName) {
            snapshotSize = snapshotStatus.size
        }
        nextSeq = max(nextSeq, 0)
        let state = JournalState(
            device: status.device, inode: status.inode, size: status.size, nextSeq: nextSeq,
            endsWithNewline: tail.endsWithNewline, hasRecords: tail.hasRecords)
        journal = state
        return state
    }

    // MARK: Appending

    /// Appends records to the journal in one write, holding the exclusive lock.
    ///
    /// - Throws: ``AppendFailure`` saying how many leading records made it to the file.
    func append(_ records: [PendingRecord]) throws(AppendFailure) {
        try withAppendLock { directory throws(AppendFailureOrStore) in
            try appendLocked(directory, records)
        }
    }

    private func appendLocked(_ directory: DirectoryHandle, _ records: [PendingRecord]) throws(AppendFailureOrStore) {
        var state: JournalState
        do {
            if !prepared { try prepareLocked(directory) }
            state = try prepareJournal(directory)
        } catch {
            throw .store(error)
        }
        var writer = SessionFileCodec.writer(capacity: records.reduce(64) { $0 + Self.sizeEstimate($1) })
        if !state.endsWithNewline { writer.writeRaw("\n") }  // terminate a torn line left by a crash
        var ends: [Int] = []
        ends.reserveCapacity(records.count)
        var seq = state.nextSeq
        for record in records {
            switch record.payload {
            case .message(let message):
                SessionFileCodec.appendMessageRecord(seq: seq, message, to: &writer)
                seq += 1
            case .meta(let update, let date):
                SessionFileCodec.appendMetaRecord(update, timestamp: date, to: &writer)
            }
            ends.append(writer.bytes.count)
        }
        let (written, writeError) = writer.bytes.withUnsafeBytes { POSIX.writeAll(journalFD, $0) }
        if let writeError {
            journal = nil  // unknown tail: resync next time
            let complete = ends.prefix { $0 <= written }.count
            applyMetadata(records.prefix(complete))
            throw .append(AppendFailure(written: complete, error: failure(writeError, id.journalFileName)))
        }
        state.size += Int64(written)
        state.nextSeq = seq
        state.endsWithNewline = true
        state.hasRecords = true
        journal = state
        journalDirty = true
        applyMetadata(records[...])
        if settings.durability.syncsEveryWrite {
            do {
                if snapshotNeedsSync {
                    try syncSnapshotFile(directory)
                    snapshotNeedsSync = false
                }
                try POSIX.syncData(journalFD)
                if directoryDirty {
                    try directory.sync()
                    directoryDirty = false
                }
                journalDirty = false
            } catch {
                // The records are in the file, only their durability is unknown: do not rewrite them.
                throw .append(
                    AppendFailure(written: records.count, error: failure(error, id.journalFileName), syncFailed: true))
            }
        }
    }

    private enum AppendFailureOrStore: Error {
        case append(AppendFailure)
        case store(SessionStoreError)
    }

    private func withAppendLock<T>(
        _ body: (DirectoryHandle) throws(AppendFailureOrStore) -> T
    ) throws(AppendFailure) -> T {
        let directory: DirectoryHandle
        do { directory = try acquire(exclusive: true, create: true) } catch {
            throw AppendFailure(written: 0, error: error)
        }
        defer { if lockFD >= 0 { POSIX.unlock(lockFD) } }
        do {
            return try body(directory)
        } catch {
            switch error {
            case .append(let failure): throw failure
            case .store(let error): throw AppendFailure(written: 0, error: error)
            }
        }
    }

    private func applyMetadata(_ records: ArraySlice<PendingRecord>) {
        for record in records {
            if case .meta(let update, _) = record.payload {
                if let workingDirectory = update.workingDirectory { metadata.workingDirectory = workingDirectory }
                if let options = update.options { metadata.options = options }
            }
        }
    }

    private static func sizeEstimate(_ record: PendingRecord) -> Int {
        switch record.payload {
        case .message(let message): return message.rawJSON.count + 192
        case .meta: return 512
        }
    }

    /// Whether the journal has grown enough to fold during appends.
    var wantsCompactionAfterAppend: Bool {
        guard let journal, journal.hasRecords else { return false }
        return journal.size >= Int64(settings.compaction.appendThresholdBytes)
            && Double(journal.size) >= settings.compaction.checkpointRatio * Double(snapshotSize)
    }

    // MARK: Checkpoint and compaction

    /// Makes the journal durable (per policy) and folds it into the snapshot when it has
    /// grown to the configured fraction of the snapshot, or always when `forceCompaction`.
    func checkpoint(forceCompaction: Bool) throws(SessionStoreError) {
        try withLock(exclusive: true, create: true) { directory throws(SessionStoreError) in
            let state = try prepareJournal(directory)
            if settings.durability.syncsAtCheckpoint && (journalDirty || directoryDirty) {
                do throws(SystemError) {
                    if journalDirty { try POSIX.syncData(journalFD) }
                    if directoryDirty { try directory.sync() }
                } catch {
                    throw failure(error, id.journalFileName)
                }
                journalDirty = false
                directoryDirty = false
            }
            let ratioReached = Double(state.size) >= settings.compaction.checkpointRatio * Double(snapshotSize)
            if state.hasRecords && (forceCompaction || ratioReached) {
                try compact(directory)
            }
        }
    }

    /// `fsync`s the snapshot file (one created without it).
    private func syncSnapshotFile(_ directory: DirectoryHandle) throws(SystemError) {
        let fd: Int32
        do {
            fd = try POSIX.openAt(directory.fd, id.snapshotFileName, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
        } catch {
            if error.number == ENOENT { return }
            throw error
        }
        defer { POSIX.closeQuietly(fd) }
        try POSIX.sync(fd)
    }

    /// The disk flushes a checkpoint owes, taken under the lock and done without it.
    struct PendingSync: Sendable {
        /// A duplicate of the journal's descriptor (owned), or -1.
        var journalFD: Int32 = -1
        var snapshot = false
        var directory: DirectoryHandle?
        /// Whether the journal has grown to the compaction ratio (or has records, when forced).
        var wantsFold = false
    }

    /// First half of a checkpoint, holding the lock for microseconds: brings the journal up to
    /// date and hands out what must be `fsync`ed (``performSync(_:)`` does it without any lock,
    /// so appends go on meanwhile).
    func beginCheckpoint(forceCompaction: Bool) throws(SessionStoreError) -> PendingSync {
        try withLock(exclusive: true, create: true) { directory throws(SessionStoreError) -> PendingSync in
            let state = try prepareJournal(directory)
            var pending = PendingSync()
            if settings.durability.syncsAtCheckpoint && (journalDirty || directoryDirty || snapshotNeedsSync) {
                if journalDirty {
                    let fd = dup(journalFD)
                    if fd < 0 { throw failure(SystemError(number: errno, operation: "dup"), id.journalFileName) }
                    pending.journalFD = fd
                }
                pending.snapshot = snapshotNeedsSync
                pending.directory = directoryDirty || snapshotNeedsSync ? directory : nil
                journalDirty = false
                directoryDirty = false
                snapshotNeedsSync = false
            }
            let ratioReached = Double(state.size) >= settings.compaction.checkpointRatio * Double(snapshotSize)
            pending.wantsFold = state.hasRecords && (forceCompaction || ratioReached)
            return pending
        }
    }

    /// Second half of a checkpoint, without the lock. On failure the flags are set again (see
    /// ``syncFailed(_:)``) so the next checkpoint retries.
    static func performSync(_ pending: PendingSync, id: SessionID, root: StoreRoot) throws(SessionStoreError) {
        defer { POSIX.closeQuietly(pending.journalFD) }
        do throws(SystemError) {
            if pending.journalFD >= 0 { try POSIX.syncData(pending.journalFD) }
            if pending.snapshot, let directory = pending.directory {
                let fd = try POSIX.openAt(directory.fd, id.snapshotFileName, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
                defer { POSIX.closeQuietly(fd) }
                try POSIX.sync(fd)
            }
            try pending.directory?.sync()
        } catch {
            throw SessionStoreError(
                .ioFailure, path: root.filePath(id.journalFileName), sessionID: id, systemErrorNumber: error.number)
        }
    }

    /// Marks what a failed ``performSync(_:id:root:)`` should have made durable as still owed.
    func syncFailed(_ pending: PendingSync) {
        if pending.journalFD >= 0 { journalDirty = true }
        if pending.snapshot { snapshotNeedsSync = true }
        if pending.directory != nil { directoryDirty = true }
    }

    /// Starts a fold, holding the lock for microseconds: notes the journal's identity and end,
    /// opens the snapshot, duplicates the journal's descriptor. `nil` when there is nothing to
    /// fold (or, unless `force`, the journal is below the compaction ratio).
    func beginFold(force: Bool) throws(SessionStoreError) -> FoldStart? {
        try withLock(exclusive: true, create: true) { directory throws(SessionStoreError) -> FoldStart? in
            let state = try prepareJournal(directory)
            guard state.hasRecords else { return nil }
            if !force && Double(state.size) < settings.compaction.checkpointRatio * Double(snapshotSize) { return nil }
            removeStaleTemporaries(directory)
            var snapshotFD: Int32 = -1
            var snapshotStatus: FileStatus?
            do {
                snapshotFD = try POSIX.openAt(directory.fd, id.snapshotFileName, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
                let status = try POSIX.status(of: snapshotFD)
                guard status.isRegularFile else {
                    POSIX.closeQuietly(snapshotFD)
                    throw unsafe(id.snapshotFileName, "not a regular file")
                }
                snapshotStatus = status
            } catch let error as SystemError {
                if error.number != ENOENT { throw failure(error, id.snapshotFileName) }
                snapshotFD = -1
            } catch {
                throw error as! SessionStoreError
            }
            let journalCopy = dup(journalFD)
            if journalCopy < 0 {
                POSIX.closeQuietly(snapshotFD)
                throw failure(SystemError(number: errno, operation: "dup"), id.journalFileName)
            }
            return FoldStart(
                directory: directory, journalFD: journalCopy, journalDevice: state.device, journalInode: state.inode,
                end: state.size, snapshotFD: snapshotFD, snapshotInode: snapshotStatus?.inode,
                snapshotSize: snapshotStatus?.size ?? 0, metadata: metadata,
                sync: settings.durability.syncsAtCheckpoint)
        }
    }

    /// Whether the journal and snapshot on disk are still the ones `start` folded.
    private func foldStillCurrent(_ directory: DirectoryHandle, _ start: FoldStart, checkSnapshot: Bool)
        throws(SessionStoreError) -> Bool
    {
        do {
            guard let journal = try POSIX.status(directory.fd, id.journalFileName),
                journal.inode == start.journalInode, journal.device == start.journalDevice
            else { return false }
            if checkSnapshot {
                let snapshot = try POSIX.status(directory.fd, id.snapshotFileName)
                guard snapshot?.inode == start.snapshotInode else { return false }
            }
            return true
        } catch {
            throw failure(error, id.journalFileName)
        }
    }

    /// Puts a streamed fold's snapshot in place (quarantining undecodable lines first), under
    /// the lock, if nobody else folded or deleted the session meanwhile. Returns whether it did;
    /// if not, the temporary file is removed.
    func commitFoldSnapshot(_ start: FoldStart, _ output: FoldOutput) throws(SessionStoreError) -> Bool {
        try withLock(exclusive: true, create: true) { directory throws(SessionStoreError) -> Bool in
            guard try foldStillCurrent(directory, start, checkSnapshot: true) else {
                _ = try? POSIX.unlink(start.directory.fd, output.temporaryName)
                return false
            }
            if !output.badLines.isEmpty {
                try quarantine(directory, output.badLines)
                emit(
                    PersistenceEvent(
                        kind: .journalLinesQuarantined, sessionID: id, count: output.badLines.count,
                        path: root.filePath(id.quarantineFileName)))
            }
            do throws(SystemError) {
                try POSIX.rename(start.directory.fd, output.temporaryName, id.snapshotFileName)
            } catch {
                _ = try? POSIX.unlink(start.directory.fd, output.temporaryName)
                throw failure(error, id.snapshotFileName)
            }
            snapshotSize = output.size
            snapshotNeedsSync = false
            metadata.workingDirectory = output.metadata.workingDirectory
            metadata.options = output.metadata.options
            if !start.sync { directoryDirty = true }
            return true
        }
    }

    /// Replaces the journal with the next one (header and the records appended during the fold),
    /// under the lock: the few records appended since ``StreamingFold/writeNextJournal`` are
    /// copied too, then the rename; this writer continues in the new journal. Returns whether it
    /// did (not when another writer replaced the journal meanwhile).
    func commitFoldJournal(_ start: FoldStart, name: String, fd: Int32, copiedThrough: Int64) throws(SessionStoreError)
        -> Bool
    {
        try withLock(exclusive: true, create: true) { directory throws(SessionStoreError) -> Bool in
            guard try foldStillCurrent(directory, start, checkSnapshot: false) else {
                POSIX.closeQuietly(fd)
                _ = try? POSIX.unlink(start.directory.fd, name)
                return false
            }
            do throws(SystemError) {
                let through = try POSIX.status(of: start.journalFD).size
                if through > copiedThrough {
                    _ = try StreamingFold.copy(from: start.journalFD, copiedThrough, into: fd)
                    journalDirty = true  // those last records reach the disk at the next checkpoint
                }
                try POSIX.rename(start.directory.fd, name, id.journalFileName)
            } catch {
                POSIX.closeQuietly(fd)
                _ = try? POSIX.unlink(start.directory.fd, name)
                throw failure(error, id.journalFileName)
            }
            POSIX.closeQuietly(journalFD)
            journalFD = fd
            journal = nil
            if !start.sync { directoryDirty = true }
            _ = try prepareJournal(directory)  // re-reads the (short) tail: next seq, torn line
            return true
        }
    }

    /// Folds in memory under the lock: for snapshots not in this store's layout (files of the
    /// Python original), which a streaming fold cannot copy line by line.
    func compactInMemory() throws(SessionStoreError) {
        try withLock(exclusive: true, create: true) { directory throws(SessionStoreError) in
            let state = try prepareJournal(directory)
            if state.hasRecords { try compact(directory) }
        }
    }

    /// Folds the journal into the snapshot if the append threshold is reached.
    func compactIfLarge() throws(SessionStoreError) {
        try withLock(exclusive: true, create: true) { directory throws(SessionStoreError) in
            _ = try prepareJournal(directory)
            if wantsCompactionAfterAppend { try compact(directory) }
        }
    }

    /// Folds the journal into a new snapshot: write the merged session to a temporary file,
    /// `fsync`, rename over the snapshot, `fsync` the folder, then replace the journal with
    /// an empty one whose header records the new message count. A crash between the two
    /// renames leaves journal records the snapshot already holds; they are recognised by
    /// sequence number and skipped. Call holding the exclusive lock.
    private func compact(_ directory: DirectoryHandle) throws(SessionStoreError) {
        let snapshot =
            try readSnapshot(directory)
            ?? SessionData(
                sessionID: id, startTime: metadata.startTime, workingDirectory: metadata.workingDirectory,
                options: metadata.options)
        let journalBytes: [UInt8]
        do {
            let size = try POSIX.status(of: journalFD).size
            journalBytes = try POSIX.read(journalFD, offset: 0, count: Int(size))
        } catch {
            throw failure(error, id.journalFileName)
        }
        let contents = try SessionFileCodec.decodeJournal(journalBytes, expectedID: id, path: journalPath)
        let (merged, diagnostics) = SessionFileCodec.merge(snapshot: snapshot, journal: contents)
        if !contents.badLines.isEmpty {
            try quarantine(directory, contents.badLines.map { Array(journalBytes[$0]) })
            emit(
                PersistenceEvent(
                    kind: .journalLinesQuarantined, sessionID: id, count: contents.badLines.count,
                    path: root.filePath(id.quarantineFileName)))
        }
        removeStaleTemporaries(directory)
        try writeSnapshot(directory, merged)
        try createJournal(directory, baseSeq: Int64(merged.conversationHistory.count))
        metadata.workingDirectory = merged.workingDirectory
        metadata.options = merged.options
        _ = diagnostics
        emit(
            PersistenceEvent(
                kind: .compacted, sessionID: id, count: merged.conversationHistory.count, path: snapshotPath))
    }

    /// Removes this session's temporary files left by a compaction that crashed. Safe because
    /// every compaction holds the session's exclusive lock, which the caller now holds.
    ///
    /// A streamed fold writes its temporary snapshot without holding the session lock, so a
    /// temporary file may belong to a fold still running in this or another process: only files
    /// untouched for an hour are removed (a live fold writes its file continuously and renames
    /// it within seconds; a crashed one's leftover is hidden and never read meanwhile).
    private func removeStaleTemporaries(_ directory: DirectoryHandle) {
        let prefixes = ["." + id.snapshotFileName + ".tmp-", "." + id.journalFileName + ".tmp-"]
        guard let names = try? POSIX.listNames(directory.fd) else { return }
        let now = time(nil)
        for name in names where prefixes.contains(where: { name.hasPrefix($0) }) {
            var status = stat()
            guard fstatat(directory.fd, name, &status, AT_SYMLINK_NOFOLLOW) == 0,
                now - status.st_mtim.tv_sec > 3600
            else { continue }
            _ = try? POSIX.unlink(directory.fd, name)
        }
    }

    /// Appends undecodable journal lines to `<id>.quarantine` (0600) so compaction never
    /// silently discards bytes.
    private func quarantine(_ directory: DirectoryHandle, _ lines: [[UInt8]]) throws(SessionStoreError) {
        let name = id.quarantineFileName
        let fd: Int32
        do {
            fd = try POSIX.openAt(directory.fd, name, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW)
        } catch {
            throw failure(error, name)
        }
        defer { POSIX.closeQuietly(fd) }
        do {
            let status = try POSIX.status(of: fd)
            guard status.isRegularFile, status.linkCount == 1 else { throw unsafe(name, "not a regular file") }
            try POSIX.setMode(fd, POSIX.fileMode)
            var bytes: [UInt8] = []
            for line in lines {
                bytes.append(contentsOf: line)
                bytes.append(0x0A)
            }
            try POSIX.writeAll(fd, bytes)
            if settings.durability.syncsAtCheckpoint { try POSIX.sync(fd) }
        } catch let error as SystemError {
            throw failure(error, name)
        } catch {
            throw error as! SessionStoreError
        }
    }

    // MARK: Deleting

    /// Removes the snapshot, journal, quarantine and lock file. Returns whether the session
    /// existed.
    func delete() throws(SessionStoreError) -> Bool {
        let directory: DirectoryHandle
        do {
            directory = try acquire(exclusive: true, create: false)
        } catch SessionStoreError.Code.sessionNotFound {
            return false
        }
        defer { closeFiles() }
        var existed = false
        for name in [id.snapshotFileName, id.journalFileName, id.quarantineFileName] {
            do {
                if try POSIX.unlink(directory.fd, name), name != id.quarantineFileName { existed = true }
            } catch {
                POSIX.unlock(lockFD)
                throw failure(error, name)
            }
        }
        // Unlink the lock file while still holding it: a waiter that then gets the lock sees
        // the lock file is gone and starts over.
        _ = try? POSIX.unlink(directory.fd, id.lockFileName)
        POSIX.unlock(lockFD)
        if settings.durability.syncsAtCheckpoint { try? directory.sync() }
        return existed
    }
}

/// What the end of a journal says: the last message's sequence number, the header's base,
/// and whether the last line is complete.
struct JournalTail {
    var lastSeq: Int64?
    var baseSeq: Int64?
    var endsWithNewline: Bool
    var hasRecords: Bool

    /// Reads backwards from the end in growing windows until a message record (or the
    /// header) is found, so the cost does not depend on the journal's length.
    static func scan(_ fd: Int32, size: Int64, expectedID: SessionID) throws(SystemError) -> JournalTail {
        guard size > 0 else { return JournalTail(endsWithNewline: true, hasRecords: false) }
        var window = min(size, 64 * 1024)
        let lastByte = try POSIX.read(fd, offset: size - 1, count: 1)
        let endsWithNewline = lastByte.first == 0x0A
        var hasRecords = false
        while true {
            let start = size - window
            let bytes = try POSIX.read(fd, offset: start, count: Int(window))
            var result: JournalTail?
            bytes.withUnsafeBufferPointer { buffer in
                // Complete lines end with a line feed; skip an unterminated tail.
                var end = buffer.count
                if !endsWithNewline {
                    while end > 0 && buffer[end - 1] != 0x0A { end -= 1 }
                    if end > 0 || start == 0 { hasRecords = true }
                }
                // `end` is just past a '\n' (or 0). Walk lines backwards.
                while end > 0 {
                    let lineEnd = end - 1  // index of '\n'
                    var lineStart = lineEnd
                    while lineStart > 0 && buffer[lineStart - 1] != 0x0A { lineStart -= 1 }
                    if lineStart == 0 && start > 0 { break }  // may be cut by the window
                    switch SessionFileCodec.decodeLine(bytes, range: lineStart..<lineEnd) {
                    case .line(.message(let seq, _)):
                        result = JournalTail(lastSeq: seq, endsWithNewline: endsWithNewline, hasRecords: true)
                        return
                    case .header(_, let sessionID, let baseSeq) where sessionID == expectedID.rawValue:
                        result = JournalTail(
                            baseSeq: baseSeq, endsWithNewline: endsWithNewline, hasRecords: hasRecords)
                        return
                    case .line(.meta):
                        hasRecords = true
                    default:
                        if lineEnd > lineStart { hasRecords = true }
                    }
                    end = lineStart
                }
            }
            if let result { return result }
            if start == 0 { return JournalTail(endsWithNewline: endsWithNewline, hasRecords: hasRecords) }
            window = min(size, window * 2)
        }
    }
}
