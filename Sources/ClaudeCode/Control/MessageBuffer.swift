import Synchronization

/// An unbounded, single-consumer queue of messages between the reader task and the user.
///
/// The reader never waits for the consumer, so control requests are answered however
/// slowly messages are consumed. Memory grows only while the consumer lags.
///
/// The consumer takes everything queued at once into a cache of its own, so the lock the
/// reader uses is taken about once per batch on each side, not once per message.
final class MessageBuffer: Sendable {
    private struct State {
        var items: [Message] = []
        var finished = false
        var failure: ClaudeCodeError?
        var waiter: CheckedContinuation<Message?, any Error>?
        var waiterID: UInt64 = 0
        var nextWaiterID: UInt64 = 0
    }
    /// Messages taken from `state` and not yet returned. Only the consumer touches it, so its lock is uncontended.
    private struct Taken {
        var items: [Message] = []
        var head = 0

        mutating func pop() -> Message? {
            guard head < items.count else { return nil }
            let message = items[head]
            head += 1
            if head == items.count {
                items = []
                head = 0
            }
            return message
        }
    }
    private let state = Mutex(State())
    private let taken = Mutex(Taken())

    func push(_ message: Message) {
        let waiter = state.withLock { state -> CheckedContinuation<Message?, any Error>? in
            guard !state.finished else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.items.append(message)
            return nil
        }
        waiter?.resume(returning: message)
    }

    /// Queues messages in order, waking the consumer (once) if it waits.
    func push(contentsOf batch: [Message]) {
        guard let first = batch.first else { return }
        let waiter = state.withLock { state -> CheckedContinuation<Message?, any Error>? in
            guard !state.finished else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                state.items.append(contentsOf: batch.dropFirst())
                return waiter
            }
            state.items.append(contentsOf: batch)
            return nil
        }
        waiter?.resume(returning: first)
    }

    /// Ends the stream after the queued messages; `error`, if any, is thrown once after them.
    func finish(error: ClaudeCodeError? = nil) {
        let waiter = state.withLock { state -> CheckedContinuation<Message?, any Error>? in
            guard !state.finished else { return nil }
            state.finished = true
            state.failure = error
            defer { state.waiter = nil }
            if state.waiter != nil { state.failure = nil }
            return state.waiter
        }
        if let waiter {
            if let error { waiter.resume(throwing: error) } else { waiter.resume(returning: nil) }
        }
    }

    private enum Immediate {
        case message(Message)
        case end
        case failure(ClaudeCodeError)
        case wait
    }

    /// Takes what is queued: the first message is returned, the rest kept in `taken`. Call with `state` locked.
    private func takeQueued(_ state: inout State) -> Immediate? {
        guard !state.items.isEmpty else {
            if state.finished {
                if let failure = state.failure {
                    state.failure = nil
                    return .failure(failure)
                }
                return .end
            }
            return nil
        }
        var items: [Message] = []
        swap(&items, &state.items)
        let first = items[0]
        if items.count > 1 {
            taken.withLock { taken in
                taken.items = items
                taken.head = 1
            }
        }
        return .message(first)
    }

    /// The next message; `nil` at the end. Runs on the caller's actor (`isolation`), so taking a queued
    /// message costs no executor hop.
    func next(isolation actor: isolated (any Actor)? = #isolation) async throws(ClaudeCodeError) -> Message? {
        try await next(deadline: nil, isolation: actor)
    }

    /// The next message, or ``ClaudeCodeError/Code/responseTimeout`` when none is queued by `deadline`.
    /// Nothing is lost on a timeout: the next call returns what arrives after it.
    func next(
        before deadline: ContinuousClock.Instant, timeout: Duration, isolation actor: isolated (any Actor)? = #isolation
    ) async throws(ClaudeCodeError) -> Message? {
        try await next(deadline: (deadline, timeout), isolation: actor)
    }

    private func next(
        deadline: (instant: ContinuousClock.Instant, timeout: Duration)?, isolation actor: isolated (any Actor)?
    ) async throws(ClaudeCodeError) -> Message? {
        if let message = taken.withLock({ $0.pop() }) { return message }
        let immediate = state.withLock { state -> Immediate in
            if let taken = takeQueued(&state) { return taken }
            if state.waiter != nil {
                return .failure(
                    ClaudeCodeError(
                        .invalidInput,
                        "two tasks are reading the client's messages at once; read them from one task at a time"))
            }
            return .wait
        }
        switch immediate {
        case .message(let message): return message
        case .end: return nil
        case .failure(let error): throw error
        case .wait: break
        }
        if Task.isCancelled { throw ClaudeCodeError(.cancelled, "reading messages was cancelled") }
        if let deadline, ContinuousClock.now >= deadline.instant { throw Self.timeoutError(deadline.timeout) }
        let id = state.withLock { state -> UInt64 in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        // Resumes the waiter with a timeout error at the deadline, unless a message came first.
        let timer = deadline.map { deadline in
            Task { [weak self] in
                guard (try? await Task.sleep(until: deadline.instant, clock: .continuous)) != nil else { return }
                let waiter = self?.state.withLock { state -> CheckedContinuation<Message?, any Error>? in
                    guard state.waiterID == id, let waiter = state.waiter else { return nil }
                    state.waiter = nil
                    return waiter
                }
                waiter?.resume(throwing: Self.timeoutError(deadline.timeout))
            }
        }
        defer { timer?.cancel() }
        do {
            return try await withTaskCancellationHandler(
                operation: {
                    try await withCheckedThrowingContinuation(isolation: actor) {
                        (continuation: CheckedContinuation<Message?, any Error>) in
                        let resumeNow = state.withLock { state -> Immediate? in
                            if let taken = takeQueued(&state) { return taken }
                            if Task.isCancelled {
                                return .failure(ClaudeCodeError(.cancelled, "reading messages was cancelled"))
                            }
                            state.waiter = continuation
                            state.waiterID = id
                            return nil
                        }
                        switch resumeNow {
                        case .message(let message): continuation.resume(returning: message)
                        case .end: continuation.resume(returning: nil)
                        case .failure(let error): continuation.resume(throwing: error)
                        case .wait, nil: break
                        }
                    }
                },
                onCancel: {
                    let waiter = state.withLock { state -> CheckedContinuation<Message?, any Error>? in
                        guard state.waiterID == id, let waiter = state.waiter else { return nil }
                        state.waiter = nil
                        return waiter
                    }
                    waiter?.resume(throwing: ClaudeCodeError(.cancelled, "reading messages was cancelled"))
                },
                isolation: actor)
        } catch let error as ClaudeCodeError {
            throw error
        } catch {
            throw ClaudeCodeError(.cancelled, "reading messages was cancelled", underlying: error)
        }
    }
}

extension MessageBuffer {
    static func timeoutError(_ timeout: Duration) -> ClaudeCodeError {
        ClaudeCodeError(
            .responseTimeout,
            "no result arrived within \(timeout); the turn goes on in the CLI (call interrupt() to stop it) and the connection stays usable"
        )
    }
}

/// The messages of a client, as an `AsyncSequence`.
///
/// From ``ClaudeSDKClient/receiveMessages()`` it runs until the CLI exits; from
/// ``ClaudeSDKClient/receiveResponse()`` it ends after the turn's ``ResultMessage``.
/// Read it from one task at a time.
public struct MessageStream: AsyncSequence, Sendable {
    public typealias Element = Message
    public typealias Failure = ClaudeCodeError

    let buffer: MessageBuffer?
    let stopAfterResult: Bool
    /// Whether `sdk_host_only` frames are yielded (see ``ClaudeCodeOptions/includeHostOnlyMessages``).
    var includeHostOnly: Bool = false
    /// A deadline for the result (see ``ClaudeSDKClient/receiveResponse(timeout:)``).
    var resultTimeout: Duration? = nil

    /// A stream whose first `next()` throws ``ClaudeCodeError/Code/notConnected``.
    package static func notConnected(stopAfterResult: Bool) -> MessageStream {
        MessageStream(buffer: nil, stopAfterResult: stopAfterResult)
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(
            buffer: buffer, stopAfterResult: stopAfterResult, includeHostOnly: includeHostOnly,
            deadline: resultTimeout.map { (ContinuousClock.now.advanced(by: $0), $0) })
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let buffer: MessageBuffer?
        let stopAfterResult: Bool
        var includeHostOnly = false
        /// When the result must have arrived, and the timeout it came from (for the message).
        var deadline: (ContinuousClock.Instant, Duration)?
        var done = false

        public mutating func next() async throws(ClaudeCodeError) -> Message? {
            try await next(isolation: nil)
        }

        /// The next message, read on the caller's actor (no executor hop when one is queued).
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(ClaudeCodeError) -> Message? {
            guard !done else { return nil }
            guard let buffer else {
                done = true
                throw ClaudeCodeError(.notConnected, "the client is not connected; call connect() first")
            }
            do {
                while true {
                    let next: Message?
                    if let deadline {
                        next = try await buffer.next(before: deadline.0, timeout: deadline.1, isolation: actor)
                    } else {
                        next = try await buffer.next(isolation: actor)
                    }
                    guard let message = next else {
                        done = true
                        return nil
                    }
                    if !includeHostOnly, message.isHostOnly { continue }
                    if stopAfterResult, case .result = message { done = true }
                    return message
                }
            } catch {
                done = true
                throw error
            }
        }
    }
}

extension Message {
    /// Whether the CLI marked this frame `sdk_host_only: true` (for the SDK host, not the user),
    /// like the `session_state_changed` frames; such messages are left out of the default streams.
    public var isHostOnly: Bool {
        guard case .system(let system) = self else { return false }
        return system.data["sdk_host_only"]?.boolValue == true
    }
}
