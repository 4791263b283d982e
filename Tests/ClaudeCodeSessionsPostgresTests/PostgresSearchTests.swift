import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeSessionsPostgres
import Foundation
import Logging
import PostgresNIO
import SessionBackendTestSupport
import Testing

/// Full-text search of the PostgreSQL store (`searchSessions`): kept after each append's commit
/// (appends never wait for it), ranked, highlighted, filtered and paged; an upgraded database is
/// indexed; and for word queries it finds every session the plain scan finds.
@Suite(
    "PostgreSQL session store: full-text search",
    .enabled(if: PostgresTestServer.enabled, PostgresTestServer.skipReason), .timeLimit(.minutes(3)))
struct PostgresSearchTests {
    static let project = "-home-me-project"
    static let other = "-home-me-other"

    /// CLI transcript lines, each the child of the one before.
    static func chain(_ session: Int, _ lines: [(type: String, content: String)]) -> [SessionStoreEntry] {
        var parent = "null"
        return lines.enumerated().map { index, line in
            let uuid = String(format: "00000000-0000-4000-8000-%06d%06d", session, index)
            defer { parent = "\"\(uuid)\"" }
            return entry(
                #"{"type":"\#(line.type)","uuid":"\#(uuid)","parentUuid":\#(parent),"timestamp":"2025-10-01T00:00:0\#(index).000Z","message":{"role":"\#(line.type)","content":\#(line.content)}}"#
            )
        }
    }

    /// One line (for appends after the fact).
    static func line(_ type: String, _ content: String) -> SessionStoreEntry {
        entry(
            #"{"type":"\#(type)","uuid":"\#(UUID().uuidString.lowercased())","parentUuid":null,"timestamp":"2025-10-01T00:01:00.000Z","message":{"role":"\#(type)","content":\#(content)}}"#
        )
    }

    static func text(_ value: String) -> String {
        String(decoding: JSONValue.string(value).serialized(), as: UTF8.self)
    }

    /// Sessions with prompts, replies, thinking, tool inputs and tool results.
    static let corpus: [(project: String, id: String, lines: [SessionStoreEntry])] = [
        (
            project, "11111111-0000-4000-8000-000000000001",
            chain(
                1,
                [
                    ("user", text("Plan the database migrations for the release checklist")),
                    (
                        "assistant",
                        #"[{"type":"thinking","thinking":"The walrus approach"},{"type":"text","text":"Run the sqlite migration first."},{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"make deploy --timeout 30"}}]"#
                    ),
                    ("user", #"[{"type":"tool_result","tool_use_id":"t1","content":"deployed; README updated"}]"#),
                ])
        ),
        (
            project, "11111111-0000-4000-8000-000000000002",
            chain(
                2,
                [
                    ("user", text("Why does the connection timeout?")),
                    ("assistant", #"[{"type":"text","text":"The pool is exhausted; raise its size."}]"#),
                ])
        ),
        (
            other, "11111111-0000-4000-8000-000000000003",
            chain(
                3,
                [
                    ("user", text("Write the README for the walrus project")),
                    (
                        "assistant",
                        ##"[{"type":"tool_use","id":"t2","name":"Write","input":{"file_path":"README.md","content":"# Walrus\nA deploy tool."}}]"##
                    ),
                    (
                        "user",
                        #"[{"type":"tool_result","tool_use_id":"t2","content":[{"type":"text","text":"File written"}]}]"#
                    ),
                ])
        ),
    ]

    static func fill(_ store: PostgresSessionStore) async throws {
        for session in corpus {
            let key = SessionStoreKey(projectKey: session.project, sessionID: session.id)
            // Two appends, as a mirror writes them.
            try await store.append(Array(session.lines.prefix(1)), to: key)
            try await store.append(Array(session.lines.dropFirst()), to: key)
        }
    }

    static func ids(_ page: PostgresSessionStore.SearchPage) -> [String] { page.matches.map(\.sessionID) }

    @Test func appendsAreIndexedAfterTheirCommitAndSearchRanksAndHighlights() async throws {
        try await PostgresTestServer.withStore { store, client in
            try await Self.fill(store)
            // Indexed after the appends, without a search: passages exist and every transcript is current.
            await store.searchIndexingFinished()
            let schema = store.configuration.schema
            let behind = try await client.query(
                PostgresQuery(
                    unsafeSQL: "SELECT count(*) FROM \"\(schema)\".claude_transcripts WHERE search_seq < next_seq")
            ).decode(Int64.self).first { _ in true }
            #expect(behind == 0)
            let passages = try await client.query(
                PostgresQuery(unsafeSQL: "SELECT count(*) FROM \"\(schema)\".claude_search_passages")
            ).decode(Int64.self).first { _ in true }
            #expect((passages ?? 0) >= 10)

            // Every term must occur in the session, in any passage; stems match.
            #expect(Self.ids(try await store.searchSessions("migrating sqlite")) == [Self.corpus[0].id])
            #expect(Set(Self.ids(try await store.searchSessions("walrus"))) == [Self.corpus[0].id, Self.corpus[2].id])
            #expect(Self.ids(try await store.searchSessions("walrus deploy README")).count == 2)
            #expect(Self.ids(try await store.searchSessions("walrus exhausted")).isEmpty)
            #expect(Self.ids(try await store.searchSessions("\"release checklist\"")) == [Self.corpus[0].id])
            #expect(Self.ids(try await store.searchSessions("\"checklist release\"")).isEmpty)
            // Ranked: a prompt (weight A) above thinking (weight D).
            #expect(Self.ids(try await store.searchSessions("walrus")).first == Self.corpus[2].id)

            let page = try await store.searchSessions("exhausted pool")
            let match = try #require(page.matches.first)
            #expect(match.sessionID == Self.corpus[1].id && match.projectKey == Self.project)
            #expect(match.score > 0)
            let snippet = try #require(match.snippets.first)
            #expect(snippet.field == .reply)
            #expect(snippet.parts.filter(\.match).map { $0.text.lowercased() }.sorted() == ["exhausted", "pool"])
            #expect(snippet.plainText.contains("pool is exhausted; raise its size"))

            // Tool inputs and results are searched too.
            #expect(
                Set(Self.ids(try await store.searchSessions("deployed"))) == [Self.corpus[0].id, Self.corpus[2].id])
            #expect(Self.ids(try await store.searchSessions("updated")) == [Self.corpus[0].id])
            #expect(
                try await store.searchSessions("updated").matches.first?.snippets.first?.field == .toolResult)
            #expect(
                try await store.searchSessions("timeout", sessionIDs: [Self.corpus[0].id]).matches.first?.snippets
                    .first?
                    .field == .toolInput)

            // Stop words alone are left out, and said so.
            let stop = try await store.searchSessions("the walrus")
            #expect(stop.ignoredTerms == ["the"] && stop.searchedTerms == ["walrus"] && stop.matches.count == 2)
            #expect(try await store.searchSessions("the").matches.isEmpty)
        }
    }

    /// An append commits without waiting for the full-text index: with the search table locked
    /// against writes (as a long indexing, a vacuum or a busy server would hold it), appends still
    /// complete; the background indexing and the next search then index them.
    @Test func appendsDoNotWaitForTheSearchIndex() async throws {
        try await PostgresTestServer.withStore { store, client in
            let schema = store.configuration.schema
            let (project, id, lines) = Self.corpus[0]
            let key = SessionStoreKey(projectKey: project, sessionID: id)
            let clock = ContinuousClock()
            let logger = Logger(label: "test")
            let elapsed = try await client.withTransaction(logger: logger) { connection in
                try await connection.query(
                    PostgresQuery(unsafeSQL: "LOCK TABLE \"\(schema)\".claude_search_passages IN SHARE MODE"),
                    logger: logger)
                let start = clock.now
                for line in lines { try await store.append([line], to: key) }
                return clock.now - start
            }
            // Well under the store's 30 s limit (the appends would wait for the lock until then).
            #expect(elapsed < .seconds(10), "appends waited \(elapsed)")
            #expect(try await store.load(key)?.count == lines.count)
            // The lock is gone: the background indexing catches up without a search.
            await store.searchIndexingFinished()
            let behind = try await client.query(
                PostgresQuery(
                    unsafeSQL: "SELECT count(*) FROM \"\(schema)\".claude_transcripts WHERE search_seq < next_seq")
            ).decode(Int64.self).first { _ in true }
            #expect(behind == 0)
            #expect(Self.ids(try await store.searchSessions("walrus")) == [id])
        }
    }

    @Test func filtersAndPages() async throws {
        try await PostgresTestServer.withStore { store, _ in
            try await Self.fill(store)
            #expect(
                Self.ids(try await store.searchSessions("README", projectKeys: [Self.other])) == [Self.corpus[2].id])
            #expect(
                Self.ids(try await store.searchSessions("README", sessionIDs: [Self.corpus[0].id])) == [
                    Self.corpus[0].id
                ])
            #expect(
                try await store.searchSessions("README", modifiedSince: Date().addingTimeInterval(3600)).matches
                    .isEmpty)
            let all = Self.ids(try await store.searchSessions("README", limit: 10))
            #expect(all.count == 2)
            let first = try await store.searchSessions("README", limit: 1)
            let second = try await store.searchSessions("README", limit: 1, offset: 1)
            let third = try await store.searchSessions("README", limit: 1, offset: 2)
            #expect(first.hasMore && !second.hasMore && third.matches.isEmpty)
            #expect(Self.ids(first) + Self.ids(second) == all)
            // A deleted session leaves the index with it.
            try await store.delete(SessionStoreKey(projectKey: Self.other, sessionID: Self.corpus[2].id))
            #expect(Self.ids(try await store.searchSessions("README")) == [Self.corpus[0].id])
        }
    }

    @Test func aDatabaseUpgradedToSearchIndexesItsTranscripts() async throws {
        try await PostgresTestServer.withClient { client in
            let schema = PostgresTestServer.newSchema()
            do {
                let store = try PostgresSessionStore(client: client, configuration: .init(schema: schema))
                _ = try await store.migrate(upTo: "records-labels-v1")
                // Transcripts as a version without the index stored them.
                let table = "\"\(schema)\""
                for session in Self.corpus {
                    let rows = try await client.query(
                        """
                        INSERT INTO \(unescaped: table).claude_transcripts (project_key, session_id, subpath, next_seq, modified_ms)
                        VALUES (\(session.project), \(session.id), '', \(Int64(session.lines.count)), 1) RETURNING id
                        """)
                    let id = try #require(try await rows.decode(Int64.self).first { _ in true })
                    for (seq, entry) in session.lines.enumerated() {
                        try await client.query(
                            """
                            INSERT INTO \(unescaped: table).claude_transcript_entries (transcript_id, seq, type, uuid, raw)
                            VALUES (\(id), \(Int64(seq)), \(entry.type), \(entry.uuid), \(ByteBuffer(bytes: entry.raw.bytes)))
                            """)
                    }
                }
                #expect(try await store.migrate() == ["search-v1"])
                #expect(
                    Set(Self.ids(try await store.searchSessions("walrus"))) == [Self.corpus[0].id, Self.corpus[2].id])
                // Appends after the upgrade continue the index.
                let key = SessionStoreKey(projectKey: Self.project, sessionID: Self.corpus[1].id)
                try await store.append([Self.line("user", Self.text("Now about the walrus"))], to: key)
                #expect(Set(Self.ids(try await store.searchSessions("walrus"))).count == 3)
                await store.searchIndexingFinished()
                try await PostgresTestServer.dropSchema(schema, client)
            } catch {
                try? await PostgresTestServer.dropSchema(schema, client)
                throw error
            }
        }
    }

    /// Word queries: every session the plain scan finds, the full-Self.text search finds (the scan
    /// matches substrings; for whole words of the Self.text its hits are a subset).
    static let wordQueries = [
        "migration", "migrations", "sqlite", "timeout", "README", "walrus", "deploy", "release checklist",
        "\"release checklist\"", "pool size", "Bash", "written", "project", "connection", "database", "exhausted",
        "file", "tool",
    ]

    @Test func everySessionTheScanFindsForWordQueriesIsFound() async throws {
        try await PostgresTestServer.withStore { store, _ in
            try await Self.fill(store)
            var documents: [SessionDocument] = []
            for session in Self.corpus {
                let library = StoreSessionLibrary(store: store, projectKey: session.project)
                documents.append(try await SessionExporter.load(sessionID: session.id, library: library).document)
            }
            for query in Self.wordQueries {
                let scanned = Set(SessionSearch.search(query, in: documents).map(\.sessionID))
                let searched = Set(Self.ids(try await store.searchSessions(query, limit: 100)))
                #expect(scanned.isSubset(of: searched), "\(query): scan \(scanned), full Self.text \(searched)")
            }
            // Where they differ: substrings inside words (scan only), Self.other forms of a word (full Self.text only).
            #expect(!SessionSearch.search("grat", in: documents).isEmpty)
            #expect(try await store.searchSessions("grat").matches.isEmpty)
            #expect(SessionSearch.search("migrating", in: documents).isEmpty)
            #expect(!(try await store.searchSessions("migrating").matches.isEmpty))
        }
    }
}
