import ArgumentParser
import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeSessionsSQLite
import Dispatch
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

// MARK: - chat

/// `chat`: a conversation recorded by `SessionPersistentClient`, one prompt per line of stdin.
struct ChatCommand: AsyncParsableCommand, ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Talk to Claude; the conversation is recorded and can be resumed.",
        discussion: """
            Reads one prompt per line from stdin (with a '> ' prompt on a terminal) and streams the reply
            as it arrives. Ctrl-C during a reply interrupts it; Ctrl-C at the prompt, or Ctrl-D, ends the
            chat. The session id is printed on stderr at the end: continue with --resume ID (a unique
            prefix is enough). Records go to ~/.claude_sdk/sessions unless --records says otherwise.
            """)

    @Option(help: ArgumentHelp("Continue a recorded session (a unique id prefix is enough).", valueName: "ID"))
    var resume: String?

    @Option(
        name: .customLong("records"),
        help: ArgumentHelp(
            "Where the records go: a folder (default ~/.claude_sdk/sessions) or sqlite:PATH.", valueName: "DIR"))
    var records: String?

    @Option(help: "The model to use (passed to the CLI).") var model: String?

    @Option(help: "The working directory of the conversation (a resumed one keeps its own unless given).")
    var cwd: String?

    func execute() async throws { try await run() }

    func run() async throws {
        let store = try openRecordStore()
        var options = ClaudeCodeOptions()
        options.model = model
        options.cwd = cwd.map { URL(fileURLWithPath: expandTilde($0)).standardizedFileURL.path }
        options.includePartialMessages = true
        var resumedID: String?
        if let resume {
            let backend = RecordsBackend(store: store.records, location: store.location)
            resumedID = try resolve(resume, in: try await backend.list(project: nil), backend: backend).id
        }
        let client =
            store.directory.map { SessionPersistentClient(options: options, storagePath: $0) }
            ?? SessionPersistentClient(options: options, store: store.records)
        if let resumedID {
            do { try await client.startOrResumeSession(resumedID) } catch {
                throw ToolError(ExitStatus.usage, "cannot resume \(resumedID): \(error)")
            }
        }
        let session = ChatSession(client: client, interactive: Terminal.isTerminal(0))
        try await session.run()
    }

    struct RecordStoreChoice {
        var records: any SessionRecordStore
        var location: String
        /// A FileRecordStore folder (opened by the client itself, with its event hub).
        var directory: String?
    }

    func openRecordStore() throws(ToolError) -> RecordStoreChoice {
        let value = records ?? ""
        if value.hasPrefix("sqlite:") {
            let path = expandTilde(String(value.dropFirst("sqlite:".count)))
            guard !path.isEmpty else { throw ToolError(ExitStatus.usage, "give a database path after sqlite:") }
            do {
                return RecordStoreChoice(records: try SQLiteSessionStore(path: path), location: path)
            } catch {
                throw ToolError(ExitStatus.unreadable, "cannot open \(path): \(error)")
            }
        }
        let directory = value.isEmpty ? FileRecordStore.defaultDirectory : expandTilde(value)
        return RecordStoreChoice(
            records: FileRecordStore(directory: directory), location: directory, directory: directory)
    }
}

/// What the chat loop reacts to, in arrival order.
enum ChatEvent: Sendable {
    case line(String)
    case endOfInput
    case interrupt
    case turnEnded(ChatTurnOutcome)
}

enum ChatTurnOutcome: Sendable {
    case finished(interrupted: Bool)
    case failed(String)
}

/// The conversation loop: one turn at a time; stdin lines typed during a turn wait for it.
final class ChatSession: Sendable {
    let client: SessionPersistentClient
    let interactive: Bool

    init(client: SessionPersistentClient, interactive: Bool) {
        self.client = client
        self.interactive = interactive
    }

    func run() async throws {
        let (events, continuation) = AsyncStream.makeStream(of: ChatEvent.self)
        // SIGINT becomes an event: ignore the default action, then watch for it on a queue.
        signal(SIGINT, SIG_IGN)
        let signals = DispatchSource.makeSignalSource(
            signal: SIGINT, queue: DispatchQueue(label: "claude-sessions.sigint"))
        signals.setEventHandler { continuation.yield(.interrupt) }
        signals.resume()
        defer { signals.cancel() }

        do {
            try await client.connect()
        } catch {
            await client.disconnect()
            throw ToolError(ExitStatus.failure, "cannot start the Claude Code CLI: \(error)")
        }
        Self.startReadingLines(into: continuation)

        var pending: [String] = []
        var inputEnded = false
        var busy = false
        var interrupting = false
        var failure: String?
        prompt()
        loop: for await event in events {
            switch event {
            case .line(let line):
                let text = line.trimmingCharacters(in: .whitespaces)
                if busy {
                    if !text.isEmpty { pending.append(text) }
                    continue
                }
                if text.isEmpty {
                    prompt()
                    continue
                }
                busy = true
                startTurn(text, continuation: continuation)
            case .endOfInput:
                inputEnded = true
                if !busy {
                    if interactive { Terminal.write("\n") }
                    break loop
                }
            case .interrupt:
                if !busy {
                    if interactive { Terminal.write("\n") }
                    break loop
                }
                if interrupting { continue }
                interrupting = true
                let client = client
                Task {
                    do { try await client.interrupt() } catch {
                        Terminal.warn("could not interrupt the turn: \(error)")
                    }
                }
            case .turnEnded(let outcome):
                busy = false
                interrupting = false
                switch outcome {
                case .finished(let interrupted):
                    if interrupted { FileHandle.standardError.write(Data("(interrupted)\n".utf8)) }
                case .failed(let message):
                    failure = message
                    break loop
                }
                if !pending.isEmpty {
                    busy = true
                    startTurn(pending.removeFirst(), continuation: continuation)
                } else if inputEnded {
                    break loop
                } else {
                    prompt()
                }
            }
        }
        let sessionID = client.currentSessionID
        await client.disconnect()
        if let sessionID {
            FileHandle.standardError.write(
                Data("session \(sessionID); continue it with: claude-sessions chat --resume \(sessionID)\n".utf8))
        }
        if let failure { throw ToolError(ExitStatus.failure, failure) }
    }

    private func prompt() {
        if interactive { Terminal.write("> ") }
    }

    private func startTurn(_ text: String, continuation: AsyncStream<ChatEvent>.Continuation) {
        let client = client
        Task {
            var printer = ReplyPrinter()
            do {
                try await client.query(text)
                var interrupted = false
                for try await message in client.receiveResponse() {
                    if case .result(let result) = message {
                        interrupted = result.isError && result.subtype == "error_during_execution"
                        if result.isError && !interrupted {
                            printer.finishLine()
                            Terminal.warn("the turn failed: \(result.errors.first ?? result.result ?? result.subtype)")
                        }
                    }
                    printer.handle(message)
                }
                printer.finishLine()
                continuation.yield(.turnEnded(.finished(interrupted: interrupted)))
            } catch {
                printer.finishLine()
                continuation.yield(.turnEnded(.failed("the conversation stopped: \(error)")))
            }
        }
    }

    /// Reads stdin on a thread of its own (blocking reads stay off the cooperative pool), with read(2):
    /// a thread blocked in stdio's `readLine` holds the `FILE` lock that `exit` takes when flushing.
    private static func startReadingLines(into continuation: AsyncStream<ChatEvent>.Continuation) {
        let thread = Thread {
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                pending.append(contentsOf: buffer[0..<count])
                while let newline = pending.firstIndex(of: 0x0A) {
                    continuation.yield(.line(String(decoding: pending[..<newline], as: UTF8.self)))
                    pending.removeSubrange(...newline)
                }
            }
            if !pending.isEmpty { continuation.yield(.line(String(decoding: pending, as: UTF8.self))) }
            continuation.yield(.endOfInput)
        }
        thread.name = "claude-sessions.stdin"
        thread.start()
    }
}

/// Writes the assistant's text as it streams (text deltas), or whole when a message was not streamed.
struct ReplyPrinter {
    private var streamedMessages: Set<String> = []
    private var currentMessage: String?
    private var atLineStart = true

    mutating func handle(_ message: Message) {
        switch message {
        case .streamEvent(let event) where event.parentToolUseID == nil:
            switch event.eventType {
            case "message_start":
                currentMessage = event.event["message"]?["id"]?.stringValue
            case "content_block_delta":
                guard event.event["delta"]?["type"]?.stringValue == "text_delta",
                    let text = event.event["delta"]?["text"]?.stringValue
                else { return }
                if let currentMessage { streamedMessages.insert(currentMessage) }
                write(text)
            default:
                break
            }
        case .assistant(let assistant) where assistant.parentToolUseID == nil:
            for block in assistant.content {
                switch block {
                case .text(let text):
                    if let id = assistant.messageID, streamedMessages.contains(id) { continue }
                    write(text.text)
                case .toolUse(let tool):
                    finishLine()
                    write("▸ \(tool.name)\n")
                default:
                    break
                }
            }
        default:
            break
        }
    }

    mutating func finishLine() {
        if !atLineStart { write("\n") }
    }

    private mutating func write(_ text: String) {
        guard !text.isEmpty else { return }
        let clean = Terminal.clean(text)
        Terminal.write(clean)
        atLineStart = clean.hasSuffix("\n")
    }
}
