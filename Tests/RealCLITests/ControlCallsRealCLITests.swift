import ClaudeCodeTesting
import Foundation
import Testing

@testable import ClaudeCode

#if canImport(Glibc)
    import Glibc
#endif

/// The typed control calls against the real CLI 2.1.331 and the fake Messages API.
@Suite("Typed control calls with the real CLI", .serialized, .timeLimit(.minutes(4)))
struct ControlCallsRealCLITests {
    private func lastTurnRequest(_ api: FakeMessagesAPI) async throws -> FakeMessagesAPI.Request {
        try #require(await api.messageRequests.last { $0.isStreaming })
    }

    @Test func initializationResultIsTyped() async throws {
        try await RealCLIHarness.run { harness in
            try await ClaudeSDKClient.withConnection(options: harness.options()) { client in
                let info = try #require(client.initializationResult)
                #expect(info.claudeCodeVersion == "2.1.331")
                #expect(info.pid != nil)
                #expect(info.currentPermissionMode == .default)
                let models = try client.supportedModels()
                #expect(models.contains { $0.value == "default" && $0.resolvedModel != nil })
                #expect(try client.supportedCommands().contains { !$0.name.isEmpty && $0.description != nil })
                #expect(try !client.supportedAgents().isEmpty)
                let account = try #require(try client.accountInfo())
                #expect(account.apiKeySource == "ANTHROPIC_API_KEY")
                #expect(account.apiProvider == "firstParty")
            }
            let client = ClaudeSDKClient(options: harness.options())
            #expect(throws: ClaudeCodeError.self) { try client.supportedModels() }
        }
    }

    @Test func mcpServerStatusAndContextUsageAreTyped() async throws {
        try await RealCLIHarness.run { harness in
            let server = SDKMCPServer(
                name: "calc",
                tools: [
                    SDKMCPTool(name: "add", description: "Adds", inputSchema: ["type": "object"]) { _ in
                        MCPToolResult(content: [.text("3")])
                    }
                ])
            try await ClaudeSDKClient.withConnection(
                options: harness.options { $0.mcpServers = ["calc": .sdk(server)] }
            ) {
                client in
                // The CLI connects SDK servers at the first prompt; mcp_status lists them from then on.
                try await client.query("hi")
                _ = try await collectResponse(client)
                let status = try await client.mcpServerStatus()
                let calc = try #require(status.first { $0.name == "calc" })
                #expect(calc.status == .connected)
                #expect(calc.serverInfo?.name == "calc")
                let usage = try await client.getContextUsage()
                #expect(!usage.categories.isEmpty)
                #expect((usage.totalTokens ?? 0) > 0)
                #expect((usage.maxTokens ?? 0) > 0)
                #expect(usage.categories.contains { $0.tokens > 0 })
            }
        }
    }

    @Test func setMCPServersAddsAndRemovesServers() async throws {
        try await RealCLIHarness.run { harness in
            try await ClaudeSDKClient.withConnection(options: harness.options()) { client in
                let added = try await client.setMCPServers(["ext-wt16": .stdio(command: "/bin/false")])
                #expect(added.added == ["ext-wt16"])
                let status = try await client.mcpServerStatus()
                #expect(status.contains { $0.name == "ext-wt16" && $0.scope == "dynamic" })
                let removed = try await client.setMCPServers([:])
                #expect(removed.removed == ["ext-wt16"])
                #expect(try await client.mcpServerStatus().contains { $0.name == "ext-wt16" } == false)
                await #expect(throws: ClaudeCodeError.self) {
                    _ = try await client.setMCPServers(["x": .sdk(SDKMCPServer(name: "x", tools: []))])
                }
            }
        }
    }

    @Test func reloadPluginsFindsASkillAddedAfterConnecting() async throws {
        try await RealCLIHarness.run { harness in
            try await ClaudeSDKClient.withConnection(options: harness.options()) { client in
                #expect(try client.supportedCommands().contains { $0.name == "late-wt16" } == false)
                let folder = harness.sandbox.workDirectory.appendingPathComponent(".claude/skills/late-wt16")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try "---\nname: late-wt16\ndescription: Added late\n---\nBody.\n"
                    .write(to: folder.appendingPathComponent("SKILL.md"), atomically: true, encoding: .utf8)
                let reloaded = try await client.reloadPlugins()
                #expect(reloaded.commands.contains { $0.name == "late-wt16" })
                #expect(!reloaded.plugins.isEmpty)
            }
        }
    }

    @Test func applyFlagSettingsAndSetMaxThinkingTokensChangeTheNextRequest() async throws {
        try await RealCLIHarness.run { harness in
            try await ClaudeSDKClient.withConnection(options: harness.options()) { client in
                try await client.applyFlagSettings(["model": "claude-sonnet-4-5"])
                let settings = try await client.getSettings()
                #expect(settings.effective["model"] == "claude-sonnet-4-5")
                #expect(settings.appliedModel == "claude-sonnet-4-5")
                try await client.setMaxThinkingTokens(5000)
                try await client.query("hi")
                _ = try await collectResponse(client)
            }
            let request = try await lastTurnRequest(harness.api)
            #expect(request.model == "claude-sonnet-4-5")
            #expect(request.body?["thinking"]?["budget_tokens"] == 5000)
        }
    }

    /// 2.1.331's NotebookEdit refuses a notebook the session has not read ("File has not been read yet");
    /// `seed_read_state` records the file as read, so the same call then changes it. (Edit, Write and a second
    /// Read behave the same with or without a prior read against the fake API, so NotebookEdit is where the
    /// seeded state shows.) The CLI ignores a seed whose `mtime` is older than the file's, which the stale
    /// case shows.
    @Test func seedReadStateLetsNotebookEditChangeAnUnreadNotebook() async throws {
        try await RealCLIHarness.run { harness in
            func notebook(_ name: String) throws -> (path: String, modified: Date) {
                let file = harness.sandbox.workDirectory.appendingPathComponent("\(name).ipynb")
                try #"""
                {"cells": [{"cell_type": "code", "id": "c1", "metadata": {}, "source": ["print(1)\n"], "outputs": [],
                "execution_count": null}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
                """#.write(to: file, atomically: true, encoding: .utf8)
                let modified = try #require(
                    try FileManager.default.attributesOfItem(atPath: file.path)[.modificationDate] as? Date)
                return (file.path, modified)
            }
            let unseeded = try notebook("unseeded")
            let stale = try notebook("stale")
            let seeded = try notebook("seeded")
            try await ClaudeSDKClient.withConnection(
                options: harness.options { $0.permissionMode = .bypassPermissions }
            ) { client in
                func editCell(_ path: String) async throws -> String? {
                    try await client.query(
                        #"use tool NotebookEdit: {"notebook_path": "\#(path)", "cell_id": "c1", "new_source": "print(2)", "edit_mode": "replace"}"#
                    )
                    _ = try await collectResponse(client)
                    return try await lastTurnRequest(harness.api).lastToolResultText
                }
                try await client.seedReadState(path: stale.path, modifiedAt: stale.modified - 10)
                try await client.seedReadState(path: seeded.path, modifiedAt: seeded.modified)
                await #expect(throws: ClaudeCodeError.self) {
                    try await client.seedReadState(path: "", modifiedAt: seeded.modified)
                }

                #expect(try await editCell(unseeded.path)?.contains("File has not been read yet") == true)
                #expect(try await editCell(stale.path)?.contains("File has not been read yet") == true)
                let result = try await editCell(seeded.path)
                #expect(result?.contains("Updated cell c1") == true, "\(result ?? "no tool result")")
            }
            let contents = { (path: String) in (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
            #expect(contents(unseeded.path).contains("print(1)"))
            #expect(contents(stale.path).contains("print(1)"))
            #expect(contents(seeded.path).contains("print(2)"))
        }
    }

    #if os(Linux)
        /// `stop_task` ends a background Bash command: its `sleep` (found in `/proc` by a unique argument) is
        /// gone, and the next request tells the model the task was killed. Without the call the `sleep` runs on
        /// (its 61 s outlast the 20 s wait) and no notification is sent.
        @Test func stopTaskEndsABackgroundBashCommand() async throws {
            try await RealCLIHarness.run { harness in
                let seconds = "61.\(Int.random(in: 100_000...999_999))"
                let marker = "sleep \(seconds)"
                // Whatever happens, nothing this test started runs on.
                defer { for pid in Self.processes(running: marker) { kill(pid, SIGKILL) } }
                try await ClaudeSDKClient.withConnection(
                    options: harness.options { $0.permissionMode = .bypassPermissions }
                ) { client in
                    try await client.query(
                        #"use tool Bash: {"command": "\#(marker)", "description": "bg wt16", "run_in_background": true}"#
                    )
                    let tasks = try await collectResponse(client).compactMap { message -> TaskEvent? in
                        if case .system(let system) = message { return system.task }
                        return nil
                    }
                    let started = try #require(tasks.first { $0.phase == .started })
                    #expect(started.taskType == "local_bash")
                    #expect(
                        try await Self.poll(for: .seconds(20)) { !Self.processes(running: marker).isEmpty },
                        "the background sleep never started")

                    try await client.stopTask(started.taskID)
                    #expect(
                        try await Self.poll(for: .seconds(20)) { Self.processes(running: marker).isEmpty },
                        "the background sleep still runs after stopTask")

                    try await client.query("after the stop")
                    _ = try await collectResponse(client)
                    let texts = Self.strings(in: try await lastTurnRequest(harness.api).body ?? .null)
                    let notice = texts.first { $0.contains("<task-id>\(started.taskID)</task-id>") }
                    #expect(notice?.contains("<status>killed</status>") == true, "\(notice ?? "no task notification")")
                }
            }
        }

        /// The live processes whose command line has `argument` (a shell running it included).
        private static func processes(running argument: String) -> [pid_t] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return names.compactMap { pid_t($0) }.filter { pid in
                guard ProcessTable.isAlive(pid),
                    let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
                else { return false }
                return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\0", with: " ")
                    .contains(argument)
            }
        }

        /// Polls `condition` every 50 ms until it holds or `limit` has passed; whether it held.
        private static func poll(for limit: Duration, _ condition: () -> Bool) async throws -> Bool {
            let deadline = ContinuousClock.now + limit
            while !condition() {
                if ContinuousClock.now >= deadline { return false }
                try await Task.sleep(for: .milliseconds(50))
            }
            return true
        }

        /// Every string in `json`, depth first.
        private static func strings(in json: JSONValue) -> [String] {
            switch json {
            case .string(let text): return [text]
            case .array(let values): return values.flatMap(strings(in:))
            case .object(let members): return members.values.flatMap(strings(in:))
            default: return []
            }
        }
    #endif

    @Test func cancelAsyncMessageWithdrawsAQueuedPrompt() async throws {
        try await RealCLIHarness.run { harness in
            try await ClaudeSDKClient.withConnection(options: harness.options()) { client in
                try await client.query("slow FAKE:slow")
                _ = try await harness.api.waitForRequests(count: 1, timeout: .seconds(30)) { $0.isMessages }
                let queued = UUID().uuidString.lowercased()
                try await client.query(
                    AsyncStream<JSONValue> { continuation in
                        continuation.yield([
                            "type": "user", "uuid": .string(queued),
                            "message": ["role": "user", "content": "queued-wt16"], "parent_tool_use_id": nil,
                            "session_id": "default",
                        ])
                        continuation.finish()
                    })
                try await Task.sleep(for: .milliseconds(300))
                #expect(try await client.cancelAsyncMessage(queued))
                #expect(try await client.cancelAsyncMessage(UUID().uuidString.lowercased()) == false)
                try await client.interrupt()
                _ = try await collectResponse(client)
                try await client.query("next")
                _ = try await collectResponse(client)
            }
            let texts = await harness.api.messageRequests.compactMap(\.lastUserText)
            #expect(!texts.contains { $0.contains("queued-wt16") })
        }
    }

    @Test func aRequestTheCLIDoesNotKnowIsATypedUnsupportedError() async throws {
        try await RealCLIHarness.run { harness in
            try await ClaudeSDKClient.withConnection(options: harness.options()) { client in
                do {
                    _ = try await client.typedControlRequest("supported_commands", timeout: nil)
                    Issue.record("the CLI answered supported_commands")
                } catch let error as ClaudeCodeError {
                    #expect(error.code == .unsupportedByCLI)
                    #expect(error.controlErrorCode == "unsupported_request")
                }
                // The session is still usable.
                #expect(try await client.getSettings().applied["model"] != nil)
            }
        }
    }
}
