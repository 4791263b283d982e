#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// Full-text search over sessions: titles, prompts, replies, thinking, tool inputs and tool
/// results.
///
/// A session matches when every term of the query occurs in it (case- and diacritic-insensitive
/// substring match, one Unicode scalar at a time; `"quoted words"` are one term). Hits are ranked by how often and where the
/// terms occur (title, then prompts, replies, tool calls and results, then thinking), then by
/// last activity, and carry highlighted snippets.
///
/// ```swift
/// let hits = SessionSearch.search("migration sqlite", in: documents)
/// for hit in hits { print(hit.sessionID, hit.snippets.first?.plainText ?? "") }
/// ```
public enum SessionSearch {
    /// Where in a session a match was found.
    public enum Field: String, Sendable, Hashable, Codable, CaseIterable {
        /// The session's title.
        case title
        /// A prompt the user typed.
        case prompt
        /// The assistant's text.
        case reply
        /// The assistant's thinking.
        case thinking
        /// A tool call's name and input.
        case toolInput = "tool_input"
        /// A tool's result.
        case toolResult = "tool_result"

        /// How much a match here counts in the ranking.
        var weight: Double {
            switch self {
            case .title: 3
            case .prompt: 2
            case .reply: 1.5
            case .toolInput, .toolResult: 1
            case .thinking: 0.5
            }
        }
    }

    /// One piece of searchable text of a session.
    public struct Passage: Sendable, Hashable {
        /// Where it is.
        public var field: Field
        /// The index of its entry in ``SessionDocument/entries`` (`-1` for the title).
        public var entryIndex: Int
        /// The text.
        public var text: String

        /// Creates a passage.
        public init(field: Field, entryIndex: Int, text: String) {
            self.field = field
            self.entryIndex = entryIndex
            self.text = text
        }
    }

    /// A snippet: a window of a passage with the matched terms marked.
    public struct Snippet: Sendable, Hashable, Codable {
        /// A run of text, matched or not.
        public struct Part: Sendable, Hashable, Codable {
            /// The text.
            public var text: String
            /// Whether it is a match of a query term.
            public var match: Bool

            /// Creates a part.
            public init(text: String, match: Bool) {
                self.text = text
                self.match = match
            }
        }

        /// Where the passage is.
        public var field: Field
        /// The index of its entry in ``SessionDocument/entries`` (`-1` for the title).
        public var entryIndex: Int
        /// The snippet's runs, in order.
        public var parts: [Part]

        /// Creates a snippet.
        public init(field: Field, entryIndex: Int, parts: [Part]) {
            self.field = field
            self.entryIndex = entryIndex
            self.parts = parts
        }

        /// The snippet's text without marks.
        public var plainText: String { parts.map(\.text).joined() }

        /// The snippet's text with matches between `open` and `close`.
        public func marked(open: String, close: String) -> String {
            parts.map { $0.match ? open + $0.text + close : $0.text }.joined()
        }
    }

    /// One session that matches.
    public struct Hit: Sendable, Hashable, Codable {
        /// The session's id.
        public var sessionID: String
        /// Its title, else its first prompt.
        public var title: String
        /// Its project, when known.
        public var projectPath: String?
        /// Its last activity, when known.
        public var lastActivity: Date?
        /// The ranking score (higher first).
        public var score: Double
        /// How many matches in all.
        public var matchCount: Int
        /// Up to three snippets, best first.
        public var snippets: [Snippet]

        /// Creates a hit.
        public init(
            sessionID: String, title: String, projectPath: String?, lastActivity: Date?, score: Double,
            matchCount: Int, snippets: [Snippet]
        ) {
            self.sessionID = sessionID
            self.title = title
            self.projectPath = projectPath
            self.lastActivity = lastActivity
            self.score = score
            self.matchCount = matchCount
            self.snippets = snippets
        }
    }

    /// The terms of a query: words split on white space, `"quoted phrases"` kept whole, empty
    /// terms dropped, duplicates (ignoring case) removed.
    public static func terms(of query: String) -> [String] {
        var terms: [String] = []
        var current = ""
        var quoted = false
        func flush() {
            let term = current.trimmingCharacters(in: .whitespacesAndNewlines)
            if !term.isEmpty, !terms.contains(where: { $0.caseInsensitiveCompare(term) == .orderedSame }) {
                terms.append(term)
            }
            current = ""
        }
        for character in query {
            if character == "\"" {
                flush()
                quoted.toggle()
            } else if character.isWhitespace && !quoted {
                flush()
            } else {
                current.append(character)
            }
        }
        flush()
        return terms
    }

    /// The searchable passages of a document.
    public static func passages(of document: SessionDocument) -> [Passage] {
        var passages: [Passage] = []
        if let title = document.title, !title.isEmpty {
            passages.append(Passage(field: .title, entryIndex: -1, text: title))
        }
        for (index, entry) in document.entries.enumerated() where entry.role != .turnEnd {
            for block in entry.blocks { add(block, role: entry.role, index: index, to: &passages) }
        }
        return passages
    }

    private static func add(
        _ block: SessionDocument.Block, role: SessionDocument.Role, index: Int, to passages: inout [Passage]
    ) {
        switch block.kind {
        case .text:
            guard let text = block.text, !text.isEmpty else { return }
            passages.append(Passage(field: role == .user ? .prompt : .reply, entryIndex: index, text: text))
        case .thinking:
            guard let text = block.text, !text.isEmpty else { return }
            passages.append(Passage(field: .thinking, entryIndex: index, text: text))
        case .toolUse:
            let input = block.input.map { ExportText.prettyJSON($0) } ?? ""
            passages.append(Passage(field: .toolInput, entryIndex: index, text: (block.name ?? "") + " " + input))
        case .toolResult:
            let text = ExportText.plainText(block.content ?? [])
            if !text.isEmpty { passages.append(Passage(field: .toolResult, entryIndex: index, text: text)) }
        case .other:
            if let raw = block.raw {
                passages.append(Passage(field: .toolResult, entryIndex: index, text: ExportText.prettyJSON(raw)))
            }
        case .image, .redactedThinking:
            return
        }
    }

    /// The ranges of `term` in `text` (see ``TextFolding``).
    static func ranges(of term: String, in text: String) -> [Range<String.Index>] {
        var matcher = TextFolding.Matcher()
        matcher.load(text)
        return indices(matcher.offsets(of: TextFolding.fold(term)), in: text)
    }

    /// String ranges of UTF-8 offset ranges (sorted by start).
    static func indices(_ offsets: [Range<Int>], in text: String) -> [Range<String.Index>] {
        let utf8 = text.utf8
        return offsets.map {
            utf8.index(utf8.startIndex, offsetBy: $0.lowerBound)..<utf8.index(utf8.startIndex, offsetBy: $0.upperBound)
        }
    }

    /// Whether `document` holds every term (the plain definition a search index must agree with).
    public static func matches(_ document: SessionDocument, terms: [String]) -> Bool {
        guard !terms.isEmpty else { return false }
        let folded = terms.map(TextFolding.fold)
        var found = [Bool](repeating: false, count: terms.count)
        var matcher = TextFolding.Matcher()
        for passage in passages(of: document) {
            matcher.load(passage.text)
            for (index, term) in folded.enumerated() where !found[index] {
                if !matcher.offsets(of: term).isEmpty { found[index] = true }
            }
            if !found.contains(false) { return true }
        }
        return false
    }

    /// Scores one document; `nil` when a term is missing.
    public static func hit(for document: SessionDocument, terms: [String], snippetLimit: Int = 3) -> Hit? {
        hit(
            sessionID: document.sessionID, title: document.displayTitle, projectPath: document.projectPath,
            lastActivity: document.lastActivity, passages: passages(of: document), terms: terms,
            snippetLimit: snippetLimit)
    }

    /// Scores one session from its passages (as ``passages(of:)`` gives them); `nil` when a term
    /// is missing. An index that keeps the passages (such as `SQLiteSearchIndex`) ranks and
    /// highlights with this exactly as the scan does.
    ///
    /// - Parameters:
    ///   - sessionID: The session's id.
    ///   - title: Its title (``SessionDocument/displayTitle``).
    ///   - projectPath: Its project.
    ///   - lastActivity: Its last activity.
    ///   - passages: Its passages.
    ///   - terms: The terms (``terms(of:)``).
    ///   - snippetLimit: The most snippets.
    public static func hit(
        sessionID: String, title: String, projectPath: String?, lastActivity: Date?, passages: [Passage],
        terms: [String], snippetLimit: Int = 3
    ) -> Hit? {
        var matcher = TextFolding.Matcher()
        return hit(
            sessionID: sessionID, title: title, projectPath: projectPath, lastActivity: lastActivity,
            passages: passages, foldedTerms: terms.map(TextFolding.fold), snippetLimit: snippetLimit,
            matcher: &matcher)
    }

    /// Like ``hit(sessionID:title:projectPath:lastActivity:passages:terms:snippetLimit:)``, with
    /// the terms folded once (``TextFolding/fold(_:)``) and a matcher whose buffers are reused
    /// from one session to the next.
    package static func hit(
        sessionID: String, title: String, projectPath: String?, lastActivity: Date?, passages: [Passage],
        foldedTerms: [[UInt8]], snippetLimit: Int = 3, matcher: inout TextFolding.Matcher
    ) -> Hit? {
        guard !foldedTerms.isEmpty else { return nil }
        var perTerm = [Bool](repeating: false, count: foldedTerms.count)
        var score = 0.0
        var total = 0
        var scored: [(passage: Int, ranges: [Range<Int>], weight: Double)] = []
        for (position, passage) in passages.enumerated() {
            matcher.load(passage.text)
            var passageRanges: [Range<Int>] = []
            var weight = 0.0
            for (index, term) in foldedTerms.enumerated() {
                let found = matcher.offsets(of: term)
                guard !found.isEmpty else { continue }
                perTerm[index] = true
                passageRanges += found
                weight += termWeight(passage.field, found.count)
            }
            guard !passageRanges.isEmpty else { continue }
            total += passageRanges.count
            score += weight
            if snippetLimit > 0 { scored.append((position, passageRanges, weight)) }
        }
        guard perTerm.allSatisfy({ $0 }) else { return nil }
        let best = scored.enumerated().sorted {
            $0.element.weight != $1.element.weight ? $0.element.weight > $1.element.weight : $0.offset < $1.offset
        }.prefix(snippetLimit)
        let snippets = best.map {
            let passage = passages[$0.element.passage]
            return snippet(passage, ranges: indices($0.element.ranges, in: passage.text))
        }
        return Hit(
            sessionID: sessionID, title: title, projectPath: projectPath, lastActivity: lastActivity,
            score: (score * 1000).rounded() / 1000, matchCount: total, snippets: snippets)
    }

    /// What a passage of `field` with `counts` occurrences of each term adds to a session's
    /// score, and its number of matches.
    @inline(__always) static func passageWeight(_ field: Field, _ counts: [Int]) -> (weight: Double, found: Int) {
        var weight = 0.0
        var found = 0
        for count in counts where count > 0 {
            found += count
            weight += termWeight(field, count)
        }
        return (weight, found)
    }

    /// What `count` occurrences of one term in a passage of `field` add to a session's score.
    @inline(__always) static func termWeight(_ field: Field, _ count: Int) -> Double {
        field.weight * (1 + log(Double(count)))
    }

    /// The score and match count ``hit(sessionID:title:projectPath:lastActivity:passages:terms:snippetLimit:)``
    /// gives a session, from passages given as UTF-8 (as an index stores them: no `String` is
    /// made); `nil` when a term is missing.
    ///
    /// - Parameters:
    ///   - foldedTerms: The terms, folded (``TextFolding/fold(_:)``).
    ///   - matcher: A matcher to reuse.
    ///   - passages: Calls its argument with each passage's field and UTF-8 text, in order.
    package static func score(
        foldedTerms: [[UInt8]], matcher: inout TextFolding.Matcher,
        passages: ((Field, UnsafeRawBufferPointer) -> Void) -> Void
    ) -> (score: Double, matchCount: Int)? {
        guard !foldedTerms.isEmpty else { return nil }
        var perTerm = [Bool](repeating: false, count: foldedTerms.count)
        var counts = [Int](repeating: 0, count: foldedTerms.count)
        var score = 0.0
        var total = 0
        passages { field, text in
            matcher.counts(of: foldedTerms, in: text, into: &counts)
            let (weight, found) = passageWeight(field, counts)
            guard found > 0 else { return }
            for index in counts.indices where counts[index] > 0 { perTerm[index] = true }
            total += found
            score += weight
        }
        guard perTerm.allSatisfy({ $0 }) else { return nil }
        return ((score * 1000).rounded() / 1000, total)
    }

    /// The snippets ``hit(sessionID:title:projectPath:lastActivity:passages:terms:snippetLimit:)``
    /// gives a session whose passages are stored as UTF-8: the passages are weighed without
    /// making strings, and only the `limit` best are decoded (a session that matches everywhere
    /// costs its three best passages' strings, not all of them).
    ///
    /// - Parameters:
    ///   - foldedTerms: The terms, folded (``TextFolding/fold(_:)``).
    ///   - matcher: A matcher to reuse.
    ///   - limit: The most snippets.
    ///   - passages: Calls its argument with each passage's field and UTF-8 text, in order.
    ///   - decode: The passages at the given positions (ascending), in that order.
    package static func snippets(
        foldedTerms: [[UInt8]], matcher: inout TextFolding.Matcher, limit: Int,
        passages: ((Field, UnsafeRawBufferPointer) -> Void) -> Void, decode: ([Int]) -> [Passage]
    ) -> [Snippet] {
        guard !foldedTerms.isEmpty, limit > 0 else { return [] }
        var counts = [Int](repeating: 0, count: foldedTerms.count)
        var weighed: [(position: Int, weight: Double)] = []
        var position = 0
        passages { field, text in
            defer { position += 1 }
            matcher.counts(of: foldedTerms, in: text, into: &counts)
            let (weight, found) = passageWeight(field, counts)
            if found > 0 { weighed.append((position, weight)) }
        }
        // The order and the choice of `hit`: weight, then position.
        let best = weighed.sorted { $0.weight != $1.weight ? $0.weight > $1.weight : $0.position < $1.position }
            .prefix(limit)
        let chosen = best.map(\.position).sorted()
        let decoded = decode(chosen)
        guard decoded.count == chosen.count else { return [] }
        var byPosition: [Int: Passage] = [:]
        for (position, passage) in zip(chosen, decoded) { byPosition[position] = passage }
        return best.compactMap { choice in
            guard let passage = byPosition[choice.position] else { return nil }
            matcher.load(passage.text)
            var ranges: [Range<Int>] = []
            for term in foldedTerms { ranges += matcher.offsets(of: term) }
            return snippet(passage, ranges: indices(ranges, in: passage.text))
        }
    }

    /// Whether `left` comes before `right` in the scan's order: score, then last activity
    /// (newest first), then id.
    static func ranksBefore(_ left: Hit, _ right: Hit) -> Bool {
        if left.score != right.score { return left.score > right.score }
        let leftDate = left.lastActivity ?? .distantPast
        let rightDate = right.lastActivity ?? .distantPast
        if leftDate != rightDate { return leftDate > rightDate }
        return left.sessionID < right.sessionID
    }

    /// Hits in the scan's order (score, then last activity, newest first, then id), at most
    /// `limit` of them (`nil` or 0: all).
    public static func ranked(_ hits: [Hit], limit: Int? = nil) -> [Hit] {
        var hits = hits
        hits.sort(by: ranksBefore)
        if let limit, limit > 0, hits.count > limit { hits = Array(hits.prefix(limit)) }
        return hits
    }

    /// A snippet of `passage` around the first of `ranges`, with every range in it marked (for
    /// indexes that find passages themselves, such as `SQLiteSearchIndex`).
    public static func snippet(of passage: Passage, ranges: [Range<String.Index>]) -> Snippet {
        snippet(passage, ranges: ranges)
    }

    /// A window of about `radius` characters around the first match, with every match in it marked.
    static func snippet(_ passage: Passage, ranges: [Range<String.Index>], radius: Int = 60) -> Snippet {
        let text = passage.text
        let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
        let first = sorted[0]
        let start = text.index(first.lowerBound, offsetBy: -radius, limitedBy: text.startIndex) ?? text.startIndex
        let end = text.index(first.upperBound, offsetBy: radius * 2, limitedBy: text.endIndex) ?? text.endIndex
        var parts: [Snippet.Part] = []
        func flat(_ slice: Substring) -> String {
            String(slice).replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " ")
                .replacingOccurrences(of: "\t", with: " ")
        }
        if start > text.startIndex { parts.append(Snippet.Part(text: "…", match: false)) }
        var cursor = start
        for range in sorted where range.lowerBound >= cursor && range.upperBound <= end {
            if range.lowerBound > cursor {
                parts.append(Snippet.Part(text: flat(text[cursor..<range.lowerBound]), match: false))
            }
            parts.append(Snippet.Part(text: flat(text[range]), match: true))
            cursor = range.upperBound
        }
        if cursor < end { parts.append(Snippet.Part(text: flat(text[cursor..<end]), match: false)) }
        if end < text.endIndex { parts.append(Snippet.Part(text: "…", match: false)) }
        return Snippet(field: passage.field, entryIndex: passage.entryIndex, parts: parts)
    }

    /// Searches documents by scanning them all (a ``Scan`` fed every document).
    ///
    /// - Parameters:
    ///   - query: The query (see ``terms(of:)``).
    ///   - documents: The sessions.
    ///   - limit: The most hits to return; `nil` for all.
    /// - Returns: The matching sessions, best first.
    public static func search(_ query: String, in documents: [SessionDocument], limit: Int? = nil) -> [Hit] {
        var scan = Scan(query, limit: limit)
        for document in documents { scan.add(document) }
        return scan.hits()
    }

    /// A scan fed one document at a time, so that the documents need not all be in memory:
    /// with a limit it keeps the documents of the best `limit` hits so far (their snippets are
    /// made at the end); without one it makes each hit's snippets as the document comes and keeps
    /// no document. Gives what ``search(_:in:limit:)`` gives for the same documents in any order.
    ///
    /// ```swift
    /// var scan = SessionSearch.Scan("sqlite migration", limit: 20)
    /// for id in ids { scan.add(try await exporter.load(id).document) }
    /// let hits = scan.hits()
    /// ```
    public struct Scan: Sendable {
        private let folded: [[UInt8]]
        private let limit: Int?
        private var matcher = TextFolding.Matcher()
        /// Without a limit: every hit, snippets made.
        private var complete: [Hit] = []
        /// With a limit: the best hits so far (no snippets yet) and their documents.
        private var best: [(hit: Hit, document: SessionDocument)] = []

        /// Starts a scan for `query` (see ``SessionSearch/terms(of:)``) that returns at most
        /// `limit` hits (`nil` or 0: all).
        public init(_ query: String, limit: Int? = nil) {
            folded = SessionSearch.terms(of: query).map(TextFolding.fold)
            self.limit = limit.flatMap { $0 > 0 ? $0 : nil }
        }

        /// Scores one session.
        public mutating func add(_ document: SessionDocument) {
            guard let limit else {
                if let found = hit(document, snippets: 3) { complete.append(found) }
                return
            }
            guard let found = hit(document, snippets: 0) else { return }
            if best.count < limit {
                best.append((found, document))
                return
            }
            // Replaces the worst kept hit when this one ranks before it.
            var worst = 0
            for index in best.indices.dropFirst() where SessionSearch.ranksBefore(best[worst].hit, best[index].hit) {
                worst = index
            }
            if SessionSearch.ranksBefore(found, best[worst].hit) { best[worst] = (found, document) }
        }

        /// The hits, best first, with their snippets.
        public mutating func hits() -> [Hit] {
            guard limit != nil else { return SessionSearch.ranked(complete) }
            let ordered = best.sorted { SessionSearch.ranksBefore($0.hit, $1.hit) }
            return ordered.map { kept in hit(kept.document, snippets: 3) ?? kept.hit }
        }

        private mutating func hit(_ document: SessionDocument, snippets: Int) -> Hit? {
            SessionSearch.hit(
                sessionID: document.sessionID, title: document.displayTitle, projectPath: document.projectPath,
                lastActivity: document.lastActivity, passages: SessionSearch.passages(of: document),
                foldedTerms: folded, snippetLimit: snippets, matcher: &matcher)
        }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
