#!/usr/bin/env python3
"""Capture golden stream-json fixtures from the real Claude Code CLI.

Runs the pinned real CLI (scripts/setup/install-claude-cli.sh) in SDK mode against the
`fake-messages-api` executable (swift build --product fake-messages-api) and saves the
raw stdout lines of each scenario, exactly as emitted, to
Tests/ClaudeCodeTests/Fixtures/<scenario>.jsonl. A manifest.json next to them records,
per scenario, the CLI arguments, the stdin lines written, the exit code and stderr.

Usage: scripts/dev/capture-fixtures.py [--cli PATH] [--server PATH] [--out DIR] [scenario ...]
Everything runs on 127.0.0.1 inside throwaway HOME/TMPDIR folders that are removed afterwards.
"""

import argparse
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
CLI_VERSION = "2.1.331"
TIMEOUT = 30.0

SDK_ARGS = ["--output-format", "stream-json", "--verbose", "--system-prompt", ""]
INPUT_ARGS = ["--input-format", "stream-json"]


def user(text):
    return {"type": "user", "message": {"role": "user", "content": text},
            "parent_tool_use_id": None, "session_id": "default"}


def control(request_id, subtype, **fields):
    return {"type": "control_request", "request_id": request_id, "request": {"subtype": subtype, **fields}}


INITIALIZE = control("req_1_init", "initialize", hooks=None)


class CLIRun:
    """One CLI process with a reader thread; stdout lines are kept raw (bytes, minus the newline)."""

    def __init__(self, cli, base_url, extra_args, env_overrides=None):
        self.root = os.path.realpath(tempfile.mkdtemp(prefix="cc-fixture-"))
        for name in ("home", "tmp", "work"):
            os.mkdir(os.path.join(self.root, name))
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.path.join(self.root, "home"),
            "TMPDIR": os.path.join(self.root, "tmp"),
            "ANTHROPIC_BASE_URL": base_url,
            "ANTHROPIC_API_KEY": "sk-test",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "CLAUDE_CODE_MAX_RETRIES": "0",
            "IS_SANDBOX": "1",
            # What the Python SDK 0.2.188 sets for the CLI it spawns.
            "CLAUDE_CODE_ENTRYPOINT": "sdk-py",
            "CLAUDE_AGENT_SDK_VERSION": "0.2.188",
            "CLAUDE_CODE_SDK_READS_SESSION_STATE": "1",
        }
        env.update(env_overrides or {})
        self.args = SDK_ARGS + extra_args + INPUT_ARGS
        self.stdin_lines = []
        self.lines = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(
            [cli] + self.args, cwd=os.path.join(self.root, "work"), env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.stderr_chunks = []
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stdout(self):
        for raw in self.proc.stdout:
            with self.cond:
                self.lines.append(raw.rstrip(b"\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def _read_stderr(self):
        for raw in self.proc.stderr:
            self.stderr_chunks.append(raw)

    def send(self, obj):
        line = json.dumps(obj)
        self.stdin_lines.append(line)
        try:
            self.proc.stdin.write(line.encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass

    def close_stdin(self):
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass

    def parsed(self, start=0):
        out = []
        for raw in self.lines[start:]:
            try:
                out.append(json.loads(raw))
            except ValueError:
                out.append(None)
        return out

    def wait_for(self, predicate, what, start=0):
        """Waits (bounded) until predicate(parsed lines from start) is true; returns the line count then."""
        deadline = time.monotonic() + TIMEOUT
        with self.cond:
            while True:
                if predicate(self.parsed(start)):
                    return len(self.lines)
                if self.proc.poll() is not None and predicate(self.parsed(start)) is False:
                    # Process gone; give the reader a moment to drain, then fail.
                    self.cond.wait(0.2)
                    if predicate(self.parsed(start)):
                        return len(self.lines)
                    raise RuntimeError(f"CLI exited ({self.proc.returncode}) before {what}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RuntimeError(f"timed out waiting for {what}")
                self.cond.wait(min(remaining, 0.5))

    def finish(self):
        self.close_stdin()
        try:
            code = self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        time.sleep(0.1)  # let the reader threads drain the pipes after exit
        return code

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def has_result(n=1):
    return lambda frames: sum(1 for f in frames if f and f.get("type") == "result") >= n


def has_control_response(request_id):
    return lambda frames: any(f and f.get("type") == "control_response"
                              and f.get("response", {}).get("request_id") == request_id for f in frames)


def tick_deltas(n):
    def check(frames):
        count = 0
        for f in frames:
            if f and f.get("type") == "stream_event":
                delta = f.get("event", {}).get("delta", {})
                if delta.get("type") == "text_delta" and delta.get("text", "").startswith("tick "):
                    count += 1
        return count >= n
    return check


# Each scenario: (extra CLI args, env overrides, driver(run)).
def drive_text(run):
    run.send(INITIALIZE)
    run.wait_for(has_control_response("req_1_init"), "initialize response")
    run.send(user("hello"))
    run.wait_for(has_result(), "result")


def drive_tool(run):
    run.send(INITIALIZE)
    run.wait_for(has_control_response("req_1_init"), "initialize response")
    run.send(user("use tool Bash: echo hi"))
    run.wait_for(has_result(), "result")


def drive_interrupt(run):
    run.send(INITIALIZE)
    run.wait_for(has_control_response("req_1_init"), "initialize response")
    run.send(user("slow FAKE:slow"))
    run.wait_for(tick_deltas(3), "three tick deltas")
    run.send(control("req_int_1", "interrupt"))
    run.wait_for(has_result(), "interrupted result")
    run.send(user("after interrupt"))
    run.wait_for(has_result(2), "follow-up result")


def drive_thinking(run):
    run.send(INITIALIZE)
    run.wait_for(has_control_response("req_1_init"), "initialize response")
    run.send(user("think first FAKE:thinking"))
    run.wait_for(has_result(), "result")


def drive_api_error(run):
    run.send(INITIALIZE)
    run.wait_for(has_control_response("req_1_init"), "initialize response")
    run.send(user("FAKE:500"))
    run.wait_for(has_result(), "error result")


def drive_controls(run):
    run.send(INITIALIZE)
    run.wait_for(has_control_response("req_1_init"), "initialize response")
    run.send(control("req_2_mode", "set_permission_mode", mode="acceptEdits"))
    run.wait_for(has_control_response("req_2_mode"), "set_permission_mode response")
    run.send(control("req_3_model", "set_model", model="claude-sonnet-4-5"))
    run.wait_for(has_control_response("req_3_model"), "set_model response")
    run.send(user("hello after controls"))
    run.wait_for(has_result(), "result")


def drive_unknown_resume(run):
    run.send(INITIALIZE)
    run.wait_for(has_result(), "resume error result")


UNKNOWN_SESSION = "00000000-0000-4000-8000-000000000000"

SCENARIOS = {
    "text-turn": ([], {}, drive_text),
    "tool-use-bash-turn": ([], {}, drive_tool),
    "partial-messages-turn": (["--include-partial-messages"], {}, drive_text),
    "interrupt-slow-turn": (["--include-partial-messages"], {}, drive_interrupt),
    "thinking-turn": ([], {}, drive_thinking),
    "api-error-500": ([], {"CLAUDE_CODE_MAX_RETRIES": "0"}, drive_api_error),
    "control-set-permission-mode-and-model": ([], {}, drive_controls),
    "resume-unknown-session": ([f"--resume={UNKNOWN_SESSION}"], {}, drive_unknown_resume),
}


def start_server(path):
    proc = subprocess.Popen([path, "--slow-tick-ms", "200"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    port = proc.stdout.readline().decode().strip()
    if not port.isdigit():
        proc.kill()
        raise RuntimeError(f"fake-messages-api did not print a port (got {port!r})")
    return proc, f"http://127.0.0.1:{port}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cli", default=os.path.join(REPO, ".claude-cli", CLI_VERSION, "claude"))
    parser.add_argument("--server", default=os.path.join(REPO, ".build", "debug", "fake-messages-api"))
    parser.add_argument("--out", default=os.path.join(REPO, "Tests", "ClaudeCodeTests", "Fixtures"))
    parser.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    args = parser.parse_args()

    for path, hint in ((args.cli, "scripts/setup/install-claude-cli.sh"),
                       (args.server, "swift build --product fake-messages-api")):
        if not os.access(path, os.X_OK):
            sys.exit(f"{path} not found; run {hint}")

    os.makedirs(args.out, exist_ok=True)
    manifest_path = os.path.join(args.out, "manifest.json")
    manifest = {}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = json.load(f)

    server, base_url = start_server(args.server)
    try:
        for name in args.scenarios:
            extra, env, driver = SCENARIOS[name]
            run = CLIRun(args.cli, base_url, extra, env)
            try:
                driver(run)
                code = run.finish()
                with open(os.path.join(args.out, f"{name}.jsonl"), "wb") as f:
                    for raw in run.lines:
                        f.write(raw + b"\n")
                manifest[name] = {
                    "file": f"{name}.jsonl",
                    "cli_version": CLI_VERSION,
                    "args": run.args,
                    "env_overrides": env,
                    "stdin": run.stdin_lines,
                    "exit_code": code,
                    "stderr": b"".join(run.stderr_chunks).decode(errors="replace")[-2000:],
                    "stdout_lines": len(run.lines),
                }
                print(f"{name}: {len(run.lines)} lines, exit {code}")
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
