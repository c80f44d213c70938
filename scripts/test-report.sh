#!/usr/bin/env bash
# The skip report of `make test`: reads the JSON results every gtest binary wrote under ctest
# (GTEST_OUTPUT, set by outpost_test() in CMakeLists.txt), prints the counts and every skipped
# test by name, and fails when
#   - a test skipped that is not on the allowlist (tests/skip-allowlist.txt),
#   - an allowlist entry ran and did not skip (stale: remove it), or, with --complete, did not run
#     at all (renamed or deleted test),
#   - an allowlist entry has no reason,
#   - a test binary ran no test at all.
# Runs with bash and jq only (scripts/install-deps.sh installs jq).
#
# Usage: scripts/test-report.sh [--complete] RESULTS_DIR [ALLOWLIST]
#   --complete: RESULTS_DIR holds a whole run (make test), so every allowlist entry must be in it.
# Exit 0 when none of the above, 1 when any, 2 on usage errors or missing results.
set -euo pipefail
complete=0
if [ "${1:-}" = --complete ]; then complete=1; shift; fi
dir="${1:?usage: scripts/test-report.sh [--complete] RESULTS_DIR [ALLOWLIST]}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
allowlist="${2:-$root/tests/skip-allowlist.txt}"

command -v jq >/dev/null || { echo "test-report: jq is not installed: run scripts/install-deps.sh test" >&2; exit 2; }
[ -f "$allowlist" ] || { echo "test-report: no allowlist at $allowlist" >&2; exit 2; }
shopt -s nullglob
files=("$dir"/*.json)
((${#files[@]})) || { echo "test-report: no JSON results in $dir (did ctest run?)" >&2; exit 2; }

# One line per test case: "<binary> <Suite.Test> <result>" (result: COMPLETED, SKIPPED, ...;
# a failed case is COMPLETED with failures, counted separately).
cases="$(for f in "${files[@]}"; do
  jq -r --arg bin "$(basename "$f" .json)" '
    .testsuites[]? as $s | $s.testsuite[]? |
    "\($bin) \($s.name).\(.name) \(if (.failures // []) | length > 0 then "FAILED" else .result end)"' "$f"
done)"
bad=0

# Binaries that ran nothing (a filter or a build problem would otherwise pass silently).
for f in "${files[@]}"; do
  if [ "$(jq '.tests // 0' "$f")" = 0 ]; then
    echo "test-report: $(basename "$f" .json) ran no test"
    bad=1
  fi
done

# The allowlist: "Suite.Test  # reason" (full gtest names, parameters included); blank lines and
# lines starting with # are comments.
declare -A reason=()
while IFS= read -r line || [ -n "$line" ]; do
  [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
  name="${line%%#*}"; name="${name//[[:space:]]/}"
  why=""; [[ "$line" == *"#"* ]] && why="${line#*#}"; why="${why#"${why%%[![:space:]]*}"}"
  if [ -z "$why" ]; then
    echo "test-report: $allowlist: $name has no reason (write: $name  # why it must skip)"
    bad=1
  fi
  reason["$name"]="$why"
done <"$allowlist"

total=$(grep -c . <<<"$cases" || true)
failed=$(grep -c ' FAILED$' <<<"$cases" || true)
skipped_lines="$(grep ' SKIPPED$' <<<"$cases" || true)"
skipped=$(grep -c . <<<"$skipped_lines" || true)
echo "test-report: ${#files[@]} gtest binaries, $total cases: $((total - failed - skipped)) passed, $failed failed, $skipped skipped"
echo "skipped: $skipped"
declare -A seen=()
while read -r bin name _; do
  [ -n "$name" ] || continue
  seen["$name"]=1
  if [ -n "${reason[$name]+x}" ]; then
    echo "  $name ($bin): allowed: ${reason[$name]}"
  else
    echo "  $name ($bin): NOT ON THE ALLOWLIST ($allowlist)"
    bad=1
  fi
done <<<"$skipped_lines"

for name in "${!reason[@]}"; do
  [ -n "${seen[$name]+x}" ] && continue
  if grep -qF " $name " <<<"$cases"; then
    echo "test-report: stale allowlist entry: $name ran and did not skip; remove it from $allowlist"
    bad=1
  elif ((complete)); then
    echo "test-report: stale allowlist entry: $name did not run at all (renamed or deleted?); fix $allowlist"
    bad=1
  fi
done

if ((bad)); then
  echo "test-report: FAILED (see above)"
  exit 1
fi
echo "test-report: ok (every skip is on the allowlist)"
# The closing line, alone: every gtest case of the run (CTest's own summary comes earlier).
echo "gtest: $((total - failed - skipped)) passed, $failed failed, $skipped skipped"
