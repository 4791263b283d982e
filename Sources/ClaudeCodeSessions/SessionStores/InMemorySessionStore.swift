import Foundation

/// A ``SessionCatalog`` in memory, for tests and development: nothing survives the process.
///
/// It keeps every contract of the conformance suite (`SessionStoreConformance` in
/// `ClaudeCodeTesting`): appends keep their order and skip a `uuid` the key already holds,
/// write times are strictly increasing milliseconds, and the summary of a session is folded on
/// each append to its main transcript, so ``listSessionSummaries(projectKey:)`` never re-reads.
///
/// ```swift
/// let store = InMemorySessionStore()
/// let client = ClaudeSDKClient(options: options, sessionStore: store)
/// ```
public actor InMemorySessionStore: SessionCatalog {
    private struct Transcript {
        var entries: [SessionStoreEntry] = []
        var uuids: Set<UUIDKey> = []
        var modified: Int64 = 0
    }

    private var transcripts: [SessionStoreKey: Transcript] = [:]
    /// Subpaths per main key, so listing and cascading deletes need no scan.
    private var subkeys: [SessionStoreKey: Set<String>] = [:]
    private var summaries: [SessionStoreKey: SessionStoreSummary] = [:]
    private var lastModified: Int64 = 0

    /// Creates an empty store.
    public init() {}

    // MARK: SessionStore

    public func append(_ entries: [SessionStoreEntry], to key: SessionStoreKey) throws(SessionStoreError) {
        try key.validate()
        guard !entries.isEmpty else { return }
        // Taken out of the dictionary so the arrays are mutated in place, not copied.
        var transcript = transcripts.removeValue(forKey: key) ?? Transcript()
        var added: [SessionStoreEntry] = []
        added.reserveCapacity(entries.count)
        for entry in entries {
            if let uuid = entry.uuid {
                guard transcript.uuids.insert(UUIDKey(uuid)).inserted else { continue }
            }
            added.append(entry)
        }
        // A batch made only of entries already stored (a retried append) changes nothing.
        guard !added.isEmpty else {
            if !transcript.entries.isEmpty { transcripts[key] = transcript }
            return
        }
        let now = nextModified()
        transcript.entries.append(contentsOf: added)
        transcript.modified = now
        transcripts[key] = transcript
        if let subpath = key.subpath {
            subkeys[key.mainKey, default: []].insert(subpath)
        } else {
            var summary = SessionSummaryFold.fold(summaries.removeValue(forKey: key), key: key, entries: added)
            summary.modifiedMilliseconds = now
            summaries[key] = summary
        }
    }

    public func load(_ key: SessionStoreKey) throws(SessionStoreError) -> [SessionStoreEntry]? {
        try key.validate()
        return transcripts[key]?.entries
    }

    // MARK: SessionCatalog

    public func listSessions(projectKey: String) -> [SessionStoreListing] {
        transcripts.compactMap { key, transcript in
            key.projectKey == projectKey && key.subpath == nil
                ? SessionStoreListing(sessionID: key.sessionID, modifiedMilliseconds: transcript.modified) : nil
        }
    }

    public func listSessionSummaries(projectKey: String) -> [SessionStoreSummary] {
        summaries.compactMap { key, summary in key.projectKey == projectKey ? summary : nil }
    }

    public func delete(_ key: SessionStoreKey) throws(SessionStoreError) {
        try key.validate()
        transcripts[key] = nil
        if let subpath = key.subpath {
            subkeys[key.mainKey]?.remove(subpath)
            if subkeys[key.mainKey]?.isEmpty == true { subkeys[key.mainKey] = nil }
        } else {
            summaries[key] = nil
            for subpath in subkeys.removeValue(forKey: key) ?? [] {
                transcripts[SessionStoreKey(projectKey: key.projectKey, sessionID: key.sessionID, subpath: subpath)] =
                    nil
            }
        }
    }

    public func listSubkeys(projectKey: String, sessionID: String) -> [String] {
        (subkeys[SessionStoreKey(projectKey: projectKey, sessionID: sessionID)] ?? []).sorted()
    }

    // MARK: Test helpers

    /// How many main transcripts the store holds, across projects.
    public var sessionCount: Int { transcripts.keys.count(where: { $0.subpath == nil }) }

    /// Every entry of `key`, or an empty array.
    public func entries(for key: SessionStoreKey) -> [SessionStoreEntry] { transcripts[key]?.entries ?? [] }

    /// Removes everything.
    public func removeAll() {
        transcripts = [:]
        subkeys = [:]
        summaries = [:]
    }

    /// Strictly increasing write times in epoch milliseconds.
    private func nextModified() -> Int64 {
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        lastModified = max(now, lastModified + 1)
        return lastModified
    }
}
