# Shared helpers for the scripts: the checkout's root, messages, ports.
# Sourced, never run.

TA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

ta_say() {
	printf 'taskapi: %s\n' "$*" >&2
}

ta_die() {
	printf 'taskapi: error: %s\n' "$*" >&2
	exit 1
}

ta_is_root() {
	[ "$(id -u)" -eq 0 ]
}

# Parallel build jobs: TA_JOBS, else the number of CPUs.
ta_jobs() {
	echo "${TA_JOBS:-$(nproc)}"
}

# True when nothing listens on TCP port $1 (any address). SO_REUSEADDR as the
# servers set it, so sockets in TIME_WAIT do not count as busy.
ta_port_free() {
	python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("0.0.0.0", int(sys.argv[1])))
except OSError:
    sys.exit(1)
PY
}

# A TCP port on 127.0.0.1 that was free a moment ago.
ta_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
