import Foundation
import Logging
import Subprocess
import Synchronization

#if canImport(System)
    import System
#else
    import SystemPackage
#endif

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs the Claude Code CLI as a child process with swift-subprocess.
///
/// - The child runs in its own session and process group, so shutdown reaches the tools
///   and MCP servers it starts, and a terminal's Ctrl-C does not.
/// - Exactly one task writes to stdin; a short write is an error.
/// - stdout is split into lines by `LineFramer` (on `\n` only, with a size limit).
/// - stderr is always drained into a 64 KiB tail, the ``ClaudeCodeOptions/stderr`` callback and the logger.
/// - `SIGPIPE` is ignored process-wide on first use, so a write racing the CLI's exit fails
///   with an error instead of killing the host.
/// - The CLI does not outlive the host: each CLI gets a watchdog process that, if the host dies
///   (SIGKILL, a crash, a return from `main` while connected), sends SIGTERM to the CLI's process
///   tree and session (its process group where there is no `/proc`) and SIGKILL one second later. It is stood down and reaped once the CLI has exited, so
///   ``close()`` leaves no process behind. See `OrphanWatchdog` for the design and its limits.
public final class SubprocessTransport: ClaudeTransport {
    public struct Configuration: Sendable {
        public var executable: String
        public var arguments: [String]
        public var environment: [String: String]
        public var workingDirectory: String?
        public var maxLineLength: Int
        public var shutdownGracePeriod: Duration
        public var terminateGracePeriod: Duration
        public var stderrHandler: (@Sendable (String) -> Void)?
        /// The user the CLI runs as (``ClaudeCodeOptions/user``, resolved); `nil` runs it as this process's user.
        public var user: CLIUser?

        public init(
            executable: String, arguments: [String], environment: [String: String], workingDirectory: String? = nil,
            maxLineLength: Int = 64 * 1024 * 1024, shutdownGracePeriod: Duration = .seconds(5),
            terminateGracePeriod: Duration = .seconds(5), stderrHandler: (@Sendable (String) -> Void)? = nil,
            user: CLIUser? = nil
        ) {
            self.user = user
            self.executable = executable
            self.arguments = arguments
            self.environment = environment
            self.workingDirectory = workingDirectory
            self.maxLineLength = maxLineLength
            self.shutdownGracePeriod = shutdownGracePeriod
            self.terminateGracePeriod = terminateGracePeriod
            self.stderrHandler = stderrHandler
        }
    }

    private struct WriteRequest: Sendable {
        var bytes: [UInt8]
        var done: CheckedContinuation<Void, any Error>?
    }

    private struct State {
        var started = false
        var pid: pid_t?
        var exited = false
        var writeError: ClaudeCodeError?
        var host: Task<Void, Never>?
        var receive: (@Sendable (TransportEvent) -> Void)?
    }

    public let configuration: Configuration
    private let outbound: AsyncStream<WriteRequest>
    private let outboundContinuation: AsyncStream<WriteRequest>.Continuation
    private let terminateRequests: AsyncStream<Void>
    private let terminateContinuation: AsyncStream<Void>.Continuation
    private let exitSignal: AsyncStream<Void>
    private let exitContinuation: AsyncStream<Void>.Continuation
    private let state = Mutex(State())
    private let tail = StderrTail()
    private let logger: Logger
    /// The private `--mcp-config` file, removed when the CLI has exited (or never started).
    private let mcpConfigFile: PrivateTemporaryFile?

    public convenience init(configuration: Configuration, logger: Logger = Logger(label: "ClaudeCode.transport")) {
        self.init(configuration: configuration, mcpConfigFile: nil, logger: logger)
    }

    private init(configuration: Configuration, mcpConfigFile: PrivateTemporaryFile?, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.mcpConfigFile = mcpConfigFile
        (outbound, outboundContinuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
        (terminateRequests, terminateContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        (exitSignal, exitContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// The transport ``ClaudeSDKClient`` uses by default: the CLI found for `options`, run with
    /// `options.commandLineArguments()` and `options.processEnvironment()`.
    ///
    /// Use it to wrap or observe the default transport in a ``TransportFactory``.
    ///
    /// ``ClaudeCodeOptions/mcpServers`` reach the CLI as `--mcp-config <file>`: a file readable only
    /// by this user (mode 0600, in a new 0700 folder under the temporary directory), so the servers'
    /// environment values and headers never appear in the CLI's command line (`ps`,
    /// `/proc/<pid>/cmdline`). The file is removed when the CLI exits, when it cannot be started,
    /// and when the transport is released.
    /// - Throws: ``ClaudeCodeError`` with ``ClaudeCodeError/Code/cliNotFound``,
    ///   ``ClaudeCodeError/Code/workingDirectoryNotFound`` (``ClaudeCodeOptions/cwd`` is not a folder),
    ///   ``ClaudeCodeError/Code/invalidOptions`` (a NUL byte in an argument, an invalid environment variable,
    ///   an unknown ``ClaudeCodeOptions/user``), ``ClaudeCodeError/Code/userNotPermitted`` (``ClaudeCodeOptions/user``
    ///   is another user and this process is not root) or ``ClaudeCodeError/Code/launchFailed`` (the MCP
    ///   configuration file cannot be written).
    public convenience init(options: ClaudeCodeOptions, logger: Logger = Logger(label: "ClaudeCode.transport"))
        throws(ClaudeCodeError)
    {
        let executable = try CLILocator.locate(explicitPath: options.cliPath)
        try options.validate()
        var user: CLIUser?
        if let name = options.user { user = try CLIUser.resolve(name) }
        if let cwd = options.cwd { try Self.checkWorkingDirectory(cwd) }
        if try options.commandLineArguments().contains(where: { $0.utf8.contains(0) }) {
            throw ClaudeCodeError(.invalidOptions, "an option value contains a NUL byte, which no argument can carry")
        }
        let environment = options.processEnvironment()
        for (key, value) in environment
        where key.isEmpty || key.contains("=") || key.utf8.contains(0) || value.utf8.contains(0) {
            // Name the variable, never its value: values may be secrets.
            throw ClaudeCodeError(
                .invalidOptions,
                "environment variable \(key.utf8.contains(0) ? "(unprintable)" : key) has an invalid name or a NUL byte in its value"
            )
        }
        var mcpConfigFile: PrivateTemporaryFile?
        if !options.mcpServers.isEmpty {
            mcpConfigFile = try PrivateTemporaryFile(
                prefix: "claude-mcp-", name: "mcp-config.json", contents: options.mcpConfigJSON.serialized())
            // Still private, but to the user the CLI runs as.
            if let user, user.uid != UInt32(geteuid()) { mcpConfigFile?.giveTo(uid: user.uid, gid: user.gid) }
        }
        let arguments: [String]
        do {
            arguments = try options.commandLineArguments(mcpConfigPath: mcpConfigFile?.path)
        } catch {
            mcpConfigFile?.remove()
            throw error
        }
        self.init(
            configuration: .init(
                executable: executable, arguments: arguments, environment: environment,
                workingDirectory: options.cwd, maxLineLength: options.maxLineLength,
                shutdownGracePeriod: options.shutdownGracePeriod, terminateGracePeriod: options.terminateGracePeriod,
                stderrHandler: options.stderr, user: user), mcpConfigFile: mcpConfigFile, logger: logger)
    }

    /// Fails with ``ClaudeCodeError/Code/workingDirectoryNotFound`` when `path` is not an existing folder.
    static func checkWorkingDirectory(_ path: String) throws(ClaudeCodeError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ClaudeCodeError(
                .workingDirectoryNotFound,
                "the working directory \(path) (options.cwd) does not exist; create it or set cwd to an existing folder"
            )
        }
        guard isDirectory.boolValue else {
            throw ClaudeCodeError(
                .workingDirectoryNotFound,
                "the working directory \(path) (options.cwd) is not a folder; set cwd to an existing folder")
        }
    }

    deinit {
        terminateImmediately()
        mcpConfigFile?.remove()
    }

    /// The last 64 KiB the CLI wrote to stderr.
    public var stderrTail: String { tail.text }

    /// The child's process id, once started.
    public var processID: Int32? { state.withLock { $0.pid } }

    public func start(receiving receive: @escaping @Sendable (TransportEvent) -> Void) async throws(ClaudeCodeError) {
        let alreadyStarted = state.withLock { state in
            guard !state.started else { return true }
            state.started = true
            state.receive = receive
            return false
        }
        guard !alreadyStarted else { throw ClaudeCodeError(.alreadyConnected, "this transport was already started") }
        Self.ignoreSIGPIPE

        let result: Result<Void, ClaudeCodeError> = await withCheckedContinuation { continuation in
            let once = Mutex<CheckedContinuation<Result<Void, ClaudeCodeError>, Never>?>(continuation)
            let resume: @Sendable (Result<Void, ClaudeCodeError>) -> Void = { value in
                once.withLock { stored in
                    stored?.resume(returning: value)
                    stored = nil
                }
            }
            let host = Task.detached { [self] in
                await self.host(onSpawn: { resume(.success(())) }, onFailure: { resume(.failure($0)) })
            }
            state.withLock { $0.host = host }
        }
        try result.get()
    }

    public func write(_ bytes: [UInt8]) async throws(ClaudeCodeError) {
        if let error = state.withLock({ $0.writeError }) { throw error }
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let result = outboundContinuation.yield(WriteRequest(bytes: bytes, done: continuation))
                if case .terminated = result {
                    continuation.resume(
                        throwing: ClaudeCodeError(
                            .transportClosed, "the CLI's stdin is closed; nothing more can be sent"))
                }
            }
        } catch let error as ClaudeCodeError {
            throw error
        } catch {
            throw ClaudeCodeError(.writeFailed, "writing to the CLI failed", underlying: error)
        }
    }

    public func endInput() async {
        outboundContinuation.finish()
    }

    public func close() async {
        outboundContinuation.finish()
        guard let host = state.withLock({ $0.host }) else { return }
        if await !waitForExit(timeout: configuration.shutdownGracePeriod) {
            logger.debug("CLI still running after the grace period; terminating it")
            terminateContinuation.yield()
        }
        await host.value
    }

    public func terminateImmediately() {
        let (pid, exited, host) = state.withLock { ($0.pid, $0.exited, $0.host) }
        outboundContinuation.finish()
        guard let pid, !exited else { return }
        _ = kill(-pid, SIGKILL)
        _ = kill(pid, SIGKILL)
        host?.cancel()
    }

    // MARK: - Host task

    private static let ignoreSIGPIPE: Void = {
        _ = signal(SIGPIPE, SIG_IGN)
    }()

    private func waitForExit(timeout: Duration) async -> Bool {
        if state.withLock({ $0.exited }) { return true }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask { [exitSignal, self] in
                for await _ in exitSignal { return true }
                return self.state.withLock { $0.exited }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    private func host(onSpawn: @escaping @Sendable () -> Void, onFailure: @escaping @Sendable (ClaudeCodeError) -> Void)
        async
    {
        var platform = PlatformOptions()
        platform.createSession = true
        var executable = configuration.executable
        var arguments = configuration.arguments
        if let user = configuration.user, user.uid != UInt32(geteuid()) {
            #if os(Linux)
                // Through util-linux's `setpriv`, which drops to the user in its own single-threaded
                // process and then execs the CLI (same pid). Not swift-subprocess's userID/groupID:
                // those call setgroups/setgid/setuid in the child forked from this multithreaded
                // process, where glibc's set*id broadcast can wait forever on a thread that was not
                // copied (seen: a CLI launch hung in `setgroups`, with a cooperative-pool thread
                // blocked on the exec-status pipe).
                arguments =
                    [
                        "--reuid=\(user.uid)", "--regid=\(user.gid)",
                        user.groups.isEmpty
                            ? "--clear-groups" : "--groups=\(user.groups.map(String.init).joined(separator: ","))",
                        "--", executable,
                    ] + arguments
                executable = CLIUser.setprivPath
            #else
                platform.userID = uid_t(user.uid)
                platform.groupID = gid_t(user.gid)
                platform.supplementaryGroups = user.groups.map { gid_t($0) }
            #endif
        }
        platform.teardownSequence = [
            .gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: configuration.terminateGracePeriod)
        ]
        let environment = Environment.custom(configuration.environment.map { Array("\($0.key)=\($0.value)\0".utf8) })
        let config = Subprocess.Configuration(
            executable: .path(FilePath(executable)), arguments: Arguments(arguments),
            environment: environment, workingDirectory: configuration.workingDirectory.map { FilePath($0) },
            platformOptions: platform)
        // Started before the CLI, so the CLI is covered from the moment it exists; stood down once
        // the CLI has exited and been reaped (or never started). See ``OrphanWatchdog``.
        let watchdog = await OrphanWatchdog.start(logger: logger)
        var spawned = false
        do {
            let outcome = try await Subprocess.run(config, input: .inputWriter, output: .sequence, error: .sequence) {
                execution in
                spawned = true
                let pid = execution.processIdentifier.value
                // The CLI leads its own session, so its pid is its process group id.
                watchdog?.arm(processGroup: pid)
                self.state.withLock { $0.pid = pid }
                onSpawn()
                await self.serve(execution: execution, pid: pid)
            }
            await Self.retire(watchdog)
            let status: ProcessExitStatus
            switch outcome.terminationStatus {
            case .exited(let code): status = .exited(code)
            case .signaled(let signal): status = .signaled(signal)
            }
            finish(status: status)
        } catch {
            await Self.retire(watchdog)
            var failure = ClaudeCodeError(
                .launchFailed, "could not start the Claude Code CLI at \(configuration.executable): \(error)",
                underlying: error)
            if let directory = configuration.workingDirectory {
                do throws(ClaudeCodeError) {
                    try Self.checkWorkingDirectory(directory)
                } catch {
                    failure = ClaudeCodeError(error.code, error.message, underlying: failure.underlying)
                }
            }
            if spawned {
                logger.error("CLI host failed after spawn: \(String(describing: error))")
                finish(status: .exited(-1))
            } else {
                mcpConfigFile?.remove()
                state.withLock { $0.exited = true }
                deliver(.exited(.exited(-1), stderrTail: ""))
                exitContinuation.yield()
                exitContinuation.finish()
                outboundContinuation.finish()
            }
            onFailure(failure)
        }
    }

    /// Stands the orphan watchdog down once the CLI has been reaped (or never started), and waits
    /// for it to exit, so no process of the SDK's outlives ``close()``.
    private static func retire(_ watchdog: OrphanWatchdog?) async {
        guard let watchdog else { return }
        watchdog.standDown()
        await watchdog.waitForExit()
    }

    private func finish(status: ProcessExitStatus) {
        let pid = state.withLock { state -> pid_t? in
            state.exited = true
            if state.writeError == nil {
                state.writeError = ClaudeCodeError(
                    .transportClosed, "the CLI has exited (\(status))", exitStatus: status)
            }
            return state.pid
        }
        // Take down anything the CLI left running in its process group.
        if let pid { _ = kill(-pid, SIGKILL) }
        mcpConfigFile?.remove()
        outboundContinuation.finish()
        if let rest = tail.flush() { deliverStderr(rest) }
        deliver(.exited(status, stderrTail: tail.text))
        exitContinuation.yield()
        exitContinuation.finish()
    }

    /// Hands an event to the receiver; the last one (`.exited`) also drops it.
    private func deliver(_ event: TransportEvent) {
        let receive = state.withLock { state in
            defer { if case .exited = event { state.receive = nil } }
            return state.receive
        }
        receive?(event)
    }

    private func deliverStderr(_ line: String) {
        configuration.stderrHandler?(line)
        logger.debug("cli stderr", metadata: ["line": "\(line)"])
    }

    private func serve(execution: Execution<CustomWriteInput, SequenceOutput, SequenceOutput>, pid: pid_t) async {
        let maxLineLength = configuration.maxLineLength
        await withTaskGroup(of: Void.self) { group in
            // stderr: always drained.
            group.addTask {
                do {
                    for try await buffer in execution.standardError {
                        let lines = buffer.withUnsafeBytes { self.tail.append($0) }
                        for line in lines { self.deliverStderr(line) }
                    }
                } catch {
                    self.logger.debug("stderr read ended: \(String(describing: error))")
                }
            }
            // The only writer.
            group.addTask {
                let writer = execution.standardInputWriter
                for await request in self.outbound {
                    if let error = self.state.withLock({ $0.writeError }) {
                        request.done?.resume(throwing: error)
                        continue
                    }
                    do {
                        let written = try await writer.write(request.bytes)
                        if written != request.bytes.count {
                            let error = ClaudeCodeError(
                                .writeFailed,
                                "short write to the CLI's stdin (\(written) of \(request.bytes.count) bytes); the CLI has probably exited"
                            )
                            self.state.withLock { $0.writeError = error }
                            request.done?.resume(throwing: error)
                        } else {
                            request.done?.resume()
                        }
                    } catch {
                        let failure = ClaudeCodeError(
                            .writeFailed, "writing to the CLI's stdin failed; the CLI has probably exited",
                            underlying: error)
                        self.state.withLock { $0.writeError = failure }
                        request.done?.resume(throwing: failure)
                    }
                }
                try? await writer.finish()
            }
            // Shutdown escalation, on request.
            group.addTask {
                for await _ in self.terminateRequests {
                    await execution.teardown(using: [
                        .gracefulShutDown(
                            toProcessGroup: true, allowedDurationToNextStep: self.configuration.terminateGracePeriod)
                    ])
                    return
                }
            }
            // stdout: framed into lines until EOF, and handed over one read at a time. The receiver runs here,
            // so nothing more is read until it has dealt with the lines (backpressure on the CLI).
            do {
                let receive = state.withLock({ $0.receive }) ?? { _ in }
                var framer = LineFramer(maxLineLength: maxLineLength)
                var batch: [[UInt8]] = []
                let emit: (LineFramer.Output) -> Void = { output in
                    switch output {
                    case .line(let line):
                        batch.append(line)
                    case .oversized(let count, let prefix):
                        if !batch.isEmpty {
                            receive(.lines(batch))
                            batch.removeAll(keepingCapacity: true)
                        }
                        receive(.oversizedLine(byteCount: count, limit: maxLineLength, prefix: prefix))
                    }
                }
                Self.enlargePipe(execution.standardOutput)
                for try await buffer in execution.standardOutput {
                    buffer.withUnsafeBytes { framer.push($0, emit: emit) }
                    if !batch.isEmpty {
                        receive(.lines(batch))
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                framer.finish(emit: emit)
                if !batch.isEmpty { receive(.lines(batch)) }
            } catch {
                logger.debug("stdout read ended: \(String(describing: error))")
            }
            // stdout is closed: the CLI is exiting. Give it the grace period, then escalate.
            if await !Self.waitForProcessExit(pid: pid, timeout: configuration.shutdownGracePeriod) {
                await execution.teardown(using: [
                    .gracefulShutDown(
                        toProcessGroup: true, allowedDurationToNextStep: configuration.terminateGracePeriod)
                ])
            }
            outboundContinuation.finish()
            terminateContinuation.finish()
            group.cancelAll()
        }
    }

    /// Linux gives a pipe 64 KiB; a CLI that streams faster than one read per 64 KiB then costs a
    /// wake-up (and a hand-over to the consumer) per 64 KiB. With 1 MiB, a busy stream is read in
    /// fewer, larger pieces; the CLI still blocks once 1 MiB is unread (backpressure is kept).
    ///
    /// swift-subprocess does not expose the descriptor, and sizes its reads from the pipe's size
    /// when iteration starts, so this runs just before. It is best effort: if the descriptor cannot
    /// be found (another swift-subprocess layout) or the kernel refuses (`pipe-max-size`, an
    /// unprivileged user over `pipe-user-pages-soft`), the pipe keeps its size and nothing else
    /// changes.
    static func enlargePipe(_ output: SubprocessOutputSequence) {
        #if os(Linux)
            guard let descriptor = Mirror(reflecting: output).descendant("diskIO") as? FileDescriptor else { return }
            // F_SETPIPE_SZ (F_LINUX_SPECIFIC_BASE + 7); Glibc's module only has it under _GNU_SOURCE.
            _ = fcntl(descriptor.rawValue, 1031, Int32(Self.stdoutPipeSize))
        #endif
    }

    /// The stdout pipe size asked for on Linux.
    static let stdoutPipeSize = 1 << 20

    /// Polls, without reaping, until `pid` has exited or `timeout` passes.
    private static func waitForProcessExit(pid: pid_t, timeout: Duration) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var delay = Duration.milliseconds(1)
        while true {
            var info = siginfo_t()
            let rc = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
            if rc == -1 { return errno == ECHILD }
            if rc == 0 && Self.pid(of: info) == pid { return true }
            if clock.now >= deadline { return false }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .milliseconds(50))
        }
    }

    private static func pid(of info: siginfo_t) -> pid_t {
        #if os(Linux)
            return info._sifields._sigchld.si_pid
        #else
            return info.si_pid
        #endif
    }
}

/// A file only this user can read: mode 0600, created exclusively (`O_EXCL`) in a new folder of
/// mode 0700 under the temporary directory. ``remove()`` deletes both, once.
final class PrivateTemporaryFile: Sendable {
    let path: String
    let directory: String
    private let removed = Mutex(false)

    init(prefix: String, name: String, contents: [UInt8]) throws(ClaudeCodeError) {
        var base = NSTemporaryDirectory()
        if !base.hasSuffix("/") { base += "/" }
        var template = Array("\(base)\(prefix)XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else {
            throw ClaudeCodeError(
                .launchFailed, "could not create a private temporary folder in \(base) (errno \(errno))")
        }
        directory = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        path = "\(directory)/\(name)"
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let code = errno
            rmdir(directory)
            throw ClaudeCodeError(
                .launchFailed, "could not create a private temporary file in \(directory) (errno \(code))")
        }
        var offset = 0
        var failure: Int32?
        while offset < contents.count {
            let written = contents.withUnsafeBytes {
                write(descriptor, $0.baseAddress! + offset, contents.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                failure = errno
                break
            }
            offset += written
        }
        close(descriptor)
        if let failure {
            unlink(path)
            rmdir(directory)
            throw ClaudeCodeError(
                .launchFailed, "could not write a private temporary file in \(directory) (errno \(failure))")
        }
    }

    /// Hands the file and its folder to another owner (modes unchanged). Needs privilege; a failure
    /// leaves them as they were (the CLI then cannot read the file and says so).
    func giveTo(uid: UInt32, gid: UInt32) {
        _ = chown(directory, uid_t(uid), gid_t(gid))
        _ = chown(path, uid_t(uid), gid_t(gid))
    }

    /// Deletes the file and its folder; later calls do nothing.
    func remove() {
        let first = removed.withLock { removed -> Bool in
            defer { removed = true }
            return !removed
        }
        guard first else { return }
        unlink(path)
        rmdir(directory)
    }

    deinit { remove() }
}
