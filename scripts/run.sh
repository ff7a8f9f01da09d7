#!/usr/bin/env bash
# make run: the whole system on this machine. Installs missing packages,
# builds build/, starts the private PostgreSQL cluster of this checkout
# (created once, data kept between runs), migrates it, starts auth-svc,
# task-svc and edge-api with their JSON logs on this terminal, waits until
# the health routes answer and prints the URL (the browser console is at
# that URL's /). Ctrl-C or SIGTERM stops the
# three services and the cluster; the data stays.
#
# Settings (environment): PORT (edge-api HTTP, 8080), AUTH and TASK (how
# many auth-svc / task-svc instances: 1 each, at most 10; instance i
# listens on AUTH_PORT + 10*i / TASK_PORT + 10*i and the edge dials them
# all), AUTH_PORT (7001), TASK_PORT (7002), DB_PORT (cluster port when it is first created: 5433, or
# a free one when 5433 is taken; remembered; set it again to move the
# cluster), JWT_SECRET and RPC_AUTH_KEY (default: each generated once and
# kept in the state directory), TA_STATE_DIR (where the cluster lives; see scripts/pg.sh),
# CORS_ALLOWED_ORIGINS (default: the usual local front-end origins on
# localhost and 127.0.0.1, ports 3000, 5173 and 8080), and any setting the
# services read (LOG_LEVEL, DB_POOL_SIZE, ...).
set -euo pipefail
. "$(dirname "$0")/pg.sh"

PORT=${PORT:-8080}
# A browser front end served by a local dev server may call the API.
cors_local=""
for h in localhost 127.0.0.1; do
	for p in 3000 5173 8080; do
		cors_local+="${cors_local:+,}http://$h:$p"
	done
done
export CORS_ALLOWED_ORIGINS=${CORS_ALLOWED_ORIGINS-$cors_local}
AUTH_PORT=${AUTH_PORT:-7001}
TASK_PORT=${TASK_PORT:-7002}
AUTH=${AUTH:-1}
TASK=${TASK:-1}
for n in "$AUTH" "$TASK"; do
	[[ "$n" =~ ^([1-9]|10)$ ]] ||
	    ta_die "AUTH and TASK are instance counts from 1 to 10 (got '$n')"
done

# Instance i of a worker listens on its base port + 10*i.
auth_ports=() task_ports=()
for ((i = 0; i < AUTH; i++)); do auth_ports+=($((AUTH_PORT + 10 * i))); done
for ((i = 0; i < TASK; i++)); do task_ports+=($((TASK_PORT + 10 * i))); done
join_urls() {
	local IFS=,
	local urls=()
	for p in "$@"; do urls+=("tcp://127.0.0.1:$p"); done
	echo "${urls[*]}"
}

"$TA_ROOT/scripts/deps.sh"
"$TA_ROOT/scripts/build.sh" build taskapi-migrate auth-svc task-svc edge-api

bin="$TA_ROOT/build/bin"
for b in taskapi-migrate auth-svc task-svc edge-api; do
	[ -x "$bin/$b" ] || ta_die "$bin/$b was not built"
done
for p in "$PORT" "${auth_ports[@]}" "${task_ports[@]}"; do
	ta_port_free "$p" ||
	    ta_die "port $p is already in use; stop what uses it or set PORT / AUTH_PORT / TASK_PORT"
done

state=$(ta_pg_state_dir)
if ! ta_pg_exists "$state"; then
	port=${DB_PORT:-5433}
	if [ -z "${DB_PORT:-}" ] && ! ta_port_free "$port"; then
		port=$(ta_free_port)
	fi
	ta_say "creating the local PostgreSQL cluster in $state (port $port)"
	ta_pg_init "$state" "$port"
elif [ -n "${DB_PORT:-}" ]; then
	echo "$DB_PORT" >"$state/port"
fi
port=$(ta_pg_port "$state")

pids=()
cleanup() {
	trap - INT TERM
	local pid
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		# Give each service 10 s to finish in-flight calls, then kill it.
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	ta_pg_stop "$state" || true
	ta_say "stopped (data kept in $state)"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ta_pg_start "$state"
ta_pg_createdb "$state" taskmanagement

export DB_HOST=127.0.0.1 DB_PORT=$port DB_NAME=taskmanagement DB_USER=taskapi
"$bin/taskapi-migrate"

if [ -z "${JWT_SECRET:-}" ]; then
	secret_file="$state/jwt_secret"
	if [ ! -s "$secret_file" ]; then
		# 64 URL-safe characters (48 random bytes); never printed.
		(umask 077 && python3 -c \
		    'import secrets; print(secrets.token_urlsafe(48), end="")' \
		    >"$secret_file")
	fi
	JWT_SECRET=$(cat "$secret_file")
fi
export JWT_SECRET

# The internal key the edge signs worker calls with (docs/caller-auth.md).
if [ -z "${RPC_AUTH_KEY:-}" ]; then
	key_file="$state/rpc_auth_key"
	if [ ! -s "$key_file" ]; then
		# 64 hex characters (32 random bytes); never printed.
		(umask 077 && python3 -c \
		    'import secrets; print(secrets.token_hex(32), end="")' \
		    >"$key_file")
	fi
	RPC_AUTH_KEY=$(cat "$key_file")
fi
export RPC_AUTH_KEY

for p in "${auth_ports[@]}"; do
	RPC_LISTEN="tcp://127.0.0.1:$p" "$bin/auth-svc" &
	pids+=($!)
done
for p in "${task_ports[@]}"; do
	RPC_LISTEN="tcp://127.0.0.1:$p" "$bin/task-svc" &
	pids+=($!)
done
PORT=$PORT AUTH_RPC_URL=$(join_urls "${auth_ports[@]}") \
    TASK_RPC_URL=$(join_urls "${task_ports[@]}") "$bin/edge-api" &
pids+=($!)

url="http://localhost:$PORT"
healthy=0
for _ in $(seq 300); do
	for pid in "${pids[@]}"; do
		kill -0 "$pid" 2>/dev/null ||
		    ta_die "a service exited during start-up; see its log lines above"
	done
	if curl -fsS -o /dev/null "$url/health" 2>/dev/null &&
	    curl -fsS -o /dev/null "$url/auth/health" 2>/dev/null &&
	    curl -fsS -o /dev/null "$url/tasks/health" 2>/dev/null; then
		healthy=1
		break
	fi
	sleep 0.1
done
[ "$healthy" = 1 ] || ta_die "the services did not become healthy within 30 s"

cat >&2 <<MSG

taskapi is running at $url   (Ctrl-C stops it; data is kept)
Console (open in a browser): $url/
auth-svc x$AUTH on ${auth_ports[*]}, task-svc x$TASK on ${task_ports[*]}
Try it (registering answers 409 once the user demo exists):

  curl -s -X POST $url/auth/register -H 'Content-Type: application/json' \\
    -d '{"username":"demo","email":"demo@example.com","password":"demo-password-1"}'
  TOKEN=\$(curl -s -X POST $url/auth/login -H 'Content-Type: application/json' \\
    -d '{"username":"demo","password":"demo-password-1"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  curl -s -X POST $url/tasks -H "Authorization: Bearer \$TOKEN" \\
    -H 'Content-Type: application/json' -d '{"title":"Try taskapi"}'
  curl -s $url/tasks -H "Authorization: Bearer \$TOKEN"

MSG

# Runs until a signal arrives (the traps exit) or a service stops by itself.
set +e
wait -n "${pids[@]}"
rc=$?
set -e
# A service that exits 0 was stopped on purpose (Ctrl-C reaches the whole
# process group, and the services may see it before this script does).
if [ "$rc" -eq 0 ]; then
	exit 0
fi
ta_die "a service stopped unexpectedly (exit $rc); stopping the rest"
