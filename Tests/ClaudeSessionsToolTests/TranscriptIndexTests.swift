import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeSessionsSQLite
import Foundation
import Testing

/// The index and the summary cache over the CLI's transcripts, kept current by `stat`: after each
/// kind of change (a transcript grows, shrinks, is replaced, deleted or added) they agree with the
/// plain scan, and only the changed sessions are read again.
@Suite("SQLiteSearchIndex over the CLI's transcripts")
struct TranscriptIndexTests {
    static let queries = [
        "zebra", "ALPHA", "mango kiwi", "\"zebra kiwi\"", "pelican", "echo", "quartz", "Café", "cafe", "naive",
        "xy", "a", "100%", "done_", "nothing-here", "résumé", "output-walrus",
    ]

    struct Sandbox {
        let folder: TemporaryFolder
        var config: String { folder.path + "/claude" }
        var cwd: String { folder.path + "/work" }
        var library: ClaudeSessionLibrary { ClaudeSessionLibrary(configDirectory: config) }

        init(_ name: String) throws {
            folder = try TemporaryFolder(name)
            try FileManager.default.createDirectory(atPath: folder.path + "/work", withIntermediateDirectories: true)
        }

        func session(_ prompts: [String], replies: [String], tool: String? = nil) throws -> CLITranscriptBuilder {
            var builder = CLITranscriptBuilder(configDirectory: config, cwd: cwd)
            for (index, prompt) in prompts.enumerated() {
                builder.user(.string(prompt), seconds: index * 10)
                let reply = index < replies.count ? replies[index] : "ok"
                builder.assistant(
                    [["type": "text", "text": .string(reply)]], id: "msg_\(index)", seconds: index * 10 + 1)
            }
            if let tool {
                builder.assistant(
                    [["type": "tool_use", "id": "toolu_1", "name": "Bash", "input": ["command": .string(tool)]]],
                    id: "msg_t", seconds: 100)
                builder.user(
                    [["type": "tool_result", "tool_use_id": "toolu_1", "content": "output-walrus done_ok"]],
                    seconds: 101)
            }
            try builder.write()
            return builder
        }

        /// What the plain scan finds for a query: every listed session loaded and searched.
        func scan(_ query: String) async throws -> Set<String> {
            var documents: [SessionDocument] = []
            for info in try await library.listSessions() {
                documents.append(try await SessionExporter.load(sessionID: info.sessionID, library: library).document)
            }
            return Set(SessionSearch.search(query, in: documents).map(\.sessionID))
        }

        func expectAgreement(_ index: SQLiteSearchIndex, _ step: String) async throws {
            for query in TranscriptIndexTests.queries {
                let found = Set(try await index.search(query).map(\.sessionID))
                #expect(found == (try await scan(query)), "\(step): query \(query)")
            }
        }
    }

    static func append(_ line: String, to path: String) throws {
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((line + "\n").utf8))
        try handle.close()
    }

    @Test func everyKindOfChangeIsIndexedAndAgreesWithTheScan() async throws {
        let box = try Sandbox("tx-index")
        defer { box.folder.cleanup() }
        let first = try box.session(["ALPHA zebra kiwi", "mango"], replies: ["Café résumé", "xy"])
        var second = try box.session(["mango kiwi please"], replies: ["naïve 100% sure"], tool: "echo quartz")
        let third = try box.session(["delete me zebra"], replies: ["fine"])
        let index = try SQLiteSearchIndex(path: box.folder.path + "/index.sqlite")

        let built = try await index.refresh(library: box.library, indexingText: true)
        #expect(Set(built.indexed) == [first.sessionID, second.sessionID, third.sessionID])
        try await box.expectAgreement(index, "built")

        // Nothing changed: nothing is read.
        let again = try await index.refresh(library: box.library, indexingText: true)
        #expect(again.indexed.isEmpty && again.removed.isEmpty && again.unchanged == 3)

        // A transcript grows (the CLI appends): only it is read, its new words are found.
        second.user(.string("now about a pelican"), seconds: 200)
        try Self.append(second.lines.last!, to: second.path)
        let grown = try await index.refresh(library: box.library, indexingText: true)
        #expect(grown.indexed == [second.sessionID])
        #expect(grown.unchanged == 2)
        #expect(try await index.search("pelican").map(\.sessionID) == [second.sessionID])
        try await box.expectAgreement(index, "grown")

        // It shrinks back (rewritten shorter): the pelican is gone.
        let original = Array(second.lines.dropLast())
        try Data((original.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: second.path))
        let shrunk = try await index.refresh(library: box.library, indexingText: true)
        #expect(shrunk.indexed == [second.sessionID])
        #expect(try await index.search("pelican").isEmpty)
        try await box.expectAgreement(index, "shrunk")

        // Replaced by another file of the same size (a new inode): read again.
        let replacement = box.folder.path + "/replacement.jsonl"
        try FileManager.default.copyItem(atPath: first.path, toPath: replacement)
        try FileManager.default.removeItem(atPath: first.path)
        try FileManager.default.moveItem(atPath: replacement, toPath: first.path)
        let replaced = try await index.refresh(library: box.library, indexingText: true)
        #expect(replaced.indexed == [first.sessionID])
        try await box.expectAgreement(index, "replaced")

        // Deleted: dropped. Added: indexed.
        try FileManager.default.removeItem(atPath: third.path)
        let fourth = try box.session(["brand new pelican"], replies: ["zebra too"])
        let mixed = try await index.refresh(library: box.library, indexingText: true)
        #expect(mixed.removed == [third.sessionID])
        #expect(mixed.indexed == [fourth.sessionID])
        #expect(try await index.indexedSessionIDs() == [first.sessionID, second.sessionID, fourth.sessionID])
        try await box.expectAgreement(index, "deleted and added")

        // A new process over the same file agrees without reading anything.
        let reopened = try SQLiteSearchIndex(path: box.folder.path + "/index.sqlite")
        #expect(try await reopened.refresh(library: box.library, indexingText: true).indexed.isEmpty)
        try await box.expectAgreement(reopened, "reopened")

        // Hits carry the scan's ranking and snippets.
        let hit = try #require(try await reopened.search("zebra").first)
        #expect(hit.snippets.first?.parts.contains { $0.match && $0.text.lowercased() == "zebra" } == true)
    }

    @Test func summariesFollowTheFilesAndADamagedFileIsRebuilt() async throws {
        let box = try Sandbox("tx-summary")
        defer { box.folder.cleanup() }
        var session = try box.session(["count my messages"], replies: ["two so far"])
        let path = box.folder.path + "/cache.sqlite"
        let cache = try SQLiteSearchIndex(path: path)
        try await cache.refresh(library: box.library, indexingText: false)
        #expect(try await cache.summaries().map(\.messageCount) == [2])
        #expect(try await cache.search("messages").isEmpty, "summaries only: no text indexed")
        session.user(.string("a third"), seconds: 50)
        try Self.append(session.lines.last!, to: session.path)
        try await cache.refresh(library: box.library, indexingText: false)
        let summary = try #require(try await cache.summaries().first)
        #expect(summary.messageCount == 3)
        #expect(summary.title == "count my messages")
        // Indexing the text later reads the sessions once more.
        #expect(try await cache.refresh(library: box.library, indexingText: true).indexed == [session.sessionID])
        #expect(try await cache.search("third").map(\.sessionID) == [session.sessionID])

        try Data("this is not a database".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: SessionStoreError.self) { try SQLiteSearchIndex(path: path) }
        let rebuilt = try SQLiteSearchIndex(path: path, discardingUnreadable: true)
        #expect(try await rebuilt.refresh(library: box.library, indexingText: false).indexed == [session.sessionID])
        #expect(try await rebuilt.summaries().map(\.messageCount) == [3])
    }

    @Test func listUsesItsCacheAndNoticesChanges() async throws {
        let box = try Sandbox("tx-list")
        defer { box.folder.cleanup() }
        var session = try box.session(["list me"], replies: ["listed"])
        _ = try box.session(["another one"], replies: ["sure"])
        let cacheHome = box.folder.path + "/cache"
        let environment = ["XDG_CACHE_HOME": cacheHome]
        func list(_ extra: [String] = []) async throws -> [[String: Any]] {
            let run = try await runTool(
                ["list", "--json", "--config-dir", box.config] + extra, environment: environment)
            #expect(run.status == 0, "\(run.stderr)")
            return try #require(try run.json() as? [[String: Any]])
        }
        func messages(_ rows: [[String: Any]]) -> [String: Int] {
            Dictionary(uniqueKeysWithValues: rows.map { ($0["id"] as? String ?? "", $0["messages"] as? Int ?? -1) })
        }
        let first = try await list()
        #expect(messages(first)[session.sessionID] == 2)
        let cacheFolder = cacheHome + "/claude-sessions"
        let files = try FileManager.default.contentsOfDirectory(atPath: cacheFolder).filter { $0.hasSuffix(".sqlite") }
        #expect(files.count == 1)
        let folderMode = try FileManager.default.attributesOfItem(atPath: cacheFolder)[.posixPermissions] as? Int
        let fileMode =
            try FileManager.default.attributesOfItem(atPath: cacheFolder + "/" + files[0])[.posixPermissions] as? Int
        #expect(folderMode == 0o700)
        #expect(fileMode == 0o600)

        // A change to a transcript shows at the next listing.
        session.user(.string("one more"), seconds: 60)
        try Self.append(session.lines.last!, to: session.path)
        let second = try await list()
        #expect(messages(second)[session.sessionID] == 3)
        #expect(messages(try await list(["--no-cache"])) == messages(second))
        #expect(second.map { $0["id"] as? String } == (try await list(["--no-cache"])).map { $0["id"] as? String })

        // A damaged cache is rebuilt; the listing is the same.
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: cacheFolder + "/" + files[0]))
        #expect(messages(try await list()) == messages(second))
        #expect(messages(try await list()) == messages(second))
        _ = try SQLiteSearchIndex(path: cacheFolder + "/" + files[0])
    }

    /// Sets a file's or folder's modification time to `seconds` ago.
    static func age(_ path: String, seconds: Double) throws {
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSinceNow: -seconds)], ofItemAtPath: path)
    }

    /// Within `fullCheckInterval` of a full check, a refresh looks only at the folders and at the
    /// transcripts active before that check: an active one growing, a file added or removed are
    /// noticed; an idle one growing is seen at the next full check (documented staleness).
    @Test func aRecentFullCheckIsTrustedForTheFoldersAndActiveTranscripts() async throws {
        let box = try Sandbox("tx-quick")
        defer { box.folder.cleanup() }
        var idle = try box.session(["an old walrus"], replies: ["ok"])
        var active = try box.session(["a busy zebra"], replies: ["ok"])
        let folder = (idle.path as NSString).deletingLastPathComponent
        let projects = (folder as NSString).deletingLastPathComponent
        // The idle session was last written a day ago; the folders settled an hour ago.
        try Self.age(idle.path, seconds: 86_400)
        try Self.age(folder, seconds: 3_600)
        try Self.age(projects, seconds: 3_600)
        let index = try SQLiteSearchIndex(path: box.folder.path + "/index.sqlite")
        let minute = Duration.seconds(60)

        let built = try await index.refresh(library: box.library, indexingText: true, fullCheckInterval: minute)
        #expect(Set(built.indexed) == [idle.sessionID, active.sessionID])
        let quiet = try await index.refresh(library: box.library, indexingText: true, fullCheckInterval: minute)
        #expect(quiet.indexed.isEmpty && quiet.unchanged == 2)

        // The active transcript grows: the quick check notices, the session is read again.
        active.user(.string("and a pelican"), seconds: 50)
        try Self.append(active.lines.last!, to: active.path)
        let grown = try await index.refresh(library: box.library, indexingText: true, fullCheckInterval: minute)
        #expect(grown.indexed == [active.sessionID])
        #expect(try await index.search("pelican").map(\.sessionID) == [active.sessionID])

        // The idle one grows (a resumed session): trusted for the interval, found by a full check.
        idle.user(.string("the heron is back"), seconds: 60)
        try Self.append(idle.lines.last!, to: idle.path)
        let trusted = try await index.refresh(library: box.library, indexingText: true, fullCheckInterval: minute)
        #expect(trusted.indexed.isEmpty && trusted.unchanged == 2)
        #expect(try await index.search("heron").isEmpty)
        let expired = try await index.refresh(
            library: box.library, indexingText: true, fullCheckInterval: .nanoseconds(1))
        #expect(expired.indexed == [idle.sessionID])
        #expect(try await index.search("heron").map(\.sessionID) == [idle.sessionID])

        // A transcript added changes its folder: noticed at once, whatever the interval.
        try Self.age(folder, seconds: 3_600)
        _ = try await index.refresh(library: box.library, indexingText: true, fullCheckInterval: minute)
        let added = try box.session(["a new ibis"], replies: ["ok"])
        let afterAdd = try await index.refresh(library: box.library, indexingText: true, fullCheckInterval: minute)
        #expect(afterAdd.indexed == [added.sessionID])
        // An idle transcript removed: only its folder shows it.
        try Self.age(added.path, seconds: 86_400)
        try Self.age(folder, seconds: 3_600)
        _ = try await index.refresh(library: box.library, indexingText: true, fullCheckInterval: minute)
        let settled = try await index.refresh(library: box.library, indexingText: true, fullCheckInterval: minute)
        #expect(settled.indexed.isEmpty && settled.removed.isEmpty && settled.unchanged == 3)
        try FileManager.default.removeItem(atPath: added.path)
        let afterRemove = try await index.refresh(library: box.library, indexingText: true, fullCheckInterval: minute)
        #expect(afterRemove.removed == [added.sessionID])

        // Zero (the default) checks every file each time.
        idle.user(.string("a stork too"), seconds: 70)
        try Self.append(idle.lines.last!, to: idle.path)
        try Self.age(idle.path, seconds: 86_400)
        let full = try await index.refresh(library: box.library, indexingText: true)
        #expect(full.indexed == [idle.sessionID])
        #expect(try await index.search("stork").map(\.sessionID) == [idle.sessionID])
    }

    @Test func searchIndexOfTheToolFollowsChanges() async throws {
        let box = try Sandbox("tx-tool")
        defer { box.folder.cleanup() }
        var session = try box.session(["find the walrus"], replies: ["ok"])
        let indexPath = box.folder.path + "/index.sqlite"
        func search(_ query: String) async throws -> (Int32, Set<String>) {
            let run = try await runTool(["search", query, "--json", "--index", indexPath, "--config-dir", box.config])
            let hits = (try? run.json() as? [[String: Any]]) ?? []
            return (run.status, Set(hits.compactMap { $0["session_id"] as? String }))
        }
        #expect(try await search("walrus") == (0, [session.sessionID]))
        #expect(try await search("pelican").0 == 1)
        session.user(.string("and the pelican"), seconds: 70)
        try Self.append(session.lines.last!, to: session.path)
        #expect(try await search("pelican") == (0, [session.sessionID]))
        try FileManager.default.removeItem(atPath: session.path)
        #expect(try await search("walrus").0 == 1)
        // A file that is not an index is refused, not overwritten.
        try Data("not an index".utf8).write(to: URL(fileURLWithPath: indexPath))
        let refused = try await runTool(["search", "walrus", "--index", indexPath, "--config-dir", box.config])
        #expect(refused.status == 4)
        #expect(try String(contentsOfFile: indexPath, encoding: .utf8) == "not an index")
    }
}
