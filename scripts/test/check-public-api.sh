#!/usr/bin/env bash
# Checks the public surface of the ClaudeCode product from the outside: a throwaway package that
# depends on this one by path must compile a program against the public API (JSONValue, RawJSON,
# JSONParseError, ClaudeCodeOptions), and must NOT compile one that names the package-only JSON
# machinery (JSONReader, JSONObjectScanner, JSONWriter, JSONTape). First, the package must export
# only its libraries and the `claude-sessions` tool (`swift package dump-package`): examples, test
# helpers and benchmarks have no products.
#
#   scripts/test/check-public-api.sh
#
# The throwaway package builds in .build/public-api-check (kept between runs, so only the first
# run builds ClaudeCode and its dependencies; later runs are incremental).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
scratch="$root/.build/public-api-check"

log() { printf '==> %s\n' "$*" >&2; }

log "checking the products (swift package dump-package)"
products=$(swift package dump-package | python3 -c '
import json, sys
for product in json.load(sys.stdin)["products"]:
    print(product["name"], next(iter(product["type"])))')
printf '%s\n' "$products" >&2
unexpected=$(printf '%s\n' "$products" | grep -v -E ' library$|^claude-sessions executable$' || true)
if [ -n "$unexpected" ]; then
    echo "error: products other than libraries and claude-sessions: $unexpected" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
consumer="$work/public-api-consumer"
mkdir -p "$consumer/Sources/PublicAPIConsumer" "$scratch"

cat >"$consumer/Package.swift" <<EOF
// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "public-api-consumer",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "$root")],
    targets: [
        .executableTarget(
            name: "PublicAPIConsumer",
            dependencies: [.product(name: "ClaudeCode", package: "$(basename "$root")")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    ]
)
EOF
# Resolve to the versions this package already uses, when it has resolved them.
if [ -f "$root/Package.resolved" ]; then cp "$root/Package.resolved" "$consumer/Package.resolved"; fi

build() {
    swift build --package-path "$consumer" --scratch-path "$scratch" --product PublicAPIConsumer \
        >"$work/build.txt" 2>&1
}

log "the public API compiles and runs"
cat >"$consumer/Sources/PublicAPIConsumer/main.swift" <<'EOF'
import ClaudeCode

let value = try JSONValue.parse(#"{"id": 42, "tags": ["a", "b"], "ratio": 0.5, "ok": true, "none": null}"#)
precondition(value["id"]?.intValue == 42)
precondition(value["tags"]?[1]?.stringValue == "b")
precondition(value["ratio"]?.doubleValue == 0.5)
let bytes = value.serialized()
let reparsed = try JSONValue.parse(bytes)
precondition(reparsed == value)
precondition(JSONValue.isValid(Array("[1, 2]".utf8)))
try JSONValue.validate(Array("{}".utf8), maximumDepth: 8)

let raw = RawJSON(#"{"type":"system"}"#)
let frame = try raw.value()
precondition(frame["type"] == "system")

do {
    _ = try JSONValue.parse("[1,")
    preconditionFailure("parsed invalid JSON")
} catch {
    let typed: JSONParseError = error
    precondition(typed.offset == 3)
}

var options = ClaudeCodeOptions()
options.model = "claude-sonnet-4-5"
precondition(options.model == "claude-sonnet-4-5")
print("public API: ok")
EOF
start=$SECONDS
if ! build; then
    cat "$work/build.txt" >&2
    log "FAILED: the public API program does not compile"
    exit 1
fi
log "built in $((SECONDS - start)) s"
"$scratch/debug/PublicAPIConsumer"

log "the package-only JSON machinery is out of reach"
cat >"$consumer/Sources/PublicAPIConsumer/main.swift" <<'EOF'
import ClaudeCode

var reader = JSONReader(Array("{}".utf8))
try reader.beginObject()
let scanner = JSONObjectScanner(Array("{}".utf8))
_ = try scanner.members()
var writer = JSONWriter()
writer.writeInteger(1)
var tape = JSONTape()
EOF
start=$SECONDS
if build; then
    log "FAILED: a program using JSONReader, JSONObjectScanner, JSONWriter and JSONTape compiled"
    exit 1
fi
log "refused in $((SECONDS - start)) s"
status=0
for name in JSONReader JSONObjectScanner JSONWriter JSONTape; do
    if grep -E "error: (cannot find '$name' in scope|'$name' is inaccessible)" "$work/build.txt" >/dev/null; then
        log "$name: $(grep -m 1 -oE "error: (cannot find '$name' in scope|'$name' is inaccessible[^\"]*)" "$work/build.txt")"
    else
        log "FAILED: no 'cannot find' or 'inaccessible' error for $name"
        status=1
    fi
done
if [ "$status" -ne 0 ]; then
    cat "$work/build.txt" >&2
    exit 1
fi
log "public API check passed"
