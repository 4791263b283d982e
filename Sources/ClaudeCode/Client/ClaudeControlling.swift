import Foundation

/// The control calls of a connected client, written once for ``ClaudeSDKClient`` and
/// `SessionPersistentClient` (in `ClaudeCodeSessions`): every call below is available on both.
///
/// A conforming type supplies the raw request (``sendControlRequest(_:_:timeout:)``), the CLI's
/// `initialize` answer (``serverInfo``) and the connection's options; the calls are built on
/// those. See `docs/parity.md` for which CLI request each call uses.
public protocol ClaudeControlling: Sendable {
    /// Sends a control request and returns the CLI's `response` object. Use it for requests the SDK
    /// has no method for. On timeout the SDK sends `control_cancel_request`.
    /// - Parameters:
    ///   - subtype: The request's `subtype` (`interrupt`, `mcp_status`, …).
    ///   - fields: The request's other fields.
    ///   - timeout: `nil` uses ``ClaudeCodeOptions/controlRequestTimeout``.
    /// - Throws: ``ClaudeCodeError/Code/notConnected`` before `connect`, ``ClaudeCodeError/Code/controlError``
    ///   with the CLI's text when it refuses, ``ClaudeCodeError/Code/controlTimeout``.
    func sendControlRequest(
        _ subtype: String, _ fields: [String: JSONValue], timeout: Duration?
    ) async throws(ClaudeCodeError) -> JSONValue

    /// The CLI's answer to `initialize` (commands, models, account, version, …), once connected.
    var serverInfo: JSONValue? { get }

    /// The options of the current (or next) connection.
    var options: ClaudeCodeOptions { get }
}

extension ClaudeControlling {
    /// Sends a control request and maps the CLI's `unsupported_request` answer to
    /// ``ClaudeCodeError/Code/unsupportedByCLI``; other failures are as for ``sendControlRequest(_:_:timeout:)``.
    func typedControlRequest(
        _ subtype: String, _ fields: [String: JSONValue] = [:], timeout: Duration?
    ) async throws(ClaudeCodeError) -> JSONValue {
        do {
            return try await sendControlRequest(subtype, fields, timeout: timeout)
        } catch  where error.code == .controlError && error.controlErrorCode == "unsupported_request" {
            throw ClaudeCodeError(
                .unsupportedByCLI,
                "the running Claude Code CLI does not support the control request \(subtype); a newer version may",
                controlErrorCode: error.controlErrorCode, underlying: error)
        }
    }

    // MARK: What the CLI offers (from its initialize answer)

    /// The CLI's `initialize` answer, typed (commands, agents, models, account, version, …); `nil` before
    /// `connect(prompt:)`. `serverInfo` holds the same answer as JSON.
    public var initializationResult: ServerInfo? { serverInfo.map(ServerInfo.init(json:)) }

    /// The slash commands and skills the session offers, from the `initialize` answer.
    /// - Throws: `ClaudeCodeError/Code/notConnected` before `connect(prompt:)`.
    public func supportedCommands() throws(ClaudeCodeError) -> [SlashCommand] { try initialized().commands }

    /// The models the session can use, from the `initialize` answer.
    /// - Throws: `ClaudeCodeError/Code/notConnected` before `connect(prompt:)`.
    public func supportedModels() throws(ClaudeCodeError) -> [ModelInfo] { try initialized().models }

    /// The agents the session can use (built-in ones and ``ClaudeCodeOptions/agents``), from the `initialize` answer.
    /// - Throws: `ClaudeCodeError/Code/notConnected` before `connect(prompt:)`.
    public func supportedAgents() throws(ClaudeCodeError) -> [AgentInfo] { try initialized().agents }

    /// The account the CLI uses, from the `initialize` answer (`nil` when it reports none).
    /// - Throws: `ClaudeCodeError/Code/notConnected` before `connect(prompt:)`.
    public func accountInfo() throws(ClaudeCodeError) -> AccountInfo? { try initialized().account }

    private func initialized() throws(ClaudeCodeError) -> ServerInfo {
        guard let info = initializationResult else {
            throw ClaudeCodeError(.notConnected, "the client is not connected; call connect() first")
        }
        return info
    }

    // MARK: Typed answers

    /// The state of every MCP server (`mcp_status`), typed.
    public func mcpServerStatus(timeout: Duration? = nil) async throws(ClaudeCodeError) -> [MCPServerStatus] {
        let answer = try await typedControlRequest("mcp_status", timeout: timeout)
        return (answer["mcpServers"]?.arrayValue ?? []).map(MCPServerStatus.init(json:))
    }

    /// How the context window is used, by category (`get_context_usage`), typed.
    public func getContextUsage(timeout: Duration? = nil) async throws(ClaudeCodeError) -> ContextUsage {
        ContextUsage(json: try await typedControlRequest("get_context_usage", timeout: timeout))
    }

    /// Reports what ``rewindFiles(toUserMessage:timeout:)`` would restore (`dryRun: true`), or restores it and
    /// reports what it changed (`dryRun: false`). Needs ``ClaudeCodeOptions/enableFileCheckpointing``; without
    /// it the answer's ``RewindFilesResult/canRewind`` is `false` and its ``RewindFilesResult/error`` says so.
    public func rewindFiles(
        toUserMessage uuid: String, dryRun: Bool, timeout: Duration? = nil
    ) async throws(ClaudeCodeError) -> RewindFilesResult {
        let answer = try await typedControlRequest(
            "rewind_files", ["user_message_id": .string(uuid), "dry_run": .bool(dryRun)], timeout: timeout)
        return RewindFilesResult(json: answer)
    }

    // MARK: Calls the TypeScript SDK has

    /// Sets the thinking budget for later turns (`set_max_thinking_tokens`); `nil` clears it.
    public func setMaxThinkingTokens(_ tokens: Int?, timeout: Duration? = nil) async throws(ClaudeCodeError) {
        if let tokens, tokens < 0 { throw ClaudeCodeError(.invalidInput, "the thinking budget must not be negative") }
        _ = try await typedControlRequest(
            "set_max_thinking_tokens", ["max_thinking_tokens": tokens.map { .int(Int64($0)) } ?? .null],
            timeout: timeout)
    }

    /// Replaces the MCP servers added at run time (`mcp_set_servers`): servers not in `servers` that an earlier
    /// call added are removed. Servers from the options or settings stay.
    ///
    /// An ``MCPServerConfig/sdk(_:)`` server is accepted only when ``ClaudeCodeOptions/mcpServers`` had it under
    /// the same name at `connect(prompt:)` (only those are served by this connection).
    /// - Returns: Which servers were added and removed, and why any failed.
    public func setMCPServers(
        _ servers: [String: MCPServerConfig], timeout: Duration? = nil
    ) async throws(ClaudeCodeError) -> MCPSetServersResult {
        var wire: [String: JSONValue] = [:]
        for (name, server) in servers {
            guard !name.isEmpty, !name.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
                throw ClaudeCodeError(
                    .invalidInput, "MCP server names must be non-empty and free of control characters")
            }
            if case .sdk(let sdk) = server {
                guard case .sdk(let connected)? = options.mcpServers[name], connected.name == sdk.name else {
                    throw ClaudeCodeError(
                        .invalidInput,
                        "the SDK MCP server \(name) was not in options.mcpServers at connect(), so this connection cannot serve it"
                    )
                }
            }
            var json = server.json
            // The CLI's mcp_set_servers needs `args` on a stdio server, even when empty.
            if case .stdio = server, case .object(var object) = json, object["args"] == nil {
                object["args"] = []
                json = .object(object)
            }
            wire[name] = json
        }
        return MCPSetServersResult(
            json: try await typedControlRequest("mcp_set_servers", ["servers": .object(wire)], timeout: timeout))
    }

    /// Reloads plugins, skills, agents and commands from disk (`reload_plugins`) and returns what the session
    /// offers now.
    public func reloadPlugins(timeout: Duration? = nil) async throws(ClaudeCodeError) -> ReloadPluginsResult {
        ReloadPluginsResult(json: try await typedControlRequest("reload_plugins", timeout: timeout))
    }

    /// Applies settings as if they had been passed with `--settings` (`apply_flag_settings`), for the rest of
    /// the session; e.g. `["model": "claude-sonnet-4-5"]`. Read the result with ``getSettings(timeout:)``.
    public func applyFlagSettings(
        _ settings: [String: JSONValue], timeout: Duration? = nil
    ) async throws(ClaudeCodeError) {
        _ = try await typedControlRequest("apply_flag_settings", ["settings": .object(settings)], timeout: timeout)
    }

    /// The settings in force (`get_settings`): merged settings, their sources, and what the session applies.
    public func getSettings(timeout: Duration? = nil) async throws(ClaudeCodeError) -> SettingsSnapshot {
        SettingsSnapshot(json: try await typedControlRequest("get_settings", timeout: timeout))
    }

    /// Tells the CLI that the model has seen `path` as it is now, last modified at `modifiedAt`
    /// (`seed_read_state`): the CLI reads the file and records it as read, so its tools that insist on a
    /// prior read accept it (in 2.1.331 NotebookEdit refuses an unread notebook with "File has not been read
    /// yet"). The CLI ignores the call when the file is not readable under the permission rules, is over
    /// 10 MiB, or was modified after `modifiedAt`.
    public func seedReadState(
        path: String, modifiedAt: Date, timeout: Duration? = nil
    ) async throws(ClaudeCodeError) {
        guard !path.isEmpty else { throw ClaudeCodeError(.invalidInput, "seedReadState needs a path") }
        let milliseconds = (modifiedAt.timeIntervalSince1970 * 1000).rounded()
        _ = try await typedControlRequest(
            "seed_read_state", ["path": .string(path), "mtime": .int(Int64(milliseconds))], timeout: timeout)
    }

    /// Withdraws a prompt that is queued and not yet started (`cancel_async_message`).
    /// - Returns: Whether it was withdrawn (`false` when it had already started, or no such prompt was queued).
    public func cancelAsyncMessage(_ uuid: String, timeout: Duration? = nil) async throws(ClaudeCodeError) -> Bool {
        let answer = try await typedControlRequest(
            "cancel_async_message", ["message_uuid": .string(uuid)], timeout: timeout)
        return answer["cancelled"]?.boolValue ?? false
    }

    // MARK: Session calls

    /// Interrupts the running turn. The turn ends with an `error_during_execution` result; the session stays usable.
    public func interrupt(timeout: Duration? = nil) async throws(ClaudeCodeError) {
        _ = try await sendControlRequest("interrupt", [:], timeout: timeout)
    }

    /// Changes the permission mode for the rest of the session.
    public func setPermissionMode(_ mode: PermissionMode, timeout: Duration? = nil) async throws(ClaudeCodeError) {
        _ = try await sendControlRequest("set_permission_mode", ["mode": .string(mode.rawValue)], timeout: timeout)
    }

    /// Changes the model for later turns; `nil` returns to the default.
    public func setModel(_ model: String?, timeout: Duration? = nil) async throws(ClaudeCodeError) {
        _ = try await sendControlRequest("set_model", ["model": model.map(JSONValue.string) ?? .null], timeout: timeout)
    }

    /// The state of every MCP server (`mcpServers` in the response); ``mcpServerStatus(timeout:)`` types it.
    public func mcpStatus(timeout: Duration? = nil) async throws(ClaudeCodeError) -> JSONValue {
        try await sendControlRequest("mcp_status", [:], timeout: timeout)
    }

    /// How the context window is used, by category; ``getContextUsage(timeout:)`` types it.
    public func contextUsage(timeout: Duration? = nil) async throws(ClaudeCodeError) -> JSONValue {
        try await sendControlRequest("get_context_usage", [:], timeout: timeout)
    }

    /// Reconnects an MCP server by name.
    public func reconnectMCPServer(_ name: String, timeout: Duration? = nil) async throws(ClaudeCodeError) {
        _ = try await sendControlRequest("mcp_reconnect", ["serverName": .string(name)], timeout: timeout)
    }

    /// Enables or disables an MCP server by name.
    public func toggleMCPServer(_ name: String, enabled: Bool, timeout: Duration? = nil) async throws(ClaudeCodeError) {
        _ = try await sendControlRequest(
            "mcp_toggle", ["serverName": .string(name), "enabled": .bool(enabled)], timeout: timeout)
    }

    /// Stops a background task by id (``TaskEvent/taskID``, from its `task_started` frame): a background Bash
    /// command's process ends, and the model is told the task was killed on the next turn.
    public func stopTask(_ taskID: String, timeout: Duration? = nil) async throws(ClaudeCodeError) {
        _ = try await sendControlRequest("stop_task", ["task_id": .string(taskID)], timeout: timeout)
    }

    /// Restores files to their state at a user message (needs ``ClaudeCodeOptions/enableFileCheckpointing``).
    public func rewindFiles(toUserMessage uuid: String, timeout: Duration? = nil) async throws(ClaudeCodeError) {
        _ = try await sendControlRequest("rewind_files", ["user_message_id": .string(uuid)], timeout: timeout)
    }

    /// Asks the CLI now (`mcp_status`) which tools of each in-process MCP server (``MCPServerConfig/sdk(_:)``)
    /// it offers; see ``SDKServerToolReport``. The CLI lists a server's tools once a turn has started.
    public func checkSDKServerTools(timeout: Duration? = nil) async throws(ClaudeCodeError) -> [SDKServerToolReport] {
        let registered = SDKToolCheck.registeredTools(options)
        let statuses = try await mcpServerStatus(timeout: timeout)
        return SDKToolCheck.reports(registered: registered, statuses: statuses)
    }
}
