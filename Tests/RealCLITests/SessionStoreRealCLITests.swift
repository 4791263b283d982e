import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeTesting
import Foundation
import Synchronization
import Testing

/// The options each CLI process was started with (to look at a materialized config folder).
final class LaunchLog: Sendable {
    let options = Mutex<[ClaudeCodeOptions]>([])
    let configFolderSnapshot = Mutex<[String: [String]]>([:])

    /// A transport factory that records the options and lists the `CLAUDE_CONFIG_DIR` it gets.
    var factory: TransportFactory {
        { options throws(ClaudeCodeError) in
            self.options.withLock { $0.append(options) }
            if let folder = options.env["CLAUDE_CONFIG_DIR"] {
                let files = (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String]) ?? []
                self.configFolderSnapshot.withLock { $0[folder] = files.sorted() }
            }
            return try SubprocessTransport(options: options)
        }
    }
}

/// Lines of a CLI transcript file, as raw strings.
func transcriptLines(_ url: URL) throws -> [String] {
    try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
}

/// Mirroring to a store and resuming from it, with the real CLI 2.1.331 against the fake Messages API.
@Suite("SessionStore with the real CLI", .serialized, .timeLimit(.minutes(4)))
struct SessionStoreRealCLITests {
    @Test func theStoreHoldsTheCLITranscriptByteForByte() async throws {
        try await RealCLIHarness.run { harness in
            let store = FileSessionStore(directory: harness.sandbox.root.appendingPathComponent("store").path)
            let client = ClaudeSDKClient(
                options: harness.options { $0.permissionMode = .bypassPermissions }, sessionStore: store)
            try await client.connect()
            try await client.query("remember 42")
            let first = try #require(lastResult(try await collectResponse(client)))
            let sessionID = first.sessionID
            let projectKey = CLITestEnvironment.sanitizedPath(harness.sandbox.workDirectory.path)
            let key = SessionStoreKey(projectKey: projectKey, sessionID: sessionID)
            // When the result arrives, the turn is in the store.
            let afterFirst = try #require(try await store.load(key))
            #expect(afterFirst.contains { $0.type == "user" && $0.raw.string.contains("remember 42") })
            #expect(afterFirst.contains { $0.type == "assistant" })
            try await client.query("use tool Bash: echo mirrored-tool-output")
            let messages = try await collectResponse(client)
            #expect(!messages.contains { $0.type == "transcript_mirror" })
            await client.disconnect()

            // Every line the CLI wrote, except its API request records, is in the store: same bytes, same order.
            let disk = try transcriptLines(harness.sandbox.transcriptURL(sessionID: sessionID))
                .filter { !$0.hasPrefix(#"{"type":"api-request"#) }
            let stored = try #require(try await store.load(key)).map(\.raw.string)
            #expect(stored == disk)
            #expect(stored.contains { $0.contains("mirrored-tool-output") && $0.contains("tool_result") })
            #expect(stored.last?.contains(#""type":"cost-state""#) == true)
            let summary = try #require(try await store.listSessionSummaries(projectKey: projectKey).first)
            #expect(summary.sessionID == sessionID)
            #expect(summary.data["first_prompt"] == "remember 42")
            #expect(summary.data["cwd"] == .string(harness.sandbox.workDirectory.path))
        }
    }

    @Test func subagentTranscriptsAreMirroredUnderTheirSubpath() async throws {
        try await RealCLIHarness.run { harness in
            let store = InMemorySessionStore()
            let sessionID = try await ClaudeSDKClient.withSessionStore(
                options: harness.options { $0.permissionMode = .bypassPermissions }, store: store
            ) { client in
                try await client.query(
                    #"use tool Task: {"description":"probe","prompt":"say hi","subagent_type":"general-purpose"}"#)
                var result: ResultMessage?
                // The subagent's completion can start another turn; read until the CLI is idle.
                for try await message in client.receiveResponse() {
                    if case .result(let value) = message { result = value }
                }
                return try #require(result).sessionID
            }
            let projectKey = CLITestEnvironment.sanitizedPath(harness.sandbox.workDirectory.path)
            let subkeys = await store.listSubkeys(projectKey: projectKey, sessionID: sessionID)
            #expect(subkeys.count == 1)
            let subpath = try #require(subkeys.first)
            #expect(subpath.hasPrefix("subagents/agent-"))
            let agent = try #require(
                try await store.load(SessionStoreKey(projectKey: projectKey, sessionID: sessionID, subpath: subpath)))
            #expect(agent.contains { $0.type == "agent_metadata" })
            // The subagent's lines match its file on disk.
            let file = harness.sandbox.transcriptsFolder.appendingPathComponent(sessionID).appendingPathComponent(
                subpath + ".jsonl")
            let disk = try transcriptLines(file).filter { !$0.hasPrefix(#"{"type":"api-request"#) }
            #expect(agent.filter { $0.type != "agent_metadata" }.map(\.raw.string) == disk)
        }
    }

    @Test func aSessionResumesFromTheStoreInAFreshHome() async throws {
        try await RealCLIHarness.run { harness in
            let storePath = harness.sandbox.root.appendingPathComponent("store").path
            let store = FileSessionStore(directory: storePath)
            // Record two turns, with a subagent.
            let sessionID = try await ClaudeSDKClient.withSessionStore(
                options: harness.options { $0.permissionMode = .bypassPermissions }, store: store
            ) { client in
                try await client.query("turn one")
                let first = try #require(lastResult(try await collectResponse(client)))
                try await client.query(
                    #"use tool Task: {"description":"probe","prompt":"say hi","subagent_type":"general-purpose"}"#)
                _ = try await collectResponse(client)
                return first.sessionID
            }
            let projectKey = CLITestEnvironment.sanitizedPath(harness.sandbox.workDirectory.path)
            let subpaths = try await store.listSubkeys(projectKey: projectKey, sessionID: sessionID)
            #expect(subpaths.count == 1)
            let storedBefore = try #require(
                try await store.load(SessionStoreKey(projectKey: projectKey, sessionID: sessionID)))

            // Another machine: the CLI's own files are gone; a new HOME with auth and settings to carry over.
            try FileManager.default.removeItem(at: harness.sandbox.homeDirectory)
            let fresh = try CLITestEnvironment(baseURL: harness.api.baseURL, prefix: "cc-fresh")
            defer { fresh.cleanup() }
            let freshClaude = fresh.homeDirectory.appendingPathComponent(".claude")
            try FileManager.default.createDirectory(at: freshClaude, withIntermediateDirectories: true)
            try Data(
                #"{"claudeAiOauth":{"accessToken":"at-secret","refreshToken":"rt-secret","expiresAt":4102444800000,"scopes":[]}}"#
                    .utf8
            )
            .write(to: freshClaude.appendingPathComponent(".credentials.json"))
            try Data(
                #"{"enabledPlugins":{"p@m":true},"env":{"CLAUDE_CONFIG_DIR":"/nowhere","KEEP":"1"},"permissions":{"allow":["Bash"]}}"#
                    .utf8
            )
            .write(to: freshClaude.appendingPathComponent("settings.json"))
            try Data(#"{"hasCompletedOnboarding":true,"marker":"copied"}"#.utf8)
                .write(to: fresh.homeDirectory.appendingPathComponent(".claude.json"))

            var options = harness.options()
            options.env = fresh.environment
            options.resume = sessionID
            let launches = LaunchLog()
            let client = ClaudeSDKClient(options: options, sessionStore: store, transport: launches.factory)
            try await client.connect()
            let configFolder = try #require(launches.options.withLock { $0.first?.env["CLAUDE_CONFIG_DIR"] })
            #expect(launches.options.withLock { $0.first?.resume } == sessionID)
            #expect(launches.options.withLock { $0.first?.sessionMirror } == true)
            // While the CLI runs: the transcript, the subagent, auth without the refresh token, scrubbed settings.
            let files = launches.configFolderSnapshot.withLock { $0[configFolder] } ?? []
            #expect(files.contains("projects/\(projectKey)/\(sessionID).jsonl"))
            #expect(files.contains("projects/\(projectKey)/\(sessionID)/\(subpaths[0]).jsonl"))
            #expect(files.contains("projects/\(projectKey)/\(sessionID)/\(subpaths[0]).meta.json"))
            let credentials = try String(contentsOfFile: configFolder + "/.credentials.json", encoding: .utf8)
            #expect(credentials.contains("at-secret"))
            #expect(!credentials.contains("refreshToken") && !credentials.contains("rt-secret"))
            let settings = try JSONValue.parse(
                Array(try Data(contentsOf: URL(fileURLWithPath: configFolder + "/settings.json"))))
            #expect(settings["enabledPlugins"] == nil)
            #expect(settings["env"] == ["KEEP": "1"])
            #expect(settings["permissions"] != nil)
            #expect(try String(contentsOfFile: configFolder + "/.claude.json", encoding: .utf8).contains("copied"))
            let attributes = try FileManager.default.attributesOfItem(atPath: configFolder)
            #expect((attributes[.posixPermissions] as? Int) == 0o700)

            try await client.query("turn three")
            let resumed = try #require(lastResult(try await collectResponse(client)))
            await client.disconnect()
            // The full context reached the model: this is its third user turn.
            #expect(resumed.sessionID == sessionID)
            #expect(resumed.result?.hasPrefix("echo: turn three | user_turns=3") == true)
            // The temporary folder is gone; the new turn was mirrored into the same key, nothing twice.
            #expect(!FileManager.default.fileExists(atPath: configFolder))
            let storedAfter = try #require(
                try await store.load(SessionStoreKey(projectKey: projectKey, sessionID: sessionID)))
            #expect(Array(storedAfter.prefix(storedBefore.count)).map(\.raw) == storedBefore.map(\.raw))
            #expect(storedAfter.contains { $0.type == "user" && $0.raw.string.contains("turn three") })
            let uuids = storedAfter.compactMap(\.uuid)
            #expect(uuids.count == Set(uuids).count)

            // Continue picks the most recent session from the store, again from scratch.
            var continueOptions = harness.options()
            continueOptions.env = fresh.environment
            continueOptions.continueConversation = true
            let continued = try await ClaudeSDKClient.withSessionStore(options: continueOptions, store: store) {
                client in
                try await client.query("turn four")
                return try #require(lastResult(try await collectResponse(client)))
            }
            #expect(continued.sessionID == sessionID)
            #expect(continued.result?.hasPrefix("echo: turn four | user_turns=4") == true)
            #expect(
                !FileManager.default.fileExists(
                    atPath: fresh.homeDirectory.appendingPathComponent(".claude/projects").path))
        }
    }

    @Test func aSessionImportedFromDiskResumesFromTheStore() async throws {
        try await RealCLIHarness.run { harness in
            // A session recorded the usual way, without a store.
            let sessionID = try await ClaudeSDKClient.withConnection(options: harness.options()) { client in
                try await client.query("imported turn")
                return try #require(lastResult(try await collectResponse(client))).sessionID
            }
            let store = FileSessionStore(directory: harness.sandbox.root.appendingPathComponent("store").path)
            let result = try await importSession(
                sessionID, into: store, directory: harness.sandbox.workDirectory.path,
                configDirectory: harness.sandbox.homeDirectory.appendingPathComponent(".claude").path, batchSize: 4)
            let disk = try transcriptLines(harness.sandbox.transcriptURL(sessionID: sessionID))
            #expect(result.entryCount == disk.count)
            #expect(try await store.load(result.key)?.map(\.raw.string) == disk)
            let summary = try #require(try await store.listSessionSummaries(projectKey: result.key.projectKey).first)
            #expect(summary.data["first_prompt"] == "imported turn")

            try FileManager.default.removeItem(at: harness.sandbox.homeDirectory)
            let fresh = try CLITestEnvironment(baseURL: harness.api.baseURL, prefix: "cc-fresh")
            defer { fresh.cleanup() }
            var options = harness.options()
            options.env = fresh.environment
            options.resume = sessionID
            let resumed = try await ClaudeSDKClient.withSessionStore(options: options, store: store) { client in
                try await client.query("after import")
                return try #require(lastResult(try await collectResponse(client)))
            }
            #expect(resumed.result?.hasPrefix("echo: after import | user_turns=2") == true)
        }
    }

    /// A session that began without a store and continues with one: its local transcript is imported
    /// first, so a later resume from the store elsewhere sees every turn, not only the mirrored ones.
    @Test func aSessionBegunWithoutTheStoreIsImportedWhenItContinuesWithIt() async throws {
        try await RealCLIHarness.run { harness in
            let sessionID = try await ClaudeSDKClient.withConnection(options: harness.options()) { client in
                var id = ""
                for prompt in ["plain one", "plain two"] {
                    try await client.query(prompt)
                    id = try #require(lastResult(try await collectResponse(client))).sessionID
                }
                return id
            }
            let store = FileSessionStore(directory: harness.sandbox.root.appendingPathComponent("store").path)
            let launches = LaunchLog()
            let client = ClaudeSDKClient(
                options: harness.options { $0.resume = sessionID }, sessionStore: store, transport: launches.factory)
            try await client.connect()
            // The CLI's own file is complete: it resumes from disk, not from a temporary folder.
            #expect(launches.options.withLock { $0.first?.env["CLAUDE_CONFIG_DIR"] } == nil)
            try await client.query("mirrored three")
            let third = try #require(lastResult(try await collectResponse(client)))
            await client.disconnect()
            #expect(third.result?.hasPrefix("echo: mirrored three | user_turns=3") == true)
            let key = SessionStoreKey(
                projectKey: CLITestEnvironment.sanitizedPath(harness.sandbox.workDirectory.path), sessionID: sessionID)
            let stored = try #require(try await store.load(key))
            let disk = try transcriptLines(harness.sandbox.transcriptURL(sessionID: sessionID))
            let storedUUIDs = stored.compactMap(\.uuid)
            #expect(storedUUIDs.count == Set(storedUUIDs).count)
            for prompt in ["plain one", "plain two", "mirrored three"] {
                #expect(stored.contains { $0.type == "user" && $0.raw.string.contains(prompt) }, "\(prompt)")
            }
            #expect(
                Set(storedUUIDs).isSuperset(
                    of: disk.compactMap { try? JSONValue.parse(Array($0.utf8))["uuid"]?.stringValue }))

            // Elsewhere, with nothing of the CLI's: all three turns come back from the store.
            try FileManager.default.removeItem(at: harness.sandbox.homeDirectory)
            let fresh = try CLITestEnvironment(baseURL: harness.api.baseURL, prefix: "cc-fresh")
            defer { fresh.cleanup() }
            var options = harness.options()
            options.env = fresh.environment
            options.resume = sessionID
            let fourth = try await ClaudeSDKClient.withSessionStore(options: options, store: store) { client in
                try await client.query("from the store")
                return try #require(lastResult(try await collectResponse(client)))
            }
            #expect(fourth.result?.hasPrefix("echo: from the store | user_turns=4") == true)
        }
    }

    @Test func anUnknownSessionGoesToTheCLIUnchangedAndTheTemporaryFolderIsNeverMade() async throws {
        try await RealCLIHarness.run { harness in
            let store = InMemorySessionStore()
            let launches = LaunchLog()
            let unknown = "00000000-0000-4000-8000-000000000000"
            let client = ClaudeSDKClient(
                options: harness.options { $0.resume = unknown }, sessionStore: store, transport: launches.factory)
            await #expect(throws: ClaudeCodeError.self) { try await client.connect() }
            #expect(launches.options.withLock { $0.first?.resume } == unknown)
            #expect(launches.options.withLock { $0.first?.env["CLAUDE_CONFIG_DIR"] } == nil)
        }
    }
}

extension ClaudeSDKClient {
    /// Connects a store-mirrored client, runs `body`, and disconnects.
    static func withSessionStore<T: Sendable>(
        options: ClaudeCodeOptions, store: any SessionStore, _ body: (ClaudeSDKClient) async throws -> T
    ) async throws -> T {
        let client = ClaudeSDKClient(options: options, sessionStore: store)
        try await client.connect()
        do {
            let value = try await body(client)
            await client.disconnect()
            return value
        } catch {
            await client.disconnect()
            throw error
        }
    }
}
