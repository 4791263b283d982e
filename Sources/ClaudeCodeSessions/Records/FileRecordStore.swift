public import ClaudeCode
import Dispatch
public import Logging

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

/// Stores sessions as files: one `<session_id>.json` snapshot per session, plus an
/// append-only `<session_id>.journal` and a `<session_id>.lock` beside it.
///
/// This is the storage engine under `SessionPersistentClient`; it knows nothing about the
/// CLI. Record a session through a `SessionWriter` (from `makeWriter(for:workingDirectory:options:startTime:)`
/// or `openSession(_:workingDirectory:options:startTime:)`), read it back with
/// `load(_:)`, and manage the folder with `list()` and `delete(_:)`.
///
/// ```swift
/// let store = FileRecordStore()                       // ~/.claude_sdk/sessions
/// let writer = try await store.openSession(id, workingDirectory: cwd)
/// writer.enqueue(ConversationMessage(direction: .sent, rawJSON: promptFrame))
/// writer.enqueue(ConversationMessage(direction: .received, rawJSON: line))
/// try await writer.checkpoint()                         // at the end of each turn
/// try await writer.close()
/// let session = try await store.load(id)
/// ```
///
/// ## Cost
/// A message is appended to the journal with one `write(2)`; the journal is folded into the
/// snapshot only when it has grown to a fraction of the snapshot's size (see
/// ``CompactionPolicy``), so persisting a message costs O(1) amortized however long the
/// session is. Loading reads the snapshot and the journal.
///
/// ## Threads
/// All file I/O runs on a serial dispatch queue owned by the store (reads on a global
/// dispatch queue), never on the Swift concurrency thread pool. The API is `async`;
/// `SessionWriter/enqueue(_:)` does not wait at all.
///
/// ## Concurrency between writers
/// Any number of store instances, in one process or many, may use the same folder and
/// even the same session. Every change to a session happens under an exclusive advisory
/// lock (`flock(2)`) on `<id>.lock`; loads take a shared lock. Records from concurrent
/// writers are never interleaved within a line, lost or duplicated; each gets the next
/// sequence number at the moment it is written. The locks are advisory: a program that
/// edits the files without taking them (an editor, the Python original) is not excluded.
/// `flock` is not reliable on some network file systems.
///
/// ## Safety
/// Session ids are validated (``SessionID``) before any path is formed. Folders the store
/// creates get mode 0700 and files 0600, set explicitly. Files are opened relative to the
/// folder with `O_NOFOLLOW`; a symbolic link, a non-regular file or a hard-linked journal in
/// the folder is refused (``SessionStoreError/Code/unsafePath``). Only the configured folder
/// itself may be a symbolic link. Temporary files are created with `O_EXCL`. Nothing is
/// ever deleted except by `delete(_:)`.
public final class FileRecordStore: Sendable {
    /// How a store behaves.
    public struct Configuration: Sendable {
        /// The folder holding the session files. Created (mode 0700) on first write.
        public var directory: String
        /// When written records are forced to stable storage. Default ``DurabilityPolicy/checkpoint``.
        public var durability: DurabilityPolicy
        /// When the journal is folded into the snapshot.
        public var compaction: CompactionPolicy
        /// How long to wait for another writer's lock before failing with
        /// ``SessionStoreError/Code/lockTimeout``. Default 30 s.
        public var lockTimeout: Duration
        /// Where failures and recoveries are logged (label `claude.sessions` by default).
        public var logger: Logger
        /// Called for every ``PersistenceEvent``, on the store's I/O thread. Keep it short.
        public var eventHandler: (@Sendable (PersistenceEvent) -> Void)?

        /// Creates a configuration.
        public init(
            directory: String = FileRecordStore.defaultDirectory,
            durability: DurabilityPolicy = .checkpoint,
            compaction: CompactionPolicy = CompactionPolicy(),
            lockTimeout: Duration = .seconds(30),
            logger: Logger = Logger(label: "claude.sessions"),
            eventHandler: (@Sendable (PersistenceEvent) -> Void)? = nil
        ) {
            self.directory = directory
            self.durability = durability
            self.compaction = compaction
            self.lockTimeout = lockTimeout
            self.logger = logger
            self.eventHandler = eventHandler
        }
    }

    /// `~/.claude_sdk/sessions` (from `$HOME`, else the password database).
    public static var defaultDirectory: String {
        HomeDirectory.path(".claude_sdk/sessions")
    }

    /// The configuration the store was created with.
    public let configuration: Configuration
    let core: StoreCore
    let transcripts: FileSessionStore

    /// Creates a store. Nothing is touched on disk until the first write or read.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.core = StoreCore(configuration: configuration)
        self.transcripts = FileSessionStore(
            configuration: FileSessionStore.Configuration(
                directory: Self.transcriptsDirectory(forRecordsIn: configuration.directory)))
    }

    /// Where the CLI's transcripts of these records are kept (``transcriptStore``):
    /// `~/.claude_sdk/transcripts` beside the default records folder, else a `transcripts` folder
    /// inside the records folder. Either way, copying the records folder's parent (or the folder
    /// itself) to another machine takes the transcripts along.
    public var transcriptsDirectory: String { transcripts.configuration.directory }

    static func transcriptsDirectory(forRecordsIn directory: String) -> String {
        if directory == defaultDirectory { return FileSessionStore.defaultDirectory }
        return (directory.hasSuffix("/") ? String(directory.dropLast()) : directory) + "/transcripts"
    }

    /// Creates a store over `directory` with default settings.
    public convenience init(directory: String) {
        self.init(configuration: Configuration(directory: directory))
    }

    /// The folder holding the session files.
    public var directory: String { configuration.directory }

    /// A stream of the store's events (failed and recovered writes, compactions, skipped
    /// journal lines, …). Each call returns a new stream that receives every event from
    /// then on; it keeps the newest `limit` events if you fall behind.
    public func events(bufferingNewest limit: Int = 256) -> AsyncStream<PersistenceEvent> {
        core.hub.makeStream(bufferingNewest: limit)
    }

    // MARK: Writing

    /// Returns a writer for a session without touching the disk.
    ///
    /// The session's files are created (or found) on the first write. Failures then never
    /// reach the caller: they are reported as ``PersistenceEvent``s and logged, and the
    /// records are kept and retried. Use this when persistence must never interrupt a
    /// conversation.
    ///
    /// - Parameters:
    ///   - id: The session.
    ///   - workingDirectory: The CLI's working directory. For a new session it is stored;
    ///     for an existing one it is recorded as a metadata change when given.
    ///   - options: The serializable options subset, handled like `workingDirectory`.
    ///   - startTime: The start time of a new session.
    package func makeWriter(
        for id: SessionID,
        workingDirectory: String? = nil,
        options: [String: JSONValue]? = nil,
        startTime: Date = Date()
    ) -> SessionWriter {
        SessionWriter(
            id: id, core: core,
            metadata: SessionMetadata(
                startTime: StoreTimestamp.normalized(startTime), workingDirectory: workingDirectory ?? "",
                options: options ?? [:]),
            initialUpdate: workingDirectory == nil && options == nil
                ? nil : MetadataUpdate(workingDirectory: workingDirectory, options: options))
    }

    /// Returns a writer for a session after creating its files, or finding them.
    ///
    /// Like ``makeWriter(for:workingDirectory:options:startTime:)`` but reports a failure to
    /// create the session to the caller.
    /// - Throws: ``SessionStoreError`` (`.ioFailure`, `.notADirectory`, `.unsafePath`,
    ///   `.lockTimeout`).
    package func openSession(
        _ id: SessionID,
        workingDirectory: String? = nil,
        options: [String: JSONValue]? = nil,
        startTime: Date = Date()
    ) async throws -> SessionWriter {
        let writer = makeWriter(for: id, workingDirectory: workingDirectory, options: options, startTime: startTime)
        try await writer.prepare()
        return writer
    }

    // MARK: Reading

    /// Loads a session: its snapshot plus its journal.
    ///
    /// A torn or undecodable journal line is skipped (see ``loadWithDiagnostics(_:)``).
    /// Records still waiting in a writer's queue are not included; `flush()` it first.
    /// - Throws: ``SessionStoreError`` `.sessionNotFound`; `.damagedFile` naming the file
    ///   and why; `.schemaTooNew`; `.unsafePath`; `.ioFailure`.
    package func load(_ id: SessionID) async throws -> SessionData {
        try await loadWithDiagnostics(id).data
    }

    /// Loads a session and reports what the load skipped.
    /// - Throws: Like ``load(_:)``.
    package func loadWithDiagnostics(_ id: SessionID) async throws -> LoadedSession {
        let core = self.core
        let loaded = try await core.read { () throws(SessionStoreError) -> LoadedSession in
            try core.makeFiles(id).loadLocked()
        }
        if loaded.diagnostics.skippedJournalLines > 0 {
            core.emit(
                PersistenceEvent(
                    kind: .journalLinesSkipped, sessionID: id, count: loaded.diagnostics.skippedJournalLines,
                    path: core.root.filePath(id.journalFileName)))
        }
        return loaded
    }

    /// Whether a snapshot exists for `id` (it may still be damaged).
    /// - Throws: ``SessionStoreError`` `.ioFailure`.
    package func contains(_ id: SessionID) async throws -> Bool {
        let core = self.core
        return try await core.read { () throws(SessionStoreError) -> Bool in
            guard let directory = try core.root.revalidate(create: false) else { return false }
            do throws(SystemError) {
                return try POSIX.status(directory.fd, id.snapshotFileName) != nil
            } catch {
                throw SessionStoreError(
                    .ioFailure, path: core.root.filePath(id.snapshotFileName), sessionID: id,
                    systemErrorNumber: error.number)
            }
        }
    }

    /// Lists every session in the folder with summary metadata, most recent activity first.
    ///
    /// Every session file is read and checked. Files that look like sessions but cannot be
    /// read as one (`*.json` that is corrupt, foreign, too new, a link, or named with an
    /// invalid id; a journal whose snapshot is missing) are listed as
    /// ``RecordListEntry/damaged(_:)`` entries, after the readable ones, by file name.
    /// Hidden files (temporary files of the store) are not listed.
    /// - Returns: An empty list when the folder does not exist.
    /// - Throws: ``SessionStoreError`` `.ioFailure` when the folder cannot be read.
    package func list() async throws -> [RecordListEntry] {
        let core = self.core
        return try await core.read { () throws(SessionStoreError) -> [RecordListEntry] in
            try core.listSessions()
        }
    }

    /// Deletes a session: its snapshot, journal, quarantine file and lock file, nothing else.
    ///
    /// A writer still open on the session will start it again on its next write (and
    /// report ``PersistenceEvent/Kind/sessionRecreated``).
    /// - Returns: Whether the session existed.
    /// - Throws: ``SessionStoreError`` `.ioFailure`, `.lockTimeout`.
    @discardableResult
    package func delete(_ id: SessionID) async throws -> Bool {
        let core = self.core
        return try await core.write { () throws(SessionStoreError) -> Bool in
            try core.makeFiles(id).delete()
        }
    }
}

/// What the store and its writers share.
final class StoreCore: Sendable {
    let root: StoreRoot
    let settings: StoreSettings
    let hub: PersistenceEventHub
    let logger: Logger
    /// The serial lane for all writes of this store.
    let queue: BlockingIO.Lane
    /// Where folds run, apart from the writes, so a fold never delays an append or a checkpoint.
    let foldQueue: BlockingIO.Lane

    init(configuration: FileRecordStore.Configuration) {
        root = StoreRoot(path: configuration.directory)
        settings = StoreSettings(
            durability: configuration.durability, compaction: configuration.compaction,
            lockTimeout: configuration.lockTimeout)
        hub = PersistenceEventHub(handler: configuration.eventHandler)
        logger = configuration.logger
        queue = BlockingIO.Lane(label: "claude.sessions.io")
        foldQueue = BlockingIO.Lane(label: "claude.sessions.fold", qos: .utility)
    }

    deinit { hub.finishAll() }

    func makeFiles(_ id: SessionID, metadata: SessionMetadata? = nil) -> SessionFiles {
        SessionFiles(
            id: id, root: root, settings: settings,
            metadata: metadata ?? SessionMetadata(startTime: Date(), workingDirectory: "", options: [:]),
            emit: { [weak self] event in self?.emit(event) })
    }

    func emit(_ event: PersistenceEvent) {
        var metadata: Logger.Metadata = ["claude.event": "\(event.kind)"]
        if let id = event.sessionID { metadata["claude.session_id"] = "\(id)" }
        if let path = event.path { metadata["path"] = "\(path)" }
        if let count = event.count { metadata["count"] = "\(count)" }
        if let error = event.error { metadata["error"] = "\(error)" }
        switch event.kind {
        case .writeFailed, .checkpointFailed, .recordsDropped, .sessionRecreated:
            logger.warning("session persistence problem", metadata: metadata)
        case .journalLinesSkipped, .journalLinesQuarantined, .writeRecovered:
            logger.notice("session persistence recovery", metadata: metadata)
        default:
            logger.debug("session persistence", metadata: metadata)
        }
        hub.emit(event)
    }

    /// Runs blocking file work on the store's serial I/O lane.
    func write<T: Sendable>(_ body: @escaping @Sendable () throws(SessionStoreError) -> T)
        async throws(SessionStoreError) -> T
    {
        try await queue.perform(body)
    }

    /// Runs blocking read work on the shared blocking queue (not the Swift concurrency pool).
    func read<T: Sendable>(_ body: @escaping @Sendable () throws(SessionStoreError) -> T)
        async throws(SessionStoreError) -> T
    {
        try await BlockingIO.perform(body)
    }

    func listSessions() throws(SessionStoreError) -> [RecordListEntry] {
        // Revalidate: the folder may have been removed and made again since it was opened.
        guard let directory = try root.revalidate(create: false) else { return [] }
        let names: [String]
        do { names = try POSIX.listNames(directory.fd) } catch {
            throw SessionStoreError(.ioFailure, path: root.path, systemErrorNumber: error.number)
        }
        let nameSet = Set(names)
        var sessions: [RecordSummary] = []
        var damaged: [DamagedRecordFile] = []
        for name in names where !name.hasPrefix(".") {
            let stem: Substring
            let isSnapshot: Bool
            if name.hasSuffix(".json") {
                stem = name.dropLast(5)
                isSnapshot = true
            } else if name.hasSuffix(".journal") {
                stem = name.dropLast(8)
                isSnapshot = false
                // A journal is listed only when its snapshot is missing.
                if nameSet.contains(stem + ".json") { continue }
            } else {
                continue
            }
            let path = root.filePath(name)
            guard let id = SessionID(rawValue: String(stem)) else {
                damaged.append(
                    DamagedRecordFile(
                        fileName: name, path: path, sessionID: nil,
                        error: SessionStoreError(
                            .invalidSessionID, path: path,
                            reason: SessionID.validationFailure(String(stem)).map { "file name: " + $0 })))
                continue
            }
            if !isSnapshot {
                damaged.append(
                    DamagedRecordFile(
                        fileName: name, path: path, sessionID: id,
                        error: SessionStoreError(
                            .damagedFile, path: path, sessionID: id,
                            reason: "journal without its snapshot (\(id.snapshotFileName) is missing)")))
                continue
            }
            do {
                let loaded = try makeFiles(id).loadLocked()
                sessions.append(
                    RecordSummary(
                        sessionID: id, startTime: loaded.data.startTime, lastActivity: loaded.data.lastActivity,
                        messageCount: loaded.data.conversationHistory.count,
                        workingDirectory: loaded.data.workingDirectory, schemaVersion: loaded.data.schemaVersion,
                        path: path, skippedJournalLines: loaded.diagnostics.skippedJournalLines,
                        fold: RecordSummaryFold(history: loaded.data.conversationHistory),
                        customTitle: loaded.data.title, tag: loaded.data.tag))
            } catch {
                if error.code == .sessionNotFound { continue }  // deleted while listing
                damaged.append(
                    DamagedRecordFile(fileName: name, path: error.path ?? path, sessionID: id, error: error))
            }
        }
        sessions.sort { ($0.lastActivity, $1.sessionID) > ($1.lastActivity, $0.sessionID) }
        damaged.sort { $0.fileName < $1.fileName }
        return sessions.map(RecordListEntry.session) + damaged.map(RecordListEntry.damaged)
    }
}
