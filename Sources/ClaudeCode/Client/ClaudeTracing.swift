import Synchronization
import Tracing

/// The SDK's spans (swift-distributed-tracing), and the trace context handed to the CLI.
///
/// | Span | Kind | Around | Attributes |
/// | --- | --- | --- | --- |
/// | `claude.connect` | client | ``ClaudeSDKClient/connect(prompt:)`` (start and `initialize`) | `claude.model` |
/// | `claude.turn` | client | a prompt sent by `query`, until the turn's result | `claude.session_id`, `claude.num_turns`, `claude.cost_usd`, `claude.is_error` |
/// | `claude.control_request` | client | each control request the SDK sends | `claude.control.subtype` |
/// | `claude.can_use_tool` | server | the permission callback | `claude.tool.name` |
/// | `claude.hook` | server | a hook callback | `claude.hook.event` |
/// | `claude.tool` | server | an in-process MCP tool call | `claude.mcp.server`, `claude.tool.name` |
///
/// Callbacks are children of the running turn's span. The tracer is ``ClaudeCodeOptions/tracer``,
/// else the one bootstrapped with `InstrumentationSystem`; with neither, nothing is created and
/// nothing is paid. The W3C context of the span active at `connect` (the connect span) reaches the
/// CLI as `TRACEPARENT`/`TRACESTATE`, as the Python SDK hands it over; inherited values are
/// dropped first unless ``ClaudeCodeOptions/env`` sets them.
enum ClaudeTracing {
    /// The tracer for `options`, or `nil` when none is set up (the no-op tracer).
    static func tracer(_ options: ClaudeCodeOptions) -> (any Tracer)? {
        if let tracer = options.tracer { return tracer }
        let global = InstrumentationSystem.tracer
        return global is NoOpTracer ? nil : global
    }

    /// Runs `body` in a span named `name` (or, without a tracer, just runs it), keeping its typed error.
    /// The span is a child of the task's active span, else of `parent`.
    static func withSpan<T: Sendable, E: Error>(
        _ name: String, tracer: (any Tracer)?, kind: SpanKind = .client, parent: ServiceContext? = nil,
        attributes: (inout SpanAttributes) -> Void = { _ in },
        _ body: () async throws(E) -> T
    ) async throws(E) -> T {
        guard let tracer else { return try await body() }
        let span = tracer.startAnySpan(name, context: .current ?? parent ?? .topLevel, ofKind: kind)
        span.updateAttributes(attributes)
        let result: Result<T, E> = await ServiceContext.withValue(span.context) {
            do throws(E) {
                return .success(try await body())
            } catch {
                return .failure(error)
            }
        }
        if case .failure(let error) = result { span.recordError(error) }
        span.end()
        return try result.get()
    }

    /// The trace context of the span active now, as the environment variables the CLI reads.
    static func environment(_ options: ClaudeCodeOptions) -> [String: String] {
        guard let tracer = tracer(options), let context = ServiceContext.current else { return [:] }
        var carrier: [String: String] = [:]
        tracer.inject(context, into: &carrier, using: EnvironmentInjector())
        return carrier
    }
}

/// Writes the W3C trace-context fields as the environment variables the CLI reads (`traceparent` →
/// `TRACEPARENT`, `tracestate` → `TRACESTATE`); an instrument's other fields are not for the CLI.
struct EnvironmentInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        let name = key.uppercased()
        guard name == "TRACEPARENT" || name == "TRACESTATE" else { return }
        carrier[name] = value
    }
}

/// The spans of the turns in flight: ended, together, by the next result (the CLI merges prompts
/// sent while a turn runs into its next turn), or by the end of the connection.
final class TurnSpans: Sendable {
    private let open = Mutex<[any Span]>([])
    let tracer: any Tracer

    init(tracer: any Tracer) { self.tracer = tracer }

    /// Starts a turn's span, as a child of the task's active span.
    func begin() {
        let span = tracer.startAnySpan("claude.turn", context: .current ?? .topLevel, ofKind: .client)
        open.withLock { $0.append(span) }
    }

    /// The context of the newest turn in flight, for the callbacks it causes.
    var currentContext: ServiceContext? { open.withLock { $0.last?.context } }

    /// Ends the turns in flight with the result's figures.
    func finish(_ result: ResultMessage) {
        let spans = open.withLock { spans -> [any Span] in
            defer { spans.removeAll() }
            return spans
        }
        for span in spans {
            span.updateAttributes { attributes in
                attributes["claude.session_id"] = result.sessionID
                attributes["claude.num_turns"] = result.numTurns
                if let cost = result.totalCostUSD { attributes["claude.cost_usd"] = cost }
                attributes["claude.is_error"] = result.isError
            }
            if result.isError { span.setStatus(SpanStatus(code: .error, message: result.subtype)) }
            span.end()
        }
    }

    /// Ends the turns still in flight when the connection ends.
    func abandon() {
        let spans = open.withLock { spans -> [any Span] in
            defer { spans.removeAll() }
            return spans
        }
        for span in spans {
            span.setStatus(SpanStatus(code: .error, message: "the connection ended before the turn's result"))
            span.end()
        }
    }
}
