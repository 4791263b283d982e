/// What a hook callback answers.
///
/// `HookOutput()` (all fields `nil`) means "no opinion": the CLI goes on as if no hook ran.
///
/// ```swift
/// // Block a Bash call before it runs.
/// HookOutput.deny(reason: "not today")
/// // The same, spelled out.
/// HookOutput(hookSpecificOutput: .preToolUse(permissionDecision: .deny, permissionDecisionReason: "not today"))
/// // Stop the session after this hook.
/// HookOutput(shouldContinue: false, stopReason: "budget reached")
/// ```
public struct HookOutput: Sendable, Hashable {
    /// `false` stops Claude after this hook (`continue` on the wire); `nil` and `true` go on.
    public var shouldContinue: Bool?
    /// Hides the hook's output from the transcript (`suppressOutput`).
    public var suppressOutput: Bool?
    /// Shown to the user when ``shouldContinue`` is `false` (`stopReason`).
    public var stopReason: String?
    /// `block` (or the deprecated `approve`), for events that can be blocked (`decision`).
    public var decision: HookDecision?
    /// A warning shown to the user (`systemMessage`).
    public var systemMessage: String?
    /// Feedback for Claude about the decision (`reason`).
    public var reason: String?
    /// A notification or title terminal escape sequence for the CLI to print (`terminalSequence`).
    public var terminalSequence: String?
    /// What only this event understands (`hookSpecificOutput`).
    public var hookSpecificOutput: HookSpecificOutput?
    /// Answer later: the CLI goes on at once and does not wait (`async: true`); ``asyncTimeout`` bounds the wait.
    public var isAsync: Bool
    /// With ``isAsync``: how long the CLI keeps waiting for the deferred answer (`asyncTimeout`, sent in milliseconds).
    public var asyncTimeout: Duration?
    /// More top-level fields, sent as they are (a field named here wins over the typed ones).
    public var extraFields: [String: JSONValue]

    /// Creates an answer; fields left `nil` are not sent.
    public init(
        shouldContinue: Bool? = nil, suppressOutput: Bool? = nil, stopReason: String? = nil,
        decision: HookDecision? = nil, systemMessage: String? = nil, reason: String? = nil,
        terminalSequence: String? = nil, hookSpecificOutput: HookSpecificOutput? = nil,
        extraFields: [String: JSONValue] = [:]
    ) {
        self.shouldContinue = shouldContinue
        self.suppressOutput = suppressOutput
        self.stopReason = stopReason
        self.decision = decision
        self.systemMessage = systemMessage
        self.reason = reason
        self.terminalSequence = terminalSequence
        self.hookSpecificOutput = hookSpecificOutput
        self.isAsync = false
        self.asyncTimeout = nil
        self.extraFields = extraFields
    }

    // MARK: Common answers

    /// PreToolUse: run the tool without asking. `reason` is shown to the user, not to Claude.
    public static func allow(reason: String? = nil) -> HookOutput {
        HookOutput(hookSpecificOutput: .preToolUse(permissionDecision: .allow, permissionDecisionReason: reason))
    }

    /// PreToolUse: refuse the tool call; Claude gets `reason` in the tool result
    /// (`PreToolUse:<tool> hook error: <reason>` in Claude Code 2.1.331).
    public static func deny(reason: String) -> HookOutput {
        HookOutput(hookSpecificOutput: .preToolUse(permissionDecision: .deny, permissionDecisionReason: reason))
    }

    /// PreToolUse: ask as usual (the user, or ``ClaudeCodeOptions/canUseTool``), with `reason`.
    public static func ask(reason: String? = nil) -> HookOutput {
        HookOutput(hookSpecificOutput: .preToolUse(permissionDecision: .ask, permissionDecisionReason: reason))
    }

    /// Blocks what the event is about (a prompt, a stop, a tool result…); `reason` is feedback for
    /// Claude (`{"decision": "block", "reason": …}`). For a tool that has not run yet, use ``deny(reason:)``.
    public static func block(reason: String) -> HookOutput {
        HookOutput(decision: .block, reason: reason)
    }

    /// Adds `context` for Claude, as `additionalContext` of `event`'s `hookSpecificOutput`.
    ///
    /// For events without an `additionalContext` (SessionEnd, PreCompact, …) the answer carries it
    /// as `hookSpecificOutput: {hookEventName, additionalContext}`, which the CLI may ignore.
    public static func addContext(_ context: String, for event: HookEvent) -> HookOutput {
        let specific: HookSpecificOutput
        switch event {
        case .preToolUse: specific = .preToolUse(additionalContext: context)
        case .postToolUse: specific = .postToolUse(additionalContext: context)
        case .postToolUseFailure: specific = .postToolUseFailure(additionalContext: context)
        case .postToolBatch: specific = .postToolBatch(additionalContext: context)
        case .userPromptSubmit: specific = .userPromptSubmit(additionalContext: context)
        case .userPromptExpansion: specific = .userPromptExpansion(additionalContext: context)
        case .sessionStart: specific = .sessionStart(additionalContext: context)
        case .setup: specific = .setup(additionalContext: context)
        case .postModelSwitch: specific = .postModelSwitch(additionalContext: context)
        case .subagentStart: specific = .subagentStart(additionalContext: context)
        case .stop: specific = .stop(additionalContext: context)
        case .subagentStop: specific = .subagentStop(additionalContext: context)
        case .notification: specific = .notification(additionalContext: context)
        default:
            return HookOutput(
                extraFields: [
                    "hookSpecificOutput": [
                        "hookEventName": .string(event.rawValue), "additionalContext": .string(context),
                    ]
                ])
        }
        return HookOutput(hookSpecificOutput: specific)
    }

    /// An asynchronous answer: the CLI does not wait for this hook (`{"async": true}`).
    public static func async(timeout: Duration? = nil) -> HookOutput {
        var output = HookOutput()
        output.isAsync = true
        output.asyncTimeout = timeout
        return output
    }

    /// The answer as the CLI reads it: `continue` and `async` spelled as on the wire.
    public var json: JSONValue {
        var object: [String: JSONValue] = [:]
        if isAsync {
            object["async"] = true
            if let asyncTimeout { object["asyncTimeout"] = .int(asyncTimeout.wholeMilliseconds) }
        }
        if let shouldContinue { object["continue"] = .bool(shouldContinue) }
        if let suppressOutput { object["suppressOutput"] = .bool(suppressOutput) }
        if let stopReason { object["stopReason"] = .string(stopReason) }
        if let decision { object["decision"] = .string(decision.rawValue) }
        if let systemMessage { object["systemMessage"] = .string(systemMessage) }
        if let reason { object["reason"] = .string(reason) }
        if let terminalSequence { object["terminalSequence"] = .string(terminalSequence) }
        if let hookSpecificOutput { object["hookSpecificOutput"] = hookSpecificOutput.json }
        object.merge(extraFields) { _, extra in extra }
        return .object(object)
    }
}

/// The top-level `decision` of a hook answer.
public struct HookDecision: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral {
    /// The value as the CLI spells it.
    public var rawValue: String
    /// Creates a value from the CLI's spelling (new values pass through).
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Creates a value from a string literal.
    public init(stringLiteral value: String) { self.rawValue = value }

    /// Blocks what the event is about (a prompt, a stop, a tool result…), with ``HookOutput/reason`` for Claude.
    public static let block: HookDecision = "block"
    /// Deprecated by the CLI for PreToolUse (use ``HookSpecificOutput/preToolUse(permissionDecision:permissionDecisionReason:updatedInput:additionalContext:)``).
    public static let approve: HookDecision = "approve"
}

/// A permission decision of a PreToolUse or PreModelSwitch hook.
public struct HookPermissionDecision: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral {
    /// The value as the CLI spells it.
    public var rawValue: String
    /// Creates a value from the CLI's spelling (new values pass through).
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Creates a value from a string literal.
    public init(stringLiteral value: String) { self.rawValue = value }

    /// Go ahead without asking.
    public static let allow: HookPermissionDecision = "allow"
    /// Refuse; the reason reaches Claude.
    public static let deny: HookPermissionDecision = "deny"
    /// Ask as usual (with ``ClaudeCodeOptions/canUseTool``, the callback is asked with this reason).
    public static let ask: HookPermissionDecision = "ask"
    /// PreToolUse only: leave the decision to the CLI's other permission checks.
    public static let `defer`: HookPermissionDecision = "defer"
}

/// An answer to an MCP elicitation: accept, decline or cancel.
public struct ElicitationAction: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral {
    /// The value as the CLI spells it.
    public var rawValue: String
    /// Creates a value from the CLI's spelling (new values pass through).
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Creates a value from a string literal.
    public init(stringLiteral value: String) { self.rawValue = value }

    /// Submit the form (with `content`).
    public static let accept: ElicitationAction = "accept"
    /// Refuse the request.
    public static let decline: ElicitationAction = "decline"
    /// Dismiss the request without an answer.
    public static let cancel: ElicitationAction = "cancel"
}

/// The event-specific part of a hook answer (`hookSpecificOutput`), one case per event that has one
/// in Claude Code 2.1.331 (22 events).
public enum HookSpecificOutput: Sendable, Hashable {
    /// Decide a tool call, change its input, or add context for Claude.
    case preToolUse(
        permissionDecision: HookPermissionDecision? = nil, permissionDecisionReason: String? = nil,
        updatedInput: JSONValue? = nil, additionalContext: String? = nil)
    /// Add context, or replace the tool's output (`updatedToolOutput` must match the tool's output shape; `updatedMCPToolOutput` is for MCP tools only).
    case postToolUse(
        additionalContext: String? = nil, updatedToolOutput: JSONValue? = nil, updatedMCPToolOutput: JSONValue? = nil,
        classifierContext: String? = nil)
    /// Add context after a failed tool call.
    case postToolUseFailure(additionalContext: String? = nil)
    /// Add context after a batch of tool calls.
    case postToolBatch(additionalContext: String? = nil)
    /// Add context to a prompt, set the session title, or (with `decision: .block`) hide the original prompt.
    case userPromptSubmit(
        additionalContext: String? = nil, sessionTitle: String? = nil, suppressOriginalPrompt: Bool? = nil)
    /// Add context to an expanded command or hide the original prompt when blocking.
    case userPromptExpansion(additionalContext: String? = nil, suppressOriginalPrompt: Bool? = nil)
    /// Add context, a first user message, a title, paths to watch, or re-scan skills at session start.
    case sessionStart(
        additionalContext: String? = nil, initialUserMessage: String? = nil, sessionTitle: String? = nil,
        watchPaths: [String]? = nil, reloadSkills: Bool? = nil)
    /// Add context at setup.
    case setup(additionalContext: String? = nil)
    /// Allow, deny or ask about a model switch.
    case preModelSwitch(permissionDecision: HookPermissionDecision? = nil, permissionDecisionReason: String? = nil)
    /// Add context for the new model's first request.
    case postModelSwitch(additionalContext: String? = nil)
    /// Add context for a starting subagent.
    case subagentStart(additionalContext: String? = nil)
    /// Feedback for Claude; the conversation goes on so Claude can act on it.
    case stop(additionalContext: String? = nil)
    /// Feedback for a subagent; it goes on so it can act on it.
    case subagentStop(additionalContext: String? = nil)
    /// Tell Claude it may retry a denied call.
    case permissionDenied(retry: Bool? = nil)
    /// Add context to a notification.
    case notification(additionalContext: String? = nil)
    /// Answer the permission request instead of the user.
    case permissionRequest(decision: PermissionResult)
    /// Answer an MCP elicitation instead of the user.
    case elicitation(action: ElicitationAction? = nil, content: JSONValue? = nil)
    /// Change the answer to an MCP elicitation before it is sent.
    case elicitationResult(action: ElicitationAction? = nil, content: JSONValue? = nil)
    /// Replace the list of paths watched for FileChanged.
    case cwdChanged(watchPaths: [String]? = nil)
    /// Replace the list of paths watched for FileChanged.
    case fileChanged(watchPaths: [String]? = nil)
    /// The absolute path of the worktree the hook created.
    case worktreeCreate(worktreePath: String)
    /// Text to show in place of a streamed delta (display only).
    case messageDisplay(displayContent: String? = nil)
    /// Any other event's output: `hookEventName` plus these fields.
    case other(event: HookEvent, fields: [String: JSONValue])

    /// The event this output is for.
    public var event: HookEvent {
        switch self {
        case .preToolUse: return .preToolUse
        case .postToolUse: return .postToolUse
        case .postToolUseFailure: return .postToolUseFailure
        case .postToolBatch: return .postToolBatch
        case .userPromptSubmit: return .userPromptSubmit
        case .userPromptExpansion: return .userPromptExpansion
        case .sessionStart: return .sessionStart
        case .setup: return .setup
        case .preModelSwitch: return .preModelSwitch
        case .postModelSwitch: return .postModelSwitch
        case .subagentStart: return .subagentStart
        case .stop: return .stop
        case .subagentStop: return .subagentStop
        case .permissionDenied: return .permissionDenied
        case .notification: return .notification
        case .permissionRequest: return .permissionRequest
        case .elicitation: return .elicitation
        case .elicitationResult: return .elicitationResult
        case .cwdChanged: return .cwdChanged
        case .fileChanged: return .fileChanged
        case .worktreeCreate: return .worktreeCreate
        case .messageDisplay: return .messageDisplay
        case .other(let event, _): return event
        }
    }

    /// The object as the CLI reads it, with `hookEventName`.
    public var json: JSONValue {
        var object: [String: JSONValue] = [:]
        func put(_ key: String, _ value: String?) { if let value { object[key] = .string(value) } }
        func put(_ key: String, _ value: Bool?) { if let value { object[key] = .bool(value) } }
        func put(_ key: String, _ value: JSONValue?) { if let value { object[key] = value } }
        func put(_ key: String, _ value: [String]?) {
            if let value { object[key] = .array(value.map(JSONValue.string)) }
        }
        switch self {
        case .preToolUse(let decision, let reason, let updatedInput, let context):
            put("permissionDecision", decision?.rawValue)
            put("permissionDecisionReason", reason)
            put("updatedInput", updatedInput)
            put("additionalContext", context)
        case .postToolUse(let context, let output, let mcpOutput, let classifier):
            put("additionalContext", context)
            put("updatedToolOutput", output)
            put("updatedMCPToolOutput", mcpOutput)
            put("classifierContext", classifier)
        case .postToolUseFailure(let context), .postToolBatch(let context), .setup(let context),
            .postModelSwitch(let context), .subagentStart(let context), .stop(let context), .subagentStop(let context),
            .notification(let context):
            put("additionalContext", context)
        case .userPromptSubmit(let context, let title, let suppress):
            put("additionalContext", context)
            put("sessionTitle", title)
            put("suppressOriginalPrompt", suppress)
        case .userPromptExpansion(let context, let suppress):
            put("additionalContext", context)
            put("suppressOriginalPrompt", suppress)
        case .sessionStart(let context, let initial, let title, let paths, let reload):
            put("additionalContext", context)
            put("initialUserMessage", initial)
            put("sessionTitle", title)
            put("watchPaths", paths)
            put("reloadSkills", reload)
        case .preModelSwitch(let decision, let reason):
            put("permissionDecision", decision?.rawValue)
            put("permissionDecisionReason", reason)
        case .permissionDenied(let retry):
            put("retry", retry)
        case .permissionRequest(let decision):
            switch decision {
            case .allow(let updatedInput, let updatedPermissions):
                var wire: [String: JSONValue] = ["behavior": "allow"]
                if let updatedInput { wire["updatedInput"] = updatedInput }
                if let updatedPermissions { wire["updatedPermissions"] = .array(updatedPermissions.map(\.json)) }
                object["decision"] = .object(wire)
            case .deny(let message, let interrupt):
                var wire: [String: JSONValue] = ["behavior": "deny", "message": .string(message)]
                if interrupt { wire["interrupt"] = true }
                object["decision"] = .object(wire)
            }
        case .elicitation(let action, let content), .elicitationResult(let action, let content):
            put("action", action?.rawValue)
            put("content", content)
        case .cwdChanged(let paths), .fileChanged(let paths):
            put("watchPaths", paths)
        case .worktreeCreate(let path):
            object["worktreePath"] = .string(path)
        case .messageDisplay(let content):
            put("displayContent", content)
        case .other(_, let fields):
            object = fields
        }
        object["hookEventName"] = .string(event.rawValue)
        return .object(object)
    }
}

extension Duration {
    /// The duration in whole milliseconds, rounded down, at least 0.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return max(0, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }

    /// The duration in seconds, as JSON: an integer when whole.
    var secondsJSON: JSONValue {
        let (seconds, attoseconds) = components
        if attoseconds == 0 { return .int(seconds) }
        return .double(Double(seconds) + Double(attoseconds) / 1e18)
    }
}
