// fake-claude: a scripted stand-in for the Claude Code CLI in SDK mode, for faults the real CLI cannot show on
// demand. See `FakeClaude.usage` below for the scenarios. Foundation only; output goes through write(2) in big
// chunks, unbuffered, so every frame reaches the pipe as soon as it is written.
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

enum FakeClaude {
    static let usage = """
        fake-claude: a scripted stand-in for `claude --input-format stream-json --output-format stream-json`.
        The scenario comes from FAKE_CLAUDE_SCENARIO (a name, or a path to a file holding the name):
          echo               system/init, one assistant text frame `echo: <prompt>`, result/success; exit 0 at EOF
          garbage            a non-JSON stdout line, then an echo turn
          huge-line          one valid assistant frame of FAKE_CLAUDE_HUGE_BYTES (default 64 MiB), then an echo turn
          stall              answers initialize only; per user line system/init and one assistant frame, then
                             silence: no result, no control responses; ignores stdin EOF (SIGTERM ends it);
                             with FAKE_CLAUDE_STALL_INITIALIZE=1 it does not answer initialize either
          exit-mid-turn      system/init and one assistant frame, `fatal: simulated crash` on stderr, exit 3
          exit-at-start      an error on stderr and exit 1 before reading stdin; with FAKE_CLAUDE_EXIT_DELAY_MS it
                             closes stdin first and waits that long (so the SDK's first write fails with EPIPE)
          stderr-flood       8 MiB (FAKE_CLAUDE_STDERR_BYTES) on stderr during an echo turn
          ignore-eof         echo, but ignores SIGTERM and keeps running after stdin EOF (only SIGKILL ends it)
          replay             per user line: the bytes of FAKE_CLAUDE_REPLAY_FILE, then a result frame
          record-argv        writes argv, cwd and CLAUDE_*/ANTHROPIC_* env as one JSON line to FAKE_CLAUDE_ARGV_FILE,
                             then echo
          pipe-size          per user line, an echo turn answering `stdout_pipe_size=<bytes>`: the size of the pipe
                             its stdout writes to (Linux; -1 elsewhere)
          flood              per user line: system/init, FAKE_CLAUDE_FLOOD_FRAMES (default 20000) assistant text frames
                             of about FAKE_CLAUDE_FLOOD_BYTES (default 1024) bytes, the text starting `seq=<n> `
                             (n from 0), written from a thread of their own while stdin is still read, so control
                             requests (interrupt, set_model, ...) are answered mid-stream. Every
                             FAKE_CLAUDE_FLOOD_PERMISSION_EVERY frames (0: never) and once after the last frame it
                             sends a can_use_tool request (request_id perm_<n>, tool Bash) and waits (up to 30 s) for
                             the answer, then writes a system frame subtype fake_control_latency with request_id,
                             latency_ms and answered; then a result frame
          unicode-separators an assistant text with raw U+2028/U+2029 and other tricky characters, then result
          spawn-child        at start, runs `sleep 300` in the background (in fake-claude's process group) and writes
                             its pid to FAKE_CLAUDE_CHILD_PID_FILE, then echo; the child's stdio is /dev/null, or
                             fake-claude's own pipes with FAKE_CLAUDE_CHILD_STDIO=inherit
        Control requests: initialize, interrupt, set_permission_mode, set_model and mcp_status are answered with
        success; other subtypes get an error response. A non-JSON stdin line is fatal (exit 1), as in the real CLI.
        """

    static let sessionID = "fake-session-0001"
    static let version = "2.1.331"
    static let model = "fake-model"

    enum Scenario: String {
        case echo, garbage, stall, replay
        case hugeLine = "huge-line"
        case exitMidTurn = "exit-mid-turn"
        case exitAtStart = "exit-at-start"
        case stderrFlood = "stderr-flood"
        case ignoreEOF = "ignore-eof"
        case recordArgv = "record-argv"
        case unicodeSeparators = "unicode-separators"
        case spawnChild = "spawn-child"
        case pipeSize = "pipe-size"
        case flood
    }

    static func main() -> Never {
        let environment = ProcessInfo.processInfo.environment
        if CommandLine.arguments.contains("--help") {
            Output.stdout(usage + "\n")
            exit(0)
        }
        if CommandLine.arguments.contains("--version") {
            Output.stdout("\(version) (fake-claude)\n")
            exit(0)
        }
        var name = environment["FAKE_CLAUDE_SCENARIO"] ?? "echo"
        if name.hasPrefix("/"), let contents = try? String(contentsOfFile: name, encoding: .utf8) {
            name = contents.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let scenario = Scenario(rawValue: name) else {
            Output.stderr("fake-claude: unknown FAKE_CLAUDE_SCENARIO '\(name)'\n\n\(usage)\n")
            exit(2)
        }

        switch scenario {
        case .exitAtStart:
            if let delay = Int(environment["FAKE_CLAUDE_EXIT_DELAY_MS"] ?? ""), delay > 0 {
                close(0)
                usleep(useconds_t(delay) * 1000)
            }
            Output.stderr("Error: fake-claude simulated startup failure (scenario exit-at-start)\n")
            exit(1)
        case .ignoreEOF:
            signal(SIGTERM, SIG_IGN)
        case .recordArgv:
            recordArgv(environment)
        case .spawnChild:
            spawnChild(environment)
        default:
            break
        }

        var player = Player(scenario: scenario, environment: environment)
        let reader = LineReader(fd: 0)
        while let line = reader.nextLine() {
            if line.isEmpty || line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { continue }
            player.handle(line: line)
        }
        // stdin reached EOF.
        switch scenario {
        case .stall, .ignoreEOF:
            while true { sleep(3600) }
        default:
            exit(0)
        }
    }

    /// Starts `sleep 300` as a child that stays in fake-claude's process group, and records its pid.
    static func spawnChild(_ environment: [String: String]) {
        guard let path = environment["FAKE_CLAUDE_CHILD_PID_FILE"], !path.isEmpty else {
            Output.stderr("fake-claude: spawn-child needs FAKE_CLAUDE_CHILD_PID_FILE\n")
            exit(2)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if environment["FAKE_CLAUDE_CHILD_STDIO"] != "inherit" {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sleep"), strdup("300"), nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, "/bin/sleep", &actions, nil, argv, environ)
        guard rc == 0 else {
            Output.stderr("fake-claude: could not start /bin/sleep: error \(rc)\n")
            exit(2)
        }
        do {
            try Data("\(child)\n".utf8).write(to: URL(fileURLWithPath: path))
        } catch {
            Output.stderr("fake-claude: cannot write FAKE_CLAUDE_CHILD_PID_FILE \(path): \(error)\n")
            exit(2)
        }
    }

    static func recordArgv(_ environment: [String: String]) {
        guard let path = environment["FAKE_CLAUDE_ARGV_FILE"], !path.isEmpty else {
            Output.stderr("fake-claude: record-argv needs FAKE_CLAUDE_ARGV_FILE\n")
            exit(2)
        }
        let extra = Set((environment["FAKE_CLAUDE_RECORD_ENV"] ?? "").split(separator: ",").map(String.init))
        let selected = environment.filter { key, _ in
            key.hasPrefix("CLAUDE") || key.hasPrefix("ANTHROPIC") || key.hasPrefix("FAKE_CLAUDE")
                || ["HOME", "TMPDIR", "PATH", "PWD", "IS_SANDBOX", "MAX_THINKING_TOKENS"].contains(key)
                || extra.contains(key)
        }
        let env =
            "{"
            + selected.keys.sorted().map { "\(JSONText.string($0)):\(JSONText.string(selected[$0] ?? ""))" }
            .joined(separator: ",") + "}"
        let argv = "[" + CommandLine.arguments.map(JSONText.string).joined(separator: ",") + "]"
        let cwd = FileManager.default.currentDirectoryPath
        let line = "{\"argv\":\(argv),\"cwd\":\(JSONText.string(cwd)),\"env\":\(env),\"pid\":\(getpid())}\n"
        do {
            try Data(line.utf8).write(to: URL(fileURLWithPath: path))
        } catch {
            Output.stderr("fake-claude: cannot write FAKE_CLAUDE_ARGV_FILE \(path): \(error)\n")
            exit(2)
        }
    }
}

/// Plays a scenario for each stdin line.
struct Player {
    let scenario: FakeClaude.Scenario
    let environment: [String: String]
    var turn = 0
    var replayBytes: Data?

    init(scenario: FakeClaude.Scenario, environment: [String: String]) {
        self.scenario = scenario
        self.environment = environment
        if scenario == .replay {
            guard let path = environment["FAKE_CLAUDE_REPLAY_FILE"],
                let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
            else {
                Output.stderr("fake-claude: replay needs a readable FAKE_CLAUDE_REPLAY_FILE\n")
                exit(2)
            }
            replayBytes = data
        }
    }

    mutating func handle(line: [UInt8]) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else {
            Output.stderr(
                "Error parsing streaming input line (type=unknown, \(line.count) chars): SyntaxError\n")
            exit(1)
        }
        switch object["type"] as? String {
        case "control_request":
            handleControl(object)
        case "control_response":
            if let response = object["response"] as? [String: Any], let id = response["request_id"] as? String {
                Flood.answers.answer(id)
            }
        case "user":
            guard let message = object["message"] as? [String: Any], message["role"] as? String == "user" else {
                Output.stderr("Error: Expected message role 'user', got 'undefined'\n")
                exit(1)
            }
            turn += 1
            if scenario == .flood {
                Flood.start(turn: turn, environment: environment)
            } else {
                playTurn(prompt: Self.text(of: message["content"]))
            }
        default:
            break  // Unknown types (and control responses) are ignored, like the real CLI does.
        }
    }

    func handleControl(_ object: [String: Any]) {
        let requestID = object["request_id"] as? String ?? ""
        let request = object["request"] as? [String: Any] ?? [:]
        let subtype = request["subtype"] as? String ?? ""
        if scenario == .stall {
            guard subtype == "initialize", environment["FAKE_CLAUDE_STALL_INITIALIZE"] != "1" else { return }
        }
        let id = JSONText.string(requestID)
        let payload: String
        switch subtype {
        case "initialize":
            payload = "{\"commands\":[],\"pid\":\(getpid()),\"claude_code_version\":\"\(FakeClaude.version)\"}"
        case "interrupt":
            payload = "{\"still_queued\":[]}"
        case "set_permission_mode":
            payload = "{\"mode\":\(JSONText.string(request["mode"] as? String ?? "default"))}"
        case "set_model":
            payload = "{\"model\":\(JSONText.string(request["model"] as? String ?? FakeClaude.model))}"
        case "mcp_status":
            payload = "{\"mcpServers\":[]}"
        default:
            let message = JSONText.string("Unsupported control request subtype: \(subtype)")
            Output.stdout(
                "{\"type\":\"control_response\",\"response\":{\"subtype\":\"error\",\"request_id\":\(id),"
                    + "\"error\":\(message),\"error_code\":\"unsupported_request\"}}\n")
            return
        }
        Output.stdout(
            "{\"type\":\"control_response\",\"response\":{\"subtype\":\"success\",\"request_id\":\(id),"
                + "\"response\":\(payload)}}\n")
    }

    func playTurn(prompt: String) {
        switch scenario {
        case .stall:
            Output.stdout(Frames.systemInit() + Frames.assistantText("about to stall", turn: turn))
        case .echo, .ignoreEOF, .recordArgv, .spawnChild:
            echoTurn(prompt)
        case .garbage:
            Output.stdout("this is not JSON {{{ fake-claude garbage line\n")
            echoTurn(prompt)
        case .hugeLine:
            let size = Int(environment["FAKE_CLAUDE_HUGE_BYTES"] ?? "") ?? 64 * 1024 * 1024
            writeHugeAssistant(totalBytes: size)
            echoTurn(prompt)
        case .exitMidTurn:
            Output.stdout(Frames.systemInit())
            Output.stdout(Frames.assistantText("partial answer before the crash", turn: turn))
            Output.stderr("fatal: simulated crash\n")
            exit(3)
        case .stderrFlood:
            Output.stdout(Frames.systemInit())
            let size = Int(environment["FAKE_CLAUDE_STDERR_BYTES"] ?? "") ?? 8 * 1024 * 1024
            let line = Array("fake-claude stderr flood: lorem ipsum dolor sit amet consectetur adipiscing\n".utf8)
            var chunk: [UInt8] = []
            chunk.reserveCapacity(64 * 1024 + line.count)
            var written = 0
            while written < size {
                chunk.removeAll(keepingCapacity: true)
                while chunk.count < 64 * 1024 { chunk += line }
                let count = min(chunk.count, size - written)
                Output.write(fd: 2, chunk[0..<count])
                written += count
            }
            let text = "echo: \(prompt)"
            Output.stdout(Frames.assistantText(text, turn: turn))
            Output.stdout(Frames.result(text: text))
        case .replay:
            if let bytes = replayBytes {
                bytes.withUnsafeBytes { raw in
                    let all = raw.bindMemory(to: UInt8.self)
                    var offset = 0
                    let chunkSize = 1 << 20
                    while offset < all.count {
                        let end = min(offset + chunkSize, all.count)
                        Output.write(fd: 1, UnsafeBufferPointer(rebasing: all[offset..<end]))
                        offset = end
                    }
                }
            }
            Output.stdout(Frames.result(text: "replayed"))
        case .unicodeSeparators:
            let text =
                "line\u{2028}separator\u{2029}paragraph | quotes \" and \\ backslash | "
                + "json-ish {\"type\":\"result\"} | BOM\u{FEFF} | emoji 🧪👩‍🔬 | e\u{0301} | "
                + "RTL \u{202E}abc\u{202C} | </script> | tab-free, control-free"
            Output.stdout(Frames.systemInit())
            Output.stdout(Frames.assistantText(text, turn: turn))
            Output.stdout(Frames.result(text: text))
        case .pipeSize:
            #if os(Linux)
                let size = fcntl(1, 1032)  // F_GETPIPE_SZ
            #else
                let size: Int32 = -1
            #endif
            echoTurn("stdout_pipe_size=\(size)")
        case .exitAtStart, .flood:
            exit(1)
        }
    }

    func echoTurn(_ prompt: String) {
        let text = "echo: \(prompt)"
        Output.stdout(Frames.systemInit() + Frames.assistantText(text, turn: turn) + Frames.result(text: text))
    }

    func writeHugeAssistant(totalBytes: Int) {
        let head = Array(
            ("{\"type\":\"assistant\",\"message\":{\"id\":\"msg_fake_huge\",\"type\":\"message\",\"role\":\"assistant\","
                + "\"model\":\"\(FakeClaude.model)\",\"content\":[{\"type\":\"text\",\"text\":\"").utf8)
        let tail = Array(
            ("\"}],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":1,\"output_tokens\":1}},"
                + "\"parent_tool_use_id\":null,\"session_id\":\"\(FakeClaude.sessionID)\","
                + "\"uuid\":\"\(UUID().uuidString.lowercased())\"}\n").utf8)
        var remaining = max(0, totalBytes - head.count - tail.count)
        Output.write(fd: 1, head[...])
        let block = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
        while remaining > 0 {
            let count = min(block.count, remaining)
            Output.write(fd: 1, block[0..<count])
            remaining -= count
        }
        Output.write(fd: 1, tail[...])
    }

    static func text(of content: Any?) -> String {
        if let string = content as? String { return string }
        if let blocks = content as? [[String: Any]] {
            return blocks.compactMap { $0["type"] as? String == "text" ? $0["text"] as? String : nil }
                .joined(separator: "\n")
        }
        return ""
    }
}

/// The stream-json frames the fake emits (shapes trimmed from the real CLI 2.1.331).
enum Frames {
    static func uuid() -> String { UUID().uuidString.lowercased() }

    static func systemInit() -> String {
        let cwd = JSONText.string(FileManager.default.currentDirectoryPath)
        return "{\"type\":\"system\",\"subtype\":\"init\",\"cwd\":\(cwd),\"session_id\":\"\(FakeClaude.sessionID)\","
            + "\"tools\":[],\"mcp_servers\":[],\"model\":\"\(FakeClaude.model)\",\"permissionMode\":\"default\","
            + "\"slash_commands\":[],\"apiKeySource\":\"none\",\"claude_code_version\":\"\(FakeClaude.version)\","
            + "\"output_style\":\"default\",\"agents\":[],\"skills\":[],\"plugins\":[],\"uuid\":\"\(uuid())\"}\n"
    }

    static func assistantText(_ text: String, turn: Int) -> String {
        let id = String(format: "msg_fake_%06d", turn)
        return "{\"type\":\"assistant\",\"message\":{\"id\":\"\(id)\",\"type\":\"message\",\"role\":\"assistant\","
            + "\"model\":\"\(FakeClaude.model)\",\"content\":[{\"type\":\"text\",\"text\":\(JSONText.string(text))}],"
            + "\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":10,\"output_tokens\":5}},"
            + "\"parent_tool_use_id\":null,\"session_id\":\"\(FakeClaude.sessionID)\",\"uuid\":\"\(uuid())\"}\n"
    }

    static func result(text: String) -> String {
        "{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"duration_ms\":1,\"duration_api_ms\":1,"
            + "\"num_turns\":1,\"result\":\(JSONText.string(text)),\"stop_reason\":\"end_turn\","
            + "\"session_id\":\"\(FakeClaude.sessionID)\",\"total_cost_usd\":0,"
            + "\"usage\":{\"input_tokens\":10,\"output_tokens\":5},\"permission_denials\":[],"
            + "\"terminal_reason\":\"completed\",\"uuid\":\"\(uuid())\"}\n"
    }
}

enum JSONText {
    /// A JSON string literal; only `"`, `\` and C0 controls are escaped (U+2028/U+2029 stay raw, as the CLI writes).
    static func string(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/// The `flood` scenario: a turn written from a thread of its own, with can_use_tool requests in it.
enum Flood {
    /// The control responses received, by request id.
    final class Answers: @unchecked Sendable {
        private let condition = NSCondition()
        private var answered: Set<String> = []

        func answer(_ id: String) {
            condition.lock()
            answered.insert(id)
            condition.broadcast()
            condition.unlock()
        }

        /// Waits until `id` is answered or `deadline` passes; whether it was answered.
        func wait(for id: String, until deadline: Date) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            while !answered.contains(id) {
                if !condition.wait(until: deadline) { return answered.contains(id) }
            }
            return true
        }
    }

    static let answers = Answers()

    static func start(turn: Int, environment: [String: String]) {
        let frames = Int(environment["FAKE_CLAUDE_FLOOD_FRAMES"] ?? "") ?? 20000
        let size = Int(environment["FAKE_CLAUDE_FLOOD_BYTES"] ?? "") ?? 1024
        let every = Int(environment["FAKE_CLAUDE_FLOOD_PERMISSION_EVERY"] ?? "") ?? 0
        let thread = Thread { play(turn: turn, frames: frames, size: size, every: every) }
        thread.stackSize = 1 << 20
        thread.start()
    }

    static func play(turn: Int, frames: Int, size: Int, every: Int) {
        Output.stdout(Frames.systemInit())
        let padding = String(repeating: "x", count: max(0, size - 330))
        var batch = ""
        for index in 0..<frames {
            batch += Frames.assistantText("seq=\(index) \(padding)", turn: turn)
            if batch.utf8.count >= 64 * 1024 {
                Output.stdout(batch)
                batch = ""
            }
            if every > 0, (index + 1) % every == 0, index + 1 < frames {
                Output.stdout(batch)
                batch = ""
                askPermission("perm_\(index + 1)")
            }
        }
        Output.stdout(batch)
        askPermission("perm_final")
        Output.stdout(Frames.result(text: "flooded \(frames) frames"))
    }

    /// Sends a can_use_tool request, waits for its answer, and reports the wait as a system frame.
    static func askPermission(_ id: String) {
        let start = Date()
        Output.stdout(
            "{\"type\":\"control_request\",\"request_id\":\"\(id)\",\"request\":{\"subtype\":\"can_use_tool\","
                + "\"tool_name\":\"Bash\",\"input\":{\"command\":\"echo \(id)\"},\"permission_suggestions\":[],"
                + "\"tool_use_id\":\"toolu_\(id)\"}}\n")
        let answered = answers.wait(for: id, until: start.addingTimeInterval(30))
        let latency = Int(Date().timeIntervalSince(start) * 1000)
        Output.stdout(
            "{\"type\":\"system\",\"subtype\":\"fake_control_latency\",\"request_id\":\"\(id)\","
                + "\"latency_ms\":\(latency),\"answered\":\(answered),\"session_id\":\"\(FakeClaude.sessionID)\","
                + "\"uuid\":\"\(Frames.uuid())\"}\n")
    }
}

/// Unbuffered output through write(2); stdout writes are serialized, so frames from two threads never interleave.
enum Output {
    private static let stdoutLock = NSLock()

    static func stdout(_ text: String) {
        guard !text.isEmpty else { return }
        stdoutLock.lock()
        defer { stdoutLock.unlock() }
        write(fd: 1, Array(text.utf8)[...])
    }

    static func stderr(_ text: String) {
        write(fd: 2, Array(text.utf8)[...])
    }

    static func write(fd: Int32, _ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBufferPointer { write(fd: fd, $0) }
    }

    static func write(fd: Int32, _ buffer: UnsafeBufferPointer<UInt8>) {
        guard var pointer = buffer.baseAddress else { return }
        var remaining = buffer.count
        while remaining > 0 {
            #if canImport(Glibc)
                let written = Glibc.write(fd, pointer, remaining)
            #elseif canImport(Musl)
                let written = Musl.write(fd, pointer, remaining)
            #else
                let written = Darwin.write(fd, pointer, remaining)
            #endif
            if written < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                exit(fd == 1 ? 0 : 1)  // The reader went away; nothing left to do.
            }
            pointer += written
            remaining -= written
        }
    }
}

/// Reads `\n`-terminated lines from a file descriptor with read(2).
final class LineReader {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var scanned = 0
    private var eof = false

    init(fd: Int32) {
        self.fd = fd
    }

    /// The next line without its `\n`; the unterminated tail at EOF counts as a line; `nil` at EOF.
    func nextLine() -> [UInt8]? {
        while true {
            if let newline = buffer[max(start, scanned)...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(buffer[start..<newline])
                start = newline + 1
                scanned = start
                if start > 1 << 20 {
                    buffer.removeFirst(start)
                    start = 0
                    scanned = 0
                }
                return line
            }
            scanned = buffer.count
            if eof {
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start...])
                start = buffer.count
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 64 * 1024)
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                eof = true
            } else if count == 0 {
                eof = true
            } else {
                buffer += chunk[0..<count]
            }
        }
    }
}
