#!/usr/bin/env bash
# Resuming a long session from a session store, release build:
#   1. `stores-benchmark resume`: the pinned Claude Code CLI against fake-messages-api on
#      127.0.0.1, a TURNS-turn session (default 1,000) resumed from the CLI's local file (no store:
#      the baseline) and from FileSessionStore, SQLiteSessionStore and PostgresSessionStore with
#      the local file gone (and with it present), alternating, RUNS runs each after one warm-up.
#      Target: the store adds at most 150 ms (files, SQLite) and at most 1 s (PostgreSQL) to the
#      median CPU time (this process's and the CLI's) from connect() to the first result; wall
#      time is reported too, but the machines are shared, so it does not decide. Exits 1 on FAIL.
#   2. `stores-benchmark real-cli` once: mirroring's budget (at most 10% fewer messages/s).
#
# PostgreSQL: the script runs itself under scripts/test/with-postgres.sh (a throwaway server on
# 127.0.0.1) unless PGHOST/PGPORT are already set or SKIP_POSTGRES=1.
#
#   scripts/bench/resume.sh
#   TURNS=1000 RUNS=7 MIRROR_TURNS=40 MIRROR_RUNS=5 scripts/bench/resume.sh
#   CLAUDE_CODE_CLI_PATH=/path/to/claude scripts/bench/resume.sh   # a CLI already installed
#   SKIP_MIRROR=1 scripts/bench/resume.sh                           # no real-cli mirroring run
#   WITH_LOCAL=0 scripts/bench/resume.sh                            # no store+local-file sides
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

if [ -z "${SKIP_POSTGRES:-}" ] && [ -z "${PGHOST:-}${PGPORT:-}" ] && [ -z "${BENCH_RESUME_UNDER_PG:-}" ]; then
    export BENCH_RESUME_UNDER_PG=1
    exec scripts/test/with-postgres.sh "$0" "$@"
fi

turns=${TURNS:-1000}
runs=${RUNS:-5}
mirror_turns=${MIRROR_TURNS:-40}
mirror_runs=${MIRROR_RUNS:-5}
with_local=${WITH_LOCAL:-1}
work="$root/.tmp/bench"
mkdir -p "$work"

log() { printf '==> %s\n' "$*" >&2; }

log "building stores-benchmark and fake-messages-api (release)"
swift build -c release --package-path Benchmarks --product stores-benchmark >/dev/null
swift build -c release --product fake-messages-api >/dev/null
bin=$(swift build -c release --show-bin-path)
benchmarks=$(swift build -c release --package-path Benchmarks --show-bin-path)

if [ -n "${CLAUDE_CODE_CLI_PATH:-}" ]; then
    cli=$CLAUDE_CODE_CLI_PATH
else
    cli=$(scripts/setup/install-claude-cli.sh | tail -n 1)
fi

postgres=auto
[ -n "${SKIP_POSTGRES:-}" ] && postgres=off
results="$work/resume-$(date +%Y%m%d-%H%M%S).jsonl"
log "resume ($cli): $turns-turn session, $runs alternating runs each; results in ${results#"$root"/}"
status=0
"$benchmarks/stores-benchmark" resume --cli "$cli" --api "$bin/fake-messages-api" --turns "$turns" \
    --runs "$runs" --dir "$work" --postgres "$postgres" --with-local "$with_local" >>"$results" || status=$?
[ "$status" -le 1 ] || exit "$status"

if [ -z "${SKIP_MIRROR:-}" ]; then
    log "real CLI mirroring ($cli): $mirror_turns tool-call turns, $mirror_runs alternating runs each"
    "$benchmarks/stores-benchmark" real-cli --cli "$cli" --api "$bin/fake-messages-api" --turns "$mirror_turns" \
        --runs "$mirror_runs" --dir "$work" >>"$results" || status=$?
fi
exit "$status"
