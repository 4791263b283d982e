import ClaudeCode
import ClaudeCodeTesting
import Foundation
import Logging
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Issue 13 with `fake-claude`: a scoped one-shot query stops its CLI when left, in top-level code
/// too; MCP servers travel in a private file; `withConnection` logs where it is told.
@Suite("Sharp edges with fake-claude", .serialized, .timeLimit(.minutes(3)))
struct SharpEdgesProcessTests {
    /// Runs `QueryBreakProbe` (top-level code that breaks out of a query loop) and returns the CLI's
    /// pid and whether it was already gone when the query form returned.
    private func runProbe(mode: String, harness: ProcessHarness) async throws -> (pid: pid_t, goneAtReturn: Bool) {
        let probe = URL(fileURLWithPath: harness.fakeCLI).deletingLastPathComponent()
            .appendingPathComponent("QueryBreakProbe").path
        #expect(FileManager.default.isExecutableFile(atPath: probe), "build the QueryBreakProbe target")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: probe)
        process.arguments = [harness.fakeCLI, mode]
        process.currentDirectoryURL = harness.sandbox.workDirectory
        let output = Pipe()
        process.standardOutput = output
        let text = Mutex("")
        let gone = Mutex<Bool?>(nil)
        output.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            let now = text.withLock { text -> String in
                text += String(decoding: data, as: UTF8.self)
                return text
            }
            // Checked the moment `returned` is read, while the probe goes on running.
            if now.contains("returned\n"), gone.withLock({ $0 }) == nil,
                let pid = Self.pid(in: now)
            {
                gone.withLock { $0 = ProcessHarness.isGone(pid) }
            }
        }
        try process.run()
        defer {
            output.fileHandleForReading.readabilityHandler = nil
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(30))
        while gone.withLock({ $0 }) == nil, clock.now < deadline, process.isRunning {
            try await Task.sleep(for: .milliseconds(20))
        }
        let pid = try #require(Self.pid(in: text.withLock { $0 }), "the probe printed no CLI pid")
        let goneAtReturn = try #require(gone.withLock { $0 }, "the probe never returned from the query")
        #expect(process.isRunning, "the probe must still be running when the CLI is checked")
        if !ProcessHarness.isGone(pid) { kill(pid, SIGKILL) }
        return (pid, goneAtReturn)
    }

    private static func pid(in text: String) -> pid_t? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cli-pid ") }) else { return nil }
        return pid_t(line.dropFirst("cli-pid ".count)).flatMap { $0 > 0 ? $0 : nil }
    }

    @Test("withQuery: a top-level break stops the CLI before withQuery returns")
    func withQueryStopsTheCLIOnATopLevelBreak() async throws {
        try await ProcessHarness.run { harness in
            let start = ContinuousClock.now
            let outcome = try await runProbe(mode: "with-query", harness: harness)
            #expect(outcome.goneAtReturn)
            // The stall CLI never ends its turn: only a prompt stop is this quick.
            #expect(ContinuousClock.now - start < .seconds(25))
        }
    }

    @Test("QueryStream.cancel(): a top-level break then cancel() stops the CLI before cancel() returns")
    func cancelStopsTheCLIOnATopLevelBreak() async throws {
        try await ProcessHarness.run { harness in
            let outcome = try await runProbe(mode: "cancel", harness: harness)
            #expect(outcome.goneAtReturn)
        }
    }

    @Test("withQuery returns the body's value, and a run that ended on its own is not disturbed")
    func withQueryReturnsTheBodysValue() async throws {
        try await ProcessHarness.run { harness in
            let text = try await withQuery(
                prompt: "scoped", options: harness.options("echo"), transport: harness.transportFactory
            ) { messages in
                var last: String?
                for try await message in messages {
                    if case .result(let result) = message { last = result.result }
                }
                return last
            }
            #expect(text != nil)
            #expect(ProcessHarness.isGone(try harness.cliPID))
        }
    }

    // MARK: MCP configuration file (item 10)

    @Test("mcpServers go to the CLI as a private file, never in argv, and the file is removed")
    func mcpServersTravelInAPrivateFile() async throws {
        try await ProcessHarness.run { harness in
            let argvFile = harness.file("argv.json")
            var options = harness.options("record-argv", env: ["FAKE_CLAUDE_ARGV_FILE": argvFile])
            options.mcpServers["files"] = .stdio(command: "srv", env: ["API_TOKEN": "stdio-secret-value"])
            options.mcpServers["web"] = .http(
                url: "https://example.invalid", headers: ["Authorization": "Bearer http-secret"])
            let client = harness.client(options)
            try await client.connect()
            let pid = try harness.cliPID
            let cmdline = try String(
                decoding: Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")), as: UTF8.self)
            #expect(!cmdline.contains("stdio-secret-value"))
            #expect(!cmdline.contains("http-secret"))
            try await client.query("argv")
            _ = try await readTurn(client)
            let record = try JSONValue.parse(try String(contentsOfFile: argvFile, encoding: .utf8))
            let argv = try #require(record["argv"]?.arrayValue?.compactMap { $0.stringValue })
            let index = try #require(argv.firstIndex(of: "--mcp-config"))
            let path = argv[index + 1]
            #expect(path.hasPrefix("/"))
            #expect(!argv.joined().contains("secret"))
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
            #expect((try FileManager.default.attributesOfItem(atPath: folder)[.posixPermissions] as? Int) == 0o700)
            let config = try JSONValue.parse(try String(contentsOfFile: path, encoding: .utf8))
            #expect(config["mcpServers"]?["files"]?["env"]?["API_TOKEN"] == "stdio-secret-value")
            #expect(config["mcpServers"]?["web"]?["headers"]?["Authorization"] == "Bearer http-secret")
            await client.disconnect()
            #expect(!FileManager.default.fileExists(atPath: path))
            #expect(!FileManager.default.fileExists(atPath: folder))
        }
    }

    @Test("the MCP configuration file is removed when the CLI fails at startup")
    func mcpConfigFileIsRemovedOnAFailedConnect() async throws {
        try await ProcessHarness.run { harness in
            var options = harness.options("exit-at-start")
            options.mcpServers["files"] = .stdio(command: "srv", env: ["API_TOKEN": "stdio-secret-value"])
            let before = Set(try Self.mcpFolders())
            let client = harness.client(options)
            await #expect(throws: ClaudeCodeError.self) { try await client.connect() }
            #expect(Set(try Self.mcpFolders()).subtracting(before).isEmpty)
        }
    }

    private static func mcpFolders() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter {
            $0.hasPrefix("claude-mcp-")
        }
    }

    // MARK: withConnection's logger (item 12)

    @Test("withConnection(logger:) logs the client's warnings there")
    func withConnectionUsesTheGivenLogger() async throws {
        try await ProcessHarness.run { harness in
            let capture = LogCapture()
            var options = harness.options("echo")
            options.canUseTool = { _, _, _ in .allow() }
            options.allowedTools = ["Bash"]
            try await ClaudeSDKClient.withConnection(options: options, logger: capture.logger()) {
                _ in
            }
            #expect(capture.messages.contains { $0.hasPrefix("canUseTool will not be called for: Bash") })
        }
    }
}
