#!/bin/bash
# Builds the test-only CSI hostpath driver (docs/csi-hostpath.md): static, CGO off, -trimpath, into
# ${ROBUSTMQ_INSTALL_CACHE:-$HOME/.cache/robustmq-install}/csi-hostpath/<hash of the sources and the Go version>/.
# Skips the build when that directory already holds the binary. Prints `csi-hostpath=PATH` on stdout (build output
# goes to stderr). Environment: GO (go binary, default `go` on PATH), ROBUSTMQ_INSTALL_CACHE.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GO=${GO:-go}
cache=${ROBUSTMQ_INSTALL_CACHE:-$HOME/.cache/robustmq-install}

command -v "$GO" >/dev/null || { echo "build.sh: Go not found (set GO or put go on PATH)" >&2; exit 1; }
# the hash covers what goes into the binary: sources (not tests), module files, toolchain and target
mapfile -t files < <(cd "$here" && find . -type f \( -name '*.go' ! -name '*_test.go' -o -name go.mod -o -name go.sum \) | LC_ALL=C sort)
hash=$({
  "$GO" version
  "$GO" env GOOS GOARCH
  for f in "${files[@]}"; do
    printf '%s\n' "$f"
    cat "$here/$f"
  done
} | sha256sum | cut -c1-16)
out=$cache/csi-hostpath/$hash

if [ -x "$out/csi-hostpath" ]; then
  echo "csi-hostpath up to date in $out" >&2
else
  mkdir -p "$cache/csi-hostpath"
  tmp=$(mktemp -d "$cache/csi-hostpath/.build-XXXXXX")
  chmod 755 "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  echo "building the test-only CSI hostpath driver into $out" >&2
  start=$(date +%s)
  # two shared cores: stay out of the way of whatever else runs
  (cd "$here" && CGO_ENABLED=0 GOFLAGS=-mod=readonly nice -n 10 "$GO" build -trimpath -ldflags='-s -w -buildid=' -o "$tmp/" ./cmd/csi-hostpath) >&2
  echo "csi-hostpath built in $(($(date +%s) - start))s" >&2
  # another build of the same sources may have finished first: either result is the same
  mv -T "$tmp" "$out" 2>/dev/null || [ -x "$out/csi-hostpath" ]
  trap - EXIT
  rm -rf "$tmp"
fi
echo "csi-hostpath=$out/csi-hostpath"
