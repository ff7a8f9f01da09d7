#!/usr/bin/env bash
# Tools for the console's browser tests (tests/browser/): Debian's
# chromium, driven headless by playwright-core, and axe-core for the
# accessibility scan, both from npm, pinned in tools/browser/package-lock.json
# and installed there with `npm ci` (playwright-core never downloads a
# browser of its own: the tests point it at Debian's). fonts-dejavu-core
# gives the screenshots readable text. Idempotent: checks before
# installing, so a second run is instant.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PACKAGES=(chromium fonts-dejavu-core)
command -v npm >/dev/null || PACKAGES+=(nodejs npm)
ta_apt_ensure "${PACKAGES[@]}"

ta_npm_ci tools/browser playwright-core
