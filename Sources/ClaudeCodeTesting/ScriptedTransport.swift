import ClaudeCode
import Foundation
import Synchronization

/// An in-memory `ClaudeTransport` that a test plays the CLI through.
///
/// Everything the client writes arrives on `written` as parsed frames; the test answers
/// with `emit(_:)` and ends the "process" with `exit(_:stderr:)`.
///
/// ```swift
/// let transport = ScriptedTransport()
/// let client = ClaudeSDKClient(transport: { _ in transport })
/// async let connected: Void = client.connect()
/// let initialize = try await transport.nextWritten()
/// transport.respond(to: initialize, with: ["commands": []])
/// try await connected
/// ```
public final class ScriptedTransport: ClaudeTransport {
    private struct State {
        var started = false
        var inputEnded = false
        var exited = false
        var writtenFrames: [JSONValue] = []
        var waiters: [CheckedContinuation<JSONValue?, Never>] = []
        var readIndex = 0
        var stderr = ""
        var terminatedImmediately = false
        var closeCount = 0
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
        var receive: (@Sendable (TransportEvent) -> Void)?
        /// Events emitted before `start`, delivered when it is called.
        var early: [TransportEvent] = []
    }

    private let state = Mutex(State())
    /// Held while an event is delivered, so deliveries never overlap (the transport contract).
    private let delivery = Mutex(())
    /// What `close()` does; by default the "process" exits with code 0.
    public let exitStatusOnClose: ProcessExitStatus
    /// When set, `start()` fails with this error.
    public let startError: ClaudeCodeError?

    public init(exitStatusOnClose: ProcessExitStatus = .exited(0), startError: ClaudeCodeError? = nil) {
        self.exitStatusOnClose = exitStatusOnClose
        self.startError = startError
    }

    public func start(receiving receive: @escaping @Sendable (TransportEvent) -> Void) async throws(ClaudeCodeError) {
        if let startError { throw startError }
        let early = state.withLock { state -> [TransportEvent] in
            state.started = true
            state.receive = receive
            defer { state.early = [] }
            return state.early
        }
        for event in early { deliver(event) }
    }

    /// Hands `event` to the client (or keeps it until `start`); after `.exited` nothing more is delivered.
    private func deliver(_ event: TransportEvent) {
        delivery.withLock { _ in
            let receive = state.withLock { state -> (@Sendable (TransportEvent) -> Void)? in
                guard let receive = state.receive else {
                    state.early.append(event)
                    return nil
                }
                if case .exited = event { state.receive = nil }
                return receive
            }
            receive?(event)
        }
    }

    public func write(_ bytes: [UInt8]) async throws(ClaudeCodeError) {
        guard bytes.last == 0x0A else { throw ClaudeCodeError(.writeFailed, "frame without newline") }
        let frame: JSONValue
        do { frame = try JSONValue.parse(Array(bytes.dropLast())) } catch {
            throw ClaudeCodeError(.writeFailed, "the client wrote invalid JSON")
        }
        let (closed, waiter) = state.withLock { state -> (Bool, CheckedContinuation<JSONValue?, Never>?) in
            if state.exited || state.inputEnded { return (true, nil) }
            state.writtenFrames.append(frame)
            if !state.waiters.isEmpty {
                state.readIndex += 1
                return (false, state.waiters.removeFirst())
            }
            return (false, nil)
        }
        if closed { throw ClaudeCodeError(.transportClosed, "stdin is closed") }
        waiter?.resume(returning: frame)
    }

    public func endInput() async {
        let waiters = state.withLock { state -> [CheckedContinuation<JSONValue?, Never>] in
            state.inputEnded = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    public func close() async {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.closeCount += 1
            defer { state.closeWaiters = [] }
            return state.closeWaiters
        }
        for waiter in waiters { waiter.resume() }
        await endInput()
        exit(exitStatusOnClose)
    }

    public func terminateImmediately() {
        state.withLock { $0.terminatedImmediately = true }
        exit(.signaled(9))
    }

    public var stderrTail: String { state.withLock { $0.stderr } }

    // MARK: Playing the CLI

    /// Every frame the client has written so far.
    public var writtenFrames: [JSONValue] { state.withLock { $0.writtenFrames } }

    /// Whether the client closed stdin.
    public var inputEnded: Bool { state.withLock { $0.inputEnded } }

    /// How often `close()` was called.
    public var closeCount: Int { state.withLock { $0.closeCount } }

    /// Returns once `close()` has been called (at once if it already was).
    public func waitUntilClosed() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let closed = state.withLock { state -> Bool in
                if state.closeCount > 0 { return true }
                state.closeWaiters.append(continuation)
                return false
            }
            if closed { continuation.resume() }
        }
    }

    /// Whether `terminateImmediately()` was called.
    public var wasTerminatedImmediately: Bool { state.withLock { $0.terminatedImmediately } }

    /// The next frame the client writes (in order), or `nil` once stdin is closed.
    public func nextWritten() async -> JSONValue? {
        await withCheckedContinuation { (continuation: CheckedContinuation<JSONValue?, Never>) in
            let ready = state.withLock { state -> JSONValue?? in
                if state.readIndex < state.writtenFrames.count {
                    defer { state.readIndex += 1 }
                    return .some(state.writtenFrames[state.readIndex])
                }
                if state.inputEnded || state.exited { return .some(nil) }
                state.waiters.append(continuation)
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Writes a line to the client as if the CLI printed it on stdout.
    public func emit(_ line: String) {
        deliver(.lines([Array(line.utf8)]))
    }

    /// Writes lines to the client in one go, as if the CLI's output arrived in one read.
    public func emit(lines: [String]) {
        deliver(.lines(lines.map { Array($0.utf8) }))
    }

    /// Writes a frame to the client.
    public func emit(_ frame: JSONValue) {
        deliver(.lines([frame.serialized()]))
    }

    /// Reports a line of `byteCount` bytes that went over the line limit `limit`.
    public func emitOversized(byteCount: Int, limit: Int = 64 * 1024 * 1024, prefix: String) {
        deliver(.oversizedLine(byteCount: byteCount, limit: limit, prefix: Array(prefix.utf8)))
    }

    /// Answers a control request frame with success.
    public func respond(to request: JSONValue, with response: JSONValue = [:]) {
        emit([
            "type": "control_response",
            "response": ["subtype": "success", "request_id": request["request_id"] ?? .null, "response": response],
        ])
    }

    /// Answers a control request frame with an error.
    public func fail(_ request: JSONValue, error: String, code: String? = nil) {
        var response: [String: JSONValue] = [
            "subtype": "error", "request_id": request["request_id"] ?? .null, "error": .string(error),
        ]
        if let code { response["error_code"] = .string(code) }
        emit(["type": "control_response", "response": .object(response)])
    }

    /// Appends text to the stderr tail.
    public func writeStderr(_ text: String) {
        state.withLock { $0.stderr += text }
    }

    /// Ends the "process".
    public func exit(_ status: ProcessExitStatus, stderr: String? = nil) {
        let (alreadyExited, waiters, tail) = state.withLock {
            state -> (Bool, [CheckedContinuation<JSONValue?, Never>], String) in
            if let stderr { state.stderr += stderr }
            defer {
                state.exited = true
                state.waiters = []
            }
            return (state.exited, state.waiters, state.stderr)
        }
        guard !alreadyExited else { return }
        for waiter in waiters { waiter.resume(returning: nil) }
        deliver(.exited(status, stderrTail: tail))
    }
}
