#!/usr/bin/env bash
# make test: installs missing packages, builds build/, starts a throwaway
# PostgreSQL on a free port in a temporary directory, migrates it, and runs
# every ctest test against it (label fuzz: the libFuzzer targets, built in
# build-fuzz/ with clang-16, replay their corpora and fuzz 20 s each); then
# the same suite again built with AddressSanitizer and UBSan in build-asan/
# (TA_SKIP_SANITIZE=1 skips that pass). The cluster and its directory are removed on exit, also on
# failure. Extra arguments go to ctest (e.g. -L unit, -R migrate).
#   scripts/test.sh --unit   unit tests only: no database, no sanitizer pass
set -euo pipefail
. "$(dirname "$0")/pg.sh"

unit_only=0
if [ "${1:-}" = "--unit" ]; then
	unit_only=1
	shift
fi

"$TA_ROOT/scripts/deps.sh"
"$TA_ROOT/scripts/build.sh" build

run_ctest() {
	local dir=$1
	shift
	ta_say "ctest in ${dir#"$TA_ROOT"/} $*"
	(cd "$dir" && ctest --output-on-failure -j "${TA_TEST_JOBS:-2}" "$@")
}

if [ "$unit_only" = 1 ]; then
	run_ctest "$TA_ROOT/build" -L unit "$@"
	exit
fi

tmp=$(mktemp -d -t taskapi-test.XXXXXX)
cleanup() {
	ta_pg_stop "$tmp" || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port=$(ta_free_port)
ta_pg_init "$tmp" "$port" throwaway
ta_pg_start "$tmp"
ta_pg_createdb "$tmp" taskmanagement
ta_say "throwaway PostgreSQL on 127.0.0.1:$port"

export DB_HOST=127.0.0.1 DB_PORT=$port DB_NAME=taskmanagement DB_USER=taskapi
unset DB_PASSWORD DB_SSLMODE MIGRATIONS_DIR
"$TA_ROOT/build/bin/taskapi-migrate" >"$tmp/migrate.log" ||
    { cat "$tmp/migrate.log" >&2; ta_die "taskapi-migrate failed"; }

rc=0
if [ $# -gt 0 ]; then
	run_ctest "$TA_ROOT/build" "$@" || rc=1
else
	# The rehearsal plays timed deployments (health check intervals, TTLs,
	# 60 s idle timeouts): it runs on its own, one scenario at a time, not
	# beside CPU- or disk-bound tests that would skew its timings. make
	# test plays the scenario that has held steady on a shared machine
	# (first deploy with the old order failing); make rehearse plays all
	# six (docs/rehearsal.md).
	run_ctest "$TA_ROOT/build" -LE rehearsal || rc=1
	run_ctest "$TA_ROOT/build" -L rehearsal \
	    -R "${TA_REHEARSAL_IN_TEST:-first_deploy}" -j 1 || rc=1
fi

if [ "${TA_SKIP_SANITIZE:-0}" = 1 ]; then
	ta_say "TA_SKIP_SANITIZE=1: sanitizer pass skipped"
elif ! "$TA_ROOT/scripts/build.sh" build-asan -DCMAKE_BUILD_TYPE=Debug \
    -DTA_SANITIZE=address,undefined; then
	ta_say "sanitizer build failed"
	rc=1
else
	# The deploy checks and the rehearsal look at documents and images
	# built from build/; instrumented binaries add nothing there. The
	# fuzz tests ran in the first pass, on build-fuzz/, which is built
	# with ASan and UBSan already.
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
	LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$TA_ROOT/tests/lsan.supp:print_suppressions=0} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
	    run_ctest "$TA_ROOT/build-asan" -LE 'deploy|rehearsal|fuzz' "$@" ||
	    rc=1
fi

if [ "$rc" = 0 ]; then
	ta_say "all test runs passed"
else
	ta_say "some tests FAILED (see above)"
fi
exit "$rc"
