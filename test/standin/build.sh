#!/bin/bash
# Builds the test-only RobustMQ stand-ins (broker-server, cli-command): static, CGO off, -trimpath, into
# ${ROBUSTMQ_INSTALL_CACHE:-$HOME/.cache/robustmq-install}/standin/<hash of the sources and the Go version>/.
# Skips the build when that directory already holds both binaries. Prints `broker-server=PATH` and `cli-command=PATH`
# on stdout (build output goes to stderr), so callers can `eval`-free parse it line by line.
# Environment: GO (go binary, default `go` on PATH), ROBUSTMQ_INSTALL_CACHE.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GO=${GO:-go}
cache=${ROBUSTMQ_INSTALL_CACHE:-$HOME/.cache/robustmq-install}

command -v "$GO" >/dev/null || { echo "build.sh: Go not found (set GO or put go on PATH)" >&2; exit 1; }
# the hash covers what goes into the binaries: sources (not tests), module files, toolchain and target
mapfile -t files < <(cd "$here" && find . -type f \( -name '*.go' ! -name '*_test.go' -o -name go.mod -o -name go.sum \) | LC_ALL=C sort)
hash=$({
  "$GO" version
  "$GO" env GOOS GOARCH
  for f in "${files[@]}"; do
    printf '%s\n' "$f"
    cat "$here/$f"
  done
} | sha256sum | cut -c1-16)
out=$cache/standin/$hash

if [ -x "$out/broker-server" ] && [ -x "$out/cli-command" ]; then
  echo "stand-ins up to date in $out" >&2
else
  mkdir -p "$cache/standin"
  tmp=$(mktemp -d "$cache/standin/.build-XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "building the RobustMQ stand-ins into $out" >&2
  # two shared cores: stay out of the way of whatever else runs
  (cd "$here" && CGO_ENABLED=0 GOFLAGS=-mod=readonly nice -n 10 "$GO" build -trimpath -ldflags='-s -w -buildid=' -o "$tmp/" ./cmd/broker-server ./cmd/cli-command) >&2
  # another build of the same sources may have finished first: either result is the same
  mv -T "$tmp" "$out" 2>/dev/null || [ -x "$out/broker-server" ]
  trap - EXIT
  rm -rf "$tmp"
fi
echo "broker-server=$out/broker-server"
echo "cli-command=$out/cli-command"
