// Inputs shared by the package-benchmark suites: generated stream-json frames, CLI transcript
// lines and conversation messages, scratch folders, and the fake CLI's path.
public import ClaudeCode
public import ClaudeCodeSessions
import Foundation

/// Inputs for the benchmark suites, generated the same way on every run.
public enum BenchmarkInput {
    /// `count` stream-json `assistant` frames of about `bytes` bytes each, one per line, with
    /// text, a tool call and non-ASCII text in turn (what a coding turn streams).
    public static func assistantFrames(count: Int, bytes: Int = 600) -> [String] {
        (0..<count).map { index in
            let filler = String(repeating: "lorem ipsum dolor sit amet, 🙂 é ", count: max(1, bytes / 34))
            let content: String
            switch index % 3 {
            case 0: content = #"[{"type":"text","text":"step \#(index): \#(filler)"}]"#
            case 1:
                content =
                    #"[{"type":"tool_use","id":"toolu_\#(index)","name":"Bash","input":{"command":"echo \#(index)","description":"\#(filler)"}}]"#
            default: content = #"[{"type":"thinking","thinking":"\#(filler)","signature":"sig"}]"#
            }
            return
                #"{"type":"assistant","message":{"id":"msg_\#(index)","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":\#(content),"stop_reason":null,"usage":{"input_tokens":10,"output_tokens":20}},"parent_tool_use_id":null,"session_id":"6f0c5bd4-58b8-4bd5-9d0c-2b7a1a3e0c11","uuid":"00000000-0000-4000-8000-\#(String(format: "%012d", index))"}"#
        }
    }

    /// A CLI transcript of `turns` prompt/reply pairs (JSONL, as the CLI writes it).
    public static func transcriptLines(sessionID: String, turns: Int, replyBytes: Int = 800) -> [String] {
        var lines: [String] = []
        var parent = "null"
        let filler = String(repeating: "the quick brown fox jumps over the lazy dog; ", count: max(1, replyBytes / 45))
        for turn in 0..<turns {
            let user = String(format: "10000000-0000-4000-8000-%012d", turn)
            let assistant = String(format: "20000000-0000-4000-8000-%012d", turn)
            let time = String(format: "2026-12-01T10:%02d:%02d.000Z", (turn / 60) % 60, turn % 60)
            lines.append(
                #"{"parentUuid":\#(parent),"isSidechain":false,"userType":"external","cwd":"/work/bench","sessionId":"\#(sessionID)","version":"2.1.331","type":"user","message":{"role":"user","content":"question \#(turn): how do I migrate the sqlite schema?"},"uuid":"\#(user)","timestamp":"\#(time)"}"#
            )
            lines.append(
                #"{"parentUuid":"\#(user)","isSidechain":false,"userType":"external","cwd":"/work/bench","sessionId":"\#(sessionID)","version":"2.1.331","type":"assistant","message":{"id":"msg_\#(turn)","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"answer \#(turn): \#(filler)"}],"usage":{"input_tokens":100,"output_tokens":200}},"uuid":"\#(assistant)","timestamp":"\#(time)"}"#
            )
            parent = "\"\(assistant)\""
        }
        return lines
    }

    /// `count` messages of a conversation, as `SessionPersistentClient` records them.
    public static func conversationMessages(count: Int) -> [ConversationMessage] {
        assistantFrames(count: count).map { ConversationMessage(direction: .received, rawJSON: $0) }
    }
}

/// A private scratch folder, removed by ``remove()``.
public struct ScratchDirectory: Sendable {
    /// The folder's path.
    public let path: String

    /// Makes a new folder under the temporary directory.
    public init(_ label: String) throws {
        path = FileManager.default.temporaryDirectory.path + "/claude-bench-\(label)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// Writes `lines` as a JSONL file at `relativePath` and returns its path.
    @discardableResult
    public func write(lines: [String], to relativePath: String) throws -> String {
        let file = path + "/" + relativePath
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    /// Removes the folder.
    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The fake CLI (`fake-claude`) that the client and mirroring suites stream from: `FAKE_CLAUDE_PATH`,
/// else the root package's release or debug build (`swift build -c release --product fake-claude`
/// at the repository's root; scripts/bench/package-benchmarks.sh builds it).
public func fakeClaudePath(filePath: String = #filePath) throws -> String {
    if let explicit = ProcessInfo.processInfo.environment["FAKE_CLAUDE_PATH"], !explicit.isEmpty { return explicit }
    var root = URL(fileURLWithPath: filePath)
    for _ in 0..<4 { root.deleteLastPathComponent() }
    for configuration in ["release", "debug"] {
        let candidate = root.path + "/.build/\(configuration)/fake-claude"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    throw BenchmarkSetupError(
        description:
            "fake-claude not found: build it at the repository's root (swift build -c release --product fake-claude) or set FAKE_CLAUDE_PATH"
    )
}

/// A benchmark's inputs could not be prepared.
public struct BenchmarkSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

/// Appends a 500-turn transcript (1,000 lines) to `store` in batches of 50, as the mirror does,
/// loads it back and reports a short load to `fail`.
public func appendAndLoad(_ store: any SessionStore, fail: (String) -> Void) async {
    let key = SessionStoreKey(projectKey: "bench", sessionID: UUID().uuidString.lowercased())
    do {
        for start in stride(from: 0, to: storeEntries.count, by: 50) {
            try await store.append(Array(storeEntries[start..<min(start + 50, storeEntries.count)]), to: key)
        }
        let loaded = try await store.load(key)
        if loaded?.count != storeEntries.count { fail("loaded \(loaded?.count ?? 0) entries") }
    } catch {
        fail("\(error)")
    }
}

/// The lines ``appendAndLoad(_:fail:)`` appends.
private let storeEntries = BenchmarkInput.transcriptLines(sessionID: "s", turns: 500).map { line in
    // The lines are generated valid JSON objects.
    // swift-format-ignore: NeverUseForceTry
    try! SessionStoreEntry(raw: RawJSON(line))
}
