import ClaudeCode
import ClaudeCodeSessions
import Foundation
import Testing

/// Bad input: one clear line on stderr, the documented exit code, nothing deleted.
@Suite("claude-sessions on bad input")
struct ToolBadInputTests {
    struct Setup {
        var folder: TemporaryFolder
        var config: String
        var good: CLITranscriptBuilder
    }

    func setup(_ name: String) throws -> Setup {
        let folder = try TemporaryFolder(name)
        let cwd = folder.path + "/work"
        try FileManager.default.createDirectory(atPath: cwd, withIntermediateDirectories: true)
        let config = folder.path + "/config"
        var good = CLITranscriptBuilder(
            configDirectory: config, cwd: cwd, sessionID: "aaaaaaaa-0000-4000-8000-000000000001")
        good.user("first prompt", seconds: 0)
        good.assistant([["type": "text", "text": "first reply"]], id: "m1", seconds: 1)
        try good.write()
        var twin = CLITranscriptBuilder(
            configDirectory: config, cwd: cwd, sessionID: "aaaaaaaa-0000-4000-8000-000000000002")
        twin.user("twin prompt", seconds: 2)
        twin.assistant([["type": "text", "text": "twin reply"]], id: "m2", seconds: 3)
        try twin.write()
        return Setup(folder: folder, config: config, good: good)
    }

    func expectOneLine(
        _ run: ToolRun, status: Int32, containing text: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(run.status == status, "stderr: \(run.stderr)", sourceLocation: sourceLocation)
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(run.stderr)", sourceLocation: sourceLocation)
        #expect(run.stderr.hasPrefix("claude-sessions: error: "), sourceLocation: sourceLocation)
        #expect(run.stderr.contains(text), "stderr: \(run.stderr)", sourceLocation: sourceLocation)
    }

    @Test func unknownIDIsNothingFound() async throws {
        let setup = try setup("unknown")
        defer { setup.folder.cleanup() }
        let run = try await runTool(["show", "bbbb", "--config-dir", setup.config])
        expectOneLine(run, status: 1, containing: "no session matches 'bbbb'")
        #expect(run.stdout.isEmpty)
    }

    @Test func ambiguousPrefixIsAUsageError() async throws {
        let setup = try setup("ambiguous")
        defer { setup.folder.cleanup() }
        let run = try await runTool(["export", "aaaa", "--format", "md", "--config-dir", setup.config])
        expectOneLine(run, status: 2, containing: "ambiguous id 'aaaa' matches 2 sessions")
        let unique = try await runTool(["show", "aaaaaaaa-0000-4000-8000-000000000001", "--config-dir", setup.config])
        #expect(unique.status == 0)
        #expect(unique.output.contains("first reply"))
    }

    @Test func corruptLineIsReportedAndTheRestShown() async throws {
        let setup = try setup("corrupt")
        defer { setup.folder.cleanup() }
        var damaged = CLITranscriptBuilder(
            configDirectory: setup.config, cwd: setup.good.cwd, sessionID: "cccccccc-0000-4000-8000-000000000003")
        damaged.user("before the damage", seconds: 10)
        damaged.assistant([["type": "text", "text": "still readable"]], id: "m3", seconds: 11)
        try damaged.write(extra: [#"{"type":"user","message":{"role":"us"#], at: 1)
        let run = try await runTool(["show", "cccc", "--config-dir", setup.config])
        expectOneLine(run, status: 3, containing: "1 damaged line(s) of session cccccccc-0000-4000-8000-000000000003")
        #expect(run.output.contains("before the damage"))
        #expect(run.output.contains("still readable"))
        // JSONL keeps the damaged line, byte for byte.
        let jsonl = try await runTool(["export", "cccc", "--format", "jsonl", "--config-dir", setup.config])
        #expect(jsonl.status == 3)
        #expect(jsonl.stdout == (try Data(contentsOf: URL(fileURLWithPath: damaged.path))))
    }

    @Test func unreadableFileIsReported() async throws {
        let setup = try setup("unreadable")
        defer { setup.folder.cleanup() }
        let id = "dddddddd-0000-4000-8000-000000000004"
        let link = setup.good.projectFolder + "/\(id).jsonl"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: setup.folder.path + "/missing")
        let run = try await runTool(["show", "dddd", "--config-dir", setup.config])
        expectOneLine(run, status: 3, containing: "cannot read session \(id)")
        // Listing goes on, with a warning for the unreadable file.
        let list = try await runTool(["list", "--json", "--config-dir", setup.config])
        #expect(list.status == 0)
        #expect((try list.json() as? [Any])?.count == 2)
        #expect(list.stderr.contains("warning: skipped"))
    }

    @Test func deleteResolvesEveryIDBeforeDeletingAnything() async throws {
        let setup = try setup("delete")
        defer { setup.folder.cleanup() }
        let run = try await runTool([
            "delete", "aaaaaaaa-0000-4000-8000-000000000001", "ffff", "--yes", "--config-dir", setup.config,
        ])
        expectOneLine(run, status: 1, containing: "no session matches 'ffff'")
        #expect(FileManager.default.fileExists(atPath: setup.good.path))
        let ambiguous = try await runTool(["delete", "aaaa", "--yes", "--config-dir", setup.config])
        expectOneLine(ambiguous, status: 2, containing: "ambiguous")
        #expect(FileManager.default.fileExists(atPath: setup.good.path))
    }

    @Test func usageErrorsExitWithTwo() async throws {
        let setup = try setup("usage")
        defer { setup.folder.cleanup() }
        expectOneLine(
            try await runTool(["list", "--since", "yesterdayish", "--config-dir", setup.config]), status: 2,
            containing: "cannot read --since")
        expectOneLine(try await runTool(["list", "--bogus"]), status: 2, containing: "--bogus")
        expectOneLine(try await runTool(["export", "--format", "pdf", "aaaa"]), status: 2, containing: "pdf")
        expectOneLine(
            try await runTool(["list", "--store", "mysql://x"]), status: 2, containing: "use --store sqlite:PATH")
        expectOneLine(try await runTool(["tag", "aaaa"]), status: 2, containing: "--clear")
    }

    @Test func helpAndVersion() async throws {
        let help = try await runTool(["--help"])
        #expect(help.status == 0)
        #expect(help.output.contains("Examples:"))
        #expect(help.output.contains("Exit codes:"))
        #expect(help.output.contains("claude-sessions export 3f2a --format html -o chat.html"))
        // A subcommand's help is that subcommand's, however it is asked for.
        for arguments in [["export", "--help"], ["export", "-h"], ["help", "export"]] {
            let run = try await runTool(arguments)
            #expect(run.status == 0, "\(arguments)")
            #expect(run.output.contains("USAGE: claude-sessions export"), "\(arguments): \(run.output)")
            #expect(run.output.contains("--format"), "\(arguments)")
            #expect(!run.output.contains("Exit codes:"), "\(arguments) printed the tool's help")
        }
        let version = try await runTool(["--version"])
        #expect(version.status == 0)
        #expect(version.output.trimmingCharacters(in: .whitespacesAndNewlines) == ClaudeCodeVersion.sdk)
    }

    @Test func colourOnlyOnATerminalAndNeverWithNoColor() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { return }
        let setup = try setup("colour")
        defer { setup.folder.cleanup() }
        let binary = try toolBinary()
        let command = "\(binary) show aaaaaaaa-0000-4000-8000-000000000001 --config-dir \(setup.config)"
        let coloured = try await runUnderScript(command, noColor: false)
        #expect(coloured.output.contains("\u{1B}["))
        let plain = try await runUnderScript(command, noColor: true)
        #expect(plain.output.contains("first reply"))
        #expect(!plain.output.contains("\u{1B}["))
    }

    @Test func deleteAsksOnATerminalAndKeepsTheSessionWhenDeclined() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { return }
        let setup = try setup("confirm")
        defer { setup.folder.cleanup() }
        let binary = try toolBinary()
        let command = "\(binary) delete aaaaaaaa-0000-4000-8000-000000000001 --config-dir \(setup.config)"
        let declined = try await runTool(
            ["-qec", command, "/dev/null"], environment: ["TERM": "xterm"], executable: "/usr/bin/script",
            input: "n\n")
        #expect(declined.status == 5, "\(declined.output)")
        #expect(declined.output.contains("Delete 1 session(s)?"))
        #expect(declined.output.contains("nothing deleted"))
        #expect(FileManager.default.fileExists(atPath: setup.good.path))
        let accepted = try await runTool(
            ["-qec", command, "/dev/null"], environment: ["TERM": "xterm"], executable: "/usr/bin/script",
            input: "y\n")
        #expect(accepted.status == 0, "\(accepted.output)")
        #expect(!FileManager.default.fileExists(atPath: setup.good.path))
    }

    @Test func escapeSequencesFromATranscriptDoNotReachTheTerminal() async throws {
        let folder = try TemporaryFolder("escape")
        defer { folder.cleanup() }
        var builder = CLITranscriptBuilder(
            configDirectory: folder.path + "/config", cwd: folder.path,
            sessionID: "eeeeeeee-0000-4000-8000-000000000005")
        builder.user("title \u{1B}]0;owned\u{07} \u{1B}[2J", seconds: 0)
        builder.assistant([["type": "text", "text": "reply \u{1B}[31mred"]], id: "m", seconds: 1)
        try builder.write()
        let run = try await runTool(["show", "eeee", "--config-dir", folder.path + "/config"])
        #expect(run.status == 0)
        #expect(!run.output.contains("\u{1B}"))
        #expect(!run.output.contains("\u{07}"))
    }
}

extension ToolBadInputTests {
    /// Runs a command line under `script(1)`, which gives it a pseudo-terminal.
    func runUnderScript(_ command: String, noColor: Bool) async throws -> ToolRun {
        let prefix = noColor ? "NO_COLOR=1 " : "env -u NO_COLOR "
        return try await runTool(
            ["-qec", prefix + command, "/dev/null"], environment: ["TERM": "xterm"], executable: "/usr/bin/script")
    }
}
