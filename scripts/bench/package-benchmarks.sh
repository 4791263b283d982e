#!/usr/bin/env bash
# Runs the in-process benchmark suites of the Benchmarks package (ordo-one/package-benchmark):
# client, records, CLI transcripts, stores, mirroring and backends, with a throwaway PostgreSQL
# server on 127.0.0.1 for the PostgreSQL backend. Wall and CPU time, allocations and peak memory
# per benchmark; no Python side (the side-by-side comparisons are the other scripts of this folder).
#
#   scripts/bench/package-benchmarks.sh                     # every suite
#   scripts/bench/package-benchmarks.sh --target Records    # extra arguments go to `benchmark`
#   scripts/bench/package-benchmarks.sh baseline update main   # save a baseline (see package-benchmark's docs)
set -euo pipefail
cd "$(dirname "$0")/../.."

log() { printf '==> %s\n' "$*" >&2; }

# The client and mirroring suites stream from the fake CLI, a test helper of the root package.
log "building fake-claude (release)"
swift build -c release --product fake-claude >/dev/null
FAKE_CLAUDE_PATH="$(swift build -c release --show-bin-path)/fake-claude"
export FAKE_CLAUDE_PATH

if [ $# -eq 0 ]; then set -- run; fi
log "running the suites (swift package benchmark $*)"
scripts/test/with-postgres.sh swift package --package-path Benchmarks --allow-writing-to-package-directory benchmark "$@"
