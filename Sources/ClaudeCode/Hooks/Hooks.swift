/// A Swift function the CLI calls at a hook event (see ``ClaudeCodeOptions/hooks``).
///
/// It runs in its own task; when the CLI abandons the call (`control_cancel_request`, for
/// example at its own timeout) that task is cancelled. Throwing answers the CLI with an error,
/// which counts as a failure of the hook (see ``HookFailurePolicy``).
public typealias HookCallback = @Sendable (_ input: HookInput, _ context: HookContext) async throws -> HookOutput

/// What a hook callback knows besides its input.
public struct HookContext: Sendable, Hashable {
    /// The id the SDK registered this callback under (`hook_0`, `hook_1`, …).
    public var callbackID: String
    /// The tool call the hook is about, when there is one.
    public var toolUseID: String?

    /// Creates a context, for tests.
    public init(callbackID: String, toolUseID: String? = nil) {
        self.callbackID = callbackID
        self.toolUseID = toolUseID
    }
}

/// What a failed hook callback (it threw, timed out, or answered something the CLI rejects) means.
public struct HookFailurePolicy: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral {
    /// The value as the CLI spells it.
    public var rawValue: String
    /// Creates a value from the CLI's spelling (new values pass through).
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Creates a value from a string literal.
    public init(stringLiteral value: String) { self.rawValue = value }

    /// The failure is reported and the action goes ahead (the CLI's default).
    public static let `continue`: HookFailurePolicy = "continue"
    /// The failure blocks the action, as a blocking command hook would. A callback with no
    /// opinion must then return `HookOutput()`. The CLI ignores this for Stop, SubagentStop,
    /// TaskCompleted and TeammateIdle. Connecting fails when the CLI cannot honour it.
    public static let block: HookFailurePolicy = "block"
}

/// Callbacks for one hook event, limited to what `matcher` matches.
///
/// ```swift
/// options.hooks[.preToolUse] = [
///     HookMatcher(matcher: "Bash", timeout: .seconds(5)) { input, _ in
///         guard case .preToolUse(let call) = input.payload else { return HookOutput() }
///         if call.toolInput["command"]?.stringValue?.contains("rm -rf") == true {
///             return HookOutput(hookSpecificOutput: .preToolUse(permissionDecision: .deny, permissionDecisionReason: "no rm -rf"))
///         }
///         return HookOutput()
///     }
/// ]
/// ```
public struct HookMatcher: Sendable {
    /// What the event must match, as the CLI reads hook matchers: a tool name (`Bash`), several
    /// (`Write|Edit`), a regular expression, or `nil` (and `*`) for everything. For non-tool events
    /// the CLI matches other values (the SessionStart source, the notification type, …).
    public var matcher: String?
    /// The callbacks, each registered under its own callback id.
    public var hooks: [HookCallback]
    /// How long the CLI waits for each callback (`nil`: the CLI's default, 600 s in Claude Code
    /// 2.1.331 — set a shorter one for anything interactive); then it goes on without the
    /// answer (for PreToolUse, Claude Code 2.1.331 does not run the tool). The SDK cancels the
    /// callback's task when the CLI abandons it, and stops waiting itself 2 s after the timeout.
    public var timeout: Duration?
    /// What a failure of these callbacks does; `nil` leaves it to the CLI (`continue`).
    public var onFailure: HookFailurePolicy?

    /// A matcher with several callbacks, each called for every match.
    public init(
        matcher: String? = nil, hooks: [HookCallback], timeout: Duration? = nil, onFailure: HookFailurePolicy? = nil
    ) {
        self.matcher = matcher
        self.hooks = hooks
        self.timeout = timeout
        self.onFailure = onFailure
    }

    /// A matcher with one callback.
    public init(
        matcher: String? = nil, timeout: Duration? = nil, onFailure: HookFailurePolicy? = nil,
        _ hook: @escaping HookCallback
    ) {
        self.init(matcher: matcher, hooks: [hook], timeout: timeout, onFailure: onFailure)
    }
}
