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
}
