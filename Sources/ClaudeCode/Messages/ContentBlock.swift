/// One block of a user or assistant message's content.
///
/// Block types the SDK does not model are kept as ``unknown(_:)`` with their JSON, never dropped.
public enum ContentBlock: Sendable, Hashable {
    case text(TextBlock)
    case thinking(ThinkingBlock)
    case redactedThinking(RedactedThinkingBlock)
    case toolUse(ToolUseBlock)
    case toolResult(ToolResultBlock)
    /// A server-side tool call (web search, web fetch, code execution, …).
    case serverToolUse(ToolUseBlock)
    case serverToolResult(ServerToolResultBlock)
    case image(ImageBlock)
    case unknown(JSONValue)

    /// The block's `type` as sent by the CLI.
    public var type: String {
        switch self {
        case .text: return "text"
        case .thinking: return "thinking"
        case .redactedThinking: return "redacted_thinking"
        case .toolUse: return "tool_use"
        case .toolResult: return "tool_result"
        case .serverToolUse: return "server_tool_use"
        case .serverToolResult(let block): return block.type
        case .image: return "image"
        case .unknown(let value): return value["type"]?.stringValue ?? ""
        }
    }

    init<JSON: JSONReadable>(json: JSON) {
        let type = json["type"]?.stringValue ?? ""
        switch type {
        case "text":
            self = .text(TextBlock(text: json["text"]?.stringValue ?? ""))
        case "thinking":
            self = .thinking(
                ThinkingBlock(
                    thinking: json["thinking"]?.stringValue ?? "", signature: json["signature"]?.stringValue ?? ""))
        case "redacted_thinking":
            self = .redactedThinking(RedactedThinkingBlock(data: json["data"]?.stringValue ?? ""))
        case "tool_use":
            self = .toolUse(
                ToolUseBlock(
                    id: json["id"]?.stringValue ?? "", name: json["name"]?.stringValue ?? "",
                    input: json["input"]?.jsonValue ?? .object([:])))
        case "tool_result":
            self = .toolResult(
                ToolResultBlock(
                    toolUseID: json["tool_use_id"]?.stringValue ?? "", content: json["content"]?.jsonValue,
                    isError: json["is_error"]?.boolValue))
        case "server_tool_use":
            self = .serverToolUse(
                ToolUseBlock(
                    id: json["id"]?.stringValue ?? "", name: json["name"]?.stringValue ?? "",
                    input: json["input"]?.jsonValue ?? .object([:])))
        case "image":
            self = .image(ImageBlock(source: json["source"]?.jsonValue ?? .null))
        default:
            if type.hasSuffix("_tool_result"), let toolUseID = json["tool_use_id"]?.stringValue {
                self = .serverToolResult(
                    ServerToolResultBlock(
                        type: type, toolUseID: toolUseID, content: json["content"]?.jsonValue ?? .null))
            } else {
                self = .unknown(json.jsonValue)
            }
        }
    }
}

/// Plain text.
public struct TextBlock: Sendable, Hashable {
    public var text: String
    public init(text: String) { self.text = text }
}

/// The model's visible reasoning.
public struct ThinkingBlock: Sendable, Hashable {
    public var thinking: String
    public var signature: String
    public init(thinking: String, signature: String) {
        self.thinking = thinking
        self.signature = signature
    }
}

/// Reasoning the API returned encrypted.
public struct RedactedThinkingBlock: Sendable, Hashable {
    public var data: String
    public init(data: String) { self.data = data }
}

/// A call of a tool by the model (or, in ``ContentBlock/serverToolUse(_:)``, by the server).
public struct ToolUseBlock: Sendable, Hashable {
    public var id: String
    public var name: String
    public var input: JSONValue
    public init(id: String, name: String, input: JSONValue) {
        self.id = id
        self.name = name
        self.input = input
    }
}

/// The result of a tool call, as sent back to the model.
public struct ToolResultBlock: Sendable, Hashable {
    public var toolUseID: String
    /// A string, a list of content blocks, or `nil`.
    public var content: JSONValue?
    public var isError: Bool?
    public init(toolUseID: String, content: JSONValue?, isError: Bool?) {
        self.toolUseID = toolUseID
        self.content = content
        self.isError = isError
    }

    /// The text of the content: the string itself, or the joined text blocks.
    public var text: String {
        switch content {
        case .string(let text): return text
        case .array(let blocks): return blocks.compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
        default: return ""
        }
    }
}

/// The result of a server-side tool; `type` is e.g. `web_search_tool_result`.
public struct ServerToolResultBlock: Sendable, Hashable {
    public var type: String
    public var toolUseID: String
    public var content: JSONValue
    public init(type: String, toolUseID: String, content: JSONValue) {
        self.type = type
        self.toolUseID = toolUseID
        self.content = content
    }
}

/// An image; `source` is the API's source object (base64 or URL).
public struct ImageBlock: Sendable, Hashable {
    public var source: JSONValue
    public init(source: JSONValue) { self.source = source }
}
