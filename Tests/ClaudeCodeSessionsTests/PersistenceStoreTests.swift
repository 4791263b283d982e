import ClaudeCode
import Foundation
import Synchronization
import Testing

@testable import ClaudeCodeSessions

/// Collects events delivered to a configuration's handler.
final class EventRecorder: Sendable {
    private let storage = Mutex<[PersistenceEvent]>([])
    var handler: @Sendable (PersistenceEvent) -> Void { { event in self.storage.withLock { $0.append(event) } } }
    var events: [PersistenceEvent] { storage.withLock { $0 } }
    func count(_ kind: PersistenceEvent.Kind) -> Int { events.filter { $0.kind == kind }.count }
}

@Suite("FileRecordStore: listing, deleting, failures, concurrency", .timeLimit(.minutes(2)))
struct PersistenceStoreTests {
    @Test("listing gives one summary per session, most recent first")
    func listing() async throws {
        let folder = TemporaryFolder()
        let store = FileRecordStore(directory: folder.sub("sessions"))
        #expect(try await store.list().isEmpty, "a missing folder lists as empty")
        let base = Date(timeIntervalSince1970: 1_800_000_000)
        for (offset, name) in ["older", "newest", "middle"].enumerated() {
            let id = try SessionID(name)
            let start = base.addingTimeInterval(Double(offset))
            let writer = try await store.openSession(id, workingDirectory: "/work/\(name)", startTime: start)
            let latest: Double = ["older": 10, "newest": 30, "middle": 20][name]!
            for index in 0..<(offset + 1) {
                try await writer.append(
                    ConversationMessage(
                        direction: .received, rawJSON: Frames.assistant(index),
                        timestamp: base.addingTimeInterval(latest - Double(index))))
            }
            if name == "middle" { try await writer.close() }  // one folded, two with open journals
        }
        let listing = try await store.list()
        let summaries = listing.compactMap(\.summary)
        #expect(summaries.map(\.sessionID.rawValue) == ["newest", "middle", "older"])
        #expect(summaries.map(\.messageCount) == [2, 3, 1])
        #expect(summaries.map(\.workingDirectory) == ["/work/newest", "/work/middle", "/work/older"])
        #expect(summaries[0].startTime == base.addingTimeInterval(1))
        #expect(summaries[0].lastActivity == base.addingTimeInterval(30))
        #expect(summaries.allSatisfy { $0.schemaVersion == 1 && $0.skippedJournalLines == 0 })
        #expect(summaries[0].path == folder.sub("sessions/newest.json"))
    }

    @Test("delete removes the session's snapshot, journal, quarantine and lock file, and nothing else")
    func deleting() async throws {
        let folder = TemporaryFolder()
        let directory = folder.sub("sessions")
        let store = FileRecordStore(directory: directory)
        let id = try SessionID("doomed")
        let writer = try await store.openSession(id, workingDirectory: "/w")
        try await writer.append(ConversationMessage(direction: .received, rawJSON: Frames.assistant(1)))
        try await writer.close()
        let keep = ["doomed.json.bak", "doomed2.json", "other.journal", ".doomed.json.tmp-x"]
        for name in keep { try "x".write(toFile: directory + "/" + name, atomically: false, encoding: .utf8) }
        try "q\n".write(toFile: directory + "/doomed.quarantine", atomically: false, encoding: .utf8)
        #expect(try await store.contains(id))
        #expect(try await store.delete(id))
        let remaining = Set(try FileManager.default.contentsOfDirectory(atPath: directory))
        #expect(remaining == Set(keep))
        #expect(!(try await store.contains(id)))
        #expect(!(try await store.delete(id)))
        await #expect(throws: SessionStoreError.self) { try await store.load(id) }
        #expect(!(try await FileRecordStore(directory: folder.sub("absent")).delete(id)))
        // Reading or deleting a session that does not exist creates no file.
        let ghost = try SessionID("ghost")
        await #expect(throws: SessionStoreError.self) { try await store.load(ghost) }
        #expect(!(try await store.delete(ghost)))
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: directory)) == Set(keep))
    }

    @Test("listing, loading and checking sessions that have no lock file creates none")
    func readersCreateNoLockFiles() async throws {
        let folder = TemporaryFolder()
        let directory = folder.sub("sessions")
        let store = FileRecordStore(directory: directory)
        for name in ["folded", "journaled"] {
            let writer = try await store.openSession(try SessionID(name), workingDirectory: "/w")
            try await writer.append(ConversationMessage(direction: .received, rawJSON: Frames.assistant(1)))
            if name == "folded" { try await writer.close() } else { try await writer.checkpoint() }
        }
        for name in ["folded", "journaled"] { #expect(unlink(directory + "/\(name).lock") == 0) }
        let before = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(!before.contains { $0.hasSuffix(".lock") })

        let reader = FileRecordStore(directory: directory)
        #expect(try await reader.list().compactMap(\.summary).count == 2)
        for name in ["folded", "journaled"] {
            #expect(try await reader.load(try SessionID(name)).conversationHistory.count == 1)
            #expect(try await reader.contains(try SessionID(name)))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == before)
    }

    @Test("a store path under a regular file: writes fail with typed errors, records are kept, then recovered")
    func unwritableFolder() async throws {
        // Tests run as root, where permission bits do not stop writes. A path whose parent
        // is a regular file makes every write fail (ENOTDIR) for any user.
        let folder = TemporaryFolder()
        let blocker = folder.sub("blocker")
        try "not a folder".write(toFile: blocker, atomically: false, encoding: .utf8)
        let recorder = EventRecorder()
        let store = FileRecordStore(
            configuration: .init(directory: blocker + "/sessions", eventHandler: recorder.handler))
        let events = store.events()
        let id = try SessionID("stubborn")

        let openError = await #expect(throws: SessionStoreError.self) { try await store.openSession(id) }
        #expect(openError?.code == .notADirectory)

        let writer = store.makeWriter(for: id, workingDirectory: "/w", options: ["model": "m"])
        writer.enqueue(ConversationMessage(direction: .sent, rawJSON: Frames.user("hello")))
        let appendError = await #expect(throws: SessionStoreError.self) {
            try await writer.append(ConversationMessage(direction: .received, rawJSON: Frames.assistant(1)))
        }
        #expect(appendError?.code == .notADirectory)
        #expect(appendError?.path != nil)
        #expect(writer.pendingCount == 2)
        await #expect(throws: SessionStoreError.self) { try await writer.checkpoint() }
        #expect(recorder.count(.writeFailed) == 1, "reported once per distinct error, not per retry")
        #expect(recorder.count(.checkpointFailed) == 1)
        var iterator = events.makeAsyncIterator()
        let first = await iterator.next()
        #expect(first?.kind == .writeFailed)
        #expect(first?.error?.code == .notADirectory)
        #expect(first?.sessionID == id)

        // The disk "comes back".
        try FileManager.default.removeItem(atPath: blocker)
        writer.enqueue(ConversationMessage(direction: .received, rawJSON: Frames.assistant(2)))
        try await writer.flush()
        #expect(writer.pendingCount == 0)
        #expect(recorder.count(.writeRecovered) == 1)
        try await writer.close()
        let data = try await store.load(id)
        #expect(data.conversationHistory.map(\.type) == ["user", "assistant", "assistant"])
        #expect(data.workingDirectory == "/w")
        #expect(data.options == ["model": "m"])
    }

    @Test("the folder removed under an open writer: the session starts again and later records are kept")
    func folderRemoved() async throws {
        let folder = TemporaryFolder()
        let directory = folder.sub("sessions")
        let recorder = EventRecorder()
        let store = FileRecordStore(configuration: .init(directory: directory, eventHandler: recorder.handler))
        let id = try SessionID("phoenix")
        let writer = try await store.openSession(id, workingDirectory: "/w", options: ["k": 1])
        try await writer.append(ConversationMessage(direction: .received, rawJSON: Frames.assistant(0)))
        try FileManager.default.removeItem(atPath: directory)
        try await writer.append(ConversationMessage(direction: .received, rawJSON: Frames.assistant(1)))
        try await writer.append(ConversationMessage(direction: .received, rawJSON: Frames.assistant(2)))
        #expect(recorder.count(.sessionRecreated) == 1)
        try await writer.close()
        let data = try await store.load(id)
        #expect(try writerOrder(data) == [1, 2])
        #expect(data.workingDirectory == "/w")
        #expect(data.options == ["k": 1])
        #expect(fileMode(directory) == 0o700)
    }

    @Test("two store instances in one process append to one session concurrently")
    func twoStoresOneProcess() async throws {
        let folder = TemporaryFolder()
        let directory = folder.sub("sessions")
        let id = try SessionID("shared")
        let perWriter = 150
        try await withThrowingTaskGroup(of: Void.self) { group in
            for tag in 0..<4 {
                group.addTask {
                    // Two instances, each with two writers on the same session.
                    let store = FileRecordStore(
                        configuration: .init(directory: directory, compaction: CompactionPolicy(checkpointRatio: 0.5)))
                    let writer = store.makeWriter(for: id, workingDirectory: "/w")
                    for index in 0..<perWriter {
                        let frame = #"{"type":"assistant","writer":"t\#(tag)","n":\#(index)}"#
                        if index % 3 == 0 {
                            try await writer.append(ConversationMessage(direction: .received, rawJSON: frame))
                        } else {
                            writer.enqueue(ConversationMessage(direction: .received, rawJSON: frame))
                        }
                        if index % 10 == 9 { try await writer.checkpoint() }
                    }
                    try await writer.close()
                }
            }
            try await group.waitForAll()
        }
        let loaded = try await FileRecordStore(directory: directory).loadWithDiagnostics(id)
        #expect(loaded.diagnostics.skippedJournalLines == 0)
        let marks = try writerMarks(loaded.data)
        #expect(marks.count == 4 * perWriter)
        for tag in 0..<4 {
            #expect(marks.filter { $0.0 == "t\(tag)" }.map(\.1) == Array(0..<perWriter))
        }
    }

    @Test("enqueue never waits; flush waits for everything submitted; close rejects later records")
    func enqueueFlushClose() async throws {
        let folder = TemporaryFolder()
        let recorder = EventRecorder()
        let store = FileRecordStore(
            configuration: .init(directory: folder.sub("sessions"), eventHandler: recorder.handler))
        let id = try SessionID("batch")
        let writer = store.makeWriter(for: id, workingDirectory: "/w")
        for index in 0..<500 {
            writer.enqueue(ConversationMessage(direction: .received, rawJSON: Frames.assistant(index)))
        }
        writer.updateMetadata(workingDirectory: "/moved")
        try await writer.flush()
        #expect(writer.pendingCount == 0)
        let loaded = try await store.load(id)
        #expect(try writerOrder(loaded) == Array(0..<500))
        #expect(loaded.workingDirectory == "/moved")
        try await writer.close()
        let closedError = await #expect(throws: SessionStoreError.self) {
            try await writer.append(ConversationMessage(direction: .received, rawJSON: Frames.assistant(500)))
        }
        #expect(closedError?.code == .writerClosed)
        writer.enqueue(ConversationMessage(direction: .received, rawJSON: Frames.assistant(501)))
        #expect(recorder.count(.recordsDropped) == 1)
        #expect(try await store.load(id).conversationHistory.count == 500)
    }

    @Test("compaction is geometric: the snapshot is rewritten O(log n) times")
    func compactionIsGeometric() async throws {
        let folder = TemporaryFolder()
        let recorder = EventRecorder()
        let store = FileRecordStore(
            configuration: .init(directory: folder.sub("sessions"), durability: .never, eventHandler: recorder.handler))
        let id = try SessionID("geometric")
        let writer = try await store.openSession(id, workingDirectory: "/w")
        for index in 0..<2000 {
            writer.enqueue(ConversationMessage(direction: .received, rawJSON: Frames.assistant(index, textLength: 300)))
            if index % 5 == 4 { try await writer.checkpoint() }  // 400 turns
        }
        try await writer.flush()
        let compactions = recorder.count(.compacted)
        #expect(compactions >= 5 && compactions <= 14, "\(compactions) compactions for 400 checkpoints")
        #expect(try await store.load(id).conversationHistory.count == 2000)
    }

    @Test("the events stream delivers events to every subscriber")
    func eventStreams() async throws {
        let folder = TemporaryFolder()
        let store = FileRecordStore(directory: folder.sub("sessions"))
        let first = store.events()
        let second = store.events()
        let id = try SessionID("events")
        let writer = try await store.openSession(id, workingDirectory: "/w")
        try await writer.append(ConversationMessage(direction: .received, rawJSON: Frames.assistant(0)))
        try await writer.close()
        var one = first.makeAsyncIterator()
        var two = second.makeAsyncIterator()
        #expect(await one.next()?.kind == .compacted)
        #expect(await two.next()?.kind == .compacted)
    }

    @Test("error descriptions name the code and file but never message content")
    func errorDescriptions() {
        let error = SessionStoreError(
            .ioFailure, path: "/s/x.journal", sessionID: try? SessionID("x"), systemErrorNumber: 28, reason: "r")
        #expect(error.description == "SessionStoreError.ioFailure (path: /s/x.journal; errno: 28 (ENOSPC); r)")
        #expect(error.debugDescription.contains("[session x]"))
        #expect(SessionStoreError.Code.ioFailure ~= error)
        #expect(!(SessionStoreError.Code.damagedFile ~= error))
    }
}
