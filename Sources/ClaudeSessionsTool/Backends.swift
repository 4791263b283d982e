import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeSessionsPostgres
import ClaudeCodeSessionsSQLite
import Foundation
import PostgresNIO

/// Exit codes of `claude-sessions` (documented in `--help`).
enum ExitStatus {
    static let ok: Int32 = 0
    static let nothingFound: Int32 = 1
    static let usage: Int32 = 2
    static let unreadable: Int32 = 3
    static let failure: Int32 = 4
    static let declined: Int32 = 5
}

/// A failure the tool reports as one line on stderr, with its exit code.
struct ToolError: Error, CustomStringConvertible {
    var status: Int32
    var message: String

    init(_ status: Int32, _ message: String) {
        self.status = status
        self.message = message
    }

    var description: String { message }
}

/// One session as `list` shows it.
struct ListedSession: Sendable {
    var id: String
    var title: String
    var project: String?
    var lastActivity: Date?
    var tag: String?
    /// Known without loading the session (records); else filled by loading.
    var messageCount: Int?
    var tokens: Int?
    var costUSD: Double?
    /// Where a store keeps it.
    var projectKey: String?
    /// Changes whenever the session does (for the search index).
    var fingerprint: String = ""
}

/// A session that could not be read while listing.
struct ListingProblem: Sendable {
    var sessionID: String?
    var path: String
    var message: String
}

struct Listing: Sendable {
    var sessions: [ListedSession]
    var problems: [ListingProblem]
}

/// Where sessions come from: the CLI's transcripts, records, or a session store.
protocol SessionBackend: Sendable {
    /// What to call the source in messages.
    var label: String { get }
    func list(project: String?) async throws(ToolError) -> Listing
    func load(_ session: ListedSession) async throws(ToolError) -> SessionExport
    func rename(_ session: ListedSession, title: String) async throws(ToolError)
    func tag(_ session: ListedSession, tag: String?) async throws(ToolError)
    func delete(_ session: ListedSession) async throws(ToolError)
    /// The figures (message count, tokens, cost) of each of `sessions`, by id (a session that
    /// cannot be read is left out). By default each session is loaded, a few at a time.
    func figures(of sessions: [ListedSession]) async -> [String: SessionExporter.TranscriptFigures]
    /// What `stats` adds up of each of `sessions` that could be read, and how many could not.
    /// By default each session is loaded, a few at a time.
    func stats(of sessions: [ListedSession]) async -> (stats: [SessionExporter.TranscriptStats], failures: Int)
}

extension SessionBackend {
    func figures(of sessions: [ListedSession]) async -> [String: SessionExporter.TranscriptFigures] {
        // One session's document at a time: only its figures are kept.
        var figures: [String: SessionExporter.TranscriptFigures] = [:]
        _ = await forEachLoaded(sessions, backend: self) { session, export in
            figures[session.id] = SessionExporter.TranscriptStats(export.document).figures
        }
        return figures
    }

    func stats(of sessions: [ListedSession]) async -> (stats: [SessionExporter.TranscriptStats], failures: Int) {
        // One session's document at a time: only what stats adds up is kept.
        var stats: [SessionExporter.TranscriptStats] = []
        let failures = await forEachLoaded(sessions, backend: self) { stats.append(.init($1.document)) }
        return (stats, failures.count)
    }
}

func exportFailure(_ error: SessionExportError) -> ToolError {
    switch error.code {
    case .sessionNotFound:
        return ToolError(ExitStatus.nothingFound, "\(error); run `claude-sessions list` to see the ids")
    case .unreadable: return ToolError(ExitStatus.unreadable, "\(error); check the file's permissions and type")
    case .storeFailure: return ToolError(ExitStatus.failure, "\(error)")
    }
}

func transcriptFailure(_ error: any Error, id: String) -> ToolError {
    if let error = error as? CLITranscriptError {
        switch error.code {
        case .sessionNotFound: return ToolError(ExitStatus.nothingFound, "\(error)")
        case .emptyTitle, .emptyTag, .invalidSessionID, .invalidMessageID:
            return ToolError(ExitStatus.usage, "\(error)")
        default: return ToolError(ExitStatus.failure, "\(error)")
        }
    }
    if let error = error as? SessionStoreError {
        if error.code == .sessionNotFound { return ToolError(ExitStatus.nothingFound, "session \(id) not found") }
        return ToolError(ExitStatus.failure, "\(error)")
    }
    return ToolError(ExitStatus.failure, "session \(id): \(error)")
}

// MARK: - The CLI's transcripts

struct CLIBackend: SessionBackend {
    let library: ClaudeSessionLibrary
    var label: String { "the CLI's transcripts in \(library.configDirectory)" }

    func list(project: String?) async throws(ToolError) -> Listing {
        let scan: CLISessionScan
        do {
            scan = try await library.scanSessions(directory: project)
        } catch {
            throw ToolError(ExitStatus.failure, "listing was cancelled")
        }
        let sessions = scan.sessions.map { info in
            ListedSession(
                id: info.sessionID, title: info.customTitle ?? info.firstPrompt ?? info.summary, project: info.cwd,
                lastActivity: Date(timeIntervalSince1970: Double(info.lastModified) / 1000), tag: info.tag,
                fingerprint: "\(info.lastModified)-\(info.fileSize ?? 0)")
        }
        let problems = scan.issues.map { issue -> ListingProblem in
            let name = (issue.path as NSString).lastPathComponent
            let id = name.hasSuffix(".jsonl") ? String(name.dropLast(6)) : nil
            return ListingProblem(sessionID: id, path: issue.path, message: issue.description)
        }
        return Listing(sessions: sessions, problems: problems)
    }

    func load(_ session: ListedSession) async throws(ToolError) -> SessionExport {
        do {
            return try await SessionExporter.load(sessionID: session.id, library: library)
        } catch {
            throw exportFailure(error)
        }
    }

    /// Reads each transcript for its figures alone (no conversation is built), all on one
    /// blocking call: the same figures as the loaded documents'.
    func figures(of sessions: [ListedSession]) async -> [String: SessionExporter.TranscriptFigures] {
        let ids = sessions.map(\.id)
        guard let results = try? await SessionExporter.loadTranscriptFigures(sessionIDs: ids, library: library) else {
            return [:]
        }
        var figures: [String: SessionExporter.TranscriptFigures] = [:]
        for (id, result) in zip(ids, results) {
            if case .success(let found) = result { figures[id] = found }
        }
        return figures
    }

    /// Reads each transcript for what stats adds up (its figures, without building the
    /// conversation, when its head names its start), all on one blocking call.
    func stats(of sessions: [ListedSession]) async -> (stats: [SessionExporter.TranscriptStats], failures: Int) {
        guard
            let results = try? await SessionExporter.loadTranscriptStats(
                sessionIDs: sessions.map(\.id), library: library)
        else { return ([], sessions.count) }
        var stats: [SessionExporter.TranscriptStats] = []
        for case .success(let found) in results { stats.append(found) }
        return (stats, results.count - stats.count)
    }

    func rename(_ session: ListedSession, title: String) async throws(ToolError) {
        do { try await library.rename(sessionID: session.id, title: title) } catch {
            throw transcriptFailure(error, id: session.id)
        }
    }

    func tag(_ session: ListedSession, tag: String?) async throws(ToolError) {
        do { try await library.tag(sessionID: session.id, tag: tag) } catch {
            throw transcriptFailure(error, id: session.id)
        }
    }

    func delete(_ session: ListedSession) async throws(ToolError) {
        do { try await library.delete(sessionID: session.id) } catch {
            throw transcriptFailure(error, id: session.id)
        }
    }
}

// MARK: - Records

struct RecordsBackend: SessionBackend {
    let store: any SessionRecordStore
    let location: String
    var label: String { "the records in \(location)" }

    func list(project: String?) async throws(ToolError) -> Listing {
        let entries: [RecordListEntry]
        do {
            entries = try await store.listRecords()
        } catch {
            throw ToolError(ExitStatus.failure, "cannot list the records in \(location): \(error)")
        }
        var sessions: [ListedSession] = []
        var problems: [ListingProblem] = []
        let wanted = project.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        for entry in entries {
            switch entry {
            case .session(let summary):
                if let wanted, URL(fileURLWithPath: summary.workingDirectory).standardizedFileURL.path != wanted {
                    continue
                }
                let totals = summary.ledger.totals
                sessions.append(
                    ListedSession(
                        id: summary.sessionID.rawValue, title: summary.title ?? "", project: summary.workingDirectory,
                        lastActivity: summary.lastActivity, tag: summary.tag, messageCount: summary.messageCount,
                        tokens: totals.totalInputTokens + totals.outputTokens, costUSD: summary.ledger.costUSD,
                        fingerprint: "\(summary.lastActivity.timeIntervalSince1970)-\(summary.messageCount)"))
            case .damaged(let file):
                problems.append(
                    ListingProblem(sessionID: file.sessionID?.rawValue, path: file.path, message: "\(file.error)"))
            }
        }
        sessions.sort { ($0.lastActivity ?? .distantPast) > ($1.lastActivity ?? .distantPast) }
        return Listing(sessions: sessions, problems: problems)
    }

    func load(_ session: ListedSession) async throws(ToolError) -> SessionExport {
        guard let id = SessionID(rawValue: session.id) else {
            throw ToolError(ExitStatus.usage, "invalid session id: \(session.id)")
        }
        do {
            return try await SessionExporter.load(record: id, from: store)
        } catch {
            throw exportFailure(error)
        }
    }

    func rename(_ session: ListedSession, title: String) async throws(ToolError) {
        try await setRecordLabel(store, session: session, title: title)
    }

    func tag(_ session: ListedSession, tag: String?) async throws(ToolError) {
        try await setRecordLabel(store, session: session, tag: .some(tag))
    }

    func delete(_ session: ListedSession) async throws(ToolError) {
        guard let id = SessionID(rawValue: session.id) else {
            throw ToolError(ExitStatus.usage, "invalid session id: \(session.id)")
        }
        do { try await store.deleteRecord(id) } catch { throw transcriptFailure(error, id: session.id) }
    }
}

// MARK: - Session stores

struct StoreBackend: SessionBackend {
    let store: any SessionCatalog
    let location: String
    let projectKeys: @Sendable () async throws(SessionStoreError) -> [String]
    var label: String { "the sessions in \(location)" }

    func list(project: String?) async throws(ToolError) -> Listing {
        var sessions: [ListedSession] = []
        do {
            var keys: [String]
            if let project {
                keys = [ClaudeSessionLibrary.projectFolderName(for: project)]
            } else {
                keys = try await projectKeys()
            }
            for key in keys {
                let library = StoreSessionLibrary(store: store, projectKey: key)
                for info in try await library.listSessions() {
                    sessions.append(
                        ListedSession(
                            id: info.sessionID, title: info.customTitle ?? info.firstPrompt ?? info.summary,
                            project: info.cwd,
                            lastActivity: Date(timeIntervalSince1970: Double(info.lastModified) / 1000),
                            tag: info.tag, projectKey: key, fingerprint: "\(info.lastModified)"))
                }
            }
        } catch {
            if (error as? SessionStoreError)?.code == .backendUnavailable {
                throw ToolError(ExitStatus.failure, "cannot reach \(location): \(error); is the server running?")
            }
            throw ToolError(ExitStatus.failure, "cannot list \(location): \(error)")
        }
        sessions.sort { ($0.lastActivity ?? .distantPast) > ($1.lastActivity ?? .distantPast) }
        return Listing(sessions: sessions, problems: [])
    }

    func library(_ session: ListedSession) -> StoreSessionLibrary {
        StoreSessionLibrary(store: store, projectKey: session.projectKey)
    }

    func load(_ session: ListedSession) async throws(ToolError) -> SessionExport {
        do {
            return try await SessionExporter.load(sessionID: session.id, library: library(session))
        } catch {
            throw exportFailure(error)
        }
    }

    func rename(_ session: ListedSession, title: String) async throws(ToolError) {
        do { try await library(session).rename(sessionID: session.id, title: title) } catch {
            throw transcriptFailure(error, id: session.id)
        }
    }

    func tag(_ session: ListedSession, tag: String?) async throws(ToolError) {
        do { try await library(session).tag(sessionID: session.id, tag: tag) } catch {
            throw transcriptFailure(error, id: session.id)
        }
    }

    func delete(_ session: ListedSession) async throws(ToolError) {
        do { try await library(session).delete(sessionID: session.id) } catch {
            throw transcriptFailure(error, id: session.id)
        }
    }
}

// MARK: - Choosing a source

struct SourceOptionsValues {
    var configDir: String?
    var records: String?
    var store: String?
}

func makeBackend(_ options: SourceOptionsValues) throws(ToolError) -> any SessionBackend {
    if options.records != nil && options.store != nil {
        throw ToolError(ExitStatus.usage, "give either --records or --store, not both")
    }
    if let records = options.records {
        if records.hasPrefix("sqlite:") {
            let path = String(records.dropFirst("sqlite:".count))
            return RecordsBackend(store: try openSQLite(path), location: path)
        }
        let directory = records.isEmpty ? FileRecordStore.defaultDirectory : expandTilde(records)
        return RecordsBackend(store: FileRecordStore(directory: directory), location: directory)
    }
    if let store = options.store {
        if store.hasPrefix("sqlite:") {
            let path = String(store.dropFirst("sqlite:".count))
            let sqlite = try openSQLite(path)
            return StoreBackend(store: sqlite, location: path) { () async throws(SessionStoreError) -> [String] in
                try await sqlite.listProjectKeys()
            }
        }
        if store.hasPrefix("files:") {
            let directory = expandTilde(String(store.dropFirst("files:".count)))
            let files = FileSessionStore(directory: directory.isEmpty ? FileSessionStore.defaultDirectory : directory)
            return StoreBackend(store: files, location: files.configuration.directory) {
                () async throws(SessionStoreError) -> [String] in
                try await files.listProjectKeys()
            }
        }
        if store.hasPrefix("postgres://") || store.hasPrefix("postgresql://") {
            let (postgres, location) = try openPostgres(store)
            return StoreBackend(store: postgres, location: location) { () async throws(SessionStoreError) -> [String] in
                try await postgres.listProjectKeys()
            }
        }
        throw ToolError(
            ExitStatus.usage, "unknown store '\(store)'; use --store sqlite:PATH, files:DIR or postgres://…")
    }
    return CLIBackend(library: ClaudeSessionLibrary(configDirectory: options.configDir.map(expandTilde)))
}

func openSQLite(_ path: String) throws(ToolError) -> SQLiteSessionStore {
    let expanded = expandTilde(path)
    guard FileManager.default.fileExists(atPath: expanded) else {
        throw ToolError(ExitStatus.nothingFound, "no database at \(expanded); check the path after sqlite:")
    }
    do {
        return try SQLiteSessionStore(path: expanded)
    } catch {
        throw ToolError(ExitStatus.unreadable, "cannot open \(expanded): \(error)")
    }
}

/// A `PostgresSessionStore` for
/// `postgres://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE[?sslmode=MODE&sslrootcert=PATH]` (the user
/// defaults to `postgres`, the database to the user, `sslmode` to `prefer`, as in libpq; see
/// `PostgresStoreURL`), running its client for the rest of the process; and how to name it in
/// messages (without the password).
func openPostgres(_ url: String) throws(ToolError) -> (PostgresSessionStore, String) {
    let parsed = try PostgresStoreURL(url)
    let configuration = try parsed.clientConfiguration()
    let location = parsed.location
    let store: PostgresSessionStore
    do {
        store = try PostgresSessionStore(
            clientConfiguration: configuration, configuration: .init(operationTimeout: .seconds(10)))
    } catch {
        throw ToolError(ExitStatus.usage, "cannot use \(location): \(error)")
    }
    // The pool works only while its client runs: for as long as the tool does.
    Task { await store.run() }
    return (store, location)
}

func expandTilde(_ path: String) -> String {
    guard path == "~" || path.hasPrefix("~/") else { return path }
    return HomeDirectory.path() + path.dropFirst()
}
