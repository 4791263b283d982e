public import ClaudeCode
public import Foundation

/// Where ``SessionPersistentClient`` keeps its conversation records: the exact frames of every
/// conversation, in both directions.
///
/// ``FileRecordStore`` (JSON files in `~/.claude_sdk/sessions`) is the default;
/// ``InMemoryRecordStore`` serves tests; the SQLite and PostgreSQL stores of
/// `ClaudeCodeSessionsSQLite` and `ClaudeCodeSessionsPostgres` are record stores and session
/// stores at once. A store hands out one ``SessionRecordWriter`` per recorded session.
///
/// A record store can also name a ``SessionStore`` for the CLI's transcripts of the same
/// conversations (``transcriptStore``): ``SessionPersistentClient`` then mirrors every
/// transcript into it and resumes from it when the CLI's own file is gone, so a saved
/// conversation continues on another machine, in a fresh container or after the CLI's cleanup.
public protocol SessionRecordStore: Sendable {
    /// Opens the record of `id` for appending, creating it with this metadata when it does not exist.
    func openRecord(
        _ id: SessionID, startTime: Date, workingDirectory: String, options: [String: JSONValue]
    ) async throws(SessionStoreError) -> any SessionRecordWriter
    /// The whole record of `id`.
    func loadRecord(_ id: SessionID) async throws(SessionStoreError) -> SessionData
    /// Every record, with damaged files reported rather than hidden.
    func listRecords() async throws(SessionStoreError) -> [RecordListEntry]
    /// Removes the record of `id`.
    func deleteRecord(_ id: SessionID) async throws(SessionStoreError)
    /// Gives the record of `id` a title (``SessionData/title``), or removes it with `nil` or an
    /// empty string. Listings show it instead of the title the CLI gave the session. Not an
    /// activity: ``SessionData/lastActivity`` does not change.
    ///
    /// The default implementation throws ``SessionStoreError/Code/unsupportedOperation``.
    /// - Throws: ``SessionStoreError`` `.sessionNotFound` when there is no such record.
    func setRecordTitle(_ id: SessionID, title: String?) async throws(SessionStoreError)
    /// Tags the record of `id` (``SessionData/tag``), or removes its tag with `nil` or an empty
    /// string. Not an activity: ``SessionData/lastActivity`` does not change.
    ///
    /// The default implementation throws ``SessionStoreError/Code/unsupportedOperation``.
    /// - Throws: ``SessionStoreError`` `.sessionNotFound` when there is no such record.
    func setRecordTag(_ id: SessionID, tag: String?) async throws(SessionStoreError)
    /// Where the CLI's transcripts of these records are kept, or `nil` for nowhere. By default the
    /// store itself when it is also a ``SessionStore`` (the database stores), else `nil`.
    var transcriptStore: (any SessionStore)? { get }
}

extension SessionRecordStore {
    public var transcriptStore: (any SessionStore)? { self as? any SessionStore }

    public func setRecordTitle(_ id: SessionID, title: String?) async throws(SessionStoreError) {
        throw SessionStoreError(
            .unsupportedOperation, sessionID: id, reason: "this record store cannot give records a title")
    }

    public func setRecordTag(_ id: SessionID, tag: String?) async throws(SessionStoreError) {
        throw SessionStoreError(.unsupportedOperation, sessionID: id, reason: "this record store cannot tag records")
    }
}

/// A record label as stored: `nil` for a missing or empty one.
package func normalizedRecordLabel(_ label: String?) -> String? {
    guard let label, !label.isEmpty else { return nil }
    return label
}

/// Appends to one session's record, in order.
public protocol SessionRecordWriter: Sendable {
    /// Appends messages, in order. May return before they are on disk; a failure must not lose them.
    func append(_ messages: [ConversationMessage]) async throws(SessionStoreError)
    /// Makes everything appended so far durable (called at each turn's end).
    func checkpoint() async throws(SessionStoreError)
    /// Writes everything and releases the record.
    func close() async throws(SessionStoreError)
}

extension FileRecordStore: SessionRecordStore {
    /// The ``FileSessionStore`` in ``transcriptsDirectory``.
    public var transcriptStore: (any SessionStore)? { transcripts }

    public func openRecord(
        _ id: SessionID, startTime: Date, workingDirectory: String, options: [String: JSONValue]
    ) async throws(SessionStoreError) -> any SessionRecordWriter {
        let writer = try await Self.typed {
            try await self.openSession(id, workingDirectory: workingDirectory, options: options, startTime: startTime)
        }
        return FileRecordWriter(writer: writer)
    }

    public func loadRecord(_ id: SessionID) async throws(SessionStoreError) -> SessionData {
        try await Self.typed { try await self.load(id) }
    }

    public func listRecords() async throws(SessionStoreError) -> [RecordListEntry] {
        try await Self.typed { try await self.list() }
    }

    public func deleteRecord(_ id: SessionID) async throws(SessionStoreError) {
        let existed = try await Self.typed { try await self.delete(id) }
        if !existed { throw SessionStoreError(.sessionNotFound, sessionID: id) }
    }

    /// Records the new title as a metadata line of the session's journal (`"meta":{"title":…}`),
    /// appended under the session's lock like any record, `fsync`ed, then folded into the
    /// snapshot's `title` field; see `docs/session-file-format.md`.
    public func setRecordTitle(_ id: SessionID, title: String?) async throws(SessionStoreError) {
        try await updateLabels(id, title: .some(normalizedRecordLabel(title)), tag: nil)
    }

    /// Records the new tag as a metadata line of the session's journal (`"meta":{"tag":…}`),
    /// like ``setRecordTitle(_:title:)``.
    public func setRecordTag(_ id: SessionID, tag: String?) async throws(SessionStoreError) {
        try await updateLabels(id, title: nil, tag: .some(normalizedRecordLabel(tag)))
    }

    private func updateLabels(_ id: SessionID, title: String??, tag: String??) async throws(SessionStoreError) {
        guard try await Self.typed({ try await self.contains(id) }) else {
            throw SessionStoreError(.sessionNotFound, sessionID: id)
        }
        let writer = makeWriter(for: id)
        writer.updateLabels(title: title, tag: tag)
        try await Self.typed { try await writer.close() }
    }

    static func typed<T>(_ body: () async throws -> T) async throws(SessionStoreError) -> T {
        do {
            return try await body()
        } catch let error as SessionStoreError {
            throw error
        } catch {
            throw SessionStoreError(.ioFailure, reason: "unexpected error")
        }
    }
}

/// Adapts a ``SessionWriter`` to ``SessionRecordWriter``.
struct FileRecordWriter: SessionRecordWriter {
    let writer: SessionWriter

    func append(_ messages: [ConversationMessage]) async throws(SessionStoreError) {
        // Queued in order and written in batches; failures are retried by the writer and reported as events.
        for message in messages { writer.enqueue(message) }
    }

    func checkpoint() async throws(SessionStoreError) {
        try await FileRecordStore.typed { try await writer.checkpoint() }
    }

    func close() async throws(SessionStoreError) {
        try await FileRecordStore.typed { try await writer.close() }
    }
}
