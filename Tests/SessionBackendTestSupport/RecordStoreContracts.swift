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

    /// Two CLI processes' frames, in the batches a client might append them: each process starts
    /// with the SDK's outbound `initialize` request, its results carry running
    /// `total_cost_usd`/`modelUsage` totals that start again in the second process, and the second
    /// process renames the session and changes model.
    public static func twoProcessBatches(start: Date) -> [[ConversationMessage]] {
        var clock = 0.0
        func frame(_ direction: ConversationMessage.Direction, _ json: String) -> ConversationMessage {
            clock += 1.000_001
            return ConversationMessage(direction: direction, rawJSON: Array(json.utf8), timestamp: start + clock)
        }
        func result(_ cost: Double, _ models: String, index: Int, apiMS: Int) -> String {
            #"{"type":"result","subtype":"success","is_error":false,"duration_ms":1000,"duration_api_ms":\#(apiMS),"num_turns":1,"session_id":"s","total_cost_usd":\#(cost),"usage":{"input_tokens":1,"output_tokens":1},"modelUsage":{\#(models)},"result_index":\#(index),"uuid":"r\#(index)-\#(cost)"}"#
        }
        func usage(_ input: Int, _ output: Int, _ cost: Double) -> String {
            #"{"inputTokens":\#(input),"outputTokens":\#(output),"cacheReadInputTokens":\#(input * 10),"cacheCreationInputTokens":5,"costUSD":\#(cost)}"#
        }
        let initialize =
            #"{"type":"control_request","request_id":"req_1","request":{"subtype":"initialize","hooks":null}}"#
        return [
            // Process 1.
            [frame(.sent, initialize)],
            [
                frame(.received, #"{"type":"control_response","response":{"subtype":"success","request_id":"req_1"}}"#),
                frame(
                    .sent,
                    #"{"type":"user","message":{"role":"user","content":[{"type":"text","text":"  Fix the build  "}]}}"#
                ),
                frame(
                    .received,
                    #"{"type":"system","subtype":"init","session_id":"s","model":"claude-sonnet-4-5","cwd":"/w"}"#),
                frame(.received, #"{"type":"assistant","message":{"content":[{"type":"text","text":"ok"}]}}"#),
            ],
            [frame(.received, result(0.01, #""claude-sonnet-4-5":\#(usage(100, 20, 0.01))"#, index: 0, apiMS: 800))],
            [
                frame(.sent, #"{"type":"user","message":{"role":"user","content":"and the tests"}}"#),
                frame(.received, #"{"type":"system","subtype":"init","session_id":"s","model":"claude-sonnet-4-5"}"#),
                frame(
                    .received,
                    result(0.03, #""claude-sonnet-4-5":\#(usage(300, 50, 0.03))"#, index: 1, apiMS: 2000)),
            ],
            // Process 2 (resumed): running totals start again.
            [
                frame(.sent, initialize),
                frame(.sent, #"{"type":"user","message":{"role":"user","content":"now deploy"}}"#),
                frame(.received, #"{"type":"system","subtype":"init","session_id":"s","model":"claude-opus-4-1"}"#),
            ],
            [frame(.received, #"{"type":"system","subtype":"session_title_changed","title":"Build, tests, deploy"}"#)],
            [
                frame(
                    .received,
                    result(
                        0.02, #""claude-opus-4-1":\#(usage(50, 10, 0.015)),"claude-haiku-4-5":\#(usage(10, 5, 0.005))"#,
                        index: 0, apiMS: 500)),
                frame(.received, #"{"type":"stream_event","event":{"type":"message_stop"}}"#),
            ],
        ]
    }

    /// Checks that the listing shows `id` with the fold of its loaded frames.
    static func checkListedFold(_ store: any SessionRecordStore, _ id: SessionID, line: Int = #line) async throws
        -> RecordSummary
    {
        let expected = RecordSummaryFold(history: try await store.loadRecord(id).conversationHistory)
        guard let summary = try await store.listRecords().compactMap(\.summary).first(where: { $0.sessionID == id })
        else { throw ContractFailure("line \(line): \(id) not listed") }
        try await checkEqual(ListedLedger(summary.ledger), ListedLedger(expected.ledger), "ledger", line: line)
        try await checkEqual(summary.title, expected.title, "title", line: line)
        try await checkEqual(summary.model, expected.model, "model", line: line)
        return summary
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
        .init("listing shows each record's ledger, title and model, folded across CLI processes and batches") { store in
            let id = newID()
            let start = Date(timeIntervalSince1970: 1_760_000_000.25)
            let batches = twoProcessBatches(start: start)
            // Process 1 through one writer; process 2 through a writer opened again (a resume).
            let first = try await store.openRecord(id, startTime: start, workingDirectory: "/w", options: [:])
            for batch in batches[0..<4] { try await first.append(batch) }
            try await first.close()
            let untitled = try await checkListedFold(store, id)
            try await checkEqual(untitled.title, "Fix the build", "the first prompt, trimmed, before a custom title")
            try await checkEqual(untitled.ledger.turns, 2, "turns of process 1")
            let second = try await store.openRecord(id, startTime: start, workingDirectory: "/w", options: [:])
            for batch in batches[4...] { try await second.append(batch) }
            try await second.close()

            let summary = try await checkListedFold(store, id)
            // The figures themselves, so that an empty or naive fold cannot pass.
            try await checkEqual(summary.title, "Build, tests, deploy", "custom title")
            try await checkEqual(summary.model, "claude-opus-4-1", "latest model")
            try await checkEqual(summary.ledger.turns, 3, "turns")
            try await check(
                abs(summary.ledger.costUSD - 0.05) < 1e-9, "cost 0.01 + 0.02 + 0.02, got \(summary.ledger.costUSD)")
            try await checkEqual(summary.ledger.totals.inputTokens, 360, "input tokens")
            try await checkEqual(summary.ledger.totals.outputTokens, 65, "output tokens")
            try await checkEqual(summary.ledger.apiDurationMilliseconds, 2500, "API time")
            try await checkEqual(
                Set(summary.ledger.models.keys), ["claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5"], "models")
            try await checkEqual(summary.messageCount, batches.joined().count, "count")
            // Listing again gives the same (a stored fold, or one computed once and kept).
            try await checkEqual(try await checkListedFold(store, id), summary, "second listing")
        },
        .init("writers interleaving on one record, and a delete, keep the listed fold exact") { store in
            let id = newID()
            let start = Date(timeIntervalSince1970: 1_760_000_100)
            let batches = twoProcessBatches(start: start)
            let a = try await store.openRecord(id, startTime: start, workingDirectory: "/w", options: [:])
            let b = try await store.openRecord(id, startTime: start, workingDirectory: "/w", options: [:])
            for (index, batch) in batches.enumerated() {
                try await (index % 2 == 0 ? a : b).append(batch)
            }
            let summary = try await checkListedFold(store, id)
            try await checkEqual(summary.ledger.turns, 3, "turns")
            try await checkEqual(summary.title, "Build, tests, deploy", "title")
            // Deleted while both are open: the next append starts the record again with only its frames.
            try await store.deleteRecord(id)
            try await a.append(batches[4])
            try await b.append(batches[6])
            let again = try await checkListedFold(store, id)
            try await checkEqual(again.ledger.turns, 1, "turns after the delete")
            try await checkEqual(again.title, "now deploy", "first prompt after the delete")
            try await checkEqual(again.model, "claude-opus-4-1", "model after the delete")
            try await a.close()
            try await b.close()
            let empty = newID()
            let writer = try await store.openRecord(empty, startTime: start, workingDirectory: "/w", options: [:])
            try await writer.close()
            let blank = try await checkListedFold(store, empty)
            try await checkEqual(ListedLedger(blank.ledger), ListedLedger(SessionLedger()), "an empty record's ledger")
            try await checkEqual(blank.title, nil, "an empty record's title")
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
        .init("a record's title and tag are set, listed, loaded, kept across appends and cleared") { store in
            let id = newID()
            let start = Date(timeIntervalSince1970: 1_760_000_000.5)
            let batches = twoProcessBatches(start: start)
            let first = try await store.openRecord(id, startTime: start, workingDirectory: "/w", options: [:])
            try await first.append(batches[0])
            try await first.close()
            let before = try await store.loadRecord(id)
            try await checkEqual(before.title, nil, "no title at first")
            try await checkEqual(before.tag, nil, "no tag at first")
            try await store.setRecordTitle(id, title: "Release «checklist» 100% \\ \"ok\"")
            try await store.setRecordTag(id, tag: "review")
            var data = try await store.loadRecord(id)
            try await checkEqual(data.title, "Release «checklist» 100% \\ \"ok\"", "title loaded")
            try await checkEqual(data.tag, "review", "tag loaded")
            try await checkEqual(data.lastActivity, before.lastActivity, "a label is not activity")
            try await checkEqual(data.conversationHistory, before.conversationHistory, "frames untouched")
            guard var summary = try await store.listRecords().compactMap(\.summary).first(where: { $0.sessionID == id })
            else { throw ContractFailure("\(id) not listed") }
            try await checkEqual(summary.title, "Release «checklist» 100% \\ \"ok\"", "listed title")
            try await checkEqual(summary.customTitle, "Release «checklist» 100% \\ \"ok\"", "listed own title")
            try await checkEqual(summary.tag, "review", "listed tag")
            // Appends after a label (a resumed conversation) keep it.
            let second = try await store.openRecord(id, startTime: start, workingDirectory: "/w", options: [:])
            for batch in batches[1...] { try await second.append(batch) }
            try await second.close()
            data = try await store.loadRecord(id)
            try await checkEqual(data.title, "Release «checklist» 100% \\ \"ok\"", "title kept across appends")
            try await checkEqual(data.tag, "review", "tag kept across appends")
            try await checkEqual(data.conversationHistory.count, batches.joined().count, "every frame")
            try await store.setRecordTag(id, tag: "shipped")
            try await store.setRecordTitle(id, title: nil)
            data = try await store.loadRecord(id)
            try await checkEqual(data.title, nil, "title cleared")
            try await checkEqual(data.tag, "shipped", "tag replaced")
            guard let listed = try await store.listRecords().compactMap(\.summary).first(where: { $0.sessionID == id })
            else { throw ContractFailure("\(id) not listed") }
            summary = listed
            try await checkEqual(summary.customTitle, nil, "own title cleared")
            try await checkEqual(summary.title, "Build, tests, deploy", "the CLI's title again")
            try await checkEqual(summary.tag, "shipped", "listed tag replaced")
            try await store.setRecordTag(id, tag: "")
            try await checkEqual(try await store.loadRecord(id).tag, nil, "an empty tag clears it")
            let unknown = newID()
            try await checkThrows(.sessionNotFound, "title of an unknown record") {
                try await store.setRecordTitle(unknown, title: "x")
            }
            try await checkThrows(.sessionNotFound, "tag of an unknown record") {
                try await store.setRecordTag(unknown, tag: "x")
            }
            try await checkThrows(.sessionNotFound, "no record was created") { try await store.loadRecord(unknown) }
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

/// The session totals of a ledger that every record store lists (the database stores do not list
/// the per-turn ``SessionLedger/recentTurns``).
public struct ListedLedger: Equatable, Sendable, CustomStringConvertible {
    public var turns: Int
    public var totals: SessionLedger.Totals
    public var models: [String: SessionLedger.Totals]
    public var apiDurationMilliseconds: Int
    public var durationMilliseconds: Int

    public init(_ ledger: SessionLedger) {
        turns = ledger.turns
        totals = ledger.totals
        models = ledger.models
        apiDurationMilliseconds = ledger.apiDurationMilliseconds
        durationMilliseconds = ledger.durationMilliseconds
    }

    public var description: String {
        "\(turns) turns, \(totals), \(models), api \(apiDurationMilliseconds) ms, \(durationMilliseconds) ms"
    }
}
