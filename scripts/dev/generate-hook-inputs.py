#!/usr/bin/env python3
"""Generates Sources/ClaudeCode/Callbacks/HookInputs.swift: one typed struct per hook event.

The field lists come from the hook input schemas in the Claude Code CLI 2.1.331 binary
(`strings claude | grep 'hook_event_name:x("'`). When a CLI adds fields or events, edit SPEC
and run: scripts/dev/generate-hook-inputs.py > Sources/ClaudeCode/Callbacks/HookInputs.swift && scripts/dev/format.sh

Each SPEC line: Event|doc|field;field;... with field = wire_name:TYPE:swiftName:doc and TYPE one of
S (String), I (Int), D (Double), B (Bool), J (JSONValue), M (MCPServerRef), TC ([ToolCall]),
PS ([PermissionUpdate], absent = []), SA ([String]); a trailing ? makes it optional.
"""
import sys

SPEC = r"""
PreToolUse|Before a tool runs.|tool_name:S:toolName:The tool, such as `Bash` or `mcp__calc__add`.;tool_input:J:toolInput:The tool's input.;tool_use_id:S:toolUseID:The id of this tool call.;mcp_server:M?:mcpServer:For MCP tools, the server serving it.
PostToolUse|After a tool ran.|tool_name:S:toolName:The tool.;tool_input:J:toolInput:The tool's input.;tool_response:J:toolResponse:What the tool returned.;tool_use_id:S:toolUseID:The id of this tool call.;duration_ms:I?:durationMS:How long the tool ran, in milliseconds (without permission prompts and hooks).;mcp_server:M?:mcpServer:For MCP tools, the server serving it.
PostToolUseFailure|After a tool failed.|tool_name:S:toolName:The tool.;tool_input:J:toolInput:The tool's input.;tool_use_id:S:toolUseID:The id of this tool call.;error:S:error:The error text.;is_interrupt:B?:isInterrupt:Whether the failure was an interrupt.;duration_ms:I?:durationMS:How long the tool ran, in milliseconds.;mcp_server:M?:mcpServer:For MCP tools, the server serving it.
PostToolBatch|Once after every tool call of a batch has finished, before the next model request.|tool_calls:TC:toolCalls:The calls of the batch.
Notification|When the CLI shows a notification.|message:S:message:The notification text.;title:S?:title:Its title.;notification_type:S:notificationType:Its kind.
UserPromptSubmit|When a prompt is submitted.|prompt:S:prompt:The prompt text.;source:S?:source:Who wrote it: `user`, `sdk`, `system`, `loop_wakeup`, `schedule_wakeup` or `poll_event`.;session_title:S?:sessionTitle:The session's title.
UserPromptExpansion|When a slash command or MCP prompt expands.|expansion_type:S:expansionType:`slash_command` or `mcp_prompt`.;command_name:S:commandName:The command.;command_args:S:commandArgs:Its arguments.;command_source:S?:commandSource:Where the command comes from.;prompt:S:prompt:The expanded prompt.
SessionStart|When a session starts, resumes, clears, compacts or forks.|source:S:source:`startup`, `resume`, `clear`, `compact` or `fork`.;model:S?:model:The model.;session_title:S?:sessionTitle:The session's title.;seconds_since_last_response:D?:secondsSinceLastResponse:On resume or fork: seconds since the last assistant response.;context_tokens:I?:contextTokens:On resume or fork: the tokens of the resumed context.;prompt_cache_likely_expired:B?:promptCacheLikelyExpired:On resume or fork: whether the prompt cache has likely expired.;estimated_cache_write_usd:D?:estimatedCacheWriteUSD:On resume or fork: the estimated cost of re-caching the context.
SessionEnd|When a session ends.|reason:S:reason:`clear`, `resume`, `logout`, `prompt_input_exit` or `other`.
Stop|When Claude finishes its answer.|stop_hook_active:B:stopHookActive:Whether a Stop hook already made Claude go on.;last_assistant_message:S?:lastAssistantMessage:The text of the last assistant message.;background_tasks:J?:backgroundTasks:Background work still running (id, type, status, description, …).;session_crons:J?:sessionCrons:Scheduled wakeups of this session (id, schedule, recurring, prompt).
StopFailure|When a turn ends with an API error.|error:S:error:The error kind, such as `rate_limit`, `overloaded` or `server_error`.;error_details:S?:errorDetails:More about the error.;last_assistant_message:S?:lastAssistantMessage:The text of the last assistant message.
SubagentStart|When a subagent starts.|agent_id:S:agentID:The subagent's id.;agent_type:S:agentType:Its type.
SubagentStop|When a subagent finishes.|stop_hook_active:B:stopHookActive:Whether a SubagentStop hook already made it go on.;agent_id:S:agentID:The subagent's id.;agent_transcript_path:S:agentTranscriptPath:Its transcript file.;agent_type:S:agentType:Its type.;last_assistant_message:S?:lastAssistantMessage:Its last assistant text.;background_tasks:J?:backgroundTasks:Background work still running.;session_crons:J?:sessionCrons:Scheduled wakeups.
PreCompact|Before the conversation is compacted.|trigger:S:trigger:`manual` or `auto`.;custom_instructions:S?:customInstructions:The instructions given to `/compact`, if any.
PostCompact|After the conversation was compacted.|trigger:S:trigger:`manual` or `auto`.;compact_summary:S:compactSummary:The summary compaction produced.
PreModelSwitch|Before the model changes.|from_model:S:fromModel:The model before the switch.;to_model:S:toModel:The model after it.;requested_model:S?:requestedModel:What was asked for (an alias, an id, or `nil` for the default).;source:S:source:`command`, `picker` or `sdk`.;context_tokens:I:contextTokens:The tokens the next request sends again.;prompt_cache_warm:B:promptCacheWarm:Whether the prompt cache is likely warm.;cache_ttl:S:cacheTTL:`5m` or `1h`.;estimated_cache_write_usd:D:estimatedCacheWriteUSD:The estimated cost of re-caching the context on the new model.;pricing:S:pricing:`configured`, `catalog` or `default`.
PostModelSwitch|After the model changed.|from_model:S:fromModel:The model before the switch.;to_model:S:toModel:The model after it.;requested_model:S?:requestedModel:What was asked for.;source:S:source:`command`, `picker`, `sdk`, `auto` or `resume`.;context_tokens:I:contextTokens:The tokens the next request sends again.;prompt_cache_warm:B:promptCacheWarm:Whether the prompt cache was likely warm.;cache_ttl:S:cacheTTL:`5m` or `1h`.;estimated_cache_write_usd:D:estimatedCacheWriteUSD:The estimated cost of re-caching.;pricing:S:pricing:`configured`, `catalog` or `default`.
PermissionRequest|When the CLI would ask for permission.|tool_name:S:toolName:The tool.;tool_input:J:toolInput:The tool's input.;permission_suggestions:PS:permissionSuggestions:What "always allow" would apply.;mcp_server:M?:mcpServer:For MCP tools, the server serving it.
PermissionDenied|After a tool call was denied.|tool_name:S:toolName:The tool.;tool_input:J:toolInput:The tool's input.;tool_use_id:S:toolUseID:The id of the call.;reason:S:reason:Why it was denied.;mcp_server:M?:mcpServer:For MCP tools, the server serving it.
Setup|At setup.|trigger:S:trigger:`init` or `maintenance`.
TeammateIdle|When a teammate goes idle.|teammate_name:S:teammateName:The teammate.;team_name:S:teamName:The team (deprecated by the CLI).
TaskCreated|When a task is created.|task_id:S:taskID:The task's id.;task_subject:S:taskSubject:Its subject.;task_description:S?:taskDescription:Its description.;teammate_name:S?:teammateName:The teammate it belongs to.;team_name:S?:teamName:The team (deprecated by the CLI).
TaskCompleted|When a task is completed.|task_id:S:taskID:The task's id.;task_subject:S:taskSubject:Its subject.;task_description:S?:taskDescription:Its description.;teammate_name:S?:teammateName:The teammate it belongs to.;team_name:S?:teamName:The team (deprecated by the CLI).
Elicitation|When an MCP server asks the user for input.|mcp_server_name:S:mcpServerName:The MCP server.;message:S:message:What it asks.;mode:S?:mode:`form` or `url`.;url:S?:url:For `url` mode, the address.;elicitation_id:S?:elicitationID:The request's id.;requested_schema:J?:requestedSchema:The form's JSON Schema.
ElicitationResult|After the user answered an MCP elicitation.|mcp_server_name:S:mcpServerName:The MCP server.;elicitation_id:S?:elicitationID:The request's id.;mode:S?:mode:`form` or `url`.;action:S:action:`accept`, `decline` or `cancel`.;content:J?:content:The submitted values.
ConfigChange|When a settings file or skill changes.|source:S:source:`user_settings`, `project_settings`, `local_settings`, `policy_settings` or `skills`.;file_path:S?:filePath:The changed file.
WorktreeCreate|When a worktree is to be created.|name:S:name:The worktree's name.
WorktreeRemove|When a worktree is removed.|worktree_path:S:worktreePath:Its path.
InstructionsLoaded|When a CLAUDE.md or rules file is loaded.|file_path:S:filePath:The file.;memory_type:S:memoryType:`User`, `Project`, `Local` or `Managed`.;load_reason:S:loadReason:`session_start`, `nested_traversal`, `path_glob_match`, `include` or `compact`.;globs:SA?:globs:The globs that matched.;trigger_file_path:S?:triggerFilePath:The file that triggered loading.;parent_file_path:S?:parentFilePath:The file that included it.
CwdChanged|When the working directory changes.|old_cwd:S:oldCwd:The previous folder.;new_cwd:S:newCwd:The new folder.
FileChanged|When a watched file changes.|file_path:S:filePath:The file.;event:S:event:`change`, `add` or `unlink`.
DirectoryAdded|When a directory is added to the session.|directory:S:directory:The absolute path.;source:S:source:`slash_command` or `register_repo_root`.
MessageDisplay|While assistant text streams to the screen.|turn_id:S:turnID:The turn's uuid.;message_id:S:messageID:The assistant message's uuid.;index:I:index:The index of this delta in the message.;final:B:isFinal:Whether this is the message's last delta.;delta:S:delta:The newly completed lines.
"""

TYPES = {
    "S": ("String", "string"), "I": ("Int", "int"), "D": ("Double", "double"), "B": ("Bool", "bool"),
    "J": ("JSONValue", "value"), "M": ("MCPServerRef", "mcpServer"), "TC": ("[ToolCall]", "toolCalls"),
    "PS": ("[PermissionUpdate]", "permissionUpdates"), "SA": ("[String]", "strings"),
}


def lower_first(name):
    i = 0
    while i < len(name) and name[i].isupper():
        i += 1
    if i > 1 and i < len(name):
        i -= 1
    return name[:i].lower() + name[i:]


def main():
    spec = SPEC
    events = []
    for line in spec.strip().splitlines():
        event, doc, fields = line.split("|", 2)
        parsed = []
        for field in fields.split(";"):
            wire, kind, swift, fdoc = field.split(":", 3)
            optional = kind.endswith("?")
            kind = kind.rstrip("?")
            parsed.append((wire, kind, optional, swift, fdoc))
        events.append((event, doc, parsed))

    out = []
    w = out.append
    w("// Generated by scripts/dev/generate-hook-inputs.py from the hook input schemas of Claude Code 2.1.331. Do not edit.")
    w("")
    w("extension HookInput {")
    for event, doc, fields in events:
        w(f"    /// The input of ``HookEvent/{lower_first(event)}``: {doc[0].lower() + doc[1:]}")
        w(f"    public struct {event}: Sendable, Hashable {{")
        for wire, kind, optional, swift, fdoc in fields:
            swift_type = TYPES[kind][0]
            if kind == "PS":
                optional = False
            w(f"        /// {fdoc.rstrip('.')} (`{wire}`).")
            w(f"        public var {swift}: {swift_type}{'?' if optional else ''}")
        params = []
        for wire, kind, optional, swift, fdoc in fields:
            swift_type = TYPES[kind][0]
            if kind == "PS":
                params.append(f"{swift}: {swift_type} = []")
            elif optional:
                params.append(f"{swift}: {swift_type}? = nil")
            else:
                params.append(f"{swift}: {swift_type}")
        w("")
        w("        /// Creates the input, for tests and previews; the SDK decodes it from the CLI's request.")
        w(f"        public init({', '.join(params)}) {{")
        for wire, kind, optional, swift, fdoc in fields:
            w(f"            self.{swift} = {swift}")
        w("        }")
        w("")
        w("        init(_ fields: HookFields) throws(HookInputError) {")
        for wire, kind, optional, swift, fdoc in fields:
            reader = TYPES[kind][1]
            if kind == "PS":
                w(f"            {swift} = try fields.{reader}(\"{wire}\")")
            elif optional:
                w(f"            {swift} = try fields.optional{reader[0].upper() + reader[1:]}(\"{wire}\")")
            else:
                w(f"            {swift} = try fields.{reader}(\"{wire}\")")
        w("        }")
        w("    }")
        w("")
    w("    /// The event-specific part of a ``HookInput``.")
    w("    public enum Payload: Sendable, Hashable {")
    for event, doc, fields in events:
        w(f"        /// ``HookEvent/{lower_first(event)}``.")
        w(f"        case {lower_first(event)}({event})")
    w("        /// An event this SDK does not know (from a newer CLI): the whole input.")
    w("        case other(JSONValue)")
    w("")
    w("        static func decode(event: HookEvent, fields: HookFields) throws(HookInputError) -> Payload {")
    w("            switch event {")
    for event, doc, fields in events:
        w(f"            case .{lower_first(event)}: return .{lower_first(event)}(try {event}(fields))")
    w("            default: return .other(fields.json)")
    w("            }")
    w("        }")
    w("    }")
    w("}")
    print("\n".join(out))


main()
