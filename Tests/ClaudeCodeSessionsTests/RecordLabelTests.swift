import ClaudeCode
import ClaudeCodeSessions
import Foundation
import SessionBackendTestSupport
import Testing

/// A record's own title and tag (`SessionRecordStore.setRecordTitle`/`setRecordTag`) in the JSON
/// files and in memory: the record-store contract, and the file format's `title`/`tag` fields.
@Suite("Record titles and tags")
struct RecordLabelTests {
    static let contract = RecordStoreContract.all.first { $0.name.hasPrefix("a record's title and tag") }!

    @Test func theJSONFilesKeepTitlesAndTags() async throws {
        let folder = TemporaryFolder()
        try await Self.contract.run(FileRecordStore(folder: folder))
    }

    @Test func memoryKeepsTitlesAndTags() async throws {
        try await Self.contract.run(InMemoryRecordStore())
    }

    static func record(in store: FileRecordStore) async throws -> SessionID {
        let id = SessionID(rawValue: UUID().uuidString.lowercased())!
        let writer = try await store.openRecord(
            id, startTime: Date(timeIntervalSince1970: 1_760_000_000), workingDirectory: "/w", options: [:])
        try await writer.append([
            ConversationMessage(
                direction: .sent, rawJSON: #"{"type":"user","message":{"role":"user","content":"Hello"}}"#,
                timestamp: Date(timeIntervalSince1970: 1_760_000_001))
        ])
        try await writer.close()
        return id
    }

    @Test func theSnapshotHoldsTheLabelsAsOptionalFields() async throws {
        let folder = TemporaryFolder()
        let store = FileRecordStore(folder: folder)
        let id = try await Self.record(in: store)
        let path = folder.sub("sessions") + "/" + id.rawValue + ".json"
        let plain = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!plain.contains("\"title\"") && !plain.contains("\"tag\""), "absent until set")
        try await store.setRecordTitle(id, title: "T \u{2028} \"q\"")
        try await store.setRecordTag(id, tag: "x")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("\n  \"title\": \"T \\u2028 \\\"q\\\"\",\n  \"tag\": \"x\",\n  \"message_count\": 1,"))
        // Folded: the journal holds only its header again.
        let journal = try String(
            contentsOfFile: folder.sub("sessions") + "/" + id.rawValue + ".journal", encoding: .utf8)
        #expect(journal.split(separator: "\n").count == 1)
        // The snapshot without the fields (as older versions wrote it) still loads, without labels.
        try text.replacingOccurrences(of: "\n  \"title\": \"T \\u2028 \\\"q\\\"\",\n  \"tag\": \"x\",", with: "")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let old = try await store.loadRecord(id)
        #expect(old.title == nil && old.tag == nil && old.conversationHistory.count == 1)
    }

    /// A label write cut short by a crash (a torn last journal line) leaves the old label, and
    /// the next write goes on after it.
    @Test func aTornLabelRecordLeavesTheOldLabel() async throws {
        let folder = TemporaryFolder()
        let store = FileRecordStore(folder: folder)
        let id = try await Self.record(in: store)
        try await store.setRecordTitle(id, title: "Before the crash")
        let journal = folder.sub("sessions") + "/" + id.rawValue + ".journal"
        let handle = try #require(FileHandle(forWritingAtPath: journal))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"meta":{"title":"Half writ"#.utf8))
        try handle.close()
        #expect(try await store.loadRecord(id).title == "Before the crash")
        try await store.setRecordTag(id, tag: "after")
        let data = try await store.loadRecord(id)
        #expect(data.title == "Before the crash" && data.tag == "after")
        #expect(data.conversationHistory.count == 1)
    }

    @Test func aJournalMetadataLineSetsAndClearsLabels() async throws {
        let folder = TemporaryFolder()
        let store = FileRecordStore(folder: folder)
        let id = try await Self.record(in: store)
        let journal = folder.sub("sessions") + "/" + id.rawValue + ".journal"
        let handle = try #require(FileHandle(forWritingAtPath: journal))
        try handle.seekToEnd()
        try handle.write(
            contentsOf: Data(
                """
                {"meta":{"title":"From the journal","tag":"j"},"timestamp":"2030-01-01T00:00:00.000000Z"}
                {"meta":{"tag":null,"future_field":[1]},"timestamp":"2030-01-01T00:00:01.000000Z"}

                """.utf8))
        try handle.close()
        let data = try await store.loadRecord(id)
        #expect(data.title == "From the journal")
        #expect(data.tag == nil)
        #expect(data.lastActivity == Date(timeIntervalSince1970: 1_760_000_001), "labels are not activity")
        let summary = try #require(try await store.listRecords().compactMap(\.summary).first)
        #expect(summary.title == "From the journal" && summary.customTitle == "From the journal")
        // A streaming fold (a writer's close) carries them into the snapshot.
        let writer = try await store.openRecord(id, startTime: Date(), workingDirectory: "/w", options: [:])
        try await writer.close()
        let snapshot = try String(contentsOfFile: folder.sub("sessions") + "/" + id.rawValue + ".json", encoding: .utf8)
        #expect(snapshot.contains("\"title\": \"From the journal\""))
        #expect(!snapshot.contains("\"tag\""))
        #expect(try await store.loadRecord(id).title == "From the journal")
    }
}
