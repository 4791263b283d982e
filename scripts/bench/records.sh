#!/usr/bin/env bash
# Per-message session persistence cost at message 100 … 10,000 of one session: ours
# (FileRecordStore, release build) and the Python original (claude-code-session-client
# 0.0.1) persisting the same stream of realistic frames, in the same run.
#
# Usage: scripts/bench/records.sh [--policy checkpoint|message|never] [--messages N] [--repeat R]
#   Extra arguments go to records-benchmark.
# Environment:
#   PYTHON_REFERENCE  the reference venv's python (default <repo>/.venv-ref/bin/python, made by
#                     scripts/setup/install-python-reference.sh, else /work/main/.venv-ref/bin/python)
#   BENCH_DIR         scratch folder on a real disk (default <repo>/.tmp/bench-persistence)
#   RECORD_MESSAGES   messages of the recording-path run (default 50000)
# Exit status 1 if our ratio (amortized cost at 10,000 / at 100) exceeds 1.5.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
python="${PYTHON_REFERENCE:-}"
if [[ -z "$python" ]]; then
    for candidate in "$repo/.venv-ref/bin/python" /work/main/.venv-ref/bin/python; do
        if [[ -x "$candidate" ]]; then python="$candidate"; break; fi
    done
fi
work="${BENCH_DIR:-$repo/.tmp/bench-persistence}"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

cd "$repo"
swift build -c release --package-path Benchmarks --product records-benchmark >&2
bin="$(swift build -c release --package-path Benchmarks --show-bin-path)/records-benchmark"

"$bin" --dir "$work/swift" --frames-out "$work/frames.jsonl" --json-out "$work/swift.json" "$@"
echo
# The recording path SessionPersistentClient uses (synchronous appends, background streaming folds):
# slowest appends during folds and the memory a fold adds, at RECORD_MESSAGES (default 50,000).
"$bin" --record "${RECORD_MESSAGES:-50000}" --dir "$work/record" --json-out "$work/record.json"
echo
if [[ -n "$python" ]]; then
    "$python" "$repo/scripts/bench/records-python.py" --frames "$work/frames.jsonl" --dir "$work/python" \
        --json-out "$work/python.json"
else
    echo "Python original: skipped (no reference venv; run scripts/setup/install-python-reference.sh)"
fi
echo

python3 - "$work/swift.json" "$work/python.json" <<'PY'
import json, os, sys
swift = json.load(open(sys.argv[1]))
python = json.load(open(sys.argv[2])) if os.path.exists(sys.argv[2]) else None
io = {p["n"]: p["io_us"] for p in swift["points"]}
wall = {p["n"]: p["amortized_us"] for p in swift["points"]}
theirs = {p["n"]: p["per_message_us"] for p in python["points"]} if python else {}
print(f"Per-message persistence cost (µs), same frames, same run (policy {swift['policy']}):")
print(f"  {'N':<8}{'ours: I/O work':<16}{'ours: end-to-end':<18}{'Python original':<17}{'Python / ours (I/O)':<20}")
for n in sorted(io):
    t = theirs.get(n)
    print(f"  {n:<8}{io[n]:<16.1f}{wall[n]:<18.1f}{(f'{t:.1f}' if t else '-'):<17}{(f'{t / io[n]:.0f}x' if t else '-'):<20}")
print("""
  ours: I/O work   = time on the store's I/O queue (append + share of the turn's checkpoint and
                     compactions), the counterpart of Python's in-thread save time;
  ours: end-to-end = awaited append latency + share of the awaited checkpoint, including the two
                     thread hops (noisy when the CPUs are busy).""")
ratio = io[10000] / io[100] if 10000 in io and 100 in io else None
if ratio is not None:
    print(f"ours: cost at 10,000 / cost at 100 = {ratio:.2f} (I/O work; must be <= 1.5), "
          f"{wall[10000] / wall[100]:.2f} (end-to-end)")
if theirs.get(10000) and theirs.get(100):
    print(f"Python original: cost at 10,000 / cost at 100 = {theirs[10000] / theirs[100]:.0f}")
sys.exit(1 if ratio is not None and ratio > 1.5 else 0)
PY
