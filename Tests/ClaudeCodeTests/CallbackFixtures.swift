import Foundation
import Testing

@testable import ClaudeCode

/// The control requests recorded from the real CLI 2.1.331 by `scripts/dev/capture-hook-fixtures.py`.
enum CallbackFixtures {
    static func frames(_ name: String) throws -> [JSONValue] {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "jsonl"))
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONValue.parse(String($0)) }
    }

    /// Every control_request frame of both hook fixtures.
    static func controlRequests() throws -> [JSONValue] {
        try (frames("hooks-all-events") + frames("hooks-more-events")).filter { $0["type"] == "control_request" }
    }

    /// The first recorded `hook_callback` request frame per hook event.
    static func hookRequestsByEvent() throws -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for frame in try controlRequests() where frame["request"]?["subtype"] == "hook_callback" {
            if let event = frame["request"]?["input"]?["hook_event_name"]?.stringValue, result[event] == nil {
                result[event] = frame
            }
        }
        return result
    }

    /// The first recorded `can_use_tool` request frame for `tool`.
    static func permissionRequest(tool: String) throws -> JSONValue {
        try #require(
            try controlRequests().first {
                $0["request"]?["subtype"] == "can_use_tool" && $0["request"]?["tool_name"]?.stringValue == tool
            })
    }

    /// The 16 events the real CLI fired offline in the captures.
    static let recordedEvents: Set<String> = [
        "PreToolUse", "PostToolUse", "PostToolUseFailure", "PostToolBatch", "UserPromptSubmit", "UserPromptExpansion",
        "Stop", "StopFailure", "SubagentStart", "SubagentStop", "PreCompact", "PreModelSwitch", "PostModelSwitch",
        "PermissionRequest", "WorktreeCreate", "MessageDisplay",
    ]

    static let base: [String: JSONValue] = [
        "session_id": "s-1", "transcript_path": "/h/.claude/projects/-w/s-1.jsonl", "cwd": "/w",
        "permission_mode": "default",
    ]

    /// Inputs for the 17 events the CLI cannot be made to fire offline, built from the hook input
    /// schemas in the CLI 2.1.331 binary (every required field, some optional ones).
    static let schemaInputs: [String: [String: JSONValue]] = [
        "Notification": [
            "message": "Claude needs your permission", "title": "Permission", "notification_type": "permission_prompt",
        ],
        "SessionStart": [
            "source": "resume", "model": "claude-opus-5-5", "seconds_since_last_response": 12.5, "context_tokens": 4096,
            "prompt_cache_likely_expired": false,
        ],
        "SessionEnd": ["reason": "prompt_input_exit"],
        "PostCompact": ["trigger": "auto", "compact_summary": "We talked about tests."],
        "PermissionDenied": [
            "tool_name": "Bash", "tool_input": ["command": "rm -rf /"], "tool_use_id": "toolu_1",
            "reason": "classifier said no",
        ],
        "Setup": ["trigger": "init"],
        "TeammateIdle": ["teammate_name": "reviewer", "team_name": "t"],
        "TaskCreated": ["task_id": "task-1", "task_subject": "Write docs", "task_description": "All of them"],
        "TaskCompleted": ["task_id": "task-1", "task_subject": "Write docs", "teammate_name": "writer"],
        "Elicitation": [
            "mcp_server_name": "db", "message": "Which table?", "mode": "form", "requested_schema": ["type": "object"],
        ],
        "ElicitationResult": ["mcp_server_name": "db", "action": "accept", "content": ["table": "users"]],
        "ConfigChange": ["source": "project_settings", "file_path": "/w/.claude/settings.json"],
        "WorktreeRemove": ["worktree_path": "/w/worktrees/wt1"],
        "InstructionsLoaded": [
            "file_path": "/w/CLAUDE.md", "memory_type": "Project", "load_reason": "session_start", "globs": ["*.swift"],
        ],
        "CwdChanged": ["old_cwd": "/w", "new_cwd": "/w/sub"],
        "FileChanged": ["file_path": "/w/Package.swift", "event": "change"],
        "DirectoryAdded": ["directory": "/other", "source": "register_repo_root"],
    ]

    /// A complete hook input object for an event of ``schemaInputs``.
    static func schemaInput(_ event: String) -> JSONValue {
        var object = base
        object["hook_event_name"] = .string(event)
        object.merge(schemaInputs[event] ?? [:]) { _, new in new }
        return .object(object)
    }
}
