import ClaudeCode
import ClaudeCodeTesting
import Foundation
import Synchronization
import Testing

@testable import ClaudeCodeSessions

/// A record store whose appends are slow (a throttled disk), over an ``InMemoryRecordStore``.
final class ThrottledRecordStore: SessionRecordStore {
    let base = InMemoryRecordStore()
    let delay: Duration

    init(delay: Duration) { self.delay = delay }

    struct Writer: SessionRecordWriter {
        let base: any SessionRecordWriter
        let delay: Duration
        func append(_ messages: [ConversationMessage]) async throws(SessionStoreError) {
            try? await Task.sleep(for: delay)  // the throttle, not synchronisation
            try await base.append(messages)
        }
        func checkpoint() async throws(SessionStoreError) { try await base.checkpoint() }
        func close() async throws(SessionStoreError) { try await base.close() }
    }

    func openRecord(_ id: SessionID, startTime: Date, workingDirectory: String, options: [String: JSONValue])
        async throws(SessionStoreError) -> any SessionRecordWriter
    {
        Writer(
            base: try await base.openRecord(
                id, startTime: startTime, workingDirectory: workingDirectory, options: options), delay: delay)
    }
    func loadRecord(_ id: SessionID) async throws(SessionStoreError) -> SessionData { try await base.loadRecord(id) }
    func listRecords() async throws(SessionStoreError) -> [RecordListEntry] { try await base.listRecords() }
    func deleteRecord(_ id: SessionID) async throws(SessionStoreError) { try await base.deleteRecord(id) }
    var transcriptStore: (any SessionStore)? { nil }
}

@Suite(.timeLimit(.minutes(2))) struct RecordingPathTests {
    static let sid = SessionPersistentClientTests.sid
    typealias Player = SessionPersistentClientTests.Player

    private func connect(_ client: SessionPersistentClient, _ player: Player) async throws {
        let before = player.transports.withLock { $0.count }
        async let connecting: Void = client.connect()
        while player.transports.withLock({ $0.count == before }) { await Task.yield() }
        try await player.answerInitialize()
        try await connecting
    }

    @Test("a message is in the journal before the consumer sees it, a prompt before query() returns")
    func deliveredMeansSaved() async throws {
        let folder = TemporaryFolder()
        let directory = folder.sub("sessions")
        let player = Player()
        let client = SessionPersistentClient(
            store: FileRecordStore(directory: directory), transcripts: .off, transport: player.factory)
        // Another store instance reads the files, as another process would.
        let reader = FileRecordStore(directory: directory)
        let id = try SessionID(Self.sid)
        try await connect(client, player)
        try await client.query("first")
        try await player.playTurn()
        var checked = 0
        for try await message in client.receiveResponse() {
            let history = try await reader.load(id).conversationHistory
            // The record exists from the first frame (system/init), held frames (the prompt) included.
            #expect(history.contains { $0.rawJSON == message.raw.bytes }, "\(message.raw.string) not yet saved")
            #expect(history.contains { $0.direction == .sent && $0.rawJSONString?.contains("first") == true })
            checked += 1
        }
        #expect(checked == 3)  // system/init, assistant, result
        try await client.query("second prompt")
        let history = try await reader.load(id).conversationHistory
        #expect(history.contains { $0.direction == .sent && $0.rawJSONString?.contains("second prompt") == true })
        await client.disconnect()
    }

    @Test("a slow store with a fast stream: the recording queue stays under its limit, the record is complete")
    func slowStoreKeepsMemoryBounded() async throws {
        let store = ThrottledRecordStore(delay: .microseconds(200))
        let player = Player()
        let client = SessionPersistentClient(store: store, transcripts: .off, transport: player.factory)
        let limit = 256 * 1024
        client.recordingBufferLimit = limit
        try await connect(client, player)
        try await client.query("stream")
        let transport = player.last
        _ = try #require(await transport.nextWritten())
        let filler = String(repeating: "y", count: 2000)
        let frames = 3000  // about 6 MB, 24 times the limit
        var lines = [#"{"type":"system","subtype":"init","session_id":"\#(Self.sid)","cwd":"/w"}"#]
        for index in 0..<frames {
            lines.append(
                #"{"type":"assistant","message":{"id":"m\#(index)","content":[{"type":"text","text":"\#(filler)"}],"model":"m"},"session_id":"\#(Self.sid)"}"#
            )
        }
        lines.append(
            #"{"type":"result","subtype":"success","is_error":false,"num_turns":1,"session_id":"\#(Self.sid)","duration_ms":1,"duration_api_ms":1}"#
        )
        transport.emit(lines: lines)
        var received = 0
        for try await _ in client.receiveResponse() { received += 1 }
        let recorder = try #require(client.recorder)
        let peak = recorder.peakHeldBytes
        await client.disconnect()
        #expect(received == frames + 2)
        #expect(peak <= limit + 2200, "the recording queue held \(peak) bytes, over its limit of \(limit)")
        #expect(peak >= limit / 2, "the throttle did not make the queue fill (\(peak) bytes)")
        let data = try await store.loadRecord(try SessionID(Self.sid))
        #expect(data.conversationHistory.filter { $0.type == "assistant" }.count == frames)
        #expect(data.conversationHistory.last?.type == "result")
    }

    @Test("a fold streams while appends go on: nothing lost, duplicated or reordered; the files stay in format")
    func appendsContinueDuringAFold() async throws {
        let folder = TemporaryFolder()
        let directory = folder.sub("sessions")
        let store = FileRecordStore(directory: directory)
        let id = try SessionID("fold-while-appending")
        let writer = try store.openRecordNow(id, startTime: Date(), workingDirectory: "/w", options: [:])
        func frame(_ n: Int) -> ConversationMessage {
            ConversationMessage(
                direction: .received,
                rawJSON: Array(#"{"type":"assistant","n":\#(n),"text":"\#(String(repeating: "z", count: 900))"}"#.utf8))
        }
        var next = 0
        for _ in 0..<4000 {
            #expect(writer.appendNow([frame(next)]).error == nil)
            next += 1
        }
        try await writer.checkpoint()
        try await writer.close()  // a folded snapshot of 4000 messages
        let second = try store.openRecordNow(id, startTime: Date(), workingDirectory: "/w", options: [:])
        for _ in 0..<4000 {
            #expect(second.appendNow([frame(next)]).error == nil)
            next += 1
        }
        // Fold on another thread while this one keeps appending.
        let folding = Task.detached { try second.fold(force: true) }
        var duringFold = 0
        while duringFold < 200_000 {
            #expect(second.appendNow([frame(next)]).error == nil)
            next += 1
            duringFold += 1
            if duringFold >= 500, second.foldStatistics.count > 0 { break }
        }
        try await folding.value
        for _ in 0..<10 {
            #expect(second.appendNow([frame(next)]).error == nil)
            next += 1
        }
        let loaded = try await store.loadWithDiagnostics(id)
        let numbers = loaded.data.conversationHistory.map { message -> Int in
            let text = String(decoding: message.rawJSON, as: UTF8.self)
            let start = text.range(of: #""n":"#)!.upperBound
            return Int(text[start...].prefix { $0.isNumber })!
        }
        #expect(numbers == Array(0..<next))
        #expect(loaded.diagnostics.sequenceGaps == 0)
        #expect(loaded.diagnostics.skippedJournalLines == 0)
        // The snapshot holds at least the 8000 messages before the fold; the rest is in the new journal.
        #expect(loaded.diagnostics.snapshotMessageCount >= 8000)
        #expect(loaded.diagnostics.snapshotMessageCount + loaded.diagnostics.journalMessageCount == next)
        try await second.close()
        let snapshot = try #require(FileManager.default.contents(atPath: directory + "/\(id).json"))
        let object = try #require(try JSONSerialization.jsonObject(with: snapshot) as? [String: Any])
        #expect((object["conversation_history"] as? [Any])?.count == next)
        #expect(object["message_count"] as? Int == next)
    }

    @Test("a streaming fold writes the same snapshot as the in-memory fold")
    func streamingFoldMatchesInMemoryFold() async throws {
        let folder = TemporaryFolder()
        let store = FileRecordStore(directory: folder.sub("a"))
        let reference = FileRecordStore(directory: folder.sub("b"))
        let id = try SessionID("same-bytes")
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        let messages = (0..<300).map { n in
            ConversationMessage(
                direction: n % 5 == 0 ? .sent : .received,
                rawJSON: Array(
                    #"{"type":"\#(n % 7 == 0 ? "result" : "assistant")","subtype":"x","n":\#(n),"s":"\u2028é"}"#.utf8),
                timestamp: start.addingTimeInterval(Double(n)))
        }
        let streaming = try store.openRecordNow(id, startTime: start, workingDirectory: "/w", options: ["model": "m"])
        _ = streaming.appendNow(messages[..<100])
        try await streaming.close()
        let reopened = try store.openRecordNow(id, startTime: start, workingDirectory: "/v", options: ["model": "n"])
        _ = reopened.appendNow(messages[100...])
        try await reopened.close()

        let files = try #require(
            (try? FileManager.default.contentsOfDirectory(atPath: folder.sub("a")))?.contains("same-bytes.json"))
        #expect(files)
        let streamed = try await store.load(id)
        var expected = streamed
        expected.conversationHistory = []
        try await reference.writeSnapshotForTesting(expected, messages: messages)
        let bytesA = try #require(FileManager.default.contents(atPath: folder.sub("a") + "/same-bytes.json"))
        let bytesB = try #require(FileManager.default.contents(atPath: folder.sub("b") + "/same-bytes.json"))
        #expect(bytesA == bytesB)
        #expect(streamed.conversationHistory.map(\.rawJSON) == messages.map(\.rawJSON))
        #expect(streamed.workingDirectory == "/v")
        #expect(streamed.options["model"] == "n")
    }
}

extension FileRecordStore {
    /// Writes the snapshot the in-memory encoder makes for `data` with `messages` (tests).
    fileprivate func writeSnapshotForTesting(_ data: SessionData, messages: [ConversationMessage]) async throws {
        var data = data
        data.conversationHistory = messages
        let bytes = SessionFileCodec.encodeSnapshot(data)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/\(data.sessionID).json"))
    }
}
