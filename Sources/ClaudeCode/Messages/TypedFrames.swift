/// Typed views of frames that used to be read from ``JSONValue`` by hand. Each keeps the frame's JSON,
/// so keys the SDK does not model stay readable.

/// A `conversation_reset` frame: the session's conversation was replaced without ending the connection
/// (after `/clear`, for example). Later results start their running totals (such as
/// ``ResultMessage/totalCostUSD``) again from zero, and later frames carry a new session id.
public struct ConversationResetMessage: Sendable {
    /// An opaque id of the fresh conversation (not the next frames' session id).
    public var newConversationID: String?
    /// The id of the session that was reset.
    public var sessionID: String?
    /// This frame's uuid.
    public var uuid: String?
    /// What reset it (`clear`, …).
    public var trigger: String?
    /// The uuid of the user message that caused it.
    public var userMessageUUID: String?
    /// The whole frame.
    public var json: JSONValue
    /// The frame's bytes.
    public var raw: RawJSON

    init(raw: RawJSON, json: JSONValue) {
        self.raw = raw
        self.json = json
        newConversationID = json["new_conversation_id"]?.stringValue
        sessionID = json["session_id"]?.stringValue
        uuid = json["uuid"]?.stringValue
        trigger = json["trigger"]?.stringValue
        userMessageUUID = json["user_message_uuid"]?.stringValue
    }
}

/// What a background task (a subagent, a background shell, …) has used so far.
public struct TaskUsage: Sendable, Hashable {
    /// Tokens used.
    public var totalTokens: Int
    /// Tool calls made.
    public var toolUses: Int
    /// How long it has run, in milliseconds.
    public var durationMilliseconds: Int

    /// Reads `{total_tokens, tool_uses, duration_ms}`; `nil` when it is not an object.
    public init?(json: JSONValue?) {
        guard let json, json.objectValue != nil else { return nil }
        totalTokens = json["total_tokens"]?.intValue ?? 0
        toolUses = json["tool_uses"]?.intValue ?? 0
        durationMilliseconds = json["duration_ms"]?.intValue ?? 0
    }
}

/// A task's status as `task_notification` or `task_updated` reports it.
public struct TaskStatus: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral {
    /// The status as the CLI spells it.
    public var rawValue: String
    /// Wraps a status.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Wraps a status written as a literal.
    public init(stringLiteral value: String) { self.rawValue = value }

    /// Waiting to start.
    public static let pending: TaskStatus = "pending"
    /// Running.
    public static let running: TaskStatus = "running"
    /// Paused.
    public static let paused: TaskStatus = "paused"
    /// Finished successfully.
    public static let completed: TaskStatus = "completed"
    /// Finished with an error.
    public static let failed: TaskStatus = "failed"
    /// `task_notification`'s word for a task that was stopped.
    public static let stopped: TaskStatus = "stopped"
    /// `task_updated`'s word for a task that was stopped.
    public static let killed: TaskStatus = "killed"

    /// Whether the task has finished (`completed`, `failed`, `stopped` or `killed`), whichever frame said so.
    public var isTerminal: Bool { [.completed, .failed, .stopped, .killed].contains(self) }
}

/// A `system` frame about a background task: `task_started`, `task_progress`, `task_notification` or
/// `task_updated` (``SystemMessage/task``).
public struct TaskEvent: Sendable {
    /// Which of the four frames this is.
    public enum Phase: String, Sendable, Hashable {
        case started = "task_started"
        case progress = "task_progress"
        case notification = "task_notification"
        case updated = "task_updated"
    }

    /// Which frame this is.
    public var phase: Phase
    /// The task's id (what ``ClaudeControlling/stopTask(_:timeout:)`` takes).
    public var taskID: String
    /// The tool call that started the task, when there is one.
    public var toolUseID: String?
    /// What the task does (`task_started`, `task_progress`).
    public var description: String?
    /// The kind of task (`local_agent`, `local_bash`, …), on `task_started`.
    public var taskType: String?
    /// Its status: `task_notification`'s `status`, or `task_updated`'s `patch.status`.
    public var status: TaskStatus?
    /// `task_notification`'s summary.
    public var summary: String?
    /// `task_notification`'s output file.
    public var outputFile: String?
    /// What it has used (`task_progress`, `task_notification`).
    public var usage: TaskUsage?
    /// The last tool it used, on `task_progress`.
    public var lastToolName: String?
    /// The changed fields, on `task_updated`.
    public var patch: JSONValue?
    /// The whole frame.
    public var json: JSONValue

    /// Reads a task frame; `nil` for any other subtype.
    public init?(subtype: String, json: JSONValue) {
        guard let phase = Phase(rawValue: subtype) else { return nil }
        self.phase = phase
        self.json = json
        taskID = json["task_id"]?.stringValue ?? ""
        toolUseID = json["tool_use_id"]?.stringValue
        description = json["description"]?.stringValue
        taskType = json["task_type"]?.stringValue
        patch = json["patch"]
        status = (json["status"]?.stringValue ?? json["patch"]?["status"]?.stringValue).map(TaskStatus.init(rawValue:))
        summary = json["summary"]?.stringValue
        outputFile = json["output_file"]?.stringValue
        usage = TaskUsage(json: json["usage"])
        lastToolName = json["last_tool_name"]?.stringValue
    }
}

extension SystemMessage {
    /// The typed view of a task frame (`task_started`, `task_progress`, `task_notification`, `task_updated`);
    /// `nil` for other subtypes.
    public var task: TaskEvent? { TaskEvent(subtype: subtype, json: data) }
}

extension AssistantMessage {
    /// The API message's token usage, typed (``usage`` holds the same as JSON).
    public var typedUsage: Usage? { usage.flatMap(Usage.init(json:)) }
}
