import ClaudeCode
import Foundation
import Testing

@testable import ClaudeCodeSessions

@Suite("Importing CLI transcripts into a store", .timeLimit(.minutes(1)))
struct SessionImportTests {
    static let session = "9899897f-3c5e-4b7a-9d2e-0f1e2d3c4b5a"

    /// `<config>/projects/-w/<session>.jsonl` with `lines`, plus a subagent with a sidecar.
    func makeConfig(_ folder: TemporaryFolder, lines: [String], subagent: [String]? = nil) throws -> String {
        let config = folder.sub("config")
        let project = config + "/projects/-w"
        try FileManager.default.createDirectory(
            atPath: project + "/\(Self.session)/subagents/workflows/run-1", withIntermediateDirectories: true)
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: project + "/\(Self.session).jsonl"))
        if let subagent {
            try Data((subagent.joined(separator: "\n") + "\n").utf8).write(
                to: URL(fileURLWithPath: project + "/\(Self.session)/subagents/agent-a1.jsonl"))
            try Data(#"{"agentType":"general-purpose","toolUseId":"toolu_1","type":"stray"}"#.utf8)
                .write(to: URL(fileURLWithPath: project + "/\(Self.session)/subagents/agent-a1.meta.json"))
            try Data((subagent[0] + "\n").utf8).write(
                to: URL(fileURLWithPath: project + "/\(Self.session)/subagents/workflows/run-1/agent-b2.jsonl"))
        }
        // Another project with another session, to be skipped by the search.
        try FileManager.default.createDirectory(atPath: config + "/projects/-other", withIntermediateDirectories: true)
        return config
    }

    static func line(_ n: Int) -> String {
        #"{"type":"user","uuid":"u-\#(n)","message":{"role":"user","content":"line \#(n) é"},"sessionId":"\#(session)"}"#
    }

    @Test func importsInBatchesWithExactBytesAndSubagents() async throws {
        let folder = TemporaryFolder()
        let lines =
            (0..<7).map(Self.line) + [
                "", "   ", #"{"type":"last-prompt","lastPrompt":"x"}"#, #"{"type":"last-prompt","lastPrompt":"x"}"#,
            ]
        let agent = [
            #"{"type":"user","uuid":"a-1","isSidechain":true}"#,
            #"{"type":"assistant","uuid":"a-2","isSidechain":true}"#,
        ]
        let config = try makeConfig(folder, lines: lines, subagent: agent)
        let store = ScriptedStore()
        let result = try await importSession(Self.session, into: store, configDirectory: config, batchSize: 3)
        let key = SessionStoreKey(projectKey: "-w", sessionID: Self.session)
        #expect(result.key == key)
        #expect(result.entryCount == 9)
        #expect(result.subkeys == ["subagents/agent-a1": 2, "subagents/workflows/run-1/agent-b2": 1])
        // Streamed: appends of at most 3 entries.
        #expect(store.appends.filter { $0.key == key }.map(\.count) == [3, 3, 3])
        let stored = try #require(try await store.load(key))
        #expect(stored.map(\.raw.string) == lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty })
        let agentEntries = try #require(
            try await store.load(
                SessionStoreKey(projectKey: "-w", sessionID: Self.session, subpath: "subagents/agent-a1")))
        #expect(agentEntries.map(\.type) == ["user", "assistant", "agent_metadata"])
        #expect(
            try agentEntries[2].value() == [
                "agentType": "general-purpose", "toolUseId": "toolu_1", "type": "agent_metadata",
            ])
        // Importing again stores nothing twice.
        try await importSession(Self.session, into: store, configDirectory: config)
        #expect(try await store.load(key)?.count == stored.count)
        #expect(try await store.listSubkeys(projectKey: "-w", sessionID: Self.session).count == 2)
        #expect(
            try await store.load(
                SessionStoreKey(projectKey: "-w", sessionID: Self.session, subpath: "subagents/agent-a1"))?.count == 3)
        // A gap (lines the store lacks, with and without uuid) is filled; nothing else is added.
        try await store.inner.delete(key)
        try await store.append([stored[0], stored[7], stored[2]], to: key)
        try await importSession(Self.session, into: store, configDirectory: config)
        let filled = try #require(try await store.load(key))
        #expect(filled.count == stored.count)
        #expect(Set(filled.map(\.raw)) == Set(stored.map(\.raw)))
        #expect(filled.filter { $0.type == "last-prompt" }.count == 2)
        // The summary was folded from the imported lines.
        let summary = try #require(try await store.listSessionSummaries(projectKey: "-w").first)
        #expect(summary.data["first_prompt"] == "line 0 é")
        #expect(summary.data["last_prompt"] == "x")
    }

    @Test func aLongLineAcrossManyReadsIsOneEntry() async throws {
        let folder = TemporaryFolder()
        let long = #"{"type":"user","uuid":"long","text":""# + String(repeating: "ab", count: 400_000) + #""}"#
        let config = try makeConfig(folder, lines: [Self.line(1), long, Self.line(2)])
        let store = InMemorySessionStore()
        let result = try await importSession(
            Self.session, into: store, configDirectory: config, includeSubagents: false)
        #expect(result.entryCount == 3)
        let stored = try #require(try await store.load(result.key))
        #expect(stored[1].raw.string == long)
    }

    @Test func aCorruptLineStopsTheImportWithItsKeyAndLine() async throws {
        let folder = TemporaryFolder()
        let config = try makeConfig(folder, lines: [Self.line(1), "{not json", Self.line(2)])
        let error = await #expect(throws: SessionStoreError.self) {
            try await importSession(Self.session, into: InMemorySessionStore(), configDirectory: config)
        }
        #expect(error?.code == .corruptEntry)
        #expect(error?.key == SessionStoreKey(projectKey: "-w", sessionID: Self.session))
        #expect(error?.reason?.hasPrefix("line 2 ") == true)
    }

    @Test func missingAndInvalidSessions() async throws {
        let folder = TemporaryFolder()
        let config = try makeConfig(folder, lines: [Self.line(1)])
        let missing = await #expect(throws: SessionStoreError.self) {
            try await importSession(
                "00000000-0000-4000-8000-000000000000", into: InMemorySessionStore(), configDirectory: config)
        }
        #expect(missing?.code == .sessionNotFound)
        let invalid = await #expect(throws: SessionStoreError.self) {
            try await importSession("../../etc/passwd", into: InMemorySessionStore(), configDirectory: config)
        }
        #expect(invalid?.code == .invalidSessionID)
        // With a directory, only its project folder is searched; a project key can be chosen.
        let store = InMemorySessionStore()
        let result = try await importSession(Self.session, into: store, configDirectory: config, projectKey: "tenant")
        #expect(result.key.projectKey == "tenant")
        await #expect(throws: SessionStoreError.self) {
            try await importSession(Self.session, into: store, directory: "/not/the/project", configDirectory: config)
        }
    }
}
