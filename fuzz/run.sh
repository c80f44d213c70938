#!/usr/bin/env bash
# Runs each libFuzzer target for a while on its committed seeds (fuzz/corpus/<target>/, never
# modified: new inputs go to a work corpus under the build dir) with its dictionary if any.
# A crash, leak, timeout or out-of-memory fails the script; the reproducer is left in
# BUILD/fuzz-artifacts/<target>/ and the command to replay it is printed.
#
# Usage: fuzz/run.sh BUILD_DIR SECONDS [TARGET...]   (BUILD_DIR as configured by `make fuzz-build`)
#   e.g. fuzz/run.sh build/fuzz 600 http_request_fuzzer    # a longer run of one target
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="$(cd "${1:?usage: fuzz/run.sh BUILD_DIR SECONDS [TARGET...]}" && pwd)"
seconds="${2:?usage: fuzz/run.sh BUILD_DIR SECONDS [TARGET...]}"
shift 2
targets=("$@")
((${#targets[@]})) || targets=(http_request_fuzzer dispatch_request_fuzzer sse_fuzzer signed_url_fuzzer redactor_fuzzer)
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:abort_on_error=1:symbolize=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=0
for t in "${targets[@]}"; do
  bin="$build/fuzz/$t"
  [ -x "$bin" ] || { echo "fuzz: $bin not built (make fuzz-build)" >&2; exit 2; }
  work="$build/fuzz-corpus/$t"
  crashes="$build/fuzz-artifacts/$t"
  mkdir -p "$work" "$crashes"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536
        -print_final_stats=1 -artifact_prefix="$crashes/")
  [ -f "$here/dict/$t.dict" ] && args+=(-dict="$here/dict/$t.dict")
  log="$build/fuzz-$t.log"
  echo "fuzz: $t for ${seconds}s"
  if "$bin" "${args[@]}" "$work" "$here/corpus/$t" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
    echo "fuzz: $t ok: ${runs:-?} runs, ${speed:-?} exec/s, ${cov:-?}, 0 crashes"
  else
    failed=1
    echo "fuzz: $t FAILED (log: $log)" >&2
    grep -E 'ERROR:|SUMMARY:|Test unit written' "$log" | head -5 >&2 || true
    echo "fuzz: replay with: $bin $crashes/<file>" >&2
  fi
done
exit "$failed"
