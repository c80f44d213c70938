#!/usr/bin/env bash
# The docker runner benchmark (issue 20, "Performance"): prints its section of docs/BENCHMARKS.md.
#   bench/docker.sh BUILD_DIR
# Environment: BENCH_DOCKER_RUNS (default 30), BENCH_DOCKER_BURST (20), DOCKER_HOST (default: the
# shared test dockerd, scripts/test-dockerd.sh start — never stopped here). The image is the
# Release outpost-base of scripts/build-images.sh (BASE_IMAGE=local, tag latest; built by it when
# its inputs changed — the :test images are left alone). DOCKER_BENCH_JSON=<a saved result> only
# renders the section again. BENCH_DOCKER_TAG=test: the images of build-images.sh --test instead (a
# check of this script with a test build; not the Release figures).
#
# What is measured, all in this one run, the agent printing `date +%s%N` first (the time it prints
# is when the agent process ran; the client's clock is read just before each request):
#   - the docker runner: POST /dispatch -> the agent's marker (in <data>/containers/<id>/stdout.log);
#   - bare container start: Engine API create + start (curl on the daemon's socket) of a container
#     of the same image, network none, entrypoint `date +%s%N` -> the marker (from its logs);
#   - `docker run --rm --network none --entrypoint date IMAGE +%s%N` (the CLI) -> the marker;
#   - the sandbox runner (bench/sandbox_latency, its own server) -> its marker, same N and burst;
#   - a burst of BURST dispatches: all markers printed after how long; then, while they sleep, the
#     memory of each run's `outpost task` + `outpost shim` processes (host /proc: VmRSS and the
#     Pss of smaps_rollup, found by the container's cgroup).
set -euo pipefail
BUILD=${1:?usage: bench/docker.sh BUILD_DIR}
RUNS=${BENCH_DOCKER_RUNS:-30}
BURST=${BENCH_DOCKER_BURST:-20}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUTPOST=$(cd "$BUILD" && pwd)/src/app/outpost
R=${DOCKER_BENCH_JSON:-}

now() { date +%s%N; }
pct() {  # pct P < numbers (ms, one a line) -> nearest-rank percentile
  sort -n | awk -v p="$1" '{a[NR]=$1} END {if (!NR) {print "-"; exit} i=int(p/100*(NR-1)+0.5)+1; printf "%.1f", a[i]}'
}

if [ -z "$R" ]; then
  export DOCKER_HOST=${DOCKER_HOST:-$("$ROOT/scripts/test-dockerd.sh" start)}
  SOCK=${DOCKER_HOST#unix://}
  [ -S "$SOCK" ] || { echo "docker bench: DOCKER_HOST $DOCKER_HOST is not a unix socket" >&2; exit 1; }
  TAG=${BENCH_DOCKER_TAG:-latest}
  IMAGE=outpost-base:$TAG
  if [ "$TAG" = latest ]; then
    echo "docker bench: building $IMAGE from $OUTPOST (if its inputs changed)" >&2
    BASE_IMAGE=local OUTPOST_BIN="$OUTPOST" "$ROOT/scripts/build-images.sh" --only base >&2
  fi

  WORK=$(mktemp -d /tmp/outpost-bench-docker-XXXXXX)
  PIDS=()
  cleanup() {
    for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    { docker ps -aq --filter label=outpost-bench=bare
      docker ps -aq --filter "label=outpost.data-dir=$WORK/ddata"; } | xargs -r docker rm -f >/dev/null 2>&1 || true
    rm -rf "$WORK"
  }
  trap cleanup EXIT
  chmod 711 "$WORK"
  start() {  # start NAME CMD... : sets ADDR from "listening on http://ADDR"
    local name=$1; shift
    mkfifo "$WORK/$name.out"
    "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" &
    PIDS+=($!)
    read -r line < "$WORK/$name.out"
    ADDR=${line#listening on http://}
    cat "$WORK/$name.out" > /dev/null &
  }
  api() { curl -sf --unix-socket "$SOCK" -H 'Content-Type: application/json' "$@"; }
  dispatch() {  # dispatch ADDR TASK -> run id
    curl -sf -X POST "http://$1/dispatch" -H 'Content-Type: application/json' \
      -d "$(jq -nc --arg t "$2" '{agent:"shell",task:$t}')" | jq -r .data.runId
  }
  status() { curl -sf "http://$1/runs/$2" | jq -r .data.status; }
  wait_done() {  # wait_done ADDR ID: polls every 10 ms; fails unless COMPLETED
    local st
    while :; do
      st=$(status "$1" "$2")
      case "$st" in PENDING | RUNNING) sleep 0.01 ;; COMPLETED) return 0 ;;
        *) echo "docker bench: run $2 ended $st: $(curl -s "http://$1/runs/$2")" >&2; return 1 ;; esac
    done
  }
  marker() { head -c 19 "$1" 2>/dev/null | tr -cd 0-9; }

  cat > "$WORK/docker.toml" <<TOML
[server]
max_concurrent_runs = 64
[runner]
kind = "docker"
[runner.docker]
host = "$DOCKER_HOST"
image_tag = "$([ "$TAG" = latest ] || echo "$TAG")"
[agents.shell]
max_concurrent = 64
TOML
  OUTPOST_LOG_LEVEL=warn start docker "$OUTPOST" serve --config "$WORK/docker.toml" \
    --listen 127.0.0.1:0 --data-dir "$WORK/ddata"
  DADDR=$ADDR

  # 1. dispatch -> running, sequential, 3 warm-up runs first.
  : > "$WORK/d_run"; : > "$WORK/d_done"
  for i in $(seq 1 $((RUNS + 3))); do
    t0=$(now)
    id=$(dispatch "$DADDR" 'date +%s%N')
    wait_done "$DADDR" "$id"
    t1=$(now)
    ran=$(marker "$WORK/ddata/containers/$id/stdout.log")
    [ -n "$ran" ] || { echo "docker bench: no marker in run $id's stdout.log" >&2; exit 1; }
    [ "$i" -gt 3 ] || continue
    echo $(( (ran - t0) / 1000 )) | awk '{print $1/1000}' >> "$WORK/d_run"
    echo $(( (t1 - t0) / 1000 )) | awk '{print $1/1000}' >> "$WORK/d_done"
  done

  echo "docker runner: to running p50 $(pct 50 < "$WORK/d_run") ms" >&2

  # 2. bare container start of the same image: Engine API create + start -> the marker.
  : > "$WORK/b_run"
  for i in $(seq 1 $((RUNS + 3))); do
    t0=$(now)
    cid=$(api -X POST "http://d/v1.41/containers/create" -d "{\"Image\":\"$IMAGE\",\"Entrypoint\":[\"date\"],\"Cmd\":[\"+%s%N\"],\"Labels\":{\"outpost-bench\":\"bare\"},\"HostConfig\":{\"NetworkMode\":\"none\"}}" | jq -r .Id)
    api -X POST "http://d/v1.41/containers/$cid/start" > /dev/null
    api -X POST "http://d/v1.41/containers/$cid/wait" > /dev/null
    ran=$(api "http://d/v1.41/containers/$cid/logs?stdout=1" | tail -c +9 | tr -cd 0-9)
    api -X DELETE "http://d/v1.41/containers/$cid?force=1" > /dev/null
    [ "$i" -gt 3 ] || continue
    echo $(( (ran - t0) / 1000 )) | awk '{print $1/1000}' >> "$WORK/b_run"
  done

  echo "bare Engine API create + start: p50 $(pct 50 < "$WORK/b_run") ms" >&2

  # 3. the docker CLI's `docker run --rm --network none` of the same image -> the marker.
  : > "$WORK/c_run"
  for i in $(seq 1 $((RUNS + 3))); do
    t0=$(now)
    ran=$(docker run --rm --network none --label outpost-bench=bare --entrypoint date "$IMAGE" +%s%N)
    [ "$i" -gt 3 ] || continue
    echo $(( (ran - t0) / 1000 )) | awk '{print $1/1000}' >> "$WORK/c_run"
  done

  # 4. burst: BURST dispatches at once; all running = the last marker - t0. The agents then sleep
  # while their task and shim processes are measured.
  t0=$(now)
  BP=()
  for i in $(seq 1 "$BURST"); do dispatch "$DADDR" 'date +%s%N; sleep 20' > "$WORK/burst.$i" & BP+=($!); done
  for p in "${BP[@]}"; do wait "$p" || true; done
  t_disp=$(now)
  ids=$(cat "$WORK"/burst.*)
  [ "$(echo "$ids" | grep -c .)" -eq "$BURST" ] || { echo "docker bench: not every burst dispatch was accepted" >&2; exit 1; }
  last=0
  for id in $ids; do
    f="$WORK/ddata/containers/$id/stdout.log"
    until [ -n "$(marker "$f")" ]; do
      st=$(status "$DADDR" "$id")
      case "$st" in PENDING | RUNNING) sleep 0.01 ;; *) echo "docker bench: burst run $id ended $st" >&2; exit 1 ;; esac
    done
    m=$(marker "$f"); [ "$m" -gt "$last" ] && last=$m
  done
  burst_running_ms=$(awk -v a="$last" -v b="$t0" 'BEGIN {printf "%.0f", (a-b)/1e6}')
  burst_dispatched_ms=$(awk -v a="$t_disp" -v b="$t0" 'BEGIN {printf "%.0f", (a-b)/1e6}')
  echo "burst of $BURST: all running after $burst_running_ms ms" >&2
  : > "$WORK/rss"; : > "$WORK/pss"
  for id in $ids; do
    pid1=$(api "http://d/v1.41/containers/outpost-run-${id,,}/json" | jq -r .State.Pid)
    cg=$(awk -F: '$2 == "pids" {print $3}' "/proc/$pid1/cgroup")
    rss=0; pss=0; n=0
    while read -r p; do
      mapfile -d '' -t argv < "/proc/$p/cmdline" 2>/dev/null || continue
      [ "${argv[0]##*/}" = outpost ] && { [ "${argv[1]:-}" = task ] || [ "${argv[1]:-}" = shim ]; } || continue
      r=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null); s=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null)
      rss=$((rss + ${r:-0})); pss=$((pss + ${s:-0})); n=$((n + 1))
    done < "/sys/fs/cgroup/pids$cg/cgroup.procs"
    [ "$n" -eq 2 ] || { echo "docker bench: found $n task/shim processes for run $id (want 2)" >&2; exit 1; }
    echo "$rss" | awk '{print $1/1024}' >> "$WORK/rss"; echo "$pss" | awk '{print $1/1024}' >> "$WORK/pss"
  done
  for id in $ids; do wait_done "$DADDR" "$id"; done
  burst_completed_ms=$(awk -v a="$(now)" -v b="$t0" 'BEGIN {printf "%.0f", (a-b)/1e6}')
  kill -INT "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true

  # 5. the sandbox runner in the same run: same N, same burst (bench/sandbox_latency).
  cat > "$WORK/sandbox.toml" <<TOML
[server]
max_concurrent_runs = 64
[agents.shell]
max_concurrent = 64
TOML
  OUTPOST_LOG_LEVEL=warn start sandbox "$OUTPOST" serve --config "$WORK/sandbox.toml" \
    --listen 127.0.0.1:0 --data-dir "$WORK/sdata"
  SB=$("$BUILD/bench/sandbox_latency" "$ADDR" "$WORK/sdata" "$RUNS" "$BURST")

  R=$(jq -nc --argjson sb "$SB" --arg image "$IMAGE" \
    --arg d50 "$(pct 50 < "$WORK/d_run")" --arg d99 "$(pct 99 < "$WORK/d_run")" \
    --arg dc50 "$(pct 50 < "$WORK/d_done")" --arg dc99 "$(pct 99 < "$WORK/d_done")" \
    --arg b50 "$(pct 50 < "$WORK/b_run")" --arg b99 "$(pct 99 < "$WORK/b_run")" \
    --arg c50 "$(pct 50 < "$WORK/c_run")" --arg c99 "$(pct 99 < "$WORK/c_run")" \
    --arg rss50 "$(pct 50 < "$WORK/rss")" --arg rssmax "$(pct 100 < "$WORK/rss")" \
    --arg pss50 "$(pct 50 < "$WORK/pss")" --arg pssmax "$(pct 100 < "$WORK/pss")" \
    --arg br "$burst_running_ms" --arg bd "$burst_dispatched_ms" --arg bc "$burst_completed_ms" \
    --arg runs "$RUNS" --arg burst "$BURST" --arg dockerd "$(docker version -f '{{.Server.Version}}')" \
    --arg driver "$(docker info -f '{{.Driver}}')" \
    '{image:$image, runs:$runs, burst:$burst, dockerd:$dockerd, driver:$driver,
      running_p50_ms:$d50, running_p99_ms:$d99, completed_p50_ms:$dc50, completed_p99_ms:$dc99,
      bare_api_p50_ms:$b50, bare_api_p99_ms:$b99, cli_p50_ms:$c50, cli_p99_ms:$c99,
      burst_dispatched_ms:$bd, burst_all_running_ms:$br, burst_all_completed_ms:$bc,
      task_rss_p50_mib:$rss50, task_rss_max_mib:$rssmax, task_pss_p50_mib:$pss50, task_pss_max_mib:$pssmax,
      sandbox:$sb}')
  echo "$R" >&2
fi

j() { echo "$R" | jq -r ".$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
RATIO=$(ratio "$(j running_p50_ms)" "$(j bare_api_p50_ms)")
RATIO_CLI=$(ratio "$(j running_p50_ms)" "$(j cli_p50_ms)")
RATIO_SB=$(ratio "$(j running_p50_ms)" "$(j sandbox.running_p50_ms)")
cat <<MD

## (i) Docker runner: dispatch → agent process running in the container

\`outpost serve\` with \`[runner] kind = "docker"\` on this machine's dockerd $(j dockerd) ($(j driver)),
image \`$(j image)\` (Release \`outpost\`, \`scripts/build-images.sh --only base\`). The agent
runs \`date +%s%N\` first: the time it prints is when the agent process ran in the container (behind
tini → \`outpost task\` → \`outpost shim\`). $(j runs) runs after 3 warm-up, one at a time; the client's
clock is read just before each request.

| | to running, p50 | p99 | to COMPLETED (polled every 10 ms), p50 | p99 |
|---|---|---|---|---|
| outpost, docker runner: POST /dispatch → the agent's marker | $(j running_p50_ms) ms | $(j running_p99_ms) ms | $(j completed_p50_ms) ms | $(j completed_p99_ms) ms |
| baseline: bare container, Engine API create + start (curl, unix socket) of the same image, network none, entrypoint \`date +%s%N\` → its marker | $(j bare_api_p50_ms) ms | $(j bare_api_p99_ms) ms | — | — |
| baseline: \`docker run --rm --network none --entrypoint date IMAGE +%s%N\` (the CLI) → its marker | $(j cli_p50_ms) ms | $(j cli_p99_ms) ms | — | — |
| the sandbox runner, same server build, same N (bench/sandbox_latency) | $(j sandbox.running_p50_ms) ms | $(j sandbox.running_p99_ms) ms | $(j sandbox.completed_p50_ms) ms | $(j sandbox.completed_p99_ms) ms |

Dispatch → running is **${RATIO}×** the bare Engine API create + start at the median (goal ≤ 1.3×),
${RATIO_CLI}× the \`docker run\` CLI's, and ${RATIO_SB}× the sandbox runner's. The difference
to the bare container is what the runner adds before and inside it: the run's rows in SQLite, the
run directory and its channel token, the create of a locked-down container (binds of the run
directory, the channel socket, workspace and home; read-only root, dropped capabilities, limits),
and in the container tini, \`outpost task\` fetching the run's spec over the channel, and the shim's
fork + exec of the agent as the \`agent\` user.

Burst: $(j burst) dispatches at once (parallel curl): all accepted after $(j burst_dispatched_ms) ms, every
agent process running after **$(j burst_all_running_ms) ms**, all COMPLETED (each agent sleeps 20 s)
after $(j burst_all_completed_ms) ms. The sandbox runner's burst of the same size in the same run: all
running after $(j sandbox.burst_all_running_ms) ms.

Memory of \`outpost task\` per running container (its \`outpost task\` and \`outpost shim\`
processes, from the host's /proc, found by the container's cgroup; $(j burst) containers at once):
VmRSS p50 **$(j task_rss_p50_mib) MiB** (max $(j task_rss_max_mib) MiB); Pss (shared pages — the
\`outpost\` binary and its libraries, the same file in every container — divided among their
users) p50 $(j task_pss_p50_mib) MiB (max $(j task_pss_max_mib) MiB). tini and the agent are not counted.
MD
