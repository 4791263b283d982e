import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeTesting
import Foundation
import Testing

/// The commands that read every session (`stats`, `list --no-cache`, `search` without an index)
/// hold a few sessions at a time, not all of them: their peak memory does not grow with the
/// number of sessions.
@Suite("claude-sessions: memory bounded over many large sessions", .timeLimit(.minutes(3)))
struct ToolMemoryTests {
    /// The exit status and peak resident memory (bytes) of one run of the tool, measured by the
    /// kernel for the child (`getrusage(RUSAGE_CHILDREN)` in a Python parent).
    static func peak(_ arguments: [String], cache: String) async throws -> (status: Int32, bytes: Int) {
        let script = """
            import resource, subprocess, sys
            code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
            print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
            """
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "CLAUDE_CONFIG_DIR")
        environment["XDG_CACHE_HOME"] = cache
        let result = try await ChildProcess.run(
            "/usr/bin/env", ["python3", "-c", script, try toolBinary()] + arguments, environment: environment)
        let fields = result.standardOutputText.split(separator: " ").compactMap {
            Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        try #require(fields.count == 2, "python3: \(result.standardErrorText)")
        return (Int32(fields[0]), fields[1] * 1024)
    }

    /// Writes `count` sessions of about 1 MB each (mostly one tool result) under `config`; returns their total size.
    static func writeSessions(_ count: Int, config: String, cwd: String) throws -> Int {
        let result = String(repeating: "line of tool output with the needle word in it\n", count: 21_000)
        for index in 0..<count {
            var builder = CLITranscriptBuilder(configDirectory: config, cwd: cwd)
            builder.user(.string("prompt \(index): run the tool"), seconds: index * 10)
            builder.assistant(
                [["type": "tool_use", "id": "toolu_1", "name": "Bash", "input": ["command": "cat out.txt"]]],
                id: "msg_\(index)", seconds: index * 10 + 1)
            builder.user(
                [["type": "tool_result", "tool_use_id": "toolu_1", "content": .string(result)]],
                seconds: index * 10 + 2)
            try builder.write()
        }
        return count * result.utf8.count
    }

    /// The same commands over 12 and over 48 such sessions: the 36 more sessions (about 36 MB)
    /// add almost nothing to the peak (holding every session, as these commands did, added more
    /// than the sessions' size).
    @Test func commandsThatReadEverySessionHoldAFewAtATime() async throws {
        let folder = try TemporaryFolder("tool-memory")
        defer { folder.cleanup() }
        let few = folder.path + "/few", many = folder.path + "/many"
        let fewBytes = try Self.writeSessions(12, config: few, cwd: folder.path + "/project")
        let manyBytes = try Self.writeSessions(48, config: many, cwd: folder.path + "/project")
        let cache = folder.path + "/cache"
        for arguments in [
            ["stats", "--json"], ["list", "--json", "--no-cache"], ["search", "needle", "--limit", "5"],
            ["search", "needle"],
        ] {
            let small = try await Self.peak(arguments + ["--config-dir", few], cache: cache)
            let large = try await Self.peak(arguments + ["--config-dir", many], cache: cache)
            #expect(small.status == 0 && large.status == 0, "\(arguments)")
            let added = large.bytes - small.bytes
            #expect(
                added < (manyBytes - fewBytes) / 4,
                "\(arguments): \(small.bytes / 1_048_576) MiB for 12 sessions, \(large.bytes / 1_048_576) MiB for 48")
        }
    }
}
