import ClaudeCode
import ClaudeCodeTesting
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The real CLI 2.1.331 in `-p` mode against FakeMessagesAPI, in a throwaway CLITestEnvironment.
///
/// Fails (does not skip) when the CLI is missing: run `scripts/setup/install-claude-cli.sh`.
@Suite("Real CLI against FakeMessagesAPI", .serialized, .timeLimit(.minutes(2)))
struct FakeAPISmokeTests {

    @Test("claude -p hello --output-format stream-json --verbose: init, echo, result, transcript")
    func printModeHello() async throws {
        let cli = try CLITestEnvironment.locateRealCLI()
        let api = FakeMessagesAPI()
        try await api.start()
        let sandbox = try CLITestEnvironment(baseURL: api.baseURL)
        defer { sandbox.cleanup() }

        let run: ProcessResult
        do {
            run = try await runProcess(
                cli, ["-p", "hello", "--output-format", "stream-json", "--verbose"],
                environment: sandbox.environment, directory: sandbox.workDirectory, timeout: .seconds(60))
        } catch {
            await api.stop()
            throw error
        }
        let apiRequests = await api.messageRequests
        await api.stop()

        #expect(run.exitCode == 0, "stderr: \(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        try #require(
            lines.count == 3, "expected 3 stdout lines, got \(lines.count):\n\(run.stdout)\nstderr: \(run.stderr)")
        let frames = try lines.map { try JSONValue.parse($0) }

        #expect(frames[0]["type"] == "system")
        #expect(frames[0]["subtype"] == "init")
        #expect(frames[0]["cwd"]?.stringValue == sandbox.workDirectory.path)
        let sessionID = try #require(frames[0]["session_id"]?.stringValue)

        #expect(frames[1]["type"] == "assistant")
        let text = try #require(frames[1]["message"]?["content"]?[0]?["text"]?.stringValue)
        #expect(text.hasPrefix("echo: hello | user_turns=1 | messages="), "got \(text)")

        #expect(frames[2]["type"] == "result")
        #expect(frames[2]["subtype"] == "success")
        #expect(frames[2]["is_error"] == false)
        #expect(frames[2]["result"]?.stringValue == text)
        #expect(frames[2]["session_id"]?.stringValue == sessionID)

        // The CLI made exactly one model call, tagged with the same session.
        #expect(apiRequests.count == 1)
        #expect(apiRequests.first?.sessionID == sessionID)
        #expect(apiRequests.first?.isStreaming == true)
        #expect(apiRequests.first?.headers["x-api-key"] == "<redacted>")

        let transcript = sandbox.transcriptURL(sessionID: sessionID)
        #expect(
            FileManager.default.fileExists(atPath: transcript.path),
            "no transcript at \(transcript.path); projects: \(projectsListing(sandbox))")
    }

    // MARK: Helpers

    private func projectsListing(_ sandbox: CLITestEnvironment) -> [String] {
        let projects = sandbox.transcriptsFolder.deletingLastPathComponent()
        return (FileManager.default.enumerator(atPath: projects.path)?.allObjects as? [String]) ?? []
    }
}

private struct ProcessResult: Sendable {
    var exitCode: Int32
    var stdout: String
    var stderr: String
}

/// Runs a process to completion with stdin at /dev/null, collecting stdout and stderr.
///
/// The wait is bounded: past `timeout` the process is killed (SIGKILL) and the call throws.
private func runProcess(
    _ executable: String, _ arguments: [String], environment: [String: String], directory: URL,
    timeout: Duration
) async throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = environment
    process.currentDirectoryURL = directory
    let stdout = Pipe()
    let stderr = Pipe()
    process.standardOutput = stdout
    process.standardError = stderr
    process.standardInput = FileHandle.nullDevice

    let exited = AsyncStream<Int32>.makeStream()
    process.terminationHandler = { finished in
        exited.continuation.yield(finished.terminationStatus)
        exited.continuation.finish()
    }
    try process.run()
    let pid = process.processIdentifier

    // Drain both pipes on their own threads so a chatty child never blocks on a full pipe.
    async let out = readToEnd(stdout.fileHandleForReading)
    async let err = readToEnd(stderr.fileHandleForReading)

    let status: Int32? = await withTaskGroup(of: Int32?.self) { group in
        group.addTask {
            for await status in exited.stream { return status }
            return nil
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
    guard let status else {
        kill(pid, SIGKILL)
        _ = await (out, err)
        throw ProcessTimeout(description: "\(executable) did not exit within \(timeout); killed it")
    }
    let (outData, errData) = await (out, err)
    return ProcessResult(
        exitCode: status, stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self))
}

private struct ProcessTimeout: Error, CustomStringConvertible {
    var description: String
}

private func readToEnd(_ handle: FileHandle) async -> Data {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(returning: handle.readDataToEndOfFile())
        }
    }
}
