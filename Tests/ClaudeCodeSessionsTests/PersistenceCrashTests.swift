import ClaudeCode
import ClaudeCodeTesting
import Foundation
import Testing

@testable import ClaudeCodeSessions

/// A child process with its standard output on a pipe (the crash writers).

enum CrashWriter {
    /// `session-crash-writer`, built next to the test bundle (the test target depends on it).
    static var path: String {
        if let override = ProcessInfo.processInfo.environment["SESSION_CRASH_WRITER_PATH"] { return override }
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
        // On Linux the runner is <bin>/<package>PackageTests.xctest; on macOS it sits inside a bundle.
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("session-crash-writer").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("session-crash-writer").path
    }
}

/// The (writer tag, index) pairs of a session's messages, from the raw frames.
func writerMarks(_ data: SessionData) throws -> [(String, Int)] {
    try data.conversationHistory.map { message in
        #expect(message.rawKind == .json)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(message.rawJSON)) as? [String: Any])
        return (try #require(object["writer"] as? String), try #require(object["n"] as? Int))
    }
}

@Suite("Persistence under crashes and concurrent processes", .serialized, .timeLimit(.minutes(10)))
struct PersistenceCrashTests {
    /// Kills the writer at random points and checks the session after each kill.
    func killRepeatedly(
        kills: Int, policy: String, seed: UInt64, preload: Int = 0,
        compactionKillDelay: ClosedRange<UInt32> = 0...40_000
    ) async throws {
        let folder = TemporaryFolder()
        let directory = folder.sub("sessions")
        let id = try SessionID("crash-\(policy)")
        let store = FileRecordStore(directory: directory)
        var generator = SeededGenerator(seed: seed)
        var present = 0  // messages 0..<present are in the session
        if preload > 0 {
            // A large session first, so the folds the kills land in copy tens of megabytes.
            let child = try PipedChildProcess(
                CrashWriter.path,
                [
                    "--dir", directory, "--session", id.rawValue, "--count", "\(preload)", "--policy", "never",
                    "--turn", "50", "--text-bytes", "1200",
                ])
            // Drain its output while it runs: it prints a line per message, more than a pipe holds.
            child.read(until: { $0.last == "done" }, timeout: .seconds(600))
            child.wait()
            #expect(child.lines.last == "done")
            present = preload
        }
        var tornTails = 0
        var alreadyFolded = 0
        var inFlightKept = 0
        var killedDuringCompaction = 0
        var cleanExits = 0
        for round in 0..<kills {
            let turn = Int.random(in: 2...12, using: &generator)
            // Kill after a random number of acknowledged messages, after a random delay, or
            // (every third round) during the compaction that close() performs after the last message.
            let mode = round % 3
            let count = mode == 2 ? Int.random(in: 5...150, using: &generator) : 1_000_000
            let child = try PipedChildProcess(
                CrashWriter.path,
                [
                    "--dir", directory, "--session", id.rawValue, "--start", "\(present)", "--count", "\(count)",
                    "--policy", policy, "--turn", "\(turn)", "--text-bytes",
                    "\(Int.random(in: 200...1200, using: &generator))",
                ])
            switch mode {
            case 0:
                let target = Int.random(in: 0...300, using: &generator)
                child.read(until: { $0.count >= target })
            case 1:
                let delay = Int.random(in: 0...120, using: &generator)
                child.read(until: { _ in false }, timeout: .milliseconds(delay))
            default:
                child.read(until: { $0.count >= count })
                usleep(UInt32.random(in: compactionKillDelay, using: &generator))
            }
            child.kill()
            child.wait()
            let leftovers =
                (try? FileManager.default.contentsOfDirectory(atPath: directory))?.filter { $0.hasPrefix(".") } ?? []
            if leftovers.contains(where: { $0.contains(".json.tmp-") }) { killedDuringCompaction += 1 }
            if child.lines.last == "done" { cleanExits += 1 }
            let acknowledged = child.lines.filter { $0.hasPrefix("w0 ") }.compactMap { Int($0.dropFirst(3)) }
            #expect(!child.lines.contains { $0.hasPrefix("error") }, "round \(round): \(child.lines.last ?? "")")
            let acknowledgedThrough = (acknowledged.last.map { $0 + 1 }) ?? present

            // Every session file loads …
            let loaded: LoadedSession
            do {
                loaded = try await store.loadWithDiagnostics(id)
            } catch SessionStoreError.Code.sessionNotFound where acknowledged.isEmpty && present == 0 {
                continue  // killed before the session was created
            }
            let marks = try writerMarks(loaded.data)
            // … holds messages 0..<n exactly once and in order …
            #expect(marks.map(\.1) == Array(0..<marks.count), "round \(round): order, gaps or duplicates")
            #expect(marks.allSatisfy { $0.0 == "w0" })
            // … with every acknowledged message, and at most the one in flight beyond them.
            #expect(marks.count >= acknowledgedThrough, "round \(round): acknowledged messages lost")
            #expect(marks.count <= acknowledgedThrough + 1, "round \(round): more than the in-flight message")
            #expect(loaded.diagnostics.sequenceGaps == 0)
            if marks.count == acknowledgedThrough + 1 { inFlightKept += 1 }
            if loaded.diagnostics.tornJournalTail { tornTails += 1 }
            if loaded.diagnostics.alreadyFoldedRecords > 0 { alreadyFolded += 1 }
            present = marks.count

            let listing = try await store.list()
            #expect(listing.count == 1)
            #expect(listing.first?.summary?.messageCount == present)
        }
        // A final clean run folds everything; the snapshot is then plain valid JSON.
        let child = try PipedChildProcess(
            CrashWriter.path,
            ["--dir", directory, "--session", id.rawValue, "--start", "\(present)", "--count", "5", "--policy", policy])
        child.wait()
        #expect(child.lines.last == "done")
        let final = try await store.loadWithDiagnostics(id)
        #expect(try writerMarks(final.data).map(\.1) == Array(0..<(present + 5)))
        #expect(final.diagnostics.journalMessageCount == 0)
        let count = try await runPython(
            "import json,sys; print(len(json.load(open(sys.argv[1]))['conversation_history']))",
            directory + "/\(id).json")
        #expect(count == "\(present + 5)")
        print(
            "crash test (\(policy)): \(kills) kills, \(present) messages, torn tails seen \(tornTails), "
                + "killed while writing a snapshot \(killedDuringCompaction), finished before the kill \(cleanExits), "
                + "crashes between snapshot and journal replacement seen \(alreadyFolded), in-flight message kept \(inFlightKept)"
        )
    }

    @Test("kill -9 at 60 random points: every file loads, at most the in-flight message is lost")
    func crashWithDefaultPolicy() async throws {
        try await killRepeatedly(kills: 60, policy: "checkpoint", seed: 0x5EED_0001)
    }

    @Test("kill -9 during folds of a 20,000-message session (about 30 MB): nothing acknowledged is lost")
    func crashDuringLargeFolds() async throws {
        try await killRepeatedly(
            kills: 9, policy: "checkpoint", seed: 0x5EED_0003, preload: 20_000, compactionKillDelay: 0...600_000)
    }

    @Test("with fsync per message, no acknowledged message is lost across 20 kills")
    func crashWithFsyncPerMessage() async throws {
        try await killRepeatedly(kills: 20, policy: "message", seed: 0x5EED_0002)
    }

    @Test("4 processes append to one session and one folder: nothing lost, duplicated or interleaved")
    func concurrentProcesses() async throws {
        let folder = TemporaryFolder()
        let directory = folder.sub("sessions")
        let shared = try SessionID("shared-session")
        let perWriter = 250
        let tags = ["w0", "w1", "w2", "w3"]
        let children = try tags.enumerated().map { index, tag in
            try PipedChildProcess(
                CrashWriter.path,
                [
                    "--dir", directory, "--session", shared.rawValue, "--own-session", "own-\(tag)", "--tag", tag,
                    "--count", "\(perWriter)", "--turn", "\(3 + index * 2)",
                ])
        }
        for child in children {
            let status = child.wait()
            #expect(status == 0)
            #expect(child.lines.last == "done", "\(child.lines.suffix(2))")
        }
        let store = FileRecordStore(directory: directory)
        let loaded = try await store.loadWithDiagnostics(shared)
        #expect(loaded.diagnostics.skippedJournalLines == 0)
        #expect(loaded.diagnostics.sequenceGaps == 0)
        let marks = try writerMarks(loaded.data)
        #expect(marks.count == tags.count * perWriter)
        for tag in tags {
            #expect(marks.filter { $0.0 == tag }.map(\.1) == Array(0..<perWriter), "writer \(tag)")
        }
        var interleavings = 0
        for (previous, next) in zip(marks, marks.dropFirst()) where previous.0 != next.0 { interleavings += 1 }
        #expect(interleavings > 0, "the writers did not actually run concurrently")
        for tag in tags {
            let own = try await store.load(try SessionID("own-\(tag)"))
            #expect(try writerMarks(own).map(\.1) == Array(0..<perWriter))
        }
        let listing = try await store.list()
        #expect(listing.compactMap(\.summary).count == 5)
        #expect(listing.compactMap(\.damagedFile).isEmpty)
        print("concurrency test: \(marks.count) records from \(tags.count) processes, \(interleavings) writer switches")
    }

    @Test("a full disk (file size limit) fails writes, keeps the records and recovers them in order")
    func diskFull() async throws {
        let folder = TemporaryFolder()
        let directory = folder.sub("sessions")
        let child = try PipedChildProcess(
            CrashWriter.path, ["--dir", directory, "--session", "full", "--count", "200", "--fsize-limit", "60000"])
        child.wait()
        #expect(child.lines.last == "done", "\(child.lines)")
        let failedLine = try #require(child.lines.first { $0.hasPrefix("failed ") }).split(separator: " ")
        #expect(Int(failedLine[1])! > 0, "records were kept in memory")
        #expect(Int(failedLine[3])! > 0, "writeFailed events")
        let recoveredLine = try #require(child.lines.first { $0.hasPrefix("recovered ") }).split(separator: " ")
        #expect(recoveredLine[1] == "0")
        #expect(Int(recoveredLine[4])! > 0, "writeRecovered events")
        let store = FileRecordStore(directory: directory)
        let data = try await store.load(try SessionID("full"))
        #expect(try writerMarks(data).map(\.1) == Array(0..<200))
    }
}

extension PersistenceCrashTests {
    @Test(
        "permission denied (an unprivileged writer): writes fail, records are kept, and recover when fixed",
        .enabled(if: geteuid() == 0, "needs root to drop to another uid"))
    func permissionDenied() async throws {
        // Root ignores permission bits, so the writer runs as uid 65534 in a child process.
        let folder = TemporaryFolder()
        chmod(folder.path, 0o755)
        let directory = folder.sub("sessions")
        mkdir(directory, 0o700)  // owned by root: the child may not enter it
        let child = try PipedChildProcess(
            CrashWriter.path,
            ["--dir", directory, "--session", "denied", "--count", "40", "--mode", "retry", "--as-user", "65534"])
        child.read(until: { $0.contains { $0.hasPrefix("failed ") } }, timeout: .seconds(20))
        let failed = try #require(child.lines.first { $0.hasPrefix("failed ") }).split(separator: " ")
        #expect(failed[1] == "40", "all records kept in memory")
        #expect(failed[5] == "ioFailure" && failed[6] == "13", "EACCES: \(failed)")
        #expect(Int(failed[3])! <= 2, "one writeFailed event per distinct error, not per retry")
        chown(directory, 65534, 65534)  // "fix the permissions"
        child.wait()
        #expect(child.lines.last == "done", "\(child.lines)")
        let recovered = try #require(child.lines.first { $0.hasPrefix("recovered ") }).split(separator: " ")
        #expect(recovered[1] == "0")
        #expect(recovered[4] == "1", "one writeRecovered event")
        let data = try await FileRecordStore(directory: directory).load(try SessionID("denied"))
        #expect(try writerMarks(data).map(\.1) == Array(0..<40))
    }

    @Test(
        "a read-only folder (another uid) loads and lists without a lock and without writing",
        .enabled(if: geteuid() == 0, "needs root to drop to another uid"))
    func readOnlyFolder() async throws {
        let folder = TemporaryFolder()
        chmod(folder.path, 0o755)
        let directory = folder.sub("sessions")
        let store = FileRecordStore(directory: directory)
        let id = try SessionID("readonly")
        let writer = try await store.openSession(id, workingDirectory: "/w")
        for index in 0..<12 {
            try await writer.append(ConversationMessage(direction: .received, rawJSON: Frames.assistant(index)))
        }
        try await writer.checkpoint()  // leaves records in the journal too
        await writer.waitForBackgroundFolds()  // a fold started by the checkpoint replaces files
        chmod(directory, 0o755)
        for name in ["readonly.json", "readonly.journal", "readonly.lock"] { chmod(directory + "/" + name, 0o644) }
        let before = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        let child = try PipedChildProcess(
            CrashWriter.path, ["--dir", directory, "--session", "readonly", "--mode", "load", "--as-user", "12345"])
        child.wait()
        #expect(child.lines == ["loaded 12 listed 1"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == before)
        try await writer.close()
    }
}

extension PersistenceCrashTests {
    @Test(
        "listing and loading as root creates no lock file, so the folder's owner can still write",
        .enabled(if: geteuid() == 0, "needs root to drop to another uid"))
    func rootListingLeavesTheOwnersFolderWritable() async throws {
        let folder = TemporaryFolder()
        chmod(folder.path, 0o755)
        let directory = folder.sub("sessions")
        mkdir(directory, 0o700)
        chown(directory, 65534, 65534)  // the folder's owner: uid 65534
        let first = try PipedChildProcess(
            CrashWriter.path, ["--dir", directory, "--session", "owned", "--count", "3", "--as-user", "65534"])
        first.wait()
        #expect(first.lines.last == "done", "\(first.lines)")
        // A session without a lock file (restored from a backup, written before lock files).
        #expect(unlink(directory + "/owned.lock") == 0)
        let before = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()

        // A backup script run as root lists and loads the folder.
        let store = FileRecordStore(directory: directory)
        #expect(try await store.list().compactMap(\.summary).map(\.messageCount) == [3])
        #expect(try await store.load(try SessionID("owned")).conversationHistory.count == 3)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == before)

        // The owner writes on.
        let second = try PipedChildProcess(
            CrashWriter.path,
            ["--dir", directory, "--session", "owned", "--start", "3", "--count", "2", "--as-user", "65534"])
        second.wait()
        #expect(second.lines.last == "done", "\(second.lines)")
        let data = try await store.load(try SessionID("owned"))
        #expect(try writerMarks(data).map(\.1) == Array(0..<5))
    }
}

/// A small deterministic generator (SplitMix64), so failures can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
