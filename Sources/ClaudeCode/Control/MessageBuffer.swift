import Synchronization

/// An unbounded, single-consumer queue of messages between the reader task and the user.
///
/// The reader never waits for the consumer, so control requests are answered however
/// slowly messages are consumed. Memory grows only while the consumer lags.
///
/// A message may be pushed behind a ``DeliveryGate``: the consumer gets it (and everything
/// after it) only once the gate opens, preceded by the messages the gate was opened with.
/// The reader is never held up by a gate.
final class MessageBuffer: Sendable {
    private struct Item {
        var message: Message
        var gate: DeliveryGate?
    }
    private struct State {
        var items: [Item] = []
        var head = 0
        var finished = false
        var failure: ClaudeCodeError?
        var waiter: CheckedContinuation<Void, any Error>?
        var waiterID: UInt64 = 0
        var nextWaiterID: UInt64 = 0
    }
    private let state = Mutex(State())

    /// Queues a message; with a `gate`, it is held back until the gate opens.
    func push(_ message: Message, gate: DeliveryGate? = nil) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            guard !state.finished else { return nil }
            state.items.append(Item(message: message, gate: gate))
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Ends the stream after the queued messages; `error`, if any, is thrown once after them.
    func finish(error: ClaudeCodeError? = nil) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            guard !state.finished else { return nil }
            state.finished = true
            state.failure = error
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    var isFinished: Bool { state.withLock { $0.finished && $0.head == $0.items.count } }

    private enum Step {
        case message(Message)
        case end
        case failure(ClaudeCodeError)
        case gate(DeliveryGate)
        case wait
    }

    private static func step(_ state: inout State) -> Step {
        while state.head < state.items.count {
            let item = state.items[state.head]
            if let gate = item.gate {
                guard let extras = gate.openedWith else { return .gate(gate) }
                state.items.replaceSubrange(
                    state.head..<(state.head + 1),
                    with: extras.map { Item(message: $0, gate: nil) } + [Item(message: item.message, gate: nil)])
                continue
            }
            state.head += 1
            if state.head > 1024 && state.head * 2 > state.items.count {
                state.items.removeFirst(state.head)
                state.head = 0
            }
            return .message(item.message)
        }
        if state.finished {
            if let failure = state.failure {
                state.failure = nil
                return .failure(failure)
            }
            return .end
        }
        return .wait
    }

    func next() async throws(ClaudeCodeError) -> Message? {
        while true {
            switch state.withLock({ Self.step(&$0) }) {
            case .message(let message): return message
            case .end: return nil
            case .failure(let error): throw error
            case .gate(let gate): try await gate.wait()
            case .wait: try await waitForChange()
            }
        }
    }

    /// Waits until a message is pushed or the stream finishes.
    private func waitForChange() async throws(ClaudeCodeError) {
        if Task.isCancelled { throw ClaudeCodeError(.cancelled, "reading messages was cancelled") }
        let id = state.withLock { state -> UInt64 in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        enum Registration { case ready, busy, cancelled, registered }
        do {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let registration = state.withLock { state -> Registration in
                        if state.head < state.items.count || state.finished { return .ready }
                        if state.waiter != nil { return .busy }
                        if Task.isCancelled { return .cancelled }
                        state.waiter = continuation
                        state.waiterID = id
                        return .registered
                    }
                    switch registration {
                    case .ready: continuation.resume()
                    case .busy:
                        continuation.resume(
                            throwing: ClaudeCodeError(
                                .invalidInput,
                                "two tasks are reading the client's messages at once; read them from one task at a time"))
                    case .cancelled: continuation.resume(throwing: ClaudeCodeError(.cancelled, "reading messages was cancelled"))
                    case .registered: break
                    }
                }
            } onCancel: {
                let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                    guard state.waiterID == id, let waiter = state.waiter else { return nil }
                    state.waiter = nil
                    return waiter
                }
                waiter?.resume(throwing: ClaudeCodeError(.cancelled, "reading messages was cancelled"))
            }
        } catch let error as ClaudeCodeError {
            throw error
        } catch {
            throw ClaudeCodeError(.cancelled, "reading messages was cancelled", underlying: error)
        }
    }
}

/// Holds a queued message back until some asynchronous work is done (see ``MessageBuffer``).
final class DeliveryGate: Sendable {
    private struct State {
        var extras: [Message]?
        var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var nextID: UInt64 = 0
    }
    private let state = Mutex(State())

    /// `nil` while closed; once open, the messages to deliver before the held one.
    var openedWith: [Message]? { state.withLock { $0.extras } }

    /// Opens the gate; `extras` are delivered before the held message. Only the first call counts.
    func open(_ extras: [Message] = []) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            guard state.extras == nil else { return [] }
            state.extras = extras
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits until the gate opens; throws ``ClaudeCodeError/Code/cancelled`` if the task is cancelled first.
    func wait() async throws(ClaudeCodeError) {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        do {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let ready = state.withLock { state -> Bool? in
                        if state.extras != nil { return true }
                        if Task.isCancelled { return false }
                        state.waiters[id] = continuation
                        return nil
                    }
                    switch ready {
                    case true?: continuation.resume()
                    case false?: continuation.resume(throwing: ClaudeCodeError(.cancelled, "reading messages was cancelled"))
                    case nil: break
                    }
                }
            } onCancel: {
                let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
                waiter?.resume(throwing: ClaudeCodeError(.cancelled, "reading messages was cancelled"))
            }
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

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(buffer: buffer, stopAfterResult: stopAfterResult)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let buffer: MessageBuffer?
        let stopAfterResult: Bool
        var done = false

        public mutating func next() async throws(ClaudeCodeError) -> Message? {
            guard !done else { return nil }
            guard let buffer else {
                done = true
                throw ClaudeCodeError(.notConnected, "the client is not connected; call connect() first")
            }
            do {
                guard let message = try await buffer.next() else {
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
