import ClaudeCode
import Foundation

extension FakeMessagesAPI {
    /// One HTTP request received by a ``FakeMessagesAPI``, as recorded in its log.
    ///
    /// The computed properties interpret a Messages API body the way the fake's default replies do, so a test can
    /// assert on the same numbers the reply text reports (`user_turns=`, `messages=`).
    public struct Request: Sendable {
        /// 1-based arrival order across all requests this server received.
        public var sequenceNumber: Int
        /// The HTTP method, for example `POST` or `HEAD`.
        public var method: String
        /// The path without the query, for example `/v1/messages`.
        public var path: String
        /// Query items; a repeated name keeps its last value. `?beta=true` shows up as `["beta": "true"]`.
        public var query: [String: String]
        /// Request headers with lowercased names. Values of `x-api-key` and `authorization` are replaced by
        /// `<redacted>`; repeated headers are joined with `, `.
        public var headers: [String: String]
        /// The body parsed as JSON, or `nil` when it is empty or not JSON.
        public var body: JSON?
        /// The size of the raw body in bytes.
        public var bodyByteCount: Int

        /// Creates a request record; useful for unit-testing responders without a server.
        public init(
            sequenceNumber: Int = 1,
            method: String = "POST",
            path: String = "/v1/messages",
            query: [String: String] = [:],
            headers: [String: String] = [:],
            body: JSON?,
            bodyByteCount: Int = 0
        ) {
            self.sequenceNumber = sequenceNumber
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.body = body
            self.bodyByteCount = bodyByteCount
        }

        /// `true` for `POST /v1/messages` (with or without `?beta=true`).
        public var isMessages: Bool { method == "POST" && path == "/v1/messages" }

        /// `true` for `POST /v1/messages/count_tokens`.
        public var isCountTokens: Bool { method == "POST" && path == "/v1/messages/count_tokens" }

        /// The `model` field of the body.
        public var model: String? { body?["model"]?.stringValue }

        /// The `stream` field of the body; `false` when absent.
        public var isStreaming: Bool { body?["stream"]?.boolValue ?? false }

        /// The `max_tokens` field of the body.
        public var maxTokens: Int? { body?["max_tokens"]?.intValue }

        /// The CLI's session id, from the `x-claude-code-session-id` header.
        public var sessionID: String? { headers["x-claude-code-session-id"] }

        /// The `messages` array of the body (empty when absent). May contain `role: "system"` entries.
        public var messages: [JSON] { body?["messages"]?.arrayValue ?? [] }

        /// The number of entries in `messages`, system-role entries included.
        public var messageCount: Int { messages.count }

        /// The number of `user` messages that carry text of their own (not only `tool_result` blocks, and not only
        /// `<system-reminder>` text).
        public var userTurnCount: Int {
            messages.filter { message in
                message["role"]?.stringValue == "user"
                    && !Self.strippingReminders(Self.texts(of: message).joined(separator: "\n")).isEmpty
            }.count
        }

        /// The last `user` message in `messages`.
        public var lastUserMessage: JSON? {
            messages.last { $0["role"]?.stringValue == "user" }
        }

        /// The last text block of the last user message with `<system-reminder>…</system-reminder>` blocks and a
        /// leading `[Request interrupted by user]` line removed, trimmed. `nil` when no text is left.
        ///
        /// Only the last block counts: after an API error the CLI merges the failed prompt and the next one into
        /// one user message, and the newest prompt is the last block.
        public var lastUserText: String? {
            guard let message = lastUserMessage else { return nil }
            let blocks = Self.texts(of: message).map(Self.strippingReminders).filter { !$0.isEmpty }
            var text = blocks.last ?? ""
            let marker = "[Request interrupted by user]"
            while text.hasPrefix(marker) {
                text = String(text.dropFirst(marker.count)).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            return text.isEmpty ? nil : text
        }

        /// When the last user message holds `tool_result` blocks, the text content of the first one.
        public var lastToolResultText: String? {
            guard let message = lastUserMessage, let blocks = message["content"]?.arrayValue else { return nil }
            guard let result = blocks.first(where: { $0["type"]?.stringValue == "tool_result" }) else { return nil }
            switch result["content"] {
            case .string(let text)?:
                return text
            case .array(let parts)?:
                return parts.compactMap { $0["type"]?.stringValue == "text" ? $0["text"]?.stringValue : nil }
                    .joined(separator: "\n")
            default:
                return ""
            }
        }

        /// The text of a message: its string content, or its `text` blocks in order.
        static func texts(of message: JSON) -> [String] {
            switch message["content"] {
            case .string(let text)?:
                return [text]
            case .array(let blocks)?:
                return blocks.compactMap { block in
                    block["type"]?.stringValue == "text" ? block["text"]?.stringValue : nil
                }
            default:
                return []
            }
        }

        /// Removes every `<system-reminder>…</system-reminder>` region (an unclosed one runs to the end) and trims.
        static func strippingReminders(_ text: String) -> String {
            var result = ""
            var rest = Substring(text)
            let open = "<system-reminder>"
            let close = "</system-reminder>"
            while let start = rest.range(of: open) {
                result += rest[..<start.lowerBound]
                let afterOpen = rest[start.upperBound...]
                if let end = afterOpen.range(of: close) {
                    rest = afterOpen[end.upperBound...]
                } else {
                    rest = ""
                }
            }
            result += rest
            return result.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}
