#!/usr/bin/env bash
# Builds the taskapi container images without a Docker engine: the same
# images as ecs/Dockerfile, from the same package list.
#
#   1. a Debian bookworm rootfs: debootstrap --variant=minbase from the
#      mirror apt uses on this machine, plus ecs/runtime-packages.txt, plus
#      the non-root user taskapi (uid/gid 10001). Cached under the cache
#      directory, keyed by the package list, mirror and architecture, so a
#      rerun only copies it;
#   2. an OCI image layout (umoci): tag "base" is that rootfs; each service
#      tag adds one layer with its binary in /usr/local/bin (task-svc also
#      gets taskapi-migrate and db/migrations) and sets user 10001:10001,
#      an exec-form entrypoint and the environment.
#
# Push a tag with skopeo (ecs/deploy.sh does this):
#   skopeo copy oci:<out>:task-svc docker://<repository uri>:<version>
#
# Usage: ecs/build-images.sh [--bin-dir DIR] [--out DIR] [--cache DIR]
#                            [--services edge-api,auth-svc,task-svc]
#   --bin-dir   the built binaries (default: build/bin of the checkout)
#   --out       the OCI layout to (re)write (default: build/images/oci)
#   --cache     where the base rootfs is kept (default: build/images/cache)
#   --extra-packages a,b  more Debian packages for test images only (the
#               sanitizer runtimes of an ASan/UBSan build); never for images
#               that are pushed
# DEBIAN_MIRROR overrides the mirror. Needs root (debootstrap, chown).
# Prints the layout's path on stdout when done.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SUITE=bookworm
UID_GID=10001
ALL_SERVICES=(edge-api auth-svc task-svc)

say() { printf 'build-images: %s\n' "$*" >&2; }
die() { printf 'build-images: error: %s\n' "$*" >&2; exit 1; }

bin_dir=$ROOT/build/bin
out=$ROOT/build/images/oci
cache=$ROOT/build/images/cache
services=$(IFS=,; echo "${ALL_SERVICES[*]}")
extra=
while [ $# -gt 0 ]; do
	case $1 in
	--bin-dir) bin_dir=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--cache) cache=$2; shift 2 ;;
	--services) services=$2; shift 2 ;;
	--extra-packages) extra=$2; shift 2 ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument: $1" ;;
	esac
done

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, file ownership)"
for t in debootstrap umoci; do
	command -v $t >/dev/null || die "$t missing: run scripts/deps.d/images.sh"
done
IFS=, read -r -a svc_list <<<"$services"
for s in "${svc_list[@]}"; do
	case " ${ALL_SERVICES[*]} " in *" $s "*) ;; *) die "unknown service: $s" ;; esac
	[ -x "$bin_dir/$s" ] || die "binary not found: $bin_dir/$s (build first)"
done

# The Debian mirror apt uses here: first debian (not security) URI of
# sources.list or sources.list.d (one-line and deb822 formats).
apt_mirror() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	    /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk '
		    /^[ \t]*#/ { next }
		    $1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; break } }
		    $1 == "URIs:" { for (i = 2; i <= NF; i++) print $i }
		' "$f"
	done | grep -v -e security -e '^$' | grep '/debian/\?$' | head -n 1
}
mirror=${DEBIAN_MIRROR:-$(apt_mirror)}
mirror=${mirror:-http://deb.debian.org/debian}
arch=$(dpkg --print-architecture)

mapfile -t packages < <({ sed 's/#.*//' "$ROOT/ecs/runtime-packages.txt"; echo "$extra" | tr , ' '; } |
    tr -s ' \t' '\n' | grep -v '^$' | sort -u)
[ ${#packages[@]} -gt 0 ] || die "ecs/runtime-packages.txt lists no package"

# ---- 1. base rootfs, cached
# The key covers everything the base is made of; bump "v1" when the
# preparation below changes.
key=$(printf '%s\n' v1 "$SUITE" "$arch" "$mirror" "${packages[@]}" | sha256sum | cut -c1-16)
base=$cache/base-$key
if [ ! -f "$base/done" ]; then
	say "debootstrap $SUITE ($arch) from $mirror with: ${packages[*]}"
	rm -rf "$base" "$base.tmp"
	mkdir -p "$base.tmp"
	start=$(date +%s)
	debootstrap --variant=minbase --arch="$arch" \
	    --include="$(IFS=,; echo "${packages[*]}")" \
	    "$SUITE" "$base.tmp/rootfs" "$mirror" >"$base.tmp/debootstrap.log" 2>&1 ||
	    { tail -n 30 "$base.tmp/debootstrap.log" >&2; die "debootstrap failed"; }
	r=$base.tmp/rootfs
	chroot "$r" groupadd --gid $UID_GID taskapi
	chroot "$r" useradd --uid $UID_GID --gid $UID_GID --no-create-home \
	    --home-dir /nonexistent --shell /usr/sbin/nologin taskapi
	# What a slim image drops: package caches, lists, man pages, logs.
	rm -rf "$r"/var/cache/apt/* "$r"/var/lib/apt/lists/* \
	    "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/var/log/*
	echo "$(( $(date +%s) - start ))" >"$base.tmp/seconds"
	touch "$base.tmp/done"
	mv "$base.tmp" "$base"
	say "base rootfs ready in $(cat "$base/seconds") s: $base"
else
	say "base rootfs from cache: $base"
fi

# ---- 2. OCI layout
work=$(mktemp -d "${TMPDIR:-/tmp}/taskapi-images.XXXXXX")
trap 'rm -rf "$work"' EXIT
rm -rf "$out"
mkdir -p "$(dirname "$out")"
umoci init --layout "$out"
umoci new --image "$out:base"
umoci unpack --image "$out:base" "$work/base" >/dev/null
cp -a "$base/rootfs/." "$work/base/rootfs/"
umoci repack --image "$out:base" "$work/base"
umoci config --image "$out:base" --os linux --architecture "$arch" \
    --config.user "$UID_GID:$UID_GID" --config.workingdir / \
    --config.env PATH=/usr/local/bin:/usr/bin:/bin \
    --config.label "org.opencontainers.image.base.name=debian:$SUITE minbase"
rm -rf "$work/base"

version=$(sed -n 's/^project(taskapi VERSION \([0-9.]*\).*/\1/p' "$ROOT/CMakeLists.txt")
revision=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
for s in "${svc_list[@]}"; do
	b=$work/$s
	umoci unpack --image "$out:base" "$b" >/dev/null
	install -o 0 -g 0 -m 0755 "$bin_dir/$s" "$b/rootfs/usr/local/bin/$s"
	env_args=()
	if [ "$s" = task-svc ]; then
		install -o 0 -g 0 -m 0755 "$bin_dir/taskapi-migrate" \
		    "$b/rootfs/usr/local/bin/taskapi-migrate"
		install -d -o 0 -g 0 -m 0755 "$b/rootfs/usr/local/share/taskapi/migrations"
		install -o 0 -g 0 -m 0644 "$ROOT"/db/migrations/*.sql \
		    "$b/rootfs/usr/local/share/taskapi/migrations/"
		env_args=(--config.env MIGRATIONS_DIR=/usr/local/share/taskapi/migrations)
	fi
	umoci repack --image "$out:$s" "$b"
	umoci config --image "$out:$s" --config.entrypoint "/usr/local/bin/$s" \
	    "${env_args[@]}" \
	    --config.label "org.opencontainers.image.title=taskapi $s" \
	    --config.label "org.opencontainers.image.version=$version" \
	    --config.label "org.opencontainers.image.revision=$revision"
	rm -rf "$b"
	say "image $s ready"
done
umoci gc --layout "$out"
echo "$out"
