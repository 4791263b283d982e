public import ClaudeCode

#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// One conversation as a single typed document, whatever it was read from: the CLI's own
/// transcript (``ClaudeSessionLibrary``), a ``SessionPersistentClient`` record
/// (``SessionRecordStore``) or a ``SessionStore``.
///
/// This is what ``SessionExporter`` renders to Markdown and HTML, what its JSON format encodes
/// (with `Codable`, the field names below in snake case), and what ``SessionSearch`` searches.
///
/// ```swift
/// let export = try await SessionExporter.load(sessionID: id, library: ClaudeSessionLibrary())
/// let html = SessionExporter.render(export, as: .html)
/// ```
public struct SessionDocument: Sendable, Hashable, Codable {
    /// The version of this document's JSON shape.
    public static let currentFormatVersion = 1

    /// Where a session was read from.
    public enum Origin: String, Sendable, Hashable, Codable {
        /// The CLI's transcript under `~/.claude/projects`.
        case cliTranscript = "cli_transcript"
        /// A ``SessionPersistentClient`` record.
        case record
        /// A ``SessionStore`` (the CLI's transcript lines mirrored there).
        case store
    }

    /// The version of the JSON shape (``currentFormatVersion``).
    public var formatVersion: Int
    /// The session's id.
    public var sessionID: String
    /// Where it was read from.
    public var origin: Origin
    /// Its title (custom or generated), else its first prompt.
    public var title: String?
    /// The working directory (project) of the session.
    public var projectPath: String?
    /// The model of its latest assistant reply (or `system/init`).
    public var model: String?
    /// Its tag, when it has one.
    public var tag: String?
    /// When it started.
    public var startedAt: Date?
    /// When it last changed.
    public var lastActivity: Date?
    /// Its tokens and cost (cost and turns only where result frames were recorded).
    public var usage: Usage
    /// The conversation, oldest first.
    public var entries: [Entry]
    /// Lines or frames that could not be read and were left out.
    public var skippedLineCount: Int

    private enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", sessionID = "session_id", origin, title, projectPath = "project_path"
        case model, tag, startedAt = "started_at", lastActivity = "last_activity", usage, entries
        case skippedLineCount = "skipped_line_count"
    }

    /// Creates a document.
    public init(
        sessionID: String, origin: Origin, title: String? = nil, projectPath: String? = nil, model: String? = nil,
        tag: String? = nil, startedAt: Date? = nil, lastActivity: Date? = nil, usage: Usage = Usage(),
        entries: [Entry] = [], skippedLineCount: Int = 0
    ) {
        self.formatVersion = Self.currentFormatVersion
        self.sessionID = sessionID
        self.origin = origin
        self.title = title
        self.projectPath = projectPath
        self.model = model
        self.tag = tag
        self.startedAt = startedAt
        self.lastActivity = lastActivity
        self.usage = usage
        self.entries = entries
        self.skippedLineCount = skippedLineCount
    }

    /// Token counts and cost.
    public struct Usage: Sendable, Hashable, Codable {
        /// Turns (results), when result frames were recorded.
        public var turns: Int?
        /// Input tokens not read from or written to the cache.
        public var inputTokens: Int
        /// Output tokens.
        public var outputTokens: Int
        /// Input tokens written to the prompt cache.
        public var cacheCreationInputTokens: Int
        /// Input tokens read from the prompt cache.
        public var cacheReadInputTokens: Int
        /// Cost in US dollars, when result frames were recorded (the CLI's transcripts hold none).
        public var costUSD: Double?
        /// Wall time in milliseconds, when known.
        public var durationMilliseconds: Int?

        private enum CodingKeys: String, CodingKey {
            case turns, inputTokens = "input_tokens", outputTokens = "output_tokens"
            case cacheCreationInputTokens = "cache_creation_input_tokens"
            case cacheReadInputTokens = "cache_read_input_tokens", costUSD = "cost_usd"
            case durationMilliseconds = "duration_milliseconds"
        }

        /// Creates usage figures.
        public init(
            turns: Int? = nil, inputTokens: Int = 0, outputTokens: Int = 0, cacheCreationInputTokens: Int = 0,
            cacheReadInputTokens: Int = 0, costUSD: Double? = nil, durationMilliseconds: Int? = nil
        ) {
            self.turns = turns
            self.inputTokens = inputTokens
            self.outputTokens = outputTokens
            self.cacheCreationInputTokens = cacheCreationInputTokens
            self.cacheReadInputTokens = cacheReadInputTokens
            self.costUSD = costUSD
            self.durationMilliseconds = durationMilliseconds
        }

        /// Input tokens of every kind plus output tokens.
        public var totalTokens: Int {
            inputTokens + outputTokens + cacheCreationInputTokens + cacheReadInputTokens
        }
    }

    /// Who an entry is from.
    public enum Role: String, Sendable, Hashable, Codable {
        /// The user: a prompt, or tool results sent back.
        case user
        /// The assistant: text, thinking, tool calls.
        case assistant
        /// The end of a turn (a result frame): its figures are in ``Entry/turn``.
        case turnEnd = "turn_end"
    }

    /// One message of the conversation.
    public struct Entry: Sendable, Hashable, Codable {
        /// Who it is from.
        public var role: Role
        /// The transcript entry's `uuid` (the first, when several lines were merged).
        public var uuid: String?
        /// When it was written.
        public var timestamp: Date?
        /// The model, for assistant messages.
        public var model: String?
        /// The content.
        public var blocks: [Block]
        /// This message's tokens (assistant messages of a transcript).
        public var usage: Usage?
        /// For ``Role/turnEnd``: the turn's own figures.
        public var turn: Usage?
        /// For ``Role/turnEnd``: whether the turn ended in an error.
        public var isError: Bool?

        private enum CodingKeys: String, CodingKey {
            case role, uuid, timestamp, model, blocks, usage, turn, isError = "is_error"
        }

        /// Creates an entry.
        public init(
            role: Role, uuid: String? = nil, timestamp: Date? = nil, model: String? = nil, blocks: [Block] = [],
            usage: Usage? = nil, turn: Usage? = nil, isError: Bool? = nil
        ) {
            self.role = role
            self.uuid = uuid
            self.timestamp = timestamp
            self.model = model
            self.blocks = blocks
            self.usage = usage
            self.turn = turn
            self.isError = isError
        }

        /// Whether this is a user message with only tool results (not a typed prompt).
        public var isToolResultsOnly: Bool {
            role == .user && !blocks.isEmpty && blocks.allSatisfy { $0.kind == .toolResult }
        }
    }

    /// One content block.
    public struct Block: Sendable, Hashable, Codable {
        /// The kind of block.
        public enum Kind: String, Sendable, Hashable, Codable {
            /// Text (``Block/text``).
            case text
            /// Extended thinking (``Block/text``).
            case thinking
            /// Redacted thinking (no text).
            case redactedThinking = "redacted_thinking"
            /// A tool call (``Block/toolUseID``, ``Block/name``, ``Block/input``).
            case toolUse = "tool_use"
            /// A tool's result (``Block/toolUseID``, ``Block/content``, ``Block/isError``).
            case toolResult = "tool_result"
            /// An image (``Block/mediaType`` and base64 ``Block/data``, or a ``Block/url``).
            case image
            /// Anything else (``Block/raw``).
            case other
        }

        /// The kind of block.
        public var kind: Kind
        /// The text of a text or thinking block.
        public var text: String?
        /// The tool call's id (tool calls and results).
        public var toolUseID: String?
        /// The tool's name.
        public var name: String?
        /// The tool call's input.
        public var input: JSONValue?
        /// A tool result's content.
        public var content: [Block]?
        /// Whether a tool result is an error.
        public var isError: Bool?
        /// An image's media type.
        public var mediaType: String?
        /// An image's base64 data.
        public var data: String?
        /// An image's URL (never fetched by the exporter).
        public var url: String?
        /// The block as found, for kinds the exporter does not know.
        public var raw: JSONValue?
        /// The original `type` of an ``Kind/other`` block.
        public var type: String?

        private enum CodingKeys: String, CodingKey {
            case kind, text, toolUseID = "tool_use_id", name, input, content, isError = "is_error"
            case mediaType = "media_type", data, url, raw, type
        }

        /// Creates a block.
        public init(
            kind: Kind, text: String? = nil, toolUseID: String? = nil, name: String? = nil, input: JSONValue? = nil,
            content: [Block]? = nil, isError: Bool? = nil, mediaType: String? = nil, data: String? = nil,
            url: String? = nil, raw: JSONValue? = nil, type: String? = nil
        ) {
            self.kind = kind
            self.text = text
            self.toolUseID = toolUseID
            self.name = name
            self.input = input
            self.content = content
            self.isError = isError
            self.mediaType = mediaType
            self.data = data
            self.url = url
            self.raw = raw
            self.type = type
        }

        /// A text block.
        public static func text(_ text: String) -> Block { Block(kind: .text, text: text) }
    }
}

extension SessionDocument {
    /// The first typed prompt's text.
    public var firstPrompt: String? {
        for entry in entries where entry.role == .user && !entry.isToolResultsOnly {
            let text = entry.blocks.compactMap { $0.kind == .text ? $0.text : nil }.joined(separator: "\n")
            if !text.isEmpty { return text }
        }
        return nil
    }

    /// How many user and assistant messages the conversation has.
    public var messageCount: Int { entries.filter { $0.role != .turnEnd }.count }

    /// The title, else the first prompt on one line, else the id.
    public var displayTitle: String {
        if let title, !title.isEmpty { return title }
        if let prompt = firstPrompt {
            return String(prompt.split(whereSeparator: \.isNewline).joined(separator: " ").prefix(200))
        }
        return sessionID
    }
}

extension SessionDocument.Block {
    /// Builds blocks from a Messages API `content` value (a string or an array of blocks).
    public static func blocks(from content: JSONValue?) -> [SessionDocument.Block] {
        switch content {
        case .string(let text)?: return [.text(text)]
        case .array(let items)?: return items.map(block(from:))
        case nil, .null?: return []
        case let other?: return [SessionDocument.Block(kind: .other, raw: other)]
        }
    }

    /// Builds one block from a Messages API content block.
    public static func block(from value: JSONValue) -> SessionDocument.Block {
        let type = value["type"]?.stringValue ?? ""
        switch type {
        case "text":
            return .text(value["text"]?.stringValue ?? "")
        case "thinking":
            return SessionDocument.Block(kind: .thinking, text: value["thinking"]?.stringValue ?? "")
        case "redacted_thinking":
            return SessionDocument.Block(kind: .redactedThinking)
        case "tool_use", "server_tool_use":
            return SessionDocument.Block(
                kind: .toolUse, toolUseID: value["id"]?.stringValue, name: value["name"]?.stringValue ?? "",
                input: value["input"] ?? .object([:]))
        case "tool_result":
            return SessionDocument.Block(
                kind: .toolResult, toolUseID: value["tool_use_id"]?.stringValue,
                content: blocks(from: value["content"]), isError: value["is_error"]?.boolValue ?? false)
        case "image":
            let source = value["source"]
            if source?["type"]?.stringValue == "url" {
                return SessionDocument.Block(kind: .image, url: source?["url"]?.stringValue)
            }
            return SessionDocument.Block(
                kind: .image, mediaType: source?["media_type"]?.stringValue, data: source?["data"]?.stringValue)
        default:
            if type.hasSuffix("_tool_result") {
                return SessionDocument.Block(
                    kind: .toolResult, toolUseID: value["tool_use_id"]?.stringValue,
                    content: blocks(from: value["content"]), isError: false)
            }
            return SessionDocument.Block(kind: .other, raw: value, type: type)
        }
    }
}
