#!/usr/bin/env bash
# Tools of the operations commands (make verify, loadtest, inventory,
# status, logs; tools/ops/): gnuplot (Debian gnuplot-nox) draws the load
# test's plot, jsonschema validates answers against the served OpenAPI
# document (openapi.sh installs it), boto3 talks to AWS. boto3 comes from
# Debian (python3-boto3) when python3 is Debian's, else from pip --user,
# as cfn.sh does for the AWS CLI. Idempotent: checks before installing.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

ta_apt_ensure gnuplot-nox python3-jsonschema
python3 -c 'import boto3' 2>/dev/null && exit 0

if [ "$(command -v python3)" = /usr/bin/python3 ]; then
	ta_apt_ensure python3-boto3
else
	echo "taskapi: installing boto3 with pip --user" >&2
	python3 -m pip --version >/dev/null 2>&1 || ta_apt_ensure python3-pip
	pipargs=(install --user -q)
	# Debian 12 marks its Python externally managed (PEP 668).
	python3 -m pip install --help 2>/dev/null |
	    grep -q -- --break-system-packages && pipargs+=(--break-system-packages)
	python3 -m pip "${pipargs[@]}" boto3 </dev/null ||
	    ta_die "could not install boto3; pip install boto3 yourself"
fi
python3 -c 'import boto3' || ta_die "boto3 installed but python3 cannot import it"
