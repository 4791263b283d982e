/// What the CLI tells a hook callback: the fields every event has, and a typed ``payload``.
///
/// ```swift
/// switch input.payload {
/// case .preToolUse(let call): print(call.toolName, call.toolInput)
/// case .postToolUse(let call): print(call.toolResponse)
/// default: break
/// }
/// ```
public struct HookInput: Sendable, Hashable {
    /// The event (`hook_event_name`).
    public var event: HookEvent
    /// The CLI's session id (`session_id`).
    public var sessionID: String
    /// The session's transcript file (`transcript_path`).
    public var transcriptPath: String
    /// The working directory (`cwd`).
    public var cwd: String
    /// The id of the user prompt being handled; absent before the first prompt (`prompt_id`).
    public var promptID: String?
    /// The permission mode in effect (`permission_mode`).
    public var permissionMode: PermissionMode?
    /// When the hook fires inside a subagent, its id (`agent_id`).
    public var agentID: String?
    /// Inside a subagent, or in an `--agent` session, the agent's type (`agent_type`).
    public var agentType: String?
    /// The effort level of the current turn, when the model supports effort (`effort.level`).
    public var effortLevel: String?
    /// The event's own fields.
    public var payload: Payload
    /// The whole input object, for fields this type does not name.
    public var raw: JSONValue

    /// Creates an input, for tests and previews; the SDK decodes it from the CLI's request.
    public init(
        event: HookEvent, sessionID: String = "", transcriptPath: String = "", cwd: String = "",
        promptID: String? = nil,
        permissionMode: PermissionMode? = nil, agentID: String? = nil, agentType: String? = nil,
        effortLevel: String? = nil, payload: Payload, raw: JSONValue = [:]
    ) {
        self.event = event
        self.sessionID = sessionID
        self.transcriptPath = transcriptPath
        self.cwd = cwd
        self.promptID = promptID
        self.permissionMode = permissionMode
        self.agentID = agentID
        self.agentType = agentType
        self.effortLevel = effortLevel
        self.payload = payload
        self.raw = raw
    }

    /// Decodes the `input` of a `hook_callback` request.
    /// - Throws: ``HookInputError`` when it is not an object, or a field the event needs is missing or of the wrong type.
    public init(json: JSONValue) throws(HookInputError) {
        guard case .object = json else { throw HookInputError(message: "the hook input is not a JSON object") }
        let fields = HookFields(json: json)
        let event = HookEvent(rawValue: try fields.string("hook_event_name"))
        self.init(
            event: event, sessionID: try fields.string("session_id"),
            transcriptPath: try fields.string("transcript_path"), cwd: try fields.string("cwd"),
            promptID: try fields.optionalString("prompt_id"),
            permissionMode: try fields.optionalString("permission_mode").map(PermissionMode.init(rawValue:)),
            agentID: try fields.optionalString("agent_id"), agentType: try fields.optionalString("agent_type"),
            effortLevel: json["effort"]?["level"]?.stringValue,
            payload: try Payload.decode(event: event, fields: HookFields(json: json, event: event.rawValue)), raw: json)
    }

    /// The tool's name, for the tool events (PreToolUse, PostToolUse, PostToolUseFailure, PermissionRequest, PermissionDenied).
    public var toolName: String? {
        switch payload {
        case .preToolUse(let input): return input.toolName
        case .postToolUse(let input): return input.toolName
        case .postToolUseFailure(let input): return input.toolName
        case .permissionRequest(let input): return input.toolName
        case .permissionDenied(let input): return input.toolName
        default: return nil
        }
    }

    /// The tool's input, for the same events as ``toolName``.
    public var toolInput: JSONValue? {
        switch payload {
        case .preToolUse(let input): return input.toolInput
        case .postToolUse(let input): return input.toolInput
        case .postToolUseFailure(let input): return input.toolInput
        case .permissionRequest(let input): return input.toolInput
        case .permissionDenied(let input): return input.toolInput
        default: return nil
        }
    }

    /// The MCP server behind an `mcp__*` tool: its configured name and where its definition came from.
    public struct MCPServerRef: Sendable, Hashable {
        /// The server's configuration key.
        public var name: String
        /// `sdk` (an in-process server of this host), `plugin`, `user`, `project`, `local`, `dynamic`, …
        public var source: String

        /// Creates a reference, for tests and previews.
        public init(name: String, source: String) {
            self.name = name
            self.source = source
        }
    }

    /// One call of a ``PostToolBatch`` batch.
    public struct ToolCall: Sendable, Hashable {
        /// The tool.
        public var toolName: String
        /// Its input.
        public var toolInput: JSONValue
        /// The id of the call.
        public var toolUseID: String
        /// What it returned, when it returned.
        public var toolResponse: JSONValue?

        /// Creates a call, for tests and previews.
        public init(toolName: String, toolInput: JSONValue, toolUseID: String, toolResponse: JSONValue? = nil) {
            self.toolName = toolName
            self.toolInput = toolInput
            self.toolUseID = toolUseID
            self.toolResponse = toolResponse
        }
    }
}

/// A hook input that does not have the fields its event needs.
public struct HookInputError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, naming the field.
    public var message: String
    /// The text form, for logs and messages.
    public var description: String { message }
}

/// Reads the fields of a hook input, naming the field and event in errors.
struct HookFields {
    let json: JSONValue
    var event: String = "hook"

    private func missing(_ key: String, _ type: String) -> HookInputError {
        HookInputError(
            message: json[key] == nil
                ? "the \(event) hook input has no \(key)"
                : "the \(event) hook input's \(key) is not \(type)")
    }

    /// `nil` when the key is absent or null.
    private func present(_ key: String) -> JSONValue? {
        guard let value = json[key], !value.isNull else { return nil }
        return value
    }

    func string(_ key: String) throws(HookInputError) -> String {
        guard let value = json[key]?.stringValue else { throw missing(key, "a string") }
        return value
    }
    func optionalString(_ key: String) throws(HookInputError) -> String? {
        guard let value = present(key) else { return nil }
        guard let string = value.stringValue else { throw missing(key, "a string") }
        return string
    }
    func int(_ key: String) throws(HookInputError) -> Int {
        guard let value = json[key]?.intValue else { throw missing(key, "an integer") }
        return value
    }
    func optionalInt(_ key: String) throws(HookInputError) -> Int? {
        guard let value = present(key) else { return nil }
        guard let int = value.intValue else { throw missing(key, "an integer") }
        return int
    }
    func double(_ key: String) throws(HookInputError) -> Double {
        guard let value = json[key]?.doubleValue else { throw missing(key, "a number") }
        return value
    }
    func optionalDouble(_ key: String) throws(HookInputError) -> Double? {
        guard let value = present(key) else { return nil }
        guard let double = value.doubleValue else { throw missing(key, "a number") }
        return double
    }
    func bool(_ key: String) throws(HookInputError) -> Bool {
        guard let value = json[key]?.boolValue else { throw missing(key, "a Boolean") }
        return value
    }
    func optionalBool(_ key: String) throws(HookInputError) -> Bool? {
        guard let value = present(key) else { return nil }
        guard let bool = value.boolValue else { throw missing(key, "a Boolean") }
        return bool
    }
    /// Any JSON value, `null` included, but it must be there.
    func value(_ key: String) throws(HookInputError) -> JSONValue {
        guard let value = json[key] else { throw missing(key, "a value") }
        return value
    }
    func optionalValue(_ key: String) throws(HookInputError) -> JSONValue? {
        present(key)
    }
    func optionalStrings(_ key: String) throws(HookInputError) -> [String]? {
        guard let value = present(key) else { return nil }
        guard let array = value.arrayValue else { throw missing(key, "an array of strings") }
        let strings = array.compactMap(\.stringValue)
        guard strings.count == array.count else { throw missing(key, "an array of strings") }
        return strings
    }
    func optionalMcpServer(_ key: String) throws(HookInputError) -> HookInput.MCPServerRef? {
        guard let value = present(key) else { return nil }
        guard let name = value["name"]?.stringValue else { throw missing(key, "an object with a name") }
        return HookInput.MCPServerRef(name: name, source: value["source"]?.stringValue ?? "")
    }
    func toolCalls(_ key: String) throws(HookInputError) -> [HookInput.ToolCall] {
        guard let array = json[key]?.arrayValue else { throw missing(key, "an array") }
        var calls: [HookInput.ToolCall] = []
        for entry in array {
            let call = HookFields(json: entry, event: event)
            calls.append(
                HookInput.ToolCall(
                    toolName: try call.string("tool_name"), toolInput: try call.value("tool_input"),
                    toolUseID: try call.string("tool_use_id"), toolResponse: try call.optionalValue("tool_response")))
        }
        return calls
    }
    /// Suggestions the SDK cannot read are skipped; an absent list is empty.
    func permissionUpdates(_ key: String) throws(HookInputError) -> [PermissionUpdate] {
        (present(key)?.arrayValue ?? []).compactMap(PermissionUpdate.init(json:))
    }
}
