#!/usr/bin/env bash
# A private PostgreSQL 15 cluster for make run and make test, created with
# initdb and run with pg_ctl, listening on 127.0.0.1 only with trust auth
# for the role taskapi. Source it for the ta_pg_* functions, or call it:
#
#   scripts/pg.sh init DIR PORT [throwaway]   create the cluster in DIR
#   scripts/pg.sh start DIR | stop DIR | status DIR
#   scripts/pg.sh createdb DIR NAME           create database NAME if absent
#   scripts/pg.sh port DIR                    print the cluster's port
#   scripts/pg.sh state-dir                   where make run keeps its cluster
#
# Layout of DIR: port (the port, remembered between runs), pg/data (PGDATA),
# pg/sock (unix socket), pg/postgres.log. PostgreSQL refuses to run as root,
# so as root the pg/ part belongs to the postgres user that Debian's
# postgresql package creates and the commands run as that user (runuser);
# every directory above DIR must let that user through.

_TA_PG_LIB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
# shellcheck source=lib.sh
. "$_TA_PG_LIB"

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# Runs a server-side command as the cluster's owner, from a directory that
# user can enter (initdb and postgres complain about an unreachable cwd).
_ta_pg_as() {
	local dir=$1
	shift
	if ta_is_root; then
		(cd "$dir/pg" && runuser -u postgres -- "$@")
	else
		(cd "$dir/pg" && "$@")
	fi
}

# Where make run keeps its cluster, its port and the local JWT secret. As an
# ordinary user: the checkout's git-ignored .local/. As root: a directory
# per checkout in the postgres user's home, which that user can always
# reach (a checkout under /root is not reachable) and which no temp-file
# cleaner empties. TA_STATE_DIR overrides both.
ta_pg_state_dir() {
	if [ -n "${TA_STATE_DIR:-}" ]; then
		echo "$TA_STATE_DIR"
	elif ta_is_root; then
		local home hash
		home=$(getent passwd postgres | cut -d: -f6)
		[ -n "$home" ] || ta_die "no postgres user: run scripts/deps.sh"
		hash=$(printf '%s' "$TA_ROOT" | sha256sum | cut -c1-12)
		echo "$home/taskapi-$hash"
	else
		echo "$TA_ROOT/.local/run"
	fi
}

ta_pg_port() {
	cat "$1/port"
}

ta_pg_exists() {
	[ -f "$1/pg/data/PG_VERSION" ]
}

ta_pg_running() {
	ta_pg_exists "$1" &&
	    _ta_pg_as "$1" "$PG_BIN/pg_ctl" -D "$1/pg/data" status >/dev/null 2>&1
}

# ta_pg_init DIR PORT [throwaway]: throwaway trades durability for speed
# (--no-sync, fsync=off); never for data a user keeps.
ta_pg_init() {
	local dir=$1 port=$2 mode=${3:-keep} sock
	[ -x "$PG_BIN/initdb" ] || ta_die "$PG_BIN/initdb not found: run scripts/deps.sh"
	ta_pg_exists "$dir" && ta_die "a cluster already exists in $dir"
	mkdir -p "$dir/pg/sock"
	chmod 0711 "$dir"
	chmod 0700 "$dir/pg"
	if ta_is_root; then
		chown -R postgres: "$dir/pg"
		runuser -u postgres -- test -x "$dir/pg" ||
		    ta_die "the postgres user cannot reach $dir (a parent directory lacks o+x); set TA_STATE_DIR"
	fi
	local sync=()
	[ "$mode" = throwaway ] && sync=(--no-sync)
	_ta_pg_as "$dir" "$PG_BIN/initdb" -D "$dir/pg/data" -U taskapi \
	    --auth=trust --encoding=UTF8 --locale=C.UTF-8 "${sync[@]}" \
	    >"$dir/pg/initdb.log" 2>&1 ||
	    { cat "$dir/pg/initdb.log" >&2; ta_die "initdb failed"; }
	# Unix socket paths are limited to 107 bytes; a deep checkout goes TCP only.
	sock="$dir/pg/sock"
	[ ${#sock} -le 90 ] || sock=""
	{
		echo "# taskapi private cluster: loopback TCP only"
		echo "listen_addresses = '127.0.0.1'"
		echo "port = $port"
		echo "unix_socket_directories = '$sock'"
		if [ "$mode" = throwaway ]; then
			echo "fsync = off"
			echo "synchronous_commit = off"
			echo "full_page_writes = off"
		fi
	} | _ta_pg_as "$dir" tee -a "$dir/pg/data/postgresql.conf" >/dev/null
	echo "$port" >"$dir/port"
}

# Starts the cluster on the port in DIR/port; a running one is left alone.
ta_pg_start() {
	local dir=$1 port
	port=$(ta_pg_port "$dir")
	ta_pg_running "$dir" && return 0
	ta_port_free "$port" ||
	    ta_die "PostgreSQL port $port is already in use by another program (DB_PORT=<port> moves the cluster)"
	_ta_pg_as "$dir" "$PG_BIN/pg_ctl" -D "$dir/pg/data" \
	    -l "$dir/pg/postgres.log" -o "-p $port" -w -t 60 -s start ||
	    { tail -n 20 "$dir/pg/postgres.log" >&2; ta_die "PostgreSQL did not start (log: $dir/pg/postgres.log)"; }
}

ta_pg_stop() {
	local dir=$1
	ta_pg_running "$dir" || return 0
	_ta_pg_as "$dir" "$PG_BIN/pg_ctl" -D "$dir/pg/data" -m fast -w -t 60 \
	    -s stop
}

ta_pg_createdb() {
	local dir=$1 name=$2 port found
	port=$(ta_pg_port "$dir")
	found=$(psql -X -At -h 127.0.0.1 -p "$port" -U taskapi -d postgres \
	    -c "SELECT 1 FROM pg_database WHERE datname = '$name'")
	[ "$found" = 1 ] ||
	    createdb -h 127.0.0.1 -p "$port" -U taskapi "$name"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	cmd=${1:-}
	case "$cmd" in
	init) ta_pg_init "$2" "$3" "${4:-keep}" ;;
	start) ta_pg_start "$2" ;;
	stop) ta_pg_stop "$2" ;;
	status) ta_pg_running "$2" && echo running || { echo stopped; exit 3; } ;;
	createdb) ta_pg_createdb "$2" "$3" ;;
	port) ta_pg_port "$2" ;;
	state-dir) ta_pg_state_dir ;;
	*) sed -n '2,20p' "$0" >&2; exit 2 ;;
	esac
fi
