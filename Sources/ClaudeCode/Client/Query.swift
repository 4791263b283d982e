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
    connectionHook: ConnectionHookFactory? = nil
) -> QueryStream {
    QueryStream(options: options, transport: transport, connectionHook: connectionHook) { client in
        try await client.query(prompt, sessionID: "")
    }
}

/// Like ``query(prompt:options:transport:connectionHook:)``, with a prompt made of streamed `user` frames.
public func query<Prompt: AsyncSequence & Sendable>(
    prompt: Prompt, options: ClaudeCodeOptions = ClaudeCodeOptions(), transport: TransportFactory? = nil,
    connectionHook: ConnectionHookFactory? = nil
) -> QueryStream where Prompt.Element == JSONValue {
    QueryStream(options: options, transport: transport, connectionHook: connectionHook) { client in
        try await client.query(prompt)
    }
}

/// The messages of a one-shot ``query(prompt:options:transport:connectionHook:)``.
public struct QueryStream: AsyncSequence, Sendable {
    public typealias Element = Message
    public typealias Failure = ClaudeCodeError

    let options: ClaudeCodeOptions
    let transport: TransportFactory?
    let connectionHook: ConnectionHookFactory?
    let send: @Sendable (ClaudeSDKClient) async throws -> Void

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(run: QueryRun(options: options, transport: transport, connectionHook: connectionHook, send: send))
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let run: QueryRun

        public mutating func next() async throws(ClaudeCodeError) -> Message? {
            try await run.next()
        }
    }
}

/// One run of a one-shot query. Its `deinit` (when the consumer drops the iterator) shuts the CLI down.
final class QueryRun: Sendable {
    private let buffer = MessageBuffer()
    private let producer: Mutex<Task<Void, Never>?> = Mutex(nil)
    private let started = Mutex(false)
    let options: ClaudeCodeOptions
    let transport: TransportFactory?
    let connectionHook: ConnectionHookFactory?
    let send: @Sendable (ClaudeSDKClient) async throws -> Void

    init(
        options: ClaudeCodeOptions, transport: TransportFactory?, connectionHook: ConnectionHookFactory?,
        send: @escaping @Sendable (ClaudeSDKClient) async throws -> Void
    ) {
        self.options = options
        self.transport = transport
        self.connectionHook = connectionHook
        self.send = send
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
        let client = ClaudeSDKClient(options: options, transport: transport, connectionHook: connectionHook)
        let buffer = self.buffer
        let send = self.send
        let needsControlChannel = options.needsControlChannel
        let task = Task.detached {
            do {
                try await client.connect()
                try await send(client)
                if needsControlChannel {
                    // The CLI still asks this process (permissions, hooks, SDK tools) until the run
                    // ends, and answers travel over stdin: close it only then.
                    var run = RunEndTracker()
                    for try await message in client.receiveMessages() {
                        buffer.push(message)
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
