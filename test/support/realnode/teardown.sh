#!/bin/sh
# Removes one real node: teardown.sh DIR. Used by stop(), by the watchdog when the process that started the node
# died, and by `npm run node:down`. Idempotent, and safe to run while another real node is up: it only touches
# what DIR/realnode.env names (the namespace's PID 1 and its PID namespace, the host veth, the cgroup subtree).
# What the node changed on the host outside its namespaces is put back: kernel sysctls the kubelet sets at start
# (saved in DIR/sysctl.saved before it ran), the cgroup directories the kubelet and runc made.
dir=$1
env="$dir/realnode.env"
[ -n "$dir" ] && [ -d "$dir" ] || exit 0
NS_PID='' NS_PIDNS='' VETH='' CGROUP_ROOT=''
# shellcheck disable=SC1090
[ -f "$env" ] && . "$env"
rc=0

in_ns() { # lists host PIDs of the processes in the node's PID namespace
  [ -n "$NS_PIDNS" ] || return 0
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$NS_PIDNS" ] && echo "${p#/proc/}"
  done
  return 0
}

# 1. Processes: SIGKILL to the namespace's PID 1 makes the kernel kill every process in the PID namespace.
#    Only if that PID is still the namespace's PID 1 (a recycled PID must never be killed).
if [ -n "$NS_PID" ] && [ "$(readlink "/proc/$NS_PID/ns/pid" 2>/dev/null)" = "$NS_PIDNS" ]; then
  kill -KILL "$NS_PID" 2>/dev/null
fi
i=0
while [ -n "$(in_ns)" ]; do
  i=$((i + 1))
  if [ "$i" -gt 300 ]; then echo "teardown: processes still in the node's PID namespace: $(in_ns | tr '\n' ' ')" >&2; rc=1; break; fi
  # Normally gone with PID 1; if the namespace outlived it somehow, kill what is left one by one.
  [ "$i" -gt 20 ] && for p in $(in_ns); do kill -KILL "$p" 2>/dev/null; done
  sleep 0.1
done

# 2. The host end of the veth goes when the kernel frees the node's network namespace (asynchronously).
if [ -n "$VETH" ]; then
  i=0
  while ip link show "$VETH" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 100 ]; then ip link del "$VETH" 2>/dev/null || { echo "teardown: cannot remove veth $VETH" >&2; rc=1; }; break; fi
    sleep 0.1
  done
fi

# 3. cgroups: the kubelet's cgroupRoot subtree in every hierarchy, deepest first. A cgroup whose last process
#    just died can refuse rmdir for a moment: retry.
if [ -n "$CGROUP_ROOT" ]; then
  i=0
  while :; do
    left=$(find /sys/fs/cgroup/*/"$CGROUP_ROOT" -maxdepth 0 -type d 2>/dev/null)
    [ -z "$left" ] && break
    for d in $left; do find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done
    i=$((i + 1))
    if [ "$i" -gt 100 ]; then echo "teardown: cgroups left: $left" >&2; rc=1; break; fi
    sleep 0.1
  done
fi

# 4. Kernel tunables the kubelet set (not namespaced).
if [ -f "$dir/sysctl.saved" ]; then
  while IFS='=' read -r key value; do
    [ -n "$key" ] && sysctl -qw "$key=$value" 2>/dev/null
  done < "$dir/sysctl.saved"
fi

# 5. The state dir. Every mount of the node lived in its mount namespace, so nothing is mounted here now; if
#    something is (a bug), removing the tree could reach into the mounted filesystem: keep it and say so.
if findmnt -rn -o TARGET | grep -q "^$dir"; then
  echo "teardown: mounts left under $dir, not removing it:" >&2
  findmnt -rn -o TARGET | grep "^$dir" >&2
  rc=1
else
  rm -rf "$dir"
fi
exit $rc
