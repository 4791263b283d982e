/// Token counts of one turn, as a ``ResultMessage`` reports them in `usage`.
///
/// The CLI reports `usage` per turn (the tokens of that turn's API requests), unlike
/// ``ResultMessage/totalCostUSD`` and ``ResultMessage/modelUsage``, which add up everything
/// since the CLI process started. Every key of the frame is kept in ``json``, including those
/// this type does not name.
public struct Usage: Sendable, Hashable {
    /// Input tokens not read from or written to the prompt cache.
    public var inputTokens: Int
    /// Output tokens.
    public var outputTokens: Int
    /// Input tokens written to the prompt cache.
    public var cacheCreationInputTokens: Int
    /// Input tokens read from the prompt cache.
    public var cacheReadInputTokens: Int
    /// Web searches the server ran (`server_tool_use.web_search_requests`).
    public var webSearchRequests: Int
    /// The service tier that served the requests, when reported.
    public var serviceTier: String?
    /// The whole `usage` object, unknown keys included.
    public var json: JSONValue

    /// Creates a usage; keys not given are zero.
    public init(
        inputTokens: Int = 0, outputTokens: Int = 0, cacheCreationInputTokens: Int = 0, cacheReadInputTokens: Int = 0,
        webSearchRequests: Int = 0, serviceTier: String? = nil
    ) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cacheCreationInputTokens = cacheCreationInputTokens
        self.cacheReadInputTokens = cacheReadInputTokens
        self.webSearchRequests = webSearchRequests
        self.serviceTier = serviceTier
        var object: [String: JSONValue] = [
            "input_tokens": .int(Int64(inputTokens)), "output_tokens": .int(Int64(outputTokens)),
            "cache_creation_input_tokens": .int(Int64(cacheCreationInputTokens)),
            "cache_read_input_tokens": .int(Int64(cacheReadInputTokens)),
        ]
        if webSearchRequests != 0 {
            object["server_tool_use"] = ["web_search_requests": .int(Int64(webSearchRequests))]
        }
        if let serviceTier { object["service_tier"] = .string(serviceTier) }
        self.json = .object(object)
    }

    /// Reads a `usage` object; `nil` when `json` is not an object. Missing counts are zero.
    public init?(json: JSONValue) {
        guard case .object = json else { return nil }
        self.json = json
        inputTokens = json["input_tokens"]?.intValue ?? 0
        outputTokens = json["output_tokens"]?.intValue ?? 0
        cacheCreationInputTokens = json["cache_creation_input_tokens"]?.intValue ?? 0
        cacheReadInputTokens = json["cache_read_input_tokens"]?.intValue ?? 0
        webSearchRequests = json["server_tool_use"]?["web_search_requests"]?.intValue ?? 0
        serviceTier = json["service_tier"]?.stringValue
    }

    /// Input tokens of every kind: uncached, written to and read from the cache.
    public var totalInputTokens: Int { inputTokens + cacheCreationInputTokens + cacheReadInputTokens }
}

/// What one model used, as a ``ResultMessage`` reports it per model in `modelUsage`
/// (since the CLI process started) and `model_usage_since_last_result` (since the previous result).
///
/// Every key is kept in ``json``, including those this type does not name.
public struct ModelUsage: Sendable, Hashable {
    /// Input tokens not read from or written to the prompt cache.
    public var inputTokens: Int
    /// Output tokens.
    public var outputTokens: Int
    /// Input tokens read from the prompt cache.
    public var cacheReadInputTokens: Int
    /// Input tokens written to the prompt cache.
    public var cacheCreationInputTokens: Int
    /// Web searches the server ran.
    public var webSearchRequests: Int
    /// What the CLI computed this usage to cost, in US dollars.
    public var costUSD: Double
    /// The model's context window in tokens, when reported.
    public var contextWindow: Int?
    /// The model's output limit in tokens, when reported.
    public var maxOutputTokens: Int?
    /// The whole object, unknown keys included.
    public var json: JSONValue

    /// Creates a usage; keys not given are zero.
    public init(
        inputTokens: Int = 0, outputTokens: Int = 0, cacheReadInputTokens: Int = 0, cacheCreationInputTokens: Int = 0,
        webSearchRequests: Int = 0, costUSD: Double = 0, contextWindow: Int? = nil, maxOutputTokens: Int? = nil
    ) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cacheReadInputTokens = cacheReadInputTokens
        self.cacheCreationInputTokens = cacheCreationInputTokens
        self.webSearchRequests = webSearchRequests
        self.costUSD = costUSD
        self.contextWindow = contextWindow
        self.maxOutputTokens = maxOutputTokens
        var object: [String: JSONValue] = [
            "inputTokens": .int(Int64(inputTokens)), "outputTokens": .int(Int64(outputTokens)),
            "cacheReadInputTokens": .int(Int64(cacheReadInputTokens)),
            "cacheCreationInputTokens": .int(Int64(cacheCreationInputTokens)),
            "webSearchRequests": .int(Int64(webSearchRequests)), "costUSD": .double(costUSD),
        ]
        if let contextWindow { object["contextWindow"] = .int(Int64(contextWindow)) }
        if let maxOutputTokens { object["maxOutputTokens"] = .int(Int64(maxOutputTokens)) }
        self.json = .object(object)
    }

    /// Reads one model's entry; `nil` when `json` is not an object. Missing counts are zero.
    public init?(json: JSONValue) {
        guard case .object = json else { return nil }
        self.json = json
        inputTokens = json["inputTokens"]?.intValue ?? 0
        outputTokens = json["outputTokens"]?.intValue ?? 0
        cacheReadInputTokens = json["cacheReadInputTokens"]?.intValue ?? 0
        cacheCreationInputTokens = json["cacheCreationInputTokens"]?.intValue ?? 0
        webSearchRequests = json["webSearchRequests"]?.intValue ?? 0
        costUSD = json["costUSD"]?.doubleValue ?? 0
        contextWindow = json["contextWindow"]?.intValue
        maxOutputTokens = json["maxOutputTokens"]?.intValue
    }

    /// Reads a `{model: usage}` object; entries that are not objects are left out.
    public static func byModel(_ json: JSONValue?) -> [String: ModelUsage] {
        guard case .object(let members)? = json else { return [:] }
        var result: [String: ModelUsage] = [:]
        for (model, value) in members { if let usage = ModelUsage(json: value) { result[model] = usage } }
        return result
    }
}
