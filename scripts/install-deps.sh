#!/usr/bin/env bash
# Installs what the build and the tests need, and nothing that is already there.
# Idempotent and quiet when everything is present. Usage: scripts/install-deps.sh [build|test|bench]
set -euo pipefail
what="${1:-test}"

pkgs=(build-essential cmake ninja-build ccache pkg-config git curl jq
      libboost1.81-all-dev libboost-json1.81-dev libboost-url1.81-dev
      libsqlite3-dev libssl-dev libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
      libgtest-dev libgmock-dev bubblewrap util-linux procps
      clang-14 libclang-rt-14-dev)  # fuzz/: libFuzzer targets
case "$what" in
  # Debian's chromium for the dashboard's headless test (tests/web, driven by playwright-core).
  test) pkgs+=(chromium) ;;
  bench) pkgs+=(libbenchmark-dev wrk hyperfine) ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq >/dev/null
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The real coding-agent CLIs (claude, codex, gemini) for tests/agents, pinned in package.json and
# package-lock.json at the repo root. Reinstalled only when node_modules is missing or older
# than the lock file; `npm ci` recreates it from the lock (no audit, no funding banner).
if [ "$what" = test ] && command -v npm >/dev/null 2>&1; then
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  if [ -f "$root/package-lock.json" ] &&
     { [ ! -d "$root/node_modules" ] || [ "$root/package-lock.json" -nt "$root/node_modules" ]; }; then
    echo "installing the agent CLIs (npm ci) in $root"
    (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    touch "$root/node_modules"
  fi
fi

# promtool (from Debian's prometheus package) checks the /metrics exposition in
# tests/integration/metrics_test.cc. Only the one binary is unpacked into build/tools: installing
# the package would also install and start a Prometheus server.
if [ "$what" = test ]; then
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  if [ ! -x "$root/build/tools/promtool" ]; then
    echo "unpacking promtool into $root/build/tools"
    tmp="$(mktemp -d)"
    (cd "$tmp" && { apt-get download prometheus >/dev/null 2>&1 ||
                    { apt-get update -qq >/dev/null && apt-get download prometheus >/dev/null; }; } &&
     dpkg-deb -x prometheus_*.deb unpacked &&
     mkdir -p "$root/build/tools" && cp unpacked/usr/bin/promtool "$root/build/tools/promtool") ||
      echo "promtool unavailable: the metrics format check will be skipped"
    rm -rf "$tmp"
  fi
fi
