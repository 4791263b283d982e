import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeSessionsSQLite
import ClaudeCodeTesting
import Foundation
import Testing

/// Transcripts and records the real CLI wrote against the fake Messages API, made once for the suite.
actor RealCLIFixture {
    static let shared = RealCLIFixture()

    struct Made: Sendable {
        /// The CLI's configuration directory (the sandbox's `~/.claude`).
        var configDirectory: String
        /// A FileRecordStore folder with the same conversations as records.
        var recordsDirectory: String
        var workDirectory: String
        /// Session id → the prompts typed in it.
        var prompts: [String: [String]]
        /// The session whose prompts carry hostile markup.
        var hostileID: String
        var toolID: String
    }

    private var made: Made?

    func get() async throws -> Made {
        if let made { return made }
        let value = try await Self.make()
        made = value
        return value
    }

    static func conversation(_ texts: [String], options: ClaudeCodeOptions, records: String) async throws -> String {
        let client = SessionPersistentClient(options: options, storagePath: records)
        return try await client.withConnection { client in
            for text in texts {
                try await client.query(text)
                for try await _ in client.receiveResponse() {}
            }
            return try #require(client.currentSessionID)
        }
    }

    nonisolated static func make() async throws -> Made {
        let cli = try CLITestEnvironment.locateRealCLI()
        let api = FakeMessagesAPI()
        try await api.start()
        let sandbox = try CLITestEnvironment(baseURL: api.baseURL, prefix: "cs-tool")
        var options = ClaudeCodeOptions()
        options.cliPath = cli
        options.cwd = sandbox.workDirectory.path
        options.env = sandbox.environment
        options.shutdownGracePeriod = .seconds(10)
        let records = sandbox.root.appendingPathComponent("records").path
        var prompts: [String: [String]] = [:]
        func conversation(_ texts: [String]) async throws -> String {
            try await Self.conversation(texts, options: options, records: records)
        }
        do {
            let plain = ["alpha zebra kiwi", "beta FAKE:thinking mango"]
            prompts[try await conversation(plain)] = plain
            let tool = ["use tool Bash: echo tool-output-quartz"]
            let toolID = try await conversation(tool)
            prompts[toolID] = tool
            let hostile = ["hostile " + Payloads.script, "again " + Payloads.attribute]
            let hostileID = try await conversation(hostile)
            prompts[hostileID] = hostile
            await api.stop()
            let value = Made(
                configDirectory: sandbox.homeDirectory.appendingPathComponent(".claude").path,
                recordsDirectory: records, workDirectory: sandbox.workDirectory.path, prompts: prompts,
                hostileID: hostileID, toolID: toolID)
            return value
        } catch {
            await api.stop()
            throw error
        }
    }
}

@Suite("claude-sessions on real CLI transcripts", .serialized, .timeLimit(.minutes(5)))
struct ToolRealCLITests {
    func fixture() async throws -> RealCLIFixture.Made { try await RealCLIFixture.shared.get() }

    @Test func listShowsEverySessionAsTableAndJSON() async throws {
        let made = try await fixture()
        let run = try await runTool(["list", "--config-dir", made.configDirectory, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let rows = try #require(try run.json() as? [[String: Any]])
        #expect(Set(rows.compactMap { $0["id"] as? String }) == Set(made.prompts.keys))
        for row in rows {
            let id = try #require(row["id"] as? String)
            #expect((row["messages"] as? Int ?? 0) >= 2)
            #expect((row["tokens"] as? Int ?? 0) > 0)
            #expect(row["project"] as? String == made.workDirectory)
            #expect(!(row["title"] as? String ?? "").isEmpty, "session \(id)")
        }
        let table = try await runTool(["list", "--config-dir", made.configDirectory])
        #expect(table.status == 0)
        #expect(table.output.hasPrefix("ID"))
        #expect(!table.output.contains("\u{1B}["))  // not a terminal: no colour
        for id in made.prompts.keys { #expect(table.output.contains(String(id.prefix(8)))) }
        let limited = try await runTool(["list", "--config-dir", made.configDirectory, "--limit", "1", "--json"])
        #expect((try limited.json() as? [Any])?.count == 1)
        let future = try await runTool([
            "list", "--config-dir", made.configDirectory, "--since", "2999-01-01", "--json",
        ])
        #expect((try future.json() as? [Any])?.count == 0)
    }

    @Test func showPrintsTheConversationWithToolsFolded() async throws {
        let made = try await fixture()
        let prefix = String(made.toolID.prefix(8))
        let run = try await runTool(["show", prefix, "--config-dir", made.configDirectory])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.output.contains("use tool Bash: echo tool-output-quartz"))
        #expect(run.output.contains("▸ Bash {"))
        #expect(run.output.contains("\"command\":\"echo tool-output-quartz\""))
        #expect(run.output.contains("◂ result"))
        let full = try await runTool(["show", prefix, "--full", "--config-dir", made.configDirectory])
        #expect(full.output.contains("\"command\": \"echo tool-output-quartz\""))
    }

    @Test func exportWritesEveryFormat() async throws {
        let made = try await fixture()
        let out = try TemporaryFolder("export-e2e")
        defer { out.cleanup() }
        for format in ["md", "json", "jsonl", "html"] {
            let run = try await runTool(
                [
                    "export", made.hostileID, "--format", format, "-o", out.path + "/s.\(format)", "--config-dir",
                    made.configDirectory,
                ])
            #expect(run.status == 0, "\(format): \(run.stderr)")
        }
        let library = ClaudeSessionLibrary(configDirectory: made.configDirectory)
        let transcript = try await library.transcript(sessionID: made.hostileID)
        let original = try Data(contentsOf: URL(fileURLWithPath: try #require(transcript.path)))
        #expect(try Data(contentsOf: URL(fileURLWithPath: out.path + "/s.jsonl")) == original)
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out.path + "/s.json")))
                as? [String: Any])
        #expect(json["session_id"] as? String == made.hostileID)
        let html = try String(contentsOfFile: out.path + "/s.html", encoding: .utf8)
        for prompt in made.prompts[made.hostileID]! { #expect(html.contains(HTMLRenderer.escape(prompt))) }
        #expect(!html.lowercased().contains("<script"))
        #expect(!html.contains("<img src=x"))
        let markdown = try String(contentsOfFile: out.path + "/s.md", encoding: .utf8)
        for prompt in made.prompts[made.hostileID]! { #expect(markdown.contains(prompt)) }

        // Several sessions into a folder.
        let many = try await runTool(
            ["export"] + made.prompts.keys.map { String($0.prefix(8)) }
                + ["--format", "html", "-o", out.path + "/all", "--config-dir", made.configDirectory])
        #expect(many.status == 0, "\(many.stderr)")
        for id in made.prompts.keys {
            #expect(FileManager.default.fileExists(atPath: out.path + "/all/\(id).html"))
        }
    }

    @Test func searchFindsTheSameSessionsAsABruteForceScan() async throws {
        let made = try await fixture()
        let queries = [
            "zebra", "ALPHA", "mango", "tool-output-quartz", "echo", "alpha mango", "alpha quartz", "\"zebra kiwi\"",
            "\"kiwi zebra\"", "onerror", "nothing-like-this", "Thinking about",
        ]
        let indexFolder = try TemporaryFolder("index-e2e")
        defer { indexFolder.cleanup() }
        let indexPath = indexFolder.path + "/index.sqlite"
        let library = ClaudeSessionLibrary(configDirectory: made.configDirectory)
        var documents: [SessionDocument] = []
        for id in made.prompts.keys {
            documents.append(try await SessionExporter.load(sessionID: id, library: library).document)
        }
        for query in queries {
            let run = try await runTool(["search", query, "--json", "--config-dir", made.configDirectory])
            let hits = try #require(try run.json() as? [[String: Any]])
            let found = Set(hits.compactMap { $0["session_id"] as? String })
            // Brute force: every term as a case-insensitive substring of the session's searchable text.
            let terms = SessionSearch.terms(of: query).map { $0.lowercased() }
            let expected = Set(
                documents.filter { document in
                    let text = SessionSearch.passages(of: document).map { $0.text.lowercased() }
                    return terms.allSatisfy { term in text.contains { $0.contains(term) } }
                }.map(\.sessionID))
            #expect(found == expected, "query \(query)")
            #expect(run.status == (expected.isEmpty ? 1 : 0), "query \(query): \(run.stderr)")
            // The search index (built on the first query, then reused) agrees.
            let indexed = try await runTool([
                "search", query, "--json", "--index", indexPath, "--config-dir", made.configDirectory,
            ])
            let indexedHits = try #require(try indexed.json() as? [[String: Any]])
            #expect(Set(indexedHits.compactMap { $0["session_id"] as? String }) == expected, "indexed query \(query)")
            #expect(indexed.status == (expected.isEmpty ? 1 : 0), "indexed query \(query): \(indexed.stderr)")
            for hit in hits {
                let snippets = try #require(hit["snippets"] as? [[String: Any]])
                #expect(!snippets.isEmpty)
                let parts = snippets.flatMap { $0["parts"] as? [[String: Any]] ?? [] }
                #expect(parts.contains { $0["match"] as? Bool == true })
            }
        }
        let text = try await runTool(["search", "zebra", "--config-dir", made.configDirectory])
        #expect(text.output.contains("[zebra]"))
    }

    @Test func recordsListShowAndExportWithCost() async throws {
        let made = try await fixture()
        let run = try await runTool(["list", "--records", made.recordsDirectory, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let rows = try #require(try run.json() as? [[String: Any]])
        #expect(Set(rows.compactMap { $0["id"] as? String }) == Set(made.prompts.keys))
        for row in rows { #expect(row["cost_usd"] is NSNumber) }
        let html = try await runTool(["export", made.toolID, "--format", "html", "--records=" + made.recordsDirectory])
        #expect(html.status == 0, "\(html.stderr)")
        #expect(html.output.contains("<div class=\"turn\">Turn: $"))
        #expect(html.output.contains("tool-output-quartz"))
        let show = try await runTool(["show", String(made.hostileID.prefix(10)), "--records", made.recordsDirectory])
        #expect(show.status == 0)
        #expect(show.output.contains("hostile <script>"))
    }

    @Test func renameTagAndDeleteChangeTheCLITranscripts() async throws {
        let made = try await fixture()
        // Work on a copy so the other tests keep their sessions.
        let copy = try TemporaryFolder("mutate")
        defer { copy.cleanup() }
        try FileManager.default.copyItem(atPath: made.configDirectory, toPath: copy.path + "/claude")
        let config = copy.path + "/claude"
        let id = made.toolID
        #expect(try await runTool(["rename", String(id.prefix(6)), "Quartz work", "--config-dir", config]).status == 0)
        #expect(try await runTool(["tag", String(id.prefix(6)), "review", "--config-dir", config]).status == 0)
        let listed = try #require(
            try await runTool(["list", "--json", "--config-dir", config]).json() as? [[String: Any]])
        let row = try #require(listed.first { $0["id"] as? String == id })
        #expect(row["title"] as? String == "Quartz work")
        #expect(row["tag"] as? String == "review")
        // Without a terminal, delete needs --yes; nothing is deleted.
        let refused = try await runTool(["delete", id, "--config-dir", config])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("--yes"))
        #expect(try await runTool(["show", id, "--config-dir", config]).status == 0)
        let deleted = try await runTool(["delete", id, "--yes", "--config-dir", config])
        #expect(deleted.status == 0, "\(deleted.stderr)")
        #expect(try await runTool(["show", id, "--config-dir", config]).status == 1)
    }

    @Test func sqliteStoreSessionsAreListedAndExported() async throws {
        let made = try await fixture()
        let folder = try TemporaryFolder("sqlite")
        defer { folder.cleanup() }
        let path = folder.path + "/sessions.sqlite"
        let imported = try await runTool(
            ["import"] + made.prompts.keys.map { String($0.prefix(8)) } + [
                "--into", "sqlite:" + path, "--config-dir", made.configDirectory,
            ])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.output.split(separator: "\n").count == made.prompts.count)
        // Importing again stores nothing twice (the JSONL export below is still the file, byte for byte).
        let again = try await runTool([
            "import", made.hostileID, "--into", "sqlite:" + path, "--config-dir", made.configDirectory,
        ])
        #expect(again.status == 0, "\(again.stderr)")
        let run = try await runTool(["list", "--store", "sqlite:" + path, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let rows = try #require(try run.json() as? [[String: Any]])
        #expect(Set(rows.compactMap { $0["id"] as? String }) == Set(made.prompts.keys))
        let export = try await runTool(["export", made.hostileID, "--format", "jsonl", "--store", "sqlite:" + path])
        #expect(export.status == 0, "\(export.stderr)")
        let library = ClaudeSessionLibrary(configDirectory: made.configDirectory)
        let original = try Data(
            contentsOf: URL(fileURLWithPath: try #require(try await library.transcript(sessionID: made.hostileID).path))
        )
        #expect(export.stdout == original)
    }
}
