#!/usr/bin/env bash
# Runs every test tier: unit, component, process (fake-claude), the real Claude Code CLI
# against the project's fake Messages API, differential tests against the Python
# reference SDK, and the storage backends. Installs what it needs first.
#
#   scripts/test.sh                 # everything
#   scripts/test.sh --filter Foo    # extra arguments go to `swift test`
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

log() { printf '==> %s\n' "$*" >&2; }

# System packages (Debian). Only installs what is missing.
need=()
for pkg in python3-venv unzip libsqlite3-dev postgresql chromium strace tmux; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    if [ "$(id -u)" = 0 ]; then sudo_cmd=(); else sudo_cmd=(sudo); fi
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
fi

log "installing the pinned Claude Code CLI"
cli=$(scripts/setup/install-claude-cli.sh | tail -n 1)
export CLAUDE_CODE_CLI_PATH="$cli"
log "CLI: $CLAUDE_CODE_CLI_PATH ($("$CLAUDE_CODE_CLI_PATH" --version))"

if [ -x scripts/setup/install-python-reference.sh ]; then
    log "installing the Python reference SDKs"
    scripts/setup/install-python-reference.sh >/dev/null
fi

# Real-CLI tests must run, never skip.
export CLAUDE_SDK_REQUIRE_REAL_CLI=1
# So must the PostgreSQL backend's tests: they run against a throwaway server (below) and fail,
# never skip, when it is not reachable.
export CLAUDE_SDK_REQUIRE_POSTGRES=1
# And the HTML export's browser check (Debian's chromium, installed above).
export CLAUDE_SDK_REQUIRE_CHROMIUM=1

log "building"
mkdir -p .build
if ! swift build --build-tests >.build/build-output.txt 2>&1; then
    grep -E 'error|warning: unre' .build/build-output.txt | head -50 >&2 || true
    tail -n 20 .build/build-output.txt >&2
    exit 1
fi

log "testing (with a throwaway PostgreSQL server on 127.0.0.1 for the PostgreSQL backend)"
# Tests that assert wall-clock promptness (a dead database reported in under a second, a stream
# stopped at once) run in a second pass of their own: in the main, parallel pass they compete for
# Swift's cooperative pool (one thread per core) with tests that wait for child processes. So does
# four servers migrating one schema at once (0.1 s alone; once past its 30 s deadline in the main pass).
timing='serversMigratingAtOnceApplyEachStepOnce|PostgresServerDownTests|stopCutsSlowStream|stallInterruptAndDisconnect|LaggingConsumerProcessTests|ignoreEOFEscalatesToSIGKILL|OrphanRealCLITests|exitAtStart|processGroupIsTornDown|FakeMessagesAPITests/waitForRequests'
# The PostgreSQL suites run in a pass of their own too: an append computes its full-text
# vectors in the server, and with the ~500 other tests on two cores single appends took 4-10 s
# and some passed the store's 30 s deadline (alone, the suites take 40 s with none over 3 s).
# The server's log is kept in .build/postgres-server*.log.
postgres='ClaudeCodeSessionsPostgresTests|ToolPostgresTests|ToolPostgresExtraTests'
status=0
if [ $# -eq 0 ]; then
    POSTGRES_LOG_COPY=.build/postgres-server.log \
        scripts/test/with-postgres.sh swift test --skip-build --skip "$timing|$postgres" >.build/test-output.txt 2>&1 ||
        status=$?
    grep -E '^(✘|✔ Suite|✘ Suite)|error:|Fatal error' .build/test-output.txt || true
    tail -n 3 .build/test-output.txt
    log "PostgreSQL suites, on their own"
    POSTGRES_LOG_COPY=.build/postgres-server-suites.log \
        scripts/test/with-postgres.sh swift test --skip-build --filter "$postgres" --skip "$timing" \
        >.build/test-output-postgres.txt 2>&1 || status=$?
    grep -E '^(✘|✔ Suite|✘ Suite)|error:|Fatal error' .build/test-output-postgres.txt || true
    tail -n 3 .build/test-output-postgres.txt
    log "timing tier, alone"
    scripts/test/with-postgres.sh swift test --skip-build --filter "$timing" >.build/test-output-timing.txt 2>&1 || status=$?
    grep -E '^(✘|✔ Suite|✘ Suite)|error:|Fatal error' .build/test-output-timing.txt || true
    tail -n 3 .build/test-output-timing.txt
    # The public surface from outside (a throwaway package must compile against the public API
    # and must not see the package-only JSON machinery), and every library's documentation.
    log "checking the public API from a throwaway package"
    scripts/test/check-public-api.sh >.build/public-api-output.txt 2>&1 || {
        status=1
        tail -n 20 .build/public-api-output.txt
    }
    log "generating the documentation of every library (a DocC warning, such as a broken link, fails)"
    swift package generate-documentation --warnings-as-errors --target ClaudeCode --target ClaudeCodeSessions \
        --target ClaudeCodeSessionsSQLite --target ClaudeCodeSessionsPostgres --target ClaudeCodeTesting \
        >.build/docs-output.txt 2>&1 || {
        status=1
        # Errors first (the dependencies' resource warnings would fill the excerpt).
        grep -E -A3 '^error' .build/docs-output.txt | head -30
        grep -E -A3 '^warning' .build/docs-output.txt | grep -v -e 'swift-distributed-tracing' -e CMakeLists | head -10
    }
    # The benchmarks live in a package of their own (Benchmarks/); it must keep building.
    log "building the benchmark package (Benchmarks/)"
    swift build --package-path Benchmarks >.build/benchmarks-build-output.txt 2>&1 || {
        status=1
        grep -E 'error' .build/benchmarks-build-output.txt | head -30
        tail -n 5 .build/benchmarks-build-output.txt
    }
else
    scripts/test/with-postgres.sh swift test --skip-build "$@" >.build/test-output.txt 2>&1 || status=$?
    grep -E '^(✘|✔ Suite|✘ Suite)|error:|Fatal error' .build/test-output.txt || true
    tail -n 3 .build/test-output.txt
fi
exit "$status"
