import ArgumentParser
import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeSessionsSQLite
import Foundation

extension SessionExportFormat: ExpressibleByArgument {}

/// A command the entry point runs (calls the async `run()` statically, never through an existential).
protocol ToolCommand {
    func execute() async throws
}

extension ListCommand: ToolCommand { func execute() async throws { try await run() } }
extension ShowCommand: ToolCommand { func execute() async throws { try await run() } }
extension ExportCommand: ToolCommand { func execute() async throws { try await run() } }
extension SearchCommand: ToolCommand { func execute() async throws { try await run() } }
extension RenameCommand: ToolCommand { func execute() async throws { try await run() } }
extension TagCommand: ToolCommand { func execute() async throws { try await run() } }
extension DeleteCommand: ToolCommand { func execute() async throws { try await run() } }

struct Tool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "claude-sessions",
        abstract: "List, show, export, search, rename, tag and delete Claude Code sessions; chat in a recorded one.",
        discussion: """
            Sources (one at a time; the CLI's own transcripts by default):
              (default)             the CLI's transcripts in $CLAUDE_CONFIG_DIR or ~/.claude
              --records[=DIR]       SessionPersistentClient records (default ~/.claude_sdk/sessions;
                                    --records=sqlite:PATH for a SQLite database)
              --store sqlite:PATH   a SQLiteSessionStore database
              --store files:DIR     a FileSessionStore folder
              --store postgres://USER:PASSWORD@HOST:PORT/DB
                                    a PostgresSessionStore database (TLS off)

            Session ids may be shortened to any unique prefix, as with git.

            Examples:
              claude-sessions list --limit 20
              claude-sessions list --since 7d --project ~/src/app --json
              claude-sessions show 3f2a
              claude-sessions export 3f2a --format html -o chat.html
              claude-sessions export 3f2a 9b1c --format md -o exports/
              claude-sessions search "sqlite migration" --json
              claude-sessions rename 3f2a "Fix the login bug"
              claude-sessions tag 3f2a review
              claude-sessions delete 3f2a --yes
              claude-sessions search "sqlite migration" --index ~/.claude_sdk/search.sqlite
              claude-sessions stats --since 30d
              claude-sessions prune --older-than 90d --archive ~/claude-archive --yes
              claude-sessions import 3f2a --into sqlite:/var/db/sessions.sqlite
              claude-sessions list --records
              claude-sessions list --store sqlite:/var/db/sessions.sqlite
              claude-sessions chat                       # Ctrl-C interrupts a reply, Ctrl-D ends
              claude-sessions chat --resume 3f2a --model sonnet

            Exit codes:
              0  success
              1  nothing found (unknown id, no search results)
              2  usage error (bad arguments, ambiguous id prefix)
              3  unreadable or damaged data (an output is still written when the rest could be read)
              4  failure (a store or file operation failed)
              5  cancelled at the confirmation prompt (nothing deleted)

            Colour is used only on a terminal, never when NO_COLOR is set.

            Shell completions: claude-sessions --generate-completion-script bash|zsh|fish
            (e.g. claude-sessions --generate-completion-script zsh > ~/.zfunc/_claude-sessions).
            """,
        version: ClaudeCodeVersion.sdk,
        subcommands: [
            ListCommand.self, ShowCommand.self, ExportCommand.self, SearchCommand.self, RenameCommand.self,
            TagCommand.self, DeleteCommand.self, StatsCommand.self, PruneCommand.self, ImportCommand.self,
            ChatCommand.self,
        ]
    )
}

struct SourceOptions: ParsableArguments {
    @Option(
        name: .customLong("config-dir"),
        help: "The CLI's configuration directory (default $CLAUDE_CONFIG_DIR or ~/.claude).")
    var configDir: String?

    @Option(
        name: .customLong("records"),
        help: ArgumentHelp(
            "Read SessionPersistentClient records (--records alone: ~/.claude_sdk/sessions).", valueName: "DIR"))
    var records: String?

    @Option(
        name: .customLong("store"),
        help: ArgumentHelp("Read a session store: sqlite:PATH, files:DIR or postgres://…", valueName: "STORE"))
    var store: String?

    func backend() throws(ToolError) -> any SessionBackend {
        try makeBackend(SourceOptionsValues(configDir: configDir, records: records, store: store))
    }
}

// MARK: - Shared helpers

/// Finds the one session whose id starts with `prefix`.
func resolve(_ prefix: String, in listing: Listing, backend: any SessionBackend) throws(ToolError) -> ListedSession {
    let wanted = prefix.lowercased()
    guard !wanted.isEmpty else { throw ToolError(ExitStatus.usage, "an empty session id was given") }
    let matches = listing.sessions.filter { $0.id.lowercased().hasPrefix(wanted) }
    if let exact = matches.first(where: { $0.id.lowercased() == wanted }) { return exact }
    if matches.count == 1 { return matches[0] }
    if matches.count > 1 {
        let shown = matches.prefix(5).map(\.id).joined(separator: ", ")
        throw ToolError(
            ExitStatus.usage,
            "ambiguous id '\(prefix)' matches \(matches.count) sessions (\(shown)\(matches.count > 5 ? ", …" : "")); give more characters"
        )
    }
    if let problem = listing.problems.first(where: { $0.sessionID?.lowercased().hasPrefix(wanted) == true }) {
        throw ToolError(ExitStatus.unreadable, "cannot read session \(problem.sessionID ?? prefix): \(problem.message)")
    }
    throw ToolError(
        ExitStatus.nothingFound,
        "no session matches '\(prefix)' in \(backend.label); run `claude-sessions list` to see the ids")
}

func resolveAll(_ prefixes: [String], backend: any SessionBackend) async throws(ToolError) -> [ListedSession] {
    let listing = try await backend.list(project: nil)
    var sessions: [ListedSession] = []
    for prefix in prefixes {
        let session = try resolve(prefix, in: listing, backend: backend)
        if !sessions.contains(where: { $0.id == session.id }) { sessions.append(session) }
    }
    return sessions
}

/// Parses `30d`, `12h`, `45m`, `2w` or an ISO-8601 date (`2025-01-31`, `2025-01-31T10:00:00Z`).
func parseSince(_ text: String, now: Date = Date()) -> Date? {
    let units: [Character: Double] = ["m": 60, "h": 3600, "d": 86_400, "w": 604_800]
    if let unit = text.last, let seconds = units[unit], let count = Double(text.dropLast()), count >= 0 {
        return now.addingTimeInterval(-count * seconds)
    }
    let formatter = ISO8601DateFormatter()
    if let date = formatter.date(from: text) { return date }
    formatter.formatOptions = [.withFullDate]
    return formatter.date(from: text)
}

/// Loads `sessions` `width` at a time and hands each one to `body`, in the order of `sessions`,
/// then lets it go: however many sessions there are, at most one batch of them is in memory.
/// Returns the sessions that could not be loaded.
func forEachLoaded(
    _ sessions: [ListedSession], backend: any SessionBackend, width: Int = 4,
    _ body: (ListedSession, SessionExport) -> Void
) async -> [ToolError] {
    var failures: [ToolError] = []
    var next = 0
    while next < sessions.count {
        let batch = next..<min(next + width, sessions.count)
        next = batch.upperBound
        // One struct per load (a task group of `(Int, Result<SessionExport, ToolError>)` tuples
        // crashed in release builds of Swift 6.3: the index read back was out of range).
        struct Outcome: Sendable {
            var index: Int
            var export: SessionExport?
            var error: ToolError?
        }
        var done = await withTaskGroup(of: Outcome.self) { group in
            for index in batch {
                let session = sessions[index]
                group.addTask {
                    do throws(ToolError) {
                        return Outcome(index: index, export: try await backend.load(session))
                    } catch {
                        return Outcome(index: index, error: error)
                    }
                }
            }
            var done: [Outcome] = []
            for await item in group { done.append(item) }
            return done
        }
        done.sort { $0.index < $1.index }
        for outcome in done {
            if let export = outcome.export { body(sessions[outcome.index], export) }
            if let error = outcome.error { failures.append(error) }
        }
    }
    return failures
}

func jsonEncoder() -> JSONEncoder {
    SessionExporter.jsonEncoder()
}

// MARK: - list

struct ListRow: Codable {
    var id: String
    var title: String
    var project: String?
    var lastActivity: Date?
    var messages: Int?
    var tokens: Int?
    var costUSD: Double?
    var tag: String?
}

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List sessions, newest first.",
        discussion: "Columns: id, title or first prompt, messages, tokens, cost, last activity, project.")

    @OptionGroup var source: SourceOptions
    @Option(help: "Only the sessions of this project directory.") var project: String?
    @Option(help: "Only sessions active since then: 30d, 12h, 2w, 45m or a date (2025-01-31).") var since: String?
    @Option(help: "The most sessions to show.") var limit: Int?
    @Option(help: "Only the sessions with this tag.") var tag: String?
    @Flag(help: "Print JSON instead of a table.") var json = false
    @Flag(
        name: .customLong("no-cache"),
        help: "Read every session instead of the summary cache (~/.cache/claude-sessions; the CLI's transcripts only).")
    var noCache = false

    func run() async throws {
        let backend = try source.backend()
        var cutoff: Date?
        if let since {
            guard let date = parseSince(since) else {
                throw ToolError(ExitStatus.usage, "cannot read --since '\(since)'; use 30d, 12h, 2w, 45m or 2025-01-31")
            }
            cutoff = date
        }
        if let limit, limit <= 0 { throw ToolError(ExitStatus.usage, "--limit must be at least 1") }
        let listing: Listing
        if !noCache, project == nil, let cli = backend as? CLIBackend, let cached = await cachedListing(cli) {
            listing = cached
        } else {
            listing = try await backend.list(project: project.map(expandTilde))
        }
        var sessions = listing.sessions
        if let cutoff { sessions = sessions.filter { ($0.lastActivity ?? .distantPast) >= cutoff } }
        if let tag { sessions = sessions.filter { $0.tag == tag } }
        if let limit { sessions = Array(sessions.prefix(limit)) }
        // Fill the counts the listing does not know by reading the sessions shown.
        let missing = sessions.filter { $0.messageCount == nil }
        if !missing.isEmpty {
            let figures = await backend.figures(of: missing)
            for index in sessions.indices where sessions[index].messageCount == nil {
                guard let found = figures[sessions[index].id] else { continue }
                sessions[index].messageCount = found.messageCount
                sessions[index].tokens = found.usage.totalTokens
                sessions[index].costUSD = found.usage.costUSD
            }
        }
        for problem in listing.problems {
            Terminal.warn("skipped \(problem.message)")
        }
        let rows = sessions.map {
            ListRow(
                id: $0.id, title: $0.title, project: $0.project, lastActivity: $0.lastActivity,
                messages: $0.messageCount,
                tokens: $0.tokens, costUSD: $0.costUSD, tag: $0.tag)
        }
        if json {
            let data = try jsonEncoder().encode(rows)
            Terminal.write(String(decoding: data, as: UTF8.self) + "\n")
            return
        }
        let style = Terminal.Style(enabled: Terminal.colorEnabled(fileDescriptor: 1))
        var table: [[String]] = [["ID", "TITLE", "MSGS", "TOKENS", "COST", "LAST ACTIVITY", "PROJECT"]]
        for row in rows {
            table.append([
                String(row.id.prefix(8)), Terminal.clean(ExportText.truncate(taggedTitle(row), limit: 48)),
                row.messages.map(String.init) ?? "?", row.tokens.map(ExportText.count) ?? "?",
                ExportText.cost(row.costUSD), row.lastActivity.map(ExportText.short) ?? "—",
                Terminal.clean(row.project ?? ""),
            ])
        }
        Terminal.write(Terminal.table(table, style: style, rightAligned: [2, 3, 4]))
    }
}

extension ListCommand {
    /// Every session of the CLI's transcripts with its counts, from the summary cache brought up
    /// to date first (only the sessions whose files changed are read); `nil` when the cache
    /// cannot be used (the caller lists without it).
    func cachedListing(_ backend: CLIBackend) async -> Listing? {
        guard let cache = SummaryCache.open(for: backend.library) else { return nil }
        do {
            try await cache.refresh(library: backend.library, indexingText: false)
            let summaries = try await cache.summaries()
            let problems = try await cache.problems()
            return Listing(
                sessions: summaries.map {
                    ListedSession(
                        id: $0.sessionID, title: $0.title, project: $0.projectPath, lastActivity: $0.lastModified,
                        tag: $0.tag, messageCount: $0.messageCount, tokens: $0.totalTokens, costUSD: $0.costUSD)
                },
                problems: problems.map { ListingProblem(sessionID: $0.sessionID, path: "", message: $0.message) })
        } catch {
            // A damaged cache is deleted (the next listing rebuilds it); this one reads the files.
            SummaryCache.discard(cache.path)
            return nil
        }
    }
}

// MARK: - show

struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a session's conversation.",
        discussion: "Tool calls, their results and thinking are folded to one line unless --full is given.")

    @OptionGroup var source: SourceOptions
    @Argument(help: "The session id or a unique prefix of it.") var id: String
    @Flag(help: "Show tool calls, tool results and thinking in full.") var full = false

    func run() async throws {
        let backend = try source.backend()
        let session = try await resolveAll([id], backend: backend)[0]
        let export = try await backend.load(session)
        let style = Terminal.Style(enabled: Terminal.colorEnabled(fileDescriptor: 1))
        Terminal.write(TextRenderer.render(export.document, full: full, style: style))
        try damaged(export)
    }
}

func damaged(_ export: SessionExport) throws(ToolError) {
    if export.document.skippedLineCount > 0 {
        throw ToolError(
            ExitStatus.unreadable,
            "\(export.document.skippedLineCount) damaged line(s) of session \(export.document.sessionID) were skipped"
                + (export.sourcePath.map { " (\($0))" } ?? "") + "; the rest was shown")
    }
}

// MARK: - export

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Export sessions as Markdown, JSON, JSON Lines or HTML.",
        discussion: """
            md: readable Markdown. json: one typed document per session (an array for several on stdout).
            jsonl: the source's lines byte for byte. html: one self-contained page (no scripts, nothing
            loaded from the network). With several sessions, -o names a folder (created if needed) that
            receives <id>.<format> files.
            """)

    @OptionGroup var source: SourceOptions
    @Argument(help: "Session ids or unique prefixes.") var ids: [String]
    @Option(help: "md, json, jsonl or html.") var format: SessionExportFormat = .markdown
    @Option(name: .shortAndLong, help: "The file (or, for several sessions, the folder) to write; stdout by default.")
    var output: String?

    func validate() throws {
        if ids.isEmpty { throw ValidationError("give at least one session id") }
    }

    func run() async throws {
        let backend = try source.backend()
        var sessions = await lookupAll(ids, backend: backend) ?? []
        if sessions.isEmpty { sessions = try await resolveAll(ids, backend: backend) }
        var exports: [SessionExport] = []
        for session in sessions {
            var export = try await backend.load(session)
            if format != .jsonl { export.jsonLines = [] }  // only JSON Lines writes the source's lines
            exports.append(export)
        }
        if let output {
            let path = expandTilde(output)
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            if exports.count > 1 || (exists && isDirectory.boolValue) || output.hasSuffix("/") {
                do {
                    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                } catch {
                    throw ToolError(ExitStatus.failure, "cannot create the folder \(path); check the path")
                }
                for export in exports {
                    try writeExport(
                        export, as: format, to: path + "/" + export.document.sessionID + "." + format.fileExtension)
                }
            } else {
                try writeExport(exports[0], as: format, to: path)
            }
        } else if exports.count > 1 {
            switch format {
            case .html:
                throw ToolError(ExitStatus.usage, "several HTML pages cannot go to stdout; give -o FOLDER")
            case .json:
                let data = try jsonEncoder().encode(exports.map(\.document))
                Terminal.write(data + Data("\n".utf8))
            case .markdown:
                Terminal.write(
                    Data(
                        exports.map { String(decoding: SessionExporter.render($0, as: .markdown), as: UTF8.self) }
                            .joined(separator: "\n---\n\n").utf8))
            case .jsonl:
                for export in exports { Terminal.write(Data(export.jsonLines)) }
            }
        } else {
            try writeExportToStandardOutput(exports[0], as: format)
        }
        for export in exports { try damaged(export) }
    }
}

// MARK: - search

struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Search prompts, replies, thinking, tool calls and tool results.",
        discussion: """
            Every word must occur (case-insensitive); "quoted words" are searched as one phrase. Results are
            ranked by how often and where the words occur, with highlighted snippets. Exits with 1 when
            nothing matches.
            """)

    @OptionGroup var source: SourceOptions
    @Argument(help: "The words to look for.") var query: [String]
    @Option(help: "Only the sessions of this project directory.") var project: String?
    @Option(help: "The most sessions to show.") var limit: Int?
    @Flag(help: "Print JSON instead of text.") var json = false
    @Option(
        help: ArgumentHelp(
            "Use a search index (an SQLite file) at PATH, created if missing and brought up to date first (only changed sessions are read).",
            valueName: "PATH"))
    var index: String?
    @Flag(
        help: ArgumentHelp(
            "With --index on the CLI's transcripts: check every transcript first.",
            discussion: """
                By default a full check of the transcripts' files is trusted for a minute: in between, only the \
                project folders and the sessions active in the 15 minutes before that check are looked at, so an \
                older session that grows again is found within a minute.
                """))
    var fresh = false

    func run() async throws {
        let text = query.joined(separator: " ")
        guard !SessionSearch.terms(of: text).isEmpty else {
            throw ToolError(ExitStatus.usage, "the query is empty; give words to look for")
        }
        let backend = try source.backend()
        let hits: [SessionSearch.Hit]
        if let index {
            hits = try await indexedSearch(text, backend: backend, indexPath: expandTilde(index))
        } else if let postgres = Self.postgresStore(backend) {
            hits = try await postgresSearch(text, store: postgres, backend: backend)
        } else {
            let listing = try await backend.list(project: project.map(expandTilde))
            // Scanned one session at a time: the scan keeps the best hits' documents only.
            var scan = SessionSearch.Scan(text, limit: limit)
            let failures = await forEachLoaded(listing.sessions, backend: backend) { scan.add($1.document) }
            if !failures.isEmpty || !listing.problems.isEmpty {
                Terminal.warn(
                    "\(failures.count + listing.problems.count) session(s) could not be read and were not searched")
            }
            hits = scan.hits()
        }
        if json {
            let data = try jsonEncoder().encode(hits)
            Terminal.write(String(decoding: data, as: UTF8.self) + "\n")
        } else {
            let style = Terminal.Style(enabled: Terminal.colorEnabled(fileDescriptor: 1))
            var out = ""
            for hit in hits {
                out +=
                    style.bold(String(hit.sessionID.prefix(8))) + "  "
                    + Terminal.clean(ExportText.truncate(hit.title, limit: 60))
                out +=
                    style.dim(
                        "  (\(hit.matchCount) match\(hit.matchCount == 1 ? "" : "es")"
                            + (hit.lastActivity.map { ", " + ExportText.short($0) } ?? "") + ")") + "\n"
                for snippet in hit.snippets {
                    let marked = snippet.parts.map {
                        $0.match ? style.highlight(Terminal.clean($0.text)) : Terminal.clean($0.text)
                    }.joined()
                    out += "    " + style.dim(snippet.field.rawValue + ":") + " " + marked + "\n"
                }
            }
            Terminal.write(out)
        }
        if hits.isEmpty { throw ToolError(ExitStatus.nothingFound, "no session matches \(text)") }
    }
}

extension SearchCommand {
    /// Refreshes the index with every session of the source (so a --project search does not drop
    /// the others), then searches it.
    func indexedSearch(_ text: String, backend: any SessionBackend, indexPath: String) async throws
        -> [SessionSearch.Hit]
    {
        if let cli = backend as? CLIBackend {
            return try await indexedTranscriptSearch(text, backend: cli, indexPath: indexPath)
        }
        let all = try await backend.list(project: nil)
        let index: SQLiteSearchIndex
        do {
            index = try SQLiteSearchIndex(path: indexPath)
        } catch {
            throw ToolError(ExitStatus.failure, "cannot open the index \(indexPath); check the path (\(error))")
        }
        var byID: [String: ListedSession] = [:]
        for session in all.sessions { byID[session.id] = session }
        let report: SQLiteSearchIndex.RefreshReport
        do {
            report = try await index.refresh(all.sessions.map { ($0.id, $0.fingerprint) }) { id in
                guard let session = byID[id] else { return nil }
                return try? await backend.load(session).document
            }
        } catch {
            throw ToolError(ExitStatus.failure, "cannot update the index \(indexPath): \(error)")
        }
        if !report.failed.isEmpty || !all.problems.isEmpty {
            Terminal.warn(
                "\(report.failed.count + all.problems.count) session(s) could not be read and were not indexed")
        }
        return try await query(index, indexPath: indexPath, text, backend: backend).map { match in
            SessionSearch.Hit(
                sessionID: match.sessionID, title: match.title,
                projectPath: match.projectPath ?? byID[match.sessionID]?.project, lastActivity: match.lastActivity,
                score: match.score, matchCount: match.matchCount, snippets: match.snippets)
        }
    }
}

extension SearchCommand {
    /// Asks an up-to-date index for `text`, within `--project`'s sessions when given.
    func query(_ index: SQLiteSearchIndex, indexPath: String, _ text: String, backend: any SessionBackend)
        async throws -> [SQLiteSearchIndex.Match]
    {
        var only: Set<String>?
        if let project {
            only = Set(try await backend.list(project: expandTilde(project)).sessions.map(\.id))
        }
        do {
            return try await index.search(text, limit: limit, only: only)
        } catch {
            throw ToolError(ExitStatus.failure, "cannot search the index \(indexPath): \(error)")
        }
    }

    /// The CLI's transcripts: the index checks the files' `stat` against what it stored and reads
    /// only the sessions that changed, then answers from its trigrams and stored passages.
    func indexedTranscriptSearch(_ text: String, backend: CLIBackend, indexPath: String) async throws
        -> [SessionSearch.Hit]
    {
        let index: SQLiteSearchIndex
        do {
            index = try SQLiteSearchIndex(path: indexPath)
        } catch {
            throw ToolError(ExitStatus.failure, "cannot open the index \(indexPath); check the path (\(error))")
        }
        do {
            let report = try await index.refresh(
                library: backend.library, indexingText: true, fullCheckInterval: fresh ? .zero : .seconds(60))
            let problems = try await index.problems()
            if !report.failed.isEmpty || !problems.isEmpty {
                Terminal.warn(
                    "\(Set(report.failed).union(problems.map(\.sessionID)).count) session(s) could not be read and were not indexed"
                )
            }
        } catch {
            throw ToolError(ExitStatus.failure, "cannot update the index \(indexPath): \(error)")
        }
        return try await query(index, indexPath: indexPath, text, backend: backend).map {
            SessionSearch.Hit(
                sessionID: $0.sessionID, title: $0.title, projectPath: $0.projectPath, lastActivity: $0.lastActivity,
                score: $0.score, matchCount: $0.matchCount, snippets: $0.snippets)
        }
    }
}

// MARK: - rename, tag, delete

struct RenameCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rename", abstract: "Give a session a title.")

    @OptionGroup var source: SourceOptions
    @Argument(help: "The session id or a unique prefix of it.") var id: String
    @Argument(help: "The new title.") var title: String

    func run() async throws {
        let backend = try source.backend()
        let session = try await resolveAll([id], backend: backend)[0]
        try await backend.rename(session, title: title)
        Terminal.write("renamed \(session.id)\n")
    }
}

struct TagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tag", abstract: "Tag a session, or clear its tag.")

    @OptionGroup var source: SourceOptions
    @Argument(help: "The session id or a unique prefix of it.") var id: String
    @Argument(help: "The tag.") var tag: String?
    @Flag(help: "Remove the tag.") var clear = false

    func validate() throws {
        if clear == (tag != nil) { throw ValidationError("give a tag, or --clear") }
    }

    func run() async throws {
        let backend = try source.backend()
        let session = try await resolveAll([id], backend: backend)[0]
        try await backend.tag(session, tag: clear ? nil : tag)
        Terminal.write(clear ? "cleared the tag of \(session.id)\n" : "tagged \(session.id)\n")
    }
}

struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete sessions.",
        discussion: "Asks for confirmation on a terminal; elsewhere --yes is required.")

    @OptionGroup var source: SourceOptions
    @Argument(help: "Session ids or unique prefixes.") var ids: [String]
    @Flag(name: [.short, .long], help: "Do not ask for confirmation.") var yes = false

    func validate() throws {
        if ids.isEmpty { throw ValidationError("give at least one session id") }
    }

    func run() async throws {
        let backend = try source.backend()
        // Every id is resolved before anything is deleted.
        let sessions = try await resolveAll(ids, backend: backend)
        if !yes {
            guard Terminal.isTerminal(0) else {
                throw ToolError(ExitStatus.usage, "refusing to delete without confirmation; pass --yes")
            }
            var prompt = "Delete \(sessions.count) session(s)?\n"
            for session in sessions {
                prompt += "  \(session.id)  \(Terminal.clean(ExportText.truncate(session.title, limit: 60)))\n"
            }
            FileHandle.standardError.write(Data((prompt + "[y/N] ").utf8))
            let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            guard answer == "y" || answer == "yes" else {
                throw ToolError(ExitStatus.declined, "nothing deleted")
            }
        }
        for session in sessions {
            try await backend.delete(session)
            Terminal.write("deleted \(session.id)\n")
        }
    }
}
