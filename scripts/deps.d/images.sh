#!/usr/bin/env bash
# Tools for the container images and the deploy tests (tests/deploy/):
# debootstrap, umoci and skopeo build and push the Docker-less OCI images;
# python3-jsonschema validates the EMF lines; python3-yaml reads templates.
# moto (the AWS emulator of test_deploy_moto.py) is not packaged in Debian
# 12: when `import moto` fails it is installed with pip --user.
# Idempotent: checks with dpkg-query first, so a second run is instant.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PACKAGES=(debootstrap umoci skopeo python3-jsonschema python3-yaml)

ta_apt_ensure "${PACKAGES[@]}"

if ! python3 -c 'import moto.server' 2>/dev/null; then
	echo "taskapi: moto missing: installing it with pip --user (moto[server] 5.x)" >&2
	python3 -m pip install --user -q 'moto[server]>=5,<6' </dev/null
fi
