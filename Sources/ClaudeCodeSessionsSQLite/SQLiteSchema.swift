import GRDB

/// The SQLite schema, as named GRDB migrations. Never edit a migration that has shipped: add one.
enum SQLiteSchema {
    static let transcriptsMigration = "transcripts-v1"
    static let recordsMigration = "records-v1"
    static let recordSummaryMigration = "records-summary-v1"
    static let recordLabelsMigration = "records-labels-v1"

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration(transcriptsMigration) { db in
            // One row per transcript key; subpath '' is the main transcript.
            try db.execute(
                sql: """
                    CREATE TABLE claude_transcripts (
                        id INTEGER PRIMARY KEY,
                        project_key TEXT NOT NULL CHECK (project_key <> ''),
                        session_id TEXT NOT NULL CHECK (session_id <> ''),
                        subpath TEXT NOT NULL,
                        next_seq INTEGER NOT NULL DEFAULT 0,
                        modified_ms INTEGER NOT NULL,
                        UNIQUE (project_key, session_id, subpath)
                    );
                    CREATE TABLE claude_transcript_entries (
                        id INTEGER PRIMARY KEY,
                        transcript_id INTEGER NOT NULL REFERENCES claude_transcripts(id) ON DELETE CASCADE,
                        seq INTEGER NOT NULL,
                        type TEXT NOT NULL,
                        uuid TEXT,
                        raw BLOB NOT NULL,
                        UNIQUE (transcript_id, seq)
                    );
                    CREATE UNIQUE INDEX claude_transcript_entries_uuid
                        ON claude_transcript_entries (transcript_id, uuid) WHERE uuid IS NOT NULL;
                    CREATE TABLE claude_session_summaries (
                        project_key TEXT NOT NULL,
                        session_id TEXT NOT NULL,
                        modified_ms INTEGER NOT NULL,
                        data TEXT NOT NULL,
                        PRIMARY KEY (project_key, session_id)
                    );
                    """)
        }
        migrator.registerMigration(recordsMigration) { db in
            // SessionPersistentClient's records (the seed's SessionData).
            try db.execute(
                sql: """
                    CREATE TABLE claude_records (
                        id INTEGER PRIMARY KEY,
                        session_id TEXT NOT NULL UNIQUE,
                        start_time_us INTEGER NOT NULL,
                        last_activity_us INTEGER NOT NULL,
                        working_directory TEXT NOT NULL,
                        options TEXT NOT NULL,
                        schema_version INTEGER NOT NULL,
                        message_count INTEGER NOT NULL DEFAULT 0,
                        next_seq INTEGER NOT NULL DEFAULT 0,
                        checkpoint_us INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE INDEX claude_records_last_activity ON claude_records (last_activity_us);
                    CREATE TABLE claude_record_messages (
                        id INTEGER PRIMARY KEY,
                        record_id INTEGER NOT NULL REFERENCES claude_records(id) ON DELETE CASCADE,
                        seq INTEGER NOT NULL,
                        direction TEXT NOT NULL CHECK (direction IN ('sent', 'received')),
                        timestamp_us INTEGER NOT NULL,
                        type TEXT NOT NULL,
                        subtype TEXT,
                        raw BLOB NOT NULL,
                        UNIQUE (record_id, seq)
                    );
                    """)
        }
        migrator.registerMigration(recordSummaryMigration) { db in
            // Each record's listing fold: the whole RecordSummaryFold as JSON (what appends fold
            // into) and the figures a listing shows in typed columns (their defaults are an empty
            // fold's), all valid while summary_seq = next_seq. Existing rows start without one:
            // the next listing computes it from their frames.
            try db.execute(
                sql: """
                    ALTER TABLE claude_records ADD COLUMN summary TEXT;
                    ALTER TABLE claude_records ADD COLUMN summary_seq INTEGER;
                    ALTER TABLE claude_records ADD COLUMN title TEXT;
                    ALTER TABLE claude_records ADD COLUMN model TEXT;
                    ALTER TABLE claude_records ADD COLUMN turns INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE claude_records ADD COLUMN input_tokens INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE claude_records ADD COLUMN output_tokens INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE claude_records ADD COLUMN cache_creation_input_tokens INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE claude_records ADD COLUMN cache_read_input_tokens INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE claude_records ADD COLUMN cost_usd REAL NOT NULL DEFAULT 0;
                    ALTER TABLE claude_records ADD COLUMN api_duration_ms INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE claude_records ADD COLUMN duration_ms INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE claude_records ADD COLUMN models TEXT NOT NULL DEFAULT '{}';
                    """)
        }
        migrator.registerMigration(recordLabelsMigration) { db in
            // A record's own title and tag (`claude-sessions rename` and `tag`); NULL for none.
            try db.execute(
                sql: """
                    ALTER TABLE claude_records ADD COLUMN custom_title TEXT;
                    ALTER TABLE claude_records ADD COLUMN tag TEXT;
                    """)
        }
        return migrator
    }
}
