import ClaudeCode
import ClaudeCodeSessions
import Foundation

/// Builds CLI-shaped transcript folders for tests: JSON lines with members in the CLI's
/// order, deterministic ids and timestamps, and files with chosen modification times.
struct TranscriptFixtures {
    let root: String
    let configDirectory: String
    var projectsDirectory: String { configDirectory + "/projects" }
    private(set) var counter = 0

    init(root: String) throws {
        self.root = root
        configDirectory = root + "/config"
        try FileManager.default.createDirectory(atPath: projectsDirectory, withIntermediateDirectories: true)
    }

    static func temporaryRoot(_ name: String) throws -> String {
        let base =
            FileManager.default.temporaryDirectory.path
            + "/cc-transcripts-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        return URL(fileURLWithPath: base).resolvingSymlinksInPath().path
    }

    /// A fresh message uuid.
    mutating func uuid() -> String {
        counter += 1
        return String(format: "00000000-0000-4000-8000-%012d", counter)
    }

    /// A timestamp `seconds` after a fixed start.
    static func timestamp(_ seconds: Int) -> String {
        let date = Date(timeIntervalSince1970: 1_759_300_000 + Double(seconds) + 0.123)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// A working directory under the fixture root, created on disk.
    func workingDirectory(_ relative: String) throws -> String {
        let path = root + "/work/" + relative
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The project folder the CLI would use for `cwd`, created.
    func projectFolder(for cwd: String) throws -> String {
        let path = projectsDirectory + "/" + ClaudeSessionLibrary.projectFolderName(for: cwd)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Writes a transcript and sets its modification time.
    @discardableResult
    func write(_ lines: [String], folder: String, name: String, modified: Int, trailingNewline: Bool = true) throws
        -> String
    {
        let path = folder + "/" + name
        var text = lines.joined(separator: "\n")
        if trailingNewline, !lines.isEmpty { text += "\n" }
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try setModified(path, modified)
        return path
    }

    func setModified(_ path: String, _ modified: Int) throws {
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSince1970: 1_760_000_000 + Double(modified) + 0.25)],
            ofItemAtPath: path)
    }
}

/// One JSON object line with members in the given order.
func jsonLine(_ members: [(String, JSONValue)]) -> String {
    var bytes: [UInt8] = [0x7B]
    for (index, (key, value)) in members.enumerated() {
        if index > 0 { bytes.append(0x2C) }
        bytes += JSONValue.string(key).serialized()
        bytes.append(0x3A)
        bytes += value.serialized()
    }
    bytes.append(0x7D)
    return String(decoding: bytes, as: UTF8.self)
}

/// Entry builders in the CLI's member order.
struct EntryBuilder {
    var sessionID: String
    var cwd: String
    var gitBranch: String = "main"
    var clock = 0

    mutating func tick() -> String {
        clock += 1
        return TranscriptFixtures.timestamp(clock)
    }

    mutating func entry(
        type: String, uuid: String, parent: String?, message: JSONValue? = nil, extra: [(String, JSONValue)] = [],
        sidechain: Bool = false, branch: String? = nil
    ) -> String {
        var members: [(String, JSONValue)] = [
            ("parentUuid", parent.map(JSONValue.string) ?? .null), ("isSidechain", .bool(sidechain)),
        ]
        members.append(("type", .string(type)))
        if let message { members.append(("message", message)) }
        members.append(("uuid", .string(uuid)))
        members.append(("timestamp", .string(tick())))
        members += extra
        members += [
            ("userType", "external"), ("cwd", .string(cwd)), ("sessionId", .string(sessionID)), ("version", "2.1.331"),
            ("gitBranch", .string(branch ?? gitBranch)),
        ]
        return jsonLine(members)
    }

    mutating func user(
        _ uuid: String, parent: String?, _ content: JSONValue, extra: [(String, JSONValue)] = [],
        sidechain: Bool = false,
        branch: String? = nil
    ) -> String {
        entry(
            type: "user", uuid: uuid, parent: parent, message: ["role": "user", "content": content], extra: extra,
            sidechain: sidechain, branch: branch)
    }

    mutating func assistant(
        _ uuid: String, parent: String?, id: String, _ blocks: [JSONValue], extra: [(String, JSONValue)] = [],
        sidechain: Bool = false, branch: String? = nil
    ) -> String {
        let message: JSONValue = [
            "id": .string(id), "type": "message", "role": "assistant", "model": "claude-opus-5-5",
            "content": .array(blocks),
            "stop_reason": "end_turn", "usage": ["input_tokens": 10, "output_tokens": 5],
        ]
        return entry(
            type: "assistant", uuid: uuid, parent: parent, message: message, extra: extra, sidechain: sidechain,
            branch: branch)
    }

    mutating func toolResult(
        _ uuid: String, parent: String, callID: String, text: String, extra: [(String, JSONValue)] = []
    )
        -> String
    {
        user(
            uuid, parent: parent, [["type": "tool_result", "tool_use_id": .string(callID), "content": .string(text)]],
            extra: extra)
    }

    mutating func attachment(_ uuid: String, parent: String?, kind: String) -> String {
        entry(
            type: "attachment", uuid: uuid, parent: parent,
            extra: [("attachment", ["type": .string(kind), "content": "…"])])
    }

    mutating func system(_ uuid: String, parent: String?, subtype: String, extra: [(String, JSONValue)] = []) -> String
    {
        entry(type: "system", uuid: uuid, parent: parent, extra: [("subtype", .string(subtype))] + extra)
    }

    mutating func progress(_ uuid: String, parent: String?) -> String {
        entry(type: "progress", uuid: uuid, parent: parent, extra: [("data", ["type": "hook_progress"])])
    }

    func lastPrompt(_ text: String) -> String {
        jsonLine([("type", "last-prompt"), ("lastPrompt", .string(text)), ("sessionId", .string(sessionID))])
    }

    func customTitle(_ text: String) -> String {
        jsonLine([("type", "custom-title"), ("customTitle", .string(text)), ("sessionId", .string(sessionID))])
    }

    func aiTitle(_ text: String) -> String {
        jsonLine([("type", "ai-title"), ("aiTitle", .string(text)), ("sessionId", .string(sessionID))])
    }

    func tag(_ text: String) -> String {
        jsonLine([("type", "tag"), ("tag", .string(text)), ("sessionId", .string(sessionID))])
    }

    mutating func queueOperation() -> String {
        jsonLine([
            ("type", "queue-operation"), ("operation", "enqueue"), ("timestamp", .string(tick())),
            ("sessionId", .string(sessionID)),
        ])
    }
}

extension CLISessionInfo {
    /// The Python SDK's `SDKSessionInfo` as JSON.
    var pythonShape: JSONValue {
        func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        func optional(_ value: Int?) -> JSONValue { value.map { .int(Int64($0)) } ?? .null }
        return [
            "session_id": .string(sessionID), "summary": .string(summary), "last_modified": .int(Int64(lastModified)),
            "file_size": optional(fileSize), "custom_title": optional(customTitle),
            "first_prompt": optional(firstPrompt),
            "git_branch": optional(gitBranch), "cwd": optional(cwd), "tag": optional(tag),
            "created_at": optional(createdAt),
        ]
    }
}

extension CLISessionMessage {
    /// The Python SDK's `SessionMessage` as JSON.
    var pythonShape: JSONValue {
        [
            "type": .string(type.rawValue), "uuid": .string(uuid), "session_id": .string(sessionID), "message": message,
            "parent_tool_use_id": parentToolUseID.map(JSONValue.string) ?? .null,
            "parent_agent_id": parentAgentID.map(JSONValue.string) ?? .null,
        ]
    }
}

/// Where two JSON values first differ, for readable failures.
func firstDifference(_ left: JSONValue, _ right: JSONValue, path: String = "$") -> String? {
    switch (left, right) {
    case (.object(let a), .object(let b)):
        for key in Set(a.keys).union(b.keys).sorted() {
            guard let x = a[key] else { return "\(path).\(key): missing on the left" }
            guard let y = b[key] else { return "\(path).\(key): missing on the right" }
            if let difference = firstDifference(x, y, path: "\(path).\(key)") { return difference }
        }
        return nil
    case (.array(let a), .array(let b)):
        for index in 0..<min(a.count, b.count) {
            if let difference = firstDifference(a[index], b[index], path: "\(path)[\(index)]") { return difference }
        }
        return a.count == b.count ? nil : "\(path): \(a.count) vs \(b.count) elements"
    case (.int(let a), .double(let b)) where Double(a) == b: return nil
    case (.double(let a), .int(let b)) where a == Double(b): return nil
    default:
        return left == right ? nil : "\(path): \(left.jsonString.prefix(300)) vs \(right.jsonString.prefix(300))"
    }
}
