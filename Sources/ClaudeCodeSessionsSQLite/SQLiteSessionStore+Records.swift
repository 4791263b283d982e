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
        try await write(sessionID: id) { db in
            try db.cachedStatement(
                sql: """
                    INSERT INTO claude_records (session_id, start_time_us, last_activity_us, working_directory, options, schema_version)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (session_id) DO UPDATE SET working_directory = excluded.working_directory,
                        options = excluded.options, last_activity_us = max(last_activity_us, ?)
                    """
            ).execute(arguments: [
                id.rawValue, metadata.startTimeMicroseconds, metadata.startTimeMicroseconds,
                StoreText.encode(metadata.workingDirectory),
                metadata.options, SessionData.currentSchemaVersion, now,
            ])
        }
        return DatabaseRecordWriter(backend: self, id: id, metadata: metadata)
    }

    /// The whole record of `id`: its metadata and every message in order.
    /// - Throws: ``SessionStoreError`` — `.sessionNotFound`; `.damagedRecord` naming the session
    ///   when a stored value cannot be read back.
    public func loadRecord(_ id: SessionID) async throws(SessionStoreError) -> SessionData {
        try await read(sessionID: id) { db in
            guard
                let record = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT id, start_time_us, last_activity_us, working_directory, options, schema_version
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
                guard let direction = ConversationMessage.Direction(rawValue: row[1]) else {
                    let seq: Int64 = row[0]
                    throw SessionStoreError(
                        .damagedRecord, sessionID: id, reason: "message \(seq) has an unknown direction")
                }
                let raw: Data = row[5]
                history.append(
                    ConversationMessage(
                        direction: direction, type: StoreText.decode(row[3]),
                        subtype: (row[4] as String?).map(StoreText.decode), rawJSON: Array(raw),
                        timestamp: StoreBackendClock.date(microseconds: row[2])))
            }
            return SessionData(
                sessionID: id, startTime: StoreBackendClock.date(microseconds: record[1]),
                lastActivity: StoreBackendClock.date(microseconds: record[2]), conversationHistory: history,
                workingDirectory: StoreText.decode(record[3]), options: options, schemaVersion: record[5])
        }
    }

    /// Every record with its summary metadata, most recent activity first. A row whose session
    /// id is not a valid ``SessionID`` is listed as damaged rather than hidden.
    public func listRecords() async throws(SessionStoreError) -> [RecordListEntry] {
        let path = self.path
        return try await read { db in
            let rows = try Row.fetchCursor(
                db.cachedStatement(
                    sql: """
                        SELECT session_id, start_time_us, last_activity_us, message_count, working_directory, schema_version
                        FROM claude_records ORDER BY last_activity_us DESC, session_id
                        """))
            var entries: [RecordListEntry] = []
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
                entries.append(
                    .session(
                        RecordSummary(
                            sessionID: id, startTime: StoreBackendClock.date(microseconds: row[1]),
                            lastActivity: StoreBackendClock.date(microseconds: row[2]), messageCount: row[3],
                            workingDirectory: StoreText.decode(row[4]), schemaVersion: row[5], path: path,
                            skippedJournalLines: 0)))
            }
            return entries
        }
    }

    /// Removes the record of `id` and its messages.
    /// - Throws: ``SessionStoreError/Code/sessionNotFound`` when there is none.
    public func deleteRecord(_ id: SessionID) async throws(SessionStoreError) {
        let deleted = try await write(sessionID: id) { db -> Bool in
            try db.execute(sql: "DELETE FROM claude_records WHERE session_id = ?", arguments: [id.rawValue])
            return db.changesCount > 0
        }
        if !deleted { throw SessionStoreError(.sessionNotFound, sessionID: id) }
    }

    static func recordOptions(_ text: String, id: SessionID) throws(SessionStoreError) -> [String: JSONValue] {
        guard case .object(let options)? = try? JSONValue.parse(text) else {
            throw SessionStoreError(.damagedRecord, sessionID: id, reason: "the record's options are not a JSON object")
        }
        return options
    }

    /// Appends a batch of messages in one transaction; recreates the record when it was deleted meanwhile.
    package func appendRecord(_ messages: [ConversationMessage], id: SessionID, metadata: DatabaseRecordMetadata)
        async throws(SessionStoreError)
    {
        guard !messages.isEmpty else { return }
        let count = Int64(messages.count)
        let last = messages.lazy.map { StoreBackendClock.microseconds($0.timestamp) }.max() ?? 0
        try await write(sessionID: id) { db in
            var row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        UPDATE claude_records SET next_seq = next_seq + ?, message_count = message_count + ?,
                            last_activity_us = max(last_activity_us, ?)
                        WHERE session_id = ? RETURNING id, next_seq
                        """), arguments: [count, count, last, id.rawValue])
            if row == nil {
                // Deleted while a writer was open: start it again, as the JSON files do.
                row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            INSERT INTO claude_records (session_id, start_time_us, last_activity_us, working_directory,
                                options, schema_version, message_count, next_seq)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id, next_seq
                            """),
                    arguments: [
                        id.rawValue, metadata.startTimeMicroseconds, max(last, metadata.startTimeMicroseconds),
                        StoreText.encode(metadata.workingDirectory), metadata.options, SessionData.currentSchemaVersion,
                        count, count,
                    ])
            }
            guard let row else {
                throw SessionStoreError(.backendFailure, sessionID: id, reason: "the record row vanished")
            }
            let recordID: Int64 = row[0]
            var seq: Int64 = row[1] - count
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
        }
    }

    /// Forces everything committed so far to stable storage (under ``ClaudeCodeSessions/DurabilityPolicy/checkpoint``).
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
