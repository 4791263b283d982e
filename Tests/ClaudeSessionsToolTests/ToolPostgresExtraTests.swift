import ClaudeCode
import ClaudeCodeSessions
import Foundation
import Testing

@Suite("claude-sessions: PostgreSQL TLS modes and full-text search")
struct ToolPostgresExtraTests {
    @Test func everySSLModeIsReadFromTheURL() async throws {
        let root = NSTemporaryDirectory() + "cs-root-\(UUID().uuidString.prefix(8)).crt"
        FileManager.default.createFile(atPath: root, contents: Data())
        defer { try? FileManager.default.removeItem(atPath: root) }
        // Nothing listens on port 1: each mode is read, then the server is unreachable (exit 4),
        // and the message names the mode read.
        for mode in ["disable", "require", "verify-ca", "verify-full"] {
            let run = try await runTool([
                "list", "--store", "postgres://someone:pw@127.0.0.1:1/db?sslmode=\(mode)&sslrootcert=\(root)",
            ])
            #expect(run.status == 4, "\(mode): \(run.stderr)")
            #expect(run.stderr.contains("postgres://someone@127.0.0.1:1/db?sslmode=\(mode)"), "\(run.stderr)")
        }
        for url in ["postgres://someone@127.0.0.1:1/db?sslmode=prefer", "postgres://someone@127.0.0.1:1/db"] {
            let run = try await runTool(["list", "--store", url])
            #expect(run.status == 4, "\(run.stderr)")
            #expect(run.stderr.contains("postgres://someone@127.0.0.1:1/db;") || run.stderr.contains("/db:"))
        }
        let bad = try await runTool([
            "list", "--store", "postgres://someone:pw@127.0.0.1:1/db?sslmode=verify-everything",
        ])
        #expect(bad.status == 2, "\(bad.stderr)")
        #expect(
            bad.stderr
                == "claude-sessions: error: sslmode 'verify-everything' in the store URL is not one of disable, prefer, require, verify-ca, verify-full\n"
        )
        let noRoot = try await runTool(
            [
                "list", "--store",
                "postgres://someone:pw@127.0.0.1:1/db?sslmode=verify-full&sslrootcert=/nonexistent.crt",
            ])
        #expect(noRoot.status == 2, "\(noRoot.stderr)")
        #expect(noRoot.stderr.contains("/nonexistent.crt"))
        #expect(!noRoot.stderr.contains("pw"))
    }

    @Test(.enabled(if: postgresToolTestsEnabled, "needs scripts/test/with-postgres.sh"))
    func disableAndPreferConnectToTheTestServerAndRequireIsRefused() async throws {
        // A session imported first, so the store's tables exist.
        let folder = try TemporaryFolder("pg-tls")
        defer { folder.cleanup() }
        var builder = CLITranscriptBuilder(configDirectory: folder.path + "/claude", cwd: folder.path + "/project")
        builder.user(.string("Hello over TLS, maybe"), seconds: 0)
        try builder.write()
        let imported = try await runTool([
            "import", builder.sessionID, "--into", try #require(postgresTestURL(query: "?sslmode=disable")),
            "--config-dir", folder.path + "/claude",
        ])
        #expect(imported.status == 0, "\(imported.stderr)")
        for query in ["?sslmode=disable", "?sslmode=prefer", ""] {
            let run = try await runTool(["list", "--store", try #require(postgresTestURL(query: query))])
            #expect(run.status == 0, "\(query): \(run.stderr)")
        }
        // The test server has no TLS: require cannot connect.
        let required = try await runTool(["list", "--store", try #require(postgresTestURL(query: "?sslmode=require"))])
        #expect(required.status == 4, "\(required.stderr)")
    }

    @Test(.enabled(if: postgresToolTestsEnabled, "needs scripts/test/with-postgres.sh"))
    func searchUsesTheFullTextIndexOfThePostgreSQLStore() async throws {
        let url = try #require(postgresTestURL())
        let folder = try TemporaryFolder("pg-search")
        defer { folder.cleanup() }
        let word = "narwhal\(UInt32.random(in: 0...UInt32.max))"
        let (_, id) = try await importOneSession(
            prompt: "Plan the \(word) migrations please", reply: "Start with the schema.", folder: folder, into: url)

        // Stemming: "migrating" finds "migrations" (the substring scan would not).
        let found = try await runTool(["search", word, "migrating", "--json", "--store", url])
        #expect(found.status == 0, "\(found.stderr)")
        let hits = try #require(try found.json() as? [[String: Any]])
        #expect(hits.compactMap { $0["session_id"] as? String } == [id])
        let snippets = try #require(hits.first?["snippets"] as? [[String: Any]])
        let parts = try #require(snippets.first?["parts"] as? [[String: Any]])
        #expect(parts.contains { $0["match"] as? Bool == true && ($0["text"] as? String) == word })
        #expect(hits.first?["title"] as? String == "Plan the \(word) migrations please")

        // A substring inside a word is not a word: nothing found, exit 1.
        let partial = try await runTool(["search", String(word.prefix(6)), "--store", url])
        #expect(partial.status == 1, "\(partial.stderr)")
        let text = try await runTool(["search", word, "--store", url])
        #expect(text.status == 0 && text.output.contains(String(id.prefix(8))), "\(text.stderr)")
        // --project filters by the project's key.
        let inProject = try await runTool(["search", word, "--project", folder.path + "/project", "--store", url])
        #expect(inProject.status == 0, "\(inProject.stderr)")
        let elsewhere = try await runTool(["search", word, "--project", folder.path + "/elsewhere", "--store", url])
        #expect(elsewhere.status == 1, "\(elsewhere.stderr)")
    }
}
