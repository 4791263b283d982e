import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeSessionsSQLite
import Foundation
import Testing

/// `rename` and `tag` of `SessionPersistentClient` records, shown by `list` and `show` and
/// filtered by `list --tag`, in the JSON files and in a SQLite store.
@Suite("claude-sessions: record titles and tags")
struct ToolRecordLabelTests {
    /// Two records in `store`; returns their ids (the first one's prompt is "Hello").
    static func records(in store: any SessionRecordStore) async throws -> [String] {
        var ids: [String] = []
        for (index, prompt) in ["Hello", "Second one"].enumerated() {
            let id = SessionID(rawValue: UUID().uuidString.lowercased())!
            let start = Date(timeIntervalSince1970: 1_760_000_000 + Double(index) * 100)
            let writer = try await store.openRecord(id, startTime: start, workingDirectory: "/w", options: [:])
            try await writer.append([
                ConversationMessage(
                    direction: .sent,
                    rawJSON: Array(#"{"type":"user","message":{"role":"user","content":"\#(prompt)"}}"#.utf8),
                    timestamp: start)
            ])
            try await writer.close()
            ids.append(id.rawValue)
        }
        return ids
    }

    func check(source: [String], ids: [String]) async throws {
        let (first, second) = (ids[0], ids[1])
        var run = try await runTool(["rename", String(first.prefix(8)), "Release checklist"] + source)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.output == "renamed \(first)\n")
        run = try await runTool(["tag", first, "review"] + source)
        #expect(run.status == 0, "\(run.stderr)")
        run = try await runTool(["tag", second, "other"] + source)
        #expect(run.status == 0, "\(run.stderr)")

        let listed = try #require(try await runTool(["list", "--json"] + source).json() as? [[String: Any]])
        let row = try #require(listed.first { $0["id"] as? String == first })
        #expect(row["title"] as? String == "Release checklist")
        #expect(row["tag"] as? String == "review")
        let table = try await runTool(["list"] + source).output
        #expect(table.contains("[review] Release checklist"))
        #expect(table.contains("[other] Second one"))

        let tagged = try #require(
            try await runTool(["list", "--tag", "review", "--json"] + source).json() as? [[String: Any]])
        #expect(tagged.compactMap { $0["id"] as? String } == [first])

        let shown = try await runTool(["show", first] + source)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.output.hasPrefix("Release checklist\n"))
        #expect(shown.output.contains("tag review"))

        run = try await runTool(["tag", first, "--clear"] + source)
        #expect(run.status == 0, "\(run.stderr)")
        let cleared = try #require(
            try await runTool(["list", "--tag", "review", "--json"] + source).json() as? [[String: Any]])
        #expect(cleared.isEmpty)

        let empty = try await runTool(["rename", first, "  "] + source)
        #expect(empty.status == 2)
        #expect(empty.stderr.contains("the title is empty"))
    }

    @Test func renameAndTagRecordsInTheJSONFiles() async throws {
        let folder = try TemporaryFolder("labels")
        defer { folder.cleanup() }
        let directory = folder.path + "/records"
        let ids = try await Self.records(in: FileRecordStore(directory: directory))
        try await check(source: ["--records=" + directory], ids: ids)
        // What the tool wrote is what the library reads.
        let data = try await FileRecordStore(directory: directory).loadRecord(SessionID(rawValue: ids[0])!)
        #expect(data.title == "Release checklist" && data.tag == nil)
    }

    @Test func renameAndTagRecordsInASQLiteStore() async throws {
        let folder = try TemporaryFolder("labels-sqlite")
        defer { folder.cleanup() }
        let path = folder.path + "/store.sqlite"
        let ids = try await Self.records(in: try SQLiteSessionStore(path: path))
        try await check(source: ["--records=sqlite:" + path], ids: ids)
    }
}
