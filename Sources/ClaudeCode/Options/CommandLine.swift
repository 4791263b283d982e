import Foundation

extension ClaudeCodeOptions {
    /// The CLI arguments these options produce, without the executable itself.
    ///
    /// Values that could be mistaken for flags use the `--flag=value` form.
    /// - Throws: ``ClaudeCodeError/Code/invalidOptions`` for values the CLI would reject.
    public func commandLineArguments() throws(ClaudeCodeError) -> [String] {
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
        if let settings { args += ["--settings", settings] }
        for directory in addDirectories { args += ["--add-dir", directory] }
        if !mcpServers.isEmpty {
            let config: JSONValue = ["mcpServers": .object(mcpServers.mapValues(\.json))]
            args += ["--mcp-config", config.jsonString]
        }
        if includePartialMessages { args.append("--include-partial-messages") }
        if includeHookEvents { args.append("--include-hook-events") }
        if strictMCPConfig { args.append("--strict-mcp-config") }
        if forkSession { args.append("--fork-session") }
        if let resumeSessionAt {
            try Self.checkToken(resumeSessionAt, name: "resumeSessionAt")
            args.append("--resume-session-at=\(resumeSessionAt)")
        }
        if sessionMirror { args.append("--session-mirror") }
        if let settingSources {
            args.append("--setting-sources=\(settingSources.map(\.rawValue).joined(separator: ","))")
        }
        for directory in pluginDirectories { args += ["--plugin-dir", directory] }
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
        if let effort { args += ["--effort", effort] }
        if let outputSchema { args += ["--json-schema", outputSchema.jsonString] }
        args += ["--input-format", "stream-json"]
        return args
    }

    /// The environment the CLI runs with: this process's, minus `CLAUDECODE`, plus ``env``
    /// and the SDK's identity variables.
    public func processEnvironment(base: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        var environment = base
        environment["CLAUDECODE"] = nil
        environment["CLAUDE_CODE_ENTRYPOINT"] = "sdk-swift"
        environment.merge(env) { _, new in new }
        environment["CLAUDE_AGENT_SDK_VERSION"] = ClaudeCodeVersion.sdk
        if !environment.keys.contains(where: { $0.uppercased() == "CLAUDE_CODE_SDK_READS_SESSION_STATE" }) {
            environment["CLAUDE_CODE_SDK_READS_SESSION_STATE"] = "1"
        }
        if let cwd { environment["PWD"] = cwd }
        return environment
    }

    private static func checkToken(_ value: String, name: String) throws(ClaudeCodeError) {
        guard !value.isEmpty, !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw ClaudeCodeError(.invalidOptions, "\(name) must be non-empty and free of control characters")
        }
    }
}
