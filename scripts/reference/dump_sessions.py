#!/usr/bin/env python3
"""Run the official Python SDK's session functions and dump their results as JSON.

Reference side of the differential tests (Tests/ClaudeCodeSessionsTests/
CLITranscriptsDifferentialTests.swift) and of scripts/bench-transcripts.sh.

Usage:
    dump_sessions.py PLAN.json            # run the operations, print {"results": [...]}
    dump_sessions.py --bench PROJECT_DIR SESSION_ID REPEATS
                                           # time list_sessions and get_session_messages

The config directory comes from CLAUDE_CONFIG_DIR (set it in the environment, as the
Python SDK's readers use only the process environment).

PLAN.json is {"operations": [{"op": NAME, "args": {...}}, ...]}. NAME is one of the SDK
functions (list_sessions, get_session_info, get_session_messages, list_subagents,
get_subagent_messages, rename_session, tag_session, delete_session, fork_session) or
"sanitize_path" (the SDK's internal folder-name function). Each result is
{"ok": value} or {"error": {"type": ..., "message": ...}}.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time


def _to_json(value):
    if dataclasses.is_dataclass(value):
        return {key: _to_json(item) for key, item in dataclasses.asdict(value).items()}
    if isinstance(value, list):
        return [_to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _to_json(item) for key, item in value.items()}
    return value


def run_plan(path: str) -> None:
    import claude_agent_sdk as sdk
    from claude_agent_sdk._internal import sessions as internal

    functions = {
        "list_sessions": sdk.list_sessions,
        "get_session_info": sdk.get_session_info,
        "get_session_messages": sdk.get_session_messages,
        "list_subagents": sdk.list_subagents,
        "get_subagent_messages": sdk.get_subagent_messages,
        "rename_session": sdk.rename_session,
        "tag_session": sdk.tag_session,
        "delete_session": sdk.delete_session,
        "fork_session": sdk.fork_session,
        "sanitize_path": lambda path: internal._sanitize_path(path),
    }
    with open(path, encoding="utf-8") as handle:
        plan = json.load(handle)
    results = []
    for operation in plan["operations"]:
        function = functions[operation["op"]]
        try:
            value = function(**operation.get("args", {}))
            results.append({"ok": _to_json(value)})
        except Exception as error:  # noqa: BLE001 - every failure is data here
            results.append({"error": {"type": type(error).__name__, "message": str(error)}})
    json.dump({"results": results}, sys.stdout, ensure_ascii=True)
    sys.stdout.write("\n")


def bench(project_dir: str, session_id: str, repeats: int) -> None:
    import claude_agent_sdk as sdk

    best_list = float("inf")
    best_read = float("inf")
    cpu_list = float("inf")
    cpu_read = float("inf")
    listed = 0
    touched = 0
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        sessions = sdk.list_sessions(directory=project_dir, include_worktrees=False)
        best_list = min(best_list, time.perf_counter() - start)
        cpu_list = min(cpu_list, time.process_time() - cpu)
        listed = len(sessions)

        start, cpu = time.perf_counter(), time.process_time()
        messages = sdk.get_session_messages(session_id, directory=project_dir)
        # Touch every message's content, as the Swift consumer does.
        count = 0
        for message in messages:
            content = message.message.get("content") if isinstance(message.message, dict) else None
            if isinstance(content, str):
                count += len(content)
            elif isinstance(content, list):
                for block in content:
                    if isinstance(block, dict):
                        count += len(block)
        best_read = min(best_read, time.perf_counter() - start)
        cpu_read = min(cpu_read, time.process_time() - cpu)
        touched = len(messages)
    json.dump(
        {
            "list_seconds": best_list, "list_cpu_seconds": cpu_list, "sessions": listed,
            "read_seconds": best_read, "read_cpu_seconds": cpu_read, "messages": touched,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--bench":
        bench(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        run_plan(sys.argv[1])
