#!/usr/bin/env python3
"""Per-message persistence cost of the Python original (claude-code-session-client 0.0.1).

Reads the frame stream written by `records-benchmark --frames-out` (one
{"direction": ..., "raw": <frame>} per line), converts each frame to the claude-code-sdk
message object the Python SessionPersistentClient would have recorded, and measures what
persisting message N costs: SessionPersistentClient calls `SessionData.add_message` and then
`SimpleSessionPersistence.save_session` after every message, and save_session rewrites the
whole file. The cost at message N therefore depends only on N, so for each point N the
session is filled in memory with the first N-1 messages and then messages N, N+1, ... are
added and saved one at a time; the median is reported. (Streaming all 10,000 messages for
real would take hours: the total work is quadratic.)

Prompts (direction "sent") are included as UserMessage objects although the original never
records them (defect 2), so both implementations persist the same stream.

Usage: bench_persistence_python.py --frames FILE --dir DIR [--points 100,300,...] [--json-out FILE]
"""
import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from datetime import datetime

from claude_code_sdk.types import AssistantMessage, ResultMessage, SystemMessage, TextBlock, UserMessage
from claude_code_session_client._internal.session_storage import SessionData, SimpleSessionPersistence


def to_message(direction, raw):
    kind = raw.get("type")
    if kind == "assistant":
        blocks = [TextBlock(text=b.get("text", "")) for b in raw["message"]["content"] if b.get("type") == "text"]
        return AssistantMessage(content=blocks)
    if kind == "result":
        return ResultMessage(
            subtype=raw.get("subtype", ""), duration_ms=raw.get("duration_ms", 0),
            duration_api_ms=raw.get("duration_api_ms", 0), is_error=raw.get("is_error", False),
            num_turns=raw.get("num_turns", 0), session_id=raw.get("session_id", ""),
            total_cost_usd=raw.get("total_cost_usd"), usage=raw.get("usage"), result=raw.get("result"))
    if kind == "user":
        return UserMessage(content=raw["message"]["content"])
    return SystemMessage(subtype=raw.get("subtype", ""), data=raw)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--points", default="100,300,1000,3000,10000")
    parser.add_argument("--json-out")
    args = parser.parse_args()

    with open(args.frames, encoding="utf-8") as f:
        frames = [json.loads(line) for line in f if line.strip()]
    messages = [to_message(frame["direction"], frame["raw"]) for frame in frames]
    persistence = SimpleSessionPersistence(args.dir)
    session_id = "9899897f-3c5e-4b7a-9d2e-0f1e2d3c4b5a"
    points = [int(p) for p in args.points.split(",") if int(p) <= len(messages)]

    rows = []
    print(f"Python original (claude-code-session-client 0.0.1, save_session after every message, {len(messages)} frames)")
    print("  N        per-message µs     file size MB   samples")
    for point in points:
        samples = 15 if point <= 1000 else (7 if point <= 3000 else 5)
        data = SessionData(session_id=session_id, start_time=datetime.now(), last_activity=datetime.now(),
                           working_directory=os.getcwd())
        for message in messages[: point - 1]:
            data.add_message(message)
        timings = []
        for message in messages[point - 1 : point - 1 + samples]:
            started = time.perf_counter()
            data.add_message(message)                 # what SessionPersistentClient does per message
            await persistence.save_session(data)
            timings.append((time.perf_counter() - started) * 1e6)
        size = os.path.getsize(os.path.join(args.dir, session_id + ".json")) / 1e6
        median = statistics.median(timings)
        rows.append({"n": point, "per_message_us": median, "file_mb": size, "samples": len(timings)})
        print(f"  {point:<8} {median:<18.1f} {size:<14.2f} {len(timings)}")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"implementation": "python-original", "points": rows}, f)


if __name__ == "__main__":
    asyncio.run(main())
