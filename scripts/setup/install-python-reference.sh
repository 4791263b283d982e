#!/usr/bin/env bash
# Creates <repo>/.venv-ref with the reference Python implementations used by
# differential tests and benchmarks:
#   claude-agent-sdk==0.2.188, claude-code-session-client==0.0.1
#
# Usage: scripts/setup/install-python-reference.sh
# The last line on stdout is the absolute path of the venv's python.
# Idempotent: when the venv already has both pinned packages, no pip call is made.
#
# Environment:
#   PYTHON                interpreter used to create the venv (default python3)
#   CLAUDE_CLI_WHEEL_DIR  a directory that may hold a cached claude-agent-sdk wheel (default /tmp/wheels)
set -euo pipefail

SDK_VERSION="0.2.188"
SESSION_CLIENT_VERSION="0.0.1"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
venv="${repo_root}/.venv-ref"
py="${venv}/bin/python"
wheel_dir="${CLAUDE_CLI_WHEEL_DIR:-/tmp/wheels}"

log() { printf '%s\n' "$*" >&2; }

installed_ok() {
    [[ -x "$py" ]] || return 1
    "$py" - "$SDK_VERSION" "$SESSION_CLIENT_VERSION" <<'PY' >/dev/null 2>&1
import sys
from importlib.metadata import version
sys.exit(0 if version("claude-agent-sdk") == sys.argv[1]
         and version("claude-code-session-client") == sys.argv[2] else 1)
PY
}

if installed_ok; then
    log "reference venv already set up"
    printf '%s\n' "$py"
    exit 0
fi

if [[ ! -x "$py" ]]; then
    log "creating ${venv}"
    "${PYTHON:-python3}" -m venv "$venv"
fi

# Prefer a cached wheel for the (large) SDK when one is around; its deps come from the index.
find_links=()
if compgen -G "${wheel_dir}/claude_agent_sdk-${SDK_VERSION}-*.whl" >/dev/null; then
    find_links=(--find-links "$wheel_dir")
fi

log "installing claude-agent-sdk==${SDK_VERSION} claude-code-session-client==${SESSION_CLIENT_VERSION}"
"$py" -m pip install --quiet --disable-pip-version-check "${find_links[@]}" \
    "claude-agent-sdk==${SDK_VERSION}" \
    "claude-code-session-client==${SESSION_CLIENT_VERSION}" >&2

if ! installed_ok; then
    log "error: the reference venv does not report the pinned versions"
    exit 1
fi
printf '%s\n' "$py"
