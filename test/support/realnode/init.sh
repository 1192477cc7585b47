#!/bin/bash
# PID 1 of the real node's namespaces (started by realnode.ts as
#   unshare --mount --pid --net --uts --ipc --fork --mount-proc bash init.sh DIR NODE_NAME).
# Every component of the node is later entered into these namespaces with nsenter. Killing this process kills
# every process of the PID namespace (containerd shims included, whatever process group they moved to), and with
# the last process go the mount namespace (overlay, netns and volume mounts) and the network namespace (bridge,
# pod veths, iptables/nft rules, the node end of the host veth).
set -euo pipefail
dir=$1
node=$2

# unshare made every mount private, so nothing below propagates to the host. Inside, containerd and the kubelet
# want shared propagation (pods' mount propagation, the kubelet's volume mounts seen by containers).
mount --make-rshared /
# Runtime state that components write to fixed default paths (containerd sockets, runc state, netns bind mounts,
# CNI caches in /var/lib/cni, /var/log/pods and /var/log/containers) lands on tmpfs that exist only in this mount
# namespace, instead of on the host's disk. Nothing the node needs from the host lives in these three.
mount -t tmpfs -o mode=0755 robustmq-node-run /run
mount -t tmpfs -o mode=0755 robustmq-node-varlib /var/lib
mount -t tmpfs -o mode=0755 robustmq-node-varlog /var/log

hostname "$node"
ip link set lo up
# Forwarding between the pod bridge and the node's own addresses (Service DNAT, hairpin). Per network namespace:
# the host's own ip_forward is untouched.
sysctl -qw net.ipv4.ip_forward=1

touch "$dir/ns-ready"

# As PID 1, reap what is orphaned here (containerd shims re-parent to this process), and exit on TERM.
trap 'exit 0' TERM INT
while :; do
  sleep 3600 &
  wait $! || true
done
