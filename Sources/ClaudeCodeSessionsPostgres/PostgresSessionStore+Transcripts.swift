import ClaudeCode
public import ClaudeCodeSessions
import Logging
import PostgresNIO

extension PostgresSessionStore: SessionCatalog {
    /// Appends entries in one transaction, skipping those whose `uuid` the key already holds
    /// (or that repeat a `uuid` earlier in the batch), and folds the stored ones into the
    /// session's summary (main keys only).
    ///
    /// The full-text index (``searchSessions(_:projectKeys:sessionIDs:modifiedSince:limit:offset:)``)
    /// is brought up to date after the commit, in the background: computing its vectors takes the
    /// server seconds on a busy machine, and an append neither waits for it nor fails with it. A
    /// search first indexes whatever is still behind.
    ///
    /// The key's time advances with every append that stores something: it is the server's
    /// clock in milliseconds, and always later than the previous one.
    /// - Throws: `SessionStoreError` — `.invalidKey` before anything is sent; `.backendFailure`
    ///   when the server fails or cannot be reached; `.damagedRecord` when the summary cannot be read.
    public func append(_ entries: [SessionStoreEntry], to key: SessionStoreKey) async throws(SessionStoreError) {
        try key.validate()
        guard !entries.isEmpty else { return }
        let (t, logger) = (tables, configuration.logger)
        let stored = try await transaction(key: key) { connection in
            try await Self.append(entries, to: key, connection, t, logger)
        }
        if key.isMain, let transcript = stored { indexInBackground(transcript) }
    }

    /// Every entry of `key`, in append order, byte for byte; `nil` when the key was never
    /// written (or was deleted).
    /// - Throws: `SessionStoreError` — `.damagedRecord` naming the key when a stored entry is
    ///   not a JSON object.
    public func load(_ key: SessionStoreKey) async throws(SessionStoreError) -> [SessionStoreEntry]? {
        try key.validate()
        let (t, logger) = (tables, configuration.logger)
        return try await connection(key: key) { connection -> [SessionStoreEntry]? in
            let rows = try await connection.query(
                """
                SELECT k.id, e.seq, e.raw FROM \(unescaped: t.transcripts) k
                LEFT JOIN \(unescaped: t.entries) e ON e.transcript_id = k.id
                WHERE k.project_key = \(key.projectKey) AND k.session_id = \(key.sessionID) AND k.subpath = \(key.storedSubpath)
                ORDER BY e.seq
                """, logger: logger)
            var found = false
            var entries: [SessionStoreEntry] = []
            for try await (_, seq, raw) in rows.decode((Int64, Int64?, ByteBuffer?).self) {
                found = true
                guard let seq, let raw else { continue }
                do {
                    entries.append(try SessionStoreEntry(raw: RawJSON(bytes: Array(raw.readableBytesView))))
                } catch {
                    throw SessionStoreError(
                        .damagedRecord, reason: "entry \(seq) is not a JSON object: \(error)", key: key)
                }
            }
            return found ? entries : nil
        }
    }

    /// The project keys that hold at least one main transcript, sorted (for tools that list
    /// every project, such as `claude-sessions --store postgres://…`).
    ///
    /// - Throws: `SessionStoreError` when the database cannot be read.
    public func listProjectKeys() async throws(SessionStoreError) -> [String] {
        let (t, logger) = (tables, configuration.logger)
        return try await connection { connection in
            var keys: [String] = []
            let rows = try await connection.query(
                "SELECT DISTINCT project_key FROM \(unescaped: t.transcripts) WHERE subpath = '' ORDER BY project_key",
                logger: logger)
            for try await key in rows.decode(String.self) { keys.append(key) }
            return keys
        }
    }

    /// The project's main transcripts with the time of their last append (ms, the server's clock).
    public func listSessions(projectKey: String) async throws(SessionStoreError) -> [SessionStoreListing] {
        let (t, logger) = (tables, configuration.logger)
        return try await connection { connection in
            var listings: [SessionStoreListing] = []
            let rows = try await connection.query(
                """
                SELECT session_id, modified_ms FROM \(unescaped: t.transcripts)
                WHERE project_key = \(projectKey) AND subpath = ''
                """, logger: logger)
            for try await (sessionID, modified) in rows.decode((String, Int64).self) {
                listings.append(SessionStoreListing(sessionID: sessionID, modifiedMilliseconds: modified))
            }
            return listings
        }
    }

    /// The project's session summaries, folded inside each append; their time is the time of
    /// the append that last changed them (the same clock as ``listSessions(projectKey:)``).
    /// - Throws: `SessionStoreError/Code/damagedRecord` naming the key of a summary that is not JSON.
    public func listSessionSummaries(projectKey: String) async throws(SessionStoreError) -> [SessionStoreSummary] {
        let (t, logger) = (tables, configuration.logger)
        return try await connection { connection in
            var summaries: [SessionStoreSummary] = []
            let rows = try await connection.query(
                "SELECT session_id, modified_ms, data FROM \(unescaped: t.summaries) WHERE project_key = \(projectKey)",
                logger: logger)
            for try await (sessionID, modified, text) in rows.decode((String, Int64, String).self) {
                let data = try Self.summaryData(
                    text, key: SessionStoreKey(projectKey: projectKey, sessionID: sessionID))
                summaries.append(SessionStoreSummary(sessionID: sessionID, modifiedMilliseconds: modified, data: data))
            }
            return summaries
        }
    }

    /// Deletes a key. A main key takes its sub-transcripts and summary with it; deleting a key
    /// that does not exist does nothing.
    public func delete(_ key: SessionStoreKey) async throws(SessionStoreError) {
        try key.validate()
        let (t, logger) = (tables, configuration.logger)
        try await transaction(key: key) { connection in
            if key.isMain {
                try await connection.query(
                    """
                    DELETE FROM \(unescaped: t.transcripts)
                    WHERE project_key = \(key.projectKey) AND session_id = \(key.sessionID)
                    """, logger: logger)
                try await connection.query(
                    """
                    DELETE FROM \(unescaped: t.summaries)
                    WHERE project_key = \(key.projectKey) AND session_id = \(key.sessionID)
                    """, logger: logger)
            } else {
                try await connection.query(
                    """
                    DELETE FROM \(unescaped: t.transcripts)
                    WHERE project_key = \(key.projectKey) AND session_id = \(key.sessionID) AND subpath = \(key.storedSubpath)
                    """, logger: logger)
            }
        }
    }

    /// The session's sub-transcript paths, sorted.
    public func listSubkeys(projectKey: String, sessionID: String) async throws(SessionStoreError) -> [String] {
        let (t, logger) = (tables, configuration.logger)
        return try await connection { connection in
            var subpaths: [String] = []
            let rows = try await connection.query(
                """
                SELECT subpath FROM \(unescaped: t.transcripts)
                WHERE project_key = \(projectKey) AND session_id = \(sessionID) AND subpath <> ''
                ORDER BY subpath COLLATE "C"
                """, logger: logger)
            for try await subpath in rows.decode(String.self) { subpaths.append(subpath) }
            return subpaths
        }
    }

    // MARK: In the transaction

    /// Returns the transcript's id when something was stored.
    private static func append(
        _ entries: [SessionStoreEntry], to key: SessionStoreKey, _ connection: PostgresConnection, _ t: PostgresTables,
        _ logger: Logger
    ) async throws -> Int64? {
        let count = Int64(entries.count)
        let types = entries.map { StoreText.encode($0.type) }
        let uuids = entries.map { $0.uuid.map(StoreText.encode) ?? "" }
        let hasUUID = entries.map { $0.uuid != nil }
        let raws = entries.map { ByteBuffer(bytes: $0.raw.bytes) }
        // One statement creates the key or locks it (appends to one key run one at a time),
        // reserves the sequence numbers and inserts the entries, skipping known uuids.
        let insertedRows = try await connection.query(
            """
            WITH k AS (
                INSERT INTO \(unescaped: t.transcripts) AS k (project_key, session_id, subpath, next_seq, modified_ms)
                VALUES (\(key.projectKey), \(key.sessionID), \(key.storedSubpath), \(count), 0)
                ON CONFLICT (project_key, session_id, subpath) DO UPDATE SET next_seq = k.next_seq + \(count)
                RETURNING id, next_seq - \(count) AS base
            ), ins AS (
                INSERT INTO \(unescaped: t.entries) (transcript_id, seq, type, uuid, raw)
                SELECT k.id, k.base + e.ord - 1, e.type, CASE WHEN e.has_uuid THEN e.uuid END, e.raw
                FROM k, unnest(\(types)::text[], \(uuids)::text[], \(hasUUID)::bool[], \(raws)::bytea[])
                    WITH ORDINALITY AS e(type, uuid, has_uuid, raw, ord)
                ORDER BY e.ord
                ON CONFLICT (transcript_id, uuid) WHERE uuid IS NOT NULL DO NOTHING
                RETURNING seq
            )
            SELECT k.id, k.base, ARRAY(SELECT seq FROM ins ORDER BY seq) FROM k
            """, logger: logger)
        guard
            let (id, base, seqs) = try await insertedRows.decode((Int64, Int64, [Int64]).self).first(where: { _ in true
            })
        else {
            throw SessionStoreError(.backendFailure, reason: "the transcript row vanished", key: key)
        }
        guard !seqs.isEmpty else { return nil }
        // The key's time advances only when something was stored; a main key also reads its
        // summary here, under the key's lock, in a snapshot taken after it.
        let summarySelect =
            key.isMain
            ? "(SELECT data FROM \(t.summaries) s WHERE s.project_key = k.project_key AND s.session_id = k.session_id)"
            : "NULL::text"
        let modifiedRows = try await connection.query(
            """
            UPDATE \(unescaped: t.transcripts) AS k
            SET modified_ms = GREATEST(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint, k.modified_ms + 1)
            WHERE k.id = \(id) RETURNING k.modified_ms, \(unescaped: summarySelect)
            """, logger: logger)
        guard
            let (modified, previous) = try await modifiedRows.decode((Int64, String?).self).first(where: { _ in true })
        else {
            throw SessionStoreError(.backendFailure, reason: "the transcript row vanished", key: key)
        }
        let storedIndexes = seqs.map { Int($0 - base) }
        guard key.isMain else { return id }
        let stored = storedIndexes.map { entries[$0] }
        let data = StoreSummaryFolding.fold(
            try previous.map { text throws(SessionStoreError) in try summaryData(text, key: key) }, key: key,
            entries: stored)
        try await connection.query(
            """
            INSERT INTO \(unescaped: t.summaries) (project_key, session_id, modified_ms, data)
            VALUES (\(key.projectKey), \(key.sessionID), \(modified), \(data.jsonString))
            ON CONFLICT (project_key, session_id) DO UPDATE SET modified_ms = EXCLUDED.modified_ms, data = EXCLUDED.data
            """, logger: logger)
        return id
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
