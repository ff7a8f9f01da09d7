#!/usr/bin/env bash
# Tools for the OpenAPI checks: python3-jsonschema from Debian (the e2e
# harness validates every response against docs/openapi.json with it) and
# @redocly/cli from npm (tests/contract/test_openapi.py lints the
# document), pinned in tools/openapi/package-lock.json and installed there
# with `npm ci`. Idempotent: checks before installing, so a second run is
# instant.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PACKAGES=(python3-jsonschema)
# A node/npm from elsewhere (e.g. nodesource) is fine: npm is all we need.
command -v npm >/dev/null || PACKAGES+=(nodejs npm)
ta_apt_ensure "${PACKAGES[@]}"

# npm ci only when the pinned redocly is not there yet (or the lock changed).
ta_npm_ci tools/openapi redocly
