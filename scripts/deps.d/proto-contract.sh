#!/usr/bin/env bash
# Tools for the protobuf contract tests (tests/contract/): protoc and
# python3-protobuf (the second, independent protobuf implementation) from
# Debian, and buf (lint and breaking-change checks) from npm, pinned in
# tools/proto-contract/package-lock.json and installed there with `npm ci`.
# Idempotent: checks before installing, so a second run is instant.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PACKAGES=(protobuf-compiler python3-protobuf)
# A node/npm from elsewhere (e.g. nodesource) is fine: npm is all we need.
command -v npm >/dev/null || PACKAGES+=(nodejs npm)
ta_apt_ensure "${PACKAGES[@]}"

# npm ci only when the pinned buf is not there yet (or the lock changed).
ta_npm_ci tools/proto-contract buf
