import ClaudeCode
import ClaudeCodeTesting
import Foundation
import Synchronization
import Testing

@testable import ClaudeCodeSessions

/// A store that records calls and can fail or hang on demand.
final class ScriptedStore: SessionCatalog {
    struct State {
        var appends: [(key: SessionStoreKey, count: Int)] = []
        var attempts = 0
        var failuresLeft = 0
        var hang = false
        var hung: [CheckedContinuation<Void, Never>] = []
    }
    let inner = InMemorySessionStore()
    let state = Mutex(State())
    let events: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation

    /// The code of the scripted failures.
    let failureCode: SessionStoreError.Code

    init(failures: Int = 0, hang: Bool = false, failureCode: SessionStoreError.Code = .backendFailure) {
        self.failureCode = failureCode
        state.withLock {
            $0.failuresLeft = failures
            $0.hang = hang
        }
        (events, continuation) = AsyncStream.makeStream()
    }

    var appends: [(key: SessionStoreKey, count: Int)] { state.withLock { $0.appends } }
    var attempts: Int { state.withLock { $0.attempts } }

    /// Lets hung appends finish (they then fail).
    func release() {
        let hung = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.hang = false
            defer { state.hung = [] }
            return state.hung
        }
        for continuation in hung { continuation.resume() }
    }

    func waitFor(_ event: String) async {
        for await seen in events where seen == event { return }
    }

    func append(_ entries: [SessionStoreEntry], to key: SessionStoreKey) async throws(SessionStoreError) {
        let (fail, hang) = state.withLock { state -> (Bool, Bool) in
            state.attempts += 1
            if state.failuresLeft > 0 {
                state.failuresLeft -= 1
                return (true, false)
            }
            return (false, state.hang)
        }
        if hang {
            await withCheckedContinuation { continuation in
                state.withLock { $0.hung.append(continuation) }
                self.continuation.yield("hanging")
            }
            throw SessionStoreError(.backendFailure, reason: "released", key: key)
        }
        if fail {
            continuation.yield("failed")
            throw SessionStoreError(failureCode, reason: "connection refused", key: key)
        }
        try await inner.append(entries, to: key)
        state.withLock { $0.appends.append((key, entries.count)) }
        continuation.yield("appended \(key)")
    }
    func load(_ key: SessionStoreKey) async throws(SessionStoreError) -> [SessionStoreEntry]? {
        try await inner.load(key)
    }
    func listSessions(projectKey: String) async throws(SessionStoreError) -> [SessionStoreListing] {
        await inner.listSessions(projectKey: projectKey)
    }
    func listSessionSummaries(projectKey: String) async throws(SessionStoreError) -> [SessionStoreSummary] {
        await inner.listSessionSummaries(projectKey: projectKey)
    }
    func delete(_ key: SessionStoreKey) async throws(SessionStoreError) { try await inner.delete(key) }
    func listSubkeys(projectKey: String, sessionID: String) async throws(SessionStoreError) -> [String] {
        await inner.listSubkeys(projectKey: projectKey, sessionID: sessionID)
    }
}

final class SeenOptions: Sendable {
    let value = Mutex<ClaudeCodeOptions?>(nil)
}

enum MirrorFrames {
    static let session = "465172ef-4ebe-4852-a1ca-3da73101f380"
    static let main = "/h/.claude/projects/-w/\(session).jsonl"
    static let agent = "/h/.claude/projects/-w/\(session)/subagents/agent-a1.jsonl"
    static let mainKey = SessionStoreKey(projectKey: "-w", sessionID: session)
    static let agentKey = SessionStoreKey(projectKey: "-w", sessionID: session, subpath: "subagents/agent-a1")

    static func line(_ n: Int, type: String = "user") -> String {
        #"{"parentUuid":null,"isSidechain":false,"type":"\#(type)","uuid":"u-\#(n)","timestamp":"2026-11-24T17:07:49.922Z","message":{"role":"user","content":"prompt \#(n) é🚀"},"sessionId":"\#(session)"}"#
    }

    static func frame(_ path: String, _ lines: [String]) -> String {
        #"{"type":"transcript_mirror","filePath":"\#(path)","entries":[\#(lines.joined(separator: ","))]}"#
    }

    static let assistant =
        #"{"type":"assistant","message":{"content":[{"type":"text","text":"hi"}],"model":"m"},"session_id":"s1"}"#
    static let result =
        #"{"type":"result","subtype":"success","is_error":false,"num_turns":1,"session_id":"s1","duration_ms":1,"duration_api_ms":1,"result":"ok"}"#
}

@Suite("TranscriptMirror over a scripted CLI", .timeLimit(.minutes(1)))
struct TranscriptMirrorTests {
    typealias F = MirrorFrames

    func options() -> ClaudeCodeOptions {
        var options = ClaudeCodeOptions()
        options.env = ["HOME": "/h"]
        return options
    }

    func connected(
        _ store: any SessionStore, _ configuration: SessionStoreConfiguration = SessionStoreConfiguration(),
        options: ClaudeCodeOptions? = nil
    ) async throws -> (ClaudeSDKClient, ScriptedTransport, SeenOptions) {
        let transport = ScriptedTransport()
        let seen = SeenOptions()
        let client = ClaudeSDKClient(
            options: options ?? self.options(), sessionStore: store, configuration: configuration,
            transport: { options in
                seen.value.withLock { $0 = options }
                return transport
            })
        async let connecting: Void = client.connect()
        transport.respond(to: try #require(await transport.nextWritten()), with: [:])
        try await connecting
        return (client, transport, seen)
    }

    func turn(_ client: ClaudeSDKClient, _ transport: ScriptedTransport, _ lines: [String]) async throws -> [Message] {
        try await client.query("go")
        _ = await transport.nextWritten()
        for line in lines { transport.emit(line) }
        var messages: [Message] = []
        for try await message in client.receiveResponse() { messages.append(message) }
        return messages
    }

    static func mirrorErrors(_ messages: [Message]) -> [(error: String, key: JSONValue?)] {
        messages.compactMap { message in
            guard case .system(let system) = message, case .mirrorError(let error, let key) = system.kind else {
                return nil
            }
            return (error, key)
        }
    }

    @Test func batchedModeAppendsEachTranscriptOnceBeforeTheResult() async throws {
        let store = ScriptedStore()
        let (client, transport, seen) = try await connected(store)
        #expect(seen.value.withLock { $0?.sessionMirror } == true)
        let messages = try await turn(
            client, transport,
            [
                F.frame(F.main, [F.line(1), F.line(2)]), F.assistant,
                F.frame(F.agent, [F.line(10, type: "agent_metadata")]),
                F.frame(F.main, [F.line(3)]), F.frame(F.agent, [F.line(11)]), F.result,
            ])
        #expect(messages.map(\.type) == ["assistant", "result"])
        // When the result arrives the store has the turn: one append per transcript.
        #expect(store.appends.map(\.key) == [F.mainKey, F.agentKey])
        #expect(store.appends.map(\.count) == [3, 2])
        let main = try #require(try await store.load(F.mainKey))
        #expect(main.map(\.raw.string) == [F.line(1), F.line(2), F.line(3)])
        #expect(try await store.load(F.agentKey)?.map(\.uuid) == ["u-10", "u-11"])
        // What the CLI mirrors after the result reaches the store when the connection ends.
        transport.emit(F.frame(F.main, [F.line(4, type: "cost-state")]))
        await client.disconnect()
        #expect(try await store.load(F.mainKey)?.count == 4)
    }

    @Test func eagerModeAppendsEachFrameWithoutWaitingForAResult() async throws {
        let store = ScriptedStore()
        let (client, transport, _) = try await connected(store, SessionStoreConfiguration(flushMode: .eager))
        try await client.query("go")
        _ = await transport.nextWritten()
        transport.emit(F.frame(F.main, [F.line(1)]))
        await store.waitFor("appended \(F.mainKey)")
        transport.emit(F.frame(F.agent, [F.line(2)]))
        await store.waitFor("appended \(F.agentKey)")
        #expect(store.appends.map(\.count) == [1, 1])
        await client.disconnect()
    }

    @Test func batchedModeDrainsInTheBackgroundPastTheThresholdsInOrder() async throws {
        let store = ScriptedStore()
        let (client, transport, _) = try await connected(store, SessionStoreConfiguration(maxPendingEntries: 3))
        try await client.query("go")
        _ = await transport.nextWritten()
        for n in 0..<40 { transport.emit(F.frame(F.main, [F.line(n)])) }
        // No result yet: the thresholds alone made appends happen.
        await store.waitFor("appended \(F.mainKey)")
        transport.emit(F.result)
        for try await _ in client.receiveResponse() {}
        #expect(try await store.load(F.mainKey)?.map(\.uuid) == (0..<40).map { "u-\($0)" })
        #expect(store.appends.count > 1)
        await client.disconnect()
    }

    @Test func transientFailuresAreRetried() async throws {
        let store = ScriptedStore(failures: 2)
        let failures = Mutex<[TranscriptMirrorFailure]>([])
        let configuration = SessionStoreConfiguration(
            retryDelays: [.milliseconds(1), .milliseconds(1)],
            onFailure: { failure in failures.withLock { $0.append(failure) } })
        let (client, transport, _) = try await connected(store, configuration)
        let messages = try await turn(client, transport, [F.frame(F.main, [F.line(1)]), F.result])
        #expect(Self.mirrorErrors(messages).isEmpty)
        #expect(store.attempts == 3)
        #expect(try await store.load(F.mainKey)?.count == 1)
        #expect(failures.withLock { $0 }.isEmpty)
        await client.disconnect()
    }

    @Test func aBatchThatKeepsFailingIsReportedBeforeTheResultAndTheSessionGoesOn() async throws {
        let store = ScriptedStore(failures: 3)
        let failures = Mutex<[TranscriptMirrorFailure]>([])
        let configuration = SessionStoreConfiguration(
            retryDelays: [.milliseconds(1), .milliseconds(1)],
            onFailure: { failure in failures.withLock { $0.append(failure) } })
        let (client, transport, _) = try await connected(store, configuration)
        let messages = try await turn(
            client, transport, [F.frame(F.main, [F.line(1), F.line(2)]), F.assistant, F.result])
        #expect(messages.map(\.type) == ["assistant", "system", "result"])
        let reported = Self.mirrorErrors(messages)
        #expect(reported.count == 1)
        #expect(reported.first?.key == ["project_key": "-w", "session_id": .string(F.session)])
        #expect(reported.first?.error.contains("after 3 attempts") == true)
        #expect(reported.first?.error.contains("backendFailure") == true)
        guard case .system(let system) = messages[1] else { Issue.record("not a system message"); return }
        #expect(system.data["entry_uuids"] == ["u-1", "u-2"])
        #expect(system.data["session_id"] == .string(F.session))
        #expect(store.attempts == 3)
        #expect(failures.withLock { $0 }.map(\.entryCount) == [2])
        #expect(failures.withLock { $0 }.first?.error?.code == .backendFailure)
        // The next turn is mirrored normally.
        let next = try await turn(client, transport, [F.frame(F.main, [F.line(3)]), F.result])
        #expect(Self.mirrorErrors(next).isEmpty)
        #expect(try await store.load(F.mainKey)?.map(\.uuid) == ["u-3"])
        await client.disconnect()
    }

    @Test func anUnavailableStoreIsReportedAtOnceEachTurnWithoutRetriesAndTheMirrorRecovers() async throws {
        // Retrying would hold each result for 30 s (past the suite's time limit).
        let store = ScriptedStore(failures: 2, failureCode: .backendUnavailable)
        let failures = Mutex<[TranscriptMirrorFailure]>([])
        let configuration = SessionStoreConfiguration(
            retryDelays: [.seconds(30), .seconds(30)],
            onFailure: { failure in failures.withLock { $0.append(failure) } })
        let (client, transport, _) = try await connected(store, configuration)
        for n in 1...2 {
            let messages = try await turn(client, transport, [F.frame(F.main, [F.line(n)]), F.result])
            let reported = Self.mirrorErrors(messages)
            #expect(reported.count == 1, "turn \(n)")
            #expect(reported.first?.error.contains("unavailable") == true, "turn \(n)")
            #expect(store.attempts == n, "one attempt per turn")
        }
        #expect(failures.withLock { $0 }.map(\.error?.code) == [.backendUnavailable, .backendUnavailable])
        #expect(failures.withLock { $0 }.map(\.entryUUIDs) == [["u-1"], ["u-2"]])
        // The store is back: the next turn is mirrored.
        let next = try await turn(client, transport, [F.frame(F.main, [F.line(3)]), F.result])
        #expect(Self.mirrorErrors(next).isEmpty)
        #expect(try await store.load(F.mainKey)?.map(\.uuid) == ["u-3"])
        await client.disconnect()
    }

    @Test func aTimedOutAppendIsNotRetriedAndDoesNotHoldTheSession() async throws {
        let store = ScriptedStore(hang: true)
        let configuration = SessionStoreConfiguration(
            appendTimeout: .milliseconds(50), retryDelays: [.milliseconds(1), .milliseconds(1)])
        let (client, transport, _) = try await connected(store, configuration)
        let messages = try await turn(client, transport, [F.frame(F.main, [F.line(1)]), F.result])
        let reported = Self.mirrorErrors(messages)
        #expect(reported.count == 1)
        #expect(reported.first?.error.contains("timed out") == true)
        #expect(store.attempts == 1)
        store.release()
        await client.disconnect()
    }

    @Test func aSlowStoreHoldsOnlyTheResultNotTheReader() async throws {
        let store = ScriptedStore(hang: true)
        let (client, transport, _) = try await connected(store, SessionStoreConfiguration(appendTimeout: .seconds(30)))
        try await client.query("go")
        _ = await transport.nextWritten()
        transport.emit(F.frame(F.main, [F.line(1)]))
        transport.emit(F.assistant)
        transport.emit(F.result)
        transport.emit(
            #"{"type":"control_request","request_id":"cli-1","request":{"subtype":"can_use_tool","tool_name":"Bash","input":{}}}"#
        )
        await store.waitFor("hanging")
        // The reader answered the control request that came after the result.
        let reply = try #require(await transport.nextWritten())
        #expect(reply["response"]?["request_id"] == "cli-1")
        var iterator = client.receiveResponse().makeAsyncIterator()
        #expect(try await iterator.next()?.type == "assistant")
        store.release()
        // The released append failed; it is retried and the retry hangs no more.
        var rest: [String] = []
        while let message = try await iterator.next() { rest.append(message.type) }
        #expect(rest == ["result"])
        #expect(try await store.load(F.mainKey)?.count == 1)
        await client.disconnect()
    }

    @Test func linesOutsideTheProjectsFolderAndUnreadableFramesAreReported() async throws {
        let store = ScriptedStore()
        let (client, transport, _) = try await connected(store)
        let messages = try await turn(
            client, transport,
            [
                F.frame("/elsewhere/.claude/projects/-w/\(F.session).jsonl", [F.line(1)]),
                #"{"type":"transcript_mirror","filePath":"\#(F.main)","entries":[{"type":"user","uuid":"x"}, 42]}"#,
                #"{"type":"transcript_mirror","entries":[]}"#,
                F.frame(F.main, [F.line(2)]),
                F.result,
            ])
        let reported = Self.mirrorErrors(messages)
        #expect(reported.count == 3)
        #expect(reported.contains { $0.key == Optional<JSONValue>.none && $0.error.contains("not under") })
        #expect(
            reported.contains {
                $0.key?["session_id"] == .string(F.session) && $0.error.contains("entry 1 is not a JSON object")
            })
        #expect(reported.contains { $0.key == Optional<JSONValue>.none && $0.error.contains("no filePath") })
        #expect(try await store.load(F.mainKey)?.map(\.uuid) == ["u-2"])
        await client.disconnect()
    }

    @Test func aConfiguredProjectKeyReplacesTheFolderName() async throws {
        let store = ScriptedStore()
        let (client, transport, _) = try await connected(store, SessionStoreConfiguration(projectKey: "tenant-42"))
        _ = try await turn(client, transport, [F.frame(F.main, [F.line(1)]), F.result])
        #expect(try await store.load(SessionStoreKey(projectKey: "tenant-42", sessionID: F.session))?.count == 1)
        #expect(try await store.load(F.mainKey) == nil)
        await client.disconnect()
    }

    @Test func configDirFromTheOptionsEnvironmentDecidesTheProjectsFolder() async throws {
        let store = ScriptedStore()
        var options = options()
        options.env["CLAUDE_CONFIG_DIR"] = "/cfg"
        let (client, transport, _) = try await connected(store, options: options)
        let messages = try await turn(
            client, transport,
            [
                F.frame("/cfg/projects/-w/\(F.session).jsonl", [F.line(1)]), F.frame(F.main, [F.line(2)]), F.result,
            ])
        #expect(Self.mirrorErrors(messages).count == 1)
        #expect(try await store.load(F.mainKey)?.map(\.uuid) == ["u-1"])
        await client.disconnect()
    }

    @Test func defaultsMatchThePythonSDK() {
        let configuration = SessionStoreConfiguration()
        #expect(configuration.flushMode == .batched)
        #expect(configuration.maxPendingEntries == 500)
        #expect(configuration.maxPendingBytes == 1 << 20)
        #expect(configuration.retryDelays == [.milliseconds(200), .milliseconds(800)])
        #expect(configuration.appendTimeout == .seconds(60))
    }

    @Test func transcriptPathsMapToKeysLikeThePythonSDK() {
        let projects = "/home/u/.claude/projects"
        #expect(
            SessionStoreKey(transcriptPath: "/home/u/.claude/projects/-p/s.jsonl", projectsDirectory: projects)
                == SessionStoreKey(projectKey: "-p", sessionID: "s"))
        #expect(
            SessionStoreKey(
                transcriptPath: "/home/u/.claude/projects/-p/s/subagents/agent-1.jsonl",
                projectsDirectory: projects + "/")
                == SessionStoreKey(projectKey: "-p", sessionID: "s", subpath: "subagents/agent-1"))
        #expect(
            SessionStoreKey(
                transcriptPath: "/home/u/.claude/projects/-p/s/subagents/workflows/r1/agent-2.jsonl",
                projectsDirectory: projects)
                == SessionStoreKey(projectKey: "-p", sessionID: "s", subpath: "subagents/workflows/r1/agent-2"))
        #expect(
            SessionStoreKey(transcriptPath: "/home/u/.claude/projects/-p/./x/../s.jsonl", projectsDirectory: projects)
                == SessionStoreKey(projectKey: "-p", sessionID: "s"))
        #expect(
            SessionStoreKey(transcriptPath: "/home/u/.claude/projects/-p/s/agent.jsonl", projectsDirectory: projects)
                == nil)
        #expect(
            SessionStoreKey(transcriptPath: "/home/u/.claude/projects/-p/s.txt", projectsDirectory: projects) == nil)
        #expect(SessionStoreKey(transcriptPath: "/home/u/.claude/projects/s.jsonl", projectsDirectory: projects) == nil)
        #expect(
            SessionStoreKey(transcriptPath: "/home/u/.claude/projects/../x/-p/s.jsonl", projectsDirectory: projects)
                == nil)
        #expect(SessionStoreKey(transcriptPath: "/other/-p/s.jsonl", projectsDirectory: projects) == nil)
    }
}
