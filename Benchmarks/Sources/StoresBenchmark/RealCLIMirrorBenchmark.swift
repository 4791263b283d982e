import BenchmarkSupport
import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeTesting
import Foundation

/// `real-cli --cli PATH [--api PATH] [--turns 40] [--runs 5] [--dir DIR]`: what mirroring costs a
/// client of the real Claude Code CLI.
///
/// The pinned CLI runs against a fake Messages API on 127.0.0.1 in a throwaway HOME: the
/// `fake-messages-api` executable given by `--api` (so this process's CPU time is the client's
/// alone), else `FakeMessagesAPI` in this process. Each turn is a tool call (the model asks for
/// `Bash: true`, the CLI runs it, the model answers), so a turn carries system, assistant, user
/// and result messages and, with a store, the CLI's `transcript_mirror` frames for every line it
/// writes. Modes, alternating, one warm-up each: no store (the CLI without `--session-mirror`),
/// mirrored to `InMemorySessionStore`, and to `FileSessionStore`.
///
/// Reports messages per second (from the first query to the last result, which mirroring
/// delivers only once the turn is in the store), the median time from a query to its result,
/// and the client's CPU per message; checks that every mirrored session holds every turn, and
/// exits with status 1 when a store lowers messages/s by more than 10% (the issue's target).
func realCLIMirrorBenchmark(_ options: Options) async throws {
    guard let cli = options.string("cli") else { fail("real-cli needs --cli PATH") }
    let turns = options.int("turns", 40)
    let runs = options.int("runs", 5)
    let root = temporaryFolder(options.string("dir"))
    defer { try? FileManager.default.removeItem(atPath: root) }
    let api = try await BenchmarkMessagesAPI(executable: options.string("api"))
    let clock = ContinuousClock()

    struct Run {
        var rate: Double
        var turnMilliseconds: Double
        var cpu: Double
        var messages: Int
        var stored: Int
    }

    func run(_ mode: String) async throws -> Run {
        let sandbox = try CLITestEnvironment(baseURL: api.baseURL, prefix: "bench-mirror")
        defer { sandbox.cleanup() }
        var clientOptions = ClaudeCodeOptions()
        clientOptions.cliPath = cli
        clientOptions.cwd = sandbox.workDirectory.path
        clientOptions.env = sandbox.environment
        clientOptions.permissionMode = .bypassPermissions
        let (client, store) = mirrorClient(mode, clientOptions, root: root)
        try await client.connect()
        var messages = 0
        var results = 0
        var turnTimes: [Double] = []
        let start = clock.now
        let cpuStart = ResourceUsage.processCPUSeconds()
        for turn in 0..<turns {
            let turnStart = clock.now
            // The fake API answers a prompt starting with `use tool Bash:` with that tool call.
            try await client.query("use tool Bash: true # turn \(turn)")
            for try await message in client.receiveResponse() {
                messages += 1
                if case .system(let system) = message, case .mirrorError = system.kind { fail("mirror error") }
                if case .result(let result) = message {
                    guard !result.isError else { fail("turn \(turn) ended with an error result") }
                    results += 1
                }
            }
            turnTimes.append(seconds(clock.now - turnStart) * 1000)
        }
        let elapsed = seconds(clock.now - start)
        let cpu = ResourceUsage.processCPUSeconds() - cpuStart
        await client.disconnect()
        guard results == turns else { fail("\(results) results for \(turns) turns") }
        var stored = 0
        if let store {
            let project = ClaudeSessionLibrary.projectFolderName(for: sandbox.workDirectory.path)
            for listing in try await store.listSessions(projectKey: project) {
                let entries = try await store.load(SessionStoreKey(projectKey: project, sessionID: listing.sessionID))
                stored += entries?.count ?? 0
                let users = entries?.filter { $0.type == "user" }.count ?? 0
                // Each turn adds a prompt and a tool result, both `user` lines.
                guard users >= 2 * turns else { fail("the store holds \(users) user lines for \(turns) turns") }
            }
            guard stored > 0 else { fail("nothing was mirrored") }
        }
        return Run(
            rate: Double(messages) / elapsed, turnMilliseconds: median(turnTimes),
            cpu: cpu * 1e6 / Double(messages), messages: messages, stored: stored)
    }

    let modes = ["none", "memory", "file"]
    var results: [String: [Run]] = [:]
    for mode in modes { _ = try await run(mode) }
    for _ in 0..<runs {
        for mode in modes {
            let result = try await run(mode)
            results[mode, default: []].append(result)
            emit([
                "benchmark": "real-cli-mirror", "store": .string(mode), "messages": .int(Int64(result.messages)),
                "stored_entries": .int(Int64(result.stored)), "messages_per_second": .double(result.rate),
                "turn_ms": .double(result.turnMilliseconds), "cpu_us_per_message": .double(result.cpu),
                "api_in_process": .bool(!api.isExternal),
            ])
        }
    }
    await api.stop()
    let labels = [
        "none": "no store (no --session-mirror)", "memory": "mirrored to memory", "file": "mirrored to file store",
    ]
    let baseline = median(results["none"]?.map(\.rate) ?? [1])
    var lines = [
        String(
            format: "real CLI, %d tool-call turns per run, median of %d runs; client CPU %@", turns, runs,
            api.isExternal ? "(the fake API runs in its own process)" : "includes the in-process fake API")
    ]
    for mode in modes {
        let runs = results[mode] ?? []
        let rate = median(runs.map(\.rate))
        var line =
            pad(labels[mode]!, 32)
            + String(
                format: " %7.1f messages/s  %6.1f ms/turn  %7.1f CPU µs/msg", rate,
                median(runs.map(\.turnMilliseconds)),
                median(runs.map(\.cpu)))
        if mode != "none" {
            line += String(
                format: "  messages/s vs no store %+5.1f%%  (%d messages, %d entries stored)",
                (rate / baseline - 1) * 100,
                runs.last?.messages ?? 0, runs.last?.stored ?? 0)
        }
        lines.append(line)
    }
    // The issue's target: mirroring lowers the client's messages/s by at most 10%.
    let worst = ["memory", "file"].map { median(results[$0]?.map(\.rate) ?? [0]) / baseline - 1 }.min() ?? 0
    let passed = worst >= -0.10
    lines.append("target (at most 10% fewer messages/s than without a store): " + (passed ? "PASS" : "FAIL"))
    note(lines.joined(separator: "\n"))
    if !passed { exit(1) }
}

/// The fake Messages API of the benchmark: the `fake-messages-api` executable (its own process,
/// stopped by closing its stdin) or `FakeMessagesAPI` in this process.
final class BenchmarkMessagesAPI: @unchecked Sendable {
    let baseURL: URL
    var isExternal: Bool { process != nil }
    private let process: Process?
    private let input: Pipe?
    private let inProcess: FakeMessagesAPI?

    init(executable: String?) async throws {
        guard let executable else {
            let api = FakeMessagesAPI()
            try await api.start()
            inProcess = api
            baseURL = api.baseURL
            process = nil
            input = nil
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--exit-on-eof"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        // First line: the port; second: ANTHROPIC_BASE_URL=<url>.
        var text = ""
        while text.split(separator: "\n").count < 2 {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { fail("fake-messages-api exited before printing its address") }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("ANTHROPIC_BASE_URL=") }),
            let url = URL(string: String(line.dropFirst("ANTHROPIC_BASE_URL=".count)))
        else { fail("fake-messages-api printed no address") }
        self.process = process
        self.input = input
        self.baseURL = url
        self.inProcess = nil
    }

    func stop() async {
        if let process, let input {
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }
        await inProcess?.stop()
    }
}
