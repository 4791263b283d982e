import ClaudeCode
import ClaudeCodeSessions
import Foundation
import Testing

/// `SessionLedger` and `RecordSummaryFold`: per-turn figures from the CLI's per-process running totals.
@Suite("Session ledger")
struct SessionLedgerTests {
    /// A result frame as CLI 2.1.331 writes it: running totals per process, `usage` per turn.
    static func result(
        total: Double, index: Int?, turnInput: Int, turnOutput: Int, runningInput: Int, runningOutput: Int,
        api: Int, since: Bool = true, model: String = "claude-opus-5-5"
    ) -> ConversationMessage {
        var object: [String: JSONValue] = [
            "type": "result", "subtype": "success", "is_error": false, "num_turns": 1, "session_id": "s",
            "duration_ms": 100, "duration_api_ms": .int(Int64(api)), "total_cost_usd": .double(total),
            "usage": ["input_tokens": .int(Int64(turnInput)), "output_tokens": .int(Int64(turnOutput))],
            "modelUsage": [
                model: [
                    "inputTokens": .int(Int64(runningInput)), "outputTokens": .int(Int64(runningOutput)),
                    "costUSD": .double(total),
                ]
            ],
        ]
        if let index { object["result_index"] = .int(Int64(index)) }
        if since {
            object["model_usage_since_last_result"] = [
                model: ["inputTokens": .int(Int64(turnInput)), "outputTokens": .int(Int64(turnOutput))]
            ]
        }
        return ConversationMessage(direction: .received, rawJSON: JSONValue.object(object).serialized())
    }

    static let initialize = ConversationMessage(
        direction: .sent,
        rawJSON: #"{"type":"control_request","request_id":"r1","request":{"subtype":"initialize","hooks":null}}"#)

    static func prompt(_ text: String) -> ConversationMessage {
        ConversationMessage(
            direction: .sent,
            rawJSON: JSONValue.object([
                "type": "user", "message": ["role": "user", "content": .string(text)], "session_id": "default",
            ]).serialized())
    }

    /// Two processes of two turns each: the naive sum of `total_cost_usd` counts early turns twice.
    static let twoProcesses: [ConversationMessage] = [
        initialize, prompt("first"),
        result(total: 0.10, index: 0, turnInput: 100, turnOutput: 10, runningInput: 100, runningOutput: 10, api: 50),
        prompt("second"),
        result(total: 0.25, index: 1, turnInput: 150, turnOutput: 20, runningInput: 250, runningOutput: 30, api: 120),
        initialize, prompt("third"),
        result(total: 0.30, index: 0, turnInput: 300, turnOutput: 30, runningInput: 300, runningOutput: 30, api: 70),
        prompt("fourth"),
        result(total: 0.70, index: 1, turnInput: 400, turnOutput: 40, runningInput: 700, runningOutput: 70, api: 200),
    ]

    @Test func turnsAreTheDifferencesWithinEachProcess() {
        let ledger = SessionLedger(history: Self.twoProcesses)
        #expect(ledger.turns == 4)
        #expect(abs(ledger.costUSD - 0.95) < 1e-12)  // 0.25 + 0.70, not 0.10 + 0.25 + 0.30 + 0.70
        #expect(ledger.recentTurns.map(\.costUSD).map { ($0 * 100).rounded() / 100 } == [0.10, 0.15, 0.30, 0.40])
        #expect(ledger.totals.inputTokens == 950)
        #expect(ledger.totals.outputTokens == 100)
        #expect(ledger.apiDurationMilliseconds == 120 + 200)
        #expect(ledger.recentTurns.map(\.apiDurationMilliseconds) == [50, 70, 70, 130])
        #expect(ledger.models["claude-opus-5-5"]?.inputTokens == 950)
        #expect(ledger.durationMilliseconds == 400)
    }

    @Test func aNewProcessIsRecognisedWithoutTheInitializeRequest() {
        // Records made before the SDK's initialize was recorded: result_index and the running cost tell.
        let history = Self.twoProcesses.filter { $0.type != "control_request" }
        #expect(SessionLedger(history: history) == SessionLedger(history: Self.twoProcesses))
        // Without result_index either, the cost going down still tells.
        let bare = [
            Self.result(total: 0.2, index: nil, turnInput: 1, turnOutput: 1, runningInput: 1, runningOutput: 1, api: 1),
            Self.result(total: 0.1, index: nil, turnInput: 2, turnOutput: 2, runningInput: 2, runningOutput: 2, api: 1),
        ]
        #expect(abs(SessionLedger(history: bare).costUSD - 0.3) < 1e-12)
    }

    @Test func withoutPerTurnModelUsageTheRunningTotalsAreDifferenced() {
        let history: [ConversationMessage] = [
            Self.initialize,
            Self.result(
                total: 0.1, index: 0, turnInput: 100, turnOutput: 10, runningInput: 100, runningOutput: 10, api: 5,
                since: false),
            Self.result(
                total: 0.3, index: 1, turnInput: 150, turnOutput: 20, runningInput: 250, runningOutput: 30, api: 9,
                since: false),
        ]
        let ledger = SessionLedger(history: history)
        #expect(ledger.recentTurns.map(\.totals.inputTokens) == [100, 150])
        #expect(ledger.totals.outputTokens == 30)
    }

    @Test func theFoldGivesTitleModelAndLedgerAndIsIncremental() throws {
        let initFrame = ConversationMessage(
            direction: .received,
            rawJSON: #"{"type":"system","subtype":"init","session_id":"s","model":"claude-opus-5-5","cwd":"/w"}"#)
        let retitled = ConversationMessage(
            direction: .received,
            rawJSON: #"{"type":"system","subtype":"session_title_changed","title":"Release prep","session_id":"s"}"#)
        var fold = RecordSummaryFold()
        fold.add(Array(Self.twoProcesses.prefix(3)) + [initFrame])
        #expect(fold.title == "first")
        #expect(fold.model == "claude-opus-5-5")
        fold.add(Array(Self.twoProcesses.dropFirst(3)) + [retitled])
        #expect(fold.title == "Release prep")
        #expect(fold.ledger == SessionLedger(history: Self.twoProcesses))
        // It round-trips as JSON, as the database stores keep it.
        let decoded = try JSONDecoder().decode(RecordSummaryFold.self, from: JSONEncoder().encode(fold))
        #expect(decoded == fold)
        var continued = decoded
        continued.add(
            Self.result(
                total: 0.8, index: 2, turnInput: 1, turnOutput: 1, runningInput: 701, runningOutput: 71, api: 210))
        #expect(continued.ledger.turns == 5)
        #expect(abs(continued.ledger.costUSD - 1.05) < 1e-12)
    }

    @Test func frozenFixtureResultsDecodeTyped() throws {
        let line = Array(
            #"{"type":"result","subtype":"success","is_error":false,"duration_ms":1,"duration_api_ms":1,"num_turns":1,"session_id":"s","total_cost_usd":0.5,"usage":{"input_tokens":7,"output_tokens":3,"cache_read_input_tokens":2,"server_tool_use":{"web_search_requests":1},"extra":true},"modelUsage":{"m":{"inputTokens":7,"costUSD":0.5,"contextWindow":1000}},"result_index":4}"#
                .utf8)
        guard case .result(let result) = Message(line: line) else {
            Issue.record("not a result")
            return
        }
        #expect(result.usage?.inputTokens == 7)
        #expect(result.usage?.cacheReadInputTokens == 2)
        #expect(result.usage?.webSearchRequests == 1)
        #expect(result.usage?.totalInputTokens == 9)
        #expect(result.usage?.json["extra"] == true)
        #expect(result.modelUsage["m"]?.costUSD == 0.5)
        #expect(result.modelUsage["m"]?.contextWindow == 1000)
        #expect(result.modelUsageSinceLastResult == nil)
        #expect(result.resultIndex == 4)
    }
}
