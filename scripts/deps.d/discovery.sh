#!/usr/bin/env bash
# Tools for the discovery fault tests (tests/fault/test_discovery.py):
# dnsmasq from dnsmasq-base (the binary only, no system service) is the
# test's stand-in for AWS Cloud Map, a DNS server on a loopback port that
# answers one name with several A records. Idempotent: checks with
# dpkg-query first, so a second run is instant.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PACKAGES=(dnsmasq-base)

ta_apt_ensure "${PACKAGES[@]}"
