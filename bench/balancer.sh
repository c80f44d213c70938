#!/usr/bin/env bash
# Replicas behind a load balancer (bench/balancer_bench.cc): three replicas on dynalite with
# artifacts on s3rver behind HAProxy, beside one SQLite replica. Prints its section of
# docs/BENCHMARKS.md.
#   bench/balancer.sh BUILD_DIR   (BENCH_BALANCER_RUNS, default 50; BENCH_BALANCER_SAMPLES, 300)
# BALANCER_JSON=<a saved result> only renders the section again.
set -euo pipefail
BUILD=${1:?usage: bench/balancer.sh BUILD_DIR}
RUNS=${BENCH_BALANCER_RUNS:-50}
SAMPLES=${BENCH_BALANCER_SAMPLES:-300}
R=${BALANCER_JSON:-}
if [ -z "$R" ]; then
  R=$(OUTPOST_BIN="$BUILD/src/app/outpost" OUTPOST_LOG_LEVEL=error \
      "$BUILD/bench/balancer_bench" "$RUNS" "$SAMPLES" 2>/dev/null) ||
    echo "balancer_bench: failed or not every figure was measured" >&2
  echo "$R" >&2
fi
j() { echo "$R" | jq -r "$1"; }
ms() { local v; v=$(j "$1"); [ "$v" = null ] && echo "not measured" || printf '%.2f ms' "$v"; }
note() { local v; v=$(j "$1 // empty"); [ -n "$v" ] && printf ' (%s)' "$v" || true; }
if [ -n "$(j '.error // empty')" ]; then
  printf '\n## (h) Replicas behind a load balancer (HAProxy, 3 replicas, dynalite + s3rver)\n\n'
  printf 'Not measured: %s\n' "$(j .error)"
  exit 0
fi
calls() {
  if [ -n "$(j '.dynamodb_calls.note // empty')" ]; then echo "not measured — $(j .dynamodb_calls.note)."
  else printf '**%.1f** per run of `true`, **%.1f** per MB of output (idle: %.1f calls/s for the three replicas).' \
    "$(j .dynamodb_calls.per_run_of_true)" "$(j .dynamodb_calls.per_mb)" "$(j .dynamodb_calls.idle_calls_per_s)"; fi
}
cat <<MD

## (h) Replicas behind a load balancer (HAProxy, 3 replicas, dynalite + s3rver)

HAProxy (Debian's package, the test's own process) round-robins over three \`outpost serve\`
replicas (sandbox runner) with health checks on \`/health/live\`, as the runbook's ALB does
(\`tests/integration/balancer_fixture.cc\` documents each line of its configuration).

$(j .runs) runs of 400 numbered lines, dispatched through the balancer one at a time, each followed over SSE from its start
through it with a reconnect after every 100 events (\`Last-Event-ID\`): **$(j .whole_streams)**
whole streams (every event once, in order, \`end\` last, all 400 lines), **$(j .equal_to_output_log)**
equal to the run's \`output.log\` artifact; $(j .reconnects) reconnects, $(j .reconnects_on_another_replica)
of them answered by another replica than the connection before; $(printf '%.1f' "$(j .follow_seconds)") s in all.
$( [ -n "$(j '.first_problem // empty')" ] && echo "First problem: $(j .first_problem)." )

Latency from a write in a run to an SSE client, the run printing \`date +%s%N\` every 10 ms:

| | p50 | p99 | samples |
|---|---|---|---|
| write → SSE client on *another* replica through HAProxy, DynamoDB (dynalite) | $(ms .dynamodb_latency.p50_ms) | $(ms .dynamodb_latency.p99_ms) | $(j .dynamodb_latency.samples)$(note .dynamodb_latency.error) |
| baseline: one replica on SQLite, client connected to it | $(ms .sqlite_latency.p50_ms) | $(ms .sqlite_latency.p99_ms) | $(j .sqlite_latency.samples)$(note .sqlite_latency.error) |

Target: p50 ≤ 50 ms on dynalite.

DynamoDB calls (\`outpost_dynamodb_calls_total\` of the three replicas' \`GET /metrics\`, less
their idle calls over the same time): $(calls)
MD
