#!/usr/bin/env bash
# Client throughput benchmark: this SDK (release build) against the official Python SDK, in the same run,
# both driving the same fake-claude (FAKE_CLAUDE_SCENARIO=replay) with the same replay file.
#
#   scripts/bench/client.sh                # 100k-frame replay, 5 alternating runs each, then the 1 GB long run
#   FRAMES=50000 RUNS=3 scripts/bench/client.sh
#   LONG_GB=0 scripts/bench/client.sh      # skip the long run
#   LAG_US="10 50 1000" scripts/bench/client.sh   # lagging consumers (the default; LAG_US= skips them)
#   LONG_LAG_US=10 LONG_PYTHON=1 ...        # the long run with a lagging consumer, and Python on it too
#   RUNS=0 ...                              # skip the throughput runs
#   SCRATCH_PATH=.build-release ...         # build in another scratch folder
#
# Each consumer reads every message's content (text lengths, tool inputs, tool results), so lazy decoding
# gains nothing. Reported per implementation (median of the runs): messages/s and MB/s over the stream
# (query sent to last result), CPU time per message (user + system of the client process, which other load
# on the machine disturbs less than wall time), and peak RSS of the client process (VmHWM / ru_maxrss).
# The long run streams LONG_GB gigabytes (the replay repeated, one turn each) through our client and shows
# its RSS after every turn: it must stay flat (target: peak ≤ 64 MiB).
# Lagging consumers (issue 12): for each LAG_US value, one run each where the consumer spends that long on every
# message (spinning below 1000 µs, sleeping from 1000 µs); peak RSS must stay ≤ 64 MiB (the queue past
# messageMemoryBudget is spilled to a private temporary file). LONG_LAG_US applies a lag to the long run too.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

frames=${FRAMES:-100000}
runs=${RUNS:-5}
long_gb=${LONG_GB:-1}
lags=${LAG_US-10 50 1000}
long_lag=${LONG_LAG_US:-0}
long_python=${LONG_PYTHON:-0}
work="$root/.tmp/bench"
mkdir -p "$work"

log() { printf '==> %s\n' "$*" >&2; }

log "building client-benchmark and fake-claude (release)"
build=(swift build -c release)
if [ -n "${SCRATCH_PATH:-}" ]; then build+=(--scratch-path "$SCRATCH_PATH"); fi
"${build[@]}" --package-path Benchmarks --product client-benchmark >/dev/null
"${build[@]}" --product fake-claude >/dev/null
bin=$("${build[@]}" --package-path Benchmarks --show-bin-path)
fake="$("${build[@]}" --show-bin-path)/fake-claude"

log "setting up the Python reference SDK"
py=$(scripts/setup/install-python-reference.sh | tail -n 1)

replay="$work/replay-$frames.jsonl"
if [ ! -s "$replay" ]; then
    log "generating $replay"
    python3 scripts/bench/make-replay-stream.py "$replay" "$frames" >&2
fi

results="$work/results-$(date +%Y%m%d-%H%M%S).jsonl"
if [ "$runs" != "0" ]; then
log "$runs alternating runs each over $(du -h "$replay" | cut -f1) ($frames frames); results in ${results#"$root"/}"
for run in $(seq "$runs"); do
    "$bin/client-benchmark" --fake "$fake" --replay "$replay" 2>/dev/null >>"$results"
    "$py" scripts/bench/client-python.py --fake "$fake" --replay "$replay" 2>/dev/null >>"$results"
    printf '.' >&2
done
printf '\n' >&2

python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
by = {}
for row in rows:
    by.setdefault(row["implementation"], []).append(row)
def median(impl, key):
    return statistics.median(r[key] for r in by[impl])
print(f"{'':8} {'messages/s':>12} {'MB/s':>8} {'CPU µs/msg':>11} {'peak RSS':>10}   (median of {len(by['swift'])} runs)")
for impl in ("swift", "python"):
    print(f"{impl:8} {median(impl, 'messages_per_second'):12,.0f} {median(impl, 'mb_per_second'):8.1f} "
          f"{median(impl, 'cpu_us_per_message'):11.2f} {median(impl, 'peak_rss_kib') / 1024:8.1f} MiB")
ratio = median("swift", "messages_per_second") / median("python", "messages_per_second")
cpu_ratio = median("python", "cpu_us_per_message") / median("swift", "cpu_us_per_message")
runs = [s["messages_per_second"] / p["messages_per_second"] for s, p in zip(by["swift"], by["python"])]
print(f"ratio    {ratio:.2f}x messages/s (per run: {', '.join(f'{r:.2f}' for r in runs)}); "
      f"{cpu_ratio:.2f}x less CPU per message   (target ≥ 3x messages/s)")
counts = {impl: by[impl][0]["by_type"] for impl in by}
if counts["swift"] != counts["python"]:
    print(f"warning: message counts differ: {counts}")
PY
fi

summarize_lag() {
    python3 -c '
import json, sys
for line in sys.stdin:
    if not line.strip():
        continue
    r = json.loads(line)
    spill = ""
    if "spilled_messages" in r:
        spill = (f"; queue peak {r['"'"'queue_peak_bytes'"'"'] / 1048576:.1f} MiB, spilled {r['"'"'spilled_messages'"'"']:,} messages "
                 f"(disk peak {r['"'"'peak_spilled_bytes'"'"'] / 1048576:.0f} MiB)")
    over = "" if r["peak_rss_kib"] <= 64 * 1024 else "  OVER 64 MiB"
    print(f"  {r['"'"'implementation'"'"']:7} lag {r['"'"'delay_us'"'"']:>5} µs: {r['"'"'messages'"'"']:>9,} messages, {r['"'"'stream_bytes'"'"'] / 1e9:.2f} GB in {r['"'"'seconds'"'"']:7.1f} s, "
          f"CPU {r['"'"'cpu_seconds'"'"']:7.1f} s, peak RSS {r['"'"'peak_rss_kib'"'"'] / 1024:6.1f} MiB{spill}{over}")
'
}

for lag in $lags; do
    log "lagging consumer: $lag µs per message over the $frames-frame replay"
    {
        "$bin/client-benchmark" --fake "$fake" --replay "$replay" --delay-us "$lag" 2>/dev/null
        "$py" scripts/bench/client-python.py --fake "$fake" --replay "$replay" --delay-us "$lag" 2>/dev/null
    } | tee -a "$results" | summarize_lag
done

if [ "$long_gb" != "0" ]; then
    size=$(stat -c %s "$replay")
    turns=$(python3 -c "import math; print(math.ceil($long_gb * 1e9 / $size))")
    log "long run: $turns turns of the replay ($long_gb GB), consumer lag $long_lag µs"
    if [ "$long_python" != "0" ]; then
        "$py" scripts/bench/client-python.py --fake "$fake" --replay "$replay" --turns "$turns" --delay-us "$long_lag" \
            2>/dev/null | tee -a "$results" | summarize_lag
    fi
    "$bin/client-benchmark" --fake "$fake" --replay "$replay" --turns "$turns" --delay-us "$long_lag" 2>/dev/null \
        | tee -a "$results" | tee >(summarize_lag >&2) | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
after = [kib / 1024 for kib in r["rss_after_turn_kib"]]
print(f"long run: {r['"'"'stream_bytes'"'"'] / 1e9:.2f} GB, {r['"'"'messages'"'"']:,} messages in {r['"'"'seconds'"'"']:.1f} s "
      f"({r['"'"'messages_per_second'"'"']:,.0f} messages/s, {r['"'"'mb_per_second'"'"']:.0f} MB/s)")
print(f"          peak RSS {r['"'"'peak_rss_kib'"'"'] / 1024:.1f} MiB; RSS after each turn (MiB): "
      + ", ".join(f"{x:.1f}" for x in after))
print("          " + ("OK: peak RSS ≤ 64 MiB" if r["peak_rss_kib"] <= 64 * 1024 else "OVER the 64 MiB target"))
'
fi
