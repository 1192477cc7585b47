#!/bin/bash
# Builds the commands of one of the repository's test-only Go modules (the RobustMQ stand-in, the CSI hostpath driver):
# static, CGO off, -trimpath, into ${ROBUSTMQ_INSTALL_CACHE:-$HOME/.cache/robustmq-install}/<name>/<hash>/, where the
# hash covers the module's sources (not its tests), go.mod/go.sum, the Go version and the target. Skips the build when
# that directory holds every binary. Prints `<command>=PATH` per command on stdout; build output goes to stderr.
# Usage: scripts/go-test-binaries.sh MODULE_DIR NAME "WHAT" COMMAND...   (COMMAND: a directory under MODULE_DIR/cmd)
# Environment: GO (go binary, default `go` on PATH), ROBUSTMQ_INSTALL_CACHE.
set -euo pipefail
dir=$(cd "$1" && pwd) name=$2 what=$3
shift 3
GO=${GO:-go}
cache=${ROBUSTMQ_INSTALL_CACHE:-$HOME/.cache/robustmq-install}

command -v "$GO" >/dev/null || { echo "$name: Go not found (set GO or put go on PATH)" >&2; exit 1; }
mapfile -t files < <(cd "$dir" && find . -type f \( -name '*.go' ! -name '*_test.go' -o -name go.mod -o -name go.sum \) | LC_ALL=C sort)
hash=$({
  "$GO" version
  "$GO" env GOOS GOARCH
  for f in "${files[@]}"; do
    printf '%s\n' "$f"
    cat "$dir/$f"
  done
} | sha256sum | cut -c1-16)
out=$cache/$name/$hash

built=true
for c in "$@"; do [ -x "$out/$c" ] || built=false; done
if $built; then
  echo "$what up to date in $out" >&2
else
  mkdir -p "$cache/$name"
  tmp=$(mktemp -d "$cache/$name/.build-XXXXXX")
  chmod 755 "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  echo "building $what into $out" >&2
  start=$(date +%s)
  pkgs=()
  for c in "$@"; do pkgs+=("./cmd/$c"); done
  # two shared cores: stay out of the way of whatever else runs
  (cd "$dir" && CGO_ENABLED=0 GOFLAGS=-mod=readonly nice -n 10 "$GO" build -trimpath -ldflags='-s -w -buildid=' -o "$tmp/" "${pkgs[@]}") >&2
  echo "$what built in $(($(date +%s) - start))s" >&2
  # another build of the same sources may have finished first: either result is the same
  mv -T "$tmp" "$out" 2>/dev/null || [ -x "$out/$1" ]
  trap - EXIT
  rm -rf "$tmp"
fi
for c in "$@"; do echo "$c=$out/$c"; done
