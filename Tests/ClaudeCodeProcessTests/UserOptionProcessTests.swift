import ClaudeCode
import ClaudeCodeTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// `ClaudeCodeOptions.user` (the Python SDK's `user`): the CLI runs with another user's uid, primary
/// group and supplementary groups, and a process that may not switch users gets a typed error.
@Suite("options.user runs the CLI as another user", .timeLimit(.minutes(2)))
struct UserOptionProcessTests {
    #if os(Linux)
        /// Reads `Uid:`, `Gid:` and `Groups:` of a running process from `/proc/<pid>/status`.
        static func identity(of pid: pid_t) throws -> (uids: [UInt32], gids: [UInt32], groups: [UInt32]) {
            let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
            func field(_ name: String) -> [UInt32] {
                let line = status.split(separator: "\n").first { $0.hasPrefix("\(name):") } ?? ""
                return line.dropFirst(name.count + 1).split(whereSeparator: \.isWhitespace).compactMap { UInt32($0) }
            }
            return (field("Uid"), field("Gid"), field("Groups"))
        }

        @Test(
            "user: nobody: the CLI's real, effective, saved uid and gid, and its groups, are nobody's",
            .enabled(if: geteuid() == 0, "switching users needs root"))
        func cliRunsAsNobody() async throws {
            try await ProcessHarness.run { harness in
                var options = harness.options("echo")
                options.user = "nobody"
                // The sandbox is private to this (root) user; nobody may enter /.
                options.cwd = "/"
                let nobody = try CLIUser.resolve("nobody")
                #expect(nobody.uid != 0)
                let transport = try SubprocessTransport(options: options)
                #expect(transport.configuration.user == nobody)
                try await transport.start { _ in }
                let pid = try #require(transport.processID)
                // On Linux the CLI starts as util-linux's setpriv, which drops to the user and then
                // execs the CLI in the same process: wait (bounded) for the exec.
                let deadline = ContinuousClock.now + .seconds(10)
                while ContinuousClock.now < deadline,
                    (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.hasPrefix("setpriv") != false
                {
                    try await Task.sleep(for: .milliseconds(5))
                }
                let identity = try Self.identity(of: pid)
                await transport.close()
                #expect(identity.uids == [nobody.uid, nobody.uid, nobody.uid, nobody.uid])
                #expect(identity.gids == [nobody.gid, nobody.gid, nobody.gid, nobody.gid])
                #expect(Set(identity.groups) == Set(nobody.groups))
                #expect(!identity.groups.contains(0), "root's group leaked into the CLI")
            }
        }

        @Test("a numeric uid is looked up like a name")
        func numericUID() throws {
            let byName = try CLIUser.resolve("nobody")
            #expect(try CLIUser.resolve(String(byName.uid)) == byName)
        }
    #endif

    @Test("another user without root: userNotPermitted; an unknown user: invalidOptions")
    func notPermittedAndUnknown() throws {
        let error = #expect(throws: ClaudeCodeError.self) { try CLIUser.resolve("root", effectiveUID: 4242) }
        #expect(error?.code == .userNotPermitted)
        #expect(error?.message.contains("only root may switch users") == true)
        // A process may always "switch" to its own user.
        #expect(throws: Never.self) { try CLIUser.resolve("root", effectiveUID: 0) }
        let unknown = #expect(throws: ClaudeCodeError.self) { try CLIUser.resolve("no-such-user-cc-sdk") }
        #expect(unknown?.code == .invalidOptions)
        var options = ClaudeCodeOptions()
        options.cliPath = "/bin/true"
        options.user = "no-such-user-cc-sdk"
        let fromTransport = #expect(throws: ClaudeCodeError.self) { try SubprocessTransport(options: options) }
        #expect(fromTransport?.code == .invalidOptions)
    }
}
