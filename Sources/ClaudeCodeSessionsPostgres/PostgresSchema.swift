import ClaudeCodeSessions
import Logging
import PostgresNIO

/// The PostgreSQL schema as named, ordered migrations. Never edit a migration that has shipped: add one.
enum PostgresSchema {
    struct Migration: Sendable {
        let name: String
        let statements: @Sendable (PostgresTables) -> [String]
    }

    static let migrations: [Migration] = [
        Migration(name: "transcripts-v1") { t in
            [
                // One row per transcript key; subpath '' is the main transcript.
                """
                CREATE TABLE \(t.transcripts) (
                    id BIGSERIAL PRIMARY KEY,
                    project_key TEXT NOT NULL CHECK (project_key <> ''),
                    session_id TEXT NOT NULL CHECK (session_id <> ''),
                    subpath TEXT NOT NULL,
                    next_seq BIGINT NOT NULL DEFAULT 0,
                    modified_ms BIGINT NOT NULL,
                    UNIQUE (project_key, session_id, subpath)
                )
                """,
                """
                CREATE TABLE \(t.entries) (
                    transcript_id BIGINT NOT NULL REFERENCES \(t.transcripts) (id) ON DELETE CASCADE,
                    seq BIGINT NOT NULL,
                    type TEXT NOT NULL,
                    uuid TEXT,
                    raw BYTEA NOT NULL,
                    PRIMARY KEY (transcript_id, seq)
                )
                """,
                """
                CREATE UNIQUE INDEX claude_transcript_entries_uuid
                    ON \(t.entries) (transcript_id, uuid) WHERE uuid IS NOT NULL
                """,
                """
                CREATE TABLE \(t.summaries) (
                    project_key TEXT NOT NULL,
                    session_id TEXT NOT NULL,
                    modified_ms BIGINT NOT NULL,
                    data TEXT NOT NULL,
                    PRIMARY KEY (project_key, session_id)
                )
                """,
            ]
        },
        Migration(name: "records-v1") { t in
            [
                // SessionPersistentClient's records (the seed's SessionData).
                """
                CREATE TABLE \(t.records) (
                    id BIGSERIAL PRIMARY KEY,
                    session_id TEXT NOT NULL UNIQUE,
                    start_time_us BIGINT NOT NULL,
                    last_activity_us BIGINT NOT NULL,
                    working_directory TEXT NOT NULL,
                    options TEXT NOT NULL,
                    schema_version INTEGER NOT NULL,
                    message_count BIGINT NOT NULL DEFAULT 0,
                    next_seq BIGINT NOT NULL DEFAULT 0,
                    checkpoint_us BIGINT NOT NULL DEFAULT 0
                )
                """,
                "CREATE INDEX claude_records_last_activity ON \(t.records) (last_activity_us)",
                """
                CREATE TABLE \(t.messages) (
                    record_id BIGINT NOT NULL REFERENCES \(t.records) (id) ON DELETE CASCADE,
                    seq BIGINT NOT NULL,
                    direction TEXT NOT NULL CHECK (direction IN ('sent', 'received')),
                    timestamp_us BIGINT NOT NULL,
                    type TEXT NOT NULL,
                    subtype TEXT,
                    raw BYTEA NOT NULL,
                    PRIMARY KEY (record_id, seq)
                )
                """,
            ]
        },
        Migration(name: "records-summary-v1") { t in
            [
                // Each record's listing fold: the whole RecordSummaryFold as JSON (what appends fold
                // into) and the figures a listing shows in typed columns (their defaults are an empty
                // fold's), all valid while summary_seq = next_seq. Existing rows start without one:
                // the next listing computes it from their frames.
                """
                ALTER TABLE \(t.records) ADD COLUMN summary TEXT, ADD COLUMN summary_seq BIGINT,
                    ADD COLUMN title TEXT, ADD COLUMN model TEXT,
                    ADD COLUMN turns BIGINT NOT NULL DEFAULT 0,
                    ADD COLUMN input_tokens BIGINT NOT NULL DEFAULT 0,
                    ADD COLUMN output_tokens BIGINT NOT NULL DEFAULT 0,
                    ADD COLUMN cache_creation_input_tokens BIGINT NOT NULL DEFAULT 0,
                    ADD COLUMN cache_read_input_tokens BIGINT NOT NULL DEFAULT 0,
                    ADD COLUMN cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0,
                    ADD COLUMN api_duration_ms BIGINT NOT NULL DEFAULT 0,
                    ADD COLUMN duration_ms BIGINT NOT NULL DEFAULT 0,
                    ADD COLUMN models TEXT NOT NULL DEFAULT '{}'
                """
            ]
        },
        Migration(name: "records-labels-v1") { t in
            [
                // A record's own title and tag (`claude-sessions rename` and `tag`); NULL for none.
                "ALTER TABLE \(t.records) ADD COLUMN custom_title TEXT, ADD COLUMN tag TEXT"
            ]
        },
        Migration(name: "search-v1") { t in
            [
                // Full-text search of the main transcripts: one row per passage (a prompt, reply,
                // thinking, tool input or tool result of an entry, long ones in pieces) with its
                // tsvector, written after the commit of the append that stored the entry (by the
                // store's background indexing; before 2026-12, in the append's transaction).
                // search_seq: the transcript's entries below it are indexed; transcripts stored
                // before this migration start at 0 and are indexed by the next search.
                "ALTER TABLE \(t.transcripts) ADD COLUMN search_seq BIGINT NOT NULL DEFAULT 0",
                """
                CREATE TABLE \(t.search) (
                    transcript_id BIGINT NOT NULL REFERENCES \(t.transcripts) (id) ON DELETE CASCADE,
                    seq BIGINT NOT NULL,
                    part INTEGER NOT NULL,
                    field TEXT NOT NULL,
                    body TEXT NOT NULL,
                    document TSVECTOR NOT NULL,
                    PRIMARY KEY (transcript_id, seq, part)
                )
                """,
                "CREATE INDEX claude_search_passages_document ON \(t.search) USING GIN (document)",
            ]
        },
    ]

    /// Applies the missing migrations (up to and including `last`, or all) on a connection inside
    /// a transaction; returns their names.
    static func migrate(
        _ connection: PostgresConnection, tables: PostgresTables, logger: Logger, upTo last: String? = nil
    ) async throws -> [String] {
        // Serialise concurrent migrators of this schema (released at commit).
        let lockName = "claude-code-sessions:\(tables.schema)"
        try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(lockName)))", logger: logger)
        let schemaExists =
            try await connection.query(
                "SELECT 1 FROM pg_namespace WHERE nspname = \(tables.schema)", logger: logger
            ).collect().isEmpty == false
        if !schemaExists {
            try await connection.query("CREATE SCHEMA \(unescaped: tables.quotedSchema)", logger: logger)
        }
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS \(unescaped: tables.migrations) (
                name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())
            """, logger: logger)
        let applied = try await self.applied(connection, tables: tables, logger: logger)
        let known = Set(migrations.map(\.name))
        if applied.contains(where: { !known.contains($0) }) {
            throw SessionStoreError(.schemaTooNew, reason: "the schema was migrated by a newer version of this library")
        }
        var wanted = migrations
        if let last {
            guard let end = migrations.firstIndex(where: { $0.name == last }) else {
                throw SessionStoreError(.backendFailure, reason: "no migration is named \(last)")
            }
            wanted = Array(migrations[...end])
        }
        var ran: [String] = []
        for migration in wanted where !applied.contains(migration.name) {
            for statement in migration.statements(tables) {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            try await connection.query(
                "INSERT INTO \(unescaped: tables.migrations) (name) VALUES (\(migration.name))", logger: logger)
            ran.append(migration.name)
        }
        return ran
    }

    /// The applied migrations in the order they ran; empty when the table does not exist.
    static func applied(_ connection: PostgresConnection, tables: PostgresTables, logger: Logger) async throws
        -> [String]
    {
        let exists =
            try await connection.query(
                "SELECT to_regclass(\(tables.migrations))::text", logger: logger
            ).decode(String?.self).first { _ in true } ?? nil
        guard exists != nil else { return [] }
        var names: [String] = []
        for try await name in try await connection.query(
            "SELECT name FROM \(unescaped: tables.migrations) ORDER BY applied_at, name", logger: logger
        ).decode(String.self) {
            names.append(name)
        }
        return names
    }
}
