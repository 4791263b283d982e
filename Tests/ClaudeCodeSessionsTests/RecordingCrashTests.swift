import ClaudeCode
import ClaudeCodeTesting
import Foundation
import Synchronization
import Testing

@testable import ClaudeCodeSessions

enum RecordingCrashClient {
    /// `RecordingCrashClient`, built by this package (the test target depends on it).
    static var path: String {
        get throws { try CLITestEnvironment.locateBuiltExecutable(named: "RecordingCrashClient") }
    }

    static var strace: String? {
        ["/usr/bin/strace", "/bin/strace"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// Delivered means saved: a `SessionPersistentClient` in a child process is killed with SIGKILL
/// right after it printed a message it received (or a prompt whose `query()` returned), and the
/// session is then listed and loaded here.
@Suite("SessionPersistentClient under kill -9", .serialized, .timeLimit(.minutes(10)))
struct RecordingCrashTests {
    enum KillPoint: CaseIterable { case afterDelivery, firstMessage, duringDisconnect }

    /// Runs `rounds` conversations, each a new session, killing each at a random point.
    func killRounds(_ rounds: Int, slowFsync: Bool, seed: UInt64) async throws {
        let folder = TemporaryFolder()
        let directory = folder.sub("sessions")
        let store = FileRecordStore(directory: directory)
        var generator = SeededGenerator(seed: seed)
        var checkedMessages = 0
        var checkedPrompts = 0
        var sessionsFound = 0
        for round in 0..<rounds {
            let session = "c0ffee00-0000-4000-8000-\(String(format: "%012d", round))"
            let turns = Int.random(in: 1...3, using: &generator)
            let frames = Int.random(in: 1...40, using: &generator)
            var arguments = [
                "--dir", directory, "--session", session, "--turns", "\(turns)", "--frames", "\(frames)",
                "--text-bytes", "\(Int.random(in: 100...3000, using: &generator))",
            ]
            var executable = try RecordingCrashClient.path
            if slowFsync, let strace = RecordingCrashClient.strace {
                // A slow disk: every fsync and fdatasync of the client takes 400 ms longer.
                arguments =
                    [
                        "-f", "-qq", "-o", "/dev/null", "-e", "trace=fsync,fdatasync",
                        "-e", "inject=fsync,fdatasync:delay_enter=400000", executable,
                    ] + arguments
                executable = strace
            }
            let child = try PipedChildProcess(executable, arguments)
            child.read(until: { $0.contains { $0.hasPrefix("pid ") } }, timeout: .seconds(30))
            let pid = try #require(child.lines.first { $0.hasPrefix("pid ") }.flatMap { pid_t($0.dropFirst(4)) })
            let point = KillPoint.allCases.randomElement(using: &generator)!
            let total = turns * (frames + 2)
            switch point {
            case .firstMessage:
                child.read(until: { $0.contains { $0.hasPrefix("msg ") } })
            case .afterDelivery:
                let target = Int.random(in: 1...total, using: &generator)
                child.read(until: { $0.filter { $0.hasPrefix("msg ") }.count >= target })
            case .duringDisconnect:
                child.read(until: { $0.contains("disconnecting") })
                // Somewhere in disconnect(): stopping the CLI, the checkpoint, the final fold.
                child.read(until: { _ in false }, timeout: .milliseconds(Int.random(in: 0...30, using: &generator)))
            }
            _ = Glibc.kill(pid, SIGKILL)
            child.wait()
            #expect(!child.lines.contains { $0.hasPrefix("error") }, "round \(round): \(child.lines)")
            let printedMessages = child.lines.filter { $0.hasPrefix("msg ") }.map { String($0.dropFirst(4)) }
            let printedPrompts = child.lines.filter { $0.hasPrefix("prompt ") }.map { String($0.dropFirst(7)) }

            // A new process (this one) lists and loads the session.
            let id = try SessionID(session)
            let listed = try await store.list().compactMap(\.summary).contains { $0.sessionID == id }
            guard listed else {
                // Only possible before the CLI confirmed the session: nothing was delivered.
                #expect(printedMessages.isEmpty, "round \(round) (\(point)): session missing after \(printedMessages)")
                continue
            }
            sessionsFound += 1
            let data = try await store.load(id)
            let received = data.conversationHistory.filter { $0.direction == .received }.compactMap {
                mark(of: $0.rawJSON)
            }
            // Everything printed is there, in order, without duplicates.
            #expect(Set(received).count == received.count, "round \(round): duplicates")
            #expect(
                Array(received.prefix(printedMessages.count)) == printedMessages,
                "round \(round) (\(point)): delivered messages missing or out of order")
            let sentPrompts = data.conversationHistory.filter { $0.direction == .sent && $0.type == "user" }.map {
                String(decoding: $0.rawJSON, as: UTF8.self)
            }
            for prompt in printedPrompts {
                #expect(sentPrompts.contains { $0.contains(prompt) }, "round \(round): prompt \(prompt) missing")
            }
            #expect(sentPrompts.count == Set(sentPrompts).count)
            checkedMessages += printedMessages.count
            checkedPrompts += printedPrompts.count
        }
        print(
            "recording crash test (slow fsync: \(slowFsync)): \(rounds) kills, \(sessionsFound) sessions, "
                + "\(checkedMessages) delivered messages and \(checkedPrompts) prompts checked")
    }

    func mark(of raw: [UInt8]) -> String? {
        let text = String(decoding: raw, as: UTF8.self)
        guard let range = text.range(of: "\"mark\":\"") else { return nil }
        let rest = text[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }

    @Test("kill -9 right after a delivery, at the first message, during disconnect: everything delivered is saved")
    func killedClientKeepsEverythingDelivered() async throws {
        try await killRounds(30, slowFsync: false, seed: 0x0C11_E700)
    }

    @Test(
        "the same with every fsync 400 ms slower (strace fault injection)",
        .enabled(if: RecordingCrashClient.strace != nil, "strace is needed to slow fsync down"))
    func killedClientWithSlowDisk() async throws {
        try await killRounds(12, slowFsync: true, seed: 0x0C11_E701)
    }
}
