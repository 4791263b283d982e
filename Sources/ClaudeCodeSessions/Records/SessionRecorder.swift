import ClaudeCode
import Dispatch
import Foundation
import Logging
import Synchronization

/// A record store that can append on the calling thread (``FileRecordStore``): the recorder
/// then writes every frame into the journal inside the observer call, before the frame is
/// delivered or sent.
protocol SynchronousRecordStore: SessionRecordStore {
    /// Opens (creating when missing, without a disk flush) the record of `id` on the calling thread.
    func openRecordNow(
        _ id: SessionID, startTime: Date, workingDirectory: String, options: [String: JSONValue]
    ) throws(SessionStoreError) -> SessionWriter
}

extension FileRecordStore: SynchronousRecordStore {
    func openRecordNow(
        _ id: SessionID, startTime: Date, workingDirectory: String, options: [String: JSONValue]
    ) throws(SessionStoreError) -> SessionWriter {
        let writer = makeWriter(for: id, workingDirectory: workingDirectory, options: options, startTime: startTime)
        try writer.prepareNow()
        return writer
    }
}

/// Turns the frames a client sends and receives into session records.
///
/// ``record(_:)`` is the client's `FrameObserver`: it runs on the reader task for every inbound
/// frame *before* the frame is routed to the consumer, and on the sending path for every
/// outbound frame *before* it is written to the CLI.
///
/// - **Stores that append synchronously** (``FileRecordStore``): ``record(_:)`` writes the frame
///   into the session's journal itself (one `write(2)`, microseconds, no `fsync`), so a frame the
///   consumer can see, and a prompt whose `query()` returned, is in the record and survives a
///   crash of the process. The record is opened in the same call, at the frame that confirms the
///   session; frames held before it are written first. Checkpoints (`fsync`) and folds run
///   elsewhere and never hold the journal's lock while they work.
/// - **Other stores** (databases, user stores): ``record(_:)`` queues the frame for one recorder
///   task (the only caller of the store, in wire order). The queue holds at most
///   ``limitBytes`` of frames: past it, an inbound frame's ``record(_:)`` waits (on the reader,
///   which stops reading the CLI's output: back-pressure) until the store catches up. A slow
///   store slows the conversation, not memory.
final class SessionRecorder: Sendable {
    /// The default bound on frames held in memory: 32 MiB.
    static let defaultLimitBytes = 32 << 20

    private let mode: Mode
    private let shared: SharedBox
    let limitBytes: Int

    private enum Mode: Sendable {
        case synchronous(SyncRecorder)
        case queued(QueuedRecorder)
    }

    private struct Shared {
        var currentSessionID: String?
    }

    private final class SharedBox: Sendable {
        let state: Mutex<Shared>
        init(_ value: Shared) { state = Mutex(value) }
    }

    init(
        store: any SessionRecordStore, expectedSessionID: SessionID?, workingDirectory: String,
        options: [String: JSONValue], events: PersistenceEventHub, logger: Logger,
        limitBytes: Int = SessionRecorder.defaultLimitBytes
    ) {
        self.shared = SharedBox(Shared(currentSessionID: expectedSessionID?.rawValue))
        let limit = max(64 * 1024, limitBytes)
        self.limitBytes = limit
        let context = Context(
            workingDirectory: workingDirectory, options: options, events: events, logger: logger)
        if let synchronous = store as? any SynchronousRecordStore {
            mode = .synchronous(SyncRecorder(store: synchronous, context: context, limitBytes: limit))
        } else {
            mode = .queued(QueuedRecorder(store: store, context: context, limitBytes: limit))
        }
    }

    /// The session id recorded into, once known.
    var currentSessionID: String? { shared.state.withLock { $0.currentSessionID } }

    /// Records one frame (see the type's description for when it is written).
    ///
    /// The session id is taken here, on the reader, so ``currentSessionID`` is up to date
    /// before the consumer sees the frame.
    func record(_ frame: WireFrame) {
        var sessionID: String?
        if frame.direction == .inbound, let id = frame.json?["session_id"]?.stringValue,
            SessionID(rawValue: id) != nil
        {
            sessionID = id
            shared.state.withLock { $0.currentSessionID = id }
        }
        let direction: ConversationMessage.Direction = frame.direction == .inbound ? .received : .sent
        let type = frame.json == nil ? ConversationMessage.invalidType : frame.type
        let message: ConversationMessage
        if let json = frame.json {
            // The core parsed these bytes: no second validation on the reader's task.
            message = ConversationMessage(
                direction: direction, type: type, subtype: json["subtype"]?.stringValue,
                parsedRawJSON: frame.raw.bytes, timestamp: frame.timestamp)
        } else {
            message = ConversationMessage(
                direction: direction, type: type, subtype: nil, rawJSON: frame.raw.bytes, timestamp: frame.timestamp)
        }
        // The CLI confirms a session with its `system/init` (or a conversation frame): only then is a
        // record created, so a connection the CLI refuses (an unknown --resume id answers with a lone
        // error result carrying that id) leaves nothing behind.
        let confirms =
            sessionID != nil
            && (type == "assistant" || type == "user" || type == "stream_event"
                || (type == "system" && message.subtype == "init"))
        let confirmed = confirms ? sessionID.flatMap(SessionID.init(rawValue:)) : nil
        let endsTurn = frame.direction == .inbound && type == "result"
        switch mode {
        case .synchronous(let recorder):
            recorder.record(message, confirming: confirmed)
        case .queued(let recorder):
            recorder.record(
                message, confirming: confirmed, endsTurn: endsTurn, mayWait: frame.direction == .inbound)
        }
    }

    /// Waits until everything recorded so far is stored and checkpointed (made durable per
    /// the store's policy). Does not wait for a fold.
    func flush() async {
        switch mode {
        case .synchronous(let recorder): await recorder.flush()
        case .queued(let recorder): await recorder.flush()
        }
    }

    /// Stores and checkpoints everything, then stops.
    func close() async {
        switch mode {
        case .synchronous(let recorder): await recorder.close()
        case .queued(let recorder): await recorder.close()
        }
    }

    /// The bytes of frames held in memory (not yet written), for tests and benchmarks.
    var heldBytes: Int {
        switch mode {
        case .synchronous(let recorder): recorder.heldBytes
        case .queued(let recorder): recorder.heldBytes
        }
    }

    /// The most bytes of frames held in memory at once, for tests and benchmarks.
    var peakHeldBytes: Int {
        switch mode {
        case .synchronous(let recorder): recorder.peakHeldBytes
        case .queued(let recorder): recorder.peakHeldBytes
        }
    }

    static func cost(_ message: ConversationMessage) -> Int { message.rawJSON.count + 128 }

    struct Context: Sendable {
        let workingDirectory: String
        let options: [String: JSONValue]
        let events: PersistenceEventHub
        let logger: Logger
    }
}

// MARK: - Writing in the observer call

/// Records into a ``SynchronousRecordStore`` inside ``SessionRecorder/record(_:)``.
final class SyncRecorder: Sendable {
    private struct State {
        /// The confirmed session frames go to; `nil` until the CLI confirms one.
        var current: SessionID?
        var writers: [SessionID: SessionWriter] = [:]
        /// Frames not yet written: before the session is confirmed, or after a failed write.
        var pending: [ConversationMessage] = []
        var pendingBytes = 0
        var peakBytes = 0
        var closed = false
        var lastOpenError: SessionStoreError?
        var droppedBeforeConfirmation = 0
    }

    private let store: any SynchronousRecordStore
    private let context: SessionRecorder.Context
    private let limitBytes: Int
    private let state = Mutex(State())

    init(store: any SynchronousRecordStore, context: SessionRecorder.Context, limitBytes: Int) {
        self.store = store
        self.context = context
        self.limitBytes = limitBytes
    }

    var heldBytes: Int { state.withLock { $0.pendingBytes } }
    var peakHeldBytes: Int { state.withLock { $0.peakBytes } }

    /// Writes the frame (and any held before it) into the journal before returning. The
    /// recorder's mutex keeps the reader's and the sender's frames in wire order.
    func record(_ message: ConversationMessage, confirming id: SessionID?) {
        state.withLock { state in
            if let id, id != state.current { state.current = id }
            if state.current == nil && state.pendingBytes >= limitBytes {
                // The CLI has not confirmed a session and keeps talking: hold no more.
                state.droppedBeforeConfirmation += 1
                return
            }
            state.pending.append(message)
            state.pendingBytes += SessionRecorder.cost(message)
            state.peakBytes = max(state.peakBytes, state.pendingBytes)
            write(&state)
        }
    }

    /// Hands pending frames to the current session's writer, opening it when needed.
    private func write(_ state: inout State) {
        guard let id = state.current, !state.pending.isEmpty else { return }
        let writer: SessionWriter
        if let existing = state.writers[id] {
            writer = existing
        } else {
            do {
                writer = try store.openRecordNow(
                    id, startTime: state.pending.first?.timestamp ?? Date(),
                    workingDirectory: context.workingDirectory, options: context.options)
                state.writers[id] = writer
                state.lastOpenError = nil
            } catch {
                // Held in memory and retried with the next frame or checkpoint.
                if state.lastOpenError != error {
                    state.lastOpenError = error
                    context.logger.error("recording session \(id) failed: \(error)")
                    context.events.emit(
                        PersistenceEvent(kind: .writeFailed, sessionID: id, error: error, path: error.path))
                }
                return
            }
        }
        // The writer reports its own failures (once per distinct error); what it did not write stays here.
        let (written, _) = writer.appendNow(state.pending)
        if written == state.pending.count {
            state.pending.removeAll(keepingCapacity: true)
            state.pendingBytes = 0
        } else if written > 0 {
            for message in state.pending[..<written] { state.pendingBytes -= SessionRecorder.cost(message) }
            state.pending.removeFirst(written)
        }
    }

    func flush() async {
        let writer = state.withLock { state -> SessionWriter? in
            write(&state)
            return state.current.flatMap { state.writers[$0] }
        }
        // Failures are reported by the writer (checkpointFailed) and retried at the next checkpoint.
        try? await writer?.checkpoint()
    }

    func close() async {
        let (writers, unconfirmed, dropped) = state.withLock { state in
            write(&state)
            state.closed = true
            let writers = state.writers
            state.writers = [:]
            return (writers, state.current == nil ? state.pending.count : 0, state.droppedBeforeConfirmation)
        }
        if unconfirmed + dropped > 0 {
            context.logger.warning("\(unconfirmed + dropped) frames not recorded: the CLI never confirmed a session")
        }
        for (id, writer) in writers {
            do {
                try await writer.close()
            } catch {
                context.logger.error("recording session \(id) failed: \(error)")
            }
        }
    }
}

// MARK: - A bounded queue for other stores

/// Records into any ``SessionRecordStore`` through one recorder task, with at most
/// `limitBytes` of frames queued.
final class QueuedRecorder: Sendable {
    private enum Command: Sendable {
        case frame(ConversationMessage, confirming: SessionID?, endsTurn: Bool)
        case flush(CheckedContinuation<Void, Never>)
    }

    /// Bytes queued; guarded by `condition` (record waits on it when over the limit).
    private final class Budget: @unchecked Sendable {
        let condition = NSCondition()
        var queued = 0
        var peak = 0
        var closed = false

        func release(_ cost: Int) {
            condition.lock()
            queued -= cost
            condition.broadcast()
            condition.unlock()
        }

        func finish() {
            condition.lock()
            closed = true
            condition.broadcast()
            condition.unlock()
        }
    }

    private let commands: AsyncStream<Command>.Continuation
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)
    private let budget = Budget()
    private let limitBytes: Int

    init(store: any SessionRecordStore, context: SessionRecorder.Context, limitBytes: Int) {
        self.limitBytes = limitBytes
        let (stream, continuation) = AsyncStream<Command>.makeStream(bufferingPolicy: .unbounded)
        self.commands = continuation
        let budget = self.budget
        let initial = Worker(store: store, context: context)
        // Its own threads: a reader waiting for room must never starve the task that makes it.
        let task = Task.detached(executorPreference: BlockingIO.Lane(label: "claude.sessions.recorder")) {
            var worker = initial
            for await command in stream {
                switch command {
                case .frame(let message, let id, let endsTurn):
                    await worker.handle(message, confirming: id, endsTurn: endsTurn)
                    budget.release(SessionRecorder.cost(message))
                case .flush(let done):
                    await worker.checkpoint()
                    done.resume()
                }
            }
            await worker.close()
        }
        self.task.withLock { $0 = task }
    }

    deinit {
        commands.finish()
        budget.finish()
    }

    var heldBytes: Int {
        budget.condition.lock()
        defer { budget.condition.unlock() }
        return budget.queued
    }

    var peakHeldBytes: Int {
        budget.condition.lock()
        defer { budget.condition.unlock() }
        return budget.peak
    }

    /// Queues a frame. An inbound frame waits while the queue holds `limitBytes` or more (the
    /// reader then stops reading the CLI's output); an outbound one never waits.
    func record(_ message: ConversationMessage, confirming id: SessionID?, endsTurn: Bool, mayWait: Bool) {
        let cost = SessionRecorder.cost(message)
        budget.condition.lock()
        while mayWait && !budget.closed && budget.queued > 0 && budget.queued + cost > limitBytes {
            budget.condition.wait()
        }
        budget.queued += cost
        budget.peak = max(budget.peak, budget.queued)
        budget.condition.unlock()
        if case .terminated = commands.yield(.frame(message, confirming: id, endsTurn: endsTurn)) {
            budget.release(cost)
        }
    }

    func flush() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            if case .terminated = commands.yield(.flush(continuation)) { continuation.resume() }
        }
    }

    func close() async {
        commands.finish()
        await task.withLock { $0 }?.value
        budget.finish()
    }

    /// The recorder task's state; only that task touches it.
    private struct Worker: Sendable {
        let store: any SessionRecordStore
        let context: SessionRecorder.Context
        var current: SessionID?
        var writers: [SessionID: any SessionRecordWriter] = [:]
        var pending: [ConversationMessage] = []
        var dirty = false

        init(store: any SessionRecordStore, context: SessionRecorder.Context) {
            self.store = store
            self.context = context
        }

        /// Records one message. A newly confirmed session id (the first, or a fork's) starts a record
        /// of its own; the old record is left intact.
        mutating func handle(_ message: ConversationMessage, confirming id: SessionID?, endsTurn: Bool) async {
            if let id, id != current { current = id }
            pending.append(message)
            await write()
            if endsTurn { await checkpoint() }
        }

        /// Hands pending messages to the current session's writer (held in memory until there is one).
        private mutating func write() async {
            guard let id = current, !pending.isEmpty else { return }
            let writer: any SessionRecordWriter
            if let existing = writers[id] {
                writer = existing
            } else {
                do {
                    writer = try await store.openRecord(
                        id, startTime: pending.first?.timestamp ?? Date(), workingDirectory: context.workingDirectory,
                        options: context.options)
                    writers[id] = writer
                } catch {
                    report(error, id)
                    return
                }
            }
            do {
                try await writer.append(pending)
                pending.removeAll(keepingCapacity: true)
                dirty = true
            } catch {
                // Kept in memory and retried with the next frame.
                report(error, id)
            }
        }

        mutating func checkpoint() async {
            await write()
            guard let id = current, dirty, let writer = writers[id] else { return }
            do {
                try await writer.checkpoint()
                dirty = false
            } catch {
                report(error, id)
            }
        }

        mutating func close() async {
            await write()
            if !pending.isEmpty {
                context.logger.warning("\(pending.count) frames not recorded: the CLI never confirmed a session")
            }
            for (id, writer) in writers {
                do {
                    try await writer.close()
                } catch {
                    report(error, id)
                }
            }
            writers = [:]
        }

        private func report(_ error: SessionStoreError, _ id: SessionID) {
            context.logger.error("recording session \(id) failed: \(error)")
            context.events.emit(PersistenceEvent(kind: .writeFailed, sessionID: id, error: error, path: error.path))
        }
    }
}
