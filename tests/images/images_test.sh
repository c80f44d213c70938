#!/usr/bin/env bash
# The test images (scripts/build-images.sh --test, fixture docker_env) on the private dockerd:
# outpost-base:test's entrypoint, user, workdir and outpost binary; a read-only, capability-less,
# network-less container works; outpost-claude:test's claude runs; build-images.sh keeps current
# images and refuses bad input with a clear error.
#
# Usage: tests/images/images_test.sh OUTPOST_BIN   (env OUTPOST_TEST_DOCKER_HOST, set by ctest)
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="${1:?usage: images_test.sh OUTPOST_BIN}"
if [ -z "${OUTPOST_TEST_DOCKER_HOST:-}" ]; then
  echo "FAIL: OUTPOST_TEST_DOCKER_HOST is not set (the ctest fixture docker_env sets it:" \
       "ctest -R images_test)" >&2
  exit 1
fi
command -v docker >/dev/null || { echo "FAIL: the docker CLI is missing (apt-get install docker.io)" >&2; exit 1; }
export DOCKER_HOST="$OUTPOST_TEST_DOCKER_HOST"
base=outpost-base:test
claude=outpost-claude:test
passed=0
failed=0
pass() { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; shift; printf '     %s\n' "$@"; failed=$((failed + 1)); }
# expect NAME WANT GOT
expect() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "want: $2" "got:  $3"; fi; }
# expect_match NAME REGEX GOT
expect_match() { if [[ "$3" =~ $2 ]]; then pass "$1"; else fail "$1" "want match: $2" "got: $3"; fi; }
inspect() { docker image inspect -f "$2" "$1" 2>&1; }
# What the docker runner gives a container (docs/design: read-only root, no capabilities, no
# privilege gain, no network).
locked=(--rm --read-only --cap-drop ALL --security-opt no-new-privileges --network none)

# ---- outpost-base:test: the image's configuration
expect "base entrypoint is tini -- outpost task" '[tini -- outpost task]' \
  "$(inspect "$base" '{{.Config.Entrypoint}}')"
expect "base workdir is /workspace" /workspace "$(inspect "$base" '{{.Config.WorkingDir}}')"
expect_match "base carries ASAN_OPTIONS=detect_leaks=0 (test image)" 'ASAN_OPTIONS=detect_leaks=0' \
  "$(inspect "$base" '{{.Config.Env}}')"
expect_match "base is labelled with its inputs" '^[0-9a-f]{32}$' \
  "$(inspect "$base" '{{index .Config.Labels "outpost.inputs"}}')"

# ---- outpost-base:test: what runs in it, locked down as the docker runner runs it
want_version="$("$bin" --version 2>&1)"
expect_match "the build's outpost --version" '^outpost [0-9]+\.[0-9]+\.[0-9]+$' "$want_version"
expect "tini -- outpost --version in the image (read-only, no caps, no network)" "$want_version" \
  "$(docker run "${locked[@]}" --entrypoint tini "$base" -- outpost --version 2>&1)"
expect "the image's outpost is the build's (sha256)" \
  "$(sha256sum <"$bin" | cut -d' ' -f1)" \
  "$(docker run "${locked[@]}" --entrypoint sha256sum "$base" /usr/local/bin/outpost 2>&1 | cut -d' ' -f1)"
expect "user agent: uid 1000, gid 1000, home /home/agent" "agent:x:1000:1000::/home/agent:/bin/bash" \
  "$(docker run "${locked[@]}" --entrypoint getent "$base" passwd agent 2>&1)"
expect "id as --user agent" "uid=1000(agent) gid=1000(agent) groups=1000(agent)" \
  "$(docker run "${locked[@]}" --user agent --entrypoint id "$base" 2>&1)"
expect "the container starts in /workspace, owned by agent" "/workspace agent" \
  "$(docker run "${locked[@]}" --entrypoint sh "$base" -c 'echo "$PWD $(stat -c %U .)"' 2>&1)"
# The entrypoint's first program is pid 1: tini (its `--` then starts what follows).
expect "tini is pid 1 under the image's entrypoint program" "tini" \
  "$(docker run "${locked[@]}" --entrypoint tini "$base" -- cat /proc/1/comm 2>&1)"
expect_match "the root is read-only" 'Read-only file system' \
  "$(docker run "${locked[@]}" --entrypoint touch "$base" /usr/local/bin/x 2>&1)"
expect "a tmpfs /tmp is writable under the read-only root" "written" \
  "$(docker run "${locked[@]}" --tmpfs /tmp --user agent --entrypoint sh "$base" \
       -c 'echo written >/tmp/f && cat /tmp/f' 2>&1)"
expect_match "git and CA certificates are there" '^git version 2\.[0-9.]+ [0-9]+$' \
  "$(docker run "${locked[@]}" --entrypoint sh "$base" \
       -c 'echo "$(git --version) $(ls /etc/ssl/certs | wc -l)"' 2>&1)"
expect_match "no network: only lo" '^lo$' \
  "$(docker run "${locked[@]}" --entrypoint ls "$base" /sys/class/net 2>&1)"
expect "the agent user holds no capability" "0000000000000000" \
  "$(docker run "${locked[@]}" --user agent --entrypoint sh "$base" \
       -c 'sed -n "s/^CapEff:\t//p" /proc/self/status' 2>&1)"

# ---- outpost-claude:test
claude_version="$(docker run "${locked[@]}" --tmpfs /tmp --user agent --entrypoint claude \
                    "$claude" --version 2>&1)"
expect_match "claude --version in outpost-claude:test (as agent, read-only)" \
  '^2\.1\.332 \(Claude Code\)$' "$claude_version"
expect "outpost-claude:test has the base's outpost and entrypoint" \
  "$want_version [tini -- outpost task]" \
  "$(docker run "${locked[@]}" --entrypoint outpost "$claude" --version 2>&1) $(inspect "$claude" '{{.Config.Entrypoint}}')"

# ---- build-images.sh: a second build with the same inputs keeps the images (seconds)
ids_before="$(docker image inspect -f '{{.Id}}' "$base" "$claude" 2>&1)"
t0=$(date +%s%N)
out="$(OUTPOST_BIN="$bin" "$root/scripts/build-images.sh" --test 2>&1)"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
expect "warm build-images.sh --test exits 0" 0 "$rc"
expect_match "warm build: base current" 'outpost-base:test is current' "$out"
expect_match "warm build: claude current" 'outpost-claude:test is current' "$out"
expect "warm build: same image ids" "$ids_before" \
  "$(docker image inspect -f '{{.Id}}' "$base" "$claude" 2>&1)"
echo "     (warm build-images.sh --test: $ms ms)"

# ---- build-images.sh: bad input, a clear error, nothing built
out="$(env -u DOCKER_HOST "$root/scripts/build-images.sh" --test 2>&1)"
rc=$?
expect_match "no DOCKER_HOST: refused, naming it" '^1 build-images: DOCKER_HOST is not set' "$rc $out"
out="$(DOCKER_HOST=unix:///nonexistent/docker.sock OUTPOST_BIN="$bin" \
       "$root/scripts/build-images.sh" --test 2>&1)"
rc=$?
expect_match "unreachable daemon: refused, naming DOCKER_HOST" \
  '^1 build-images: the Docker daemon at DOCKER_HOST=unix:///nonexistent/docker.sock does not answer' \
  "$rc $out"
out="$("$root/scripts/build-images.sh" --test --only base,nosuch 2>&1)"
rc=$?
expect_match "unknown image name: refused, naming it" "^1 build-images: unknown image 'nosuch'" "$rc $out"
out="$(env -u OUTPOST_BIN "$root/scripts/build-images.sh" --test 2>&1)"
rc=$?
expect_match "--test without OUTPOST_BIN: refused" '^1 build-images: --test needs OUTPOST_BIN' "$rc $out"
expect "bad input changed no image" "$ids_before" \
  "$(docker image inspect -f '{{.Id}}' "$base" "$claude" 2>&1)"

echo "images_test: $passed passed, $failed failed"
((failed == 0))
