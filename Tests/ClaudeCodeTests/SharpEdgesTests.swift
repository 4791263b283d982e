import ClaudeCodeTesting
import Foundation
import Logging
import Synchronization
import Testing

@testable import ClaudeCode

/// Issue 13's core sharp edges: tool schemas, option checks, host-only frames, hook shortcuts and
/// the per-turn deadline.
@Suite(.timeLimit(.minutes(1))) struct SharpEdgesTests {
    // MARK: Tools without arguments (item 1)

    struct NoArguments: Codable, Sendable {}
    static let emptyObject: JSONValue = ["type": "object", "properties": [:]]

    @Test func anInputTypeWithoutPropertiesGivesAnEmptyObjectSchema() throws {
        #expect(try JSONSchemaInference.schema(for: NoArguments.self) == Self.emptyObject)
        let tool = try SDKMCPTool(name: "n", description: "n", input: NoArguments.self) { _ in .text("") }
        #expect(tool.inputSchema == Self.emptyObject)
        #expect(tool.schemaProblem == nil)
    }

    @Test func anEmptySchemaIsNormalisedAndTheNoInputInitializerUsesIt() async throws {
        let handWritten = SDKMCPTool(name: "h", description: "h", inputSchema: [:]) { _ in .text("") }
        #expect(handWritten.inputSchema == Self.emptyObject)
        let typed = try SDKMCPTool(name: "t", description: "t", input: JSONValue.self, inputSchema: [:]) { _ in
            .text("")
        }
        #expect(typed.inputSchema == Self.emptyObject)
        let calls = Mutex(0)
        let noInput = SDKMCPTool(name: "now", description: "no input") {
            calls.withLock { $0 += 1 }
            return .text("called")
        }
        #expect(noInput.inputSchema == Self.emptyObject)
        let endpoint = SDKMCPEndpoint(server: SDKMCPServer(name: "s", tools: [noInput]))
        let result = try await endpoint.call("now", arguments: [:], id: 1)
        #expect(result == .text("called"))
        #expect(calls.withLock { $0 } == 1)
    }

    @Test func aSchemaThatIsNotAnObjectSchemaIsRefused() throws {
        #expect(throws: ClaudeCodeError.self) {
            _ = try SDKMCPTool(name: "s", description: "s", input: String.self) { _ in .text("") }
        }
        #expect(throws: ClaudeCodeError.self) {
            _ = try SDKMCPTool(name: "a", description: "a", input: [String].self) { _ in .text("") }
        }
        #expect(throws: ClaudeCodeError.self) {
            _ = try SDKMCPTool(name: "x", description: "x", input: JSONValue.self, inputSchema: ["type": "array"]) {
                _ in .text("")
            }
        }
        // The non-throwing initializer keeps the schema; connecting refuses it before the CLI starts.
        let arrayTool = SDKMCPTool(name: "list", description: "l", inputSchema: ["type": "array"]) { _ in .text("") }
        #expect(arrayTool.schemaProblem != nil)
        var options = ClaudeCodeOptions()
        options.mcpServers["srv"] = .sdk(
            SDKMCPServer(name: "srv", tools: [SDKMCPTool(name: "ok", description: "ok") { .text("") }, arrayTool]))
        do {
            _ = try options.commandLineArguments()
            Issue.record("expected invalidOptions")
        } catch {
            #expect(error.code == .invalidOptions)
            #expect(error.message.contains("srv") && error.message.contains("list"))
        }
    }

    // MARK: Option values (item 11)

    private func refusal(_ configure: (inout ClaudeCodeOptions) -> Void) -> ClaudeCodeError? {
        var options = ClaudeCodeOptions()
        configure(&options)
        do {
            _ = try options.commandLineArguments()
            return nil
        } catch {
            return error
        }
    }

    @Test func optionValuesAreCheckedAndTheErrorNamesTheOptionNotTheValue() throws {
        let long = String(repeating: "m", count: 100_000)
        let cases: [(String, (inout ClaudeCodeOptions) -> Void)] = [
            ("model", { $0.model = "" }),
            ("model", { $0.model = "sonnet\nsecret-value" }),
            ("model", { $0.model = "sonnet\u{7}secret-value" }),
            ("model", { $0.model = long }),
            ("fallbackModel", { $0.fallbackModel = " " }),
            ("effort", { $0.effort = "high\r" }),
            ("permissionMode", { $0.permissionMode = "" }),
            ("allowedTools", { $0.allowedTools = ["Bash", ""] }),
            ("betas", { $0.betas = ["beta\nsecret-value"] }),
            ("cwd", { $0.cwd = "" }),
            ("taskBudget", { $0.taskBudget = 0 }),
            ("mcpServers key", { $0.mcpServers[""] = .stdio(command: "x") }),
            ("systemPrompt", { $0.systemPrompt = .text(String(repeating: "p", count: 200_000)) }),
        ]
        for (name, configure) in cases {
            let error = try #require(refusal(configure), "\(name) was accepted")
            #expect(error.code == .invalidOptions)
            #expect(error.message.contains(name), "\(error.message)")
            #expect(!error.description.contains("secret-value"))
            #expect(!error.description.contains(String(repeating: "m", count: 300)))
        }
        // Valid values still pass, and a system prompt may span lines.
        #expect(
            refusal {
                $0.model = "claude-sonnet-4-5"
                $0.systemPrompt = .text("line one\nline two")
            } == nil)
    }

    @Test func aCLIPathThatIsADirectorySaysSo() throws {
        let folder = FileManager.default.temporaryDirectory.path
        do {
            _ = try CLILocator.locate(explicitPath: folder)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .cliNotExecutable)
            #expect(error.message.contains("directory"))
            #expect(!error.message.contains("does not exist"))
        }
        do {
            _ = try CLILocator.locate(explicitPath: nil, environment: ["CLAUDE_CODE_CLI_PATH": folder])
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("directory"))
        }
    }

    @Test func aMissingWorkingDirectoryIsReportedBeforeLaunch() throws {
        var options = ClaudeCodeOptions()
        options.cliPath = "/bin/sh"
        options.cwd = "/nonexistent/cc-work-\(UUID().uuidString)"
        do {
            _ = try SubprocessTransport(options: options)
            Issue.record("expected workingDirectoryNotFound")
        } catch {
            #expect(error.code == .workingDirectoryNotFound)
            #expect(error.description.contains(options.cwd!))
        }
    }

    // MARK: Error causes (item 2)

    @Test func theCLIsReasonIsTheLastMeaningfulStderrLineWithSecretsRedacted() {
        let stderr = """
            Warning: something minor
            Error: token sk-ant-secret-123 is not valid for prompt tell me a secret
                at main (file.js:1:2)
                at run (file.js:3:4)

            """
        let reason = StderrTail.reason(
            in: stderr, redacting: ["sk-ant-secret-123", "tell me a secret", "ab"])
        #expect(reason == "Error: token <redacted> is not valid for prompt <redacted>")
        #expect(
            StderrTail.reason(
                in: "--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons")
                == "--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons")
        #expect(StderrTail.reason(in: "\n  \n}\n") == nil)
        #expect((StderrTail.reason(in: String(repeating: "x", count: 1000))?.count ?? 0) <= 301)
    }

    @Test func aStartupExitCarriesTheCLIsReasonInTheDescription() async throws {
        let transport = ScriptedTransport()
        var options = ClaudeCodeOptions()
        options.env = ["MY_TOKEN": "hunter2-secret"]
        let client = ClaudeSDKClient(options: options, transport: { _ in transport })
        async let connecting: Void = client.connect()
        _ = try #require(await transport.nextWritten())
        transport.exit(.exited(1), stderr: "fatal: bad token hunter2-secret\n")
        do {
            try await connecting
            Issue.record("expected processExited")
        } catch let error as ClaudeCodeError {
            #expect(error.code == .processExited)
            #expect(error.description.contains("the CLI exited during startup: fatal: bad token <redacted>"))
            #expect(!error.description.contains("hunter2-secret"))
        }
    }

    // MARK: Host-only frames (item 6)

    private func fixtureLines(_ name: String) throws -> [String] {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "jsonl"))
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
            .filter { !$0.hasPrefix(#"{"type":"control_response""#) }
    }

    private func turnTypes(_ fixture: String, includeHostOnly: Bool) async throws -> (
        messages: [String], observed: Int
    ) {
        let transport = ScriptedTransport()
        var options = ClaudeCodeOptions()
        options.includeHostOnlyMessages = includeHostOnly
        let observed = Mutex(0)
        let client = ClaudeSDKClient(
            options: options, transport: { _ in transport },
            observer: { frame in
                if frame.direction == .inbound, frame.json?["sdk_host_only"] == true { observed.withLock { $0 += 1 } }
            })
        async let connecting: Void = client.connect()
        let initialize = try #require(await transport.nextWritten())
        transport.respond(to: initialize, with: ["claude_code_version": "2.1.331"])
        try await connecting
        try await client.query("hello")
        transport.emit(lines: try fixtureLines(fixture))
        transport.exit(.exited(0))
        var types: [String] = []
        for try await message in client.receiveMessages() {
            if case .system(let system) = message {
                types.append("system/\(system.subtype)")
            } else {
                types.append(message.type)
            }
        }
        await client.disconnect()
        return (types, observed.withLock { $0 })
    }

    @Test func hostOnlyFramesAreLeftOutUnlessAskedForAndObserversSeeThem() async throws {
        let hidden = try await turnTypes("text-turn", includeHostOnly: false)
        #expect(hidden.messages == ["system/init", "assistant", "result"])
        #expect(hidden.observed == 2)
        let shown = try await turnTypes("text-turn", includeHostOnly: true)
        #expect(
            shown.messages == [
                "system/session_state_changed", "system/init", "assistant", "result", "system/session_state_changed",
            ])
        #expect(shown.observed == 2)
        let tool = try await turnTypes("tool-use-bash-turn", includeHostOnly: false)
        #expect(!tool.messages.contains("system/session_state_changed"))
        #expect(tool.observed == 2)
    }

    // MARK: Hook shortcuts, per-turn deadline, withConnection's logger (item 12)

    @Test func hookOutputShortcutsSpellTheCommonAnswers() {
        #expect(
            HookOutput.deny(reason: "no").json == [
                "hookSpecificOutput": [
                    "hookEventName": "PreToolUse", "permissionDecision": "deny", "permissionDecisionReason": "no",
                ]
            ])
        #expect(
            HookOutput.allow().json == [
                "hookSpecificOutput": ["hookEventName": "PreToolUse", "permissionDecision": "allow"]
            ])
        #expect(
            HookOutput.ask(reason: "why").json == [
                "hookSpecificOutput": [
                    "hookEventName": "PreToolUse", "permissionDecision": "ask", "permissionDecisionReason": "why",
                ]
            ])
        #expect(HookOutput.block(reason: "stop").json == ["decision": "block", "reason": "stop"])
        #expect(
            HookOutput.addContext("ctx", for: .postToolUse).json == [
                "hookSpecificOutput": ["hookEventName": "PostToolUse", "additionalContext": "ctx"]
            ])
        #expect(
            HookOutput.addContext("ctx", for: .userPromptSubmit).json == [
                "hookSpecificOutput": ["hookEventName": "UserPromptSubmit", "additionalContext": "ctx"]
            ])
        #expect(
            HookOutput.addContext("ctx", for: .preCompact).json == [
                "hookSpecificOutput": ["hookEventName": "PreCompact", "additionalContext": "ctx"]
            ])
    }

    @Test func receiveResponseWithATimeoutThrowsAndLeavesTheConnectionUsable() async throws {
        let transport = ScriptedTransport()
        let client = ClaudeSDKClient(transport: { _ in transport })
        async let connecting: Void = client.connect()
        let initialize = try #require(await transport.nextWritten())
        transport.respond(to: initialize, with: ["claude_code_version": "2.1.331"])
        try await connecting
        try await client.query("hello")
        transport.emit(ClientComponentTests.assistant)
        var types: [String] = []
        do {
            for try await message in client.receiveResponse(timeout: .milliseconds(200)) { types.append(message.type) }
            Issue.record("expected responseTimeout")
        } catch {
            #expect(error.code == .responseTimeout)
        }
        #expect(types == ["assistant"])
        #expect(client.isConnected)
        // The turn goes on: its result is read by the next response.
        transport.emit(ClientComponentTests.result)
        types = []
        for try await message in client.receiveResponse(timeout: .seconds(30)) { types.append(message.type) }
        #expect(types == ["result"])
        await client.disconnect()
    }
}
