import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeTesting
import Foundation
import Synchronization
import Testing

/// Permission callbacks, hooks and in-process tools with the real CLI 2.1.331 against the fake Messages API.
@Suite("Callbacks with the real CLI", .serialized, .timeLimit(.minutes(3)))
struct CallbacksRealCLITests {
    /// The text of every tool_result block in the turn, in order.
    private func toolResults(_ messages: [Message]) -> [String] {
        messages.flatMap { message -> [String] in
            guard case .user(let user) = message, case .blocks(let blocks) = user.content else { return [] }
            return blocks.compactMap { block -> String? in
                guard case .toolResult(let result) = block else { return nil }
                return result.text
            }
        }
    }

    @Test func allowWithAnUpdatedInputRunsTheChangedCommand() async throws {
        try await RealCLIHarness.run { harness in
            let work = harness.sandbox.workDirectory.path
            let asked = Mutex<[String]>([])
            let options = harness.options {
                $0.canUseTool = { toolName, input, context in
                    asked.withLock {
                        $0.append("\(toolName) \(context.toolUseID ?? "-") \(context.blockedPath ?? "-")")
                    }
                    let command = input["command"]?.stringValue ?? ""
                    var updated = input.objectValue ?? [:]
                    updated["command"] = .string(command.replacingOccurrences(of: "\(work)/a", with: "\(work)/b"))
                    return .allow(updatedInput: .object(updated))
                }
            }
            try await ClaudeSDKClient.withConnection(options: options) { client in
                try await client.query("use tool Bash: touch \(work)/a")
                let result = try #require(lastResult(try await collectResponse(client)))
                #expect(!result.isError)
                #expect(result.permissionDenials.isEmpty)
            }
            #expect(!FileManager.default.fileExists(atPath: "\(work)/a"))
            #expect(FileManager.default.fileExists(atPath: "\(work)/b"))
            let calls = asked.withLock { $0 }
            #expect(calls.count == 1)
            #expect(calls.first?.hasPrefix("Bash toolu_") == true)
            #expect(calls.first?.hasSuffix("\(work)/a") == true)
        }
    }

    @Test func denyReachesTheModelAndTheResultsPermissionDenials() async throws {
        try await RealCLIHarness.run { harness in
            let work = harness.sandbox.workDirectory.path
            let options = harness.options {
                $0.canUseTool = { toolName, _, _ in .deny(message: "Swift says no to \(toolName)") }
            }
            try await ClaudeSDKClient.withConnection(options: options) { client in
                try await client.query("use tool Bash: touch \(work)/never")
                let messages = try await collectResponse(client)
                let result = try #require(lastResult(messages))
                #expect(toolResults(messages) == ["Swift says no to Bash"])
                #expect(result.result == "tool result: Swift says no to Bash")
                #expect(result.permissionDenials.count == 1)
                #expect(result.permissionDenials.first?["tool_name"] == "Bash")
                #expect(result.permissionDenials.first?["tool_input"]?["command"] == .string("touch \(work)/never"))
            }
            #expect(await harness.api.messageRequests.last?.lastToolResultText == "Swift says no to Bash")
            #expect(!FileManager.default.fileExists(atPath: "\(work)/never"))
        }
    }

    @Test func preToolUseHookThatDeniesBlocksTheCall() async throws {
        try await RealCLIHarness.run { harness in
            let work = harness.sandbox.workDirectory.path
            let hookInputs = Mutex<[HookInput]>([])
            let options = harness.options {
                // Without the hook this mode would run the command.
                $0.permissionMode = .bypassPermissions
                $0.hooks[.preToolUse] = [
                    HookMatcher(matcher: "Bash", timeout: .seconds(30)) { input, _ in
                        hookInputs.withLock { $0.append(input) }
                        return HookOutput(
                            hookSpecificOutput: .preToolUse(
                                permissionDecision: .deny, permissionDecisionReason: "blocked by a Swift hook"))
                    }
                ]
            }
            try await ClaudeSDKClient.withConnection(options: options) { client in
                try await client.query("use tool Bash: touch \(work)/blocked")
                let messages = try await collectResponse(client)
                #expect(toolResults(messages) == ["PreToolUse:Bash hook error: blocked by a Swift hook"])
                #expect(lastResult(messages)?.isError == false)
            }
            #expect(!FileManager.default.fileExists(atPath: "\(work)/blocked"))
            let inputs = hookInputs.withLock { $0 }
            #expect(inputs.count == 1)
            guard case .preToolUse(let call)? = inputs.first?.payload else {
                Issue.record("no typed PreToolUse input")
                return
            }
            #expect(call.toolInput["command"] == .string("touch \(work)/blocked"))
            #expect(inputs.first?.permissionMode == .bypassPermissions)
        }
    }

    @Test func aFailingHookContinuesOrBlocksAsItsMatcherSays() async throws {
        struct HookBroke: Error {}
        try await RealCLIHarness.run { harness in
            let work = harness.sandbox.workDirectory.path
            for policy in [HookFailurePolicy.continue, .block] {
                let options = harness.options {
                    $0.permissionMode = .bypassPermissions
                    $0.hooks[.preToolUse] = [
                        HookMatcher(matcher: "Bash", onFailure: policy) { _, _ in throw HookBroke() }
                    ]
                }
                let file = "\(work)/\(policy.rawValue)"
                try await ClaudeSDKClient.withConnection(options: options) { client in
                    #expect(client.serverInfo?["hook_on_failure_supported"] == true)
                    try await client.query("use tool Bash: touch \(file)")
                    let messages = try await collectResponse(client)
                    #expect(lastResult(messages)?.isError == false)
                    if policy == .block {
                        #expect(
                            toolResults(messages).first?.contains("blocking because onFailure is \"block\"") == true)
                    }
                }
                #expect(FileManager.default.fileExists(atPath: file) == (policy == .continue))
            }
        }
    }

    @Test func aHookThatTimesOutDoesNotHoldTheTurnAndIsCancelled() async throws {
        try await RealCLIHarness.run { harness in
            let work = harness.sandbox.workDirectory.path
            let cancelled = AsyncStream<Void>.makeStream()
            let options = harness.options {
                $0.permissionMode = .bypassPermissions
                $0.hooks[.preToolUse] = [
                    HookMatcher(matcher: "Bash", timeout: .seconds(1)) { _, _ in
                        do {
                            try await Task.sleep(for: .seconds(60))
                        } catch {
                            cancelled.continuation.yield()
                            throw error
                        }
                        return HookOutput()
                    }
                ]
            }
            try await ClaudeSDKClient.withConnection(options: options) { client in
                try await client.query("use tool Bash: touch \(work)/late")
                let messages = try await collectResponse(client)
                // The CLI's own timer: 2.1.331 does not run a tool whose PreToolUse hook timed out.
                #expect(
                    toolResults(messages).first?.hasPrefix("PreToolUse hook did not respond before its timeout") == true
                )
                #expect(lastResult(messages)?.isError == false)
                // The stuck callback is cancelled (by the CLI's control_cancel_request, or 2 s later by the SDK).
                for await _ in cancelled.stream { break }
            }
            #expect(!FileManager.default.fileExists(atPath: "\(work)/late"))
        }
    }

    @Test func postToolUseHookSeesTheOutputAndItsContextReachesTheModel() async throws {
        try await RealCLIHarness.run { harness in
            let outputs = Mutex<[JSONValue]>([])
            let options = harness.options {
                $0.allowedTools = ["Bash"]
                $0.hooks[.postToolUse] = [
                    HookMatcher(matcher: "Bash") { input, _ in
                        guard case .postToolUse(let call) = input.payload else { return HookOutput() }
                        outputs.withLock { $0.append(call.toolResponse) }
                        return HookOutput(hookSpecificOutput: .postToolUse(additionalContext: "swift-hook-context-42"))
                    }
                ]
            }
            try await ClaudeSDKClient.withConnection(options: options) { client in
                try await client.query("use tool Bash: echo hello-from-bash")
                let result = try #require(lastResult(try await collectResponse(client)))
                #expect(!result.isError)
            }
            let seen = outputs.withLock { $0 }
            #expect(seen.count == 1)
            #expect(seen.first?["stdout"]?.stringValue?.contains("hello-from-bash") == true)
            let followUp = try #require(await harness.api.messageRequests.last)
            #expect(followUp.body?.jsonString.contains("swift-hook-context-42") == true)
        }
    }

    struct AddInput: Codable, Sendable {
        var a: Double
        var b: Double
    }

    final class Counter: Sendable {
        private let count = Mutex(0)
        func increment() { count.withLock { $0 += 1 } }
        var value: Int { count.withLock { $0 } }
    }

    private static func calculator(calls: Counter) throws -> SDKMCPServer {
        SDKMCPServer(
            name: "calculator",
            tools: [
                try SDKMCPTool(name: "add", description: "Adds two numbers", input: AddInput.self) { input in
                    calls.increment()
                    return .text("sum is \(input.a + input.b)")
                }
            ])
    }

    @Test func inProcessToolIsConnectedAndItsResultReachesTheModel() async throws {
        try await RealCLIHarness.run { harness in
            let calls = Counter()
            let server = try Self.calculator(calls: calls)
            let options = harness.options {
                $0.mcpServers["calc"] = .sdk(server)
                $0.allowedTools = ["mcp__calc__add"]
            }
            try await ClaudeSDKClient.withConnection(options: options) { client in
                try await client.query(#"use tool mcp__calc__add: {"a": 2, "b": 3}"#)
                let messages = try await collectResponse(client)
                let initMessage = messages.compactMap { message -> SystemInit? in
                    if case .system(let system) = message, case .initialize(let info) = system.kind { return info }
                    return nil
                }.first
                let info = try #require(initMessage)
                #expect(
                    info.mcpServers.contains { $0.name == "calc" && $0.status == "connected" && $0.source == "sdk" })
                #expect(info.tools.contains("mcp__calc__add"))
                #expect(toolResults(messages) == ["sum is 5.0"])
                #expect(lastResult(messages)?.result == "tool result: sum is 5.0")
                let status = try await client.mcpStatus()
                #expect(status["mcpServers"]?[0]?["name"] == "calc")
                #expect(status["mcpServers"]?[0]?["status"] == "connected")
            }
            #expect(calls.value == 1)
        }
    }

    @Test func aSlowPermissionCallbackDoesNotBlockOtherControlTraffic() async throws {
        try await RealCLIHarness.run { harness in
            let work = harness.sandbox.workDirectory.path
            let entered = AsyncStream<Void>.makeStream()
            let release = AsyncStream<Void>.makeStream()
            let options = harness.options {
                $0.canUseTool = { _, _, _ in
                    entered.continuation.yield()
                    for await _ in release.stream { break }
                    return .allow()
                }
            }
            try await ClaudeSDKClient.withConnection(options: options) { client in
                try await client.query("use tool Bash: touch \(work)/late")
                let turn = Task { try await collectResponse(client) }
                for await _ in entered.stream { break }
                // The callback is still waiting; the CLI answers the SDK's requests meanwhile.
                let status = try await client.mcpStatus(timeout: .seconds(20))
                #expect(status["mcpServers"] == [])
                let usage = try await client.contextUsage(timeout: .seconds(20))
                #expect(usage["categories"] != nil)
                #expect(!FileManager.default.fileExists(atPath: "\(work)/late"))
                release.continuation.yield()
                let result = try #require(lastResult(try await turn.value))
                #expect(!result.isError)
            }
            #expect(FileManager.default.fileExists(atPath: "\(work)/late"))
        }
    }

    @Test func aThrowingCallbackDeniesCleanlyAndTheSessionGoesOn() async throws {
        struct PolicyDown: LocalizedError { var errorDescription: String? { "policy service down" } }
        try await RealCLIHarness.run { harness in
            let work = harness.sandbox.workDirectory.path
            let options = harness.options { $0.canUseTool = { _, _, _ in throw PolicyDown() } }
            try await ClaudeSDKClient.withConnection(options: options) { client in
                try await client.query("use tool Bash: touch \(work)/nope")
                let messages = try await collectResponse(client)
                let denial = "The permission callback failed (policy service down), so the Bash call was denied."
                #expect(toolResults(messages) == [denial])
                #expect(lastResult(messages)?.permissionDenials.count == 1)
                try await client.query("still there?")
                let next = try #require(lastResult(try await collectResponse(client)))
                #expect(next.result?.hasPrefix("echo: still there?") == true)
            }
            #expect(!FileManager.default.fileExists(atPath: "\(work)/nope"))
        }
    }

    @Test func callbacksWorkThroughSessionPersistentClientAndOneShotQuery() async throws {
        try await RealCLIHarness.run { harness in
            let calls = Counter()
            let prompts = Mutex<[String]>([])
            let server = try Self.calculator(calls: calls)
            let options = harness.options {
                $0.mcpServers["calc"] = .sdk(server)
                $0.canUseTool = { toolName, _, _ in toolName == "mcp__calc__add" ? .allow() : .deny(message: "no") }
                $0.hooks[.userPromptSubmit] = [
                    HookMatcher { input, _ in
                        if case .userPromptSubmit(let prompt) = input.payload {
                            prompts.withLock { $0.append(prompt.prompt) }
                        }
                        return HookOutput()
                    }
                ]
            }
            let storage = harness.sandbox.root.appendingPathComponent("sessions").path
            try await SessionPersistentClient(options: options, storagePath: storage).withConnection { client in
                try await client.query(#"use tool mcp__calc__add: {"a": 1, "b": 1}"#)
                var last: ResultMessage?
                for try await message in client.receiveResponse() {
                    if case .result(let result) = message { last = result }
                }
                #expect(last?.result == "tool result: sum is 2.0")
            }
            // One-shot query: stdin stays open until the run ends, so the tool call is answered.
            var oneShot: ResultMessage?
            for try await message in query(prompt: #"use tool mcp__calc__add: {"a": 4, "b": 4}"#, options: options) {
                if case .result(let result) = message { oneShot = result }
            }
            #expect(oneShot?.result == "tool result: sum is 8.0")
            #expect(calls.value == 2)
            #expect(prompts.withLock { $0 }.count == 2)
        }
    }
}
