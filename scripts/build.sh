#!/usr/bin/env bash
# Configures and builds the tree out of source:
#   scripts/build.sh [DIR [-DOPTION=VALUE... ] [TARGET...]]
# DIR defaults to build/ (RelWithDebInfo unless an option says otherwise);
# without targets everything is built. TA_JOBS sets the parallel jobs
# (default: the number of CPUs).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dir=${1:-build}
[ $# -gt 0 ] && shift
case "$dir" in /*) ;; *) dir="$TA_ROOT/$dir" ;; esac
options=()
targets=()
for a in "$@"; do
	case "$a" in
	-D*) options+=("$a") ;;
	*) targets+=(--target "$a") ;;
	esac
done

# Under make, the inherited MAKEFLAGS would make the inner build print
# directory lines and fight over make's jobserver.
unset MAKEFLAGS MFLAGS MAKELEVEL

cmake -S "$TA_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "${options[@]}" >/dev/null
cmake --build "$dir" -j "$(ta_jobs)" "${targets[@]}"
