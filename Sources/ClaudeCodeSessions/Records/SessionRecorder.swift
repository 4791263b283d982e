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
        case frame(ConversationMessage, sessionID: String?, confirms: Bool, endsTurn: Bool)
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
            store: store, workingDirectory: workingDirectory, options: options, events: events, logger: logger)
        let task = Task.detached {
            var worker = worker
            for await command in stream {
                switch command {
                case .frame(let message, let sessionID, let confirms, let endsTurn):
                    await worker.handle(message, sessionID: sessionID, confirms: confirms, endsTurn: endsTurn)
                case .flush(let done):
                    await worker.checkpoint()
                    done.resume()
                }
            }
            await worker.close()
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
        commands.yield(
            .frame(
                message, sessionID: sessionID, confirms: confirms,
                endsTurn: frame.direction == .inbound && type == "result"))
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
        /// The confirmed session frames go to; `nil` until the CLI confirms one.
        var current: SessionID?
        var writers: [SessionID: any SessionRecordWriter] = [:]
        var pending: [ConversationMessage] = []
        var dirty = false
        let workingDirectory: String
        let options: [String: JSONValue]
        let events: PersistenceEventHub
        let logger: Logger

        init(
            store: any SessionRecordStore, workingDirectory: String, options: [String: JSONValue],
            events: PersistenceEventHub, logger: Logger
        ) {
            self.store = store
            self.workingDirectory = workingDirectory
            self.options = options
            self.events = events
            self.logger = logger
        }

        /// Records one message. A newly confirmed session id (the first, or a fork's) starts a record
        /// of its own; the old record is left intact. Ids unsafe as file names never reach here.
        mutating func handle(_ message: ConversationMessage, sessionID: String?, confirms: Bool, endsTurn: Bool) async {
            if confirms, let sessionID, sessionID != current?.rawValue, let id = SessionID(rawValue: sessionID) {
                current = id
            }
            pending.append(message)
            await write()
            if endsTurn { await checkpoint() }
        }

        /// Hands pending messages to the current session's writer (held in memory until there is one).
        private mutating func write() async {
            guard let id = current else { return }
            let writer: any SessionRecordWriter
            if let existing = writers[id] {
                writer = existing
            } else {
                do {
                    writer = try await store.openRecord(
                        id, startTime: pending.first?.timestamp ?? Date(), workingDirectory: workingDirectory,
                        options: options)
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
                logger.warning("\(pending.count) frames not recorded: the CLI never confirmed a session")
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
            logger.error("recording session \(id) failed: \(error)")
            events.emit(PersistenceEvent(kind: .writeFailed, sessionID: id, error: error, path: error.path))
        }
    }
}
