import Foundation
import Synchronization

/// The server side of MCP for one ``SDKMCPServer``, over `mcp_message` control requests.
///
/// A small JSON-RPC 2.0 layer of our own (see `docs/in-process-tools.md`): `initialize`, `ping`,
/// `tools/list`, `tools/call`, `resources/list`, `resources/templates/list` and `resources/read` are answered; notifications are acknowledged (and
/// `notifications/cancelled` cancels the call it names); any other method gets -32601.
final class SDKMCPEndpoint: Sendable {
    /// Newest first; the client's version is echoed when it is one of these.
    static let protocolVersions = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]

    let server: SDKMCPServer
    private let tools: [String: SDKMCPTool]
    /// Running `tools/call`s by JSON-RPC id, for `notifications/cancelled`.
    private let running = Mutex<[JSONValue: Task<MCPToolResult, any Error>]>([:])

    init(server: SDKMCPServer) {
        self.server = server
        self.tools = Dictionary(server.tools.map { ($0.name, $0) }) { first, _ in first }
    }

    /// Answers one JSON-RPC message with a JSON-RPC response; notifications and responses get an empty result.
    /// - Throws: `CancellationError` only when the calling task was cancelled (no answer is due then).
    func handle(_ message: JSONValue) async throws -> JSONValue {
        guard case .object = message else {
            return Self.error(id: .null, code: -32600, "Invalid Request: not a JSON object")
        }
        let id = message["id"]
        guard let method = message["method"]?.stringValue else {
            if message["result"] != nil || message["error"] != nil { return Self.acknowledgement }
            return Self.error(id: id ?? .null, code: -32600, "Invalid Request: no method")
        }
        guard let id, !id.isNull else {
            if method == "notifications/cancelled", let target = message["params"]?["requestId"] {
                running.withLock { $0[target] }?.cancel()
            }
            return Self.acknowledgement
        }
        let params = message["params"] ?? [:]
        switch method {
        case "initialize":
            let requested = params["protocolVersion"]?.stringValue ?? ""
            let version = Self.protocolVersions.contains(requested) ? requested : Self.protocolVersions[0]
            return Self.result(
                id: id,
                [
                    "protocolVersion": .string(version), "capabilities": capabilities,
                    "serverInfo": ["name": .string(server.name), "version": .string(server.version)],
                ])
        case "ping":
            return Self.result(id: id, [:])
        case "tools/list":
            return Self.result(id: id, ["tools": .array(server.tools.map(\.listing))])
        case "tools/call":
            guard let name = params["name"]?.stringValue else {
                return Self.error(id: id, code: -32602, "Invalid params: tools/call needs a string name")
            }
            let arguments = params["arguments"].flatMap { $0.isNull ? nil : $0 } ?? [:]
            let result = try await call(name, arguments: arguments, id: id)
            return Self.result(id: id, result.json)
        case "resources/list" where !server.resources.isEmpty:
            return Self.result(id: id, ["resources": .array(server.resources.map(\.listing))])
        case "resources/templates/list" where !server.resources.isEmpty:
            return Self.result(id: id, ["resourceTemplates": []])
        case "resources/read" where !server.resources.isEmpty:
            guard let uri = params["uri"]?.stringValue else {
                return Self.error(id: id, code: -32602, "Invalid params: resources/read needs a string uri")
            }
            guard let resource = server.resources.first(where: { $0.uri == uri }) else {
                return Self.error(id: id, code: -32002, "Resource not found: \(uri)")
            }
            do {
                let contents = try await resource.read()
                return Self.result(id: id, ["contents": .array(contents.map(\.json))])
            } catch  where Task.isCancelled {
                throw CancellationError()
            } catch {
                return Self.error(id: id, code: -32603, "Reading \(uri) failed: \(describeError(error))")
            }
        default:
            return Self.error(id: id, code: -32601, "Method not found: \(method)")
        }
    }

    /// `tools`, and `resources` when the server has some.
    private var capabilities: JSONValue {
        var capabilities: [String: JSONValue] = ["tools": ["listChanged": false]]
        if !server.resources.isEmpty {
            capabilities["resources"] = ["listChanged": false, "subscribe": false]
        }
        return .object(capabilities)
    }

    /// Runs a tool; every failure becomes an error result.
    func call(_ name: String, arguments: JSONValue, id: JSONValue) async throws -> MCPToolResult {
        guard let tool = tools[name] else { return .error("Tool '\(name)' not found") }
        guard case .object = arguments else { return .error("Input validation error: the arguments are not an object") }
        let violations = JSONSchemaValidator.violations(of: arguments, against: tool.inputSchema)
        if !violations.isEmpty {
            return .error("Input validation error: \(violations.map(\.description).joined(separator: "; "))")
        }
        let task = Task { try await tool.handler(arguments) }
        running.withLock { $0[id] = task }
        defer { running.withLock { _ = $0.removeValue(forKey: id) } }
        let outcome = await withTaskCancellationHandler {
            await task.result
        } onCancel: {
            task.cancel()
        }
        if Task.isCancelled { throw CancellationError() }
        switch outcome {
        case .success(let result): return result
        case .failure where task.isCancelled: return .error("Tool '\(name)' was cancelled")
        case .failure(let error): return .error(describeError(error))
        }
    }

    static let acknowledgement: JSONValue = ["jsonrpc": "2.0", "result": [:]]

    static func result(id: JSONValue, _ result: JSONValue) -> JSONValue {
        ["jsonrpc": "2.0", "id": id, "result": result]
    }

    static func error(id: JSONValue, code: Int64, _ message: String) -> JSONValue {
        ["jsonrpc": "2.0", "id": id, "error": ["code": .int(code), "message": .string(message)]]
    }
}

/// The text of an error thrown by a user callback: its `LocalizedError` description, else its description.
func describeError(_ error: any Error) -> String {
    if let localized = error as? any LocalizedError, let text = localized.errorDescription { return text }
    return String(describing: error)
}
