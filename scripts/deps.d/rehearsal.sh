#!/usr/bin/env bash
# Tools for the deployment rehearsal (tests/rehearsal/, make rehearse):
# haproxy is the stand-in for the Application Load Balancer, dnsmasq
# (dnsmasq-base, the binary only) for Cloud Map, PostgreSQL 15 with an
# openssl certificate for RDS; iproute2 makes the bridge and one network
# namespace per task; debootstrap and umoci build and unpack the images.
# The rehearsal runs each as its own process, never as a system service.
# Idempotent: checks with dpkg-query first, so a second run is instant.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PACKAGES=(haproxy dnsmasq-base iproute2 openssl umoci debootstrap
	util-linux postgresql)

ta_apt_ensure "${PACKAGES[@]}"
