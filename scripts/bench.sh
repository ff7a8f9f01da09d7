#!/usr/bin/env bash
# make bench: builds build/, starts a throwaway PostgreSQL on a free port,
# migrates it and runs bench/bench.py (wrk against the three real
# processes, pgbench with the exact SQL of each scenario against the same
# cluster; figures as ratios measured in the same run). The cluster keeps
# fsync and synchronous_commit on, so writes pay a WAL flush as in
# production.
set -euo pipefail
. "$(dirname "$0")/pg.sh"

"$TA_ROOT/scripts/deps.sh"
ta_apt_ensure wrk
"$TA_ROOT/scripts/build.sh" build

tmp=$(mktemp -d -t taskapi-bench.XXXXXX)
cleanup() {
	ta_pg_stop "$tmp" || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port=$(ta_free_port)
ta_pg_init "$tmp" "$port" keep
ta_pg_start "$tmp"
ta_pg_createdb "$tmp" taskmanagement
export DB_HOST=127.0.0.1 DB_PORT=$port DB_NAME=taskmanagement DB_USER=taskapi
export TA_BIN_DIR="$TA_ROOT/build/bin" TA_BENCH_PG_LOG="$tmp/pg/postgres.log"
unset DB_PASSWORD DB_SSLMODE MIGRATIONS_DIR
"$TA_ROOT/build/bin/taskapi-migrate" >"$tmp/migrate.log" ||
    { cat "$tmp/migrate.log" >&2; ta_die "taskapi-migrate failed"; }
python3 "$TA_ROOT/bench/bench.py"
