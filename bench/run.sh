#!/usr/bin/env bash
# make bench: measures Outpost beside baselines taken in the same run, and writes
# docs/BENCHMARKS.md. Loopback only; every load stops by itself.
#   bench/run.sh BUILD_DIR          (BENCH_ONLY=docker: only section (i), bench/docker.sh;
#                                    BENCH_ONLY=ecs: only section (j), bench/ecs.sh)
set -euo pipefail
BUILD=${1:?usage: bench/run.sh BUILD_DIR}
OUTPOST=$BUILD/src/app/outpost
RUNS=${BENCH_RUNS:-200}
BURST=${BENCH_BURST:-100}
WRK_SECONDS=${BENCH_WRK_SECONDS:-10}
WORK=$(mktemp -d /tmp/outpost-bench-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

start() {  # start NAME CMD... : runs CMD, waits for "listening on http://ADDR", sets ADDR
  local name=$1; shift
  mkfifo "$WORK/$name.out"
  "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" &
  PIDS+=($!)
  read -r line < "$WORK/$name.out"
  ADDR=${line#listening on http://}
  cat "$WORK/$name.out" > /dev/null &
}

wrk_run() {  # wrk_run URL -> "requests_per_sec p99_ms"
  wrk -t2 -c50 -d"${WRK_SECONDS}s" --latency "$1" > "$WORK/wrk.txt"
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
  p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' "$WORK/wrk.txt")
  echo "$rps $p99"
}

# BENCH_ONLY=docker: only the docker runner's bench (bench/docker.sh); its section of
# docs/BENCHMARKS.md is replaced (or appended), the rest of the file kept.
if [ "${BENCH_ONLY:-}" = docker ]; then
  echo "== (i) docker runner: dispatch -> running in the container, beside a bare container start"
  bench/docker.sh "$BUILD" > "$WORK/docker.md"
  touch docs/BENCHMARKS.md
  awk '/^## \(i\) Docker runner/ {skip = 1; next} skip && /^## / {skip = 0} !skip' docs/BENCHMARKS.md |
    sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' > "$WORK/rest.md"
  cat "$WORK/rest.md" "$WORK/docker.md" > docs/BENCHMARKS.md
  echo "wrote the docker section of docs/BENCHMARKS.md"
  exit 0
elif [ "${BENCH_ONLY:-}" = ecs ]; then
  echo "== (j) ecs runner: ECS API calls against the ECS test double"
  bench/ecs.sh "$BUILD" > "$WORK/ecs.md"
  touch docs/BENCHMARKS.md
  awk '/^## \(j\) ECS runner/ {skip = 1; next} skip && /^## / {skip = 0} !skip' docs/BENCHMARKS.md |
    sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' > "$WORK/rest.md"
  cat "$WORK/rest.md" "$WORK/ecs.md" > docs/BENCHMARKS.md
  echo "wrote the ecs section of docs/BENCHMARKS.md"
  exit 0
elif [ -n "${BENCH_ONLY:-}" ]; then
  echo "bench/run.sh: unknown BENCH_ONLY '${BENCH_ONLY}' (known: docker, ecs)" >&2
  exit 2
fi

chmod 711 "$WORK"
echo "== (a) dispatch -> COMPLETED latency of 'true' ($RUNS runs, process runner)"
OUTPOST_LOG_LEVEL=warn start outpost "$OUTPOST" serve --runner process --listen 127.0.0.1:0 --data-dir "$WORK/data"
OUTPOST_ADDR=$ADDR
LAT=$("$BUILD/bench/dispatch_latency" "$OUTPOST_ADDR" "$RUNS")
echo "$LAT"

echo "== (b) GET /runs/{id} under wrk -t2 -c50 -d${WRK_SECONDS}s"
RUN_ID=$(curl -s -X POST "http://$OUTPOST_ADDR/dispatch" -H 'Content-Type: application/json' \
  -d '{"agent":"shell","task":"true"}' | jq -r .data.runId)
read -r O_RPS O_P99 <<< "$(wrk_run "http://$OUTPOST_ADDR/runs/$RUN_ID")"
start beast "$BUILD/bench/minimal_beast_server"
read -r B_RPS B_P99 <<< "$(wrk_run "http://$ADDR/runs/$RUN_ID")"
echo "outpost: $O_RPS req/s p99 $O_P99 ms; minimal beast: $B_RPS req/s p99 $B_P99 ms"

echo "== (c) sandbox runner: dispatch -> running / COMPLETED, burst of ${BURST:=100}"
cat > "$WORK/sandbox.toml" <<TOML
[server]
max_concurrent_runs = 128
[agents.shell]
max_concurrent = 128
TOML
OUTPOST_LOG_LEVEL=warn start sandbox "$OUTPOST" serve --config "$WORK/sandbox.toml" --listen 127.0.0.1:0 --data-dir "$WORK/sdata"
SB=$("$BUILD/bench/sandbox_latency" "$ADDR" "$WORK/sdata" "${SANDBOX_RUNS:-100}" "$BURST")
echo "$SB"
# The same runner without workspace images (audit F5: each run on a loop-mounted ext4 image of
# its disk limit), in the same run: what the images cost at start. The first server stops first
# (its pool would go on formatting images beside the measurement).
kill -INT "${PIDS[-1]}" && wait "${PIDS[-1]}" 2>/dev/null || true
OUTPOST_WORKSPACE_IMAGES=0 OUTPOST_LOG_LEVEL=warn start sandbox-noimg "$OUTPOST" serve \
  --config "$WORK/sandbox.toml" --listen 127.0.0.1:0 --data-dir "$WORK/sdata-noimg"
SBN=$("$BUILD/bench/sandbox_latency" "$ADDR" "$WORK/sdata-noimg" "${SANDBOX_RUNS:-100}" "$BURST")
echo "without workspace images: $SBN"

echo "== (d) docker run --rm --network=none of a tiny image (baseline)"
DOCKER_NOTE=""
DOCKER_P50=""
docker_bench() {
  command -v dockerd >/dev/null || apt-get install -y -qq docker.io >/dev/null 2>&1 || true
  command -v dockerd >/dev/null || { DOCKER_NOTE="dockerd is not installed and could not be installed"; return; }
  mkdir -p "$WORK/docker"/{root,exec}
  dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
    --host "unix://$WORK/docker/sock" --data-root "$WORK/docker/root" --exec-root "$WORK/docker/exec" \
    --pidfile "$WORK/docker/pid" > "$WORK/docker/log" 2>&1 &
  PIDS+=($!)
  export DOCKER_HOST="unix://$WORK/docker/sock"
  for _ in $(seq 1 150); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
  docker info >/dev/null 2>&1 || { DOCKER_NOTE="dockerd did not start: $(tail -1 "$WORK/docker/log")"; return; }
  local rootfs="$WORK/docker/rootfs"
  mkdir -p "$rootfs"
  cp /usr/bin/date "$rootfs/"
  for lib in $(ldd /usr/bin/date | grep -o '/[^ ]*'); do mkdir -p "$rootfs$(dirname "$lib")"; cp "$lib" "$rootfs$lib"; done
  tar -C "$rootfs" -c . | docker import - outpost-bench-tiny >/dev/null
  local times=()
  for i in $(seq 1 23); do
    local t0 t1
    t0=$(date +%s%N)
    docker run --rm --network=none outpost-bench-tiny /date +%s%N >/dev/null || { DOCKER_NOTE="docker run failed"; return; }
    t1=$(date +%s%N)
    [ "$i" -gt 3 ] && times+=($(( (t1 - t0) / 1000000 )))
  done
  DOCKER_P50=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
}
docker_bench
echo "docker: ${DOCKER_P50:-skipped} ${DOCKER_NOTE}"

j() { echo "$LAT" | jq -r ".$1"; }
s() { echo "$SB" | jq -r ".$1"; }
sn() { echo "$SBN" | jq -r ".$1"; }
SB_RATIO=$(awk -v a="$(s running_p50_ms)" -v b="$(s bare_running_p50_ms)" 'BEGIN {printf "%.1f", a/b}')
if [ -n "$DOCKER_P50" ]; then DOCKER_ROW="| baseline: \`docker run --rm --network=none\` of a tiny imported image (own dockerd, vfs), to exit | — | — | $DOCKER_P50 ms | — |"
else DOCKER_ROW="| baseline: docker run | skipped: $DOCKER_NOTE | | | |"; fi
RATIO=$(awk -v a="$O_RPS" -v b="$B_RPS" 'BEGIN {printf "%.2f", a/b}')
LAT_RATIO=$(awk -v a="$(j client_p50_ms)" -v b="$(j bare_p50_ms)" 'BEGIN {printf "%.0f", a/b}')
mkdir -p docs
cat > docs/BENCHMARKS.md <<MD
# Benchmarks

Measured by \`make bench\` on $(date -u +%Y-%m-%d), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo),
$(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r), Release build. Each figure stands beside
a baseline measured in the same run. Medians and ratios; the figures move by several percent
between runs on a shared 2-core machine.

## (a) Dispatch → COMPLETED of \`true\` (process runner, $RUNS runs after 5 warm-up)

| | p50 | p99 |
|---|---|---|
| client: POST /dispatch → GET /runs/{id} says COMPLETED (polled every 1 ms) | $(j client_p50_ms) ms | $(j client_p99_ms) ms |
| server: endedAt − createdAt of the run | $(j server_p50_ms) ms | $(j server_p99_ms) ms |
| baseline: bare fork+exec+wait of /bin/true | $(j bare_p50_ms) ms | $(j bare_p99_ms) ms |

Target: p50 under 25 ms. Ratio to the bare fork+exec: ${LAT_RATIO}× at the median. The difference is
the work that makes a run durable and supervised: the SQLite writes (PENDING, RUNNING, terminal),
a double fork + exec of the \`outpost shim\` binary, the shim's own fork + exec of \`/bin/sh -c true\`,
four atomic file writes (spec.json, shim.json, started.json, exit.json — only the exit record is
fsynced), and the datagram that wakes the supervisor.

## (b) GET /runs/{id}: wrk -t2 -c50 -d${WRK_SECONDS}s on loopback

| server | requests/s | p99 |
|---|---|---|
| outpost serve (SQLite read + JSON of the full run) | $O_RPS | $O_P99 ms |
| baseline: minimal Beast server, constant JSON | $B_RPS | $B_P99 ms |

Ratio: **${RATIO}×** the minimal endpoint's throughput (target ≥ 0.3×, p99 < 5 ms). wrk shares the
2 cores with the server, so both figures are lower than on a machine where the load comes from
elsewhere.

## (c) Sandbox runner: dispatch → sandboxed process running, and → COMPLETED

The agent runs \`date +%s%N\` in the bubblewrap sandbox (own uid, cgroups, no network); the time it
prints is when the sandboxed process ran. $(s runs) runs after 3 warm-up.

| | to running, p50 | to running, p99 | to exit/COMPLETED, p50 | p99 |
|---|---|---|---|---|
| outpost, sandbox runner (POST /dispatch → …) | $(s running_p50_ms) ms | $(s running_p99_ms) ms | $(s completed_p50_ms) ms | $(s completed_p99_ms) ms |
| baseline: bare \`setpriv --reuid … bwrap --unshare-all … date\` | $(s bare_running_p50_ms) ms | $(s bare_running_p99_ms) ms | $(s bare_exit_p50_ms) ms | $(s bare_exit_p99_ms) ms |
| the same, \`[sandbox] workspace_images = false\` (no per-run ext4 image) | $(sn running_p50_ms) ms | $(sn running_p99_ms) ms | $(sn completed_p50_ms) ms | $(sn completed_p99_ms) ms |
${DOCKER_ROW}

Dispatch → running is **${SB_RATIO}×** the bare bwrap at the median (target: within 3×).
The workspace images (each run's workspace and home on a loop-mounted ext4 image of its disk
limit, audit F5 — the only disk accounting here that a deleted-but-open file or a deep tree
cannot escape) cost the difference between the first and the third row: a claim from the pool,
\`mount -o loop\` and two bind mounts at start, and the unmounts and release at the end. Burst
without them: all running after $(sn burst_all_running_ms) ms. In a burst the pool's spare images
(4) run out and each further run formats its own at start (mkfs, ~100 ms), which is most of the
burst's extra time; a pool sized to the burst and mounting through the loop ioctls rather than
exec'ing \`mount\` are the next steps (issue 22).

Burst: $(s burst) dispatches from 10 client threads: all accepted after $(s burst_dispatched_ms) ms, all
sandboxed processes running after **$(s burst_all_running_ms) ms**, all COMPLETED after
$(s burst_all_completed_ms) ms (target: all running within 1 s; published: Daytona 0.90 s, E2B 1.59 s
for 100 sandboxes, on their own hardware).

Where the burst's time goes: each run starts its own \`outpost shim\` (an exec of the whole
outpost binary with its shared libraries), which creates the run's cgroups in four v1 hierarchies,
chowns the workspace and starts bwrap, which sets up six namespaces — about 20 ms of CPU per run,
so 100 runs need about 2 s of CPU on 2 cores, shared here with the benchmark client. Admission
itself is quick (all 100 accepted in the time shown above). A smaller shim executable and
batching the cgroup set-up are the next steps if this target matters.
MD
echo "== (e) output capture rate and write -> SSE latency"
bench/events.sh "$BUILD" >> docs/BENCHMARKS.md
echo "== (f) run store: SQLite vs DynamoDB (dynalite)"
bench/store.sh "$BUILD" >> docs/BENCHMARKS.md
echo "== (g) the request pipeline with access control, rate limits and metrics"
bench/access.sh "$BUILD" >> docs/BENCHMARKS.md
echo "== (h) three replicas behind HAProxy (dynalite + s3rver)"
bench/balancer.sh "$BUILD" >> docs/BENCHMARKS.md
echo "== (i) docker runner: dispatch -> running in the container, beside a bare container start"
bench/docker.sh "$BUILD" >> docs/BENCHMARKS.md
echo "== (j) ecs runner: ECS API calls against the ECS test double"
bench/ecs.sh "$BUILD" >> docs/BENCHMARKS.md
echo "wrote docs/BENCHMARKS.md"
