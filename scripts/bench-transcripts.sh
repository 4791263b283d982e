#!/usr/bin/env bash
# Benchmarks ClaudeSessionLibrary against the official Python SDK (claude-agent-sdk 0.2.188)
# on the same files in the same run:
#   1. list the sessions of one project folder holding SESSIONS sessions (default 10,000);
#   2. read every message of one BIG_MB-megabyte transcript (default 50), touching each
#      message's content.
# Each side reports its best of REPEATS runs (default 5) on a warm page cache; ratios are
# Python time / our time, for elapsed (wall) time and for CPU time (ours may use several
# cores; Python uses one). The target is at least 5x wall time for both.
#
# Usage: scripts/bench-transcripts.sh
# Environment: SESSIONS, BIG_MB, REPEATS, PYTHON (default <repo>/.venv-ref/bin/python),
#              KEEP=1 to keep the generated files, WORK_DIR to choose where they go.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
sessions="${SESSIONS:-10000}"
big_mb="${BIG_MB:-50}"
repeats="${REPEATS:-5}"
py="${PYTHON:-${repo_root}/.venv-ref/bin/python}"

if [[ ! -x "$py" ]]; then
    echo "error: the Python reference SDK is missing at $py; run scripts/install-python-reference.sh" >&2
    exit 1
fi

work="${WORK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/bench-transcripts.XXXXXX")}"
mkdir -p "$work"
work="$(cd "$work" && pwd -P)"
cleanup() { [[ "${KEEP:-0}" == 1 ]] || rm -rf "$work"; }
trap cleanup EXIT

cd "$repo_root"
echo "building transcripts-benchmark (release)..." >&2
swift build -c release --product transcripts-benchmark >&2
bin="$(swift build -c release --show-bin-path)/transcripts-benchmark"

echo "generating ${sessions} sessions and a ${big_mb} MB transcript in ${work}..." >&2
generated="$("$bin" generate --config "$work/config" --cwd "$work/project" --sessions "$sessions" --big-mb "$big_mb")"
big="$(printf '%s' "$generated" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["big_session"])')"
bytes="$(printf '%s' "$generated" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["bytes"])')"

# Let the kernel write the new files back first, so neither side is timed against writeback.
sync

echo "timing ours (best of ${repeats})..." >&2
ours="$("$bin" run --config "$work/config" --cwd "$work/project" --big "$big" --repeats "$repeats")"
echo "timing the Python SDK (best of ${repeats})..." >&2
theirs="$(CLAUDE_CONFIG_DIR="$work/config" HOME="$work" "$py" "$repo_root/scripts/reference/dump_sessions.py" --bench "$work/project" "$big" "$repeats")"

"$py" - "$ours" "$theirs" "$bytes" <<'PY'
import json, sys
ours, theirs, total = json.loads(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])
print(f"data: {total / 1e6:.0f} MB in {ours['sessions']} sessions")
rows = [("list sessions", "list", "sessions"), ("read 50 MB transcript", "read", "messages")]
failed = False
for label, key, count in rows:
    wall, cpu = key + "_seconds", key + "_cpu_seconds"
    ratio = theirs[wall] / ours[wall]
    cpu_ratio = theirs[cpu] / ours[cpu]
    failed |= ratio < 5
    print(f"{label:22s} wall: ours {ours[wall] * 1000:8.1f} ms  python {theirs[wall] * 1000:8.1f} ms  "
          f"ratio {ratio:5.1f}x | cpu: ours {ours[cpu] * 1000:8.1f} ms  python {theirs[cpu] * 1000:8.1f} ms  "
          f"ratio {cpu_ratio:5.1f}x   ({ours[count]} vs {theirs[count]} {count})")
    if ours[count] != theirs[count]:
        print(f"  warning: the two sides returned different {count} counts")
print("(wall: elapsed time, ours uses all cores; cpu: user+system time of all threads)")
print("target (>= 5x each):", "FAIL" if failed else "PASS")
sys.exit(1 if failed else 0)
PY
