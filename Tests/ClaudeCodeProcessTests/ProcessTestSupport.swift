import ClaudeCode
import ClaudeCodeTesting
import Foundation
import Logging
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One test's world: the `fake-claude` executable, a sandbox folder, and every transport the client made,
/// so a test can reach the real process (`processID`, `stderrTail`).
///
/// ``run(_:)`` always cleans up: it SIGKILLs every process it knows of that is still alive (the CLI and any
/// recorded grandchild) and removes the sandbox, however the test ends.
final class ProcessHarness: Sendable {
    let fakeCLI: String
    let sandbox: CLITestEnvironment
    private let transports = Mutex<[SubprocessTransport]>([])
    private let extraPIDs = Mutex<[pid_t]>([])

    private init() throws {
        fakeCLI = try CLITestEnvironment.locateFakeCLI()
        sandbox = try CLITestEnvironment(prefix: "cc-proc")
    }

    /// Runs `body` with a fresh harness and always cleans up after it.
    static func run<Result>(_ body: (ProcessHarness) async throws -> Result) async throws -> Result {
        let harness = try ProcessHarness()
        defer { harness.cleanup() }
        return try await body(harness)
    }

    /// Options that run `fake-claude` with `scenario` in the sandbox, with short shutdown grace periods.
    func options(_ scenario: String, env: [String: String] = [:]) -> ClaudeCodeOptions {
        var options = ClaudeCodeOptions()
        options.cliPath = fakeCLI
        options.cwd = sandbox.workDirectory.path
        options.env = env.merging(["FAKE_CLAUDE_SCENARIO": scenario]) { mine, _ in mine }
        options.initializeTimeout = .seconds(20)
        options.controlRequestTimeout = .seconds(20)
        options.shutdownGracePeriod = .milliseconds(500)
        options.terminateGracePeriod = .milliseconds(500)
        return options
    }

    /// A transport factory that makes the default ``SubprocessTransport`` and remembers it.
    var transportFactory: TransportFactory {
        { [self] options throws(ClaudeCodeError) in
            let transport = try SubprocessTransport(options: options, logger: Logger(label: "process-tests"))
            transports.withLock { $0.append(transport) }
            return transport
        }
    }

    /// A client that runs `fake-claude` through ``transportFactory``.
    func client(_ options: ClaudeCodeOptions, observer: FrameObserver? = nil) -> ClaudeSDKClient {
        ClaudeSDKClient(options: options, transport: transportFactory, observer: observer)
    }

    /// The most recent transport the client made.
    var transport: SubprocessTransport {
        get throws { try #require(transports.withLock { $0.last }) }
    }

    /// The pid of the most recent CLI process.
    var cliPID: pid_t {
        get throws { try #require(try transport.processID) }
    }

    /// Waits (polling, bounded) until a transport has started a CLI process, and returns its pid.
    func waitForCLIPID(timeout: Duration = .seconds(10)) async throws -> pid_t {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            if let pid = transports.withLock({ $0.last?.processID }) { return pid }
            try await Task.sleep(for: .milliseconds(5))
        }
        return try cliPID
    }

    /// A file in the sandbox (not created).
    func file(_ name: String) -> String {
        sandbox.root.appendingPathComponent(name).path
    }

    /// Reads a pid written by `fake-claude` and makes sure cleanup kills it.
    func recordedPID(in path: String) throws -> pid_t {
        let text = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let pid = try #require(pid_t(text))
        extraPIDs.withLock { $0.append(pid) }
        return pid
    }

    private func cleanup() {
        let pids = transports.withLock { $0.compactMap(\.processID) } + extraPIDs.withLock { $0 }
        for pid in pids where !Self.isGone(pid) {
            _ = kill(pid, SIGKILL)
        }
        for transport in transports.withLock({ $0 }) { transport.terminateImmediately() }
        sandbox.cleanup()
    }

    // MARK: Processes

    /// Whether `pid` no longer names a live process. A zombie counts as gone only when `allowZombie`
    /// (a grandchild is reaped by init, which may be slow or absent in a container); the SDK's own child
    /// must be reaped, so by default a zombie is still "there".
    static func isGone(_ pid: pid_t, allowZombie: Bool = false) -> Bool {
        if kill(pid, 0) == -1 && errno == ESRCH { return true }
        return allowZombie && processState(pid) == "Z"
    }

    /// The state letter from `/proc/<pid>/stat` (`R`, `S`, `Z`, …), or `nil` when there is no such process.
    static func processState(_ pid: pid_t) -> Character? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        return stat[stat.index(after: close)...].first { $0 != " " }
    }

    /// Waits (polling, bounded) until `pid` is gone; returns whether it went.
    static func waitUntilGone(_ pid: pid_t, allowZombie: Bool = false, timeout: Duration = .seconds(10)) async
        -> Bool
    {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            if isGone(pid, allowZombie: allowZombie) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return isGone(pid, allowZombie: allowZombie)
    }
}

/// Collects values handed over from callbacks.
final class Collector<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])
    func append(_ value: Value) { values.withLock { $0.append(value) } }
    var all: [Value] { values.withLock { $0 } }
    var count: Int { values.withLock { $0.count } }
}

extension Message {
    /// The text of an assistant message, else `nil`.
    var assistantText: String? {
        if case .assistant(let message) = self { return message.text }
        return nil
    }

    var isResult: Bool {
        if case .result = self { return true }
        return false
    }
}

/// Reads messages until (and including) the turn's result.
func readTurn(_ client: ClaudeSDKClient) async throws -> [Message] {
    var messages: [Message] = []
    for try await message in client.receiveResponse() { messages.append(message) }
    return messages
}

/// How long `body` takes.
func elapsed(_ body: () async throws -> Void) async rethrows -> Duration {
    let clock = ContinuousClock()
    let start = clock.now
    try await body()
    return clock.now - start
}
