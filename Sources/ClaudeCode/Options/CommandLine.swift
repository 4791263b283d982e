import Foundation

extension ClaudeCodeOptions {
    /// The CLI arguments these options produce, without the executable itself.
    ///
    /// Values that could be mistaken for flags use the `--flag=value` form.
    /// - Throws: ``ClaudeCodeError/Code/invalidOptions`` for values the CLI would reject.
    ///
    /// `--mcp-config` carries ``mcpServers`` inline here; ``SubprocessTransport`` passes the same
    /// JSON as a private temporary file instead, so server secrets never appear on the command line.
    public func commandLineArguments() throws(ClaudeCodeError) -> [String] {
        try commandLineArguments(mcpConfigPath: nil)
    }

    /// The arguments, with `--mcp-config <mcpConfigPath>` instead of the inline JSON when a path is given.
    func commandLineArguments(mcpConfigPath: String?) throws(ClaudeCodeError) -> [String] {
        try validate()
        var args = ["--output-format", "stream-json", "--verbose"]
        switch systemPrompt {
        case nil: args += ["--system-prompt", ""]
        case .text(let text): args += ["--system-prompt", text]
        case .file(let path): args += ["--system-prompt-file", path]
        case .preset(let append):
            if let append { args += ["--append-system-prompt", append] }
        }
        switch tools {
        case nil: break
        case .list(let names): args += ["--tools", names.joined(separator: ",")]
        case .preset: args += ["--tools", "default"]
        }
        let allowedTools = effectiveAllowedTools
        if !allowedTools.isEmpty { args += ["--allowedTools", allowedTools.joined(separator: ",")] }
        if let maxTurns {
            guard maxTurns > 0 else { throw ClaudeCodeError(.invalidOptions, "maxTurns must be positive") }
            args += ["--max-turns", String(maxTurns)]
        }
        if let maxBudgetUSD {
            guard maxBudgetUSD.isFinite, maxBudgetUSD >= 0 else {
                throw ClaudeCodeError(.invalidOptions, "maxBudgetUSD must be a finite, non-negative amount")
            }
            args += ["--max-budget-usd", String(maxBudgetUSD)]
        }
        if !disallowedTools.isEmpty { args += ["--disallowedTools", disallowedTools.joined(separator: ",")] }
        if let taskBudget { args += ["--task-budget", String(taskBudget)] }
        if let model { args += ["--model", model] }
        if let fallbackModel { args += ["--fallback-model", fallbackModel] }
        if !betas.isEmpty { args += ["--betas", betas.joined(separator: ",")] }
        if canUseTool != nil {
            if let permissionPromptToolName, permissionPromptToolName != "stdio" {
                throw ClaudeCodeError(
                    .invalidOptions,
                    "canUseTool cannot be combined with permissionPromptToolName \"\(permissionPromptToolName)\": the CLI asks one or the other"
                )
            }
            args += ["--permission-prompt-tool", "stdio"]
        } else if let permissionPromptToolName {
            args += ["--permission-prompt-tool", permissionPromptToolName]
        }
        if let permissionMode { args += ["--permission-mode", permissionMode.rawValue] }
        if continueConversation { args.append("--continue") }
        if let resume {
            try Self.checkToken(resume, name: "resume")
            args.append("--resume=\(resume)")
        }
        if let sessionID {
            try Self.checkToken(sessionID, name: "sessionID")
            args.append("--session-id=\(sessionID)")
        }
        if let settings = try settingsArgument() { args += ["--settings", settings] }
        for directory in addDirectories { args += ["--add-dir", directory] }
        if !mcpServers.isEmpty {
            args += ["--mcp-config", mcpConfigPath ?? mcpConfigJSON.jsonString]
        }
        for file in mcpConfigFiles { args += ["--mcp-config", file] }
        if includePartialMessages { args.append("--include-partial-messages") }
        if includeHookEvents { args.append("--include-hook-events") }
        if strictMCPConfig { args.append("--strict-mcp-config") }
        if forkSession { args.append("--fork-session") }
        if let resumeSessionAt {
            try Self.checkToken(resumeSessionAt, name: "resumeSessionAt")
            args.append("--resume-session-at=\(resumeSessionAt)")
        }
        if let resumeDropsTurn {
            guard resumeSessionAt != nil else {
                throw ClaudeCodeError(
                    .invalidOptions, "resumeDropsTurn needs resumeSessionAt (the CLI reads it only then)")
            }
            try Self.checkToken(resumeDropsTurn, name: "resumeDropsTurn")
            args.append("--resume-drops-turn=\(resumeDropsTurn)")
        }
        if sessionMirror { args.append("--session-mirror") }
        if let settingSources = effectiveSettingSources {
            args.append("--setting-sources=\(settingSources.map(\.rawValue).joined(separator: ","))")
        }
        for directory in pluginDirectories { args += ["--plugin-dir", directory] }
        if let agent { args.append("--agent=\(agent)") }
        if let sessionName { args.append("--name=\(sessionName)") }
        if !persistSession { args.append("--no-session-persistence") }
        if replayUserMessages { args.append("--replay-user-messages") }
        for key in extraArgs.keys.sorted() {
            guard let value = extraArgs[key] else { continue }
            guard !key.isEmpty, !key.hasPrefix("-"), !key.contains("=") else {
                throw ClaudeCodeError(.invalidOptions, "extraArgs keys are flag names without leading dashes")
            }
            switch value {
            case nil: args.append("--\(key)")
            case let value? where value.hasPrefix("-"): args.append("--\(key)=\(value)")
            case let value?: args += ["--\(key)", value]
            }
        }
        switch thinking {
        case nil: break
        case .adaptive(let display):
            args += ["--thinking", "adaptive"]
            if let display { args += ["--thinking-display", display] }
        case .enabled(let budget, let display):
            args += ["--max-thinking-tokens", String(budget)]
            if let display { args += ["--thinking-display", display] }
        case .disabled: args += ["--thinking", "disabled"]
        }
        if let effortLevel { args += ["--effort", effortLevel.rawValue] }
        if let outputSchema { args += ["--json-schema", outputSchema.jsonString] }
        args += ["--input-format", "stream-json"]
        return args
    }

    /// The environment the CLI runs with: this process's, minus `CLAUDECODE`, `TRACEPARENT` and
    /// `TRACESTATE`, plus the active span's trace context (see ``tracer``), ``env`` and the SDK's
    /// identity variables.
    public func processEnvironment(base: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        var environment = base
        environment["CLAUDECODE"] = nil
        // The trace context is the SDK's to hand over (below), not an inherited one.
        environment["TRACEPARENT"] = nil
        environment["TRACESTATE"] = nil
        environment["CLAUDE_CODE_ENTRYPOINT"] = "sdk-swift"
        environment.merge(ClaudeTracing.environment(self)) { _, new in new }
        environment.merge(env) { _, new in new }
        environment["CLAUDE_AGENT_SDK_VERSION"] = ClaudeCodeVersion.sdk
        environment["CLAUDE_AGENT_SDK_DERIVED_CLIENT_APP"] = nil
        if let clientApp { environment["CLAUDE_AGENT_SDK_CLIENT_APP"] = clientApp }
        if !environment.keys.contains(where: { $0.uppercased() == "CLAUDE_CODE_SDK_READS_SESSION_STATE" }) {
            environment["CLAUDE_CODE_SDK_READS_SESSION_STATE"] = "1"
        }
        if enableFileCheckpointing { environment["CLAUDE_CODE_ENABLE_SDK_FILE_CHECKPOINTING"] = "true" }
        if let cwd { environment["PWD"] = cwd }
        return environment
    }

    /// Texts that must never appear in an error description: the values of ``env`` and of inherited
    /// variables whose names suggest a secret, the MCP servers' env values and headers, and `prompt`.
    func secretsForRedaction(
        prompt: String? = nil, base: [String: String] = ProcessInfo.processInfo.environment
    ) -> [String] {
        var secrets = Array(env.values)
        let markers = ["KEY", "TOKEN", "SECRET", "PASSWORD", "AUTH", "CREDENTIAL"]
        for (key, value) in base where markers.contains(where: { key.uppercased().contains($0) }) {
            secrets.append(value)
        }
        for server in mcpServers.values {
            switch server {
            case .stdio(_, _, let env): secrets += env.values
            case .sse(_, let headers), .http(_, let headers): secrets += headers.values
            case .sdk: break
            }
        }
        if let prompt { secrets.append(prompt) }
        return secrets
    }

    /// A user frame as it is sent: with ``verbatimPrompts``, `client_composed: true` is added unless the
    /// frame has the key (as the Python SDK does).
    func outgoingUserFrame(_ frame: JSONValue) -> JSONValue {
        guard verbatimPrompts, case .object(var object) = frame, object["client_composed"] == nil else { return frame }
        object["client_composed"] = true
        return .object(object)
    }

    /// ``allowedTools`` plus the `Skill` rules ``skills`` asks for.
    var effectiveAllowedTools: [String] {
        var tools = allowedTools
        switch skills {
        case nil: break
        case .all: if !tools.contains("Skill") { tools.append("Skill") }
        case .named(let names):
            for name in names where !tools.contains("Skill(\(name))") { tools.append("Skill(\(name))") }
        }
        return tools
    }

    /// ``settingSources``, or `user,project` when ``skills`` is set and no sources are (as the Python SDK does).
    var effectiveSettingSources: [SettingSource]? {
        settingSources ?? (skills == nil ? nil : [.user, .project])
    }

    /// The `--settings` value: ``settings`` as given, or, with ``sandbox``, the settings (inline JSON, or a
    /// file read relative to ``cwd``) with `sandbox` merged in, as one JSON string.
    func settingsArgument() throws(ClaudeCodeError) -> String? {
        guard let sandbox else { return settings }
        var object: [String: JSONValue] = [:]
        if let settings {
            let trimmed = settings.trimmingCharacters(in: .whitespacesAndNewlines)
            var text = trimmed
            if !(trimmed.hasPrefix("{") && trimmed.hasSuffix("}")) {
                let url =
                    trimmed.hasPrefix("/")
                    ? URL(fileURLWithPath: trimmed)
                    : URL(fileURLWithPath: cwd ?? FileManager.default.currentDirectoryPath).appendingPathComponent(
                        trimmed)
                guard let data = try? Data(contentsOf: url), var contents = String(data: data, encoding: .utf8) else {
                    throw ClaudeCodeError(
                        .invalidOptions, "the settings file could not be read to merge sandbox into it")
                }
                if contents.hasPrefix("\u{FEFF}") { contents.removeFirst() }
                text = contents
            }
            guard let parsed = try? JSONValue.parse(text), case .object(let settingsObject) = parsed else {
                throw ClaudeCodeError(
                    .invalidOptions, "settings is not a JSON object, so sandbox cannot be merged into it")
            }
            object = settingsObject
        }
        object["sandbox"] = sandbox.json
        return JSONValue.object(object).jsonString
    }

    /// The `--mcp-config` JSON: `{"mcpServers": {…}}`.
    var mcpConfigJSON: JSONValue { ["mcpServers": .object(mcpServers.mapValues(\.json))] }

    /// The longest single argument Linux accepts (`MAX_ARG_STRLEN`); longer ones make the launch fail.
    static let maximumArgumentLength = 128 * 1024

    /// Checks option values before anything is launched. Errors name the option, never its value
    /// (values may be secrets).
    func validate() throws(ClaudeCodeError) {
        try Self.checkToken(model, name: "model", maxLength: 256)
        try Self.checkToken(fallbackModel, name: "fallbackModel", maxLength: 256)
        try Self.checkToken(effortLevel?.rawValue, name: "effort", maxLength: 64)
        try Self.checkToken(clientApp.flatMap { $0.isEmpty ? nil : $0 }, name: "clientApp", maxLength: 256)
        try Self.checkToken(permissionMode?.rawValue, name: "permissionMode", maxLength: 64)
        try Self.checkToken(permissionPromptToolName, name: "permissionPromptToolName", maxLength: 1024)
        for tool in allowedTools { try Self.checkToken(tool, name: "allowedTools", maxLength: 4096) }
        for tool in disallowedTools { try Self.checkToken(tool, name: "disallowedTools", maxLength: 4096) }
        for beta in betas { try Self.checkToken(beta, name: "betas", maxLength: 256) }
        try Self.checkToken(agent, name: "agent", maxLength: 256)
        try Self.checkToken(sessionName, name: "sessionName", maxLength: 1024)
        for file in mcpConfigFiles { try Self.checkPath(file, name: "mcpConfigFiles") }
        for (name, definition) in agents {
            try Self.checkToken(name, name: "agents key", maxLength: 256)
            if definition.description.isEmpty || definition.prompt.isEmpty {
                throw ClaudeCodeError(.invalidOptions, "agents[\(name)] needs a description and a prompt")
            }
            if let maxTurns = definition.maxTurns, maxTurns <= 0 {
                throw ClaudeCodeError(.invalidOptions, "agents[\(name)].maxTurns must be positive")
            }
        }
        if case .named(let names) = skills {
            for name in names {
                try Self.checkToken(name, name: "skills", maxLength: 256)
                // The CLI splits --allowedTools on commas and spaces outside parentheses, with no escaping.
                guard !name.contains(where: { $0 == "," || $0 == "(" || $0 == ")" || $0.isWhitespace }) else {
                    throw ClaudeCodeError(
                        .invalidOptions, "skill names must not contain commas, parentheses or spaces")
                }
            }
        }
        if case .list(let names) = tools {
            for name in names { try Self.checkToken(name, name: "tools", maxLength: 1024) }
        }
        if let taskBudget, taskBudget <= 0 { throw ClaudeCodeError(.invalidOptions, "taskBudget must be positive") }
        if case .enabled(let budget, _) = thinking, budget <= 0 {
            throw ClaudeCodeError(.invalidOptions, "thinking's budgetTokens must be positive")
        }
        if messageMemoryBudget < 0 {
            throw ClaudeCodeError(.invalidOptions, "messageMemoryBudget must not be negative")
        }
        try Self.checkPath(cwd, name: "cwd")
        try Self.checkPath(cliPath, name: "cliPath")
        for directory in addDirectories { try Self.checkPath(directory, name: "addDirectories") }
        for directory in pluginDirectories { try Self.checkPath(directory, name: "pluginDirectories") }
        switch systemPrompt {
        case .text(let text) where text.utf8.count > Self.maximumArgumentLength,
            .preset(let text?) where text.utf8.count > Self.maximumArgumentLength:
            throw ClaudeCodeError(
                .invalidOptions,
                "systemPrompt is longer than \(Self.maximumArgumentLength) bytes, more than one argument can carry; use .file(path:)"
            )
        case .file(let path): try Self.checkPath(path, name: "systemPrompt file")
        default: break
        }
        for (key, server) in mcpServers {
            try Self.checkToken(key, name: "mcpServers key", maxLength: 256)
            if case .sdk(let sdk) = server {
                try Self.checkToken(sdk.name, name: "mcpServers[\(key)] name", maxLength: 256)
                for tool in sdk.tools {
                    if let problem = tool.schemaProblem {
                        throw ClaudeCodeError(.invalidOptions, "SDK MCP server \(key): \(problem)")
                    }
                }
            }
        }
    }

    /// A short single-line value: non-empty, no control characters, at most `maxLength` characters.
    private static func checkToken(_ value: String?, name: String, maxLength: Int) throws(ClaudeCodeError) {
        guard let value else { return }
        guard !value.isEmpty, !value.allSatisfy(\.isWhitespace) else {
            throw ClaudeCodeError(.invalidOptions, "\(name) must not be empty")
        }
        guard !value.unicodeScalars.contains(where: isControl) else {
            throw ClaudeCodeError(.invalidOptions, "\(name) must not contain control characters (such as a newline)")
        }
        guard value.count <= maxLength else {
            throw ClaudeCodeError(.invalidOptions, "\(name) is longer than \(maxLength) characters")
        }
    }

    /// A path: non-empty, no control characters, not longer than `PATH_MAX`.
    private static func checkPath(_ value: String?, name: String) throws(ClaudeCodeError) {
        try checkToken(value, name: name, maxLength: 4096)
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    private static func checkToken(_ value: String, name: String) throws(ClaudeCodeError) {
        guard !value.isEmpty, !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw ClaudeCodeError(.invalidOptions, "\(name) must be non-empty and free of control characters")
        }
    }
}
