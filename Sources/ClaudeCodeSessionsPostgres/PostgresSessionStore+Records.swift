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
        let cursor = try await connection(sessionID: id) { connection -> DatabaseRecordCursor? in
            let rows = try await connection.query(
                """
                INSERT INTO \(unescaped: t.records) AS r (session_id, start_time_us, last_activity_us, working_directory,
                    options, schema_version, summary, summary_seq)
                VALUES (\(id.rawValue), \(metadata.startTimeMicroseconds), \(metadata.startTimeMicroseconds),
                    \(StoreText.encode(metadata.workingDirectory)), \(metadata.options), \(SessionData.currentSchemaVersion),
                    \(StoreRecordSummary.emptyText), 0)
                ON CONFLICT (session_id) DO UPDATE SET working_directory = EXCLUDED.working_directory,
                    options = EXCLUDED.options, last_activity_us = GREATEST(r.last_activity_us, \(now))
                RETURNING r.id, r.next_seq, CASE WHEN r.summary_seq = r.next_seq THEN r.summary END
                """, logger: logger)
            guard
                let (recordID, nextSeq, text) = try await rows.decode((Int64, Int64, String?).self).first(where: { _ in
                    true
                }),
                let fold = StoreRecordSummary.decode(text)
            else { return nil }
            return DatabaseRecordCursor(recordID: recordID, nextSeq: nextSeq, fold: fold)
        }
        return DatabaseRecordWriter(backend: self, id: id, metadata: metadata, cursor: cursor)
    }

    /// The whole record of `id`: its metadata and every message in order.
    /// - Throws: `SessionStoreError` — `.sessionNotFound`; `.damagedRecord` naming the session
    ///   when a stored value cannot be read back.
    public func loadRecord(_ id: SessionID) async throws(SessionStoreError) -> SessionData {
        let (t, logger) = (tables, configuration.logger)
        return try await transaction(sessionID: id) { connection in
            // One snapshot for the record and its messages.
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            let recordRows = try await connection.query(
                """
                SELECT id, start_time_us, last_activity_us, working_directory, options, schema_version, custom_title, tag
                FROM \(unescaped: t.records) WHERE session_id = \(id.rawValue)
                """, logger: logger)
            guard
                let (recordID, start, last, workingDirectory, optionsText, schemaVersion, title, tag) =
                    try await recordRows.decode(
                        (Int64, Int64, Int64, String, String, Int32, String?, String?).self
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
                schemaVersion: Int(schemaVersion), title: title.map(StoreText.decode), tag: tag.map(StoreText.decode))
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
        let (t, logger) = (tables, configuration.logger)
        return try await connection { connection in
            let rows = try await connection.query(
                """
                SELECT session_id, start_time_us, last_activity_us, message_count, working_directory, schema_version,
                    id, next_seq, summary_seq IS NOT DISTINCT FROM next_seq, title, model, turns, input_tokens,
                    output_tokens, cache_creation_input_tokens, cache_read_input_tokens, cost_usd, api_duration_ms,
                    duration_ms, models, custom_title, tag
                FROM \(unescaped: t.records) ORDER BY last_activity_us DESC, session_id COLLATE "C"
                """, logger: logger)
            var entries: [RecordListEntry] = []
            // Records without a current fold: their index in `entries`, row id and next_seq.
            var missing: [(index: Int, recordID: Int64, nextSeq: Int64)] = []
            for try await (
                text, start, last, count, workingDirectory, schemaVersion, recordID, nextSeq, current, title, model,
                turns, input, output, creation, read, cost, api, duration, models, customTitle, tag
            ) in rows.decode(
                (
                    String, Int64, Int64, Int64, String, Int32, Int64, Int64, Bool, String?, String?, Int64, Int64,
                    Int64, Int64, Int64, Double, Int64, Int64, String, String?, String?
                ).self)
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
                let fold =
                    current
                    ? StoreRecordFigures(
                        title: title, model: model, turns: turns, inputTokens: input, outputTokens: output,
                        cacheCreationInputTokens: creation, cacheReadInputTokens: read, costUSD: cost,
                        apiDurationMilliseconds: api, durationMilliseconds: duration, models: models
                    ).listedFold : nil
                if fold == nil { missing.append((entries.count, recordID, nextSeq)) }
                entries.append(
                    .session(
                        RecordSummary(
                            sessionID: id, startTime: StoreBackendClock.date(microseconds: start),
                            lastActivity: StoreBackendClock.date(microseconds: last), messageCount: Int(count),
                            workingDirectory: StoreText.decode(workingDirectory), schemaVersion: Int(schemaVersion),
                            path: "", skippedJournalLines: 0, fold: fold ?? RecordSummaryFold(),
                            customTitle: customTitle.map(StoreText.decode), tag: tag.map(StoreText.decode))))
            }
            guard !missing.isEmpty else { return entries }
            let folds = try await Self.computeFolds(
                connection, tables: t, logger: logger, records: missing.map { ($0.recordID, $0.nextSeq) })
            let computed = missing.map { folds[$0.recordID] ?? RecordSummaryFold() }
            let figures = computed.map(StoreRecordFigures.init)
            for ((index, _, _), f) in zip(missing, figures) {
                guard case .session(var summary) = entries[index], let fold = f.listedFold else { continue }
                summary.title = summary.customTitle ?? fold.title
                summary.model = fold.model
                summary.ledger = fold.ledger
                entries[index] = .session(summary)
            }
            // Stored only while nothing was appended since (next_seq unchanged); best effort.
            _ = try? await connection.query(
                """
                UPDATE \(unescaped: t.records) AS r SET summary = u.summary, summary_seq = u.seq,
                    title = CASE WHEN u.has_title THEN u.title END, model = CASE WHEN u.has_model THEN u.model END, turns = u.turns, input_tokens = u.input, output_tokens = u.output,
                    cache_creation_input_tokens = u.creation, cache_read_input_tokens = u.read, cost_usd = u.cost,
                    api_duration_ms = u.api, duration_ms = u.duration, models = u.models
                FROM unnest(\(missing.map(\.recordID))::bigint[], \(missing.map(\.nextSeq))::bigint[],
                    \(computed.map(StoreRecordSummary.encode))::text[], \(figures.map { $0.title ?? "" })::text[],
                    \(figures.map { $0.title != nil })::bool[], \(figures.map { $0.model ?? "" })::text[],
                    \(figures.map { $0.model != nil })::bool[], \(figures.map(\.turns))::bigint[], \(figures.map(\.inputTokens))::bigint[],
                    \(figures.map(\.outputTokens))::bigint[], \(figures.map(\.cacheCreationInputTokens))::bigint[],
                    \(figures.map(\.cacheReadInputTokens))::bigint[], \(figures.map(\.costUSD))::float8[],
                    \(figures.map(\.apiDurationMilliseconds))::bigint[], \(figures.map(\.durationMilliseconds))::bigint[],
                    \(figures.map(\.models))::text[])
                    AS u(id, seq, summary, title, has_title, model, has_model, turns, input, output, creation, read, cost, api, duration, models)
                WHERE r.id = u.id AND r.next_seq = u.seq
                """, logger: logger)
            return entries
        }
    }

    /// The folds of records' frames below the given `next_seq`s, in one query (frames whose
    /// direction cannot be read are skipped, as ``loadRecord(_:)`` reports them).
    static func computeFolds(
        _ connection: PostgresConnection, tables t: PostgresTables, logger: Logger,
        records: [(recordID: Int64, nextSeq: Int64)]
    ) async throws -> [Int64: RecordSummaryFold] {
        var folds: [Int64: RecordSummaryFold] = [:]
        for record in records { folds[record.recordID] = RecordSummaryFold() }
        let rows = try await connection.query(
            """
            SELECT m.record_id, m.direction, m.timestamp_us, m.type, m.subtype, m.raw
            FROM \(unescaped: t.messages) AS m
            JOIN unnest(\(records.map(\.recordID))::bigint[], \(records.map(\.nextSeq))::bigint[]) AS u(id, seq)
                ON m.record_id = u.id AND m.seq < u.seq
            ORDER BY m.record_id, m.seq
            """, logger: logger)
        for try await (recordID, directionText, stamp, type, subtype, raw) in rows.decode(
            (Int64, String, Int64, String, String?, ByteBuffer).self)
        {
            guard let direction = ConversationMessage.Direction(rawValue: directionText) else { continue }
            folds[recordID, default: RecordSummaryFold()].add(
                ConversationMessage(
                    direction: direction, type: StoreText.decode(type), subtype: subtype.map(StoreText.decode),
                    rawJSON: Array(raw.readableBytesView), timestamp: StoreBackendClock.date(microseconds: stamp)))
        }
        return folds
    }

    /// Removes the record of `id` and its messages.
    /// - Throws: `SessionStoreError/Code/sessionNotFound` when there is none.
    public func deleteRecord(_ id: SessionID) async throws(SessionStoreError) {
        let (t, logger) = (tables, configuration.logger)
        let deleted = try await connection(sessionID: id) { connection -> Bool in
            let rows = try await connection.query(
                "DELETE FROM \(unescaped: t.records) WHERE session_id = \(id.rawValue) RETURNING id", logger: logger)
            return try await rows.decode(Int64.self).first(where: { _ in true }) != nil
        }
        if !deleted { throw SessionStoreError(.sessionNotFound, sessionID: id) }
    }

    /// Gives the record of `id` a title (`nil` or empty removes it), in its row's `custom_title`.
    /// - Throws: `SessionStoreError/Code/sessionNotFound` when there is none.
    public func setRecordTitle(_ id: SessionID, title: String?) async throws(SessionStoreError) {
        let (t, logger) = (tables, configuration.logger)
        let value = normalizedRecordLabel(title).map(StoreText.encode)
        let updated = try await connection(sessionID: id) { connection -> Bool in
            let rows = try await connection.query(
                "UPDATE \(unescaped: t.records) SET custom_title = \(value) WHERE session_id = \(id.rawValue) RETURNING id",
                logger: logger)
            return try await rows.decode(Int64.self).first(where: { _ in true }) != nil
        }
        if !updated { throw SessionStoreError(.sessionNotFound, sessionID: id) }
    }

    /// Tags the record of `id` (`nil` or empty removes the tag), in its row's `tag`.
    /// - Throws: `SessionStoreError/Code/sessionNotFound` when there is none.
    public func setRecordTag(_ id: SessionID, tag: String?) async throws(SessionStoreError) {
        let (t, logger) = (tables, configuration.logger)
        let value = normalizedRecordLabel(tag).map(StoreText.encode)
        let updated = try await connection(sessionID: id) { connection -> Bool in
            let rows = try await connection.query(
                "UPDATE \(unescaped: t.records) SET tag = \(value) WHERE session_id = \(id.rawValue) RETURNING id",
                logger: logger)
            return try await rows.decode(Int64.self).first(where: { _ in true }) != nil
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
    ///
    /// With a current cursor (the writer's own previous append, nothing in between) this is one
    /// statement, so one round trip: the fold is computed from the cursor and the statement only
    /// applies while the row is as the cursor says. Otherwise (first append, another writer, a
    /// deleted record) a transaction locks the row and folds into the stored fold.
    package func appendRecord(
        _ messages: [ConversationMessage], id: SessionID, metadata: DatabaseRecordMetadata,
        after cursor: DatabaseRecordCursor?
    ) async throws(SessionStoreError) -> DatabaseRecordCursor? {
        guard !messages.isEmpty else { return cursor }
        let batch = RecordBatch(messages)
        let asynchronous = configuration.durability != .everyMessage
        let (t, logger) = (tables, configuration.logger)

        if let cursor {
            let (fold, text) = StoreRecordSummary.folding(cursor.fold, messages)
            let summary = text.map { ($0, StoreRecordFigures(fold)) }
            // Under `.checkpoint` the commit does not wait for the server's disk
            // (`synchronous_commit` off for this transaction only): the next checkpoint makes it
            // durable, and the server's WAL writer does within a second anyway.
            let applied = try await connection(sessionID: id) { connection -> Bool in
                try await Self.insertBatch(
                    connection, tables: t, logger: logger, batch: batch, id: id, asynchronous: asynchronous,
                    row: .expected(recordID: cursor.recordID, nextSeq: cursor.nextSeq), summary: summary)
            }
            if applied {
                return DatabaseRecordCursor(
                    recordID: cursor.recordID, nextSeq: cursor.nextSeq + batch.count, fold: fold)
            }
        }

        return try await transaction(sessionID: id) { connection -> DatabaseRecordCursor? in
            var row = try await Self.lockRecord(connection, tables: t, logger: logger, id: id)
            if row == nil {
                // Deleted while a writer was open: start it again, as the JSON files do.
                try await connection.query(
                    """
                    INSERT INTO \(unescaped: t.records) (session_id, start_time_us, last_activity_us, working_directory,
                        options, schema_version, summary, summary_seq)
                    VALUES (\(id.rawValue), \(metadata.startTimeMicroseconds), \(metadata.startTimeMicroseconds),
                        \(StoreText.encode(metadata.workingDirectory)), \(metadata.options), \(SessionData.currentSchemaVersion),
                        \(StoreRecordSummary.emptyText), 0)
                    ON CONFLICT (session_id) DO NOTHING
                    """, logger: logger)
                row = try await Self.lockRecord(connection, tables: t, logger: logger, id: id)
            }
            guard let (recordID, nextSeq, stored) = row else {
                throw SessionStoreError(.backendFailure, sessionID: id, reason: "the record could not be started again")
            }
            // A fold that is not current stays so (the listing computes it from the frames).
            let folded = StoreRecordSummary.decode(stored).map { StoreRecordSummary.folding($0, messages) }
            let inserted = try await Self.insertBatch(
                connection, tables: t, logger: logger, batch: batch, id: id, asynchronous: asynchronous,
                row: .locked(recordID: recordID, keepsSummary: folded != nil),
                summary: folded.flatMap { folded in folded.text.map { ($0, StoreRecordFigures(folded.fold)) } })
            guard inserted else {
                throw SessionStoreError(.backendFailure, sessionID: id, reason: "the record row vanished")
            }
            return folded.map {
                DatabaseRecordCursor(recordID: recordID, nextSeq: nextSeq + batch.count, fold: $0.fold)
            }
        }
    }

    /// A batch as the append statement binds it.
    struct RecordBatch: Sendable {
        let count: Int64
        let last: Int64
        let stamps: [Int64]
        let directions: [String]
        let types: [String]
        let subtypes: [String]
        let hasSubtype: [Bool]
        let raws: [ByteBuffer]

        init(_ messages: [ConversationMessage]) {
            count = Int64(messages.count)
            stamps = messages.map { StoreBackendClock.microseconds($0.timestamp) }
            last = stamps.max() ?? 0
            directions = messages.map(\.direction.rawValue)
            types = messages.map { StoreText.encode($0.type) }
            subtypes = messages.map { $0.subtype.map(StoreText.encode) ?? "" }
            hasSubtype = messages.map { $0.subtype != nil }
            raws = messages.map { ByteBuffer(bytes: $0.rawJSON) }
        }
    }

    /// Which record row an append statement updates.
    enum AppendTarget: Sendable {
        /// The row as a writer's cursor says it is: that id, that `next_seq`, a current fold.
        case expected(recordID: Int64, nextSeq: Int64)
        /// A row this transaction has locked; its fold advances with it when `keepsSummary`.
        case locked(recordID: Int64, keepsSummary: Bool)
    }

    /// The record row of `id`, locked until the transaction ends: its id, `next_seq` and its fold's
    /// text when current.
    static func lockRecord(_ connection: PostgresConnection, tables t: PostgresTables, logger: Logger, id: SessionID)
        async throws -> (Int64, Int64, String?)?
    {
        try await connection.query(
            """
            SELECT id, next_seq, CASE WHEN summary_seq = next_seq THEN summary END
            FROM \(unescaped: t.records) WHERE session_id = \(id.rawValue) FOR UPDATE
            """, logger: logger
        ).decode((Int64, Int64, String?).self).first(where: { _ in true })
    }

    /// Appends the batch to the target row in one statement, writing the fold's new text when
    /// given; returns whether the row was there (as expected).
    static func insertBatch(
        _ connection: PostgresConnection, tables t: PostgresTables, logger: Logger, batch: RecordBatch, id: SessionID,
        asynchronous: Bool, row target: AppendTarget, summary: (text: String, figures: StoreRecordFigures)?
    ) async throws -> Bool {
        let (recordID, expectedSeq, keepsSummary): (Int64, Int64?, Bool) =
            switch target {
            case .expected(let recordID, let nextSeq): (recordID, nextSeq, true)
            case .locked(let recordID, let keepsSummary): (recordID, nil, keepsSummary)
            }
        let count = batch.count
        // The fold's text and figures are written when the batch changed it (`w`).
        let w = keepsSummary && summary != nil
        let text = summary?.text
        let f = summary?.figures ?? StoreRecordFigures(RecordSummaryFold())
        let rows = try await connection.query(
            """
            WITH c AS (
                SELECT set_config('synchronous_commit',
                    CASE WHEN \(asynchronous) THEN 'off' ELSE current_setting('synchronous_commit') END, true)
            ), r AS (
                UPDATE \(unescaped: t.records) SET next_seq = next_seq + \(count),
                    message_count = message_count + \(count), last_activity_us = GREATEST(last_activity_us, \(batch.last)),
                    summary_seq = CASE WHEN \(keepsSummary) THEN next_seq + \(count) ELSE summary_seq END,
                    summary = CASE WHEN \(w) THEN \(text)::text ELSE summary END,
                    title = CASE WHEN \(w) THEN \(f.title)::text ELSE title END,
                    model = CASE WHEN \(w) THEN \(f.model)::text ELSE model END,
                    turns = CASE WHEN \(w) THEN \(f.turns) ELSE turns END,
                    input_tokens = CASE WHEN \(w) THEN \(f.inputTokens) ELSE input_tokens END,
                    output_tokens = CASE WHEN \(w) THEN \(f.outputTokens) ELSE output_tokens END,
                    cache_creation_input_tokens = CASE WHEN \(w) THEN \(f.cacheCreationInputTokens)
                        ELSE cache_creation_input_tokens END,
                    cache_read_input_tokens = CASE WHEN \(w) THEN \(f.cacheReadInputTokens) ELSE cache_read_input_tokens END,
                    cost_usd = CASE WHEN \(w) THEN \(f.costUSD) ELSE cost_usd END,
                    api_duration_ms = CASE WHEN \(w) THEN \(f.apiDurationMilliseconds) ELSE api_duration_ms END,
                    duration_ms = CASE WHEN \(w) THEN \(f.durationMilliseconds) ELSE duration_ms END,
                    models = CASE WHEN \(w) THEN \(f.models) ELSE models END
                WHERE session_id = \(id.rawValue) AND id = \(recordID)
                    AND (\(expectedSeq)::bigint IS NULL OR (next_seq = \(expectedSeq)::bigint AND summary_seq = next_seq))
                RETURNING id, next_seq - \(count) AS base
            )
            INSERT INTO \(unescaped: t.messages) (record_id, seq, direction, timestamp_us, type, subtype, raw)
            SELECT r.id, r.base + m.ord - 1, m.direction, m.stamp, m.type,
                CASE WHEN m.has_subtype THEN m.subtype END, m.raw
            FROM c, r, unnest(\(batch.directions)::text[], \(batch.stamps)::bigint[], \(batch.types)::text[],
                \(batch.subtypes)::text[], \(batch.hasSubtype)::bool[], \(batch.raws)::bytea[])
                WITH ORDINALITY AS m(direction, stamp, type, subtype, has_subtype, raw, ord)
            RETURNING 1
            """, logger: logger)
        var inserted = 0
        for try await _ in rows { inserted += 1 }
        return inserted > 0
    }

    /// Waits until everything committed so far is on the server's disk (under `ClaudeCodeSessions/DurabilityPolicy/checkpoint`).
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
