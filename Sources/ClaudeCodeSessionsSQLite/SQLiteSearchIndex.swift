public import ClaudeCodeSessions
public import Foundation
import GRDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension SQLiteSessionStore {
    /// The project keys that hold at least one main transcript, sorted (for tools that list
    /// every project, such as `claude-sessions --store sqlite:PATH`).
    ///
    /// - Throws: `SessionStoreError` when the database cannot be read.
    public func listProjectKeys() async throws(SessionStoreError) -> [String] {
        try await read { db in
            try String.fetchAll(
                db,
                sql: "SELECT DISTINCT project_key FROM claude_transcripts WHERE subpath = '' ORDER BY project_key")
        }
    }
}

/// A full-text index of sessions in an SQLite file, kept up to date incrementally, and a cache of
/// each session's summary (title, project, message count, tokens, cost) for listing.
///
/// It answers exactly what `SessionSearch` answers by scanning — the same sessions, ranked and
/// highlighted the same way — without reading the sessions: each session's searchable passages
/// are stored once, with the set of trigrams (three bytes of the case- and diacritic-folded text)
/// they hold. A query reads the sessions holding every trigram of its terms, then checks and ranks
/// only those with `SessionSearch/hit(sessionID:title:projectPath:lastActivity:passages:terms:snippetLimit:)`.
/// Terms shorter than three bytes filter nothing (every session is checked).
///
/// Sessions are refreshed by fingerprint: ``refresh(_:load:)`` for any source, or
/// ``refresh(library:indexingText:fullCheckInterval:)`` for the CLI's own transcripts, which compares the files'
/// `stat` (size, modification and change times, inode) with the stored ones and reads only the
/// sessions that changed. The file is a cache: deleting it only costs a rebuild.
///
/// ```swift
/// let index = try SQLiteSearchIndex(path: "~/.claude_sdk/search.sqlite")
/// try await index.refresh(library: ClaudeSessionLibrary(), indexingText: true)
/// let hits = try await index.search("sqlite migration", limit: 20)
/// ```
public final class SQLiteSearchIndex: Sendable {
    /// What a refresh did.
    public struct RefreshReport: Sendable, Hashable {
        /// Sessions (re)indexed because they were new or their fingerprint changed.
        public var indexed: [String] = []
        /// Sessions removed because they are gone from the source.
        public var removed: [String] = []
        /// Sessions whose fingerprint was unchanged.
        public var unchanged: Int = 0
        /// Sessions that could not be loaded (tried again on the next refresh).
        public var failed: [String] = []
    }

    /// One session that matches, best first.
    public struct Match: Sendable, Hashable {
        /// The session's id.
        public var sessionID: String
        /// Its title when indexed.
        public var title: String
        /// Its last activity when indexed.
        public var lastActivity: Date?
        /// The score `SessionSearch` gives it (higher is better).
        public var score: Double
        /// Snippets from the best passages, matches marked.
        public var snippets: [SessionSearch.Snippet]
        /// Its project when indexed.
        public var projectPath: String?
        /// How many matches in all.
        public var matchCount: Int = 0
    }

    /// A session's summary as the index keeps it (for listing without reading the session).
    public struct Summary: Sendable, Hashable {
        /// The session's id.
        public var sessionID: String
        /// Its custom title, else its first prompt, else its summary.
        public var title: String
        /// Its working directory.
        public var projectPath: String?
        /// When its transcript last changed.
        public var lastModified: Date?
        /// Its tag.
        public var tag: String?
        /// User and assistant messages.
        public var messageCount: Int?
        /// Tokens of every kind.
        public var totalTokens: Int?
        /// Cost in US dollars, when recorded.
        public var costUSD: Double?

        /// Sets the message count, tokens and cost.
        mutating func count(messages: Int, usage: SessionDocument.Usage) {
            messageCount = messages
            totalTokens = usage.totalTokens
            costUSD = usage.costUSD
        }
    }

    /// A session that could not be read.
    public struct Problem: Sendable, Hashable {
        /// The session's id.
        public var sessionID: String
        /// What went wrong.
        public var message: String
    }

    /// The database.
    public let database: DatabaseQueue
    /// The file.
    public let path: String

    static let layoutVersion = 4  // 4: combining marks fold away (TextFolding)

    /// Opens or creates the index at `path` (created 0600).
    ///
    /// - Parameters:
    ///   - path: The file.
    ///   - discardingUnreadable: Whether a file that is not a readable index (damaged, or not a
    ///     database) is deleted and rebuilt; when `false` (the default) opening it fails.
    /// - Throws: `SessionStoreError` when the file cannot be opened.
    public init(path: String, discardingUnreadable: Bool = false) throws(SessionStoreError) {
        self.path = path
        do {
            database = try Self.open(path)
        } catch {
            guard discardingUnreadable else {
                throw SessionStoreError(
                    .backendFailure, path: path,
                    reason: "cannot open the search index: \(error); delete the file to rebuild it")
            }
            Self.remove(path)
            do {
                database = try Self.open(path)
            } catch {
                throw SessionStoreError(.backendFailure, path: path, reason: "cannot create the search index: \(error)")
            }
        }
    }

    static func remove(_ path: String) {
        for suffix in ["", "-journal", "-wal", "-shm"] { unlink(path + suffix) }
    }

    static func open(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // A cache: losing the last writes to a crash only costs re-reading those sessions.
            try db.execute(sql: "PRAGMA synchronous = OFF")
        }
        let created = !FileManager.default.fileExists(atPath: path)
        let database = try DatabaseQueue(path: path, configuration: configuration)
        if created { chmod(path, 0o600) }
        // The usual case: the file is current; a read is enough.
        if try database.read({ db in try Int.fetchOne(db, sql: "PRAGMA user_version") }) == Self.layoutVersion {
            return database
        }
        try database.write { db in
            let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
            if version != Self.layoutVersion {
                // The index is a cache: a file of another layout is rebuilt.
                for table in ["indexed_sessions", "passages", "sessions", "texts", "postings", "delta", "meta"] {
                    try db.execute(sql: "DROP TABLE IF EXISTS \(table)")
                }
                try db.execute(sql: "PRAGMA user_version = \(Self.layoutVersion)")
            }
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS sessions (
                        session_id TEXT PRIMARY KEY,
                        fingerprint TEXT NOT NULL,
                        slot INTEGER UNIQUE,
                        listed INTEGER NOT NULL,
                        search_title TEXT NOT NULL,
                        search_project TEXT,
                        search_last_activity REAL,
                        title TEXT NOT NULL,
                        project TEXT,
                        last_modified REAL,
                        tag TEXT,
                        messages INTEGER,
                        tokens INTEGER,
                        cost REAL,
                        problem TEXT
                    );
                    CREATE TABLE IF NOT EXISTS texts (slot INTEGER PRIMARY KEY, passages BLOB NOT NULL);
                    CREATE TABLE IF NOT EXISTS postings (key INTEGER PRIMARY KEY, slots BLOB NOT NULL);
                    CREATE TABLE IF NOT EXISTS delta (
                        key INTEGER NOT NULL, slot INTEGER NOT NULL, PRIMARY KEY (key, slot)
                    ) WITHOUT ROWID;
                    CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value) WITHOUT ROWID;
                    CREATE INDEX IF NOT EXISTS sessions_with_problems ON sessions (problem) WHERE problem IS NOT NULL;
                    """)
        }
        return database
    }

    static func failure(_ what: String, _ error: any Error) -> SessionStoreError {
        SessionStoreError(.backendFailure, reason: "cannot \(what) the search index: \(error)")
    }

    // MARK: - Writing

    /// A session to (re)write.
    struct Update: Sendable {
        var id: String
        var fingerprint: String
        var listed: Bool
        var summary: Summary
        var searchTitle: String
        var searchProject: String? = nil
        var searchLastActivity: Date? = nil
        /// Encoded passages and their trigrams; `nil`: not indexed for search.
        var passages: [UInt8]? = nil
        var keys: [UInt32] = []
        var problem: String? = nil
    }

    /// Builds the update of a loaded document.
    static func update(
        id: String, fingerprint: String, document: SessionDocument, summary: Summary?, indexingText: Bool,
        extractor: TrigramExtractor
    ) -> Update {
        var passages: [UInt8]?
        var keys: [UInt32] = []
        if indexingText {
            let list = SessionSearch.passages(of: document)
            for passage in list { extractor.add(passage.text) }
            keys = extractor.finish()
            passages = PassageCoding.encode(list)
        }
        var summary =
            summary
            ?? Summary(
                sessionID: id, title: document.displayTitle, projectPath: document.projectPath,
                lastModified: document.lastActivity)
        summary.count(messages: document.messageCount, usage: document.usage)
        return Update(
            id: id, fingerprint: fingerprint, listed: true, summary: summary, searchTitle: document.displayTitle,
            searchProject: document.projectPath, searchLastActivity: document.lastActivity, passages: passages,
            keys: keys)
    }

    /// Above this many delta rows, or this many sessions written at once, the postings are rebuilt.
    static let deltaLimit = 2_000_000
    static let bulkLimit = 500

    /// Removes sessions and writes updates in one transaction.
    static func apply(_ db: Database, removed: [String], updates: [Update], builder: PostingsBuilder?) throws {
        let slotOf = try db.cachedStatement(sql: "SELECT slot FROM sessions WHERE session_id = ?")
        let deleteText = try db.cachedStatement(sql: "DELETE FROM texts WHERE slot = ?")
        let deleteSession = try db.cachedStatement(sql: "DELETE FROM sessions WHERE session_id = ?")
        for id in removed + updates.map(\.id) {
            if let slot = try Int64.fetchOne(slotOf, arguments: [id]) {
                try deleteText.execute(arguments: [slot])
            }
            try deleteSession.execute(arguments: [id])
        }
        guard !updates.isEmpty else { return }
        var next = try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE name = 'next_slot'") ?? 0
        let insertText = try db.cachedStatement(sql: "INSERT INTO texts (slot, passages) VALUES (?, ?)")
        let insertDelta = try db.cachedStatement(sql: "INSERT OR IGNORE INTO delta (key, slot) VALUES (?, ?)")
        let insertSession = try db.cachedStatement(
            sql: """
                INSERT INTO sessions (session_id, fingerprint, slot, listed, search_title, search_project,
                    search_last_activity, title, project, last_modified, tag, messages, tokens, cost, problem)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for update in updates {
            var slot: Int64?
            if let passages = update.passages {
                slot = next
                next += 1
                try insertText.execute(arguments: [next - 1, Data(passages)])
                if let builder {
                    builder.add(slot: UInt32(next - 1), keys: update.keys)
                } else {
                    for key in update.keys { try insertDelta.execute(arguments: [Int64(key), next - 1]) }
                }
            }
            let summary = update.summary
            try insertSession.execute(arguments: [
                update.id, update.fingerprint, slot, update.listed, update.searchTitle, update.searchProject,
                update.searchLastActivity?.timeIntervalSince1970, summary.title, summary.projectPath,
                summary.lastModified?.timeIntervalSince1970, summary.tag, summary.messageCount, summary.totalTokens,
                summary.costUSD, update.problem,
            ])
        }
        try db.execute(sql: "INSERT OR REPLACE INTO meta (name, value) VALUES ('next_slot', ?)", arguments: [next])
    }

    /// A builder holding the current postings and delta of live sessions (for a bulk write).
    static func loadPostings(_ db: Database) throws -> PostingsBuilder {
        let builder = PostingsBuilder()
        let live = Set(try Int64.fetchAll(db, sql: "SELECT slot FROM texts").map { UInt32($0) })
        guard !live.isEmpty else { return builder }
        let rows = try Row.fetchCursor(db, sql: "SELECT key, slots FROM postings")
        while let row = try rows.next() {
            let key: Int64 = row[0]
            var slots: [UInt32] = []
            let data: Data = row[1]
            data.withUnsafeBytes { SlotList.decode($0, into: &slots) }
            builder.add(key: UInt32(key), slots: slots.filter { live.contains($0) })
        }
        var pending: [UInt32: [UInt32]] = [:]
        let deltas = try Row.fetchCursor(db, sql: "SELECT key, slot FROM delta")
        while let row = try deltas.next() {
            let slot = UInt32(row[1] as Int64)
            if live.contains(slot) { pending[UInt32(row[0] as Int64), default: []].append(slot) }
        }
        for (key, slots) in pending { builder.add(key: key, slots: slots) }
        return builder
    }

    /// Replaces the postings with a builder's and empties the delta.
    static func store(_ builder: PostingsBuilder, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM postings; DELETE FROM delta")
        let insert = try db.cachedStatement(sql: "INSERT INTO postings (key, slots) VALUES (?, ?)")
        try builder.forEach { key, slots in
            try insert.execute(arguments: [Int64(key), Data(SlotList.encode(slots))])
        }
    }

    /// Writes batches of updates; with many, rebuilds the postings in memory and stores them at the end.
    final class Writer: @unchecked Sendable {
        let database: DatabaseQueue
        var builder: PostingsBuilder?

        init(database: DatabaseQueue, bulk: Bool) async throws {
            self.database = database
            if bulk {
                builder = try await database.read { db in try SQLiteSearchIndex.loadPostings(db) }
            } else {
                let rows = try await database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM delta") }
                if (rows ?? 0) > SQLiteSearchIndex.deltaLimit {
                    builder = try await database.read { db in try SQLiteSearchIndex.loadPostings(db) }
                }
            }
        }

        func write(removed: [String], updates: [Update]) async throws {
            let builder = self.builder
            try await database.write { db in
                try SQLiteSearchIndex.apply(db, removed: removed, updates: updates, builder: builder)
            }
        }

        func finish(meta: [String: String]) async throws {
            let builder = self.builder
            try await database.write { db in
                if let builder { try SQLiteSearchIndex.store(builder, db) }
                for (name, value) in meta {
                    try db.execute(
                        sql: "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", arguments: [name, value])
                }
            }
        }
    }

    // MARK: - Refreshing from any source

    /// Brings the index up to date with a source's sessions.
    ///
    /// - Parameters:
    ///   - sessions: Every session of the source with a fingerprint that changes whenever the
    ///     session does (its modification time and size, say).
    ///   - load: Loads one session's document (only called for new or changed sessions).
    /// - Returns: What was indexed and removed.
    /// - Throws: `SessionStoreError` when the index cannot be written.
    @discardableResult
    public func refresh(
        _ sessions: [(id: String, fingerprint: String)], load: (String) async -> SessionDocument?
    ) async throws(SessionStoreError) -> RefreshReport {
        var report = RefreshReport()
        let known: [String: (String, Bool)]
        do {
            known = try await database.read { db in
                var result: [String: (String, Bool)] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT session_id, fingerprint, slot FROM sessions") {
                    result[row[0]] = (row[1], (row[2] as Int64?) != nil)
                }
                return result
            }
        } catch {
            throw Self.failure("read", error)
        }
        let current = Set(sessions.map(\.id))
        report.removed = known.keys.filter { !current.contains($0) }.sorted()
        let extractor = TrigramExtractor()
        var updates: [Update] = []
        for (id, fingerprint) in sessions {
            if let entry = known[id], entry.0 == fingerprint, entry.1 {
                report.unchanged += 1
                continue
            }
            guard let document = await load(id) else {
                report.failed.append(id)
                continue
            }
            updates.append(
                Self.update(
                    id: id, fingerprint: fingerprint, document: document, summary: nil, indexingText: true,
                    extractor: extractor))
            report.indexed.append(id)
        }
        do {
            let writer = try await Writer(database: database, bulk: updates.count > Self.bulkLimit)
            try await writer.write(removed: report.removed, updates: updates)
            try await writer.finish(meta: [:])
        } catch {
            throw Self.failure("write", error)
        }
        return report
    }

    /// The ids of every indexed session.
    public func indexedSessionIDs() async throws(SessionStoreError) -> Set<String> {
        do {
            return Set(
                try await database.read { db in
                    try String.fetchAll(db, sql: "SELECT session_id FROM sessions WHERE slot IS NOT NULL")
                })
        } catch {
            throw Self.failure("read", error)
        }
    }

    // MARK: - Searching

    /// Sessions holding every term of `query` (see `SessionSearch/terms(of:)`), best first, as
    /// `SessionSearch/search(_:in:limit:)` ranks them.
    ///
    /// - Parameters:
    ///   - query: The query.
    ///   - limit: The most sessions to return; `nil` for all.
    ///   - only: When given, only these sessions are considered.
    /// - Throws: `SessionStoreError` when the index cannot be read.
    public func search(_ query: String, limit: Int? = nil, only: Set<String>? = nil) async throws(SessionStoreError)
        -> [Match]
    {
        let terms = SessionSearch.terms(of: query)
        guard !terms.isEmpty else { return [] }
        let folded = terms.map(TextFolding.fold)
        let extractor = TrigramExtractor()
        let keys = terms.compactMap { extractor.termKeys($0) }
        let hits: [SessionSearch.Hit]
        do {
            hits = try await database.read { db in
                let candidates = try Self.candidates(db, keys: keys)
                // Every candidate is checked and scored without snippets; the snippets are made
                // for the hits shown only (a word in every session would otherwise cost 10,000
                // sessions' snippets for 20 shown).
                var scored: [(hit: SessionSearch.Hit, slot: Int64)] = []
                let text = try db.cachedStatement(sql: "SELECT passages FROM texts WHERE slot = ?")
                // Candidates are read in batches and scored on every core (each worker with its
                // own matcher), the stored UTF-8 matched in place; a batch is scored while the
                // next one is read.
                struct Candidate: Sendable {
                    var id: String
                    var title: String
                    var project: String?
                    var last: Double?
                    var slot: Int64
                    var passages: Data
                }
                let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
                var batch: [Candidate] = []
                typealias Scores = ParallelResults<(score: Double, matchCount: Int)>
                var pending: (done: DispatchGroup, work: [Candidate], results: Scores)?
                func collect() {
                    guard let (done, work, results) = pending else { return }
                    pending = nil
                    done.wait()
                    for (index, candidate) in work.enumerated() {
                        guard let result = results[index] else { continue }
                        let found = SessionSearch.Hit(
                            sessionID: candidate.id, title: candidate.title, projectPath: candidate.project,
                            lastActivity: candidate.last.map { Date(timeIntervalSince1970: $0) },
                            score: result.score, matchCount: result.matchCount, snippets: [])
                        scored.append((found, candidate.slot))
                    }
                }
                func flush() {
                    let work = batch
                    batch.removeAll(keepingCapacity: true)
                    collect()
                    guard !work.isEmpty else { return }
                    let results = Scores(count: work.count)
                    let done = DispatchGroup()
                    DispatchQueue.global().async(group: done) {
                        DispatchQueue.concurrentPerform(iterations: min(workers, work.count)) { worker in
                            var matcher = TextFolding.Matcher()
                            var index = worker
                            while index < work.count {
                                results[index] = work[index].passages.withUnsafeBytes { bytes in
                                    SessionSearch.score(foldedTerms: folded, matcher: &matcher) {
                                        PassageCoding.forEach(bytes, $0)
                                    }
                                }
                                index += workers
                            }
                        }
                    }
                    pending = (done, work, results)
                }
                func check(_ row: Row) throws {
                    let id: String = row[0]
                    if let only, !only.contains(id) { return }
                    guard let data = try Data.fetchOne(text, arguments: [row[4] as Int64]) else { return }
                    batch.append(
                        Candidate(id: id, title: row[1], project: row[2], last: row[3], slot: row[4], passages: data))
                    if batch.count >= 64 { flush() }
                }
                let columns = "session_id, search_title, search_project, search_last_activity, slot"
                let session = try db.cachedStatement(
                    sql: "SELECT \(columns) FROM sessions WHERE slot = ? AND listed = 1")
                if let candidates {
                    for slot in candidates {
                        if let row = try Row.fetchOne(session, arguments: [Int64(slot)]) { try check(row) }
                    }
                } else {
                    let rows = try Row.fetchCursor(
                        db, sql: "SELECT \(columns) FROM sessions WHERE slot IS NOT NULL AND listed = 1")
                    while let row = try rows.next() { try check(row) }
                }
                flush()
                collect()
                let slots = Dictionary(
                    scored.map { ($0.hit.sessionID, $0.slot) }, uniquingKeysWith: { first, _ in first })
                // Snippets for the hits returned only, from their best passages only.
                var matcher = TextFolding.Matcher()
                return try SessionSearch.ranked(scored.map(\.hit), limit: limit).map { ranked in
                    guard let slot = slots[ranked.sessionID], let data = try Data.fetchOne(text, arguments: [slot])
                    else { return ranked }
                    var full = ranked
                    full.snippets = data.withUnsafeBytes { bytes in
                        SessionSearch.snippets(
                            foldedTerms: folded, matcher: &matcher, limit: 3,
                            passages: { PassageCoding.forEach(bytes, $0) },
                            decode: { PassageCoding.decode(bytes, positions: $0) })
                    }
                    return full
                }
            }
        } catch {
            throw Self.failure("search", error)
        }
        return hits.map {
            Match(
                sessionID: $0.sessionID, title: $0.title, lastActivity: $0.lastActivity, score: $0.score,
                snippets: $0.snippets, projectPath: $0.projectPath, matchCount: $0.matchCount)
        }
    }

    /// The slots holding every trigram of every term; `nil` when no term has trigrams (all are candidates).
    static func candidates(_ db: Database, keys: [[UInt32]]) throws -> [UInt32]? {
        guard !keys.isEmpty else { return nil }
        let posting = try db.cachedStatement(sql: "SELECT slots FROM postings WHERE key = ?")
        let delta = try db.cachedStatement(sql: "SELECT slot FROM delta WHERE key = ?")
        var result: [UInt32]?
        for key in Set(keys.joined()) {
            var slots: [UInt32] = []
            if let data = try Data.fetchOne(posting, arguments: [Int64(key)]) {
                data.withUnsafeBytes { SlotList.decode($0, into: &slots) }
            }
            let more = try Int64.fetchAll(delta, arguments: [Int64(key)]).map { UInt32($0) }
            slots = SlotList.union(slots, more)
            result = result.map { SlotList.intersect($0, slots) } ?? slots
            if result?.isEmpty == true { return [] }
        }
        return result
    }
}

/// One optional result per index, written by concurrent workers (each index by one worker).
final class ParallelResults<Value>: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<Value?>

    init(count: Int) {
        storage = .allocate(capacity: max(count, 1))
        storage.initialize(repeating: nil)
    }

    deinit {
        _ = storage.deinitialize()
        storage.deallocate()
    }

    subscript(index: Int) -> Value? {
        get { storage[index] }
        set { storage[index] = newValue }
    }
}
