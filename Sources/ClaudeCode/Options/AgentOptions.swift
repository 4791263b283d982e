import Foundation

/// How much effort the model spends (`--effort`; the CLI sends it as `output_config.effort`).
///
/// The CLI 2.1.331 accepts `low`, `medium`, `high`, `xhigh` and `max`; other values are passed on
/// as written, so a newer level works before the SDK names it.
public struct EffortLevel: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral {
    /// The level as the CLI spells it.
    public var rawValue: String
    /// Wraps a level.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Wraps a level written as a literal.
    public init(stringLiteral value: String) { self.rawValue = value }

    /// The least effort.
    public static let low: EffortLevel = "low"
    /// Medium effort.
    public static let medium: EffortLevel = "medium"
    /// High effort.
    public static let high: EffortLevel = "high"
    /// More than high.
    public static let xhigh: EffortLevel = "xhigh"
    /// The most effort.
    public static let max: EffortLevel = "max"
}

/// A subagent the session may delegate to, sent in `initialize` as the Python SDK does.
///
/// Unset fields are left out of the wire object, so the CLI applies its defaults.
public struct AgentDefinition: Sendable, Hashable {
    /// When to use the agent; the model reads it to choose an agent.
    public var description: String
    /// The agent's system prompt.
    public var prompt: String
    /// The tools it may use; `nil` inherits the session's.
    public var tools: [String]?
    /// Tools it must not use.
    public var disallowedTools: [String]?
    /// A model alias (`sonnet`, `opus`, `haiku`, `inherit`) or a full model id.
    public var model: String?
    /// Skills it may use.
    public var skills: [String]?
    /// Where its memory lives: `user`, `project` or `local`.
    public var memory: String?
    /// MCP servers it may use: names of the session's servers, or inline `{name: config}` objects.
    public var mcpServers: [JSONValue]?
    /// A prompt the agent starts with.
    public var initialPrompt: String?
    /// Its own turn limit.
    public var maxTurns: Int?
    /// Whether it runs in the background.
    public var background: Bool?
    /// Its effort level.
    public var effort: EffortLevel?
    /// Its permission mode.
    public var permissionMode: PermissionMode?

    /// Creates a definition.
    public init(
        description: String, prompt: String, tools: [String]? = nil, disallowedTools: [String]? = nil,
        model: String? = nil, skills: [String]? = nil, memory: String? = nil, mcpServers: [JSONValue]? = nil,
        initialPrompt: String? = nil, maxTurns: Int? = nil, background: Bool? = nil, effort: EffortLevel? = nil,
        permissionMode: PermissionMode? = nil
    ) {
        self.description = description
        self.prompt = prompt
        self.tools = tools
        self.disallowedTools = disallowedTools
        self.model = model
        self.skills = skills
        self.memory = memory
        self.mcpServers = mcpServers
        self.initialPrompt = initialPrompt
        self.maxTurns = maxTurns
        self.background = background
        self.effort = effort
        self.permissionMode = permissionMode
    }

    /// The wire object (the CLI's camelCase keys, unset fields left out).
    public var json: JSONValue {
        var object: [String: JSONValue] = ["description": .string(description), "prompt": .string(prompt)]
        if let tools { object["tools"] = .array(tools.map(JSONValue.string)) }
        if let disallowedTools { object["disallowedTools"] = .array(disallowedTools.map(JSONValue.string)) }
        if let model { object["model"] = .string(model) }
        if let skills { object["skills"] = .array(skills.map(JSONValue.string)) }
        if let memory { object["memory"] = .string(memory) }
        if let mcpServers { object["mcpServers"] = .array(mcpServers) }
        if let initialPrompt { object["initialPrompt"] = .string(initialPrompt) }
        if let maxTurns { object["maxTurns"] = .int(Int64(maxTurns)) }
        if let background { object["background"] = .bool(background) }
        if let effort { object["effort"] = .string(effort.rawValue) }
        if let permissionMode { object["permissionMode"] = .string(permissionMode.rawValue) }
        return .object(object)
    }
}

/// Which skills the session may use (Python's `skills`).
public enum SkillsSelection: Sendable, Hashable {
    /// Every skill the CLI finds: adds `Skill` to `--allowedTools`.
    case all
    /// Only these: adds `Skill(<name>)` to `--allowedTools` for each and sends the list in `initialize`,
    /// which limits the skills the model is shown to these.
    case named([String])
}

/// Sandbox settings for Bash commands, merged into the `--settings` JSON as `sandbox` (as the Python SDK does).
///
/// Only the fields set are written. ``extra`` carries any other key of the CLI's `sandbox` settings.
public struct SandboxSettings: Sendable, Hashable {
    /// Network isolation of sandboxed commands.
    public struct Network: Sendable, Hashable {
        /// Domains sandboxed processes may reach.
        public var allowedDomains: [String]?
        /// Domains always blocked.
        public var deniedDomains: [String]?
        /// In managed settings: only the managed `allowedDomains` count.
        public var allowManagedDomainsOnly: Bool?
        /// Unix socket paths reachable from the sandbox.
        public var allowUnixSockets: [String]?
        /// Every Unix socket is reachable (less secure).
        public var allowAllUnixSockets: Bool?
        /// Binding to localhost ports is allowed (macOS only).
        public var allowLocalBinding: Bool?
        /// macOS: XPC/Mach service names allowed.
        public var allowMachLookup: [String]?
        /// Your own HTTP proxy's port.
        public var httpProxyPort: Int?
        /// Your own SOCKS5 proxy's port.
        public var socksProxyPort: Int?

        /// Creates a network configuration; unset fields are left out.
        public init(
            allowedDomains: [String]? = nil, deniedDomains: [String]? = nil, allowManagedDomainsOnly: Bool? = nil,
            allowUnixSockets: [String]? = nil, allowAllUnixSockets: Bool? = nil, allowLocalBinding: Bool? = nil,
            allowMachLookup: [String]? = nil, httpProxyPort: Int? = nil, socksProxyPort: Int? = nil
        ) {
            self.allowedDomains = allowedDomains
            self.deniedDomains = deniedDomains
            self.allowManagedDomainsOnly = allowManagedDomainsOnly
            self.allowUnixSockets = allowUnixSockets
            self.allowAllUnixSockets = allowAllUnixSockets
            self.allowLocalBinding = allowLocalBinding
            self.allowMachLookup = allowMachLookup
            self.httpProxyPort = httpProxyPort
            self.socksProxyPort = socksProxyPort
        }

        var json: JSONValue {
            var object: [String: JSONValue] = [:]
            func strings(_ values: [String]?) -> JSONValue? { values.map { .array($0.map(JSONValue.string)) } }
            object["allowedDomains"] = strings(allowedDomains)
            object["deniedDomains"] = strings(deniedDomains)
            object["allowManagedDomainsOnly"] = allowManagedDomainsOnly.map(JSONValue.bool)
            object["allowUnixSockets"] = strings(allowUnixSockets)
            object["allowAllUnixSockets"] = allowAllUnixSockets.map(JSONValue.bool)
            object["allowLocalBinding"] = allowLocalBinding.map(JSONValue.bool)
            object["allowMachLookup"] = strings(allowMachLookup)
            object["httpProxyPort"] = httpProxyPort.map { .int(Int64($0)) }
            object["socksProxyPort"] = socksProxyPort.map { .int(Int64($0)) }
            return .object(object)
        }
    }

    /// Sandbox Bash commands (macOS and Linux).
    public var enabled: Bool?
    /// Approve Bash commands without asking while sandboxed.
    public var autoAllowBashIfSandboxed: Bool?
    /// Commands that run outside the sandbox (e.g. `git`, `docker`).
    public var excludedCommands: [String]?
    /// Whether a command may ask to run unsandboxed (`dangerouslyDisableSandbox`).
    public var allowUnsandboxedCommands: Bool?
    /// Network isolation.
    public var network: Network?
    /// Violations left unreported: command pattern (`*` for all) → substrings of the violation text.
    public var ignoreViolations: [String: [String]]?
    /// A weaker sandbox for unprivileged containers (Linux only).
    public var enableWeakerNestedSandbox: Bool?
    /// Other keys of the CLI's `sandbox` settings, written as given (typed fields win).
    public var extra: [String: JSONValue]

    /// Creates sandbox settings; unset fields are left out.
    public init(
        enabled: Bool? = nil, autoAllowBashIfSandboxed: Bool? = nil, excludedCommands: [String]? = nil,
        allowUnsandboxedCommands: Bool? = nil, network: Network? = nil, ignoreViolations: [String: [String]]? = nil,
        enableWeakerNestedSandbox: Bool? = nil, extra: [String: JSONValue] = [:]
    ) {
        self.enabled = enabled
        self.autoAllowBashIfSandboxed = autoAllowBashIfSandboxed
        self.excludedCommands = excludedCommands
        self.allowUnsandboxedCommands = allowUnsandboxedCommands
        self.network = network
        self.ignoreViolations = ignoreViolations
        self.enableWeakerNestedSandbox = enableWeakerNestedSandbox
        self.extra = extra
    }

    /// The `sandbox` settings object.
    public var json: JSONValue {
        var object = extra
        object["enabled"] = enabled.map(JSONValue.bool)
        object["autoAllowBashIfSandboxed"] = autoAllowBashIfSandboxed.map(JSONValue.bool)
        object["excludedCommands"] = excludedCommands.map { .array($0.map(JSONValue.string)) }
        object["allowUnsandboxedCommands"] = allowUnsandboxedCommands.map(JSONValue.bool)
        object["network"] = network?.json
        object["ignoreViolations"] = ignoreViolations.map { .object($0.mapValues { .array($0.map(JSONValue.string)) }) }
        object["enableWeakerNestedSandbox"] = enableWeakerNestedSandbox.map(JSONValue.bool)
        return .object(object)
    }
}
