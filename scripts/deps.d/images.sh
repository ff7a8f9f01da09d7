#!/usr/bin/env bash
# Tools for the container images and the deploy tests (tests/deploy/):
# debootstrap, umoci and skopeo build and push the Docker-less OCI images;
# python3-jsonschema validates the EMF lines; python3-yaml reads templates.
# moto (the AWS emulator of test_deploy_moto.py) is not packaged in Debian
# 12: when `import moto` fails it is installed with pip --user.
# Idempotent: checks with dpkg-query first, so a second run is instant.
set -euo pipefail

PACKAGES=(debootstrap umoci skopeo python3-jsonschema python3-yaml)

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null ||
	    { echo "taskapi: error: not root and no sudo" >&2; exit 1; }
	sudo=(sudo -n)
fi

missing=()
for p in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "taskapi: installing missing packages: ${missing[*]}" >&2
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends "${missing[@]}" </dev/null
fi

if ! python3 -c 'import moto.server' 2>/dev/null; then
	echo "taskapi: moto missing: installing it with pip --user (moto[server] 5.x)" >&2
	python3 -m pip install --user -q 'moto[server]>=5,<6' </dev/null
fi
