#!/usr/bin/env python3
"""Capture the control traffic of hooks, permission prompts and an SDK MCP server from the real CLI.

Like scripts/dev/capture-fixtures.py (whose CLIRun it reuses), but the initialize registers a callback
for every hook event Claude Code 2.1.331 knows (matcher null), declares an SDK MCP server, and the
script plays the SDK: it answers each hook_callback with {} (or with the scenario's answer), each
can_use_tool with allow (or deny), and each mcp_message as a tiny MCP server would. The raw stdout
lines (hook_callback, can_use_tool and mcp_message control requests included) go to
Tests/ClaudeCodeTests/Fixtures/hooks-<scenario>.jsonl, and the stdin lines written to the manifest.

Usage: scripts/dev/capture-hook-fixtures.py [--cli PATH] [--server PATH] [--out DIR] [scenario ...]
"""

import argparse
import importlib.util
import json
import os
import sys
import threading

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
spec = importlib.util.spec_from_file_location("capture", os.path.join(REPO, "scripts", "capture-fixtures.py"))
capture = importlib.util.module_from_spec(spec)
spec.loader.exec_module(capture)

EVENTS = [
    "PreToolUse", "PostToolUse", "PostToolUseFailure", "PostToolBatch", "Notification", "UserPromptSubmit",
    "UserPromptExpansion", "SessionStart", "SessionEnd", "Stop", "StopFailure", "SubagentStart", "SubagentStop",
    "PreCompact", "PostCompact", "PreModelSwitch", "PostModelSwitch", "PermissionRequest", "PermissionDenied",
    "Setup", "TeammateIdle", "TaskCreated", "TaskCompleted", "Elicitation", "ElicitationResult", "ConfigChange",
    "WorktreeCreate", "WorktreeRemove", "InstructionsLoaded", "CwdChanged", "FileChanged", "DirectoryAdded",
    "MessageDisplay",
]
HOOKS = {event: [{"matcher": None, "hookCallbackIds": [f"hook_{i}"]}] for i, event in enumerate(EVENTS)}
MCP_CONFIG = json.dumps({"mcpServers": {"calc": {"type": "sdk", "name": "calc"}}})
ADD_TOOL = {"name": "add", "description": "Adds two numbers",
            "inputSchema": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
                            "required": ["a", "b"]}}


class Responder:
    """Answers the CLI's control requests on a thread, as an SDK would."""

    def __init__(self, run, deny_tools=(), hook_answers=None):
        self.run = run
        self.deny_tools = set(deny_tools)
        self.hook_answers = hook_answers or {}
        self.seen = 0
        self.stop = False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stop:
            with self.run.cond:
                frames = self.run.parsed(self.seen)
                self.seen += len(frames)
                if not frames:
                    self.run.cond.wait(0.2)
            for frame in frames:
                if frame and frame.get("type") == "control_request":
                    self.answer(frame)

    def answer(self, frame):
        request = frame["request"]
        subtype = request.get("subtype")
        if subtype == "hook_callback":
            answer = self.hook_answers.get(request.get("input", {}).get("hook_event_name"))
            response = answer(request["input"]) if answer else {}
        elif subtype == "can_use_tool":
            if request.get("tool_name") in self.deny_tools:
                response = {"behavior": "deny", "message": "denied by the capture script"}
            else:
                response = {"behavior": "allow", "updatedInput": request.get("input", {})}
        elif subtype == "mcp_message":
            message = request["message"]
            method = message.get("method")
            if "id" not in message:
                rpc = {"jsonrpc": "2.0", "result": {}}
            elif method == "initialize":
                rpc = {"jsonrpc": "2.0", "id": message["id"], "result": {
                    "protocolVersion": message["params"]["protocolVersion"], "capabilities": {"tools": {}},
                    "serverInfo": {"name": "calc", "version": "1.0.0"}}}
            elif method == "tools/list":
                rpc = {"jsonrpc": "2.0", "id": message["id"], "result": {"tools": [ADD_TOOL]}}
            elif method == "tools/call":
                args = message["params"].get("arguments", {})
                rpc = {"jsonrpc": "2.0", "id": message["id"], "result": {
                    "content": [{"type": "text", "text": str(args.get("a", 0) + args.get("b", 0))}]}}
            else:
                rpc = {"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32601, "message": "nope"}}
            response = {"mcp_response": rpc}
        else:
            return
        try:
            self.run.send({"type": "control_response",
                           "response": {"subtype": "success", "request_id": frame["request_id"], "response": response}})
        except ValueError:
            pass  # stdin already closed: the CLI sent this while shutting down

    def close(self):
        self.stop = True
        with self.run.cond:
            self.run.cond.notify_all()
        self.thread.join(timeout=2)


def initialize(run):
    run.send(capture.control("req_1_init", "initialize", hooks=HOOKS))
    run.wait_for(capture.has_control_response("req_1_init"), "initialize response")


def drive_tools(run):
    """Prompt, allowed Bash, denied Bash, failing Read, SDK MCP tool, subagent, model switch, API error."""
    responder = Responder(run, deny_tools={"Write"})
    try:
        initialize(run)
        work = os.path.join(run.root, "work")
        turns = [
            f"use tool Bash: touch {work}/allowed",
            'use tool Write: {"file_path": "' + work + '/denied.txt", "content": "x"}',
            'use tool Read: {"file_path": "' + work + '/missing.txt"}',
            'use tool mcp__calc__add: {"a": 2, "b": 3}',
            "use tool Bash: cd /tmp && pwd",
            'use tool Task: {"description": "sub", "prompt": "say hi", "subagent_type": "general-purpose"}',
        ]
        for n, text in enumerate(turns, start=1):
            run.send(capture.user(text))
            run.wait_for(capture.has_result(n), f"result {n}")
        run.send(capture.control("req_2_model", "set_model", model="claude-sonnet-4-5"))
        run.wait_for(capture.has_control_response("req_2_model"), "set_model response")
        run.send(capture.user("FAKE:500"))
        run.wait_for(capture.has_result(len(turns) + 1), "error result")
        run.send(capture.user("/compact"))
        run.wait_for(capture.has_result(len(turns) + 2), "compact result")
    finally:
        run.close_stdin()
        run.proc.wait(timeout=capture.TIMEOUT)
        responder.close()


def make_worktree(hook_input):
    path = os.path.join(hook_input["cwd"], "..", "worktrees", hook_input["name"])
    os.makedirs(path, exist_ok=True)
    return {"hookSpecificOutput": {"hookEventName": "WorktreeCreate", "worktreePath": os.path.realpath(path)}}


def drive_more(run):
    """Default permission mode (denials without a prompt), a custom slash command, cd, worktrees."""
    work = os.path.join(run.root, "work")
    os.makedirs(os.path.join(work, ".claude", "commands"))
    with open(os.path.join(work, ".claude", "commands", "greet.md"), "w") as f:
        f.write("Say hello to $ARGUMENTS.\n")
    os.makedirs(os.path.join(work, "sub"))
    responder = Responder(run, hook_answers={"WorktreeCreate": make_worktree})
    try:
        initialize(run)
        turns = [
            "/greet world",
            f"use tool Bash: touch {work}/denied-without-prompt",
            f"use tool Bash: cd {work}/sub",
            'use tool EnterWorktree: {"name": "wt1"}',
            'use tool ExitWorktree: {"action": "remove", "discard_changes": true}',
        ]
        for n, text in enumerate(turns, start=1):
            run.send(capture.user(text))
            run.wait_for(capture.has_result(n), f"result {n}")
    finally:
        run.close_stdin()
        run.proc.wait(timeout=capture.TIMEOUT)
        responder.close()


SCENARIOS = {
    "hooks-all-events": (["--permission-prompt-tool", "stdio", "--mcp-config", MCP_CONFIG,
                          "--allowedTools", "mcp__calc__add"], {}, drive_tools),
    "hooks-more-events": (["--setting-sources=user,project,local"], {}, drive_more),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cli", default=os.path.join(REPO, ".claude-cli", capture.CLI_VERSION, "claude"))
    parser.add_argument("--server", default=os.path.join(REPO, ".build", "debug", "fake-messages-api"))
    parser.add_argument("--out", default=os.path.join(REPO, "Tests", "ClaudeCodeTests", "Fixtures"))
    parser.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    args = parser.parse_args()
    for path in (args.cli, args.server):
        if not os.access(path, os.X_OK):
            sys.exit(f"{path} not found")
    manifest_path = os.path.join(args.out, "manifest.json")
    with open(manifest_path) as f:
        manifest = json.load(f)
    server, base_url = capture.start_server(args.server)
    try:
        for name in args.scenarios:
            extra, env, driver = SCENARIOS[name]
            run = capture.CLIRun(args.cli, base_url, extra, env)
            with open(os.path.join(run.root, "work", "CLAUDE.md"), "w") as f:
                f.write("Project notes for the capture.\n")
            try:
                driver(run)
                code = run.finish()
                with open(os.path.join(args.out, f"{name}.jsonl"), "wb") as f:
                    for raw in run.lines:
                        f.write(raw + b"\n")
                manifest[name] = {
                    "file": f"{name}.jsonl", "cli_version": capture.CLI_VERSION, "args": run.args,
                    "env_overrides": env, "stdin": run.stdin_lines, "exit_code": code,
                    "stderr": b"".join(run.stderr_chunks).decode(errors="replace")[-2000:],
                    "stdout_lines": len(run.lines),
                }
                events = sorted({json.loads(raw).get("request", {}).get("input", {}).get("hook_event_name", "")
                                 for raw in run.lines if b'"hook_callback"' in raw} - {""})
                print(f"{name}: {len(run.lines)} lines, exit {code}, hook events: {', '.join(events)}")
            finally:
                run.cleanup()
    finally:
        server.kill()
        server.wait()
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
