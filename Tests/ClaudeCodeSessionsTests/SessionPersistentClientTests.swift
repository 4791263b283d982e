import ClaudeCode
import ClaudeCodeTesting
import Foundation
import Synchronization
import Testing

@testable import ClaudeCodeSessions

/// `SessionPersistentClient` over a scripted transport, recording into memory.
@Suite(.timeLimit(.minutes(1))) struct SessionPersistentClientTests {
    static let sid = "11111111-2222-4333-8444-555555555555"

    /// Plays a CLI turn: answers initialize, expects the prompt, emits frames with the session id.
    final class Player: Sendable {
        let transports = Mutex<[ScriptedTransport]>([])
        let optionsSeen = Mutex<[ClaudeCodeOptions]>([])

        var factory: TransportFactory {
            { options in
                let transport = ScriptedTransport()
                self.transports.withLock { $0.append(transport) }
                self.optionsSeen.withLock { $0.append(options) }
                return transport
            }
        }

        var last: ScriptedTransport { transports.withLock { $0.last! } }

        func answerInitialize() async throws {
            let transport = last
            let initialize = try #require(await transport.nextWritten())
            transport.respond(to: initialize, with: ["claude_code_version": "2.1.331"])
        }

        /// Waits for a prompt and emits a whole turn.
        func playTurn(sessionID: String = SessionPersistentClientTests.sid, extra: [String] = []) async throws {
            let transport = last
            let prompt = try #require(await transport.nextWritten())
            #expect(prompt["type"] == "user")
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

    private func connect(_ client: SessionPersistentClient, _ player: Player) async throws {
        let before = player.transports.withLock { $0.count }
        async let connecting: Void = client.connect()
        // The transport exists once connect() has called the factory.
        while player.transports.withLock({ $0.count == before }) { await Task.yield() }
        try await player.answerInitialize()
        try await connecting
    }

    @Test func firstTurnAndPromptsAreRecordedInWireOrder() async throws {
        let store = InMemoryRecordStore()
        let player = Player()
        var options = ClaudeCodeOptions()
        options.cwd = "/projects/demo"
        options.model = "claude-sonnet-4-5"
        options.env = ["ANTHROPIC_API_KEY": "sk-secret-value"]
        let client = SessionPersistentClient(options: options, store: store, transport: player.factory)
        try await connect(client, player)
        #expect(client.currentSessionID == nil)
        try await client.query("What is 2 + 2?")
        try await player.playTurn(extra: [
            #"{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"4","is_error":false}]},"session_id":"\#(Self.sid)"}"#,
            #"{"type":"brand_new_frame","session_id":"\#(Self.sid)"}"#,
            "not json at all",
        ])
        for try await _ in client.receiveResponse() {}
        #expect(client.currentSessionID == Self.sid)
        await client.disconnect()

        let data = try await client.loadSession(Self.sid)
        let history = data.conversationHistory
        #expect(
            history.map { "\($0.direction.rawValue):\($0.type)" } == [
                "sent:control_request", "received:control_response", "sent:user", "received:system", "received:user",
                "received:brand_new_frame", "received:invalid", "received:assistant", "received:result",
            ])
        #expect(history[2].rawJSONString?.contains("What is 2 + 2?") == true)
        #expect(history[3].subtype == "init")
        #expect(data.workingDirectory == "/projects/demo")
        #expect(data.options["model"] == "claude-sonnet-4-5")
        #expect(data.options["cwd"] == "/projects/demo")
        // Secrets never reach the record.
        #expect(!data.options.keys.contains("env"))
        #expect(!history.contains { $0.rawJSONString?.contains("sk-secret-value") == true })
    }

    @Test func recordingHappensWithoutReadingMessages() async throws {
        let store = InMemoryRecordStore()
        let player = Player()
        let client = SessionPersistentClient(store: store, transport: player.factory)
        try await connect(client, player)
        try await client.query("hello")
        try await player.playTurn()
        await client.disconnect()  // nobody iterated receive*
        let data = try await client.loadSession(Self.sid)
        #expect(data.conversationHistory.contains { $0.type == "result" })
    }

    @Test func resumeBeforeConnectPassesResumeAndContinuesTheRecord() async throws {
        let store = InMemoryRecordStore()
        let player = Player()
        let first = SessionPersistentClient(store: store, transport: player.factory)
        try await connect(first, player)
        try await first.query("one")
        try await player.playTurn()
        await first.disconnect()

        let second = SessionPersistentClient(store: store, transport: player.factory)
        try await second.startOrResumeSession(Self.sid)
        #expect(second.currentSessionID == Self.sid)
        try await connect(second, player)
        #expect(player.optionsSeen.withLock { $0.last?.resume } == Self.sid)
        try await second.query("two")
        try await player.playTurn()
        await second.disconnect()
        let data = try await second.loadSession(Self.sid)
        #expect(data.conversationHistory.filter { $0.type == "result" }.count == 2)
        #expect(data.conversationHistory.filter { $0.direction == .sent && $0.type == "user" }.count == 2)
    }

    /// A record store whose records cannot be read back (a damaged file, say).
    struct UnreadableRecords: SessionRecordStore {
        let inner = InMemoryRecordStore()
        func openRecord(_ id: SessionID, startTime: Date, workingDirectory: String, options: [String: JSONValue])
            async throws(SessionStoreError) -> any SessionRecordWriter
        {
            try await inner.openRecord(id, startTime: startTime, workingDirectory: workingDirectory, options: options)
        }
        func loadRecord(_ id: SessionID) async throws(SessionStoreError) -> SessionData {
            throw SessionStoreError(.damagedFile, sessionID: id, reason: "test")
        }
        func listRecords() async throws(SessionStoreError) -> [RecordListEntry] { try await inner.listRecords() }
        func deleteRecord(_ id: SessionID) async throws(SessionStoreError) { try await inner.deleteRecord(id) }
    }

    @Test func aResumeRunsInTheRecordedDirectoryAndAnUnreadableRecordNeedsCwd() async throws {
        let store = InMemoryRecordStore()
        let player = Player()
        let recorded = FileManager.default.temporaryDirectory.path
        var options = ClaudeCodeOptions()
        options.cwd = recorded
        let first = SessionPersistentClient(options: options, store: store, transport: player.factory)
        try await connect(first, player)
        try await first.query("one")
        try await player.playTurn()
        await first.disconnect()
        // Resumed without a cwd: the CLI runs in the recorded directory.
        let second = SessionPersistentClient(store: store, transport: player.factory)
        try await second.startOrResumeSession(Self.sid)
        try await connect(second, player)
        #expect(player.optionsSeen.withLock { $0.last?.cwd } == recorded)
        await second.disconnect()

        // A record that cannot be read: a typed error that says to set cwd, and with cwd it resumes.
        let unreadable = UnreadableRecords()
        let third = SessionPersistentClient(store: unreadable, transport: player.factory)
        try await third.startOrResumeSession(Self.sid)
        let error = await #expect(throws: ClaudeCodeError.self) { try await third.connect() }
        #expect(error?.message.contains("options.cwd") == true)
        third.options.cwd = recorded
        try await connect(third, player)
        #expect(player.optionsSeen.withLock { $0.last?.resume } == Self.sid)
        await third.disconnect()
    }

    @Test func resumeWhileConnectedReconnects() async throws {
        let store = InMemoryRecordStore()
        let player = Player()
        let client = SessionPersistentClient(store: store, transport: player.factory)
        try await connect(client, player)
        async let resumed: Void = client.startOrResumeSession(Self.sid)
        while player.transports.withLock({ $0.count < 2 }) { await Task.yield() }
        try await player.answerInitialize()
        try await resumed
        #expect(player.transports.withLock { $0[0].closeCount } == 1)
        #expect(player.optionsSeen.withLock { $0[1].resume } == Self.sid)
        #expect(client.isConnected)
        await client.disconnect()
    }

    @Test func readingBeforeConnectIsANotConnectedError() async throws {
        let client = SessionPersistentClient(store: InMemoryRecordStore(), transport: Player().factory)
        for stream in [client.receiveMessages(), client.receiveResponse()] {
            do {
                for try await _ in stream {}
                Issue.record("expected notConnected")
            } catch {
                #expect(error.code == .notConnected)
            }
        }
    }

    @Test func hostileIDsAreRejectedBeforeAnyPath() async throws {
        let client = SessionPersistentClient(store: InMemoryRecordStore(), transport: Player().factory)
        for id in ["../etc/passwd", "a/b", "x\u{0}y", "..", ".", "line\nbreak", String(repeating: "a", count: 500), ""]
        {
            await #expect(throws: SessionStoreError.self) { try await client.startOrResumeSession(id) }
            await #expect(throws: SessionStoreError.self) { try await client.loadSession(id) }
            await #expect(throws: SessionStoreError.self) { try await client.deleteSession(id) }
        }
        #expect(client.options.resume == nil)
    }

    @Test func aForkGetsItsOwnRecordAndTheParentStaysIntact() async throws {
        let store = InMemoryRecordStore()
        let player = Player()
        let client = SessionPersistentClient(store: store, transport: player.factory)
        try await connect(client, player)
        try await client.query("parent")
        try await player.playTurn()
        await client.disconnect()
        let forkID = "99999999-2222-4333-8444-555555555555"
        var options = client.options
        options.forkSession = true
        client.options = options
        try await connect(client, player)
        try await client.query("child")
        try await player.playTurn(sessionID: forkID)
        await client.disconnect()
        #expect(client.currentSessionID == forkID)
        let parent = try await client.loadSession(Self.sid)
        let child = try await client.loadSession(forkID)
        #expect(parent.conversationHistory.filter { $0.type == "result" }.count == 1)
        #expect(child.conversationHistory.contains { $0.rawJSONString?.contains("child") == true })
    }

    @Test func storeFailuresAreReportedAndTheConversationGoesOn() async throws {
        let player = Player()
        let client = SessionPersistentClient(store: FailingStore(), transport: player.factory)
        let events = client.persistenceEvents()
        try await connect(client, player)
        try await client.query("hello")
        try await player.playTurn()
        var types: [String] = []
        for try await message in client.receiveResponse() { types.append(message.type) }
        #expect(types.last == "result")
        var iterator = events.makeAsyncIterator()
        let event = try #require(await iterator.next())
        #expect(event.kind == .writeFailed)
        #expect(event.error?.code == .ioFailure)
        await client.disconnect()
        #expect(player.last.closeCount == 1)
    }

    /// A store whose disk is always full.
    actor FailingStore: SessionRecordStore {
        func openRecord(_ id: SessionID, startTime: Date, workingDirectory: String, options: [String: JSONValue])
            throws(SessionStoreError) -> any SessionRecordWriter
        { throw SessionStoreError(.ioFailure, systemErrorNumber: ENOSPC) }
        func loadRecord(_ id: SessionID) throws(SessionStoreError) -> SessionData {
            throw SessionStoreError(.sessionNotFound)
        }
        func listRecords() throws(SessionStoreError) -> [RecordListEntry] { [] }
        func deleteRecord(_ id: SessionID) throws(SessionStoreError) {}
    }

    @Test func callbacksInTheOptionsAnswerTheCLIThroughTheWrapper() async throws {
        let store = InMemoryRecordStore()
        let player = Player()
        var options = ClaudeCodeOptions()
        options.canUseTool = { toolName, _, _ in .deny(message: "recorded no for \(toolName)") }
        options.hooks[.stop] = [HookMatcher { _, _ in HookOutput(systemMessage: "from a Swift hook") }]
        let client = SessionPersistentClient(options: options, store: store, transport: player.factory)
        let before = player.transports.withLock { $0.count }
        async let connecting: Void = client.connect()
        while player.transports.withLock({ $0.count == before }) { await Task.yield() }
        let transport = player.last
        let initialize = try #require(await transport.nextWritten())
        #expect(initialize["request"]?["hooks"]?["Stop"] == [["matcher": nil, "hookCallbackIds": ["hook_0"]]])
        transport.respond(to: initialize, with: ["claude_code_version": "2.1.331"])
        try await connecting
        #expect(try player.optionsSeen.withLock { try $0.last?.commandLineArguments() }?.contains("stdio") == true)

        transport.emit(
            #"{"type":"control_request","request_id":"c1","request":{"subtype":"can_use_tool","tool_name":"Bash","input":{"command":"ls"}}}"#
        )
        let permission = try #require(await transport.nextWritten())
        #expect(permission["response"]?["response"] == ["behavior": "deny", "message": "recorded no for Bash"])
        transport.emit(
            #"{"type":"control_request","request_id":"c2","request":{"subtype":"hook_callback","callback_id":"hook_0","input":{"session_id":"\#(Self.sid)","transcript_path":"/t.jsonl","cwd":"/w","hook_event_name":"Stop","stop_hook_active":false}}}"#
        )
        let hook = try #require(await transport.nextWritten())
        #expect(hook["response"]?["response"] == ["systemMessage": "from a Swift hook"])
        await client.disconnect()
    }
}
