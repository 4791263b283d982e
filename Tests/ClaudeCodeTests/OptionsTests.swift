import Foundation
import Testing

@testable import ClaudeCode

@Suite struct OptionsTests {
    @Test func defaultsMatchThePythonSDKInvocation() throws {
        let args = try ClaudeCodeOptions().commandLineArguments()
        #expect(
            args == [
                "--output-format", "stream-json", "--verbose", "--system-prompt", "", "--input-format", "stream-json",
            ])
    }

    @Test func everyOptionBecomesItsFlag() throws {
        var options = ClaudeCodeOptions()
        options.systemPrompt = .preset(append: "Be terse.")
        options.tools = .list(["Read", "Bash"])
        options.allowedTools = ["Read", "Bash(ls:*)"]
        options.disallowedTools = ["Write"]
        options.model = "claude-sonnet-4-5"
        options.fallbackModel = "claude-haiku"
        options.betas = ["context-1m-2025-08-07"]
        options.permissionMode = .acceptEdits
        options.permissionPromptToolName = "stdio"
        options.maxTurns = 3
        options.maxBudgetUSD = 1.5
        options.taskBudget = 1000
        options.resume = "-dash-leading"
        options.continueConversation = true
        options.forkSession = true
        options.sessionID = "11111111-2222-4333-8444-555555555555"
        options.resumeSessionAt = "aaaa"
        options.settings = "{\"a\":1}"
        options.settingSources = [.user, .project]
        options.addDirectories = ["/a", "/b c"]
        options.mcpServers = ["fs": .stdio(command: "npx", args: ["srv"])]
        options.strictMCPConfig = true
        options.pluginDirectories = ["/plug"]
        options.includePartialMessages = true
        options.includeHookEvents = true
        options.thinking = .enabled(budgetTokens: 2048, display: "summarized")
        options.effort = "high"
        options.outputSchema = ["type": "object"]
        options.extraArgs = ["debug-to-stderr": nil, "weird": "-x", "plain": "v"]
        let args = try options.commandLineArguments()
        func value(after flag: String) -> String? {
            args.firstIndex(of: flag).map { args[$0 + 1] }
        }
        #expect(value(after: "--append-system-prompt") == "Be terse.")
        #expect(!args.contains("--system-prompt"))
        #expect(value(after: "--tools") == "Read,Bash")
        #expect(value(after: "--allowedTools") == "Read,Bash(ls:*)")
        #expect(value(after: "--disallowedTools") == "Write")
        #expect(value(after: "--model") == "claude-sonnet-4-5")
        #expect(value(after: "--fallback-model") == "claude-haiku")
        #expect(value(after: "--betas") == "context-1m-2025-08-07")
        #expect(value(after: "--permission-mode") == "acceptEdits")
        #expect(value(after: "--permission-prompt-tool") == "stdio")
        #expect(value(after: "--max-turns") == "3")
        #expect(value(after: "--max-budget-usd") == "1.5")
        #expect(value(after: "--task-budget") == "1000")
        #expect(args.contains("--resume=-dash-leading"))
        #expect(args.contains("--continue"))
        #expect(args.contains("--fork-session"))
        #expect(args.contains("--session-id=11111111-2222-4333-8444-555555555555"))
        #expect(args.contains("--resume-session-at=aaaa"))
        #expect(value(after: "--settings") == "{\"a\":1}")
        #expect(args.contains("--setting-sources=user,project"))
        #expect(args.filter { $0 == "--add-dir" }.count == 2)
        #expect(args.contains("/b c"))
        let mcp = try JSONValue.parse(try #require(value(after: "--mcp-config")))
        #expect(mcp["mcpServers"]?["fs"]?["command"] == "npx")
        #expect(mcp["mcpServers"]?["fs"]?["type"] == "stdio")
        #expect(args.contains("--strict-mcp-config"))
        #expect(value(after: "--plugin-dir") == "/plug")
        #expect(args.contains("--include-partial-messages"))
        #expect(args.contains("--include-hook-events"))
        #expect(value(after: "--max-thinking-tokens") == "2048")
        #expect(value(after: "--thinking-display") == "summarized")
        #expect(value(after: "--effort") == "high")
        #expect(try JSONValue.parse(try #require(value(after: "--json-schema"))) == ["type": "object"])
        #expect(args.contains("--debug-to-stderr"))
        #expect(args.contains("--weird=-x"))
        #expect(value(after: "--plain") == "v")
        #expect(Array(args.suffix(2)) == ["--input-format", "stream-json"])
    }

    @Test func systemPromptVariants() throws {
        var options = ClaudeCodeOptions()
        options.systemPrompt = .text("You are a poet")
        #expect(try options.commandLineArguments().contains("You are a poet"))
        options.systemPrompt = .file(path: "/tmp/p.txt")
        let args = try options.commandLineArguments()
        #expect(args[args.firstIndex(of: "--system-prompt-file")! + 1] == "/tmp/p.txt")
        options.systemPrompt = .preset(append: nil)
        #expect(!(try options.commandLineArguments()).contains { $0.contains("system-prompt") })
        options.tools = .list([])
        let empty = try options.commandLineArguments()
        #expect(empty[empty.firstIndex(of: "--tools")! + 1] == "")
        options.thinking = .adaptive()
        #expect(try options.commandLineArguments().contains("adaptive"))
        options.thinking = .disabled
        #expect(try options.commandLineArguments().contains("disabled"))
    }

    @Test func rejectsValuesTheCLIWouldMisread() {
        var options = ClaudeCodeOptions()
        options.maxTurns = 0
        #expect(throws: ClaudeCodeError.self) { try options.commandLineArguments() }
        options = ClaudeCodeOptions()
        options.resume = "abc\ndef"
        #expect(throws: ClaudeCodeError.self) { try options.commandLineArguments() }
        options = ClaudeCodeOptions()
        options.extraArgs = ["--already-dashed": nil]
        #expect(throws: ClaudeCodeError.self) { try options.commandLineArguments() }
        options = ClaudeCodeOptions()
        options.maxBudgetUSD = .nan
        #expect(throws: ClaudeCodeError.self) { try options.commandLineArguments() }
    }

    @Test func environmentAddsIdentityAndDropsNestedSessionMarker() {
        var options = ClaudeCodeOptions()
        options.env = ["MY_VAR": "1", "CLAUDE_CODE_ENTRYPOINT": "custom"]
        options.cwd = "/work/dir"
        let environment = options.processEnvironment(base: ["CLAUDECODE": "1", "PATH": "/bin"])
        #expect(environment["CLAUDECODE"] == nil)
        #expect(environment["PATH"] == "/bin")
        #expect(environment["MY_VAR"] == "1")
        #expect(environment["CLAUDE_CODE_ENTRYPOINT"] == "custom")
        #expect(environment["CLAUDE_AGENT_SDK_VERSION"] == ClaudeCodeVersion.sdk)
        #expect(environment["CLAUDE_CODE_SDK_READS_SESSION_STATE"] == "1")
        #expect(environment["PWD"] == "/work/dir")
        let overridden = ClaudeCodeOptions().processEnvironment(base: ["claude_code_sdk_reads_session_state": "0"])
        #expect(overridden["CLAUDE_CODE_SDK_READS_SESSION_STATE"] == nil)
    }
}

@Suite struct CLILocatorTests {
    private func makeFolder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("locator-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private func makeFile(_ path: String, executable: Bool) throws {
        _ = FileManager.default.createFile(atPath: path, contents: Data("#!/bin/sh\n".utf8))
        try FileManager.default.setAttributes([.posixPermissions: executable ? 0o755 : 0o644], ofItemAtPath: path)
    }

    @Test func searchOrderAndNotFoundErrorNamesEveryPlace() throws {
        let root = try makeFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let binA = root + "/a"
        let binB = root + "/b"
        try FileManager.default.createDirectory(atPath: binA, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: binB, withIntermediateDirectories: true)
        try makeFile(binB + "/claude", executable: true)
        let environment = ["PATH": "\(binA):\(binB)", "HOME": root + "/home"]
        #expect(try CLILocator.locate(explicitPath: nil, environment: environment) == binB + "/claude")
        try makeFile(root + "/explicit", executable: true)
        #expect(
            try CLILocator.locate(
                explicitPath: nil, environment: environment.merging(["CLAUDE_CODE_CLI_PATH": root + "/explicit"]) { $1 }
            )
                == root + "/explicit")
        #expect(try CLILocator.locate(explicitPath: root + "/explicit", environment: environment) == root + "/explicit")

        do {
            _ = try CLILocator.locate(
                explicitPath: nil, environment: ["PATH": binA, "HOME": root + "/home"], currentDirectory: root)
            Issue.record("expected cliNotFound")
        } catch {
            #expect(error.code == .cliNotFound)
            #expect(error.searchedPaths.contains(binA + "/claude"))
            #expect(error.searchedPaths.contains(root + "/home/.claude/local/claude"))
            #expect(error.searchedPaths.contains("/usr/local/bin/claude"))
            #expect(error.searchedPaths.contains(root + "/node_modules/.bin/claude"))
            #expect(error.message.contains("scripts/setup/install-claude-cli.sh"))
        }
    }

    @Test func nonExecutableFileIsATypedError() throws {
        let root = try makeFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try makeFile(root + "/claude", executable: false)
        do {
            _ = try CLILocator.locate(explicitPath: root + "/claude", environment: [:])
            Issue.record("expected cliNotExecutable")
        } catch {
            #expect(error.code == .cliNotExecutable)
        }
    }

    @Test func versionComparison() {
        #expect(CLILocator.isVersion("1.9.9", olderThan: "2.0.0"))
        #expect(!CLILocator.isVersion("2.1.331", olderThan: "2.0.0"))
        #expect(!CLILocator.isVersion("2.0.0 (Claude Code)", olderThan: "2.0.0"))
        #expect(CLILocator.isVersion("2.0", olderThan: "2.0.1"))
    }
}
