#!/usr/bin/env bash
# Regenerates go.mod/go.sum for a Kubernetes version, through the Go module proxy only:
# every staging module k8s.io/kubernetes requires at v0.0.0 gets a replace to the matching v0.X.Y.
# Usage: tools/k8s/update.sh v1.36.3
set -euo pipefail
cd "$(dirname "$0")"
K8S=${1:?usage: update.sh v1.X.Y}
STG=v0.${K8S#v1.}
gomod=$(go mod download -json "k8s.io/kubernetes@$K8S" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
go mod edit -dropreplace=k8s.io/kubernetes 2>/dev/null || true
for m in $(sed -nE 's#^[[:space:]]*(k8s\.io/[^ ]+) v0\.0\.0([[:space:]].*)?$#\1#p' "$gomod" | sort -u); do
  go mod edit -replace="$m=$m@$STG"
done
go mod edit -require="k8s.io/kubernetes@$K8S" -go="$(sed -n 's/^go //p' "$gomod")"
go mod tidy
