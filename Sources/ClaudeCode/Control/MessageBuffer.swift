import Foundation
import Logging
import Synchronization

/// How much of a client's message queue is held in memory and how much was spilled to disk.
///
/// See ``ClaudeCodeOptions/messageMemoryBudget`` and ``ClaudeSDKClient/messageQueueStatistics``.
public struct MessageQueueStatistics: Sendable, Hashable {
    /// The memory budget of the queue, in bytes.
    public var memoryBudget: Int
    /// The estimated memory the queued messages hold now, in bytes (see `MessageBuffer/cost(of:)`).
    public var queuedBytes: Int
    /// The largest ``queuedBytes`` seen.
    public var peakQueuedBytes: Int
    /// Messages written to the spill file so far (all of them, read back or not).
    public var spilledMessages: Int
    /// Bytes in the spill (on disk and waiting to be written) not yet read back.
    public var spilledBytes: Int
    /// The largest ``spilledBytes`` seen.
    public var peakSpilledBytes: Int
    /// Why spilled messages stay in memory, if writing the spill file failed (a full disk).
    public var spillFailure: String?
}

/// A message on its way to a ``MessageBuffer``: built, or still the frame's bytes (while the buffer spills,
/// the reader does not build messages that would only be written to disk; see ``MessageBuffer/isSpilling``).
enum QueuedMessage: Sendable {
    case message(Message)
    /// A frame the reader parsed as a JSON object (not a `result`).
    case frame(RawJSON)

    /// The message, decoded from the frame's bytes if need be.
    var decoded: Message {
        switch self {
        case .message(let message): return message
        case .frame(let raw): return Message(line: raw.bytes)
        }
    }
}

/// The single-consumer queue of messages between the reader task and the user, bounded in memory.
///
/// The reader never waits for the consumer, so control requests (the CLI's and the answers to ours)
/// are handled however slowly messages are consumed. Messages are kept in memory up to the budget;
/// past it, every new message goes to a ``MessageSpill`` (a private temporary file) and is read back
/// in order, so nothing is lost or reordered and memory stays flat. Once the consumer has read the
/// spill to its end, messages are kept in memory again.
///
/// Order: the consumer's cache (`taken`) is older than `items`, which is older than the spill. So a
/// message is spilled while the spill is not empty, or when it would take the queue past the budget
/// (and the queue holds something: a message is never spilled into an empty queue).
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
        var spill: MessageSpill?
        var spilledMessages = 0
        var peakQueuedBytes = 0
        var peakSpilledBytes = 0
        var reportedDiskFailure = false
    }
    /// Messages taken from `state` and not yet returned. Only the consumer touches it, so its lock is uncontended.
    private struct Taken {
        var items: [Message] = []
        var head = 0
        /// Spilled bytes read back since the allocator was last asked to return free memory.
        var readBackSinceTrim = 0

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
    /// The estimated memory of the messages in `items` and `taken`. Added under `state`'s lock, taken off
    /// as the consumer returns messages.
    private let queuedBytes = Atomic<Int>(0)
    /// Whether the spill holds messages (so new ones go there too). Set under `state`'s lock.
    private let spilling = Atomic<Bool>(false)
    let memoryBudget: Int
    private let spillDirectory: String
    private let spillSegmentSize: Int
    private let logger: Logger?

    /// - Parameters:
    ///   - memoryBudget: Past this many bytes (``cost(of:)``) queued in memory, messages are spilled to disk.
    ///   - spillDirectory: Where the spill files are made; `nil`: the temporary directory.
    ///   - spillSegmentSize: The size at which a new spill file is started (tests make it small).
    init(
        memoryBudget: Int = ClaudeCodeOptions.defaultMessageMemoryBudget, spillDirectory: String? = nil,
        spillSegmentSize: Int = 32 << 20, logger: Logger? = nil
    ) {
        self.memoryBudget = max(0, memoryBudget)
        self.spillSegmentSize = spillSegmentSize
        self.spillDirectory = spillDirectory ?? NSTemporaryDirectory()
        self.logger = logger
    }

    /// The memory a queued message is counted for: three times its frame's bytes (the frame, the strings
    /// and values decoded from it, and the allocator's overhead, as measured) and a fixed 512 for the
    /// objects that hold them.
    @inline(__always)
    static func cost(of message: Message) -> Int {
        cost(frameBytes: message.raw.bytes.count)
    }

    @inline(__always)
    static func cost(frameBytes: Int) -> Int {
        frameBytes &* 3 &+ 512
    }

    @inline(__always)
    static func cost(of element: QueuedMessage) -> Int {
        switch element {
        case .message(let message): return cost(of: message)
        case .frame(let raw): return cost(frameBytes: raw.bytes.count)
        }
    }

    var statistics: MessageQueueStatistics {
        let queued = queuedBytes.load(ordering: .relaxed)
        return state.withLock { state in
            MessageQueueStatistics(
                memoryBudget: memoryBudget, queuedBytes: queued, peakQueuedBytes: state.peakQueuedBytes,
                spilledMessages: state.spilledMessages, spilledBytes: state.spill?.byteCount ?? 0,
                peakSpilledBytes: state.peakSpilledBytes, spillFailure: state.spill?.diskFailure)
        }
    }

    /// Whether messages are going to the spill now: the reader may then hand over frames unbuilt.
    var isSpilling: Bool { spilling.load(ordering: .relaxed) }

    func push(_ message: Message) {
        push(queued: CollectionOfOne(.message(message)))
    }

    /// Queues messages in order, waking the consumer (once) if it waits.
    func push(contentsOf batch: [Message]) {
        push(queued: batch.lazy.map(QueuedMessage.message))
    }

    /// Queues messages in order, waking the consumer (once) if it waits. A frame is decoded only if it is
    /// kept in memory; spilled, it is written as it is.
    func push<Batch: Collection<QueuedMessage>>(queued batch: Batch) {
        guard !batch.isEmpty else { return }
        var diskFailure: String?
        let handOff = state.withLock { state -> (CheckedContinuation<Message?, any Error>, Message)? in
            guard !state.finished else { return nil }
            var handOff: (CheckedContinuation<Message?, any Error>, Message)?
            var queued = queuedBytes.load(ordering: .relaxed)
            var added = 0
            for element in batch {
                if let waiter = state.waiter, handOff == nil {
                    // The consumer waits, so nothing is queued: hand the first message over.
                    state.waiter = nil
                    handOff = (waiter, element.decoded)
                    continue
                }
                let cost = Self.cost(of: element)
                if let spill = state.spill, !spill.isEmpty {
                    spill.append(element)
                    state.spilledMessages += 1
                } else if queued > 0, queued &+ cost > memoryBudget {
                    let spill =
                        state.spill
                        ?? MessageSpill(
                            directory: spillDirectory, memoryBudget: memoryBudget, segmentSize: spillSegmentSize)
                    state.spill = spill
                    spill.append(element)
                    state.spilledMessages += 1
                    spilling.store(true, ordering: .relaxed)
                } else {
                    state.items.append(element.decoded)
                    queued &+= cost
                    added &+= cost
                }
            }
            if added > 0 {
                queuedBytes.add(added, ordering: .relaxed)
                if queued > state.peakQueuedBytes { state.peakQueuedBytes = queued }
            }
            if let spill = state.spill {
                if spill.byteCount > state.peakSpilledBytes { state.peakSpilledBytes = spill.byteCount }
                if let failure = spill.diskFailure, !state.reportedDiskFailure {
                    state.reportedDiskFailure = true
                    diskFailure = failure
                }
            }
            return handOff
        }
        if let diskFailure {
            logger?.warning(
                "\(diskFailure): messages the consumer has not read are kept in memory from now on, past the budget")
        }
        handOff?.0.resume(returning: handOff?.1)
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
        /// Records read back from the spill, to decode (outside the lock).
        case spilled([UInt8])
        case end
        case failure(ClaudeCodeError)
        case wait
    }

    /// Takes what is queued: in memory (the first message is returned, the rest kept in `taken`), or else a
    /// chunk of the spill. Call with `state` locked.
    private func takeQueued(_ state: inout State) -> Immediate? {
        guard !state.items.isEmpty else {
            if let spill = state.spill, !spill.isEmpty {
                do throws(ClaudeCodeError) {
                    let records = try spill.take(maxCost: max(1, memoryBudget / 2))
                    if spill.isEmpty { spilling.store(false, ordering: .relaxed) }
                    // Counted now, under the lock, so the reader cannot fill the budget in the meantime.
                    let cost = MessageSpill.cost(ofRecords: records)
                    let queued = queuedBytes.add(cost, ordering: .relaxed).newValue
                    state.peakQueuedBytes = max(state.peakQueuedBytes, queued)
                    return .spilled(records)
                } catch {
                    // The rest cannot be read in order: end the stream with the error.
                    state.spill = nil
                    spilling.store(false, ordering: .relaxed)
                    state.finished = true
                    state.failure = nil
                    return .failure(error)
                }
            }
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
        queuedBytes.subtract(Self.cost(of: first), ordering: .relaxed)
        if items.count > 1 {
            taken.withLock { taken in
                taken.items = items
                taken.head = 1
            }
        }
        return .message(first)
    }

    /// Decodes records read back from the spill: returns the first message and caches the rest.
    private func unspill(_ records: [UInt8]) -> Message? {
        let trim = taken.withLock { taken -> Bool in
            taken.readBackSinceTrim &+= records.count
            guard taken.readBackSinceTrim >= max(memoryBudget / 4, 1 << 20) else { return false }
            taken.readBackSinceTrim = 0
            return true
        }
        if trim { FreeMemory.release() }
        let messages = MessageSpill.decode(records)
        guard let first = messages.first else { return nil }
        queuedBytes.subtract(Self.cost(of: first), ordering: .relaxed)
        if messages.count > 1 {
            taken.withLock { taken in
                taken.items = messages
                taken.head = 1
            }
        }
        return first
    }

    private func popTaken() -> Message? {
        guard let message = taken.withLock({ $0.pop() }) else { return nil }
        queuedBytes.subtract(Self.cost(of: message), ordering: .relaxed)
        return message
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
        while true {
            if let message = popTaken() { return message }
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
            case .spilled(let records):
                if let message = unspill(records) { return message }
                continue
            case .end: return nil
            case .failure(let error): throw error
            case .wait: break
            }
            break
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
                        case .spilled(let records):
                            // Only when a message larger than the budget went straight to the spill since the
                            // check above; decoding here is rare.
                            if let message = unspill(records) {
                                continuation.resume(returning: message)
                            } else {
                                continuation.resume(
                                    throwing: ClaudeCodeError(
                                        .messageSpillFailed, "the message spill returned no whole message"))
                            }
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

/// Asks the allocator to return free memory to the system.
///
/// While the spill is in use, the reader task allocates messages' bytes and the consumer frees them,
/// usually on other threads; glibc then spreads the churn over several arenas, each keeping its freed
/// pages, and resident memory creeps up over a long stream (measured: from 50 to 80 MiB over 700k
/// spilled messages, against 50 MiB flat with one arena). `malloc_trim(0)` gives those free pages
/// back; the consumer calls it once per budget's worth of spilled bytes read back (a few milliseconds
/// at most). It is looked up at run time (Glibc's module does not export it); elsewhere, nothing.
package enum FreeMemory {
    #if os(Linux)
        private typealias Trim = @convention(c) (Int) -> Int32
        private static let trim: Trim? = {
            guard let symbol = dlsym(nil, "malloc_trim") else { return nil }
            return unsafeBitCast(symbol, to: Trim.self)
        }()
    #endif

    package static func release() {
        #if os(Linux)
            _ = trim?(0)
        #endif
    }
}
