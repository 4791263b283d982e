#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL server on 127.0.0.1, then stops and removes it.
#
#   scripts/test/with-postgres.sh swift test --filter ClaudeCodeSessionsPostgresTests
#
# Installs Debian's `postgresql` when it is missing, creates a cluster with `initdb` in a temp
# folder (as the `postgres` user when run as root: the server refuses root), starts it with
# `pg_ctl` on a free port, creates a role and a database with a random password, and runs the
# command with PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE exported. The cluster is always
# stopped and removed, whatever the command does (EXIT/INT/TERM trap); the command's exit status
# is passed on.
#
# Environment:
#   TEST_POSTGRES_SERVER_OPTIONS  extra `postgres` options, e.g. "-c fsync=off"
#   POSTGRES_LOG_COPY             a path the server's log is copied to before the cluster goes
set -euo pipefail

if [ $# -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGUMENT...]" >&2
    exit 2
fi

log() { printf '[with-postgres] %s\n' "$*" >&2; }

find_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ]; then printf '%s\n' "$dir"; fi
}

bindir=$(find_bindir)
if [ -z "$bindir" ]; then
    log "installing Debian's postgresql"
    if [ "$(id -u)" = 0 ]; then sudo_cmd=(); else sudo_cmd=(sudo); fi
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    bindir=$(find_bindir)
    [ -n "$bindir" ] || { log "postgresql installed but pg_ctl/initdb not found under /usr/lib/postgresql"; exit 1; }
fi

# The server refuses to run as root: run its programs as `postgres` then.
if [ "$(id -u)" = 0 ]; then
    as_server() { runuser -u postgres -- "$@"; }
else
    as_server() { "$@"; }
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/claude-test-pg.XXXXXX")
chmod 700 "$scratch"
if [ "$(id -u)" = 0 ]; then chown postgres: "$scratch"; fi
started=0

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [ "$started" = 1 ]; then
        as_server "$bindir/pg_ctl" -D "$scratch/data" -m fast -w stop >/dev/null 2>&1 || {
            log "fast stop failed; stopping immediately"
            as_server "$bindir/pg_ctl" -D "$scratch/data" -m immediate -w stop >/dev/null 2>&1 || true
        }
    fi
    # The server's log outlives the server (for a failed run).
    if [ -n "${POSTGRES_LOG_COPY:-}" ] && [ -f "$scratch/server.log" ]; then
        cp "$scratch/server.log" "$POSTGRES_LOG_COPY" 2>/dev/null || true
    fi
    rm -rf "$scratch"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
user=claude_test
database=claude_test

as_server "$bindir/initdb" -D "$scratch/data" -U postgres --no-locale -E UTF8 --no-sync \
    --auth-local=trust --auth-host=scram-sha-256 >"$scratch/initdb.log" 2>&1 || {
    cat "$scratch/initdb.log" >&2
    exit 1
}

# A free port can be taken between the check and the start: try a few.
port=""
for _ in 1 2 3 4 5; do
    candidate=$(free_port)
    # shellcheck disable=SC2086
    if as_server "$bindir/pg_ctl" -D "$scratch/data" -l "$scratch/server.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $candidate -k $scratch -c max_connections=200 ${TEST_POSTGRES_SERVER_OPTIONS:-}" \
        >/dev/null 2>&1; then
        port=$candidate
        started=1
        break
    fi
done
if [ -z "$port" ]; then
    log "the server did not start:"
    tail -n 20 "$scratch/server.log" >&2 || true
    exit 1
fi

# Role and database, over the cluster's own socket (trust), with the password bound as a psql variable.
as_server "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$scratch" -p "$port" -U postgres -d postgres \
    -v user="$user" -v password="$password" -v database="$database" <<'SQL' >/dev/null
CREATE ROLE :"user" LOGIN PASSWORD :'password';
CREATE DATABASE :"database" OWNER :"user";
SQL

log "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (cluster in $scratch)"

export PGHOST=127.0.0.1 PGPORT="$port" PGUSER="$user" PGPASSWORD="$password" PGDATABASE="$database"
status=0
"$@" || status=$?
exit "$status"
