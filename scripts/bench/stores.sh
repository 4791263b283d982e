#!/usr/bin/env bash
# Session store benchmarks (release build):
#   1. append and load throughput of InMemorySessionStore and FileSessionStore (with and
#      without fsync), and listing 10,000 sessions (cold: a new store instance; warm: the same one);
#   2. what mirroring to a store costs a client of the real CLI (the target: at most 10% fewer
#      messages/s): the pinned Claude Code CLI against fake-messages-api on 127.0.0.1, TURNS
#      tool-call turns without a store and mirrored to an in-memory and a file store;
#   3. the same at full replay speed (a CPU stress test, no CLI): a fake-claude replay without a
#      store, with the CLI's transcript_mirror frames, and mirrored to both stores.
#
#   scripts/bench/stores.sh
#   ENTRIES=20000 SESSIONS=10000 FRAMES=100000 RUNS=5 TURNS=40 scripts/bench/stores.sh
#   SKIP_MIRROR=1 scripts/bench/stores.sh      # stores only
#   SKIP_REAL_CLI=1 scripts/bench/stores.sh    # no real-CLI run
#
# Resuming a 1,000-turn session from the stores (files, SQLite, PostgreSQL): scripts/bench/resume.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

entries=${ENTRIES:-20000}
sessions=${SESSIONS:-10000}
frames=${FRAMES:-100000}
runs=${RUNS:-5}
turns=${TURNS:-40}
work="$root/.tmp/bench"
mkdir -p "$work"

log() { printf '==> %s\n' "$*" >&2; }

log "building stores-benchmark and fake-claude (release)"
swift build -c release --package-path Benchmarks --product stores-benchmark >/dev/null
swift build -c release --product fake-claude >/dev/null
swift build -c release --product fake-messages-api >/dev/null
bin=$(swift build -c release --show-bin-path)
benchmarks=$(swift build -c release --package-path Benchmarks --show-bin-path)

results="$work/stores-$(date +%Y%m%d-%H%M%S).jsonl"
log "stores: $entries entries, $sessions sessions; results in ${results#"$root"/}"
"$benchmarks/stores-benchmark" stores --dir "$work" --entries "$entries" --sessions "$sessions" >>"$results"

if [ -z "${SKIP_MIRROR:-}" ] && [ -z "${SKIP_REAL_CLI:-}" ]; then
    cli=$(scripts/setup/install-claude-cli.sh | tail -n 1)
    log "real CLI ($cli): $turns tool-call turns, $runs alternating runs each"
    "$benchmarks/stores-benchmark" real-cli --cli "$cli" --api "$bin/fake-messages-api" --turns "$turns" \
        --runs "$runs" --dir "$work" >>"$results"
fi

if [ -z "${SKIP_MIRROR:-}" ]; then
    replay="$work/replay-$frames.jsonl"
    mirrored="$work/replay-$frames-mirror.jsonl"
    [ -s "$replay" ] || python3 scripts/bench/make-replay-stream.py "$replay" "$frames" >&2
    [ -s "$mirrored" ] || python3 scripts/bench/make-mirror-replay.py "$replay" "$mirrored" >&2
    log "mirror: $frames-frame replay, $runs alternating runs each"
    "$benchmarks/stores-benchmark" mirror --fake "$bin/fake-claude" --replay "$replay" --mirror-replay "$mirrored" \
        --runs "$runs" --dir "$work" >>"$results"
fi
