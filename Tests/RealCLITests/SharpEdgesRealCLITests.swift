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

/// Issue 13's sharp edges with the real CLI 2.1.331 against the fake Messages API.
@Suite("Sharp edges with the real CLI", .serialized, .timeLimit(.minutes(3)))
struct SharpEdgesRealCLITests {
    private func toolResults(_ messages: [Message]) -> [String] {
        messages.flatMap { message -> [String] in
            guard case .user(let user) = message, case .blocks(let blocks) = user.content else { return [] }
            return blocks.compactMap { block -> String? in
                guard case .toolResult(let result) = block else { return nil }
                return result.text
            }
        }
    }

    struct NoArguments: Codable, Sendable {}
    struct AddInput: Codable, Sendable {
        var a: Double
        var b: Double
    }

    @Test func toolsWithoutArgumentsAndNormalToolsOfOneServerAreAllCallable() async throws {
        try await RealCLIHarness.run { harness in
            let server = SDKMCPServer(
                name: "mixed",
                tools: [
                    SDKMCPTool(name: "ping", description: "Answers pong") { .text("pong") },
                    try SDKMCPTool(name: "hello", description: "Greets", input: NoArguments.self) { _ in
                        .text("hello there")
                    },
                    try SDKMCPTool(name: "add", description: "Adds two numbers", input: AddInput.self) { input in
                        .text("sum is \(input.a + input.b)")
                    },
                ])
            let options = harness.options {
                $0.mcpServers["mixed"] = .sdk(server)
                $0.allowedTools = ["mcp__mixed__ping", "mcp__mixed__hello", "mcp__mixed__add"]
            }
            try await ClaudeSDKClient.withConnection(options: options) { client in
                try await client.query(#"use tool mcp__mixed__ping: {}"#)
                let first = try await collectResponse(client)
                #expect(toolResults(first) == ["pong"])
                try await client.query(#"use tool mcp__mixed__hello: {}"#)
                #expect(toolResults(try await collectResponse(client)) == ["hello there"])
                try await client.query(#"use tool mcp__mixed__add: {"a": 2, "b": 3}"#)
                #expect(toolResults(try await collectResponse(client)) == ["sum is 5.0"])
                let info = first.compactMap { message -> SystemInit? in
                    if case .system(let system) = message, case .initialize(let info) = system.kind { return info }
                    return nil
                }.first
                #expect(info?.tools.contains("mcp__mixed__ping") == true)
                #expect(info?.tools.contains("mcp__mixed__add") == true)
            }
        }
    }

    @Test func aToolTheCLIRefusesIsReportedAndLogged() async throws {
        try await RealCLIHarness.run { harness in
            // The CLI drops a tool whose property type it does not know, silently, keeping the others;
            // a second server is healthy.
            let odd: JSONValue = ["type": "object", "properties": ["a": ["type": "nonsense"]]]
            let options = harness.options {
                $0.mcpServers["mixed"] = .sdk(
                    SDKMCPServer(
                        name: "mixed",
                        tools: [
                            SDKMCPTool(name: "ping", description: "Answers pong") { .text("pong") },
                            SDKMCPTool(name: "odd", description: "Odd schema", inputSchema: odd) { _ in .text("x") },
                        ]))
                $0.mcpServers["fine"] = .sdk(
                    SDKMCPServer(
                        name: "fine", tools: [SDKMCPTool(name: "now", description: "Now") { .text("now") }]))
            }
            let capture = LogCapture()
            try await ClaudeSDKClient.withConnection(options: options, logger: capture.logger()) {
                client in
                #expect(await client.sdkServerToolReports().isEmpty)  // no turn yet
                try await client.query("hello")
                _ = try await collectResponse(client)
                let reports = await client.sdkServerToolReports()
                #expect(reports.map(\.server) == ["fine", "mixed"])
                let mixed = try #require(reports.first { $0.server == "mixed" })
                #expect(mixed.registered == ["ping", "odd"])
                #expect(mixed.offered == ["ping"])
                #expect(mixed.refused == ["odd"])
                #expect(mixed.status == .connected)
                #expect(reports.first { $0.server == "fine" }?.isHealthy == true)
                let warnings = capture.messages
                #expect(warnings.contains { $0.contains("refused tools odd of in-process MCP server 'mixed'") })
                #expect(!warnings.contains { $0.contains("'fine'") })
                // Asking again gives the same answer.
                #expect(try await client.checkSDKServerTools() == reports)
            }
        }
    }

    @Test func schemasTheCLIWouldRefuseForTheWholeServerFailBeforeLaunch() async throws {
        for schema: JSONValue in [
            ["type": "object", "properties": 5], ["type": "object", "required": "a"], ["type": "array"],
        ] {
            let tool = SDKMCPTool(name: "bad", description: "Bad", inputSchema: schema) { _ in .text("x") }
            #expect(tool.schemaProblem != nil, "\(schema)")
        }
        let good = SDKMCPTool(
            name: "good", description: "Good",
            inputSchema: ["type": "object", "properties": ["a": ["type": "string"]], "required": ["a"]]
        ) { _ in .text("x") }
        #expect(good.schemaProblem == nil)
    }

    @Test(.enabled(if: getuid() == 0, "the CLI refuses bypassPermissions only for root"))
    func bypassPermissionsAsRootFailsWithTheCLIsReason() async throws {
        try await RealCLIHarness.run { harness in
            let options = harness.options {
                $0.permissionMode = .bypassPermissions
                // The CLI reads only IS_SANDBOX=1 as a sandbox; override the harness (and any inherited value).
                $0.env["IS_SANDBOX"] = "0"
            }
            let client = ClaudeSDKClient(options: options)
            do {
                try await client.connect()
                Issue.record("expected connect to fail")
                await client.disconnect()
            } catch let error as ClaudeCodeError {
                #expect(error.code == .processExited)
                #expect(error.description.contains("cannot be used with root/sudo privileges"), "\(error)")
            }
        }
    }

    @Test func aMissingWorkingDirectoryIsNamedInTheError() async throws {
        try await RealCLIHarness.run { harness in
            let missing = harness.sandbox.workDirectory.appendingPathComponent("does-not-exist").path
            let client = ClaudeSDKClient(options: harness.options { $0.cwd = missing })
            do {
                try await client.connect()
                Issue.record("expected workingDirectoryNotFound")
                await client.disconnect()
            } catch let error as ClaudeCodeError {
                #expect(error.code == .workingDirectoryNotFound)
                #expect(error.description.contains(missing))
            }
        }
    }

    @Test func aTurnYieldsThreeMessagesUnlessHostOnlyFramesAreAskedFor() async throws {
        try await RealCLIHarness.run { harness in
            let observed = Mutex(0)
            let observer: FrameObserver = { frame in
                if frame.direction == .inbound, frame.json?["sdk_host_only"] == true { observed.withLock { $0 += 1 } }
            }
            let client = ClaudeSDKClient(options: harness.options(), observer: observer)
            try await client.connect()
            try await client.query("hello")
            let turn = try await collectResponse(client)
            #expect(turn.map(\.type) == ["system", "assistant", "result"])
            await client.disconnect()
            #expect(observed.withLock { $0 } >= 1)

            let all = ClaudeSDKClient(options: harness.options { $0.includeHostOnlyMessages = true })
            try await all.connect()
            try await all.query("hello")
            let shown = try await collectResponse(all)
            #expect(shown.contains { $0.isHostOnly })
            #expect(shown.filter { !$0.isHostOnly }.map(\.type) == ["system", "assistant", "result"])
            await all.disconnect()
        }
    }

    @Test func mcpSecretsAreNotOnTheCommandLineAndTheConfigFileIsRemoved() async throws {
        try await RealCLIHarness.run { harness in
            let transports = Mutex<[SubprocessTransport]>([])
            let factory: TransportFactory = { options throws(ClaudeCodeError) in
                let transport = try SubprocessTransport(options: options)
                transports.withLock { $0.append(transport) }
                return transport
            }
            let options = harness.options {
                $0.mcpServers["ext"] = .stdio(
                    command: "/nonexistent/mcp-server", env: ["SERVER_TOKEN": "stdio-secret-4711"])
                $0.mcpServers["web"] = .http(
                    url: "http://127.0.0.1:9/mcp", headers: ["Authorization": "Bearer http-secret-4711"])
                $0.mcpServers["sdk"] = .sdk(
                    SDKMCPServer(name: "sdk", tools: [SDKMCPTool(name: "ping", description: "pong") { .text("pong") }]))
                $0.allowedTools = ["mcp__sdk__ping"]
            }
            let client = ClaudeSDKClient(options: options, transport: factory)
            try await client.connect()
            let transport = try #require(transports.withLock { $0.last })
            let pid = try #require(transport.processID)
            let cmdline = String(
                decoding: try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")), as: UTF8.self)
            #expect(!cmdline.contains("secret-4711"))
            let arguments = cmdline.split(separator: "\0").map(String.init)
            let index = try #require(arguments.firstIndex(of: "--mcp-config"))
            let path = arguments[index + 1]
            #expect(FileManager.default.fileExists(atPath: path))
            try await client.query("use tool mcp__sdk__ping: {}")
            #expect(toolResults(try await collectResponse(client)) == ["pong"])
            await client.disconnect()
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    @Test func aDenyShortcutFromAPreToolUseHookBlocksBash() async throws {
        try await RealCLIHarness.run { harness in
            let work = harness.sandbox.workDirectory.path
            let options = harness.options {
                // Without the hook this mode would run the command (the harness sets IS_SANDBOX=1).
                $0.permissionMode = .bypassPermissions
                $0.hooks[.preToolUse] = [
                    HookMatcher(matcher: "Bash", timeout: .seconds(30)) { _, _ in .deny(reason: "shortcut says no") }
                ]
            }
            try await ClaudeSDKClient.withConnection(options: options) { client in
                try await client.query("use tool Bash: touch \(work)/blocked")
                let messages = try await collectResponse(client)
                #expect(toolResults(messages) == ["PreToolUse:Bash hook error: shortcut says no"])
            }
            #expect(!FileManager.default.fileExists(atPath: "\(work)/blocked"))
        }
    }
}

/// `options.user` with the real CLI: it runs, and its tools run, as that user.
@Suite("options.user with the real CLI", .serialized, .timeLimit(.minutes(3)))
struct UserOptionRealCLITests {
    @Test(.enabled(if: getuid() == 0, "only root may run the CLI as another user"))
    func theCLIAndItsToolsRunAsTheUser() async throws {
        try await RealCLIHarness.run { harness in
            let nobody = try CLIUser.resolve("nobody")
            // The sandbox (HOME, TMPDIR, the working directory) becomes the user's, as a real deployment's would be.
            for path in [harness.sandbox.root.path] + [
                harness.sandbox.homeDirectory.path, harness.sandbox.tmpDirectory.path,
                harness.sandbox.workDirectory.path,
            ] {
                #expect(chown(path, nobody.uid, nobody.gid) == 0)
            }
            let options = harness.options {
                $0.user = "nobody"
                $0.allowedTools = ["Bash"]
            }
            try await ClaudeSDKClient.withConnection(options: options) { client in
                try await client.query("use tool Bash: id -u; id -g")
                let output = try await collectResponse(client).flatMap { message -> [String] in
                    guard case .user(let user) = message, case .blocks(let blocks) = user.content else { return [] }
                    return blocks.compactMap { block -> String? in
                        guard case .toolResult(let result) = block else { return nil }
                        return result.text
                    }
                }.joined()
                #expect(output.contains("\(nobody.uid)\n\(nobody.gid)"), "\(output)")
            }
        }
    }
}
