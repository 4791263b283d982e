#!/usr/bin/env bash
# Append, load and listing throughput of the SQLite and PostgreSQL session backends
# (release build), PostgreSQL on a throwaway local server (scripts/test/with-postgres.sh).
#
# Usage: scripts/bench/backends.sh [--backend sqlite|postgres|all] [--entries N] [--sessions N] [--runs N]
#   Arguments go to backends-benchmark (see Benchmarks/Sources/BackendsBenchmark/BackendsBenchmark.swift).
# Environment:
#   BENCH_DIR  folder for the SQLite database (default <repo>/.tmp/bench-backends, on the repo's disk)
# Exit status 1 when listing 10,000 sessions takes more than 100 ms (median) on either backend.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
cd "$repo"
work="${BENCH_DIR:-$repo/.tmp/bench-backends}"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

swift build -c release --package-path Benchmarks --product backends-benchmark >&2
bin="$(swift build -c release --package-path Benchmarks --show-bin-path)/backends-benchmark"

output="$work/output.txt"
scripts/test/with-postgres.sh "$bin" --dir "$work/sqlite" "$@" | tee "$output"

# The issue's target: listing 10,000 sessions in at most 100 ms.
status=0
while read -r label ms; do
    if awk -v ms="$ms" 'BEGIN { exit !(ms > 100) }'; then
        echo "over budget: $label took $ms ms (median) > 100 ms" >&2
        status=1
    fi
done < <(awk '/^== /{backend=$2} /listSessions, 10000 sessions|listSessionSummaries, 10000 sessions|listRecords, 10001 records/ {
    for (i = 1; i <= NF; i++) if ($i == "median") print backend "/" $1 " " $(i + 1) }' "$output")
exit "$status"
