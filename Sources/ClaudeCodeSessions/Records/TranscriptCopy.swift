/// Whether and where ``SessionPersistentClient`` keeps a copy of the CLI's transcripts.
///
/// The CLI resumes a conversation from its own transcript file in
/// `~/.claude/projects/<folder of the working directory>/`. That file is missing on another
/// host, in a fresh container, with another `HOME`, and after the CLI's 30-day cleanup. With a
/// copy, the client mirrors every transcript line into a ``SessionStore`` as the CLI writes it
/// (`--session-mirror`) and, when the CLI's file is missing, resumes from the store; when the file
/// is there, the store is first brought up to date with it (deduplicated on `uuid`).
public struct TranscriptCopy: Sendable {
    enum Kind: Sendable {
        case automatic
        case off
        case store(any SessionStore, SessionStoreConfiguration)
    }

    let kind: Kind

    /// The record store's own ``SessionRecordStore/transcriptStore``: `~/.claude_sdk/transcripts`
    /// for the default files, the database for SQLite and PostgreSQL, memory for
    /// ``InMemoryRecordStore``. No copy for a record store that names none.
    public static var automatic: TranscriptCopy { TranscriptCopy(kind: .automatic) }

    /// No copy: resuming needs the CLI's own transcript file, as with a plain `ClaudeSDKClient`.
    public static var off: TranscriptCopy { TranscriptCopy(kind: .off) }

    /// A copy in `store`, mirrored and resumed as `configuration` says.
    public static func store(
        _ store: any SessionStore, configuration: SessionStoreConfiguration = SessionStoreConfiguration()
    ) -> TranscriptCopy {
        TranscriptCopy(kind: .store(store, configuration))
    }

    /// The store and settings for records kept in `records`, or `nil` for no copy.
    func resolved(for records: any SessionRecordStore) -> (
        store: any SessionStore, configuration: SessionStoreConfiguration
    )? {
        switch kind {
        case .automatic: return records.transcriptStore.map { ($0, SessionStoreConfiguration()) }
        case .off: return nil
        case .store(let store, let configuration): return (store, configuration)
        }
    }
}
