#!/usr/bin/env bash
# Checks the archives that build.sh wrote without containerd: unpacks each image into a throwaway root filesystem and
# runs it with runc the way the chart's pods run (uid/gid 999, read-only root, no capabilities), then removes every
# container, state directory and file it made.
#   verify-runc.sh ROBUSTMQ_ARCHIVE [PAUSE_ARCHIVE]
# Exits non-zero on the first failed check; prints one "ok ..." line per passed check.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
robustmq_archive=${1:?usage: verify-runc.sh ROBUSTMQ_ARCHIVE [PAUSE_ARCHIVE]}
pause_archive=${2:-}
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
left=$(runc --root "$state" list -q 2>/dev/null | wc -l)
[ "$left" = 0 ] || fail "$left runc containers left"
ok "no runc container left"
