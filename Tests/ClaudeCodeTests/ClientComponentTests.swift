import ClaudeCodeTesting
import Synchronization
import Testing

@testable import ClaudeCode

/// The client over an in-memory transport, with the test playing the CLI.
@Suite(.timeLimit(.minutes(1))) struct ClientComponentTests {
    static let result =
        #"{"type":"result","subtype":"success","is_error":false,"num_turns":1,"session_id":"s1","duration_ms":1,"duration_api_ms":1,"result":"ok"}"#
    static let assistant =
        #"{"type":"assistant","message":{"content":[{"type":"text","text":"hi"}],"model":"m"},"session_id":"s1"}"#

    /// Connects a client to a scripted transport and answers `initialize`.
    private func connected(
        options: ClaudeCodeOptions = ClaudeCodeOptions(), observer: FrameObserver? = nil,
        handler: ControlRequestHandler? = nil
    ) async throws -> (ClaudeSDKClient, ScriptedTransport) {
        let transport = ScriptedTransport()
        let client = ClaudeSDKClient(
            options: options, transport: { _ in transport }, observer: observer, controlHandler: handler)
        async let connecting: Void = client.connect()
        let initialize = try #require(await transport.nextWritten())
        #expect(initialize["type"] == "control_request")
        #expect(initialize["request"]?["subtype"] == "initialize")
        #expect(initialize["request"]?["hooks"] == .null)
        transport.respond(to: initialize, with: ["claude_code_version": "2.1.331", "commands": []])
        try await connecting
        return (client, transport)
    }

    @Test func handshakeQueryAndResponses() async throws {
        let (client, transport) = try await connected()
        #expect(client.serverInfo?["claude_code_version"] == "2.1.331")
        #expect(client.isConnected)
        try await client.query("hello")
        let prompt = try #require(await transport.nextWritten())
        #expect(
            prompt == [
                "type": "user", "message": ["role": "user", "content": "hello"], "parent_tool_use_id": .null,
                "session_id": "default",
            ])
        transport.emit(Self.assistant)
        transport.emit(Self.result)
        transport.emit(#"{"type":"system","subtype":"session_state_changed","state":"idle","session_id":"s1"}"#)
        var types: [String] = []
        for try await message in client.receiveResponse() { types.append(message.type) }
        #expect(types == ["assistant", "result"])
        // The next response picks up where the last stopped.
        transport.emit(Self.result)
        types = []
        for try await message in client.receiveResponse() { types.append(message.type) }
        #expect(types == ["system", "result"])
        await client.disconnect()
        #expect(transport.closeCount == 1)
        #expect(!client.isConnected)
    }

    /// Lines that arrive in one read are delivered in order across readers: a response stops after its
    /// result, and a reader abandoned early loses nothing to the next one.
    @Test func oneReadOfManyLinesIsSharedInOrderAcrossReaders() async throws {
        let (client, transport) = try await connected()
        try await client.query("hello")
        let system = #"{"type":"system","subtype":"status","status":null,"session_id":"s1"}"#
        transport.emit(lines: [Self.assistant, Self.result, system, Self.assistant, Self.assistant, Self.result])
        var first: [String] = []
        for try await message in client.receiveResponse() { first.append(message.type) }
        #expect(first == ["assistant", "result"])
        for try await message in client.receiveMessages() {
            #expect(message.type == "system")
            break
        }
        var rest: [String] = []
        for try await message in client.receiveResponse() { rest.append(message.type) }
        #expect(rest == ["assistant", "assistant", "result"])
        await client.disconnect()
    }

    @Test func slowConsumerDoesNotBlockControlRequests() async throws {
        let answered = Mutex(0)
        let (client, transport) = try await connected(handler: { subtype, request in
            answered.withLock { $0 += 1 }
            #expect(subtype == "can_use_tool")
            return ["behavior": "allow", "updatedInput": request["input"] ?? [:]]
        })
        try await client.query("go")
        _ = await transport.nextWritten()
        // Far more than any fixed buffer, and nobody reads them yet.
        for _ in 0..<5000 { transport.emit(Self.assistant) }
        transport.emit(
            #"{"type":"control_request","request_id":"cli-1","request":{"subtype":"can_use_tool","tool_name":"Bash","input":{"command":"ls"}}}"#
        )
        let reply = try #require(await transport.nextWritten())
        #expect(reply["type"] == "control_response")
        #expect(reply["response"]?["request_id"] == "cli-1")
        #expect(reply["response"]?["subtype"] == "success")
        #expect(reply["response"]?["response"]?["behavior"] == "allow")
        #expect(answered.withLock { $0 } == 1)
        transport.emit(Self.result)
        var count = 0
        for try await _ in client.receiveResponse() { count += 1 }
        #expect(count == 5001)
        await client.disconnect()
    }

    @Test func controlTimeoutIsTypedAndCancelsInTheCLI() async throws {
        let (client, transport) = try await connected()
        do {
            try await client.interrupt(timeout: .milliseconds(100))
            Issue.record("expected a timeout")
        } catch {
            #expect(error.code == .controlTimeout)
        }
        let request = try #require(await transport.nextWritten())
        #expect(request["request"]?["subtype"] == "interrupt")
        let cancel = try #require(await transport.nextWritten())
        #expect(cancel["type"] == "control_cancel_request")
        #expect(cancel["request_id"] == request["request_id"])
        await client.disconnect()
    }

    @Test func controlErrorCarriesTheCLIErrorCode() async throws {
        let (client, transport) = try await connected()
        async let call = client.sendControlRequest("no_such_subtype")
        let request = try #require(await transport.nextWritten())
        transport.fail(
            request, error: "Unsupported control request subtype: no_such_subtype", code: "unsupported_request")
        do {
            _ = try await call
            Issue.record("expected a control error")
        } catch let error as ClaudeCodeError {
            #expect(error.code == .controlError)
            #expect(error.controlErrorCode == "unsupported_request")
        }
        // The other control calls map to their subtypes and payloads.
        async let model: Void = client.setModel("claude-sonnet-4-5")
        let setModel = try #require(await transport.nextWritten())
        #expect(setModel["request"] == ["subtype": "set_model", "model": "claude-sonnet-4-5"])
        transport.respond(to: setModel, with: ["model": "claude-sonnet-4-5"])
        try await model
        async let mode: Void = client.setPermissionMode(.acceptEdits)
        let setMode = try #require(await transport.nextWritten())
        #expect(setMode["request"] == ["subtype": "set_permission_mode", "mode": "acceptEdits"])
        transport.respond(to: setMode, with: ["mode": "acceptEdits"])
        try await mode
        async let status = client.mcpStatus()
        let mcp = try #require(await transport.nextWritten())
        #expect(mcp["request"]?["subtype"] == "mcp_status")
        transport.respond(to: mcp, with: ["mcpServers": []])
        #expect(try await status == ["mcpServers": []])
        async let usage = client.contextUsage()
        let context = try #require(await transport.nextWritten())
        #expect(context["request"]?["subtype"] == "get_context_usage")
        transport.respond(to: context, with: ["categories": []])
        #expect(try await usage["categories"] == [])
        await client.disconnect()
    }

    @Test func requestsFromTheCLIWithoutHandlerGetErrorsTheSessionGoesOn() async throws {
        let (client, transport) = try await connected()
        transport.emit(#"{"type":"control_request","request_id":"x1","request":{"subtype":"something_new"}}"#)
        let reply = try #require(await transport.nextWritten())
        #expect(reply["response"]?["subtype"] == "error")
        #expect(reply["response"]?["error"] == "Unsupported control request subtype: something_new")
        transport.emit(
            #"{"type":"control_request","request_id":"x2","request":{"subtype":"can_use_tool","tool_name":"Bash","input":{}}}"#
        )
        let second = try #require(await transport.nextWritten())
        #expect(second["response"]?["request_id"] == "x2")
        #expect(second["response"]?["subtype"] == "error")
        #expect(client.isConnected)
        await client.disconnect()
    }

    @Test func cancelRequestFromTheCLICancelsTheHandler() async throws {
        let sawCancellation = Mutex(false)
        let entered = AsyncStream<Void>.makeStream()
        let (client, transport) = try await connected(handler: { _, _ in
            entered.continuation.yield()
            do {
                try await Task.sleep(for: .seconds(60))
            } catch {
                sawCancellation.withLock { $0 = true }
                throw error
            }
            return [:]
        })
        transport.emit(
            #"{"type":"control_request","request_id":"h1","request":{"subtype":"hook_callback","callback_id":"hook_0","input":{}}}"#
        )
        for await _ in entered.stream { break }
        transport.emit(#"{"type":"control_cancel_request","request_id":"h1"}"#)
        // The session keeps working and no answer is written for the cancelled request.
        async let interrupt: Void = client.interrupt()
        let next = try #require(await transport.nextWritten())
        #expect(next["request"]?["subtype"] == "interrupt")
        transport.respond(to: next)
        try await interrupt
        #expect(sawCancellation.withLock { $0 })
        #expect(!transport.writtenFrames.contains { $0["response"]?["request_id"] == "h1" })
        await client.disconnect()
    }

    @Test func malformedAndOversizedLinesAreDeliveredAndTheSessionGoesOn() async throws {
        let (client, transport) = try await connected()
        try await client.query("x")
        transport.emit("this is { not json")
        transport.emitOversized(byteCount: 70_000_000, limit: 1_000_000, prefix: "{\"type\":\"assistant\"")
        transport.emit(Self.result)
        var seen: [Message] = []
        for try await message in client.receiveResponse() { seen.append(message) }
        #expect(seen.count == 3)
        guard case .invalid(let bad) = seen[0], case .malformedJSON = bad.reason else {
            Issue.record("malformed line not surfaced")
            return
        }
        #expect(String(decoding: bad.prefix, as: UTF8.self) == "this is { not json")
        guard case .invalid(let long) = seen[1], long.byteCount == 70_000_000 else {
            Issue.record("oversized line not surfaced")
            return
        }
        #expect(long.reason == .tooLong(limit: 1_000_000))
        await client.disconnect()
    }

    @Test func exitMidTurnIsAnErrorWithStatusAndStderr() async throws {
        let (client, transport) = try await connected()
        try await client.query("x")
        transport.emit(Self.assistant)
        transport.exit(.exited(3), stderr: "early noise line\nfatal: simulated crash\n    at frame (x.js:1)\n")
        var types: [String] = []
        do {
            for try await message in client.receiveMessages() { types.append(message.type) }
            Issue.record("expected processExited")
        } catch {
            #expect(error.code == .processExited)
            #expect(error.exitStatus == .exited(3))
            #expect(error.stderrTail?.contains("simulated crash") == true)
            // The description carries the CLI's reason (its last meaningful stderr line), nothing else of stderr.
            #expect(error.description.contains("before finishing the turn: fatal: simulated crash"))
            #expect(!error.description.contains("early noise") && !error.description.contains("x.js"))
        }
        #expect(types == ["assistant"])
        do {
            try await client.interrupt()
            Issue.record("expected transportClosed")
        } catch {
            #expect(error.code == .transportClosed)
        }
        await client.disconnect()
    }

    @Test func exitOneAfterAnErrorResultIsNotACrash() async throws {
        let (client, transport) = try await connected()
        try await client.query("x")
        transport.emit(MessageDecodingTests.resultAPIError)
        transport.exit(.exited(1))
        var results: [ResultMessage] = []
        for try await message in client.receiveMessages() {
            if case .result(let result) = message { results.append(result) }
        }
        #expect(results.count == 1)
        #expect(results[0].isError)
        await client.disconnect()
    }

    @Test func exitBeforeInitializeIsATypedConnectError() async throws {
        let transport = ScriptedTransport()
        let client = ClaudeSDKClient(transport: { _ in transport })
        async let connecting: Void = client.connect()
        _ = await transport.nextWritten()
        transport.emit(
            #"{"type":"result","subtype":"error_during_execution","is_error":true,"errors":["No conversation found with session ID: 00000000-0000-4000-8000-000000000000"],"session_id":"00000000-0000-4000-8000-000000000000","num_turns":0,"duration_ms":0,"duration_api_ms":0}"#
        )
        transport.exit(.exited(1), stderr: "No conversation found with session ID: 00000000\n")
        do {
            try await connecting
            Issue.record("expected processExited")
        } catch let error as ClaudeCodeError {
            #expect(error.code == .processExited)
            #expect(error.exitStatus == .exited(1))
            #expect(error.resultErrors.first?.hasPrefix("No conversation found") == true)
            #expect(error.stderrTail?.contains("No conversation found") == true)
        }
        #expect(!client.isConnected)
    }

    @Test func observerSeesEveryFrameInOrder() async throws {
        let frames = Mutex<[String]>([])
        let (client, transport) = try await connected(observer: { frame in
            frames.withLock { $0.append("\(frame.direction == .outbound ? ">" : "<")\(frame.type)") }
        })
        try await client.query("x")
        transport.emit(Self.assistant)
        transport.emit("garbage")
        transport.emit(Self.result)
        for try await _ in client.receiveResponse() {}
        await client.disconnect()
        #expect(
            frames.withLock { $0 } == [
                ">control_request", "<control_response", ">user", "<assistant", "<invalid", "<result",
            ])
    }

    @Test func notConnectedErrors() async throws {
        let client = ClaudeSDKClient(transport: { _ in ScriptedTransport() })
        do {
            try await client.query("x")
            Issue.record("expected notConnected")
        } catch {
            #expect(error.code == .notConnected)
        }
        do {
            for try await _ in client.receiveMessages() {}
            Issue.record("expected notConnected")
        } catch {
            #expect(error.code == .notConnected)
        }
    }

    @Test func droppingAConnectedClientKillsTheProcess() async throws {
        var (client, transport): (ClaudeSDKClient?, ScriptedTransport) = try await connected()
        #expect(client?.isConnected == true)
        client = nil
        #expect(transport.wasTerminatedImmediately)
    }

    @Test func oneShotQueryEndsInputAndStopsTheCLIWhenTheLoopBreaks() async throws {
        let transport = ScriptedTransport()
        let stream = query(prompt: "one", transport: { _ in transport })
        let player = Task {
            let initialize = try #require(await transport.nextWritten())
            transport.respond(to: initialize)
            let prompt = try #require(await transport.nextWritten())
            #expect(prompt["message"]?["content"] == "one")
            #expect(prompt["session_id"] == "")
            #expect(await transport.nextWritten() == nil)  // stdin closed after the prompt
            transport.emit(Self.assistant)
            transport.emit(Self.assistant)
        }
        for try await message in stream {
            #expect(message.type == "assistant")
            break
        }
        try await player.value
        // Breaking out dropped the iterator; the run shuts the CLI down.
        await transport.waitUntilClosed()
        #expect(transport.closeCount == 1)
    }
}
