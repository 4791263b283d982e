import ClaudeCode
import Foundation
import Testing

@testable import ClaudeCodeSessions

@Suite("Persistence with damaged, foreign and legacy files", .timeLimit(.minutes(2)))
struct PersistenceDamageTests {
    /// Writes `contents` as `name` in a fresh store folder.
    static func store(with files: [String: [UInt8]]) throws -> (TemporaryFolder, FileRecordStore) {
        let folder = TemporaryFolder()
        let directory = folder.sub("sessions")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, bytes) in files {
            try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + name))
        }
        return (folder, FileRecordStore(directory: directory))
    }

    static let valid =
        "{\"schema_version\":1,\"session_id\":\"ok\",\"start_time\":\"2025-01-01T00:00:00.000000Z\",\"last_activity\":\"2025-01-01T00:00:01.000000Z\",\"working_directory\":\"/w\",\"options\":{},\"message_count\":1,\"conversation_history\":[{\"direction\":\"received\",\"timestamp\":\"2025-01-01T00:00:01.000000Z\",\"type\":\"assistant\",\"raw\":{\"type\":\"assistant\"}}]}"

    static let damagedCases: [(name: String, contents: String, code: SessionStoreError.Code, reason: String)] = [
        (
            "truncated.json", String(valid.replacingOccurrences(of: "\"ok\"", with: "\"truncated\"").prefix(150)),
            .damagedFile, "invalid session file"
        ),
        ("empty.json", "", .damagedFile, "not a JSON object"),
        ("garbage.json", "\u{1}\u{2}binary\u{FF}", .damagedFile, "not a JSON object"),
        ("settings.json", "{\"theme\":\"dark\",\"fontSize\":12}", .damagedFile, "no session_id"),
        ("array.json", "[1,2,3]", .damagedFile, "not a JSON object"),
        ("mismatch.json", valid, .damagedFile, "does not match the file name"),
        (
            "future.json",
            valid.replacingOccurrences(of: "\"ok\"", with: "\"future\"")
                .replacingOccurrences(of: "\"schema_version\":1", with: "\"schema_version\":99"), .schemaTooNew, "99"
        ),
        (
            "count.json",
            valid.replacingOccurrences(of: "\"ok\"", with: "\"count\"")
                .replacingOccurrences(of: "\"message_count\":1", with: "\"message_count\":5"), .damagedFile,
            "message_count"
        ),
        (
            "badentry.json",
            valid.replacingOccurrences(of: "\"ok\"", with: "\"badentry\"")
                .replacingOccurrences(of: "\"direction\":\"received\"", with: "\"direction\":\"sideways\""),
            .damagedFile,
            "unknown direction"
        ),
        (
            "badtime.json",
            valid.replacingOccurrences(of: "\"ok\"", with: "\"badtime\"")
                .replacingOccurrences(of: "2025-01-01T00:00:00.000000Z", with: "yesterday"), .damagedFile, "start_time"
        ),
        (
            "trailing.json", valid.replacingOccurrences(of: "\"ok\"", with: "\"trailing\"") + "{}", .damagedFile,
            "after the JSON value"
        ),
    ]

    @Test("corrupt, truncated and foreign files: load throws a typed error naming the file; listing shows them")
    func damagedFiles() async throws {
        var files: [String: [UInt8]] = [:]
        for entry in Self.damagedCases { files[entry.name] = Array(entry.contents.utf8) }
        files["ok.json"] = Array(Self.valid.utf8)
        files["not a valid id.json"] = Array(Self.valid.utf8)
        files["orphan.journal"] = Array("{\"journal\":1,\"session_id\":\"orphan\",\"base_seq\":0}\n".utf8)
        files["notes.txt"] = Array("ignored".utf8)
        let (folder, store) = try Self.store(with: files)
        let directory = folder.sub("sessions")
        mkdir(directory + "/dir.json", 0o700)
        mkfifo(directory + "/fifo.json", 0o600)

        for entry in Self.damagedCases {
            let id = try SessionID(String(entry.name.dropLast(5)))
            let error = await #expect(throws: SessionStoreError.self) { try await store.load(id) }
            #expect(error?.code == entry.code, "\(entry.name)")
            #expect(error?.path == directory + "/" + entry.name, "\(entry.name)")
            #expect(error?.reason?.contains(entry.reason) == true, "\(entry.name): \(error?.reason ?? "")")
            // No content in the description.
            #expect(error?.description.contains("dark") == false)
        }
        let fifoError = await #expect(throws: SessionStoreError.self) { try await store.load(try SessionID("fifo")) }
        #expect(fifoError?.code == .unsafePath)
        let orphanError = await #expect(throws: SessionStoreError.self) {
            try await store.load(try SessionID("orphan"))
        }
        #expect(orphanError?.code == .damagedFile)
        #expect(orphanError?.path == directory + "/orphan.journal")
        await #expect(throws: SessionStoreError.self) { try await store.load(try SessionID("missing")) }

        let listing = try await store.list()
        #expect(listing.compactMap(\.summary).map(\.sessionID.rawValue) == ["ok"])
        let damaged = Dictionary(uniqueKeysWithValues: listing.compactMap(\.damagedFile).map { ($0.fileName, $0) })
        for entry in Self.damagedCases {
            #expect(damaged[entry.name]?.error.code == entry.code, "\(entry.name)")
        }
        #expect(damaged["not a valid id.json"]?.error.code == .invalidSessionID)
        #expect(damaged["dir.json"]?.error.code == .unsafePath)
        #expect(damaged["fifo.json"]?.error.code == .unsafePath)
        #expect(damaged["orphan.journal"]?.error.code == .damagedFile)
        #expect(damaged["notes.txt"] == nil)
        #expect(damaged.count == Self.damagedCases.count + 4)

        // Nothing was deleted or changed.
        for entry in Self.damagedCases {
            let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + entry.name))
            #expect(data == Data(entry.contents.utf8))
        }
    }

    @Test("a file of the Python original loads as schema version 0")
    func pythonOriginalFile() async throws {
        let (folder, store) = try Self.store(with: [
            PythonOriginalFixture.sessionID + ".json": Array(PythonOriginalFixture.json.utf8)
        ])
        defer { withExtendedLifetime(folder) {} }
        let id = try SessionID(PythonOriginalFixture.sessionID)
        let data = try await store.load(id)
        #expect(data.schemaVersion == 0)
        #expect(data.workingDirectory == "/path/to/work")
        #expect(data.options["model"] == "claude-sonnet-4")
        #expect(data.options["allowed_tools"] == ["Read"])
        #expect(data.conversationHistory.map(\.type) == ["system", "assistant", "user", "result"])
        #expect(data.conversationHistory.map(\.subtype) == ["init", nil, nil, "success"])
        #expect(data.conversationHistory.allSatisfy { $0.timestamp == data.lastActivity })
        let assistant = try #require(data.conversationHistory[1].rawJSONString)
        #expect(assistant.contains("Hello Alice — ünïcode\u{2028}"))
        #expect(!assistant.contains("\n"))
        // Appending converts it to the current format, keeping the old messages.
        let writer = try await store.openSession(id)
        try await writer.append(ConversationMessage(direction: .received, rawJSON: Frames.assistant(1)))
        try await writer.close()
        let converted = try await store.load(id)
        #expect(converted.schemaVersion == 1)
        #expect(converted.conversationHistory.count == 5)
        #expect(Array(converted.conversationHistory.prefix(4)) == data.conversationHistory)
    }

    @Test(
        "a file freshly written by the installed Python original loads",
        .enabled(if: FileManager.default.isExecutableFile(atPath: PythonReference.python)))
    func livePythonOriginal() async throws {
        let folder = TemporaryFolder()
        let directory = folder.sub("sessions")
        let script = """
            import asyncio, sys
            from datetime import datetime
            from claude_code_session_client._internal.session_storage import SessionData, SimpleSessionPersistence
            from claude_code_sdk.types import AssistantMessage, TextBlock, ResultMessage
            async def main():
                p = SimpleSessionPersistence(sys.argv[1])
                d = SessionData(session_id="live-python", start_time=datetime.now(), last_activity=datetime.now())
                d.add_message(AssistantMessage(content=[TextBlock(text="hi \\u2028 there")]))
                d.add_message(ResultMessage(subtype="success", duration_ms=1, duration_api_ms=1, is_error=False,
                                            num_turns=1, session_id="live-python"))
                await p.save_session(d)
            asyncio.run(main())
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: PythonReference.python)
        process.arguments = ["-c", script, directory]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let data = try await FileRecordStore(directory: directory).load(try SessionID("live-python"))
        #expect(data.schemaVersion == 0)
        #expect(data.conversationHistory.map(\.type) == ["assistant", "result"])
    }

    @Test("a torn last journal line is ignored and counted, then terminated by the next append")
    func tornJournalTail() async throws {
        let folder = TemporaryFolder()
        let store = FileRecordStore(directory: folder.sub("sessions"))
        let id = try SessionID("torn")
        let writer = try await store.openSession(id, workingDirectory: "/w")
        for index in 0..<5 {
            try await writer.append(ConversationMessage(direction: .received, rawJSON: Frames.assistant(index)))
        }
        // Simulate a write cut short by power loss: half a record, no line feed.
        let journal = folder.sub("sessions/torn.journal")
        let handle = try #require(FileHandle(forWritingAtPath: journal))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"seq\":5,\"direction\":\"rece".utf8))
        try handle.close()

        let torn = try await store.loadWithDiagnostics(id)
        #expect(torn.data.conversationHistory.count == 5)
        #expect(torn.diagnostics.tornJournalTail)
        #expect(torn.diagnostics.skippedJournalLines == 1)

        // A new writer (another process, say) resynchronises from the tail.
        let second = store.makeWriter(for: id)
        try await second.append(ConversationMessage(direction: .received, rawJSON: Frames.assistant(5)))
        let after = try await store.loadWithDiagnostics(id)
        #expect(after.data.conversationHistory.count == 6)
        #expect(!after.diagnostics.tornJournalTail)
        #expect(after.diagnostics.skippedJournalLines == 1)
        #expect(after.diagnostics.sequenceGaps == 0)
        #expect(try writerOrder(after.data) == Array(0..<6))

        // The stale first writer also resynchronises (its cached tail is out of date).
        try await writer.append(ConversationMessage(direction: .received, rawJSON: Frames.assistant(6)))
        try await second.close()
        try await writer.close()
        let folded = try await store.loadWithDiagnostics(id)
        #expect(try writerOrder(folded.data) == Array(0..<7))
        #expect(folded.diagnostics.skippedJournalLines == 0)
        // The fragment was kept, not silently dropped.
        let quarantined = try String(contentsOfFile: folder.sub("sessions/torn.quarantine"), encoding: .utf8)
        #expect(quarantined == "{\"seq\":5,\"direction\":\"rece\n")
    }

    @Test("a corrupt line in the middle of the journal is skipped; the rest loads")
    func corruptMiddleLine() async throws {
        let folder = TemporaryFolder()
        let store = FileRecordStore(directory: folder.sub("sessions"))
        let id = try SessionID("middle")
        let writer = try await store.openSession(id, workingDirectory: "/w")
        try await writer.append(ConversationMessage(direction: .received, rawJSON: Frames.assistant(0)))
        let journal = folder.sub("sessions/middle.journal")
        let handle = try #require(FileHandle(forWritingAtPath: journal))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\u{0}\u{0}\u{0}garbage from a bad sector\n".utf8))
        try handle.close()
        try await writer.append(ConversationMessage(direction: .received, rawJSON: Frames.assistant(1)))
        let loaded = try await store.loadWithDiagnostics(id)
        #expect(try writerOrder(loaded.data) == [0, 1])
        #expect(loaded.diagnostics.skippedJournalLines == 1)
        #expect(!loaded.diagnostics.tornJournalTail)
    }

    @Test("a crash between the snapshot rename and the journal replacement loses and duplicates nothing")
    func crashBetweenRenames() async throws {
        let folder = TemporaryFolder()
        let store = FileRecordStore(directory: folder.sub("sessions"))
        let id = try SessionID("between")
        let writer = try await store.openSession(id, workingDirectory: "/w")
        for index in 0..<10 {
            try await writer.append(ConversationMessage(direction: .received, rawJSON: Frames.assistant(index)))
        }
        let journalPath = folder.sub("sessions/between.journal")
        let oldJournal = try Data(contentsOf: URL(fileURLWithPath: journalPath))
        try await writer.close()  // folds: new snapshot, new journal
        // Put the old journal back, as if the process died before replacing it.
        try oldJournal.write(to: URL(fileURLWithPath: journalPath))
        let loaded = try await store.loadWithDiagnostics(id)
        #expect(try writerOrder(loaded.data) == Array(0..<10))
        #expect(loaded.diagnostics.alreadyFoldedRecords == 10)
        #expect(loaded.diagnostics.snapshotMessageCount == 10)

        let next = store.makeWriter(for: id)
        try await next.append(ConversationMessage(direction: .received, rawJSON: Frames.assistant(10)))
        #expect(try writerOrder(try await store.load(id)) == Array(0..<11))
        try await next.close()
        let folded = try await store.loadWithDiagnostics(id)
        #expect(try writerOrder(folded.data) == Array(0..<11))
        #expect(folded.diagnostics.alreadyFoldedRecords == 0)
    }

    @Test("a journal whose header names another session is reported as damaged")
    func foreignJournal() async throws {
        let folder = TemporaryFolder()
        let store = FileRecordStore(directory: folder.sub("sessions"))
        let id = try SessionID("mine")
        let writer = try await store.openSession(id, workingDirectory: "/w")
        try await writer.close()
        try Data("{\"journal\":1,\"session_id\":\"theirs\",\"base_seq\":0}\n".utf8)
            .write(to: URL(fileURLWithPath: folder.sub("sessions/mine.journal")))
        let error = await #expect(throws: SessionStoreError.self) { try await store.load(id) }
        #expect(error?.code == .damagedFile)
        #expect(error?.path == folder.sub("sessions/mine.journal"))
    }
}

/// The `n` of the test frames (`Frames.assistant(n)` puts it in `msg_<n>`).
func writerOrder(_ data: SessionData) throws -> [Int] {
    try data.conversationHistory.map { message in
        let object = try #require(try JSONSerialization.jsonObject(with: Data(message.rawJSON)) as? [String: Any])
        let inner = try #require(object["message"] as? [String: Any])
        let id = try #require(inner["id"] as? String)
        return try #require(Int(id.dropFirst(4)))
    }
}

enum PythonReference {
    /// The reference venv's Python: `$PYTHON_REFERENCE`, `<repo>/.venv-ref`, or `/work/main/.venv-ref`.
    static var python: String {
        if let override = ProcessInfo.processInfo.environment["PYTHON_REFERENCE"] { return override }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let local = repo.appendingPathComponent(".venv-ref/bin/python").path
        if FileManager.default.isExecutableFile(atPath: local) { return local }
        return "/work/main/.venv-ref/bin/python"
    }
}
