#!/usr/bin/env bash
# The dependency check of `make test` (ARCHITECTURE.md §2): reads every `#include "x/..."` under
# src/ (production and test files), maps each file to its component (the folder under src/:
# src/runner/shim/shim.cc is runner) and checks the edge against scripts/deps.rules — the
# layer table (what each component may include) and the nevers. Every offending include is
# printed as
#   FILE:LINE: #include "..." — COMPONENT may not depend on OTHER (rule)
# and the exit status is 1; 0 when the tree is clean; 2 on usage or rules-file errors.
#
# Usage: scripts/check-deps.sh [--root DIR] [--rules FILE] [--graph]
#   --root DIR    the tree to check (default: this checkout); DIR/src is read
#   --rules FILE  the rules (default: DIR/scripts/deps.rules, else this checkout's)
#   --graph       print the component graph the includes make (production, then tests) and exit
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$here" rules="" graph=0
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root="${2:?--root needs a directory}"; shift 2 ;;
    --rules) rules="${2:?--rules needs a file}"; shift 2 ;;
    --graph) graph=1; shift ;;
    -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "check-deps: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -d "$root/src" ] || { echo "check-deps: no src/ under $root" >&2; exit 2; }
if [ -z "$rules" ]; then
  rules="$root/scripts/deps.rules"
  [ -f "$rules" ] || rules="$here/scripts/deps.rules"
fi
[ -f "$rules" ] || { echo "check-deps: no rules file $rules" >&2; exit 2; }
cd "$root"

# The components: every folder directly under src/.
components="$(find src -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort | tr '\n' ' ')"

# One line per include: FILE:LINE:#include "target" (sorted, so the output is stable).
find src -type f \( -name '*.h' -o -name '*.cc' \) -print0 | sort -z |
  xargs -0 grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' -- /dev/null |
  awk -v rules="$rules" -v graph="$graph" -v comps="$components" '
function fail_rules(msg) { printf "check-deps: %s:%d: %s\n", rules, rline, msg > "/dev/stderr"; bad_rules = 1 }
function known(c) { return (c in is_comp) || (c in test_only) || (c in declared) }
# The set a "never A: B C ..." line names: "*" is every component, "!X" takes X out.
function never_targets(a, list,    n, t, i, c) {
  n = split(list, t, /[ \t]+/)
  for (i = 1; i <= n; i++) {
    if (t[i] == "") continue
    if (t[i] == "*") {  # every component but the test-only ones (any test file may use those)
      for (c in is_comp) if (c != a && !(c in test_only)) never[a, c] = reason
      for (c in declared) if (c != a && !(c in test_only)) never[a, c] = reason
    }
    else if (substr(t[i], 1, 1) == "!") delete never[a, substr(t[i], 2)]
    else never[a, t[i]] = reason
  }
}
BEGIN {
  split(comps, cl, " ")
  for (i in cl) if (cl[i] != "") is_comp[cl[i]] = 1
  rline = 0
  while ((getline line < rules) > 0) {
    rline++
    reason = ""
    if (match(line, /#/)) { reason = substr(line, RSTART + 1); line = substr(line, 1, RSTART - 1) }
    sub(/^[ \t]+/, "", reason); sub(/[ \t]+$/, "", reason)
    sub(/^[ \t]+/, "", line); sub(/[ \t]+$/, "", line)
    if (line == "") continue
    kw = line; sub(/[ \t].*/, "", kw)
    rest = substr(line, length(kw) + 1); sub(/^[ \t]+/, "", rest)
    if (kw == "component") { declared[rest] = 1; continue }
    if (kw == "test-only") { test_only[rest] = 1; declared[rest] = 1; continue }
    if (kw == "test-file") { ntf++; test_re[ntf] = rest; continue }
    if (kw == "allow" || kw == "test-allow" || kw == "never" || kw == "exception") {
      c = index(rest, ":")
      if (!c) { fail_rules("expected \"" kw " NAME: ...\""); continue }
      lhs = substr(rest, 1, c - 1); sub(/[ \t]+$/, "", lhs)
      list = substr(rest, c + 1); sub(/^[ \t]+/, "", list)
      if (kw == "allow") { has_allow[lhs] = 1; n = split(list, t, /[ \t]+/); for (i = 1; i <= n; i++) if (t[i] != "") allow[lhs, t[i]] = 1; allow_line[lhs] = list; rl[lhs] = rline }
      else if (kw == "test-allow") { n = split(list, t, /[ \t]+/); for (i = 1; i <= n; i++) if (t[i] != "") tallow[lhs, t[i]] = 1; tallow_line[lhs] = list }
      else if (kw == "never") { reason = "never: " (reason == "" ? lhs " -> " list : reason); never_lines[++nn] = lhs SUBSEP list SUBSEP reason }
      else {
        if (reason == "") { fail_rules("an exception needs a reason after #"); continue }
        n = split(list, t, /[ \t]+/)
        for (i = 1; i <= n; i++) if (t[i] != "") { exc[lhs, t[i]] = reason; exc_used[lhs, t[i]] = 0 }
      }
      continue
    }
    fail_rules("unknown keyword \"" kw "\"")
  }
  close(rules)
  # Nevers after every component is declared, so that "*" covers the planned ones too.
  for (i = 1; i <= nn; i++) { split(never_lines[i], p, SUBSEP); reason = p[3]; never_targets(p[1], p[2]) }
  for (k in allow) {
    split(k, p, SUBSEP)
    if ((p[1], p[2]) in never) { printf "check-deps: %s: allow %s: %s contradicts (%s)\n", rules, p[1], p[2], never[p[1], p[2]] > "/dev/stderr"; bad_rules = 1 }
    if (p[2] in test_only) { printf "check-deps: %s: allow %s: %s is test-only\n", rules, p[1], p[2] > "/dev/stderr"; bad_rules = 1 }
  }
}
bad_rules { next }   # read the input to its end all the same (no SIGPIPE for grep)
{
  # FILE:LINE:#include "target/..."
  c1 = index($0, ":"); file = substr($0, 1, c1 - 1); rest = substr($0, c1 + 1)
  c2 = index(rest, ":"); lno = substr(rest, 1, c2 - 1); text = substr(rest, c2 + 1)
  q = index(text, "\""); target = substr(text, q + 1); target = substr(target, 1, index(target, "\"") - 1)
  sub(/[ \t]+$/, "", text)
  s = index(target, "/"); if (!s) next
  to = substr(target, 1, s - 1)
  if (!known(to)) next          # not a component (a system or third-party path)
  from = file; sub(/^src\//, "", from); sub(/\/.*/, "", from)
  if (to == from) next
  is_test = 0
  for (i = 1; i <= ntf; i++) if (file ~ test_re[i]) { is_test = 1; break }
  edges[is_test, from, to]++
  if (graph) next
  if ((file, to) in exc) { exc_used[file, to]++; next }
  why = ""
  if ((to in test_only) && !is_test) why = to " is test-only: production code may not include it"
  else if (!(from in has_allow)) why = "no \"allow " from ":\" line in deps.rules"
  else if (is_test) {
    if (((from, to) in never) && !((from, to) in tallow)) why = never[from, to]
    else if (!((from, to) in allow) && !((from, to) in tallow) && !(to in test_only))
      why = "test files of " from " may include only " allow_line[from] (tallow_line[from] != "" ? " " tallow_line[from] : "") " and test-only components"
  } else if ((from, to) in never) why = never[from, to]
  else if (!((from, to) in allow)) why = "layers: " from " may include only " (allow_line[from] == "" ? "itself" : allow_line[from])
  if (why != "") {
    printf "%s:%s: %s — %s may not depend on %s (%s)\n", file, lno, text, from, to, why
    nbad++
  }
}
END {
  if (bad_rules) exit 2
  if (graph) {
    for (tt = 0; tt <= 1; tt++) {
      print (tt ? "# test files (tests, fixtures, conformance suites, fakes)" : "# production files")
      n = split(comps, cl, " ")
      for (i = 1; i <= n; i++) {
        a = cl[i]; if (a == "") continue
        line = ""
        for (j = 1; j <= n; j++) { b = cl[j]; if ((tt, a, b) in edges) line = line " " b "(" edges[tt, a, b] ")" }
        if (line != "" || !tt) printf "%-10s ->%s\n", a, line
      }
    }
    exit 0
  }
  for (k in exc_used) if (!exc_used[k]) {
    split(k, p, SUBSEP)
    printf "%s: stale exception: %s no longer includes %s; delete the line\n", rules, p[1], p[2]
    nbad++
  }
  nexc = 0; for (k in exc_used) if (exc_used[k]) nexc++
  if (nbad) { printf "check-deps: %d violation(s) of scripts/deps.rules (ARCHITECTURE.md §2)\n", nbad > "/dev/stderr"; exit 1 }
  printf "check-deps: ok (%d temporary exception(s) in %s)\n", nexc, rules
}'
