import ClaudeCodeTesting
import Foundation
import Logging
import Synchronization
import Testing

@testable import ClaudeCode

/// The client answering the CLI's control requests from the options' callbacks, with the test
/// playing the CLI over a ``ScriptedTransport`` and replaying frames recorded from the real CLI.
@Suite(.timeLimit(.minutes(1))) struct CallbacksComponentTests {
    /// Connects, checks the `initialize` request and answers it with `response`.
    private func connected(
        _ options: ClaudeCodeOptions, handler: ControlRequestHandler? = nil,
        initializeResponse: JSONValue = ["claude_code_version": "2.1.331", "hook_on_failure_supported": true],
        checkInitialize: (JSONValue) -> Void = { _ in }
    ) async throws -> (ClaudeSDKClient, ScriptedTransport) {
        let transport = ScriptedTransport()
        let client = ClaudeSDKClient(options: options, transport: { _ in transport }, controlHandler: handler)
        async let connecting: Void = client.connect()
        let initialize = try #require(await transport.nextWritten())
        checkInitialize(initialize)
        transport.respond(to: initialize, with: initializeResponse)
        try await connecting
        return (client, transport)
    }

    /// Sends a control request as the CLI and returns the client's `control_response` frame.
    private func ask(_ transport: ScriptedTransport, _ frame: JSONValue) async throws -> JSONValue {
        transport.emit(frame)
        let reply = try #require(await transport.nextWritten())
        #expect(reply["type"] == "control_response")
        #expect(reply["response"]?["request_id"] == frame["request_id"])
        return try #require(reply["response"])
    }

    private func request(_ id: String, _ body: JSONValue) -> JSONValue {
        ["type": "control_request", "request_id": .string(id), "request": body]
    }

    /// A recorded hook_callback frame re-addressed to the callback id these options gave the event.
    private func recordedHook(_ event: String, callbackID: String) throws -> JSONValue {
        var frame = try #require(try CallbackFixtures.hookRequestsByEvent()[event]?.objectValue)
        var request = try #require(frame["request"]?.objectValue)
        request["callback_id"] = .string(callbackID)
        frame["request"] = .object(request)
        return .object(frame)
    }

    // MARK: Hooks

    @Test func recordedHookCallbacksReachTypedCallbacksAndTheirAnswersGoBack() async throws {
        let seen = Mutex<[HookEvent: HookInput]>([:])
        var options = ClaudeCodeOptions()
        // One callback per event, registered under the same ids as in the recording (CLI event order).
        for event in HookEvent.allCases {
            options.hooks[event] = [
                HookMatcher { input, context in
                    seen.withLock { $0[input.event] = input }
                    #expect(context.callbackID == "hook_\(HookEvent.allCases.firstIndex(of: input.event) ?? -1)")
                    switch input.payload {
                    case .preToolUse(let call) where call.toolName == "Bash":
                        return HookOutput(
                            hookSpecificOutput: .preToolUse(
                                permissionDecision: .deny, permissionDecisionReason: "blocked by a Swift hook"))
                    case .stop:
                        return HookOutput(shouldContinue: false, stopReason: "enough")
                    case .postToolUse:
                        return .async(timeout: .seconds(3))
                    default:
                        return HookOutput()
                    }
                }
            ]
        }
        let (client, transport) = try await connected(
            options,
            checkInitialize: { initialize in
                let hooks = initialize["request"]?["hooks"]
                #expect(hooks?.objectValue?.count == 33)
                #expect(hooks?["PreToolUse"] == [["matcher": nil, "hookCallbackIds": ["hook_0"]]])
                #expect(hooks?["MessageDisplay"] == [["matcher": nil, "hookCallbackIds": ["hook_32"]]])
            })
        for (event, frame) in try CallbackFixtures.hookRequestsByEvent() {
            let response = try await ask(transport, frame)
            #expect(response["subtype"] == "success", "\(event)")
            let answer = response["response"]
            switch event {
            case "PreToolUse":
                #expect(
                    answer == [
                        "hookSpecificOutput": [
                            "hookEventName": "PreToolUse", "permissionDecision": "deny",
                            "permissionDecisionReason": "blocked by a Swift hook",
                        ]
                    ])
            case "Stop": #expect(answer == ["continue": false, "stopReason": "enough"])
            case "PostToolUse": #expect(answer == ["async": true, "asyncTimeout": 3000])
            default: #expect(answer == [:], "\(event)")
            }
        }
        // The 17 events the CLI does not fire offline, with inputs built from its schemas.
        for event in CallbackFixtures.schemaInputs.keys.sorted() {
            let id = "hook_\(try #require(HookEvent.allCases.firstIndex(of: HookEvent(rawValue: event))))"
            let response = try await ask(
                transport,
                request(
                    "s-\(event)",
                    [
                        "subtype": "hook_callback", "callback_id": .string(id),
                        "input": CallbackFixtures.schemaInput(event),
                    ]))
            #expect(response["subtype"] == "success", "\(event)")
        }
        let inputs = seen.withLock { $0 }
        #expect(inputs.count == 33)
        #expect(inputs[.sessionEnd]?.payload == .sessionEnd(.init(reason: "prompt_input_exit")))
        #expect(inputs[.fileChanged]?.payload == .fileChanged(.init(filePath: "/w/Package.swift", event: "change")))
        await client.disconnect()
    }

    @Test func unknownCallbackIdsMalformedInputsAndFailingHooksGetErrorsTheSessionGoesOn() async throws {
        var options = ClaudeCodeOptions()
        struct HookBroke: Error, CustomStringConvertible { var description: String { "disk full" } }
        options.hooks[.preToolUse] = [HookMatcher { _, _ in throw HookBroke() }]
        let (client, transport) = try await connected(options)
        let pre = try #require(try CallbackFixtures.hookRequestsByEvent()["PreToolUse"])

        let unknown = try await ask(
            transport,
            request(
                "u1", ["subtype": "hook_callback", "callback_id": "hook_99", "input": pre["request"]?["input"] ?? [:]]))
        #expect(unknown == ["subtype": "error", "request_id": "u1", "error": "No hook callback found for ID: hook_99"])

        let noID = try await ask(transport, request("u2", ["subtype": "hook_callback", "input": [:]]))
        #expect(noID["error"] == "malformed hook_callback request: no callback_id")

        var input = try #require(pre["request"]?["input"]?.objectValue)
        input["tool_name"] = nil
        let badInput = try await ask(
            transport, request("u3", ["subtype": "hook_callback", "callback_id": "hook_0", "input": .object(input)]))
        #expect(
            badInput["error"]
                == "malformed hook_callback request for hook_0: the PreToolUse hook input has no tool_name")

        let threw = try await ask(transport, pre)
        #expect(threw["subtype"] == "error")
        #expect(threw["error"] == "hook callback hook_0 (PreToolUse) failed: disk full")

        // The session goes on: a normal control request still works.
        async let status = client.mcpStatus()
        let next = try #require(await transport.nextWritten())
        #expect(next["request"]?["subtype"] == "mcp_status")
        transport.respond(to: next, with: ["mcpServers": []])
        #expect(try await status == ["mcpServers": []])
        #expect(client.isConnected)
        await client.disconnect()
    }

    @Test func aStuckHookIsAbandonedAfterItsTimeout() async throws {
        var options = ClaudeCodeOptions()
        let release = Mutex<CheckedContinuation<Void, Never>?>(nil)
        options.hooks[.stop] = [
            HookMatcher(timeout: .milliseconds(100)) { _, _ in
                // Ignores cancellation on purpose.
                await withCheckedContinuation { continuation in release.withLock { $0 = continuation } }
                return HookOutput()
            }
        ]
        // The client waits 2 s past the timeout (so the CLI's own timer decides); here, none.
        let callbacks = ControlCallbacks(
            options: options, userHandler: nil, logger: Logger(label: "test"), hookDeadlineGrace: .zero)
        let frame = try recordedHook("Stop", callbackID: "hook_0")
        do {
            _ = try await callbacks.handle("hook_callback", try #require(frame["request"]))
            Issue.record("expected a timeout error")
        } catch let error as ControlRequestError {
            #expect(error.message == "hook callback hook_0 (Stop) did not answer within its timeout (0.1 seconds)")
        }
        while release.withLock({ $0 == nil }) { await Task.yield() }
        release.withLock { $0 }?.resume()
    }

    @Test func malformedControlRequestsAndUnknownSubtypesGetErrorResponses() async throws {
        var options = ClaudeCodeOptions()
        options.canUseTool = { _, _, _ in .allow() }
        let (client, transport) = try await connected(options)
        // No request_id: nothing can be answered; it is skipped and the next request is served.
        transport.emit(
            #"{"type":"control_request","request":{"subtype":"can_use_tool","tool_name":"Bash","input":{}}}"#)
        let noRequest = try await ask(transport, ["type": "control_request", "request_id": "m1"])
        #expect(noRequest["error"] == "Malformed control request: no request object with a string subtype")
        let numericSubtype = try await ask(transport, request("m2", ["subtype": 5]))
        #expect(numericSubtype["subtype"] == "error")
        let unknown = try await ask(transport, request("m3", ["subtype": "something_new"]))
        #expect(unknown["error"] == "Unsupported control request subtype: something_new")
        let noTool = try await ask(transport, request("m4", ["subtype": "can_use_tool", "input": [:]]))
        #expect(noTool["error"] == "malformed can_use_tool request: no tool_name")
        let badInput = try await ask(
            transport, request("m5", ["subtype": "can_use_tool", "tool_name": "Bash", "input": "ls"]))
        #expect(badInput["error"] == "malformed can_use_tool request: input is not an object")
        let noHooks = try await ask(transport, request("m6", ["subtype": "hook_callback", "callback_id": "hook_0"]))
        #expect(noHooks["error"] == "No handler is configured for control request subtype: hook_callback")
        let noServer = try await ask(
            transport, request("m7", ["subtype": "mcp_message", "server_name": "x", "message": [:]]))
        #expect(noServer["error"] == "No handler is configured for control request subtype: mcp_message")
        let ok = try await ask(
            transport, request("m8", ["subtype": "can_use_tool", "tool_name": "Bash", "input": ["command": "ls"]]))
        #expect(ok["response"]?["behavior"] == "allow")
        #expect(client.isConnected)
        await client.disconnect()
    }

    @Test func onFailureBlockNeedsACLIThatHonoursIt() async throws {
        var options = ClaudeCodeOptions()
        options.hooks[.preToolUse] = [HookMatcher(matcher: "Bash", onFailure: .block) { _, _ in HookOutput() }]
        let transport = ScriptedTransport()
        let client = ClaudeSDKClient(options: options, transport: { _ in transport })
        async let connecting: Void = client.connect()
        let initialize = try #require(await transport.nextWritten())
        #expect(initialize["request"]?["hooks"]?["PreToolUse"]?[0]?["onFailure"] == "block")
        transport.respond(to: initialize, with: ["claude_code_version": "2.1.331"])
        do {
            try await connecting
            Issue.record("expected initializeFailed")
        } catch let error as ClaudeCodeError {
            #expect(error.code == .initializeFailed)
        }
        #expect(!client.isConnected)
        #expect(transport.closeCount == 1)

        // A session that did not apply the hooks fails too; one that honours onFailure connects.
        let secondTransport = ScriptedTransport()
        let second = ClaudeSDKClient(options: options, transport: { _ in secondTransport })
        let secondConnect = Task { try await second.connect() }
        let secondInitialize = try #require(await secondTransport.nextWritten())
        secondTransport.respond(
            to: secondInitialize, with: ["hook_on_failure_supported": true, "hooks_applied": false])
        await #expect(throws: ClaudeCodeError.self) { try await secondConnect.value }
        let (connectedClient, _) = try await connected(options)
        #expect(connectedClient.isConnected)
        await connectedClient.disconnect()
    }

    @Test func cancelRequestFromTheCLICancelsAHookCallback() async throws {
        let entered = AsyncStream<Void>.makeStream()
        let cancelled = AsyncStream<Void>.makeStream()
        var options = ClaudeCodeOptions()
        options.hooks[.stop] = [
            HookMatcher { _, _ in
                entered.continuation.yield()
                do {
                    try await Task.sleep(for: .seconds(60))
                } catch {
                    cancelled.continuation.yield()
                    throw error
                }
                return HookOutput()
            }
        ]
        let (client, transport) = try await connected(options)
        transport.emit(try recordedHook("Stop", callbackID: "hook_0"))
        for await _ in entered.stream { break }
        let id = try #require(try recordedHook("Stop", callbackID: "hook_0")["request_id"]?.stringValue)
        transport.emit(#"{"type":"control_cancel_request","request_id":"\#(id)"}"#)
        for await _ in cancelled.stream { break }
        let next = try await ask(transport, request("after", ["subtype": "something_new"]))
        #expect(next["subtype"] == "error")
        #expect(!transport.writtenFrames.contains { $0["response"]?["request_id"] == .string(id) })
        await client.disconnect()
    }

    // MARK: Permissions

    @Test func permissionCallbackGetsTheRecordedContextAndItsDecisionGoesBack() async throws {
        let contexts = Mutex<[ToolPermissionContext]>([])
        var options = ClaudeCodeOptions()
        options.canUseTool = { toolName, input, context in
            contexts.withLock { $0.append(context) }
            switch toolName {
            case "Bash":
                let command = input["command"]?.stringValue ?? ""
                return .allow(
                    updatedInput: [
                        "command": .string(command.replacingOccurrences(of: "/allowed", with: "/rewritten"))
                    ],
                    updatedPermissions: context.suggestions.filter {
                        if case .setMode = $0 { return true } else { return false }
                    })
            default:
                return .deny(message: "not \(toolName)", interrupt: true)
            }
        }
        let (client, transport) = try await connected(options)
        let bash = try CallbackFixtures.permissionRequest(tool: "Bash")
        let allowed = try await ask(transport, bash)
        let command = try #require(bash["request"]?["input"]?["command"]?.stringValue)
        #expect(
            allowed["response"] == [
                "behavior": "allow",
                "updatedInput": ["command": .string(command.replacingOccurrences(of: "/allowed", with: "/rewritten"))],
                "updatedPermissions": [["type": "setMode", "mode": "acceptEdits", "destination": "session"]],
            ])
        let denied = try await ask(transport, try CallbackFixtures.permissionRequest(tool: "Write"))
        #expect(denied["response"] == ["behavior": "deny", "message": "not Write", "interrupt": true])
        let seen = contexts.withLock { $0 }
        #expect(seen.first?.blockedPath?.hasSuffix("/allowed") == true)
        #expect(seen.first?.suggestions.count == 3)
        #expect(seen.first?.toolUseID == bash["request"]?["tool_use_id"]?.stringValue)
        await client.disconnect()
    }

    /// Keeps the messages logged at warning level or above.
    final class LogCapture: LogHandler, @unchecked Sendable {
        let lines = Mutex<[String]>([])
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .warning
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            lines.withLock { $0.append("\(event.message)") }
        }
    }

    @Test func shadowedPermissionCallbackIsWarnedAboutAtConnect() async throws {
        let capture = LogCapture()
        var options = ClaudeCodeOptions()
        options.canUseTool = { _, _, _ in .allow() }
        options.allowedTools = ["Bash", "Read(*)", "Edit(src/**)"]
        let transport = ScriptedTransport()
        let client = ClaudeSDKClient(
            options: options, transport: { _ in transport }, logger: Logger(label: "test") { _ in capture })
        async let connecting: Void = client.connect()
        let initialize = try #require(await transport.nextWritten())
        transport.respond(to: initialize, with: ["claude_code_version": "2.1.331"])
        try await connecting
        let warnings = capture.lines.withLock { $0 }
        #expect(warnings.contains { $0.hasPrefix("canUseTool will not be called for: Bash, Read.") })
        await client.disconnect()
    }

    @Test func throwingOrSlowPermissionCallbacksDenyCleanly() async throws {
        struct NoNetwork: LocalizedError { var errorDescription: String? { "policy service unreachable" } }
        let release = Mutex<CheckedContinuation<Void, Never>?>(nil)
        var options = ClaudeCodeOptions()
        options.canUseToolTimeout = .milliseconds(100)
        options.canUseTool = { toolName, _, _ in
            if toolName == "Read" { throw NoNetwork() }
            // Ignores cancellation on purpose: the SDK must not wait for it.
            await withCheckedContinuation { continuation in release.withLock { $0 = continuation } }
            return .allow()
        }
        let (client, transport) = try await connected(options)
        let threw = try await ask(
            transport, request("p1", ["subtype": "can_use_tool", "tool_name": "Read", "input": ["file_path": "/x"]]))
        #expect(
            threw["response"] == [
                "behavior": "deny",
                "message": "The permission callback failed (policy service unreachable), so the Read call was denied.",
            ])
        let slow = try await ask(
            transport, request("p2", ["subtype": "can_use_tool", "tool_name": "Bash", "input": ["command": "ls"]]))
        #expect(slow["response"]?["behavior"] == "deny")
        #expect(
            slow["response"]?["message"]
                == "The permission callback did not answer within 0.1 seconds, so the Bash call was denied.")
        while release.withLock({ $0 == nil }) { await Task.yield() }
        release.withLock { $0 }?.resume()
        await client.disconnect()
    }

    @Test func cancelRequestCancelsAPermissionCallbackAndOtherTrafficFlowsMeanwhile() async throws {
        let entered = AsyncStream<Void>.makeStream()
        let cancelled = AsyncStream<Void>.makeStream()
        var options = ClaudeCodeOptions()
        options.canUseTool = { _, _, _ in
            entered.continuation.yield()
            do {
                try await Task.sleep(for: .seconds(60))
            } catch {
                cancelled.continuation.yield()
                throw error
            }
            return .allow()
        }
        let (client, transport) = try await connected(options)
        transport.emit(request("slow-1", ["subtype": "can_use_tool", "tool_name": "Bash", "input": ["command": "ls"]]))
        for await _ in entered.stream { break }
        // While the callback sleeps, the client's own control requests go through.
        async let status = client.mcpStatus()
        let statusRequest = try #require(await transport.nextWritten())
        #expect(statusRequest["request"]?["subtype"] == "mcp_status")
        transport.respond(to: statusRequest, with: ["mcpServers": []])
        _ = try await status
        transport.emit(#"{"type":"control_cancel_request","request_id":"slow-1"}"#)
        for await _ in cancelled.stream { break }
        // No answer is written for the abandoned request; the next one is served.
        let next = try await ask(transport, request("n1", ["subtype": "something_new"]))
        #expect(next["subtype"] == "error")
        #expect(!transport.writtenFrames.contains { $0["response"]?["request_id"] == "slow-1" })
        await client.disconnect()
    }

    // MARK: SDK MCP servers and precedence

    @Test func mcpMessagesAreAnsweredByTheInProcessServer() async throws {
        var options = ClaudeCodeOptions()
        options.mcpServers["calc"] = .sdk(try InProcessToolsTests.calculator())
        let (client, transport) = try await connected(options)
        // The CLI's own sequence, as recorded.
        let recorded = try CallbackFixtures.controlRequests().filter { $0["request"]?["subtype"] == "mcp_message" }
        #expect(
            recorded.map { $0["request"]?["message"]?["method"] } == [
                "initialize", "notifications/initialized", "tools/list", "tools/call",
            ])
        var answers: [JSONValue] = []
        for frame in recorded {
            let response = try await ask(transport, frame)
            #expect(response["subtype"] == "success")
            answers.append(try #require(response["response"]?["mcp_response"]))
        }
        #expect(answers[0]["result"]?["protocolVersion"] == "2025-11-25")
        #expect(answers[0]["id"] == recorded[0]["request"]?["message"]?["id"])
        #expect(answers[1] == ["jsonrpc": "2.0", "result": [:]])
        #expect(answers[2]["result"]?["tools"]?[0]?["name"] == "add")
        #expect(answers[3]["result"] == ["content": [["type": "text", "text": "5.0"]]])
        let other = try await ask(
            transport,
            request(
                "x1",
                [
                    "subtype": "mcp_message", "server_name": "nope",
                    "message": ["jsonrpc": "2.0", "id": 4, "method": "tools/list"],
                ]))
        #expect(
            other["response"] == [
                "mcp_response": [
                    "jsonrpc": "2.0", "id": 4, "error": ["code": -32601, "message": "Server 'nope' not found"],
                ]
            ])
        await client.disconnect()
    }

    @Test func userHandlerWinsAndCanPassRequestsOnToTheOptions() async throws {
        var options = ClaudeCodeOptions()
        options.canUseTool = { _, _, _ in .deny(message: "from the options") }
        options.hooks[.stop] = [HookMatcher { _, _ in HookOutput(systemMessage: "from the options") }]
        let (client, transport) = try await connected(
            options,
            handler: { subtype, _ in
                if subtype == "can_use_tool" { return ["behavior": "allow", "updatedInput": [:]] }
                throw UnhandledControlRequest()
            })
        let permission = try await ask(
            transport, request("h1", ["subtype": "can_use_tool", "tool_name": "Bash", "input": [:]]))
        #expect(permission["response"]?["behavior"] == "allow")
        let stop = try await ask(transport, try recordedHook("Stop", callbackID: "hook_0"))
        #expect(stop["response"] == ["systemMessage": "from the options"])
        await client.disconnect()
    }

    // MARK: One-shot query

    @Test func oneShotQueryWithCallbacksKeepsStdinOpenUntilTheRunEnds() async throws {
        let transport = ScriptedTransport()
        var options = ClaudeCodeOptions()
        options.canUseTool = { _, _, _ in .allow() }
        let stream = query(prompt: "use tool Bash: ls", options: options, transport: { _ in transport })
        let reader = Task {
            var types: [String] = []
            for try await message in stream { types.append(message.type) }
            return types
        }
        let initialize = try #require(await transport.nextWritten())
        transport.respond(to: initialize, with: ["claude_code_version": "2.1.331"])
        let prompt = try #require(await transport.nextWritten())
        #expect(prompt["type"] == "user")
        transport.emit(#"{"type":"system","subtype":"session_state_changed","state":"running","session_id":"s1"}"#)
        // The permission prompt comes mid-run, and its answer can still be written.
        transport.emit(request("q1", ["subtype": "can_use_tool", "tool_name": "Bash", "input": ["command": "ls"]]))
        let answer = try #require(await transport.nextWritten())
        #expect(answer["response"]?["response"]?["behavior"] == "allow")
        transport.emit(ClientComponentTests.result)
        #expect(!transport.inputEnded)
        transport.emit(#"{"type":"system","subtype":"session_state_changed","state":"idle","session_id":"s1"}"#)
        // Idle after the result ends the run: stdin closes, and the CLI exits.
        #expect(await transport.nextWritten() == nil)
        #expect(transport.inputEnded)
        transport.exit(.exited(0))
        #expect(try await reader.value == ["system", "result", "system"])
    }
}
