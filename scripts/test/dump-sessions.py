#!/usr/bin/env python3
"""Run the official Python SDK's session functions and dump their results as JSON.

Reference side of the differential tests (Tests/ClaudeCodeSessionsTests/
CLITranscriptsDifferentialTests.swift) and of scripts/bench/transcripts.sh.

Usage:
    dump-sessions.py PLAN.json            # run the operations, print {"results": [...]}
    dump-sessions.py --bench PROJECT_DIR SESSION_ID REPEATS [list|read]
                                           # time list_sessions and/or get_session_messages:
                                           # medians of wall and CPU time, and peak RSS

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


def _peak_rss_bytes() -> int:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # kilobytes on Linux


def _median(values: list[float]) -> float:
    import statistics

    return statistics.median(values) if values else 0.0


def bench(project_dir: str, session_id: str, repeats: int, only: str | None = None) -> None:
    import claude_agent_sdk as sdk

    rss_before = _peak_rss_bytes()
    list_wall: list[float] = []
    list_cpu: list[float] = []
    read_wall: list[float] = []
    read_cpu: list[float] = []
    listed = 0
    read = 0
    touched = 0
    for _ in range(repeats):
        if only != "read":
            start, cpu = time.perf_counter(), time.process_time()
            sessions = sdk.list_sessions(directory=project_dir, include_worktrees=False)
            list_wall.append(time.perf_counter() - start)
            list_cpu.append(time.process_time() - cpu)
            listed = len(sessions)
        if only == "list":
            continue

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
        read_wall.append(time.perf_counter() - start)
        read_cpu.append(time.process_time() - cpu)
        read = len(messages)
        touched = count
    json.dump(
        {
            "list_seconds": _median(list_wall), "list_cpu_seconds": _median(list_cpu), "sessions": listed,
            "read_seconds": _median(read_wall), "read_cpu_seconds": _median(read_cpu), "messages": read,
            "touched": touched, "rss_before_bytes": rss_before, "peak_rss_bytes": _peak_rss_bytes(),
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--bench":
        bench(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] if len(sys.argv) > 5 else None)
    else:
        run_plan(sys.argv[1])
