import ClaudeCode
import Foundation

/// The session calls of ``ClaudeSessionLibrary`` — list, info, messages, subagents, rename,
/// tag, delete, fork — over a ``SessionStore`` instead of the CLI's `~/.claude`, as the Python
/// SDK's `*_from_store` and `*_via_store` functions do.
///
/// Sessions are found under the project key of a working directory (the CLI's folder name for
/// it, as mirroring and ``importSession(_:into:directory:configDirectory:projectKey:includeSubagents:batchSize:)``
/// use), or under an explicit ``projectKey``. The transcripts loaded from the store go through
/// the same chain builder, metadata rules and fork as the files on disk, so both give the same
/// answers for the same lines.
///
/// ```swift
/// let library = StoreSessionLibrary(store: store)
/// for info in try await library.listSessions(directory: "/work/app", limit: 20) {
///     print(info.summary)
/// }
/// let messages = try await library.messages(sessionID: id, directory: "/work/app")
/// ```
///
/// Listing uses the store's folded summaries (``SessionCatalog/listSessionSummaries(projectKey:)``):
/// one summaries call and one listing call, then a `load` only for the sessions of the page whose
/// summary is missing or older than the listing (at most 16 at a time).
public struct StoreSessionLibrary: Sendable {
    /// The store the sessions are read from and written to.
    public let store: any SessionStore
    /// The project key to use instead of the one derived from a directory.
    public let projectKey: String?

    /// How many sessions are loaded at once to fill a listing page.
    static let loadConcurrency = 16

    /// Creates a library over `store`.
    /// - Parameters:
    ///   - store: The store.
    ///   - projectKey: A fixed project key (a tenant id, say); `nil` derives it from each call's directory.
    public init(store: any SessionStore, projectKey: String? = nil) {
        self.store = store
        self.projectKey = projectKey
    }

    /// The key of a session for a directory (`nil`: the current directory).
    public func key(sessionID: String, directory: String? = nil) -> SessionStoreKey {
        SessionStoreKey(projectKey: projectKey(directory: directory), sessionID: sessionID)
    }

    func projectKey(directory: String?) -> String {
        projectKey ?? ClaudeSessionLibrary.projectFolderName(for: directory ?? FileManager.default.currentDirectoryPath)
    }

    static func projectPath(_ directory: String?) -> String {
        ProjectDirectories.canonicalize(directory ?? FileManager.default.currentDirectoryPath)
    }

    // MARK: - Listing

    /// The sessions of a project, newest first.
    ///
    /// - Parameters:
    ///   - directory: The project's working directory; `nil` uses the current directory.
    ///   - limit: The most sessions to return; `nil`, 0 or less means no limit.
    ///   - offset: How many sessions to skip first.
    /// - Returns: The sessions; sidechain sessions and sessions with nothing to show are left
    ///   out (so a page can be shorter than `limit`).
    /// - Throws: ``SessionStoreError`` with ``SessionStoreError/Code/unsupportedOperation`` when
    ///   the store is not a ``SessionCatalog``, or what the store throws.
    public func listSessions(directory: String? = nil, limit: Int? = nil, offset: Int = 0) async throws
        -> [CLISessionInfo]
    {
        guard let catalog = store as? any SessionCatalog else {
            throw SessionStoreError(.unsupportedOperation, reason: "listing needs a SessionCatalog")
        }
        let projectKey = projectKey(directory: directory)
        let projectPath = Self.projectPath(directory)
        let summaries = try await catalog.listSessionSummaries(projectKey: projectKey)
        let listing = try await catalog.listSessions(projectKey: projectKey)
        let modified = Dictionary(
            listing.map { ($0.sessionID, $0.modifiedMilliseconds) }, uniquingKeysWith: { max($0, $1) })

        struct Slot {
            var sessionID: String
            var modified: Int64
            var info: CLISessionInfo?
        }
        var slots: [Slot] = []
        var fresh: Set<String> = []
        for summary in summaries {
            // A summary the listing no longer has is of a deleted session; an older one is stale.
            guard let listed = modified[summary.sessionID], summary.modifiedMilliseconds >= listed else { continue }
            fresh.insert(summary.sessionID)
            if let info = SessionSummaryFold.sessionInfo(summary, projectPath: projectPath) {
                slots.append(Slot(sessionID: summary.sessionID, modified: summary.modifiedMilliseconds, info: info))
            }
        }
        for listed in listing where !fresh.contains(listed.sessionID) {
            slots.append(Slot(sessionID: listed.sessionID, modified: listed.modifiedMilliseconds, info: nil))
        }
        slots = stableSorted(slots) { $0.modified > $1.modified }
        var pageSlots = page(slots, limit: limit, offset: offset)

        // Fill the page's missing summaries from the transcripts, 16 loads at a time.
        let missing = pageSlots.indices.filter { pageSlots[$0].info == nil }
        var filled: [Int: CLISessionInfo] = [:]
        var next = 0
        while next < missing.count {
            let batch = missing[next..<min(next + Self.loadConcurrency, missing.count)]
            next += batch.count
            try await withThrowingTaskGroup(of: (Int, CLISessionInfo?).self) { group in
                for index in batch {
                    let sessionID = pageSlots[index].sessionID
                    let key = SessionStoreKey(projectKey: projectKey, sessionID: sessionID)
                    group.addTask {
                        // A store error for one session leaves that row out rather than failing the list.
                        guard let entries = try? await self.store.load(key), !entries.isEmpty else {
                            return (index, nil)
                        }
                        return (index, try await Self.liteInfo(entries, sessionID: sessionID, projectPath: projectPath))
                    }
                }
                for try await (index, info) in group { filled[index] = info }
            }
        }
        for (index, info) in filled { pageSlots[index].info = info }
        return pageSlots.compactMap(\.info)
    }

    /// One session's metadata, read from its whole transcript in the store.
    ///
    /// - Parameters:
    ///   - sessionID: The session's UUID.
    ///   - directory: The project's working directory; `nil` uses the current directory.
    /// - Returns: The info, or `nil` when the id is not a UUID, the store does not have the
    ///   session, it is a sidechain, or it has nothing to show. ``CLISessionInfo/lastModified`` is
    ///   the last entry's timestamp and ``CLISessionInfo/fileSize`` the transcript's size as JSON Lines.
    /// - Throws: What the store throws.
    public func sessionInfo(id sessionID: String, directory: String? = nil) async throws -> CLISessionInfo? {
        guard TextRules.isUUID(sessionID) else { return nil }
        guard let entries = try await store.load(key(sessionID: sessionID, directory: directory)), !entries.isEmpty
        else {
            return nil
        }
        return try await Self.liteInfo(entries, sessionID: sessionID, projectPath: Self.projectPath(directory))
    }

    /// The transcript as JSON Lines (what the CLI's file would hold).
    static func jsonLines(_ entries: [SessionStoreEntry]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entries.reduce(0) { $0 + $1.raw.bytes.count + 1 })
        for entry in entries { TranscriptFileEngine.appendLine(entry, to: &bytes) }
        return bytes
    }

    /// The disk listing's metadata rules over the head and tail of the transcript's lines.
    static func liteInfo(_ entries: [SessionStoreEntry], sessionID: String, projectPath: String) async throws
        -> CLISessionInfo?
    {
        try await BlockingIO.run { _ in
            let bytes = jsonLines(entries)
            let window = LiteFile.windowSize
            let head = Array(bytes.prefix(window))
            let tailOffset = max(0, bytes.count - window)
            let modified =
                entries.last.flatMap { try? $0.value()["timestamp"]?.stringValue }
                .flatMap(TextRules.epochMilliseconds(iso:)) ?? Int(Date().timeIntervalSince1970 * 1000)
            let file = LiteFile(
                head: head, tail: tailOffset == 0 ? head : Array(bytes[tailOffset...]), tailOffset: tailOffset,
                tailStartsMidLine: tailOffset > 0 && bytes[tailOffset - 1] != 0x0A, size: bytes.count,
                modifiedMilliseconds: modified)
            let reader = LiteMetadataReader(file: file) {
                // The whole line the tail window starts inside.
                guard tailOffset > 0 else { return nil }
                let start = bytes[..<tailOffset].lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
                let end = bytes[tailOffset...].firstIndex(of: 0x0A) ?? bytes.count
                return Array(bytes[start..<end])
            }
            return reader.sessionInfo(sessionID: sessionID, projectPath: projectPath)
        }
    }

    // MARK: - Messages

    /// A session's conversation, oldest first, rebuilt as ``ClaudeSessionLibrary/messages(sessionID:directory:limit:offset:)``
    /// rebuilds it from a file.
    ///
    /// - Parameters:
    ///   - sessionID: The session's UUID.
    ///   - directory: The project's working directory; `nil` uses the current directory.
    ///   - limit: The most messages to return; `nil`, 0 or less means no limit.
    ///   - offset: How many messages to skip first.
    /// - Returns: The messages; empty when the id is not a UUID or the store does not have the session.
    /// - Throws: What the store throws.
    public func messages(sessionID: String, directory: String? = nil, limit: Int? = nil, offset: Int = 0) async throws
        -> [CLISessionMessage]
    {
        guard TextRules.isUUID(sessionID) else { return [] }
        guard let entries = try await store.load(key(sessionID: sessionID, directory: directory)), !entries.isEmpty
        else {
            return []
        }
        return try await BlockingIO.run { cancellation in
            let parsed = TranscriptParser.parse(Self.jsonLines(entries), cancellation: cancellation)
            let graph = ConversationGraph(entries: parsed.entries, bytes: parsed.bytes)
            return ClaudeSessionLibrary.makeMessages(
                parsed, indices: page(graph.visibleConversation(), limit: limit, offset: offset), parentToolUseID: nil,
                parentAgentID: nil)
        }
    }

    // MARK: - Subagents

    /// The ids of a session's subagents, from its subkeys `subagents/…/agent-<id>`.
    ///
    /// - Parameters:
    ///   - sessionID: The parent session's UUID.
    ///   - directory: The project's working directory; `nil` uses the current directory.
    /// - Returns: The ids, in the store's subkey order, each once.
    /// - Throws: ``SessionStoreError`` with ``SessionStoreError/Code/unsupportedOperation`` when
    ///   the store is not a ``SessionCatalog``, or what the store throws.
    public func subagents(sessionID: String, directory: String? = nil) async throws -> [String] {
        guard TextRules.isUUID(sessionID) else { return [] }
        guard let catalog = store as? any SessionCatalog else {
            throw SessionStoreError(.unsupportedOperation, reason: "listing subagents needs a SessionCatalog")
        }
        let key = key(sessionID: sessionID, directory: directory)
        var seen: Set<String> = []
        var ids: [String] = []
        for subpath in try await catalog.listSubkeys(projectKey: key.projectKey, sessionID: sessionID) {
            guard let id = Self.agentID(subpath), seen.insert(id).inserted else { continue }
            ids.append(id)
        }
        return ids
    }

    /// `subagents/…/agent-<id>` → `<id>`.
    static func agentID(_ subpath: String) -> String? {
        guard subpath.hasPrefix("subagents/"), let last = subpath.split(separator: "/").last, last.hasPrefix("agent-")
        else {
            return nil
        }
        return String(last.dropFirst("agent-".count))
    }

    /// One subagent's conversation, oldest first; every message carries the `Agent` tool call
    /// that started it (and its parent agent) from the subagent's `agent_metadata` entry.
    ///
    /// - Parameters:
    ///   - sessionID: The parent session's UUID.
    ///   - agentID: The subagent's id, as ``subagents(sessionID:directory:)`` returns it.
    ///   - directory: The project's working directory; `nil` uses the current directory.
    ///   - limit: The most messages to return; `nil`, 0 or less means no limit.
    ///   - offset: How many messages to skip first.
    /// - Returns: The messages; empty when nothing is found.
    /// - Throws: What the store throws.
    public func subagentMessages(
        sessionID: String, agentID: String, directory: String? = nil, limit: Int? = nil, offset: Int = 0
    ) async throws -> [CLISessionMessage] {
        guard TextRules.isUUID(sessionID), !agentID.isEmpty else { return [] }
        let main = key(sessionID: sessionID, directory: directory)
        var subpath = "subagents/agent-\(agentID)"
        if let catalog = store as? any SessionCatalog {
            let subkeys = try await catalog.listSubkeys(projectKey: main.projectKey, sessionID: sessionID)
            guard let match = subkeys.first(where: { Self.agentID($0) == agentID }) else { return [] }
            subpath = match
        }
        let subkey = SessionStoreKey(projectKey: main.projectKey, sessionID: sessionID, subpath: subpath)
        guard let entries = try await store.load(subkey), !entries.isEmpty else { return [] }
        // The store's copy of the .meta.json sidecar (last one wins) names the parents; it is not a transcript line.
        let metadata = entries.last { $0.type == "agent_metadata" }.flatMap { try? $0.value() }
        let transcript = entries.filter { $0.type != "agent_metadata" }
        guard !transcript.isEmpty else { return [] }
        let parentToolUseID = metadata?["toolUseId"]?.stringValue
        let parentAgentID = metadata?["parentAgentId"]?.stringValue
        return try await BlockingIO.run { cancellation in
            let parsed = TranscriptParser.parse(Self.jsonLines(transcript), cancellation: cancellation)
            let graph = ConversationGraph(entries: parsed.entries, bytes: parsed.bytes)
            return ClaudeSessionLibrary.makeMessages(
                parsed, indices: page(graph.subagentConversation(), limit: limit, offset: offset),
                parentToolUseID: parentToolUseID, parentAgentID: parentAgentID)
        }
    }

    // MARK: - Mutations

    /// Renames a session by appending a `custom-title` entry (with a `uuid` and a `timestamp`).
    ///
    /// - Throws: ``CLITranscriptError`` for an invalid id, an empty title, or a session the store
    ///   does not have (`sessionNotFound`: nothing is written, so no empty session appears);
    ///   what the store throws.
    public func rename(sessionID: String, title: String, directory: String? = nil) async throws {
        guard TextRules.isUUID(sessionID) else { throw CLITranscriptError(.invalidSessionID, subject: sessionID) }
        let stripped = TextRules.pythonStrip(title)
        guard !stripped.isEmpty else { throw CLITranscriptError(.emptyTitle, subject: sessionID) }
        try await appendMetadata(
            [("type", "custom-title"), ("customTitle", stripped)], sessionID: sessionID, directory: directory)
    }

    /// Tags a session by appending a `tag` entry; `nil` clears the tag. The tag is sanitized as
    /// ``ClaudeSessionLibrary/tag(sessionID:tag:directory:)`` does.
    ///
    /// - Throws: ``CLITranscriptError`` for an invalid id, a tag empty after sanitizing, or a
    ///   session the store does not have (`sessionNotFound`); what the store throws.
    public func tag(sessionID: String, tag: String?, directory: String? = nil) async throws {
        guard TextRules.isUUID(sessionID) else { throw CLITranscriptError(.invalidSessionID, subject: sessionID) }
        var value = ""
        if let tag {
            value = TextRules.pythonStrip(TextRules.sanitizeTag(tag))
            guard !value.isEmpty else { throw CLITranscriptError(.emptyTag, subject: sessionID) }
        }
        try await appendMetadata([("type", "tag"), ("tag", value)], sessionID: sessionID, directory: directory)
    }

    private func appendMetadata(_ members: [(String, String)], sessionID: String, directory: String?) async throws {
        let key = key(sessionID: sessionID, directory: directory)
        // Appending creates the key: check first, so that an unknown id is an error (as on disk)
        // rather than a new session holding one metadata line. (A delete racing this call can
        // still lose to the append, as a file deleted while the CLI appends to it.)
        guard try await holdsSession(key) else { throw CLITranscriptError(.sessionNotFound, subject: sessionID) }
        var line = ClaudeSessionLibrary.orderedObjectLine(
            members + [("sessionId", sessionID), ("uuid", TextRules.newUUID()), ("timestamp", TextRules.isoNow())])
        line.removeLast()  // the newline
        try await store.append([try SessionStoreEntry(raw: RawJSON(bytes: line))], to: key)
    }

    /// Whether the store has the session's main transcript, with at least one entry: from the
    /// catalog's listing (key rows, no transcript) when the store is a ``SessionCatalog``, else
    /// by loading it.
    private func holdsSession(_ key: SessionStoreKey) async throws(SessionStoreError) -> Bool {
        if let catalog = store as? any SessionCatalog {
            return try await catalog.listSessions(projectKey: key.projectKey).contains {
                $0.sessionID == key.sessionID
            }
        }
        return try await store.load(key)?.isEmpty == false
    }

    /// Deletes a session and its subagent transcripts. A store that is not a ``SessionCatalog``
    /// cannot delete: the call does nothing (as for the Python SDK's append-only stores).
    ///
    /// - Throws: ``CLITranscriptError`` for an invalid id or a session the store does not have
    ///   (`sessionNotFound`, as ``ClaudeSessionLibrary/delete(sessionID:directory:)``); what the
    ///   store throws.
    public func delete(sessionID: String, directory: String? = nil) async throws {
        guard TextRules.isUUID(sessionID) else { throw CLITranscriptError(.invalidSessionID, subject: sessionID) }
        let key = key(sessionID: sessionID, directory: directory)
        guard try await holdsSession(key) else { throw CLITranscriptError(.sessionNotFound, subject: sessionID) }
        guard let catalog = store as? any SessionCatalog else { return }
        try await catalog.delete(key)
    }

    /// Forks a session into a new one in the same project, as
    /// ``ClaudeSessionLibrary/fork(sessionID:directory:upToMessageID:title:)`` does on disk: the
    /// conversation up to a message, fresh ids, remapped parents, `forkedFrom`, and a
    /// `custom-title` entry. Subagent transcripts are not copied.
    ///
    /// - Parameters:
    ///   - sessionID: The source session's UUID.
    ///   - directory: The project's working directory; `nil` uses the current directory.
    ///   - upToMessageID: The uuid of the last message to copy, or `nil` for all.
    ///   - title: The fork's title, or `nil` for the source's title plus " (fork)".
    /// - Returns: The new session's key.
    /// - Throws: ``CLITranscriptError`` (invalid ids, session or message not found, nothing to
    ///   fork); what the store throws.
    public func fork(sessionID: String, directory: String? = nil, upToMessageID: String? = nil, title: String? = nil)
        async throws -> SessionStoreKey
    {
        guard TextRules.isUUID(sessionID) else { throw CLITranscriptError(.invalidSessionID, subject: sessionID) }
        let cut = nonEmpty(upToMessageID)
        if let cut, !TextRules.isUUID(cut) { throw CLITranscriptError(.invalidMessageID, subject: cut) }
        let source = key(sessionID: sessionID, directory: directory)
        guard let entries = try await store.load(source), !entries.isEmpty else {
            throw CLITranscriptError(.sessionNotFound, subject: sessionID)
        }
        let plan = try await BlockingIO.run { _ in
            try SessionFork.makePlan(
                source: Self.jsonLines(entries), sourceSessionID: sessionID, upToMessageID: cut, title: title)
        }
        var forked: [SessionStoreEntry] = []
        var start = 0
        for (index, byte) in plan.lines.enumerated() where byte == 0x0A {
            if index > start {
                forked.append(try SessionStoreEntry(raw: RawJSON(bytes: Array(plan.lines[start..<index]))))
            }
            start = index + 1
        }
        let destination = SessionStoreKey(projectKey: source.projectKey, sessionID: plan.sessionID)
        try await store.append(forked, to: destination)
        return destination
    }
}

extension SessionSummaryFold {
    /// A listing row from a folded summary, as the Python SDK's `summary_entry_to_sdk_info`:
    /// `nil` for a sidechain session or one with nothing to show; ``CLISessionInfo/fileSize`` is
    /// `nil` (a store has no file).
    public static func sessionInfo(_ summary: SessionStoreSummary, projectPath: String?) -> CLISessionInfo? {
        let data = summary.data
        if data["is_sidechain"]?.boolValue == true { return nil }
        func text(_ key: String) -> String? { nonEmpty(data[key]?.stringValue) }
        let firstPrompt =
            data["first_prompt_locked"]?.boolValue == true ? text("first_prompt") : text("command_fallback")
        let customTitle = text("custom_title") ?? text("ai_title")
        guard let shown = customTitle ?? text("last_prompt") ?? text("summary_hint") ?? firstPrompt else { return nil }
        return CLISessionInfo(
            sessionID: summary.sessionID, summary: shown, lastModified: Int(summary.modifiedMilliseconds),
            fileSize: nil,
            customTitle: customTitle, firstPrompt: firstPrompt, gitBranch: text("git_branch"),
            cwd: text("cwd") ?? nonEmpty(projectPath), tag: text("tag"), createdAt: data["created_at"]?.intValue)
    }
}
