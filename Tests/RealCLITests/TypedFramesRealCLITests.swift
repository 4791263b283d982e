import ClaudeCode
import ClaudeCodeTesting
import Foundation
import Testing

/// Frames the SDK types since issue 16, as the real CLI 2.1.331 sends them: task frames, conversation_reset,
/// an assistant message's usage, and subagent text forwarded with `forwardSubagentText`.
@Suite("Typed frames with the real CLI", .serialized, .timeLimit(.minutes(3)))
struct TypedFramesRealCLITests {
    private static let subagentPrompt =
        #"use tool Task: {"description": "sub wt16", "prompt": "SUBPROMPT-77", "subagent_type": "general-purpose", "run_in_background": false}"#

    @Test func taskFramesAreTyped() async throws {
        try await RealCLIHarness.run { harness in
            try await ClaudeSDKClient.withConnection(
                options: harness.options { $0.permissionMode = .bypassPermissions }
            ) {
                client in
                try await client.query(Self.subagentPrompt)
                let tasks = try await collectResponse(client).compactMap { message -> TaskEvent? in
                    if case .system(let system) = message { return system.task }
                    return nil
                }
                let started = try #require(tasks.first { $0.phase == .started })
                #expect(!started.taskID.isEmpty)
                #expect(started.description == "sub wt16")
                #expect(started.taskType == "local_agent")
                #expect(started.toolUseID != nil)
                let done = try #require(tasks.first { $0.phase == .notification })
                #expect(done.taskID == started.taskID)
                #expect(done.status == .completed)
                #expect(done.status?.isTerminal == true)
                #expect(tasks.contains { $0.phase == .updated && $0.patch != nil })
            }
        }
    }

    @Test func forwardSubagentTextDeliversTheSubagentsAnswer() async throws {
        try await RealCLIHarness.run { harness in
            for forward in [false, true] {
                let options = harness.options {
                    $0.permissionMode = .bypassPermissions
                    $0.forwardSubagentText = forward
                }
                try await ClaudeSDKClient.withConnection(options: options) { client in
                    try await client.query(Self.subagentPrompt)
                    let forwarded = try await collectResponse(client).contains { message in
                        guard case .assistant(let assistant) = message else { return false }
                        return assistant.parentToolUseID != nil && assistant.text.contains("echo: SUBPROMPT-77")
                    }
                    #expect(forwarded == forward)
                }
            }
        }
    }

    @Test func clearArrivesAsATypedConversationReset() async throws {
        try await RealCLIHarness.run { harness in
            try await ClaudeSDKClient.withConnection(options: harness.options()) { client in
                try await client.query("hello")
                let first = try await collectResponse(client)
                let usage = first.compactMap { message -> Usage? in
                    if case .assistant(let assistant) = message { return assistant.typedUsage }
                    return nil
                }
                #expect(usage.contains { $0.inputTokens > 0 })
                let oldSession = try #require(lastResult(first)?.sessionID)
                try await client.query("/clear")
                let resets = try await collectResponse(client).compactMap { message -> ConversationResetMessage? in
                    if case .conversationReset(let reset) = message { return reset }
                    return nil
                }
                let reset = try #require(resets.first)
                #expect(reset.sessionID == oldSession)
                #expect(reset.newConversationID != nil)
                #expect(reset.trigger == "clear")
            }
        }
    }

    @Test func verbatimPromptsSendSlashTextToTheModel() async throws {
        try await RealCLIHarness.run { harness in
            try await ClaudeSDKClient.withConnection(options: harness.options { $0.verbatimPrompts = true }) { client in
                try await client.query("/clear")
                let messages = try await collectResponse(client)
                #expect(!messages.contains { if case .conversationReset = $0 { return true } else { return false } })
                #expect(lastResult(messages)?.result?.hasPrefix("echo: /clear") == true)
            }
            #expect(await harness.api.messageRequests.last?.lastUserText == "/clear")
        }
    }
}
