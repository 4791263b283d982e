import Testing

@testable import ClaudeCode

/// Frames as the real CLI 2.1.331 printed them (from the protocol notes; long values trimmed).
@Suite struct MessageDecodingTests {
    static let resultSuccess =
        #"{"duration_api_ms":22,"stop_reason":"end_turn","session_id":"9899897f-aaaa","total_cost_usd":0.01036,"usage":{"input_tokens":2560,"output_tokens":6},"modelUsage":{"claude-opus-5-5":{"contextWindow":1000000,"maxOutputTokens":128000}},"permission_denials":[],"terminal_reason":"completed","is_error":false,"num_turns":1,"subtype":"success","api_error_status":null,"result":"echo: hello | user_turns=1 | messages=2","ttft_ms":93,"type":"result","duration_ms":102,"uuid":"u-1","queued_turn_count":0}"#
    static let resultAPIError =
        #"{"type":"result","subtype":"success","is_error":true,"terminal_reason":"api_error","api_error_status":500,"api_error_type":"api_error","stop_reason":"stop_sequence","result":"API Error: 500 fake","num_turns":1,"total_cost_usd":0,"session_id":"s","duration_ms":1,"duration_api_ms":1}"#
    static let assistantText =
        #"{"type":"assistant","message":{"id":"msg_fake_000001","type":"message","role":"assistant","model":"claude-opus-5-5","content":[{"type":"text","text":"echo: hello"}],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":2560,"output_tokens":1},"context_management":null},"parent_tool_use_id":null,"session_id":"9899897f-aaaa","uuid":"a09bfb87","timestamp":"2026-11-24T15:49:08.873Z","request_id":"req_fake_000001"}"#
    static let assistantToolUse =
        #"{"type":"assistant","message":{"id":"msg_fake_000002","content":[{"type":"tool_use","id":"toolu_fake_000002","name":"Bash","input":{"command":"echo hi","description":"Run echo hi"}}],"model":"claude-opus-5-5"},"parent_tool_use_id":null,"session_id":"s","uuid":"u2","request_id":"req_fake_000002"}"#
    static let apiErrorAssistant =
        #"{"type":"assistant","message":{"id":"x","model":"<synthetic>","role":"assistant","stop_reason":"stop_sequence","content":[{"type":"text","text":"API Error: 500"}]},"parent_tool_use_id":null,"session_id":"s","uuid":"u","error":"server_error","request_id":"r","is_api_error_message":true,"api_error_status":500}"#
    static let toolResult =
        #"{"type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_fake_000002","type":"tool_result","content":"hi","is_error":false}]},"parent_tool_use_id":null,"session_id":"s","uuid":"u3","timestamp":"t","tool_use_result":{"stdout":"hi","stderr":"","interrupted":false}}"#
    static let interruptMarker =
        #"{"type":"user","message":{"role":"user","content":[{"type":"text","text":"[Request interrupted by user]"}]},"parent_tool_use_id":null,"session_id":"s","uuid":"u4","timestamp":"t"}"#
    static let initFrame =
        #"{"type":"system","subtype":"init","cwd":"/w/work","session_id":"9899897f-aaaa","tools":["Task","Bash"],"mcp_servers":[{"name":"sdkx","status":"connected","source":"sdk"}],"model":"claude-opus-5-5","permissionMode":"default","slash_commands":["compact"],"apiKeySource":"ANTHROPIC_API_KEY","claude_code_version":"2.1.331","output_style":"default","agents":["claude","Explore"],"capabilities":["interrupt_receipt_v1"],"uuid":"u5"}"#
    static let apiRetry =
        #"{"type":"system","subtype":"api_retry","attempt":1,"max_retries":10,"retry_delay_ms":1169,"error_status":529,"error":"overloaded","session_id":"s","uuid":"u"}"#
    static let stateChanged =
        #"{"type":"system","subtype":"session_state_changed","state":"running","sdk_host_only":true,"uuid":"u","session_id":"s"}"#
    static let status =
        #"{"type":"system","subtype":"status","status":null,"permissionMode":"acceptEdits","session_id":"s","uuid":"u"}"#
    static let denied =
        #"{"type":"system","subtype":"permission_denied","tool_name":"Bash","tool_use_id":"toolu_7","message":"touch needs approval","uuid":"u","session_id":"s"}"#
    static let titleChanged =
        #"{"type":"system","subtype":"session_title_changed","title":"Renamed (fork)","uuid":"u","session_id":"s"}"#
    static let streamEvent =
        #"{"type":"stream_event","event":{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"tick 1 "}},"session_id":"s","parent_tool_use_id":null,"uuid":"u","api_message_id":"msg_fake_000001"}"#
    static let rateLimit =
        #"{"type":"rate_limit_event","rate_limit_info":{"status":"allowed_warning","resetsAt":1700000000,"rateLimitType":"five_hour","utilization":0.9},"uuid":"u","session_id":"s"}"#

    private func decode(_ text: String) -> Message { Message(line: Array(text.utf8)) }

    @Test func resultDecodesByKeyWhateverTheOrder() throws {
        guard case .result(let result) = decode(Self.resultSuccess) else {
            Issue.record("not a result")
            return
        }
        #expect(result.subtype == "success")
        #expect(!result.isError)
        #expect(result.sessionID == "9899897f-aaaa")
        #expect(result.numTurns == 1)
        #expect(result.durationMilliseconds == 102)
        #expect(result.apiDurationMilliseconds == 22)
        #expect(result.totalCostUSD == 0.01036)
        #expect(result.stopReason == "end_turn")
        #expect(result.terminalReason == "completed")
        #expect(result.result == "echo: hello | user_turns=1 | messages=2")
        #expect(result.usage?.inputTokens == 2560)
        #expect(result.usage?.json["input_tokens"] == 2560)
        #expect(result.modelUsage["claude-opus-5-5"]?.contextWindow == 1_000_000)
        #expect(result.raw.string == Self.resultSuccess)
    }

    @Test func apiErrorIsSuccessSubtypeWithIsError() throws {
        guard case .result(let result) = decode(Self.resultAPIError) else {
            Issue.record("not a result")
            return
        }
        #expect(result.subtype == "success")
        #expect(result.isError)
        #expect(result.apiErrorStatus == 500)
        guard case .assistant(let message) = decode(Self.apiErrorAssistant) else {
            Issue.record("not assistant")
            return
        }
        #expect(message.error == "server_error")
        #expect(message.model == "<synthetic>")
    }

    @Test func assistantBlocks() throws {
        guard case .assistant(let text) = decode(Self.assistantText),
            case .assistant(let tool) = decode(Self.assistantToolUse)
        else {
            Issue.record("not assistant")
            return
        }
        #expect(text.text == "echo: hello")
        #expect(text.messageID == "msg_fake_000001")
        #expect(text.model == "claude-opus-5-5")
        #expect(text.stopReason == nil)
        #expect(text.sessionID == "9899897f-aaaa")
        #expect(text.uuid == "a09bfb87")
        guard case .toolUse(let use) = tool.content.first else {
            Issue.record("no tool use")
            return
        }
        #expect(use.name == "Bash")
        #expect(use.id == "toolu_fake_000002")
        #expect(use.input["command"] == "echo hi")
    }

    @Test func userToolResultAndInterruptMarker() throws {
        guard case .user(let user) = decode(Self.toolResult), case .user(let marker) = decode(Self.interruptMarker)
        else {
            Issue.record("not user")
            return
        }
        guard case .blocks(let blocks) = user.content, case .toolResult(let result) = blocks.first else {
            Issue.record("no tool result")
            return
        }
        #expect(result.toolUseID == "toolu_fake_000002")
        #expect(result.text == "hi")
        #expect(result.isError == false)
        #expect(user.toolUseResult?["stdout"] == "hi")
        #expect(!user.isInterruptMarker)
        #expect(marker.isInterruptMarker)
    }

    @Test func systemSubtypes() throws {
        guard case .system(let initMessage) = decode(Self.initFrame), case .initialize(let info) = initMessage.kind
        else {
            Issue.record("init not typed")
            return
        }
        #expect(info.sessionID == "9899897f-aaaa")
        #expect(info.cwd == "/w/work")
        #expect(info.tools == ["Task", "Bash"])
        #expect(info.mcpServers == [MCPServerState(name: "sdkx", status: "connected", source: "sdk")])
        #expect(info.claudeCodeVersion == "2.1.331")
        #expect(info.capabilities == ["interrupt_receipt_v1"])

        guard case .system(let retry) = decode(Self.apiRetry), case .apiRetry(let details) = retry.kind else {
            Issue.record("api_retry not typed")
            return
        }
        #expect(
            details
                == APIRetry(
                    attempt: 1, maxRetries: 10, retryDelayMilliseconds: 1169, errorStatus: 529, error: "overloaded"))

        guard case .system(let state) = decode(Self.stateChanged),
            case .sessionStateChanged(let value, let hostOnly) = state.kind
        else {
            Issue.record("state not typed")
            return
        }
        #expect(value == "running")
        #expect(hostOnly)

        guard case .system(let status) = decode(Self.status), case .status(nil, "acceptEdits") = status.kind else {
            Issue.record("status not typed")
            return
        }
        guard case .system(let denied) = decode(Self.denied),
            case .permissionDenied("Bash", "toolu_7", _) = denied.kind
        else {
            Issue.record("permission_denied not typed")
            return
        }
        guard case .system(let title) = decode(Self.titleChanged),
            case .sessionTitleChanged("Renamed (fork)") = title.kind
        else {
            Issue.record("title not typed")
            return
        }
        guard case .system(let other) = decode(#"{"type":"system","subtype":"compact_boundary","x":1}"#),
            case .other = other.kind
        else {
            Issue.record("unknown subtype not raw")
            return
        }
        #expect(other.data["x"] == 1)
    }

    @Test func streamAndRateLimitEvents() throws {
        guard case .streamEvent(let event) = decode(Self.streamEvent) else {
            Issue.record("not a stream event")
            return
        }
        #expect(event.eventType == "content_block_delta")
        #expect(event.event["delta"]?["text"] == "tick 1 ")
        guard case .rateLimit(let limit) = decode(Self.rateLimit) else {
            Issue.record("not a rate limit")
            return
        }
        #expect(limit.status == "allowed_warning")
    }

    @Test func unknownTypesAndBlocksAreKeptRaw() throws {
        let text = #"{"type":"brand_new","payload":{"a":[1,2]},"session_id":"s9"}"#
        guard case .unknown(let unknown) = decode(text) else {
            Issue.record("not unknown")
            return
        }
        #expect(unknown.type == "brand_new")
        #expect(unknown.raw.string == text)
        #expect(decode(text).sessionID == "s9")
        let blocks =
            #"{"type":"assistant","message":{"content":[{"type":"redacted_thinking","data":"abc"},{"type":"thinking","thinking":"hm","signature":"sig"},{"type":"web_search_tool_result","tool_use_id":"t1","content":[{"url":"u"}]},{"type":"server_tool_use","id":"t1","name":"web_search","input":{"q":"x"}},{"type":"image","source":{"type":"base64","data":"AA"}},{"type":"hologram","x":1}],"model":"m"}}"#
        guard case .assistant(let message) = decode(blocks) else {
            Issue.record("not assistant")
            return
        }
        #expect(
            message.content.map(\.type) == [
                "redacted_thinking", "thinking", "web_search_tool_result", "server_tool_use", "image", "hologram",
            ])
        guard case .unknown(let hologram) = message.content.last else {
            Issue.record("unknown block dropped")
            return
        }
        #expect(hologram["x"] == 1)
    }

    @Test func invalidLinesBecomeInvalidFramesWithPrefix() {
        let garbage = String(repeating: "not json ", count: 100)
        guard case .invalid(let frame) = decode(garbage) else {
            Issue.record("not invalid")
            return
        }
        #expect(frame.byteCount == garbage.utf8.count)
        #expect(frame.prefix.count == 200)
        guard case .invalid(let array) = decode("[1,2]"), array.reason == .notAnObject else {
            Issue.record("array accepted as a message")
            return
        }
    }

    @Test func rawBytesArePreservedExactly() {
        let text =
            "{\"type\":\"assistant\",\"message\":{\"content\":[{\"type\":\"text\",\"text\":\"a\u{2028}b \\u00e9 é\"}],\"model\":\"m\"},\"z\":1.50}"
        let message = decode(text)
        #expect(message.raw.bytes == Array(text.utf8))
        guard case .assistant(let assistant) = message else {
            Issue.record("not assistant")
            return
        }
        #expect(assistant.text == "a\u{2028}b é é")
    }
}
