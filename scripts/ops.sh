#!/usr/bin/env bash
# make verify | loadtest | inventory | status | logs: installs what the
# tools need (scripts/deps.d/ops.sh), then runs tools/ops/<command>.py with
# the make variables turned into options (docs/deploy.md):
#   verify     BASE_URL (required), STACK and REGION for the AWS checks;
#              JWT_SECRET is read from the environment, never put on a
#              command line
#   loadtest   BASE_URL (required), DURATION (10m), RATE (peak req/s, 50),
#              MIX (read=60,create=20,update=15,login=5), OUT
#              (build/loadtest), SAMPLE (30s); STACK and REGION for the
#              AWS timeline
#   inventory, status   STACK (taskapi), REGION
#   logs       SERVICE (edge|auth|task, required), SINCE (10m), FOLLOW=1
# Extra arguments go to the tool (make verify ARGS=--insecure).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cmd=${1:-}
shift || true
bash "$TA_ROOT/scripts/deps.d/ops.sh"

args=()
[ -z "${REGION:-}" ] || args+=(--region "$REGION")
need_url() {
	[ -n "${BASE_URL:-}" ] ||
	    ta_die "make $cmd needs BASE_URL=http(s)://host[:port] (make run prints it)"
	args+=(--base-url "$BASE_URL")
}
case $cmd in
verify)
	need_url
	[ -z "${STACK:-}" ] || args+=(--stack "$STACK")
	;;
loadtest)
	need_url
	args+=(--duration "${DURATION:-10m}" --out "${OUT:-$TA_ROOT/build/loadtest}")
	[ -z "${RATE:-}" ] || args+=(--rate "$RATE")
	[ -z "${MIX:-}" ] || args+=(--mix "$MIX")
	[ -z "${SAMPLE:-}" ] || args+=(--sample "$SAMPLE")
	[ -z "${STACK:-}" ] || args+=(--stack "$STACK")
	;;
inventory|status)
	args+=(--stack "${STACK:-taskapi}")
	;;
logs)
	[ -n "${SERVICE:-}" ] || ta_die "make logs needs SERVICE=edge|auth|task"
	args+=(--stack "${STACK:-taskapi}" --service "$SERVICE" --since "${SINCE:-10m}")
	[ "${FOLLOW:-0}" != 1 ] || args+=(--follow)
	;;
*)
	ta_die "usage: scripts/ops.sh verify|loadtest|inventory|status|logs [tool options]"
	;;
esac
exec python3 "$TA_ROOT/tools/ops/$cmd.py" "${args[@]}" "$@"
