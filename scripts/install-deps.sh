#!/usr/bin/env bash
# Installs what building, running or testing Outpost needs on Debian 12, and nothing that is
# already there; says what it installs, and is quiet when everything is present.
#
# Usage: scripts/install-deps.sh [build|run|test|bench]   (default: test; as root, or with sudo)
#   build  compilers and libraries of the outpost binary
#   run    build + bubblewrap, git, node >= 20 and the coding-agent CLIs (claude, codex, gemini,
#          pinned in deploy/agents/) in /usr/local/lib/outpost/agents: what `make run` needs
#   test   build + run's system tools + gtest, clang (fuzzers), curl, jq, chromium, haproxy, tmux, node >= 20,
#          docker.io and debootstrap (the docker suites' dockerd and test images),
#          the npm test tools (root package.json: npm ci), the CDK app's tree (deploy/cdk: npm ci) and promtool: what `make test` uses
#          (scripts/test-preflight.sh checks the same list)
#   bench  build + run's system tools + google-benchmark, wrk, hyperfine, haproxy
#
# Node: the node on PATH is used when it is >= 20. Otherwise Debian's nodejs and npm (18 on
# Debian 12; npm is what can fetch the newer one) are installed, and node 20 from the npm
# registry's node-linux-<arch> package is unpacked into /usr/local/lib/outpost/node with
# /usr/local/bin/node pointing at it: under /usr, so every sandbox (which binds /usr read-only)
# runs the same node. Debian's npm package conflicts with NodeSource's nodejs, which brings
# its own npm: then nothing is installed through apt.
set -euo pipefail
what="${1:-test}"
case "$what" in build | run | test | bench) ;; *)
  echo "usage: scripts/install-deps.sh [build|run|test|bench]" >&2
  exit 2
  ;;
esac
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Overridable to try the node download without touching the machine (see README, Tests).
prefix="${OUTPOST_INSTALL_PREFIX:-/usr/local}"
node_min=20
sudo_cmd=""
[ "$(id -u)" = 0 ] || sudo_cmd="sudo"

pkgs=(build-essential cmake ninja-build ccache pkg-config
      libboost1.81-all-dev libboost-json1.81-dev libboost-url1.81-dev
      libsqlite3-dev libssl-dev libcurl4-openssl-dev zlib1g-dev libspdlog-dev libfmt-dev libcli11-dev
      libtomlplusplus-dev)
# What `outpost serve` runs: the sandbox (bwrap, cgroups via util-linux/procps) and git (repo runs).
runtime=(bubblewrap util-linux procps git ca-certificates libcurl4)
case "$what" in
  run) pkgs+=("${runtime[@]}") ;;
  # clang for fuzz/ (libFuzzer), curl and jq for the runbook test and the skip report, Debian's
  # chromium for the dashboard's headless test (tests/web, driven by playwright-core).
  # tmux: the CLI's terminal test (tests/integration/cli_test.cc: runs --watch, colour).
  # haproxy: the load balancer tests/integration/balancer_fixture.cc starts (its own process, on
  # loopback; the package's service is not used).
  # docker.io (dockerd + CLI) and debootstrap: the docker suites' private dockerd
  # (scripts/test-dockerd.sh) and the Debian rootfs their test images start from
  # (scripts/build-images.sh --test).
  test) pkgs+=("${runtime[@]}" libgtest-dev libgmock-dev clang clang-14 libclang-rt-14-dev
               curl jq chromium haproxy docker.io debootstrap tmux) ;;
  bench) pkgs+=("${runtime[@]}" libbenchmark-dev wrk hyperfine haproxy docker.io debootstrap curl) ;;
esac

apt_updated=0
apt_install() {
  echo "install-deps: installing (apt): $*"
  export DEBIAN_FRONTEND=noninteractive
  if ((!apt_updated)); then
    $sudo_cmd apt-get update -qq >/dev/null
    apt_updated=1
  fi
  $sudo_cmd apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing=()
for p in "${pkgs[@]}"; do installed "$p" || missing+=("$p"); done
((${#missing[@]} == 0)) || apt_install "${missing[@]}"
[ "$what" = build ] && exit 0

# ---- node >= 20 (run, test, bench: the agent CLIs and the npm test tools need it)
node_major() { local v; v="$("$1" --version 2>/dev/null)" || return 1; v="${v#v}"; echo "${v%%.*}"; }
node_ok() {
  local n major
  n="$(command -v node 2>/dev/null)" || return 1
  major="$(node_major "$n")" || return 1
  [[ "$major" =~ ^[0-9]+$ ]] && ((major >= node_min))
}
if ! node_ok; then
  have="$(command -v node 2>/dev/null && node --version 2>/dev/null || echo none)"
  echo "install-deps: node >= $node_min is needed (found: ${have//$'\n'/ })"
  if ! command -v npm >/dev/null 2>&1; then
    if dpkg-query -W -f='${Version}' nodejs 2>/dev/null | grep -q nodesource; then
      echo "install-deps: NodeSource's nodejs is installed without npm (it ships its own npm;" \
           "Debian's npm conflicts with it): upgrade it to >= $node_min or reinstall it" >&2
      exit 1
    fi
    apt_install nodejs npm
  fi
  case "$(dpkg --print-architecture)" in
    amd64) arch=x64 ;;
    arm64) arch=arm64 ;;
    *) echo "install-deps: no node-linux package for $(dpkg --print-architecture)" >&2; exit 1 ;;
  esac
  # The newest 20.x the registry serves (npm view lists every matching version, unordered).
  version="$(npm view "node-linux-$arch@$node_min" version --json | tr -d '[]" \n' | tr ',' '\n' |
             sort -V | tail -1)"
  [ -n "$version" ] || { echo "install-deps: the npm registry serves no node-linux-$arch@$node_min" >&2; exit 1; }
  dest="$prefix/lib/outpost/node"
  echo "install-deps: installing node $version (npm: node-linux-$arch@$version) into $dest," \
       "linked from $prefix/bin/node"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$version" >/dev/null && tar -xzf ./*.tgz)
  [ -x "$tmp/package/bin/node" ] || { echo "install-deps: node-linux-$arch@$version has no bin/node" >&2; exit 1; }
  $sudo_cmd rm -rf "$dest"
  $sudo_cmd mkdir -p "$(dirname "$dest")" "$prefix/bin"
  $sudo_cmd cp -a "$tmp/package" "$dest"
  $sudo_cmd chmod -R a+rX "$dest"
  $sudo_cmd ln -sfn "$dest/bin/node" "$prefix/bin/node"
  rm -rf "$tmp"
  hash -r
  "$prefix/bin/node" --version >/dev/null || { echo "install-deps: $prefix/bin/node does not run" >&2; exit 1; }
  if [ "$prefix" = /usr/local ] && ! node_ok; then
    echo "install-deps: $prefix/bin/node is installed but another node comes first on PATH" \
         "($(command -v node)): put /usr/local/bin first" >&2
    exit 1
  fi
fi

# ---- run: the coding-agent CLIs where the default config looks (src/config/options.cc) and
# every sandbox sees them (under /usr). Reinstalled when deploy/agents' lock file changed.
if [ "$what" = run ]; then
  agents="$prefix/lib/outpost/agents"
  stamp="$agents/.installed-package-lock.json"  # written last: an interrupted install is redone
  if ! cmp -s "$root/deploy/agents/package-lock.json" "$stamp" || [ ! -d "$agents/node_modules" ]; then
    echo "install-deps: installing claude, codex and gemini (deploy/agents, npm ci) into $agents"
    $sudo_cmd mkdir -p "$agents"
    $sudo_cmd rm -rf "$agents/node_modules" "$stamp"
    $sudo_cmd cp "$root/deploy/agents/package.json" "$root/deploy/agents/package-lock.json" "$agents/"
    (cd "$agents" && $sudo_cmd npm ci --omit=dev --no-audit --no-fund --loglevel=error >/dev/null)
    $sudo_cmd chmod -R a+rX "$agents"
    $sudo_cmd cp "$root/deploy/agents/package-lock.json" "$stamp"
  fi
fi

[ "$what" = test ] || exit 0

# ---- test: the npm test tools (dynalite, s3rver, the agent CLIs, the MCP inspector,
# playwright-core, @aws-sdk), pinned in package.json and package-lock.json at the repo root.
# Reinstalled only when node_modules is missing or older than the lock file.
if [ ! -d "$root/node_modules" ] || [ "$root/package-lock.json" -nt "$root/node_modules" ]; then
  echo "install-deps: installing the npm test tools (npm ci) in $root/node_modules"
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$root/node_modules"
fi

# The CDK app's own npm tree (deploy/cdk: aws-cdk-lib, constructs, aws-cdk, cdk-nag; ctest
# cdk_test), the same way: reinstalled only when missing or older than its lock file.
if [ ! -d "$root/deploy/cdk/node_modules" ] || [ "$root/deploy/cdk/package-lock.json" -nt "$root/deploy/cdk/node_modules" ]; then
  echo "install-deps: installing the CDK app's npm tree (npm ci) in $root/deploy/cdk/node_modules"
  (cd "$root/deploy/cdk" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$root/deploy/cdk/node_modules"
fi

# promtool (from Debian's prometheus package) checks the /metrics exposition in
# tests/integration/metrics_test.cc. Only the one binary is unpacked into build/tools: installing
# the package would also install and start a Prometheus server.
if [ ! -x "$root/build/tools/promtool" ]; then
  echo "install-deps: unpacking promtool (Debian's prometheus package) into $root/build/tools"
  tmp="$(mktemp -d)"
  if ! (cd "$tmp" && { apt-get download prometheus >/dev/null 2>&1 ||
                       { $sudo_cmd apt-get update -qq >/dev/null && apt-get download prometheus >/dev/null; }; } &&
        dpkg-deb -x prometheus_*.deb unpacked &&
        mkdir -p "$root/build/tools" && cp unpacked/usr/bin/promtool "$root/build/tools/promtool"); then
    rm -rf "$tmp"
    echo "install-deps: could not unpack promtool (apt-get download prometheus failed)" >&2
    exit 1
  fi
  rm -rf "$tmp"
fi
