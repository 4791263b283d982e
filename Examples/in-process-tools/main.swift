// In-process tools: Claude calls Swift functions directly. The tools live in an SDK MCP server
// that this process serves over the control protocol; no server process is started.
import ClaudeCode
import ExampleSupport
import Foundation

struct DivisionByZero: LocalizedError {
    var errorDescription: String? { "cannot divide by zero" }
}

/// The tool's input; its JSON Schema is derived from this type.
struct Operands: Codable, Sendable {
    var a: Double
    var b: Double
}

let add = try SDKMCPTool(name: "add", description: "Adds two numbers", input: Operands.self) { input in
    .text("\(input.a) + \(input.b) = \(input.a + input.b)")
}
let divide = try SDKMCPTool(name: "divide", description: "Divides a by b", input: Operands.self) { input in
    // A thrown error reaches Claude as an error result; the session goes on.
    guard input.b != 0 else { throw DivisionByZero() }
    return .text("\(input.a) / \(input.b) = \(input.a / input.b)")
}
// A tool with a hand-written JSON Schema and JSON arguments.
let shout = SDKMCPTool(
    name: "shout", description: "Upper-cases a text",
    inputSchema: ["type": "object", "properties": ["text": ["type": "string"]], "required": ["text"]],
    annotations: MCPToolAnnotations(readOnlyHint: true)
) { arguments in
    .text(arguments["text"]?.stringValue?.uppercased() ?? "")
}

let environment = try await ExampleEnvironment.prepare(name: "in-process-tools")
environment.banner()
var options = environment.options
options.mcpServers["calc"] = .sdk(SDKMCPServer(name: "calculator", tools: [add, divide, shout]))
// Claude sees them as mcp__<server key>__<tool>; allow them without asking.
options.allowedTools = ["mcp__calc__add", "mcp__calc__divide", "mcp__calc__shout"]

let prompts =
    environment.isOffline
    ? [
        #"use tool mcp__calc__add: {"a": 2, "b": 40}"#, #"use tool mcp__calc__divide: {"a": 1, "b": 0}"#,
        #"use tool mcp__calc__shout: {"text": "in-process tools work"}"#,
    ]
    : ["What is 2 + 40? Use the add tool.", "Divide 1 by 0 with the divide tool.", "Shout 'in-process tools work'."]
do {
    try await ClaudeSDKClient.withConnection(options: options) { client in
        for prompt in prompts {
            print("You: \(prompt)")
            try await client.query(prompt)
            for try await message in client.receiveResponse() { show(message) }
        }
        // The CLI connects MCP servers with the first prompt.
        let status = try await client.mcpStatus()
        for server in status["mcpServers"]?.arrayValue ?? [] {
            print("MCP server \(server["name"]?.stringValue ?? "?"): \(server["status"]?.stringValue ?? "?")")
        }
    }
} catch {
    await environment.cleanup()
    print("in-process-tools failed: \(error)")
    exit(1)
}
await environment.cleanup()
