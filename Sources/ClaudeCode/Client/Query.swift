import Foundation
import Synchronization

/// Runs one prompt in a fresh CLI process and returns everything it sends.
///
/// ```swift
/// for try await message in query(prompt: "What is 2 + 2?") {
///     if case .result(let result) = message { print(result.result ?? "") }
/// }
/// ```
///
/// The CLI starts when iteration starts and is shut down when the sequence ends, when the
/// loop breaks early, or when the iterating task is cancelled.
public func query(
    prompt: String, options: ClaudeCodeOptions = ClaudeCodeOptions(), transport: TransportFactory? = nil,
    connectionExtension: ConnectionExtensionFactory? = nil
) -> QueryStream {
    QueryStream(options: options, transport: transport, connectionExtension: connectionExtension) { client in
        try await client.query(prompt, sessionID: "")
    }
}

/// Runs one prompt in a fresh CLI process, hands its messages to `body`, and stops the CLI as soon
/// as `body` returns or throws.
///
/// ```swift
/// let answer = try await withQuery(prompt: "What is 2 + 2?") { messages in
///     for try await message in messages {
///         if case .result(let result) = message { return result.result }
///     }
///     return nil
/// }
/// ```
///
/// Leaving the loop early (`break`, `return`, a throw) is safe anywhere, top-level code included:
/// when `body` ends, the CLI is sent SIGTERM (its process group; SIGKILL after
/// ``ClaudeCodeOptions/terminateGracePeriod``) unless it has already exited, and `withQuery`
/// returns only after the CLI has exited. A run that finished on its own is not disturbed. With
/// plain `query(prompt:options:transport:connectionExtension:)` the CLI stops when the iterator is
/// released, which Swift does not promise to do at the `break` (in top-level code it can run on
/// to the end of the turn); use this form, or ``QueryStream/cancel()``, to stop it at a known point.
public func withQuery<Result: Sendable>(
    prompt: String, options: ClaudeCodeOptions = ClaudeCodeOptions(), transport: TransportFactory? = nil,
    connectionExtension: ConnectionExtensionFactory? = nil, _ body: (QueryStream) async throws -> Result
) async throws -> Result {
    let stream = query(prompt: prompt, options: options, transport: transport, connectionExtension: connectionExtension)
    do {
        let result = try await body(stream)
        await stream.cancel()
        return result
    } catch {
        await stream.cancel()
        throw error
    }
}

/// Like ``query(prompt:options:transport:connectionExtension:)``, with a prompt made of streamed `user` frames.
public func query<Prompt: AsyncSequence & Sendable>(
    prompt: Prompt, options: ClaudeCodeOptions = ClaudeCodeOptions(), transport: TransportFactory? = nil,
    connectionExtension: ConnectionExtensionFactory? = nil
) -> QueryStream where Prompt.Element == JSONValue {
    QueryStream(options: options, transport: transport, connectionExtension: connectionExtension) { client in
        try await client.query(prompt)
    }
}

/// The messages of a one-shot `query(prompt:options:transport:connectionExtension:)`.
///
/// Each iteration starts its own CLI process.
public struct QueryStream: AsyncSequence, Sendable {
    public typealias Element = Message
    public typealias Failure = ClaudeCodeError

    let options: ClaudeCodeOptions
    let transport: TransportFactory?
    let connectionExtension: ConnectionExtensionFactory?
    let send: @Sendable (ClaudeSDKClient) async throws -> Void
    let runs = QueryRuns()

    init(
        options: ClaudeCodeOptions, transport: TransportFactory?, connectionExtension: ConnectionExtensionFactory?,
        send: @escaping @Sendable (ClaudeSDKClient) async throws -> Void
    ) {
        self.options = options
        self.transport = transport
        self.connectionExtension = connectionExtension
        self.send = send
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(
            run: QueryRun(
                options: options, transport: transport, connectionExtension: connectionExtension, send: send, runs: runs
            ))
    }

    /// Stops the CLI of every iteration of this stream, and returns once each has exited.
    ///
    /// A CLI still running gets SIGTERM at once (its process group; SIGKILL after
    /// ``ClaudeCodeOptions/terminateGracePeriod``); an iterator still in use then throws
    /// ``ClaudeCodeError/Code/cancelled`` (after the messages already received). Iterations started
    /// after this call end at once with that error. Call it after leaving a loop early:
    ///
    /// ```swift
    /// let messages = query(prompt: "…")
    /// for try await message in messages {
    ///     if case .assistant = message { break }
    /// }
    /// await messages.cancel()  // the CLI has exited here
    /// ```
    public func cancel() async {
        for task in runs.cancelAll() { await task.value }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let run: QueryRun

        public mutating func next() async throws(ClaudeCodeError) -> Message? {
            try await run.next()
        }
    }
}

/// The producer tasks of a ``QueryStream``'s iterations, so ``QueryStream/cancel()`` can stop them.
/// Holds the tasks, not the runs: an iterator is still released (and stops its CLI) as before.
final class QueryRuns: Sendable {
    private struct State {
        var tasks: [Task<Void, Never>] = []
        var cancelled = false
    }
    private let state = Mutex(State())

    /// Registers a producer; `false` (and the task cancelled) once the stream was cancelled.
    func add(_ task: Task<Void, Never>) -> Bool {
        let accepted = state.withLock { state -> Bool in
            guard !state.cancelled else { return false }
            state.tasks.removeAll { $0.isCancelled }
            state.tasks.append(task)
            return true
        }
        if !accepted { task.cancel() }
        return accepted
    }

    var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Cancels every producer and returns them (to wait for).
    func cancelAll() -> [Task<Void, Never>] {
        let tasks = state.withLock { state -> [Task<Void, Never>] in
            state.cancelled = true
            defer { state.tasks = [] }
            return state.tasks
        }
        for task in tasks { task.cancel() }
        return tasks
    }
}

/// One run of a one-shot query. Its `deinit` (when the consumer drops the iterator) shuts the CLI down.
final class QueryRun: Sendable {
    private let buffer: MessageBuffer
    private let producer: Mutex<Task<Void, Never>?> = Mutex(nil)
    private let started = Mutex(false)
    let options: ClaudeCodeOptions
    let transport: TransportFactory?
    let connectionExtension: ConnectionExtensionFactory?
    let send: @Sendable (ClaudeSDKClient) async throws -> Void
    let runs: QueryRuns?

    init(
        options: ClaudeCodeOptions, transport: TransportFactory?, connectionExtension: ConnectionExtensionFactory?,
        send: @escaping @Sendable (ClaudeSDKClient) async throws -> Void, runs: QueryRuns? = nil
    ) {
        self.options = options
        self.buffer = MessageBuffer(
            memoryBudget: options.messageMemoryBudget, spillDirectory: options.messageSpillDirectory)
        self.transport = transport
        self.connectionExtension = connectionExtension
        self.send = send
        self.runs = runs
    }

    deinit {
        producer.withLock { $0 }?.cancel()
    }

    func next() async throws(ClaudeCodeError) -> Message? {
        let first = started.withLock { started -> Bool in
            defer { started = true }
            return !started
        }
        if first { start() }
        do {
            return try await buffer.next()
        } catch {
            if error.code == .cancelled { producer.withLock { $0 }?.cancel() }
            throw error
        }
    }

    private func start() {
        if runs?.isCancelled == true {
            buffer.finish(error: ClaudeCodeError(.cancelled, "the query was cancelled"))
            return
        }
        let client = ClaudeSDKClient(options: options, transport: transport, connectionExtension: connectionExtension)
        let buffer = self.buffer
        let send = self.send
        let needsControlChannel = options.needsControlChannel
        let includeHostOnly = options.includeHostOnlyMessages
        let task = Task.detached {
            do {
                try await client.connect()
                try await send(client)
                if needsControlChannel {
                    // The CLI still asks this process (permissions, hooks, SDK tools) until the run
                    // ends, and answers travel over stdin: close it only then. The tracker needs the
                    // host-only session states, which the consumer gets only when it asked for them.
                    var run = RunEndTracker()
                    for try await message in client.receiveMessages(includingHostOnly: true) {
                        if includeHostOnly || !message.isHostOnly { buffer.push(message) }
                        if run.ended(after: message) { try await client.endInput() }
                    }
                } else {
                    // Nothing else will be sent: let the CLI finish the turn and exit.
                    try await client.endInput()
                    for try await message in client.receiveMessages() {
                        buffer.push(message)
                    }
                }
                buffer.finish()
            } catch let error as ClaudeCodeError {
                buffer.finish(error: error)
            } catch is CancellationError {
                buffer.finish(error: ClaudeCodeError(.cancelled, "the query was cancelled"))
            } catch {
                buffer.finish(error: ClaudeCodeError(.invalidInput, "the prompt sequence failed", underlying: error))
            }
            // Runs on every path, cancellation included: the CLI never outlives the query.
            await client.disconnect()
        }
        producer.withLock { $0 = task }
        _ = runs?.add(task)
    }
}

/// Tells when a one-shot run has ended: a result while the session is idle (or a CLI that reports
/// no session state), or the session turning idle after a result. Reports it once.
struct RunEndTracker {
    private var sawResult = false
    private var state: String?
    private var reported = false

    mutating func ended(after message: Message) -> Bool {
        guard !reported else { return false }
        switch message {
        case .result:
            sawResult = true
            reported = state == nil || state == "idle"
        case .system(let system) where system.subtype == "session_state_changed":
            state = system.data["state"]?.stringValue
            reported = sawResult && state == "idle"
        default:
            break
        }
        return reported
    }
}
