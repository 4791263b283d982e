public import ClaudeCode
public import ClaudeCodeSessions
public import Foundation
import GRDB
import Synchronization

extension SQLiteSessionStore: SessionRecordStore {
    /// Opens the record of `id` for appending, creating it with this metadata when it does not
    /// exist; for an existing record the working directory and options are replaced, as the
    /// JSON files do on resume.
    public func openRecord(
        _ id: SessionID, startTime: Date, workingDirectory: String, options: [String: JSONValue]
    ) async throws(SessionStoreError) -> any SessionRecordWriter {
        let metadata = DatabaseRecordMetadata(
            startTimeMicroseconds: StoreBackendClock.microseconds(startTime), workingDirectory: workingDirectory,
            options: JSONValue.object(options).jsonString)
        let now = StoreBackendClock.microseconds(Date())
        let cursor = try await write(sessionID: id) { db -> DatabaseRecordCursor? in
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        INSERT INTO claude_records (session_id, start_time_us, last_activity_us, working_directory, options,
                            schema_version, summary, summary_seq)
                        VALUES (?, ?, ?, ?, ?, ?, ?, 0)
                        ON CONFLICT (session_id) DO UPDATE SET working_directory = excluded.working_directory,
                            options = excluded.options, last_activity_us = max(last_activity_us, ?)
                        RETURNING id, next_seq, CASE WHEN summary_seq = next_seq THEN summary END
                        """),
                arguments: [
                    id.rawValue, metadata.startTimeMicroseconds, metadata.startTimeMicroseconds,
                    StoreText.encode(metadata.workingDirectory),
                    metadata.options, SessionData.currentSchemaVersion, StoreRecordSummary.emptyText, now,
                ])
            guard let row, let fold = StoreRecordSummary.decode(row[2]) else { return nil }
            return DatabaseRecordCursor(recordID: row[0], nextSeq: row[1], fold: fold)
        }
        return DatabaseRecordWriter(backend: self, id: id, metadata: metadata, cursor: cursor)
    }

    /// The whole record of `id`: its metadata and every message in order.
    /// - Throws: `SessionStoreError` — `.sessionNotFound`; `.damagedRecord` naming the session
    ///   when a stored value cannot be read back.
    public func loadRecord(_ id: SessionID) async throws(SessionStoreError) -> SessionData {
        try await read(sessionID: id) { db in
            guard
                let record = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT id, start_time_us, last_activity_us, working_directory, options, schema_version,
                                custom_title, tag
                            FROM claude_records WHERE session_id = ?
                            """), arguments: [id.rawValue])
            else { throw SessionStoreError(.sessionNotFound, sessionID: id) }
            let options = try Self.recordOptions(record[4], id: id)
            let rows = try Row.fetchCursor(
                db.cachedStatement(
                    sql: """
                        SELECT seq, direction, timestamp_us, type, subtype, raw FROM claude_record_messages
                        WHERE record_id = ? ORDER BY seq
                        """), arguments: [record[0] as Int64])
            var history: [ConversationMessage] = []
            while let row = try rows.next() {
                guard let message = Self.recordMessage(row) else {
                    let seq: Int64 = row[0]
                    throw SessionStoreError(
                        .damagedRecord, sessionID: id, reason: "message \(seq) has an unknown direction")
                }
                history.append(message)
            }
            return SessionData(
                sessionID: id, startTime: StoreBackendClock.date(microseconds: record[1]),
                lastActivity: StoreBackendClock.date(microseconds: record[2]), conversationHistory: history,
                workingDirectory: StoreText.decode(record[3]), options: options, schemaVersion: record[5],
                title: (record[6] as String?).map(StoreText.decode), tag: (record[7] as String?).map(StoreText.decode))
        }
    }

    /// Every record with its summary metadata, its title, model and ledger totals (turns, tokens,
    /// cost, per model, API and wall time; not the per-turn `SessionLedger/recentTurns`), most
    /// recent activity first. A row whose session id is not a valid `SessionID` is listed as
    /// damaged rather than hidden.
    ///
    /// Reads typed columns of one row per record: each append keeps the record's fold. A record without a current
    /// fold (written before the `records-summary-v1` migration, or by an older version of this
    /// library) has it computed from its frames here, once, and stored (best effort: a listing
    /// does not fail because that write does).
    public func listRecords() async throws(SessionStoreError) -> [RecordListEntry] {
        let path = self.path
        let (entries, repairs) = try await read { db -> ([RecordListEntry], [SummaryRepair]) in
            let rows = try Row.fetchCursor(
                db.cachedStatement(
                    sql: """
                        SELECT session_id, start_time_us, last_activity_us, message_count, working_directory, schema_version,
                            id, next_seq, summary_seq IS next_seq, title, model, turns, input_tokens, output_tokens,
                            cache_creation_input_tokens, cache_read_input_tokens, cost_usd, api_duration_ms, duration_ms, models,
                            custom_title, tag
                        FROM claude_records ORDER BY last_activity_us DESC, session_id
                        """))
            var entries: [RecordListEntry] = []
            var repairs: [SummaryRepair] = []
            while let row = try rows.next() {
                let text: String = row[0]
                guard let id = SessionID(rawValue: text) else {
                    entries.append(
                        .damaged(
                            DamagedRecordFile(
                                fileName: "", path: path, sessionID: nil,
                                error: SessionStoreError(
                                    .invalidSessionID, path: path, reason: "a record's session id is invalid"))))
                    continue
                }
                var fold: RecordSummaryFold?
                if row[8] as Bool {
                    fold =
                        StoreRecordFigures(
                            title: row[9], model: row[10], turns: row[11], inputTokens: row[12], outputTokens: row[13],
                            cacheCreationInputTokens: row[14], cacheReadInputTokens: row[15], costUSD: row[16],
                            apiDurationMilliseconds: row[17], durationMilliseconds: row[18], models: row[19]
                        ).listedFold
                }
                if fold == nil {
                    let computed = try Self.computeFold(db, recordID: row[6])
                    let figures = StoreRecordFigures(computed)
                    repairs.append(
                        SummaryRepair(
                            recordID: row[6], nextSeq: row[7], text: StoreRecordSummary.encode(computed),
                            figures: figures))
                    fold = figures.listedFold
                }
                entries.append(
                    .session(
                        RecordSummary(
                            sessionID: id, startTime: StoreBackendClock.date(microseconds: row[1]),
                            lastActivity: StoreBackendClock.date(microseconds: row[2]), messageCount: row[3],
                            workingDirectory: StoreText.decode(row[4]), schemaVersion: row[5], path: path,
                            skippedJournalLines: 0, fold: fold ?? RecordSummaryFold(),
                            customTitle: (row[20] as String?).map(StoreText.decode),
                            tag: (row[21] as String?).map(StoreText.decode))))
            }
            return (entries, repairs)
        }
        if !repairs.isEmpty {
            // Stored only while nothing was appended since it was computed (next_seq unchanged).
            _ = try? await write { db in
                for repair in repairs {
                    try Self.storeFold(
                        db, recordID: repair.recordID, nextSeq: repair.nextSeq, text: repair.text,
                        figures: repair.figures)
                }
            }
        }
        return entries
    }

    /// A fold computed at listing, to store when the record has not changed since.
    struct SummaryRepair: Sendable {
        var recordID: Int64
        var nextSeq: Int64
        var text: String
        var figures: StoreRecordFigures
    }

    /// Stores a record's fold and makes it current (only while `next_seq` is `nextSeq`, when given).
    static func storeFold(_ db: Database, recordID: Int64, nextSeq: Int64?, text: String, figures f: StoreRecordFigures)
        throws
    {
        try db.cachedStatement(
            sql: """
                UPDATE claude_records SET summary = ?, summary_seq = next_seq, title = ?, model = ?, turns = ?,
                    input_tokens = ?, output_tokens = ?, cache_creation_input_tokens = ?, cache_read_input_tokens = ?,
                    cost_usd = ?, api_duration_ms = ?, duration_ms = ?, models = ?
                WHERE id = ? AND (? IS NULL OR next_seq = ?)
                """
        ).execute(arguments: [
            text, f.title, f.model, f.turns, f.inputTokens, f.outputTokens, f.cacheCreationInputTokens,
            f.cacheReadInputTokens, f.costUSD, f.apiDurationMilliseconds, f.durationMilliseconds, f.models, recordID,
            nextSeq, nextSeq,
        ])
    }

    /// The fold of a record's frames, read in order (frames that cannot be read are skipped, as
    /// ``loadRecord(_:)`` reports them).
    static func computeFold(_ db: Database, recordID: Int64) throws -> RecordSummaryFold {
        let rows = try Row.fetchCursor(
            db.cachedStatement(
                sql: """
                    SELECT seq, direction, timestamp_us, type, subtype, raw FROM claude_record_messages
                    WHERE record_id = ? ORDER BY seq
                    """), arguments: [recordID])
        var fold = RecordSummaryFold()
        while let row = try rows.next() {
            if let message = recordMessage(row) { fold.add(message) }
        }
        return fold
    }

    /// A frame from a `seq, direction, timestamp_us, type, subtype, raw` row; `nil` when its
    /// direction is unknown.
    static func recordMessage(_ row: Row) -> ConversationMessage? {
        guard let direction = ConversationMessage.Direction(rawValue: row[1]) else { return nil }
        let raw: Data = row[5]
        return ConversationMessage(
            direction: direction, type: StoreText.decode(row[3]), subtype: (row[4] as String?).map(StoreText.decode),
            rawJSON: Array(raw), timestamp: StoreBackendClock.date(microseconds: row[2]))
    }

    /// Removes the record of `id` and its messages.
    /// - Throws: `SessionStoreError/Code/sessionNotFound` when there is none.
    public func deleteRecord(_ id: SessionID) async throws(SessionStoreError) {
        let deleted = try await write(sessionID: id) { db -> Bool in
            try db.execute(sql: "DELETE FROM claude_records WHERE session_id = ?", arguments: [id.rawValue])
            return db.changesCount > 0
        }
        if !deleted { throw SessionStoreError(.sessionNotFound, sessionID: id) }
    }

    /// Gives the record of `id` a title (`nil` or empty removes it), in its row's `custom_title`.
    /// - Throws: `SessionStoreError/Code/sessionNotFound` when there is none.
    public func setRecordTitle(_ id: SessionID, title: String?) async throws(SessionStoreError) {
        try await setLabel("custom_title", of: id, to: normalizedRecordLabel(title))
    }

    /// Tags the record of `id` (`nil` or empty removes the tag), in its row's `tag`.
    /// - Throws: `SessionStoreError/Code/sessionNotFound` when there is none.
    public func setRecordTag(_ id: SessionID, tag: String?) async throws(SessionStoreError) {
        try await setLabel("tag", of: id, to: normalizedRecordLabel(tag))
    }

    private func setLabel(_ column: String, of id: SessionID, to value: String?) async throws(SessionStoreError) {
        let updated = try await write(sessionID: id) { db -> Bool in
            try db.execute(
                sql: "UPDATE claude_records SET \(column) = ? WHERE session_id = ?",
                arguments: [value.map(StoreText.encode), id.rawValue])
            return db.changesCount > 0
        }
        if !updated { throw SessionStoreError(.sessionNotFound, sessionID: id) }
    }

    static func recordOptions(_ text: String, id: SessionID) throws(SessionStoreError) -> [String: JSONValue] {
        guard case .object(let options)? = try? JSONValue.parse(text) else {
            throw SessionStoreError(.damagedRecord, sessionID: id, reason: "the record's options are not a JSON object")
        }
        return options
    }

    /// Appends a batch of messages in one transaction, folding them into the record's stored
    /// `RecordSummaryFold` in that transaction; recreates the record when it was deleted meanwhile.
    package func appendRecord(
        _ messages: [ConversationMessage], id: SessionID, metadata: DatabaseRecordMetadata,
        after cursor: DatabaseRecordCursor?
    ) async throws(SessionStoreError) -> DatabaseRecordCursor? {
        guard !messages.isEmpty else { return cursor }
        let count = Int64(messages.count)
        let last = messages.lazy.map { StoreBackendClock.microseconds($0.timestamp) }.max() ?? 0
        return try await write(sessionID: id) { db -> DatabaseRecordCursor? in
            // summary_seq as it was: the stored fold is current when it equals the old next_seq.
            var row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        UPDATE claude_records SET next_seq = next_seq + ?, message_count = message_count + ?,
                            last_activity_us = max(last_activity_us, ?)
                        WHERE session_id = ? RETURNING id, next_seq, summary_seq
                        """), arguments: [count, count, last, id.rawValue])
            if row == nil {
                // Deleted while a writer was open: start it again, as the JSON files do.
                row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            INSERT INTO claude_records (session_id, start_time_us, last_activity_us, working_directory,
                                options, schema_version, message_count, next_seq, summary, summary_seq)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0) RETURNING id, next_seq, summary_seq
                            """),
                    arguments: [
                        id.rawValue, metadata.startTimeMicroseconds, max(last, metadata.startTimeMicroseconds),
                        StoreText.encode(metadata.workingDirectory), metadata.options, SessionData.currentSchemaVersion,
                        count, count, StoreRecordSummary.emptyText,
                    ])
            }
            guard let row else {
                throw SessionStoreError(.backendFailure, sessionID: id, reason: "the record row vanished")
            }
            let recordID: Int64 = row[0]
            let nextSeq: Int64 = row[1]
            let summarySeq: Int64? = row[2]
            var seq: Int64 = nextSeq - count
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO claude_record_messages (record_id, seq, direction, timestamp_us, type, subtype, raw)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """)
            for message in messages {
                try insert.execute(arguments: [
                    recordID, seq, message.direction.rawValue, StoreBackendClock.microseconds(message.timestamp),
                    StoreText.encode(message.type), message.subtype.map(StoreText.encode), Data(message.rawJSON),
                ])
                seq += 1
            }

            // The fold: the writer's own when nothing came between, else the stored one; none
            // when it is not current (the listing computes it from the frames).
            let base = nextSeq - count
            guard summarySeq == base else { return nil }
            let previous: RecordSummaryFold?
            if let cursor, cursor.recordID == recordID, cursor.nextSeq == base {
                previous = cursor.fold
            } else {
                previous = StoreRecordSummary.decode(
                    try String.fetchOne(
                        db.cachedStatement(sql: "SELECT summary FROM claude_records WHERE id = ?"),
                        arguments: [recordID]))
            }
            guard let previous else { return nil }
            let (fold, text) = StoreRecordSummary.folding(previous, messages)
            if let text {
                try Self.storeFold(db, recordID: recordID, nextSeq: nil, text: text, figures: StoreRecordFigures(fold))
            } else {
                try db.cachedStatement(sql: "UPDATE claude_records SET summary_seq = next_seq WHERE id = ?")
                    .execute(arguments: [recordID])
            }
            return DatabaseRecordCursor(recordID: recordID, nextSeq: nextSeq, fold: fold)
        }
    }

    /// Forces everything committed so far to stable storage (under `ClaudeCodeSessions/DurabilityPolicy/checkpoint`).
    package func checkpointRecord(_ id: SessionID) async throws(SessionStoreError) {
        guard configuration.durability == .checkpoint else { return }
        if let refused = readOnlyWriteError(sessionID: id) { throw refused }
        let now = StoreBackendClock.microseconds(Date())
        do {
            try await database.writeWithoutTransaction { db in
                // A commit under synchronous = FULL syncs the write-ahead log, and with it every
                // earlier commit.
                let previous = try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? 1
                try db.execute(sql: "PRAGMA synchronous = FULL")
                defer { try? db.execute(sql: "PRAGMA synchronous = \(previous)") }
                try db.inTransaction {
                    try db.execute(
                        sql: "UPDATE claude_records SET checkpoint_us = ? WHERE session_id = ?",
                        arguments: [now, id.rawValue])
                    return .commit
                }
            }
        } catch {
            throw Self.mapped(error, sessionID: id, path: path)
        }
    }
}

extension SQLiteSessionStore: DatabaseRecordBackend {}
