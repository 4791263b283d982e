#!/usr/bin/env python3
"""Build a realistic stream-json replay file for throughput benchmarks.

Usage: scripts/bench/make-replay-stream.py OUTPUT FRAMES [--seed N] [--session-id ID]

Writes FRAMES newline-terminated stdout frames shaped like those of the real CLI 2.1.331
(see Tests/ClaudeCodeTests/Fixtures/tool-use-bash-turn.jsonl): mostly ~1.3 KB `assistant`
text frames, with `assistant` tool_use frames each followed by a `user` tool_result frame.
Text holds escapes (\\n, quotes, backslashes) and non-ASCII characters, like real output.
No `result` frame is written: `fake-claude` (FAKE_CLAUDE_SCENARIO=replay) appends one per turn.
The output is deterministic for a given seed.
"""

import argparse
import json
import random
import uuid

WORDS = ("the of and to in is that for it as with was on be by this are from or an at which "
         "swift actor task stream frame session protocol buffer decode encode parse json line "
         "message result error retry timeout cancel interrupt transcript tool bash read write "
         "résumé naïve café — “quoted” → ✓ 日本語 🚀").split()

TOOLS = (
    ("Bash", lambda r: {"command": r.choice(["ls -la", "git status", "swift build", "cat Package.swift",
                                            "grep -rn TODO Sources"]), "description": "run"}),
    ("Read", lambda r: {"file_path": f"/work/project/Sources/Module/File{r.randint(1, 99)}.swift"}),
    ("Grep", lambda r: {"pattern": r.choice(["func ", "struct ", "actor "]), "path": "Sources"}),
)


def sentence(rng, words):
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[:1].upper() + text[1:] + "."


def paragraph_text(rng, target):
    parts = []
    size = 0
    while size < target:
        s = sentence(rng, rng.randint(6, 18))
        if rng.random() < 0.15:
            s += ' Use `let x = "value\\n"` here.'
        if rng.random() < 0.1:
            s += "\n\n```swift\nlet path = \"C:\\\\tmp\"\n```\n"
        parts.append(s)
        size += len(s) + 1
    return " ".join(parts)[:target]


class Builder:
    def __init__(self, rng, session_id):
        self.rng = rng
        self.session_id = session_id
        self.message_number = 0
        self.clock = 0

    def uuid(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def timestamp(self):
        self.clock += self.rng.randint(5, 400)
        seconds, millis = divmod(self.clock, 1000)
        minutes, seconds = divmod(seconds, 60)
        return f"2026-11-24T16:{minutes % 60:02d}:{seconds:02d}.{millis:03d}Z"

    def assistant(self, block, new_message=True):
        if new_message:
            self.message_number += 1
        n = self.message_number
        return {
            "type": "assistant",
            "message": {
                "id": f"msg_fake_{n:06d}", "type": "message", "role": "assistant", "model": "claude-opus-5-5",
                "content": [block], "stop_reason": None, "stop_sequence": None,
                "usage": {"input_tokens": 10000 + 37 * n, "cache_creation_input_tokens": 0,
                          "cache_read_input_tokens": 0, "output_tokens": 1, "service_tier": "standard"},
                "context_management": None,
            },
            "parent_tool_use_id": None, "session_id": self.session_id, "uuid": self.uuid(),
            "timestamp": self.timestamp(), "request_id": f"req_fake_{n:06d}",
        }

    def text_frame(self):
        # About 1.3 KB per frame in total: ~560 bytes of envelope plus the text.
        return self.assistant({"type": "text", "text": paragraph_text(self.rng, self.rng.randint(620, 860))})

    def tool_frames(self):
        name, make_input = self.rng.choice(TOOLS)
        tool_id = f"toolu_fake_{self.message_number + 1:06d}"
        call = self.assistant({"type": "tool_use", "id": tool_id, "name": name, "input": make_input(self.rng)})
        output = "\n".join(
            f"{self.rng.choice(['-rw-r--r--', 'drwxr-xr-x'])} 1 root root {self.rng.randint(10, 99999):>6} "
            f"Nov 24 16:{self.rng.randint(0, 59):02d} {self.rng.choice(WORDS)}_{i}.swift"
            for i in range(self.rng.randint(4, 30)))
        result = {
            "type": "user",
            "message": {"role": "user", "content": [
                {"tool_use_id": tool_id, "type": "tool_result", "content": output, "is_error": False}]},
            "parent_tool_use_id": None, "session_id": self.session_id, "uuid": self.uuid(),
            "timestamp": self.timestamp(),
            "tool_use_result": {"stdout": output, "stderr": "", "interrupted": False, "isImage": False,
                                "noOutputExpected": False},
            "tool_result_meta": [{"id": tool_id, "permission_decision": {
                "decision": "accept", "source": "config", "reason_type": "mode"}}],
        }
        return [call, result]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output")
    parser.add_argument("frames", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--session-id", default="11111111-2222-4333-8444-555555555555")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    builder = Builder(rng, args.session_id)
    written = 0
    total_bytes = 0
    with open(args.output, "w", encoding="utf-8", newline="\n") as out:
        while written < args.frames:
            if args.frames - written >= 2 and rng.random() < 0.2:
                frames = builder.tool_frames()
            else:
                frames = [builder.text_frame()]
            for frame in frames:
                line = json.dumps(frame, ensure_ascii=False, separators=(",", ":")) + "\n"
                out.write(line)
                total_bytes += len(line.encode())
                written += 1
    print(f"wrote {written} frames, {total_bytes} bytes ({total_bytes / max(written, 1):.0f} B/frame) "
          f"to {args.output}")


if __name__ == "__main__":
    main()
