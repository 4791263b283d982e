import Foundation
import Logging
import Synchronization

/// Runs the stream-json protocol over one transport: routes every inbound frame, matches
/// control responses to requests, answers the CLI's control requests, and queues messages.
///
/// Inbound frames are handled synchronously on the transport's reading task (see
/// ``ClaudeTransport/start(receiving:)``): parsed, routed, and queued for the consumer without waiting for
/// it. Control requests from the CLI are answered in their own tasks, never waiting on the message consumer.
final class ControlSession: Sendable {
    private struct Pending {
        var continuation: CheckedContinuation<JSONValue, any Error>
        var subtype: String
        var timer: Task<Void, Never>?
    }
    private struct State {
        var pending: [String: Pending] = [:]
        var inflight: [String: Task<Void, Never>] = [:]
        var counter = 0
        var awaitingResult = false
        var closing = false
        var exit: ProcessExitStatus?
        var lastErrorResult: ResultMessage?
    }

    /// Messages held back while a ``ConnectionExtension`` works on a result (see ``deliver(_:)``).
    private enum Held {
        case message(Message)
        case result(ResultMessage, Message)
    }
    private struct Delivery {
        /// A result is waiting for the hook: everything after it is held too.
        var holding = false
        var held: [Held] = []
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
        /// The hook's end, once the CLI has exited.
        var ending: Task<Void, Never>?
        var ended = false
    }

    let transport: any ClaudeTransport
    let messages: MessageBuffer
    private let observer: FrameObserver?
    private let handler: ControlRequestHandler?
    private let hook: (any ConnectionExtension)?
    private let hookFrameTypes: Set<String>?
    /// The frame types the extension consumes (never messages), and the prefixes that let them skip the parser.
    private let consumedFrameTypes: Set<String>
    private let consumedFramePrefixes: [[UInt8]]
    private let logger: Logger
    /// Sees each `system/init` and `result` message as it is read (the client's check of its
    /// in-process tools, the end of a turn's span).
    private let messageTap: (@Sendable (Message) -> Void)?
    /// Texts kept out of error descriptions taken from the CLI's stderr (environment values).
    private let redactions: [String]
    private let state = Mutex(State())
    private let delivery = Mutex(Delivery())

    init(
        transport: any ClaudeTransport, observer: FrameObserver?, handler: ControlRequestHandler?,
        hook: (any ConnectionExtension)? = nil, memoryBudget: Int = ClaudeCodeOptions.defaultMessageMemoryBudget,
        spillDirectory: String? = nil, redactions: [String] = [], logger: Logger,
        messageTap: (@Sendable (Message) -> Void)? = nil
    ) {
        self.messageTap = messageTap
        self.messages = MessageBuffer(memoryBudget: memoryBudget, spillDirectory: spillDirectory, logger: logger)
        self.redactions = redactions
        self.transport = transport
        self.observer = observer
        self.handler = handler
        self.hook = hook
        let consumed = hook?.consumedFrameTypes ?? []
        self.consumedFrameTypes = consumed
        self.consumedFramePrefixes = consumed.sorted().map {
            Array(#"{"type":""#.utf8) + Array($0.utf8) + Array(#"","#.utf8)
        }
        self.hookFrameTypes = hook?.observedFrameTypes.map { $0.union(consumed) }
        self.logger = logger
    }

    func start() async throws(ClaudeCodeError) {
        hook?.attach(MessageEmitter { [weak self] message in self?.deliver([message]) })
        do {
            try await transport.start { [weak self] event in self?.receive(event) }
        } catch {
            // No exit will be reported for a transport that did not start: end the hook here.
            await endHook(finishing: nil)?.value
            throw error
        }
    }

    var exitStatus: ProcessExitStatus? { state.withLock { $0.exit } }

    // MARK: Sending

    /// Writes one frame; it is observed before it is written.
    func send(_ frame: JSONValue) async throws(ClaudeCodeError) {
        var bytes = frame.serialized()
        observer?(WireFrame(direction: .outbound, raw: RawJSON(bytes: bytes), json: frame, timestamp: Date()))
        bytes.append(0x0A)
        try await transport.write(bytes)
    }

    /// Sends a user message frame and marks a turn as in progress.
    func sendUser(_ frame: JSONValue) async throws(ClaudeCodeError) {
        state.withLock { $0.awaitingResult = true }
        do {
            try await send(frame)
        } catch {
            state.withLock { $0.awaitingResult = false }
            throw error
        }
    }

    /// Sends a control request and waits for its response.
    func request(_ subtype: String, _ fields: [String: JSONValue] = [:], timeout: Duration)
        async throws(ClaudeCodeError)
        -> JSONValue
    {
        if let exit = exitStatus {
            throw ClaudeCodeError(
                .transportClosed, "the CLI has exited (\(exit)); control request \(subtype) cannot be sent",
                exitStatus: exit, stderrTail: transport.stderrTail)
        }
        let id = state.withLock { state -> String in
            state.counter += 1
            return "req_\(state.counter)_\(String(UInt32.random(in: .min ... .max), radix: 16))"
        }
        var body = fields
        body["subtype"] = .string(subtype)
        let frame: JSONValue = ["type": "control_request", "request_id": .string(id), "request": .object(body)]
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<JSONValue, any Error>) in
                    let timer = Task { [weak self] in
                        guard (try? await Task.sleep(for: timeout)) != nil else { return }
                        self?.resolve(
                            id,
                            .failure(
                                ClaudeCodeError(
                                    .controlTimeout,
                                    "the CLI did not answer control request \(subtype) within \(timeout)")),
                            cancelInCLI: true)
                    }
                    state.withLock {
                        $0.pending[id] = Pending(continuation: continuation, subtype: subtype, timer: timer)
                    }
                    Task { [weak self] in
                        guard let self else { return }
                        do throws(ClaudeCodeError) {
                            try await self.send(frame)
                        } catch {
                            self.resolve(id, .failure(error), cancelInCLI: false)
                        }
                    }
                }
            } onCancel: {
                resolve(
                    id, .failure(ClaudeCodeError(.cancelled, "control request \(subtype) was cancelled")),
                    cancelInCLI: true)
            }
        } catch let error as ClaudeCodeError {
            throw error
        } catch {
            throw ClaudeCodeError(.controlError, "control request \(subtype) failed", underlying: error)
        }
    }

    private func resolve(_ id: String, _ result: Result<JSONValue, ClaudeCodeError>, cancelInCLI: Bool) {
        guard let pending = state.withLock({ $0.pending.removeValue(forKey: id) }) else { return }
        pending.timer?.cancel()
        switch result {
        case .success(let value): pending.continuation.resume(returning: value)
        case .failure(let error): pending.continuation.resume(throwing: error)
        }
        if cancelInCLI {
            Task { [weak self] in
                try? await self?.send(["type": "control_cancel_request", "request_id": .string(id)])
            }
        }
    }

    // MARK: Shutdown

    /// Closes stdin; the CLI finishes and exits.
    func endInput() async {
        await transport.endInput()
    }

    /// Shuts the CLI down; returns once it has exited and everything it sent has been handled.
    func close() async {
        state.withLock { $0.closing = true }
        await transport.close()
        // The hook's end (a final mirror flush) runs after the exit; closing waits for it.
        await delivery.withLock { $0.ending }?.value
        let inflight = state.withLock { state -> [Task<Void, Never>] in
            defer { state.inflight = [:] }
            return Array(state.inflight.values)
        }
        for task in inflight { task.cancel() }
    }

    // MARK: Reading

    private func receive(_ event: TransportEvent) {
        switch event {
        case .lines(let lines):
            var batch: [QueuedMessage] = []
            batch.reserveCapacity(lines.count)
            var tape = JSONTape()
            for line in lines { handleLine(line, tape: &tape, batch: &batch) }
            deliver(batch)
        case .oversizedLine(let count, let limit, let prefix):
            observer?(WireFrame(direction: .inbound, raw: RawJSON(bytes: prefix), json: nil, timestamp: Date()))
            logger.warning("skipped a stdout line of \(count) bytes: over the line limit")
            deliver([.invalid(InvalidFrame(reason: .tooLong(limit: limit), byteCount: count, prefix: prefix))])
        case .exited(let status, let stderrTail):
            let finish = handleExit(status, stderrTail: stderrTail)
            if hook != nil {
                _ = endHook(finishing: finish)
            } else {
                finish()
            }
        }
    }

    /// Handles one line: control traffic is routed here; anything else is added to `batch` for the consumer.
    /// Messages before a control frame are queued before it is handled, so order is kept across both.
    private func handleLine(_ bytes: [UInt8], tape: inout JSONTape, batch: inout [QueuedMessage]) {
        if observer == nil, !consumedFramePrefixes.isEmpty,
            consumedFramePrefixes.contains(where: { bytes.starts(with: $0) })
        {
            // A frame the extension consumes, written as the CLI writes them, goes to it as bytes,
            // unparsed: the extension parses and validates it off the reader. It is never a message.
            hook?.observe(WireFrame(direction: .inbound, raw: RawJSON(bytes: bytes), json: nil, timestamp: Date()))
            return
        }
        bytes.withUnsafeBufferPointer { buffer in
            do throws(JSONParseError) {
                try tape.parse(buffer)
            } catch {
                observer?(
                    WireFrame(
                        direction: .inbound, raw: RawJSON(bytes: Array(bytes.prefix(200))), json: nil, timestamp: Date()
                    ))
                logger.warning("skipped a stdout line that is not JSON (\(bytes.count) bytes): \(error.description)")
                batch.append(
                    .message(
                        .invalid(
                            InvalidFrame(
                                reason: .malformedJSON(error.description), byteCount: bytes.count,
                                prefix: Array(bytes.prefix(200))))))
                return
            }
            tape.withRoot(of: buffer) { root in
                let raw = RawJSON(bytes: bytes)
                // The observer sees every frame as a JSONValue; without one, only what messages keep is built.
                var json: JSONValue?
                if let observer {
                    json = root.jsonValue
                    observer(WireFrame(direction: .inbound, raw: raw, json: json, timestamp: Date()))
                }
                if let hook {
                    if let types = hookFrameTypes {
                        // A hook that names its frame types gets their bytes only (no tree is built).
                        if root.kind == .object, let type = root["type"]?.stringValue, types.contains(type) {
                            hook.observe(WireFrame(direction: .inbound, raw: raw, json: json, timestamp: Date()))
                        }
                    } else {
                        hook.observe(
                            WireFrame(direction: .inbound, raw: raw, json: json ?? root.jsonValue, timestamp: Date()))
                    }
                }
                guard root.kind == .object else {
                    batch.append(
                        .message(
                            .invalid(
                                InvalidFrame(
                                    reason: .notAnObject, byteCount: bytes.count, prefix: Array(bytes.prefix(200))))))
                    return
                }
                let type = root["type"]?.stringValue
                if type?.hasPrefix("control_") == true, !batch.isEmpty {
                    deliver(batch)
                    batch.removeAll(keepingCapacity: true)
                }
                switch type {
                case "control_response":
                    handleControlResponse(root["response"]?.jsonValue ?? .null)
                case "control_request":
                    handleControlRequest(root.jsonValue)
                case "control_cancel_request":
                    if let id = root["request_id"]?.stringValue {
                        state.withLock { $0.inflight.removeValue(forKey: id) }?.cancel()
                    }
                case let type? where consumedFrameTypes.contains(type):
                    // The connection extension's own frame: the observer and the extension have seen it;
                    // it is not a message.
                    break
                default:
                    if hook == nil, messages.isSpilling, type != "result", messageTap == nil || type != "system" {
                        // It will most likely go to the spill as bytes: the consumer decodes it when it reads it
                        // back, so building the message here would be wasted.
                        batch.append(.frame(raw))
                        return
                    }
                    let message = Message(raw: raw, reading: root)
                    if let messageTap {
                        switch message {
                        case .result: messageTap(message)
                        case .system(let system): if case .initialize = system.kind { messageTap(message) }
                        default: break
                        }
                    }
                    if case .result(let result) = message {
                        state.withLock { state in
                            state.awaitingResult = false
                            state.lastErrorResult = result.isError ? result : nil
                        }
                        if hook != nil {
                            deliver(batch)
                            batch.removeAll(keepingCapacity: true)
                            deliverResult(result, message)
                            return
                        }
                    }
                    batch.append(.message(message))
                }
            }
        }
    }

    private func handleControlResponse(_ response: JSONValue) {
        guard let id = response["request_id"]?.stringValue else {
            logger.debug("control_response without request_id ignored")
            return
        }
        let subtype = state.withLock { $0.pending[id]?.subtype } ?? "?"
        if response["subtype"]?.stringValue == "error" {
            let text = response["error"]?.stringValue ?? "unknown error"
            resolve(
                id,
                .failure(
                    ClaudeCodeError(
                        .controlError, "the CLI refused control request \(subtype): \(text)",
                        controlErrorCode: response["error_code"]?.stringValue)), cancelInCLI: false)
        } else {
            resolve(id, .success(response["response"] ?? .object([:])), cancelInCLI: false)
        }
    }

    private func handleControlRequest(_ frame: JSONValue) {
        guard let id = frame["request_id"]?.stringValue else {
            logger.warning("control_request without a string request_id ignored: it cannot be answered")
            return
        }
        let request = frame["request"] ?? .null
        let subtype = request["subtype"]?.stringValue
        let handler = self.handler
        // Created under the lock, so the task (which removes its entry under the same lock when
        // it answers) can never finish before it is registered and leave a stale entry behind.
        state.withLock { state in
            state.inflight[id] = Task { [weak self] in
                var reply: JSONValue
                do {
                    guard let subtype else {
                        throw ControlRequestError(
                            message: "Malformed control request: no request object with a string subtype")
                    }
                    guard let handler else { throw ControlRequestError.unanswered(subtype) }
                    let response = try await handler(subtype, request)
                    reply = [
                        "type": "control_response",
                        "response": ["subtype": "success", "request_id": .string(id), "response": response],
                    ]
                } catch  where Task.isCancelled {
                    // The CLI abandoned the request (control_cancel_request) or the session is closing: no answer is due.
                    return
                } catch {
                    let text = (error as? ControlRequestError)?.message ?? String(describing: error)
                    reply = [
                        "type": "control_response",
                        "response": ["subtype": "error", "request_id": .string(id), "error": .string(text)],
                    ]
                }
                guard !Task.isCancelled, let self else { return }
                _ = self.state.withLock { $0.inflight.removeValue(forKey: id) }
                try? await self.send(reply)
            }
        }
    }

    /// Fails the pending control requests; returns what ends the message stream.
    private func handleExit(_ status: ProcessExitStatus, stderrTail: String) -> @Sendable () -> Void {
        let (pending, awaitingResult, closing, lastError) = state.withLock {
            state -> ([Pending], Bool, Bool, ResultMessage?) in
            state.exit = status
            defer { state.pending = [:] }
            return (Array(state.pending.values), state.awaitingResult, state.closing, state.lastErrorResult)
        }
        let resultErrors =
            lastError.map { $0.errors.isEmpty ? [$0.result ?? ""].filter { !$0.isEmpty } : $0.errors } ?? []
        for entry in pending {
            entry.timer?.cancel()
            entry.continuation.resume(
                throwing: ClaudeCodeError(
                    .processExited, "the CLI exited (\(status)) before answering control request \(entry.subtype)",
                    exitStatus: status, stderrTail: stderrTail, resultErrors: resultErrors))
        }
        // An exit is only an error when it cut a turn short, or failed with no error result to explain it.
        let cutShort = awaitingResult && !closing
        let unexplainedFailure = !status.isSuccess && !closing && lastError == nil
        let messages = self.messages
        if cutShort || unexplainedFailure {
            // The CLI's own last word, when it said one, with environment values kept out.
            let reason = StderrTail.reason(in: stderrTail, redacting: redactions)
            let error = ClaudeCodeError(
                .processExited,
                cutShort
                    ? "the CLI exited (\(status)) before finishing the turn"
                        + (reason.map { ": \($0)" } ?? "; see stderrTail")
                    : "the CLI exited (\(status))" + (reason.map { ": \($0)" } ?? "; see stderrTail"),
                exitStatus: status, stderrTail: stderrTail, resultErrors: resultErrors)
            return { messages.finish(error: error) }
        }
        return { messages.finish() }
    }

    // MARK: Delivery through a connection hook

    /// Queues messages for the consumer, behind any result a hook is still working on.
    private func deliver(_ batch: [Message]) {
        deliver(batch.map(QueuedMessage.message))
    }

    /// Queues messages for the consumer, behind any result a hook is still working on.
    private func deliver(_ batch: [QueuedMessage]) {
        guard !batch.isEmpty else { return }
        guard hook != nil else {
            messages.push(queued: batch)
            return
        }
        delivery.withLock { delivery in
            if delivery.holding {
                delivery.held.append(contentsOf: batch.map { Held.message($0.decoded) })
            } else {
                messages.push(queued: batch)
            }
        }
    }

    /// Hands a result to the hook; it reaches the consumer (after the hook's messages) when the hook
    /// is done. The reader goes on meanwhile: later messages are held, control traffic is not.
    private func deliverResult(_ result: ResultMessage, _ message: Message) {
        let startNow = delivery.withLock { delivery -> Bool in
            if delivery.holding {
                delivery.held.append(.result(result, message))
                return false
            }
            delivery.holding = true
            return true
        }
        if startNow { runHook(on: result, message) }
    }

    private func runHook(on result: ResultMessage, _ message: Message) {
        guard let hook else { return }
        Task { [self] in
            let extras = await hook.beforeDelivering(result)
            release(extras + [message])
        }
    }

    /// Delivers a released result and what was held after it, up to the next held result.
    private func release(_ front: [Message]) {
        var next: (ResultMessage, Message)?
        let idle = delivery.withLock { delivery -> [CheckedContinuation<Void, Never>] in
            var out = front
            while !delivery.held.isEmpty, next == nil {
                switch delivery.held.removeFirst() {
                case .message(let message): out.append(message)
                case .result(let result, let message): next = (result, message)
                }
            }
            messages.push(contentsOf: out)
            guard next == nil else { return [] }
            delivery.holding = false
            defer { delivery.idleWaiters = [] }
            return delivery.idleWaiters
        }
        for waiter in idle { waiter.resume() }
        if let next { runHook(on: next.0, next.1) }
    }

    /// Runs the hook's end once: after every held result is delivered, its messages go last, then
    /// `finishing` ends the stream. `nil` when there is no hook.
    @discardableResult
    private func endHook(finishing: (@Sendable () -> Void)?) -> Task<Void, Never>? {
        guard let hook else { return nil }
        return delivery.withLock { delivery -> Task<Void, Never>? in
            if delivery.ended { return delivery.ending }
            delivery.ended = true
            let task = Task { [self] in
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let idle = self.delivery.withLock { delivery -> Bool in
                        if !delivery.holding { return true }
                        delivery.idleWaiters.append(continuation)
                        return false
                    }
                    if idle { continuation.resume() }
                }
                deliver(await hook.connectionEnded())
                finishing?()
            }
            delivery.ending = task
            return task
        }
    }
}

/// The error text sent back to the CLI when a control request cannot be served.
struct ControlRequestError: Error {
    var message: String
}

extension ControlRequestError {
    /// The one refusal of a request nobody answers: a known subtype without a handler configured
    /// (no `canUseTool`, no hooks, no in-process MCP server), or a subtype the SDK does not serve.
    static func unanswered(_ subtype: String) -> ControlRequestError {
        switch subtype {
        case "can_use_tool", "hook_callback", "mcp_message":
            ControlRequestError(message: "No handler is configured for control request subtype: \(subtype)")
        default:
            ControlRequestError(message: "Unsupported control request subtype: \(subtype)")
        }
    }
}
