import ClaudeCode
public import ClaudeCodeSessions
import Foundation
import GRDB

extension SQLiteSessionStore: SessionCatalog {
    /// Appends entries in one transaction, skipping those whose `uuid` the key already holds
    /// (or that repeat a `uuid` earlier in the batch), and folds the stored ones into the
    /// session's summary (main keys only).
    ///
    /// The key's time advances with every append that stores something: it is the store's
    /// clock in milliseconds, and always later than the previous one.
    /// - Throws: `SessionStoreError` — `.invalidKey` before anything is written; `.lockTimeout`,
    ///   `.ioFailure`, `.backendFailure`; `.damagedRecord` when the session's summary cannot be read.
    public func append(_ entries: [SessionStoreEntry], to key: SessionStoreKey) async throws(SessionStoreError) {
        try key.validate()
        guard !entries.isEmpty else { return }
        let now = StoreBackendClock.nowMilliseconds()
        try await write(key: key) { db in try Self.append(entries, to: key, now: now, db) }
    }

    /// Every entry of `key`, in append order, byte for byte; `nil` when the key was never
    /// written (or was deleted).
    /// - Throws: `SessionStoreError` — `.damagedRecord` naming the key when a stored entry is
    ///   not a JSON object.
    public func load(_ key: SessionStoreKey) async throws(SessionStoreError) -> [SessionStoreEntry]? {
        try key.validate()
        return try await read(key: key) { db -> [SessionStoreEntry]? in
            guard
                let id = try Int64.fetchOne(
                    db.cachedStatement(sql: Self.selectTranscriptID),
                    arguments: [key.projectKey, key.sessionID, key.storedSubpath])
            else { return nil }
            let rows = try Row.fetchCursor(
                db.cachedStatement(
                    sql: "SELECT seq, raw FROM claude_transcript_entries WHERE transcript_id = ? ORDER BY seq"),
                arguments: [id])
            var entries: [SessionStoreEntry] = []
            while let row = try rows.next() {
                let raw: Data = row[1]
                do {
                    entries.append(try SessionStoreEntry(raw: RawJSON(bytes: Array(raw))))
                } catch {
                    let seq: Int64 = row[0]
                    throw SessionStoreError(
                        .damagedRecord, reason: "entry \(seq) is not a JSON object: \(error)", key: key)
                }
            }
            return entries
        }
    }

    /// The project's main transcripts with the time of their last append (ms, the store's clock).
    public func listSessions(projectKey: String) async throws(SessionStoreError) -> [SessionStoreListing] {
        try await read { db in
            let rows = try Row.fetchCursor(
                db.cachedStatement(
                    sql: "SELECT session_id, modified_ms FROM claude_transcripts WHERE project_key = ? AND subpath = ''"
                ),
                arguments: [projectKey])
            var listings: [SessionStoreListing] = []
            while let row = try rows.next() {
                listings.append(SessionStoreListing(sessionID: row[0], modifiedMilliseconds: row[1]))
            }
            return listings
        }
    }

    /// The project's session summaries, folded inside each append; their time is the time of
    /// the append that last changed them (the same clock as ``listSessions(projectKey:)``).
    /// - Throws: `SessionStoreError/Code/damagedRecord` naming the key of a summary that is not JSON.
    public func listSessionSummaries(projectKey: String) async throws(SessionStoreError) -> [SessionStoreSummary] {
        try await read { db in
            let rows = try Row.fetchCursor(
                db.cachedStatement(
                    sql: "SELECT session_id, modified_ms, data FROM claude_session_summaries WHERE project_key = ?"),
                arguments: [projectKey])
            var summaries: [SessionStoreSummary] = []
            while let row = try rows.next() {
                let sessionID: String = row[0]
                let data = try Self.summaryData(
                    row[2], key: SessionStoreKey(projectKey: projectKey, sessionID: sessionID))
                summaries.append(SessionStoreSummary(sessionID: sessionID, modifiedMilliseconds: row[1], data: data))
            }
            return summaries
        }
    }

    /// Deletes a key. A main key takes its sub-transcripts and summary with it; deleting a key
    /// that does not exist does nothing.
    public func delete(_ key: SessionStoreKey) async throws(SessionStoreError) {
        try key.validate()
        try await write(key: key) { db in
            if key.isMain {
                try db.execute(
                    sql: "DELETE FROM claude_transcripts WHERE project_key = ? AND session_id = ?",
                    arguments: [key.projectKey, key.sessionID])
                try db.execute(
                    sql: "DELETE FROM claude_session_summaries WHERE project_key = ? AND session_id = ?",
                    arguments: [key.projectKey, key.sessionID])
            } else {
                try db.execute(
                    sql: "DELETE FROM claude_transcripts WHERE project_key = ? AND session_id = ? AND subpath = ?",
                    arguments: [key.projectKey, key.sessionID, key.storedSubpath])
            }
        }
    }

    /// The session's sub-transcript paths, sorted.
    public func listSubkeys(projectKey: String, sessionID: String) async throws(SessionStoreError) -> [String] {
        try await read { db in
            try String.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT subpath FROM claude_transcripts
                        WHERE project_key = ? AND session_id = ? AND subpath <> '' ORDER BY subpath
                        """),
                arguments: [projectKey, sessionID])
        }
    }

    // MARK: In the transaction

    static let selectTranscriptID =
        "SELECT id FROM claude_transcripts WHERE project_key = ? AND session_id = ? AND subpath = ?"

    private static func append(_ entries: [SessionStoreEntry], to key: SessionStoreKey, now: Int64, _ db: Database)
        throws
    {
        let keyArguments: StatementArguments = [key.projectKey, key.sessionID, key.storedSubpath]
        try db.cachedStatement(
            sql: """
                INSERT INTO claude_transcripts (project_key, session_id, subpath, next_seq, modified_ms)
                VALUES (?, ?, ?, 0, 0) ON CONFLICT (project_key, session_id, subpath) DO NOTHING
                """
        ).execute(arguments: keyArguments)
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql:
                        "SELECT id, next_seq FROM claude_transcripts WHERE project_key = ? AND session_id = ? AND subpath = ?"
                ), arguments: keyArguments)
        else { throw SessionStoreError(.backendFailure, reason: "the transcript row vanished", key: key) }
        let id: Int64 = row[0]
        var seq: Int64 = row[1]
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO claude_transcript_entries (transcript_id, seq, type, uuid, raw) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (transcript_id, uuid) WHERE uuid IS NOT NULL DO NOTHING
                """)
        var stored: [SessionStoreEntry] = []
        stored.reserveCapacity(entries.count)
        for entry in entries {
            try insert.execute(arguments: [
                id, seq, StoreText.encode(entry.type), entry.uuid.map(StoreText.encode), Data(entry.raw.bytes),
            ])
            if db.changesCount > 0 {
                seq += 1
                stored.append(entry)
            }
        }
        guard !stored.isEmpty else { return }
        guard
            let modified = try Int64.fetchOne(
                db.cachedStatement(
                    sql: """
                        UPDATE claude_transcripts SET next_seq = ?, modified_ms = max(?, modified_ms + 1)
                        WHERE id = ? RETURNING modified_ms
                        """), arguments: [seq, now, id])
        else { throw SessionStoreError(.backendFailure, reason: "the transcript row vanished", key: key) }
        guard key.isMain else { return }
        let previous = try String.fetchOne(
            db.cachedStatement(
                sql: "SELECT data FROM claude_session_summaries WHERE project_key = ? AND session_id = ?"),
            arguments: [key.projectKey, key.sessionID])
        let data = StoreSummaryFolding.fold(
            try previous.map { try summaryData($0, key: key) }, key: key, entries: stored)
        try db.cachedStatement(
            sql: """
                INSERT INTO claude_session_summaries (project_key, session_id, modified_ms, data) VALUES (?, ?, ?, ?)
                ON CONFLICT (project_key, session_id) DO UPDATE SET modified_ms = excluded.modified_ms, data = excluded.data
                """
        ).execute(arguments: [key.projectKey, key.sessionID, modified, data.jsonString])
    }

    static func summaryData(_ text: String, key: SessionStoreKey) throws(SessionStoreError) -> JSONValue {
        let value: JSONValue
        do {
            value = try JSONValue.parse(text)
        } catch {
            throw SessionStoreError(.damagedRecord, reason: "summary is not JSON: \(error)", key: key)
        }
        guard case .object = value else {
            throw SessionStoreError(.damagedRecord, reason: "summary is not a JSON object", key: key)
        }
        return value
    }
}
