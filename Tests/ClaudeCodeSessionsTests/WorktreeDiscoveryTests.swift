import ClaudeCodeTesting
import Foundation
import Testing

@testable import ClaudeCodeSessions

/// Finding a repository's git worktrees (the sessions of every worktree of a project) must not
/// depend on the shared blocking queue having a free thread: under load, a reader job queued
/// there could wait past git's time limit, and the worktrees' sessions silently vanished.
@Suite("Git worktree discovery")
struct WorktreeDiscoveryTests {
    @Test func worktreesAreFoundWhileTheBlockingQueueIsBusy() async throws {
        let root = FileManager.default.temporaryDirectory.path + "/worktrees-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let repository = root + "/repo"
        let worktree = root + "/repo-wt"
        try FileManager.default.createDirectory(atPath: repository, withIntermediateDirectories: true)
        let environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": root,
            "GIT_CONFIG_NOSYSTEM": "1",
        ]
        for arguments in [
            ["init", "-q", "-b", "main"],
            ["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "init"],
            ["worktree", "add", "-q", worktree, "-b", "feature"],
        ] {
            let result = try await ChildProcess.run(
                "/usr/bin/env", ["git"] + arguments, environment: environment, currentDirectory: repository)
            try #require(result.status == 0, "git \(arguments): \(result.standardErrorText)")
        }

        // Every thread the shared queue would run a job on is held until the lookup is done.
        let release = DispatchSemaphore(value: 0)
        let holders = 4 * BlockingIO.processorCount
        for _ in 0..<holders { BlockingIO.submit { release.wait() } }
        defer { for _ in 0..<holders { release.signal() } }

        let paths = ProjectDirectories.worktreePaths(of: repository, environment: environment)
        #expect(Set(paths.map { URL(fileURLWithPath: $0).lastPathComponent }) == ["repo", "repo-wt"])
    }
}
