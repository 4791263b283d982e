import Foundation
import Synchronization
import Testing

@testable import ClaudeCode

/// Schema inference, the schema validator, and the JSON-RPC side of SDK MCP servers.
@Suite(.timeLimit(.minutes(1))) struct InProcessToolsTests {
    enum Unit: String, Codable, CaseIterable, Sendable { case celsius, fahrenheit }
    enum Level: Int, Codable, CaseIterable, Sendable { case low = 1, high = 2 }
    struct Place: Codable, Sendable { var city: String; var zip: Int? }
    struct WeatherInput: Codable, Sendable {
        var place: Place
        var days: Int
        var unit: Unit
        var level: Level?
        var ratio: Double?
        var verbose: Bool
        var tags: [String]
        var stops: [Place]?
        var labels: [String: String]?
        var id: UUID?
        var link: URL?
    }

    @Test func schemaIsDerivedFromACodableType() throws {
        let schema = try JSONSchemaInference.schema(for: WeatherInput.self)
        #expect(schema["type"] == "object")
        #expect(schema["required"] == ["place", "days", "unit", "verbose", "tags"])
        let properties = try #require(schema["properties"])
        #expect(
            properties["place"] == [
                "type": "object", "properties": ["city": ["type": "string"], "zip": ["type": "integer"]],
                "required": ["city"],
            ])
        #expect(properties["days"] == ["type": "integer"])
        #expect(properties["unit"] == ["type": "string", "enum": ["celsius", "fahrenheit"]])
        #expect(properties["level"] == ["type": "integer", "enum": [1, 2]])
        #expect(properties["ratio"] == ["type": "number"])
        #expect(properties["verbose"] == ["type": "boolean"])
        #expect(properties["tags"] == ["type": "array", "items": ["type": "string"]])
        #expect(properties["stops"]?["items"]?["required"] == ["city"])
        #expect(properties["labels"] == ["type": "object"])
        #expect(properties["id"] == ["type": "string"])
        #expect(properties["link"] == ["type": "string"])
        // A value built from the schema's shape decodes.
        let sample: JSONValue = [
            "place": ["city": "Oslo"], "days": 2, "unit": "celsius", "verbose": false, "tags": ["a"], "level": 2,
        ]
        #expect(JSONSchemaValidator.violations(of: sample, against: schema).isEmpty)
    }

    final class Tree: Decodable, Sendable {
        let children: [Tree]
    }
    struct Validating: Decodable {
        let name: String
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            guard !name.isEmpty else {
                throw DecodingError.dataCorruptedError(forKey: .name, in: container, debugDescription: "empty name")
            }
        }
        enum CodingKeys: String, CodingKey { case name }
    }

    @Test func typesThatCannotBeProbedAreReported() {
        #expect(throws: ClaudeCodeError.self) { try JSONSchemaInference.schema(for: Tree.self) }
        #expect(throws: ClaudeCodeError.self) { try JSONSchemaInference.schema(for: Validating.self) }
        #expect(throws: ClaudeCodeError.self) {
            _ = try SDKMCPTool(name: "v", description: "v", input: Validating.self) { _ in .text("") }
        }
        // An explicit schema skips the probe.
        #expect(throws: Never.self) {
            _ = try SDKMCPTool(name: "v", description: "v", input: Validating.self, inputSchema: ["type": "object"]) {
                _ in
                .text("")
            }
        }
    }

    @Test func validatorReportsEveryKeywordItSupports() {
        let schema: JSONValue = [
            "type": "object",
            "properties": [
                "n": ["type": "integer"], "s": ["type": "string", "enum": ["a", "b"]],
                "list": ["type": "array", "items": ["type": "number"]],
                "any": [:], "either": ["type": ["string", "null"]], "fixed": ["const": 3],
                "nested": ["type": "object", "properties": ["x": ["type": "boolean"]], "additionalProperties": false],
            ],
            "required": ["n", "s"],
            "additionalProperties": ["type": "string"],
        ]
        func check(_ value: JSONValue) -> [String] {
            JSONSchemaValidator.violations(of: value, against: schema).map(\.description)
        }
        #expect(check(["n": 1, "s": "a"]).isEmpty)
        #expect(
            check(["n": 2.0, "s": "b", "list": [1, 2.5], "any": [1], "either": nil, "fixed": 3.0, "extra": "ok"])
                .isEmpty)
        #expect(check("nope") == ["$: expected object, got string"])
        #expect(check([:]) == ["$: missing required property n", "$: missing required property s"])
        #expect(
            check(["n": 1.5, "s": "c"]) == ["$.n: expected integer, got number", "$.s: must be one of \"a\", \"b\""])
        #expect(check(["n": 1, "s": "a", "list": [1, "x"]]) == ["$.list[1]: expected number, got string"])
        #expect(check(["n": 1, "s": "a", "extra": 5]) == ["$.extra: expected string, got integer"])
        #expect(
            check(["n": 1, "s": "a", "nested": ["x": true, "y": 1]]) == ["$.nested.y: is not an allowed property"])
        #expect(check(["n": 1, "s": "a", "either": 1]) == ["$.either: expected string or null, got integer"])
        #expect(check(["n": 1, "s": "a", "fixed": 4]) == ["$.fixed: must be 3"])
        #expect(JSONSchemaValidator.violations(of: 1, against: false).count == 1)
        #expect(JSONSchemaValidator.violations(of: 1, against: true).isEmpty)
    }

    struct AddInput: Codable, Sendable { var a: Double; var b: Double }
    struct Boom: LocalizedError { var errorDescription: String? { "the calculator is on fire" } }

    static func calculator() throws -> SDKMCPServer {
        SDKMCPServer(
            name: "calculator", version: "2.0.0",
            tools: [
                try SDKMCPTool(
                    name: "add", description: "Adds two numbers", input: AddInput.self,
                    annotations: MCPToolAnnotations(readOnlyHint: true, maxResultSizeChars: 1000)
                ) { input in
                    .text("\(input.a + input.b)")
                },
                SDKMCPTool(name: "explode", description: "Throws", inputSchema: ["type": "object"]) { _ in throw Boom()
                },
                SDKMCPTool(name: "echo", description: "Echoes", inputSchema: ["type": "object"]) { arguments in
                    MCPToolResult(
                        content: [.text(arguments.jsonString), .image(base64Data: "AA==", mimeType: "image/png")],
                        structuredContent: arguments)
                },
            ])
    }

    private func request(_ method: String, id: JSONValue = 1, params: JSONValue? = nil) -> JSONValue {
        var message: [String: JSONValue] = ["jsonrpc": "2.0", "id": id, "method": .string(method)]
        if let params { message["params"] = params }
        return .object(message)
    }

    @Test func endpointAnswersTheMCPMethodsTheCLIUses() async throws {
        let endpoint = SDKMCPEndpoint(server: try Self.calculator())
        let initialize = try await endpoint.handle(
            request(
                "initialize", id: 0,
                params: ["protocolVersion": "2025-11-25", "capabilities": [:], "clientInfo": ["name": "claude-code"]]))
        #expect(
            initialize == [
                "jsonrpc": "2.0", "id": 0,
                "result": [
                    "protocolVersion": "2025-11-25", "capabilities": ["tools": ["listChanged": false]],
                    "serverInfo": ["name": "calculator", "version": "2.0.0"],
                ],
            ])
        let old = try await endpoint.handle(request("initialize", params: ["protocolVersion": "2024-11-05"]))
        #expect(old["result"]?["protocolVersion"] == "2024-11-05")
        let future = try await endpoint.handle(request("initialize", params: ["protocolVersion": "2099-01-01"]))
        #expect(future["result"]?["protocolVersion"] == "2025-11-25")
        #expect(
            try await endpoint.handle(["jsonrpc": "2.0", "method": "notifications/initialized"]) == [
                "jsonrpc": "2.0", "result": [:],
            ])
        #expect(try await endpoint.handle(request("ping", id: "p")) == ["jsonrpc": "2.0", "id": "p", "result": [:]])

        let list = try await endpoint.handle(request("tools/list", id: 2))
        let tools = try #require(list["result"]?["tools"]?.arrayValue)
        #expect(tools.map { $0["name"] } == ["add", "explode", "echo"])
        #expect(tools[0]["inputSchema"]?["required"] == ["a", "b"])
        #expect(tools[0]["annotations"] == ["readOnlyHint": true])
        #expect(tools[0]["_meta"] == ["anthropic/maxResultSizeChars": 1000])

        let sum = try await endpoint.handle(
            request(
                "tools/call", id: 3,
                params: ["name": "add", "arguments": ["a": 2, "b": 3], "_meta": ["claudecode/toolUseId": "t"]]))
        #expect(sum == ["jsonrpc": "2.0", "id": 3, "result": ["content": [["type": "text", "text": "5.0"]]]])
        let echo = try await endpoint.handle(
            request("tools/call", id: 4, params: ["name": "echo", "arguments": ["x": 1]]))
        #expect(echo["result"]?["structuredContent"] == ["x": 1])
        #expect(echo["result"]?["content"]?[1] == ["type": "image", "data": "AA==", "mimeType": "image/png"])
    }

    @Test func toolFailuresAreErrorResultsAndProtocolErrorsAreJSONRPCErrors() async throws {
        let endpoint = SDKMCPEndpoint(server: try Self.calculator())
        func call(_ name: String, _ arguments: JSONValue) async throws -> JSONValue {
            try #require(
                try await endpoint.handle(
                    request("tools/call", params: ["name": .string(name), "arguments": arguments]))["result"])
        }
        #expect(
            try await call("nope", [:]) == [
                "content": [["type": "text", "text": "Tool 'nope' not found"]], "isError": true,
            ])
        let invalid = try await call("add", ["a": "two"])
        #expect(invalid["isError"] == true)
        #expect(
            invalid["content"]?[0]?["text"]
                == "Input validation error: $: missing required property b; $.a: expected number, got string")
        #expect(try await call("explode", [:])["content"]?[0]?["text"] == "the calculator is on fire")
        #expect(try await call("add", "not an object")["isError"] == true)

        let unknown = try await endpoint.handle(request("resources/list", id: 9))
        #expect(
            unknown == [
                "jsonrpc": "2.0", "id": 9, "error": ["code": -32601, "message": "Method not found: resources/list"],
            ])
        let noName = try await endpoint.handle(request("tools/call", id: 10, params: ["arguments": [:]]))
        #expect(noName["error"]?["code"] == -32602)
        #expect(try await endpoint.handle("garbage")["error"]?["code"] == -32600)
        #expect(try await endpoint.handle(["jsonrpc": "2.0", "id": 11])["error"]?["code"] == -32600)
        // A response to nothing we asked is acknowledged, never an error that could upset the CLI.
        #expect(
            try await endpoint.handle(["jsonrpc": "2.0", "id": 12, "result": [:]]) == ["jsonrpc": "2.0", "result": [:]])
    }

    @Test func cancelledNotificationCancelsTheRunningCall() async throws {
        let started = AsyncStream<Void>.makeStream()
        let sawCancel = Mutex(false)
        let server = SDKMCPServer(
            name: "slow",
            tools: [
                SDKMCPTool(name: "wait", description: "Waits", inputSchema: ["type": "object"]) { _ in
                    started.continuation.yield()
                    do {
                        try await Task.sleep(for: .seconds(60))
                    } catch {
                        sawCancel.withLock { $0 = true }
                        throw error
                    }
                    return .text("late")
                }
            ])
        let endpoint = SDKMCPEndpoint(server: server)
        async let answer = endpoint.handle(request("tools/call", id: 7, params: ["name": "wait"]))
        for await _ in started.stream { break }
        let ack = try await endpoint.handle([
            "jsonrpc": "2.0", "method": "notifications/cancelled", "params": ["requestId": 7, "reason": "user"],
        ])
        #expect(ack == ["jsonrpc": "2.0", "result": [:]])
        #expect(
            try await answer["result"] == [
                "content": [["type": "text", "text": "Tool 'wait' was cancelled"]], "isError": true,
            ])
        #expect(sawCancel.withLock { $0 })
    }

    @Test func deadlineReturnsEvenWhenTheBodyIgnoresCancellation() async throws {
        let release = Mutex<CheckedContinuation<Void, Never>?>(nil)
        await #expect(throws: DeadlineExceeded.self) {
            _ = try await withDeadline(.milliseconds(50)) { () async -> Int in
                // Ignores cancellation: only the test lets it go.
                await withCheckedContinuation { continuation in release.withLock { $0 = continuation } }
                return 1
            }
        }
        // Let the abandoned body finish, so nothing is left suspended.
        while release.withLock({ $0 == nil }) { await Task.yield() }
        release.withLock { $0 }?.resume()
        #expect(try await withDeadline(.seconds(30)) { 42 } == 42)
        #expect(try await withDeadline(nil) { "no limit" } == "no limit")
        await #expect(throws: Boom.self) { try await withDeadline(.seconds(30)) { () throws -> Int in throw Boom() } }
    }
}
