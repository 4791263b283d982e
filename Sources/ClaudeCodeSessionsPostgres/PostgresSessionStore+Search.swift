import ClaudeCode
public import ClaudeCodeSessions
public import Foundation
import Logging
import PostgresNIO
import Synchronization

extension PostgresSessionStore {
    /// One session that matches a full-text query.
    public struct SearchMatch: Sendable, Hashable {
        /// The session's project key.
        public var projectKey: String
        /// The session's id.
        public var sessionID: String
        /// The time of the session's last append (the server's clock).
        public var lastModified: Date
        /// `ts_rank_cd` relevance summed over the matching passages (higher is better).
        public var score: Double
        /// How many passages match a term.
        public var matchingPassages: Int
        /// Up to three snippets of the best passages (`ts_headline`), matched words marked. A
        /// snippet's `entryIndex` is the sequence number of its line in the stored transcript
        /// (not an index into a `SessionDocument`).
        public var snippets: [SessionSearch.Snippet]

        /// Creates a match.
        public init(
            projectKey: String, sessionID: String, lastModified: Date, score: Double, matchingPassages: Int,
            snippets: [SessionSearch.Snippet]
        ) {
            self.projectKey = projectKey
            self.sessionID = sessionID
            self.lastModified = lastModified
            self.score = score
            self.matchingPassages = matchingPassages
            self.snippets = snippets
        }
    }

    /// One page of a full-text search.
    public struct SearchPage: Sendable, Hashable {
        /// The matches of the page, best first.
        public var matches: [SearchMatch]
        /// Whether more matches follow (ask with `offset` advanced by the page's size).
        public var hasMore: Bool
        /// The query's terms that were searched: terms made only of stop words (`the`, `and`, …)
        /// are left out by PostgreSQL's text search and listed in ``ignoredTerms``.
        public var searchedTerms: [String]
        /// Terms left out because they hold no searchable word (stop words only).
        public var ignoredTerms: [String]
    }

    /// The text search configuration of the index (stemming and stop words of English).
    public static let searchConfiguration = "english"

    /// Longest text of one indexed passage, in UTF-8 bytes; longer texts are indexed in pieces.
    static let passageLimit = 16 * 1024

    /// Sessions whose passages hold every term of `query`, best first: PostgreSQL full-text
    /// search (`tsvector`, GIN index, `ts_rank_cd`, `ts_headline`) over the prompts, replies,
    /// thinking, tool inputs and tool results of the store's main transcripts.
    ///
    /// The index is brought up to date after each ``append(_:to:)`` commits, by the store's
    /// background indexing. Whatever it has not reached yet, and transcripts stored before the
    /// index existed (a database upgraded by ``migrate()``), is indexed here, before the query
    /// runs: a search always covers every append that returned before it.
    ///
    /// ## Words, not substrings
    /// Terms are split as in `SessionSearch/terms(of:)` (`"quoted words"` stay one phrase) and
    /// each must occur in the session (in any passage). Matching follows PostgreSQL's `english`
    /// text search: words, reduced to their stem (`migrations` finds `migrating`), case-folded,
    /// stop words ignored. The plain scan (`SessionSearch`) and the SQLite index
    /// (`SQLiteSearchIndex`) match substrings instead: they find `grat` inside `migration` and
    /// `test` inside `latest`, which this search does not; it finds other forms of a word, which
    /// they do not. Accents are not folded (`café` does not find `cafe`), unlike the scan.
    ///
    /// ```swift
    /// let page = try await store.searchSessions("sqlite migration", limit: 20)
    /// for match in page.matches { print(match.sessionID, match.snippets.first?.plainText ?? "") }
    /// ```
    ///
    /// - Parameters:
    ///   - query: The query.
    ///   - projectKeys: Only sessions under these project keys; `nil` for every project.
    ///   - sessionIDs: Only these sessions; `nil` for all.
    ///   - modifiedSince: Only sessions appended to at or after this time.
    ///   - limit: The most matches to return (at least 1).
    ///   - offset: How many of the best matches to skip (paging).
    /// - Returns: The page of matches; empty when no term holds a searchable word.
    /// - Throws: `SessionStoreError/Code/backendFailure` when the server fails.
    public func searchSessions(
        _ query: String, projectKeys: [String]? = nil, sessionIDs: Set<String>? = nil, modifiedSince: Date? = nil,
        limit: Int = 20, offset: Int = 0
    ) async throws(SessionStoreError) -> SearchPage {
        let terms = SessionSearch.terms(of: query)
        guard !terms.isEmpty else {
            return SearchPage(matches: [], hasMore: false, searchedTerms: [], ignoredTerms: [])
        }
        try await catchUpSearchIndex()
        let (t, logger) = (tables, configuration.logger)
        let config = Self.searchConfiguration
        let limit = max(1, limit)
        let offset = max(0, offset)
        let keys = projectKeys ?? []
        let filterKeys = projectKeys != nil
        let ids = sessionIDs.map { Array($0) } ?? []
        let filterIDs = sessionIDs != nil
        let since = modifiedSince.map { Int64(($0.timeIntervalSince1970 * 1000).rounded(.down)) } ?? Int64.min
        return try await connection { connection in
            // Which terms hold a word the configuration keeps.
            var searched: [String] = []
            var ignored: [String] = []
            let kept = try await connection.query(
                """
                SELECT u.term, numnode(phraseto_tsquery(\(config)::regconfig, u.term)) > 0
                FROM unnest(\(terms)::text[]) WITH ORDINALITY AS u(term, ord) ORDER BY u.ord
                """, logger: logger)
            for try await (term, keep) in kept.decode((String, Bool).self) {
                if keep { searched.append(term) } else { ignored.append(term) }
            }
            guard !searched.isEmpty else {
                return SearchPage(matches: [], hasMore: false, searchedTerms: [], ignoredTerms: ignored)
            }
            let any = searched.map { "\"" + $0 + "\"" }.joined(separator: " or ")
            let rows = try await connection.query(
                """
                WITH terms AS (
                    SELECT u.ord, phraseto_tsquery(\(config)::regconfig, u.term) AS q
                    FROM unnest(\(searched)::text[]) WITH ORDINALITY AS u(term, ord)
                ), hits AS (
                    SELECT p.transcript_id, terms.ord, ts_rank_cd(p.document, terms.q) AS rank
                    FROM terms JOIN \(unescaped: t.search) p ON p.document @@ terms.q
                ), sessions AS (
                    SELECT transcript_id, sum(rank) AS score, count(*) AS passages FROM hits
                    GROUP BY transcript_id HAVING count(DISTINCT ord) = \(searched.count)
                )
                SELECT k.id, k.project_key, k.session_id, k.modified_ms, s.score::float8, s.passages
                FROM sessions s JOIN \(unescaped: t.transcripts) k ON k.id = s.transcript_id
                WHERE (NOT \(filterKeys) OR k.project_key = ANY(\(keys)::text[]))
                    AND (NOT \(filterIDs) OR k.session_id = ANY(\(ids)::text[]))
                    AND k.modified_ms >= \(since)
                ORDER BY s.score DESC, k.modified_ms DESC, k.session_id COLLATE "C"
                LIMIT \(limit + 1) OFFSET \(offset)
                """, logger: logger)
            var found: [(id: Int64, match: SearchMatch)] = []
            for try await (id, projectKey, sessionID, modified, score, passages) in rows.decode(
                (Int64, String, String, Int64, Double, Int64).self)
            {
                found.append(
                    (
                        id,
                        SearchMatch(
                            projectKey: projectKey, sessionID: sessionID,
                            lastModified: Date(timeIntervalSince1970: Double(modified) / 1000), score: score,
                            matchingPassages: Int(passages), snippets: []
                        )
                    ))
            }
            let hasMore = found.count > limit
            if hasMore { found.removeLast() }
            guard !found.isEmpty else {
                return SearchPage(matches: [], hasMore: false, searchedTerms: searched, ignoredTerms: ignored)
            }
            // The three best passages of each session on the page, highlighted.
            let snippetRows = try await connection.query(
                """
                WITH q AS (SELECT websearch_to_tsquery(\(config)::regconfig, \(any)) AS q),
                best AS (
                    SELECT p.transcript_id, p.seq, p.part, p.field, p.body, q.q,
                        row_number() OVER (
                            PARTITION BY p.transcript_id ORDER BY ts_rank_cd(p.document, q.q) DESC, p.seq, p.part
                        ) AS n
                    FROM \(unescaped: t.search) p, q
                    WHERE p.transcript_id = ANY(\(found.map(\.id))::bigint[]) AND p.document @@ q.q
                )
                SELECT transcript_id, field, seq, ts_headline(\(config)::regconfig, body, q,
                    'StartSel=' || chr(1) || ', StopSel=' || chr(2) || ', MaxWords=24, MinWords=10, MaxFragments=1')
                FROM best WHERE n <= 3 ORDER BY transcript_id, n
                """, logger: logger)
            var snippets: [Int64: [SessionSearch.Snippet]] = [:]
            for try await (id, field, seq, headline) in snippetRows.decode((Int64, String, Int64, String).self) {
                snippets[id, default: []].append(
                    SessionSearch.Snippet(
                        field: SessionSearch.Field(rawValue: field) ?? .toolResult, entryIndex: Int(seq),
                        parts: Self.parts(ofHeadline: headline)))
            }
            return SearchPage(
                matches: found.map { id, match in
                    var match = match
                    match.snippets = snippets[id] ?? []
                    return match
                }, hasMore: hasMore, searchedTerms: searched, ignoredTerms: ignored)
        }
    }

    /// A `ts_headline` text with matches between U+0001 and U+0002, as snippet parts.
    static func parts(ofHeadline headline: String) -> [SessionSearch.Snippet.Part] {
        var parts: [SessionSearch.Snippet.Part] = []
        var current = ""
        var inMatch = false
        for scalar in headline.unicodeScalars {
            if scalar == "\u{1}" || scalar == "\u{2}" {
                if !current.isEmpty { parts.append(.init(text: current, match: inMatch)) }
                current = ""
                inMatch = scalar == "\u{1}"
            } else {
                current.unicodeScalars.append(scalar == "\n" || scalar == "\r" || scalar == "\t" ? " " : scalar)
            }
        }
        if !current.isEmpty { parts.append(.init(text: current, match: inMatch)) }
        return parts
    }

    /// Indexes what the index lacks: transcripts whose entries were stored before the index
    /// existed, or that the background indexing has not reached yet (each waits for a background
    /// indexing of the same transcript to finish, then takes the rest).
    func catchUpSearchIndex() async throws(SessionStoreError) {
        let (t, logger) = (tables, configuration.logger)
        let behind = try await connection { connection -> [Int64] in
            var ids: [Int64] = []
            let rows = try await connection.query(
                "SELECT id FROM \(unescaped: t.transcripts) WHERE subpath = '' AND search_seq < next_seq ORDER BY id",
                logger: logger)
            for try await id in rows.decode(Int64.self) { ids.append(id) }
            return ids
        }
        for id in behind { try await indexTranscript(id) }
    }

    /// Indexes the entries of main transcript `id` that its `search_seq` says are not indexed:
    /// the passages in one transaction holding the transcript's indexing lock (an advisory lock
    /// keyed by the schema and the transcript, not its row, so appends to it go on meanwhile and
    /// indexings of it, this store's, another process's or a search's, run one at a time), then
    /// `search_seq` in a short one of its own. Holding no row lock while it writes passages, it
    /// cannot deadlock with a `delete` of the transcript; passages written twice (after a
    /// failure between the two) are skipped by their primary key.
    func indexTranscript(_ id: Int64) async throws(SessionStoreError) {
        let (t, logger) = (tables, configuration.logger)
        let schema = configuration.schema
        let indexed = try await transaction { connection -> (from: Int64, to: Int64)? in
            try await connection.query(
                "SELECT pg_advisory_xact_lock(hashtext(\(schema)), \(Int32(truncatingIfNeeded: id)))", logger: logger)
            let range = try await connection.query(
                "SELECT search_seq, next_seq FROM \(unescaped: t.transcripts) WHERE id = \(id)", logger: logger)
            guard let (from, to) = try await range.decode((Int64, Int64).self).first(where: { _ in true }), from < to
            else { return nil }
            let rows = try await connection.query(
                """
                SELECT seq, raw FROM \(unescaped: t.entries)
                WHERE transcript_id = \(id) AND seq >= \(from) AND seq < \(to) ORDER BY seq
                """, logger: logger)
            var passages = SearchPassages()
            for try await (seq, raw) in rows.decode((Int64, ByteBuffer).self) {
                passages.add(entry: Array(raw.readableBytesView), seq: seq)
                if passages.count >= 2000 {
                    try await passages.insert(transcript: id, connection, t, logger)
                    passages = SearchPassages()
                }
            }
            try await passages.insert(transcript: id, connection, t, logger)
            return (from, to)
        }
        guard let (from, to) = indexed else { return }
        // Only from where this indexing started: another one that got further is kept.
        try await connection { connection in
            try await connection.query(
                "UPDATE \(unescaped: t.transcripts) SET search_seq = \(to) WHERE id = \(id) AND search_seq = \(from)",
                logger: logger)
        }
    }

    /// Indexes main transcript `id` after an append's commit, on the store's indexing task.
    func indexInBackground(_ id: Int64) {
        let logger = configuration.logger
        searchIndexer.schedule(id) { [self] id in
            do throws(SessionStoreError) {
                try await indexTranscript(id)
            } catch {
                // The append stands; the next search indexes what is missing. The reason is
                // content-free (an SQLSTATE or a connection error's kind).
                logger.warning(
                    "search indexing left to the next search",
                    metadata: ["code": "\(error.code)", "reason": "\(error.reason ?? "")"])
            }
        }
    }

    /// Waits until the background indexing of earlier appends has finished (for tests and
    /// benchmarks; searches do not need it: they index what is behind first).
    package func searchIndexingFinished() async {
        await searchIndexer.idle()
    }
}

/// The store's one background indexing task: started by an append's commit, it indexes the
/// transcripts scheduled meanwhile (each once, however many appends it got) and ends when none is
/// left. Owned by the store; it holds the store only while it runs.
final class SearchIndexer: Sendable {
    private let state = Mutex<(pending: [Int64], queued: Set<Int64>, task: Task<Void, Never>?)>(([], [], nil))

    func schedule(_ id: Int64, _ index: @escaping @Sendable (Int64) async -> Void) {
        state.withLock { state in
            guard state.queued.insert(id).inserted else { return }
            state.pending.append(id)
            guard state.task == nil else { return }
            state.task = Task { [self] in
                while let next = takeNext() { await index(next) }
            }
        }
    }

    /// The next transcript, or `nil` (and the task is over) when none is left.
    private func takeNext() -> Int64? {
        state.withLock { state in
            guard !state.pending.isEmpty else {
                state.task = nil
                return nil
            }
            let id = state.pending.removeFirst()
            state.queued.remove(id)
            return id
        }
    }

    func idle() async {
        while let task = state.withLock({ $0.task }) { await task.value }
    }
}

/// The searchable passages of transcript entries, ready to insert into the search table.
struct SearchPassages {
    var seqs: [Int64] = []
    var parts: [Int32] = []
    var fields: [String] = []
    var weights: [String] = []
    var bodies: [String] = []

    var count: Int { seqs.count }

    /// The passages of one transcript line (a `user` or `assistant` entry's content, as
    /// `SessionSearch/passages(of:)` finds them), long texts cut into pieces at white space.
    mutating func add(entry raw: [UInt8], seq: Int64) {
        guard case .object(let object)? = try? JSONValue.parse(raw),
            let type = object["type"]?.stringValue, type == "user" || type == "assistant"
        else { return }
        let blocks = SessionDocument.Block.blocks(from: object["message"]?["content"])
        guard !blocks.isEmpty else { return }
        let document = SessionDocument(
            sessionID: "", origin: .store,
            entries: [SessionDocument.Entry(role: type == "user" ? .user : .assistant, blocks: blocks)])
        var part: Int32 = 0
        for passage in SessionSearch.passages(of: document) {
            for piece in Self.pieces(of: passage.text) {
                seqs.append(seq)
                parts.append(part)
                fields.append(passage.field.rawValue)
                weights.append(Self.weight(passage.field))
                bodies.append(piece)
                part += 1
            }
        }
    }

    /// `ts_rank_cd` weights: prompts A, replies B, tool inputs and results C, thinking D.
    static func weight(_ field: SessionSearch.Field) -> String {
        switch field {
        case .title, .prompt: "A"
        case .reply: "B"
        case .toolInput, .toolResult: "C"
        case .thinking: "D"
        }
    }

    /// `text` in pieces of at most `PostgresSessionStore.passageLimit` UTF-8 bytes, cut after
    /// white space where there is some (a tsvector holds at most 1 MB, and positions past
    /// 16,383 are not kept); the markers `ts_headline` output uses are replaced by spaces.
    static func pieces(of text: String) -> [String] {
        var clean = text
        if clean.unicodeScalars.contains(where: { $0 == "\u{1}" || $0 == "\u{2}" || $0 == "\u{0}" }) {
            clean = String(
                String.UnicodeScalarView(
                    clean.unicodeScalars.map { $0 == "\u{1}" || $0 == "\u{2}" || $0 == "\u{0}" ? " " : $0 }))
        }
        let limit = PostgresSessionStore.passageLimit
        let bytes = Array(clean.utf8)
        guard bytes.count > limit else { return [clean] }
        var pieces: [String] = []
        var start = 0
        while start < bytes.count {
            var end = min(bytes.count, start + limit)
            if end < bytes.count {
                var cut = end
                while cut > start + limit / 2, bytes[cut - 1] != 0x20, bytes[cut - 1] != 0x0A { cut -= 1 }
                if cut > start + limit / 2 { end = cut }
                // Never inside a UTF-8 sequence.
                while end > start + 1, end < bytes.count, bytes[end] & 0xC0 == 0x80 { end -= 1 }
            }
            pieces.append(String(decoding: bytes[start..<end], as: UTF8.self))
            start = end
        }
        return pieces
    }

    /// Inserts the passages of `transcript`, their `tsvector` computed by the server.
    func insert(transcript: Int64, _ connection: PostgresConnection, _ t: PostgresTables, _ logger: Logger)
        async throws
    {
        guard !seqs.isEmpty else { return }
        let config = PostgresSessionStore.searchConfiguration
        try await connection.query(
            """
            INSERT INTO \(unescaped: t.search) (transcript_id, seq, part, field, body, document)
            SELECT \(transcript), p.seq, p.part, p.field, p.body,
                setweight(to_tsvector(\(config)::regconfig, p.body), p.weight::"char")
            FROM unnest(\(seqs)::bigint[], \(parts)::int[], \(fields)::text[], \(weights)::text[], \(bodies)::text[])
                AS p(seq, part, field, weight, body)
            ON CONFLICT (transcript_id, seq, part) DO NOTHING
            """, logger: logger)
    }
}
