import ClaudeCode
import ClaudeCodeTesting
import Foundation
import Synchronization
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

private typealias JSON = JSONValue

/// FakeMessagesAPI over real HTTP on 127.0.0.1, driven with URLSession.
@Suite("FakeMessagesAPI", .timeLimit(.minutes(1)))
struct FakeMessagesAPITests {

    // MARK: Replies derived from the request

    @Test("non-streaming echo reports user turns and message count; the log keeps query and redacts the key")
    func echoAndCounts() async throws {
        try await withServer { api, client in
            let body: JSON = [
                "model": "claude-test-1",
                "stream": false,
                "messages": [
                    [
                        "role": "user",
                        "content": [
                            ["type": "text", "text": "<system-reminder>\nattribution\n</system-reminder>"],
                            ["type": "text", "text": "first"],
                        ],
                    ],
                    ["role": "system", "content": "environment details"],
                    ["role": "assistant", "content": [["type": "text", "text": "echo: first"]]],
                    [
                        "role": "user",
                        "content": [
                            ["type": "text", "text": "[Request interrupted by user]\n"],
                            ["type": "text", "text": "second <system-reminder>x</system-reminder>"],
                        ],
                    ],
                ],
            ]
            let (status, headers, data) = try await client.post(api, path: "/v1/messages?beta=true", body: body)
            #expect(status == 200)
            #expect(headers["content-type"]?.hasPrefix("application/json") == true)
            let message = try JSON.parse(data)
            #expect(message["type"] == "message")
            #expect(message["model"] == "claude-test-1")
            #expect(message["stop_reason"] == "end_turn")
            #expect(message["content"]?[0]?["text"] == "echo: second | user_turns=2 | messages=4")
            #expect((message["usage"]?["input_tokens"]?.intValue ?? 0) > 0)
            #expect(message["id"]?.stringValue?.hasPrefix("msg_fake_") == true)

            let logged = try #require(await api.requests.last)
            #expect(logged.path == "/v1/messages")
            #expect(logged.query["beta"] == "true")
            #expect(logged.headers["x-api-key"] == "<redacted>")
            #expect(logged.headers["anthropic-version"] == "2023-06-01")
            #expect(logged.lastUserText == "second")
            #expect(logged.userTurnCount == 2)
            #expect(logged.messageCount == 4)
        }
    }

    @Test("streaming reply is SSE in the Messages API order and its deltas add up to the echo")
    func sseOrder() async throws {
        try await withServer { api, client in
            let (status, headers, data) = try await client.post(
                api, path: "/v1/messages", body: Self.request("hello there", stream: true))
            #expect(status == 200)
            #expect(headers["content-type"]?.hasPrefix("text/event-stream") == true)
            let events = try Self.parseSSE(data)
            #expect(
                events.map(\.name) == [
                    "message_start", "ping", "content_block_start", "content_block_delta", "content_block_delta",
                    "content_block_stop", "message_delta", "message_stop",
                ])
            for event in events { #expect(event.data["type"]?.stringValue == event.name) }
            #expect(events[0].data["message"]?["model"] == "claude-test-1")
            #expect(events[0].data["message"]?["usage"]?["output_tokens"] == 1)
            let text = events.compactMap { $0.data["delta"]?["text"]?.stringValue }.joined()
            #expect(text == "echo: hello there | user_turns=1 | messages=1")
            #expect(events[6].data["delta"]?["stop_reason"] == "end_turn")
            #expect((events[6].data["usage"]?["output_tokens"]?.intValue ?? 0) > 0)
        }
    }

    @Test("`use tool Bash: <command>` streams a tool_use block with the shorthand input")
    func bashToolUse() async throws {
        try await withServer { api, client in
            let (_, _, data) = try await client.post(
                api, path: "/v1/messages", body: Self.request("use tool Bash: echo hi", stream: true))
            let events = try Self.parseSSE(data)
            let starts = events.filter { $0.name == "content_block_start" }.map { $0.data["content_block"] }
            #expect(starts.count == 2)
            #expect(starts.last??["type"] == "tool_use")
            #expect(starts.last??["name"] == "Bash")
            let partial = events.compactMap { event -> String? in
                event.data["delta"]?["type"] == "input_json_delta"
                    ? event.data["delta"]?["partial_json"]?.stringValue : nil
            }.joined()
            #expect(try JSON.parse(partial) == ["command": "echo hi", "description": "run"])
            #expect(events.first { $0.name == "message_delta" }?.data["delta"]?["stop_reason"] == "tool_use")
        }
    }

    @Test("`use tool <Name>: <json>` (non-streaming) and a tool_result turn")
    func genericToolUseAndToolResult() async throws {
        try await withServer { api, client in
            let (_, _, data) = try await client.post(
                api, path: "/v1/messages",
                body: Self.request(#"use tool Read: {"file_path": "/tmp/x.txt", "limit": 5}"#, stream: false))
            let message = try JSON.parse(data)
            let toolUse = try #require(message["content"]?.arrayValue?.last)
            #expect(toolUse["type"] == "tool_use")
            #expect(toolUse["name"] == "Read")
            #expect(toolUse["input"] == ["file_path": "/tmp/x.txt", "limit": 5])
            #expect(message["stop_reason"] == "tool_use")
            let toolID = try #require(toolUse["id"]?.stringValue)

            let followUp: JSON = [
                "model": "claude-test-1", "stream": false,
                "messages": [
                    ["role": "user", "content": #"use tool Read: {"file_path": "/tmp/x.txt"}"#],
                    ["role": "assistant", "content": .array([toolUse])],
                    [
                        "role": "user",
                        "content": [
                            [
                                "type": "tool_result", "tool_use_id": .string(toolID),
                                "content": [["type": "text", "text": .string(String(repeating: "a", count: 300))]],
                            ]
                        ],
                    ],
                ],
            ]
            let (_, _, second) = try await client.post(api, path: "/v1/messages", body: followUp)
            let text = try JSON.parse(second)["content"]?[0]?["text"]?.stringValue
            #expect(text == "tool result: " + String(repeating: "a", count: 200))
            #expect(await api.messageRequests.last?.userTurnCount == 1)
        }
    }

    @Test("FAKE:thinking sends a thinking block with a signature before the text")
    func thinking() async throws {
        try await withServer { api, client in
            let (_, _, data) = try await client.post(
                api, path: "/v1/messages", body: Self.request("FAKE:thinking please", stream: true))
            let events = try Self.parseSSE(data)
            let kinds = events.filter { $0.name == "content_block_start" }.compactMap {
                $0.data["content_block"]?["type"]?.stringValue
            }
            #expect(kinds == ["thinking", "text"])
            let deltaTypes = Set(events.compactMap { $0.data["delta"]?["type"]?.stringValue })
            #expect(deltaTypes.isSuperset(of: ["thinking_delta", "signature_delta", "text_delta"]))
        }
    }

    // MARK: Errors

    @Test(
        "FAKE:<status> answers an Anthropic error JSON",
        arguments: [
            (500, "api_error"), (529, "overloaded_error"), (401, "authentication_error"),
            (429, "rate_limit_error"), (400, "invalid_request_error"),
        ])
    func errorInjection(status: Int, type: String) async throws {
        try await withServer { api, client in
            let (code, headers, data) = try await client.post(
                api, path: "/v1/messages", body: Self.request("please FAKE:\(status)", stream: true))
            #expect(code == status)
            let error = try JSON.parse(data)
            #expect(error["type"] == "error")
            #expect(error["error"]?["type"]?.stringValue == type)
            #expect(error["error"]?["message"]?.stringValue?.contains("FAKE:\(status)") == true)
            #expect(headers["retry-after"] == ((status == 429 || status == 529) ? "1" : nil))
            #expect(headers["request-id"]?.hasPrefix("req_fake_") == true)
        }
    }

    @Test("FAKE:529once and FAKE:500once fail the first request per prompt only", arguments: [529, 500])
    func onceSemantics(status: Int) async throws {
        try await withServer { api, client in
            let prompt = "retry me FAKE:\(status)once"
            let first = try await client.post(api, path: "/v1/messages", body: Self.request(prompt, stream: false))
            let second = try await client.post(api, path: "/v1/messages", body: Self.request(prompt, stream: false))
            let other = try await client.post(
                api, path: "/v1/messages", body: Self.request("another FAKE:\(status)once", stream: false))
            #expect(first.status == status)
            #expect(second.status == 200)
            #expect(
                try JSON.parse(second.body)["content"]?[0]?["text"]
                    == .string("echo: \(prompt) | user_turns=1 | messages=1"))
            #expect(other.status == status)
        }
    }

    @Test("FAKE:midstream cuts a stream after one delta; the non-streaming fallback gets the full reply")
    func midstream() async throws {
        try await withServer { api, client in
            let streamed = try await client.stream(api, body: Self.request("FAKE:midstream", stream: true))
            let received = String(decoding: streamed.data, as: UTF8.self)
            #expect(received.contains("content_block_delta"))
            #expect(!received.contains("message_stop"))
            #expect(streamed.error != nil)

            let (status, _, data) = try await client.post(
                api, path: "/v1/messages", body: Self.request("FAKE:midstream", stream: false))
            #expect(status == 200)
            #expect(try JSON.parse(data)["content"]?[0]?["text"] == "echo: FAKE:midstream | user_turns=1 | messages=1")
        }
    }

    // MARK: Streaming behaviour

    @Test("FAKE:slow arrives tick by tick, not buffered until the end")
    func slowStreamIsIncremental() async throws {
        let configuration = FakeMessagesAPI.Configuration(slowTickInterval: .milliseconds(100), slowTickCount: 6)
        try await withServer(configuration) { api, client in
            let streamed = try await client.stream(api, body: Self.request("FAKE:slow", stream: true))
            #expect(streamed.error == nil)
            let firstTick = try #require(streamed.arrival(of: "\"tick 1 \""))
            let lastTick = try #require(streamed.arrival(of: "\"tick 6 \""))
            // Five pauses of 100 ms separate tick 1 from tick 6 on the server. Had the body been buffered, both
            // would arrive in the same chunk at the same instant.
            #expect(lastTick - firstTick >= .milliseconds(400))
            #expect(streamed.chunks.count >= 3)  // usually 6+; a loaded machine may coalesce a couple
            let text = try Self.parseSSE(streamed.data).compactMap { $0.data["delta"]?["text"]?.stringValue }.joined()
            #expect(text == "tick 1 tick 2 tick 3 tick 4 tick 5 tick 6 ")
        }
    }

    @Test("a client hanging up mid-stream leaves the server serving")
    func clientHangsUpMidStream() async throws {
        try await withServer { api, client in
            let cut = try await client.stream(
                api, body: Self.request("FAKE:slow", stream: true), cancelAfter: "\"tick 2 \"")
            #expect(cut.error != nil)
            #expect(String(decoding: cut.data, as: UTF8.self).contains("tick 2"))
            let (status, _, data) = try await client.post(
                api, path: "/v1/messages", body: Self.request("still there?", stream: false))
            #expect(status == 200)
            #expect(try JSON.parse(data)["content"]?[0]?["text"] == "echo: still there? | user_turns=1 | messages=1")
        }
    }

    @Test("stop() ends a running slow stream promptly")
    func stopCutsSlowStream() async throws {
        let api = FakeMessagesAPI()  // default: 150 ticks, 30 s
        try await api.start()
        let client = HTTPTestClient()
        defer { client.invalidate() }
        let clock = ContinuousClock()
        let started = clock.now
        async let streamed = client.stream(api, body: Self.request("FAKE:slow", stream: true))
        _ = try await api.waitForRequests(count: 1, timeout: .seconds(10))
        await api.stop()
        let result = try await streamed
        #expect(clock.now - started < .seconds(10))
        #expect(!String(decoding: result.data, as: UTF8.self).contains("message_stop"))
    }

    // MARK: Other endpoints, overrides, the log

    @Test("count_tokens, HEAD /api/hello and unknown paths")
    func otherEndpoints() async throws {
        try await withServer { api, client in
            let (status, _, data) = try await client.post(
                api, path: "/v1/messages/count_tokens?beta=true", body: Self.request("count me", stream: false))
            #expect(status == 200)
            #expect((try JSON.parse(data)["input_tokens"]?.intValue ?? 0) > 0)

            let head = try await client.send(api, method: "HEAD", path: "/api/hello", body: nil)
            #expect(head.status == 200)

            let missing = try await client.send(api, method: "POST", path: "/v1/nothing", body: Data("{}".utf8))
            #expect(missing.status == 404)

            let log = await api.requests
            #expect(log.map(\.path) == ["/v1/messages/count_tokens", "/api/hello", "/v1/nothing"])
            #expect(log.map(\.sequenceNumber) == [1, 2, 3])
            #expect(log[0].isCountTokens)
        }
    }

    @Test("a responder scripts replies; nil falls back to the defaults")
    func responderOverride() async throws {
        try await withServer { api, client in
            api.setResponder { request in
                request.lastUserText == "scripted?" ? .content([.text("one"), .text("two")]) : nil
            }
            let (_, _, scripted) = try await client.post(
                api, path: "/v1/messages", body: Self.request("scripted?", stream: false))
            let blocks = try JSON.parse(scripted)["content"]?.arrayValue?.compactMap { $0["text"]?.stringValue }
            #expect(blocks == ["one", "two"])

            let (_, _, fallback) = try await client.post(
                api, path: "/v1/messages", body: Self.request("plain", stream: false))
            #expect(try JSON.parse(fallback)["content"]?[0]?["text"] == "echo: plain | user_turns=1 | messages=1")

            api.setResponder { _ in .error(status: 503, type: "api_error", message: "down") }
            let (status, _, _) = try await client.post(
                api, path: "/v1/messages", body: Self.request("x", stream: false))
            #expect(status == 503)
        }
    }

    @Test("waitForRequests returns once enough requests arrived, and times out otherwise")
    func waitForRequests() async throws {
        try await withServer { api, client in
            async let waited = api.waitForRequests(count: 2, timeout: .seconds(10))
            _ = try await client.post(api, path: "/v1/messages", body: Self.request("a", stream: false))
            _ = try await client.post(api, path: "/v1/messages", body: Self.request("b", stream: false))
            #expect(try await waited.map(\.lastUserText) == ["a", "b"])

            await #expect(throws: FakeMessagesAPI.Failure.self) {
                _ = try await api.waitForRequests(count: 3, timeout: .milliseconds(50))
            }
        }
    }

    // MARK: Request interpretation (no server)

    @Test("lastUserText strips reminders and the interrupt marker; tool results are not user turns")
    func requestInterpretation() throws {
        let request = FakeMessagesAPI.Request(body: [
            "messages": [
                ["role": "user", "content": "<system-reminder>only a reminder</system-reminder>"],
                ["role": "user", "content": [["type": "tool_result", "tool_use_id": "t", "content": "out"]]],
                [
                    "role": "user",
                    "content": [
                        ["type": "tool_result", "tool_use_id": "t2", "content": "more"],
                        ["type": "text", "text": "<system-reminder>r</system-reminder>"],
                    ],
                ],
            ]
        ])
        #expect(request.userTurnCount == 0)
        #expect(request.lastUserText == nil)
        #expect(request.lastToolResultText == "more")
        #expect(FakeMessagesAPI().defaultReply(for: request).text == "tool result: more")

        let interrupted = FakeMessagesAPI.Request(body: [
            "messages": [["role": "user", "content": "[Request interrupted by user]\nnext <system-reminder>"]]
        ])
        #expect(interrupted.lastUserText == "next")
        #expect(interrupted.userTurnCount == 1)
    }

    @Test("captured fixtures are bundled and every line is a JSON object")
    func fixturesParse() throws {
        let folder = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".jsonl") }
        #expect(files.count >= 7)
        for file in files {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            let lines = text.split(separator: "\n")
            #expect(!lines.isEmpty, "\(file) is empty")
            for line in lines {
                guard case .object(let object) = try JSON.parse(String(line)) else {
                    Issue.record("\(file): a line is not an object")
                    continue
                }
                #expect(object["type"]?.stringValue != nil, "\(file): a line has no type")
            }
        }
    }

    // MARK: Helpers

    private static func request(_ text: String, stream: Bool) -> JSON {
        [
            "model": "claude-test-1", "max_tokens": 1024, "stream": .bool(stream),
            "messages": [["role": "user", "content": .string(text)]],
        ]
    }

    private struct SSEEvent {
        var name: String
        var data: JSON
    }

    private static func parseSSE(_ data: Data) throws -> [SSEEvent] {
        let text = String(decoding: data, as: UTF8.self)
        return try text.components(separatedBy: "\n\n").compactMap { block -> SSEEvent? in
            var name: String?
            var payload: String?
            for line in block.split(separator: "\n") {
                if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { payload = String(line.dropFirst(6)) }
            }
            guard let name, let payload else { return nil }
            return SSEEvent(name: name, data: try JSON.parse(payload))
        }
    }

    private func withServer(
        _ configuration: FakeMessagesAPI.Configuration = .init(),
        _ body: (FakeMessagesAPI, HTTPTestClient) async throws -> Void
    ) async throws {
        let api = FakeMessagesAPI(configuration: configuration)
        try await api.start()
        #expect(api.port > 0)
        #expect(api.baseURL.absoluteString == "http://127.0.0.1:\(api.port)")
        let client = HTTPTestClient()
        do {
            try await body(api, client)
        } catch {
            client.invalidate()
            await api.stop()
            throw error
        }
        client.invalidate()
        await api.stop()
    }
}

/// A small URLSession client: whole-body requests, and streamed requests that record when each chunk arrived.
private final class HTTPTestClient: Sendable {
    struct Streamed: Sendable {
        var chunks: [(at: ContinuousClock.Instant, data: Data)]
        var data: Data { chunks.reduce(into: Data()) { $0.append($1.data) } }
        var error: String?

        /// When the chunk that completed the first occurrence of `marker` arrived.
        func arrival(of marker: String) -> ContinuousClock.Instant? {
            var seen = Data()
            for chunk in chunks {
                seen.append(chunk.data)
                if String(decoding: seen, as: UTF8.self).contains(marker) { return chunk.at }
            }
            return nil
        }
    }

    private let session: URLSession
    private let delegate = StreamDelegate()

    init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 20
        configuration.timeoutIntervalForResource = 40
        session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: nil)
    }

    func invalidate() {
        session.invalidateAndCancel()
    }

    func send(_ api: FakeMessagesAPI, method: String, path: String, body: Data?) async throws
        -> (status: Int, headers: [String: String], body: Data)
    {
        let url = try #require(URL(string: api.baseURL.absoluteString + path))
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "content-type")
        request.setValue(CLITestEnvironment.apiKey, forHTTPHeaderField: "x-api-key")
        request.setValue("2023-06-01", forHTTPHeaderField: "anthropic-version")
        let (data, response) = try await session.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            if let key = key as? String, let value = value as? String { headers[key.lowercased()] = value }
        }
        return (http.statusCode, headers, data)
    }

    func post(_ api: FakeMessagesAPI, path: String, body: JSON) async throws
        -> (status: Int, headers: [String: String], body: Data)
    {
        try await send(api, method: "POST", path: path, body: Data(body.serialized()))
    }

    /// POSTs to /v1/messages and collects the body chunk by chunk through a data delegate.
    ///
    /// With `cancelAfter`, the client cancels the request once the received body contains that text.
    func stream(_ api: FakeMessagesAPI, body: JSON, cancelAfter marker: String? = nil) async throws -> Streamed {
        let url = try #require(URL(string: api.baseURL.absoluteString + "/v1/messages"))
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(body.serialized())
        request.setValue("application/json", forHTTPHeaderField: "content-type")
        return await withCheckedContinuation { continuation in
            let task = session.dataTask(with: request)
            delegate.register(task.taskIdentifier, continuation, cancelAfter: marker)
            task.resume()
        }
    }
}

private final class StreamDelegate: NSObject, URLSessionDataDelegate, Sendable {
    private struct Pending {
        var continuation: CheckedContinuation<HTTPTestClient.Streamed, Never>
        var cancelMarker: String?
        var chunks: [(at: ContinuousClock.Instant, data: Data)] = []
    }

    private let pending = Mutex<[Int: Pending]>([:])

    func register(
        _ id: Int, _ continuation: CheckedContinuation<HTTPTestClient.Streamed, Never>, cancelAfter marker: String?
    ) {
        pending.withLock { $0[id] = Pending(continuation: continuation, cancelMarker: marker) }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let now = ContinuousClock.now
        let cancel = pending.withLock { pending -> Bool in
            pending[dataTask.taskIdentifier]?.chunks.append((now, data))
            guard let entry = pending[dataTask.taskIdentifier], let marker = entry.cancelMarker else { return false }
            let received = entry.chunks.reduce(into: Data()) { $0.append($1.data) }
            return String(decoding: received, as: UTF8.self).contains(marker)
        }
        if cancel { dataTask.cancel() }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        guard let entry = pending.withLock({ $0.removeValue(forKey: task.taskIdentifier) }) else { return }
        entry.continuation.resume(returning: .init(chunks: entry.chunks, error: error.map { "\($0)" }))
    }
}

extension JSONValue {
    /// Parses a response body.
    fileprivate static func parse(_ data: Data) throws -> JSONValue { try parse([UInt8](data)) }
}
