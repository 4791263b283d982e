import Foundation
import Testing

@testable import ClaudeCode

/// Typed hook inputs and outputs, permission types, and how the options become argv and `initialize`.
@Suite struct HookTypesTests {
    @Test func everyRecordedHookInputDecodesToItsTypedPayload() throws {
        let requests = try CallbackFixtures.hookRequestsByEvent()
        #expect(Set(requests.keys) == CallbackFixtures.recordedEvents)
        var total = 0
        for frame in try CallbackFixtures.controlRequests() where frame["request"]?["subtype"] == "hook_callback" {
            let json = try #require(frame["request"]?["input"])
            let input = try HookInput(json: json)
            total += 1
            #expect(input.event.rawValue == json["hook_event_name"]?.stringValue)
            #expect(!input.sessionID.isEmpty && !input.cwd.isEmpty && input.transcriptPath.hasSuffix(".jsonl"))
            if case .other = input.payload { Issue.record("\(input.event) decoded as .other") }
        }
        #expect(total > 50)
    }

    @Test func recordedInputsCarryTheirFields() throws {
        let requests = try CallbackFixtures.hookRequestsByEvent()
        func input(_ event: String) throws -> HookInput {
            try HookInput(json: try #require(requests[event]?["request"]?["input"]))
        }
        let pre = try input("PreToolUse")
        guard case .preToolUse(let call) = pre.payload else { throw Failure("PreToolUse") }
        #expect(call.toolName == "Bash")
        #expect(call.toolInput["command"]?.stringValue?.hasPrefix("touch ") == true)
        #expect(call.toolUseID.hasPrefix("toolu_fake_"))
        #expect(pre.effortLevel == "medium")
        #expect(pre.permissionMode == .default)
        #expect(pre.toolName == "Bash")

        guard case .postToolUse(let post) = try input("PostToolUse").payload else { throw Failure("PostToolUse") }
        #expect(post.toolResponse["stdout"] == "")
        #expect(post.toolResponse["interrupted"] == false)

        guard case .postToolUseFailure(let failure) = try input("PostToolUseFailure").payload else {
            throw Failure("PostToolUseFailure")
        }
        #expect(failure.toolName == "Read")
        #expect(failure.error.hasPrefix("File does not exist"))

        guard case .postToolBatch(let batch) = try input("PostToolBatch").payload else {
            throw Failure("PostToolBatch")
        }
        #expect(batch.toolCalls.count == 1)
        #expect(batch.toolCalls.first?.toolName == "Bash")

        guard case .permissionRequest(let ask) = try input("PermissionRequest").payload else {
            throw Failure("PermissionRequest")
        }
        #expect(
            ask.permissionSuggestions.contains { if case .addDirectories = $0 { return true } else { return false } })

        guard case .preModelSwitch(let switchInput) = try input("PreModelSwitch").payload else {
            throw Failure("PreModelSwitch")
        }
        #expect(switchInput.toModel == "claude-sonnet-4-5")
        #expect(switchInput.source == "sdk")
        #expect(switchInput.cacheTTL == "5m")
        #expect(switchInput.estimatedCacheWriteUSD > 0)

        guard case .stopFailure(let stopFailure) = try input("StopFailure").payload else {
            throw Failure("StopFailure")
        }
        #expect(stopFailure.error == "server_error")

        let start = try input("SubagentStart")
        guard case .subagentStart(let agent) = start.payload else { throw Failure("SubagentStart") }
        #expect(agent.agentType == "general-purpose")
        #expect(start.agentID == agent.agentID)

        guard case .preCompact(let compact) = try input("PreCompact").payload else { throw Failure("PreCompact") }
        #expect(compact.trigger == "manual")
        #expect(compact.customInstructions == nil)

        guard case .userPromptExpansion(let expansion) = try input("UserPromptExpansion").payload else {
            throw Failure("UserPromptExpansion")
        }
        #expect(expansion.commandName == "greet")
        #expect(expansion.commandArgs == "world")

        guard case .worktreeCreate(let worktree) = try input("WorktreeCreate").payload else {
            throw Failure("WorktreeCreate")
        }
        #expect(worktree.name == "wt1")

        guard case .messageDisplay(let display) = try input("MessageDisplay").payload else {
            throw Failure("MessageDisplay")
        }
        #expect(display.isFinal)
        #expect(display.index == 0)
    }

    @Test func schemaBuiltInputsDecodeForTheEventsTheCLICannotFireOffline() throws {
        #expect(
            CallbackFixtures.recordedEvents.union(CallbackFixtures.schemaInputs.keys)
                == Set(HookEvent.allCases.map(\.rawValue)))
        #expect(HookEvent.allCases.count == 33)
        for event in CallbackFixtures.schemaInputs.keys {
            let input = try HookInput(json: CallbackFixtures.schemaInput(event))
            #expect(input.event.rawValue == event)
            if case .other = input.payload { Issue.record("\(event) decoded as .other") }
        }
        let session = try HookInput(json: CallbackFixtures.schemaInput("SessionStart"))
        #expect(
            session.payload
                == .sessionStart(
                    .init(
                        source: "resume", model: "claude-opus-5-5", secondsSinceLastResponse: 12.5, contextTokens: 4096,
                        promptCacheLikelyExpired: false)))
        let loaded = try HookInput(json: CallbackFixtures.schemaInput("InstructionsLoaded"))
        guard case .instructionsLoaded(let instructions) = loaded.payload else { throw Failure("InstructionsLoaded") }
        #expect(instructions.globs == ["*.swift"])
        let denied = try HookInput(json: CallbackFixtures.schemaInput("PermissionDenied"))
        #expect(denied.toolInput == ["command": "rm -rf /"])
    }

    @Test func missingOrMistypedFieldsAreNamedUnknownEventsPassThrough() throws {
        var object = try #require(CallbackFixtures.schemaInput("CwdChanged").objectValue)
        object["new_cwd"] = nil
        #expect(throws: HookInputError(message: "the CwdChanged hook input has no new_cwd")) {
            try HookInput(json: .object(object))
        }
        object["new_cwd"] = 7
        #expect(throws: HookInputError(message: "the CwdChanged hook input's new_cwd is not a string")) {
            try HookInput(json: .object(object))
        }
        #expect(throws: HookInputError.self) { try HookInput(json: "not an object") }
        var future = CallbackFixtures.base
        future["hook_event_name"] = "FutureEvent"
        future["anything"] = 1
        let input = try HookInput(json: .object(future))
        #expect(input.event == "FutureEvent")
        #expect(input.payload == .other(.object(future)))
    }

    @Test func outputsRenameContinueAndAsyncAndTagTheEvent() throws {
        let output = HookOutput(
            shouldContinue: false, suppressOutput: true, stopReason: "done", decision: .block, systemMessage: "warn",
            reason: "because",
            hookSpecificOutput: .preToolUse(permissionDecision: .deny, permissionDecisionReason: "no"))
        #expect(
            output.json == [
                "continue": false, "suppressOutput": true, "stopReason": "done", "decision": "block",
                "systemMessage": "warn",
                "reason": "because",
                "hookSpecificOutput": [
                    "hookEventName": "PreToolUse", "permissionDecision": "deny", "permissionDecisionReason": "no",
                ],
            ])
        #expect(HookOutput().json == [:])
        #expect(HookOutput.async(timeout: .seconds(2)).json == ["async": true, "asyncTimeout": 2000])

        let all: [HookSpecificOutput] = [
            .preToolUse(), .postToolUse(updatedToolOutput: ["stdout": "x"]), .postToolUseFailure(), .postToolBatch(),
            .userPromptSubmit(sessionTitle: "t"), .userPromptExpansion(), .sessionStart(watchPaths: ["/a"]), .setup(),
            .preModelSwitch(permissionDecision: .ask), .postModelSwitch(), .subagentStart(),
            .stop(additionalContext: "go on"),
            .subagentStop(), .permissionDenied(retry: true), .notification(),
            .permissionRequest(decision: .allow(updatedInput: ["command": "ls"])),
            .elicitation(action: .accept, content: ["a": 1]),
            .elicitationResult(action: .decline), .cwdChanged(), .fileChanged(watchPaths: []),
            .worktreeCreate(worktreePath: "/w"),
            .messageDisplay(displayContent: "shown"),
        ]
        #expect(Set(all.map(\.event)).count == 22)
        for output in all {
            #expect(output.json["hookEventName"]?.stringValue == output.event.rawValue)
        }
        #expect(
            HookSpecificOutput.permissionRequest(decision: .deny(message: "no", interrupt: true)).json == [
                "hookEventName": "PermissionRequest",
                "decision": ["behavior": "deny", "message": "no", "interrupt": true],
            ])
        #expect(
            HookSpecificOutput.stop(additionalContext: "go on").json == [
                "hookEventName": "Stop", "additionalContext": "go on",
            ])
        #expect(
            HookSpecificOutput.other(event: "Future", fields: ["x": 1]).json == ["hookEventName": "Future", "x": 1])
    }

    @Test func permissionUpdatesReadTheCLIsSuggestionsAndWriteWhatItAccepts() throws {
        let frame = try CallbackFixtures.permissionRequest(tool: "Bash")
        let context = ToolPermissionContext(request: try #require(frame["request"]))
        #expect(context.toolUseID?.hasPrefix("toolu_fake_") == true)
        #expect(context.blockedPath?.hasSuffix("/allowed") == true)
        #expect(context.displayName == "Bash")
        #expect(context.suggestions.count == 3)
        guard case .addRules(let rules, let behavior, let destination) = context.suggestions.first else {
            throw Failure("addRules")
        }
        #expect(rules.first?.toolName == "Bash")
        #expect(behavior == .allow)
        #expect(destination == .localSettings)
        #expect(context.suggestions.last == .setMode(.acceptEdits, destination: .session))
        // Round trip, and a whole-tool rule leaves ruleContent out.
        let wire = try #require(frame["request"]?["permission_suggestions"]?.arrayValue)
        #expect(context.suggestions.map(\.json) == wire)
        #expect(
            PermissionUpdate.addRules([PermissionRule(toolName: "Read")], behavior: .allow).json == [
                "type": "addRules", "rules": [["toolName": "Read"]], "behavior": "allow", "destination": "session",
            ])
        #expect(PermissionUpdate(json: ["type": "addRules", "behavior": "allow"]) == nil)
        #expect(PermissionUpdate(json: ["type": "somethingNew"]) == nil)
    }

    @Test func permissionResultsBecomeTheWireAnswer() {
        let input: JSONValue = ["command": "ls"]
        #expect(
            PermissionResult.allow().wireResponse(originalInput: input) == ["behavior": "allow", "updatedInput": input])
        #expect(
            PermissionResult.allow(updatedInput: ["command": "pwd"], updatedPermissions: [.setMode(.acceptEdits)])
                .wireResponse(originalInput: input) == [
                    "behavior": "allow", "updatedInput": ["command": "pwd"],
                    "updatedPermissions": [["type": "setMode", "mode": "acceptEdits", "destination": "session"]],
                ])
        #expect(
            PermissionResult.deny(message: "no").wireResponse(originalInput: input) == [
                "behavior": "deny", "message": "no",
            ])
        #expect(
            PermissionResult.deny(message: "stop", interrupt: true).wireResponse(originalInput: input) == [
                "behavior": "deny", "message": "stop", "interrupt": true,
            ])
    }

    @Test func canUseToolSetsStdioAndRefusesAnotherPromptTool() throws {
        var options = ClaudeCodeOptions()
        options.canUseTool = { _, _, _ in .allow() }
        let args = try options.commandLineArguments()
        let index = try #require(args.firstIndex(of: "--permission-prompt-tool"))
        #expect(args[index + 1] == "stdio")
        options.permissionPromptToolName = "stdio"
        #expect(try options.commandLineArguments().filter { $0 == "--permission-prompt-tool" }.count == 1)
        options.permissionPromptToolName = "mcp__perm__ask"
        #expect(throws: ClaudeCodeError.self) { try options.commandLineArguments() }
        // Without the callback the name passes through.
        options.canUseTool = nil
        #expect(try options.commandLineArguments().contains("mcp__perm__ask"))
    }

    @Test func shadowingWarningsMatchThePythonSDK() {
        var options = ClaudeCodeOptions()
        options.allowedTools = ["Read", "Bash(ls:*)", "Write(*)", "Edit()", "Read()"]
        #expect(options.canUseToolShadowingWarning == nil)  // no callback, nothing to shadow
        options.canUseTool = { _, _, _ in .allow() }
        let warning = options.canUseToolShadowingWarning
        #expect(warning?.contains("for: Read, Write, Edit.") == true)
        options.allowedTools = ["Bash(ls:*)", "mcp__calc__add(x)"]
        #expect(options.canUseToolShadowingWarning == nil)
        options.permissionMode = .bypassPermissions
        #expect(options.canUseToolShadowingWarning?.contains("bypassPermissions") == true)
    }

    @Test func sdkServersGoInMCPConfigAndHooksInInitialize() throws {
        var options = ClaudeCodeOptions()
        options.mcpServers = ["calc": .sdk(SDKMCPServer(name: "calculator", tools: [])), "fs": .stdio(command: "srv")]
        let args = try options.commandLineArguments()
        let config = try JSONValue.parse(args[try #require(args.firstIndex(of: "--mcp-config")) + 1])
        #expect(config["mcpServers"]?["calc"] == ["type": "sdk", "name": "calculator"])
        #expect(config["mcpServers"]?["fs"]?["type"] == "stdio")

        let noop: HookCallback = { _, _ in HookOutput() }
        options.hooks = [
            .stop: [HookMatcher(hooks: [noop])],
            .preToolUse: [
                HookMatcher(matcher: "Bash", hooks: [noop, noop], timeout: .seconds(5), onFailure: .block),
                HookMatcher(matcher: "Write|Edit", timeout: .milliseconds(1500), noop),
            ],
            .postToolUse: [],
        ]
        let callbacks = ControlCallbacks(options: options, userHandler: nil, logger: .init(label: "test"))
        // Ids follow the CLI's event order, so the same options always give the same ids.
        #expect(
            callbacks.initializeHooks == [
                "PreToolUse": [
                    ["matcher": "Bash", "hookCallbackIds": ["hook_0", "hook_1"], "timeout": 5, "onFailure": "block"],
                    ["matcher": "Write|Edit", "hookCallbackIds": ["hook_2"], "timeout": 1.5],
                ],
                "Stop": [["matcher": nil, "hookCallbackIds": ["hook_3"]]],
            ])
        #expect(callbacks.blocksOnFailure)
        #expect(callbacks.hooks["hook_3"]?.event == .stop)
        #expect(Set(callbacks.mcpEndpoints.keys) == ["calc"])
        #expect(
            ControlCallbacks(options: ClaudeCodeOptions(), userHandler: nil, logger: .init(label: "t")).initializeHooks
                == .null)
    }
}

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = "unexpected payload for \(description)" }
}
