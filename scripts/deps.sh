#!/usr/bin/env bash
# Installs the Debian 12 packages taskapi needs to build, run and test, when
# one is missing. Checks with dpkg-query first, so a second run is instant;
# runs apt-get update once and only when something must be installed. Uses
# sudo when not root. Never reads stdin (works in CI).
set -euo pipefail

PACKAGES=(
	build-essential cmake pkg-config
	protobuf-c-compiler libprotobuf-c-dev libprotobuf-dev
	libnng-dev libmicrohttpd-dev libpq-dev libjwt-dev libcjson-dev
	libsodium-dev libcrypt-dev libcmocka-dev
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
[ ${#missing[@]} -eq 0 ] && exit 0

echo "taskapi: installing missing packages: ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null ||
	    { echo "taskapi: error: not root and no sudo; install as root: ${missing[*]}" >&2; exit 1; }
	sudo=(sudo -n)
	# -n fails instead of asking; ask once up front when a terminal is there.
	if [ -t 0 ] && ! sudo -n true 2>/dev/null; then
		sudo -v
	fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends "${missing[@]}" </dev/null
