#!/usr/bin/env bash
# Configures and builds the tree out of source:
#   scripts/build.sh [DIR [cmake options...]]
# DIR defaults to build/ (RelWithDebInfo unless an option says otherwise).
# TA_JOBS sets the parallel jobs (default: the number of CPUs).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dir=${1:-build}
[ $# -gt 0 ] && shift
case "$dir" in /*) ;; *) dir="$TA_ROOT/$dir" ;; esac

# Under make, the inherited MAKEFLAGS would make the inner build print
# directory lines and fight over make's jobserver.
unset MAKEFLAGS MFLAGS MAKELEVEL

cmake -S "$TA_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$dir" -j "$(ta_jobs)"
