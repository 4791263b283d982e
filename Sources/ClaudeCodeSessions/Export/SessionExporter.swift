public import ClaudeCode

#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// The formats ``SessionExporter`` writes.
public enum SessionExportFormat: String, Sendable, Hashable, CaseIterable, Codable {
    /// Markdown: headings per message, tool calls and results in fenced code blocks.
    case markdown = "md"
    /// One JSON document: ``SessionDocument`` encoded with snake-case keys and ISO-8601 dates.
    case json
    /// The source's lines byte for byte: the CLI's transcript lines, or a record's frames.
    case jsonl
    /// One self-contained HTML page (no scripts, no external resources, a strict
    /// Content-Security-Policy; everything from the transcript escaped).
    case html

    /// The usual file extension.
    public var fileExtension: String { rawValue }
}

/// A session ready to export: its ``SessionDocument`` and its source lines.
public struct SessionExport: Sendable, Hashable {
    /// The conversation as one typed document.
    public var document: SessionDocument
    /// The source's lines byte for byte, each ending in a line feed: the CLI's transcript
    /// file (or the store's entries), or a record's frames in order.
    public var jsonLines: [UInt8]
    /// The file read, when there is one.
    public var sourcePath: String?

    /// Creates an export.
    public init(document: SessionDocument, jsonLines: [UInt8], sourcePath: String? = nil) {
        self.document = document
        self.jsonLines = jsonLines
        self.sourcePath = sourcePath
    }
}

/// Why a session could not be loaded for export.
///
/// The description names the session or path, never transcript content.
public struct SessionExportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: Sendable, Hashable {
        /// No such session.
        case sessionNotFound
        /// The session's file exists but cannot be read (`errno` says why).
        case unreadable(errno: Int32)
        /// The store failed.
        case storeFailure
    }

    /// The kind of failure.
    public var code: Code
    /// The session or path concerned.
    public var subject: String
    /// More detail (a store error's description), when there is some.
    public var reason: String?

    /// Creates an error.
    public init(_ code: Code, subject: String, reason: String? = nil) {
        self.code = code
        self.subject = subject
        self.reason = reason
    }

    public var description: String {
        switch code {
        case .sessionNotFound: return "session \(subject) not found"
        case .unreadable(let code): return "cannot read \(subject): \(String(cString: strerror(code)))"
        case .storeFailure: return "store failure for \(subject)" + (reason.map { ": \($0)" } ?? "")
        }
    }
}

/// Loads sessions from any persistence into a ``SessionExport`` and renders them as Markdown,
/// JSON, JSON Lines or HTML.
///
/// ```swift
/// let library = ClaudeSessionLibrary()
/// let export = try await SessionExporter.load(sessionID: id, library: library)
/// try Data(SessionExporter.render(export, as: .html)).write(to: url)
/// ```
public enum SessionExporter {
    // MARK: - Loading

    /// Loads one of the CLI's own sessions (``ClaudeSessionLibrary``): its conversation as the
    /// library rebuilds it, timestamps from the transcript, and the transcript's bytes.
    ///
    /// - Parameters:
    ///   - sessionID: The session's UUID.
    ///   - library: The library over the CLI's configuration directory.
    ///   - directory: The project directory, or `nil` to search all projects.
    /// - Throws: ``SessionExportError`` when the session is not found or its file cannot be read.
    public static func load(sessionID: String, library: ClaudeSessionLibrary, directory: String? = nil)
        async throws(SessionExportError) -> SessionExport
    {
        let info: CLISessionInfo?
        do {
            info = try await library.sessionInfo(id: sessionID, directory: directory)
        } catch {
            throw SessionExportError(.storeFailure, subject: sessionID, reason: "cancelled")
        }
        guard TextRules.isUUID(sessionID) else { throw SessionExportError(.sessionNotFound, subject: sessionID) }
        let loaded = try await readTranscript(sessionID: sessionID, info: info, timestamped: true) {
            library.locate(sessionID: sessionID, directory: directory)?.path
        }
        return SessionExport(document: loaded.document, jsonLines: loaded.bytes, sourcePath: loaded.path)
    }

    /// Loads one of the CLI's transcripts from a file the caller already found and `stat`ed (an
    /// indexer walking every project folder), with the listing metadata it already has (where
    /// ``load(sessionID:library:directory:)`` looks the session up and reads its head and tail
    /// for the metadata).
    ///
    /// - Parameters:
    ///   - sessionID: The session's UUID (the file's name).
    ///   - path: The transcript file.
    ///   - info: Its listing metadata (title, project, dates), when known.
    ///   - timestamped: Whether entries get their timestamps (a second pass over the lines);
    ///     `false` for an index, which stores neither them nor the first line's date (with
    ///     `info`, the document's last activity is the same either way).
    /// - Returns: The document, as ``load(sessionID:library:directory:)`` builds it.
    /// - Throws: ``SessionExportError`` when the file cannot be read, or is empty.
    package static func loadTranscript(
        sessionID: String, path: String, info: CLISessionInfo?, timestamped: Bool = true
    ) async throws(SessionExportError) -> SessionDocument {
        try await readTranscript(sessionID: sessionID, info: info, timestamped: timestamped) { path }.document
    }

    /// What a listing shows of a CLI transcript: what ``transcriptDocument(sessionID:origin:messages:lines:info:timestamped:)``
    /// would give as the document's `messageCount`, `usage` and `model`, without building its
    /// entries (no content is parsed: only whether a user message has any).
    package struct TranscriptFigures: Sendable, Hashable {
        package var messageCount = 0
        package var usage = SessionDocument.Usage()
        package var model: String?
    }

    /// Reads the transcript at `path` for its ``TranscriptFigures`` (off the cooperative pool).
    package static func loadTranscriptFigures(sessionID: String, path: String) async throws(SessionExportError)
        -> TranscriptFigures
    {
        try await loadTranscriptFigures([(sessionID, path)])[0].get()
    }

    /// Reads each transcript of `files` for its ``TranscriptFigures``: one result per file, in
    /// order. The files are read on one blocking call, by one thread per core taking the next
    /// file (a listing reads thousands of small files: a hop to a blocking thread and back per
    /// file was a tenth of the time). Throws only when cancelled.
    package static func loadTranscriptFigures(_ files: [(sessionID: String, path: String)])
        async throws(SessionExportError) -> [Result<TranscriptFigures, SessionExportError>]
    {
        try await readOffPool(files.map { ($0.sessionID, $0.path) }, locate: { _ in [:] }, read: transcriptFigures)
    }

    /// The ``TranscriptFigures`` of the CLI's sessions `sessionIDs`, each file found as
    /// ``load(sessionID:library:directory:)`` finds it without a directory: one result per id,
    /// in order (`sessionNotFound` for an id without a file). Throws only when cancelled.
    package static func loadTranscriptFigures(sessionIDs: [String], library: ClaudeSessionLibrary)
        async throws(SessionExportError) -> [Result<TranscriptFigures, SessionExportError>]
    {
        try await readByID(sessionIDs, library: library, read: transcriptFigures)
    }

    /// Reads the CLI's sessions `sessionIDs` with `read` on one blocking call, each file found
    /// as `load` finds it (``ClaudeSessionLibrary/locateAll(sessionIDs:)``, first).
    private static func readByID<Value: Sendable>(
        _ sessionIDs: [String], library: ClaudeSessionLibrary,
        read: @escaping @Sendable (String, String, CancellationFlag?) -> Result<Value, SessionExportError>
    ) async throws(SessionExportError) -> [Result<Value, SessionExportError>] {
        try await readOffPool(
            sessionIDs.map { ($0, nil) },
            locate: { _ in library.locateAll(sessionIDs: Set(sessionIDs.filter(TextRules.isUUID))) }, read: read)
    }

    /// What `stats` adds up of a session: its document's figures and the metadata the
    /// document carries.
    package struct TranscriptStats: Sendable, Hashable {
        package var figures: TranscriptFigures
        package var projectPath: String?
        package var startedAt: Date?
        package var lastActivity: Date?

        /// The same, of a loaded document.
        package init(_ document: SessionDocument) {
            self.init(
                figures: TranscriptFigures(
                    messageCount: document.messageCount, usage: document.usage, model: document.model),
                projectPath: document.projectPath, startedAt: document.startedAt, lastActivity: document.lastActivity)
        }

        init(figures: TranscriptFigures, projectPath: String?, startedAt: Date?, lastActivity: Date?) {
            self.figures = figures
            self.projectPath = projectPath
            self.startedAt = startedAt
            self.lastActivity = lastActivity
        }
    }

    /// The ``TranscriptStats`` of the CLI's sessions `sessionIDs`: for each, what
    /// `TranscriptStats(load(sessionID:library:).document)` gives, read the way a listing reads
    /// figures (no conversation is built) when the transcript's head names its start; one
    /// result per id, in order. Throws only when cancelled.
    package static func loadTranscriptStats(sessionIDs: [String], library: ClaudeSessionLibrary)
        async throws(SessionExportError) -> [Result<TranscriptStats, SessionExportError>]
    {
        try await readByID(sessionIDs, library: library, read: transcriptStats)
    }

    /// Reads one transcript's ``TranscriptStats`` (blocking), once: the listing metadata `load`
    /// would read from its head and tail is taken from the same bytes.
    static func transcriptStats(sessionID: String, path: String, cancellation: CancellationFlag?)
        -> Result<TranscriptStats, SessionExportError>
    {
        readWhole(sessionID: sessionID, path: path).map { bytes, status in
            let info = LiteFileReader.sessionInfo(bytes: bytes, status: status, sessionID: sessionID, projectPath: nil)
            if let info, let created = info.createdAt {
                let (parsed, visible) = visibleConversation(bytes, cancellation: cancellation, figures: true)
                return TranscriptStats(
                    figures: transcriptFigures(parsed, indices: visible), projectPath: info.cwd,
                    startedAt: Date(timeIntervalSince1970: Double(created) / 1000),
                    lastActivity: Date(timeIntervalSince1970: Double(info.lastModified) / 1000))
            }
            // Without a start in its head, a document starts at its earliest line: the whole document.
            let read = visibleMessages(visibleConversation(bytes, cancellation: cancellation, figures: false))
            return TranscriptStats(
                transcriptDocument(
                    sessionID: sessionID, origin: .cliTranscript, messages: read.messages, lines: read.bytes, info: info
                ))
        }
    }

    /// Reads `files` on one blocking call, by one thread per core taking the next file; a file
    /// without a path is looked up in what `locate` returns (run first, on the same call).
    private static func readOffPool<Value: Sendable>(
        _ files: [(sessionID: String, path: String?)],
        locate: @escaping @Sendable (CancellationFlag) -> [String: String],
        read: @escaping @Sendable (String, String, CancellationFlag?) -> Result<Value, SessionExportError>
    ) async throws(SessionExportError) -> [Result<Value, SessionExportError>] {
        guard !files.isEmpty else { return [] }
        let cancelled = SessionExportError(.storeFailure, subject: files[0].sessionID, reason: "cancelled")
        do {
            return try await BlockingIO.run { cancellation in
                let located = locate(cancellation)
                let slots = ParallelSlots<Result<Value, SessionExportError>>(count: files.count)
                BlockingIO.parallel(iterations: files.count) { index in
                    guard !cancellation.isCancelled else { return }
                    let (sessionID, given) = files[index]
                    guard let path = given ?? located[sessionID] else {
                        slots[index] = .failure(SessionExportError(.sessionNotFound, subject: sessionID))
                        return
                    }
                    slots[index] = read(sessionID, path, cancellation)
                }
                if cancellation.isCancelled { throw CancellationError() }
                return (0..<files.count).map { slots[$0] ?? .failure(cancelled) }
            }
        } catch {
            throw cancelled
        }
    }

    /// Reads the transcript at `path` (blocking) and returns its bytes, the messages of its
    /// visible conversation and its corrupt line count; an empty file is not found.
    static func visibleMessages(sessionID: String, path: String, cancellation: CancellationFlag?)
        -> Result<(bytes: [UInt8], messages: [CLISessionMessage], corrupt: Int), SessionExportError>
    {
        readWhole(sessionID: sessionID, path: path).map {
            visibleMessages(visibleConversation($0.bytes, cancellation: cancellation, figures: false))
        }
    }

    /// Reads the transcript at `path` (blocking) for its figures: the entries and what each
    /// counts are read in one parse (``EntryFigures``), and no message is built.
    static func transcriptFigures(sessionID: String, path: String, cancellation: CancellationFlag?)
        -> Result<TranscriptFigures, SessionExportError>
    {
        readWhole(sessionID: sessionID, path: path).map {
            let (parsed, visible) = visibleConversation($0.bytes, cancellation: cancellation, figures: true)
            return transcriptFigures(parsed, indices: visible)
        }
    }

    /// The whole transcript at `path` and its `fstat`; an empty file is not found.
    private static func readWhole(sessionID: String, path: String)
        -> Result<(bytes: [UInt8], status: FileStatus), SessionExportError>
    {
        let read: (bytes: [UInt8], status: FileStatus)
        do throws(SystemError) {
            read = try TranscriptFile.readWithStatus(path)
        } catch {
            return .failure(SessionExportError(.unreadable(errno: error.number), subject: path))
        }
        guard !read.bytes.isEmpty else { return .failure(SessionExportError(.sessionNotFound, subject: sessionID)) }
        return .success(read)
    }

    /// Parses a transcript's bytes: the parse and the indices of the entries of its visible
    /// conversation.
    private static func visibleConversation(_ bytes: [UInt8], cancellation: CancellationFlag?, figures: Bool)
        -> (parsed: ParsedTranscript, visible: [Int])
    {
        let parsed = TranscriptParser.parse(bytes, cancellation: cancellation, figures: figures)
        return (parsed, ConversationGraph(entries: parsed.entries, bytes: parsed.bytes).visibleConversation())
    }

    /// The messages of a parsed transcript's visible conversation (its entries are released
    /// first), with its bytes and its corrupt line count.
    private static func visibleMessages(_ conversation: (parsed: ParsedTranscript, visible: [Int]))
        -> (bytes: [UInt8], messages: [CLISessionMessage], corrupt: Int)
    {
        var (parsed, visible) = conversation
        let corrupt = parsed.corruptLineCount
        let messages = ClaudeSessionLibrary.makeMessages(releasingEntriesOf: &parsed, indices: visible)
        return (parsed.bytes, messages, corrupt)
    }

    /// The figures of `transcriptDocument` for the entries at `indices` (the visible
    /// conversation) of a transcript parsed with figures: the same rules (a user message counts
    /// when its content is neither missing, `null` nor `[]`; consecutive assistant messages with
    /// one `id` are one; usage counted once per `id`, else per uuid; the model is the last one
    /// that is not `<synthetic>`).
    static func transcriptFigures(_ parsed: ParsedTranscript, indices: [Int]) -> TranscriptFigures {
        var figures = TranscriptFigures()
        var lastAssistantID: IDKey?
        var counted: Set<IDKey> = []
        var model: Range<Int>?
        for index in indices {
            let entry = parsed.entries[index]
            let counts = parsed.figures[index]
            if entry.type == .user {
                guard counts.hasContent else { continue }
                figures.messageCount += 1
                lastAssistantID = nil
                continue
            }
            if let found = counts.model { model = found }
            if let used = counts.usage, counted.insert(counts.id ?? IDKey(entry.uuid)).inserted {
                figures.usage.inputTokens += used.inputTokens
                figures.usage.outputTokens += used.outputTokens
                figures.usage.cacheCreationInputTokens += used.cacheCreationInputTokens
                figures.usage.cacheReadInputTokens += used.cacheReadInputTokens
            }
            if !(counts.id != nil && counts.id == lastAssistantID) { figures.messageCount += 1 }
            lastAssistantID = counts.id
        }
        figures.model = model.flatMap { TranscriptParser.string(parsed.bytes, $0) }
        return figures
    }

    /// Reads the transcript file `locate` names (off the cooperative pool, as `locate` runs):
    /// once, for the chain, the document and the lines. No file, or an empty one: not found.
    static func readTranscript(
        sessionID: String, info: CLISessionInfo?, timestamped: Bool, locate: @escaping @Sendable () -> String?
    ) async throws(SessionExportError) -> (document: SessionDocument, bytes: [UInt8], path: String) {
        let outcome: Result<(document: SessionDocument, bytes: [UInt8], path: String), SessionExportError>
        do {
            outcome = try await BlockingIO.run { cancellation in
                guard let path = locate() else {
                    return .failure(SessionExportError(.sessionNotFound, subject: sessionID))
                }
                let read: (bytes: [UInt8], messages: [CLISessionMessage], corrupt: Int)
                switch visibleMessages(sessionID: sessionID, path: path, cancellation: cancellation) {
                case .success(let value): read = value
                case .failure(let error): return .failure(error)
                }
                let bytes = read.bytes
                var document = transcriptDocument(
                    sessionID: sessionID, origin: .cliTranscript, messages: read.messages, lines: bytes, info: info,
                    timestamped: timestamped)
                document.skippedLineCount = read.corrupt
                return .success((document, bytes, path))
            }
        } catch {
            throw SessionExportError(.storeFailure, subject: sessionID, reason: "cancelled")
        }
        return try outcome.get()
    }

    /// Loads a session from a ``SessionStore`` (``StoreSessionLibrary``).
    ///
    /// - Parameters:
    ///   - sessionID: The session's UUID.
    ///   - library: The library over the store (with a fixed project key, or keyed by `directory`).
    ///   - directory: The project directory when the library derives keys from it.
    /// - Throws: ``SessionExportError`` when the session is not found or the store fails.
    public static func load(sessionID: String, library: StoreSessionLibrary, directory: String? = nil)
        async throws(SessionExportError) -> SessionExport
    {
        let entries: [SessionStoreEntry]
        let messages: [CLISessionMessage]
        let info: CLISessionInfo?
        do {
            guard let loaded = try await library.store.load(library.key(sessionID: sessionID, directory: directory)),
                !loaded.isEmpty
            else {
                throw SessionExportError(.sessionNotFound, subject: sessionID)
            }
            entries = loaded
            messages = try await library.messages(sessionID: sessionID, directory: directory)
            info = try await library.sessionInfo(id: sessionID, directory: directory)
        } catch let error as SessionExportError {
            throw error
        } catch {
            throw SessionExportError(.storeFailure, subject: sessionID, reason: "\(error)")
        }
        let bytes = StoreSessionLibrary.jsonLines(entries)
        let document = transcriptDocument(
            sessionID: sessionID, origin: .store, messages: messages, lines: bytes, info: info)
        return SessionExport(document: document, jsonLines: bytes)
    }

    /// Loads a ``SessionPersistentClient`` record.
    ///
    /// - Throws: ``SessionExportError`` when the record is not found or the store fails.
    public static func load(record id: SessionID, from store: any SessionRecordStore)
        async throws(SessionExportError) -> SessionExport
    {
        do {
            return export(record: try await store.loadRecord(id))
        } catch {
            if error.code == .sessionNotFound { throw SessionExportError(.sessionNotFound, subject: id.rawValue) }
            throw SessionExportError(.storeFailure, subject: id.rawValue, reason: error.description)
        }
    }

    /// A record as an export: prompts, replies, tool calls and results, and a turn end with
    /// the turn's own cost and tokens (``SessionLedger``) after every result.
    public static func export(record data: SessionData) -> SessionExport {
        var ledger = SessionLedger()
        var fold = RecordSummaryFold()
        var entries: [SessionDocument.Entry] = []
        var lines: [UInt8] = []
        var skipped = 0
        var lastAssistantID: String?
        var model: String?
        for message in data.conversationHistory {
            lines += message.rawJSON
            lines.append(0x0A)
            ledger.add(message)
            fold.add(message)
            if message.type == ConversationMessage.invalidType {
                skipped += 1
                continue
            }
            switch (message.direction, message.type) {
            case (_, "user"):
                guard let frame = try? JSONValue.parse(message.rawJSON) else { continue }
                let blocks = SessionDocument.Block.blocks(from: frame["message"]?["content"])
                guard !blocks.isEmpty else { continue }
                entries.append(
                    SessionDocument.Entry(
                        role: .user, uuid: frame["uuid"]?.stringValue, timestamp: message.timestamp, blocks: blocks))
                lastAssistantID = nil
            case (.received, "assistant"):
                guard let frame = try? JSONValue.parse(message.rawJSON) else { continue }
                let body = frame["message"]
                let blocks = SessionDocument.Block.blocks(from: body?["content"])
                let id = body?["id"]?.stringValue
                let entryModel = body?["model"]?.stringValue
                if let entryModel, entryModel != "<synthetic>" { model = entryModel }
                if let id, id == lastAssistantID, var last = entries.popLast() {
                    last.blocks += blocks
                    last.usage = usage(body?["usage"]) ?? last.usage
                    entries.append(last)
                } else {
                    entries.append(
                        SessionDocument.Entry(
                            role: .assistant, uuid: frame["uuid"]?.stringValue, timestamp: message.timestamp,
                            model: entryModel, blocks: blocks, usage: usage(body?["usage"])))
                }
                lastAssistantID = id
            case (.received, "result"):
                guard ledger.turns > 0, let turn = ledger.recentTurns.last, turn.date == message.timestamp else {
                    continue
                }
                entries.append(
                    SessionDocument.Entry(
                        role: .turnEnd, uuid: turn.resultUUID, timestamp: message.timestamp,
                        turn: SessionDocument.Usage(
                            turns: 1, inputTokens: turn.totals.inputTokens, outputTokens: turn.totals.outputTokens,
                            cacheCreationInputTokens: turn.totals.cacheCreationInputTokens,
                            cacheReadInputTokens: turn.totals.cacheReadInputTokens, costUSD: turn.costUSD,
                            durationMilliseconds: turn.durationMilliseconds),
                        isError: turn.isError))
                lastAssistantID = nil
            default:
                break
            }
        }
        let totals = ledger.totals
        let document = SessionDocument(
            sessionID: data.sessionID.rawValue, origin: .record, title: data.title ?? fold.title,
            projectPath: data.workingDirectory.isEmpty ? nil : data.workingDirectory, model: fold.model ?? model,
            tag: data.tag,
            startedAt: data.startTime, lastActivity: data.lastActivity,
            usage: SessionDocument.Usage(
                turns: ledger.turns, inputTokens: totals.inputTokens, outputTokens: totals.outputTokens,
                cacheCreationInputTokens: totals.cacheCreationInputTokens,
                cacheReadInputTokens: totals.cacheReadInputTokens, costUSD: totals.costUSD,
                durationMilliseconds: ledger.durationMilliseconds),
            entries: entries, skippedLineCount: skipped)
        return SessionExport(document: document, jsonLines: lines)
    }

    /// A transcript's messages (from the chain builder) with the timestamps of its lines.
    static func transcriptDocument(
        sessionID: String, origin: SessionDocument.Origin, messages: [CLISessionMessage], lines: [UInt8],
        info: CLISessionInfo?, timestamped: Bool = true
    ) -> SessionDocument {
        var timestamps: [String: Date] = [:]
        var first: Date?
        var last: Date?
        // Only two top-level members of each line are read (building every line's whole value
        // here was a third of the time of loading a transcript).
        var offset = timestamped ? 0 : lines.count
        while offset < lines.count {
            let end = lines[offset...].firstIndex(of: 0x0A) ?? lines.count
            let range = offset..<end
            offset = end + 1
            guard !range.isEmpty else { continue }
            let scanner = JSONObjectScanner(lines, range: range)
            var iterator = scanner.makeIterator()
            var stampRange: Range<Int>?
            var uuidRange: Range<Int>?
            while let member = iterator.next() {
                if member.key == "timestamp" {
                    stampRange = member.valueRange
                } else if member.key == "uuid" {
                    uuidRange = member.valueRange
                }
            }
            guard iterator.error == nil, let stampRange, let stamp = (try? scanner.string(in: stampRange)) ?? nil,
                let date = StoreTimestamp.parse(stamp)
            else { continue }
            if let uuidRange, let uuid = (try? scanner.string(in: uuidRange)) ?? nil { timestamps[uuid] = date }
            if first == nil || date < first! { first = date }
            if last == nil || date > last! { last = date }
        }
        var entries: [SessionDocument.Entry] = []
        var lastAssistantID: String?
        var counted: Set<String> = []
        var totals = SessionDocument.Usage()
        var model: String?
        for message in messages {
            let body = message.message
            let blocks = SessionDocument.Block.blocks(from: body["content"])
            switch message.type {
            case .user:
                guard !blocks.isEmpty else { continue }
                entries.append(
                    SessionDocument.Entry(
                        role: .user, uuid: message.uuid, timestamp: timestamps[message.uuid], blocks: blocks))
                lastAssistantID = nil
            case .assistant:
                let id = body["id"]?.stringValue
                let entryModel = body["model"]?.stringValue
                if let entryModel, entryModel != "<synthetic>" { model = entryModel }
                let used = usage(body["usage"])
                if let used, counted.insert(id ?? message.uuid).inserted {
                    totals.inputTokens += used.inputTokens
                    totals.outputTokens += used.outputTokens
                    totals.cacheCreationInputTokens += used.cacheCreationInputTokens
                    totals.cacheReadInputTokens += used.cacheReadInputTokens
                }
                if let id, id == lastAssistantID, var previous = entries.popLast() {
                    previous.blocks += blocks
                    previous.usage = used ?? previous.usage
                    entries.append(previous)
                } else {
                    entries.append(
                        SessionDocument.Entry(
                            role: .assistant, uuid: message.uuid, timestamp: timestamps[message.uuid],
                            model: entryModel, blocks: blocks, usage: used))
                }
                lastAssistantID = id
            }
        }
        let created = info?.createdAt.map { Date(timeIntervalSince1970: Double($0) / 1000) }
        let modified = info.map { Date(timeIntervalSince1970: Double($0.lastModified) / 1000) }
        return SessionDocument(
            sessionID: sessionID, origin: origin, title: info?.customTitle ?? info?.firstPrompt,
            projectPath: info?.cwd, model: model, tag: info?.tag, startedAt: created ?? first,
            lastActivity: origin == .cliTranscript ? (modified ?? last) : (last ?? modified), usage: totals,
            entries: entries)
    }

    /// A Messages API `usage` object's tokens.
    static func usage(_ value: JSONValue?) -> SessionDocument.Usage? {
        guard let value, case .object = value else { return nil }
        return SessionDocument.Usage(
            inputTokens: value["input_tokens"]?.intValue ?? 0, outputTokens: value["output_tokens"]?.intValue ?? 0,
            cacheCreationInputTokens: value["cache_creation_input_tokens"]?.intValue ?? 0,
            cacheReadInputTokens: value["cache_read_input_tokens"]?.intValue ?? 0)
    }

    // MARK: - Rendering

    /// Renders an export.
    ///
    /// - Parameters:
    ///   - export: The session.
    ///   - format: The format.
    /// - Returns: The file's bytes (UTF-8).
    public static func render(_ export: SessionExport, as format: SessionExportFormat) -> [UInt8] {
        switch format {
        case .jsonl: return export.jsonLines
        case .json: return json(export.document)
        case .markdown: return Array(MarkdownRenderer.render(export.document).utf8)
        case .html: return HTMLRenderer.bytes(export.document)
        }
    }

    /// Renders an export piece by piece, handing its bytes to `consume` in order, in chunks of
    /// at most `chunkSize` bytes.
    ///
    /// HTML is rendered as it is written: the page is never held whole, so a large session
    /// goes to a file or a pipe with no more memory than its document and one chunk. The other
    /// formats are rendered first, then handed on in chunks. The bytes are those of
    /// ``render(_:as:)``.
    ///
    /// ```swift
    /// try SessionExporter.render(export, as: .html) { chunk in try handle.write(contentsOf: chunk) }
    /// ```
    ///
    /// - Parameters:
    ///   - export: The session.
    ///   - format: The format.
    ///   - chunkSize: The most bytes per chunk (64 KiB by default).
    ///   - consume: Called with each chunk (never empty); the buffer is valid only during the call.
    /// - Throws: What `consume` throws; nothing more is rendered after it throws.
    public static func render<Failure: Error>(
        _ export: SessionExport, as format: SessionExportFormat, chunkSize: Int = 1 << 16,
        into consume: (UnsafeRawBufferPointer) throws(Failure) -> Void
    ) throws(Failure) {
        let size = max(1, chunkSize)
        switch format {
        case .html:
            try HTMLRenderer.render(export.document, chunkSize: size, into: consume)
        case .jsonl:
            try chunked(export.jsonLines, size: size, into: consume)
        case .json, .markdown:
            try chunked(render(export, as: format), size: size, into: consume)
        }
    }

    private static func chunked<Failure: Error>(
        _ bytes: [UInt8], size: Int, into consume: (UnsafeRawBufferPointer) throws(Failure) -> Void
    ) throws(Failure) {
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + size)
            let result = bytes[start..<end].withUnsafeBytes { chunk -> Result<Void, Failure> in
                do throws(Failure) {
                    try consume(chunk)
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            try result.get()
            start = end
        }
    }

    /// The document as JSON (sorted keys, ISO-8601 dates with milliseconds, pretty-printed).
    public static func json(_ document: SessionDocument) -> [UInt8] {
        (try? Array(jsonEncoder().encode(document))) ?? Array("{}".utf8)
    }

    /// A decoder for what ``json(_:)`` writes.
    public static func jsonDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = StoreTimestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "invalid ISO-8601 date")
            }
            return date
        }
        return decoder
    }

    /// The encoder the JSON format uses (snake-case keys, ISO-8601 dates with milliseconds).
    public static func jsonEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(ExportText.iso(date))
        }
        return encoder
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
