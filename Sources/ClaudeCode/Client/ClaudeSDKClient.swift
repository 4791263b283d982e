import Foundation
import Logging
import Synchronization
import Tracing

/// Makes the transport for a connection; the default runs the CLI with ``SubprocessTransport``.
public typealias TransportFactory = @Sendable (ClaudeCodeOptions) throws(ClaudeCodeError) -> any ClaudeTransport

/// A long-lived, two-way session with one Claude Code CLI process.
///
/// ```swift
/// try await ClaudeSDKClient.withConnection(options: options) { client in
///     try await client.query("Hello")
///     for try await message in client.receiveResponse() {
///         print(message)
///     }
/// }
/// ```
///
/// `connect()` starts the CLI and completes the `initialize` handshake; `query(_:)` sends a
/// prompt; ``receiveMessages()`` and ``receiveResponse()`` read what comes back. Control
/// requests (``ClaudeControlling/interrupt(timeout:)``, ``ClaudeControlling/setModel(_:timeout:)``, …) work at any time, including while a turn
/// streams. Prefer `withConnection(options:prompt:_:)`, which always shuts the CLI down;
/// otherwise call ``disconnect()``. A client that is dropped while connected kills its CLI.
///
/// Read messages from one task at a time. The client can be reconnected after ``disconnect()``.
public final class ClaudeSDKClient: Sendable {
    private struct State {
        var session: ControlSession?
        var serverInfo: JSONValue?
        var options: ClaudeCodeOptions
        var toolCheck: SDKToolCheck?
        var turnSpans: TurnSpans?
    }

    private let state: Mutex<State>
    private let transportFactory: TransportFactory?
    private let observer: FrameObserver?
    private let controlHandler: ControlRequestHandler?
    private let connectionExtension: ConnectionExtensionFactory?
    /// Where the SDK logs; never bootstrapped by the SDK.
    public let logger: Logger

    /// Creates a client; nothing starts until `connect`.
    /// - Parameters:
    ///   - options: How to run the CLI.
    ///   - transport: Makes the transport per connection; `nil` runs the real CLI.
    ///   - observer: Sees every frame in both directions (see ``FrameObserver``).
    ///   - controlHandler: Sees every control request from the CLI first (permission prompts, hook
    ///     callbacks, SDK MCP messages) and answers it; throwing ``UnhandledControlRequest`` passes the
    ///     request on to ``ClaudeCodeOptions/canUseTool``, ``ClaudeCodeOptions/hooks`` and the SDK MCP
    ///     servers in ``ClaudeCodeOptions/mcpServers``. Most code needs only the options.
    ///   - connectionExtension: Makes a ``ConnectionExtension`` for each connection (transcript mirroring, store-backed resume).
    ///   - logger: Where to log.
    public init(
        options: ClaudeCodeOptions = ClaudeCodeOptions(), transport: TransportFactory? = nil,
        observer: FrameObserver? = nil, controlHandler: ControlRequestHandler? = nil,
        connectionExtension: ConnectionExtensionFactory? = nil, logger: Logger = Logger(label: "ClaudeCode")
    ) {
        self.state = Mutex(State(options: options))
        self.transportFactory = transport
        self.observer = observer
        self.controlHandler = controlHandler
        self.connectionExtension = connectionExtension
        self.logger = logger
    }

    deinit {
        if let session = state.withLock({ $0.session }) {
            session.transport.terminateImmediately()
        }
    }

    /// The options of the next (or current) connection.
    public var options: ClaudeCodeOptions {
        get { state.withLock { $0.options } }
        set { state.withLock { $0.options = newValue } }
    }

    /// Whether a CLI process is running for this client.
    public var isConnected: Bool {
        state.withLock { state in state.session.map { $0.exitStatus == nil } ?? false }
    }

    /// The CLI's answer to `initialize` (commands, models, account, version, …), once connected.
    public var serverInfo: JSONValue? { state.withLock { $0.serverInfo } }

    /// The message queue's use of memory and disk (see ``ClaudeCodeOptions/messageMemoryBudget``);
    /// `nil` when not connected.
    public var messageQueueStatistics: MessageQueueStatistics? {
        state.withLock { $0.session?.messages }?.statistics
    }

    // MARK: Connecting

    /// Starts the CLI and completes the `initialize` handshake, then sends `prompt` if given.
    /// - Throws: ``ClaudeCodeError`` with ``ClaudeCodeError/Code/cliNotFound``, ``ClaudeCodeError/Code/launchFailed``,
    ///   ``ClaudeCodeError/Code/processExited`` (with the stderr tail, e.g. for an unknown `resume` id),
    ///   or ``ClaudeCodeError/Code/controlTimeout``.
    public func connect(prompt: String? = nil) async throws(ClaudeCodeError) {
        let options = state.withLock { $0.options }
        try await ClaudeTracing.withSpan(
            "claude.connect", tracer: ClaudeTracing.tracer(options),
            attributes: { if let model = options.model { $0["claude.model"] = model } }
        ) { () async throws(ClaudeCodeError) in
            try await connectInSpan(prompt: prompt)
        }
    }

    private func connectInSpan(prompt: String?) async throws(ClaudeCodeError) {
        var options = state.withLock { $0.options }
        if state.withLock({ $0.session != nil }) {
            throw ClaudeCodeError(.alreadyConnected, "the client is already connected; call disconnect() first")
        }
        let hook = connectionExtension?()
        let transport: any ClaudeTransport
        do {
            if let hook { options = try await hook.prepare(options) }
            if let transportFactory {
                transport = try transportFactory(options)
            } else {
                transport = try SubprocessTransport(options: options, logger: logger)
            }
        } catch {
            _ = await hook?.connectionEnded()
            throw error
        }
        let turnSpans = ClaudeTracing.tracer(options).map(TurnSpans.init(tracer:))
        let callbacks = ControlCallbacks(
            options: options, userHandler: controlHandler, logger: logger,
            turnContext: { turnSpans?.currentContext })
        if let warning = options.canUseToolShadowingWarning { logger.warning("\(warning)") }
        let toolCheck = SDKToolCheck(options: options, logger: logger)
        let session = ControlSession(
            transport: transport, observer: observer, handler: callbacks.handler, hook: hook,
            memoryBudget: options.messageMemoryBudget, spillDirectory: options.messageSpillDirectory,
            redactions: options.secretsForRedaction(), logger: logger,
            messageTap: makeMessageTap(toolCheck: toolCheck, turnSpans: turnSpans))
        let claimed = state.withLock { state -> Bool in
            guard state.session == nil else { return false }
            state.session = session
            state.toolCheck = toolCheck
            state.turnSpans = turnSpans
            return true
        }
        guard claimed else {
            _ = await hook?.connectionEnded()
            throw ClaudeCodeError(.alreadyConnected, "the client is already connected; call disconnect() first")
        }
        do {
            try await session.start()
            let info = try await ClaudeTracing.withSpan(
                "claude.control_request", tracer: ClaudeTracing.tracer(options),
                attributes: { $0["claude.control.subtype"] = "initialize" }
            ) { () async throws(ClaudeCodeError) in
                try await session.request("initialize", callbacks.initializeFields, timeout: options.initializeTimeout)
            }
            try callbacks.checkInitializeResponse(info)
            state.withLock { $0.serverInfo = info }
            if let version = info["claude_code_version"]?.stringValue,
                CLILocator.isVersion(version, olderThan: CLILocator.minimumVersion)
            {
                logger.warning(
                    "Claude Code CLI \(version) is older than \(CLILocator.minimumVersion), the oldest this SDK supports; upgrade it"
                )
            }
            if let prompt { try await query(prompt) }
        } catch {
            await session.close()
            let turnSpans = state.withLock { state -> TurnSpans? in
                state.session = nil
                defer { state.turnSpans = nil }
                return state.turnSpans
            }
            turnSpans?.abandon()
            // A write can fail first when the CLI dies at once (it closed stdin): report the exit, not the write.
            let exited = error.code == .writeFailed && session.exitStatus.map { !$0.isSuccess } == true
            if error.code == .processExited || error.code == .transportClosed || exited {
                let stderrTail = session.transport.stderrTail
                let reason =
                    StderrTail.reason(in: stderrTail, redacting: options.secretsForRedaction(prompt: prompt))
                    ?? error.resultErrors.first.flatMap { StderrTail.reason(in: $0) }
                throw ClaudeCodeError(
                    .processExited,
                    reason.map { "the CLI exited during startup: \($0)" }
                        ?? "the CLI exited during startup; see stderrTail and resultErrors",
                    exitStatus: session.exitStatus ?? error.exitStatus, stderrTail: stderrTail,
                    resultErrors: error.resultErrors)
            }
            throw error
        }
    }

    /// Connects and sends the messages of `prompt` as they come; see `query(_:)`.
    public func connect<Prompt: AsyncSequence & Sendable>(prompt: Prompt) async throws
    where Prompt.Element == JSONValue {
        try await connect()
        try await query(prompt)
    }

    /// Closes stdin and waits for the CLI to exit (SIGTERM, then SIGKILL, after the grace periods).
    /// Safe to call more than once, or when not connected.
    public func disconnect() async {
        guard let session = state.withLock({ $0.session }) else { return }
        await session.close()
        let turnSpans = state.withLock { state -> TurnSpans? in
            guard state.session === session else { return nil }
            state.session = nil
            defer { state.turnSpans = nil }
            return state.turnSpans
        }
        turnSpans?.abandon()
    }

    /// Connects, runs `body`, and disconnects however `body` ends (return, throw or cancellation).
    /// - Parameters:
    ///   - options: How to run the CLI.
    ///   - prompt: A first prompt sent once connected.
    ///   - logger: Where the client logs (warnings such as ``ClaudeCodeOptions/canUseToolShadowingWarning``).
    ///   - body: Uses the connected client.
    public static func withConnection<Result: Sendable>(
        options: ClaudeCodeOptions = ClaudeCodeOptions(), prompt: String? = nil,
        logger: Logger = Logger(label: "ClaudeCode"), _ body: (ClaudeSDKClient) async throws -> Result
    ) async throws -> Result {
        let client = ClaudeSDKClient(options: options, logger: logger)
        try await client.connect(prompt: prompt)
        do {
            let result = try await body(client)
            await client.disconnect()
            return result
        } catch {
            await client.disconnect()
            throw error
        }
    }

    // MARK: Sending

    /// Sends a prompt as a user message.
    ///
    /// Prompts sent while a turn runs are merged by the CLI into its next turn; to get one
    /// result per prompt, read ``receiveResponse()`` before sending the next.
    /// - Parameters:
    ///   - prompt: The text of the user message.
    ///   - sessionID: The stream-json `session_id` field; the CLI ignores it. It is *not* the CLI session id.
    public func query(_ prompt: String, sessionID: String = "default") async throws(ClaudeCodeError) {
        try await sendUser([
            "type": "user", "message": ["role": "user", "content": .string(prompt)], "parent_tool_use_id": .null,
            "session_id": .string(sessionID),
        ])
    }

    /// Sends user messages (each a complete stream-json `user` frame) as the sequence yields them.
    public func query<Messages: AsyncSequence & Sendable>(_ messages: Messages) async throws
    where Messages.Element == JSONValue {
        for try await message in messages {
            guard message["type"]?.stringValue == "user", message["message"] != nil else {
                throw ClaudeCodeError(
                    .invalidInput, "each streamed message must be a {\"type\":\"user\",\"message\":{…}} frame")
            }
            try await sendUser(message)
        }
    }

    private func sendUser(_ frame: JSONValue) async throws(ClaudeCodeError) {
        let session = try connectedSession()
        state.withLock { $0.turnSpans }?.begin()
        try await session.sendUser(options.outgoingUserFrame(frame))
    }

    // MARK: In-process tools

    /// What the client does with the `system/init` and `result` messages it reads: starts the check
    /// of its in-process tools, ends the turns' spans.
    private func makeMessageTap(toolCheck: SDKToolCheck?, turnSpans: TurnSpans?) -> (@Sendable (Message) -> Void)? {
        guard toolCheck != nil || turnSpans != nil else { return nil }
        let ask: @Sendable () async throws(ClaudeCodeError) -> [MCPServerStatus] = {
            [weak self] () async throws(ClaudeCodeError) -> [MCPServerStatus] in
            guard let self else { throw ClaudeCodeError(.notConnected, "the client was released") }
            return try await self.mcpServerStatus()
        }
        return { message in
            switch message {
            case .system(let system):
                if case .initialize(let info) = system.kind { toolCheck?.observe(info, askCLI: ask) }
            case .result(let result):
                turnSpans?.finish(result)
            default:
                break
            }
        }
    }

    /// What the CLI made of the tools of each in-process MCP server (``MCPServerConfig/sdk(_:)``)
    /// in this connection: checked automatically when the first turn starts (see
    /// ``SDKServerToolReport``), with a logged warning for every refused tool. Waits for that check
    /// when it is running; empty before the first turn and when there are no in-process servers.
    public func sdkServerToolReports() async -> [SDKServerToolReport] {
        guard let check = state.withLock({ $0.toolCheck }) else { return [] }
        return await check.reports()
    }

    private func connectedSession() throws(ClaudeCodeError) -> ControlSession {
        guard let session = state.withLock({ $0.session }) else {
            throw ClaudeCodeError(.notConnected, "the client is not connected; call connect() first")
        }
        return session
    }

    /// Closes the CLI's stdin: it finishes the current turn, then exits. ``receiveMessages()`` ends after that.
    public func endInput() async throws(ClaudeCodeError) {
        await (try connectedSession()).endInput()
    }

    // MARK: Receiving

    /// Every message until the CLI exits. Read it from one task at a time.
    ///
    /// Frames the CLI marks `sdk_host_only` are left out unless
    /// ``ClaudeCodeOptions/includeHostOnlyMessages`` is set.
    public func receiveMessages() -> MessageStream {
        receiveMessages(includingHostOnly: options.includeHostOnlyMessages)
    }

    func receiveMessages(includingHostOnly: Bool) -> MessageStream {
        var stream = MessageStream(buffer: state.withLock { $0.session?.messages }, stopAfterResult: false)
        stream.includeHostOnly = includingHostOnly
        return stream
    }

    /// The messages of the current turn, up to and including its ``ResultMessage``.
    public func receiveResponse() -> MessageStream {
        var stream = MessageStream(buffer: state.withLock { $0.session?.messages }, stopAfterResult: true)
        stream.includeHostOnly = options.includeHostOnlyMessages
        return stream
    }

    /// The messages of the current turn, like ``receiveResponse()``, with a deadline for the result.
    ///
    /// The clock starts when iteration starts. When no ``ResultMessage`` has arrived `timeout` later,
    /// iteration throws ``ClaudeCodeError/Code/responseTimeout``. Nothing else changes: the turn goes
    /// on in the CLI and the connection stays usable. Call ``interrupt(timeout:)`` to stop the turn,
    /// then read its result with ``receiveResponse()`` (messages that arrive later are not lost).
    public func receiveResponse(timeout: Duration) -> MessageStream {
        var stream = receiveResponse()
        stream.resultTimeout = timeout
        return stream
    }

    // MARK: Control

    /// Sends a control request and returns the CLI's `response` object (see ``ClaudeControlling``
    /// for the calls built on it).
    ///
    /// Use it for requests the SDK has no method for. On timeout the SDK sends `control_cancel_request`.
    public func sendControlRequest(
        _ subtype: String, _ fields: [String: JSONValue] = [:], timeout: Duration? = nil
    ) async throws(ClaudeCodeError) -> JSONValue {
        let session = try connectedSession()
        let options = self.options
        return try await ClaudeTracing.withSpan(
            "claude.control_request", tracer: ClaudeTracing.tracer(options),
            parent: state.withLock { $0.turnSpans }?.currentContext,
            attributes: { $0["claude.control.subtype"] = subtype }
        ) { () async throws(ClaudeCodeError) in
            try await session.request(subtype, fields, timeout: timeout ?? options.controlRequestTimeout)
        }
    }
}

extension ClaudeSDKClient: ClaudeControlling {}
