#!/usr/bin/env bash
# Checks the archives that build.sh wrote without containerd: unpacks each image into a throwaway root filesystem and
# runs it with runc the way the chart's pods run (uid/gid 999, read-only root, no capabilities), then removes every
# container, state directory and file it made.
#   verify-runc.sh ROBUSTMQ_ARCHIVE [PAUSE_ARCHIVE] [--backup BACKUP_ARCHIVE]
# Exits non-zero on the first failed check; prints one "ok ..." line per passed check.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
usage='usage: verify-runc.sh ROBUSTMQ_ARCHIVE [PAUSE_ARCHIVE] [--backup BACKUP_ARCHIVE]'
backup_archive=''
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --backup) backup_archive=${2:?$usage}; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
robustmq_archive=${args[0]:?$usage}
pause_archive=${args[1]:-}
command -v runc >/dev/null || { echo "verify-runc: runc is missing (apt-get install runc)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "verify-runc: needs root (runc, and a root filesystem with its owners)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/verify-runc.XXXXXX")
state=$work/state
cleanup() {
  local id
  for id in $(runc --root "$state" list -q 2>/dev/null); do
    runc --root "$state" delete --force "$id" >/dev/null 2>&1 || true
  done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok $*"; }

# bundle NAME ARCHIVE: unpacks the image into $work/NAME/rootfs and writes a runc config from the image config
bundle() {
  local name=$1 archive=$2 b=$work/$1
  mkdir -p "$b"
  python3 "$here/oci.py" unpack "$archive" "$b/rootfs" >"$b/image.json"
  (cd "$b" && runc spec)
}

# run NAME USER ARGS...: runs ARGS in the bundle (or the image's entrypoint + cmd when ARGS is "-") and prints the output
run() {
  local name=$1 user=$2 b=$work/$1 id
  shift 2
  id=verify-$name-$$-$RANDOM
  python3 - "$b" "$user" "$@" <<'EOF'
import json, os, sys
b, user, args = sys.argv[1], sys.argv[2], sys.argv[3:]
image = json.load(open(b + "/image.json"))["config"]
spec = json.load(open(b + "/config.json"))
uid, gid = (int(x) for x in user.split(":"))
p = spec["process"]
p["terminal"] = False
p["user"] = {"uid": uid, "gid": gid, "additionalGids": [gid]}
p["args"] = (image.get("Entrypoint") or []) + (image.get("Cmd") or []) if args == ["-"] else args
p["env"] = image.get("Env") or ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
p["cwd"] = image.get("WorkingDir") or "/"
# as the chart's containerSecurityContext: no capabilities, no privilege gain
p["capabilities"] = {k: [] for k in ("bounding", "effective", "permitted", "inheritable", "ambient")}
p["noNewPrivileges"] = True
spec["root"] = {"path": "rootfs", "readonly": True}
# the chart mounts an emptyDir at /tmp; data and logs stay unmounted here, to show the image does not have them
spec["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]})
for d in os.environ.get("RUNC_EXTRA_MOUNTS", "").split():
    spec["mounts"].append({"destination": d, "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", f"uid={uid}", f"gid={gid}", "mode=0750"]})
# SRC:DST read-only binds, as the chart mounts its scripts ConfigMap
for m in os.environ.get("RUNC_BINDS", "").split():
    src, dst = m.split(":", 1)
    spec["mounts"].append({"destination": dst, "type": "bind", "source": src, "options": ["rbind", "ro", "nosuid", "nodev"]})
spec["hostname"] = "verify"
json.dump(spec, open(b + "/config.json", "w"), indent=1)
EOF
  runc --root "$state" run --bundle "$b" "$id" </dev/null 2>&1
}

# --- the RobustMQ image ---------------------------------------------------------------------------------------------
bundle robustmq "$robustmq_archive"
cfg=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["config"]; print(c.get("User"), c.get("WorkingDir"), c.get("Entrypoint"), c.get("Cmd"))' "$work/robustmq/image.json")
ok "image config: $cfg"

out=$(run robustmq 999:999 curl --version) || fail "curl --version: $out"
ok "curl as 999: $(head -n1 <<<"$out")"

out=$(run robustmq 999:999 bash -c id) || fail "bash -c id: $out"
[ "$out" = "uid=999(robustmq) gid=999(robustmq) groups=999(robustmq)" ] || fail "bash -c id: $out"
ok "bash -c id: $out"

out=$(run robustmq 999:999 bash -c '
  set -e
  stat -c "%U:%G %a %n" /robustmq /robustmq/libs /robustmq/libs/broker-server /robustmq/libs/cli-command /robustmq/config /robustmq/bin
  [ -d "/robustmq/{bin,libs,config,data,logs}" ] && echo "brace-dir present"
  [ ! -e /robustmq/data ] && [ ! -e /robustmq/logs ] && echo "no data/ logs/"
  ls /robustmq /robustmq/config /robustmq/config/certs | tr "\n" " "; echo
  if touch /robustmq/probe 2>/dev/null || touch /probe 2>/dev/null; then echo "root is WRITABLE"; exit 1; fi
  echo "read-only root"
  touch /tmp/.probe && echo "tmp writable"
  for c in bash sh curl grep sed tr cut head tail sort paste wc date sleep timeout mkdir mv cat ls hostname getent id openssl; do
    command -v "$c" >/dev/null || { echo "missing $c"; exit 1; }
  done
  echo "tools present"
  for c in jq nc ncat socat wget python3 ps ip ss nslookup dig ping less vi; do
    command -v "$c" >/dev/null && echo "has $c"
  done
  true') || fail "layout: $out"
grep -q 'has ' <<<"$out" && fail "the replica has a tool the real image lacks: $out"
ok "layout, read-only root and tools:"
sed 's/^/    /' <<<"$out"

# Entrypoint + Cmd as the image says, with data and logs mounted as the chart does: a server keeps running (stopped
# with SIGTERM after a few seconds, as the kubelet would), a trivial test binary exits 0; both pass.
RUNC_EXTRA_MOUNTS="/robustmq/data /robustmq/logs" run robustmq 999:999 - >"$work/entrypoint.log" 2>&1 &
runner=$!
for _ in $(seq 25); do kill -0 "$runner" 2>/dev/null || break; sleep 0.2; done
if kill -0 "$runner" 2>/dev/null; then
  for id in $(runc --root "$state" list -q); do runc --root "$state" kill "$id" TERM || true; done
  wait "$runner" || true
  ok "entrypoint + cmd from the image: still running after 5s, stopped with SIGTERM; first lines:"
else
  wait "$runner" || fail "entrypoint exited non-zero: $(cat "$work/entrypoint.log")"
  ok "entrypoint + cmd from the image: exited 0; output:"
fi
head -n 3 "$work/entrypoint.log" | cut -c1-160 | sed 's/^/    /'

# --- the pause image ------------------------------------------------------------------------------------------------
if [ -n "$pause_archive" ]; then
  bundle pause "$pause_archive"
  files=$(cd "$work/pause/rootfs" && find . -mindepth 1 | sort | tr '\n' ' ')
  ok "pause root filesystem: $files"
  user=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["User"])' "$work/pause/image.json")
  # run it detached, then stop it the way the kubelet does (SIGTERM) and expect a clean exit
  run pause "$user" - >/dev/null 2>&1 &
  runner=$!
  for _ in $(seq 50); do
    st=$(runc --root "$state" list -f json 2>/dev/null | python3 -c 'import json,sys; l=json.load(sys.stdin) or []; print(" ".join(c["id"]+"="+c["status"] for c in l if c["id"].startswith("verify-pause")))')
    [[ $st == *=running* ]] && break
    sleep 0.2
  done
  [[ $st == *=running* ]] || fail "pause did not start: $st"
  pid=$(runc --root "$state" list -f json | python3 -c 'import json,sys; print([c["pid"] for c in json.load(sys.stdin) if c["id"].startswith("verify-pause")][0])')
  puid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
  runc --root "$state" kill "${st%%=*}" TERM
  wait "$runner" || fail "pause exited non-zero after SIGTERM"
  ok "pause ran as uid $puid and exited 0 on SIGTERM"
fi
# --- the backup CronJob's image -------------------------------------------------------------------------------------
# Run as the CronJob runs it (999:999, read-only root, no capabilities, /tmp writable): kubectl, the tools backup.sh
# calls, and backup.sh itself from the chart, against a stub kubectl that plays the API. The chart tier tests the
# script's logic on the host's shells; this shows the image has every command the script runs, with the options it uses.
if [ -n "$backup_archive" ]; then
  bundle backup "$backup_archive"
  read -r buser bcfg < <(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["config"]; print(c.get("User"), c.get("Entrypoint"), c.get("Cmd"), c.get("Env"))' "$work/backup/image.json")
  [ "$buser" = 999:999 ] || fail "backup image user is '$buser', want 999:999 (numeric, non-root)"
  ok "backup image config: User=$buser $bcfg"

  out=$(run backup "$buser" -) || fail "entrypoint + cmd (kubectl --help): $out"
  grep -q 'kubectl controls the Kubernetes cluster manager' <<<"$out" || fail "entrypoint + cmd is not kubectl --help: $(head -n3 <<<"$out")"
  ok "entrypoint + cmd: kubectl --help, exit 0"

  out=$(run backup "$buser" kubectl version --client) || fail "kubectl version --client: $out"
  grep -q '^Client Version: v' <<<"$out" || fail "kubectl version --client: $out"
  ok "kubectl version --client: $(head -n1 <<<"$out")"

  out=$(run backup "$buser" sh -c 'date -u +%Y%m%dT%H%M%SZ') || fail "date: $out"
  [[ $out =~ ^[0-9]{8}T[0-9]{6}Z$ ]] || fail "date -u +%Y%m%dT%H%M%SZ printed '$out'"
  ok "sh -c 'date -u +%Y%m%dT%H%M%SZ': $out"

  # every external command of backup.sh (kubectl printf date sed cut sort sleep; the rest are sh builtins), with the
  # options it passes them
  out=$(run backup "$buser" sh -c '
    set -eu
    id
    [ "$(readlink -f /bin/sh)" = /usr/bin/dash ] && echo "sh is dash"
    for c in kubectl printf date sed cut sort sleep; do command -v "$c" >/dev/null || { echo "missing $c"; exit 1; }; done
    echo "commands present"
    [ "$(date -u -d @1735787045 +%Y%m%d-%H%M%S)" = 20250102-030405 ] || exit 1
    [ "$(date -u -d @1735787045 +%Y-%m-%dT%H:%M:%SZ)" = 2025-01-02T03:04:05Z ] || exit 1
    case $(date -u +%s) in "" | *[!0-9]*) exit 1 ;; esac
    case $(date -u +%H:%M:%S) in [0-2][0-9]:[0-5][0-9]:[0-6][0-9]) ;; *) exit 1 ;; esac
    echo "date -u -d @EPOCH, +%s, +%H:%M:%S"
    [ "$(printf "%s" "a-release-name-that-is-longer-than-forty-seven-chars-x" | cut -c1-47 | sed "s/-*\$//")" = a-release-name-that-is-longer-than-forty-seven ] || exit 1
    [ "$(printf "b\tx\na\ty\nb\tz\n" | cut -f1 | sort -u -r | sed -n 1p)" = b ] || exit 1
    sleep 0.1
    echo "cut -c / -f, sed, sort -u -r, sleep 0.1"
    if touch /probe 2>/dev/null; then echo "root is WRITABLE"; exit 1; fi
    touch /tmp/.probe && echo "read-only root, /tmp writable"') || fail "backup.sh tools: $out"
  [[ $out == *"uid=999(robustmq) gid=999(robustmq)"* ]] || fail "backup image user: $out"
  ok "backup.sh's commands and options:"
  sed 's/^/    /' <<<"$out"

  # the script itself, mounted where the CronJob mounts it; one combined replica, the snapshot ready on the second
  # poll, one older scheduled backup that retention 1 prunes
  stub='#!/bin/sh
shift 3 # --namespace NS --request-timeout=30s
echo "kubectl $*" >>/tmp/calls
case "$*" in
  "get statefulset "*) printf 1 ;;
  "get persistentvolumeclaims "*) printf "data-rmq-robustmq-0\t10Gi\tcstandard\n" ;;
  "create -f -"*) cat >/tmp/created.json ;;
  "get volumesnapshots "*readyToUse*)
    n=$(cat /tmp/polls 2>/dev/null || echo 0); echo $((n + 1)) >/tmp/polls
    if [ "$n" -ge 1 ]; then r=rtrue; else r=rfalse; fi
    printf "rmq-20250102-030405-data-rmq-robustmq-0\t%s\t\n" "$r" ;;
  "get volumesnapshots "*) printf "rmq-20250102-030405\tsready\nrmq-20250101-030405\tsready\n" ;;
esac'
  out=$(RUNC_BINDS="$repo/chart/robustmq/files/scripts/backup.sh:/robustmq/chart/scripts/backup.sh" run backup "$buser" sh -c '
    set -eu
    mkdir /tmp/bin && printf "%s\n" "$1" >/tmp/bin/kubectl && chmod 0755 /tmp/bin/kubectl
    export PATH=/tmp/bin:$PATH RMQ_NAMESPACE=mq RMQ_RELEASE=rmq RMQ_STATEFULSETS=combined=rmq-robustmq
    export RMQ_SELECTOR=app.kubernetes.io/name=robustmq,app.kubernetes.io/instance=rmq RMQ_PERSISTENT_ROLES=combined
    export RMQ_RETENTION=1 RMQ_TIMEOUT_SECONDS=30 RMQ_POLL_SECONDS=0.2 RMQ_BACKUP_EPOCH=1735787045
    export RMQ_SNAPSHOT_LABELS="{\"app.kubernetes.io/instance\":\"rmq\"}" RMQ_SNAPSHOT_ANNOTATIONS="{\"backup.robustmq.io/x\":\"y\"}"
    export RMQ_VALUES="{\"a\":\"b\\\"c\"}"
    cd /tmp && /bin/sh /robustmq/chart/scripts/backup.sh
    echo "--- exit $?; calls:"; cat /tmp/calls; echo "--- created:"; cat /tmp/created.json; echo' sh "$stub") || fail "backup.sh in the image: $out"
  grep -q 'backup rmq-20250102-030405 ready (1 snapshot(s))' <<<"$out" || fail "backup.sh did not report the backup ready: $out"
  grep -q 'retention: deleting rmq-20250101-030405' <<<"$out" || fail "backup.sh did not prune the older backup: $out"
  grep -qi 'not found' <<<"$out" && fail "a command is missing in the image: $out"
  python3 -c 'import json,sys; d=json.loads(sys.argv[1].split("--- created:\n",1)[1]); assert d["metadata"]["name"] == "rmq-20250102-030405-data-rmq-robustmq-0", d' "$out" ||
    fail "the VolumeSnapshot backup.sh made is not that JSON: $out"
  ok "chart's backup.sh in the image against a stub API: ready on the 2nd poll, older backup pruned, valid VolumeSnapshot JSON"
  sed -n '1,/^--- created:/p' <<<"$out" | sed 's/^/    /'
fi

left=$(runc --root "$state" list -q 2>/dev/null | wc -l)
[ "$left" = 0 ] || fail "$left runc containers left"
ok "no runc container left"
