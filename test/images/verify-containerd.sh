#!/usr/bin/env bash
# Proves that containerd 2.x imports build.sh's archives under their own names and runs them, with a throwaway
# containerd: its own root, state and socket in a temp directory, inside new mount and PID namespaces (a fresh /run,
# so shim sockets and runc state never touch the host's; the shims die with the namespace). Nothing outlives it.
#   verify-containerd.sh CONTAINERD_BIN_DIR ARCHIVE...   (the directory holding containerd, ctr, containerd-shim-runc-v2)
set -euo pipefail
bin=$(cd "${1:?usage: verify-containerd.sh CONTAINERD_BIN_DIR ARCHIVE...}" && pwd)
shift
[ $# -gt 0 ] || { echo "verify-containerd: no archive given" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "verify-containerd: needs root" >&2; exit 1; }
archives=()
for a in "$@"; do archives+=("$(cd "$(dirname "$a")" && pwd)/$(basename "$a")"); done
work=$(mktemp -d "${TMPDIR:-/tmp}/verify-containerd.XXXXXX")
# a cgroup parent of our own, removed at the end (cgroup v1 keeps empty parents otherwise)
cg=verify-containerd-$$
cleanup() {
  local d
  for d in /sys/fs/cgroup/*/"$cg" /sys/fs/cgroup/"$cg"; do [ -d "$d" ] && rmdir "$d" 2>/dev/null || true; done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

export work bin here cg
# everything below runs as PID 1 of a new PID namespace: when it ends, the kernel kills whatever is left in it
unshare --mount --pid --fork --propagation private bash -euo pipefail -c '
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t proc proc /proc
mkdir -p "$work/opt"
cat >"$work/config.toml" <<EOF
version = 3
root = "$work/root"
state = "$work/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime", "io.containerd.cri.v1.images"]
[grpc]
  address = "$work/containerd.sock"
[ttrpc]
  address = "$work/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$work/opt"
EOF
PATH=$bin:$PATH
containerd --config "$work/config.toml" >"$work/containerd.log" 2>&1 &
for _ in $(seq 100); do [ -S "$work/containerd.sock" ] && break; sleep 0.1; done
# ctr warns about cgroup v1 on every call: keep that noise out of the report
ctr() { command ctr --address "$work/containerd.sock" "$@" 2> >(grep -v "DEPRECATION: The support for cgroup v1" >&2); }
ctr version >/dev/null || { cat "$work/containerd.log" >&2; exit 1; }
for a in "$@"; do
  want=$(python3 "$here/oci.py" name "$a")
  ctr -n k8s.io images import --local --platform linux/amd64 "$a" >/dev/null
  ctr -n k8s.io images ls -q | grep -qxF "$want" || { echo "FAIL: $a imported, but no image named $want:" >&2; ctr -n k8s.io images ls >&2; exit 1; }
  ctr -n k8s.io images check "name==$want" | tail -n +2 | grep -q "complete" || { echo "FAIL: $want not complete" >&2; exit 1; }
  echo "ok imported $(basename "$a") as $want (no --base-name)"
done
ctr -n k8s.io images ls
n=0
for want in $(ctr -n k8s.io images ls -q); do
  n=$((n + 1))
  case $want in
    *pause*)
      ctr -n k8s.io run -d --read-only --cgroup "/$cg/p$n" "$want" "verify-$n" >/dev/null
      sleep 1
      ctr -n k8s.io tasks ls | grep -q "verify-$n .*RUNNING" || { echo "FAIL: pause not running" >&2; exit 1; }
      ctr -n k8s.io tasks kill -s SIGTERM "verify-$n"
      ctr -n k8s.io tasks ls | grep -q "verify-$n .*RUNNING" && sleep 1
      ctr -n k8s.io tasks delete "verify-$n" >/dev/null 2>&1 || ctr -n k8s.io tasks delete -f "verify-$n" >/dev/null
      ctr -n k8s.io containers delete "verify-$n"
      echo "ok ran $want (image user), stopped with SIGTERM"
      ;;
    *backup-kubectl*)
      # the backup CronJob image: its numeric user 999:999, kubectl and the date format backup.sh uses
      out=$(ctr -n k8s.io run --rm --read-only --cgroup "/$cg/b$n" "$want" "verify-$n" sh -c "id; kubectl version --client; date -u +%Y%m%dT%H%M%SZ")
      grep -q "^uid=999(robustmq) gid=999(robustmq)" <<<"$out" && grep -q "^Client Version: v" <<<"$out" ||
        { echo "FAIL: $want: $out" >&2; exit 1; }
      echo "ok ran $want read-only:"
      sed "s/^/    /" <<<"$out"
      ;;
    *)
      # the image config names the user (robustmq); containerd resolves it from the image'"'"'s /etc/passwd
      out=$(ctr -n k8s.io run --rm --read-only --cgroup "/$cg/r$n" "$want" "verify-$n" bash -c "id; pwd; curl --version | head -n1; ls /robustmq/libs")
      echo "ok ran $want read-only:"
      sed "s/^/    /" <<<"$out"
      ;;
  esac
done
' _ "${archives[@]}"
echo "ok throwaway containerd gone with its namespace"
