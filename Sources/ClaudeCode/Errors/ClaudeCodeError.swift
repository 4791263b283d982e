/// The one error type of the `ClaudeCode` module.
///
/// Every failure the SDK reports is a `ClaudeCodeError`; switch on ``code`` to react to
/// a kind of failure. Codes are extensible (new ones can be added without breaking your
/// `switch`, which needs a `default`).
///
/// Descriptions are safe to log: they never contain prompt text, tool output or the
/// values of environment variables. The CLI's own stderr is kept apart in ``stderrTail``
/// so you can decide whether to show it.
public struct ClaudeCodeError: Error, Sendable, CustomStringConvertible {
    /// A kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Value: String, Sendable {
            case cliNotFound, cliNotExecutable, launchFailed, processExited, notConnected, alreadyConnected
            case transportClosed, writeFailed, controlTimeout, controlError, invalidOptions, invalidInput
            case cancelled, protocolViolation, initializeFailed, workingDirectoryNotFound, responseTimeout
            case unsupportedByCLI
            case messageSpillFailed
            case userNotPermitted
        }
        fileprivate let value: Value
        public var description: String { value.rawValue }

        /// No Claude Code CLI was found; ``ClaudeCodeError/searchedPaths`` lists where the SDK looked.
        public static let cliNotFound = Code(value: .cliNotFound)
        /// A CLI was found but cannot be executed (permissions or not a regular file).
        public static let cliNotExecutable = Code(value: .cliNotExecutable)
        /// The CLI process could not be started.
        public static let launchFailed = Code(value: .launchFailed)
        /// The CLI exited before it finished what was asked (before `initialize` was answered, or mid-turn).
        public static let processExited = Code(value: .processExited)
        /// The client is not connected: call `connect()` first.
        public static let notConnected = Code(value: .notConnected)
        /// `connect()` was called on a client that is already connected.
        public static let alreadyConnected = Code(value: .alreadyConnected)
        /// The connection to the CLI is closed, so nothing more can be sent or received.
        public static let transportClosed = Code(value: .transportClosed)
        /// Writing to the CLI's stdin failed or was short.
        public static let writeFailed = Code(value: .writeFailed)
        /// A control request got no answer within its timeout.
        public static let controlTimeout = Code(value: .controlTimeout)
        /// The CLI answered a control request with an error; see ``ClaudeCodeError/controlErrorCode``.
        public static let controlError = Code(value: .controlError)
        /// The options cannot be turned into a valid CLI invocation.
        public static let invalidOptions = Code(value: .invalidOptions)
        /// An argument passed to the SDK is not valid.
        public static let invalidInput = Code(value: .invalidInput)
        /// The operation was cancelled.
        public static let cancelled = Code(value: .cancelled)
        /// The CLI sent something the protocol does not allow at that point.
        public static let protocolViolation = Code(value: .protocolViolation)
        /// The `initialize` handshake failed.
        public static let initializeFailed = Code(value: .initializeFailed)
        /// The working directory the CLI is to run in does not exist or is not a folder;
        /// ``ClaudeCodeError/message`` names it and says how to choose another.
        public static let workingDirectoryNotFound = Code(value: .workingDirectoryNotFound)
        /// ``ClaudeSDKClient/receiveResponse(timeout:)`` saw no result in time. The turn goes on in the
        /// CLI and the connection stays usable: interrupt it, or read on.
        public static let responseTimeout = Code(value: .responseTimeout)
        /// The running CLI does not know this control request (it answered `unsupported_request`);
        /// a newer Claude Code may. ``ClaudeCodeError/controlErrorCode`` is `unsupported_request`.
        public static let unsupportedByCLI = Code(value: .unsupportedByCLI)
        /// Messages queued past ``ClaudeCodeOptions/messageMemoryBudget`` were written to a private
        /// temporary file and could not be read back (an I/O error): the stream cannot go on in order.
        public static let messageSpillFailed = Code(value: .messageSpillFailed)
        /// ``ClaudeCodeOptions/user`` names another user, and this process may not switch to it
        /// (only root, or a process already running as that user, may).
        public static let userNotPermitted = Code(value: .userNotPermitted)
    }

    /// What kind of failure this is.
    public var code: Code
    /// A short, safe explanation of what went wrong and what to do.
    public var message: String
    /// The CLI's exit status, when the process has exited.
    public var exitStatus: ProcessExitStatus?
    /// The last bytes (at most 64 KiB) the CLI wrote to stderr, when known.
    public var stderrTail: String?
    /// For ``Code/controlError``: the CLI's `error_code`, such as `unsupported_request`.
    public var controlErrorCode: String?
    /// The `errors` of the last error result the CLI sent before failing, if any.
    public var resultErrors: [String]
    /// For ``Code/cliNotFound``: every place the SDK looked, in order.
    public var searchedPaths: [String]
    /// The lower-level error, if any.
    public var underlying: (any Error)?

    public init(
        _ code: Code, _ message: String, exitStatus: ProcessExitStatus? = nil, stderrTail: String? = nil,
        controlErrorCode: String? = nil, resultErrors: [String] = [], searchedPaths: [String] = [],
        underlying: (any Error)? = nil
    ) {
        self.code = code
        self.message = message
        self.exitStatus = exitStatus
        self.stderrTail = stderrTail
        self.controlErrorCode = controlErrorCode
        self.resultErrors = resultErrors
        self.searchedPaths = searchedPaths
        self.underlying = underlying
    }

    public var description: String {
        var text = "ClaudeCodeError(\(code)): \(message)"
        if let exitStatus { text += " [\(exitStatus)]" }
        if let controlErrorCode { text += " [error_code: \(controlErrorCode)]" }
        return text
    }
}

/// How the CLI process ended.
public enum ProcessExitStatus: Sendable, Hashable, CustomStringConvertible {
    /// It exited with this code.
    case exited(Int32)
    /// It was killed by this signal.
    case signaled(Int32)

    /// Whether the process exited with code 0.
    public var isSuccess: Bool { self == .exited(0) }

    public var description: String {
        switch self {
        case .exited(let code): return "exit code \(code)"
        case .signaled(let signal): return "killed by signal \(signal)"
        }
    }
}
