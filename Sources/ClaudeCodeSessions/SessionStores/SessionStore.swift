public import ClaudeCode

/// Identifies one transcript in a ``SessionStore``: a project, a session, and optionally a
/// sub-transcript such as `subagents/agent-<id>`.
public struct SessionStoreKey: Hashable, Sendable, CustomStringConvertible {
    /// Usually the sanitized working directory (as the CLI names its project folders); can be a tenant id.
    public var projectKey: String
    /// The CLI session id.
    public var sessionID: String
    /// A sub-transcript, such as `subagents/agent-<id>`; `nil` for the main transcript. Never empty.
    public var subpath: String?

    public init(projectKey: String, sessionID: String, subpath: String? = nil) {
        self.projectKey = projectKey
        self.sessionID = sessionID
        self.subpath = subpath
    }

    public var description: String {
        subpath.map { "\(projectKey)/\(sessionID)/\($0)" } ?? "\(projectKey)/\(sessionID)"
    }
}

/// One transcript line as the CLI wrote it: a JSON object with at least `type`, kept byte for byte.
///
/// Two entries are equal when their bytes are.
public struct SessionStoreEntry: Hashable, Sendable {
    /// The exact bytes of the line (without its newline).
    public let raw: RawJSON
    /// The entry's `type`.
    public let type: String
    /// The entry's `uuid`, the idempotency key of appends, when it has one.
    public let uuid: String?
    /// Where the members the summary fold reads are, when the entry was scanned for them already.
    let summaryFields: SessionSummaryFold.FieldsBox?

    /// Wraps one transcript line; throws when it is not a JSON object.
    public init(raw: RawJSON) throws(JSONParseError) {
        let scanner = JSONObjectScanner(raw.bytes)
        self.type = try scanner.string(forKey: "type") ?? ""
        self.uuid = try scanner.string(forKey: "uuid")
        self.raw = raw
        self.summaryFields = nil
    }

    /// An entry scanned already (by the transcript mirror's single pass over a frame).
    init(scanned raw: RawJSON, type: String, uuid: String?, summaryFields: SessionSummaryFold.FieldsBox?) {
        self.raw = raw
        self.type = type
        self.uuid = uuid
        self.summaryFields = summaryFields
    }

    public static func == (lhs: SessionStoreEntry, rhs: SessionStoreEntry) -> Bool { lhs.raw == rhs.raw }
    public func hash(into hasher: inout Hasher) { hasher.combine(raw) }

    /// The entry as a JSON value.
    public func value() throws(JSONParseError) -> JSONValue { try raw.value() }
}

/// A session as listed by a ``SessionCatalog``.
public struct SessionStoreListing: Hashable, Sendable {
    public var sessionID: String
    /// When the store last wrote the session, in milliseconds since 1970 (the store's own clock).
    public var modifiedMilliseconds: Int64

    public init(sessionID: String, modifiedMilliseconds: Int64) {
        self.sessionID = sessionID
        self.modifiedMilliseconds = modifiedMilliseconds
    }
}

/// The incrementally folded summary of a session (see the Python SDK's `fold_session_summary`).
public struct SessionStoreSummary: Hashable, Sendable {
    public var sessionID: String
    /// Stamped by the store on the same clock as ``SessionStoreListing/modifiedMilliseconds``.
    public var modifiedMilliseconds: Int64
    /// Opaque folded fields (`created_at`, `cwd`, `first_prompt`, `custom_title`, `tag`, …).
    public var data: JSONValue

    public init(sessionID: String, modifiedMilliseconds: Int64, data: JSONValue) {
        self.sessionID = sessionID
        self.modifiedMilliseconds = modifiedMilliseconds
        self.data = data
    }
}

/// Where the CLI's transcripts are mirrored, so sessions outlive one machine's `~/.claude`.
///
/// Required: ``append(_:to:)`` and ``load(_:)``. Stores that can also list and delete adopt
/// ``SessionCatalog``. Contracts (checked by `SessionStoreConformance` in `ClaudeCodeTesting`):
/// order of appends is kept per key; an entry whose `uuid` was already stored under the key is
/// not stored again; `load` of a never-written key is `nil`; main and sub-transcripts and
/// projects are independent.
public protocol SessionStore: Sendable {
    /// Appends entries, in order, skipping any whose `uuid` the key already holds.
    func append(_ entries: [SessionStoreEntry], to key: SessionStoreKey) async throws(SessionStoreError)
    /// Every entry of `key`, in order; `nil` if it was never written.
    func load(_ key: SessionStoreKey) async throws(SessionStoreError) -> [SessionStoreEntry]?
}

/// A ``SessionStore`` that can list, summarise and delete.
public protocol SessionCatalog: SessionStore {
    /// The project's sessions (main transcripts only), in any order.
    func listSessions(projectKey: String) async throws(SessionStoreError) -> [SessionStoreListing]
    /// The project's session summaries, folded as entries were appended; never stale.
    func listSessionSummaries(projectKey: String) async throws(SessionStoreError) -> [SessionStoreSummary]
    /// Deletes a key; deleting a main key also deletes its sub-transcripts and summary.
    func delete(_ key: SessionStoreKey) async throws(SessionStoreError)
    /// The sub-transcript paths of a session (not the main one).
    func listSubkeys(projectKey: String, sessionID: String) async throws(SessionStoreError) -> [String]
}
