import Foundation

/// A session file written by the Python original (`claude-code-session-client` 0.0.1,
/// `SimpleSessionPersistence.save_session`), captured verbatim (U+2028 written raw).
enum PythonOriginalFixture {
    static let sessionID = "2aecab00-6512-4e29-9da3-9321cac6eb2a"
    static let json = #"""
        {
          "session_id": "2aecab00-6512-4e29-9da3-9321cac6eb2a",
          "start_time": "2025-07-30T15:25:31.069594",
          "last_activity": "2025-07-30T15:27:45.123456",
          "conversation_history": [
            {
              "message_type": "SystemMessage",
              "subtype": "init",
              "data": {
                "type": "system",
                "subtype": "init",
                "cwd": "/path/to/work"
              }
            },
            {
              "message_type": "AssistantMessage",
              "content": [
                {
                  "type": "TextBlock",
                  "text": "Hello Alice — ünïcode\#u{2028}",
                  "id": null,
                  "name": null,
                  "input": null,
                  "tool_use_id": null,
                  "is_error": null
                },
                {
                  "type": "ToolUseBlock",
                  "text": null,
                  "id": "toolu_1",
                  "name": "Bash",
                  "input": {
                    "command": "ls"
                  },
                  "tool_use_id": null,
                  "is_error": null
                }
              ]
            },
            {
              "message_type": "UserMessage",
              "content": "plain user text"
            },
            {
              "message_type": "ResultMessage",
              "subtype": "success",
              "duration_ms": 10,
              "duration_api_ms": 5,
              "is_error": false,
              "num_turns": 1,
              "session_id": "2aecab00-6512-4e29-9da3-9321cac6eb2a",
              "total_cost_usd": 0.01,
              "usage": {
                "input_tokens": 1
              },
              "result": "done"
            }
          ],
          "working_directory": "/path/to/work",
          "options": {
            "model": "claude-sonnet-4",
            "allowed_tools": [
              "Read"
            ],
            "permission_mode": "acceptEdits"
          }
        }
        """#
}
