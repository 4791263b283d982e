import ClaudeCode
import ClaudeCodeTesting
import Foundation
import Testing

@testable import ClaudeCodeSessions

/// The reference Python SDK's interpreter (`scripts/setup/install-python-reference.sh` makes it).
func referencePython(filePath: String = #filePath) throws -> String {
    var folder = URL(fileURLWithPath: filePath).deletingLastPathComponent()
    while folder.path != "/" {
        let candidate = folder.appendingPathComponent(".venv-ref/bin/python").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        folder.deleteLastPathComponent()
    }
    throw CLITestFailure("the Python reference SDK is not installed: run scripts/setup/install-python-reference.sh")
}

struct CLITestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

@Suite("SessionSummaryFold", .timeLimit(.minutes(1)))
struct SessionSummaryFoldTests {
    static func user(_ content: JSONValue, extra: [String: JSONValue] = [:]) -> String {
        var object: [String: JSONValue] = ["type": "user", "message": ["role": "user", "content": content]]
        for (key, value) in extra { object[key] = value }
        return JSONValue.object(object).jsonString
    }

    static let longPrompt = String(repeating: "word ", count: 39) + "1234 " + String(repeating: "🚀", count: 20)

    /// Entries that exercise every rule of the fold.
    static let entries: [String] = [
        #"{"type":"queue-operation","operation":"enqueue","timestamp":"not a date"}"#,
        #"{"type":"system","timestamp":"2024-03-05T10:11:12.345Z","cwd":""}"#,
        user("<local-command-stdout>ok</local-command-stdout>", extra: ["cwd": "/work/proj"]),
        user("  [Request interrupted by user for tool use]  "),
        user("[Request interrupted by user"),
        user("<ide_opened_file>a.swift</ide_opened_file>"),
        user(
            .array([["type": "tool_result", "tool_use_id": "t", "content": "x"], ["type": "text", "text": "ignored"]])),
        user("the meta one", extra: ["isMeta": true]),
        user("compacted", extra: ["isCompactSummary": true]),
        user("<command-name>/clear</command-name> <command-args></command-args>"),
        user("<command-name>/second</command-name>"),
        user(
            .array([
                ["type": "image"], ["type": "text", "text": "\u{3000}\r\n  "],
                ["type": "text", "text": .string("\n" + longPrompt + "\n")],
            ])),
        user("after the first prompt"),
        #"{"type":"assistant","customTitle":"title one","aiTitle":"ai","gitBranch":"main","summary":"s1","lastPrompt":"lp1"}"#,
        #"{"type":"x","customTitle":42,"gitBranch":"dev"}"#,
        #"{"type":"tag","tag":"keep"}"#,
        #"{"type":"tag","tag":""}"#,
        #"{"type":"tag","tag":"final"}"#,
        #"{"type":"custom-title","customTitle":"title two","timestamp":"2024-03-05T10:11:13+02:00"}"#,
    ]

    @Test func matchesThePythonSDKFoldSessionSummary() async throws {
        let python = try referencePython()
        let folder = TemporaryFolder()
        let input = folder.sub("entries.jsonl")
        // Several ways of cutting the same entries into appends, and a sidechain session.
        let sessions: [(name: String, lines: [String], batches: [Int])] = [
            ("one-by-one", Self.entries, Array(repeating: 1, count: Self.entries.count)),
            ("batched", Self.entries, [3, 5, 4, 7]),
            ("all-at-once", Self.entries, [Self.entries.count]),
            (
                "sidechain",
                [#"{"type":"user","isSidechain":true,"message":{"role":"user","content":"sub"}}"#] + Self.entries,
                [2, 100]
            ),
            ("long-first", [Self.user(.string(Self.longPrompt + "   tail"))], [1]),
            ("command-only", [Self.user("<command-name>/init</command-name>"), Self.user("<tick>")], [2]),
        ]
        var specification: [JSONValue] = []
        for session in sessions {
            specification.append([
                "name": .string(session.name), "lines": .array(session.lines.map(JSONValue.string)),
                "batches": .array(session.batches.map { .int(Int64($0)) }),
            ])
        }
        try Data(JSONValue.array(specification).serialized()).write(to: URL(fileURLWithPath: input))
        let script = """
            import json, sys
            from claude_agent_sdk._internal.session_summary import fold_session_summary
            out = {}
            for session in json.load(open(sys.argv[1])):
                entries = [json.loads(line) for line in session["lines"]]
                summary, index = None, 0
                for size in session["batches"]:
                    summary = fold_session_summary(summary, {"project_key": "p", "session_id": "s"}, entries[index:index + size])
                    index += size
                out[session["name"]] = summary["data"]
            print(json.dumps(out))
            """
        let result = try await ChildProcess.run(python, ["-c", script, input])
        #expect(result.status == 0, "\(result.standardErrorText)")
        let output = result.standardOutput
        let expected = try JSONValue.parse(Array(output))
        for session in sessions {
            var summary: SessionStoreSummary?
            var index = 0
            let entries = try session.lines.map { try SessionStoreEntry(raw: RawJSON($0)) }
            for size in session.batches {
                summary = SessionSummaryFold.fold(
                    summary, key: SessionStoreKey(projectKey: "p", sessionID: "s"),
                    entries: Array(entries[index..<min(index + size, entries.count)]))
                index += size
            }
            #expect(summary?.data == expected[session.name], "\(session.name)")
        }
        // The differential covers these rules.
        let batched = try #require(expected["batched"])
        // An interruption marker without its closing bracket is a prompt, not an automatic message.
        #expect(batched["first_prompt"] == "[Request interrupted by user")
        #expect(expected["long-first"]?["first_prompt"]?.stringValue?.hasSuffix("1234…") == true)
        #expect(expected["command-only"]?["command_fallback"] == "/init")
        #expect(expected["command-only"]?["first_prompt"] == nil)
        #expect(batched["tag"] == "final")
        #expect(batched["cwd"] == "/work/proj")
        #expect(batched["created_at"] == .int(1_709_633_472_345))
        #expect(expected["sidechain"]?["is_sidechain"] == true)
    }

    @Test func mtimeIsLeftToTheStoreAndUnknownKeysAreKept() throws {
        let previous = SessionStoreSummary(
            sessionID: "s", modifiedMilliseconds: 1234, data: ["custom": ["x": 1], "tag": "t"])
        let folded = SessionSummaryFold.fold(
            previous, key: SessionStoreKey(projectKey: "p", sessionID: "other"),
            entries: [try SessionStoreEntry(raw: RawJSON(#"{"type":"tag"}"#))])
        #expect(folded.sessionID == "s")
        #expect(folded.modifiedMilliseconds == 1234)
        #expect(folded.data == ["custom": ["x": 1], "is_sidechain": false])
        let fresh = SessionSummaryFold.fold(nil, key: SessionStoreKey(projectKey: "p", sessionID: "new"), entries: [])
        #expect(fresh.sessionID == "new")
        #expect(fresh.modifiedMilliseconds == 0)
        #expect(fresh.data == [:])
    }
}
