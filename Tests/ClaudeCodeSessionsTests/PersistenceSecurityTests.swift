import ClaudeCode
import Foundation
import Testing

@testable import ClaudeCodeSessions

@Suite("Persistence security: ids, modes, links", .timeLimit(.minutes(2)))
struct PersistenceSecurityTests {
    static let hostileIDs: [String] = [
        "../x", "..", ".", "a/b", "/etc/passwd", "a\\b", "a\0b", "\0", "a\nb", "tab\there", "bell\u{7}",
        "del\u{7F}", String(repeating: "a", count: 500), String(repeating: "a", count: 129), "", ".hidden",
        "a..b", "..x", "x/..", "with space", "ünïcode", "emoji🎉", "semi;colon", "star*", "q?", "%2e%2e",
        "a\u{2028}b", "C:\\x", "~root",
    ]

    @Test("hostile ids are rejected before any path is formed", arguments: hostileIDs)
    func hostileID(_ text: String) throws {
        #expect(SessionID(rawValue: text) == nil)
        #expect(!SessionID.isValid(text))
        let error = try #require(throws: SessionStoreError.self) { try SessionID(text) }
        #expect(error.code == .invalidSessionID)
        #expect(error.path == nil)
        // The description never echoes the id.
        if text.count > 3 { #expect(!error.description.contains(text)) }
        // Nor can one come in through Codable.
        let json = try JSONEncoder().encode([text])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([SessionID].self, from: json) }
    }

    @Test(
        "CLI UUIDs and other safe ids are accepted",
        arguments: [
            "9899897f-3c5e-4b7a-9d2e-0f1e2d3c4b5a", "2AECAB00-6512-4E29-9DA3-9321CAC6EB2A", "default", "a",
            "my_session-1.2", "a.b.c", String(repeating: "z", count: 128), "x.", "-leading-dash", "_",
        ])
    func safeID(_ text: String) throws {
        #expect(try SessionID(text).rawValue == text)
    }

    @Test("folders are created 0700 and files 0600, set explicitly whatever the umask")
    func fileModes() async throws {
        let folder = TemporaryFolder()
        let parent = folder.sub("existing")
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: false)
        chmod(parent, 0o755)
        let directory = parent + "/deep/er/sessions"
        // A pre-existing lock file with loose permissions is tightened.
        let id = try SessionID("modes")
        let previous = umask(0)
        defer { umask(previous) }
        let store = FileRecordStore(configuration: .init(directory: directory))
        let writer = try await store.openSession(id, workingDirectory: "/w")
        try await writer.append(ConversationMessage(direction: .received, rawJSON: Frames.assistant(1)))
        try await writer.checkpoint()
        try await writer.close()
        #expect(fileMode(parent) == 0o755, "an existing parent is left alone")
        #expect(fileMode(parent + "/deep") == 0o700)
        #expect(fileMode(parent + "/deep/er") == 0o700)
        #expect(fileMode(directory) == 0o700)
        for name in ["modes.json", "modes.journal", "modes.lock"] {
            #expect(fileMode(directory + "/" + name) == 0o600, "\(name)")
        }
        // Loose modes on an existing lock file are corrected.
        chmod(directory + "/modes.lock", 0o666)
        let second = try await store.openSession(id)
        try await second.append(ConversationMessage(direction: .received, rawJSON: Frames.assistant(2)))
        try await second.close()
        #expect(fileMode(directory + "/modes.lock") == 0o600)
        #expect(fileMode(directory + "/modes.json") == 0o600)
    }

    @Test("a symlinked snapshot is refused and its target never touched")
    func symlinkedSnapshot() async throws {
        let folder = TemporaryFolder()
        let directory = folder.sub("sessions")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let outside = folder.sub("outside.json")
        let original = "{\"precious\": true}\n"
        try original.write(toFile: outside, atomically: false, encoding: .utf8)
        symlink(outside, directory + "/victim.json")
        let store = FileRecordStore(directory: directory)
        let id = try SessionID("victim")

        let loadError = await #expect(throws: SessionStoreError.self) { try await store.load(id) }
        #expect(loadError?.code == .unsafePath)
        let listing = try await store.list()
        #expect(listing.first?.damagedFile?.error.code == .unsafePath)

        let openError = await #expect(throws: SessionStoreError.self) {
            try await store.openSession(id, workingDirectory: "/w")
        }
        #expect(openError?.code == .unsafePath)
        let writer = store.makeWriter(for: id)
        await #expect(throws: SessionStoreError.self) {
            try await writer.append(ConversationMessage(direction: .received, rawJSON: Frames.assistant(1)))
        }
        await #expect(throws: SessionStoreError.self) { try await writer.close() }
        #expect(try String(contentsOfFile: outside, encoding: .utf8) == original)

        // Deleting removes the link, not its target.
        #expect(try await store.delete(id))
        #expect(try String(contentsOfFile: outside, encoding: .utf8) == original)
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/victim.json")) == nil)
    }

    @Test("a symlinked or hard-linked journal, or a symlinked lock file, is refused")
    func linkedJournalAndLock() async throws {
        let folder = TemporaryFolder()
        let directory = folder.sub("sessions")
        let store = FileRecordStore(directory: directory)
        let outside = folder.sub("outside.txt")
        try "keep\n".write(toFile: outside, atomically: false, encoding: .utf8)

        // Symlinked journal.
        let a = try SessionID("journal-link")
        let writerA = try await store.openSession(a, workingDirectory: "/w")
        try await writerA.close()
        unlink(directory + "/journal-link.journal")
        symlink(outside, directory + "/journal-link.journal")
        let writerA2 = store.makeWriter(for: a)
        let error = await #expect(throws: SessionStoreError.self) {
            try await writerA2.append(ConversationMessage(direction: .received, rawJSON: Frames.assistant(1)))
        }
        #expect(error?.code == .unsafePath)
        #expect(writerA2.pendingCount == 1, "the record is kept for a retry")

        // Hard-linked journal.
        let b = try SessionID("journal-hardlink")
        let writerB = try await store.openSession(b, workingDirectory: "/w")
        try await writerB.append(ConversationMessage(direction: .received, rawJSON: Frames.assistant(1)))
        link(directory + "/journal-hardlink.journal", folder.sub("second-name"))
        let hardError = await #expect(throws: SessionStoreError.self) {
            try await writerB.append(ConversationMessage(direction: .received, rawJSON: Frames.assistant(2)))
        }
        #expect(hardError?.code == .unsafePath)

        // Symlinked lock file.
        let c = try SessionID("lock-link")
        symlink(outside, directory + "/lock-link.lock")
        let lockError = await #expect(throws: SessionStoreError.self) { try await store.openSession(c) }
        #expect(lockError?.code == .unsafePath)
        #expect(try String(contentsOfFile: outside, encoding: .utf8) == "keep\n")
    }

    @Test("the configured folder itself may be a symbolic link")
    func symlinkedRoot() async throws {
        let folder = TemporaryFolder()
        try FileManager.default.createDirectory(atPath: folder.sub("real"), withIntermediateDirectories: true)
        symlink(folder.sub("real"), folder.sub("link"))
        let store = FileRecordStore(directory: folder.sub("link"))
        let id = try SessionID("via-link")
        let writer = try await store.openSession(id, workingDirectory: "/w")
        try await writer.append(ConversationMessage(direction: .received, rawJSON: Frames.assistant(1)))
        try await writer.close()
        #expect(FileManager.default.fileExists(atPath: folder.sub("real/via-link.json")))
        #expect(try await store.load(id).conversationHistory.count == 1)
    }

    @Test("temporary files are hidden and never listed; a session's stale ones (an hour old) go at its next compaction")
    func temporaryFiles() async throws {
        let folder = TemporaryFolder()
        let directory = folder.sub("sessions")
        let store = FileRecordStore(directory: directory)
        let id = try SessionID("tmp")
        let writer = try await store.openSession(id, workingDirectory: "/w")
        try await writer.close()
        // A stale temp file (as left by a crash during compaction) is ignored.
        try "{garbage".write(toFile: directory + "/.tmp.json.tmp-abc", atomically: false, encoding: .utf8)
        try "{garbage".write(toFile: directory + "/.tmp.journal.tmp-def", atomically: false, encoding: .utf8)
        try "other".write(toFile: directory + "/.tmp2.json.tmp-abc", atomically: false, encoding: .utf8)
        let twoHoursAgo = Date().addingTimeInterval(-7200)
        for name in [".tmp.json.tmp-abc", ".tmp.journal.tmp-def"] {
            try FileManager.default.setAttributes(
                [.modificationDate: twoHoursAgo], ofItemAtPath: directory + "/" + name)
        }
        // A fresh one may belong to a streamed fold still running elsewhere: it stays.
        try "{live".write(toFile: directory + "/.tmp.json.tmp-live", atomically: false, encoding: .utf8)
        let listing = try await store.list()
        #expect(listing.count == 1)
        #expect(listing.first?.summary?.sessionID == id)
        // The session's next compaction (holding its lock) removes its own leftovers only.
        let again = store.makeWriter(for: id)
        try await again.append(ConversationMessage(direction: .received, rawJSON: Frames.assistant(1)))
        try await again.close()
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: directory))
        #expect(names == ["tmp.json", "tmp.journal", "tmp.lock", ".tmp2.json.tmp-abc", ".tmp.json.tmp-live"])
    }
}
