import ClaudeCode
import Dispatch
import Foundation
public import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The embedded default ``SessionCatalog``: transcripts as JSON Lines files in a folder.
///
/// ```swift
/// let store = FileSessionStore()           // ~/.claude_sdk/transcripts
/// let client = ClaudeSDKClient(options: options, sessionStore: store)
/// ```
///
/// ## Layout
/// ```
/// <directory>/                          0700
///   <project>/                          0700, one per project key
///     <session>.jsonl                   the main transcript, one entry per line (0600)
///     <session>/<subpath>.jsonl         sub-transcripts, e.g. subagents%2Fagent-1.jsonl
///     .index.jsonl                      the project's index: one summary record per change
///     .lock                             serialises index updates between processes
/// ```
/// Every key component is encoded into a file name that holds only `a-z 0-9 - _ %`
/// (see the conformance suite's odd-keys check): `/`, `..`, uppercase letters and non-ASCII
/// become `%XX`, and a name over 200 bytes is shortened with a SHA-256 (its component is kept in
/// `<name>.key` beside it). Subpaths are validated (``SessionStoreKey/validate()``) before any
/// path is formed.
///
/// ## Appends
/// An append takes an exclusive `flock` on the transcript file, drops entries whose `uuid` the
/// file already holds, writes the rest with one `write(2)` to a descriptor opened with
/// `O_APPEND`, and — for a main transcript — folds them into the session's summary
/// (``SessionSummaryFold``) and appends the new summary to the project index under the project
/// lock. The uuids of recently used transcripts are cached and caught up from the bytes other
/// processes appended since, so an append costs O(batch), not O(transcript). A write that fails
/// half way is truncated back; a line torn by a crash is cut off by the next append and never
/// loaded. Several store instances and processes may share a folder.
///
/// ## Listing
/// ``listSessions(projectKey:)`` and ``listSessionSummaries(projectKey:)`` read only the
/// project index (its new tail, when this instance read it before), never a transcript. The
/// index is compacted when it holds more than twice as many records as sessions. Each record
/// carries the transcript size it covers: if a process died between writing a transcript and
/// its index record, the next append to that session folds the missing entries first.
///
/// ## Write times
/// A session's time is the store's clock in epoch milliseconds, strictly increasing per
/// session across processes (`max(now, previous + 1)`), and the summary carries the same value.
///
/// ## Threads
/// All file I/O runs on a serial dispatch queue owned by the store, never on the Swift
/// concurrency thread pool.
public final class FileSessionStore: SessionCatalog {
    /// How a store behaves.
    public struct Configuration: Sendable {
        /// The folder holding the projects. Created (mode 0700) on first write.
        public var directory: String
        /// Force every append to stable storage (`fdatasync`) before it returns. Default `false`:
        /// the CLI's own transcript is the durable copy while a session runs.
        public var syncEachAppend: Bool
        /// How long to wait for another process's lock before failing with
        /// ``SessionStoreError/Code/lockTimeout``. Default 30 s.
        public var lockTimeout: Duration
        /// How many transcripts' uuid sets are cached for deduplication. Default 128.
        public var cachedTranscripts: Int
        /// Where recoveries (torn lines cut off, summaries caught up) are logged.
        public var logger: Logger

        /// Creates a configuration.
        public init(
            directory: String = FileSessionStore.defaultDirectory, syncEachAppend: Bool = false,
            lockTimeout: Duration = .seconds(30), cachedTranscripts: Int = 128,
            logger: Logger = Logger(label: "claude.sessions.transcripts")
        ) {
            self.directory = directory
            self.syncEachAppend = syncEachAppend
            self.lockTimeout = lockTimeout
            self.cachedTranscripts = cachedTranscripts
            self.logger = logger
        }
    }

    /// `~/.claude_sdk/transcripts`.
    public static var defaultDirectory: String {
        HomeDirectory.path(".claude_sdk/transcripts")
    }

    /// The store's settings.
    public let configuration: Configuration
    private let engine: TranscriptFileEngine
    private let queue = BlockingIO.Lane(label: "claude.sessions.transcript-store")

    /// Creates a store over `configuration.directory`; nothing is touched until the first call.
    public init(configuration: Configuration) {
        self.configuration = configuration
        self.engine = TranscriptFileEngine(configuration: configuration)
    }

    /// Creates a store over `directory` with default settings.
    public convenience init(directory: String = FileSessionStore.defaultDirectory) {
        self.init(configuration: Configuration(directory: directory))
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable () throws(SessionStoreError) -> T)
        async throws(SessionStoreError) -> T
    {
        try await queue.perform(body)
    }

    // MARK: SessionStore

    public func append(_ entries: [SessionStoreEntry], to key: SessionStoreKey) async throws(SessionStoreError) {
        try key.validate()
        guard !entries.isEmpty else { return }
        let engine = self.engine
        try await run { () throws(SessionStoreError) in try engine.append(entries, to: key) }
    }

    public func load(_ key: SessionStoreKey) async throws(SessionStoreError) -> [SessionStoreEntry]? {
        try key.validate()
        let engine = self.engine
        return try await run { () throws(SessionStoreError) in try engine.load(key) }
    }

    // MARK: SessionCatalog

    public func listSessions(projectKey: String) async throws(SessionStoreError) -> [SessionStoreListing] {
        let engine = self.engine
        return try await run { () throws(SessionStoreError) in
            try engine.index(projectKey: projectKey).records.map { id, record in
                SessionStoreListing(sessionID: id, modifiedMilliseconds: record.modified)
            }
        }
    }

    public func listSessionSummaries(projectKey: String) async throws(SessionStoreError) -> [SessionStoreSummary] {
        let engine = self.engine
        return try await run { () throws(SessionStoreError) in
            try engine.index(projectKey: projectKey).records.map { id, record in
                SessionStoreSummary(sessionID: id, modifiedMilliseconds: record.modified, data: record.data)
            }
        }
    }

    public func delete(_ key: SessionStoreKey) async throws(SessionStoreError) {
        try key.validate()
        let engine = self.engine
        try await run { () throws(SessionStoreError) in try engine.delete(key) }
    }

    public func listSubkeys(projectKey: String, sessionID: String) async throws(SessionStoreError) -> [String] {
        let key = SessionStoreKey(projectKey: projectKey, sessionID: sessionID)
        try key.validate()
        let engine = self.engine
        return try await run { () throws(SessionStoreError) in try engine.listSubkeys(key) }
    }
}
