/// A point in the CLI's lifecycle where hooks run.
///
/// The constants are the 33 events Claude Code 2.1.331 knows. The type is open: a newer CLI's
/// event can be named with ``init(rawValue:)`` and its input arrives as ``HookInput/Payload/other(_:)``.
public struct HookEvent: RawRepresentable, Hashable, Sendable, Comparable, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    /// The value as the CLI spells it.
    public var rawValue: String
    /// Creates a value from the CLI's spelling (new values pass through).
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Creates a value from a string literal.
    public init(stringLiteral value: String) { self.rawValue = value }
    /// The text form, for logs and messages.
    public var description: String { rawValue }

    /// Orders events as the CLI lists them (see ``allCases``); unknown events last, by name.
    public static func < (lhs: HookEvent, rhs: HookEvent) -> Bool {
        switch (allCases.firstIndex(of: lhs), allCases.firstIndex(of: rhs)) {
        case (let left?, let right?): return left < right
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return lhs.rawValue < rhs.rawValue
        }
    }

    /// Before a tool runs; can allow, deny, ask or change its input.
    public static let preToolUse: HookEvent = "PreToolUse"
    /// After a tool ran; sees its output and can replace it.
    public static let postToolUse: HookEvent = "PostToolUse"
    /// After a tool failed.
    public static let postToolUseFailure: HookEvent = "PostToolUseFailure"
    /// Once after every call of a batch of tool calls has finished.
    public static let postToolBatch: HookEvent = "PostToolBatch"
    /// When the CLI shows a notification.
    public static let notification: HookEvent = "Notification"
    /// When a prompt is submitted; can block it or add context.
    public static let userPromptSubmit: HookEvent = "UserPromptSubmit"
    /// When a slash command or MCP prompt expands into a prompt.
    public static let userPromptExpansion: HookEvent = "UserPromptExpansion"
    /// When a session starts, resumes, clears or compacts.
    public static let sessionStart: HookEvent = "SessionStart"
    /// When a session ends.
    public static let sessionEnd: HookEvent = "SessionEnd"
    /// When Claude finishes its answer; can make it go on.
    public static let stop: HookEvent = "Stop"
    /// When a turn ends with an API error.
    public static let stopFailure: HookEvent = "StopFailure"
    /// When a subagent starts.
    public static let subagentStart: HookEvent = "SubagentStart"
    /// When a subagent finishes.
    public static let subagentStop: HookEvent = "SubagentStop"
    /// Before the conversation is compacted.
    public static let preCompact: HookEvent = "PreCompact"
    /// After the conversation was compacted.
    public static let postCompact: HookEvent = "PostCompact"
    /// Before the model changes; can refuse the switch.
    public static let preModelSwitch: HookEvent = "PreModelSwitch"
    /// After the model changed.
    public static let postModelSwitch: HookEvent = "PostModelSwitch"
    /// When the CLI would ask for permission; can answer instead.
    public static let permissionRequest: HookEvent = "PermissionRequest"
    /// After a tool call was denied.
    public static let permissionDenied: HookEvent = "PermissionDenied"
    /// At setup (`init` or `maintenance`).
    public static let setup: HookEvent = "Setup"
    /// When a teammate goes idle.
    public static let teammateIdle: HookEvent = "TeammateIdle"
    /// When a task is created.
    public static let taskCreated: HookEvent = "TaskCreated"
    /// When a task is completed.
    public static let taskCompleted: HookEvent = "TaskCompleted"
    /// When an MCP server asks the user for input; can answer instead.
    public static let elicitation: HookEvent = "Elicitation"
    /// After the user answered an MCP elicitation; can change the answer.
    public static let elicitationResult: HookEvent = "ElicitationResult"
    /// When a settings file or skill changes.
    public static let configChange: HookEvent = "ConfigChange"
    /// When a worktree is to be created; can create it.
    public static let worktreeCreate: HookEvent = "WorktreeCreate"
    /// When a worktree is removed.
    public static let worktreeRemove: HookEvent = "WorktreeRemove"
    /// When a CLAUDE.md or rules file is loaded.
    public static let instructionsLoaded: HookEvent = "InstructionsLoaded"
    /// When the working directory changes.
    public static let cwdChanged: HookEvent = "CwdChanged"
    /// When a watched file changes.
    public static let fileChanged: HookEvent = "FileChanged"
    /// When a directory is added to the session.
    public static let directoryAdded: HookEvent = "DirectoryAdded"
    /// While assistant text streams to the screen; can change what is shown.
    public static let messageDisplay: HookEvent = "MessageDisplay"

    /// Every event Claude Code 2.1.331 knows, in the CLI's order.
    public static let allCases: [HookEvent] = [
        .preToolUse, .postToolUse, .postToolUseFailure, .postToolBatch, .notification, .userPromptSubmit,
        .userPromptExpansion, .sessionStart, .sessionEnd, .stop, .stopFailure, .subagentStart, .subagentStop,
        .preCompact, .postCompact, .preModelSwitch, .postModelSwitch, .permissionRequest, .permissionDenied, .setup,
        .teammateIdle, .taskCreated, .taskCompleted, .elicitation, .elicitationResult, .configChange, .worktreeCreate,
        .worktreeRemove, .instructionsLoaded, .cwdChanged, .fileChanged, .directoryAdded, .messageDisplay,
    ]
}
