public import ClaudeCode
import Foundation
public import Logging
import Synchronization

/// A `ClaudeSDKClient` that records every conversation automatically.
///
/// Switching the type is the whole migration:
///
/// ```swift
/// try await SessionPersistentClient.withConnection { client in
///     try await client.query("Hello")
///     for try await message in client.receiveResponse() {
///         print(message)  // Same code, automatic persistence!
///     }
/// }
/// ```
///
/// Every frame in both directions — your prompts, the CLI's messages of every type, control
/// requests such as interrupts, even unknown or invalid lines — is recorded losslessly (its
/// exact JSON) with a timestamp and direction, under the session id the CLI generates. The
/// recording happens as frames cross the wire, whether or not you read the messages. A store
/// failure is reported through ``persistenceEvents()`` and the log, the frames are kept in memory
/// and retried, and the conversation goes on.
///
/// ## What survives a crash
///
/// With a ``FileRecordStore`` (the default), **delivered means saved**:
///
/// - **A crash of the process** (`kill -9`, a trap, an abort): every message you have received,
///   and every prompt whose ``query(_:sessionID:)`` has returned, is in the record. Each frame
///   is written into the session's journal (one `write(2)`, no `fsync`) before it is delivered
///   to you or sent to the CLI, and the record exists from the CLI's first frame of a new session.
///   Frames that crossed before the CLI confirmed its session (the `initialize` exchange and the
///   first prompt: the CLI names the session only in its answer) are held in memory and written
///   the moment the confirming `system/init` arrives, before it is delivered; a crash before that
///   moment leaves no record, and nothing had been delivered.
/// - **Power loss or a kernel crash**: what was made durable. Under the default
///   ``DurabilityPolicy/checkpoint`` a result is delivered only after the journal is `fsync`ed up
///   to it, so every turn whose result you received survives; the turn in progress may not.
///   ``DurabilityPolicy/everyMessage`` `fsync`s each frame before delivering it (slower);
///   ``DurabilityPolicy/never`` leaves it to the kernel.
///
/// Folding the journal into the snapshot runs in the background and never delays a frame. A
/// failing disk breaks the first guarantee for as long as it fails (frames are then held in
/// memory, retried at every frame and turn, and reported as ``PersistenceEvent``s).
///
/// Other stores (SQLite, PostgreSQL, your own) are written by a recorder task through a queue
/// bounded by ``recordingBufferLimit``: a turn is stored and checkpointed before its result is
/// delivered, but messages within a turn may be delivered before they are stored.
///
/// A connection the CLI never confirms (an unknown `--resume` id) leaves no record behind.
///
/// ## Resuming anywhere
///
/// The CLI's transcripts are mirrored into the record store's transcript store
/// (``TranscriptCopy/automatic``: `~/.claude_sdk/transcripts` beside the default records, the
/// database itself for SQLite and PostgreSQL). ``startOrResumeSession(_:)`` then continues a
/// conversation wherever the store is reachable: when the CLI's own transcript is missing
/// (another host or container, another `HOME`, the CLI's 30-day cleanup) the CLI resumes from
/// the store's copy. A resumed session runs in the working directory it was recorded in, unless
/// ``options`` sets `ClaudeCodeOptions/cwd`.
public final class SessionPersistentClient: Sendable {
    private struct State {
        var options: ClaudeCodeOptions
        var client: ClaudeSDKClient?
        var recorder: SessionRecorder?
        var recordingBufferLimit = SessionRecorder.defaultLimitBytes
    }

    private let state: Mutex<State>
    private let transportFactory: TransportFactory?
    private let controlHandler: ControlRequestHandler?
    private let events: PersistenceEventHub
    /// The store that holds the records.
    public let store: any SessionRecordStore
    /// The store that holds the CLI's transcripts of the records, if any (see ``TranscriptCopy``).
    public let transcriptStore: (any SessionStore)?
    private let transcriptConfiguration: SessionStoreConfiguration
    public let logger: Logger

    /// Creates a client that records into `store`.
    /// - Parameters:
    ///   - options: How to run the CLI.
    ///   - store: Where the records go.
    ///   - transcripts: Where the CLI's transcripts are copied so sessions resume anywhere; by
    ///     default the record store's own ``SessionRecordStore/transcriptStore``.
    ///   - transport: Makes the transport per connection; `nil` runs the real CLI.
    ///   - controlHandler: Answers the CLI's control requests first.
    ///   - logger: Where to log.
    public convenience init(
        options: ClaudeCodeOptions = ClaudeCodeOptions(), store: any SessionRecordStore,
        transcripts: TranscriptCopy = .automatic, transport: TransportFactory? = nil,
        controlHandler: ControlRequestHandler? = nil, logger: Logger = Logger(label: "ClaudeCode.sessions")
    ) {
        self.init(
            options: options, store: store, transcripts: transcripts, transport: transport,
            controlHandler: controlHandler, logger: logger, events: PersistenceEventHub(handler: nil))
    }

    private init(
        options: ClaudeCodeOptions, store: any SessionRecordStore, transcripts: TranscriptCopy,
        transport: TransportFactory?, controlHandler: ControlRequestHandler?, logger: Logger,
        events: PersistenceEventHub
    ) {
        self.events = events
        self.state = Mutex(State(options: options))
        self.store = store
        let copy = transcripts.resolved(for: store)
        self.transcriptStore = copy?.store
        self.transcriptConfiguration = copy?.configuration ?? SessionStoreConfiguration()
        self.transportFactory = transport
        self.controlHandler = controlHandler
        self.logger = logger
    }

    /// Creates a client that records into JSON files in `storagePath` (default
    /// `~/.claude_sdk/sessions`, created 0700), with the CLI's transcripts copied beside them
    /// (``FileRecordStore/transcriptsDirectory``) unless `transcripts` says otherwise.
    ///
    /// The store's own failures and recoveries reach ``persistenceEvents()`` too.
    public convenience init(
        options: ClaudeCodeOptions = ClaudeCodeOptions(), storagePath: String? = nil,
        durability: DurabilityPolicy = .checkpoint, transcripts: TranscriptCopy = .automatic,
        transport: TransportFactory? = nil, controlHandler: ControlRequestHandler? = nil,
        logger: Logger = Logger(label: "ClaudeCode.sessions")
    ) {
        let hub = PersistenceEventHub(handler: nil)
        let store = FileRecordStore(
            configuration: .init(
                directory: storagePath ?? FileRecordStore.defaultDirectory, durability: durability, logger: logger,
                eventHandler: { hub.emit($0) }))
        self.init(
            options: options, store: store, transcripts: transcripts, transport: transport,
            controlHandler: controlHandler, logger: logger, events: hub)
    }

    /// The options of the next (or current) connection.
    public var options: ClaudeCodeOptions {
        get { state.withLock { $0.options } }
        set { state.withLock { $0.options = newValue } }
    }

    /// The wrapped client, while connected.
    public var client: ClaudeSDKClient? { state.withLock { $0.client } }

    /// The most bytes of frames the recording path holds in memory (default 32 MiB; at least
    /// 64 KiB), applied at the next `connect(prompt:)`.
    ///
    /// With a ``FileRecordStore`` every frame is written to the journal before it is delivered,
    /// so frames are held only before the CLI confirms the session (past the limit, further
    /// unconfirmed frames are not recorded) or while the disk fails (held and retried). With
    /// other stores frames are queued for the store: once the queue holds this much, the reader
    /// waits for the store before reading the CLI's next frame, so a slow store slows the
    /// conversation rather than growing memory.
    public var recordingBufferLimit: Int {
        get { state.withLock { $0.recordingBufferLimit } }
        set { state.withLock { $0.recordingBufferLimit = newValue } }
    }

    /// The recorder of the current connection (tests).
    var recorder: SessionRecorder? { state.withLock { $0.recorder } }

    /// Store failures and recoveries, as they happen. Each call returns a new stream.
    public func persistenceEvents() -> AsyncStream<PersistenceEvent> { events.makeStream(bufferingNewest: 1024) }

    // MARK: Sessions (the seed's API)

    /// The CLI's session id, from the first frame that carried it (or the one being resumed).
    public var currentSessionID: String? {
        state.withLock { $0.recorder?.currentSessionID ?? $0.options.resume }
    }

    /// Starts a new session (`nil`) or resumes `sessionID`: its local record is continued and
    /// the CLI gets `--resume`. Works before and after `connect(prompt:)`; when connected,
    /// the client reconnects to apply it.
    ///
    /// The session continues in the working directory it was recorded in unless ``options``
    /// sets `ClaudeCodeOptions/cwd`; `connect()` fails with
    /// `ClaudeCodeError.Code.workingDirectoryNotFound` when that directory no longer exists. When
    /// the CLI's own transcript is missing, the CLI resumes from the ``transcriptStore``.
    /// - Throws: ``SessionStoreError/Code/invalidSessionID`` before anything touches a path.
    public func startOrResumeSession(_ sessionID: String?) async throws {
        let id = try sessionID.map(Self.validatedID)
        let wasConnected = state.withLock { state -> Bool in
            state.options.resume = id?.rawValue
            if id == nil { state.options.forkSession = false }
            return state.client != nil
        }
        if wasConnected {
            await disconnect()
            try await connect()
        }
    }

    /// Every recorded session, newest activity first; damaged files are listed with the reason.
    public func listSessions() async throws(SessionStoreError) -> [RecordListEntry] {
        try await store.listRecords()
    }

    /// The record of `sessionID`.
    /// - Throws: ``SessionStoreError`` — `invalidSessionID`, `sessionNotFound`, or `damagedFile` naming the file.
    public func loadSession(_ sessionID: String) async throws(SessionStoreError) -> SessionData {
        let id = try Self.validatedID(sessionID)
        if let recorder = state.withLock({ $0.recorder }), recorder.currentSessionID == sessionID {
            // Include what is still on its way to the store.
            await recorder.flush()
        }
        return try await store.loadRecord(id)
    }

    /// Deletes the record of `sessionID` (not the CLI's own transcript).
    public func deleteSession(_ sessionID: String) async throws(SessionStoreError) {
        try await store.deleteRecord(try Self.validatedID(sessionID))
    }

    static func validatedID(_ text: String) throws(SessionStoreError) -> SessionID {
        guard let id = SessionID(rawValue: text) else { throw SessionStoreError(.invalidSessionID) }
        return id
    }

    // MARK: ClaudeSDKClient's API

    /// Starts the CLI (with `--resume` when a session was chosen) and starts recording.
    ///
    /// A resumed session runs in its recorded working directory unless ``options`` sets one.
    /// - Throws: `ClaudeCodeError`; `workingDirectoryNotFound` when the resumed session's
    ///   recorded directory no longer exists (set `ClaudeCodeOptions/cwd` to continue elsewhere).
    public func connect(prompt: String? = nil) async throws(ClaudeCodeError) {
        let (options, recordedDirectory) = try await withRecordedDirectory(state.withLock { $0.options })
        let recorder = SessionRecorder(
            store: store,
            expectedSessionID: options.forkSession ? nil : options.resume.flatMap { SessionID(rawValue: $0) },
            workingDirectory: Self.workingDirectory(options), options: Self.persistableOptions(options), events: events,
            logger: logger, limitBytes: state.withLock { $0.recordingBufferLimit })
        var mirrorSettings: (store: any SessionStore, configuration: SessionStoreConfiguration)?
        if let store = transcriptStore {
            var configuration = transcriptConfiguration
            if let recordedDirectory, configuration.projectKey == nil {
                // Continued in another directory than recorded: the store keeps it under the old one's key.
                configuration.resumeFallbackProjectKeys = [
                    ClaudeSessionLibrary.projectFolderName(for: recordedDirectory)
                ]
            }
            mirrorSettings = (store, configuration)
        }
        let settings = mirrorSettings
        let client = ClaudeSDKClient(
            options: options, transport: transportFactory, observer: { recorder.record($0) },
            controlHandler: controlHandler,
            connectionExtension: {
                RecordingExtension(
                    recorder: recorder,
                    mirror: settings.map { TranscriptMirror(store: $0.store, configuration: $0.configuration) })
            }, logger: logger)
        let claimed = state.withLock { state -> Bool in
            guard state.client == nil else { return false }
            state.client = client
            state.recorder = recorder
            return true
        }
        guard claimed else {
            throw ClaudeCodeError(.alreadyConnected, "the client is already connected; call disconnect() first")
        }
        do {
            try await client.connect(prompt: prompt)
        } catch {
            await recorder.close()
            state.withLock { state in
                if state.client === client {
                    state.client = nil
                    state.recorder = nil
                }
            }
            throw error
        }
    }

    /// `options` with `ClaudeCodeOptions/cwd` set to the resumed session's recorded directory,
    /// when the caller set none and a record of the session exists; and that directory.
    private func withRecordedDirectory(_ options: ClaudeCodeOptions) async throws(ClaudeCodeError)
        -> (ClaudeCodeOptions, recorded: String?)
    {
        guard let resume = options.resume, let id = SessionID(rawValue: resume) else { return (options, nil) }
        let recorded: String
        do {
            recorded = try await store.loadRecord(id).workingDirectory
        } catch {
            // A session the CLI knows but this store never recorded runs where the process runs;
            // with options.cwd set, the record is not needed at all.
            if error.code == .sessionNotFound || options.cwd != nil { return (options, nil) }
            throw ClaudeCodeError(
                .launchFailed,
                "could not read the record of session \(id) to find its working directory: \(error); "
                    + "set options.cwd to resume it without the record", underlying: error)
        }
        guard !recorded.isEmpty else { return (options, nil) }
        // The caller chose where it continues.
        if options.cwd != nil { return (options, recorded) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: recorded, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ClaudeCodeError(
                .workingDirectoryNotFound,
                "session \(id) was recorded in \(recorded), which no longer exists or is not a directory; "
                    + "set options.cwd to continue it in another directory")
        }
        var options = options
        options.cwd = recorded
        return (options, recorded)
    }

    /// Stops the CLI, then makes every record durable. The CLI is stopped even if the store fails.
    public func disconnect() async {
        let (client, recorder) = state.withLock { ($0.client, $0.recorder) }
        await client?.disconnect()
        await recorder?.close()
        state.withLock { state in
            if state.client === client {
                // Keep resuming the same conversation on the next connect.
                if let id = recorder?.currentSessionID {
                    state.options.resume = id
                    state.options.forkSession = false
                }
                state.client = nil
                state.recorder = nil
            }
        }
    }

    /// Waits until every frame seen so far is handed to the store and checkpointed.
    public func flush() async {
        await state.withLock { $0.recorder }?.flush()
    }

    /// Connects, runs `body`, and disconnects however `body` ends.
    public static func withConnection<Result: Sendable>(
        options: ClaudeCodeOptions = ClaudeCodeOptions(), storagePath: String? = nil,
        transcripts: TranscriptCopy = .automatic, prompt: String? = nil,
        _ body: (SessionPersistentClient) async throws -> Result
    ) async throws -> Result {
        let client = SessionPersistentClient(options: options, storagePath: storagePath, transcripts: transcripts)
        return try await client.withConnection(prompt: prompt, body)
    }

    /// Connects this client, runs `body`, and disconnects however `body` ends.
    public func withConnection<Result: Sendable>(
        prompt: String? = nil, _ body: (SessionPersistentClient) async throws -> Result
    ) async throws -> Result {
        try await connect(prompt: prompt)
        do {
            let result = try await body(self)
            await disconnect()
            return result
        } catch {
            await disconnect()
            throw error
        }
    }

    private func connected() throws(ClaudeCodeError) -> ClaudeSDKClient {
        guard let client = state.withLock({ $0.client }) else {
            throw ClaudeCodeError(.notConnected, "the client is not connected; call connect() first")
        }
        return client
    }

    /// See `ClaudeSDKClient/query(_:sessionID:)`.
    public func query(_ prompt: String, sessionID: String = "default") async throws(ClaudeCodeError) {
        try await connected().query(prompt, sessionID: sessionID)
    }

    /// See `ClaudeSDKClient/query(_:)`.
    public func query<Messages: AsyncSequence & Sendable>(_ messages: Messages) async throws
    where Messages.Element == JSONValue {
        try await connected().query(messages)
    }

    /// See `ClaudeSDKClient/receiveMessages()`.
    public func receiveMessages() -> MessageStream {
        state.withLock { $0.client }?.receiveMessages() ?? .notConnected(stopAfterResult: false)
    }

    /// See `ClaudeSDKClient/receiveResponse()`.
    public func receiveResponse() -> MessageStream {
        state.withLock { $0.client }?.receiveResponse() ?? .notConnected(stopAfterResult: true)
    }

    /// Sends a control request through the current connection; see `ClaudeSDKClient/sendControlRequest(_:_:timeout:)`.
    /// The calls of `ClaudeControlling` (``interrupt(timeout:)``, ``setModel(_:timeout:)``, the typed
    /// answers, …) are built on it.
    public func sendControlRequest(_ subtype: String, _ fields: [String: JSONValue] = [:], timeout: Duration? = nil)
        async throws(ClaudeCodeError) -> JSONValue
    {
        try await connected().sendControlRequest(subtype, fields, timeout: timeout)
    }

    /// Connects and sends the messages of `prompt` as they come; see `ClaudeSDKClient/connect(prompt:)-(AsyncSequence)`.
    public func connect<Prompt: AsyncSequence & Sendable>(prompt: Prompt) async throws
    where Prompt.Element == JSONValue {
        try await connect()
        try await query(prompt)
    }

    /// See `ClaudeSDKClient/endInput()`.
    public func endInput() async throws(ClaudeCodeError) {
        try await connected().endInput()
    }

    /// See `ClaudeSDKClient/serverInfo`.
    public var serverInfo: JSONValue? { state.withLock { $0.client }?.serverInfo }

    /// Whether a CLI process is running for this client.
    public var isConnected: Bool { state.withLock { $0.client }?.isConnected ?? false }

    /// See `ClaudeSDKClient/sdkServerToolReports()`; empty when not connected.
    public func sdkServerToolReports() async -> [SDKServerToolReport] {
        await state.withLock { $0.client }?.sdkServerToolReports() ?? []
    }

    // MARK: What is recorded about the options

    /// The CLI's working directory: `options.cwd`, else this process's.
    static func workingDirectory(_ options: ClaudeCodeOptions) -> String {
        options.cwd ?? FileManager.default.currentDirectoryPath
    }

    /// The options worth keeping with a session. Never `env`, settings, MCP configurations,
    /// extra arguments or prompts' contents: they may hold secrets.
    static func persistableOptions(_ options: ClaudeCodeOptions) -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        if let model = options.model { result["model"] = .string(model) }
        if let fallback = options.fallbackModel { result["fallback_model"] = .string(fallback) }
        if let mode = options.permissionMode { result["permission_mode"] = .string(mode.rawValue) }
        if !options.allowedTools.isEmpty {
            result["allowed_tools"] = .array(options.allowedTools.map(JSONValue.string))
        }
        if !options.disallowedTools.isEmpty {
            result["disallowed_tools"] = .array(options.disallowedTools.map(JSONValue.string))
        }
        if let maxTurns = options.maxTurns { result["max_turns"] = .int(Int64(maxTurns)) }
        if let budget = options.maxBudgetUSD { result["max_budget_usd"] = .double(budget) }
        if let effort = options.effort { result["effort"] = .string(effort) }
        if let cwd = options.cwd { result["cwd"] = .string(cwd) }
        if options.forkSession { result["fork_session"] = .bool(true) }
        if let resume = options.resume { result["resume"] = .string(resume) }
        if !options.mcpServers.isEmpty {
            result["mcp_servers"] = .array(options.mcpServers.keys.sorted().map(JSONValue.string))
        }
        switch options.systemPrompt {
        case nil: break
        case .text: result["system_prompt"] = "custom"
        case .file: result["system_prompt"] = "file"
        case .preset: result["system_prompt"] = "preset"
        }
        return result
    }
}

/// The connection hook of a ``SessionPersistentClient``: transcript mirroring (when there is a
/// transcript store), and a result is delivered only once everything recorded up to it is
/// written and checkpointed, so a turn whose result the consumer has seen survives a crash.
struct RecordingExtension: ConnectionExtension {
    let recorder: SessionRecorder
    let mirror: TranscriptMirror?

    func prepare(_ options: ClaudeCodeOptions) async throws(ClaudeCodeError) -> ClaudeCodeOptions {
        guard let mirror else { return options }
        return try await mirror.prepare(options)
    }

    func attach(_ emit: MessageEmitter) { mirror?.attach(emit) }

    var observedFrameTypes: Set<String>? { mirror?.observedFrameTypes ?? [] }

    var consumedFrameTypes: Set<String> { mirror?.consumedFrameTypes ?? [] }

    func observe(_ frame: WireFrame) { mirror?.observe(frame) }

    func beforeDelivering(_ result: ResultMessage) async -> [Message] {
        let messages = await mirror?.beforeDelivering(result) ?? []
        await recorder.flush()
        return messages
    }

    func connectionEnded() async -> [Message] { await mirror?.connectionEnded() ?? [] }
}

extension SessionPersistentClient: ClaudeControlling {}
