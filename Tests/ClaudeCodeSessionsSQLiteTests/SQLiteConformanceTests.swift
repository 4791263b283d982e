import ClaudeCodeSessions
import ClaudeCodeSessionsSQLite
import ClaudeCodeTesting
import GRDB
import Synchronization
import Testing

/// The shared conformance suite (`ClaudeCodeTesting`) against the SQLite backend, one test case per check.
@Suite("SQLite session store: SessionStoreConformance", .timeLimit(.minutes(2)))
struct SQLiteConformanceTests {
    @Test("a WAL database file per store", arguments: SessionStoreConformance.checks)
    func onFiles(_ check: SessionStoreConformance.Check) async throws {
        try await TemporaryFolder.with { folder in
            let counter = Mutex(0)
            let outcome = try await check.run(options: .init(requireExactBytes: true)) {
                let n = counter.withLock { value in
                    value += 1
                    return value
                }
                return try SQLiteSessionStore(path: folder.file("store-\(n).sqlite"))
            }
            #expect(outcome == .passed)
        }
    }

    @Test("an in-memory queue per store", arguments: SessionStoreConformance.checks)
    func inMemory(_ check: SessionStoreConformance.Check) async throws {
        let outcome = try await check.run(options: .init(requireExactBytes: true)) {
            try SQLiteSessionStore(database: DatabaseQueue())
        }
        #expect(outcome == .passed)
    }
}
