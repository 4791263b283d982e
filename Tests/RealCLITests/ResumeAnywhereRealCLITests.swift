import ClaudeCode
import ClaudeCodeTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// One run of `PersistentSessionRunner`: a `SessionPersistentClient` conversation in a process of its own.
struct RunnerOutput {
    var lines: [JSONValue]
    var text: String
    var exitStatus: Int32

    func events(_ name: String) -> [JSONValue] { lines.filter { $0["event"]?.stringValue == name } }
    var results: [JSONValue] { events("result") }
    var summary: JSONValue? { events("summary").last }
    var error: JSONValue? { events("error").last }
}

enum Runner {
    /// An executable this package builds (the test target depends on the ones it runs).
    static func builtExecutable(_ name: String) throws -> String {
        try CLITestEnvironment.locateBuiltExecutable(named: name)
    }

    /// Runs the helper in `processDirectory` with exactly `environment` (plus the PG* variables
    /// of this process), waiting off the cooperative pool (the suite's time limit bounds it).
    static func run(
        _ arguments: [String], environment: [String: String], processDirectory: URL, executable: String? = nil
    ) async throws -> RunnerOutput {
        var env = environment
        for (name, value) in ProcessInfo.processInfo.environment where name.hasPrefix("PG") { env[name] = value }
        let result = try await ChildProcess.run(
            try executable ?? builtExecutable("PersistentSessionRunner"), arguments, environment: env,
            currentDirectory: processDirectory.path)
        let text = result.standardOutputText
        let lines = text.split(separator: "\n").compactMap { try? JSONValue.parse(Array($0.utf8)) }
        return RunnerOutput(lines: lines, text: text, exitStatus: result.status)
    }
}

/// Where a conversation recorded by one process continues in another: the promise of
/// `SessionPersistentClient`, checked with the real CLI, each side in a process of its own.
@Suite("Resume anywhere with the real CLI", .serialized, .timeLimit(.minutes(6)))
struct ResumeAnywhereRealCLITests {
    /// A place of its own for one scenario: the store, a second (empty) HOME, another process directory.
    struct Places {
        let root: URL
        var freshHome: URL { root.appendingPathComponent("fresh-home") }
        var elsewhere: URL { root.appendingPathComponent("elsewhere") }

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("cc-anywhere-\(UUID().uuidString)")
            for url in [root, root.appendingPathComponent("fresh-home"), root.appendingPathComponent("elsewhere")] {
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            }
        }

        func remove() { try? FileManager.default.removeItem(at: root) }
    }

    static var postgresRequired: Bool { ProcessInfo.processInfo.environment["CLAUDE_SDK_REQUIRE_POSTGRES"] == "1" }
    static var postgresConfigured: Bool { ProcessInfo.processInfo.environment["PGHOST"] != nil }

    enum Backend: String, CaseIterable, CustomTestStringConvertible {
        case files, sqlite, postgres
        var testDescription: String { rawValue }

        func store(_ places: Places) -> String {
            switch self {
            case .files: return "files:" + places.root.appendingPathComponent("records").path
            case .sqlite: return "sqlite:" + places.root.appendingPathComponent("sessions.sqlite").path
            case .postgres:
                return "postgres:claude_anywhere_"
                    + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            }
        }
    }

    /// Records two turns in one process, then resumes in another with a fresh HOME (no `~/.claude`
    /// at all) from another process directory: the CLI gets every earlier turn, runs in the
    /// recorded directory, keeps the id, and the ledger adds up what the fake API reported.
    @Test(arguments: Backend.allCases)
    func aSessionContinuesInAFreshHomeFromAnotherDirectory(_ backend: Backend) async throws {
        if backend == .postgres && !Self.postgresConfigured {
            #expect(!Self.postgresRequired, "CLAUDE_SDK_REQUIRE_POSTGRES=1 but no PG* server is configured")
            return
        }
        try await RealCLIHarness.run { harness in
            let places = try Places()
            defer { places.remove() }
            let store = backend.store(places)
            let recordedDirectory = harness.sandbox.workDirectory.path
            let first = try await Runner.run(
                [
                    "--store", store, "--cli", harness.cliPath, "--cwd", recordedDirectory, "--prompt", "turn one",
                    "--prompt", "turn two",
                ], environment: harness.sandbox.environment, processDirectory: places.elsewhere)
            #expect(first.exitStatus == 0, "\(first.lines)")
            let sessionID = try #require(first.summary?["session_id"]?.stringValue)
            #expect(first.results.count == 2)

            var fresh = harness.sandbox.environment
            fresh["HOME"] = places.freshHome.path
            let second = try await Runner.run(
                ["--store", store, "--cli", harness.cliPath, "--resume", sessionID, "--prompt", "turn three"],
                environment: fresh, processDirectory: places.elsewhere)
            #expect(second.exitStatus == 0, "\(second.lines)")
            let answer = try #require(second.results.first?["text"]?.stringValue)
            // The CLI received both earlier turns.
            #expect(answer.hasPrefix("echo: turn three | user_turns=3"), "\(answer)")
            #expect(second.results.first?["session_id"]?.stringValue == sessionID)
            // It ran in the recorded directory, not in this process's.
            #expect(second.events("init").compactMap { $0["cwd"]?.stringValue } == [recordedDirectory])
            let summary = try #require(second.summary)
            #expect(summary["session_id"]?.stringValue == sessionID)
            #expect(summary["working_directory"]?.stringValue == recordedDirectory)
            #expect(summary["turns"]?.intValue == 3)
            #expect(summary["listed_turns"]?.intValue == 3 || backend != .files)
            #expect(summary["title"]?.stringValue == "turn one" || backend != .files)
            // Nothing of the conversation was left in the fresh HOME.
            let leftovers = FileManager.default.enumerator(atPath: places.freshHome.path)?.allObjects ?? []
            #expect(!leftovers.contains { "\($0)".hasSuffix(sessionID + ".jsonl") })

            // The ledger: the sums of what the fake API reported, across both processes; the cost is
            // the sum of each process's last running total, not of every result's.
            let reported = await harness.api.reportedUsage
            #expect(summary["input_tokens"]?.intValue == reported.reduce(0) { $0 + $1.inputTokens })
            #expect(summary["output_tokens"]?.intValue == reported.reduce(0) { $0 + $1.outputTokens })
            let perProcess =
                (first.results.last?["cost"]?.doubleValue ?? 0) + (second.results.last?["cost"]?.doubleValue ?? 0)
            let ledgerCost = try #require(summary["cost"]?.doubleValue)
            #expect(abs(ledgerCost - perProcess) < 1e-9, "ledger \(ledgerCost), per process \(perProcess)")
            let naive = (first.results + second.results).compactMap { $0["cost"]?.doubleValue }.reduce(0, +)
            #expect(naive > ledgerCost + 1e-9)
        }
    }

    /// Only the CLI's transcript is gone (its 30-day cleanup), in the same HOME: the session resumes
    /// from the store's copy.
    @Test func aSessionContinuesAfterTheCLIsTranscriptIsDeleted() async throws {
        try await RealCLIHarness.run { harness in
            let places = try Places()
            defer { places.remove() }
            let store = Backend.files.store(places)
            let first = try await Runner.run(
                [
                    "--store", store, "--cli", harness.cliPath, "--cwd", harness.sandbox.workDirectory.path,
                    "--prompt", "turn one", "--prompt", "turn two",
                ], environment: harness.sandbox.environment, processDirectory: places.elsewhere)
            let sessionID = try #require(first.summary?["session_id"]?.stringValue)
            let transcript = harness.sandbox.transcriptURL(sessionID: sessionID)
            #expect(FileManager.default.fileExists(atPath: transcript.path))
            try FileManager.default.removeItem(at: transcript)

            let second = try await Runner.run(
                ["--store", store, "--cli", harness.cliPath, "--resume", sessionID, "--prompt", "turn three"],
                environment: harness.sandbox.environment, processDirectory: places.elsewhere)
            let answer = try #require(second.results.first?["text"]?.stringValue, "\(second.lines)")
            #expect(answer.hasPrefix("echo: turn three | user_turns=3"), "\(answer)")
            #expect(second.summary?["turns"]?.intValue == 3)

            // Without the copy, the same resume fails: the CLI has nothing to resume from (resumed from
            // the store, the CLI wrote to a temporary config folder, not back to this HOME).
            #expect(!FileManager.default.fileExists(atPath: transcript.path))
            let third = try await Runner.run(
                [
                    "--store", store, "--cli", harness.cliPath, "--resume", sessionID, "--transcripts", "off",
                    "--prompt", "turn four",
                ], environment: harness.sandbox.environment, processDirectory: places.elsewhere)
            #expect(third.exitStatus != 0)
            #expect(
                third.results.isEmpty || third.results.first?["text"]?.stringValue?.contains("user_turns=4") != true)
        }
    }

    /// A session recorded in a directory that no longer exists: a typed error that names it, and
    /// no CLI started; with `cwd` set, it continues there.
    @Test func aRecordedDirectoryThatIsGoneIsATypedError() async throws {
        try await RealCLIHarness.run { harness in
            let places = try Places()
            defer { places.remove() }
            let store = Backend.files.store(places)
            let gone = places.root.appendingPathComponent("project-that-goes")
            try FileManager.default.createDirectory(at: gone, withIntermediateDirectories: true)
            let first = try await Runner.run(
                ["--store", store, "--cli", harness.cliPath, "--cwd", gone.path, "--prompt", "turn one"],
                environment: harness.sandbox.environment, processDirectory: places.elsewhere)
            let sessionID = try #require(first.summary?["session_id"]?.stringValue)
            try FileManager.default.removeItem(at: gone)
            let requestsBefore = await harness.api.messageRequests.count

            let second = try await Runner.run(
                ["--store", store, "--cli", harness.cliPath, "--resume", sessionID, "--prompt", "turn two"],
                environment: harness.sandbox.environment, processDirectory: places.elsewhere)
            #expect(second.exitStatus == 3)
            #expect(second.error?["code"]?.stringValue == "workingDirectoryNotFound")
            let message = try #require(second.error?["message"]?.stringValue)
            #expect(message.contains(gone.path))
            #expect(message.contains("options.cwd"))
            #expect(await harness.api.messageRequests.count == requestsBefore)

            // Told where to continue, it does (from the store: the CLI's file is under the old folder).
            let third = try await Runner.run(
                [
                    "--store", store, "--cli", harness.cliPath, "--resume", sessionID, "--cwd", places.elsewhere.path,
                    "--prompt", "turn two",
                ], environment: harness.sandbox.environment, processDirectory: places.elsewhere)
            #expect(third.exitStatus == 0, "\(third.lines)")
            #expect(third.events("init").compactMap { $0["cwd"]?.stringValue } == [places.elsewhere.path])
        }
    }

    /// `HOME=<temp> simple-persist`: the records (and the transcript copy) land under
    /// `<temp>/.claude_sdk`, not in the password database's home.
    @Test func simplePersistKeepsItsSessionsUnderHOME() async throws {
        let places = try Places()
        defer { places.remove() }
        let cli = try CLITestEnvironment.locateRealCLI()
        let environment = [
            "HOME": places.freshHome.path, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "CLAUDE_CODE_CLI_PATH": cli,
        ]
        let run = try await Runner.run(
            [], environment: environment, processDirectory: places.elsewhere,
            executable: try Runner.builtExecutable("simple-persist"))
        #expect(run.exitStatus == 0, "\(run.text)")
        let records = places.freshHome.appendingPathComponent(".claude_sdk/sessions")
        let files = try FileManager.default.contentsOfDirectory(atPath: records.path).filter { $0.hasSuffix(".json") }
        #expect(files.count == 1)
        let transcripts = places.freshHome.appendingPathComponent(".claude_sdk/transcripts")
        let copied = FileManager.default.enumerator(atPath: transcripts.path)?.allObjects.map { "\($0)" } ?? []
        #expect(copied.contains { $0.hasSuffix(".jsonl") }, "\(copied)")
        #expect(run.text.contains("Records: \(records.path)"))
    }

    /// A process killed with SIGKILL between turns, then a resume in another process: the ledger
    /// holds every completed turn once, and its cost is the sum of each process's own total.
    @Test func theLedgerSurvivesAKillBetweenTurns() async throws {
        try await RealCLIHarness.run { harness in
            let places = try Places()
            defer { places.remove() }
            let store = Backend.files.store(places)
            let killed = try await Runner.run(
                [
                    "--store", store, "--cli", harness.cliPath, "--cwd", harness.sandbox.workDirectory.path,
                    "--kill-after-results", "2", "--prompt", "turn one", "--prompt", "turn two", "--prompt",
                    "never sent",
                ], environment: harness.sandbox.environment, processDirectory: places.elsewhere)
            #expect(killed.exitStatus != 0)
            #expect(killed.results.count == 2)
            let sessionID = try #require(killed.results.last?["session_id"]?.stringValue)

            let resumed = try await Runner.run(
                ["--store", store, "--cli", harness.cliPath, "--resume", sessionID, "--prompt", "turn three"],
                environment: harness.sandbox.environment, processDirectory: places.elsewhere)
            #expect(resumed.exitStatus == 0, "\(resumed.lines)")
            #expect(resumed.results.first?["text"]?.stringValue?.hasPrefix("echo: turn three | user_turns=3") == true)
            let summary = try #require(resumed.summary)
            #expect(summary["turns"]?.intValue == 3)
            let expected =
                (killed.results.last?["cost"]?.doubleValue ?? 0) + (resumed.results.last?["cost"]?.doubleValue ?? 0)
            #expect(abs((summary["cost"]?.doubleValue ?? 0) - expected) < 1e-9)
            #expect(summary["listed_turns"]?.intValue == 3)
        }
    }
}
