import Logging
import Tracing

/// Thrown by a ``ControlRequestHandler`` to pass a request on to the callbacks in the options.
///
/// A handler given to `ClaudeSDKClient/init(options:transport:observer:controlHandler:logger:)`
/// sees every control request from the CLI first. What it returns (or any other error it throws)
/// is the answer. Throwing `UnhandledControlRequest()` instead lets ``ClaudeCodeOptions/canUseTool``,
/// ``ClaudeCodeOptions/hooks`` and the SDK MCP servers in ``ClaudeCodeOptions/mcpServers`` answer it.
public struct UnhandledControlRequest: Error, Sendable {
    /// Creates the error.
    public init() {}
}

/// The one ``ControlRequestHandler`` of a connection: built from the options' callbacks, with the
/// user's own handler in front. Also builds the `initialize` request's `hooks`.
struct ControlCallbacks: Sendable {
    struct RegisteredHook: Sendable {
        var event: HookEvent
        var callback: HookCallback
        var timeout: Duration?
    }

    let canUseTool: CanUseTool?
    let canUseToolTimeout: Duration?
    let hooks: [String: RegisteredHook]
    /// `initialize`'s `hooks`: `null`, or `{Event: [{matcher, hookCallbackIds, timeout?, onFailure?}]}`.
    let initializeHooks: JSONValue
    /// Whether a matcher asks for `onFailure: block`, which the CLI must confirm it honours.
    let blocksOnFailure: Bool
    let mcpEndpoints: [String: SDKMCPEndpoint]
    let userHandler: ControlRequestHandler?
    let logger: Logger
    /// `initialize`'s other fields: `agents`, `excludeDynamicSections`, `systemPromptSnapshot`, `skills`,
    /// `forwardSubagentText` (only those the options set).
    let initializeOptions: [String: JSONValue]

    /// How much longer than a matcher's timeout the SDK waits for a hook callback. The CLI's own
    /// timer decides what a timeout means (for PreToolUse 2.1.331 does not run the tool, whatever
    /// `onFailure` says); the SDK only stops waiting afterwards, so the two never race.
    let hookDeadlineGrace: Duration
    /// The tracer of the callbacks' spans, and the context of the turn that causes them.
    let tracer: (any Tracer)?
    let turnContext: @Sendable () -> ServiceContext?

    init(
        options: ClaudeCodeOptions, userHandler: ControlRequestHandler?, logger: Logger,
        hookDeadlineGrace: Duration = .seconds(2), turnContext: @escaping @Sendable () -> ServiceContext? = { nil }
    ) {
        self.hookDeadlineGrace = hookDeadlineGrace
        self.tracer = ClaudeTracing.tracer(options)
        self.turnContext = turnContext
        canUseTool = options.canUseTool
        canUseToolTimeout = options.canUseToolTimeout
        self.userHandler = userHandler
        self.logger = logger
        var hooks: [String: RegisteredHook] = [:]
        var wire: [String: JSONValue] = [:]
        var blocks = false
        var next = 0
        // Sorted, so that the same options always give the same ids.
        for event in options.hooks.keys.sorted() {
            guard let matchers = options.hooks[event], !matchers.isEmpty else { continue }
            var entries: [JSONValue] = []
            for matcher in matchers {
                var ids: [JSONValue] = []
                for callback in matcher.hooks {
                    let id = "hook_\(next)"
                    next += 1
                    hooks[id] = RegisteredHook(event: event, callback: callback, timeout: matcher.timeout)
                    ids.append(.string(id))
                }
                var entry: [String: JSONValue] = [
                    "matcher": matcher.matcher.map(JSONValue.string) ?? .null, "hookCallbackIds": .array(ids),
                ]
                if let timeout = matcher.timeout { entry["timeout"] = timeout.secondsJSON }
                if let onFailure = matcher.onFailure {
                    entry["onFailure"] = .string(onFailure.rawValue)
                    // The CLI reads any value but `continue` as `block`.
                    blocks = blocks || onFailure != .continue
                }
                entries.append(.object(entry))
            }
            wire[event.rawValue] = .array(entries)
        }
        self.hooks = hooks
        initializeHooks = wire.isEmpty ? .null : .object(wire)
        blocksOnFailure = blocks
        var endpoints: [String: SDKMCPEndpoint] = [:]
        for (key, config) in options.mcpServers {
            if case .sdk(let server) = config { endpoints[key] = SDKMCPEndpoint(server: server) }
        }
        mcpEndpoints = endpoints
        initializeOptions = Self.initializeOptions(options)
    }

    /// The option fields of `initialize`, as the Python SDK sends them.
    static func initializeOptions(_ options: ClaudeCodeOptions) -> [String: JSONValue] {
        var fields: [String: JSONValue] = [:]
        if !options.agents.isEmpty { fields["agents"] = .object(options.agents.mapValues(\.json)) }
        if let exclude = options.excludeDynamicSystemPromptSections {
            fields["excludeDynamicSections"] = .bool(exclude)
        }
        if let snapshot = options.systemPromptSnapshot { fields["systemPromptSnapshot"] = .bool(snapshot) }
        if case .named(let names) = options.skills { fields["skills"] = .array(names.map(JSONValue.string)) }
        if options.forwardSubagentText { fields["forwardSubagentText"] = true }
        return fields
    }

    /// The fields of the `initialize` control request.
    var initializeFields: [String: JSONValue] {
        initializeOptions.merging(["hooks": initializeHooks]) { _, hooks in hooks }
    }

    /// Fails when a hook asks to block on failure and the CLI cannot guarantee it.
    func checkInitializeResponse(_ response: JSONValue) throws(ClaudeCodeError) {
        guard blocksOnFailure else { return }
        if response["hook_on_failure_supported"]?.boolValue != true {
            throw ClaudeCodeError(
                .initializeFailed,
                "the CLI does not honour onFailure on hook matchers, so a failing hook would not block; upgrade Claude Code or remove onFailure: .block"
            )
        }
        if response["hooks_applied"]?.boolValue == false {
            throw ClaudeCodeError(
                .initializeFailed,
                "the CLI session was already running and did not register the hooks, so a hook with onFailure: .block would never run"
            )
        }
    }

    /// The handler to give the control session.
    var handler: ControlRequestHandler {
        let callbacks = self
        return { subtype, request in
            if let userHandler = callbacks.userHandler {
                do {
                    return try await userHandler(subtype, request)
                } catch is UnhandledControlRequest {
                    // Fall through to the options' callbacks.
                }
            }
            return try await callbacks.handle(subtype, request)
        }
    }

    func handle(_ subtype: String, _ request: JSONValue) async throws -> JSONValue {
        switch subtype {
        case "can_use_tool" where canUseTool != nil:
            return try await traced("claude.can_use_tool", ["claude.tool.name": request["tool_name"]?.stringValue]) {
                try await permission(request)
            }
        case "hook_callback" where !hooks.isEmpty:
            let event = request["callback_id"]?.stringValue.flatMap { hooks[$0]?.event.rawValue }
            return try await traced("claude.hook", ["claude.hook.event": event]) { try await hook(request) }
        case "mcp_message" where !mcpEndpoints.isEmpty:
            guard request["message"]?["method"]?.stringValue == "tools/call" else {
                return try await mcpMessage(request)
            }
            let attributes = [
                "claude.mcp.server": request["server_name"]?.stringValue,
                "claude.tool.name": request["message"]?["params"]?["name"]?.stringValue,
            ]
            return try await traced("claude.tool", attributes) { try await mcpMessage(request) }
        default:
            throw ControlRequestError.unanswered(subtype)
        }
    }

    /// Runs a callback in a span (a child of the turn that caused it), when a tracer is set up.
    private func traced(
        _ name: String, _ attributes: [String: String?], _ body: () async throws -> JSONValue
    ) async throws -> JSONValue {
        guard let tracer else { return try await body() }
        let span = tracer.startAnySpan(name, context: turnContext() ?? .current ?? .topLevel, ofKind: .server)
        span.updateAttributes { values in
            for (key, value) in attributes { if let value { values[key] = value } }
        }
        defer { span.end() }
        do {
            return try await ServiceContext.withValue(span.context) { try await body() }
        } catch {
            span.recordError(error)
            throw error
        }
    }

    // MARK: can_use_tool

    private func permission(_ request: JSONValue) async throws -> JSONValue {
        guard let canUseTool else { throw ControlRequestError(message: "canUseTool is not set") }
        guard let toolName = request["tool_name"]?.stringValue else {
            throw ControlRequestError(message: "malformed can_use_tool request: no tool_name")
        }
        guard let input = request["input"], case .object = input else {
            throw ControlRequestError(message: "malformed can_use_tool request: input is not an object")
        }
        let context = ToolPermissionContext(request: request)
        let timeout = canUseToolTimeout
        let result: PermissionResult
        do {
            result = try await withDeadline(timeout) { try await canUseTool(toolName, input, context) }
        } catch is DeadlineExceeded {
            logger.warning(
                "the canUseTool callback did not answer within \(timeout.map { "\($0)" } ?? "?"); the \(toolName) call is denied"
            )
            result = .deny(
                message:
                    "The permission callback did not answer within \(timeout.map { "\($0)" } ?? "its time limit"), so the \(toolName) call was denied."
            )
        } catch  where Task.isCancelled {
            throw CancellationError()
        } catch {
            logger.warning("the canUseTool callback threw; the \(toolName) call is denied: \(describeError(error))")
            result = .deny(
                message: "The permission callback failed (\(describeError(error))), so the \(toolName) call was denied."
            )
        }
        return result.wireResponse(originalInput: input)
    }

    // MARK: hook_callback

    private func hook(_ request: JSONValue) async throws -> JSONValue {
        guard let id = request["callback_id"]?.stringValue else {
            throw ControlRequestError(message: "malformed hook_callback request: no callback_id")
        }
        guard let hook = hooks[id] else { throw ControlRequestError(message: "No hook callback found for ID: \(id)") }
        let input: HookInput
        do {
            input = try HookInput(json: request["input"] ?? .null)
        } catch {
            throw ControlRequestError(message: "malformed hook_callback request for \(id): \(error.message)")
        }
        let context = HookContext(callbackID: id, toolUseID: request["tool_use_id"]?.stringValue)
        let callback = hook.callback
        do {
            return try await withDeadline(hook.timeout.map { $0 + hookDeadlineGrace }) {
                try await callback(input, context)
            }.json
        } catch is DeadlineExceeded {
            throw ControlRequestError(
                message:
                    "hook callback \(id) (\(hook.event)) did not answer within its timeout (\(hook.timeout.map { "\($0)" } ?? "none"))"
            )
        } catch  where Task.isCancelled {
            throw CancellationError()
        } catch {
            logger.warning("hook callback \(id) (\(hook.event)) threw: \(describeError(error))")
            throw ControlRequestError(message: "hook callback \(id) (\(hook.event)) failed: \(describeError(error))")
        }
    }

    // MARK: mcp_message

    private func mcpMessage(_ request: JSONValue) async throws -> JSONValue {
        guard let serverName = request["server_name"]?.stringValue, let message = request["message"] else {
            throw ControlRequestError(message: "malformed mcp_message request: no server_name or message")
        }
        guard let endpoint = mcpEndpoints[serverName] else {
            return [
                "mcp_response": SDKMCPEndpoint.error(
                    id: message["id"] ?? .null, code: -32601, "Server '\(serverName)' not found")
            ]
        }
        return ["mcp_response": try await endpoint.handle(message)]
    }
}

extension ClaudeCodeOptions {
    /// Whether the CLI must be able to reach this process's callbacks until the run ends
    /// (a permission callback, hooks or an SDK MCP server), so stdin stays open until then.
    var needsControlChannel: Bool {
        canUseTool != nil || hooks.values.contains { !$0.isEmpty }
            || mcpServers.values.contains { if case .sdk = $0 { return true } else { return false } }
    }
}
