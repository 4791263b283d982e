import ClaudeCode
import ClaudeCodeTesting
import Foundation
import Synchronization
import Testing

/// The options the SDK had before issue 16, each shown in what the real CLI 2.1.331 sent to the fake
/// Messages API or in its answer (for `docs/parity.md`).
@Suite("Base options with the real CLI", .serialized, .timeLimit(.minutes(3)))
struct BaseOptionsRealCLITests {
    @Test func toolsModelThinkingTaskBudgetSchemaAndDirectoriesReachTheRequest() async throws {
        try await RealCLIHarness.run { harness in
            let extra = harness.sandbox.root.appendingPathComponent("extra-dir-wt16")
            try FileManager.default.createDirectory(at: extra, withIntermediateDirectories: true)
            let stderrLines = Mutex<[String]>([])
            let options = harness.options {
                $0.tools = .list(["Read", "Bash"])
                $0.disallowedTools = ["Bash"]
                $0.model = "claude-sonnet-4-5"
                $0.thinking = .enabled(budgetTokens: 3000)
                $0.taskBudget = 5000
                $0.outputSchema = ["type": "object", "properties": ["a": ["type": "string"]]]
                $0.addDirectories = [extra.path]
                $0.systemPrompt = .preset(append: "APPENDED-WT16")
                $0.extraArgs = ["debug-to-stderr": nil]
                $0.stderr = { line in stderrLines.withLock { $0.append(line) } }
            }
            try await ClaudeSDKClient.withConnection(options: options) { client in
                try await client.query("hi")
                _ = try await collectResponse(client)
            }
            let request = try #require(await harness.api.messageRequests.last { $0.isStreaming })
            let tools = request.body?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(tools.contains("Read"))
            #expect(!tools.contains("Bash"))
            #expect(tools.contains("StructuredOutput"))
            #expect(request.model == "claude-sonnet-4-5")
            #expect(request.body?["thinking"]?["budget_tokens"] == 3000)
            #expect(request.body?["output_config"]?["task_budget"]?["total"] == 5000)
            let system = request.body?["system"]?.jsonString ?? ""
            #expect(request.body?.jsonString.contains(extra.path) == true)
            #expect(system.contains("APPENDED-WT16"))
            #expect(!stderrLines.withLock { $0.isEmpty })
        }
    }

    @Test func maxTurnsAndMaxBudgetEndTheTurnWithTheirErrors() async throws {
        try await RealCLIHarness.run { harness in
            let work = harness.sandbox.workDirectory.path
            let turns = harness.options {
                $0.maxTurns = 1
                $0.permissionMode = .acceptEdits
                $0.allowedTools = ["Bash"]
            }
            try await ClaudeSDKClient.withConnection(options: turns) { client in
                try await client.query("use tool Bash: ls \(work)")
                let result = try #require(lastResult(try await collectResponse(client)))
                #expect(result.subtype == "error_max_turns")
            }
            try await ClaudeSDKClient.withConnection(options: harness.options { $0.maxBudgetUSD = 0.000001 }) {
                client in
                try await client.query("hi")
                let result = try #require(lastResult(try await collectResponse(client)))
                #expect(result.subtype == "error_max_budget_usd")
            }
        }
    }

    @Test func strictMCPConfigIgnoresTheProjectsServers() async throws {
        try await RealCLIHarness.run { harness in
            try #"{"mcpServers": {"project-wt16": {"type": "stdio", "command": "/bin/false", "args": []}}}"#
                .write(
                    to: harness.sandbox.workDirectory.appendingPathComponent(".mcp.json"), atomically: true,
                    encoding: .utf8)
            let settings = #"{"enableAllProjectMcpServers": true}"#
            for strict in [false, true] {
                let options = harness.options {
                    $0.strictMCPConfig = strict
                    $0.settings = settings
                    $0.mcpServers = ["inline": .sdk(SDKMCPServer(name: "inline", tools: []))]
                }
                try await ClaudeSDKClient.withConnection(options: options) { client in
                    try await client.query("hi")
                    _ = try await collectResponse(client)
                    let names = try await client.mcpServerStatus().map(\.name)
                    #expect(names.contains("inline"))
                    #expect(names.contains("project-wt16") == !strict)
                }
            }
        }
    }

    @Test func pluginDirectoriesLoadALocalPlugin() async throws {
        try await RealCLIHarness.run { harness in
            let plugin = harness.sandbox.root.appendingPathComponent("wt16plug")
            try FileManager.default.createDirectory(
                at: plugin.appendingPathComponent(".claude-plugin"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(
                at: plugin.appendingPathComponent("commands"), withIntermediateDirectories: true)
            try #"{"name": "wt16plug", "version": "1.0.0", "description": "test plugin"}"#
                .write(
                    to: plugin.appendingPathComponent(".claude-plugin/plugin.json"), atomically: true, encoding: .utf8)
            try "---\ndescription: Says hello WT16\n---\nSay hello.\n"
                .write(to: plugin.appendingPathComponent("commands/hello.md"), atomically: true, encoding: .utf8)
            for load in [false, true] {
                let options = harness.options { $0.pluginDirectories = load ? [plugin.path] : [] }
                try await ClaudeSDKClient.withConnection(options: options) { client in
                    let plugins = try await client.reloadPlugins().plugins.map(\.name)
                    #expect(plugins.contains("wt16plug") == load)
                }
            }
        }
    }

    @Test func includeHookEventsStreamsTheSettingsHooks() async throws {
        try await RealCLIHarness.run { harness in
            let settings =
                #"{"hooks": {"UserPromptSubmit": [{"hooks": [{"type": "command", "command": "true"}]}]}}"#
            for include in [false, true] {
                let options = harness.options {
                    $0.settings = settings
                    $0.includeHookEvents = include
                }
                try await ClaudeSDKClient.withConnection(options: options) { client in
                    try await client.query("hi")
                    let hookFrames = try await collectResponse(client).filter { message in
                        guard case .system(let system) = message else { return false }
                        return system.subtype == "hook_started" || system.subtype == "hook_response"
                    }
                    #expect(hookFrames.isEmpty == !include)
                }
            }
        }
    }

    @Test func fallbackModelAnswersWhenTheMainModelIsOverloaded() async throws {
        try await RealCLIHarness.run { harness in
            harness.api.setResponder { request in
                request.model == "claude-main-wt16" ? .error(status: 529, message: "overloaded") : nil
            }
            let options = harness.options {
                $0.model = "claude-main-wt16"
                $0.fallbackModel = "claude-fallback-wt16"
                // The CLI switches to the fallback model only after repeated overload errors.
                $0.env["CLAUDE_CODE_MAX_RETRIES"] = "5"
            }
            try await ClaudeSDKClient.withConnection(options: options) { client in
                try await client.query("hi")
                let result = try #require(lastResult(try await collectResponse(client)))
                #expect(!result.isError)
            }
            let models = await harness.api.messageRequests.compactMap(\.model)
            #expect(models.contains("claude-main-wt16"))
            #expect(models.last == "claude-fallback-wt16")
        }
    }
}
