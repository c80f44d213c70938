#!/usr/bin/env bash
# Builds the container images of images/ against the Docker daemon of DOCKER_HOST (README,
# "Container images").
#
#   scripts/build-images.sh [--test] [--only NAMES]
#
#   NAMES     comma- or space-separated, of: base claude codex gemini aider grok control-plane
#             (default: all but aider, which needs PyPI — skipped by name; --test: base claude).
#             An agent image builds base (and the build-only agent-clis image) first.
#   --test    the test images the docker suites use (ctest fixture docker_env): tag `test`, the
#             outpost of OUTPOST_BIN (required: the test build's, Debug/ASan) and
#             ENV ASAN_OPTIONS=detect_leaks=0 (LSan cannot ptrace in a container); the base image
#             is the local Debian rootfs unless BASE_IMAGE is set.
#
# Environment:
#   DOCKER_HOST        required (unix:///var/run/docker.sock, or what scripts/test-dockerd.sh
#                      start prints)
#   OUTPOST_BIN        the outpost binary to put in outpost-base (default: build/release's)
#   BASE_IMAGE         the Debian bookworm image to start from (default debian:bookworm-slim;
#                      --test: local). `local` = a Debian rootfs made here with
#                      `debootstrap --variant=minbase bookworm`, cached as a tar in
#                      OUTPOST_ROOTFS_CACHE (default /var/cache/outpost, else /var/tmp/outpost-cache)
#                      keyed by its inputs, and `docker import`ed as outpost-debian:bookworm.
#   OUTPOST_IMAGE_TAG  the tag of the images (default latest; --test: test)
#   OUTPOST_BUILD_NETWORK  `docker build --network` (default host: the test dockerd has no bridge)
#   OUTPOST_DEBIAN_MIRROR  debootstrap's mirror (default http://deb.debian.org/debian)
#   OUTPOST_AIDER_VERSION  aider-chat's version (default: the Dockerfile's pin)
#   OUTPOST_BUILD_CA_BUNDLE  the CA bundle (PEM) the build-only agent-clis stage trusts for its
#                      downloads (default /etc/ssl/certs/ca-certificates.crt, the build host's;
#                      empty: the image's own): images/agent-clis/Dockerfile
#
# Every image is keyed by its inputs (its Dockerfile, the files of its build context — the
# outpost binary, the lockfile —, its build arguments and the ids of the images it starts from):
# the hash is the image's label outpost.inputs, and an image whose label matches is not rebuilt.
# Builds on one machine are serialized (flock), so concurrent callers wait and then find the
# images current. The docker CLI's legacy builder is used (DOCKER_BUILDKIT=0): the daemon here
# (Debian's 20.10) has no buildx; the Dockerfiles need nothing BuildKit adds.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
all=(base claude codex gemini aider grok control-plane)
needs_clis=" claude codex gemini "

die() { echo "build-images: $*" >&2; exit 1; }
say() { echo "build-images: $*" >&2; }
# The header above, as help: on stdout for --help (exit 0), on stderr for a usage error (exit 2).
usage() {
  local code="${1:-2}"
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&$((code ? 2 : 1))
  exit "$code"
}

test_mode=0
only=""
while (($#)); do
  case "$1" in
    --test) test_mode=1 ;;
    --only) (($# >= 2)) || usage; only="$2"; shift ;;
    --only=*) only="${1#--only=}" ;;
    -h | --help) usage 0 ;;
    *) echo "build-images: unknown argument: $1" >&2; usage ;;
  esac
  shift
done

# ---- what to build
wanted=()
if [ -n "$only" ]; then
  for n in ${only//,/ }; do
    [[ " ${all[*]} " == *" $n "* ]] || die "unknown image '$n' (images: ${all[*]})"
    wanted+=("$n")
  done
elif ((test_mode)); then
  wanted=(base claude)
else
  for n in "${all[@]}"; do
    if [ "$n" = aider ]; then
      say "skipping aider: it installs aider-chat from PyPI, which is not reachable here;" \
          "build it where it is with --only aider (images/aider/Dockerfile)"
      continue
    fi
    wanted+=("$n")
  done
fi
want() { [[ " ${wanted[*]} " == *" $1 "* ]]; }
build_base=0
build_clis=0
for n in "${wanted[@]}"; do
  build_base=1
  [[ "$needs_clis" == *" $n "* ]] && build_clis=1
done

# ---- the daemon and the tools
[ -n "${DOCKER_HOST:-}" ] ||
  die "DOCKER_HOST is not set: name the Docker daemon to build on (unix:///var/run/docker.sock," \
      "or what scripts/test-dockerd.sh start prints)"
command -v docker >/dev/null || die "the docker CLI is missing (apt-get install docker.io)"
if ! err="$(docker version --format '{{.Server.Version}}' 2>&1 >/dev/null)"; then
  die "the Docker daemon at DOCKER_HOST=$DOCKER_HOST does not answer: ${err//$'\n'/ }"
fi
export DOCKER_BUILDKIT=0
network="${OUTPOST_BUILD_NETWORK:-host}"

if ((test_mode)); then
  tag="${OUTPOST_IMAGE_TAG:-test}"
  [ -n "${OUTPOST_BIN:-}" ] || die "--test needs OUTPOST_BIN (the test build's outpost)"
  base_image="${BASE_IMAGE:-local}"
else
  tag="${OUTPOST_IMAGE_TAG:-latest}"
  base_image="${BASE_IMAGE:-debian:bookworm-slim}"
fi
bin="${OUTPOST_BIN:-$root/build/release/src/app/outpost}"
if ((build_base)); then
  [ -x "$bin" ] || die "OUTPOST_BIN=$bin is not an executable (make release builds it)"
fi

# One build at a time on this machine: the images and the rootfs cache are shared.
lock="${OUTPOST_BUILD_LOCK:-/var/tmp/outpost-build-images.lock}"
exec 9>"$lock"
if ! flock -n 9; then
  say "waiting for another build-images.sh (lock $lock)"
  flock 9
fi

work="$(mktemp -d /var/tmp/outpost-build-images.XXXXXX)"
# A debootstrap that failed may leave proc/sys mounted in its rootfs: unmount, and never delete
# across a mount point.
cleanup() {
  local m
  for m in $(awk -v w="$work/" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# sha256 of a file; for a big one (the outpost binary: ~400 MB in a Debug/ASan build, 2 s to
# hash) remembered by device, inode, size and mtime, as make trusts mtimes.
hash_cache=/var/tmp/outpost-build-images.hashes
file_sha256() {
  local f="$1" id sum
  if (($(stat -c %s "$f") < 16777216)); then
    sha256sum <"$f" | cut -d' ' -f1
    return
  fi
  id="$(stat -L -c '%d:%i:%s:%.9Y' "$f")"
  sum="$(awk -v id="$id" '$1 == id {print $2; exit}' "$hash_cache" 2>/dev/null || true)"
  if [ -z "$sum" ]; then
    sum="$(sha256sum <"$f" | cut -d' ' -f1)"
    { grep -v "^$id " "$hash_cache" 2>/dev/null | tail -n 20 || true; echo "$id $sum"; } \
      >"$hash_cache.new" && mv "$hash_cache.new" "$hash_cache"
  fi
  echo "$sum"
}

image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }
image_label() {
  docker image inspect -f '{{index .Config.Labels "outpost.inputs"}}' "$1" 2>/dev/null || true
}

# ---- the base image: a pulled one, or the local Debian rootfs
local_rootfs() {
  local suite=bookworm variant=minbase mirror="${OUTPOST_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
  local include=""  # the same packages as debian:bookworm-slim: the Dockerfiles add the rest
  local key cache tar
  key="$(printf 'suite=%s\nvariant=%s\nmirror=%s\ninclude=%s\n' "$suite" "$variant" "$mirror" \
         "$include" | sha256sum | cut -c1-16)"
  if [ -n "$(image_id "outpost-debian:rootfs-$key")" ]; then
    docker tag "outpost-debian:rootfs-$key" outpost-debian:bookworm
    return
  fi
  cache="${OUTPOST_ROOTFS_CACHE:-/var/cache/outpost}"
  if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
    cache=/var/tmp/outpost-cache
    mkdir -p "$cache"
  fi
  tar="$cache/rootfs-$key.tar"
  if [ ! -f "$tar" ]; then
    command -v debootstrap >/dev/null ||
      die "debootstrap is missing (apt-get install debootstrap, or scripts/install-deps.sh test)"
    say "making the Debian rootfs: debootstrap --variant=$variant $suite ($mirror; ~3-5 min)," \
        "cached as $tar"
    local dir="$work/rootfs"
    if ! debootstrap --variant="$variant" ${include:+--include="$include"} "$suite" "$dir" \
         "$mirror" >"$work/debootstrap.log" 2>&1; then
      tail -n 30 "$work/debootstrap.log" >&2
      die "debootstrap failed (log above)"
    fi
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/var/log/*.log
    tar --numeric-owner --one-file-system -C "$dir" -cf "$tar.partial" .
    mv "$tar.partial" "$tar"
    rm -rf --one-file-system "$dir"
  fi
  say "importing $tar as outpost-debian:bookworm"
  docker import --change 'CMD ["bash"]' "$tar" "outpost-debian:rootfs-$key" >/dev/null
  docker tag "outpost-debian:rootfs-$key" outpost-debian:bookworm
}

if ((build_base || build_clis)); then
  if [ "$base_image" = local ]; then
    local_rootfs
    base_image=outpost-debian:bookworm
  elif [ -z "$(image_id "$base_image")" ]; then
    say "pulling $base_image"
    docker pull -q "$base_image" >/dev/null ||
      die "cannot pull BASE_IMAGE=$base_image (no registry reachable?): BASE_IMAGE=local builds" \
          "one from a local Debian rootfs (debootstrap)"
  fi
fi

# ---- the shared libraries outpost needs, as Debian packages (the image is Debian bookworm, as
# the build machine is: the same package names). From the binary's ldd; without dpkg (a
# non-Debian build host), the Release binary's list.
runtime_packages() {
  if ! command -v dpkg >/dev/null; then
    say "no dpkg here: using the Release binary's library packages"
    echo "libboost-json1.81.0 libboost-url1.81.0 libfmt9 libspdlog1.10 libsqlite3-0 libssl3" \
         "libstdc++6 libgcc-s1 zlib1g"
    return
  fi
  local libs=() lib p candidates=() owners pkg
  mapfile -t libs < <(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' |
                      sort -u)
  # One dpkg -S for all (each call reads the whole package database): every spelling of each
  # path, since dpkg knows /lib/... or /usr/lib/... depending on the package (merged /usr).
  for lib in "${libs[@]}"; do
    candidates+=("$lib" "$(readlink -f "$lib")" "/usr$lib" "${lib#/usr}")
  done
  owners="$(dpkg -S "${candidates[@]}" 2>/dev/null | grep -v '^diversion' || true)"
  for lib in "${libs[@]}"; do
    pkg=""
    for p in "$lib" "$(readlink -f "$lib")" "/usr$lib" "${lib#/usr}"; do
      pkg="$(awk -v p="$p" '{sub(/:$/, "", $1)} $2 == p {split($1, a, ":"); print a[1]; exit}' \
             <<<"$owners")"
      [ -n "$pkg" ] && break
    done
    echo "${pkg:-UNRESOLVED:$lib}"
  done | sort -u | tr '\n' ' '
}

# ---- one image: stage its context, hash its inputs, build it unless its label matches
# build_one NAME IMAGE DIR "BUILD_ARGS..." FILES...   (FILES: src=dest-name pairs)
built=()
fresh=0  # whether the last build_one built (1) or found the image current (0)
build_one() {
  local name="$1" image="$2" dir="$3" args="$4"
  shift 4
  local ctx="$work/ctx-$name" f src dst key old arg
  mkdir -p "$ctx"
  cp "$root/images/$dir/Dockerfile" "$ctx/Dockerfile"
  if ((test_mode)) && [ "$name" = base ]; then
    printf '\n# Test images only (scripts/build-images.sh --test): the Debug/ASan outpost.\nENV ASAN_OPTIONS=detect_leaks=0\n' \
      >>"$ctx/Dockerfile"
  fi
  for f in "$@"; do
    src="${f%%=*}"
    dst="$ctx/${f#*=}"
    ln "$src" "$dst" 2>/dev/null || cp "$src" "$dst"
  done
  {
    echo "image=$image"
    for f in $(cd "$ctx" && find . -type f | LC_ALL=C sort); do
      echo "$(file_sha256 "$ctx/$f") $f"
    done
    for arg in $args; do
      echo "arg=$arg"
      case "$arg" in
        BASE_IMAGE=* | OUTPOST_BASE=* | CLIS_IMAGE=*) echo "id=$(image_id "${arg#*=}")" ;;
      esac
    done
  } >"$work/inputs-$name"
  key="$(sha256sum "$work/inputs-$name" | cut -c1-32)"
  old="$(image_id "$image")"
  if [ -n "$old" ] && [ "$(image_label "$image")" = "$key" ]; then
    say "$image is current (outpost.inputs=$key)"
    fresh=0
    return
  fi
  say "building $image (images/$dir, outpost.inputs=$key)"
  local build_args=()
  for arg in $args; do build_args+=(--build-arg "$arg"); done
  local t0=$SECONDS
  if ! docker build --network "$network" --label "outpost.inputs=$key" "${build_args[@]}" \
       -t "$image" "$ctx" >"$work/build-$name.log" 2>&1; then
    tail -n 40 "$work/build-$name.log" >&2
    die "docker build of $image failed (log above)"
  fi
  say "built $image in $((SECONDS - t0)) s"
  built+=("$image")
  fresh=1
}

# A built image must start: its binaries find their libraries (smoke test, no network).
check_runs() {
  local image="$1" cmd="$2"
  shift 2
  ((fresh)) || return 0
  local out
  if ! out="$(docker run --rm --network none --entrypoint "$cmd" "$image" "$@" 2>&1)"; then
    echo "$out" | tail -n 20 >&2
    die "$image: '$cmd $*' failed in the image (output above)"
  fi
}

if ((build_base)); then
  pkgs="$(runtime_packages)"
  [[ "$pkgs" != *UNRESOLVED:* ]] ||
    die "libraries of $bin that no Debian package provides: $(tr ' ' '\n' <<<"$pkgs" | grep UNRESOLVED | sed 's/UNRESOLVED://' | tr '\n' ' ')"
  echo "$pkgs" >"$work/runtime-packages"
  build_one base "outpost-base:$tag" base "BASE_IMAGE=$base_image" \
    "$bin=outpost" "$work/runtime-packages=runtime-packages"
  check_runs "outpost-base:$tag" outpost --help
fi
if ((build_clis)); then
  ca="${OUTPOST_BUILD_CA_BUNDLE-/etc/ssl/certs/ca-certificates.crt}"
  if [ -n "$ca" ]; then
    [ -r "$ca" ] || die "OUTPOST_BUILD_CA_BUNDLE=$ca is not a readable file"
    cp "$ca" "$work/build-ca.pem"
  else
    : >"$work/build-ca.pem"
  fi
  build_one agent-clis "outpost-agent-clis:$tag" agent-clis "BASE_IMAGE=$base_image" \
    "$root/deploy/agents/package.json=package.json" \
    "$root/deploy/agents/package-lock.json=package-lock.json" "$work/build-ca.pem=build-ca.pem"
fi
agent_args="OUTPOST_BASE=outpost-base:$tag CLIS_IMAGE=outpost-agent-clis:$tag"
for n in claude codex gemini; do
  want "$n" || continue
  build_one "$n" "outpost-$n:$tag" "$n" "$agent_args"
  check_runs "outpost-$n:$tag" "$n" --version
done
if want grok; then
  build_one grok "outpost-grok:$tag" grok "OUTPOST_BASE=outpost-base:$tag"
fi
if want aider; then
  build_one aider "outpost-aider:$tag" aider \
    "OUTPOST_BASE=outpost-base:$tag ${OUTPOST_AIDER_VERSION:+AIDER_VERSION=$OUTPOST_AIDER_VERSION}"
  check_runs "outpost-aider:$tag" aider --version
fi
if want control-plane; then
  build_one control-plane "outpost-control-plane:$tag" control-plane "OUTPOST_BASE=outpost-base:$tag"
  check_runs "outpost-control-plane:$tag" outpost serve --help
fi

# Images these builds replaced (untagged now) go, unless a container still uses them.
if ((${#built[@]})); then
  docker image prune -f --filter label=outpost.inputs >/dev/null 2>&1 || true
fi
for n in "${wanted[@]}"; do
  case "$n" in
    base | claude | codex | gemini | aider | grok | control-plane)
      docker image ls --format "build-images: outpost-$n:$tag {{.Size}}" "outpost-$n:$tag" >&2
      ;;
  esac
done
