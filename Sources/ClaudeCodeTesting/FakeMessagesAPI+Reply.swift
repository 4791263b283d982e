import ClaudeCode
import Foundation

extension FakeMessagesAPI {
    /// A content block of a scripted assistant message.
    public enum ContentBlock: Sendable, Hashable {
        /// A `text` block.
        case text(String)
        /// A `thinking` block (streamed as `thinking_delta`s followed by a `signature_delta`).
        case thinking(String)
        /// A `tool_use` block. A `nil` id is replaced by `toolu_fake_<n>`.
        case toolUse(id: String?, name: String, input: JSON)
    }

    /// What a ``FakeMessagesAPI`` answers to a `POST /v1/messages`.
    ///
    /// A reply describes the *meaning* of the answer. The server renders it as Server-Sent Events when the request
    /// has `"stream": true` and as one JSON message otherwise.
    public struct Reply: Sendable {
        enum Kind: Sendable {
            case message(blocks: [ContentBlock], stopReason: String?)
            case slowText(ticks: Int, interval: Duration)
            case cutAfterFirstDelta(text: String)
            case error(status: Int, type: String, message: String, retryAfter: Int?)
            case raw(status: Int, headers: [String: String], body: Data)
        }

        let kind: Kind

        /// An assistant message with one text block and `stop_reason: "end_turn"`.
        public static func text(_ text: String) -> Reply {
            Reply(kind: .message(blocks: [.text(text)], stopReason: nil))
        }

        /// An assistant message with the given blocks.
        ///
        /// - Parameters:
        ///   - blocks: The content blocks, in order.
        ///   - stopReason: The `stop_reason`; by default `tool_use` when a block is a tool use, else `end_turn`.
        public static func content(_ blocks: [ContentBlock], stopReason: String? = nil) -> Reply {
            Reply(kind: .message(blocks: blocks, stopReason: stopReason))
        }

        /// An assistant message that calls a tool, optionally after a short text block.
        ///
        /// - Parameters:
        ///   - name: The tool name, for example `Bash`.
        ///   - input: The tool input object.
        ///   - preamble: Text sent in a block before the `tool_use` block, or `nil` for none.
        public static func toolUse(name: String, input: JSON, preamble: String? = nil) -> Reply {
            var blocks: [ContentBlock] = []
            if let preamble { blocks.append(.text(preamble)) }
            blocks.append(.toolUse(id: nil, name: name, input: input))
            return Reply(kind: .message(blocks: blocks, stopReason: "tool_use"))
        }

        /// A text stream of `tick 1 `, `tick 2 `, … deltas, one every `interval`.
        ///
        /// A non-streaming request gets the whole text at once.
        public static func slowText(ticks: Int, interval: Duration) -> Reply {
            Reply(kind: .slowText(ticks: max(1, ticks), interval: interval))
        }

        /// A stream that sends `message_start`, the text block start and one delta, then drops the connection.
        ///
        /// A non-streaming request gets `text` as a normal message (the CLI falls back to non-streaming after
        /// a cut stream).
        public static func cutAfterFirstDelta(_ text: String) -> Reply {
            Reply(kind: .cutAfterFirstDelta(text: text))
        }

        /// An Anthropic error response: `{"type":"error","error":{"type":…,"message":…},"request_id":…}`.
        ///
        /// - Parameters:
        ///   - status: The HTTP status, for example 500 or 529.
        ///   - type: The error type; by default derived from the status (`api_error`, `overloaded_error`, …).
        ///   - message: The error message.
        ///   - retryAfter: Seconds for a `retry-after` header; by default 1 for 429 and 529, else none.
        public static func error(status: Int, type: String? = nil, message: String? = nil, retryAfter: Int? = nil)
            -> Reply
        {
            Reply(
                kind: .error(
                    status: status,
                    type: type ?? FakeMessagesAPI.errorType(forStatus: status),
                    message: message ?? "fake \(status) error",
                    retryAfter: retryAfter ?? ((status == 429 || status == 529) ? 1 : nil)
                )
            )
        }

        /// The text of a message reply (its text blocks joined), or the whole text of a slow or cut stream;
        /// `nil` for errors and raw replies.
        public var text: String? {
            switch kind {
            case .message(let blocks, _):
                return blocks.compactMap { block -> String? in
                    if case .text(let text) = block { return text }
                    return nil
                }.joined()
            case .slowText(let ticks, _):
                return (1...ticks).map { "tick \($0) " }.joined()
            case .cutAfterFirstDelta(let text):
                return text
            case .error, .raw:
                return nil
            }
        }

        /// The HTTP status this reply is sent with.
        public var status: Int {
            switch kind {
            case .error(let status, _, _, _), .raw(let status, _, _): return status
            default: return 200
            }
        }

        /// Any HTTP response, sent as is.
        public static func raw(status: Int, headers: [String: String] = [:], body: Data = Data()) -> Reply {
            Reply(kind: .raw(status: status, headers: headers, body: body))
        }
    }

    /// The Anthropic error `type` for an HTTP status.
    static func errorType(forStatus status: Int) -> String {
        switch status {
        case 400: return "invalid_request_error"
        case 401: return "authentication_error"
        case 403: return "permission_error"
        case 404: return "not_found_error"
        case 413: return "request_too_large"
        case 429: return "rate_limit_error"
        case 529: return "overloaded_error"
        default: return "api_error"
        }
    }
}
