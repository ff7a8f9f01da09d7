#!/usr/bin/env bash
# Tools for the libFuzzer targets (tests/fuzz/, make fuzz, the ctest label
# fuzz): clang-16 and its compiler-rt (libFuzzer, ASan, UBSan runtimes) from
# Debian 12. Idempotent: checks with dpkg-query first, so a second run is
# instant.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PACKAGES=(clang-16 libclang-rt-16-dev llvm-16)

ta_apt_ensure "${PACKAGES[@]}"
