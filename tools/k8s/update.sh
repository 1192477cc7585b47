#!/usr/bin/env bash
# Regenerates go.mod/go.sum of a control-plane wrapper module for a Kubernetes version, through the Go module proxy
# only: every staging module k8s.io/kubernetes requires at v0.0.0 gets a replace to the matching v0.X.Y. A staging
# release the module proxy doesn't serve (k8s.io/endpointslice v0.32.13) is pinned to the newest earlier patch it
# does serve instead; say so in go.mod's header, after checking that the package's source didn't change in between.
# Usage: tools/k8s/update.sh v1.36.3 [MODULE_DIR (default: tools/k8s)]
set -euo pipefail
K8S=${1:?usage: update.sh v1.X.Y [MODULE_DIR]}
cd "${2:-$(dirname "$0")}"
STG=v0.${K8S#v1.}
gomod=$(go mod download -json "k8s.io/kubernetes@$K8S" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
go mod edit -dropreplace=k8s.io/kubernetes 2>/dev/null || true
for m in $(sed -nE 's#^[[:space:]]*(k8s\.io/[^ ]+) v0\.0\.0([[:space:]].*)?$#\1#p' "$gomod" | sort -u); do
  v=$STG
  if ! go mod download "$m@$v" 2>/dev/null; then
    v=$(go list -m -versions "$m" | tr ' ' '\n' | grep -E "^${STG%.*}\.[0-9]+$" | sort -V |
      awk -v want="$STG" -F. '{ split(want, w, "."); if ($3 + 0 < w[3] + 0) last = $0 } END { print last }')
    [ -n "$v" ] || { echo "update: $m: neither $STG nor an earlier patch is served" >&2; continue; }
    echo "update: $m@$STG is not served; using $v" >&2
  fi
  go mod edit -replace="$m=$m@$v"
done
go mod edit -require="k8s.io/kubernetes@$K8S" -go="$(sed -n 's/^go //p' "$gomod")"
go mod tidy
