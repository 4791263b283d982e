public import ClaudeCode
public import Foundation

/// A ``SessionRecordStore`` that keeps records in memory, for tests and development.
///
/// The CLI's transcripts of its records go to its own ``InMemorySessionStore``
/// (``transcripts``), so a conversation recorded here resumes from memory too.
public actor InMemoryRecordStore: SessionRecordStore {
    private var sessions: [SessionID: SessionData] = [:]
    /// Where the CLI's transcripts of these records are kept.
    public nonisolated let transcripts = InMemorySessionStore()

    public init() {}

    /// ``transcripts``.
    public nonisolated var transcriptStore: (any SessionStore)? { transcripts }

    public func openRecord(
        _ id: SessionID, startTime: Date, workingDirectory: String, options: [String: JSONValue]
    ) throws(SessionStoreError) -> any SessionRecordWriter {
        if sessions[id] == nil {
            sessions[id] = SessionData(
                sessionID: id, startTime: startTime, lastActivity: startTime, conversationHistory: [],
                workingDirectory: workingDirectory, options: options)
        }
        return Writer(store: self, id: id)
    }

    func append(_ messages: [ConversationMessage], to id: SessionID) throws(SessionStoreError) {
        guard var data = sessions[id] else { throw SessionStoreError(.sessionNotFound, sessionID: id) }
        data.conversationHistory += messages
        if let last = messages.last { data.lastActivity = max(data.lastActivity, last.timestamp) }
        sessions[id] = data
    }

    public func loadRecord(_ id: SessionID) throws(SessionStoreError) -> SessionData {
        guard let data = sessions[id] else { throw SessionStoreError(.sessionNotFound, sessionID: id) }
        return data
    }

    public func listRecords() throws(SessionStoreError) -> [RecordListEntry] {
        sessions.values.sorted { $0.lastActivity > $1.lastActivity }.map {
            .session(
                RecordSummary(
                    sessionID: $0.sessionID, startTime: $0.startTime, lastActivity: $0.lastActivity,
                    messageCount: $0.conversationHistory.count, workingDirectory: $0.workingDirectory,
                    schemaVersion: $0.schemaVersion, path: "", skippedJournalLines: 0,
                    fold: RecordSummaryFold(history: $0.conversationHistory), customTitle: $0.title, tag: $0.tag))
        }
    }

    public func deleteRecord(_ id: SessionID) throws(SessionStoreError) {
        guard sessions.removeValue(forKey: id) != nil else { throw SessionStoreError(.sessionNotFound, sessionID: id) }
    }

    public func setRecordTitle(_ id: SessionID, title: String?) throws(SessionStoreError) {
        guard sessions[id] != nil else { throw SessionStoreError(.sessionNotFound, sessionID: id) }
        sessions[id]?.title = normalizedRecordLabel(title)
    }

    public func setRecordTag(_ id: SessionID, tag: String?) throws(SessionStoreError) {
        guard sessions[id] != nil else { throw SessionStoreError(.sessionNotFound, sessionID: id) }
        sessions[id]?.tag = normalizedRecordLabel(tag)
    }

    struct Writer: SessionRecordWriter {
        let store: InMemoryRecordStore
        let id: SessionID
        func append(_ messages: [ConversationMessage]) async throws(SessionStoreError) {
            try await store.append(messages, to: id)
        }
        func checkpoint() async throws(SessionStoreError) {}
        func close() async throws(SessionStoreError) {}
    }
}
