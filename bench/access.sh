#!/usr/bin/env bash
# The request pipeline with access control: GET /runs/{id} of one finished run under wrk, with
# the server in open mode (no keys), with an API key, and with the key and a requests-per-minute
# limit, beside the minimal Beast server in the same run. Prints its section of
# docs/BENCHMARKS.md.
#   bench/access.sh BUILD_DIR    (BENCH_WRK_SECONDS, default 10)
set -euo pipefail
BUILD=${1:?usage: bench/access.sh BUILD_DIR}
OUTPOST=$BUILD/src/app/outpost
WRK_SECONDS=${BENCH_WRK_SECONDS:-10}
WORK=$(mktemp -d /tmp/outpost-bench-access-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
chmod 711 "$WORK"

wrk_run() {  # wrk_run URL [HEADER] -> "requests_per_sec p99_ms non2xx"
  local url=$1; shift
  wrk -t2 -c50 -d"${WRK_SECONDS}s" --latency "$@" "$url" > "$WORK/wrk.txt"
  local rps p99 bad
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
  p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' "$WORK/wrk.txt")
  bad=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.txt")
  echo "$rps $p99 ${bad:-0}"
}

start() {  # start NAME CONFIG -> sets ADDR, PID
  local name=$1 config=$2
  mkfifo "$WORK/$name.out"
  OUTPOST_LOG_LEVEL=warn "$OUTPOST" serve --runner process --listen 127.0.0.1:0 \
    --data-dir "$WORK/data" --config "$config" > "$WORK/$name.out" 2> "$WORK/$name.err" &
  PID=$!
  PIDS+=($PID)
  local line
  read -r line < "$WORK/$name.out" || { cat "$WORK/$name.err" >&2; return 1; }
  cat "$WORK/$name.out" > /dev/null &
  ADDR=${line#listening on http://}
}
stop() { kill -INT "$PID"; wait "$PID" 2>/dev/null || true; }

printf '' > "$WORK/open.toml"
start open "$WORK/open.toml"
RUN_ID=$(curl -s -X POST "http://$ADDR/dispatch" -H 'Content-Type: application/json' \
  -d '{"agent":"shell","task":"true"}' | jq -r .data.runId)
for _ in $(seq 1 100); do
  [ "$(curl -s "http://$ADDR/runs/$RUN_ID" | jq -r .data.status)" = COMPLETED ] && break; sleep 0.05
done
read -r OPEN_RPS OPEN_P99 OPEN_BAD <<< "$(wrk_run "http://$ADDR/runs/$RUN_ID")"
echo "open: $OPEN_RPS req/s p99 $OPEN_P99 ms" >&2
stop

# From here on keys exist: the keyed run is dispatched (and read) with the tenant's own key.
TENANT=$("$OUTPOST" admin tenant create bench --data-dir "$WORK/data" 2>/dev/null)
KEY=$("$OUTPOST" admin key create --tenant "$TENANT" --scopes dispatch,status --data-dir "$WORK/data" 2>/dev/null)
ADMIN=$("$OUTPOST" admin key create --tenant "$TENANT" --scopes admin --data-dir "$WORK/data" 2>/dev/null)
start keyed "$WORK/open.toml"
KEYED_RUN=$(curl -s -X POST "http://$ADDR/dispatch" -H 'Content-Type: application/json' \
  -H "Authorization: Bearer $KEY" -d '{"agent":"shell","task":"true"}' | jq -r .data.runId)
for _ in $(seq 1 100); do
  [ "$(curl -s -H "Authorization: Bearer $KEY" "http://$ADDR/runs/$KEYED_RUN" | jq -r .data.status)" = COMPLETED ] && break; sleep 0.05
done
read -r KEY_RPS KEY_P99 KEY_BAD <<< "$(wrk_run "http://$ADDR/runs/$KEYED_RUN" -H "Authorization: Bearer $KEY")"
echo "key: $KEY_RPS req/s p99 $KEY_P99 ms" >&2
read -r NOKEY_RPS NOKEY_P99 NOKEY_BAD <<< "$(wrk_run "http://$ADDR/runs/$KEYED_RUN")"
echo "no key (401): $NOKEY_RPS req/s" >&2
stop

# The largest limit the config takes; the bucket holds a full minute's worth (1000000), more than
# a WRK_SECONDS-long wrk run sends at these rates, so every answer is a 200 that went through the bucket.
printf '[quotas]\nrequests_per_minute = 1000000\n' > "$WORK/limited.toml"
start limited "$WORK/limited.toml"
read -r RL_RPS RL_P99 RL_BAD <<< "$(wrk_run "http://$ADDR/runs/$KEYED_RUN" -H "Authorization: Bearer $KEY")"
echo "key + rate limit: $RL_RPS req/s p99 $RL_P99 ms" >&2
METRICS_BYTES=$(curl -s -o /dev/null -w '%{size_download}' -H "Authorization: Bearer $ADMIN" "http://$ADDR/metrics")
stop

mkfifo "$WORK/beast.out"
"$BUILD/bench/minimal_beast_server" > "$WORK/beast.out" 2>/dev/null &
PIDS+=($!)
read -r line < "$WORK/beast.out"
cat "$WORK/beast.out" > /dev/null &
read -r B_RPS B_P99 B_BAD <<< "$(wrk_run "http://${line#listening on http://}/runs/$RUN_ID")"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
cat <<MD

## (g) The request pipeline with access control, rate limits and metrics

Measured by \`bench/access.sh\` (part of \`make bench\`) on $(date -u +%Y-%m-%d), Release build, process
runner, SQLite store. GET /runs/{id} of one finished run, wrk -t2 -c50 -d${WRK_SECONDS}s on loopback; every
request also goes through the metrics hook (request counter and latency histogram). Same machine,
same run, one server at a time.

| server | requests/s | p99 | vs open mode |
|---|---|---|---|
| outpost, open mode (no keys: loopback only) | $OPEN_RPS | $OPEN_P99 ms | 1.00× |
| outpost, \`Authorization: Bearer\` key (verified from the 5 s cache) | $KEY_RPS | $KEY_P99 ms | $(ratio "$KEY_RPS" "$OPEN_RPS")× |
| outpost, the same key with \`[quotas] requests_per_minute\` (token bucket per key) | $RL_RPS | $RL_P99 ms | $(ratio "$RL_RPS" "$OPEN_RPS")× |
| outpost, no key while keys exist (every request a 401) | $NOKEY_RPS | $NOKEY_P99 ms | $(ratio "$NOKEY_RPS" "$OPEN_RPS")× |
| baseline: minimal Beast server, constant JSON | $B_RPS | $B_P99 ms | $(ratio "$B_RPS" "$OPEN_RPS")× |

Non-2xx answers: open $OPEN_BAD, key $KEY_BAD, rate-limited ${RL_BAD} (the limit is set above
what the load reaches), no key $NOKEY_BAD (all of them, as intended). With a key, outpost serves
$(ratio "$KEY_RPS" "$B_RPS")× the minimal endpoint's throughput. A scrape of \`/metrics\` after the runs was
$METRICS_BYTES bytes.
MD
