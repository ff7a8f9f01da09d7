#!/usr/bin/env bash
# make rehearse: plays the ECS deployment on this machine from the rendered
# templates (docs/rehearsal.md): installs what it needs, builds build/,
# builds the container images, runs the ctest label "rehearsal" (every
# scenario, two at a time) and prints each scenario's timeline. Needs
# root (network namespaces, mounts, chroot). Extra arguments go to ctest
# (e.g. -R first_deploy).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ta_is_root || ta_die "make rehearse needs root (network namespaces, mounts, chroot)"
"$TA_ROOT/scripts/deps.sh"
"$TA_ROOT/scripts/build.sh" build

export TA_BIN_DIR=$TA_ROOT/build/bin TA_SOURCE_DIR=$TA_ROOT TA_BUILD_DIR=$TA_ROOT/build
timelines=$TA_BUILD_DIR/rehearsal/timelines
rm -rf "$timelines"
ta_say "building the images (ecs/build-images.sh)"
(cd "$TA_ROOT/tests/rehearsal" &&
    python3 -c 'import os, host; host.Images(os.environ["TA_BUILD_DIR"], os.environ["TA_BIN_DIR"]).build(print)')

rc=0
(cd "$TA_ROOT/build" && ctest --output-on-failure -j "${TA_TEST_JOBS:-2}" -L rehearsal "$@") || rc=1
for f in "$timelines"/*.txt; do
	[ -e "$f" ] || continue
	echo
	cat "$f"
done
if [ "$rc" = 0 ]; then
	ta_say "rehearsal passed"
else
	ta_say "rehearsal FAILED (see above)"
fi
exit "$rc"
