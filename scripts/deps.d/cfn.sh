#!/usr/bin/env bash
# Tools of the template checks (tests/deploy/): cfn-lint (the AWS project,
# PyPI "cfn-lint"; not the unrelated npm package) and the AWS CLI (PyPI
# "awscli", used offline for register-task-definition validation). Neither
# is packaged usefully in Debian 12, so a missing one is installed with
# pip --user. Idempotent: checks first, so a second run is instant.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

missing=()
cfn-lint --version >/dev/null 2>&1 || missing+=(cfn-lint)
aws --version >/dev/null 2>&1 || missing+=(awscli)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "taskapi: installing ${missing[*]} with pip --user" >&2
python3 -m pip --version >/dev/null 2>&1 || ta_apt_ensure python3-pip
pipargs=(install --user -q)
# Debian 12 marks its Python externally managed (PEP 668).
python3 -m pip install --help 2>/dev/null | grep -q -- --break-system-packages &&
    pipargs+=(--break-system-packages)
if ! python3 -m pip "${pipargs[@]}" "${missing[@]}" </dev/null; then
	echo "taskapi: error: could not install ${missing[*]}; install them" \
	    "yourself (pip install cfn-lint awscli) and put them on PATH" >&2
	exit 1
fi
export PATH="$HOME/.local/bin:$PATH"
cfn-lint --version >/dev/null && aws --version >/dev/null 2>&1 || {
	echo "taskapi: error: cfn-lint/aws installed but not on PATH;" \
	    "add \$HOME/.local/bin to PATH" >&2
	exit 1
}
