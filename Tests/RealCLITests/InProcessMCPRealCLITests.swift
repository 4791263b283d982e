import ClaudeCode
import ClaudeCodeTesting
import Foundation
import Synchronization
import Testing

/// In-process MCP servers beyond tools, with the real CLI 2.1.331 and the fake Messages API: resources,
/// typed tool results, and what the CLI's SDK MCP bridge does not forward (prompts).
@Suite("In-process MCP resources and results with the real CLI", .serialized, .timeLimit(.minutes(3)))
struct InProcessMCPRealCLITests {
    private func toolResults(_ messages: [Message]) -> [String] {
        messages.flatMap { message -> [String] in
            guard case .user(let user) = message, case .blocks(let blocks) = user.content else { return [] }
            return blocks.compactMap { block -> String? in
                guard case .toolResult(let result) = block else { return nil }
                return result.text
            }
        }
    }

    @Test func claudeListsAndReadsTheResourcesOfAnInProcessServer() async throws {
        try await RealCLIHarness.run { harness in
            let reads = Mutex(0)
            let server = SDKMCPServer(
                name: "docs", tools: [],
                resources: [
                    SDKMCPResource(uri: "mem://notes", name: "notes", description: "Release NOTES-DESC") {
                        reads.withLock { $0 += 1 }
                        return "RESOURCE-BODY-42"
                    }
                ])
            let options = harness.options {
                $0.mcpServers = ["docs": .sdk(server)]
                $0.permissionMode = .bypassPermissions
            }
            try await ClaudeSDKClient.withConnection(options: options) { client in
                try await client.query(#"use tool ListMcpResourcesTool: {"server": "docs"}"#)
                let listed = try await collectResponse(client)
                #expect(toolResults(listed).contains { $0.contains("NOTES-DESC") })
                try await client.query(#"use tool ReadMcpResourceTool: {"server": "docs", "uri": "mem://notes"}"#)
                _ = try await collectResponse(client)
                try await client.query(#"use tool ReadMcpResourceTool: {"server": "docs", "uri": "mem://missing"}"#)
                _ = try await collectResponse(client)
            }
            #expect(reads.withLock { $0 } == 1)
            // The resource's text reached the model in the tool result of the read.
            let texts = await harness.api.messageRequests.compactMap(\.lastToolResultText)
            #expect(texts.contains { $0.contains("RESOURCE-BODY-42") })
            #expect(texts.contains { $0.contains("mem://missing") })
        }
    }

    @Test func typedToolResultsReachTheModel() async throws {
        try await RealCLIHarness.run { harness in
            let pixel =
                "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
            let mixed = SDKMCPTool(name: "mixed", description: "Mixed content") {
                MCPToolResult(content: [
                    .text("TEXT-PART"),
                    .image(base64Data: pixel, mimeType: "image/png"),
                    .resourceLink(uri: "file:///srv/report.txt", name: "report", description: "LINK-DESC"),
                    .resource(.text(uri: "mem://embedded", text: "EMBEDDED-TEXT", mimeType: "text/plain")),
                ])
            }
            let structured = SDKMCPTool(name: "structured", description: "Structured") {
                MCPToolResult(content: [.text("ignored")], structuredContent: ["answer": 42])
            }
            let server = SDKMCPServer(name: "kinds", tools: [mixed, structured])
            let options = harness.options {
                $0.mcpServers = ["kinds": .sdk(server)]
                $0.allowedTools = ["mcp__kinds__mixed", "mcp__kinds__structured"]
            }
            try await ClaudeSDKClient.withConnection(options: options) { client in
                try await client.query("use tool mcp__kinds__mixed: {}")
                _ = try await collectResponse(client)
                try await client.query("use tool mcp__kinds__structured: {}")
                _ = try await collectResponse(client)
            }
            let results = await harness.api.messageRequests.compactMap { request -> JSONValue? in
                request.lastUserMessage?["content"]?.arrayValue?.first { $0["type"] == "tool_result" }?["content"]
            }
            let mixedResult = try #require(results.first { $0.jsonString.contains("TEXT-PART") })
            let blocks = mixedResult.arrayValue ?? []
            #expect(blocks.contains { $0["type"] == "image" && $0["source"]?["media_type"] == "image/png" })
            #expect(
                blocks.contains {
                    $0["text"]?.stringValue?.contains("[Resource link: report] file:///srv/report.txt (LINK-DESC)")
                        == true
                })
            #expect(blocks.contains { $0["text"]?.stringValue?.contains("EMBEDDED-TEXT") == true })
            #expect(results.contains { $0.jsonString.contains("42") && !$0.jsonString.contains("ignored") })
        }
    }

    @Test func theCLIDoesNotAskAnInProcessServerForPrompts() async throws {
        try await RealCLIHarness.run { harness in
            let methods = Mutex<[String]>([])
            // Announce prompts too, to show the CLI would not ask even then.
            let handler: ControlRequestHandler = { subtype, request in
                guard subtype == "mcp_message", let method = request["message"]?["method"]?.stringValue else {
                    throw UnhandledControlRequest()
                }
                methods.withLock { $0.append(method) }
                guard method == "initialize", let id = request["message"]?["id"] else {
                    throw UnhandledControlRequest()
                }
                return [
                    "mcp_response": [
                        "jsonrpc": "2.0", "id": id,
                        "result": [
                            "protocolVersion": request["message"]?["params"]?["protocolVersion"] ?? "2025-06-18",
                            "capabilities": ["tools": [:], "prompts": [:]],
                            "serverInfo": ["name": "p", "version": "1"],
                        ],
                    ]
                ]
            }
            let server = SDKMCPServer(name: "p", tools: [SDKMCPTool(name: "t", description: "t") { .text("t") }])
            let client = ClaudeSDKClient(
                options: harness.options { $0.mcpServers = ["p": .sdk(server)] }, controlHandler: handler)
            try await client.connect()
            try await client.query("/mcp__p__anything")
            _ = try await collectResponse(client)
            #expect(try client.supportedCommands().contains { $0.name.hasPrefix("mcp__p__") } == false)
            await client.disconnect()
            let seen = methods.withLock { $0 }
            #expect(seen.contains("tools/list"))
            #expect(!seen.contains("prompts/list"))
        }
    }
}
