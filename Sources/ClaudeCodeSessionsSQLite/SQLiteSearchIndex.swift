public import ClaudeCodeSessions
import GRDB

extension SQLiteSessionStore {
    /// The project keys that hold at least one main transcript, sorted (for tools that list
    /// every project, such as `claude-sessions --store sqlite:PATH`).
    ///
    /// - Throws: ``SessionStoreError`` when the database cannot be read.
    public func listProjectKeys() async throws(SessionStoreError) -> [String] {
        try await read { db in
            try String.fetchAll(
                db,
                sql: "SELECT DISTINCT project_key FROM claude_transcripts WHERE subpath = '' ORDER BY project_key")
        }
    }
}
