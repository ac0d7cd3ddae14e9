#!/usr/bin/env bash
# Installs the Debian packages the tests need and that a fresh machine may lack. Idempotent; run by .ci/run.
#   linux-libc-dev, libc6-dev: the uapi and glibc headers that linux-abi is generated from; the test
#                              suite regenerates the tables and fails on a difference.
#   gcc:                       builds native/seccomp-probe.c, which loads compiled filters into real processes.
#   bubblewrap:                `bwrap --seccomp FD` is the first consumer of the raw filter bytes; a test runs it.
#   python3-seccomp:           libseccomp 2.5.4 as Debian ships it; tests/docker-libseccomp.test.ts compares Docker's
#                              profile compiled by sbc with libseccomp's filter on every syscall number.
#   make, git, tar, python3, python3-venv, python3-pip, util-linux (setpriv, unshare), coreutils (timeout):
#                              the toolchains tests/kernel-workloads.test.ts runs under `sbc exec` (Node and npm
#                              are the project's own prerequisites).
set -euo pipefail
need=()
for pkg in linux-libc-dev libc6-dev gcc bubblewrap python3-seccomp make git tar python3 python3-venv python3-pip util-linux coreutils; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: missing ${need[*]}; run as root: apt-get install ${need[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}"
