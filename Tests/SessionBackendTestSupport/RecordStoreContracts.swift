import ClaudeCode
import ClaudeCodeSessions
import Foundation

/// Named contract checks for a ``SessionRecordStore`` backend (what `SessionPersistentClient`
/// relies on, as the JSON files provide it), each run on a fresh store.
public struct RecordStoreContract: Sendable, CustomStringConvertible {
    public let name: String
    public let run: @Sendable (any SessionRecordStore) async throws -> Void

    public var description: String { name }

    init(_ name: String, _ run: @escaping @Sendable (any SessionRecordStore) async throws -> Void) {
        self.name = name
        self.run = run
    }

    static func newID() -> SessionID { SessionID(rawValue: UUID().uuidString.lowercased())! }

    /// Frames of every kind the client records: valid JSON, not JSON, not UTF-8, line breaks,
    /// U+2028, empty, 1 MB; with and without subtype; microsecond timestamps.
    public static func sampleMessages(start: Date) -> [ConversationMessage] {
        var messages: [ConversationMessage] = []
        let big = String(repeating: "x", count: 1 << 20)
        let frames: [(ConversationMessage.Direction, [UInt8])] = [
            (.sent, Array(#"{"type":"control_request","request_id":"r1","request":{"subtype":"initialize"}}"#.utf8)),
            (.received, Array(#"{"type":"system","subtype":"init","session_id":"x","cwd":"/w"}"#.utf8)),
            (.sent, Array(#"{"type":"user","message":{"role":"user","content":"héllo 世界 🎉 \u2028"}}"#.utf8)),
            (.received, Array("{ \"type\" : \"assistant\",\n \"n\": 1.50e3 }".utf8)),
            (.received, Array("not json at all".utf8)),
            (.received, [0xFF, 0xFE, 0x00, 0x7B]),
            (.received, []),
            (.received, Array("{\"type\":\"big\",\"data\":\"\(big)\"}".utf8)),
            (.received, Array(#"{"type":"a\u0000%b","subtype":"%00"}"#.utf8)),
            (.received, Array(#"{"type":"result","subtype":"success","is_error":false}"#.utf8)),
        ]
        for (index, (direction, raw)) in frames.enumerated() {
            messages.append(
                ConversationMessage(
                    direction: direction, rawJSON: raw, timestamp: start.addingTimeInterval(Double(index) + 0.123456)))
        }
        return messages
    }

    public static let all: [RecordStoreContract] = [
        .init("a record round-trips: metadata, every frame byte for byte, types, timestamps") { store in
            let id = newID()
            let start = Date(timeIntervalSince1970: 1_760_000_000.654321)
            let options: [String: JSONValue] = [
                "model": "claude-sonnet-4-5", "max_turns": 3, "max_budget_usd": 1.25,
                "allowed_tools": ["Bash", "Read"],
                "cwd": "/projects/démo",
            ]
            let writer = try await store.openRecord(
                id, startTime: start, workingDirectory: "/projects/démo", options: options)
            let messages = sampleMessages(start: start)
            try await writer.append(Array(messages[0..<3]))
            try await writer.append([])
            try await writer.append(Array(messages[3...]))
            try await writer.checkpoint()
            try await writer.close()
            let data = try await store.loadRecord(id)
            try await checkEqual(data.sessionID, id, "id")
            try await checkEqual(data.startTime, SessionData(sessionID: id, startTime: start).startTime, "start time")
            try await checkEqual(data.lastActivity, messages.map(\.timestamp).max()!, "last activity")
            try await checkEqual(data.conversationHistory.count, messages.count, "count")
            for (index, (loaded, original)) in zip(data.conversationHistory, messages).enumerated() {
                try await check(loaded == original, "message \(index) differs")
                try await checkEqual(loaded.rawJSON, original.rawJSON, "raw \(index)")
            }
            try await checkEqual(data.conversationHistory.map(\.type), messages.map(\.type), "types")
            try await checkEqual(data.conversationHistory.map(\.subtype), messages.map(\.subtype), "subtypes")
            try await checkEqual(data.workingDirectory, "/projects/démo", "working directory")
            try await checkEqual(data.options, options, "options")
            try await checkEqual(data.schemaVersion, SessionData.currentSchemaVersion, "schema version")
        },
        .init("listing shows every record with its metadata, newest activity first") { store in
            var expected: [(SessionID, Date, Int)] = []
            let base = Date(timeIntervalSince1970: 1_750_000_000)
            for index in 0..<12 {
                let id = newID()
                let start = base.addingTimeInterval(Double(index * 7 % 12) * 10)
                let writer = try await store.openRecord(
                    id, startTime: start, workingDirectory: "/w\(index)", options: [:])
                let messages = (0..<index).map {
                    ConversationMessage(
                        direction: .received, rawJSON: #"{"type":"x"}"#, timestamp: start.addingTimeInterval(Double($0))
                    )
                }
                try await writer.append(messages)
                try await writer.close()
                expected.append(
                    (id, messages.last?.timestamp ?? SessionData(sessionID: id, startTime: start).startTime, index))
            }
            let listed = try await store.listRecords()
            let summaries = listed.compactMap(\.summary)
            try await checkEqual(summaries.count, 12, "all listed, none damaged")
            try await check(
                zip(summaries, summaries.dropFirst()).allSatisfy { $0.lastActivity >= $1.lastActivity }, "newest first")
            for (id, last, count) in expected {
                guard let summary = summaries.first(where: { $0.sessionID == id }) else {
                    throw ContractFailure("\(id) missing")
                }
                try await checkEqual(summary.messageCount, count, "message count")
                try await checkEqual(summary.lastActivity, last, "last activity")
                try await checkEqual(summary.workingDirectory, "/w\(count)", "working directory")
                try await checkEqual(summary.schemaVersion, SessionData.currentSchemaVersion, "schema version")
            }
        },
        .init("loading or deleting an unknown record is sessionNotFound") { store in
            try await checkThrows(.sessionNotFound, "load") { try await store.loadRecord(newID()) }
            try await checkThrows(.sessionNotFound, "delete") { try await store.deleteRecord(newID()) }
            try await checkEqual(try await store.listRecords().count, 0, "nothing listed")
        },
        .init("delete removes the record; an open writer starts it again") { store in
            let id = newID()
            let writer = try await store.openRecord(
                id, startTime: Date(), workingDirectory: "/w", options: ["model": "m"])
            try await writer.append([ConversationMessage(direction: .sent, rawJSON: #"{"type":"user"}"#)])
            try await store.deleteRecord(id)
            try await checkThrows(.sessionNotFound, "deleted") { try await store.loadRecord(id) }
            try await checkEqual(try await store.listRecords().count, 0, "not listed")
            try await writer.append([ConversationMessage(direction: .received, rawJSON: #"{"type":"result"}"#)])
            try await writer.close()
            let data = try await store.loadRecord(id)
            try await checkEqual(data.conversationHistory.map(\.type), ["result"], "only what came after the delete")
            try await checkEqual(data.workingDirectory, "/w", "metadata kept")
            try await checkEqual(data.options["model"], "m", "options kept")
        },
        .init("reopening a record keeps its messages, replaces its metadata and continues in order") { store in
            let id = newID()
            let start = Date(timeIntervalSince1970: 1_700_000_000)
            let first = try await store.openRecord(
                id, startTime: start, workingDirectory: "/a", options: ["model": "one"])
            try await first.append([
                ConversationMessage(direction: .sent, rawJSON: #"{"type":"user","n":1}"#, timestamp: start)
            ])
            try await first.close()
            let second = try await store.openRecord(
                id, startTime: Date(), workingDirectory: "/b", options: ["model": "two"])
            try await second.append([ConversationMessage(direction: .sent, rawJSON: #"{"type":"user","n":2}"#)])
            try await second.close()
            let data = try await store.loadRecord(id)
            try await checkEqual(
                try data.conversationHistory.map { try JSONValue.parse($0.rawJSON)["n"]?.intValue }, [1, 2],
                "both, in order")
            try await checkEqual(data.startTime, start, "start time kept")
            try await checkEqual(data.workingDirectory, "/b", "working directory replaced")
            try await checkEqual(data.options, ["model": "two"], "options replaced")
            try await check(data.lastActivity > start, "activity advanced")
            try await checkEqual(try await store.listRecords().compactMap(\.summary).map(\.messageCount), [2], "count")
        },
        .init("a closed writer refuses appends") { store in
            let id = newID()
            let writer = try await store.openRecord(id, startTime: Date(), workingDirectory: "", options: [:])
            try await writer.close()
            try await checkThrows(.writerClosed, "append after close") {
                try await writer.append([ConversationMessage(direction: .sent, rawJSON: #"{"type":"user"}"#)])
            }
            try await checkEqual(try await store.loadRecord(id).conversationHistory.count, 0, "nothing recorded")
        },
        .init("concurrent writers keep every message once and each writer's order") { store in
            let shared = newID()
            let writers = 8
            let perWriter = 40
            try await withThrowingTaskGroup(of: Void.self) { group in
                for w in 0..<writers {
                    group.addTask {
                        let writer = try await store.openRecord(
                            shared, startTime: Date(), workingDirectory: "/w", options: [:])
                        let own = try await store.openRecord(
                            newID(), startTime: Date(), workingDirectory: "/own", options: [:])
                        for n in 0..<perWriter {
                            let message = ConversationMessage(
                                direction: .received, rawJSON: #"{"type":"x","w":\#(w),"n":\#(n)}"#)
                            try await writer.append([message])
                            try await own.append([message])
                            if n % 10 == 9 { try await writer.checkpoint() }
                        }
                        try await writer.close()
                        try await own.close()
                    }
                }
                try await group.waitForAll()
            }
            let history = try await store.loadRecord(shared).conversationHistory
            try await checkEqual(history.count, writers * perWriter, "all messages")
            var next = [Int](repeating: 0, count: writers)
            for message in history {
                let value = try JSONValue.parse(message.rawJSON)
                guard let w = value["w"]?.intValue, let n = value["n"]?.intValue else {
                    throw ContractFailure("bad message")
                }
                try await checkEqual(n, next[w], "writer \(w)'s order")
                next[w] = n + 1
            }
            let summaries = try await store.listRecords().compactMap(\.summary)
            try await checkEqual(summaries.count, writers + 1, "records")
            try await checkEqual(
                summaries.first { $0.sessionID == shared }?.messageCount, writers * perWriter,
                "count of the shared record")
        },
    ]
}
