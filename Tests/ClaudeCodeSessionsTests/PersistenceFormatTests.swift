import ClaudeCode
import Foundation
import Testing

@testable import ClaudeCodeSessions

/// The bytes of the session files, pinned: the expected texts were written by the store's
/// encoder before it moved onto the core's `JSONWriter`, and must not change.
@Suite("Persistence file format")
struct PersistenceFormatTests {
    static let base = Date(timeIntervalSince1970: 1_753_889_131.069594)

    /// Frames of every storage kind; the index sets direction and timestamp.
    static func messages() -> [ConversationMessage] {
        let sample = PersistenceRoundTripTests.sampleMessages().map(\.rawJSON)
        let frames: [(Int, [UInt8])] = [
            (0, sample[0]), (2, sample[2]), (4, sample[4]), (6, sample[6]), (7, sample[7]), (8, sample[8]),
            (9, sample[9]), (10, sample[10]),
            (20, Array(#"{"type":""#.utf8) + [0xFF] + Array(#""}"#.utf8)),
            (24, Array(#"{"ty\u0070e":"escaped key","subtype":"s\"q"}"#.utf8)),
            (48, Array(#"{"type":"e","t":"\u2028 \u2029 \/ \b\f\n\r\t"}"#.utf8)),
            (
                53,
                Array(
                    #"{"type":"assistant","message":{"content":[{"type":"text","text":"Grüße — 日本語テキスト 🎉 “quotes” ‘x’ … \u2028 raw  "}]},"subtype":"z"}"#
                        .utf8)
            ),
        ]
        var messages = frames.map { index, raw in
            ConversationMessage(
                direction: index % 2 == 0 ? .sent : .received, rawJSON: raw,
                timestamp: base.addingTimeInterval(Double(index) * 1.5))
        }
        let typed = ConversationMessage(
            direction: .received, type: "T\u{2028}\"", subtype: "S\n", rawJSON: sample[1], timestamp: base)
        messages.insert(typed, at: 2)
        return messages
    }

    static let options: [String: JSONValue] = [
        "model": "claude-opus-5-5", "allowed_tools": ["Bash", "Read"], "permission_mode": nil,
        "max_turns": 3, "temperature": 0.5, "nested": ["a": ["b": true, "é": "\u{2028}x\u{2029}\u{0}\u{1f}\"\\/"]],
        "Zeta": 1e300, "alpha": -0.0, "ü": 0.1, "": "", "a b": [[], [:], [1.5, -2, 9223372036854775807]],
        "inf": .double(.infinity), "\u{E9}x": 2, "😀": "🎉",
    ]

    @Test("a snapshot is written byte for byte as before")
    func snapshotBytes() throws {
        let data = SessionData(
            sessionID: PersistenceRoundTripTests.id, startTime: Self.base,
            lastActivity: Self.base.addingTimeInterval(99),
            conversationHistory: Self.messages(), workingDirectory: "/home/ünïcode/dir with spaces\u{2028}",
            options: Self.options)
        let bytes = SessionFileCodec.encodeSnapshot(data)
        #expect(String(decoding: bytes, as: UTF8.self) == Self.expectedSnapshot)
        let decoded = try SessionFileCodec.decodeSnapshot(bytes, expectedID: PersistenceRoundTripTests.id, path: "p")
        #expect(decoded.conversationHistory == data.conversationHistory)
        #expect(SessionFileCodec.encodeSnapshot(decoded) == bytes)
    }

    @Test("journal records are written byte for byte as before")
    func journalBytes() throws {
        var writer = SessionFileCodec.writer(capacity: 0)
        let seqs: [Int64] = [-1, 3, 2, 7, 11, 13, 15, 17, 19, 39, 47, 95, 105]
        for (seq, message) in zip(seqs, Self.messages()) {
            SessionFileCodec.appendMessageRecord(seq: seq, message, to: &writer)
        }
        SessionFileCodec.appendMetaRecord(
            MetadataUpdate(workingDirectory: "/w\u{2028}", options: Self.options), timestamp: Self.base, to: &writer)
        SessionFileCodec.appendMetaRecord(
            MetadataUpdate(workingDirectory: nil, options: [:]), timestamp: Self.base, to: &writer)
        SessionFileCodec.appendMetaRecord(
            MetadataUpdate(workingDirectory: nil, options: nil), timestamp: Self.base, to: &writer)
        SessionFileCodec.appendMetaRecord(
            MetadataUpdate(workingDirectory: "x", options: nil), timestamp: Self.base, to: &writer)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == Self.expectedJournal)
    }

    static let expectedSnapshot =
        "{\n" + "  \"schema_version\": 1,\n" + "  \"session_id\": \"9899897f-3c5e-4b7a-9d2e-0f1e2d3c4b5a\",\n"
        + "  \"start_time\": \"2025-07-30T15:25:31.069594Z\",\n"
        + "  \"last_activity\": \"2025-07-30T15:27:10.069594Z\",\n"
        + "  \"working_directory\": \"/home/ünïcode/dir with spaces\\u2028\",\n"
        + "  \"options\": {\"\":\"\",\"Zeta\":1e+300,\"a b\":[[],{},[1.5,-2,9223372036854775807]],\"allowed_tools\":[\"Bash\",\"Read\"],\"alpha\":-0.0,\"inf\":null,\"max_turns\":3,\"model\":\"claude-opus-5-5\",\"nested\":{\"a\":{\"b\":true,\"é\":\"\\u2028x\\u2029\\u0000\\u001f\\\"\\\\/\"}},\"permission_mode\":null,\"temperature\":0.5,\"éx\":2,\"ü\":0.1,\"😀\":\"🎉\"},\n"
        + "  \"message_count\": 13,\n" + "  \"conversation_history\": [\n"
        + "    {\"direction\":\"sent\",\"timestamp\":\"2025-07-30T15:25:31.069594Z\",\"type\":\"system\",\"subtype\":\"init\",\"raw\":{\"type\":\"system\",\"subtype\":\"init\",\"cwd\":\"/w/work\",\"session_id\":\"x\",\"tools\":[\"Bash\"]}},\n"
        + "    {\"direction\":\"sent\",\"timestamp\":\"2025-07-30T15:25:34.069594Z\",\"type\":\"assistant\",\"raw\":{\"type\":\"assistant\",\"text\":\"line\\u2028sep and raw \u{2028} and \u{2029} done\"}},\n"
        + "    {\"direction\":\"received\",\"timestamp\":\"2025-07-30T15:25:31.069594Z\",\"type\":\"T\\u2028\\\"\",\"subtype\":\"S\\n\",\"raw\":{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":\"Hello, remember my name is Alice\"},\"parent_tool_use_id\":null,\"session_id\":\"default\"}},\n"
        + "    {\"direction\":\"sent\",\"timestamp\":\"2025-07-30T15:25:37.069594Z\",\"type\":\"result\",\"raw\":{\"n\":1.0e+400,\"big\":123456789012345678901234567890,\"z\":-0.0,\"type\":\"result\",\"dup\":1,\"dup\":2}},\n"
        + "    {\"direction\":\"sent\",\"timestamp\":\"2025-07-30T15:25:40.069594Z\",\"type\":\"padded\",\"raw_text\":\" {\\\"type\\\":\\\"padded\\\"} \"},\n"
        + "    {\"direction\":\"received\",\"timestamp\":\"2025-07-30T15:25:41.569594Z\",\"type\":\"multi\",\"raw_text\":\"{\\\"type\\\":\\\"multi\\\",\\n\\\"line\\\":true}\"},\n"
        + "    {\"direction\":\"sent\",\"timestamp\":\"2025-07-30T15:25:43.069594Z\",\"type\":\"invalid\",\"raw_text\":\"not json at all \\u2028 \\\"quoted\\\" \\\\ backslash\"},\n"
        + "    {\"direction\":\"received\",\"timestamp\":\"2025-07-30T15:25:44.569594Z\",\"type\":\"invalid\",\"raw_base64\":\"//4AQQoN\"},\n"
        + "    {\"direction\":\"sent\",\"timestamp\":\"2025-07-30T15:25:46.069594Z\",\"type\":\"invalid\",\"raw_text\":\"\"},\n"
        + "    {\"direction\":\"sent\",\"timestamp\":\"2025-07-30T15:26:01.069594Z\",\"type\":\"invalid\",\"raw_base64\":\"eyJ0eXBlIjoi/yJ9\"},\n"
        + "    {\"direction\":\"sent\",\"timestamp\":\"2025-07-30T15:26:07.069594Z\",\"type\":\"escaped key\",\"subtype\":\"s\\\"q\",\"raw\":{\"ty\\u0070e\":\"escaped key\",\"subtype\":\"s\\\"q\"}},\n"
        + "    {\"direction\":\"sent\",\"timestamp\":\"2025-07-30T15:26:43.069594Z\",\"type\":\"e\",\"raw\":{\"type\":\"e\",\"t\":\"\\u2028 \\u2029 \\/ \\b\\f\\n\\r\\t\"}},\n"
        + "    {\"direction\":\"received\",\"timestamp\":\"2025-07-30T15:26:50.569594Z\",\"type\":\"assistant\",\"subtype\":\"z\",\"raw\":{\"type\":\"assistant\",\"message\":{\"content\":[{\"type\":\"text\",\"text\":\"Grüße — 日本語テキスト 🎉 “quotes” ‘x’ … \\u2028 raw  \"}]},\"subtype\":\"z\"}}\n"
        + "  ]\n" + "}\n"

    static let expectedJournal =
        "{\"seq\":-1,\"direction\":\"sent\",\"timestamp\":\"2025-07-30T15:25:31.069594Z\",\"type\":\"system\",\"subtype\":\"init\",\"raw\":{\"type\":\"system\",\"subtype\":\"init\",\"cwd\":\"/w/work\",\"session_id\":\"x\",\"tools\":[\"Bash\"]}}\n"
        + "{\"seq\":3,\"direction\":\"sent\",\"timestamp\":\"2025-07-30T15:25:34.069594Z\",\"type\":\"assistant\",\"raw\":{\"type\":\"assistant\",\"text\":\"line\\u2028sep and raw \u{2028} and \u{2029} done\"}}\n"
        + "{\"seq\":2,\"direction\":\"received\",\"timestamp\":\"2025-07-30T15:25:31.069594Z\",\"type\":\"T\\u2028\\\"\",\"subtype\":\"S\\n\",\"raw\":{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":\"Hello, remember my name is Alice\"},\"parent_tool_use_id\":null,\"session_id\":\"default\"}}\n"
        + "{\"seq\":7,\"direction\":\"sent\",\"timestamp\":\"2025-07-30T15:25:37.069594Z\",\"type\":\"result\",\"raw\":{\"n\":1.0e+400,\"big\":123456789012345678901234567890,\"z\":-0.0,\"type\":\"result\",\"dup\":1,\"dup\":2}}\n"
        + "{\"seq\":11,\"direction\":\"sent\",\"timestamp\":\"2025-07-30T15:25:40.069594Z\",\"type\":\"padded\",\"raw_text\":\" {\\\"type\\\":\\\"padded\\\"} \"}\n"
        + "{\"seq\":13,\"direction\":\"received\",\"timestamp\":\"2025-07-30T15:25:41.569594Z\",\"type\":\"multi\",\"raw_text\":\"{\\\"type\\\":\\\"multi\\\",\\n\\\"line\\\":true}\"}\n"
        + "{\"seq\":15,\"direction\":\"sent\",\"timestamp\":\"2025-07-30T15:25:43.069594Z\",\"type\":\"invalid\",\"raw_text\":\"not json at all \\u2028 \\\"quoted\\\" \\\\ backslash\"}\n"
        + "{\"seq\":17,\"direction\":\"received\",\"timestamp\":\"2025-07-30T15:25:44.569594Z\",\"type\":\"invalid\",\"raw_base64\":\"//4AQQoN\"}\n"
        + "{\"seq\":19,\"direction\":\"sent\",\"timestamp\":\"2025-07-30T15:25:46.069594Z\",\"type\":\"invalid\",\"raw_text\":\"\"}\n"
        + "{\"seq\":39,\"direction\":\"sent\",\"timestamp\":\"2025-07-30T15:26:01.069594Z\",\"type\":\"invalid\",\"raw_base64\":\"eyJ0eXBlIjoi/yJ9\"}\n"
        + "{\"seq\":47,\"direction\":\"sent\",\"timestamp\":\"2025-07-30T15:26:07.069594Z\",\"type\":\"escaped key\",\"subtype\":\"s\\\"q\",\"raw\":{\"ty\\u0070e\":\"escaped key\",\"subtype\":\"s\\\"q\"}}\n"
        + "{\"seq\":95,\"direction\":\"sent\",\"timestamp\":\"2025-07-30T15:26:43.069594Z\",\"type\":\"e\",\"raw\":{\"type\":\"e\",\"t\":\"\\u2028 \\u2029 \\/ \\b\\f\\n\\r\\t\"}}\n"
        + "{\"seq\":105,\"direction\":\"received\",\"timestamp\":\"2025-07-30T15:26:50.569594Z\",\"type\":\"assistant\",\"subtype\":\"z\",\"raw\":{\"type\":\"assistant\",\"message\":{\"content\":[{\"type\":\"text\",\"text\":\"Grüße — 日本語テキスト 🎉 “quotes” ‘x’ … \\u2028 raw  \"}]},\"subtype\":\"z\"}}\n"
        + "{\"meta\":{\"working_directory\":\"/w\\u2028\",\"options\":{\"\":\"\",\"Zeta\":1e+300,\"a b\":[[],{},[1.5,-2,9223372036854775807]],\"allowed_tools\":[\"Bash\",\"Read\"],\"alpha\":-0.0,\"inf\":null,\"max_turns\":3,\"model\":\"claude-opus-5-5\",\"nested\":{\"a\":{\"b\":true,\"é\":\"\\u2028x\\u2029\\u0000\\u001f\\\"\\\\/\"}},\"permission_mode\":null,\"temperature\":0.5,\"éx\":2,\"ü\":0.1,\"😀\":\"🎉\"}},\"timestamp\":\"2025-07-30T15:25:31.069594Z\"}\n"
        + "{\"meta\":{\"options\":{}},\"timestamp\":\"2025-07-30T15:25:31.069594Z\"}\n"
        + "{\"meta\":{},\"timestamp\":\"2025-07-30T15:25:31.069594Z\"}\n"
        + "{\"meta\":{\"working_directory\":\"x\"},\"timestamp\":\"2025-07-30T15:25:31.069594Z\"}\n"
}
