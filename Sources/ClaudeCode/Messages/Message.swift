/// One frame the CLI wrote to stdout, other than control-protocol traffic.
///
/// Every case keeps the frame's exact bytes in ``raw``. Frames whose `type` the SDK
/// does not model arrive as ``unknown(_:)``; lines that are not valid JSON or exceed the
/// line limit arrive as ``invalid(_:)``. Nothing is dropped.
public enum Message: Sendable {
    case user(UserMessage)
    case assistant(AssistantMessage)
    case system(SystemMessage)
    case result(ResultMessage)
    case streamEvent(StreamEvent)
    case rateLimit(RateLimitEvent)
    /// The conversation was replaced mid-connection (e.g. `/clear`); see ``ConversationResetMessage``.
    case conversationReset(ConversationResetMessage)
    case unknown(UnknownMessage)
    case invalid(InvalidFrame)

    /// The exact JSON of the frame. For ``invalid(_:)`` frames, the bytes kept (at most the first 200).
    public var raw: RawJSON {
        switch self {
        case .user(let message): return message.raw
        case .assistant(let message): return message.raw
        case .system(let message): return message.raw
        case .result(let message): return message.raw
        case .streamEvent(let message): return message.raw
        case .rateLimit(let message): return message.raw
        case .conversationReset(let message): return message.raw
        case .unknown(let message): return message.raw
        case .invalid(let frame): return RawJSON(bytes: frame.prefix)
        }
    }

    /// The frame's top-level `type` (`"invalid"` for invalid frames).
    public var type: String {
        switch self {
        case .user: return "user"
        case .assistant: return "assistant"
        case .system: return "system"
        case .result: return "result"
        case .streamEvent: return "stream_event"
        case .rateLimit: return "rate_limit_event"
        case .conversationReset: return "conversation_reset"
        case .unknown(let message): return message.type
        case .invalid: return "invalid"
        }
    }

    /// The CLI session id the frame carries, if any.
    public var sessionID: String? {
        switch self {
        case .user(let message): return message.sessionID
        case .assistant(let message): return message.sessionID
        case .system(let message): return message.sessionID
        case .result(let message): return message.sessionID
        case .streamEvent(let message): return message.sessionID
        case .rateLimit(let message): return message.sessionID
        case .conversationReset(let message): return message.sessionID
        case .unknown(let message): return message.json["session_id"]?.stringValue
        case .invalid: return nil
        }
    }

    /// Decodes one frame from its bytes and its parsed JSON.
    ///
    /// Unknown or incomplete frames never fail: they become ``unknown(_:)``.
    public init(raw: RawJSON, json: JSONValue) {
        self.init(raw: raw, reading: json)
    }

    /// Decodes one frame from any view of its JSON (a ``JSONValue``, or a ``JSONTapeView`` straight from the
    /// parser, which builds only the parts the message keeps as ``JSONValue``).
    init<JSON: JSONReadable>(raw: RawJSON, reading json: JSON) {
        let type = json["type"]?.stringValue ?? ""
        switch type {
        case "user": self = .user(UserMessage(raw: raw, json: json))
        case "assistant": self = .assistant(AssistantMessage(raw: raw, json: json))
        case "system": self = .system(SystemMessage(raw: raw, json: json))
        case "result": self = .result(ResultMessage(raw: raw, json: json))
        case "stream_event": self = .streamEvent(StreamEvent(raw: raw, json: json))
        case "rate_limit_event": self = .rateLimit(RateLimitEvent(raw: raw, json: json))
        case "conversation_reset": self = .conversationReset(ConversationResetMessage(raw: raw, json: json.jsonValue))
        default: self = .unknown(UnknownMessage(type: type, raw: raw, json: json.jsonValue))
        }
    }

    /// Parses and decodes one frame; a line that is not a JSON object becomes ``invalid(_:)``.
    public init(line: [UInt8]) {
        var tape = JSONTape()
        self = Message.decode(line: line, tape: &tape)
    }

    /// Parses and decodes one frame with a reusable tape.
    static func decode(line: [UInt8], tape: inout JSONTape) -> Message {
        line.withUnsafeBufferPointer { buffer in
            do throws(JSONParseError) {
                try tape.parse(buffer)
            } catch {
                return .invalid(
                    InvalidFrame(
                        reason: .malformedJSON(error.description), byteCount: line.count,
                        prefix: Array(line.prefix(200))))
            }
            return tape.withRoot(of: buffer) { root in
                guard root.kind == .object else {
                    return .invalid(
                        InvalidFrame(reason: .notAnObject, byteCount: line.count, prefix: Array(line.prefix(200))))
                }
                return Message(raw: RawJSON(bytes: line), reading: root)
            }
        }
    }
}

/// A `user` frame: a tool result, an interrupt marker, or a replayed prompt.
public struct UserMessage: Sendable {
    /// The content: a plain string or a list of blocks.
    public var content: UserContent
    public var uuid: String?
    public var parentToolUseID: String?
    /// The CLI's structured view of a tool result (`tool_use_result`), when present.
    public var toolUseResult: JSONValue?
    public var sessionID: String?
    /// Whether this is the CLI echoing a prompt back (`--replay-user-messages`).
    public var isReplay: Bool
    public var raw: RawJSON

    init<JSON: JSONReadable>(raw: RawJSON, json: JSON) {
        self.raw = raw
        let content = json["message"]?["content"]
        if let text = content?.stringValue {
            self.content = .text(text)
        } else if let blocks = content?.elements {
            self.content = .blocks(blocks.map { ContentBlock(json: $0) })
        } else {
            self.content = .blocks([])
        }
        uuid = json["uuid"]?.stringValue
        parentToolUseID = json["parent_tool_use_id"]?.stringValue
        toolUseResult = json["tool_use_result"]?.jsonValue
        sessionID = json["session_id"]?.stringValue
        isReplay = json["isReplay"]?.boolValue ?? false
    }

    /// Whether this is the `[Request interrupted by user]` marker the CLI sends after an interrupt.
    public var isInterruptMarker: Bool {
        switch content {
        case .text(let text): return text.hasPrefix("[Request interrupted by user")
        case .blocks(let blocks):
            return blocks.contains {
                if case .text(let block) = $0 { return block.text.hasPrefix("[Request interrupted by user") }
                return false
            }
        }
    }
}

/// The content of a user message.
public enum UserContent: Sendable, Hashable {
    case text(String)
    case blocks([ContentBlock])
}

/// An `assistant` frame. The CLI sends one frame per content block; frames of one API
/// message share ``messageID``.
public struct AssistantMessage: Sendable {
    public var content: [ContentBlock]
    public var model: String
    public var messageID: String?
    /// Usually `nil` on stdout; the final stop reason is in the turn's ``ResultMessage``.
    public var stopReason: String?
    public var usage: JSONValue?
    public var parentToolUseID: String?
    /// Set on the synthetic message the CLI emits for an API error, e.g. `server_error`,
    /// `authentication_failed`, `rate_limit`.
    public var error: String?
    public var sessionID: String?
    public var uuid: String?
    public var raw: RawJSON

    init<JSON: JSONReadable>(raw: RawJSON, json: JSON) {
        self.raw = raw
        let message = json["message"]
        content = message?["content"]?.elements?.map { ContentBlock(json: $0) } ?? []
        model = message?["model"]?.stringValue ?? ""
        messageID = message?["id"]?.stringValue
        stopReason = message?["stop_reason"]?.stringValue
        usage = message?["usage"]?.jsonValue
        parentToolUseID = json["parent_tool_use_id"]?.stringValue
        error = json["error"]?.stringValue
        sessionID = json["session_id"]?.stringValue
        uuid = json["uuid"]?.stringValue
    }

    /// The text of all text blocks, joined.
    public var text: String {
        content.compactMap { if case .text(let block) = $0 { return block.text } else { return nil } }.joined()
    }
}

/// A `system` frame. ``kind`` types the subtypes the SDK knows; ``data`` always holds the whole frame.
public struct SystemMessage: Sendable {
    public var subtype: String
    /// The whole frame as JSON.
    public var data: JSONValue
    public var sessionID: String?
    public var uuid: String?
    public var raw: RawJSON

    init<JSON: JSONReadable>(raw: RawJSON, json: JSON) {
        self.raw = raw
        data = json.jsonValue
        subtype = json["subtype"]?.stringValue ?? ""
        sessionID = json["session_id"]?.stringValue
        uuid = json["uuid"]?.stringValue
    }

    /// The typed view of this frame.
    public var kind: Kind {
        switch subtype {
        case "init": return .initialize(SystemInit(data))
        case "api_retry":
            return .apiRetry(
                APIRetry(
                    attempt: data["attempt"]?.intValue ?? 0, maxRetries: data["max_retries"]?.intValue ?? 0,
                    retryDelayMilliseconds: data["retry_delay_ms"]?.intValue ?? 0,
                    errorStatus: data["error_status"]?.intValue, error: data["error"]?.stringValue))
        case "status":
            return .status(status: data["status"]?.stringValue, permissionMode: data["permissionMode"]?.stringValue)
        case "session_state_changed":
            return .sessionStateChanged(
                state: data["state"]?.stringValue ?? "", hostOnly: data["sdk_host_only"]?.boolValue ?? false)
        case "permission_denied":
            return .permissionDenied(
                toolName: data["tool_name"]?.stringValue ?? "", toolUseID: data["tool_use_id"]?.stringValue,
                message: data["message"]?.stringValue)
        case "session_title_changed": return .sessionTitleChanged(title: data["title"]?.stringValue ?? "")
        case "mirror_error":
            let key: JSONValue? = data["key"].flatMap { (value: JSONValue) -> JSONValue? in value.isNull ? .none : value
            }
            return .mirrorError(error: data["error"]?.stringValue ?? "", key: key)
        case "task_started", "task_progress", "task_notification", "task_updated":
            return .task(subtype: subtype, taskID: data["task_id"]?.stringValue)
        case "hook_started", "hook_response":
            let event =
                data["hook_event"]?.stringValue ?? data["hook_event_name"]?.stringValue ?? data["hook_name"]?
                .stringValue ?? ""
            return .hook(subtype: subtype, event: event)
        default: return .other
        }
    }

    /// The system subtypes the SDK types.
    public enum Kind: Sendable {
        case initialize(SystemInit)
        case apiRetry(APIRetry)
        case status(status: String?, permissionMode: String?)
        case sessionStateChanged(state: String, hostOnly: Bool)
        case permissionDenied(toolName: String, toolUseID: String?, message: String?)
        case sessionTitleChanged(title: String)
        /// Synthesized by the SDK, not sent by the CLI: transcript lines could not be appended
        /// to the session store (after retries) and the store may miss them. `key` is
        /// `{"project_key", "session_id", "subpath"?}`, or `nil` when the line's file could not
        /// be mapped to a key. The conversation goes on; the CLI's own transcript is intact.
        case mirrorError(error: String, key: JSONValue?)
        case task(subtype: String, taskID: String?)
        case hook(subtype: String, event: String)
        case other
    }
}

/// The `system/init` frame, sent at the start of each user turn.
public struct SystemInit: Sendable {
    public var cwd: String?
    public var sessionID: String?
    public var model: String?
    public var permissionMode: String?
    public var tools: [String]
    public var mcpServers: [MCPServerState]
    public var slashCommands: [String]
    public var agents: [String]
    public var claudeCodeVersion: String?
    public var apiKeySource: String?
    public var outputStyle: String?
    public var capabilities: [String]

    init(_ data: JSONValue) {
        cwd = data["cwd"]?.stringValue
        sessionID = data["session_id"]?.stringValue
        model = data["model"]?.stringValue
        permissionMode = data["permissionMode"]?.stringValue
        tools = data["tools"]?.arrayValue?.compactMap(\.stringValue) ?? []
        mcpServers =
            data["mcp_servers"]?.arrayValue?.map {
                MCPServerState(
                    name: $0["name"]?.stringValue ?? "", status: $0["status"]?.stringValue ?? "",
                    source: $0["source"]?.stringValue)
            } ?? []
        slashCommands = data["slash_commands"]?.arrayValue?.compactMap(\.stringValue) ?? []
        agents = data["agents"]?.arrayValue?.compactMap(\.stringValue) ?? []
        claudeCodeVersion = data["claude_code_version"]?.stringValue
        apiKeySource = data["apiKeySource"]?.stringValue
        outputStyle = data["output_style"]?.stringValue
        capabilities = data["capabilities"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }
}

/// An MCP server as listed in `system/init`.
public struct MCPServerState: Sendable, Hashable {
    public var name: String
    public var status: String
    public var source: String?
}

/// A `system/api_retry` frame: the CLI is about to retry a failed API call.
public struct APIRetry: Sendable, Hashable {
    public var attempt: Int
    public var maxRetries: Int
    public var retryDelayMilliseconds: Int
    public var errorStatus: Int?
    public var error: String?
}

/// The end of a turn.
///
/// Check ``isError``, not ``subtype``: an API error arrives as `subtype: "success"` with `is_error: true`.
public struct ResultMessage: Sendable {
    /// `success`, `error_during_execution`, `error_max_turns`, `error_max_budget_usd`, …
    public var subtype: String
    public var isError: Bool
    public var durationMilliseconds: Int
    public var apiDurationMilliseconds: Int
    public var numTurns: Int
    public var sessionID: String
    public var stopReason: String?
    /// What the CLI process has spent since it started, in US dollars: a running total that
    /// starts again at zero in every new process (also after `--resume`). Do not add these up
    /// across results; see ``modelUsageSinceLastResult`` or `SessionLedger` for per-turn figures.
    public var totalCostUSD: Double?
    /// The tokens of this turn.
    public var usage: Usage?
    public var result: String?
    public var structuredOutput: JSONValue?
    /// What each model used since the CLI process started (a running total, like ``totalCostUSD``).
    public var modelUsage: [String: ModelUsage]
    /// What each model used since the previous result of the same process (`model_usage_since_last_result`),
    /// when the CLI reports it (2.1.x does).
    public var modelUsageSinceLastResult: [String: ModelUsage]?
    /// The index of this result among the results of the CLI process (`result_index`), when reported.
    public var resultIndex: Int?
    public var permissionDenials: [JSONValue]
    public var errors: [String]
    public var apiErrorStatus: Int?
    public var terminalReason: String?
    public var uuid: String?
    public var raw: RawJSON

    init<JSON: JSONReadable>(raw: RawJSON, json: JSON) {
        self.raw = raw
        subtype = json["subtype"]?.stringValue ?? ""
        isError = json["is_error"]?.boolValue ?? false
        durationMilliseconds = json["duration_ms"]?.intValue ?? 0
        apiDurationMilliseconds = json["duration_api_ms"]?.intValue ?? 0
        numTurns = json["num_turns"]?.intValue ?? 0
        sessionID = json["session_id"]?.stringValue ?? ""
        stopReason = json["stop_reason"]?.stringValue
        totalCostUSD = json["total_cost_usd"]?.doubleValue
        usage = json["usage"].flatMap { Usage(json: $0.jsonValue) }
        result = json["result"]?.stringValue
        structuredOutput = json["structured_output"]?.jsonValue
        modelUsage = ModelUsage.byModel(json["modelUsage"]?.jsonValue)
        modelUsageSinceLastResult = json["model_usage_since_last_result"].map { ModelUsage.byModel($0.jsonValue) }
        resultIndex = json["result_index"]?.intValue
        permissionDenials = json["permission_denials"]?.elements?.map(\.jsonValue) ?? []
        errors = json["errors"]?.elements?.compactMap(\.stringValue) ?? []
        apiErrorStatus = json["api_error_status"]?.intValue
        terminalReason = json["terminal_reason"]?.stringValue
        uuid = json["uuid"]?.stringValue
    }
}

/// A raw Anthropic streaming event (with `includePartialMessages`).
public struct StreamEvent: Sendable {
    public var event: JSONValue
    public var uuid: String?
    public var sessionID: String?
    public var parentToolUseID: String?
    public var raw: RawJSON

    init<JSON: JSONReadable>(raw: RawJSON, json: JSON) {
        self.raw = raw
        event = json["event"]?.jsonValue ?? .null
        uuid = json["uuid"]?.stringValue
        sessionID = json["session_id"]?.stringValue
        parentToolUseID = json["parent_tool_use_id"]?.stringValue
    }

    /// The event's `type`, e.g. `content_block_delta`.
    public var eventType: String { event["type"]?.stringValue ?? "" }
}

/// A change of the account's rate-limit state.
public struct RateLimitEvent: Sendable {
    /// `rate_limit_info` as sent (status, resetsAt, rateLimitType, utilization, …).
    public var info: JSONValue
    public var uuid: String?
    public var sessionID: String?
    public var raw: RawJSON

    init<JSON: JSONReadable>(raw: RawJSON, json: JSON) {
        self.raw = raw
        info = json["rate_limit_info"]?.jsonValue ?? .null
        uuid = json["uuid"]?.stringValue
        sessionID = json["session_id"]?.stringValue
    }

    /// `allowed`, `allowed_warning` or `rejected`.
    public var status: String? { info["status"]?.stringValue }
}

/// A frame of a `type` the SDK does not model; delivered as is.
public struct UnknownMessage: Sendable {
    public var type: String
    public var json: JSONValue
    public var raw: RawJSON

    init(type: String, raw: RawJSON, json: JSONValue) {
        self.type = type
        self.raw = raw
        self.json = json
    }
}

/// A stdout line that could not be used: not JSON, not an object, or over the line limit.
/// The session goes on.
public struct InvalidFrame: Sendable, Hashable {
    public enum Reason: Sendable, Hashable {
        case malformedJSON(String)
        case notAnObject
        /// Longer than the line limit (``ClaudeCodeOptions/maxLineLength``), which is `limit` bytes.
        case tooLong(limit: Int)
    }
    public var reason: Reason
    /// The line's full length in bytes.
    public var byteCount: Int
    /// The first (at most 200) bytes of the line.
    public var prefix: [UInt8]
}
