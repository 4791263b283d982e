import ClaudeCode
import Foundation
import Logging
import Synchronization

/// Turns the frames a client sends and receives into session records.
///
/// Ownership: ``record(_:)`` runs on the client's reader or sending task and only enqueues;
/// one recorder task owns every store call, so records reach the store in wire order and
/// the message stream never waits for the disk.
final class SessionRecorder: Sendable {
    private enum Command: Sendable {
        case frame(ConversationMessage, sessionID: String?, endsTurn: Bool)
        case flush(CheckedContinuation<Void, Never>)
    }

    private struct Shared {
        var currentSessionID: String?
        var closed = false
    }

    private final class SharedBox: Sendable {
        let state: Mutex<Shared>
        init(_ value: Shared) { state = Mutex(value) }
    }

    private let commands: AsyncStream<Command>.Continuation
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)
    private let shared: SharedBox

    init(
        store: any SessionRecordStore, expectedSessionID: SessionID?, workingDirectory: String,
        options: [String: JSONValue], events: PersistenceEventHub, logger: Logger
    ) {
        let (stream, continuation) = AsyncStream<Command>.makeStream(bufferingPolicy: .unbounded)
        self.commands = continuation
        self.shared = SharedBox(Shared(currentSessionID: expectedSessionID?.rawValue))
        let worker = Worker(
            store: store, current: expectedSessionID, workingDirectory: workingDirectory, options: options,
            events: events, logger: logger)
        let shared = self.shared
        let task = Task.detached {
            var worker = worker
            for await command in stream {
                switch command {
                case .frame(let message, let sessionID, let endsTurn):
                    if let id = await worker.handle(message, sessionID: sessionID, endsTurn: endsTurn) {
                        shared.state.withLock { $0.currentSessionID = id.rawValue }
                    }
                case .flush(let done):
                    await worker.checkpoint()
                    done.resume()
                }
            }
            await worker.checkpoint()
        }
        self.task.withLock { $0 = task }
    }

    /// The session id recorded into, once known.
    var currentSessionID: String? { shared.state.withLock { $0.currentSessionID } }

    deinit {
        // Nothing more can arrive; the task stores what it holds and ends.
        commands.finish()
    }

    /// Enqueues one frame. Cheap and non-blocking.
    func record(_ frame: WireFrame) {
        let sessionID = frame.direction == .inbound ? frame.json?["session_id"]?.stringValue : nil
        let type = frame.json == nil ? ConversationMessage.invalidType : frame.type
        let message = ConversationMessage(
            direction: frame.direction == .inbound ? .received : .sent, type: type,
            subtype: frame.json?["subtype"]?.stringValue, rawJSON: frame.raw.bytes, timestamp: frame.timestamp)
        commands.yield(.frame(message, sessionID: sessionID, endsTurn: frame.direction == .inbound && type == "result"))
    }

    /// Waits until everything enqueued so far is stored and checkpointed.
    func flush() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            if case .terminated = commands.yield(.flush(continuation)) { continuation.resume() }
        }
    }

    /// Stores and checkpoints everything, then stops.
    func close() async {
        commands.finish()
        await task.withLock { $0 }?.value
    }

    /// The recorder task's state; only that task touches it.
    private struct Worker: Sendable {
        let store: any SessionRecordStore
        var current: SessionID?
        var prepared: Set<SessionID> = []
        var pending: [ConversationMessage] = []
        var dirty = false
        let workingDirectory: String
        let options: [String: JSONValue]
        let events: PersistenceEventHub
        let logger: Logger

        init(
            store: any SessionRecordStore, current: SessionID?, workingDirectory: String,
            options: [String: JSONValue], events: PersistenceEventHub, logger: Logger
        ) {
            self.store = store
            self.current = current
            self.workingDirectory = workingDirectory
            self.options = options
            self.events = events
            self.logger = logger
        }

        /// Records one message; returns the session id when it changed.
        mutating func handle(_ message: ConversationMessage, sessionID: String?, endsTurn: Bool) async -> SessionID? {
            var changed: SessionID?
            if let sessionID, sessionID != current?.rawValue {
                if let id = SessionID(rawValue: sessionID) {
                    // First id, or a fork: a new record; the old one is left intact.
                    current = id
                    changed = id
                } else {
                    logger.warning("the CLI sent a session id that is not safe as a file name; keeping the current one")
                }
            }
            pending.append(message)
            guard let id = current else { return changed }
            if !prepared.contains(id) {
                do {
                    try await store.prepare(
                        id, startTime: pending.first?.timestamp ?? message.timestamp, workingDirectory: workingDirectory,
                        options: options)
                    prepared.insert(id)
                } catch {
                    report(error, id)
                    return changed
                }
            }
            do {
                try await store.append(pending, to: id)
                pending.removeAll(keepingCapacity: true)
                dirty = true
            } catch {
                // Kept in memory and retried with the next frame.
                report(error, id)
            }
            if endsTurn { await checkpoint() }
            return changed
        }

        mutating func checkpoint() async {
            guard let id = current, prepared.contains(id) else {
                if !pending.isEmpty {
                    logger.debug("\(pending.count) frames not recorded: the CLI never said its session id")
                }
                return
            }
            if !pending.isEmpty {
                do {
                    try await store.append(pending, to: id)
                    pending.removeAll()
                } catch {
                    report(error, id)
                }
            }
            guard dirty else { return }
            do {
                try await store.checkpoint(id)
                dirty = false
            } catch {
                report(error, id)
            }
        }

        private func report(_ error: SessionStoreError, _ id: SessionID) {
            logger.error("recording session \(id) failed: \(error)")
            events.emit(PersistenceEvent(kind: .writeFailed, sessionID: id, error: error, path: error.path))
        }
    }
}
