#!/usr/bin/env bash
# Tools for the protobuf contract tests (tests/contract/): protoc and
# python3-protobuf (the second, independent protobuf implementation) from
# Debian, and buf (lint and breaking-change checks) from npm, pinned in
# tools/proto-contract/package-lock.json and installed there with `npm ci`.
# Idempotent: checks before installing, so a second run is instant.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tools="$here/tools/proto-contract"
PACKAGES=(protobuf-compiler python3-protobuf nodejs npm)

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
# A node/npm from elsewhere (e.g. nodesource) is fine: npm is all we need.
if command -v npm >/dev/null; then
	keep=()
	for p in "${missing[@]}"; do
		case $p in nodejs|npm) ;; *) keep+=("$p") ;; esac
	done
	missing=("${keep[@]+"${keep[@]}"}")
fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "taskapi: installing missing packages: ${missing[*]}" >&2
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends "${missing[@]}" </dev/null
fi

# npm ci only when the pinned buf is not there yet (or the lock changed).
stamp="$tools/node_modules/.taskapi-lock"
if ! [ -x "$tools/node_modules/.bin/buf" ] || ! [ -f "$stamp" ] ||
    ! cmp -s "$stamp" "$tools/package-lock.json"; then
	echo "taskapi: installing buf with npm ci in tools/proto-contract" >&2
	(cd "$tools" && npm ci --no-audit --no-fund --loglevel=error </dev/null)
	cp "$tools/package-lock.json" "$stamp"
fi
