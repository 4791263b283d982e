import ArgumentParser
import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeSessionsSQLite
import Foundation

// MARK: - stats

struct StatsReport: Codable {
    struct Group: Codable {
        var name: String
        var sessions: Int
        var messages: Int
        var tokens: Int
        var costUSD: Double?
    }

    var sessions: Int
    var messages: Int
    var inputTokens: Int
    var outputTokens: Int
    var cacheReadInputTokens: Int
    var cacheCreationInputTokens: Int
    var costUSD: Double?
    var turns: Int?
    var first: Date?
    var last: Date?
    var byProject: [Group]
    var byModel: [Group]
}

struct StatsCommand: AsyncParsableCommand, ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Totals over sessions: messages, tokens, cost, by project and by model.")

    @OptionGroup var source: SourceOptions
    @Option(help: "Only the sessions of this project directory.") var project: String?
    @Option(help: "Only sessions active since then: 30d, 12h, 2w, 45m or a date (2025-01-31).") var since: String?
    @Flag(help: "Print JSON instead of text.") var json = false

    func execute() async throws { try await run() }

    func run() async throws {
        let backend = try source.backend()
        var sessions = try await backend.list(project: project.map(expandTilde)).sessions
        if let since {
            guard let cutoff = parseSince(since) else {
                throw ToolError(ExitStatus.usage, "cannot read --since '\(since)'; use 30d, 12h, 2w, 45m or 2025-01-31")
            }
            sessions = sessions.filter { ($0.lastActivity ?? .distantPast) >= cutoff }
        }
        var tally = StatsTally()
        let (stats, failures) = await backend.stats(of: sessions)
        for session in stats { tally.add(session) }
        if failures > 0 { Terminal.warn("\(failures) session(s) could not be read and were not counted") }
        let report = tally.report
        if json {
            let data = try jsonEncoder().encode(report)
            Terminal.write(String(decoding: data, as: UTF8.self) + "\n")
            return
        }
        let style = Terminal.Style(enabled: Terminal.colorEnabled(fileDescriptor: 1))
        var out = style.bold("\(report.sessions) sessions, \(ExportText.count(report.messages)) messages") + "\n"
        out +=
            "tokens: \(ExportText.count(report.inputTokens)) input, \(ExportText.count(report.outputTokens)) output, "
        out += "\(ExportText.count(report.cacheReadInputTokens)) cache read, "
        out += "\(ExportText.count(report.cacheCreationInputTokens)) cache write\n"
        if let cost = report.costUSD {
            out += "cost: \(ExportText.cost(cost))\(report.turns.map { " over \($0) turns" } ?? "")\n"
        }
        if let first = report.first, let last = report.last {
            out += "from \(ExportText.short(first)) to \(ExportText.short(last))\n"
        }
        for (title, groups) in [("PROJECT", report.byProject), ("MODEL", report.byModel)] where !groups.isEmpty {
            out += "\n"
            var table = [[title, "SESSIONS", "MESSAGES", "TOKENS", "COST"]]
            for group in groups {
                table.append([
                    Terminal.clean(group.name), String(group.sessions), ExportText.count(group.messages),
                    ExportText.count(group.tokens), ExportText.cost(group.costUSD),
                ])
            }
            out += Terminal.table(table, style: style, rightAligned: [1, 2, 3, 4])
        }
        Terminal.write(out)
    }

}

/// The figures of `stats`, added one session at a time.
struct StatsTally {
    private var totals = StatsReport(
        sessions: 0, messages: 0, inputTokens: 0, outputTokens: 0, cacheReadInputTokens: 0,
        cacheCreationInputTokens: 0, costUSD: nil, turns: nil, first: nil, last: nil, byProject: [], byModel: [])
    private var projects: [String: StatsReport.Group] = [:]
    private var models: [String: StatsReport.Group] = [:]

    mutating func add(_ session: SessionExporter.TranscriptStats) {
        let usage = session.figures.usage
        func add(_ groups: inout [String: StatsReport.Group], _ name: String) {
            var group = groups[name] ?? StatsReport.Group(name: name, sessions: 0, messages: 0, tokens: 0, costUSD: nil)
            group.sessions += 1
            group.messages += session.figures.messageCount
            group.tokens += usage.totalTokens
            if let cost = usage.costUSD { group.costUSD = (group.costUSD ?? 0) + cost }
            groups[name] = group
        }
        totals.sessions += 1
        totals.messages += session.figures.messageCount
        totals.inputTokens += usage.inputTokens
        totals.outputTokens += usage.outputTokens
        totals.cacheReadInputTokens += usage.cacheReadInputTokens
        totals.cacheCreationInputTokens += usage.cacheCreationInputTokens
        if let cost = usage.costUSD { totals.costUSD = (totals.costUSD ?? 0) + cost }
        if let turns = usage.turns { totals.turns = (totals.turns ?? 0) + turns }
        if let start = session.startedAt ?? session.lastActivity { totals.first = min(totals.first ?? start, start) }
        if let last = session.lastActivity { totals.last = max(totals.last ?? last, last) }
        add(&projects, session.projectPath ?? "(unknown)")
        add(&models, session.figures.model ?? "(unknown)")
    }

    /// The report: the totals, and the groups by project and by model, largest first.
    var report: StatsReport {
        let order: (StatsReport.Group, StatsReport.Group) -> Bool = {
            $0.sessions != $1.sessions ? $0.sessions > $1.sessions : $0.name < $1.name
        }
        var report = totals
        report.byProject = projects.values.sorted(by: order)
        report.byModel = models.values.sorted(by: order)
        return report
    }
}

// MARK: - prune

struct PruneCommand: AsyncParsableCommand, ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune", abstract: "Delete sessions with no activity for a while.",
        discussion: """
            --dry-run lists what would go. --archive DIR first writes each session to DIR as <id>.jsonl (the
            source's lines, byte for byte) and <id>.json; a session whose archive cannot be written is not
            deleted. Asks for confirmation on a terminal; elsewhere --yes is required.
            """)

    @OptionGroup var source: SourceOptions
    @Option(name: .customLong("older-than"), help: "Age of the last activity: 30d, 12h, 2w, 45m.") var olderThan: String
    @Option(help: "Only the sessions of this project directory.") var project: String?
    @Flag(help: "Only list the sessions that would be deleted.") var dryRun = false
    @Option(help: "Archive each session into this folder before deleting it.") var archive: String?
    @Flag(name: [.short, .long], help: "Do not ask for confirmation.") var yes = false

    func execute() async throws { try await run() }

    func run() async throws {
        guard let last = olderThan.last, "mhdw".contains(last), let cutoff = parseSince(olderThan) else {
            throw ToolError(ExitStatus.usage, "cannot read --older-than '\(olderThan)'; use 30d, 12h, 2w or 45m")
        }
        let backend = try source.backend()
        let old = try await backend.list(project: project.map(expandTilde)).sessions.filter {
            ($0.lastActivity ?? .distantFuture) < cutoff
        }
        for session in old {
            Terminal.write(
                "\(dryRun ? "would delete" : "old") \(session.id)  \(session.lastActivity.map(ExportText.short) ?? "—")  "
                    + Terminal.clean(ExportText.truncate(session.title, limit: 50)) + "\n")
        }
        if old.isEmpty {
            Terminal.write("nothing older than \(olderThan)\n")
            return
        }
        if dryRun { return }
        if !yes {
            guard Terminal.isTerminal(0) else {
                throw ToolError(ExitStatus.usage, "refusing to delete without confirmation; pass --yes (or --dry-run)")
            }
            FileHandle.standardError.write(Data("Delete these \(old.count) session(s)? [y/N] ".utf8))
            let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            guard answer == "y" || answer == "yes" else { throw ToolError(ExitStatus.declined, "nothing deleted") }
        }
        var archiveFolder: String?
        if let archive {
            let folder = expandTilde(archive)
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw ToolError(ExitStatus.failure, "cannot create the archive folder \(folder); nothing deleted")
            }
            archiveFolder = folder
        }
        for session in old {
            if let folder = archiveFolder {
                let export = try await backend.load(session)
                do {
                    try Data(export.jsonLines).write(
                        to: URL(fileURLWithPath: folder + "/\(session.id).jsonl"), options: .atomic)
                    try Data(SessionExporter.render(export, as: .json)).write(
                        to: URL(fileURLWithPath: folder + "/\(session.id).json"), options: .atomic)
                } catch {
                    throw ToolError(
                        ExitStatus.failure, "cannot archive \(session.id) into \(folder); it and the rest were kept")
                }
            }
            try await backend.delete(session)
            Terminal.write("deleted \(session.id)\n")
        }
    }
}

// MARK: - import

struct ImportCommand: AsyncParsableCommand, ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Copy the CLI's transcripts into a session store.",
        discussion: """
            Reads sessions from the CLI's transcripts (--config-dir, else $CLAUDE_CONFIG_DIR or ~/.claude) and
            appends them, with their subagents, to the store given by --into. Importing again stores nothing
            twice. The sessions are then available with --store and resumable from the store.
            """)

    @Option(
        name: .customLong("config-dir"),
        help: "The CLI's configuration directory (default $CLAUDE_CONFIG_DIR or ~/.claude).")
    var configDir: String?
    @Option(
        help: ArgumentHelp(
            "The store: sqlite:PATH (created if missing), files:DIR or postgres://USER:PASSWORD@HOST:PORT/DB.",
            valueName: "STORE"))
    var into: String
    @Argument(help: "Session ids or unique prefixes.") var ids: [String]

    func execute() async throws { try await run() }

    func validate() throws {
        if ids.isEmpty { throw ValidationError("give at least one session id") }
    }

    func run() async throws {
        let library = ClaudeSessionLibrary(configDirectory: configDir.map(expandTilde))
        let backend = CLIBackend(library: library)
        let sessions = try await resolveAll(ids, backend: backend)
        let store: any SessionStore
        if into.hasPrefix("sqlite:") {
            let path = expandTilde(String(into.dropFirst("sqlite:".count)))
            do {
                store = try SQLiteSessionStore(path: path)
            } catch {
                throw ToolError(ExitStatus.failure, "cannot open or create \(path): \(error)")
            }
        } else if into.hasPrefix("files:") {
            store = FileSessionStore(directory: expandTilde(String(into.dropFirst("files:".count))))
        } else if into.hasPrefix("postgres://") || into.hasPrefix("postgresql://") {
            let (postgres, location) = try openPostgres(into)
            do {
                try await postgres.migrate()
            } catch {
                let hint = error.code == .backendUnavailable ? "; is the server running?" : ""
                throw ToolError(ExitStatus.failure, "cannot prepare \(location): \(error)\(hint)")
            }
            store = postgres
        } else {
            throw ToolError(
                ExitStatus.usage, "unknown store '\(into)'; use --into sqlite:PATH, files:DIR or postgres://…")
        }
        for session in sessions {
            do {
                let result = try await importSession(
                    session.id, into: store, directory: session.project, configDirectory: library.configDirectory)
                Terminal.write(
                    "imported \(session.id) (\(result.entryCount) line(s) read)"
                        + (result.subkeys.isEmpty ? "" : ", \(result.subkeys.count) subagent transcript(s)") + "\n")
            } catch {
                throw ToolError(ExitStatus.failure, "cannot import \(session.id): \(error)")
            }
        }
    }
}
