#!/usr/bin/env bash
# Benchmarks ClaudeSessionLibrary against the official Python SDK (claude-agent-sdk 0.2.188)
# on the same files in the same run:
#   1. list the sessions of one project folder holding SESSIONS sessions (default 10,000);
#   2. read every message of one BIG_MB-megabyte transcript (default 50), touching each
#      message's content.
#
# Each measurement is one operation in a fresh process, on a warm page cache, and the two
# sides alternate (ours, Python, ours, Python, ...) for ROUNDS rounds (default 7), so a change
# in machine load hits both. Each side reports its CPU time (user + system, all threads),
# wall time and peak RSS; the script prints the medians. Pass/fail is decided on CPU time and
# memory, not on wall time (which flips with the machine's load; ours uses several cores,
# Python one):
#   - listing:  Python CPU / our CPU >= LIST_CPU_TARGET (default 5);
#   - reading:  Python CPU / our CPU >= READ_CPU_TARGET (default 8), and our peak RSS at most
#               READ_RSS_FACTOR (default 1.5) times the transcript's size. Our consumer touches
#               each message's `content` accessor (which parses only that member; Python's
#               consumer reads message["content"] from its dict); the same read touching the
#               whole `message` value is measured too and reported, not decided on.
#
# Usage: scripts/bench/transcripts.sh
# Environment: SESSIONS, BIG_MB, ROUNDS, LIST_CPU_TARGET, READ_CPU_TARGET, READ_RSS_FACTOR,
#              PYTHON (default <repo>/.venv-ref/bin/python), KEEP=1 to keep the generated
#              files, WORK_DIR to choose where they go, SKIP_BUILD=1 to use the built binary,
#              ONLY=read (or ONLY=list) to measure one operation (both by default).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
sessions="${SESSIONS:-10000}"
big_mb="${BIG_MB:-50}"
rounds="${ROUNDS:-7}"
py="${PYTHON:-${repo_root}/.venv-ref/bin/python}"

if [[ ! -x "$py" ]]; then
    echo "error: the Python reference SDK is missing at $py; run scripts/setup/install-python-reference.sh" >&2
    exit 1
fi

work="${WORK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/bench-transcripts.XXXXXX")}"
mkdir -p "$work"
work="$(cd "$work" && pwd -P)"
cleanup() { [[ "${KEEP:-0}" == 1 ]] || rm -rf "$work"; }
trap cleanup EXIT

cd "$repo_root"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    echo "building transcripts-benchmark (release)..." >&2
    swift build -c release --package-path Benchmarks --product transcripts-benchmark >&2
fi
bin="$(swift build -c release --package-path Benchmarks --show-bin-path)/transcripts-benchmark"

if [[ -f "$work/generated.json" ]]; then
    generated="$(cat "$work/generated.json")"
else
    echo "generating ${sessions} sessions and a ${big_mb} MB transcript in ${work}..." >&2
    generated="$("$bin" generate --config "$work/config" --cwd "$work/project" --sessions "$sessions" --big-mb "$big_mb")"
    printf '%s' "$generated" >"$work/generated.json"
fi
big="$(printf '%s' "$generated" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["big_session"])')"
big_bytes="$(printf '%s' "$generated" | "$py" -c \
    'import json,os,sys; g=json.load(sys.stdin); print(os.path.getsize(g["project_dir"]+"/"+g["big_session"]+".jsonl"))')"
total_bytes="$(printf '%s' "$generated" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["bytes"])')"

# Let the kernel write the new files back first, so neither side is timed against writeback.
sync

samples="$work/samples.jsonl"
: >"$samples"
for round in $(seq 1 "$rounds"); do
    for op in ${ONLY:-list read}; do
        echo "round ${round}/${rounds}: ${op}: ours, then Python..." >&2
        ours="$("$bin" run --config "$work/config" --cwd "$work/project" --big "$big" --repeats 1 --only "$op")"
        printf '{"side":"ours","op":"%s","result":%s}\n' "$op" "$ours" >>"$samples"
        theirs="$(CLAUDE_CONFIG_DIR="$work/config" HOME="$work" "$py" "$repo_root/scripts/test/dump-sessions.py" \
            --bench "$work/project" "$big" 1 "$op")"
        printf '{"side":"python","op":"%s","result":%s}\n' "$op" "$theirs" >>"$samples"
    done
    [[ "${ONLY:-read}" == *read* ]] || continue
    # Ours again, touching each message through the whole `message` value (not only `content`).
    ours="$("$bin" run --config "$work/config" --cwd "$work/project" --big "$big" --repeats 1 --only read \
        --touch message)"
    printf '{"side":"ours","op":"read_message","result":%s}\n' "$ours" >>"$samples"
done

"$py" - "$samples" "$total_bytes" "$big_bytes" \
    "${LIST_CPU_TARGET:-5}" "${READ_CPU_TARGET:-8}" "${READ_RSS_FACTOR:-1.5}" <<'PY'
import json, statistics, sys

samples_path, total, big = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
list_target, read_target, rss_factor = float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
samples = [json.loads(line) for line in open(samples_path)]

def values(side, op, key):
    return [s["result"][key] for s in samples if s["side"] == side and s["op"] == op]

def med(side, op, key):
    return statistics.median(values(side, op, key))

rounds = len(values("ours", "read", "read_cpu_seconds")) or len(values("ours", "list", "list_cpu_seconds"))
listed = values("ours", "list", "sessions")
print(f"data: {total / 1e6:.0f} MB in {listed[0] if listed else '?'} sessions; "
      f"big transcript {big / 1e6:.1f} MB; medians of {rounds} alternating rounds, one process each")
failed = []
for label, op, count, target in [("list sessions", "list", "sessions", list_target),
                                  ("read big transcript", "read", "messages", read_target)]:
    if not values("ours", op, op + "_seconds"):
        continue
    wall, cpu = op + "_seconds", op + "_cpu_seconds"
    ours_cpu, py_cpu = med("ours", op, cpu), med("python", op, cpu)
    ours_wall, py_wall = med("ours", op, wall), med("python", op, wall)
    ours_rss, py_rss = med("ours", op, "peak_rss_bytes"), med("python", op, "peak_rss_bytes")
    ours_base, py_base = med("ours", op, "rss_before_bytes"), med("python", op, "rss_before_bytes")
    cpu_ratio = py_cpu / ours_cpu
    print(f"{label}:")
    print(f"  cpu   ours {ours_cpu * 1000:8.1f} ms  python {py_cpu * 1000:8.1f} ms  ratio {cpu_ratio:5.1f}x"
          f"  (target >= {target:g}x)   ours per round: "
          + " ".join(f"{v * 1000:.0f}" for v in values("ours", op, cpu))
          + "  python: " + " ".join(f"{v * 1000:.0f}" for v in values("python", op, cpu)))
    print(f"  wall  ours {ours_wall * 1000:8.1f} ms  python {py_wall * 1000:8.1f} ms  ratio {py_wall / ours_wall:5.1f}x"
          "  (not decided on)")
    print(f"  peak RSS ours {ours_rss / 1e6:7.1f} MB ({ours_base / 1e6:.1f} MB before)  "
          f"python {py_rss / 1e6:7.1f} MB ({py_base / 1e6:.1f} MB before)")
    if cpu_ratio < target:
        failed.append(f"{label}: cpu ratio {cpu_ratio:.1f}x < {target:g}x")
    if op == "read":
        limit = rss_factor * big
        print(f"  ours peak RSS / transcript size: {ours_rss / big:.2f}x  (target <= {rss_factor:g}x); "
              f"python: {py_rss / big:.2f}x")
        print(f"  growth during the read (peak - before, without the runtime's shared libraries): "
              f"ours {(ours_rss - ours_base) / big:.2f}x, python {(py_rss - py_base) / big:.2f}x")
        # Where our CPU went, and the kernel's part in it: the load (read, parse, chain, messages)
        # moves with the huge pages the kernel hands out cheaply; the touch does not.
        if values("ours", op, "read_load_cpu_seconds"):
            print(f"  ours: load {med('ours', op, 'read_load_cpu_seconds') * 1000:.1f} ms, "
                  f"touch {med('ours', op, 'read_touch_cpu_seconds') * 1000:.1f} ms; huge pages kept per round (MiB): "
                  + " ".join(str(v >> 20) for v in values("ours", op, "anon_huge_page_bytes_after_load")))
        if ours_rss > limit:
            failed.append(f"{label}: peak RSS {ours_rss / 1e6:.1f} MB > {rss_factor:g} x {big / 1e6:.1f} MB")
    ours_count, py_count = med("ours", op, count), med("python", op, count)
    if ours_count != py_count:
        print(f"  warning: the two sides returned different {count} counts ({ours_count} vs {py_count})")
    if op == "read":
        whole_cpu = med("ours", "read_message", "read_cpu_seconds")
        whole_rss = med("ours", "read_message", "peak_rss_bytes")
        print(f"  touching the whole `message` instead of `content` (not decided on): ours cpu {whole_cpu * 1000:.1f} ms"
              f"  ratio {py_cpu / whole_cpu:.1f}x, peak RSS {whole_rss / 1e6:.1f} MB ({whole_rss / big:.2f}x)")
print("(cpu: user + system time of all threads during the operation; peak RSS: the whole process)")
for failure in failed:
    print("FAIL:", failure)
print("targets:", "FAIL" if failed else "PASS")
sys.exit(1 if failed else 0)
PY
