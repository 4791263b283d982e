public import ClaudeCode
public import Foundation

/// Where ``SessionPersistentClient`` keeps its conversation records.
///
/// ``FileSessionStore`` (the seed's JSON files) is the default. Implementations must keep
/// the order of appends per session, never lose an appended record once ``checkpoint(_:)``
/// returned, and be safe to call from several tasks.
public protocol SessionRecordStore: Sendable {
    /// Opens the record of `id`, creating it with this metadata when it does not exist.
    func prepare(
        _ id: SessionID, startTime: Date, workingDirectory: String, options: [String: JSONValue]
    ) async throws(SessionStoreError)
    /// Appends messages, in order, to the record of `id`.
    func append(_ messages: [ConversationMessage], to id: SessionID) async throws(SessionStoreError)
    /// Makes everything appended so far durable (at a turn's end and on close).
    func checkpoint(_ id: SessionID) async throws(SessionStoreError)
    /// The whole record of `id`.
    func load(_ id: SessionID) async throws(SessionStoreError) -> SessionData
    /// Every record, with damaged files reported rather than hidden.
    func list() async throws(SessionStoreError) -> [SessionListEntry]
    /// Removes the record of `id`.
    func delete(_ id: SessionID) async throws(SessionStoreError)
}
