#!/usr/bin/env bash
# Installs the Debian 12 packages taskapi needs to build, run and test, when
# one is missing. Checks with dpkg-query first, so a second run is instant;
# runs apt-get update once and only when something must be installed. Uses
# sudo when not root. Never reads stdin (works in CI). Then runs every
# scripts/deps.d/*.sh (tools of one part of the tree, same rules), in name
# order.
set -euo pipefail

PACKAGES=(
	build-essential cmake pkg-config
	protobuf-c-compiler libprotobuf-c-dev libprotobuf-dev
	libnng-dev libmicrohttpd-dev libpq-dev libjwt-dev libcjson-dev
	libsodium-dev libcrypt-dev libcmocka-dev libutf8proc-dev
	postgresql python3 curl
)

if ! command -v dpkg-query >/dev/null; then
	echo "taskapi: error: dpkg-query not found; these scripts need Debian 12" >&2
	exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "taskapi: installing missing packages: ${missing[*]}" >&2
	sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null ||
		    { echo "taskapi: error: not root and no sudo; install as root: ${missing[*]}" >&2; exit 1; }
		sudo=(sudo -n)
		# -n fails instead of asking; ask once up front on a terminal.
		if [ -t 0 ] && ! sudo -n true 2>/dev/null; then
			sudo -v
		fi
	fi
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends "${missing[@]}" </dev/null
fi

for extra in "$(dirname "$0")"/deps.d/*.sh; do
	[ -e "$extra" ] || continue
	bash "$extra" </dev/null
done
