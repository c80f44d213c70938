#!/usr/bin/env bash
# ctest fixture docker_env (tests/CMakeLists.txt): the private dockerd every docker suite shares
# (scripts/test-dockerd.sh start; never stopped by a test: its data root is the image cache) and
# the test images built from this build's outpost (scripts/build-images.sh --test: cached by
# their inputs; a cold build debootstraps a Debian rootfs first).
#
# Usage: tests/images/docker_env_setup.sh OUTPOST_BIN
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[ $# -eq 1 ] || { echo "usage: docker_env_setup.sh OUTPOST_BIN" >&2; exit 2; }
t0=$SECONDS
host="$("$root/scripts/test-dockerd.sh" start)"
echo "docker_env_setup: dockerd at $host"
DOCKER_HOST="$host" OUTPOST_BIN="$1" "$root/scripts/build-images.sh" --test
echo "docker_env_setup: ready in $((SECONDS - t0)) s"
