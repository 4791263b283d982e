import Foundation

/// Decides whether Claude may run a tool call.
///
/// The CLI asks before each tool call that its permission rules do not settle already
/// (see ``ClaudeCodeOptions/canUseTool``). The callback receives the tool's name, its input
/// and a ``ToolPermissionContext``, and returns ``PermissionResult/allow(updatedInput:updatedPermissions:)``
/// or ``PermissionResult/deny(message:interrupt:)``.
///
/// The callback runs in its own task, so a slow one never blocks other control traffic.
/// When the CLI abandons the request (`control_cancel_request`), that task is cancelled:
/// check `Task.isCancelled` or use cancellable awaits. A callback that throws, or that does
/// not answer within ``ClaudeCodeOptions/canUseToolTimeout``, denies the call with a message
/// that says so.
///
/// ```swift
/// options.canUseTool = { toolName, input, context in
///     if toolName == "Bash", input["command"]?.stringValue?.contains("rm ") == true {
///         return .deny(message: "No deleting files here.")
///     }
///     return .allow()
/// }
/// ```
public typealias CanUseTool =
    @Sendable (_ toolName: String, _ input: JSONValue, _ context: ToolPermissionContext) async throws
    -> PermissionResult

/// What a ``CanUseTool`` callback decided.
public enum PermissionResult: Sendable, Hashable {
    /// Run the tool call.
    /// - Parameters:
    ///   - updatedInput: Run it with this input instead of the one Claude gave (an object); `nil` keeps the original.
    ///   - updatedPermissions: Permission changes to apply along with this call, such as one of the context's ``ToolPermissionContext/suggestions``.
    case allow(updatedInput: JSONValue? = nil, updatedPermissions: [PermissionUpdate]? = nil)
    /// Refuse the tool call. Without `interrupt`, `message` reaches Claude as the tool result and the
    /// turn goes on. With `interrupt: true` the CLI stops the turn, and Claude does *not* see
    /// `message`: the CLI (2.1.331) puts its own text in the tool result instead, so `message` is
    /// only for your own records.
    case deny(message: String, interrupt: Bool = false)

    /// The `response` object of the `can_use_tool` control response.
    func wireResponse(originalInput: JSONValue) -> JSONValue {
        switch self {
        case .allow(let updatedInput, let updatedPermissions):
            var response: [String: JSONValue] = ["behavior": "allow", "updatedInput": updatedInput ?? originalInput]
            if let updatedPermissions { response["updatedPermissions"] = .array(updatedPermissions.map(\.json)) }
            return .object(response)
        case .deny(let message, let interrupt):
            var response: [String: JSONValue] = ["behavior": "deny", "message": .string(message)]
            if interrupt { response["interrupt"] = true }
            return .object(response)
        }
    }
}

/// Everything the CLI says about a tool call it asks permission for.
public struct ToolPermissionContext: Sendable, Hashable {
    /// Permission changes the CLI suggests (what "always allow" would apply), typed.
    public var suggestions: [PermissionUpdate]
    /// The id of this tool call; several calls in one assistant message have different ids.
    public var toolUseID: String?
    /// When the call comes from a subagent, that subagent's id.
    public var agentID: String?
    /// The file path that made the CLI ask, if any (for example a path outside the allowed folders).
    public var blockedPath: String?
    /// Why the CLI asks, for example the reason a PreToolUse hook gave with `ask`.
    public var decisionReason: String?
    /// The whole prompt sentence ("Claude wants to …"), when the CLI provides one.
    public var title: String?
    /// A short name for the action ("Run command"), for buttons and compact UIs.
    public var displayName: String?
    /// A subtitle for a permission UI.
    public var description: String?
    /// The whole `can_use_tool` request, for fields this type does not name.
    public var raw: JSONValue

    /// Creates a context (mostly for tests; the SDK builds it from the CLI's request).
    public init(
        suggestions: [PermissionUpdate] = [], toolUseID: String? = nil, agentID: String? = nil,
        blockedPath: String? = nil, decisionReason: String? = nil, title: String? = nil, displayName: String? = nil,
        description: String? = nil, raw: JSONValue = [:]
    ) {
        self.suggestions = suggestions
        self.toolUseID = toolUseID
        self.agentID = agentID
        self.blockedPath = blockedPath
        self.decisionReason = decisionReason
        self.title = title
        self.displayName = displayName
        self.description = description
        self.raw = raw
    }

    /// Reads the fields of a `can_use_tool` request.
    init(request: JSONValue) {
        self.init(
            suggestions: (request["permission_suggestions"]?.arrayValue ?? []).compactMap(PermissionUpdate.init(json:)),
            toolUseID: request["tool_use_id"]?.stringValue, agentID: request["agent_id"]?.stringValue,
            blockedPath: request["blocked_path"]?.stringValue, decisionReason: request["decision_reason"]?.stringValue,
            title: request["title"]?.stringValue, displayName: request["display_name"]?.stringValue,
            description: request["description"]?.stringValue, raw: request)
    }
}

/// Whether a permission rule allows, denies or asks.
public struct PermissionBehavior: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral {
    /// The value as the CLI spells it.
    public var rawValue: String
    /// Creates a value from the CLI's spelling (new values pass through).
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Creates a value from a string literal.
    public init(stringLiteral value: String) { self.rawValue = value }

    /// Allow matching calls without asking.
    public static let allow: PermissionBehavior = "allow"
    /// Refuse matching calls.
    public static let deny: PermissionBehavior = "deny"
    /// Ask about matching calls.
    public static let ask: PermissionBehavior = "ask"
}

/// Where a permission update applies and is kept.
public struct PermissionUpdateDestination: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral {
    /// The value as the CLI spells it.
    public var rawValue: String
    /// Creates a value from the CLI's spelling (new values pass through).
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Creates a value from a string literal.
    public init(stringLiteral value: String) { self.rawValue = value }

    /// In memory, until the session ends (the default).
    public static let session: PermissionUpdateDestination = "session"
    /// `.claude/settings.local.json` in the project.
    public static let localSettings: PermissionUpdateDestination = "localSettings"
    /// `.claude/settings.json` in the project.
    public static let projectSettings: PermissionUpdateDestination = "projectSettings"
    /// `~/.claude/settings.json`.
    public static let userSettings: PermissionUpdateDestination = "userSettings"
}

/// One permission rule: a tool, optionally narrowed by rule content.
public struct PermissionRule: Sendable, Hashable {
    /// The tool the rule is about, such as `Bash` or `mcp__calc__add`.
    public var toolName: String
    /// What the rule matches within the tool (`"npm test"` for Bash); `nil` covers every use of the tool.
    public var ruleContent: String?

    /// A rule for `toolName`; without `ruleContent` it covers every use of the tool.
    public init(toolName: String, ruleContent: String? = nil) {
        self.toolName = toolName
        self.ruleContent = ruleContent
    }
}

/// A change to the CLI's permission settings, as suggested by the CLI or applied by an allow.
///
/// Each case carries the fields the CLI needs for it, so an update can never be sent incomplete
/// (the CLI ignores every update in a response when one is malformed).
public enum PermissionUpdate: Sendable, Hashable {
    /// Adds rules with a behaviour.
    case addRules([PermissionRule], behavior: PermissionBehavior, destination: PermissionUpdateDestination = .session)
    /// Replaces the rules of a behaviour.
    case replaceRules(
        [PermissionRule], behavior: PermissionBehavior, destination: PermissionUpdateDestination = .session)
    /// Removes rules of a behaviour.
    case removeRules(
        [PermissionRule], behavior: PermissionBehavior, destination: PermissionUpdateDestination = .session)
    /// Switches the permission mode.
    case setMode(PermissionMode, destination: PermissionUpdateDestination = .session)
    /// Allows more folders.
    case addDirectories([String], destination: PermissionUpdateDestination = .session)
    /// Removes allowed folders.
    case removeDirectories([String], destination: PermissionUpdateDestination = .session)

    /// The update as the control protocol spells it.
    public var json: JSONValue {
        func rules(
            _ type: String, _ rules: [PermissionRule], _ behavior: PermissionBehavior,
            _ destination: PermissionUpdateDestination
        )
            -> JSONValue
        {
            let wire: [JSONValue] = rules.map { rule in
                var object: [String: JSONValue] = ["toolName": .string(rule.toolName)]
                // The CLI rejects a null ruleContent; leaving it out covers the whole tool.
                if let content = rule.ruleContent { object["ruleContent"] = .string(content) }
                return .object(object)
            }
            return [
                "type": .string(type), "rules": .array(wire), "behavior": .string(behavior.rawValue),
                "destination": .string(destination.rawValue),
            ]
        }
        switch self {
        case .addRules(let list, let behavior, let destination): return rules("addRules", list, behavior, destination)
        case .replaceRules(let list, let behavior, let destination):
            return rules("replaceRules", list, behavior, destination)
        case .removeRules(let list, let behavior, let destination):
            return rules("removeRules", list, behavior, destination)
        case .setMode(let mode, let destination):
            return ["type": "setMode", "mode": .string(mode.rawValue), "destination": .string(destination.rawValue)]
        case .addDirectories(let directories, let destination):
            return [
                "type": "addDirectories", "directories": .array(directories.map(JSONValue.string)),
                "destination": .string(destination.rawValue),
            ]
        case .removeDirectories(let directories, let destination):
            return [
                "type": "removeDirectories", "directories": .array(directories.map(JSONValue.string)),
                "destination": .string(destination.rawValue),
            ]
        }
    }

    /// Reads an update the CLI sent; `nil` when its type is unknown or a needed field is missing.
    public init?(json: JSONValue) {
        let destination = json["destination"]?.stringValue.map(PermissionUpdateDestination.init(rawValue:)) ?? .session
        func rules() -> ([PermissionRule], PermissionBehavior)? {
            guard let list = json["rules"]?.arrayValue, let behavior = json["behavior"]?.stringValue else { return nil }
            var rules: [PermissionRule] = []
            for entry in list {
                guard let name = entry["toolName"]?.stringValue else { return nil }
                rules.append(PermissionRule(toolName: name, ruleContent: entry["ruleContent"]?.stringValue))
            }
            return (rules, PermissionBehavior(rawValue: behavior))
        }
        func directories() -> [String]? {
            guard let list = json["directories"]?.arrayValue else { return nil }
            let strings = list.compactMap(\.stringValue)
            return strings.count == list.count ? strings : nil
        }
        switch json["type"]?.stringValue {
        case "addRules":
            guard let (list, behavior) = rules() else { return nil }
            self = .addRules(list, behavior: behavior, destination: destination)
        case "replaceRules":
            guard let (list, behavior) = rules() else { return nil }
            self = .replaceRules(list, behavior: behavior, destination: destination)
        case "removeRules":
            guard let (list, behavior) = rules() else { return nil }
            self = .removeRules(list, behavior: behavior, destination: destination)
        case "setMode":
            guard let mode = json["mode"]?.stringValue else { return nil }
            self = .setMode(PermissionMode(rawValue: mode), destination: destination)
        case "addDirectories":
            guard let list = directories() else { return nil }
            self = .addDirectories(list, destination: destination)
        case "removeDirectories":
            guard let list = directories() else { return nil }
            self = .removeDirectories(list, destination: destination)
        default:
            return nil
        }
    }
}

extension ClaudeCodeOptions {
    /// Why ``canUseTool`` cannot fire for some calls with these options, or `nil`.
    ///
    /// `bypassPermissions` approves every call before the callback is asked, and an
    /// ``allowedTools`` entry that names a whole tool (`Read`, `Read()`, `Read(*)`) approves
    /// that tool's calls. Allow rules in settings files can do the same but are not visible here.
    public var canUseToolShadowingWarning: String? {
        guard canUseTool != nil else { return nil }
        if permissionMode == .bypassPermissions {
            return
                "canUseTool will not be called: permission mode bypassPermissions approves every tool call (except explicit deny rules) before the callback is asked. To see every call, use a PreToolUse hook."
        }
        var shadowed: [String] = []
        for entry in allowedTools {
            if let tool = Self.wholeToolAllowed(entry), !shadowed.contains(tool) { shadowed.append(tool) }
        }
        guard !shadowed.isEmpty else { return nil }
        return
            "canUseTool will not be called for: \(shadowed.joined(separator: ", ")). An allowedTools entry that allows a whole tool approves it before the callback is asked. To see every call, use a PreToolUse hook, or narrow the entry (for example Bash(ls:*))."
    }

    /// The tool an `allowedTools` entry allows outright, as the CLI's rule parser reads it.
    static func wholeToolAllowed(_ entry: String) -> String? {
        guard !entry.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        guard let open = entry.firstIndex(of: "(") else { return entry }
        guard open != entry.startIndex, entry.hasSuffix(")") else { return nil }
        let inner = entry[entry.index(after: open)..<entry.index(before: entry.endIndex)]
        return inner.isEmpty || inner == "*" ? String(entry[..<open]) : nil
    }
}
