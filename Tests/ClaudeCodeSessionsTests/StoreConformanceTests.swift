import ClaudeCode
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

    @Test("FileSessionStore", arguments: SessionStoreConformance.checks)
    func file(_ check: SessionStoreConformance.Check) async throws {
        let folder = TemporaryFolder()
        let counter = Counter()
        let outcome = try await check.run(options: .init(requireExactBytes: true)) {
            FileSessionStore(directory: folder.sub("store-\(counter.next())"))
        }
        #expect(outcome == .passed)
    }

    /// A second instance over the same folder sees what the first wrote (nothing lives only in a cache).
    @Test("FileSessionStore, reopened for every call", arguments: SessionStoreConformance.checks)
    func fileReopened(_ check: SessionStoreConformance.Check) async throws {
        let folder = TemporaryFolder()
        let counter = Counter()
        let outcome = try await check.run(options: .init(requireExactBytes: true)) {
            ReopeningStore(directory: folder.sub("store-\(counter.next())"))
        }
        #expect(outcome == .passed)
    }
}

/// A catalog that makes a new `FileSessionStore` for every call.
struct ReopeningStore: SessionCatalog {
    let directory: String
    private var fresh: FileSessionStore { FileSessionStore(directory: directory) }

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

/// Stores keep their seen uuids packed (canonical lowercase UUIDs as 128 bits, anything else as
/// text); deduplication must still compare the exact text.
@Suite("uuid deduplication by exact text")
struct UUIDDeduplicationTests {
    static let lower = "9899897f-3c5e-4b7a-9d2e-0f1e2d3c4b5a"
    static let uuids = [lower, lower.uppercased(), "u1", "u1 ", "9899897f3c5e4b7a9d2e0f1e2d3c4b5a", ""]

    static func entries(_ uuids: [String]) -> [SessionStoreEntry] {
        uuids.map { try! SessionStoreEntry(raw: RawJSON(#"{"type":"user","uuid":"\#($0)"}"#)) }
    }

    func check(_ store: any SessionStore) async throws {
        let key = SessionStoreKey(projectKey: "-p", sessionID: Self.lower)
        // One batch with a repeat inside it, then the same ids again plus one new one.
        try await store.append(Self.entries(Self.uuids + [Self.lower]), to: key)
        try await store.append(Self.entries(Self.uuids.reversed() + ["new"]), to: key)
        #expect(try await store.load(key)?.compactMap(\.uuid) == Self.uuids + ["new"])
    }

    @Test func inMemory() async throws { try await check(InMemorySessionStore()) }

    @Test func file() async throws {
        let folder = TemporaryFolder()
        try await check(FileSessionStore(directory: folder.sub("store")))
    }
}
