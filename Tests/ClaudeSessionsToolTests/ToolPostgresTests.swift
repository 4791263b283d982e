import ClaudeCode
import ClaudeCodeSessions
import Foundation
import Testing

/// The server `scripts/test/with-postgres.sh` starts, as a `postgres://` URL; `nil` without one.
@Suite("claude-sessions with a PostgreSQL store")
struct ToolPostgresTests {
    @Test func aServerThatIsDownIsOneLineAndExitCode4() async throws {
        let run = try await runTool(["list", "--store", "postgres://someone:secret-word@127.0.0.1:1/sessions"])
        #expect(run.status == 4, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("claude-sessions: error: cannot reach postgres://someone@127.0.0.1:1/sessions"))
        #expect(run.stderr.split(separator: "\n").count == 1)
        #expect(!run.stderr.contains("secret-word"))
    }

    @Test(.enabled(if: postgresToolTestsEnabled, "needs scripts/test/with-postgres.sh"))
    func importListShowExportAndSearch() async throws {
        let url = try #require(postgresTestURL())
        let folder = try TemporaryFolder("pg")
        defer { folder.cleanup() }
        let word = "walrus\(UInt32.random(in: 0...UInt32.max))"
        let (transcript, id) = try await importOneSession(
            prompt: "Tell me about the \(word) please", reply: "It is a large marine mammal.", folder: folder, into: url
        )

        let listed = try await runTool(["list", "--store", url, "--json"])
        #expect(listed.status == 0, "\(listed.stderr)")
        let rows = try #require(try listed.json() as? [[String: Any]])
        #expect(rows.contains { $0["id"] as? String == id })
        let shown = try await runTool(["show", String(id.prefix(8)), "--store", url])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.output.contains("Tell me about the \(word) please"))
        let exported = try await runTool(["export", id, "--format", "jsonl", "--store", url])
        #expect(exported.status == 0, "\(exported.stderr)")
        #expect(exported.stdout == (try Data(contentsOf: URL(fileURLWithPath: transcript))))
        let found = try await runTool(["search", word, "--json", "--store", url])
        #expect(found.status == 0, "\(found.stderr)")
        let hits = try #require(try found.json() as? [[String: Any]])
        #expect(hits.compactMap { $0["session_id"] as? String } == [id])
    }
}
