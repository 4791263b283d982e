import Foundation
import Testing

@testable import ClaudeCode

/// Unit checks of the issue 16 options and types; their effects are proven in `Tests/RealCLITests`.
@Suite struct ParityOptionsTests {
    @Test func newOptionsBecomeTheirFlagsAndEnvironment() throws {
        var options = ClaudeCodeOptions()
        options.agent = "reviewer"
        options.sessionName = "-dash name"
        options.persistSession = false
        options.replayUserMessages = true
        options.resumeSessionAt = "aaaa"
        options.resumeDropsTurn = "bbbb"
        options.mcpConfigFiles = ["/etc/mcp.json"]
        options.effortLevel = .xhigh
        options.skills = .named(["greet"])
        options.allowedTools = ["Read"]
        options.enableFileCheckpointing = true
        options.clientApp = "my-app/1.0"
        let args = try options.commandLineArguments()
        #expect(args.contains("--agent=reviewer"))
        #expect(args.contains("--name=-dash name"))
        #expect(args.contains("--no-session-persistence"))
        #expect(args.contains("--replay-user-messages"))
        #expect(args.contains("--resume-drops-turn=bbbb"))
        #expect(args.firstIndex(of: "/etc/mcp.json").map { args[$0 - 1] } == "--mcp-config")
        #expect(args.firstIndex(of: "--effort").map { args[$0 + 1] } == "xhigh")
        #expect(args.firstIndex(of: "--allowedTools").map { args[$0 + 1] } == "Read,Skill(greet)")
        #expect(args.contains("--setting-sources=user,project"))
        #expect(options.effort == "xhigh")
        let environment = options.processEnvironment(base: ["CLAUDE_AGENT_SDK_DERIVED_CLIENT_APP": "x"])
        #expect(environment["CLAUDE_CODE_ENABLE_SDK_FILE_CHECKPOINTING"] == "true")
        #expect(environment["CLAUDE_AGENT_SDK_CLIENT_APP"] == "my-app/1.0")
        #expect(environment["CLAUDE_AGENT_SDK_DERIVED_CLIENT_APP"] == nil)
        for flag in ["--no-persist", "--enable-file-checkpointing", "--beta"] { #expect(!args.contains(flag)) }
    }

    @Test func skillsAllAddsTheSkillToolAndKeepsExplicitSources() throws {
        var options = ClaudeCodeOptions()
        options.skills = .all
        options.settingSources = [.local]
        let args = try options.commandLineArguments()
        #expect(args.firstIndex(of: "--allowedTools").map { args[$0 + 1] } == "Skill")
        #expect(args.contains("--setting-sources=local"))
        #expect(ControlCallbacks.initializeOptions(options)["skills"] == nil)
    }

    @Test func invalidNewOptionsAreRefused() {
        var options = ClaudeCodeOptions()
        options.skills = .named(["a,b"])
        #expect(throws: ClaudeCodeError.self) { try options.commandLineArguments() }
        options = ClaudeCodeOptions()
        options.resumeDropsTurn = "x"
        #expect(throws: ClaudeCodeError.self) { try options.commandLineArguments() }
        options = ClaudeCodeOptions()
        options.agents = ["a": AgentDefinition(description: "", prompt: "p")]
        #expect(throws: ClaudeCodeError.self) { try options.commandLineArguments() }
        options = ClaudeCodeOptions()
        options.agent = "bad\nname"
        #expect(throws: ClaudeCodeError.self) { try options.commandLineArguments() }
    }

    @Test func sandboxIsMergedIntoInlineSettingsAndSettingsFiles() throws {
        var options = ClaudeCodeOptions()
        options.sandbox = SandboxSettings(enabled: true, excludedCommands: ["git"], extra: ["custom": 1])
        #expect(
            try JSONValue.parse(try #require(try options.settingsArgument())) == [
                "sandbox": ["enabled": true, "excludedCommands": ["git"], "custom": 1]
            ])
        options.settings = #"{"model": "m"}"#
        let inline = try JSONValue.parse(try #require(try options.settingsArgument()))
        #expect(inline["model"] == "m")
        #expect(inline["sandbox"]?["enabled"] == true)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("parity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data([0xEF, 0xBB, 0xBF] + Array(#"{"env": {"A": "1"}}"#.utf8)).write(
            to: folder.appendingPathComponent("s.json"))
        options.cwd = folder.path
        options.settings = "s.json"
        let merged = try JSONValue.parse(try #require(try options.settingsArgument()))
        #expect(merged["env"]?["A"] == "1")
        #expect(merged["sandbox"]?["excludedCommands"] == ["git"])
        options.settings = "missing.json"
        #expect(throws: ClaudeCodeError.self) { try options.settingsArgument() }
    }

    @Test func initializeCarriesAgentsPromptFlagsSkillsAndForwarding() {
        var options = ClaudeCodeOptions()
        options.agents = [
            "r": AgentDefinition(
                description: "d", prompt: "p", tools: ["Read"], model: "sonnet", maxTurns: 3, effort: .high,
                permissionMode: .plan)
        ]
        options.excludeDynamicSystemPromptSections = true
        options.systemPromptSnapshot = false
        options.skills = .named(["s"])
        options.forwardSubagentText = true
        let fields = ControlCallbacks(options: options, userHandler: nil, logger: .init(label: "t")).initializeFields
        #expect(fields["hooks"] == .null)
        #expect(
            fields["agents"]
                == [
                    "r": [
                        "description": "d", "prompt": "p", "tools": ["Read"], "model": "sonnet", "maxTurns": 3,
                        "effort": "high", "permissionMode": "plan",
                    ]
                ])
        #expect(fields["excludeDynamicSections"] == true)
        #expect(fields["systemPromptSnapshot"] == false)
        #expect(fields["skills"] == ["s"])
        #expect(fields["forwardSubagentText"] == true)
        let plain = ControlCallbacks(options: ClaudeCodeOptions(), userHandler: nil, logger: .init(label: "t"))
        #expect(plain.initializeFields == ["hooks": .null])
    }

    @Test func typedFramesKeepUnknownKeys() throws {
        let task = Message(
            line: Array(
                #"{"type":"system","subtype":"task_updated","task_id":"t1","patch":{"status":"killed","x":1},"uuid":"u","session_id":"s"}"#
                    .utf8))
        guard case .system(let system) = task, let event = system.task else {
            Issue.record("not a task frame")
            return
        }
        #expect(event.phase == .updated)
        #expect(event.status == .killed)
        #expect(event.status?.isTerminal == true)
        #expect(event.patch?["x"] == 1)
        let reset = Message(
            line: Array(
                #"{"type":"conversation_reset","new_conversation_id":"n","uuid":"u","session_id":"s","trigger":"clear","extra":true}"#
                    .utf8))
        guard case .conversationReset(let value) = reset else {
            Issue.record("not a reset")
            return
        }
        #expect(value.newConversationID == "n")
        #expect(value.json["extra"] == true)
        #expect(reset.type == "conversation_reset")
        #expect(reset.sessionID == "s")
    }
}
