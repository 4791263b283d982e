import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeTesting
import Foundation
import Testing

extension CLITranscriptsDifferentialTests {
    typealias T = CLITranscriptsDifferentialTests

    /// One turn's messages.
    static func turn(_ client: ClaudeSDKClient, _ prompt: String) async throws -> ResultMessage {
        try await client.query(prompt)
        var result: ResultMessage?
        for try await message in client.receiveResponse() {
            if case .result(let value) = message { result = value }
        }
        return try #require(result)
    }

    /// Transcripts written by the real CLI 2.1.331 against the fake Messages API: multi-turn,
    /// a tool call, a resumed run and a CLI fork. Every reader agrees with the Python SDK on
    /// them; rename and tag agree too; and the real CLI resumes forks we wrote, with the
    /// whole history.
    @Test("real-CLI transcripts: readers and mutations agree with Python; the CLI resumes our forks")
    func realCLITranscripts() async throws {
        try ReferencePython.requireAvailable()
        let cli = try CLITestEnvironment.locateRealCLI()
        let api = FakeMessagesAPI()
        try await api.start()
        let sandbox: CLITestEnvironment
        do {
            sandbox = try CLITestEnvironment(baseURL: api.baseURL)
        } catch {
            await api.stop()
            throw error
        }
        do {
            try await Self.exerciseRealCLI(api: api, sandbox: sandbox, cli: cli)
            await api.stop()
            sandbox.cleanup()
        } catch {
            await api.stop()
            sandbox.cleanup()
            throw error
        }
    }

    static func exerciseRealCLI(api: FakeMessagesAPI, sandbox: CLITestEnvironment, cli: String) async throws {
        let work = sandbox.workDirectory.path
        func options(_ configure: (inout ClaudeCodeOptions) -> Void = { _ in }) -> ClaudeCodeOptions {
            var options = ClaudeCodeOptions()
            options.cliPath = cli
            options.cwd = work
            options.env = sandbox.environment
            options.shutdownGracePeriod = .seconds(10)
            configure(&options)
            return options
        }

        // 1. A three-turn session with a tool call, then a resumed run that adds a turn.
        let main = try await ClaudeSDKClient.withConnection(options: options()) { client in
            let first = try await turn(client, "first question")
            let tool = try await turn(client, "use tool Bash: echo transcript-tool-output")
            #expect(!tool.isError)
            _ = try await turn(client, "third question")
            return first.sessionID
        }
        let resumed = try await ClaudeSDKClient.withConnection(options: options { $0.resume = main }) { client in
            try await turn(client, "fourth question")
        }
        #expect(resumed.sessionID == main)
        #expect(resumed.result?.hasPrefix("echo: fourth question | user_turns=4") == true)
        // 2. A short second session, and a fork made by the CLI itself.
        let other = try await ClaudeSDKClient.withConnection(options: options()) { client in
            try await turn(client, "another session").sessionID
        }
        let cliFork = try await ClaudeSDKClient.withConnection(
            options: options {
                $0.resume = other
                $0.forkSession = true
            }
        ) { client in
            try await turn(client, "in the CLI's fork").sessionID
        }
        #expect(cliFork != other)

        let config = sandbox.homeDirectory.path + "/.claude"
        let environment = sandbox.environment
        let library = ClaudeSessionLibrary(environment: environment)
        #expect(library.configDirectory == config)
        let mainMessages = try await library.messages(sessionID: main, directory: work)
        #expect(mainMessages.count >= 10, "four prompts, a tool call with its result, and the answers")
        #expect(mainMessages.contains { $0.message.jsonString.contains("transcript-tool-output") })
        let transcript = try await library.transcript(sessionID: main, directory: work)
        #expect(transcript.corruptLineCount == 0)

        // 3. Readers: every field agrees with Python.
        var readers: [Operation] = [T.list(directory: work), T.list(), T.list(directory: work, limit: 1, offset: 1)]
        for id in [main, other, cliFork] {
            readers += [
                T.info(id, directory: work), T.info(id, directory: nil), T.messages(id, directory: work),
                T.messages(id, directory: work, limit: 3, offset: 2), T.subagents(id, directory: work),
            ]
        }
        let oursRead = await runOurs(readers, library: library)
        let pythonRead = try await ReferencePython.run(
            readers.map(\.pythonJSON), configDirectory: config, home: sandbox.homeDirectory.path,
            workDirectory: sandbox.root.path)
        compare(readers, python: pythonRead, ours: oursRead, phase: "real-CLI read")
        #expect(pythonRead.first?["ok"]?.arrayValue?.count == 3, "three sessions in the work directory")
        #expect(pythonRead[5]["ok"]?.arrayValue?.count == mainMessages.count, "Python read the whole main session")

        // 4. Rename and tag on copies: both sides then read the same.
        let pythonConfig = sandbox.root.path + "/config-python"
        let swiftConfig = sandbox.root.path + "/config-swift"
        for copy in [pythonConfig, swiftConfig] { try await Scenario.copyTree(config, to: copy) }
        let mutations = [
            T.rename(main, "Real CLI session ✓", directory: work), T.tag(main, "real-cli", directory: work),
            T.rename(other, "Other", directory: nil), T.tag(other, nil, directory: nil),
            T.afterMutation(T.info(main, directory: work)), T.afterMutation(T.list(directory: work)),
            T.fork(main, directory: work), T.fork(cliFork, directory: work),
        ]
        let oursMutated = await runOurs(
            mutations, library: ClaudeSessionLibrary(configDirectory: swiftConfig, environment: environment))
        let pythonMutated = try await ReferencePython.run(
            mutations.map(\.pythonJSON), configDirectory: pythonConfig, home: sandbox.homeDirectory.path,
            workDirectory: sandbox.root.path)
        compare(mutations, python: pythonMutated, ours: oursMutated, phase: "real-CLI mutate")
        // On linear CLI transcripts our chain-order fork copies exactly what Python's does.
        let folder = "/projects/" + ClaudeSessionLibrary.projectFolderName(for: work) + "/"
        for index in [6, 7] {
            guard case .string(let theirs)? = pythonMutated[index]["ok"]?["session_id"],
                case .string(let mine)? = oursMutated[index]["ok"]?["session_id"]
            else {
                Issue.record("fork #\(index) failed on one side")
                continue
            }
            let theirLines = try Scenario.normalizedFork(pythonConfig + folder + theirs + ".jsonl")
            let myLines = try Scenario.normalizedFork(swiftConfig + folder + mine + ".jsonl")
            #expect(theirLines.count == myLines.count, "fork #\(index): \(theirLines.count) vs \(myLines.count) lines")
            for (line, pair) in zip(theirLines, myLines).enumerated() {
                if let difference = firstDifference(pair.0, pair.1) {
                    Issue.record("real fork #\(index) line \(line): \(difference)")
                }
            }
        }

        // 5. Forks we write are resumed by the real CLI with their whole history.
        try await library.rename(sessionID: main, title: "Real CLI session", directory: work)
        let fullFork = try await library.fork(sessionID: main, directory: work)
        let forkInfo = try await library.sessionInfo(id: fullFork.sessionID, directory: work)
        #expect(forkInfo?.customTitle == "Real CLI session (fork)")
        let forkMessages = try await library.messages(sessionID: fullFork.sessionID, directory: work)
        #expect(forkMessages.map(\.message) == mainMessages.map(\.message))
        let afterFork = try await ClaudeSDKClient.withConnection(options: options { $0.resume = fullFork.sessionID }) {
            client in
            try await turn(client, "after our fork")
        }
        #expect(afterFork.sessionID == fullFork.sessionID)
        #expect(afterFork.result?.hasPrefix("echo: after our fork | user_turns=5") == true, "\(afterFork.result ?? "")")
        let request = try #require(await api.messageRequests.last)
        let sent = JSONValue.array(request.messages).jsonString
        for earlier in ["first question", "transcript-tool-output", "third question", "fourth question"] {
            #expect(sent.contains(earlier), "the resumed fork sent \(earlier)")
        }
        // Python reads our fork, as resumed by the CLI, the same way we do.
        let forkReaders = [
            T.info(fullFork.sessionID, directory: work), T.messages(fullFork.sessionID, directory: work),
        ]
        compare(
            forkReaders,
            python: try await ReferencePython.run(
                forkReaders.map(\.pythonJSON), configDirectory: config, home: sandbox.homeDirectory.path,
                workDirectory: sandbox.root.path),
            ours: await runOurs(forkReaders, library: library), phase: "real-CLI fork read")

        // A fork cut after the first answer: the CLI resumes it with one earlier turn.
        let firstAnswer = try #require(mainMessages.first { $0.type == .assistant })
        let cutFork = try await library.fork(
            sessionID: main, directory: work, upToMessageID: firstAnswer.uuid, title: "Cut fork")
        let afterCut = try await ClaudeSDKClient.withConnection(options: options { $0.resume = cutFork.sessionID }) {
            client in
            try await turn(client, "after the cut")
        }
        #expect(afterCut.result?.hasPrefix("echo: after the cut | user_turns=2") == true, "\(afterCut.result ?? "")")
        let cutRequest = try #require(await api.messageRequests.last)
        let cutSent = JSONValue.array(cutRequest.messages).jsonString
        #expect(cutSent.contains("first question") && !cutSent.contains("third question"))
        #expect(try await library.sessionInfo(id: cutFork.sessionID, directory: work)?.customTitle == "Cut fork")
    }
}
