import ClaudeCode
import Foundation
import Testing

@testable import ClaudeCodeSessions

@Suite("Persistence round trip", .timeLimit(.minutes(2)))
struct PersistenceRoundTripTests {
    static let id = try! SessionID("9899897f-3c5e-4b7a-9d2e-0f1e2d3c4b5a")

    static func sampleMessages() -> [ConversationMessage] {
        let base = Date(timeIntervalSince1970: 1_753_889_131.069594)
        let raws: [[UInt8]] = [
            Array(#"{"type":"system","subtype":"init","cwd":"/w/work","session_id":"x","tools":["Bash"]}"#.utf8),
            Array(Frames.user("Hello, remember my name is Alice").utf8),
            Array(#"{"type":"assistant","text":"line\u2028sep and raw \#u{2028} and \#u{2029} done"}"#.utf8),
            Array(#"{"type":"assistant","text":"unicode: héllo wörld 日本語 🎉 \u00e9 \ud83c\udf89"}"#.utf8),
            Array(
                #"{"n":1.0e+400,"big":123456789012345678901234567890,"z":-0.0,"type":"result","dup":1,"dup":2}"#.utf8),
            Array(#"{ "type" : "spaced" ,"k": [ 1 , 2 ] }"#.utf8),
            Array(" {\"type\":\"padded\"} ".utf8),
            Array("{\"type\":\"multi\",\n\"line\":true}".utf8),
            Array("not json at all \u{2028} \"quoted\" \\ backslash".utf8),
            [0xFF, 0xFE, 0x00, 0x41, 0x0A, 0x0D],
            [],
            Array("[1,2,3]".utf8),
            Array(#""just a string""#.utf8),
            Array(#"{"type":"control_request","request_id":"r1","request":{"subtype":"interrupt"}}"#.utf8),
            Array(
                #"{"type":"stream_event","event":{"type":"content_block_delta","delta":{"text":"\u0000\u001f"}}}"#.utf8),
        ]
        return raws.enumerated().map { index, raw in
            ConversationMessage(
                direction: index % 3 == 1 ? .sent : .received, rawJSON: raw,
                timestamp: base.addingTimeInterval(Double(index) * 0.123457))
        }
    }

    @Test("every field and every raw frame survive a write and a load")
    func roundTrip() async throws {
        let folder = TemporaryFolder()
        let store = FileRecordStore(folder: folder)
        let options: [String: JSONValue] = [
            "model": "claude-opus-5-5", "allowed_tools": ["Bash", "Read"], "permission_mode": nil,
            "max_turns": 3, "temperature": 0.5, "nested": ["a": ["b": true]],
        ]
        let start = Date(timeIntervalSince1970: 1_753_889_000.5)
        let writer = try await store.openSession(
            Self.id, workingDirectory: "/home/ünïcode/dir with spaces", options: options, startTime: start)
        let messages = Self.sampleMessages()
        for message in messages { try await writer.append(message) }

        // Before compaction: snapshot + journal.
        let loaded = try await store.loadWithDiagnostics(Self.id)
        #expect(loaded.data.conversationHistory == messages)
        #expect(loaded.diagnostics.journalMessageCount == messages.count)
        #expect(loaded.data.workingDirectory == "/home/ünïcode/dir with spaces")
        #expect(loaded.data.options == options)
        #expect(loaded.data.startTime == StoreTimestamp.normalized(start))
        #expect(loaded.data.schemaVersion == 1)
        #expect(loaded.data.lastActivity == messages.map(\.timestamp).max())

        // After compaction: everything in the snapshot.
        try await writer.close()
        let folded = try await store.loadWithDiagnostics(Self.id)
        #expect(folded.data.conversationHistory == messages)
        #expect(folded.diagnostics.snapshotMessageCount == messages.count)
        #expect(folded.diagnostics.journalMessageCount == 0)
        #expect(folded.data.options == options)
        for (message, original) in zip(folded.data.conversationHistory, messages) {
            #expect(message.rawJSON == original.rawJSON)
            #expect(message.type == original.type)
            #expect(message.subtype == original.subtype)
        }

        // The snapshot is valid JSON (checked by Python's json module, which, unlike
        // JSONSerialization, accepts 1e400) that embeds valid frames verbatim.
        let path = folder.sub("sessions/\(Self.id).json")
        let summary = try await runPython(
            "import json,sys; d=json.load(open(sys.argv[1])); h=d['conversation_history'];"
                + "print(d['schema_version'], d['session_id'], len(h), h[0]['raw']['subtype'], d['message_count'])",
            path)
        #expect(summary == "1 \(Self.id) \(messages.count) init \(messages.count)")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains(String(decoding: messages[2].rawJSON, as: UTF8.self)))
        #expect(text.contains(String(decoding: messages[4].rawJSON, as: UTF8.self)))
    }

    @Test("frames the core parsed are stored exactly as fully validated frames are")
    func parsedFramesFastPath() throws {
        var frames = Self.sampleMessages().map(\.rawJSON)
        frames += [
            Array(#"{"type":"a","s":"x"#.utf8) + [0xFF] + Array(#""}"#.utf8),
            Array(#"{"type":"a","s":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8),
            Array(#"{"type":""#.utf8) + [0xC0, 0x80] + Array(#""}"#.utf8),
            Array("{\"type\":\"cr\",\r\"k\":1}".utf8), Array("{\"type\":\"tab\"}\t".utf8),
            Array("\r{\"type\":\"cr\"}".utf8), Array("{\"a\":\"\u{2028}\u{2029}\"}".utf8), Array("{}".utf8),
            Array((String(repeating: "[", count: 512) + String(repeating: "]", count: 512)).utf8),
            Array(Frames.assistant(3).utf8),
        ]
        var parsed = 0
        for raw in frames where (try? JSONValue.parse(raw)) != nil {
            parsed += 1
            let date = Date(timeIntervalSince1970: 1_700_000_000.25)
            let fast = ConversationMessage(
                direction: .received, type: "t", subtype: "s", parsedRawJSON: raw, timestamp: date)
            let full = ConversationMessage(direction: .received, type: "t", subtype: "s", rawJSON: raw, timestamp: date)
            #expect(fast == full)
            #expect(fast.rawKind == full.rawKind, "\(String(decoding: raw.prefix(40), as: UTF8.self))")
        }
        #expect(parsed == 22)
    }

    @Test("types and subtypes come from the frame")
    func typesAndSubtypes() {
        let messages = Self.sampleMessages()
        #expect(messages[0].type == "system")
        #expect(messages[0].subtype == "init")
        #expect(messages[4].type == "result")
        #expect(messages[6].type == "padded")
        #expect(messages[8].type == ConversationMessage.invalidType)
        #expect(messages[9].type == ConversationMessage.invalidType)
        #expect(messages[10].type == ConversationMessage.invalidType)
        #expect(messages[11].type == ConversationMessage.unknownType)
        #expect(messages[13].type == "control_request")
        #expect(messages[13].subtype == nil)
        #expect(messages[2].rawKind == .json)
        #expect(messages[6].rawKind == .text)
        #expect(messages[7].rawKind == .text)
        #expect(messages[9].rawKind == .binary)
    }

    @Test("a 10 MB frame round-trips")
    func bigFrame() async throws {
        let folder = TemporaryFolder()
        let store = FileRecordStore(folder: folder)
        let writer = try await store.openSession(Self.id, workingDirectory: "/w")
        let text = String(repeating: "0123456789abcdef\u{2028}é🎉", count: 10_000_000 / 25)
        let big = ConversationMessage(
            direction: .received, rawJSON: #"{"type":"user","tool_result":\#(Frames.jsonString(text))}"#)
        #expect(big.rawJSON.count > 10_000_000)
        #expect(big.rawKind == .json)
        try await writer.append(big)
        try await writer.append(ConversationMessage(direction: .received, rawJSON: Frames.assistant(1)))
        #expect(try await store.load(Self.id).conversationHistory[0].rawJSON == big.rawJSON)
        try await writer.close()
        let loaded = try await store.load(Self.id)
        #expect(loaded.conversationHistory.count == 2)
        #expect(loaded.conversationHistory[0].rawJSON == big.rawJSON)
    }

    @Test("Codable encodes messages and sessions losslessly")
    func codable() throws {
        var data = SessionData(sessionID: Self.id, workingDirectory: "/w", options: ["k": [1, 2.5, "x", nil]])
        data.conversationHistory = Self.sampleMessages()
        let encoded = try JSONEncoder().encode(data)
        let decoded = try JSONDecoder().decode(SessionData.self, from: encoded)
        #expect(decoded == data)
    }

    @Test("timestamps are ISO-8601 with microseconds and round-trip")
    func timestamps() {
        let date = Date(timeIntervalSince1970: 1_753_889_131.069594)
        #expect(StoreTimestamp.format(date) == "2025-07-30T15:25:31.069594Z")
        #expect(StoreTimestamp.parse("2025-07-30T15:25:31.069594Z") == StoreTimestamp.normalized(date))
        #expect(StoreTimestamp.parse("2025-07-30T17:25:31.069594+02:00") == StoreTimestamp.normalized(date))
        #expect(StoreTimestamp.format(Date(timeIntervalSince1970: -1.5)) == "1969-12-31T23:59:58.500000Z")
        for seconds in [0.0, 1e-6, 951_782_400.25, 4_102_444_800.999999, 1_700_000_000.123456] {
            let value = StoreTimestamp.normalized(Date(timeIntervalSince1970: seconds))
            #expect(StoreTimestamp.parse(StoreTimestamp.format(value)) == value)
        }
        #expect(StoreTimestamp.parse("2025-13-01T00:00:00Z") == nil)
        #expect(StoreTimestamp.parse("garbage") == nil)
    }
}
