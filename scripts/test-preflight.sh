#!/usr/bin/env bash
# Run by `make test` before ctest: every tool the tests use is there, or it stops naming each
# missing one (scripts/install-deps.sh test installs them all). The tests themselves fail too when
# a tool is missing; this says so once, up front, instead of in 200 failures.
#
# Usage: scripts/test-preflight.sh
# Overrides (to check another install): OUTPOST_NODE_MODULES (default <repo>/node_modules),
# OUTPOST_CHROMIUM (default /usr/bin/chromium, as tests/web/dashboard_test.mjs), OUTPOST_PROMTOOL
# (default <repo>/build/tools/promtool, as tests/integration/metrics_test.cc), OUTPOST_HAPROXY
# (default /usr/sbin/haproxy, as tests/integration/balancer_fixture.cc).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
modules="${OUTPOST_NODE_MODULES:-$root/node_modules}"
chromium="${OUTPOST_CHROMIUM:-/usr/bin/chromium}"
promtool="${OUTPOST_PROMTOOL:-$root/build/tools/promtool}"
haproxy="${OUTPOST_HAPROXY:-/usr/sbin/haproxy}"
missing=()

# node >= 20, where the sandbox sees it (it binds /usr only) and on PATH.
node_bin=""
for n in /usr/local/bin/node /usr/bin/node; do [ -x "$n" ] && { node_bin="$n"; break; }; done
if [ -z "$node_bin" ]; then
  missing+=("node (>= 20, in /usr/bin or /usr/local/bin)")
else
  v="$("$node_bin" --version 2>/dev/null || true)"; major="${v#v}"; major="${major%%.*}"
  if ! [[ "$major" =~ ^[0-9]+$ ]] || ((major < 20)); then
    missing+=("node >= 20 ($node_bin is ${v:-unrunnable})")
  fi
fi
command -v node >/dev/null 2>&1 || missing+=("node on PATH")

# The npm tools, pinned in package.json (npm ci).
for tool in dynalite s3rver claude codex gemini conformance; do
  [ -x "$modules/.bin/$tool" ] || missing+=("$tool ($modules/.bin/$tool)")
done
for pkg in playwright-core @aws-sdk/client-s3 @aws-sdk/s3-request-presigner; do
  [ -d "$modules/$pkg" ] || missing+=("$pkg ($modules/$pkg)")
done
for pkg in aws-cdk-lib cdk-nag aws-cdk; do  # the CDK app's own tree (ctest cdk_test)
  [ -d "$root/deploy/cdk/node_modules/$pkg" ] || missing+=("$pkg ($root/deploy/cdk/node_modules/$pkg)")
done
inspector="$modules/@modelcontextprotocol/inspector-cli/build/index.js"
[ -f "$inspector" ] || missing+=("the MCP inspector ($inspector)")

[ -x "$chromium" ] || missing+=("chromium ($chromium)")
[ -x "$promtool" ] || missing+=("promtool ($promtool)")
[ -x "$haproxy" ] || missing+=("haproxy ($haproxy)")
for tool in bwrap curl jq git tmux docker dockerd debootstrap; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ -x /usr/bin/curl ] || missing+=("curl (/usr/bin/curl, which the sandbox tests run)")
[ -x /usr/bin/clang++ ] || missing+=("clang (/usr/bin/clang++, for the fuzzers)")
[ "$(id -u)" = 0 ] || missing+=("root (the sandbox and the integration tests' servers need it)")

if ((${#missing[@]})); then
  echo "test-preflight: missing:" >&2
  printf '  %s\n' "${missing[@]}" >&2
  echo "test-preflight: run scripts/install-deps.sh test (as root)" >&2
  exit 1
fi
echo "test-preflight: every tool the tests use is installed (node $("$node_bin" --version))"
