#!/usr/bin/env bash
# Builds the local Kubernetes control plane the e2e tests run, from the Go module proxy, into the tool cache:
#   $cache/k8s/$K8S/kube (+ symlinks kube-apiserver, kube-controller-manager, kube-scheduler: one multi-call binary)
#   $cache/etcd/$ETCD/etcd
#   $cache/kwok/$KWOK/kwok
# Idempotent: a component whose wrapper module (go.mod, go.sum, *.go) and build flags are unchanged since its
# last successful build is skipped. Binaries are written to a temp name and renamed, so an interrupted build
# never leaves a half-written binary. Runs under `nice` so other work on the machine keeps its share.
# Uses the default GOCACHE/GOMODCACHE (keep them warm: a warm rebuild is a link, a cold one is the long pole).
# Env: ROBUSTMQ_INSTALL_CACHE (cache root), TOOLS_BUILD_NICE (default 10), TOOLS_BUILD_FORCE=1 (rebuild).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${ROBUSTMQ_INSTALL_CACHE:-$HOME/.cache/robustmq-install}
nice_level=${TOOLS_BUILD_NICE:-10}

K8S=$(cd "$here/k8s" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
ETCD=$(cd "$here/etcd" && go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
KWOK=$(cd "$here/kwok" && go list -m -f '{{.Version}}' sigs.k8s.io/kwok)

export CGO_ENABLED=0
go_build() { nice -n "$nice_level" go build -trimpath "$@"; }

stamp_of() { # $1=module dir, rest=flags that influence the output
  local dir=$1; shift
  { (cd "$dir" && cat go.mod go.sum ./*.go 2>/dev/null); printf '%s\n' "$@" "$(go env GOVERSION)"; } | sha256sum | cut -d' ' -f1
}

up_to_date() { # $1=stamp file $2=stamp, rest=binaries
  local file=$1 want=$2; shift 2
  [ "${TOOLS_BUILD_FORCE:-}" = 1 ] && return 1
  [ -f "$file" ] && [ "$(cat "$file")" = "$want" ] || return 1
  local b; for b in "$@"; do [ -x "$b" ] || return 1; done
}

timed() { # $1=label, rest=command
  local label=$1 start end; shift
  start=$(date +%s)
  "$@"
  end=$(date +%s)
  echo "build: $label built in $((end - start))s" >&2
}

build_k8s() {
  local out="$cache/k8s/$K8S" minor=${K8S#v1.} ld="-s -w" p stamp
  minor=${minor%%.*}
  # Version stamps: /version must report the real release (helm kubeVersion checks), a plain semver, no suffix.
  # buildDate is fixed (not the build time) so the stamp, and thus idempotence, doesn't depend on the clock.
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$K8S -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    ld="$ld -X $p.gitCommit=module-$K8S -X $p.buildDate=2026-01-01T00:00:00Z"
  done
  stamp=$(stamp_of "$here/k8s" "$ld")
  if up_to_date "$out/.stamp" "$stamp" "$out/kube"; then echo "build: kubernetes $K8S up to date" >&2; else
    mkdir -p "$out"
    (cd "$here/k8s" && timed "kubernetes $K8S (multi-call kube)" go_build -ldflags "$ld" -o "$out/kube.tmp" .)
    mv -f "$out/kube.tmp" "$out/kube"
    echo "$stamp" > "$out/.stamp"
  fi
  for p in kube-apiserver kube-controller-manager kube-scheduler; do ln -sfn kube "$out/$p"; done
  "$out/kube-apiserver" --version | grep -qx "Kubernetes $K8S" || { echo "build: kube-apiserver --version is not $K8S" >&2; exit 1; }
  echo "kube-apiserver=$out/kube-apiserver"
  echo "kube-controller-manager=$out/kube-controller-manager"
  echo "kube-scheduler=$out/kube-scheduler"
}

build_tool() { # $1=name $2=module dir $3=version $4=package
  local name=$1 dir=$2 version=$3 pkg=$4 out stamp
  out="$cache/$name/$version"
  stamp=$(stamp_of "$dir" "$pkg")
  if up_to_date "$out/.stamp" "$stamp" "$out/$name"; then echo "build: $name $version up to date" >&2; else
    mkdir -p "$out"
    (cd "$dir" && timed "$name $version" go_build -ldflags "-s -w" -o "$out/$name.tmp" "$pkg")
    mv -f "$out/$name.tmp" "$out/$name"
    echo "$stamp" > "$out/.stamp"
  fi
  echo "$name=$out/$name"
}

start=$(date +%s)
build_k8s
build_tool etcd "$here/etcd" "$ETCD" go.etcd.io/etcd/server/v3
build_tool kwok "$here/kwok" "$KWOK" sigs.k8s.io/kwok/cmd/kwok
echo "build: control plane ready in $(($(date +%s) - start))s" >&2
