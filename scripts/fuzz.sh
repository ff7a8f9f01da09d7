#!/usr/bin/env bash
# The libFuzzer targets of tests/fuzz/ (docs/fuzzing.md), built in
# build-fuzz/ with clang-16, ASan and UBSan:
#   scripts/fuzz.sh build              configure and build build-fuzz/
#   scripts/fuzz.sh run [TARGET...]    make fuzz: every target (or those
#       named) for FUZZ_SECONDS (300) each, FUZZ_JOBS (2) at a time; new
#       inputs go to build-fuzz/fuzz-out/<target>/corpus (the committed
#       corpus is only read), crashes to build-fuzz/fuzz-out/<target>/crashes
#   scripts/fuzz.sh check TARGET SECS  a ctest test (label fuzz): replays
#       tests/fuzz/corpus/<target>/ and tests/fuzz/regressions/<target>/,
#       then fuzzes SECS seconds; fails on any crash, naming the reproducer
# A missing clang-16 or target is an error, never a skip. The build step
# installs nothing; `make fuzz` runs scripts/deps.sh first.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FUZZ_CC=${FUZZ_CC:-clang-16}
BUILD=$TA_ROOT/build-fuzz
SRC=$TA_ROOT/tests/fuzz

targets_all() {
	local f
	for f in "$SRC"/fuzz_*.c; do
		f=${f##*/fuzz_}
		echo "${f%.c}"
	done
}

fuzz_build() {
	command -v "$FUZZ_CC" >/dev/null ||
	    ta_die "$FUZZ_CC not found; scripts/deps.d/fuzz.sh installs it" \
	    "(make fuzz runs it)"
	"$TA_ROOT/scripts/build.sh" build-fuzz -DCMAKE_C_COMPILER="$FUZZ_CC" \
	    -DTA_FUZZ=ON -DTA_SANITIZE=address,undefined \
	    -DCMAKE_BUILD_TYPE=RelWithDebInfo fuzz_all
}

# The libFuzzer options of target $1 (its dictionary, when there is one).
fuzz_opts() {
	local dict=$SRC/dict/$1.dict
	echo -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
	[ -f "$dict" ] && echo "-dict=$dict"
	return 0
}

fuzz_bin() {
	local bin=$BUILD/bin/fuzz_$1
	[ -x "$bin" ] || ta_die "$bin missing: build it with scripts/fuzz.sh build"
	echo "$bin"
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Prints "execs=N exec/s=N cov=N ft=N new=N" from libFuzzer log $1.
fuzz_stats() {
	local log=$1
	awk '
	/^stat::number_of_executed_units:/ { execs = $2 }
	/^stat::average_exec_per_sec:/ { eps = $2 }
	/^stat::new_units_added:/ { added = $2 }
	/^#[0-9]+/ {
		for (i = 1; i < NF; i++) {
			if ($i == "cov:") cov = $(i + 1)
			if ($i == "ft:") ft = $(i + 1)
		}
	}
	END {
		printf "execs=%s exec/s=%s cov=%s ft=%s new=%s\n",
		    execs, eps, cov, ft, added
	}' "$log"
}

# Every committed input of target $1 run once; a crash names its file.
fuzz_replay() {
	local t=$1 bin=$2 log=$3 n
	local -a files=()

	[ -d "$SRC/corpus/$t" ] || ta_die "no seed corpus tests/fuzz/corpus/$t"
	mapfile -t files < <(find "$SRC/corpus/$t" "$SRC/regressions/$t" \
	    -type f 2>/dev/null | sort)
	n=${#files[@]}
	[ "$n" -gt 0 ] || ta_die "tests/fuzz/corpus/$t is empty"
	# shellcheck disable=SC2046
	if ! "$bin" $(fuzz_opts "$t") "${files[@]}" >"$log" 2>&1; then
		tail -n 60 "$log" >&2
		ta_say "fuzz $t: a committed input crashes; reproducer:" \
		    "$(grep '^Running: ' "$log" | tail -n 1 | cut -d' ' -f2-)"
		return 1
	fi
	ta_say "fuzz $t: replayed $n committed inputs"
}

# Fuzzes target $1 for $2 seconds into $3/{corpus,crashes}; log $3/fuzz.log.
fuzz_for() {
	local t=$1 secs=$2 out=$3 bin crash
	local -a dirs=("$out/corpus" "$SRC/corpus/$t")

	bin=$(fuzz_bin "$t")
	mkdir -p "$out/corpus" "$out/crashes"
	[ -d "$SRC/regressions/$t" ] && dirs+=("$SRC/regressions/$t")
	# shellcheck disable=SC2046
	if "$bin" $(fuzz_opts "$t") -max_total_time="$secs" \
	    -artifact_prefix="$out/crashes/" "${dirs[@]}" \
	    >"$out/fuzz.log" 2>&1; then
		ta_say "fuzz $t: ${secs}s, $(fuzz_stats "$out/fuzz.log")"
		return 0
	fi
	tail -n 60 "$out/fuzz.log" >&2
	for crash in "$out"/crashes/*; do
		[ -e "$crash" ] && ta_say "fuzz $t: CRASH, reproducer: $crash"
	done
	ta_say "fuzz $t: FAILED after $(fuzz_stats "$out/fuzz.log");" \
	    "add the reproducer to tests/fuzz/regressions/$t/ with its fix"
	return 1
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
build)
	fuzz_build
	;;
check)
	[ $# -eq 2 ] || ta_die "usage: scripts/fuzz.sh check TARGET SECONDS"
	t=$1
	bin=$(fuzz_bin "$t")
	out=$BUILD/check/$t
	rm -rf "$out"
	mkdir -p "$out"
	fuzz_replay "$t" "$bin" "$out/replay.log"
	fuzz_for "$t" "$2" "$out"
	;;
run)
	secs=${FUZZ_SECONDS:-300}
	jobs=${FUZZ_JOBS:-2}
	if [ $# -gt 0 ]; then
		targets=("$@")
	else
		mapfile -t targets < <(targets_all)
	fi
	fuzz_build
	rc=0
	running=0
	for t in "${targets[@]}"; do
		if [ "$running" -ge "$jobs" ]; then
			wait -n || rc=1
			running=$((running - 1))
		fi
		ta_say "fuzz $t: ${secs}s into build-fuzz/fuzz-out/$t"
		fuzz_for "$t" "$secs" "$BUILD/fuzz-out/$t" &
		running=$((running + 1))
	done
	while [ "$running" -gt 0 ]; do
		wait -n || rc=1
		running=$((running - 1))
	done
	[ "$rc" = 0 ] && ta_say "fuzz: no crash in ${targets[*]}" ||
	    ta_say "fuzz: CRASHES found (see above)"
	exit "$rc"
	;;
*)
	ta_die "usage: scripts/fuzz.sh build | run [TARGET...] | check TARGET SECONDS"
	;;
esac
