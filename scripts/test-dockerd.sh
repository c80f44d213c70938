#!/usr/bin/env bash
# The one dockerd the docker suites share (ctest fixture `docker_env`, tests/CMakeLists.txt): a
# private daemon on its own socket and data root, never the machine's /var/run/docker.sock.
#
#   scripts/test-dockerd.sh start   starts it unless it already answers; prints DOCKER_HOST
#   scripts/test-dockerd.sh stop    stops it (SIGTERM, then SIGKILL after 20 s) and waits
#   scripts/test-dockerd.sh host    prints DOCKER_HOST (unix://<dir>/docker.sock)
#
# Flags as ../shared/reference/environment-notes.md found working here: no iptables, no bridge
# (containers get network "none" or "host" only), overlay2 with the data root on /var/tmp
# (overlay2 does not work on the overlay /tmp), vfs when OUTPOST_TEST_DOCKER_DRIVER=vfs.
# The data root persists between runs (images built there are the cache: scripts/build-images.sh
# keys them by their inputs); OUTPOST_TEST_DOCKER_DIR moves it.
set -euo pipefail
dir="${OUTPOST_TEST_DOCKER_DIR:-/var/tmp/outpost-test-docker}"
sock="$dir/docker.sock"
pidfile="$dir/dockerd.pid"
driver="${OUTPOST_TEST_DOCKER_DRIVER:-overlay2}"

answers() { curl -sf --max-time 2 --unix-socket "$sock" http://docker/_ping >/dev/null 2>&1; }

case "${1:-}" in
  host)
    echo "unix://$sock"
    ;;
  start)
    command -v dockerd >/dev/null || { echo "test-dockerd: dockerd is missing (apt-get install docker.io)" >&2; exit 1; }
    command -v curl >/dev/null || { echo "test-dockerd: curl is missing" >&2; exit 1; }
    mkdir -p "$dir/data" "$dir/exec"
    if answers; then echo "unix://$sock"; exit 0; fi
    # A daemon that died uncleanly leaves its pid file and socket: dockerd refuses to start then.
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      kill "$(cat "$pidfile")" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.2; done
    fi
    rm -f "$pidfile" "$sock"
    # containerd's own socket lives under the exec root; a stale one is harmless.
    setsid dockerd --iptables=false --ip6tables=false --bridge=none \
      --storage-driver="$driver" --host "unix://$sock" --data-root "$dir/data" \
      --exec-root "$dir/exec" --pidfile "$pidfile" >"$dir/dockerd.log" 2>&1 </dev/null &
    for _ in $(seq 1 300); do
      if answers; then echo "unix://$sock"; exit 0; fi
      sleep 0.1
    done
    echo "test-dockerd: dockerd did not answer on $sock within 30 s; its log:" >&2
    tail -n 30 "$dir/dockerd.log" >&2 || true
    exit 1
    ;;
  stop)
    [ -f "$pidfile" ] || exit 0
    pid="$(cat "$pidfile")"
    kill "$pid" 2>/dev/null || exit 0
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
    ;;
  *)
    echo "usage: scripts/test-dockerd.sh start|stop|host" >&2
    exit 2
    ;;
esac
