import ClaudeCode
import ClaudeCodeTesting
import Foundation
import InMemoryTracing
import Testing
import Tracing

/// An in-memory tracer that injects a W3C `traceparent`, as a real OpenTelemetry tracer does.
struct W3CInMemoryTracer: Tracer {
    let base = InMemoryTracer(
        idGenerator: .init(
            nextTraceID: { (0..<2).map { _ in String(format: "%016llx", UInt64.random(in: 1...UInt64.max)) }.joined() },
            nextSpanID: { String(format: "%016llx", UInt64.random(in: 1...UInt64.max)) }))

    func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> InMemorySpan {
        base.startSpan(
            operationName, context: context(), ofKind: kind, at: instant(), function: function, file: fileID, line: line
        )
    }

    func forceFlush() {}

    func inject<Carrier, Inject: Injector>(
        _ context: ServiceContext, into carrier: inout Carrier, using injector: Inject
    ) where Inject.Carrier == Carrier {
        guard let span = context.inMemorySpanContext else { return }
        injector.inject("00-\(span.traceID)-\(span.spanID)-01", forKey: "traceparent", into: &carrier)
    }

    func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract
    ) where Extract.Carrier == Carrier {}

    var finishedSpans: [FinishedInMemorySpan] { base.finishedSpans }
}

/// A span's string attribute.
private func text(_ span: FinishedInMemorySpan, _ key: String) -> String? {
    guard case .string(let value)? = span.attributes[key]?.toSpanAttribute() else { return nil }
    return value
}

@Suite("Tracing with the real CLI", .serialized, .timeLimit(.minutes(3)))
struct TracingRealCLITests {
    @Test func spansCoverConnectTurnsControlRequestsAndCallbacksAndTheCLIGetsTheTraceContext() async throws {
        try await RealCLIHarness.run { harness in
            let tracer = W3CInMemoryTracer()
            let server = SDKMCPServer(
                name: "t", tools: [SDKMCPTool(name: "ping", description: "Answers pong") { .text("pong") }])
            let options = harness.options {
                $0.tracer = tracer
                $0.mcpServers["t"] = .sdk(server)
                $0.allowedTools = ["mcp__t__ping"]
                $0.canUseTool = { _, _, _ in .allow() }
                $0.hooks[.preToolUse] = [HookMatcher(matcher: "Bash") { _, _ in HookOutput() }]
            }
            var bashOutput = ""
            // The application's own span: everything the SDK does inside it joins its trace.
            try await tracer.withSpan("app") { _ in
                try await ClaudeSDKClient.withConnection(options: options) { client in
                    try await client.query(#"use tool Bash: echo "TP=$TRACEPARENT""#)
                    for message in try await collectResponse(client) {
                        if case .user(let user) = message, case .blocks(let blocks) = user.content {
                            for case .toolResult(let result) in blocks { bashOutput += result.text ?? "" }
                        }
                    }
                    try await client.query(#"use tool mcp__t__ping: {}"#)
                    _ = try await collectResponse(client)
                    _ = try await client.mcpStatus()
                }
            }
            let spans = tracer.finishedSpans
            let names = spans.map(\.operationName)
            let connect = try #require(spans.first { $0.operationName == "claude.connect" })
            // The CLI (and the Bash tool it ran) got the connect span's W3C context.
            #expect(bashOutput.contains("TP=00-\(connect.traceID)-\(connect.spanID)-01"), "\(bashOutput)")
            #expect(names.filter { $0 == "claude.turn" }.count == 2)
            let subtypes = spans.filter { $0.operationName == "claude.control_request" }
                .compactMap { text($0, "claude.control.subtype") }
            #expect(subtypes.contains("initialize"))
            #expect(subtypes.contains("mcp_status"))
            let turns = spans.filter { $0.operationName == "claude.turn" }
            let permission = try #require(spans.first { $0.operationName == "claude.can_use_tool" })
            #expect(text(permission, "claude.tool.name") == "Bash")
            #expect(turns.contains { $0.spanID == permission.parentSpanID })
            let hook = try #require(spans.first { $0.operationName == "claude.hook" })
            #expect(text(hook, "claude.hook.event") == "PreToolUse")
            let tool = try #require(spans.first { $0.operationName == "claude.tool" })
            #expect(text(tool, "claude.tool.name") == "ping")
            #expect(turns.contains { $0.spanID == tool.parentSpanID })
            #expect(turns.allSatisfy { $0.attributes["claude.session_id"] != nil })
            // Everything is one trace: the application's.
            #expect(Set(spans.map(\.traceID)).count == 1)
            let app = try #require(spans.first { $0.operationName == "app" })
            #expect(connect.parentSpanID == app.spanID)
            #expect(turns.allSatisfy { $0.parentSpanID == app.spanID })
        }
    }

    @Test func withoutATracerNoTraceContextReachesTheCLI() throws {
        var options = ClaudeCodeOptions()
        let inherited = ["TRACEPARENT": "00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb-01", "TRACESTATE": "x=y"]
        let environment = options.processEnvironment(base: inherited)
        #expect(environment["TRACEPARENT"] == nil)
        #expect(environment["TRACESTATE"] == nil)
        // Unless the options set it.
        options.env["TRACEPARENT"] = "00-cccccccccccccccccccccccccccccccc-dddddddddddddddd-01"
        #expect(options.processEnvironment(base: inherited)["TRACEPARENT"] == options.env["TRACEPARENT"])
    }
}
