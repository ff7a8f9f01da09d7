# Shared helpers for the scripts: the checkout's root, messages, ports,
# Debian and npm installs.
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

# Installs those of the Debian packages "$@" that dpkg-query does not list as
# installed, with apt-get (through sudo -n when not root; on a terminal sudo
# may ask once first), never reading stdin. Runs apt-get update at most once
# per shell, and only when something must be installed, so a second run
# costs one dpkg-query a package. Returns non-zero when apt-get fails, also
# where the caller's set -e is off (as in `cmd || ta_apt_ensure pkg`).
ta_apt_ensure() {
	local p status
	local -a missing=() sudo=()

	command -v dpkg-query >/dev/null ||
	    ta_die "dpkg-query not found; these scripts need Debian 12"
	for p in "$@"; do
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[ "$status" = "install ok installed" ] || missing+=("$p")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	ta_say "installing missing packages: ${missing[*]}"
	if ! ta_is_root; then
		command -v sudo >/dev/null ||
		    ta_die "not root and no sudo; install as root: ${missing[*]}"
		sudo=(sudo -n)
		# -n fails instead of asking; ask once up front on a terminal.
		if [ -t 0 ] && ! sudo -n true 2>/dev/null; then
			sudo -v
		fi
	fi
	if [ -z "${TA_APT_UPDATED:-}" ]; then
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		    apt-get update -q </dev/null || return
		TA_APT_UPDATED=1
	fi
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends "${missing[@]}" </dev/null
}

# Runs `npm ci` in $TA_ROOT/$1 (a folder with a package-lock.json) unless
# node_modules/.bin/$2 is there and the lock is the one it was installed
# from (a copy kept in node_modules/.taskapi-lock). Returns non-zero when an
# install fails, also where the caller's set -e is off.
ta_npm_ci() {
	local dir="$TA_ROOT/$1" bin=$2
	local stamp="$dir/node_modules/.taskapi-lock"

	if [ -x "$dir/node_modules/.bin/$bin" ] && [ -f "$stamp" ] &&
	    cmp -s "$stamp" "$dir/package-lock.json"; then
		return 0
	fi
	ta_say "installing $bin with npm ci in $1"
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error </dev/null) ||
	    return
	cp "$dir/package-lock.json" "$stamp"
}
