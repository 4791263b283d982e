import BenchmarkSupport
import ClaudeCode
import ClaudeCodeSessions
import Foundation

/// Benchmark for ``ClaudeSessionLibrary`` (run by `scripts/bench/transcripts.sh`).
///
/// ```
/// transcripts-benchmark generate --config DIR --cwd DIR [--sessions 10000] [--big-mb 50]
/// transcripts-benchmark run --config DIR --cwd DIR --big SESSION_ID [--repeats 5] [--only list|read]
///                            [--touch content|message]
/// ```
///
/// `generate` writes CLI-shaped transcripts: `--sessions` sessions of mixed sizes in the
/// project folder of `--cwd`, plus one transcript of about `--big-mb` megabytes, and prints
/// `{"project_dir", "big_session", "bytes"}`. `run` times listing the project's sessions and
/// reading every message of the big transcript (touching each message's content, through
/// ``CLISessionMessage/content`` or, with `--touch message`, the whole ``CLISessionMessage/message``),
/// `--repeats` times, and prints the medians of wall and CPU time (`list_seconds`, `list_cpu_seconds`,
/// `read_seconds`, `read_cpu_seconds`), the counts (`sessions`, `messages`, `touched`) and the
/// process's peak RSS before and after (`rss_before_bytes`, `peak_rss_bytes`). The script runs
/// one operation per process (`--only`, `--repeats 1`), so the peak is that operation's.
@main
struct TranscriptsBenchmark {
    static func main() async throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard let mode = arguments.first else { usage() }
        var options: [String: String] = [:]
        var index = 1
        while index + 1 < arguments.count {
            options[String(arguments[index].drop(while: { $0 == "-" }))] = arguments[index + 1]
            index += 2
        }
        guard let config = options["config"], let cwd = options["cwd"] else { usage() }
        switch mode {
        case "generate":
            var generator = Generator(seed: 42)
            let result = try generator.generate(
                config: config, cwd: cwd, sessions: Int(options["sessions"] ?? "") ?? 10_000,
                bigMegabytes: Int(options["big-mb"] ?? "") ?? 50)
            print(result.jsonString)
        case "run":
            guard let big = options["big"] else { usage() }
            let result = try await run(
                config: config, cwd: cwd, big: big, repeats: Int(options["repeats"] ?? "") ?? 5, only: options["only"],
                touchWholeMessage: options["touch"] == "message")
            print(result.jsonString)
        default:
            usage()
        }
    }

    static func usage() -> Never {
        FileHandle.standardError.write(
            Data(
                """
                usage: transcripts-benchmark generate --config DIR --cwd DIR [--sessions N] [--big-mb M]
                       transcripts-benchmark run --config DIR --cwd DIR --big SESSION_ID [--repeats R] [--only list|read]
                           [--touch content|message]

                """.utf8))
        exit(2)
    }

    static func run(
        config: String, cwd: String, big: String, repeats: Int, only: String?, touchWholeMessage: Bool
    ) async throws -> JSONValue {
        let library = ClaudeSessionLibrary(configDirectory: config)
        let clock = ContinuousClock()
        let rssBefore = ResourceUsage.peakRSSBytes()
        var list: [(wall: Double, cpu: Double)] = []
        var read: [(wall: Double, cpu: Double)] = []
        var listed = 0
        var readCount = 0
        var touched = 0
        var peakAfterMessages = 0
        var loadCPU: [Double] = []
        var hugePages = 0
        var touchCPUs: [Double] = []
        for _ in 0..<max(1, repeats) {
            if only != "read" {
                let listStart = clock.now
                let listCPU = ResourceUsage.processCPUSeconds()
                let sessions = try await library.listSessions(directory: cwd, includeWorktrees: false)
                list.append((seconds(clock.now - listStart), ResourceUsage.processCPUSeconds() - listCPU))
                listed = sessions.count
            }
            if only == "list" { continue }

            let readStart = clock.now
            let readCPU = ResourceUsage.processCPUSeconds()
            let messages = try await library.messages(sessionID: big, directory: cwd)
            peakAfterMessages = ResourceUsage.peakRSSBytes()
            let touchCPU = ResourceUsage.processCPUSeconds()
            loadCPU.append(touchCPU - readCPU)
            // Touch every message's content, as the Python consumer does: `content` builds just
            // that member, `message` the whole value (and drops it).
            var count = 0
            for message in messages {
                switch touchWholeMessage ? message.message["content"] : message.content {
                case .string(let text)?: count += text.utf8.count
                case .array(let blocks)?:
                    for block in blocks { count += block.objectValue?.count ?? 0 }
                default: break
                }
            }
            read.append((seconds(clock.now - readStart), ResourceUsage.processCPUSeconds() - readCPU))
            touchCPUs.append(ResourceUsage.processCPUSeconds() - touchCPU)
            // Outside the timed read: reading smaps_rollup costs more than a millisecond.
            hugePages = ResourceUsage.anonymousHugePageBytes()
            readCount = messages.count
            touched = count
        }
        func median(_ values: [Double]) -> Double {
            guard !values.isEmpty else { return 0 }
            let sorted = values.sorted()
            return sorted.count % 2 == 1
                ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
        return [
            "list_seconds": .double(median(list.map(\.wall))), "list_cpu_seconds": .double(median(list.map(\.cpu))),
            "sessions": .int(Int64(listed)),
            "read_seconds": .double(median(read.map(\.wall))), "read_cpu_seconds": .double(median(read.map(\.cpu))),
            "read_load_cpu_seconds": .double(median(loadCPU)), "read_touch_cpu_seconds": .double(median(touchCPUs)),
            "messages": .int(Int64(readCount)), "anon_huge_page_bytes_after_load": .int(Int64(hugePages)),
            "touched": .int(Int64(touched)),
            "rss_before_bytes": .int(Int64(rssBefore)), "peak_rss_bytes": .int(Int64(ResourceUsage.peakRSSBytes())),
            "peak_rss_before_touch_bytes": .int(Int64(peakAfterMessages)),
        ]
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// Deterministic CLI-shaped transcript generator.
struct Generator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    /// SplitMix64.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    mutating func uuid() -> String {
        let a = next(), b = next()
        let hex = String(format: "%016llx%016llx", a, b)
        let chars = Array(hex)
        return String(chars[0..<8]) + "-" + String(chars[8..<12]) + "-4" + String(chars[13..<16]) + "-8"
            + String(chars[17..<20]) + "-" + String(chars[20..<32])
    }

    /// The topic word of session `number`: one of 500 made-up words (`zorvanteq`, ...) that
    /// occur nowhere else, so that each is in one session in 500 (`topic(n) == topic(n + 500)`).
    static func topic(_ number: Int) -> String {
        let syllables = ["zor", "van", "teq", "mil", "dru", "pax", "sen", "kol", "fyr", "bix"]
        let n = number % 500
        return syllables[n % 10] + syllables[(n / 10) % 10] + syllables[(n / 100) % 10] + "q"
    }

    /// Mostly ASCII code and prose, with the escapes code brings (newlines, quotes,
    /// backslashes, tabs) and some non-ASCII text.
    static let words = [
        "the", "function", "returns", "a", "value", "when", "called", "with", "file", "path", "swift", "build",
        "error", "test", "passes", "configuration", "module", "import", "struct", "async", "await", "task", "let",
        "var", "self", "return", "guard", "else", "if", "for", "in", "case", "switch", "default", "public", "private",
        "func", "init", "throws", "try", "catch", "array", "string", "count", "index", "range", "buffer", "result",
        "{", "}", "(", ")", "=", "==", "->", "//", "0", "1", "42", "true", "false", "nil",
        "café", "日本語", "emoji 😀", "\"quoted\"", "back\\slash", "tab\there", "line\nbreak", "\"key\": \"value\"",
    ]

    mutating func text(_ length: Int) -> String {
        var result = ""
        result.reserveCapacity(length + 16)
        while result.utf8.count < length {
            result += Self.words[int(0...(Self.words.count - 1))]
            result += int(0...12) == 0 ? ".\n" : " "
        }
        return result
    }

    var clock = 0

    /// The time of the last entry written.
    var lastDate = Date(timeIntervalSince1970: 1_759_300_000)

    mutating func timestamp() -> String {
        clock += int(1...4000)
        let date = Date(timeIntervalSince1970: 1_759_300_000 + Double(clock) / 1000)
        lastDate = date
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    func line(_ members: [(String, JSONValue)]) -> [UInt8] {
        var bytes: [UInt8] = [0x7B]
        for (index, (key, value)) in members.enumerated() {
            if index > 0 { bytes.append(0x2C) }
            bytes += JSONValue.string(key).serialized()
            bytes.append(0x3A)
            bytes += value.serialized()
        }
        bytes += [0x7D, 0x0A]
        return bytes
    }

    struct Context {
        var sessionID: String
        var cwd: String
        var parent: String?
    }

    mutating func entry(_ context: inout Context, type: String, message: JSONValue?, extra: [(String, JSONValue)] = [])
        -> [UInt8]
    {
        let uuid = uuid()
        var members: [(String, JSONValue)] = [
            ("parentUuid", context.parent.map(JSONValue.string) ?? .null), ("isSidechain", false),
        ]
        if let message { members.append(("message", message)) }
        members.append(("type", .string(type)))
        members.append(("uuid", .string(uuid)))
        members.append(("timestamp", .string(timestamp())))
        members += extra
        members += [
            ("userType", "external"), ("entrypoint", "sdk-py"), ("cwd", .string(context.cwd)),
            ("sessionId", .string(context.sessionID)), ("version", "2.1.331"), ("gitBranch", "main"),
        ]
        context.parent = uuid
        return line(members)
    }

    mutating func user(_ context: inout Context, _ content: JSONValue) -> [UInt8] {
        entry(
            &context, type: "user", message: ["role": "user", "content": content],
            extra: [("promptId", .string(uuid()))])
    }

    mutating func assistant(_ context: inout Context, id: String, _ block: JSONValue) -> [UInt8] {
        let message: JSONValue = [
            "id": .string(id), "type": "message", "role": "assistant", "model": "claude-opus-5-5", "content": [block],
            "stop_reason": "tool_use", "stop_sequence": nil,
            "usage": [
                "input_tokens": .int(Int64(int(100...9000))), "output_tokens": .int(Int64(int(10...900))),
                "cache_read_input_tokens": 13780,
            ],
        ]
        return entry(&context, type: "assistant", message: message, extra: [("requestId", .string("req_" + uuid()))])
    }

    /// One turn: prompt, attachments, optional parallel tool calls with results, answer.
    mutating func turn(
        _ context: inout Context, into output: inout [UInt8], resultBytes: ClosedRange<Int>, attachments: Bool,
        topic: String? = nil
    ) {
        output += user(&context, .string(text(int(40...400)) + (topic.map { " about " + $0 } ?? "")))
        if attachments {
            output += entry(
                &context, type: "attachment", message: nil,
                extra: [("attachment", ["type": "skill_listing", "content": .string(text(int(1000...5000)))])])
        }
        let messageID = "msg_" + uuid()
        output += assistant(&context, id: messageID, ["type": "text", "text": .string(text(int(50...600)))])
        let calls = int(0...3)
        var callEntries: [String] = []
        var callIDs: [String] = []
        for _ in 0..<calls {
            let callID = "toolu_" + uuid()
            output += assistant(
                &context, id: messageID,
                [
                    "type": "tool_use", "id": .string(callID), "name": "Read",
                    "input": ["file_path": .string("/home/user/project/" + text(20))],
                ])
            callEntries.append(context.parent!)
            callIDs.append(callID)
        }
        for (callEntry, callID) in zip(callEntries, callIDs) {
            context.parent = callEntry
            output += user(
                &context,
                [["type": "tool_result", "tool_use_id": .string(callID), "content": .string(text(int(resultBytes)))]])
            if int(0...3) == 0 {
                var progress = context
                output += entry(
                    &progress, type: "progress", message: nil,
                    extra: [("data", ["type": "hook_progress", "hookName": "PostToolUse"])])
            }
        }
        if calls > 0 {
            output += assistant(
                &context, id: "msg_" + uuid(), ["type": "text", "text": .string(text(int(100...1500)))])
        }
        output += entry(
            &context, type: "system", message: nil,
            extra: [("subtype", "turn_duration"), ("durationMs", .int(Int64(int(100...90000))))])
    }

    mutating func generate(config: String, cwd: String, sessions: Int, bigMegabytes: Int) throws -> JSONValue {
        try FileManager.default.createDirectory(atPath: cwd, withIntermediateDirectories: true)
        let projectDirectory = config + "/projects/" + ClaudeSessionLibrary.projectFolderName(for: cwd)
        try FileManager.default.createDirectory(atPath: projectDirectory, withIntermediateDirectories: true)
        var total = 0
        for number in 0..<sessions {
            let id = uuid()
            var context = Context(sessionID: id, cwd: cwd, parent: nil)
            // Mixed sizes: most small, some past the 64 KiB windows, a few large.
            let roll = int(0...99)
            let target = roll < 75 ? int(3_000...25_000) : roll < 95 ? int(25_000...100_000) : int(100_000...300_000)
            var output = line([
                ("type", "queue-operation"), ("operation", "enqueue"), ("timestamp", .string(timestamp())),
                ("sessionId", .string(id)),
            ])
            var first = true
            while output.count < target {
                // The first prompt names one of `topics` (each in about 1 session in 500, as a
                // project's or a bug's name would be): rare words for the search benchmark.
                turn(
                    &context, into: &output, resultBytes: 200...8_000, attachments: first,
                    topic: first ? Self.topic(number) : nil)
                first = false
            }
            output += line([("type", "last-prompt"), ("lastPrompt", .string(text(60))), ("sessionId", .string(id))])
            if int(0...9) == 0 {
                output += line([
                    ("type", "custom-title"), ("customTitle", .string(text(30))), ("sessionId", .string(id)),
                ])
            }
            try Data(output).write(to: URL(fileURLWithPath: projectDirectory + "/\(id).jsonl"))
            // As the CLI leaves it: the file last written at its last entry (not all just now).
            try FileManager.default.setAttributes(
                [.modificationDate: lastDate], ofItemAtPath: projectDirectory + "/\(id).jsonl")
            total += output.count
        }
        let big = uuid()
        var context = Context(sessionID: big, cwd: cwd, parent: nil)
        var output: [UInt8] = []
        output.reserveCapacity(bigMegabytes << 20 + 1 << 20)
        var first = true
        while output.count < bigMegabytes << 20 {
            turn(&context, into: &output, resultBytes: 500...40_000, attachments: first || int(0...9) == 0)
            first = false
        }
        output += line([("type", "last-prompt"), ("lastPrompt", "the last prompt"), ("sessionId", .string(big))])
        try Data(output).write(to: URL(fileURLWithPath: projectDirectory + "/\(big).jsonl"))
        total += output.count
        return ["project_dir": .string(projectDirectory), "big_session": .string(big), "bytes": .int(Int64(total))]
    }
}
