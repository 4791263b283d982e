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
        let id = state.withLock { state -> UInt64 in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
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

    /// A stream whose first `next()` throws ``ClaudeCodeError/Code/notConnected``.
    package static func notConnected(stopAfterResult: Bool) -> MessageStream {
        MessageStream(buffer: nil, stopAfterResult: stopAfterResult)
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(buffer: buffer, stopAfterResult: stopAfterResult)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let buffer: MessageBuffer?
        let stopAfterResult: Bool
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
                guard let message = try await buffer.next(isolation: actor) else {
                    done = true
                    return nil
                }
                if stopAfterResult, case .result = message { done = true }
                return message
            } catch {
                done = true
                throw error
            }
        }
    }
}
