public import ClaudeCode
public import ClaudeCodeSessions
public import Foundation
import Logging
import PostgresNIO
import Synchronization

extension PostgresSessionStore: SessionRecordStore {
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
        let (t, logger) = (tables, configuration.logger)
        try await connection(sessionID: id) { connection in
            try await connection.query(
                """
                INSERT INTO \(unescaped: t.records) AS r (session_id, start_time_us, last_activity_us, working_directory,
                    options, schema_version)
                VALUES (\(id.rawValue), \(metadata.startTimeMicroseconds), \(metadata.startTimeMicroseconds),
                    \(StoreText.encode(metadata.workingDirectory)), \(metadata.options), \(SessionData.currentSchemaVersion))
                ON CONFLICT (session_id) DO UPDATE SET working_directory = EXCLUDED.working_directory,
                    options = EXCLUDED.options, last_activity_us = GREATEST(r.last_activity_us, \(now))
                """, logger: logger)
        }
        return DatabaseRecordWriter(backend: self, id: id, metadata: metadata)
    }

    /// The whole record of `id`: its metadata and every message in order.
    /// - Throws: ``SessionStoreError`` — `.sessionNotFound`; `.damagedRecord` naming the session
    ///   when a stored value cannot be read back.
    public func loadRecord(_ id: SessionID) async throws(SessionStoreError) -> SessionData {
        let (t, logger) = (tables, configuration.logger)
        return try await transaction(sessionID: id) { connection in
            // One snapshot for the record and its messages.
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            let recordRows = try await connection.query(
                """
                SELECT id, start_time_us, last_activity_us, working_directory, options, schema_version
                FROM \(unescaped: t.records) WHERE session_id = \(id.rawValue)
                """, logger: logger)
            guard
                let (recordID, start, last, workingDirectory, optionsText, schemaVersion) = try await recordRows.decode(
                    (Int64, Int64, Int64, String, String, Int32).self
                ).first(where: { _ in true })
            else { throw SessionStoreError(.sessionNotFound, sessionID: id) }
            let options = try Self.recordOptions(optionsText, id: id)
            let rows = try await connection.query(
                """
                SELECT seq, direction, timestamp_us, type, subtype, raw FROM \(unescaped: t.messages)
                WHERE record_id = \(recordID) ORDER BY seq
                """, logger: logger)
            var history: [ConversationMessage] = []
            for try await (seq, directionText, stamp, type, subtype, raw) in rows.decode(
                (Int64, String, Int64, String, String?, ByteBuffer).self)
            {
                guard let direction = ConversationMessage.Direction(rawValue: directionText) else {
                    throw SessionStoreError(
                        .damagedRecord, sessionID: id, reason: "message \(seq) has an unknown direction")
                }
                history.append(
                    ConversationMessage(
                        direction: direction, type: StoreText.decode(type), subtype: subtype.map(StoreText.decode),
                        rawJSON: Array(raw.readableBytesView),
                        timestamp: StoreBackendClock.date(microseconds: stamp)))
            }
            return SessionData(
                sessionID: id, startTime: StoreBackendClock.date(microseconds: start),
                lastActivity: StoreBackendClock.date(microseconds: last), conversationHistory: history,
                workingDirectory: StoreText.decode(workingDirectory), options: options,
                schemaVersion: Int(schemaVersion))
        }
    }

    /// Every record with its summary metadata, most recent activity first. A row whose session
    /// id is not a valid ``SessionID`` is listed as damaged rather than hidden.
    public func listRecords() async throws(SessionStoreError) -> [RecordListEntry] {
        let (t, logger) = (tables, configuration.logger)
        return try await connection { connection in
            let rows = try await connection.query(
                """
                SELECT session_id, start_time_us, last_activity_us, message_count, working_directory, schema_version
                FROM \(unescaped: t.records) ORDER BY last_activity_us DESC, session_id COLLATE "C"
                """, logger: logger)
            var entries: [RecordListEntry] = []
            for try await (text, start, last, count, workingDirectory, schemaVersion) in rows.decode(
                (String, Int64, Int64, Int64, String, Int32).self)
            {
                guard let id = SessionID(rawValue: text) else {
                    entries.append(
                        .damaged(
                            DamagedRecordFile(
                                fileName: "", path: "", sessionID: nil,
                                error: SessionStoreError(.invalidSessionID, reason: "a record's session id is invalid"))
                        ))
                    continue
                }
                entries.append(
                    .session(
                        RecordSummary(
                            sessionID: id, startTime: StoreBackendClock.date(microseconds: start),
                            lastActivity: StoreBackendClock.date(microseconds: last), messageCount: Int(count),
                            workingDirectory: StoreText.decode(workingDirectory), schemaVersion: Int(schemaVersion),
                            path: "",
                            skippedJournalLines: 0)))
            }
            return entries
        }
    }

    /// Removes the record of `id` and its messages.
    /// - Throws: ``SessionStoreError/Code/sessionNotFound`` when there is none.
    public func deleteRecord(_ id: SessionID) async throws(SessionStoreError) {
        let (t, logger) = (tables, configuration.logger)
        let deleted = try await connection(sessionID: id) { connection -> Bool in
            let rows = try await connection.query(
                "DELETE FROM \(unescaped: t.records) WHERE session_id = \(id.rawValue) RETURNING id", logger: logger)
            return try await rows.decode(Int64.self).first(where: { _ in true }) != nil
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
    package func appendRecord(
        _ messages: [ConversationMessage], id: SessionID, metadata: DatabaseRecordMetadata
    ) async throws(SessionStoreError) {
        guard !messages.isEmpty else { return }
        let count = Int64(messages.count)
        let stamps = messages.map { StoreBackendClock.microseconds($0.timestamp) }
        let last = stamps.max() ?? 0
        let directions = messages.map(\.direction.rawValue)
        let types = messages.map { StoreText.encode($0.type) }
        let subtypes = messages.map { $0.subtype.map(StoreText.encode) ?? "" }
        let hasSubtype = messages.map { $0.subtype != nil }
        let raws = messages.map { ByteBuffer(bytes: $0.rawJSON) }
        let asynchronous = configuration.durability != .everyMessage
        let (t, logger) = (tables, configuration.logger)
        // One statement, so one round trip. Under `.checkpoint` its commit does not wait for the
        // server's disk (`synchronous_commit` off for this transaction only): the next checkpoint
        // makes it durable, and the server's WAL writer does within a second anyway.
        let appended = try await connection(sessionID: id) { connection -> Bool in
            for attempt in 0..<2 {
                let rows = try await connection.query(
                    """
                    WITH c AS (
                        SELECT set_config('synchronous_commit',
                            CASE WHEN \(asynchronous) THEN 'off' ELSE current_setting('synchronous_commit') END, true)
                    ), r AS (
                        UPDATE \(unescaped: t.records) SET next_seq = next_seq + \(count),
                            message_count = message_count + \(count), last_activity_us = GREATEST(last_activity_us, \(last))
                        WHERE session_id = \(id.rawValue) RETURNING id, next_seq - \(count) AS base
                    )
                    INSERT INTO \(unescaped: t.messages) (record_id, seq, direction, timestamp_us, type, subtype, raw)
                    SELECT r.id, r.base + m.ord - 1, m.direction, m.stamp, m.type,
                        CASE WHEN m.has_subtype THEN m.subtype END, m.raw
                    FROM c, r, unnest(\(directions)::text[], \(stamps)::bigint[], \(types)::text[], \(subtypes)::text[],
                        \(hasSubtype)::bool[], \(raws)::bytea[])
                        WITH ORDINALITY AS m(direction, stamp, type, subtype, has_subtype, raw, ord)
                    RETURNING 1
                    """, logger: logger)
                var inserted = 0
                for try await _ in rows { inserted += 1 }
                if inserted > 0 { return true }
                if attempt == 1 { break }
                // Deleted while a writer was open: start it again, as the JSON files do.
                try await connection.query(
                    """
                    INSERT INTO \(unescaped: t.records) (session_id, start_time_us, last_activity_us, working_directory,
                        options, schema_version)
                    VALUES (\(id.rawValue), \(metadata.startTimeMicroseconds), \(metadata.startTimeMicroseconds),
                        \(StoreText.encode(metadata.workingDirectory)), \(metadata.options), \(SessionData.currentSchemaVersion))
                    ON CONFLICT (session_id) DO NOTHING
                    """, logger: logger)
            }
            return false
        }
        if !appended {
            throw SessionStoreError(.backendFailure, sessionID: id, reason: "the record could not be started again")
        }
    }

    /// Waits until everything committed so far is on the server's disk (under ``ClaudeCodeSessions/DurabilityPolicy/checkpoint``).
    package func checkpointRecord(_ id: SessionID) async throws(SessionStoreError) {
        guard configuration.durability == .checkpoint else { return }
        let now = StoreBackendClock.microseconds(Date())
        let (t, logger) = (tables, configuration.logger)
        try await transaction(sessionID: id) { connection in
            // A synchronous commit that writes waits for the WAL through its own commit record,
            // which follows every earlier asynchronous commit.
            try await connection.query("SET LOCAL synchronous_commit TO ON", logger: logger)
            try await connection.query(
                "UPDATE \(unescaped: t.records) SET checkpoint_us = \(now) WHERE session_id = \(id.rawValue)",
                logger: logger)
        }
    }
}

extension PostgresSessionStore: DatabaseRecordBackend {}
