public import ClaudeCode

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Everything stored about one session: the seed design's `SessionData`.
///
/// Field names follow the session file (`session_id`, `start_time`, …); see
/// `docs/session-file-format.md`.
public struct SessionData: Sendable, Hashable, Codable {
    /// The schema version this library writes.
    public static let currentSchemaVersion = 1

    /// The session's id (the CLI's session id).
    public var sessionID: SessionID
    /// When the session was first recorded.
    public var startTime: Date
    /// The time of the latest record (message or metadata update).
    public var lastActivity: Date
    /// Every recorded frame, in order.
    public var conversationHistory: [ConversationMessage]
    /// The CLI's working directory for this session (CLI transcripts are keyed by it).
    public var workingDirectory: String
    /// A serializable subset of the client options (never environment values or secrets).
    public var options: [String: JSONValue]
    /// The schema version of the file this was read from: ``currentSchemaVersion``, or `0`
    /// for a file written by the Python original (`claude-code-session-client`).
    public var schemaVersion: Int
    /// The title given to the session (`claude-sessions rename`), or `nil`. Listings show it
    /// instead of the title the CLI gave the session. Optional in the file: absent in records
    /// written before titles existed.
    public var title: String?
    /// The session's tag (`claude-sessions tag`), or `nil`. Optional in the file.
    public var tag: String?

    /// Creates session data.
    public init(
        sessionID: SessionID,
        startTime: Date = Date(),
        lastActivity: Date? = nil,
        conversationHistory: [ConversationMessage] = [],
        workingDirectory: String = "",
        options: [String: JSONValue] = [:],
        schemaVersion: Int = SessionData.currentSchemaVersion,
        title: String? = nil,
        tag: String? = nil
    ) {
        self.sessionID = sessionID
        self.startTime = StoreTimestamp.normalized(startTime)
        self.lastActivity = StoreTimestamp.normalized(lastActivity ?? startTime)
        self.conversationHistory = conversationHistory
        self.workingDirectory = workingDirectory
        self.options = options
        self.schemaVersion = schemaVersion
        self.title = title
        self.tag = tag
    }

    private enum CodingKeys: String, CodingKey {
        case sessionID = "session_id"
        case startTime = "start_time"
        case lastActivity = "last_activity"
        case conversationHistory = "conversation_history"
        case workingDirectory = "working_directory"
        case options
        case schemaVersion = "schema_version"
        case title, tag
    }

    /// Decodes the session-file field names (`session_id`, `start_time`, …); ISO-8601 dates.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func date(_ key: CodingKeys) throws -> Date {
            let text = try container.decode(String.self, forKey: key)
            guard let value = StoreTimestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: container, debugDescription: "invalid ISO-8601 timestamp")
            }
            return value
        }
        sessionID = try container.decode(SessionID.self, forKey: .sessionID)
        startTime = try date(.startTime)
        lastActivity = try date(.lastActivity)
        conversationHistory = try container.decode([ConversationMessage].self, forKey: .conversationHistory)
        workingDirectory = try container.decodeIfPresent(String.self, forKey: .workingDirectory) ?? ""
        options = try container.decodeIfPresent([String: JSONValue].self, forKey: .options) ?? [:]
        schemaVersion = try container.decodeIfPresent(Int.self, forKey: .schemaVersion) ?? 0
        title = try container.decodeIfPresent(String.self, forKey: .title)
        tag = try container.decodeIfPresent(String.self, forKey: .tag)
    }

    /// Encodes with the session-file field names; messages as in ``ConversationMessage/encode(to:)``.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(schemaVersion, forKey: .schemaVersion)
        try container.encode(sessionID, forKey: .sessionID)
        try container.encode(StoreTimestamp.format(startTime), forKey: .startTime)
        try container.encode(StoreTimestamp.format(lastActivity), forKey: .lastActivity)
        try container.encode(workingDirectory, forKey: .workingDirectory)
        try container.encode(options, forKey: .options)
        try container.encodeIfPresent(title, forKey: .title)
        try container.encodeIfPresent(tag, forKey: .tag)
        try container.encode(conversationHistory, forKey: .conversationHistory)
    }
}

extension SessionData {
    /// The session's turns, tokens and cost, added up correctly across CLI processes (see ``SessionLedger``).
    public var ledger: SessionLedger { SessionLedger(history: conversationHistory) }
}

/// What a load found besides the data: how many records came from where, and what was
/// skipped. Nothing here is an error; a torn last journal line after a crash is normal.
package struct SessionLoadDiagnostics: Sendable, Hashable {
    /// Messages read from the snapshot (`<id>.json`).
    public var snapshotMessageCount: Int = 0
    /// Messages read from the journal (`<id>.journal`) on top of the snapshot.
    public var journalMessageCount: Int = 0
    /// Journal lines that could not be decoded and were ignored (a torn last line after a
    /// crash, or a line damaged in the middle).
    public var skippedJournalLines: Int = 0
    /// Whether the journal ended in an unterminated line (a write cut short by a crash).
    public var tornJournalTail: Bool = false
    /// Journal records already contained in the snapshot (left by a crash in the middle of a
    /// compaction) and therefore skipped.
    public var alreadyFoldedRecords: Int = 0
    /// Places where journal sequence numbers jumped forward (a damaged line in between).
    public var sequenceGaps: Int = 0

    /// Empty diagnostics.
    public init() {}
}

/// A loaded session together with its load diagnostics.
package struct LoadedSession: Sendable, Hashable {
    /// The session.
    public var data: SessionData
    /// What the load found.
    public var diagnostics: SessionLoadDiagnostics
}
