#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Summary metadata of one recorded session, as ``SessionRecordStore/listRecords()`` lists it.
public struct RecordSummary: Sendable, Hashable {
    /// The session's id.
    public var sessionID: SessionID
    /// When the session was first recorded.
    public var startTime: Date
    /// The time of its latest record.
    public var lastActivity: Date
    /// How many messages it holds (snapshot plus journal).
    public var messageCount: Int
    /// The CLI working directory recorded for it.
    public var workingDirectory: String
    /// The schema version of its snapshot (`0` for a file from the Python original).
    public var schemaVersion: Int
    /// The snapshot file's path.
    public var path: String
    /// Journal lines that were skipped while reading it (normally `0`).
    public var skippedJournalLines: Int
    /// The session's own title (``SessionData/title``, set by `claude-sessions rename`), else
    /// the title the CLI gave the session, else its first prompt (cut to 200 characters).
    public var title: String?
    /// The title given to the record (``SessionData/title``), when it has one.
    public var customTitle: String?
    /// The record's tag (``SessionData/tag``), when it has one.
    public var tag: String?
    /// The model of its latest turn (from the CLI's `system/init`).
    public var model: String?
    /// Its turns, tokens and cost, added up correctly across CLI processes.
    public var ledger: SessionLedger

    /// Creates a summary (for ``SessionRecordStore`` implementations; `path` names where the
    /// record lives, or is empty). `fold` gives the title, model and ledger; `customTitle`
    /// (the record's own title) takes the title's place when given.
    public init(
        sessionID: SessionID, startTime: Date, lastActivity: Date, messageCount: Int, workingDirectory: String,
        schemaVersion: Int, path: String, skippedJournalLines: Int = 0, fold: RecordSummaryFold = RecordSummaryFold(),
        customTitle: String? = nil, tag: String? = nil
    ) {
        self.title = customTitle ?? fold.title
        self.customTitle = customTitle
        self.tag = tag
        self.model = fold.model
        self.ledger = fold.ledger
        self.sessionID = sessionID
        self.startTime = startTime
        self.lastActivity = lastActivity
        self.messageCount = messageCount
        self.workingDirectory = workingDirectory
        self.schemaVersion = schemaVersion
        self.path = path
        self.skippedJournalLines = skippedJournalLines
    }
}

/// A file in the store's folder that looks like a session but cannot be read as one.
///
/// Listing shows such files rather than failing or hiding them, and the store never
/// deletes them on its own.
public struct DamagedRecordFile: Sendable, Hashable {
    /// The file's name within the store's folder.
    public var fileName: String
    /// The file's path.
    public var path: String
    /// The session id the name stands for, when the name is a valid id.
    public var sessionID: SessionID?
    /// Why it cannot be read (code ``SessionStoreError/Code/damagedFile``,
    /// ``SessionStoreError/Code/schemaTooNew``, ``SessionStoreError/Code/unsafePath``,
    /// ``SessionStoreError/Code/invalidSessionID``, …).
    public var error: SessionStoreError

    /// Creates an entry for something unreadable (for ``SessionRecordStore`` implementations; a
    /// database names the row's location in `fileName` and `path`, or leaves them empty).
    public init(fileName: String, path: String, sessionID: SessionID? = nil, error: SessionStoreError) {
        self.fileName = fileName
        self.path = path
        self.sessionID = sessionID
        self.error = error
    }
}

/// One entry of a listing: a readable session or a damaged file.
public enum RecordListEntry: Sendable, Hashable {
    /// A session that loads.
    case session(RecordSummary)
    /// A file that looks like a session but cannot be read as one.
    case damaged(DamagedRecordFile)

    /// The summary, for a readable session.
    public var summary: RecordSummary? {
        if case .session(let summary) = self { return summary }
        return nil
    }

    /// The damaged file, for an unreadable one.
    public var damagedFile: DamagedRecordFile? {
        if case .damaged(let file) = self { return file }
        return nil
    }

    /// The session id, when known.
    public var sessionID: SessionID? {
        switch self {
        case .session(let summary): return summary.sessionID
        case .damaged(let file): return file.sessionID
        }
    }
}
