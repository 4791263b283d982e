import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeTesting
import Foundation
import Testing

/// A folder under the temporary directory, removed by `cleanup()`.
struct TemporaryFolder {
    let path: String

    init(_ name: String) throws {
        let base =
            FileManager.default.temporaryDirectory.path
            + "/cs-tool-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = URL(fileURLWithPath: base).resolvingSymlinksInPath().path
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// Hostile strings a transcript may carry.
enum Payloads {
    /// Each would set a class on the page's root that no file contains literally: only running script can.
    static let script = "<script>document.documentElement.className='pwned'+'-by-script'</script>"
    static let attribute = "\"><img src=x onerror=document.documentElement.className='pwned'+'-by-onerror'>"
    static let closer =
        "</pre></details></section><script>document.documentElement.className='pwned'+'-by-closer'</script>"
    /// What running any of them would leave in the DOM.
    static let marker = "pwned-by-"
    static let all = [script, attribute, closer]
    /// A 1×1 PNG.
    static let pngBase64 =
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
}

/// A CLI-shaped transcript: one project folder with one session written line by line.
struct CLITranscriptBuilder {
    let configDirectory: String
    let cwd: String
    let sessionID: String
    private(set) var lines: [String] = []
    private var parent: String?
    private var counter = 0

    init(configDirectory: String, cwd: String, sessionID: String = UUID().uuidString.lowercased()) {
        self.configDirectory = configDirectory
        self.cwd = cwd
        self.sessionID = sessionID
    }

    static func json(_ value: JSONValue) -> String { String(decoding: value.serialized(), as: UTF8.self) }

    mutating func nextUUID() -> String {
        counter += 1
        return String(format: "10000000-0000-4000-8000-%012d", counter)
    }

    mutating func append(type: String, message: JSONValue, seconds: Int) {
        let uuid = nextUUID()
        let date = Date(timeIntervalSince1970: 1_759_300_000 + Double(seconds))
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let object: JSONValue = .object([
            "parentUuid": parent.map(JSONValue.string) ?? .null, "isSidechain": false, "userType": "external",
            "cwd": .string(cwd), "sessionId": .string(sessionID), "version": "2.1.331", "type": .string(type),
            "message": message, "uuid": .string(uuid), "timestamp": .string(formatter.string(from: date)),
        ])
        lines.append(Self.json(object))
        parent = uuid
    }

    mutating func user(_ content: JSONValue, seconds: Int) {
        append(type: "user", message: ["role": "user", "content": content], seconds: seconds)
    }

    mutating func assistant(_ content: [JSONValue], id: String, seconds: Int, output: Int = 7) {
        append(
            type: "assistant",
            message: [
                "id": .string(id), "type": "message", "role": "assistant", "model": "claude-test-1",
                "content": .array(content), "stop_reason": "end_turn",
                "usage": ["input_tokens": 11, "output_tokens": .int(Int64(output)), "cache_read_input_tokens": 0],
            ], seconds: seconds)
    }

    var projectFolder: String {
        configDirectory + "/projects/" + ClaudeSessionLibrary.projectFolderName(for: cwd)
    }

    var path: String { projectFolder + "/" + sessionID + ".jsonl" }

    /// Writes the file; `extra` lines (corrupt ones, say) are inserted after line `at`.
    func write(extra: [String] = [], at: Int? = nil) throws {
        try FileManager.default.createDirectory(atPath: projectFolder, withIntermediateDirectories: true)
        var all = lines
        if let at { all.insert(contentsOf: extra, at: at) }
        try Data((all.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
    }

    /// A conversation carrying every hostile payload in every place text can go.
    static func hostile(configDirectory: String, cwd: String) -> CLITranscriptBuilder {
        var builder = CLITranscriptBuilder(configDirectory: configDirectory, cwd: cwd)
        builder.user(.string("First prompt " + Payloads.script), seconds: 0)
        builder.assistant(
            [["type": "thinking", "thinking": .string("thinking " + Payloads.attribute), "signature": "sig"]],
            id: "msg_1", seconds: 1)
        builder.assistant([["type": "text", "text": .string("Reply " + Payloads.attribute)]], id: "msg_1", seconds: 1)
        builder.assistant(
            [
                [
                    "type": "tool_use", "id": "toolu_1", "name": .string("Bash" + Payloads.attribute),
                    "input": ["command": .string("echo " + Payloads.closer)],
                ]
            ], id: "msg_1", seconds: 2)
        builder.user(
            [
                [
                    "type": "tool_result", "tool_use_id": "toolu_1", "is_error": false,
                    "content": .string("output " + Payloads.closer),
                ]
            ], seconds: 3)
        builder.user(
            [
                ["type": "text", "text": .string("Second prompt with picture " + Payloads.attribute)],
                [
                    "type": "image",
                    "source": ["type": "base64", "media_type": "image/png", "data": .string(Payloads.pngBase64)],
                ],
                [
                    "type": "image",
                    "source": [
                        "type": "base64", "media_type": "image/svg+xml\" onerror=\"alert(1)",
                        "data": "PHN2Zz48L3N2Zz4=",
                    ],
                ],
                [
                    "type": "image",
                    "source": ["type": "base64", "media_type": "image/png", "data": "AAAA\" onerror=\"alert(1)"],
                ],
            ], seconds: 4)
        builder.assistant([["type": "text", "text": "Done."]], id: "msg_2", seconds: 5, output: 3)
        return builder
    }
}

/// Finds the built `claude-sessions` binary next to the test bundle, or in `.build/debug`.
func toolBinary(filePath: String = #filePath) throws -> String {
    if let explicit = ProcessInfo.processInfo.environment["CLAUDE_SESSIONS_PATH"], !explicit.isEmpty {
        return explicit
    }
    var bundle = URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent()
    while bundle.path.contains(".xctest") { bundle.deleteLastPathComponent() }
    var candidates = [bundle.appendingPathComponent("claude-sessions").path]
    var folder = URL(fileURLWithPath: filePath).deletingLastPathComponent()
    while folder.path != "/" {
        candidates.append(folder.appendingPathComponent(".build/debug/claude-sessions").path)
        folder.deleteLastPathComponent()
    }
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw ToolRunFailure(description: "claude-sessions not built (swift build --product claude-sessions)")
    }
    return found
}

struct ToolRunFailure: Error, CustomStringConvertible {
    var description: String
}

/// What one run of the tool gave.
struct ToolRun {
    var status: Int32
    var stdout: Data
    var stderr: String
    var output: String { String(decoding: stdout, as: UTF8.self) }

    func json() throws -> Any { try JSONSerialization.jsonObject(with: stdout) }
}

/// Runs `claude-sessions` with `arguments`, no terminal, stdin from /dev/null (or `input`), and
/// waits for it off the cooperative pool.
func runTool(
    _ arguments: [String], environment: [String: String] = [:], executable: String? = nil, input: String? = nil
) async throws -> ToolRun {
    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: "CLAUDE_CONFIG_DIR")
    // `list` keeps a summary cache: the tests' caches stay out of the user's ~/.cache.
    env["XDG_CACHE_HOME"] = FileManager.default.temporaryDirectory.path + "/cs-tool-cache-\(getpid())"
    for (key, value) in environment { env[key] = value }
    let result = try await ChildProcess.run(
        try executable ?? toolBinary(), arguments, environment: env, input: input.map { Data($0.utf8) })
    return ToolRun(status: result.status, stdout: result.standardOutput, stderr: result.standardErrorText)
}

/// The server `scripts/test/with-postgres.sh` starts, as a `postgres://` URL with `query`
/// appended, or `nil` without one.
func postgresTestURL(query: String = "") -> String? {
    let environment = ProcessInfo.processInfo.environment
    guard let host = environment["PGHOST"], !host.isEmpty, !host.hasPrefix("/") else { return nil }
    var components = URLComponents()
    components.scheme = "postgres"
    components.host = host
    components.port = environment["PGPORT"].flatMap { Int($0) } ?? 5432
    components.user = environment["PGUSER"] ?? "postgres"
    components.password = environment["PGPASSWORD"]
    components.path = "/" + (environment["PGDATABASE"] ?? components.user ?? "postgres")
    return (components.string ?? "") + query
}

/// Whether the tool's PostgreSQL tests run: with a server, or when `CLAUDE_SDK_REQUIRE_POSTGRES=1`
/// asks for them (they then fail, never skip, without one).
let postgresToolTestsEnabled =
    postgresTestURL() != nil || ProcessInfo.processInfo.environment["CLAUDE_SDK_REQUIRE_POSTGRES"] == "1"

/// Writes a one-turn CLI transcript whose prompt is `prompt` under `folder/claude` and imports it
/// into the store at `url`; returns the transcript's path and the session id.
func importOneSession(prompt: String, reply: String, folder: TemporaryFolder, into url: String) async throws -> (
    path: String, id: String
) {
    let config = folder.path + "/claude"
    var builder = CLITranscriptBuilder(configDirectory: config, cwd: folder.path + "/project")
    builder.user(.string(prompt), seconds: 0)
    builder.assistant([.object(["type": "text", "text": .string(reply)])], id: "msg_1", seconds: 1)
    try builder.write()
    let id = builder.sessionID
    let imported = try await runTool(["import", String(id.prefix(8)), "--into", url, "--config-dir", config])
    #expect(imported.status == 0, "\(imported.stderr)")
    return (builder.path, id)
}
