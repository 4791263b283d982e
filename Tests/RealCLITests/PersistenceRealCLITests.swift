import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeTesting
import Foundation
import Testing

/// `SessionPersistentClient` with the real CLI and the seed's JSON files.
@Suite("SessionPersistentClient with the real CLI", .serialized, .timeLimit(.minutes(3)))
struct PersistenceRealCLITests {
    private func storage(_ harness: RealCLIHarness) -> String {
        harness.sandbox.root.appendingPathComponent("sessions").path
    }

    @Test func simplePersistFlow() async throws {
        try await RealCLIHarness.run { harness in
            let client = SessionPersistentClient(options: harness.options(), storagePath: storage(harness))
            let sessionID = try await client.withConnection { client in
                try await client.query("remember 42")
                for try await _ in client.receiveResponse() {}
                return try #require(client.currentSessionID)
            }
            // The stored id is the CLI's transcript name.
            #expect(FileManager.default.fileExists(atPath: harness.sandbox.transcriptURL(sessionID: sessionID).path))
            let data = try await client.loadSession(sessionID)
            #expect(data.sessionID.rawValue == sessionID)
            #expect(data.workingDirectory == harness.sandbox.workDirectory.path)
            let kinds = data.conversationHistory.map { "\($0.direction == .sent ? ">" : "<")\($0.type)" }
            #expect(kinds.first == ">control_request")
            #expect(kinds.contains(">user"))
            #expect(kinds.contains("<assistant"))
            #expect(kinds.contains("<result"))
            let prompt = try #require(data.conversationHistory.first { $0.direction == .sent && $0.type == "user" })
            #expect(prompt.rawJSONString?.contains("remember 42") == true)
            // The seed's file, private.
            let file = storage(harness) + "/\(sessionID).json"
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            let folder = try FileManager.default.attributesOfItem(atPath: storage(harness))
            #expect((folder[.posixPermissions] as? Int) == 0o700)
            let json = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
            for key in [
                "session_id", "start_time", "last_activity", "conversation_history", "working_directory", "options",
                "schema_version",
            ] {
                #expect(json[key] != nil, "missing \(key)")
            }
            let listed = try await client.listSessions().compactMap(\.summary)
            #expect(listed.map(\.sessionID.rawValue) == [sessionID])
        }
    }

    @Test func multiTurnResumeWithANewClientKeepsContextAndID() async throws {
        try await RealCLIHarness.run { harness in
            let first = SessionPersistentClient(options: harness.options(), storagePath: storage(harness))
            try await first.connect()
            for prompt in ["turn one", "turn two"] {
                try await first.query(prompt)
                for try await _ in first.receiveResponse() {}
            }
            let sessionID = try #require(first.currentSessionID)
            await first.disconnect()

            let second = SessionPersistentClient(options: harness.options(), storagePath: storage(harness))
            try await second.startOrResumeSession(sessionID)
            try await second.connect()
            var answers: [String] = []
            for prompt in ["turn three", "turn four"] {
                try await second.query(prompt)
                for try await message in second.receiveResponse() {
                    if case .result(let result) = message { answers.append(result.result ?? "") }
                }
            }
            #expect(second.currentSessionID == sessionID)
            await second.disconnect()
            // The resumed CLI provably received the earlier turns.
            #expect(answers[0].hasPrefix("echo: turn three | user_turns=3"))
            #expect(answers[1].hasPrefix("echo: turn four | user_turns=4"))
            let data = try await second.loadSession(sessionID)
            let prompts = data.conversationHistory.filter { $0.direction == .sent && $0.type == "user" }
            #expect(prompts.compactMap(\.rawJSONString).map { $0.contains("turn one") } == [true, false, false, false])
            #expect(data.conversationHistory.filter { $0.type == "result" }.count == 4)
        }
    }

    @Test func toolUseAndInterruptedTurnsAreRecordedIntact() async throws {
        try await RealCLIHarness.run { harness in
            let client = SessionPersistentClient(
                options: harness.options { $0.includePartialMessages = true }, storagePath: storage(harness))
            try await client.connect()
            try await client.query("use tool Bash: echo recorded-tool-output")
            var live: [String] = []
            for try await message in client.receiveResponse() { live.append(message.raw.string) }
            try await client.query("now FAKE:slow")
            var deltas = 0
            for try await message in client.receiveResponse() {
                live.append(message.raw.string)
                if case .streamEvent(let event) = message, event.eventType == "content_block_delta" {
                    deltas += 1
                    if deltas == 2 { try await client.interrupt() }
                }
            }
            // The typed control calls are the same on this client as on ClaudeSDKClient (ClaudeControlling).
            let usage = try await client.getContextUsage()
            #expect(usage.categories.isEmpty == false)
            #expect(try client.supportedModels().isEmpty == false)
            let sessionID = try #require(client.currentSessionID)
            await client.disconnect()

            let data = try await client.loadSession(sessionID)
            let received = data.conversationHistory.filter { $0.direction == .received }.compactMap(\.rawJSONString)
            // Every message the consumer saw is in the record, byte for byte.
            for frame in live { #expect(received.contains(frame)) }
            #expect(received.contains { $0.contains("\"tool_use\"") && $0.contains("recorded-tool-output") })
            #expect(received.contains { $0.contains("\"tool_result\"") && $0.contains("recorded-tool-output") })
            #expect(received.contains { $0.contains("[Request interrupted by user]") })
            #expect(received.contains { $0.contains("error_during_execution") })
            let sent = data.conversationHistory.filter { $0.direction == .sent }.compactMap(\.rawJSONString)
            #expect(sent.contains { $0.contains("\"interrupt\"") })
        }
    }

    /// The transcript copy: a session's transcript is in the record store's transcript store, and
    /// a fork gets a record and a transcript of its own while the parent's stay as they were.
    @Test func transcriptsAreCopiedAndAForkGetsItsOwn() async throws {
        try await RealCLIHarness.run { harness in
            let records = FileRecordStore(directory: storage(harness))
            let client = SessionPersistentClient(options: harness.options(), store: records)
            let parent = try await client.withConnection { client in
                try await client.query("parent turn")
                for try await _ in client.receiveResponse() {}
                return try #require(client.currentSessionID)
            }
            let transcripts = try #require(client.transcriptStore)
            #expect(records.transcriptsDirectory == storage(harness) + "/transcripts")
            let projectKey = CLITestEnvironment.sanitizedPath(harness.sandbox.workDirectory.path)
            let parentKey = SessionStoreKey(projectKey: projectKey, sessionID: parent)
            let parentLines = try #require(try await transcripts.load(parentKey))
            #expect(parentLines.contains { $0.type == "user" && $0.raw.string.contains("parent turn") })

            var forkOptions = harness.options()
            forkOptions.forkSession = true
            let forking = SessionPersistentClient(options: forkOptions, store: records)
            try await forking.startOrResumeSession(parent)
            forking.options.forkSession = true
            let fork = try await forking.withConnection { client in
                try await client.query("fork turn")
                for try await _ in client.receiveResponse() {}
                return try #require(client.currentSessionID)
            }
            #expect(fork != parent)
            let forkLines = try #require(
                try await transcripts.load(SessionStoreKey(projectKey: projectKey, sessionID: fork)))
            #expect(forkLines.contains { $0.type == "user" && $0.raw.string.contains("fork turn") })
            // The parent's transcript and record did not take the fork's turn.
            let parentAfter = try #require(try await transcripts.load(parentKey))
            #expect(!parentAfter.contains { $0.raw.string.contains("fork turn") })
            let parentRecord = try await records.loadRecord(try #require(SessionID(rawValue: parent)))
            #expect(!parentRecord.conversationHistory.contains { $0.rawJSONString?.contains("fork turn") == true })
            let forkRecord = try await records.loadRecord(try #require(SessionID(rawValue: fork)))
            #expect(forkRecord.conversationHistory.contains { $0.rawJSONString?.contains("fork turn") == true })

            // With the copy off, nothing is mirrored.
            let plain = SessionPersistentClient(
                options: harness.options(), storagePath: storage(harness) + "-plain", transcripts: .off)
            #expect(plain.transcriptStore == nil)
        }
    }
}
