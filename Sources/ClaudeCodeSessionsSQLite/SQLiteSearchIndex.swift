public import ClaudeCodeSessions
public import Foundation
import GRDB

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

/// A full-text index of sessions in an SQLite database (FTS5, trigram tokenizer), kept up to
/// date incrementally: ``refresh(_:load:)`` re-indexes only the sessions whose fingerprint
/// changed and drops those that are gone.
///
/// It answers the same question as `SessionSearch/matches(_:terms:)` — every term occurs in
/// the session as a case-insensitive substring — without reading the sessions: the trigram
/// tokenizer matches substrings of three characters or more, and shorter terms fall back to
/// `LIKE`. (Case folding beyond ASCII and diacritics follow SQLite's rules, not Foundation's.)
///
/// ```swift
/// let index = try SQLiteSearchIndex(path: "~/.claude_sdk/search.sqlite")
/// try await index.refresh(listing.map { ($0.id, $0.fingerprint) }) { id in try await load(id) }
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
        /// Sessions that could not be loaded (left as they were).
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
        /// BM25 relevance summed over terms and passages (higher is better).
        public var score: Double
        /// Snippets from the best passages, matches marked.
        public var snippets: [SessionSearch.Snippet]
    }

    /// The database.
    public let database: DatabaseQueue

    static let layoutVersion = 2
    /// Rowids reserved per session (passages beyond this many are not indexed).
    static let passagesPerSlot: Int64 = 1 << 24

    /// Opens or creates the index at `path`.
    ///
    /// - Throws: `SessionStoreError` when the file cannot be opened or SQLite lacks FTS5's trigram tokenizer.
    public init(path: String) throws(SessionStoreError) {
        do {
            database = try DatabaseQueue(path: path)
            try database.write { db in
                // The index is a cache: a file of another layout is rebuilt.
                let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
                if version != Self.layoutVersion {
                    try db.execute(sql: "DROP TABLE IF EXISTS indexed_sessions; DROP TABLE IF EXISTS passages")
                    try db.execute(sql: "PRAGMA user_version = \(Self.layoutVersion)")
                }
                // A session's passages have the rowids slot * passagesPerSlot + 0, 1, 2, …, so that
                // they are found and deleted by rowid range rather than by scanning the whole table.
                try db.execute(
                    sql: """
                        CREATE TABLE IF NOT EXISTS indexed_sessions (
                            session_id TEXT PRIMARY KEY,
                            slot INTEGER NOT NULL UNIQUE,
                            fingerprint TEXT NOT NULL,
                            title TEXT NOT NULL,
                            last_activity REAL
                        );
                        CREATE VIRTUAL TABLE IF NOT EXISTS passages USING fts5(
                            session_id UNINDEXED, field UNINDEXED, entry_index UNINDEXED, text,
                            tokenize = 'trigram'
                        );
                        """)
            }
        } catch {
            throw SessionStoreError(.backendFailure, path: path, reason: "cannot open the search index: \(error)")
        }
    }

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
        let known: [String: String]
        do {
            known = try await database.read { db in
                var result: [String: String] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT session_id, fingerprint FROM indexed_sessions") {
                    result[row[0]] = row[1]
                }
                return result
            }
        } catch {
            throw SessionStoreError(.backendFailure, reason: "cannot read the search index: \(error)")
        }
        let current = Set(sessions.map(\.id))
        report.removed = known.keys.filter { !current.contains($0) }.sorted()
        var changed: [(String, String, SessionDocument)] = []
        for (id, fingerprint) in sessions {
            if known[id] == fingerprint {
                report.unchanged += 1
                continue
            }
            guard let document = await load(id) else {
                report.failed.append(id)
                continue
            }
            changed.append((id, fingerprint, document))
            report.indexed.append(id)
        }
        let removed = report.removed
        let updates = changed
        do {
            try await database.write { db in
                for id in removed + updates.map(\.0) {
                    guard
                        let slot = try Int64.fetchOne(
                            db, sql: "SELECT slot FROM indexed_sessions WHERE session_id = ?", arguments: [id])
                    else { continue }
                    try db.execute(
                        sql: "DELETE FROM passages WHERE rowid >= ? AND rowid < ?",
                        arguments: [slot * Self.passagesPerSlot, (slot + 1) * Self.passagesPerSlot])
                    try db.execute(sql: "DELETE FROM indexed_sessions WHERE session_id = ?", arguments: [id])
                }
                var next = (try Int64.fetchOne(db, sql: "SELECT max(slot) FROM indexed_sessions") ?? -1) + 1
                for (id, fingerprint, document) in updates {
                    let slot = next
                    next += 1
                    try db.execute(
                        sql: """
                            INSERT INTO indexed_sessions (session_id, slot, fingerprint, title, last_activity)
                            VALUES (?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            id, slot, fingerprint, document.displayTitle, document.lastActivity?.timeIntervalSince1970,
                        ])
                    for (offset, passage) in SessionSearch.passages(of: document).prefix(Int(Self.passagesPerSlot))
                        .enumerated()
                    {
                        try db.execute(
                            sql:
                                "INSERT INTO passages (rowid, session_id, field, entry_index, text) VALUES (?, ?, ?, ?, ?)",
                            arguments: [
                                slot * Self.passagesPerSlot + Int64(offset), id, passage.field.rawValue,
                                passage.entryIndex, passage.text,
                            ])
                    }
                }
            }
        } catch {
            throw SessionStoreError(.backendFailure, reason: "cannot write the search index: \(error)")
        }
        return report
    }

    /// The ids of every indexed session.
    public func indexedSessionIDs() async throws(SessionStoreError) -> Set<String> {
        do {
            return Set(
                try await database.read { db in try String.fetchAll(db, sql: "SELECT session_id FROM indexed_sessions")
                })
        } catch {
            throw SessionStoreError(.backendFailure, reason: "cannot read the search index: \(error)")
        }
    }

    /// Sessions holding every term of `query` (see `SessionSearch/terms(of:)`), best first.
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
        do {
            return try await database.read { db in
                var scores: [String: Double]?
                for term in terms {
                    var found: [String: Double] = [:]
                    if term.count >= 3 {
                        let phrase = "\"" + term.replacingOccurrences(of: "\"", with: "\"\"") + "\""
                        // bm25() cannot be aggregated in SQL: each matching passage's score is added up here.
                        let rows = try Row.fetchAll(
                            db, sql: "SELECT session_id, bm25(passages) FROM passages WHERE passages MATCH ?",
                            arguments: ["text : " + phrase])
                        for row in rows {
                            let id: String = row[0]
                            let score: Double = row[1]
                            found[id, default: 0] -= score
                        }
                    } else {
                        let pattern = "%" + Self.escapeLike(term) + "%"
                        let rows = try Row.fetchAll(
                            db,
                            sql: """
                                SELECT session_id, count(*) FROM passages WHERE text LIKE ? ESCAPE '\\'
                                GROUP BY session_id
                                """,
                            arguments: [pattern])
                        for row in rows { found[row[0]] = Double(row[1] as Int) }
                    }
                    if let previous = scores {
                        var merged: [String: Double] = [:]
                        for (id, score) in previous { if let more = found[id] { merged[id] = score + more } }
                        scores = merged
                    } else {
                        scores = found
                    }
                }
                var matches: [Match] = []
                for (id, score) in scores ?? [:] where only?.contains(id) ?? true {
                    let row = try Row.fetchOne(
                        db, sql: "SELECT title, last_activity FROM indexed_sessions WHERE session_id = ?",
                        arguments: [id])
                    let last: Double? = row?[1]
                    matches.append(
                        Match(
                            sessionID: id, title: row?[0] ?? id,
                            lastActivity: last.map { Date(timeIntervalSince1970: $0) }, score: score, snippets: []))
                }
                matches.sort {
                    if $0.score != $1.score { return $0.score > $1.score }
                    return $0.sessionID < $1.sessionID
                }
                if let limit, limit > 0, matches.count > limit { matches = Array(matches.prefix(limit)) }
                for index in matches.indices {
                    matches[index].snippets = try Self.snippets(db, sessionID: matches[index].sessionID, terms: terms)
                }
                return matches
            }
        } catch {
            throw SessionStoreError(.backendFailure, reason: "cannot search the index: \(error)")
        }
    }

    /// Up to three passages of a session holding a term, with matches marked as `SessionSearch` marks them.
    static func snippets(_ db: Database, sessionID: String, terms: [String]) throws -> [SessionSearch.Snippet] {
        guard
            let slot = try Int64.fetchOne(
                db, sql: "SELECT slot FROM indexed_sessions WHERE session_id = ?", arguments: [sessionID])
        else { return [] }
        let rows = try Row.fetchAll(
            db, sql: "SELECT field, entry_index, text FROM passages WHERE rowid >= ? AND rowid < ?",
            arguments: [slot * passagesPerSlot, (slot + 1) * passagesPerSlot])
        var snippets: [(Double, SessionSearch.Snippet)] = []
        for row in rows {
            let passage = SessionSearch.Passage(
                field: SessionSearch.Field(rawValue: row[0]) ?? .reply, entryIndex: row[1], text: row[2])
            var ranges: [Range<String.Index>] = []
            for term in terms {
                var start = passage.text.startIndex
                while start < passage.text.endIndex,
                    let range = passage.text.range(
                        of: term, options: [.caseInsensitive, .diacriticInsensitive],
                        range: start..<passage.text.endIndex)
                {
                    ranges.append(range)
                    start = range.upperBound
                }
            }
            guard !ranges.isEmpty else { continue }
            snippets.append((Double(ranges.count), SessionSearch.snippet(of: passage, ranges: ranges)))
        }
        return snippets.sorted { $0.0 > $1.0 }.prefix(3).map(\.1)
    }

    static func escapeLike(_ text: String) -> String {
        var out = ""
        for character in text {
            if character == "%" || character == "_" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out
    }
}
