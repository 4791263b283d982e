import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeTesting
import Synchronization

/// Plays the CLI through ``ScriptedTransport``s for `SessionPersistentClient` tests: answers
/// `initialize`, waits for each prompt and emits a whole turn with the session id.
public final class ScriptedCLIPlayer: Sendable {
    public static let sessionID = "11111111-2222-4333-8444-555555555555"

    let transports = Mutex<[ScriptedTransport]>([])
    public let optionsSeen = Mutex<[ClaudeCodeOptions]>([])

    public init() {}

    public var factory: TransportFactory {
        { options in
            let transport = ScriptedTransport()
            self.transports.withLock { $0.append(transport) }
            self.optionsSeen.withLock { $0.append(options) }
            return transport
        }
    }

    var last: ScriptedTransport? { transports.withLock { $0.last } }

    /// Connects `client`, answering its `initialize` request.
    public func connect(_ client: SessionPersistentClient) async throws {
        let before = transports.withLock { $0.count }
        async let connecting: Void = client.connect()
        // The transport exists once connect() has called the factory.
        while transports.withLock({ $0.count == before }) { await Task.yield() }
        guard let transport = last, let initialize = await transport.nextWritten() else {
            throw ContractFailure("the client sent no initialize request")
        }
        transport.respond(to: initialize, with: ["claude_code_version": "2.1.331"])
        try await connecting
    }

    /// Waits for a prompt and emits a whole turn under `sessionID`.
    public func playTurn(sessionID: String = ScriptedCLIPlayer.sessionID, extra: [String] = []) async throws {
        guard let transport = last, let prompt = await transport.nextWritten() else {
            throw ContractFailure("no prompt arrived")
        }
        try await check(prompt["type"] == "user", "a user prompt")
        transport.emit(#"{"type":"system","subtype":"init","session_id":"\#(sessionID)","cwd":"/w"}"#)
        for line in extra { transport.emit(line) }
        transport.emit(
            #"{"type":"assistant","message":{"content":[{"type":"text","text":"hi"}],"model":"m"},"session_id":"\#(sessionID)"}"#
        )
        transport.emit(
            #"{"type":"result","subtype":"success","is_error":false,"num_turns":1,"session_id":"\#(sessionID)","duration_ms":1,"duration_api_ms":1}"#
        )
    }
}

/// Records two turns and a resumed third into `store` through `SessionPersistentClient`, and
/// checks what the store then holds against what crossed the wire. Shared by every backend.
public func recordConversationThroughClient(into store: any SessionRecordStore) async throws {
    let player = ScriptedCLIPlayer()
    var options = ClaudeCodeOptions()
    options.cwd = "/projects/demo"
    options.model = "claude-sonnet-4-5"
    options.env = ["ANTHROPIC_API_KEY": "sk-secret-value"]
    let client = SessionPersistentClient(options: options, store: store, transport: player.factory)
    try await player.connect(client)
    try await client.query("What is 2 + 2?")
    try await player.playTurn(extra: [
        #"{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"4"}]},"session_id":"\#(ScriptedCLIPlayer.sessionID)"}"#,
        #"{"type":"brand_new_frame","session_id":"\#(ScriptedCLIPlayer.sessionID)","text":"\u2028 🎉"}"#,
        "not json at all",
    ])
    for try await _ in client.receiveResponse() {}
    try await client.query("second")
    try await player.playTurn()
    for try await _ in client.receiveResponse() {}
    await client.disconnect()

    // A new client resumes the record from the store.
    let resumed = SessionPersistentClient(options: options, store: store, transport: player.factory)
    try await resumed.startOrResumeSession(ScriptedCLIPlayer.sessionID)
    try await player.connect(resumed)
    try await check(player.optionsSeen.withLock { $0.last?.resume } == ScriptedCLIPlayer.sessionID, "--resume passed")
    try await resumed.query("third")
    try await player.playTurn()
    for try await _ in resumed.receiveResponse() {}
    await resumed.disconnect()

    let data = try await resumed.loadSession(ScriptedCLIPlayer.sessionID)
    let kinds = data.conversationHistory.map { "\($0.direction.rawValue):\($0.type)" }
    let turn = ["sent:user", "received:system", "received:assistant", "received:result"]
    let expected =
        [
            "sent:control_request", "received:control_response", "sent:user", "received:system", "received:user",
            "received:brand_new_frame", "received:invalid", "received:assistant", "received:result",
        ]
        + turn + ["sent:control_request", "received:control_response"] + turn
    try await checkEqual(kinds, expected, "every frame in wire order")
    try await check(data.conversationHistory[2].rawJSONString?.contains("What is 2 + 2?") == true, "the prompt's bytes")
    try await checkEqual(
        data.conversationHistory[5].rawJSONString,
        #"{"type":"brand_new_frame","session_id":"\#(ScriptedCLIPlayer.sessionID)","text":"\u2028 🎉"}"#,
        "unknown frame byte for byte")
    try await checkEqual(data.conversationHistory[6].rawJSONString, "not json at all", "invalid frame kept")
    try await checkEqual(data.workingDirectory, "/projects/demo", "working directory")
    try await checkEqual(data.options["model"], "claude-sonnet-4-5", "model option")
    try await check(!data.options.keys.contains("env"), "no environment in the record")
    try await check(
        !data.conversationHistory.contains { $0.rawJSONString?.contains("sk-secret-value") == true }, "no secret")
    let listed = try await resumed.listSessions().compactMap(\.summary)
    try await checkEqual(listed.map(\.sessionID.rawValue), [ScriptedCLIPlayer.sessionID], "listed")
    try await checkEqual(listed.first?.messageCount, expected.count, "message count in the listing")
    try await resumed.deleteSession(ScriptedCLIPlayer.sessionID)
    try await checkEqual(try await resumed.listSessions().count, 0, "deleted")
}
