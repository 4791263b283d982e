import Foundation
import Tracing

/// Everything that configures one Claude Code CLI process.
///
/// Each property maps to a CLI flag or environment variable (see `docs/ARCHITECTURE.md`
/// and ``commandLineArguments()``). Every value is passed as its own argv token; the SDK
/// never builds a shell string.
public struct ClaudeCodeOptions: Sendable {
    // MARK: Prompt and tools

    /// The system prompt. `nil` sends `--system-prompt ""` (no Claude Code default prompt), as the Python SDK does.
    public var systemPrompt: SystemPrompt?
    /// The base set of built-in tools (`--tools`).
    public var tools: ToolsSelection?
    /// Tools allowed without asking (`--allowedTools`).
    public var allowedTools: [String] = []
    /// Tools removed from the model's context (`--disallowedTools`).
    public var disallowedTools: [String] = []
    /// With Claude Code's own prompt (``SystemPrompt/preset(append:)``): move the per-machine sections
    /// (working directory, environment, memory paths, git status) into the first user message, so the
    /// system prompt is the same for every user and caches across them. Sent in `initialize`
    /// (`excludeDynamicSections`), as the Python SDK does; `nil` leaves the CLI's default (off).
    public var excludeDynamicSystemPromptSections: Bool?
    /// Whether the session records its system prompt on the first request and reuses it verbatim on every
    /// later request and resume (`true`, the CLI's default), or renders it afresh each time (`false`, for
    /// iterating on prompt text across resumes). Sent in `initialize` (`systemPromptSnapshot`).
    public var systemPromptSnapshot: Bool?

    // MARK: Agents and skills

    /// Subagents the session may delegate to, by name; sent in `initialize` (`agents`), never on the command line.
    public var agents: [String: AgentDefinition] = [:]
    /// The agent the main thread runs as (`--agent`): one of ``agents`` or an agent the CLI finds in settings.
    public var agent: String?
    /// Skills the model may use: adds `Skill` rules to `--allowedTools`; a list is also sent in `initialize`.
    /// When set and ``settingSources`` is `nil`, the CLI loads `user` and `project` settings (where skills live).
    public var skills: SkillsSelection?
    /// Forward the text and thinking of subagents as assistant and user messages with `parentToolUseID`
    /// set; sent in `initialize` (`forwardSubagentText`).
    public var forwardSubagentText: Bool = false

    // MARK: Model

    /// The model (`--model`).
    public var model: String?
    /// The model used when the main one is overloaded (`--fallback-model`).
    public var fallbackModel: String?
    /// Beta features (`--betas`).
    public var betas: [String] = []
    /// Extended thinking (`--thinking`, `--max-thinking-tokens`, `--thinking-display`).
    public var thinking: ThinkingConfig?
    /// Effort level (`--effort`), typed; the CLI sends it to the API as `output_config.effort`.
    public var effortLevel: EffortLevel?
    /// ``effortLevel`` as a string (`low`, `medium`, `high`, `xhigh`, `max`); kept for source compatibility.
    public var effort: String? {
        get { effortLevel?.rawValue }
        set { effortLevel = newValue.map(EffortLevel.init(rawValue:)) }
    }
    /// A JSON schema the final answer must match (`--json-schema`).
    public var outputSchema: JSONValue?

    // MARK: Limits and permissions

    /// The permission mode (`--permission-mode`).
    ///
    /// ``PermissionMode/bypassPermissions`` is refused by the CLI when it runs as root (`connect()`
    /// fails with "--dangerously-skip-permissions cannot be used with root/sudo privileges"): inside
    /// a sandbox or container set `env["IS_SANDBOX"] = "1"`, otherwise run as a non-root user.
    public var permissionMode: PermissionMode?
    /// The MCP tool the CLI asks for permission (`--permission-prompt-tool`).
    ///
    /// Leave it `nil` with ``canUseTool``, which sets `stdio`; any other value with it is an error.
    public var permissionPromptToolName: String?
    /// Maximum agentic turns per prompt (`--max-turns`); must be positive.
    public var maxTurns: Int?
    /// Maximum spend in USD for the session (`--max-budget-usd`).
    public var maxBudgetUSD: Double?
    /// A token budget for tasks (`--task-budget`).
    public var taskBudget: Int?

    // MARK: Sessions

    /// Resume this CLI session (`--resume=<id>`).
    public var resume: String?
    /// Continue the most recent session in the working directory (`--continue`).
    public var continueConversation: Bool = false
    /// With ``resume`` or ``continueConversation``: fork into a new session id (`--fork-session`).
    public var forkSession: Bool = false
    /// Use this session id, a UUID (`--session-id=<id>`).
    public var sessionID: String?
    /// Resume up to this message uuid (`--resume-session-at=<uuid>`).
    public var resumeSessionAt: String?
    /// Ask the CLI to send every line it writes to its transcript as `transcript_mirror` frames
    /// (`--session-mirror`). Those frames reach ``FrameObserver``s and ``ConnectionExtension``s but are
    /// never messages. `ClaudeCodeSessions` sets it when mirroring to a `SessionStore`.
    public var sessionMirror: Bool = false
    /// With ``resumeSessionAt``: the uuid of the prompt whose turn the truncating resume drops
    /// (`--resume-drops-turn=<uuid>`). The CLI refuses the resume when the dropped range holds anything
    /// else (queued messages, task notifications, other turns).
    public var resumeDropsTurn: String?
    /// A display name for the session (`--name`): the CLI records it as the session's title and sends a
    /// `session_title_changed` system message.
    public var sessionName: String?
    /// `false` keeps the session off disk (`--no-session-persistence`): no transcript, so it cannot be resumed.
    public var persistSession: Bool = true
    /// Track the files the CLI's edit tools change, so ``ClaudeControlling/rewindFiles(toUserMessage:timeout:)``
    /// can restore them (sets `CLAUDE_CODE_ENABLE_SDK_FILE_CHECKPOINTING=true`, as the Python SDK does).
    /// Rewinding needs a user message's uuid: see ``replayUserMessages``.
    public var enableFileCheckpointing: Bool = false
    /// Echo each prompt back as a ``UserMessage`` with its `uuid` (`--replay-user-messages`), e.g. for
    /// ``ClaudeControlling/rewindFiles(toUserMessage:timeout:)``.
    public var replayUserMessages: Bool = false

    // MARK: Environment

    /// The CLI's working directory; `nil` uses this process's.
    public var cwd: String?
    /// Runs the CLI as this user: a name, or a numeric uid, found in the user database (the Python
    /// SDK's `user`). The CLI gets the user's uid, primary group and supplementary groups; its
    /// environment is not changed (set `HOME` in ``env`` if the CLI should use that user's
    /// settings). `nil` (the default) runs it as this process's user.
    ///
    /// Switching users needs privilege: starting the CLI fails with
    /// ``ClaudeCodeError/Code/userNotPermitted`` unless this process runs as root or already as
    /// that user, and with ``ClaudeCodeError/Code/invalidOptions`` for an unknown user. The user
    /// must be able to run ``cliPath`` and enter ``cwd``. Linux and macOS.
    public var user: String?
    /// Extra directories the CLI may access (`--add-dir`, repeated).
    public var addDirectories: [String] = []
    /// Variables added to the inherited environment of the CLI. Never logged or persisted.
    public var env: [String: String] = [:]
    /// A settings file path or inline JSON (`--settings`).
    public var settings: String?
    /// Sandbox settings for Bash, merged into the ``settings`` JSON as `sandbox` (a settings file is read
    /// first, relative to ``cwd``), as the Python SDK does.
    public var sandbox: SandboxSettings?
    /// Which setting files the CLI loads (`--setting-sources=`).
    public var settingSources: [SettingSource]?
    /// MCP servers the CLI starts (`--mcp-config`).
    public var mcpServers: [String: MCPServerConfig] = [:]
    /// MCP configuration files (`{"mcpServers": {…}}`) the CLI reads (`--mcp-config <path>`, one per file),
    /// besides ``mcpServers``.
    public var mcpConfigFiles: [String] = []
    /// Only use ``mcpServers``, ignoring other MCP configuration (`--strict-mcp-config`).
    public var strictMCPConfig: Bool = false
    /// Local plugin folders (`--plugin-dir`, repeated).
    public var pluginDirectories: [String] = []

    // MARK: Callbacks

    /// Asks this process before each tool call the CLI's own rules do not settle
    /// (passes `--permission-prompt-tool stdio`). See ``CanUseTool``.
    ///
    /// It is never asked for calls that ``allowedTools`` allows as a whole tool, nor in
    /// `bypassPermissions` mode; connecting logs a warning then (``canUseToolShadowingWarning``).
    public var canUseTool: CanUseTool?
    /// How long ``canUseTool`` may take before the call is denied; `nil` waits as long as it takes.
    public var canUseToolTimeout: Duration? = .seconds(300)
    /// Swift callbacks for CLI hook events, sent in `initialize` (see ``HookMatcher``).
    public var hooks: [HookEvent: [HookMatcher]] = [:]

    // MARK: Output

    /// Send prompts as written: every user message gets `client_composed: true`, so the CLI passes text such as
    /// `/clear` to the model instead of running it as a command (unless the frame sets `client_composed` itself).
    public var verbatimPrompts: Bool = false
    /// Emit ``StreamEvent``s with partial content (`--include-partial-messages`).
    public var includePartialMessages: Bool = false
    /// Emit hook lifecycle frames (`--include-hook-events`).
    public var includeHookEvents: Bool = false
    /// Also yield the frames the CLI marks `sdk_host_only: true` (the `session_state_changed`
    /// frames: `running` at a turn's start, `idle` after its result), which are meant for the SDK,
    /// not the user. Off by default, as in the Python SDK; ``FrameObserver``s and recordings see
    /// them either way. See ``Message/isHostOnly``.
    public var includeHostOnlyMessages: Bool = false
    /// Any other flags: `["flag": nil]` gives `--flag`, `["flag": "v"]` gives `--flag v` (or `--flag=v` when `v` starts with `-`).
    public var extraArgs: [String: String?] = [:]

    // MARK: SDK behaviour

    /// Names the app built on the SDK in the CLI's user agent (`client-app/<value>`), through
    /// `CLAUDE_AGENT_SDK_CLIENT_APP`; an empty string opts out.
    public var clientApp: String?
    /// The CLI executable. `nil` searches `CLAUDE_CODE_CLI_PATH`, `PATH` and the usual install locations.
    public var cliPath: String?
    /// The longest stdout line accepted, in bytes; longer lines are skipped and reported as ``InvalidFrame``.
    public var maxLineLength: Int = 64 * 1024 * 1024
    /// How much memory the messages the consumer has not read yet may take, in bytes (default 16 MiB).
    ///
    /// The SDK reads the CLI's stdout at all times, so the CLI's permission, hook and MCP requests are
    /// answered, and the answers to ``ClaudeControlling/interrupt(timeout:)`` and the other control calls arrive,
    /// however slowly messages are consumed. Messages are queued in memory up to this budget (each counted
    /// as three times its frame's bytes plus 512: the frame, what decoding keeps, the allocator's overhead); past it, new messages are written
    /// to a private temporary file (see ``messageSpillDirectory``) and read back in order as the consumer
    /// catches up. Nothing is lost or reordered; disk space is freed as the consumer reads. `Int.max`
    /// keeps every message in memory. See ``ClaudeSDKClient/messageQueueStatistics``.
    ///
    /// The default keeps a whole client process within 64 MiB while its consumer lags (see
    /// `scripts/bench/client.sh`).
    public var messageMemoryBudget: Int = ClaudeCodeOptions.defaultMessageMemoryBudget
    /// Where messages past ``messageMemoryBudget`` are spilled; `nil` (the default): the temporary
    /// directory (`TMPDIR`). The files are mode 0600 and unlinked as soon as they are made, so no other
    /// process can open them and they vanish with this process. If they cannot be written (a full disk),
    /// messages are kept in memory instead, past the budget, and a warning is logged.
    public var messageSpillDirectory: String?
    /// The default ``messageMemoryBudget``: 16 MiB.
    public static let defaultMessageMemoryBudget = 16 * 1024 * 1024
    /// Called with each line the CLI writes to stderr (always drained, whether set or not).
    public var stderr: (@Sendable (String) -> Void)?

    /// The tracer for the SDK's spans (connect, turns, control requests, permission, hook and tool
    /// callbacks; see `docs/ARCHITECTURE.md`). `nil` uses the tracer bootstrapped with
    /// `InstrumentationSystem` (swift-distributed-tracing); with neither, the SDK creates no span.
    public var tracer: (any Tracer)?
    /// How long `connect()` waits for the `initialize` answer.
    public var initializeTimeout: Duration = .seconds(60)
    /// The default timeout of other control requests (interrupt, set_model, …).
    public var controlRequestTimeout: Duration = .seconds(60)
    /// Shutdown: how long to wait after closing stdin before sending SIGTERM.
    public var shutdownGracePeriod: Duration = .seconds(5)
    /// Shutdown: how long to wait after SIGTERM before SIGKILL.
    public var terminateGracePeriod: Duration = .seconds(5)

    public init() {}

    /// Builds options with the most common settings.
    public init(
        systemPrompt: SystemPrompt? = nil, allowedTools: [String] = [], model: String? = nil,
        permissionMode: PermissionMode? = nil, maxTurns: Int? = nil, cwd: String? = nil, resume: String? = nil,
        env: [String: String] = [:], cliPath: String? = nil
    ) {
        self.systemPrompt = systemPrompt
        self.allowedTools = allowedTools
        self.model = model
        self.permissionMode = permissionMode
        self.maxTurns = maxTurns
        self.cwd = cwd
        self.resume = resume
        self.env = env
        self.cliPath = cliPath
    }
}

/// The system prompt to use.
public enum SystemPrompt: Sendable, Hashable {
    /// Replace the default prompt with this text (`--system-prompt`).
    case text(String)
    /// Claude Code's own prompt, optionally with text appended (`--append-system-prompt`).
    case preset(append: String?)
    /// Read the prompt from a file (`--system-prompt-file`); use it for long prompts (argv limits).
    case file(path: String)
}

/// The base tool set.
public enum ToolsSelection: Sendable, Hashable {
    /// Exactly these tools (`--tools a,b`; an empty list disables all).
    case list([String])
    /// Claude Code's default set (`--tools default`).
    case preset
}

/// How the CLI asks for permission to use tools.
public struct PermissionMode: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public static let `default`: PermissionMode = "default"
    public static let acceptEdits: PermissionMode = "acceptEdits"
    public static let plan: PermissionMode = "plan"
    /// Every tool runs without asking (`--dangerously-skip-permissions` in the CLI).
    ///
    /// The CLI refuses it when running as root or through sudo, and `connect()` then fails with
    /// ``ClaudeCodeError/Code/processExited`` and the CLI's reason. Inside a sandbox or container,
    /// set `options.env["IS_SANDBOX"] = "1"`; anywhere else, run the process as a non-root user.
    public static let bypassPermissions: PermissionMode = "bypassPermissions"
    public static let dontAsk: PermissionMode = "dontAsk"
    public static let auto: PermissionMode = "auto"
}

/// A source of CLI settings.
public enum SettingSource: String, Sendable, Hashable {
    case user, project, local
}

/// Extended-thinking configuration.
public enum ThinkingConfig: Sendable, Hashable {
    case adaptive(display: String? = nil)
    case enabled(budgetTokens: Int, display: String? = nil)
    case disabled
}

/// An MCP server the CLI starts or connects to, or one served by this process.
public enum MCPServerConfig: Sendable, Hashable {
    case stdio(command: String, args: [String] = [], env: [String: String] = [:])
    case sse(url: String, headers: [String: String] = [:])
    case http(url: String, headers: [String: String] = [:])
    /// Tools written in Swift, served in-process over the control protocol (`{"type":"sdk"}`).
    case sdk(SDKMCPServer)

    var json: JSONValue {
        switch self {
        case .sdk(let server):
            return ["type": "sdk", "name": .string(server.name)]
        case .stdio(let command, let args, let env):
            var object: [String: JSONValue] = ["type": "stdio", "command": .string(command)]
            if !args.isEmpty { object["args"] = .array(args.map(JSONValue.string)) }
            if !env.isEmpty { object["env"] = .object(env.mapValues(JSONValue.string)) }
            return .object(object)
        case .sse(let url, let headers), .http(let url, let headers):
            var object: [String: JSONValue] = [
                "type": .string({ if case .sse = self { return "sse" } else { return "http" } }()),
                "url": .string(url),
            ]
            if !headers.isEmpty { object["headers"] = .object(headers.mapValues(JSONValue.string)) }
            return .object(object)
        }
    }
}
