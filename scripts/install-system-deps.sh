#!/usr/bin/env bash
# Installs the Debian packages the tests need. Idempotent: does nothing when everything is already installed.
#   docker-registry  OCI registry on loopback for `helm push --plain-http` (test/support/registry.ts)
#   openssl          PKI for the local control plane (test/support/controlplane.ts)
#   tmux             interactive CLI tests
#   ca-certificates, curl, procps, iproute2: used by scripts and for debugging the control plane
#   time             GNU time: the benchmarks read peak RSS and CPU of a command from it
# The real node (test/support/realnode*; binaries from tools/build.sh node):
#   runc             the OCI runtime containerd's runc shim execs (Debian's is recent enough for containerd 2.x)
#   containernetworking-plugins  bridge, host-local, loopback, portmap in /usr/lib/cni
#   iptables, nftables, conntrack  kube-proxy's backends, and the conntrack flush it does on Service changes
#   gcc, libc6-dev   compile the static pause binary of the sandbox image (tools/pause)
#   mmdebstrap       Debian root filesystems for the locally built images
set -euo pipefail
packages=(docker-registry openssl tmux ca-certificates curl procps iproute2 time
  runc containernetworking-plugins iptables nftables conntrack gcc libc6-dev mmdebstrap)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  echo "install-system-deps: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The package ships a systemd service; the tests start their own instance on a random port, so the packaged
# one (0.0.0.0:5000) is not wanted. Without systemd (containers) it never starts anyway.
if command -v systemctl >/dev/null && systemctl is-active --quiet docker-registry 2>/dev/null; then
  ${sudo:-} systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi
command -v docker-registry >/dev/null
echo "docker-registry=$(command -v docker-registry)"
