#!/usr/bin/env bash
# Tools for the discovery fault tests (tests/fault/test_discovery.py):
# dnsmasq from dnsmasq-base (the binary only, no system service) is the
# test's stand-in for AWS Cloud Map, a DNS server on a loopback port that
# answers one name with several A records. Idempotent: checks with
# dpkg-query first, so a second run is instant.
set -euo pipefail

PACKAGES=(dnsmasq-base)

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null ||
	    { echo "taskapi: error: not root and no sudo" >&2; exit 1; }
	sudo=(sudo -n)
fi

missing=()
for p in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "taskapi: installing missing packages: ${missing[*]}" >&2
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends "${missing[@]}" </dev/null
fi
