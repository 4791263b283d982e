import ClaudeCode
import FlyingFox
import FlyingSocks
import Foundation
import Synchronization

/// A fake Anthropic Messages API on 127.0.0.1, for running the real Claude Code CLI offline in tests.
///
/// Point the CLI at it with `ANTHROPIC_BASE_URL` (``CLITestEnvironment`` does that). The server answers:
/// - `POST /v1/messages` (with or without `?beta=true`): streaming (SSE) when the body has `"stream": true`,
///   one JSON message otherwise;
/// - `POST /v1/messages/count_tokens`: `{"input_tokens": n}`;
/// - `HEAD /api/hello` (and `GET`): `200`.
///
/// Replies are derived from the request, so a test can prove what context the CLI sent. The default text reply is
/// `echo: <last user text> | user_turns=<n> | messages=<m>`; see ``Request/lastUserText``,
/// ``Request/userTurnCount`` and ``Request/messageCount``. Directives inside the last user text change the reply:
///
/// | Directive | Reply |
/// | --- | --- |
/// | `FAKE:slow` | text deltas `tick 1 `, `tick 2 `, … one per ``Configuration/slowTickInterval`` |
/// | `FAKE:500`, `FAKE:529`, `FAKE:401`, `FAKE:429`, `FAKE:400` | an Anthropic error JSON with that status (429 and 529 with `retry-after: 1`) |
/// | `FAKE:500once`, `FAKE:529once` | that error for the first request with this prompt, then the normal reply |
/// | `FAKE:midstream` | a stream cut after one text delta (a non-streaming request gets the normal reply) |
/// | `FAKE:thinking` | a `thinking` block, then the echo text |
/// | `use tool <Name>: <json>` | a `tool_use` block for that tool with that input (after a short text block) |
/// | `use tool Bash: <command>` | shorthand for `{"command": "<command>", "description": "run"}` |
///
/// When the last user message holds only `tool_result` blocks, the reply is `tool result: <first 200 chars>`.
/// A ``Responder`` can script anything else; returning `nil` from it falls back to the defaults.
///
/// Every request is recorded (with API key values redacted); read the log with ``requests`` or wait for it with
/// ``waitForRequests(count:timeout:where:)``.
///
/// ```swift
/// let api = FakeMessagesAPI()
/// try await api.start()
/// defer { Task { await api.stop() } }
/// // spawn `claude` with ANTHROPIC_BASE_URL = api.baseURL.absoluteString
/// ```
///
/// - Important: Call ``stop()`` when done. It closes the listening socket and every open connection.
public final class FakeMessagesAPI: Sendable {
    /// Scripts a reply for a request; return `nil` to use the default behaviour.
    public typealias Responder = @Sendable (Request) -> Reply?

    /// Settings of a ``FakeMessagesAPI``.
    public struct Configuration: Sendable {
        /// The pause between two `FAKE:slow` ticks. Default 200 ms.
        public var slowTickInterval: Duration
        /// How many `FAKE:slow` ticks are sent. Default 150 (about 30 s at the default interval).
        public var slowTickCount: Int
        /// The text block sent before a `tool_use` block for `use tool …` prompts, or `nil` for none.
        public var toolUsePreamble: String?

        /// Creates a configuration.
        public init(
            slowTickInterval: Duration = .milliseconds(200),
            slowTickCount: Int = 150,
            toolUsePreamble: String? = "Calling the tool."
        ) {
            self.slowTickInterval = slowTickInterval
            self.slowTickCount = slowTickCount
            self.toolUsePreamble = toolUsePreamble
        }
    }

    /// An error thrown by ``FakeMessagesAPI``.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        /// What went wrong.
        public var description: String
    }

    private struct Waiter {
        var count: Int
        var predicate: @Sendable (Request) -> Bool
        var continuation: CheckedContinuation<[Request], any Error>
    }

    private struct State {
        var server: HTTPServer?
        var runTask: Task<Void, any Error>?
        var port: Int = 0
        var responder: Responder?
        var requests: [Request] = []
        var reportedUsage: [ReportedUsage] = []
        var waiters: [UInt64: Waiter] = [:]
        var nextWaiterID: UInt64 = 0
        var modelCallCount = 0
        var failedOnce: Set<String> = []
    }

    /// The settings this server was created with.
    public let configuration: Configuration
    private let state: Mutex<State>

    /// Creates a server; call ``start()`` to listen.
    ///
    /// - Parameters:
    ///   - configuration: Timing and wording settings.
    ///   - responder: Scripts replies; `nil` (or a `nil` return) uses the default behaviour.
    public init(configuration: Configuration = Configuration(), responder: Responder? = nil) {
        self.configuration = configuration
        self.state = Mutex(State(responder: responder))
    }

    deinit {
        state.withLock { $0.runTask?.cancel() }
    }

    /// The bound port; 0 until ``start()`` has returned.
    public var port: Int { state.withLock { $0.port } }

    /// `http://127.0.0.1:<port>`, the value for `ANTHROPIC_BASE_URL`.
    public var baseURL: URL {
        URL(string: "http://127.0.0.1:\(port)") ?? URL(fileURLWithPath: "/")
    }

    /// Every request received so far, in arrival order.
    public var requests: [Request] {
        get async { state.withLock { $0.requests } }
    }

    /// The token counts the server reported, one per message it answered, in order.
    public struct ReportedUsage: Sendable, Hashable {
        /// The request's model.
        public var model: String
        /// `usage.input_tokens` of the answer.
        public var inputTokens: Int
        /// `usage.output_tokens` of the answer (the final count, for a streamed answer).
        public var outputTokens: Int
    }

    /// What the server reported as usage for every message it answered (not for errors), in order.
    public var reportedUsage: [ReportedUsage] {
        get async { state.withLock { $0.reportedUsage } }
    }

    /// The `POST /v1/messages` requests received so far, in arrival order.
    public var messageRequests: [Request] {
        get async { state.withLock { $0.requests.filter(\.isMessages) } }
    }

    /// Replaces the responder used for later requests.
    public func setResponder(_ responder: Responder?) {
        state.withLock { $0.responder = responder }
    }

    /// Binds 127.0.0.1 on an ephemeral port and starts serving.
    ///
    /// - Throws: ``Failure`` when the server is already running or could not listen within 60 s; socket errors.
    public func start() async throws {
        let address = try sockaddr_in.inet(ip4: "127.0.0.1", port: 0)
        let server = HTTPServer(
            address: address,
            timeout: 60,
            logger: .disabled,
            handler: ClosureHTTPHandler { [weak self] request in
                guard let self else { return HTTPResponse(statusCode: .serviceUnavailable) }
                return await self.handle(request)
            }
        )
        let alreadyRunning = state.withLock { state -> Bool in
            if state.server != nil { return true }
            state.server = server
            state.runTask = Task { try await server.run() }
            return false
        }
        if alreadyRunning { throw Failure(description: "FakeMessagesAPI is already started") }
        do {
            try await server.waitUntilListening(timeout: 60)
            guard case .ip4(_, let port)? = await server.listeningAddress else {
                throw Failure(description: "FakeMessagesAPI could not read its listening address")
            }
            state.withLock { $0.port = Int(port) }
        } catch {
            await stop()
            throw error
        }
    }

    /// Stops listening, closes open connections (cutting any running stream) and fails pending waits.
    ///
    /// The request log stays readable. Calling it twice is harmless.
    public func stop() async {
        let (server, task, waiters) = state.withLock { state in
            let result = (state.server, state.runTask, state.waiters)
            state.server = nil
            state.runTask = nil
            state.waiters = [:]
            return result
        }
        for waiter in waiters.values {
            waiter.continuation.resume(throwing: Failure(description: "FakeMessagesAPI stopped"))
        }
        await server?.stop(timeout: 0)
        task?.cancel()
        _ = await task?.result
    }

    /// Waits until at least `count` recorded requests match `predicate`, and returns those that match.
    ///
    /// - Parameters:
    ///   - count: How many matching requests to wait for.
    ///   - timeout: The longest time to wait.
    ///   - predicate: Which requests count; by default `POST /v1/messages` ones.
    /// - Returns: All matching requests so far (at least `count`).
    /// - Throws: ``Failure`` on timeout or when the server stops; `CancellationError` when cancelled.
    public func waitForRequests(
        count: Int,
        timeout: Duration = .seconds(30),
        where predicate: @escaping @Sendable (Request) -> Bool = { $0.isMessages }
    ) async throws -> [Request] {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return try await withThrowingTaskGroup(of: [Request].self) { group in
            group.addTask {
                try await withTaskCancellationHandler {
                    try await withCheckedThrowingContinuation { continuation in
                        self.state.withLock { state in
                            let matching = state.requests.filter(predicate)
                            if matching.count >= count {
                                continuation.resume(returning: matching)
                            } else if Task.isCancelled {
                                continuation.resume(throwing: CancellationError())
                            } else {
                                state.waiters[id] = Waiter(
                                    count: count, predicate: predicate, continuation: continuation)
                            }
                        }
                    }
                } onCancel: {
                    let waiter = self.state.withLock { $0.waiters.removeValue(forKey: id) }
                    waiter?.continuation.resume(throwing: CancellationError())
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                let seen = self.state.withLock { $0.requests.filter(predicate).count }
                throw Failure(description: "timed out after \(timeout) waiting for \(count) requests (saw \(seen))")
            }
            defer { group.cancelAll() }
            guard let result = try await group.next() else { throw CancellationError() }
            return result
        }
    }

    // MARK: - Request handling

    private func handle(_ http: HTTPRequest) async -> HTTPResponse {
        let bodyData: Data
        do {
            bodyData = try await http.bodyData
        } catch {
            return errorResponse(status: 400, type: "invalid_request_error", message: "unreadable body", requestID: nil)
        }
        var headers: [String: String] = [:]
        for (name, value) in http.headers {
            let key = name.rawValue.lowercased()
            let shown = (key == "x-api-key" || key == "authorization") ? "<redacted>" : value
            headers[key] = headers[key].map { "\($0), \(shown)" } ?? shown
        }
        var query: [String: String] = [:]
        for item in http.query { query[item.name] = item.value }
        let body = bodyData.isEmpty ? nil : try? JSONValue.parse([UInt8](bodyData))

        let record = state.withLock { state -> Request in
            let request = Request(
                sequenceNumber: state.requests.count + 1,
                method: http.method.rawValue,
                path: http.path,
                query: query,
                headers: headers,
                body: body,
                bodyByteCount: bodyData.count
            )
            state.requests.append(request)
            let ready = state.waiters.filter { _, waiter in
                state.requests.lazy.filter(waiter.predicate).count >= waiter.count
            }
            for (id, waiter) in ready {
                state.waiters[id] = nil
                waiter.continuation.resume(returning: state.requests.filter(waiter.predicate))
            }
            return request
        }

        switch (record.method, record.path) {
        case ("HEAD", "/api/hello"):
            return HTTPResponse(statusCode: .ok)
        case ("GET", "/api/hello"):
            return HTTPResponse(statusCode: .ok, headers: [.contentType: "application/json"], body: Data("{}".utf8))
        case ("POST", "/v1/messages/count_tokens"):
            return jsonResponse(
                status: 200, ["input_tokens": .int(Self.estimateTokens(bytes: record.bodyByteCount))], requestID: nil)
        case ("POST", "/v1/messages"):
            guard case .object? = record.body else {
                return errorResponse(
                    status: 400, type: "invalid_request_error", message: "body is not a JSON object", requestID: nil)
            }
            let responder = state.withLock { $0.responder }
            let reply = responder?(record) ?? defaultReply(for: record)
            return render(reply, for: record)
        default:
            return errorResponse(
                status: 404, type: "not_found_error", message: "no fake for \(record.method) \(record.path)",
                requestID: nil)
        }
    }

    /// The reply the server gives `request` when no responder scripts one.
    ///
    /// This consumes `FAKE:500once`/`FAKE:529once` state: the first call for a prompt returns the error.
    public func defaultReply(for request: Request) -> Reply {
        let counts = "user_turns=\(request.userTurnCount) | messages=\(request.messageCount)"
        guard let text = request.lastUserText else {
            if let result = request.lastToolResultText {
                return .text("tool result: \(result.prefix(200))")
            }
            return .text("echo:  | \(counts)")
        }
        let echo = "echo: \(text) | \(counts)"

        for status in [500, 529] where text.contains("FAKE:\(status)once") {
            let key = "\(status)|\(text)"
            let first = state.withLock { $0.failedOnce.insert(key).inserted }
            if first {
                return .error(status: status, message: "fake \(status) requested once by FAKE:\(status)once")
            }
            return .text(echo)
        }
        for status in [500, 529, 401, 429, 400] where text.contains("FAKE:\(status)") {
            return .error(status: status, message: "fake \(status) requested by FAKE:\(status)")
        }
        if text.contains("FAKE:slow") {
            return .slowText(ticks: configuration.slowTickCount, interval: configuration.slowTickInterval)
        }
        if text.contains("FAKE:midstream") {
            return .cutAfterFirstDelta(echo)
        }
        if text.contains("FAKE:thinking") {
            return .content([.thinking("Thinking about: \(text)"), .text(echo)])
        }
        if let call = parseToolDirective(text) {
            return call
        }
        return .text(echo)
    }

    private func parseToolDirective(_ text: String) -> Reply? {
        let prefix = "use tool "
        guard text.hasPrefix(prefix), let colon = text.firstIndex(of: ":") else { return nil }
        let name = text[text.index(text.startIndex, offsetBy: prefix.count)..<colon]
            .trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, !name.contains(" ") else { return nil }
        let argument = text[text.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        let input: JSON
        if let parsed = try? JSONValue.parse(argument), case .object = parsed {
            input = parsed
        } else if name == "Bash" {
            input = ["command": .string(argument), "description": "run"]
        } else {
            return .text("fake: the input for tool \(name) is not a JSON object: \(argument.prefix(200))")
        }
        return .toolUse(name: name, input: input, preamble: configuration.toolUsePreamble)
    }

    // MARK: - Rendering

    static func estimateTokens(bytes: Int) -> Int { max(1, bytes / 4) }

    private func nextIDs() -> IDs {
        let n = state.withLock { state -> Int in
            state.modelCallCount += 1
            return state.modelCallCount
        }
        let suffix = String(format: "%06d", n)
        return IDs(message: "msg_fake_\(suffix)", request: "req_fake_\(suffix)", tool: "toolu_fake_\(suffix)")
    }

    private func render(_ reply: Reply, for request: Request) -> HTTPResponse {
        let ids = nextIDs()
        let model = request.model ?? "claude-fake"
        let inputTokens = Self.estimateTokens(bytes: request.bodyByteCount)
        switch reply.kind {
        case .raw(let status, let headers, let body):
            var httpHeaders = HTTPHeaders()
            for (name, value) in headers { httpHeaders[HTTPHeader(name)] = value }
            return HTTPResponse(statusCode: Self.statusCode(status), headers: httpHeaders, body: body)

        case .error(let status, let type, let message, let retryAfter):
            var response = errorResponse(status: status, type: type, message: message, requestID: ids.request)
            if let retryAfter { response.headers[HTTPHeader("retry-after")] = String(retryAfter) }
            return response

        case .message(let blocks, let stopReason):
            let resolved = Self.resolve(blocks, toolID: ids.tool)
            let hasToolUse = resolved.contains { block in
                if case .toolUse = block { return true }
                return false
            }
            let stop = stopReason ?? (hasToolUse ? "tool_use" : "end_turn")
            report(model, inputTokens, Self.outputTokens(resolved))
            if !request.isStreaming {
                return jsonMessage(resolved, stop: stop, ids: ids, model: model, inputTokens: inputTokens)
            }
            var sse = SSEWriter()
            sse.start(id: ids.message, model: model, inputTokens: inputTokens)
            for (index, block) in resolved.enumerated() { sse.block(block, index: index) }
            sse.finish(stopReason: stop, outputTokens: Self.outputTokens(resolved))
            return streamResponse(sse.steps, requestID: ids.request)

        case .slowText(let ticks, let interval):
            let text = (1...ticks).map { "tick \($0) " }.joined()
            report(model, inputTokens, request.isStreaming ? ticks * 3 : Self.outputTokens([.text(text)]))
            if !request.isStreaming {
                return jsonMessage([.text(text)], stop: "end_turn", ids: ids, model: model, inputTokens: inputTokens)
            }
            var sse = SSEWriter()
            sse.start(id: ids.message, model: model, inputTokens: inputTokens)
            sse.blockStart(index: 0, ["type": "text", "text": ""])
            for tick in 1...ticks {
                if tick > 1 { sse.steps.append(.pause(interval)) }
                sse.delta(index: 0, ["type": "text_delta", "text": .string("tick \(tick) ")])
            }
            sse.blockStop(index: 0)
            sse.finish(stopReason: "end_turn", outputTokens: ticks * 3)
            return streamResponse(sse.steps, requestID: ids.request)

        case .cutAfterFirstDelta(let text):
            if !request.isStreaming {
                return jsonMessage([.text(text)], stop: "end_turn", ids: ids, model: model, inputTokens: inputTokens)
            }
            var sse = SSEWriter()
            sse.start(id: ids.message, model: model, inputTokens: inputTokens)
            sse.blockStart(index: 0, ["type": "text", "text": ""])
            sse.delta(index: 0, ["type": "text_delta", "text": .string(String(text.prefix(max(1, text.count / 2))))])
            sse.steps.append(.fail)
            return streamResponse(sse.steps, requestID: ids.request)
        }
    }

    private func report(_ model: String, _ input: Int, _ output: Int) {
        state.withLock {
            $0.reportedUsage.append(ReportedUsage(model: model, inputTokens: input, outputTokens: output))
        }
    }

    private static func resolve(_ blocks: [ContentBlock], toolID: String) -> [ContentBlock] {
        var toolIndex = 0
        return blocks.map { block in
            guard case .toolUse(let id, let name, let input) = block else { return block }
            defer { toolIndex += 1 }
            return .toolUse(id: id ?? (toolIndex == 0 ? toolID : "\(toolID)_\(toolIndex)"), name: name, input: input)
        }
    }

    private static func outputTokens(_ blocks: [ContentBlock]) -> Int {
        let characters = blocks.reduce(0) { sum, block in
            switch block {
            case .text(let text), .thinking(let text): return sum + text.count
            case .toolUse(_, let name, let input): return sum + name.count + WireJSON.value(input).serialized.count
            }
        }
        return max(1, characters / 4)
    }

    private static func statusCode(_ status: Int) -> HTTPStatusCode {
        switch status {
        case 200: return .ok
        case 400: return .badRequest
        case 401: return .unauthorized
        case 403: return .forbidden
        case 404: return .notFound
        case 429: return HTTPStatusCode(429, phrase: "Too Many Requests")
        case 500: return .internalServerError
        case 529: return HTTPStatusCode(529, phrase: "Overloaded")
        default: return HTTPStatusCode(status, phrase: "Fake Status")
        }
    }

    private func jsonResponse(status: Int, _ json: WireJSON, requestID: String?) -> HTTPResponse {
        var headers: HTTPHeaders = [.contentType: "application/json"]
        if let requestID { headers[HTTPHeader("request-id")] = requestID }
        return HTTPResponse(statusCode: Self.statusCode(status), headers: headers, body: Data(json.serialized.utf8))
    }

    private func errorResponse(status: Int, type: String, message: String, requestID: String?) -> HTTPResponse {
        var body: [(String, WireJSON)] = [
            ("type", "error"),
            ("error", ["type": .string(type), "message": .string(message)]),
        ]
        if let requestID { body.append(("request_id", .string(requestID))) }
        return jsonResponse(status: status, .object(body), requestID: requestID)
    }

    private func jsonMessage(_ blocks: [ContentBlock], stop: String, ids: IDs, model: String, inputTokens: Int)
        -> HTTPResponse
    {
        let message: WireJSON = [
            "id": .string(ids.message),
            "type": "message",
            "role": "assistant",
            "model": .string(model),
            "content": .array(blocks.map(Self.completeBlock)),
            "stop_reason": .string(stop),
            "stop_sequence": nil,
            "usage": Self.usage(input: inputTokens, output: Self.outputTokens(blocks)),
        ]
        return jsonResponse(status: 200, message, requestID: ids.request)
    }

    private func streamResponse(_ steps: [ScriptedByteSequence.Step], requestID: String) -> HTTPResponse {
        HTTPResponse(
            statusCode: .ok,
            headers: [
                .contentType: "text/event-stream; charset=utf-8",
                .cacheControl: "no-cache",
                HTTPHeader("request-id"): requestID,
            ],
            body: HTTPBodySequence(from: ScriptedByteSequence(steps: steps), suggestedBufferSize: 64 * 1024)
        )
    }

    fileprivate static func usage(input: Int, output: Int) -> WireJSON {
        [
            "input_tokens": .int(input),
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": .int(output),
            "service_tier": "standard",
        ]
    }

    fileprivate static let fakeSignature = "ZmFrZS1zaWduYXR1cmU="

    private static func completeBlock(_ block: ContentBlock) -> WireJSON {
        switch block {
        case .text(let text):
            return ["type": "text", "text": .string(text)]
        case .thinking(let thinking):
            return ["type": "thinking", "thinking": .string(thinking), "signature": .string(fakeSignature)]
        case .toolUse(let id, let name, let input):
            return [
                "type": "tool_use", "id": .string(id ?? "toolu_fake"), "name": .string(name), "input": .value(input),
            ]
        }
    }
}

private struct IDs {
    var message: String
    var request: String
    var tool: String
}

/// Builds the byte script of an SSE Messages stream, with keys in the real API's order.
private struct SSEWriter {
    var steps: [ScriptedByteSequence.Step] = []

    mutating func event(_ name: String, _ data: WireJSON) {
        steps.append(.bytes(Array("event: \(name)\ndata: \(data.serialized)\n\n".utf8)))
    }

    mutating func start(id: String, model: String, inputTokens: Int) {
        event(
            "message_start",
            [
                "type": "message_start",
                "message": [
                    "id": .string(id), "type": "message", "role": "assistant", "model": .string(model),
                    "content": [], "stop_reason": nil, "stop_sequence": nil,
                    "usage": FakeMessagesAPI.usage(input: inputTokens, output: 1),
                ],
            ])
        event("ping", ["type": "ping"])
    }

    mutating func blockStart(index: Int, _ block: WireJSON) {
        event("content_block_start", ["type": "content_block_start", "index": .int(index), "content_block": block])
    }

    mutating func delta(index: Int, _ payload: WireJSON) {
        event("content_block_delta", ["type": "content_block_delta", "index": .int(index), "delta": payload])
    }

    mutating func blockStop(index: Int) {
        event("content_block_stop", ["type": "content_block_stop", "index": .int(index)])
    }

    mutating func block(_ block: FakeMessagesAPI.ContentBlock, index: Int) {
        switch block {
        case .text(let text):
            blockStart(index: index, ["type": "text", "text": ""])
            for part in Self.halves(text) { delta(index: index, ["type": "text_delta", "text": .string(part)]) }
        case .thinking(let thinking):
            blockStart(index: index, ["type": "thinking", "thinking": "", "signature": ""])
            for part in Self.halves(thinking) {
                delta(index: index, ["type": "thinking_delta", "thinking": .string(part)])
            }
            delta(index: index, ["type": "signature_delta", "signature": .string(FakeMessagesAPI.fakeSignature)])
        case .toolUse(let id, let name, let input):
            blockStart(
                index: index,
                ["type": "tool_use", "id": .string(id ?? "toolu_fake"), "name": .string(name), "input": [:]])
            delta(index: index, ["type": "input_json_delta", "partial_json": ""])
            for part in Self.halves(WireJSON.value(input).serialized) {
                delta(index: index, ["type": "input_json_delta", "partial_json": .string(part)])
            }
        }
        blockStop(index: index)
    }

    mutating func finish(stopReason: String, outputTokens: Int) {
        event(
            "message_delta",
            [
                "type": "message_delta",
                "delta": ["stop_reason": .string(stopReason), "stop_sequence": nil],
                "usage": ["output_tokens": .int(outputTokens)],
            ])
        event("message_stop", ["type": "message_stop"])
    }

    /// Splits text into two deltas (one when it is shorter than 2 characters).
    static func halves(_ text: String) -> [String] {
        guard text.count >= 2 else { return [text] }
        let middle = text.index(text.startIndex, offsetBy: text.count / 2)
        return [String(text[..<middle]), String(text[middle...])]
    }
}
