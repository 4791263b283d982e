import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A child process started with `posix_spawn`, its standard output on a pipe read line by line:
/// for tests that kill a helper process at a moment its output announces (crash and orphan tests).
///
/// Not `Sendable`: one test drives it. Reading polls with a deadline, so a silent child never
/// hangs the test.
public final class PipedChildProcess {
    /// The child's pid.
    public let pid: pid_t
    private let output: Int32
    private var buffer: [UInt8] = []
    /// The complete lines read so far.
    public private(set) var lines: [String] = []
    /// Whether the child's standard output has ended.
    public private(set) var finishedOutput = false

    /// Starts `path` with `arguments`, with `environment` (this process's when `nil`).
    /// - Throws: `POSIXError` when the pipe or the spawn fails.
    public init(_ path: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw POSIXError(.EMFILE) }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map { environment in
            environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        }
        defer { for pointer in argv + (envp ?? []) { free(pointer) } }
        var pid: pid_t = 0
        let result =
            if let envp { posix_spawn(&pid, path, &actions, nil, argv, envp) } else {
                posix_spawn(&pid, path, &actions, nil, argv, environ)
            }
        close(fds[1])
        guard result == 0 else {
            close(fds[0])
            throw POSIXError(POSIXErrorCode(rawValue: result) ?? .ENOENT)
        }
        self.pid = pid
        self.output = fds[0]
    }

    deinit { close(output) }

    /// Reads output lines until `predicate` holds for the lines so far, output ends, or `timeout` passes.
    public func read(until predicate: ([String]) -> Bool, timeout: Duration = .seconds(60)) {
        let deadline = ContinuousClock.now + timeout
        while !finishedOutput && !predicate(lines) && ContinuousClock.now < deadline {
            var descriptor = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 50) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { systemRead(output, $0.baseAddress!, $0.count) }
            if count <= 0 {
                finishedOutput = true
                break
            }
            buffer.append(contentsOf: chunk[0..<count])
            while let newline = buffer.firstIndex(of: 0x0A) {
                lines.append(String(decoding: buffer[..<newline], as: UTF8.self))
                buffer.removeSubrange(...newline)
            }
        }
    }

    /// The number after the first line that starts with `prefix`.
    public func value(after prefix: String) -> pid_t? {
        lines.first { $0.hasPrefix(prefix) }.flatMap { pid_t($0.dropFirst(prefix.count)) }
    }

    /// Sends SIGKILL.
    public func kill() { _ = systemKill(pid, SIGKILL) }

    /// Waits for exit, then reads what output is left; returns the raw wait status.
    @discardableResult
    public func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        read(until: { _ in false }, timeout: .seconds(5))
        return status
    }
}

private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}

private func systemKill(_ pid: pid_t, _ signal: Int32) -> Int32 {
    kill(pid, signal)
}
