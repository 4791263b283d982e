import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeSessionsSQLite
import Foundation
import Testing

@Suite("SQLiteSearchIndex")
struct SearchIndexTests {
    /// Small documents with overlapping words, in several fields.
    static func documents() -> [SessionDocument] {
        func doc(
            _ id: String, title: String?, prompt: String, reply: String, tool: String? = nil, result: String? = nil
        )
            -> SessionDocument
        {
            var entries = [
                SessionDocument.Entry(role: .user, blocks: [.text(prompt)]),
                SessionDocument.Entry(role: .assistant, blocks: [.text(reply)]),
            ]
            if let tool {
                entries[1].blocks.append(
                    SessionDocument.Block(
                        kind: .toolUse, toolUseID: "t", name: "Bash", input: ["command": .string(tool)]))
            }
            if let result {
                entries.append(
                    SessionDocument.Entry(
                        role: .user,
                        blocks: [SessionDocument.Block(kind: .toolResult, toolUseID: "t", content: [.text(result)])]))
            }
            return SessionDocument(sessionID: id, origin: .store, title: title, entries: entries)
        }
        return [
            doc("s1", title: "SQLite migration", prompt: "migrate the schema", reply: "Done with the MIGRATION."),
            doc("s2", title: nil, prompt: "fix login bug", reply: "Fixed the login form", tool: "grep -r login src/"),
            doc("s3", title: "Zebra", prompt: "a b c", reply: "xy", result: "output of ls: zebra.txt kiwi.txt"),
            doc("s4", title: "Quotes \"inside\"", prompt: "100% done_ok", reply: "it's fine"),
            doc("s5", title: "Café", prompt: "naïve approach", reply: "résumé"),
        ]
    }

    /// Many passages holding a term, with ties, more than the three snippets shown; the best
    /// ones hold only one of the two terms of "login migrate".
    static let manyPassages = SessionDocument(
        sessionID: "s6", origin: .store, title: nil,
        entries: [
            "login login login", "Login", "login, then login", "migrate the login", "LOGIN", "login login", "nothing",
            "login é login", "naïve login",
        ].enumerated().map { index, text in
            SessionDocument.Entry(role: index % 2 == 0 ? .user : .assistant, blocks: [.text(text)])
        })

    static let queries = [
        "migration", "MIGRATION schema", "login", "login grep", "zebra", "kiwi.txt", "xy", "a", "\"login form\"",
        "\"form login\"", "100%", "done_", "\"inside\"", "it's", "nothing-here", "caf", "Bash", "zebra migration",
        "login migrate", "naive login",
    ]

    /// The streaming scan (`SessionSearch.Scan`, which keeps only the best hits' documents)
    /// returns what scoring every document with snippets and ranking them all returns, for every
    /// limit and in any order of the documents.
    @Test func theStreamingScanRanksLikeScoringEverything() {
        let documents = Self.documents() + [Self.manyPassages]
        var generator = SystemRandomNumberGenerator()
        for query in Self.queries + ["login", "o", "e"] {
            let terms = SessionSearch.terms(of: query)
            let everything = documents.compactMap { document in
                SessionSearch.hit(
                    sessionID: document.sessionID, title: document.displayTitle, projectPath: document.projectPath,
                    lastActivity: document.lastActivity, passages: SessionSearch.passages(of: document), terms: terms)
            }
            for limit in [nil, 0, 1, 2, 3, 100] as [Int?] {
                let expected = SessionSearch.ranked(everything, limit: limit)
                for _ in 0..<4 {
                    var scan = SessionSearch.Scan(query, limit: limit)
                    for document in documents.shuffled(using: &generator) { scan.add(document) }
                    #expect(scan.hits() == expected, "query \(query), limit \(String(describing: limit))")
                }
            }
        }
    }

    @Test func findsTheSameSessionsAsThePlainScan() async throws {
        let folder = try TemporaryFolder("index")
        defer { folder.cleanup() }
        let index = try SQLiteSearchIndex(path: folder.path + "/index.sqlite")
        let documents = Self.documents() + [Self.manyPassages]
        let byID = Dictionary(uniqueKeysWithValues: documents.map { ($0.sessionID, $0) })
        let report = try await index.refresh(documents.map { ($0.sessionID, "v1") }) { byID[$0] }
        #expect(report.indexed.count == documents.count)
        for query in Self.queries {
            let terms = SessionSearch.terms(of: query)
            let expected = Set(documents.filter { SessionSearch.matches($0, terms: terms) }.map(\.sessionID))
            let found = Set(try await index.search(query).map(\.sessionID))
            #expect(found == expected, "query \(query)")
            let scannedHits = SessionSearch.search(query, in: documents)
            let scanned = Set(scannedHits.map(\.sessionID))
            #expect(scanned == expected, "query \(query)")
            // The same ranking, scores, counts and snippets (the index scores stored UTF-8, the scan strings).
            let indexedHits = try await index.search(query)
            #expect(indexedHits.map(\.sessionID) == scannedHits.map(\.sessionID), "query \(query)")
            #expect(indexedHits.map(\.score) == scannedHits.map(\.score), "query \(query)")
            #expect(indexedHits.map(\.matchCount) == scannedHits.map(\.matchCount), "query \(query)")
            #expect(indexedHits.map(\.snippets) == scannedHits.map(\.snippets), "query \(query)")
        }
        let hits = try await index.search("login")
        #expect(hits.first?.snippets.first?.parts.contains { $0.match && $0.text.lowercased() == "login" } == true)
    }

    @Test func refreshIsIncremental() async throws {
        let folder = try TemporaryFolder("index-incremental")
        defer { folder.cleanup() }
        let path = folder.path + "/index.sqlite"
        var documents = Self.documents()
        var loads: [String] = []
        func refresh(_ index: SQLiteSearchIndex, _ fingerprints: [String: String]) async throws
            -> SQLiteSearchIndex.RefreshReport
        {
            let byID = Dictionary(uniqueKeysWithValues: documents.map { ($0.sessionID, $0) })
            return try await index.refresh(documents.map { ($0.sessionID, fingerprints[$0.sessionID] ?? "v1") }) {
                loads.append($0)
                return byID[$0]
            }
        }
        let first = try SQLiteSearchIndex(path: path)
        _ = try await refresh(first, [:])
        #expect(loads.count == documents.count)
        loads = []
        // A new process, nothing changed: nothing is read.
        let second = try SQLiteSearchIndex(path: path)
        let unchanged = try await refresh(second, [:])
        #expect(loads.isEmpty)
        #expect(unchanged.unchanged == documents.count)
        // One session changes, one disappears.
        documents[1].entries.append(SessionDocument.Entry(role: .user, blocks: [.text("now about pelicans")]))
        documents.removeLast()
        let changed = try await refresh(second, ["s2": "v2"])
        #expect(loads == ["s2"])
        #expect(changed.indexed == ["s2"])
        #expect(changed.removed == ["s5"])
        #expect(try await second.search("pelicans").map(\.sessionID) == ["s2"])
        #expect(try await second.search("résumé").isEmpty)
        #expect(try await second.indexedSessionIDs() == Set(["s1", "s2", "s3", "s4"]))
    }
}
