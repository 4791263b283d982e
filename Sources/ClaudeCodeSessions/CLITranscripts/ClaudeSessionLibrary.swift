import ClaudeCode
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The sessions the Claude Code CLI keeps on disk: list, inspect, read, rename, tag,
/// delete and fork them.
///
/// The CLI stores each session as JSON Lines in
/// `<config>/projects/<sanitized cwd>/<session id>.jsonl`, with subagent transcripts in
/// `<session id>/subagents/`. This type reads and changes those files with the semantics
/// of the official Python SDK (`list_sessions`, `get_session_info`, `get_session_messages`,
/// `list_subagents`, `get_subagent_messages`, `rename_session`, `tag_session`,
/// `delete_session` and `fork_session`), and fixes its known weaknesses: metadata comes from
/// a JSON-aware scanner instead of substring search, long folder names are hashed over
/// UTF-16 as the CLI does, forks follow the conversation chain, and the configuration
/// directory you give is honoured everywhere.
///
/// All methods are asynchronous and do their file work on Dispatch threads, never on
/// Swift's cooperative pool. Cancelling the calling task stops long scans early.
///
/// ```swift
/// let library = ClaudeSessionLibrary()
/// for session in try await library.listSessions(directory: "/path/to/project", limit: 20) {
///     print(session.sessionID, session.summary)
/// }
/// ```
///
/// Readers follow the Python SDK: an invalid session id, a missing session or a missing
/// folder gives an empty result rather than an error, and unreadable files are skipped
/// (``scanSessions(directory:limit:offset:includeWorktrees:)`` and
/// ``transcript(sessionID:directory:limit:offset:)`` report them). Mutators throw a
/// ``CLITranscriptError``.
public struct ClaudeSessionLibrary: Sendable {
    /// The CLI's configuration directory (`~/.claude` by default).
    public let configDirectory: String
    /// The environment used to run `git` when looking for worktrees.
    public let environment: [String: String]

    /// The folder that holds one subfolder per project.
    public var projectsDirectory: String { configDirectory + "/projects" }

    /// Creates a library over a configuration directory.
    ///
    /// - Parameters:
    ///   - configDirectory: The CLI's configuration directory. When `nil`, the
    ///     `CLAUDE_CONFIG_DIR` variable of `environment` is used, else `$HOME/.claude`.
    ///   - environment: The environment to read `CLAUDE_CONFIG_DIR` and `HOME` from, and to
    ///     run `git` with. Defaults to the process environment.
    public init(configDirectory: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
        let chosen: String
        if let configDirectory, !configDirectory.isEmpty {
            chosen = configDirectory
        } else if let fromEnvironment = environment["CLAUDE_CONFIG_DIR"], !fromEnvironment.isEmpty {
            chosen = fromEnvironment
        } else {
            chosen = HomeDirectory.path(".claude", environment: environment)
        }
        self.configDirectory = TextRules.nfc(chosen)
    }

    /// The folder name the CLI uses for a working directory (after resolving symbolic
    /// links and normalizing to NFC). Paths longer than 200 characters are cut and get a
    /// hash suffix computed over UTF-16 code units, as the CLI does.
    ///
    /// - Parameter directory: A working directory.
    /// - Returns: The name of its folder under ``projectsDirectory``.
    public static func projectFolderName(for directory: String) -> String {
        ProjectDirectories.sanitize(ProjectDirectories.canonicalize(directory))
    }

    // MARK: - Listing

    /// Lists sessions with metadata read from the head and tail of each transcript,
    /// newest first.
    ///
    /// - Parameters:
    ///   - directory: A project directory. When given, lists that project's sessions and,
    ///     with `includeWorktrees`, those of every git worktree of its repository. When
    ///     `nil`, lists the sessions of all projects.
    ///   - limit: The most sessions to return; `nil`, 0 or less means no limit.
    ///   - offset: How many sessions to skip first.
    ///   - includeWorktrees: Whether to include the sessions of the repository's other worktrees.
    /// - Returns: The sessions, sorted by ``CLISessionInfo/lastModified`` (newest first,
    ///   then by id). Sidechain transcripts and transcripts with nothing to show are left out.
    /// - Throws: `CancellationError` when the task is cancelled.
    public func listSessions(
        directory: String? = nil, limit: Int? = nil, offset: Int = 0, includeWorktrees: Bool = true
    ) async throws -> [CLISessionInfo] {
        try await scanSessions(directory: directory, limit: limit, offset: offset, includeWorktrees: includeWorktrees)
            .sessions
    }

    /// Like ``listSessions(directory:limit:offset:includeWorktrees:)``, and also reports the
    /// files that could not be read (permissions, dangling symbolic links).
    ///
    /// - Parameters:
    ///   - directory: A project directory, or `nil` for all projects.
    ///   - limit: The most sessions to return; `nil`, 0 or less means no limit.
    ///   - offset: How many sessions to skip first.
    ///   - includeWorktrees: Whether to include the sessions of the repository's other worktrees.
    /// - Returns: The sessions and the problems found.
    /// - Throws: `CancellationError` when the task is cancelled.
    public func scanSessions(
        directory: String? = nil, limit: Int? = nil, offset: Int = 0, includeWorktrees: Bool = true
    ) async throws -> CLISessionScan {
        let library = self
        return try await BlockingIO.run { cancellation in
            library.scanBlocking(
                directory: directory, limit: limit, offset: offset, includeWorktrees: includeWorktrees,
                cancellation: cancellation)
        }
    }

    struct ListingJob {
        var path: String
        var sessionID: String
        var projectPath: String?
    }

    func scanBlocking(
        directory: String?, limit: Int?, offset: Int, includeWorktrees: Bool, cancellation: CancellationFlag
    ) -> CLISessionScan {
        var issues: [CLITranscriptIssue] = []
        var jobs: [ListingJob] = []
        var deduplicate = true
        if let directory, !directory.isEmpty {
            let canonical = ProjectDirectories.canonicalize(directory)
            let worktrees =
                includeWorktrees ? ProjectDirectories.worktreePaths(of: canonical, environment: environment) : []
            var singleDirectory = worktrees.count <= 1
            var projectEntries: [POSIX.Entry] = []
            if !singleDirectory {
                do {
                    projectEntries = try POSIX.listDirectory(projectsDirectory).filter {
                        POSIX.entryIsDirectory($0, in: projectsDirectory)
                    }
                } catch {
                    singleDirectory = true
                }
            }
            if singleDirectory {
                deduplicate = false
                if let project = ProjectDirectories.find(projectPath: canonical, projectsDirectory: projectsDirectory) {
                    jobs += listingJobs(in: project, projectPath: canonical, issues: &issues)
                }
            } else {
                // The project's own folder, then every folder named after a worktree
                // (longest name first, so the most specific worktree wins).
                let indexed = stableSorted(worktrees.map { ($0, ProjectDirectories.sanitize($0)) }) {
                    $0.1.utf8.count > $1.1.utf8.count
                }
                var seen = Set<String>()
                if let project = ProjectDirectories.find(projectPath: canonical, projectsDirectory: projectsDirectory) {
                    seen.insert(String(project.split(separator: "/").last ?? ""))
                    jobs += listingJobs(in: project, projectPath: canonical, issues: &issues)
                }
                let limitLength = ProjectDirectories.maximumSanitizedLength
                for entry in projectEntries.sorted(by: { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) })
                where !seen.contains(entry.name) {
                    for (worktree, name) in indexed {
                        let truncated = name.utf8.count > limitLength
                        let matches =
                            entry.name == name
                            || (truncated && entry.name.hasPrefix(String(name.utf8.prefix(limitLength))! + "-"))
                        if matches {
                            seen.insert(entry.name)
                            jobs += listingJobs(
                                in: projectsDirectory + "/" + entry.name, projectPath: worktree, issues: &issues)
                            break
                        }
                    }
                }
            }
        } else {
            do {
                let entries = try POSIX.listDirectory(projectsDirectory)
                for entry in entries where POSIX.entryIsDirectory(entry, in: projectsDirectory) {
                    jobs += listingJobs(in: projectsDirectory + "/" + entry.name, projectPath: nil, issues: &issues)
                }
            } catch {
                if error.number != ENOENT && error.number != ENOTDIR {
                    issues.append(CLITranscriptIssue(path: projectsDirectory, kind: .unreadable(errno: error.number)))
                }
            }
        }

        var (sessions, readIssues) = Self.readSessionInfos(jobs, cancellation: cancellation)
        issues += readIssues
        if deduplicate {
            var newest: [String: CLISessionInfo] = [:]
            var order: [String] = []
            for session in sessions {
                if let existing = newest[session.sessionID] {
                    if session.lastModified > existing.lastModified { newest[session.sessionID] = session }
                } else {
                    newest[session.sessionID] = session
                    order.append(session.sessionID)
                }
            }
            sessions = order.map { newest[$0]! }
        }
        sessions.sort {
            $0.lastModified != $1.lastModified
                ? $0.lastModified > $1.lastModified : $0.sessionID.utf8.lexicographicallyPrecedes($1.sessionID.utf8)
        }
        if offset > 0 { sessions = Array(sessions.dropFirst(offset)) }
        if let limit, limit > 0 { sessions = Array(sessions.prefix(limit)) }
        return CLISessionScan(sessions: sessions, issues: issues)
    }

    /// The `<uuid>.jsonl` files of a project folder.
    func listingJobs(in project: String, projectPath: String?, issues: inout [CLITranscriptIssue]) -> [ListingJob] {
        let entries: [POSIX.Entry]
        do {
            entries = try POSIX.listDirectory(project)
        } catch {
            if error.number != ENOENT && error.number != ENOTDIR {
                issues.append(CLITranscriptIssue(path: project, kind: .unreadable(errno: error.number)))
            }
            return []
        }
        var jobs: [ListingJob] = []
        for entry in entries where entry.name.hasSuffix(".jsonl") {
            let stem = String(entry.name.dropLast(6))
            guard TextRules.isUUID(stem) else { continue }
            jobs.append(ListingJob(path: project + "/" + entry.name, sessionID: stem, projectPath: projectPath))
        }
        return jobs
    }

    /// Reads the head and tail of every job's file, in parallel.
    static func readSessionInfos(_ jobs: [ListingJob], cancellation: CancellationFlag) -> (
        [CLISessionInfo], [CLITranscriptIssue]
    ) {
        let chunks = BlockingIO.chunkCount(for: jobs.count, minimumPerChunk: 64)
        let slots = ParallelSlots<([CLISessionInfo], [CLITranscriptIssue])>(count: chunks)
        BlockingIO.parallel(iterations: chunks) { chunk in
            var infos: [CLISessionInfo] = []
            var issues: [CLITranscriptIssue] = []
            var index = chunk
            while index < jobs.count {
                if cancellation.isCancelled { break }
                let job = jobs[index]
                switch LiteFileReader.sessionInfo(
                    path: job.path, sessionID: job.sessionID, projectPath: job.projectPath)
                {
                case .info(let info): infos.append(info)
                case .issue(let issue): issues.append(issue)
                case .skipped: break
                }
                index += chunks
            }
            slots[chunk] = (infos, issues)
        }
        var infos: [CLISessionInfo] = []
        var issues: [CLITranscriptIssue] = []
        for chunk in 0..<chunks {
            guard let part = slots[chunk] else { continue }
            infos += part.0
            issues += part.1
        }
        return (infos, issues)
    }

    // MARK: - One session

    /// Where a session's transcript is.
    struct SessionLocation {
        var path: String
        var projectDirectory: String
        var projectPath: String?
    }

    /// Finds the non-empty transcript of a session: in the project folder of `directory`,
    /// then in those of its git worktrees; or, without a directory, in every project
    /// folder (the most recently modified copy wins when there are several).
    func locate(sessionID: String, directory: String?) -> SessionLocation? {
        let fileName = sessionID + ".jsonl"
        func candidate(_ project: String, _ projectPath: String?) -> (SessionLocation, FileStatus)? {
            let path = project + "/" + fileName
            guard let status = POSIX.status(path), status.size > 0, !status.isDirectory else { return nil }
            return (SessionLocation(path: path, projectDirectory: project, projectPath: projectPath), status)
        }
        if let directory, !directory.isEmpty {
            let canonical = ProjectDirectories.canonicalize(directory)
            if let project = ProjectDirectories.find(projectPath: canonical, projectsDirectory: projectsDirectory),
                let found = candidate(project, canonical)
            {
                return found.0
            }
            for worktree in ProjectDirectories.worktreePaths(of: canonical, environment: environment)
            where worktree != canonical {
                if let project = ProjectDirectories.find(projectPath: worktree, projectsDirectory: projectsDirectory),
                    let found = candidate(project, worktree)
                {
                    return found.0
                }
            }
            return nil
        }
        guard let entries = try? POSIX.listDirectory(projectsDirectory) else { return nil }
        var best: (SessionLocation, FileStatus)?
        for entry in entries.sorted(by: { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }) {
            guard let found = candidate(projectsDirectory + "/" + entry.name, nil) else { continue }
            if best == nil || found.1.modifiedMilliseconds > best!.1.modifiedMilliseconds { best = found }
        }
        return best?.0
    }

    /// The transcript file of each of `sessionIDs` that ``locate(sessionID:directory:)`` (without
    /// a directory) would pick: the newest non-empty one among the project folders, the first
    /// folder in name order on a tie. Each folder is listed once and only the files it holds are
    /// `stat`ed (`locate` per id would list every folder again).
    func locateAll(sessionIDs: Set<String>) -> [String: String] {
        guard !sessionIDs.isEmpty, let folders = try? POSIX.listDirectory(projectsDirectory) else { return [:] }
        var best: [String: (path: String, modified: Int)] = [:]
        for folder in folders.sorted(by: { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }) {
            let project = projectsDirectory + "/" + folder.name
            guard let entries = try? POSIX.listDirectory(project) else { continue }
            for entry in entries where entry.name.hasSuffix(".jsonl") {
                let id = String(entry.name.dropLast(6))
                guard sessionIDs.contains(id) else { continue }
                let path = project + "/" + entry.name
                guard let status = POSIX.status(path), status.size > 0, !status.isDirectory else { continue }
                if let current = best[id], status.modifiedMilliseconds <= current.modified { continue }
                best[id] = (path, status.modifiedMilliseconds)
            }
        }
        return best.mapValues(\.path)
    }

    /// Metadata for one session.
    ///
    /// - Parameters:
    ///   - sessionID: The session's UUID.
    ///   - directory: The project directory, or `nil` to search all projects.
    /// - Returns: The session's info, or `nil` when the id is not a UUID, the session is not
    ///   found, it is a sidechain transcript, or it has nothing to show.
    /// - Throws: `CancellationError` when the task is cancelled.
    public func sessionInfo(id sessionID: String, directory: String? = nil) async throws -> CLISessionInfo? {
        guard TextRules.isUUID(sessionID) else { return nil }
        let library = self
        return try await BlockingIO.run { _ in
            guard let location = library.locate(sessionID: sessionID, directory: directory) else { return nil }
            if case .info(let info) = LiteFileReader.sessionInfo(
                path: location.path, sessionID: sessionID, projectPath: location.projectPath)
            {
                return info
            }
            return nil
        }
    }

    /// The conversation of a session: its user and assistant messages, oldest first,
    /// rebuilt from the `parentUuid` chain (including compaction summaries and parallel
    /// tool calls; sidechain and meta entries are left out).
    ///
    /// - Parameters:
    ///   - sessionID: The session's UUID.
    ///   - directory: The project directory, or `nil` to search all projects.
    ///   - limit: The most messages to return; `nil`, 0 or less means no limit.
    ///   - offset: How many messages to skip first.
    /// - Returns: The messages; empty when the id is not a UUID or the session is not found.
    /// - Throws: `CancellationError` when the task is cancelled.
    public func messages(
        sessionID: String, directory: String? = nil, limit: Int? = nil, offset: Int = 0
    ) async throws -> [CLISessionMessage] {
        try await transcript(sessionID: sessionID, directory: directory, limit: limit, offset: offset).messages
    }

    /// Like ``messages(sessionID:directory:limit:offset:)``, and also says which file was
    /// read, how many messages there are in all, and how many corrupt lines were skipped.
    ///
    /// - Parameters:
    ///   - sessionID: The session's UUID.
    ///   - directory: The project directory, or `nil` to search all projects.
    ///   - limit: The most messages to return; `nil`, 0 or less means no limit.
    ///   - offset: How many messages to skip first.
    /// - Returns: The page of messages and what was skipped.
    /// - Throws: `CancellationError` when the task is cancelled.
    public func transcript(
        sessionID: String, directory: String? = nil, limit: Int? = nil, offset: Int = 0
    ) async throws -> CLISessionTranscript {
        let empty = CLISessionTranscript(messages: [], totalMessageCount: 0, path: nil, corruptLineCount: 0)
        guard TextRules.isUUID(sessionID) else { return empty }
        let library = self
        return try await BlockingIO.run { cancellation in
            guard let location = library.locate(sessionID: sessionID, directory: directory),
                let bytes = try? TranscriptFile.read(location.path), !bytes.isEmpty
            else { return empty }
            var parsed = TranscriptParser.parse(bytes, cancellation: cancellation)
            // The graph's indexes are released before the messages are made.
            let visible = ConversationGraph(entries: parsed.entries, bytes: parsed.bytes).visibleConversation()
            let corruptLineCount = parsed.corruptLineCount
            let messages = Self.makeMessages(
                releasingEntriesOf: &parsed, indices: page(visible, limit: limit, offset: offset))
            return CLISessionTranscript(
                messages: messages, totalMessageCount: visible.count, path: location.path,
                corruptLineCount: corruptLineCount)
        }
    }

    /// Builds messages whose `message` values stay JSON text, parsed when read.
    ///
    /// The messages share the transcript's buffer when their text is most of it (a whole
    /// conversation); a page or a sparse conversation gets a compact copy of just its
    /// messages' text instead, so the file's buffer is not kept alive for a few messages.
    static func makeMessages(
        _ parsed: ParsedTranscript, indices: [Int], parentToolUseID: String?, parentAgentID: String?
    ) -> [CLISessionMessage] {
        makeMessages(
            indices.map { MessageSource(parsed.entries[$0], in: parsed) }, bytes: parsed.bytes,
            parentToolUseID: parentToolUseID,
            parentAgentID: parentAgentID)
    }

    /// Like ``makeMessages(_:indices:parentToolUseID:parentAgentID:)``, but what the chain freed
    /// goes back to the system first, and the entries are freed before the messages are
    /// allocated: a long conversation's graph, entries and messages are never resident together.
    static func makeMessages(releasingEntriesOf parsed: inout ParsedTranscript, indices: [Int]) -> [CLISessionMessage] {
        // What the graph freed goes back before the sources are allocated: worth it for a long
        // transcript only (a trim walks every arena; once per small session, it was a fifth of
        // the time of reading ten thousand of them).
        if parsed.bytes.count >= 4 << 20 { FreeMemory.release() }
        let sources = indices.map { MessageSource(parsed.entries[$0], in: parsed) }
        parsed.entries = []  // one allocation: unmapped at once
        return makeMessages(sources, bytes: parsed.bytes, parentToolUseID: nil, parentAgentID: nil)
    }

    /// What a message takes from its entry.
    struct MessageSource {
        let type: EntryType
        let uuid: UUIDKey
        let sessionID: UUIDKey?
        let message: Range<Int>?

        init(_ entry: TranscriptEntry, in parsed: ParsedTranscript) {
            type = entry.type
            uuid = entry.uuidKey
            sessionID = parsed.sessionID(of: entry)
            message = entry.message
        }
    }

    /// Builds the messages of `sources` (see ``makeMessages(_:indices:parentToolUseID:parentAgentID:)``).
    static func makeMessages(
        _ sources: [MessageSource], bytes: [UInt8], parentToolUseID: String?, parentAgentID: String?
    ) -> [CLISessionMessage] {
        var total = 0
        for source in sources { total += source.message?.count ?? 0 }
        let buffer: TranscriptBuffer
        // Where each message's text starts in a compact copy (`nil`: the file's buffer is shared).
        var compactStarts: [Int]?
        if total <= bytes.count / 4 {
            var compact: [UInt8] = []
            compact.reserveCapacity(total)
            var starts: [Int] = []
            starts.reserveCapacity(sources.count)
            for source in sources {
                starts.append(compact.count)
                if let range = source.message { compact.append(contentsOf: bytes[range]) }
            }
            buffer = TranscriptBuffer(compact)
            compactStarts = starts
        } else {
            buffer = TranscriptBuffer(bytes)
        }
        // Entries of one transcript nearly always repeat one session id: spell it once.
        var lastSessionID: (key: UUIDKey, string: String)?
        var messages: [CLISessionMessage] = []
        messages.reserveCapacity(sources.count)
        for (position, source) in sources.enumerated() {
            var sessionID = ""
            if let key = source.sessionID {
                if let last = lastSessionID, last.key == key {
                    sessionID = last.string
                } else {
                    sessionID = key.string
                    lastSessionID = (key, sessionID)
                }
            }
            messages.append(
                CLISessionMessage(
                    type: source.type == .user ? .user : .assistant, uuid: source.uuid, sessionID: sessionID,
                    body: source.message.map { range in
                        let start = compactStarts?[position] ?? range.lowerBound
                        return .text(buffer, start..<(start + range.count))
                    } ?? .value(.null),
                    parentToolUseID: parentToolUseID, parentAgentID: parentAgentID))
        }
        return messages
    }

    // MARK: - Subagents

    /// The ids of a session's subagents, from the `agent-<id>.jsonl` files under its
    /// `subagents` folder (nested folders included, each sorted by name).
    ///
    /// - Parameters:
    ///   - sessionID: The parent session's UUID.
    ///   - directory: The project directory, or `nil` to search all projects.
    /// - Returns: The subagent ids; empty when the id is not a UUID or nothing is found.
    /// - Throws: `CancellationError` when the task is cancelled.
    public func subagents(sessionID: String, directory: String? = nil) async throws -> [String] {
        guard TextRules.isUUID(sessionID) else { return [] }
        let library = self
        return try await BlockingIO.run { _ in
            guard let location = library.locate(sessionID: sessionID, directory: directory) else { return [] }
            return Self.agentFiles(in: location.projectDirectory + "/" + sessionID + "/subagents").map(\.id)
        }
    }

    /// The `agent-*.jsonl` files under `base`, depth first, each folder sorted by name.
    static func agentFiles(in base: String) -> [(id: String, path: String)] {
        var result: [(id: String, path: String)] = []
        var visited = Set<[UInt64]>()
        func walk(_ directory: String) {
            var info = stat()
            guard stat(directory, &info) == 0, visited.insert([UInt64(info.st_dev), UInt64(info.st_ino)]).inserted
            else { return }
            guard let entries = try? POSIX.listDirectory(directory) else { return }
            for entry in entries.sorted(by: { $0.name.unicodeScalars.lexicographicallyPrecedes($1.name.unicodeScalars) }
            ) {
                let path = directory + "/" + entry.name
                let status = POSIX.status(path)
                if status?.isRegularFile == true, entry.name.hasPrefix("agent-"), entry.name.hasSuffix(".jsonl") {
                    let id = String(entry.name.utf8.dropFirst(6).dropLast(6))!
                    result.append((id, path))
                } else if status?.isDirectory == true {
                    walk(path)
                }
            }
        }
        walk(base)
        return result
    }

    /// The conversation of one subagent, oldest first. Every message carries the id of the
    /// `Agent` tool call that started the subagent (and, when nested, its parent agent),
    /// read from the `agent-<id>.meta.json` file next to the transcript.
    ///
    /// - Parameters:
    ///   - sessionID: The parent session's UUID.
    ///   - agentID: The subagent's id, as ``subagents(sessionID:directory:)`` returns it.
    ///   - directory: The project directory, or `nil` to search all projects.
    ///   - limit: The most messages to return; `nil`, 0 or less means no limit.
    ///   - offset: How many messages to skip first.
    /// - Returns: The messages; empty when nothing is found.
    /// - Throws: `CancellationError` when the task is cancelled.
    public func subagentMessages(
        sessionID: String, agentID: String, directory: String? = nil, limit: Int? = nil, offset: Int = 0
    ) async throws -> [CLISessionMessage] {
        guard TextRules.isUUID(sessionID), !agentID.isEmpty else { return [] }
        let library = self
        return try await BlockingIO.run { cancellation in
            guard let location = library.locate(sessionID: sessionID, directory: directory),
                let match = Self.agentFiles(in: location.projectDirectory + "/" + sessionID + "/subagents")
                    .first(where: { $0.id == agentID }),
                let bytes = try? TranscriptFile.read(match.path), !bytes.isEmpty
            else { return [] }
            var parentToolUseID: String?
            var parentAgentID: String?
            let metaPath = String(match.path.dropLast(".jsonl".count)) + ".meta.json"
            if let metaBytes = try? POSIX.readFile(metaPath), case .object(let meta)? = try? JSONValue.parse(metaBytes)
            {
                parentToolUseID = meta["toolUseId"]?.stringValue
                parentAgentID = meta["parentAgentId"]?.stringValue
            }
            let parsed = TranscriptParser.parse(bytes, cancellation: cancellation)
            let graph = ConversationGraph(entries: parsed.entries, bytes: parsed.bytes)
            let chain = graph.subagentConversation()
            return Self.makeMessages(
                parsed, indices: page(chain, limit: limit, offset: offset), parentToolUseID: parentToolUseID,
                parentAgentID: parentAgentID)
        }
    }

    // MARK: - Mutations

    /// Renames a session by appending a `custom-title` entry; the last one wins.
    ///
    /// - Parameters:
    ///   - sessionID: The session's UUID.
    ///   - title: The new title; surrounding whitespace is removed.
    ///   - directory: The project directory, or `nil` to search all projects.
    /// - Throws: A ``CLITranscriptError`` when the id is invalid, the title is empty, the
    ///   session is not found or the write fails.
    public func rename(sessionID: String, title: String, directory: String? = nil) async throws {
        guard TextRules.isUUID(sessionID) else { throw CLITranscriptError(.invalidSessionID, subject: sessionID) }
        let stripped = TextRules.pythonStrip(title)
        guard !stripped.isEmpty else { throw CLITranscriptError(.emptyTitle, subject: sessionID) }
        let line = Self.orderedObjectLine([
            ("type", "custom-title"), ("customTitle", stripped), ("sessionId", sessionID),
        ])
        try await append(line, sessionID: sessionID, directory: directory)
    }

    /// Tags a session by appending a `tag` entry; the last one wins and `nil` clears it.
    ///
    /// The tag is sanitized as the CLI does: NFKC, then format, private-use, unassigned,
    /// zero-width and bidirectional characters are removed, and whitespace is trimmed.
    ///
    /// - Parameters:
    ///   - sessionID: The session's UUID.
    ///   - tag: The tag, or `nil` to clear it.
    ///   - directory: The project directory, or `nil` to search all projects.
    /// - Throws: A ``CLITranscriptError`` when the id is invalid, the tag is empty after
    ///   sanitizing, the session is not found or the write fails.
    public func tag(sessionID: String, tag: String?, directory: String? = nil) async throws {
        guard TextRules.isUUID(sessionID) else { throw CLITranscriptError(.invalidSessionID, subject: sessionID) }
        var value = ""
        if let tag {
            value = TextRules.pythonStrip(TextRules.sanitizeTag(tag))
            guard !value.isEmpty else { throw CLITranscriptError(.emptyTag, subject: sessionID) }
        }
        let line = Self.orderedObjectLine([("type", "tag"), ("tag", value), ("sessionId", sessionID)])
        try await append(line, sessionID: sessionID, directory: directory)
    }

    /// A JSON object line with members in the given order (readers look for `{"type":"tag"`).
    static func orderedObjectLine(_ members: [(String, String)]) -> [UInt8] {
        var line: [UInt8] = [0x7B]
        for (index, (key, value)) in members.enumerated() {
            if index > 0 { line.append(0x2C) }
            line += JSONValue.string(key).serialized()
            line.append(0x3A)
            line += JSONValue.string(value).serialized()
        }
        line += [0x7D, 0x0A]
        return line
    }

    /// Appends to the session's existing, non-empty transcript (never creating one).
    func append(_ line: [UInt8], sessionID: String, directory: String?) async throws {
        let library = self
        try await BlockingIO.run { _ in
            guard let location = library.locate(sessionID: sessionID, directory: directory) else {
                throw CLITranscriptError(.sessionNotFound, subject: sessionID)
            }
            let descriptor = open(location.path, O_WRONLY | O_APPEND | O_CLOEXEC)
            guard descriptor >= 0 else {
                let code = errno
                if code == ENOENT || code == ENOTDIR { throw CLITranscriptError(.sessionNotFound, subject: sessionID) }
                throw CLITranscriptError(.fileSystem(errno: code), subject: location.path)
            }
            defer { close(descriptor) }
            do {
                try POSIX.writeAll(descriptor, line, path: location.path)
            } catch let error as SystemError {
                throw CLITranscriptError(.fileSystem(errno: error.number), subject: location.path)
            }
        }
    }

    /// Deletes a session's transcript and its folder of subagent transcripts.
    ///
    /// - Parameters:
    ///   - sessionID: The session's UUID.
    ///   - directory: The project directory, or `nil` to search all projects.
    /// - Throws: A ``CLITranscriptError`` when the id is invalid, the session is not found
    ///   or the file cannot be removed.
    public func delete(sessionID: String, directory: String? = nil) async throws {
        guard TextRules.isUUID(sessionID) else { throw CLITranscriptError(.invalidSessionID, subject: sessionID) }
        let library = self
        try await BlockingIO.run { _ in
            guard let location = library.locate(sessionID: sessionID, directory: directory) else {
                throw CLITranscriptError(.sessionNotFound, subject: sessionID)
            }
            if unlink(location.path) != 0 {
                let code = errno
                if code == ENOENT { throw CLITranscriptError(.sessionNotFound, subject: sessionID) }
                throw CLITranscriptError(.fileSystem(errno: code), subject: location.path)
            }
            POSIX.removeTree(location.projectDirectory + "/" + sessionID)
        }
    }

    /// Forks a session: writes a new transcript in the same project folder with the
    /// conversation up to a message, fresh message ids and remapped parents, and a
    /// `custom-title` entry (the given title, else the source's title plus " (fork)").
    ///
    /// The new file is created with mode 0600 and never replaces an existing file. The
    /// fork follows the conversation chain rather than file order, so abandoned branches
    /// are not copied; see the package documentation for the other differences from the
    /// Python SDK. Subagent transcripts are not copied.
    ///
    /// - Parameters:
    ///   - sessionID: The source session's UUID.
    ///   - directory: The project directory, or `nil` to search all projects.
    ///   - upToMessageID: The uuid of the last message to copy, or `nil` for the whole conversation.
    ///   - title: The fork's title, or `nil` to derive one.
    /// - Returns: The new session's id and file.
    /// - Throws: A ``CLITranscriptError`` when an id is invalid, the session or the message
    ///   is not found, there is nothing to fork, or the write fails.
    public func fork(
        sessionID: String, directory: String? = nil, upToMessageID: String? = nil, title: String? = nil
    ) async throws -> CLIForkResult {
        guard TextRules.isUUID(sessionID) else { throw CLITranscriptError(.invalidSessionID, subject: sessionID) }
        let cut = nonEmpty(upToMessageID)
        if let cut, !TextRules.isUUID(cut) { throw CLITranscriptError(.invalidMessageID, subject: cut) }
        let library = self
        return try await BlockingIO.run { _ in
            guard let location = library.locate(sessionID: sessionID, directory: directory) else {
                throw CLITranscriptError(.sessionNotFound, subject: sessionID)
            }
            let bytes: [UInt8]
            do {
                bytes = try POSIX.readFile(location.path)
            } catch let error as SystemError {
                throw CLITranscriptError(.fileSystem(errno: error.number), subject: location.path)
            }
            let plan = try SessionFork.makePlan(
                source: bytes, sourceSessionID: sessionID, upToMessageID: cut, title: title)
            let path = location.projectDirectory + "/" + plan.sessionID + ".jsonl"
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw CLITranscriptError(.fileSystem(errno: errno), subject: path) }
            do {
                try POSIX.writeAll(descriptor, plan.lines, path: path)
                close(descriptor)
            } catch let error as SystemError {
                close(descriptor)
                unlink(path)
                throw CLITranscriptError(.fileSystem(errno: error.number), subject: path)
            }
            return CLIForkResult(sessionID: plan.sessionID, path: path)
        }
    }
}
