#!/usr/bin/env bash
# The event-stream benchmark (bench/event_stream.cc): prints its section of docs/BENCHMARKS.md.
#   bench/events.sh BUILD_DIR     (BENCH_EVENTS_MIB, default 256; BENCH_EVENTS_SAMPLES, 300)
set -euo pipefail
BUILD=${1:?usage: bench/events.sh BUILD_DIR}
MIB=${BENCH_EVENTS_MIB:-256}
SAMPLES=${BENCH_EVENTS_SAMPLES:-300}
WORK=$(mktemp -d /tmp/outpost-bench-events-XXXXXX)
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill -TERM "$SERVER" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
chmod 711 "$WORK"
cat > "$WORK/outpost.toml" <<TOML
[limits]
max_output_bytes = $(( (MIB + 64) << 20 ))
TOML
mkfifo "$WORK/out"
OUTPOST_LOG_LEVEL=warn "$BUILD/src/app/outpost" serve --runner process --config "$WORK/outpost.toml" \
  --listen 127.0.0.1:0 --data-dir "$WORK/data" > "$WORK/out" 2> "$WORK/err" &
SERVER=$!
read -r line < "$WORK/out"
cat "$WORK/out" > /dev/null &
R=$("$BUILD/bench/event_stream" "${line#listening on http://}" "$WORK/data" "$WORK" "$MIB" "$SAMPLES")
echo "$R" >&2
j() { echo "$R" | jq -r ".$1"; }
RATIO=$(awk -v a="$(j capture_mb_s)" -v b="$(j cat_mb_s)" 'BEGIN {printf "%.2f", a/b}')
cat <<MD

## (e) Output capture and the live event stream (process runner)

A run \`cat\`s a $MIB MiB text file (lines of 20-120 characters) as fast as it can. The shim reads
its pipes, redacts, appends to stdout.log and writes each chunk as an \`output\` event to
events.jsonl. Every byte accounted for: **$(j accounted)** (stdout.log, exit.json's stdout_bytes
and the $(j output_events) decoded output events all equal the file, size and hash).

| | time | rate |
|---|---|---|
| outpost run: startedAt → endedAt (capture + events.jsonl + exit record) | $(j run_ms) ms | **$(j capture_mb_s) MB/s** |
| baseline: \`cat\` of the same file to /dev/null | $(j cat_ms) ms | $(j cat_mb_s) MB/s |

Capture runs at ${RATIO}× the baseline, which only reads from the page cache: the run's bytes cross
a pipe, are scanned by the redactor, and are written twice (the log and the JSON-escaped event).

Latency from a write in the run to an SSE client (\`GET /runs/{id}/events\`): the run prints
\`date +%s%N\` every 10 ms, the client subtracts it from its receipt time; $(j samples) samples.

| | p50 | p99 |
|---|---|---|
| write → SSE client (shim → events.jsonl → inotify → server → socket) | $(j sse_p50_ms) ms | $(j sse_p99_ms) ms |
| baseline: the same loop piped straight into the client | $(j pipe_p50_ms) ms | $(j pipe_p99_ms) ms |
MD
