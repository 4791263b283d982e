import Foundation
import Testing

@testable import ClaudeCode

/// `JSONValue.parse`: the grammar, the value model, and agreement with Foundation's parser on real frames.
@Suite struct JSONValueParseTests {
    private func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    @Test func scalarsAndContainers() throws {
        #expect(try parse("null") == .null)
        #expect(try parse(" true ") == .bool(true))
        #expect(try parse("false") == .bool(false))
        #expect(try parse("0") == .int(0))
        #expect(try parse("-12") == .int(-12))
        #expect(try parse("9223372036854775807") == .int(.max))
        #expect(try parse("-9223372036854775808") == .int(.min))
        #expect(try parse("9223372036854775808") == .double(9_223_372_036_854_775_808))
        #expect(try parse("1.5") == .double(1.5))
        #expect(try parse("-0.01036") == .double(-0.01036))
        #expect(try parse("1e3") == .double(1000))
        #expect(try parse("2E-2") == .double(0.02))
        #expect(try parse("[]") == .array([]))
        #expect(try parse("{}") == .object([:]))
        #expect(try parse(#" { "a" : [ 1 , { "b" : null } ] , "c" : "d" } "#) == ["a": [1, ["b": nil]], "c": "d"])
        #expect(try parse(#"{"k":1,"k":2}"#) == ["k": 2])
    }

    @Test func stringsAndEscapes() throws {
        #expect(try parse(#""plain""#) == "plain")
        #expect(try parse(#""a\"b\\c\/d\b\f\n\r\t""#) == "a\"b\\c/d\u{08}\u{0C}\n\r\t")
        #expect(try parse(#""\u00e9\u65E5\ud83d\ude80""#) == "é日🚀")
        // Unpaired surrogates become U+FFFD instead of failing the frame.
        #expect(try parse(#""x\ud83dy""#) == "x\u{FFFD}y")
        #expect(try parse(#""x\ude80y""#) == "x\u{FFFD}y")
        // Raw U+2028/U+2029 and other non-ASCII text stay as they are.
        #expect(try parse("\"a\u{2028}b\u{2029}c résumé 🚀\"") == "a\u{2028}b\u{2029}c résumé 🚀")
        // Invalid UTF-8 is repaired, not fatal.
        let invalid: [UInt8] = [0x22, 0x61, 0xFF, 0x62, 0x22]
        #expect(try JSONValue.parse(invalid) == "a\u{FFFD}b")
        // Escapes after a long plain run, and a run after an escape.
        let long = String(repeating: "x", count: 5000)
        #expect(try parse("\"\(long)\\n\(long)\"") == .string(long + "\n" + long))
    }

    @Test(arguments: [
        "", " ", "nul", "tru", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "[1 2]", "01", "-", "1.", "1e", "+1",
        "\"unterminated", "\"bad \\x escape\"", "\"\\u12G4\"", "\"tab\tinside\"", "{} {}", "[", "{\"a\":",
        "NaN", "'single'",
    ])
    func rejectsInvalidDocuments(_ text: String) {
        #expect(throws: JSONParseError.self) { try parse(text) }
    }

    @Test func errorsCarryTheOffset() {
        do throws(JSONParseError) {
            _ = try JSONValue.parse(#"{"a": [1, 2,, 3]}"#)
            Issue.record("parsed invalid JSON")
        } catch {
            #expect(error.offset == 12)
            #expect(error.offset == 12)
        }
    }

    @Test func nestingIsLimited() throws {
        let ok = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(throws: Never.self) { try parse(ok) }
        let deep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        #expect(throws: JSONParseError.self) { try parse(deep) }
    }

    @Test func stringInputMatchesBytes() throws {
        let text = #"{"type":"x","n":[1,2.5,"é"]}"#
        #expect(try JSONValue.parse(text) == (try parse(text)))
    }

    /// Every captured real-CLI frame parses to the same value as Foundation's `JSONDecoder` gives.
    @Test func agreesWithFoundationOnTheCapturedFixtures() throws {
        let folder = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "jsonl" }
        #expect(!files.isEmpty)
        var frames = 0
        for file in files {
            for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") {
                let ours = try JSONValue.parse(Array(line.utf8))
                let foundation = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
                #expect(Self.same(ours, foundation), "\(file.lastPathComponent): \(line.prefix(80))")
                frames += 1
            }
        }
        #expect(frames > 20)
    }

    /// Equality with numbers compared by value (Foundation may read `1.0` as an integer).
    static func same(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.int, _), (.double, _):
            return lhs.doubleValue != nil && lhs.doubleValue == rhs.doubleValue
        case (.array(let left), .array(let right)):
            return left.count == right.count && zip(left, right).allSatisfy { same($0, $1) }
        case (.object(let left), .object(let right)):
            return left.count == right.count
                && left.allSatisfy { key, value in right[key].map { same(value, $0) } ?? false }
        default:
            return lhs == rhs
        }
    }
}

/// The parser's tape, which messages are decoded from without building the whole `JSONValue`.
@Suite struct JSONTapeTests {
    private func withRoot<Result>(_ text: String, _ body: (JSONTapeView) throws -> Result) throws -> Result {
        let bytes = Array(text.utf8)
        var tape = JSONTape()
        return try bytes.withUnsafeBufferPointer { buffer in
            try tape.parse(buffer)
            return try tape.withRoot(of: buffer, body)
        }
    }

    @Test func lookupsMatchTheMaterializedValue() throws {
        let text =
            #"{"type":"x","ty\u0070e2":"escaped key","n":{"a":[1,2.5,-3],"b":null,"c":true},"k":1,"k":"last","s":"a\"b"}"#
        try withRoot(text) { root in
            #expect(root.kind == .object)
            #expect(root["type"]?.stringValue == "x")
            #expect(root["type2"]?.stringValue == "escaped key")
            #expect(root["k"]?.stringValue == "last")
            #expect(root["missing"] == nil)
            #expect(root["n"]?["a"]?.elements?.map(\.jsonValue) == [1, 2.5, -3])
            #expect(root["n"]?["a"]?.elements?[1].doubleValue == 2.5)
            #expect(root["n"]?["a"]?.elements?[2].intValue == -3)
            #expect(root["n"]?["b"]?.isNull == true)
            #expect(root["n"]?["c"]?.boolValue == true)
            #expect(root["s"]?.stringValue == "a\"b")
            #expect(root["n"]?["a"]?["x"] == nil)
            #expect(root["type"]?.elements == nil)
            var keys: [String] = []
            root.forEachMember { key, _ in keys.append(key) }
            #expect(keys == ["type", "type2", "n", "k", "k", "s"])
        }
        #expect(try withRoot(text) { $0.jsonValue } == (try JSONValue.parse(text)))
    }

    @Test func escapedStringsWithInvalidUTF8AreRepaired() throws {
        let bytes: [UInt8] = Array(#"{"s":"a\n"#.utf8) + [0xC3] + Array(#"b"}"#.utf8)
        #expect(try JSONValue.parse(bytes) == ["s": "a\n\u{FFFD}b"])
    }

    /// Frames decode the same from the tape (the client's path) as from a parsed `JSONValue`.
    @Test func messagesDecodeTheSameFromTheTapeAndFromJSONValue() throws {
        let folder = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "jsonl" }
        var lines = try files.flatMap {
            try String(contentsOf: $0, encoding: .utf8).split(separator: "\n").map(String.init)
        }
        lines += [
            MessageDecodingTests.resultSuccess, MessageDecodingTests.resultAPIError, MessageDecodingTests.assistantText,
            MessageDecodingTests.assistantToolUse, MessageDecodingTests.apiErrorAssistant,
            MessageDecodingTests.toolResult,
            MessageDecodingTests.interruptMarker, MessageDecodingTests.initFrame, MessageDecodingTests.apiRetry,
            MessageDecodingTests.streamEvent, MessageDecodingTests.rateLimit,
            #"{"type":"user","message":{"role":"user","content":"plain \"text\""},"isReplay":true,"session_id":"s"}"#,
            #"{"type":"assistant","message":{"content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"redacted_thinking","data":"d"},{"type":"server_tool_use","id":"i","name":"web_search","input":{"q":"x"}},{"type":"web_search_tool_result","tool_use_id":"i","content":[{"url":"u"}]},{"type":"image","source":{"type":"base64","data":"AA=="}},{"type":"future_block","x":1}]}}"#,
            #"{"type":"brand_new","payload":{"a":[1,{"b":2}]}}"#,
        ]
        #expect(lines.count > 30)
        for line in lines {
            let fromTape = Message(line: Array(line.utf8))
            let fromValue = Message(raw: RawJSON(line), json: try JSONValue.parse(line))
            #expect(Self.fields(fromTape) == Self.fields(fromValue), "\(line.prefix(100))")
            #expect(Self.blocks(fromTape) == Self.blocks(fromValue), "\(line.prefix(100))")
        }
    }

    /// The content blocks of a user or assistant message.
    static func blocks(_ message: Message) -> [ContentBlock] {
        switch message {
        case .assistant(let assistant): return assistant.content
        case .user(let user):
            if case .blocks(let blocks) = user.content { return blocks }
            return []
        default: return []
        }
    }

    /// Every typed field of a message but its content blocks, as a comparable value.
    static func fields(_ message: Message) -> [String: JSONValue] {
        func string(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        func int(_ value: Int?) -> JSONValue { value.map { .int(Int64($0)) } ?? .null }
        func blocks(_ blocks: [ContentBlock]) -> JSONValue { .int(Int64(blocks.count)) }
        var fields: [String: JSONValue] = [
            "type": .string(message.type), "raw": .string(message.raw.string), "session": string(message.sessionID),
        ]
        switch message {
        case .user(let user):
            switch user.content {
            case .text(let text): fields["content"] = .string(text)
            case .blocks(let list): fields["content"] = blocks(list)
            }
            fields["uuid"] = string(user.uuid)
            fields["parent"] = string(user.parentToolUseID)
            fields["toolUseResult"] = user.toolUseResult ?? "<absent>"
            fields["isReplay"] = .bool(user.isReplay)
        case .assistant(let assistant):
            fields["content"] = blocks(assistant.content)
            fields["model"] = .string(assistant.model)
            fields["id"] = string(assistant.messageID)
            fields["stop"] = string(assistant.stopReason)
            fields["usage"] = assistant.usage ?? "<absent>"
            fields["parent"] = string(assistant.parentToolUseID)
            fields["error"] = string(assistant.error)
            fields["uuid"] = string(assistant.uuid)
        case .system(let system):
            fields["subtype"] = .string(system.subtype)
            fields["data"] = system.data
            fields["uuid"] = string(system.uuid)
        case .result(let result):
            fields["subtype"] = .string(result.subtype)
            fields["isError"] = .bool(result.isError)
            fields["durations"] = [int(result.durationMilliseconds), int(result.apiDurationMilliseconds)]
            fields["turns"] = int(result.numTurns)
            fields["stop"] = string(result.stopReason)
            fields["cost"] = result.totalCostUSD.map(JSONValue.double) ?? .null
            fields["usage"] = result.usage?.json ?? "<absent>"
            fields["result"] = string(result.result)
            fields["structured"] = result.structuredOutput ?? "<absent>"
            fields["modelUsage"] = .object(result.modelUsage.mapValues(\.json))
            fields["denials"] = .array(result.permissionDenials)
            fields["errors"] = .array(result.errors.map(JSONValue.string))
            fields["apiErrorStatus"] = int(result.apiErrorStatus)
            fields["terminal"] = string(result.terminalReason)
            fields["uuid"] = string(result.uuid)
        case .streamEvent(let event):
            fields["event"] = event.event
            fields["uuid"] = string(event.uuid)
            fields["parent"] = string(event.parentToolUseID)
        case .rateLimit(let event):
            fields["info"] = event.info
            fields["uuid"] = string(event.uuid)
        case .conversationReset(let reset):
            fields["json"] = reset.json
        case .unknown(let unknown):
            fields["json"] = unknown.json
        case .invalid(let frame):
            fields["invalid"] = .string(String(describing: frame.reason))
        }
        return fields
    }
}
