#!/usr/bin/env bash
# Measures `claude-sessions` (release build) on the 10,000-session corpus of
# scripts/bench/transcripts.sh, as a user meets it (one command, one process), against what users
# do today (`grep -rl`) in the same run:
#   1. building the full-text index over every session (`search --index`, first run): MB/s;
#   2. the same command after one session grew (only that session is re-read; `--fresh`, so that
#      every transcript is checked);
#   3. queries on the up-to-date index (absent words, rare words, a word in every session), each
#      ROUNDS times, against `grep -rl` over the same files, the plain scan (`search` without an
#      index) and the same query with `--fresh`;
#   3b. the same queries in one process through the library (search-benchmark);
#   4. `list` of the 10,000 sessions (a new process each time; page cache warm, then, as root,
#      dropped first);
#   5. exporting the 50 MB transcript to HTML: wall time and peak RSS against the file's size.
# Each figure is wall time of a whole command on a shared machine, plus its CPU time (user + sys)
# and peak RSS from /usr/bin/time. Targets (issue 15): index >= 100 MB/s, update < 50 ms,
# query median < 20 ms and >= 50x faster than grep -rl and the scan, list < 300 ms, HTML export
# < 2 s with peak RSS < 4x the file. The script reports; it does not fail on a target.
#
# Usage: scripts/bench/sessions-tool.sh
# Environment: WORK_DIR (the corpus; default <repo>/.tmp/bench-tx, made by
#              `KEEP=1 WORK_DIR=... scripts/bench/transcripts.sh` when missing), ROUNDS (default 5),
#              SKIP_BUILD=1, TOOL (a claude-sessions binary to measure instead of building one),
#              ONLY=export (step 5 alone, ROUNDS times, medians), BASELINE (another claude-sessions
#              binary, e.g. an older build, measured in step 5 alternately with ours: the same
#              export, compared byte for byte).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
work="${WORK_DIR:-$repo/.tmp/bench-tx}"
rounds="${ROUNDS:-5}"
cd "$repo"

if [[ ! -f "$work/generated.json" ]]; then
    echo "generating the corpus in $work (scripts/bench/transcripts.sh, KEEP=1)..." >&2
    KEEP=1 WORK_DIR="$work" ROUNDS=1 scripts/bench/transcripts.sh >/dev/null || true
fi
[[ -f "$work/generated.json" ]] || { echo "error: no corpus in $work" >&2; exit 1; }
# Built as the README says, with the Swift runtime linked in (--static-swift-stdlib: a command
# starts in about 7 ms instead of 13), in a build folder of its own.
static=(-c release --static-swift-stdlib --scratch-path "$repo/.build/static")
if [[ -z "${SKIP_BUILD:-}" && -z "${TOOL:-}" ]]; then
    swift build "${static[@]}" --product claude-sessions >&2
fi
tool="${TOOL:-$(swift build "${static[@]}" --show-bin-path)/claude-sessions}"
[[ -x /usr/bin/time ]] || { echo "error: /usr/bin/time is missing (Debian package time)" >&2; exit 1; }

read -r big project bytes < <(python3 -c '
import json, sys
g = json.load(open(sys.argv[1]))
print(g["big_session"], g["project_dir"], g["bytes"])' "$work/generated.json")
config="$work/config"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
index="$scratch/index.sqlite"
# The summary cache of `list` goes to the scratch folder: the first `list` below is a truly first run.
export XDG_CACHE_HOME="$scratch/cache"

# Runs a command; prints "wall_ms cpu_ms rss_kb" for it.
measure() {
    local out="$scratch/time.txt"
    local start end
    start=$(date +%s%N)
    /usr/bin/time -f '%U %S %M' -o "$out" "$@" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    # A command that exits non-zero (a search with no hit: exit 1) adds a line before the figures.
    read -r user sys rss < <(tail -n 1 "$out")
    python3 -c "import sys; print(f'{($end-$start)/1e6:.1f} {(float(sys.argv[1])+float(sys.argv[2]))*1000:.0f} $rss')" "$user" "$sys"
}
median() { python3 -c 'import statistics, sys; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.1f}")' "$@"; }

echo "corpus: $((bytes / 1000000)) MB in $(ls "$project" | wc -l) sessions; big transcript $big"

# 5. Exporting the big transcript to HTML (first, alone with ONLY=export).
export_html() {
    local size walls=() cpus=() rsss=() bwalls=() bcpus=() brsss=()
    size=$(stat -c %s "$project/$big.jsonl")
    for ((round = 1; round <= ${1}; round++)); do
        read -r w c r < <(measure "$tool" export "$big" --config-dir "$config" --format html -o "$scratch/big.html")
        walls+=("$w"); cpus+=("$c"); rsss+=("$r")
        if [[ -n "${BASELINE:-}" ]]; then
            read -r w c r < <(measure "$BASELINE" export "$big" --config-dir "$config" --format html -o "$scratch/base.html")
            bwalls+=("$w"); bcpus+=("$c"); brsss+=("$r")
            cmp -s "$scratch/big.html" "$scratch/base.html" || echo "  warning: the pages differ" >&2
        fi
    done
    local rss
    rss=$(median "${rsss[@]}")
    echo "export of the $((size / 1000000)) MB transcript to HTML (median of ${1}): $(median "${walls[@]}") ms wall, $(median "${cpus[@]}") ms CPU, peak RSS $(python3 -c "print(f'{$rss / 1024:.0f}')") MiB = $(python3 -c "print(f'{$rss * 1024 / $size:.2f}')")x the file (targets < 2000 ms, < 4x)"
    if [[ -n "${BASELINE:-}" ]]; then
        rss=$(median "${brsss[@]}")
        echo "  baseline $BASELINE, same runs alternated: $(median "${bwalls[@]}") ms wall, $(median "${bcpus[@]}") ms CPU, peak RSS $(python3 -c "print(f'{$rss / 1024:.0f}')") MiB = $(python3 -c "print(f'{$rss * 1024 / $size:.2f}')")x; pages identical: $(cmp -s "$scratch/big.html" "$scratch/base.html" && echo yes || echo NO)"
    fi
}
if [[ "${ONLY:-}" == export ]]; then
    export_html "$rounds"
    exit 0
fi

# The page cache is warmed first (as for grep below): the build is measured on CPU and memory,
# not on the disk.
cat "$project"/*.jsonl >/dev/null
read -r wall cpu rss < <(measure "$tool" search "needle-that-is-not-there" --config-dir "$config" --index "$index")
mbps=$(python3 -c "print(f'{$bytes / 1e6 / ($wall / 1000):.0f}')")
cpumbps=$(python3 -c "print(f'{$bytes / 1e6 / ($cpu / 1000):.0f}')")
echo "index build (first search --index): ${wall} ms wall, ${cpu} ms CPU, $((rss / 1024)) MiB peak: ${mbps} MB/s of wall time, ${cpumbps} MB/s of CPU time (target >= 100)"

# --fresh: every transcript's stat is checked (the default trusts a full check for a minute).
# ROUNDS times: nothing changed, then one session grown by a line (then put back, re-indexed).
victim="$(ls "$project" | grep -v "$big" | sed -n 1p)"
original=$(stat -c %s "$project/$victim")
unchanged_runs=(); grown_runs=()
for ((round = 1; round <= rounds; round++)); do
    read -r w _ _ < <(measure "$tool" search "needle-that-is-not-there" --config-dir "$config" --index "$index" --fresh)
    unchanged_runs+=("$w")
    tail -n 1 "$project/$victim" >>"$project/$victim"
    read -r w _ _ < <(measure "$tool" search "needle-that-is-not-there" --config-dir "$config" --index "$index" --fresh)
    grown_runs+=("$w")
    truncate -s "$original" "$project/$victim"  # the corpus stays as generated
    "$tool" search "needle-that-is-not-there" --config-dir "$config" --index "$index" --fresh >/dev/null 2>&1 || true
done
nochange=$(median "${unchanged_runs[@]}"); grown=$(median "${grown_runs[@]}")
echo "search --index --fresh with nothing changed: ${nochange} ms; after one session grew: ${grown} ms (medians of ${rounds}; re-reading it: $(python3 -c "print(f'{$grown - $nochange:.0f}')") ms over the unchanged run; target < 50 ms for the update)"

# Queries of three kinds: words in no session (grep reads every file), topic words of the
# generator (each in 20 sessions of 10,000) and a phrase, and a word in every session (grep -l
# stops at each file's first match; we rank all 10,000).
absent=(migration "release checklist" sqlite)
rare=(zorvanteq milpaxdruq "senkolzorq" "about fyrbixvanq")
common=(configuration)
declare -A kind_of
for q in "${absent[@]}"; do kind_of[$q]=absent; done
for q in "${rare[@]}"; do kind_of[$q]=rare; done
for q in "${common[@]}"; do kind_of[$q]=common; done
queries=("${absent[@]}" "${rare[@]}" "${common[@]}")
"$tool" search needle-that-is-not-there --config-dir "$config" --index "$index" --fresh >/dev/null 2>&1 || true  # a full check now
indexed=(); fresh=(); scan=(); grepped=()
declare -A by_kind_indexed by_kind_grep
for ((round = 1; round <= rounds; round++)); do
    for q in "${queries[@]}"; do
        read -r w _ _ < <(measure "$tool" search "$q" --config-dir "$config" --index "$index" --limit 20); indexed+=("$w")
        by_kind_indexed[${kind_of[$q]}]+="$w "
        read -r w _ _ < <(measure grep -rl -- "${q//\"/}" "$config/projects"); grepped+=("$w")
        by_kind_grep[${kind_of[$q]}]+="$w "
        read -r w _ _ < <(measure "$tool" search "$q" --config-dir "$config" --index "$index" --limit 20 --fresh); fresh+=("$w")
    done
    if ((round == 1)); then
        for q in "${absent[0]}" "${rare[0]}"; do
            read -r w _ _ < <(measure "$tool" search "$q" --config-dir "$config" --limit 20); scan+=("$w")
        done
    fi
done
mi=$(median "${indexed[@]}"); mg=$(median "${grepped[@]}"); ms=$(median "${scan[@]}"); mf=$(median "${fresh[@]}")
echo "query (${#queries[@]} queries x ${rounds} rounds), median of the whole command: indexed ${mi} ms, grep -rl ${mg} ms, plain scan ${ms} ms; with --fresh (a stat of every transcript first) ${mf} ms"
for kind in absent rare common; do
    # shellcheck disable=SC2086
    echo "  ${kind}: indexed $(median ${by_kind_indexed[$kind]}) ms, grep -rl $(median ${by_kind_grep[$kind]}) ms"
done
echo "  grep / indexed: $(python3 -c "print(f'{$mg / $mi:.1f}')")x, scan / indexed: $(python3 -c "print(f'{$ms / $mi:.1f}')")x, grep / --fresh: $(python3 -c "print(f'{$mg / $mf:.1f}')")x (target >= 50x, query < 20 ms)"

# The library's side of the same queries in one process (no process start): the quick check and
# `SQLiteSearchIndex.search`, medians of ROUNDS.
if [[ -z "${SKIP_BUILD:-}" ]]; then
    swift build -c release --package-path Benchmarks --product search-benchmark >&2
fi
bench_bin="$(swift build -c release --package-path Benchmarks --show-bin-path)/search-benchmark"
joined="$(IFS='|'; echo "${queries[*]}")"
"$bench_bin" --config "$config" --index "$index" --queries "$joined" --repeats "$rounds" \
    | python3 -c '
import json, statistics, sys
results = json.load(sys.stdin)
grep = float(sys.argv[1])
walls = [v["seconds"] * 1000 for v in results.values()]
for query, v in results.items():
    wall, cpu, hits = v["seconds"] * 1000, v["cpu_seconds"] * 1000, v["hits"]
    print(f"  in-process {query!r}: {wall:.2f} ms wall, {cpu:.2f} ms CPU, {hits} hits shown")
median = statistics.median(walls)
print(f"  in-process median over the queries: {median:.2f} ms; grep -rl / in-process: {grep / median:.0f}x")
' "$mg"

starts=()
for ((round = 1; round <= rounds; round++)); do
    read -r w _ _ < <(measure "$tool" --version); starts+=("$w")
done
echo "process start (claude-sessions --version), median: $(median "${starts[@]}") ms"

read -r firstlist firstcpu firstrss < <(measure "$tool" list --config-dir "$config" --json)
lists=(); uncached=()
for ((round = 1; round <= rounds; round++)); do
    read -r w c _ < <(measure "$tool" list --config-dir "$config" --json); lists+=("$w")
    if ((round <= 2)); then
        read -r w _ _ < <(measure "$tool" list --config-dir "$config" --json --no-cache); uncached+=("$w")
    fi
done
echo "list of every session (--json): first run (empty cache) ${firstlist} ms wall, ${firstcpu} ms CPU, $((firstrss / 1024)) MiB; then median $(median "${lists[@]}") ms (target < 300 ms); --no-cache median $(median "${uncached[@]}") ms"
# Cold in the strictest sense: the kernel's page cache dropped first (the transcripts' inodes,
# the summary cache, the binary itself all come from the disk). Needs root.
if sync && echo 3 2>/dev/null >/proc/sys/vm/drop_caches; then
    colds=()
    for ((round = 1; round <= 3; round++)); do
        sync
        echo 3 >/proc/sys/vm/drop_caches
        read -r w _ _ < <(measure "$tool" list --config-dir "$config" --json); colds+=("$w")
    done
    echo "list with the page cache dropped first (the summary cache on disk), median of 3: $(median "${colds[@]}") ms (target < 300 ms)"
    # The steps below are measured on a warm page cache again.
    find "$config/projects" -name '*.jsonl' -exec cat {} + >/dev/null
else
    echo "list with the page cache dropped first: not measured (dropping the page cache needs root)"
fi

export_html 1
