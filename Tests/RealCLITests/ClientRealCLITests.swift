import ClaudeCode
import ClaudeCodeTesting
import Foundation
import Testing

/// `ClaudeSDKClient` and `query()` driving the real CLI 2.1.331 against the fake Messages API.
@Suite("ClaudeSDKClient with the real CLI", .serialized, .timeLimit(.minutes(3)))
struct ClientRealCLITests {
    @Test func oneShotQuery() async throws {
        try await RealCLIHarness.run { harness in
            var types: [String] = []
            var result: ResultMessage?
            for try await message in query(prompt: "hello there", options: harness.options()) {
                types.append(message.type)
                if case .result(let value) = message { result = value }
            }
            #expect(types.contains("system"))
            #expect(types.contains("assistant"))
            let final = try #require(result)
            #expect(!final.isError)
            #expect(final.result?.hasPrefix("echo: hello there | user_turns=1") == true)
            // The session id names the CLI's transcript file.
            #expect(
                FileManager.default.fileExists(atPath: harness.sandbox.transcriptURL(sessionID: final.sessionID).path))
        }
    }

    @Test func multiTurnResumeContinueAndFork() async throws {
        try await RealCLIHarness.run { harness in
            // Two turns in one process: the second request carries the first.
            let sessionID = try await ClaudeSDKClient.withConnection(options: harness.options()) { client in
                try await client.query("first")
                let first = try #require(lastResult(try await collectResponse(client)))
                #expect(first.result?.hasPrefix("echo: first | user_turns=1") == true)
                try await client.query("second")
                let second = try #require(lastResult(try await collectResponse(client)))
                #expect(second.result?.hasPrefix("echo: second | user_turns=2") == true)
                #expect(second.sessionID == first.sessionID)
                return first.sessionID
            }
            #expect(FileManager.default.fileExists(atPath: harness.sandbox.transcriptURL(sessionID: sessionID).path))

            // Resume in a second process: same id, the earlier turns are sent again.
            let resumed = try await ClaudeSDKClient.withConnection(options: harness.options { $0.resume = sessionID }) {
                client in
                try await client.query("third")
                return try #require(lastResult(try await collectResponse(client)))
            }
            #expect(resumed.sessionID == sessionID)
            #expect(resumed.result?.hasPrefix("echo: third | user_turns=3") == true)

            // Continue picks the most recent session in the cwd.
            let continued = try await ClaudeSDKClient.withConnection(
                options: harness.options { $0.continueConversation = true }
            ) { client in
                try await client.query("fourth")
                return try #require(lastResult(try await collectResponse(client)))
            }
            #expect(continued.sessionID == sessionID)
            #expect(continued.result?.hasPrefix("echo: fourth | user_turns=4") == true)

            // Fork: a new id with the full history.
            let forked = try await ClaudeSDKClient.withConnection(
                options: harness.options {
                    $0.resume = sessionID
                    $0.forkSession = true
                }
            ) { client in
                try await client.query("fifth")
                return try #require(lastResult(try await collectResponse(client)))
            }
            #expect(forked.sessionID != sessionID)
            #expect(forked.result?.hasPrefix("echo: fifth | user_turns=5") == true)
            #expect(
                FileManager.default.fileExists(atPath: harness.sandbox.transcriptURL(sessionID: forked.sessionID).path))
        }
    }

    @Test func interruptMidStreamLeavesTheSessionUsable() async throws {
        try await RealCLIHarness.run { harness in
            let client = ClaudeSDKClient(options: harness.options { $0.includePartialMessages = true })
            try await client.connect()
            try await client.query("please FAKE:slow")
            var deltas = 0
            var interrupted: ResultMessage?
            var sawMarker = false
            for try await message in client.receiveResponse() {
                if case .streamEvent(let event) = message, event.eventType == "content_block_delta" {
                    deltas += 1
                    if deltas == 2 { try await client.interrupt() }
                }
                if case .user(let user) = message, user.isInterruptMarker { sawMarker = true }
                if case .result(let result) = message { interrupted = result }
            }
            let result = try #require(interrupted)
            #expect(result.subtype == "error_during_execution")
            #expect(result.isError)
            #expect(sawMarker)
            #expect(deltas >= 2)
            try await client.query("after the interrupt")
            let next = try #require(lastResult(try await collectResponse(client)))
            #expect(!next.isError)
            #expect(next.result?.hasPrefix("echo: after the interrupt") == true)
            await client.disconnect()
        }
    }

    @Test func partialMessagesSetModelAndPermissionMode() async throws {
        try await RealCLIHarness.run { harness in
            try await ClaudeSDKClient.withConnection(options: harness.options { $0.includePartialMessages = true }) {
                client in
                try await client.query("stream me")
                let messages = try await collectResponse(client)
                let events = messages.compactMap { message -> String? in
                    if case .streamEvent(let event) = message { return event.eventType }
                    return nil
                }
                #expect(events.first == "message_start")
                #expect(events.contains("content_block_delta"))
                #expect(events.contains("message_stop"))

                try await client.setModel("claude-sonnet-4-5")
                try await client.setPermissionMode(.acceptEdits)
                try await client.query("which model")
                _ = try await collectResponse(client)
                let lastRequest = try #require(await harness.api.messageRequests.last)
                #expect(lastRequest.model == "claude-sonnet-4-5")
                let status = try await client.mcpStatus()
                #expect(status["mcpServers"] == [])
                #expect(client.serverInfo?["claude_code_version"] == "2.1.331")
            }
        }
    }

    @Test func apiErrorArrivesAsAnErrorResult() async throws {
        try await RealCLIHarness.run { harness in
            try await ClaudeSDKClient.withConnection(options: harness.options()) { client in
                try await client.query("break FAKE:500")
                let messages = try await collectResponse(client)
                let result = try #require(lastResult(messages))
                #expect(result.subtype == "success")
                #expect(result.isError)
                #expect(result.apiErrorStatus == 500)
                #expect(
                    messages.contains {
                        if case .assistant(let message) = $0 { return message.error == "server_error" }
                        return false
                    })
                // The process lives on.
                try await client.query("recovered")
                let recoveredMessages = try await collectResponse(client)
                let recovered = lastResult(recoveredMessages)
                #expect(recovered?.isError == false, "\(String(describing: recovered?.result))")
            }
        }
    }

    @Test func unknownResumeIDFailsFastWithATypedError() async throws {
        try await RealCLIHarness.run { harness in
            let start = ContinuousClock.now
            let client = ClaudeSDKClient(
                options: harness.options { $0.resume = "00000000-0000-4000-8000-000000000000" })
            do {
                try await client.connect()
                Issue.record("expected connect to fail")
            } catch let error as ClaudeCodeError {
                #expect(error.code == .processExited)
                #expect(error.exitStatus == .exited(1))
                #expect(error.resultErrors.contains { $0.contains("No conversation found") })
            }
            #expect(ContinuousClock.now - start < .seconds(30))
            #expect(!client.isConnected)
        }
    }

    @Test func missingOrBrokenCLIIsATypedError() async throws {
        var options = ClaudeCodeOptions()
        options.cliPath = "/nonexistent/claude"
        do {
            try await ClaudeSDKClient(options: options).connect()
            Issue.record("expected cliNotFound")
        } catch {
            #expect(error.code == .cliNotFound)
        }
    }
}
