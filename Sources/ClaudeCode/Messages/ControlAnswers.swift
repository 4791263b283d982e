/// Typed views of the CLI's answers to control requests and of its `initialize` answer.
///
/// Each keeps the whole answer in `raw`, so keys the SDK does not model (and keys a newer CLI adds)
/// stay readable. Fields the CLI leaves out are `nil` (or empty).

/// A slash command or skill the session offers (`initialize`'s and `reload_plugins`' `commands`).
public struct SlashCommand: Sendable, Hashable {
    /// The name, without the slash.
    public var name: String
    /// What it does.
    public var description: String?
    /// A hint for its arguments (`""` when it takes none).
    public var argumentHint: String?
    /// Whether it ships with Claude Code.
    public var isBuiltin: Bool?
    /// The whole object.
    public var raw: JSONValue

    /// Reads one entry.
    public init(json: JSONValue) {
        name = json["name"]?.stringValue ?? ""
        description = json["description"]?.stringValue
        argumentHint = json["argumentHint"]?.stringValue
        isBuiltin = json["builtin"]?.boolValue
        raw = json
    }
}

/// An agent the session can use (`initialize`'s and `reload_plugins`' `agents`).
public struct AgentInfo: Sendable, Hashable {
    /// The agent's name (what `--agent` and the Agent tool take).
    public var name: String
    /// When to use it.
    public var description: String?
    /// Its model, when it sets one.
    public var model: String?
    /// The whole object.
    public var raw: JSONValue

    /// Reads one entry.
    public init(json: JSONValue) {
        name = json["name"]?.stringValue ?? ""
        description = json["description"]?.stringValue
        model = json["model"]?.stringValue
        raw = json
    }
}

/// A model the session can switch to (`initialize`'s `models`).
public struct ModelInfo: Sendable, Hashable {
    /// What to pass to ``ClaudeControlling/setModel(_:timeout:)`` or ``ClaudeCodeOptions/model``.
    public var value: String
    /// The model id it stands for now.
    public var resolvedModel: String?
    /// Its name for display.
    public var displayName: String?
    /// A description for display.
    public var description: String?
    /// Whether it takes an effort level.
    public var supportsEffort: Bool?
    /// The effort levels it takes.
    public var supportedEffortLevels: [EffortLevel]
    /// Whether it supports adaptive thinking.
    public var supportsAdaptiveThinking: Bool?
    /// Whether it supports fast mode.
    public var supportsFastMode: Bool?
    /// The whole object.
    public var raw: JSONValue

    /// Reads one entry.
    public init(json: JSONValue) {
        value = json["value"]?.stringValue ?? ""
        resolvedModel = json["resolvedModel"]?.stringValue
        displayName = json["displayName"]?.stringValue
        description = json["description"]?.stringValue
        supportsEffort = json["supportsEffort"]?.boolValue
        supportedEffortLevels = (json["supportedEffortLevels"]?.arrayValue ?? []).compactMap {
            $0.stringValue.map(EffortLevel.init(rawValue:))
        }
        supportsAdaptiveThinking = json["supportsAdaptiveThinking"]?.boolValue
        supportsFastMode = json["supportsFastMode"]?.boolValue
        raw = json
    }
}

/// Who the session is signed in as and how (`initialize`'s `account`).
public struct AccountInfo: Sendable, Hashable {
    /// The account's email, when signed in with one.
    public var email: String?
    /// The organization, when there is one.
    public var organization: String?
    /// The subscription type, when there is one.
    public var subscriptionType: String?
    /// Where the OAuth token comes from (`none` with an API key).
    public var tokenSource: String?
    /// Where the API key comes from (e.g. `ANTHROPIC_API_KEY`).
    public var apiKeySource: String?
    /// The API provider (`firstParty`, `bedrock`, `vertex`, …).
    public var apiProvider: String?
    /// The whole object.
    public var raw: JSONValue

    /// Reads the object.
    public init(json: JSONValue) {
        email = json["email"]?.stringValue
        organization = json["organization"]?.stringValue
        subscriptionType = json["subscriptionType"]?.stringValue
        tokenSource = json["tokenSource"]?.stringValue
        apiKeySource = json["apiKeySource"]?.stringValue
        apiProvider = json["apiProvider"]?.stringValue
        raw = json
    }
}

/// The CLI's answer to `initialize` (``ClaudeSDKClient/serverInfo``), typed.
public struct ServerInfo: Sendable, Hashable {
    /// The slash commands and skills.
    public var commands: [SlashCommand]
    /// The agents.
    public var agents: [AgentInfo]
    /// The models.
    public var models: [ModelInfo]
    /// The account.
    public var account: AccountInfo?
    /// The output style in use.
    public var outputStyle: String?
    /// The output styles available.
    public var availableOutputStyles: [String]
    /// The CLI's process id.
    public var pid: Int?
    /// The CLI's version (e.g. `2.1.331`).
    public var claudeCodeVersion: String?
    /// The permission mode in force.
    public var currentPermissionMode: PermissionMode?
    /// Whether the CLI honours `onFailure` on hook matchers.
    public var hookOnFailureSupported: Bool?
    /// Fast mode's state (`off`, `on`, …).
    public var fastModeState: String?
    /// `idle` or `running`.
    public var sessionState: String?
    /// Capabilities the CLI announces.
    public var capabilities: [String]
    /// The whole answer.
    public var raw: JSONValue

    /// Reads the answer.
    public init(json: JSONValue) {
        commands = (json["commands"]?.arrayValue ?? []).map(SlashCommand.init(json:))
        agents = (json["agents"]?.arrayValue ?? []).map(AgentInfo.init(json:))
        models = (json["models"]?.arrayValue ?? []).map(ModelInfo.init(json:))
        account = json["account"].flatMap { $0.objectValue == nil ? nil : AccountInfo(json: $0) }
        outputStyle = json["output_style"]?.stringValue
        availableOutputStyles = (json["available_output_styles"]?.arrayValue ?? []).compactMap(\.stringValue)
        pid = json["pid"]?.intValue
        claudeCodeVersion = json["claude_code_version"]?.stringValue
        currentPermissionMode = json["current_permission_mode"]?.stringValue.map(PermissionMode.init(rawValue:))
        hookOnFailureSupported = json["hook_on_failure_supported"]?.boolValue
        fastModeState = json["fast_mode_state"]?.stringValue
        sessionState = json["session_state"]?.stringValue
        capabilities = (json["capabilities"]?.arrayValue ?? []).compactMap(\.stringValue)
        raw = json
    }
}

/// An MCP server's connection state.
public struct MCPConnectionStatus: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral {
    /// The state as the CLI spells it.
    public var rawValue: String
    /// Wraps a state.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Wraps a state written as a literal.
    public init(stringLiteral value: String) { self.rawValue = value }
    /// Connected; its tools are available.
    public static let connected: MCPConnectionStatus = "connected"
    /// It could not be started or reached (see ``MCPServerStatus/error``).
    public static let failed: MCPConnectionStatus = "failed"
    /// It needs authentication.
    public static let needsAuth: MCPConnectionStatus = "needs-auth"
    /// Still connecting.
    public static let pending: MCPConnectionStatus = "pending"
    /// Turned off (``ClaudeControlling/toggleMCPServer(_:enabled:timeout:)``).
    public static let disabled: MCPConnectionStatus = "disabled"
}

/// A tool an MCP server offers, as `mcp_status` reports it.
public struct MCPToolInfo: Sendable, Hashable {
    /// The tool's name on the server.
    public var name: String
    /// Its description.
    public var description: String?
    /// Its annotations (`readOnly`, `destructive`, …), as sent.
    public var annotations: JSONValue?
    /// The whole object.
    public var raw: JSONValue

    /// Reads one entry.
    public init(json: JSONValue) {
        name = json["name"]?.stringValue ?? ""
        description = json["description"]?.stringValue
        annotations = json["annotations"]
        raw = json
    }
}

/// One MCP server's state (``ClaudeControlling/mcpServerStatus(timeout:)``, `reload_plugins`, `system/init`).
public struct MCPServerStatus: Sendable, Hashable {
    /// The server's name.
    public var name: String
    /// Its connection state.
    public var status: MCPConnectionStatus
    /// Why it failed, when it did.
    public var error: String?
    /// The name and version the server reported.
    public var serverInfo: (name: String, version: String)? {
        guard let info = raw["serverInfo"], let name = info["name"]?.stringValue else { return nil }
        return (name, info["version"]?.stringValue ?? "")
    }
    /// Its configuration, as the CLI reports it.
    public var config: JSONValue?
    /// Where it was configured (`dynamic`, `project`, `user`, …).
    public var scope: String?
    /// Its transport (`stdio`, `http`, `sse`, `sdk`, …).
    public var transport: String?
    /// Its tools, when connected and reported.
    public var tools: [MCPToolInfo]
    /// The whole object.
    public var raw: JSONValue

    /// Reads one entry.
    public init(json: JSONValue) {
        name = json["name"]?.stringValue ?? ""
        status = MCPConnectionStatus(rawValue: json["status"]?.stringValue ?? "")
        error = json["error"]?.stringValue
        config = json["config"]
        scope = json["scope"]?.stringValue
        transport = json["transport"]?.stringValue
        tools = (json["tools"]?.arrayValue ?? []).map(MCPToolInfo.init(json:))
        raw = json
    }

    /// Equal when the whole objects are.
    public static func == (lhs: MCPServerStatus, rhs: MCPServerStatus) -> Bool { lhs.raw == rhs.raw }
    /// Hashes the whole object.
    public func hash(into hasher: inout Hasher) { hasher.combine(raw) }
}

/// One category of ``ContextUsage``.
public struct ContextUsageCategory: Sendable, Hashable {
    /// A stable id (`system_tools`, `messages`, …).
    public var id: String?
    /// Its name for display.
    public var name: String
    /// Tokens it takes.
    public var tokens: Int
    /// A colour name for display.
    public var color: String?
    /// `used`, `deferred`, `free`, …
    public var kind: String?
    /// Whether its tokens are deferred (loaded only on demand).
    public var isDeferred: Bool
    /// The whole object.
    public var raw: JSONValue

    /// Reads one entry.
    public init(json: JSONValue) {
        id = json["id"]?.stringValue
        name = json["name"]?.stringValue ?? ""
        tokens = json["tokens"]?.intValue ?? 0
        color = json["color"]?.stringValue
        kind = json["kind"]?.stringValue
        isDeferred = json["isDeferred"]?.boolValue ?? false
        raw = json
    }
}

/// How the context window is used (``ClaudeControlling/getContextUsage(timeout:)``).
public struct ContextUsage: Sendable, Hashable {
    /// The categories.
    public var categories: [ContextUsageCategory]
    /// Tokens in use.
    public var totalTokens: Int?
    /// The window's size.
    public var maxTokens: Int?
    /// Percent of the window in use.
    public var percentage: Double?
    /// The model the figures are for.
    public var model: String?
    /// The token count at which the CLI compacts automatically.
    public var autoCompactThreshold: Int?
    /// Whether it compacts automatically.
    public var isAutoCompactEnabled: Bool?
    /// The whole answer (grid rows, memory files, MCP tools, skills, message breakdown, …).
    public var raw: JSONValue

    /// Reads the answer.
    public init(json: JSONValue) {
        categories = (json["categories"]?.arrayValue ?? []).map(ContextUsageCategory.init(json:))
        totalTokens = json["totalTokens"]?.intValue
        maxTokens = json["maxTokens"]?.intValue
        percentage = json["percentage"]?.doubleValue
        model = json["model"]?.stringValue
        autoCompactThreshold = json["autoCompactThreshold"]?.intValue
        isAutoCompactEnabled = json["isAutoCompactEnabled"]?.boolValue
        raw = json
    }
}

/// A plugin the session loaded.
public struct PluginInfo: Sendable, Hashable {
    /// Its name.
    public var name: String
    /// Its folder (`builtin` for built-in plugins).
    public var path: String?
    /// Its source (`name@marketplace`).
    public var source: String?
    /// The whole object.
    public var raw: JSONValue

    /// Reads one entry.
    public init(json: JSONValue) {
        name = json["name"]?.stringValue ?? ""
        path = json["path"]?.stringValue
        source = json["source"]?.stringValue
        raw = json
    }
}

/// The answer to ``ClaudeControlling/reloadPlugins(timeout:)``: what the session offers after reloading.
public struct ReloadPluginsResult: Sendable, Hashable {
    /// The commands and skills.
    public var commands: [SlashCommand]
    /// The agents.
    public var agents: [AgentInfo]
    /// The plugins.
    public var plugins: [PluginInfo]
    /// The MCP servers.
    public var mcpServers: [MCPServerStatus]
    /// How many plugins failed to load.
    public var errorCount: Int
    /// The whole answer.
    public var raw: JSONValue

    /// Reads the answer.
    public init(json: JSONValue) {
        commands = (json["commands"]?.arrayValue ?? []).map(SlashCommand.init(json:))
        agents = (json["agents"]?.arrayValue ?? []).map(AgentInfo.init(json:))
        plugins = (json["plugins"]?.arrayValue ?? []).map(PluginInfo.init(json:))
        mcpServers = (json["mcpServers"]?.arrayValue ?? []).map(MCPServerStatus.init(json:))
        errorCount = json["error_count"]?.intValue ?? 0
        raw = json
    }
}

/// The answer to ``ClaudeControlling/setMCPServers(_:timeout:)``.
public struct MCPSetServersResult: Sendable, Hashable {
    /// Servers added.
    public var added: [String]
    /// Servers removed.
    public var removed: [String]
    /// Servers that failed, with the reason.
    public var errors: [String: String]
    /// The whole answer.
    public var raw: JSONValue

    /// Reads the answer.
    public init(json: JSONValue) {
        added = (json["added"]?.arrayValue ?? []).compactMap(\.stringValue)
        removed = (json["removed"]?.arrayValue ?? []).compactMap(\.stringValue)
        errors = (json["errors"]?.objectValue ?? [:]).compactMapValues { $0.stringValue ?? $0.jsonString }
        raw = json
    }
}

/// The answer to ``ClaudeControlling/getSettings(timeout:)``: the settings in force.
public struct SettingsSnapshot: Sendable, Hashable {
    /// The merged settings from every source (including `--settings` and ``ClaudeControlling/applyFlagSettings(_:timeout:)``).
    public var effective: JSONValue
    /// The sources they came from.
    public var sources: [JSONValue]
    /// What the session applies now (`model`, `effort`, …).
    public var applied: JSONValue
    /// The model in use, from ``applied``.
    public var appliedModel: String? { applied["model"]?.stringValue }
    /// The effort in use, from ``applied``.
    public var appliedEffort: EffortLevel? { applied["effort"]?.stringValue.map(EffortLevel.init(rawValue:)) }
    /// The whole answer.
    public var raw: JSONValue

    /// Reads the answer.
    public init(json: JSONValue) {
        effective = json["effective"] ?? [:]
        sources = json["sources"]?.arrayValue ?? []
        applied = json["applied"] ?? [:]
        raw = json
    }
}

/// The answer to ``ClaudeControlling/rewindFiles(toUserMessage:dryRun:timeout:)``.
public struct RewindFilesResult: Sendable, Hashable {
    /// Whether the files can be (or were) restored.
    public var canRewind: Bool
    /// Why not, when they cannot.
    public var error: String?
    /// The files a rewind changes.
    public var filesChanged: [String]
    /// Lines a rewind adds back.
    public var insertions: Int?
    /// Lines a rewind removes.
    public var deletions: Int?
    /// The whole answer.
    public var raw: JSONValue

    /// Reads the answer.
    public init(json: JSONValue) {
        canRewind = json["canRewind"]?.boolValue ?? (json["error"] == nil)
        error = json["error"]?.stringValue
        filesChanged = (json["filesChanged"]?.arrayValue ?? []).compactMap(\.stringValue)
        insertions = json["insertions"]?.intValue
        deletions = json["deletions"]?.intValue
        raw = json
    }
}
