public import ClaudeCode

#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// What a recorded session cost and used, turn by turn, added up correctly across CLI
/// processes.
///
/// The CLI's `ResultMessage/totalCostUSD`, `ResultMessage/modelUsage` and
/// `ResultMessage/apiDurationMilliseconds` are running totals of the CLI *process*: they start
/// again at zero in every new process, including after `--resume`. Adding them up over a
/// session's results counts early turns many times; taking the last one forgets every earlier
/// process. The ledger turns each result into that turn's own figures (the difference from the
/// previous result of the same process) and sums those.
///
/// A new process is recognised by the `initialize` request the SDK sends at every connect
/// (recorded with the session), and, for records without it, by `result_index` starting again
/// or the running cost going down.
///
/// | Figure | Per turn | Session total |
/// | --- | --- | --- |
/// | ``Turn/costUSD`` / ``costUSD`` | this result's `total_cost_usd` minus the previous result's of the same process | the sum over turns |
/// | ``Turn/models`` / ``models`` | `model_usage_since_last_result` when present, else the difference of `modelUsage` | the sums per model |
/// | tokens (``Totals``) | the sums of the turn's per-model usage; `usage` when the CLI gives no per-model figures | the sums over turns |
/// | ``Turn/apiDurationMilliseconds`` / ``apiDurationMilliseconds`` | the increase of `duration_api_ms` within the process | the sum over turns |
/// | ``Turn/durationMilliseconds`` / ``durationMilliseconds`` | `duration_ms` (already per turn) | the sum over turns |
/// | ``turns`` | one per result | the number of results |
public struct SessionLedger: Sendable, Hashable, Codable {
    /// Token counts and cost.
    public struct Totals: Sendable, Hashable, Codable {
        /// Input tokens not read from or written to the prompt cache.
        public var inputTokens: Int = 0
        /// Output tokens.
        public var outputTokens: Int = 0
        /// Input tokens written to the prompt cache.
        public var cacheCreationInputTokens: Int = 0
        /// Input tokens read from the prompt cache.
        public var cacheReadInputTokens: Int = 0
        /// Cost in US dollars.
        public var costUSD: Double = 0

        /// Creates totals.
        public init(
            inputTokens: Int = 0, outputTokens: Int = 0, cacheCreationInputTokens: Int = 0,
            cacheReadInputTokens: Int = 0, costUSD: Double = 0
        ) {
            self.inputTokens = inputTokens
            self.outputTokens = outputTokens
            self.cacheCreationInputTokens = cacheCreationInputTokens
            self.cacheReadInputTokens = cacheReadInputTokens
            self.costUSD = costUSD
        }

        init(_ usage: ModelUsage) {
            self.init(
                inputTokens: usage.inputTokens, outputTokens: usage.outputTokens,
                cacheCreationInputTokens: usage.cacheCreationInputTokens,
                cacheReadInputTokens: usage.cacheReadInputTokens, costUSD: usage.costUSD)
        }

        /// Input tokens of every kind.
        public var totalInputTokens: Int { inputTokens + cacheCreationInputTokens + cacheReadInputTokens }

        static func + (lhs: Totals, rhs: Totals) -> Totals {
            Totals(
                inputTokens: lhs.inputTokens + rhs.inputTokens, outputTokens: lhs.outputTokens + rhs.outputTokens,
                cacheCreationInputTokens: lhs.cacheCreationInputTokens + rhs.cacheCreationInputTokens,
                cacheReadInputTokens: lhs.cacheReadInputTokens + rhs.cacheReadInputTokens,
                costUSD: lhs.costUSD + rhs.costUSD)
        }

        /// `lhs - rhs`, each count at least zero.
        static func - (lhs: Totals, rhs: Totals) -> Totals {
            Totals(
                inputTokens: max(0, lhs.inputTokens - rhs.inputTokens),
                outputTokens: max(0, lhs.outputTokens - rhs.outputTokens),
                cacheCreationInputTokens: max(0, lhs.cacheCreationInputTokens - rhs.cacheCreationInputTokens),
                cacheReadInputTokens: max(0, lhs.cacheReadInputTokens - rhs.cacheReadInputTokens),
                costUSD: max(0, lhs.costUSD - rhs.costUSD))
        }
    }

    /// One turn's own figures.
    public struct Turn: Sendable, Hashable, Codable {
        /// The result's `uuid`, when it has one.
        public var resultUUID: String?
        /// When the result was recorded.
        public var date: Date
        /// Whether the turn ended in an error.
        public var isError: Bool
        /// The turn's tokens and cost, all models together.
        public var totals: Totals
        /// The turn's tokens and cost per model.
        public var models: [String: Totals]
        /// Time spent waiting for the API in this turn.
        public var apiDurationMilliseconds: Int
        /// The turn's wall time.
        public var durationMilliseconds: Int
        /// The turn's cost in US dollars.
        public var costUSD: Double { totals.costUSD }
    }

    /// How many turns (results) the session has had.
    public var turns: Int = 0
    /// The session's tokens and cost, all models together.
    public var totals = Totals()
    /// The session's tokens and cost per model.
    public var models: [String: Totals] = [:]
    /// Time spent waiting for the API, over the whole session.
    public var apiDurationMilliseconds: Int = 0
    /// Wall time of all turns.
    public var durationMilliseconds: Int = 0
    /// The most recent turns, newest last (at most ``recentTurnLimit``), for showing per-turn cost.
    /// Filled for a loaded record (``SessionData/ledger``); a listing from a database store
    /// (``RecordSummary/ledger``) carries the totals only and leaves it empty.
    public var recentTurns: [Turn] = []

    /// How many turns ``recentTurns`` keeps.
    public static let recentTurnLimit = 64

    /// The session's cost in US dollars.
    public var costUSD: Double { totals.costUSD }

    // The running totals of the current CLI process, to turn its results into per-turn figures.
    private var process = ProcessTotals()

    private struct ProcessTotals: Sendable, Hashable, Codable {
        var costUSD: Double = 0
        var models: [String: Totals] = [:]
        var apiDurationMilliseconds: Int = 0
        var lastResultIndex: Int?
    }

    /// An empty ledger.
    public init() {}

    /// The ledger of a recorded conversation.
    public init(history: [ConversationMessage]) {
        self.init()
        for message in history { add(message) }
    }

    /// Tells the ledger a new CLI process starts: its running totals start from zero.
    public mutating func processStarted() {
        process = ProcessTotals()
    }

    /// Adds one recorded frame: a result adds a turn; the SDK's `initialize` request starts a new
    /// process. Other frames are ignored without being parsed.
    public mutating func add(_ message: ConversationMessage) {
        switch (message.direction, message.type) {
        case (.sent, "control_request"):
            // The request's subtype is nested: only the (few) outbound control requests are parsed.
            if case .object(let frame)? = try? JSONValue.parse(message.rawJSON),
                frame["request"]?["subtype"]?.stringValue == "initialize"
            {
                processStarted()
            }
        case (.received, "result"):
            if case .result(let result) = Message(line: message.rawJSON) { add(result, at: message.timestamp) }
        default:
            break
        }
    }

    /// Adds one result and returns the turn it stands for.
    @discardableResult
    public mutating func add(_ result: ResultMessage, at date: Date = Date()) -> Turn {
        // A process the ledger was not told about: result_index started again, or the running cost went down.
        if let index = result.resultIndex, let last = process.lastResultIndex, index <= last { processStarted() }
        if let total = result.totalCostUSD, total + 1e-12 < process.costUSD { processStarted() }
        process.lastResultIndex = result.resultIndex ?? process.lastResultIndex

        // Per model: what the CLI says changed since its previous result, else the difference of its running totals.
        var turnModels: [String: Totals] = [:]
        let running = result.modelUsage.mapValues(Totals.init)
        if let since = result.modelUsageSinceLastResult {
            turnModels = since.mapValues(Totals.init)
        } else {
            for (model, totals) in running {
                let delta = totals - (process.models[model] ?? Totals())
                if delta != Totals() { turnModels[model] = delta }
            }
        }
        if !running.isEmpty { process.models = running }

        var totals = turnModels.values.reduce(Totals(), +)
        if turnModels.isEmpty, let usage = result.usage {
            totals.inputTokens = usage.inputTokens
            totals.outputTokens = usage.outputTokens
            totals.cacheCreationInputTokens = usage.cacheCreationInputTokens
            totals.cacheReadInputTokens = usage.cacheReadInputTokens
        }
        if let total = result.totalCostUSD {
            totals.costUSD = max(0, total - process.costUSD)
            process.costUSD = total
        }

        let api = result.apiDurationMilliseconds
        let apiDelta = api >= process.apiDurationMilliseconds ? api - process.apiDurationMilliseconds : api
        process.apiDurationMilliseconds = max(process.apiDurationMilliseconds, api)

        let turn = Turn(
            resultUUID: result.uuid, date: date, isError: result.isError, totals: totals, models: turnModels,
            apiDurationMilliseconds: apiDelta, durationMilliseconds: result.durationMilliseconds)
        turns += 1
        self.totals = self.totals + totals
        for (model, used) in turnModels { models[model] = (models[model] ?? Totals()) + used }
        apiDurationMilliseconds += apiDelta
        durationMilliseconds += result.durationMilliseconds
        recentTurns.append(turn)
        if recentTurns.count > Self.recentTurnLimit {
            recentTurns.removeFirst(recentTurns.count - Self.recentTurnLimit)
        }
        return turn
    }
}

/// Folds a record's frames into what a listing shows: the ledger, a title, the model.
///
/// Stores keep one per record and fold each appended batch into it, so listing never reads a
/// conversation. It is `Codable` so stores can keep it as one JSON value.
public struct RecordSummaryFold: Sendable, Hashable, Codable {
    /// Cost and usage.
    public var ledger = SessionLedger()
    /// The title the CLI gave the session (`system/session_title_changed`), if any.
    public var customTitle: String?
    /// The first prompt sent, cut to 200 characters.
    public var firstPrompt: String?
    /// The model of the latest `system/init`.
    public var model: String?

    /// An empty fold.
    public init() {}

    /// The fold of a whole record.
    public init(history: [ConversationMessage]) {
        self.init()
        add(history)
    }

    /// The custom title, else the first prompt.
    public var title: String? { customTitle ?? firstPrompt }

    /// Folds frames in, in order.
    public mutating func add(_ messages: some Sequence<ConversationMessage>) {
        for message in messages { add(message) }
    }

    /// Folds one frame in. Only results, `system` frames, the SDK's control requests and
    /// prompts until the first one with text are parsed.
    public mutating func add(_ message: ConversationMessage) {
        switch (message.direction, message.type) {
        case (.received, "system"):
            guard message.subtype == "init" || message.subtype == "session_title_changed",
                case .system(let system) = Message(line: message.rawJSON)
            else { return }
            switch system.kind {
            case .initialize(let info): if let model = info.model, !model.isEmpty { self.model = model }
            case .sessionTitleChanged(let title): if !title.isEmpty { customTitle = title }
            default: break
            }
        case (.sent, "user") where firstPrompt == nil:
            if case .object(let frame)? = try? JSONValue.parse(message.rawJSON),
                let text = Self.promptText(frame["message"]?["content"])
            {
                firstPrompt = text.count > 200 ? String(text.prefix(200)) : text
            }
        default:
            ledger.add(message)
        }
    }

    private static func promptText(_ content: JSONValue?) -> String? {
        switch content {
        case .string(let text)?:
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            return trimmed.isEmpty ? nil : trimmed
        case .array(let blocks)?:
            for block in blocks where block["type"]?.stringValue == "text" {
                if let text = promptText(block["text"]) { return text }
            }
            return nil
        default:
            return nil
        }
    }
}
