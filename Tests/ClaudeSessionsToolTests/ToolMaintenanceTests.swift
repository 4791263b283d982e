import ClaudeCode
import ClaudeCodeSessions
import Foundation
import Testing

@Suite("claude-sessions stats and prune")
struct ToolMaintenanceTests {
    func setup(_ name: String) throws -> (TemporaryFolder, String, [CLITranscriptBuilder]) {
        let folder = try TemporaryFolder(name)
        let config = folder.path + "/config"
        var builders: [CLITranscriptBuilder] = []
        for (index, cwdName) in ["one", "two"].enumerated() {
            let cwd = folder.path + "/" + cwdName
            try FileManager.default.createDirectory(atPath: cwd, withIntermediateDirectories: true)
            var builder = CLITranscriptBuilder(
                configDirectory: config, cwd: cwd, sessionID: "ffffffff-0000-4000-8000-00000000000\(index)")
            builder.user(.string("prompt \(index)"), seconds: index * 10)
            builder.assistant([["type": "text", "text": "reply"]], id: "m\(index)", seconds: index * 10 + 1)
            try builder.write()
            builders.append(builder)
        }
        // The first session was last touched 40 days ago.
        try FileManager.default.setAttributes(
            [.modificationDate: Date().addingTimeInterval(-40 * 86_400)], ofItemAtPath: builders[0].path)
        return (folder, config, builders)
    }

    @Test func statsAddsUpSessionsByProjectAndModel() async throws {
        let (folder, config, builders) = try setup("stats")
        defer { folder.cleanup() }
        let run = try await runTool(["stats", "--json", "--config-dir", config])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try #require(try run.json() as? [String: Any])
        #expect(report["sessions"] as? Int == 2)
        #expect(report["messages"] as? Int == 4)
        #expect(report["output_tokens"] as? Int == 14)
        let projects = try #require(report["by_project"] as? [[String: Any]])
        #expect(Set(projects.compactMap { $0["name"] as? String }) == Set(builders.map(\.cwd)))
        let models = try #require(report["by_model"] as? [[String: Any]])
        #expect(models.first?["name"] as? String == "claude-test-1")
        let recent = try await runTool(["stats", "--json", "--since", "7d", "--config-dir", config])
        #expect((try recent.json() as? [String: Any])?["sessions"] as? Int == 1)
        let text = try await runTool(["stats", "--config-dir", config])
        #expect(text.output.contains("2 sessions, 4 messages"))
    }

    @Test func pruneDryRunArchivesAndDeletesOnlyOldSessions() async throws {
        let (folder, config, builders) = try setup("prune")
        defer { folder.cleanup() }
        let original = try Data(contentsOf: URL(fileURLWithPath: builders[0].path))
        let dry = try await runTool(["prune", "--older-than", "30d", "--dry-run", "--config-dir", config])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.output.contains("would delete \(builders[0].sessionID)"))
        #expect(!dry.output.contains(builders[1].sessionID))
        #expect(FileManager.default.fileExists(atPath: builders[0].path))
        let refused = try await runTool(["prune", "--older-than", "30d", "--config-dir", config])
        #expect(refused.status == 2)
        #expect(FileManager.default.fileExists(atPath: builders[0].path))
        #expect(try await runTool(["prune", "--older-than", "soon", "--config-dir", config]).status == 2)

        let archive = folder.path + "/archive"
        let run = try await runTool([
            "prune", "--older-than", "30d", "--archive", archive, "--yes", "--config-dir", config,
        ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: builders[0].path))
        #expect(FileManager.default.fileExists(atPath: builders[1].path))
        #expect(try Data(contentsOf: URL(fileURLWithPath: archive + "/\(builders[0].sessionID).jsonl")) == original)
        #expect(FileManager.default.fileExists(atPath: archive + "/\(builders[0].sessionID).json"))
    }
}
