import ClaudeCodeSessions
import ClaudeCodeTesting
import Testing

/// The conformance suite against the stores of this package, one test case per check.
@Suite("SessionStore conformance", .timeLimit(.minutes(2)))
struct StoreConformanceTests {
    @Test("InMemorySessionStore", arguments: SessionStoreConformance.checks)
    func inMemory(_ check: SessionStoreConformance.Check) async throws {
        let outcome = try await check.run(options: .init(requireExactBytes: true)) { InMemorySessionStore() }
        #expect(outcome == .passed)
    }

    @Test("FileSessionTranscriptStore", arguments: SessionStoreConformance.checks)
    func file(_ check: SessionStoreConformance.Check) async throws {
        let folder = TemporaryFolder()
        let counter = Counter()
        let outcome = try await check.run(options: .init(requireExactBytes: true)) {
            FileSessionTranscriptStore(directory: folder.sub("store-\(counter.next())"))
        }
        #expect(outcome == .passed)
    }

    /// A second instance over the same folder sees what the first wrote (nothing lives only in a cache).
    @Test("FileSessionTranscriptStore, reopened for every call", arguments: SessionStoreConformance.checks)
    func fileReopened(_ check: SessionStoreConformance.Check) async throws {
        let folder = TemporaryFolder()
        let counter = Counter()
        let outcome = try await check.run(options: .init(requireExactBytes: true)) {
            ReopeningStore(directory: folder.sub("store-\(counter.next())"))
        }
        #expect(outcome == .passed)
    }
}

/// A catalog that makes a new `FileSessionTranscriptStore` for every call.
struct ReopeningStore: SessionCatalog {
    let directory: String
    private var fresh: FileSessionTranscriptStore { FileSessionTranscriptStore(directory: directory) }

    func append(_ entries: [SessionStoreEntry], to key: SessionStoreKey) async throws(SessionStoreError) {
        try await fresh.append(entries, to: key)
    }
    func load(_ key: SessionStoreKey) async throws(SessionStoreError) -> [SessionStoreEntry]? {
        try await fresh.load(key)
    }
    func listSessions(projectKey: String) async throws(SessionStoreError) -> [SessionStoreListing] {
        try await fresh.listSessions(projectKey: projectKey)
    }
    func listSessionSummaries(projectKey: String) async throws(SessionStoreError) -> [SessionStoreSummary] {
        try await fresh.listSessionSummaries(projectKey: projectKey)
    }
    func delete(_ key: SessionStoreKey) async throws(SessionStoreError) { try await fresh.delete(key) }
    func listSubkeys(projectKey: String, sessionID: String) async throws(SessionStoreError) -> [String] {
        try await fresh.listSubkeys(projectKey: projectKey, sessionID: sessionID)
    }
}
