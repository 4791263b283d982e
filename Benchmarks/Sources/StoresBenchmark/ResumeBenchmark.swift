import BenchmarkSupport
import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeSessionsPostgres
import ClaudeCodeSessionsSQLite
import ClaudeCodeTesting
import Foundation
import PostgresNIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `resume --cli PATH [--api PATH] [--turns 1000] [--runs 5] [--dir DIR] [--text-bytes 400]
/// [--with-local 1] [--postgres auto|off]`: what resuming a long session from a store costs over
/// resuming it from the CLI's own file (the issue's target: at most 150 ms more for files and
/// SQLite, at most 1 s for PostgreSQL on 127.0.0.1).
///
/// The pinned CLI runs against a fake Messages API on 127.0.0.1 (`--api`: the `fake-messages-api`
/// executable in its own process) in one throwaway HOME. One real turn gives a genuine transcript;
/// its `user` and `assistant` lines are cloned into `--turns` turn pairs (fresh `uuid`s chained
/// through `parentUuid`, one `sessionId`, fresh message and request ids, texts padded to
/// `--text-bytes`), written as the CLI's transcript file `~/.claude/projects/<folder>/<id>.jsonl`.
/// Every run uses a new session id, so each side starts from the same 1,000-turn session.
///
/// Sides, alternating (the order rotates each round), one warm-up each, `--runs` measured runs:
/// - `local`: a plain `ClaudeSDKClient` resuming from the local file (no store): the baseline;
/// - `file`, `sqlite`, `postgres`: the session imported into the store with `importSession`, the
///   local file deleted, `ClaudeSDKClient(options:sessionStore:)` resuming from the store
///   (PostgreSQL only when `PGHOST` or `PGPORT` is set and `--postgres` is not `off`);
/// - with `--with-local 1`, `file+local`, `sqlite+local`, `postgres+local`: the store holds the
///   session and the local file is still there (the import is deduplicated, the CLI resumes from disk);
/// - `local+newconfig` (diagnostic): no store, the local file copied into a fresh `CLAUDE_CONFIG_DIR`
///   with `.claude.json` and settings, as a store resume lays it out: what the CLI itself pays for
///   starting in a new config folder, apart from the store.
///
/// Measured per run: wall time from `connect()` to the first result of one new prompt (and to
/// `connect()`'s return), this process's CPU time over the same span, and the CLI's CPU time
/// (its rusage once reaped, connect to disconnect). Every run checks the fake API's echo reports
/// `user_turns=<turns + 1>`, i.e. that the CLI really resumed the whole session. For the store
/// sides it then profiles, on the same session, the store's `load` and writing the loaded lines to a
/// file (what the resume does before starting the CLI). Exits with status 1 when a store misses
/// its budget on the median CPU-time difference (this process's and the CLI's together; the
/// machines are shared, so wall time is reported but does not decide).
func resumeBenchmark(_ options: Options) async throws {
    guard let cli = options.string("cli") else { fail("resume needs --cli PATH") }
    let settings = ResumeBenchmark.Settings(
        cli: cli, turns: options.int("turns", 1000), runs: options.int("runs", 5),
        textBytes: options.int("text-bytes", 400), withLocal: options.int("with-local", 1) != 0)
    let root = temporaryFolder(options.string("dir"))
    defer { try? FileManager.default.removeItem(atPath: root) }
    let api = try await BenchmarkMessagesAPI(executable: options.string("api"))
    let environment = ProcessInfo.processInfo.environment
    let wantsPostgres =
        options.string("postgres") != "off" && (environment["PGHOST"] != nil || environment["PGPORT"] != nil)

    var stores: [(name: String, store: any SessionCatalog, budget: Double)] = [
        ("file", FileSessionStore(directory: root + "/file-store"), 150),
        ("sqlite", try SQLiteSessionStore(path: root + "/sqlite/sessions.sqlite"), 150),
    ]
    let benchmark = try await ResumeBenchmark(settings: settings, api: api, root: root)
    if wantsPostgres {
        let schema = "claude_resume_bench_\(getpid())"
        let postgres = try PostgresSessionStore(
            clientConfiguration: try PostgresSessionStore.clientConfiguration(), configuration: .init(schema: schema))
        stores.append(("postgres", postgres, 1000))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await postgres.run() }
            defer { group.cancelAll() }
            do {
                try await postgres.migrate()
                try await benchmark.measure(stores)
                try await postgres.client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \"\(schema)\" CASCADE"))
            } catch {
                _ = try? await postgres.client.query(
                    PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE"))
                throw error
            }
        }
    } else {
        note("resume: PostgreSQL skipped (no PGHOST/PGPORT; run scripts/bench/resume.sh for it)")
        try await benchmark.measure(stores)
    }
    await api.stop()
    benchmark.sandbox.cleanup()
    if !benchmark.passed { exit(1) }
}

final class ResumeBenchmark: @unchecked Sendable {
    struct Settings {
        var cli: String
        var turns: Int
        var runs: Int
        var textBytes: Int
        var withLocal: Bool
    }

    struct Side {
        var name: String
        var store: (any SessionCatalog)?
        var keepLocal: Bool
        var budget: Double
        /// Diagnostic: no store, the local file copied into a fresh `CLAUDE_CONFIG_DIR` as a store
        /// resume lays it out (what the CLI pays for a new config folder, apart from the store).
        var freshConfig = false
    }

    /// One measured resume.
    struct Sample {
        var totalMilliseconds: Double
        var connectMilliseconds: Double
        var clientCPUMilliseconds: Double
        var cliCPUMilliseconds: Double
        var importMilliseconds: Double = 0
        var loadMilliseconds: Double = 0
        var writeMilliseconds: Double = 0
    }

    let settings: Settings
    let sandbox: CLITestEnvironment
    let root: String
    let clock = ContinuousClock()
    private let templates: (user: JSONValue, assistant: JSONValue)
    private let cwd: String
    private let projectKey: String
    private(set) var passed = true
    private(set) var transcriptBytes = 0

    init(settings: Settings, api: BenchmarkMessagesAPI, root: String) async throws {
        self.settings = settings
        self.root = root
        let sandbox = try CLITestEnvironment(baseURL: api.baseURL, prefix: "bench-resume")
        self.sandbox = sandbox
        cwd = sandbox.workDirectory.path
        projectKey = ClaudeSessionLibrary.projectFolderName(for: sandbox.workDirectory.path)
        templates = try await Self.realTurn(settings: settings, sandbox: sandbox)
    }

    private var baseOptions: ClaudeCodeOptions {
        var options = ClaudeCodeOptions()
        options.cliPath = settings.cli
        options.cwd = cwd
        options.env = sandbox.environment
        options.permissionMode = .bypassPermissions
        return options
    }

    private var transcriptsFolder: String {
        sandbox.homeDirectory.path + "/.claude/projects/" + projectKey
    }

    // MARK: The session

    /// Runs one real turn and returns its prompt (`user`) and answer (`assistant`) lines.
    private static func realTurn(settings: Settings, sandbox: CLITestEnvironment) async throws
        -> (user: JSONValue, assistant: JSONValue)
    {
        var options = ClaudeCodeOptions()
        options.cliPath = settings.cli
        options.cwd = sandbox.workDirectory.path
        options.env = sandbox.environment
        options.permissionMode = .bypassPermissions
        let client = ClaudeSDKClient(options: options)
        try await client.connect()
        try await client.query("the real turn the benchmark's session is cloned from")
        var sessionID: String?
        for try await message in client.receiveResponse() {
            if case .result(let result) = message {
                guard !result.isError else { fail("the real turn ended with an error result") }
                sessionID = result.sessionID
            }
        }
        await client.disconnect()
        guard let sessionID else { fail("the real turn gave no result") }
        let folder = ClaudeSessionLibrary.projectFolderName(for: sandbox.workDirectory.path)
        let path = sandbox.homeDirectory.path + "/.claude/projects/" + folder + "/" + sessionID + ".jsonl"
        guard let data = FileManager.default.contents(atPath: path) else { fail("no transcript at \(path)") }
        var user: JSONValue?
        var assistant: JSONValue?
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            let value = try JSONValue.parse(Array(line))
            switch value["type"]?.stringValue {
            case "user" where user == nil && value["message"]?["role"]?.stringValue == "user":
                user = value
            case "assistant" where assistant == nil && user != nil:
                assistant = value
            default: break
            }
        }
        guard let user, let assistant else { fail("the real transcript has no user and assistant lines") }
        try? FileManager.default.removeItem(atPath: path)
        return (user, assistant)
    }

    /// The transcript of a `settings.turns`-turn session `sessionID`, as the CLI's file.
    private func transcript(_ sessionID: String) -> [UInt8] {
        let filler = String(
            repeating: "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ",
            count: max(1, settings.textBytes / 57))
        let start = Date(timeIntervalSince1970: 1_790_000_000)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var bytes: [UInt8] = []
        var parent: JSONValue = .null
        for turn in 0..<settings.turns {
            let prompt = "turn \(turn + 1): \(filler)"
            let answer = "echo: turn \(turn + 1) | \(filler)"
            for (index, template) in [templates.user, templates.assistant].enumerated() {
                guard case .object(var entry) = template else { continue }
                let uuid = UUID().uuidString.lowercased()
                entry["uuid"] = .string(uuid)
                entry["parentUuid"] = parent
                entry["sessionId"] = .string(sessionID)
                entry["cwd"] = .string(cwd)
                entry["timestamp"] = .string(
                    formatter.string(from: start.addingTimeInterval(Double(turn * 20 + index * 10))))
                if entry["promptId"] != nil { entry["promptId"] = .string(UUID().uuidString.lowercased()) }
                if entry["requestId"] != nil { entry["requestId"] = .string("req_bench_\(turn)") }
                if case .object(var message) = entry["message"] {
                    if index == 0 {
                        if case .array = message["content"] {
                            message["content"] = .array([.object(["type": .string("text"), "text": .string(prompt)])])
                        } else {
                            message["content"] = .string(prompt)
                        }
                    } else {
                        message["id"] = .string("msg_bench_\(turn)")
                        message["content"] = .array([.object(["type": .string("text"), "text": .string(answer)])])
                    }
                    entry["message"] = .object(message)
                }
                bytes += JSONValue.object(entry).serialized()
                bytes.append(UInt8(ascii: "\n"))
                parent = .string(uuid)
            }
        }
        return bytes
    }

    // MARK: Runs

    private func run(_ side: Side) async throws -> Sample {
        let sessionID = UUID().uuidString.lowercased()
        let file = transcriptsFolder + "/" + sessionID + ".jsonl"
        try FileManager.default.createDirectory(atPath: transcriptsFolder, withIntermediateDirectories: true)
        let bytes = transcript(sessionID)
        transcriptBytes = bytes.count
        guard FileManager.default.createFile(atPath: file, contents: Data(bytes)) else { fail("cannot write \(file)") }
        defer {
            try? FileManager.default.removeItem(atPath: file)
            try? FileManager.default.removeItem(atPath: transcriptsFolder + "/" + sessionID)
        }
        var importMilliseconds = 0.0
        if let store = side.store {
            let start = clock.now
            let imported = try await importSession(
                sessionID, into: store, directory: cwd, configDirectory: sandbox.homeDirectory.path + "/.claude")
            importMilliseconds = seconds(clock.now - start) * 1000
            guard imported.entryCount == 2 * settings.turns, imported.key.projectKey == projectKey else {
                fail("imported \(imported.entryCount) entries under \(imported.key.projectKey)")
            }
            if !side.keepLocal { try FileManager.default.removeItem(atPath: file) }
        }

        var options = baseOptions
        options.resume = sessionID
        var freshConfig: String?
        if side.freshConfig {
            let folder = root + "/config-\(sessionID)"
            freshConfig = folder
            let projects = folder + "/projects/" + projectKey
            try FileManager.default.createDirectory(atPath: projects, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: file, toPath: projects + "/" + sessionID + ".jsonl")
            let home = sandbox.homeDirectory.path
            for (source, target) in [("/.claude.json", "/.claude.json"), ("/.claude/settings.json", "/settings.json")]
            where FileManager.default.fileExists(atPath: home + source) {
                try FileManager.default.copyItem(atPath: home + source, toPath: folder + target)
            }
            options.env["CLAUDE_CONFIG_DIR"] = folder
        }
        defer { if let freshConfig { try? FileManager.default.removeItem(atPath: freshConfig) } }
        let client =
            side.store.map { ClaudeSDKClient(options: options, sessionStore: $0) }
            ?? ClaudeSDKClient(
                options: options)
        let childrenStart = ResourceUsage.childrenCPUSeconds()
        let cpuStart = ResourceUsage.processCPUSeconds()
        let start = clock.now
        try await client.connect()
        let connected = clock.now
        try await client.query("resumed turn")
        var answer: String?
        var total = 0.0
        var clientCPU = 0.0
        for try await message in client.receiveResponse() {
            if case .result(let result) = message, answer == nil {
                total = seconds(clock.now - start) * 1000
                clientCPU = (ResourceUsage.processCPUSeconds() - cpuStart) * 1000
                guard !result.isError else { fail("\(side.name): the resumed turn ended with an error result") }
                answer = result.result ?? ""
            }
        }
        await client.disconnect()
        let cliCPU = (ResourceUsage.childrenCPUSeconds() - childrenStart) * 1000
        // The fake API counts the user turns the CLI sent it: the whole session, then this prompt.
        guard let answer, answer.contains("user_turns=\(settings.turns + 1) ") else {
            fail("\(side.name): the CLI did not resume the \(settings.turns)-turn session: \(answer ?? "no result")")
        }
        var sample = Sample(
            totalMilliseconds: total, connectMilliseconds: seconds(connected - start) * 1000,
            clientCPUMilliseconds: clientCPU, cliCPUMilliseconds: cliCPU, importMilliseconds: importMilliseconds)

        if let store = side.store {
            // What the resume did before starting the CLI, timed on the same session: the store's load,
            // then writing its lines to a new file (as StoreResume does).
            let key = SessionStoreKey(projectKey: projectKey, sessionID: sessionID)
            let loadStart = clock.now
            let entries = try await store.load(key) ?? []
            sample.loadMilliseconds = seconds(clock.now - loadStart) * 1000
            guard entries.count >= 2 * settings.turns else { fail("\(side.name): the store holds \(entries.count)") }
            let writeStart = clock.now
            var lines: [UInt8] = []
            lines.reserveCapacity(entries.reduce(0) { $0 + $1.raw.bytes.count + 1 })
            for entry in entries {
                lines += entry.raw.bytes
                lines.append(UInt8(ascii: "\n"))
            }
            let copy = root + "/profile-\(sessionID).jsonl"
            let fd = open(copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { fail("cannot create \(copy)") }
            var written = 0
            lines.withUnsafeBytes { buffer in
                while written < buffer.count {
                    let count = write(fd, buffer.baseAddress! + written, buffer.count - written)
                    if count <= 0 { break }
                    written += count
                }
            }
            close(fd)
            sample.writeMilliseconds = seconds(clock.now - writeStart) * 1000
            unlink(copy)
            try await store.delete(key)
        }
        return sample
    }

    // MARK: Measuring

    func measure(_ stores: [(name: String, store: any SessionCatalog, budget: Double)]) async throws {
        var sides = [Side(name: "local", store: nil, keepLocal: true, budget: 0)]
        sides += stores.map { Side(name: $0.name, store: $0.store, keepLocal: false, budget: $0.budget) }
        if settings.withLocal {
            sides += stores.map { Side(name: $0.name + "+local", store: $0.store, keepLocal: true, budget: $0.budget) }
        }
        sides.append(Side(name: "local+newconfig", store: nil, keepLocal: true, budget: 0, freshConfig: true))
        note(
            "resume: \(settings.turns)-turn session, sides \(sides.map(\.name).joined(separator: ", ")); "
                + "one warm-up each, then \(settings.runs) rounds")
        for side in sides { _ = try await run(side) }
        note(String(format: "resume: transcript %.2f MB (%d lines)", Double(transcriptBytes) / 1e6, 2 * settings.turns))
        var samples: [String: [Sample]] = [:]
        for round in 0..<settings.runs {
            let order = Array(sides[(round % sides.count)...] + sides[..<(round % sides.count)])
            for side in order {
                let sample = try await run(side)
                samples[side.name, default: []].append(sample)
                emit([
                    "benchmark": "resume", "side": .string(side.name), "turns": .int(Int64(settings.turns)),
                    "transcript_bytes": .int(Int64(transcriptBytes)),
                    "connect_to_result_ms": .double(sample.totalMilliseconds),
                    "connect_ms": .double(sample.connectMilliseconds),
                    "client_cpu_ms": .double(sample.clientCPUMilliseconds),
                    "cli_cpu_ms": .double(sample.cliCPUMilliseconds),
                    "import_ms": .double(sample.importMilliseconds), "load_ms": .double(sample.loadMilliseconds),
                    "write_ms": .double(sample.writeMilliseconds),
                ])
            }
        }
        report(sides, samples)
    }

    private func report(_ sides: [Side], _ samples: [String: [Sample]]) {
        func med(_ name: String, _ field: KeyPath<Sample, Double>) -> Double {
            median(samples[name]?.map { $0[keyPath: field] } ?? [])
        }
        let baseline = med("local", \.totalMilliseconds)
        let baselineCPU = med("local", \.clientCPUMilliseconds) + med("local", \.cliCPUMilliseconds)
        var lines = [
            String(
                format:
                    "resume of a %d-turn session (%.2f MB), real CLI against fake-messages-api, median of %d alternating runs",
                settings.turns, Double(transcriptBytes) / 1e6, settings.runs),
            pad("side", 16)
                + "  connect→result   connect  client CPU  CLI CPU   Δ wall vs local  Δ CPU vs local   load   write  import",
        ]
        for side in sides {
            let total = med(side.name, \.totalMilliseconds)
            let cpu = med(side.name, \.clientCPUMilliseconds) + med(side.name, \.cliCPUMilliseconds)
            var line =
                pad(side.name, 16)
                + String(
                    format: "  %9.0f ms  %7.0f ms  %7.0f ms  %6.0f ms", total, med(side.name, \.connectMilliseconds),
                    med(side.name, \.clientCPUMilliseconds), med(side.name, \.cliCPUMilliseconds))
            if side.store != nil || side.freshConfig {
                let difference = total - baseline
                line += String(
                    format: "   %+8.0f ms      %+8.0f ms   %5.1f  %5.1f  %6.0f ms", difference, cpu - baselineCPU,
                    med(side.name, \.loadMilliseconds), med(side.name, \.writeMilliseconds),
                    med(side.name, \.importMilliseconds))
                if !side.keepLocal {
                    let ok = cpu - baselineCPU <= side.budget
                    if !ok { passed = false }
                    line += String(format: "  %@ (≤ %.0f ms)", ok ? "PASS" : "FAIL", side.budget)
                }
            }
            lines.append(line)
        }
        let spread = samples["local"]?.map(\.totalMilliseconds).sorted() ?? []
        if let low = spread.first, let high = spread.last {
            lines.append(String(format: "local connect→result spread: %.0f–%.0f ms", low, high))
        }
        lines.append(
            "target (store − local, median client + CLI CPU from connect to the first result; files and SQLite ≤ 150 ms, PostgreSQL ≤ 1 s): "
                + (passed ? "PASS" : "FAIL"))
        note(lines.joined(separator: "\n"))
    }
}
