import ClaudeCode
import ClaudeCodeTesting
import Foundation
import Synchronization
import Testing

@testable import ClaudeCodeSessions

/// A catalog over an in-memory store whose calls can be made to fail.
final class FailingCatalog: SessionCatalog {
    enum Failing: Sendable { case none, load, listSubkeys, listSessions }
    let inner = InMemorySessionStore()
    let failing: Failing
    init(_ failing: Failing) { self.failing = failing }

    func append(_ entries: [SessionStoreEntry], to key: SessionStoreKey) async throws(SessionStoreError) {
        try await inner.append(entries, to: key)
    }
    func load(_ key: SessionStoreKey) async throws(SessionStoreError) -> [SessionStoreEntry]? {
        if failing == .load { throw SessionStoreError(.backendFailure, reason: "down", key: key) }
        return try await inner.load(key)
    }
    func listSessions(projectKey: String) async throws(SessionStoreError) -> [SessionStoreListing] {
        if failing == .listSessions { throw SessionStoreError(.backendFailure, reason: "down") }
        return await inner.listSessions(projectKey: projectKey)
    }
    func listSessionSummaries(projectKey: String) async throws(SessionStoreError) -> [SessionStoreSummary] {
        await inner.listSessionSummaries(projectKey: projectKey)
    }
    func delete(_ key: SessionStoreKey) async throws(SessionStoreError) { try await inner.delete(key) }
    func listSubkeys(projectKey: String, sessionID: String) async throws(SessionStoreError) -> [String] {
        if failing == .listSubkeys { throw SessionStoreError(.backendFailure, reason: "down") }
        return await inner.listSubkeys(projectKey: projectKey, sessionID: sessionID)
    }
}

@Suite("Resuming from a store (scripted CLI)", .timeLimit(.minutes(1)))
struct StoreResumeTests {
    static let session = "465172ef-4ebe-4852-a1ca-3da73101f380"
    static let older = "00000000-0000-4000-8000-000000000001"

    /// A working directory, a HOME with auth and settings, and a folder for the temporary config.
    struct Fixture {
        let folder = TemporaryFolder()
        var work: String { folder.sub("work") }
        var home: String { folder.sub("home") }
        var temporary: String { folder.sub("tmp") }
        var projectKey: String { ClaudeSessionLibrary.projectFolderName(for: work) }

        init() throws {
            for path in [work, home + "/.claude", temporary] {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            }
            try Data(#"{"claudeAiOauth":{"accessToken":"at","refreshToken":"rt","expiresAt":1},"other":1}"#.utf8)
                .write(to: URL(fileURLWithPath: home + "/.claude/.credentials.json"))
            try Data(
                "\u{FEFF}{\"extraKnownMarketplaces\":{},\"env\":{\"CLAUDE_CONFIG_DIR\":\"/x\"},\"model\":\"m\"}".utf8
            )
            .write(to: URL(fileURLWithPath: home + "/.claude/settings.json"))
            try Data(#"{"theme":"dark"}"#.utf8).write(to: URL(fileURLWithPath: home + "/.claude/cowork_settings.json"))
            try Data(#"{"userID":"u"}"#.utf8).write(to: URL(fileURLWithPath: home + "/.claude.json"))
        }

        func options(_ configure: (inout ClaudeCodeOptions) -> Void) -> ClaudeCodeOptions {
            var options = ClaudeCodeOptions()
            options.cwd = work
            options.env = ["HOME": home]
            configure(&options)
            return options
        }

        var configuration: SessionStoreConfiguration { SessionStoreConfiguration(temporaryDirectory: temporary) }

        var temporaryContents: [String] { (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? [] }

        func seed(_ store: any SessionStore) async throws {
            let key = SessionStoreKey(projectKey: projectKey, sessionID: StoreResumeTests.session)
            try await store.append(
                [storeEntry(#"{"type":"user","uuid":"u1","message":{"role":"user","content":"hi"}}"#)], to: key)
            try await store.append(
                [
                    storeEntry(#"{"type":"agent_metadata","agentType":"old"}"#),
                    storeEntry(#"{"type":"user","uuid":"a1","isSidechain":true}"#),
                    storeEntry(#"{"type":"agent_metadata","agentType":"general-purpose","toolUseId":"t1"}"#),
                ],
                to: SessionStoreKey(
                    projectKey: projectKey, sessionID: StoreResumeTests.session, subpath: "subagents/agent-a1"))
        }
    }

    /// Connects through a scripted transport; returns the options the transport got and the files of its config folder.
    func connect(
        _ store: any SessionStore, _ fixture: Fixture, _ options: ClaudeCodeOptions, exitDuringInitialize: Bool = false,
        startError: ClaudeCodeError? = nil, failsBeforeStarting: Bool = false
    ) async throws -> (ClaudeSDKClient, SeenOptions, [String]) {
        let seen = SeenOptions()
        let files = Mutex<[String]>([])
        let transport = ScriptedTransport(startError: startError)
        let client = ClaudeSDKClient(
            options: options, sessionStore: store, configuration: fixture.configuration,
            transport: { options in
                seen.value.withLock { $0 = options }
                if let folder = options.env["CLAUDE_CONFIG_DIR"] {
                    files.withLock {
                        $0 = ((FileManager.default.enumerator(atPath: folder)?.allObjects as? [String]) ?? []).sorted()
                    }
                }
                return transport
            })
        let connecting = Task { () async throws -> Void in try await client.connect() }
        if startError == nil && !failsBeforeStarting {
            let initialize = try #require(await transport.nextWritten())
            if exitDuringInitialize {
                transport.exit(.exited(1), stderr: "no such session")
            } else {
                transport.respond(to: initialize, with: [:])
            }
        }
        try await connecting.value
        return (client, seen, files.withLock { $0 })
    }

    @Test func theSessionIsWrittenForTheCLIAndRemovedAfterwards() async throws {
        let fixture = try Fixture()
        let store = InMemorySessionStore()
        try await fixture.seed(store)
        let (client, seen, files) = try await connect(store, fixture, fixture.options { $0.resume = Self.session })
        let options = try #require(seen.value.withLock { $0 })
        let folder = try #require(options.env["CLAUDE_CONFIG_DIR"])
        #expect(folder.hasPrefix(fixture.temporary + "/claude-resume-"))
        #expect(options.resume == Self.session)
        #expect(options.sessionMirror)
        let project = "projects/\(fixture.projectKey)"
        #expect(
            files == [
                ".claude.json", ".credentials.json", "cowork_settings.json", "projects", project,
                "\(project)/\(Self.session)",
                "\(project)/\(Self.session).jsonl", "\(project)/\(Self.session)/subagents",
                "\(project)/\(Self.session)/subagents/agent-a1.jsonl",
                "\(project)/\(Self.session)/subagents/agent-a1.meta.json",
                "settings.json",
            ])
        func read(_ name: String) throws -> String { try String(contentsOfFile: folder + "/" + name, encoding: .utf8) }
        #expect(
            try read("\(project)/\(Self.session).jsonl")
                == #"{"type":"user","uuid":"u1","message":{"role":"user","content":"hi"}}"# + "\n")
        #expect(
            try read("\(project)/\(Self.session)/subagents/agent-a1.jsonl")
                == #"{"type":"user","uuid":"a1","isSidechain":true}"# + "\n")
        #expect(
            try JSONValue.parse(try read("\(project)/\(Self.session)/subagents/agent-a1.meta.json"))
                == ["agentType": "general-purpose", "toolUseId": "t1"])
        #expect(
            try JSONValue.parse(try read(".credentials.json")) == [
                "claudeAiOauth": ["accessToken": "at", "expiresAt": 1], "other": 1,
            ])
        #expect(try JSONValue.parse(try read("settings.json")) == ["env": [:], "model": "m"])
        #expect(try read("cowork_settings.json") == #"{"theme":"dark"}"#)
        #expect(try read(".claude.json") == #"{"userID":"u"}"#)
        for file in [".credentials.json", "\(project)/\(Self.session).jsonl"] {
            #expect(fileMode(folder + "/" + file) == 0o600)
        }
        #expect(fileMode(folder) == 0o700)
        #expect(FileManager.default.fileExists(atPath: folder))
        await client.disconnect()
        #expect(fixture.temporaryContents.isEmpty)
    }

    @Test func continuePicksTheNewestSessionThatIsNotASidechain() async throws {
        let fixture = try Fixture()
        let store = InMemorySessionStore()
        try await store.append(
            [storeEntry(#"{"type":"user","uuid":"o1"}"#)],
            to: SessionStoreKey(projectKey: fixture.projectKey, sessionID: Self.older))
        try await fixture.seed(store)
        // Newest of all: a sidechain transcript mirrored as a top-level key, and an id that is not a UUID.
        try await store.append(
            [storeEntry(#"{"type":"user","isSidechain":true}"#)],
            to: SessionStoreKey(projectKey: fixture.projectKey, sessionID: "00000000-0000-4000-8000-00000000000f"))
        try await store.append(
            [storeEntry(#"{"type":"user"}"#)],
            to: SessionStoreKey(projectKey: fixture.projectKey, sessionID: "not-a-uuid"))
        let (client, seen, _) = try await connect(store, fixture, fixture.options { $0.continueConversation = true })
        let options = try #require(seen.value.withLock { $0 })
        #expect(options.resume == Self.session)
        #expect(!options.continueConversation)
        await client.disconnect()
        #expect(fixture.temporaryContents.isEmpty)
    }

    @Test func nothingToResumeLeavesTheOptionsAlone() async throws {
        let fixture = try Fixture()
        for configure: (inout ClaudeCodeOptions) -> Void in [
            { $0.resume = Self.session }, { $0.continueConversation = true }, { $0.resume = "not-a-uuid" }, { _ in },
        ] {
            let (client, seen, _) = try await connect(InMemorySessionStore(), fixture, fixture.options(configure))
            let options = try #require(seen.value.withLock { $0 })
            #expect(options.env["CLAUDE_CONFIG_DIR"] == nil)
            #expect(options.resume == fixture.options(configure).resume)
            await client.disconnect()
        }
        #expect(fixture.temporaryContents.isEmpty)
    }

    @Test func continueNeedsACatalog() async throws {
        let fixture = try Fixture()
        let error = await #expect(throws: ClaudeCodeError.self) {
            _ = try await connect(
                PlainStore(), fixture, fixture.options { $0.continueConversation = true }, failsBeforeStarting: true)
        }
        #expect(error?.code == .invalidOptions)
    }

    @Test(arguments: [FailingCatalog.Failing.load, .listSubkeys, .listSessions])
    func aStoreFailureFailsConnectAndLeavesNothingBehind(_ failing: FailingCatalog.Failing) async throws {
        let fixture = try Fixture()
        let store = FailingCatalog(failing)
        try await fixture.seed(store)
        let error = await #expect(throws: ClaudeCodeError.self) {
            _ = try await connect(
                store, fixture,
                fixture.options {
                    if failing == .listSessions { $0.continueConversation = true } else { $0.resume = Self.session }
                },
                failsBeforeStarting: true)
        }
        #expect(error?.code == .launchFailed)
        #expect(error?.message.contains("backendFailure") == true)
        #expect(fixture.temporaryContents.isEmpty)
    }

    @Test func aCLIThatFailsToStartOrExitsLeavesNothingBehind() async throws {
        let fixture = try Fixture()
        let store = InMemorySessionStore()
        try await fixture.seed(store)
        await #expect(throws: ClaudeCodeError.self) {
            _ = try await connect(
                store, fixture, fixture.options { $0.resume = Self.session },
                startError: ClaudeCodeError(.launchFailed, "no CLI"))
        }
        #expect(fixture.temporaryContents.isEmpty)
        let error = await #expect(throws: ClaudeCodeError.self) {
            _ = try await connect(
                store, fixture, fixture.options { $0.resume = Self.session }, exitDuringInitialize: true)
        }
        #expect(error?.code == .processExited)
        #expect(fixture.temporaryContents.isEmpty)
    }

    @Test func aSlowStoreTimesOut() async throws {
        let fixture = try Fixture()
        var configuration = fixture.configuration
        configuration.loadTimeout = .milliseconds(50)
        let hanging = HangingLoadStore()
        let client = ClaudeSDKClient(
            options: fixture.options { $0.resume = Self.session }, sessionStore: hanging, configuration: configuration,
            transport: { _ in ScriptedTransport() })
        let error = await #expect(throws: ClaudeCodeError.self) { try await client.connect() }
        #expect(error?.message.contains("did not answer") == true)
        hanging.release()
        #expect(fixture.temporaryContents.isEmpty)
    }
}

/// A store whose `load` waits until released.
final class HangingLoadStore: SessionStore {
    private struct State {
        var released = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())
    func append(_ entries: [SessionStoreEntry], to key: SessionStoreKey) async throws(SessionStoreError) {}
    func load(_ key: SessionStoreKey) async throws(SessionStoreError) -> [SessionStoreEntry]? {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if state.released { return true }
                state.waiting.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
        return nil
    }
    func release() {
        let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.released = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }
}
