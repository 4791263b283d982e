#!/usr/bin/env python3
"""Python half of scripts/bench/client.sh: the official claude-agent-sdk ClaudeSDKClient against fake-claude.

Usage: bench-client-python.py --fake PATH --replay FILE [--turns N] [--delay-us N]

--delay-us makes the consumer lag like the Swift one: N µs per message, spinning below 1000 µs and sleeping
(asyncio.sleep) from 1000 µs up.

Streams the replay file (fake-claude, FAKE_CLAUDE_SCENARIO=replay) through ClaudeSDKClient, reading every
message's content exactly like the Swift client-benchmark does, and prints one JSON line with messages/s, MB/s
and peak RSS (getrusage ru_maxrss of this process).
"""

import argparse
import asyncio
import json
import os
import resource
import sys
import time

from claude_agent_sdk import (AssistantMessage, ClaudeAgentOptions, ClaudeSDKClient, ResultMessage, TextBlock,
                              ThinkingBlock, ToolResultBlock, ToolUseBlock, UserMessage)


def length(value):
    """The length of every string (keys and values) in a JSON value."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list):
        return sum(length(v) for v in value)
    if isinstance(value, dict):
        return sum(len(k) + length(v) for k, v in value.items())
    return 0


class Tally:
    def __init__(self):
        self.messages = 0
        self.by_type = {}
        self.content = 0
        self.blocks = 0

    def read(self, message):
        self.messages += 1
        kind = {AssistantMessage: "assistant", UserMessage: "user", ResultMessage: "result"}.get(
            type(message), type(message).__name__)
        self.by_type[kind] = self.by_type.get(kind, 0) + 1
        if isinstance(message, AssistantMessage):
            for block in message.content:
                self.read_block(block)
        elif isinstance(message, UserMessage):
            if isinstance(message.content, str):
                self.content += len(message.content)
            else:
                for block in message.content:
                    self.read_block(block)
        elif isinstance(message, ResultMessage):
            self.content += len(message.result or "")

    def read_block(self, block):
        self.blocks += 1
        if isinstance(block, TextBlock):
            self.content += len(block.text)
        elif isinstance(block, ThinkingBlock):
            self.content += len(block.thinking)
        elif isinstance(block, ToolUseBlock):
            self.content += len(block.name) + length(block.input)
        elif isinstance(block, ToolResultBlock):
            self.content += length(block.content)


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run(args):
    options = ClaudeAgentOptions(
        cli_path=args.fake,
        env={"FAKE_CLAUDE_SCENARIO": "replay", "FAKE_CLAUDE_REPLAY_FILE": args.replay},
    )
    tally = Tally()
    client = ClaudeSDKClient(options=options)
    started = time.perf_counter()
    await client.connect()
    connected = time.perf_counter() - started
    start = time.perf_counter()
    cpu_start = cpu_seconds()
    for turn in range(1, args.turns + 1):
        await client.query(f"replay {turn}")
        async for message in client.receive_response():
            tally.read(message)
            if args.delay_us >= 1000:
                await asyncio.sleep(args.delay_us / 1e6)
            elif args.delay_us > 0:
                until = time.perf_counter() + args.delay_us / 1e6
                while time.perf_counter() < until:
                    pass
    seconds = time.perf_counter() - start
    cpu = cpu_seconds() - cpu_start
    await client.disconnect()
    print(f"bench-client-python: connect took {connected:.3f} s", file=sys.stderr)
    return tally, seconds, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fake", required=True)
    parser.add_argument("--replay", required=True)
    parser.add_argument("--turns", type=int, default=1)
    parser.add_argument("--delay-us", type=int, default=0)
    args = parser.parse_args()
    tally, seconds, cpu = asyncio.run(run(args))
    total = os.path.getsize(args.replay) * args.turns
    print(json.dumps({
        "implementation": "python",
        "turns": args.turns,
        "messages": tally.messages,
        "blocks": tally.blocks,
        "content_chars": tally.content,
        "stream_bytes": total,
        "seconds": seconds,
        "messages_per_second": tally.messages / seconds,
        "mb_per_second": total / 1e6 / seconds,
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "cpu_seconds": cpu,
        "cpu_us_per_message": cpu * 1e6 / max(tally.messages, 1),
        "delay_us": args.delay_us,
        "by_type": tally.by_type,
    }))


if __name__ == "__main__":
    main()
