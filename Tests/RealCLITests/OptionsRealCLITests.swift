import ClaudeCode
import ClaudeCodeTesting
import Foundation
import Testing

/// Each option of issue 16 against the real CLI 2.1.331 and the fake Messages API: the request the API
/// received, the CLI's answer, or the file on disk shows the option took effect.
@Suite("Options with the real CLI", .serialized, .timeLimit(.minutes(4)))
struct OptionsRealCLITests {
    /// The last `/v1/messages` request that carried the conversation (not a `set_model` probe).
    private func lastTurnRequest(_ api: FakeMessagesAPI) async throws -> FakeMessagesAPI.Request {
        try #require(await api.messageRequests.last { $0.isStreaming })
    }

    private func systemText(_ request: FakeMessagesAPI.Request) -> String {
        request.body?["system"]?.jsonString ?? ""
    }

    @Test func agentsAreSentInInitializeAndAgentChoosesTheMainThreadsAgent() async throws {
        try await RealCLIHarness.run { harness in
            let options = harness.options {
                $0.agents = [
                    "reviewer": AgentDefinition(
                        description: "Reviews code for the wt16 test", prompt: "You are REVIEWER-7731.")
                ]
                $0.agent = "reviewer"
            }
            try await ClaudeSDKClient.withConnection(options: options) { client in
                try await client.query("hi")
                let result = try #require(lastResult(try await collectResponse(client)))
                #expect(!result.isError)
                let context = try await client.getContextUsage()
                let agents = context.raw["agents"]?.arrayValue?.compactMap { $0["agentType"]?.stringValue } ?? []
                #expect(agents.contains("reviewer"))
            }
            // --agent=reviewer: the main thread runs with the agent's prompt.
            #expect(systemText(try await lastTurnRequest(harness.api)).contains("REVIEWER-7731"))
        }
    }

    @Test func skillsLimitTheSkillsTheModelIsShown() async throws {
        try await RealCLIHarness.run { harness in
            for name in ["greet-wt16", "other-wt16"] {
                let folder = harness.sandbox.workDirectory.appendingPathComponent(".claude/skills/\(name)")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try "---\nname: \(name)\ndescription: Skill \(name.uppercased()) description\n---\nDo \(name).\n"
                    .write(to: folder.appendingPathComponent("SKILL.md"), atomically: true, encoding: .utf8)
            }
            let options = harness.options { $0.skills = .named(["greet-wt16"]) }
            #expect(try options.commandLineArguments().contains("Skill(greet-wt16)"))
            try await ClaudeSDKClient.withConnection(options: options) { client in
                try await client.query("hi")
                _ = try await collectResponse(client)
            }
            let body = try await lastTurnRequest(harness.api).body?.jsonString ?? ""
            #expect(body.contains("GREET-WT16"))
            #expect(!body.contains("OTHER-WT16"))
        }
    }

    @Test func sandboxIsMergedIntoTheSettings() async throws {
        try await RealCLIHarness.run { harness in
            let options = harness.options {
                $0.settings = #"{"model": "claude-sonnet-4-5"}"#
                $0.sandbox = SandboxSettings(
                    enabled: false, excludedCommands: ["docker-wt16"],
                    network: .init(allowLocalBinding: true))
            }
            try await ClaudeSDKClient.withConnection(options: options) { client in
                let settings = try await client.getSettings()
                #expect(settings.effective["sandbox"]?["excludedCommands"] == ["docker-wt16"])
                #expect(settings.effective["sandbox"]?["network"]?["allowLocalBinding"] == true)
                // The caller's own settings survive the merge.
                #expect(settings.effective["model"] == "claude-sonnet-4-5")
                try await client.query("hi")
                _ = try await collectResponse(client)
            }
            #expect(try await lastTurnRequest(harness.api).model == "claude-sonnet-4-5")
        }
    }

    @Test func fileCheckpointingLetsRewindFilesRestoreTheFile() async throws {
        try await RealCLIHarness.run { harness in
            let file = harness.sandbox.workDirectory.appendingPathComponent("notes.txt")
            try "original\n".write(to: file, atomically: true, encoding: .utf8)
            let options = harness.options {
                $0.enableFileCheckpointing = true
                $0.replayUserMessages = true
                $0.permissionMode = .acceptEdits
            }
            try await ClaudeSDKClient.withConnection(options: options) { client in
                try await client.query(#"use tool Read: {"file_path": "\#(file.path)"}"#)
                _ = try await collectResponse(client)
                try await client.query(#"use tool Write: {"file_path": "\#(file.path)", "content": "changed\n"}"#)
                let messages = try await collectResponse(client)
                let replayed = messages.compactMap { message -> String? in
                    if case .user(let user) = message, user.isReplay { return user.uuid }
                    return nil
                }
                let promptID = try #require(replayed.first)
                #expect(try String(contentsOf: file, encoding: .utf8) == "changed\n")

                let preview = try await client.rewindFiles(toUserMessage: promptID, dryRun: true)
                #expect(preview.canRewind, "\(preview.raw)")
                #expect(preview.filesChanged.contains(file.path))
                #expect(try String(contentsOf: file, encoding: .utf8) == "changed\n")

                try await client.rewindFiles(toUserMessage: promptID)
                #expect(try String(contentsOf: file, encoding: .utf8) == "original\n")
            }
        }
    }

    @Test func withoutFileCheckpointingRewindIsRefused() async throws {
        try await RealCLIHarness.run { harness in
            try await ClaudeSDKClient.withConnection(options: harness.options()) { client in
                let preview = try await client.rewindFiles(
                    toUserMessage: "00000000-0000-4000-8000-000000000000", dryRun: true)
                #expect(!preview.canRewind)
                #expect(preview.error?.contains("not enabled") == true)
            }
        }
    }

    @Test func excludeDynamicSectionsMovesTheMemorySectionOutOfTheSystemPrompt() async throws {
        try await RealCLIHarness.run { harness in
            // The auto-memory section names a folder under HOME; it is one of the per-machine sections.
            let home = harness.sandbox.homeDirectory.path
            for exclude in [false, true] {
                let options = harness.options {
                    $0.systemPrompt = .preset(append: nil)
                    $0.excludeDynamicSystemPromptSections = exclude
                }
                try await ClaudeSDKClient.withConnection(options: options) { client in
                    try await client.query("hi")
                    _ = try await collectResponse(client)
                }
                let request = try await lastTurnRequest(harness.api)
                #expect(systemText(request).contains(home) == !exclude)
                #expect((request.body?["messages"]?.jsonString ?? "").contains(home) == exclude)
            }
        }
    }

    @Test func systemPromptSnapshotOffRendersTheNewPromptOnResume() async throws {
        try await RealCLIHarness.run { harness in
            let sessionID = UUID().uuidString.lowercased()
            try await ClaudeSDKClient.withConnection(
                options: harness.options {
                    $0.systemPrompt = .preset(append: "MARK-FIRST-LAUNCH")
                    $0.sessionID = sessionID
                }
            ) { client in
                try await client.query("first")
                _ = try await collectResponse(client)
            }
            for snapshot in [true, false] {
                try await ClaudeSDKClient.withConnection(
                    options: harness.options {
                        $0.systemPrompt = .preset(append: "MARK-SECOND-LAUNCH")
                        $0.resume = sessionID
                        $0.systemPromptSnapshot = snapshot
                    }
                ) { client in
                    try await client.query("again")
                    _ = try await collectResponse(client)
                }
                let system = systemText(try await lastTurnRequest(harness.api))
                // On: the prompt recorded at the first request is reused verbatim; off: rendered afresh.
                #expect(system.contains("MARK-FIRST-LAUNCH") == snapshot)
                #expect(system.contains("MARK-SECOND-LAUNCH") == !snapshot)
            }
        }
    }

    @Test func effortBetasAndClientAppReachTheRequest() async throws {
        try await RealCLIHarness.run { harness in
            let options = harness.options {
                $0.effortLevel = .low
                $0.betas = ["context-1m-2025-08-07"]
                $0.clientApp = "wt16-test/1.0"
            }
            try await ClaudeSDKClient.withConnection(options: options) { client in
                try await client.query("hi")
                _ = try await collectResponse(client)
            }
            let request = try await lastTurnRequest(harness.api)
            #expect(request.body?["output_config"]?["effort"] == "low")
            #expect(request.headers["anthropic-beta"]?.contains("context-1m-2025-08-07") == true)
            #expect(request.headers["user-agent"]?.contains("client-app/wt16-test/1.0") == true)
        }
    }

    @Test func sessionNameBecomesTheSessionTitle() async throws {
        try await RealCLIHarness.run { harness in
            try await ClaudeSDKClient.withConnection(options: harness.options { $0.sessionName = "Release notes wt16" })
            {
                client in
                try await client.query("hi")
                var titles: [String] = []
                for try await message in client.receiveResponse() {
                    if case .system(let system) = message, system.subtype == "session_title_changed" {
                        titles.append(system.data["title"]?.stringValue ?? "")
                    }
                }
                #expect(titles.contains("Release notes wt16"))
            }
        }
    }

    @Test func persistSessionFalseWritesNoTranscript() async throws {
        try await RealCLIHarness.run { harness in
            for persist in [true, false] {
                let sessionID = UUID().uuidString.lowercased()
                let options = harness.options {
                    $0.persistSession = persist
                    $0.sessionID = sessionID
                }
                try await ClaudeSDKClient.withConnection(options: options) { client in
                    try await client.query("hi")
                    let result = try #require(lastResult(try await collectResponse(client)))
                    #expect(!result.isError)
                }
                let transcript = harness.sandbox.transcriptURL(sessionID: sessionID).path
                #expect(FileManager.default.fileExists(atPath: transcript) == persist)
            }
        }
    }

    @Test func mcpServersFromAConfigurationFileJoinTheInlineOnes() async throws {
        try await RealCLIHarness.run { harness in
            let file = harness.sandbox.root.appendingPathComponent("mcp.json")
            try #"{"mcpServers": {"fromfile": {"type": "stdio", "command": "/bin/false", "args": []}}}"#
                .write(to: file, atomically: true, encoding: .utf8)
            let inline = SDKMCPServer(name: "inline", tools: [])
            let options = harness.options {
                $0.mcpConfigFiles = [file.path]
                $0.mcpServers = ["inline": .sdk(inline)]
            }
            try await ClaudeSDKClient.withConnection(options: options) { client in
                try await client.query("hi")
                _ = try await collectResponse(client)
                let names = Set(try await client.mcpServerStatus().map(\.name))
                #expect(names.isSuperset(of: ["fromfile", "inline"]))
            }
        }
    }

    @Test func resumeDropsTurnRefusesATruncationThatDropsAnotherTurn() async throws {
        try await RealCLIHarness.run { harness in
            let sessionID = UUID().uuidString.lowercased()
            var prompts: [String] = []
            var firstAnswer: String?
            try await ClaudeSDKClient.withConnection(
                options: harness.options {
                    $0.sessionID = sessionID
                    $0.replayUserMessages = true
                }
            ) { client in
                for prompt in ["one", "two", "three"] {
                    try await client.query(prompt)
                    for message in try await collectResponse(client) {
                        if case .user(let user) = message, user.isReplay, let uuid = user.uuid { prompts.append(uuid) }
                        if case .assistant(let assistant) = message, firstAnswer == nil { firstAnswer = assistant.uuid }
                    }
                }
            }
            #expect(prompts.count == 3)
            let keep = try #require(firstAnswer)
            // Cutting after turn one drops turns two and three: declaring only turn three is refused.
            let refused = harness.options {
                $0.resume = sessionID
                $0.resumeSessionAt = keep
                $0.resumeDropsTurn = prompts[2]
            }
            await #expect(throws: ClaudeCodeError.self) {
                try await ClaudeSDKClient.withConnection(options: refused) { client in
                    try await client.query("after")
                    let result = try #require(lastResult(try await collectResponse(client)))
                    if result.isError { throw ClaudeCodeError(.processExited, "refused: \(result.errors)") }
                }
            }
            // Without resumeDropsTurn the same truncation is accepted.
            let accepted = harness.options {
                $0.resume = sessionID
                $0.resumeSessionAt = keep
            }
            try await ClaudeSDKClient.withConnection(options: accepted) { client in
                try await client.query("after")
                let result = try #require(lastResult(try await collectResponse(client)))
                #expect(!result.isError)
            }
            #expect(try await lastTurnRequest(harness.api).userTurnCount == 2)
        }
    }
}
