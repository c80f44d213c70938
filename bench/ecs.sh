#!/usr/bin/env bash
# The ecs runner benchmark (issue 21, "Performance"): prints its section of docs/BENCHMARKS.md.
#   bench/ecs.sh BUILD_DIR
# bench/ecs_bench runs the ecs runner against the ECS API test double (src/runner/ecs/fake_ecs.h,
# simulated tasks) over loopback HTTP, a simulated minute of supervisor ticks per figure. No AWS:
# these are call counts of Outpost's design, not ECS latencies.
set -euo pipefail
BUILD=${1:?usage: bench/ecs.sh BUILD_DIR}
J=$("$BUILD/bench/ecs_bench")
g() { jq -r "$1" <<< "$J"; }
cat <<MD

## (j) ECS runner: ECS API calls (against the ECS test double)

The ecs runner (issue 21) probes every running run each supervisor tick (500 ms) from one shared
view of the cluster, refreshed by one \`DescribeTasks\` pass (batches of 100 ARNs) at most every
\`[runner.ecs] describe_interval_seconds\` (5). Measured with Outpost's own ECS client against the
test double over loopback HTTP; a simulated minute per row. **Not measured against real AWS.**

| running ECS runs | DescribeTasks calls / min | one call per run per tick would be | slowest tick (wall ms, loopback) |
|---:|---:|---:|---:|
| 0 | $(g '.describe_per_min["0"]') | $(g '.naive_per_min["0"]') | $(g '.tick_ms["0"]') |
| 10 | $(g '.describe_per_min["10"]') | $(g '.naive_per_min["10"]') | $(g '.tick_ms["10"]') |
| 200 | $(g '.describe_per_min["200"]') | $(g '.naive_per_min["200"]') | $(g '.tick_ms["200"]') |

ECS throttles its API per account and Region; here DescribeTasks stays at 12 calls a minute
whatever the number of runs up to 100, and one more call per pass for each further 100 (24 a
minute at 200).

Per run (10 runs of 2 minutes, 10 running together, one cancelled after 1 minute): ECS calls in
total $(g '.per_run.RunTask') RunTask, $(g '.per_run.StopTask') StopTask, $(g '.per_run.DescribeTasks') DescribeTasks (shared by all 10: $(jq -r '.per_run.DescribeTasks / .per_run.runs' <<< "$J") per run),
$(g '.per_run.ListTasks') ListTasks. So one run costs 1 RunTask, 1 StopTask only when cancelled or past
its deadline, and 12/N DescribeTasks a minute while N runs run.

Not measured here: the control plane's store calls and run-channel requests per ECS run — they
need the remote task side (\`outpost task\` started with only OUTPOST_RUN_ID, OUTPOST_CHANNEL_URL
and OUTPOST_BOOTSTRAP_TOKEN, issue 20's bootstrap exchange), which this bench does not run.
MD
