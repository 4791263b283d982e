#!/usr/bin/env bash
# Formats every Swift file git knows, then lints. `scripts/dev/format.sh --check` only lints.
set -euo pipefail
cd "$(dirname "$0")/../.."
mapfile -t files < <(git ls-files '*.swift')
if [ "${1:-}" != "--check" ]; then
    swift format format --in-place --parallel "${files[@]}"
fi
swift format lint --parallel "${files[@]}"
