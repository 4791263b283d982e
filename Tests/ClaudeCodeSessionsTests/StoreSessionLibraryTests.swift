import ClaudeCode
import Foundation
import SessionBackendTestSupport
import Synchronization
import Testing

@testable import ClaudeCodeSessions

/// The store-backed session calls give the answers the disk ones give, over the same
/// transcripts (the CLI transcripts differential scenario, copied into a store).
@Suite("StoreSessionLibrary against ClaudeSessionLibrary", .serialized, .timeLimit(.minutes(3)))
struct StoreSessionLibraryTests {
    /// Copies every session of `directory`'s project folder (and subagents with their sidecars)
    /// into `store`, keeping the lines that are JSON objects.
    static func copyProject(_ directory: String, projects: String, into store: any SessionStore) async throws
        -> [String]
    {
        let folderName = ClaudeSessionLibrary.projectFolderName(for: directory)
        let folder = projects + "/" + folderName
        var sessions: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() where name.hasSuffix(".jsonl")
        {
            let sessionID = String(name.dropLast(6))
            // As the disk listing: only files named by a session id are sessions.
            guard TextRules.isUUID(sessionID) else { continue }
            let key = SessionStoreKey(projectKey: folderName, sessionID: sessionID)
            // Dangling links and unreadable files are not sessions to copy.
            guard let entries = try? validEntries(folder + "/" + name), !entries.isEmpty else { continue }
            try await store.append(entries, to: key)
            sessions.append(sessionID)
            for file in SessionImport.jsonlFiles(under: folder + "/" + sessionID + "/subagents") {
                let subpath = String(file.dropFirst(folder.count + sessionID.count + 2).dropLast(6))
                var subEntries = try validEntries(file)
                if let meta = StoreResume.readRegularFile(String(file.dropLast(6)) + ".meta.json"),
                    case .object(var object)? = try? JSONValue.parse(meta)
                {
                    object["type"] = "agent_metadata"
                    subEntries.append(try SessionStoreEntry(raw: RawJSON(bytes: JSONValue.object(object).serialized())))
                }
                try await store.append(
                    subEntries, to: SessionStoreKey(projectKey: folderName, sessionID: sessionID, subpath: subpath))
            }
        }
        return sessions
    }

    static func validEntries(_ path: String) throws -> [SessionStoreEntry] {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        // What a store accepts: objects by their structure (invalid UTF-8 inside strings is kept, as on disk).
        return bytes.split(separator: 0x0A).compactMap { line in
            guard line.first == UInt8(ascii: "{") else { return nil }
            return try? SessionStoreEntry(raw: RawJSON(bytes: Array(line)))
        }
    }

    @Test func readersAndMutationsMatchTheDiskLibrary() async throws {
        let root = try TranscriptFixtures.temporaryRoot("store-library")
        defer { try? FileManager.default.removeItem(atPath: root) }
        var scenario = try Scenario(root: root)
        try await scenario.build()
        let environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": scenario.home,
        ]
        let disk = ClaudeSessionLibrary(configDirectory: scenario.fixtures.configDirectory, environment: environment)
        let store = FileSessionStore(directory: root + "/store")
        let library = StoreSessionLibrary(store: store)
        let directory = scenario.projectA
        let sessions = try await Self.copyProject(directory, projects: scenario.fixtures.projectsDirectory, into: store)
        #expect(sessions.count >= 10)

        // Messages, info, subagents: the same answers.
        var compared = 0
        for sessionID in sessions {
            let fromDisk = try await disk.messages(sessionID: sessionID, directory: directory)
            let fromStore = try await library.messages(sessionID: sessionID, directory: directory)
            #expect(fromStore == fromDisk, "messages of \(sessionID)")
            #expect(
                try await library.messages(sessionID: sessionID, directory: directory, limit: 2, offset: 1)
                    == disk.messages(sessionID: sessionID, directory: directory, limit: 2, offset: 1),
                "page of \(sessionID)")
            var diskInfo = try await disk.sessionInfo(id: sessionID, directory: directory)
            var storeInfo = try await library.sessionInfo(id: sessionID, directory: directory)
            // A store has no file: its time is the last entry's timestamp and its size the stored lines'.
            diskInfo?.lastModified = 0
            diskInfo?.fileSize = nil
            storeInfo?.lastModified = 0
            storeInfo?.fileSize = nil
            #expect(storeInfo == diskInfo, "info of \(sessionID)")
            let diskAgents = try await disk.subagents(sessionID: sessionID, directory: directory)
            #expect(try await library.subagents(sessionID: sessionID, directory: directory) == diskAgents)
            for agent in diskAgents {
                #expect(
                    try await library.subagentMessages(sessionID: sessionID, agentID: agent, directory: directory)
                        == disk.subagentMessages(sessionID: sessionID, agentID: agent, directory: directory),
                    "agent \(agent)")
            }
            if !fromDisk.isEmpty { compared += 1 }
        }
        #expect(compared >= 8)
        #expect(!(try await library.subagents(sessionID: scenario.withSubagents, directory: directory)).isEmpty)

        // Listing from the folded summaries shows the sessions the disk listing shows, with the same metadata.
        let diskList = try await disk.listSessions(directory: directory, includeWorktrees: false)
        let storeList = try await library.listSessions(directory: directory)
        func comparable(_ info: CLISessionInfo) -> CLISessionInfo {
            var info = info
            info.lastModified = 0
            info.fileSize = nil
            return info
        }
        let skip: Set<String> = [scenario.nestedKeys]
        #expect(
            Set(storeList.filter { !skip.contains($0.sessionID) }.map(comparable))
                == Set(diskList.filter { !skip.contains($0.sessionID) }.map(comparable)))
        // Newest first by the store's clock, and pages.
        #expect(storeList.map(\.lastModified) == storeList.map(\.lastModified).sorted(by: >))
        let page = try await library.listSessions(directory: directory, limit: 3, offset: 2)
        #expect(page.map(\.sessionID) == Array(storeList.dropFirst(2).prefix(3)).map(\.sessionID))

        // Mutations: rename, tag, fork, delete, seen by the readers.
        let target = scenario.simple
        try await library.rename(sessionID: target, title: "  Renamed in the store ", directory: directory)
        try await library.tag(sessionID: target, tag: "re\u{200B}view", directory: directory)
        var info = try #require(try await library.sessionInfo(id: target, directory: directory))
        #expect(info.customTitle == "Renamed in the store")
        #expect(info.tag == "review")
        let listed = try #require(try await library.listSessions(directory: directory).first { $0.sessionID == target })
        #expect(listed.summary == "Renamed in the store")
        #expect(listed.tag == "review")
        try await library.tag(sessionID: target, tag: nil, directory: directory)
        info = try #require(try await library.sessionInfo(id: target, directory: directory))
        #expect(info.tag == nil)
        await #expect(throws: CLITranscriptError.self) {
            try await library.rename(sessionID: target, title: "  ", directory: directory)
        }
        await #expect(throws: CLITranscriptError.self) {
            try await library.rename(sessionID: "nope", title: "x", directory: directory)
        }

        let cut = scenario.parallelCut
        let storeFork = try await library.fork(
            sessionID: scenario.parallel, directory: directory, upToMessageID: cut, title: "Fork")
        let diskFork = try await disk.fork(
            sessionID: scenario.parallel, directory: directory, upToMessageID: cut, title: "Fork")
        let forkedFromStore = try await library.messages(sessionID: storeFork.sessionID, directory: directory)
        let forkedOnDisk = try await disk.messages(sessionID: diskFork.sessionID, directory: directory)
        #expect(!forkedOnDisk.isEmpty)
        #expect(forkedFromStore.map(\.message) == forkedOnDisk.map(\.message))
        #expect(forkedFromStore.map(\.type) == forkedOnDisk.map(\.type))
        #expect(
            Set(forkedFromStore.map(\.uuid)).isDisjoint(
                with: try await library.messages(sessionID: scenario.parallel, directory: directory).map(\.uuid)))
        #expect(try await library.sessionInfo(id: storeFork.sessionID, directory: directory)?.customTitle == "Fork")
        await #expect(throws: CLITranscriptError.self) {
            _ = try await library.fork(
                sessionID: scenario.parallel, directory: directory,
                upToMessageID: "00000000-0000-4000-8000-00000000dead")
        }

        try await library.delete(sessionID: target, directory: directory)
        #expect(try await library.sessionInfo(id: target, directory: directory) == nil)
        #expect(try await library.messages(sessionID: target, directory: directory).isEmpty)
        #expect(!(try await library.listSessions(directory: directory)).contains { $0.sessionID == target })
        try await library.delete(sessionID: scenario.withSubagents, directory: directory)
        #expect(try await library.subagents(sessionID: scenario.withSubagents, directory: directory).isEmpty)
    }

    @Test func staleOrMissingSummariesAreFilledFromTheTranscript() async throws {
        // A catalog whose summaries lag: listing falls back to loading those sessions.
        let store = LaggingSummaries()
        let key = SessionStoreKey(projectKey: "p", sessionID: "00000000-0000-4000-8000-000000000001")
        try await store.append(
            [
                try SessionStoreEntry(
                    raw: RawJSON(
                        #"{"type":"user","uuid":"u1","cwd":"/w","timestamp":"2024-01-01T00:00:00Z","message":{"role":"user","content":"first words"}}"#
                    ))
            ],
            to: key)
        await store.freeze()
        try await store.append(
            [try SessionStoreEntry(raw: RawJSON(#"{"type":"custom-title","customTitle":"newer title","uuid":"u2"}"#))],
            to: key)
        let library = StoreSessionLibrary(store: store, projectKey: "p")
        let listed = try await library.listSessions()
        #expect(listed.map(\.summary) == ["newer title"])
        #expect(listed.first?.firstPrompt == "first words")
        #expect(store.loads == 1)
        // A plain store cannot list.
        await #expect(throws: SessionStoreError.self) {
            _ = try await StoreSessionLibrary(store: PlainStore()).listSessions()
        }
    }
}

/// A catalog whose summaries stop being updated after `freeze()`.
final class LaggingSummaries: SessionCatalog {
    private struct State {
        var frozen: [SessionStoreSummary]?
        var loads = 0
    }
    let inner = InMemorySessionStore()
    private let state = Mutex(State())
    var loads: Int { state.withLock { $0.loads } }
    func freeze() async {
        let summaries = await inner.listSessionSummaries(projectKey: "p")
        state.withLock { $0.frozen = summaries }
    }
    func append(_ entries: [SessionStoreEntry], to key: SessionStoreKey) async throws(SessionStoreError) {
        try await inner.append(entries, to: key)
    }
    func load(_ key: SessionStoreKey) async throws(SessionStoreError) -> [SessionStoreEntry]? {
        state.withLock { $0.loads += 1 }
        return try await inner.load(key)
    }
    func listSessions(projectKey: String) async throws(SessionStoreError) -> [SessionStoreListing] {
        await inner.listSessions(projectKey: projectKey)
    }
    func listSessionSummaries(projectKey: String) async throws(SessionStoreError) -> [SessionStoreSummary] {
        if let frozen = state.withLock({ $0.frozen }) { return frozen }
        return await inner.listSessionSummaries(projectKey: projectKey)
    }
    func delete(_ key: SessionStoreKey) async throws(SessionStoreError) { try await inner.delete(key) }
    func listSubkeys(projectKey: String, sessionID: String) async throws(SessionStoreError) -> [String] {
        await inner.listSubkeys(projectKey: projectKey, sessionID: sessionID)
    }
}

/// Rename, tag and delete of an id the store does not have throw `sessionNotFound`, as on disk,
/// and leave no phantom session behind.
@Suite("StoreSessionLibrary: unknown sessions", .timeLimit(.minutes(1)))
struct StoreSessionLibraryUnknownSessionTests {
    @Test func overTheInMemoryStore() async throws {
        try await checkMutationsOfUnknownSessions(InMemorySessionStore())
    }

    @Test func overTheFileStore() async throws {
        let root = try TranscriptFixtures.temporaryRoot("store-library-unknown")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try await checkMutationsOfUnknownSessions(FileSessionStore(directory: root + "/store"))
    }

    @Test func overAStoreThatCannotList() async throws {
        try await checkMutationsOfUnknownSessions(PlainStore())
    }
}
