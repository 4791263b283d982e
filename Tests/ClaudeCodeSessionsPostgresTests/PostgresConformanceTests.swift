import ClaudeCodeSessions
import ClaudeCodeSessionsPostgres
import ClaudeCodeTesting
import PostgresNIO
import Synchronization
import Testing

/// The shared conformance suite (`ClaudeCodeTesting`) against the PostgreSQL backend, one test
/// case per check; every store the suite asks for gets a migrated schema of its own, all dropped
/// afterwards.
@Suite(
    "PostgreSQL session store: SessionStoreConformance",
    .enabled(if: PostgresTestServer.enabled, PostgresTestServer.skipReason), .timeLimit(.minutes(2)))
struct PostgresConformanceTests {
    @Test("a schema per store", arguments: SessionStoreConformance.checks)
    func conformance(_ check: SessionStoreConformance.Check) async throws {
        try await PostgresTestServer.withClient { client in
            let schemas = Mutex<[String]>([])
            do {
                let outcome = try await check.run(options: .init(requireExactBytes: true)) {
                    let schema = PostgresTestServer.newSchema()
                    schemas.withLock { $0.append(schema) }
                    let store = try PostgresSessionStore(client: client, configuration: .init(schema: schema))
                    try await store.migrate()
                    return store
                }
                #expect(outcome == .passed)
            } catch {
                for schema in schemas.withLock({ $0 }) { try? await PostgresTestServer.dropSchema(schema, client) }
                throw error
            }
            for schema in schemas.withLock({ $0 }) { try await PostgresTestServer.dropSchema(schema, client) }
        }
    }
}
