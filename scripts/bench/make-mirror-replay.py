#!/usr/bin/env python3
"""Add the CLI's transcript_mirror frames to a replay stream (see make-replay-stream.py).

Usage: scripts/bench/make-mirror-replay.py INPUT OUTPUT [--projects-dir DIR] [--project-key KEY]

After every `assistant` and `user` frame of INPUT it writes the frame the real CLI 2.1.331 sends with
`--session-mirror` when it appends that message to its transcript:
`{"type":"transcript_mirror","filePath":"<DIR>/<KEY>/<session>.jsonl","entries":[<line>]}`, where
<line> is shaped like the CLI's own transcript line for the message (parentUuid, isSidechain, the message,
type, uuid, timestamp, userType, entrypoint, cwd, sessionId, version, gitBranch, requestId for
assistants, toolUseResult for tool results) — so the mirrored bytes are about the message's own size plus
~350 bytes, as observed. The messages themselves are unchanged, so a client reading OUTPUT with a
session store must deliver exactly the messages of a client reading INPUT without one.
"""

import argparse
import json


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--projects-dir", default="/bench-home/.claude/projects")
    parser.add_argument("--project-key", default="-bench-project")
    args = parser.parse_args()

    parent = None
    frames = mirrors = 0
    with open(args.input, encoding="utf-8") as source, open(args.output, "w", encoding="utf-8", newline="\n") as out:
        for line in source:
            out.write(line)
            frames += 1
            frame = json.loads(line)
            if frame.get("type") not in ("assistant", "user"):
                continue
            session = frame.get("session_id") or "11111111-2222-4333-8444-555555555555"
            entry = {
                "parentUuid": parent, "isSidechain": False, "message": frame["message"], "type": frame["type"],
                "uuid": frame.get("uuid"), "timestamp": frame.get("timestamp"), "userType": "external",
                "entrypoint": "sdk-cli", "cwd": "/work/project", "sessionId": session, "version": "2.1.331",
                "gitBranch": "main",
            }
            if frame["type"] == "assistant":
                entry["requestId"] = frame.get("request_id")
            if "tool_use_result" in frame:
                entry["toolUseResult"] = frame["tool_use_result"]
            parent = frame.get("uuid")
            mirror = {"type": "transcript_mirror", "filePath": f"{args.projects_dir}/{args.project_key}/{session}.jsonl",
                      "entries": [entry]}
            out.write(json.dumps(mirror, ensure_ascii=False, separators=(",", ":")) + "\n")
            mirrors += 1
    print(f"{frames} frames, {mirrors} transcript_mirror frames added, written to {args.output}")


if __name__ == "__main__":
    main()
