#!/usr/bin/env bash
# Installs the pinned real Claude Code CLI (the native binary bundled in the
# claude-agent-sdk wheel) into <repo>/.claude-cli/<version>/claude, without npm.
#
# Usage: scripts/setup/install-claude-cli.sh
# The last line on stdout is the absolute path of the installed binary.
#
# Environment:
#   CLAUDE_CLI_WHEEL_DIR  where to look for / download the wheel (default /tmp/wheels)
#   PIP                   pip command to use (default: "python3 -m pip")
set -euo pipefail

CLI_VERSION="2.1.331"
SDK_VERSION="0.2.188"
MEMBER="claude_agent_sdk/_bundled/claude"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
install_dir="${repo_root}/.claude-cli/${CLI_VERSION}"
target="${install_dir}/claude"
wheel_dir="${CLAUDE_CLI_WHEEL_DIR:-/tmp/wheels}"

log() { printf '%s\n' "$*" >&2; }

# Runs `claude --version` with a throwaway HOME so the check never touches the real one.
cli_version_ok() {
    local bin="$1" scratch out
    [[ -x "$bin" ]] || return 1
    scratch="$(mktemp -d)"
    out="$(HOME="$scratch" CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 "$bin" --version 2>/dev/null || true)"
    rm -rf "$scratch"
    [[ "$out" == *"$CLI_VERSION"* ]]
}

if cli_version_ok "$target"; then
    log "claude ${CLI_VERSION} already installed"
    printf '%s\n' "$target"
    exit 0
fi

find_wheel() {
    local w
    for w in "$wheel_dir"/claude_agent_sdk-"${SDK_VERSION}"-*.whl; do
        [[ -f "$w" ]] && { printf '%s\n' "$w"; return 0; }
    done
    return 1
}

wheel="$(find_wheel || true)"
if [[ -z "$wheel" ]]; then
    log "downloading claude-agent-sdk==${SDK_VERSION} into ${wheel_dir}"
    mkdir -p "$wheel_dir"
    ${PIP:-python3 -m pip} download --quiet --no-deps --only-binary=:all: \
        --dest "$wheel_dir" "claude-agent-sdk==${SDK_VERSION}" >&2
    wheel="$(find_wheel || true)"
    if [[ -z "$wheel" ]]; then
        log "error: no claude_agent_sdk-${SDK_VERSION} wheel found in ${wheel_dir} after pip download"
        exit 1
    fi
fi
log "extracting ${MEMBER} from $(basename "$wheel")"

mkdir -p "$install_dir"
partial="$(mktemp "${install_dir}/.claude.partial.XXXXXX")"
trap 'rm -f "$partial"' EXIT
if command -v unzip >/dev/null 2>&1; then
    unzip -p "$wheel" "$MEMBER" > "$partial"
else
    python3 - "$wheel" "$MEMBER" "$partial" <<'PY'
import shutil, sys, zipfile
wheel, member, dest = sys.argv[1:4]
with zipfile.ZipFile(wheel) as zf, zf.open(member) as src, open(dest, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
fi
chmod 755 "$partial"
mv -f "$partial" "$target"
trap - EXIT

if ! cli_version_ok "$target"; then
    log "error: ${target} --version did not report ${CLI_VERSION}"
    exit 1
fi
log "installed claude ${CLI_VERSION}"
printf '%s\n' "$target"
