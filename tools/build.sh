#!/usr/bin/env bash
# Builds the local Kubernetes cluster the tests run, from the Go module proxy, into the tool cache.
# Usage: tools/build.sh [controlplane|controlplane-old|node|csi|all] (default: all)
#   controlplane: $cache/k8s/$K8S/kube (+ symlinks kube-apiserver, kube-controller-manager, kube-scheduler,
#                 kubelet, kube-proxy: one multi-call binary), $cache/etcd/$ETCD/etcd, $cache/kwok/$KWOK/kwok
#   controlplane-old: $cache/k8s/$K8S_OLD/kube (+ symlinks kube-apiserver, kube-controller-manager, kube-scheduler)
#                 from tools/k8s-old: the oldest minor the chart declares, run with controlplane's etcd and kwok
#   node:         the same kube binary (kubelet, kube-proxy), $cache/containerd/$CONTAINERD/{containerd,ctr,
#                 containerd-shim-runc-v2}, $cache/coredns/$COREDNS/coredns, $cache/pause/$PAUSE/pause, and csi
#   csi:          $cache/csi/$SNAPSHOTTER/{snapshot-controller,csi-snapshotter,csi-provisioner} from tools/csi, and
# Prints key=path lines on stdout. Idempotent: a component whose inputs (wrapper module go.mod, go.sum, *.go or C
# source, build flags, toolchain version) are unchanged since its last successful build is skipped. Binaries are
# written to a temp name and renamed, so an interrupted build never leaves a half-written binary. Runs under `nice`
# so other work on the machine keeps its share.
# Uses the default GOCACHE/GOMODCACHE (keep them warm: a warm rebuild is a link, a cold one is the long pole).
# Env: ROBUSTMQ_INSTALL_CACHE (cache root), TOOLS_BUILD_NICE (default 10), TOOLS_BUILD_FORCE=1 (rebuild).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${ROBUSTMQ_INSTALL_CACHE:-$HOME/.cache/robustmq-install}
nice_level=${TOOLS_BUILD_NICE:-10}
target=${1:-all}
case "$target" in controlplane|controlplane-old|node|csi|all) ;; *) echo "usage: tools/build.sh [controlplane|controlplane-old|node|csi|all]" >&2; exit 2 ;; esac

modver() { (cd "$here/$1" && go list -m -f '{{.Version}}' "$2"); }
K8S=$(modver k8s k8s.io/kubernetes)
K8S_OLD=$(modver k8s-old k8s.io/kubernetes)

export CGO_ENABLED=0
go_build() { nice -n "$nice_level" go build -trimpath "$@"; }

stamp_of() { # $1=module dir, rest=flags that influence the output
  local dir=$1; shift
  { (cd "$dir" && cat go.mod go.sum ./*.go ./*.c 2>/dev/null); printf '%s\n' "$@" "$(go env GOVERSION)"; } | sha256sum | cut -d' ' -f1
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

check_version() { # $1=binary $2=expected line (exact) of `$1 --version`
  # grep without -q: -q stops reading at the first match, and the writer's SIGPIPE fails the pipe under pipefail
  "$1" --version 2>&1 | grep -xF "$2" >/dev/null || { echo "build: $1 --version does not print '$2'" >&2; exit 1; }
}

build_kube() { # $1=module dir $2=version $3=commands linked to the multi-call kube $4=those whose --version is checked
  local dir=$1 version=$2 links=$3 checked=$4 out="$cache/k8s/$2" minor=${2#v1.} ld="-s -w" p stamp
  minor=${minor%%.*}
  # Version stamps: /version must report the real release (helm kubeVersion checks), a plain semver, no suffix.
  # buildDate is fixed (not the build time) so the stamp, and thus idempotence, doesn't depend on the clock.
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$version -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    ld="$ld -X $p.gitCommit=module-$version -X $p.buildDate=2026-01-01T00:00:00Z"
  done
  stamp=$(stamp_of "$dir" "$ld")
  if up_to_date "$out/.stamp" "$stamp" "$out/kube"; then echo "build: kubernetes $version up to date" >&2; else
    mkdir -p "$out"
    (cd "$dir" && timed "kubernetes $version (multi-call kube)" go_build -ldflags "$ld" -o "$out/kube.tmp" .)
    mv -f "$out/kube.tmp" "$out/kube"
    echo "$stamp" > "$out/.stamp"
  fi
  for p in $links; do ln -sfn kube "$out/$p"; done
  for p in $checked; do check_version "$out/$p" "Kubernetes $version"; done
}

kube_out="$cache/k8s/$K8S"
build_k8s() { # once per run, whichever target asks first
  [ -n "${k8s_built:-}" ] && return; k8s_built=1
  build_kube "$here/k8s" "$K8S" "kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy" \
    "kube-apiserver kubelet kube-proxy"
}

# A separate module and cache dir: its packages (other k8s.io versions) share little with $K8S's, so it is its own
# long compile; without kubelet and kube-proxy, which the kwok-driven install scenarios it serves don't need.
controlplane_old() {
  local out="$cache/k8s/$K8S_OLD" p
  build_kube "$here/k8s-old" "$K8S_OLD" "kube-apiserver kube-controller-manager kube-scheduler" "kube-apiserver"
  for p in kube-apiserver kube-controller-manager kube-scheduler; do echo "$p-old=$out/$p"; done
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

controlplane() {
  local etcd kwok
  build_k8s
  echo "kube-apiserver=$kube_out/kube-apiserver"
  echo "kube-controller-manager=$kube_out/kube-controller-manager"
  echo "kube-scheduler=$kube_out/kube-scheduler"
  etcd=$(modver etcd go.etcd.io/etcd/server/v3)
  kwok=$(modver kwok sigs.k8s.io/kwok)
  build_tool etcd "$here/etcd" "$etcd" go.etcd.io/etcd/server/v3
  build_tool kwok "$here/kwok" "$kwok" sigs.k8s.io/kwok/cmd/kwok
}

build_containerd() {
  local version out pkg=github.com/containerd/containerd/v2 tags ld stamp b
  version=$(modver containerd "$pkg")
  out="$cache/containerd/$version"
  # Upstream's release tags, minus the snapshotters the node never uses (devmapper, zfs; btrfs needs cgo anyway)
  # and OTLP tracing. The shim also drops gRPC, as upstream's does: one shim runs per pod, so its size counts.
  tags="urfave_cli_no_docs no_devmapper no_zfs no_btrfs no_tracing"
  ld="-s -w -X $pkg/version.Version=$version -X $pkg/version.Revision=module-$version -X $pkg/version.Package=$pkg"
  stamp=$(stamp_of "$here/containerd" "$tags" "$ld")
  if up_to_date "$out/.stamp" "$stamp" "$out/containerd" "$out/ctr" "$out/containerd-shim-runc-v2"; then
    echo "build: containerd $version up to date" >&2
  else
    mkdir -p "$out"
    build_containerd_bins() {
      for b in containerd ctr; do go_build -tags "$tags" -ldflags "$ld" -o "$out/$b.tmp" "$pkg/cmd/$b"; done
      go_build -tags "$tags no_grpc" -ldflags "$ld" -o "$out/containerd-shim-runc-v2.tmp" "$pkg/cmd/containerd-shim-runc-v2"
    }
    (cd "$here/containerd" && timed "containerd $version" build_containerd_bins)
    for b in containerd ctr containerd-shim-runc-v2; do mv -f "$out/$b.tmp" "$out/$b"; done
    echo "$stamp" > "$out/.stamp"
  fi
  check_version "$out/containerd" "containerd $pkg $version module-$version"
  for b in containerd ctr containerd-shim-runc-v2; do echo "$b=$out/$b"; done
}

build_coredns() {
  local version out ld stamp
  version=$(modver coredns github.com/coredns/coredns)
  out="$cache/coredns/$version"
  ld="-s -w -X github.com/coredns/coredns/coremain.GitCommit=module-$version"
  ld="$ld -X github.com/coredns/coredns/coremain.gitTag=$version"
  stamp=$(stamp_of "$here/coredns" "$ld")
  if up_to_date "$out/.stamp" "$stamp" "$out/coredns"; then echo "build: coredns $version up to date" >&2; else
    mkdir -p "$out"
    (cd "$here/coredns" && timed "coredns $version" go_build -ldflags "$ld" -o "$out/coredns.tmp" .)
    mv -f "$out/coredns.tmp" "$out/coredns"
    echo "$stamp" > "$out/.stamp"
  fi
  "$out/coredns" -version | grep -xF "CoreDNS-${version#v}" >/dev/null || { echo "build: coredns -version is not $version" >&2; exit 1; }
  echo "coredns=$out/coredns"
}

# Our own pause (tools/pause/pause.c), versioned here: bump PAUSE when its behaviour changes, so that the sandbox
# image built from it gets a new tag instead of silently changing under the same one.
PAUSE=1.0
build_pause() {
  local out="$cache/pause/$PAUSE" cc=${CC:-gcc} flags stamp
  command -v "$cc" >/dev/null || { echo "build: $cc not found: run scripts/install-system-deps.sh" >&2; exit 1; }
  # Static: the sandbox image holds this one file and no libc.
  flags="-static -Os -s -Wall -Wextra -Werror -DVERSION=\"$PAUSE\""
  stamp=$(stamp_of "$here/pause" "$flags" "$("$cc" --version | head -1)")
  if up_to_date "$out/.stamp" "$stamp" "$out/pause"; then echo "build: pause $PAUSE up to date" >&2; else
    mkdir -p "$out"
    # shellcheck disable=SC2086 # flags is a word list
    timed "pause $PAUSE" nice -n "$nice_level" "$cc" $flags -o "$out/pause.tmp" "$here/pause/pause.c"
    mv -f "$out/pause.tmp" "$out/pause"
    echo "$stamp" > "$out/.stamp"
  fi
  check_version "$out/pause" "pause $PAUSE"
  echo "pause=$out/pause"
}

# The CSI snapshot machinery for the real node, one module (tools/csi) so that the k8s.io libraries the three share
# are compiled once, in one `go build` for all three. The out dir is named after the snapshotter version because
# the CRDs come from that release; the provisioner's version is in the stamp.
build_csi() {
  local version pkgs ld stamp b
  local snap=github.com/kubernetes-csi/external-snapshotter prov=github.com/kubernetes-csi/external-provisioner
  version=$(modver csi $snap/v8)
  local out="$cache/csi/$version"
  pkgs="$snap/v8/cmd/snapshot-controller $snap/v8/cmd/csi-snapshotter $prov/v6/cmd/csi-provisioner"
  ld="-s -w"
  stamp=$(stamp_of "$here/csi" "$pkgs" "$ld")
  if up_to_date "$out/.stamp" "$stamp" "$out/snapshot-controller" "$out/csi-snapshotter" "$out/csi-provisioner"; then
    echo "build: csi $version up to date" >&2
  else
    rm -rf "$out/tmp"; mkdir -p "$out/tmp"
    # shellcheck disable=SC2086 # pkgs is a word list
    (cd "$here/csi" && timed "csi $version (snapshot-controller, csi-snapshotter, csi-provisioner)" \
      go_build -ldflags "$ld" -o "$out/tmp/" $pkgs)
    for b in snapshot-controller csi-snapshotter csi-provisioner; do mv -f "$out/tmp/$b" "$out/$b"; done
    rmdir "$out/tmp"
    echo "$stamp" > "$out/.stamp"
  fi
  for b in snapshot-controller csi-snapshotter csi-provisioner; do echo "$b=$out/$b"; done
}

node_target() {
  build_k8s
  echo "kubelet=$kube_out/kubelet"
  echo "kube-proxy=$kube_out/kube-proxy"
  build_containerd
  build_coredns
  build_pause
  build_csi
}

start=$(date +%s)
case "$target" in
  controlplane) controlplane ;;
  controlplane-old) controlplane_old ;;
  node) node_target ;;
  csi) build_csi ;;
  all) controlplane; node_target; controlplane_old ;;
esac
echo "build: $target ready in $(($(date +%s) - start))s" >&2
