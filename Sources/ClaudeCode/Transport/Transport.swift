/// A byte pipe to one Claude Code CLI process (or a stand-in for one).
///
/// The SDK's own implementation is ``SubprocessTransport``; tests can supply an in-memory one.
/// A transport is used once: started, written to, read from, closed.
public protocol ClaudeTransport: AnyObject, Sendable {
    /// Starts the process and returns once it is running.
    ///
    /// From then on the transport hands everything the CLI sends to `receive`, in order, ending with exactly
    /// one ``TransportEvent/exited(_:stderrTail:)``. Calls never overlap. `receive` must return quickly and never
    /// wait: the transport reads nothing more from the CLI until it returns, which is what bounds memory when
    /// the CLI writes faster than frames are handled.
    func start(receiving receive: @escaping @Sendable (TransportEvent) -> Void) async throws(ClaudeCodeError)
    /// Writes one complete frame (with its trailing newline). Writes are delivered in call order.
    func write(_ bytes: [UInt8]) async throws(ClaudeCodeError)
    /// Closes the CLI's stdin after every pending write; the CLI finishes its turn and exits.
    func endInput() async
    /// Shuts the process down: end input, wait, SIGTERM, wait, SIGKILL. Returns once it has exited.
    func close() async
    /// Kills the process (and its process group) at once without waiting. Safe to call from `deinit`.
    func terminateImmediately()
    /// The last bytes the process wrote to stderr.
    var stderrTail: String { get }
}

/// One event from a transport.
public enum TransportEvent: Sendable {
    /// Complete stdout lines, in order, each without its newline (usually every line of one read).
    case lines([[UInt8]])
    /// A stdout line longer than `limit` bytes; its bytes were dropped except the first (at most 200).
    case oversizedLine(byteCount: Int, limit: Int, prefix: [UInt8])
    /// The process has exited; no more events follow.
    case exited(ProcessExitStatus, stderrTail: String)
}
