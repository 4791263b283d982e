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
            let stores = Mutex<[(schema: String, store: PostgresSessionStore)]>([])
            // A store's background search indexing may still be writing to its schema (a 10 MB
            // entry takes the server seconds): it ends before the schema is dropped, as in
            // `PostgresTestServer.withStore`, else the drop and the indexing can deadlock.
            func dropSchemas(_ drop: (String) async throws -> Void) async rethrows {
                for (schema, store) in stores.withLock({ $0 }) {
                    await store.searchIndexingFinished()
                    try await drop(schema)
                }
            }
            do {
                let outcome = try await check.run(options: .init(requireExactBytes: true)) {
                    let schema = PostgresTestServer.newSchema()
                    let store = try PostgresSessionStore(client: client, configuration: .init(schema: schema))
                    stores.withLock { $0.append((schema, store)) }
                    try await store.migrate()
                    return store
                }
                #expect(outcome == .passed)
            } catch {
                await dropSchemas { try? await PostgresTestServer.dropSchema($0, client) }
                throw error
            }
            try await dropSchemas { try await PostgresTestServer.dropSchema($0, client) }
        }
    }
}
