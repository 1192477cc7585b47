#!/bin/sh
# Scheduled backup (templates/backup/cronjob.yaml): one CSI VolumeSnapshot per data PVC of the release, all with the
# labels and annotations the CLI's `backup` writes (src/core/backup.ts; test/chart/backup.test.ts compares them), then
# wait for readyToUse, mark the backup ready or failed, and prune older scheduled backups by retention.
# POSIX sh on purpose: small kubectl images ship busybox sh, not bash. Only kubectl talks to the API; no jq.
set -eu

NS=${RMQ_NAMESPACE:?}
RELEASE=${RMQ_RELEASE:?}
SELECTOR=${RMQ_SELECTOR:?}
STATEFULSETS=${RMQ_STATEFULSETS:?}
PERSISTENT=${RMQ_PERSISTENT_ROLES:-}
CLASS=${RMQ_SNAPSHOT_CLASS:-}
RETENTION=${RMQ_RETENTION:?}
TIMEOUT=${RMQ_TIMEOUT_SECONDS:-600}
POLL=${RMQ_POLL_SECONDS:-5}
B=backup.robustmq.io
TAB=$(printf '\t')

# No --request-timeout: any client override makes kubectl skip its in-cluster fallback (its merged config is no longer
# the default one) and dial localhost:8080, found on the real node. The Job's activeDeadlineSeconds bounds a hang.
k() { kubectl --namespace "$NS" "$@"; }
log() { printf '%s backup: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
# a JSON string body; the inputs are single-line (helm's toJson escapes newlines)
jstr() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; }
inner() { v=${1#\{}; printf '%s' "${v%\}}"; }

# RMQ_BACKUP_EPOCH pins the clock in tests; ids sort by time because every id of a release shares its prefix
now=${RMQ_BACKUP_EPOCH:-$(date -u +%s)}
stamp=$(date -u -d "@$now" +%Y%m%d-%H%M%S)
created=$(date -u -d "@$now" +%Y-%m-%dT%H:%M:%SZ)
# label values hold 63 characters: 47 of the release, a dash and the 15 of the stamp
id="$(printf '%s' "$RELEASE" | cut -c1-47 | sed 's/-*$//')-$stamp"
IDSEL="$SELECTOR,$B/id=$id"
made=""

fail() {
  trap - TERM INT
  log "backup $id FAILED: $1"
  if [ -n "$made" ]; then
    # a half-made backup must never look usable: every snapshot of the id says failed, and why
    k label volumesnapshots -l "$IDSEL" "$B/state=failed" --overwrite >/dev/null || log "could not mark $id failed"
    k annotate volumesnapshots -l "$IDSEL" "$B/failure=$1" --overwrite >/dev/null || log "could not annotate $id"
  fi
  exit 1
}
trap 'fail "stopped by a signal (Job deadline or deletion)"' TERM INT

# --- what to snapshot: ordinals below each StatefulSet's replicas; PVCs left behind by a scale-down are not part of it
replicas=""
plan=""
for pair in $STATEFULSETS; do
  role=${pair%%=*}
  sts=${pair#*=}
  n=$(k get statefulset "$sts" -o 'jsonpath={.spec.replicas}') || fail "cannot read StatefulSet $sts"
  case $n in '' | *[!0-9]*) fail "StatefulSet $sts has no replica count" ;; esac
  replicas="$replicas${replicas:+,}\"$role\":$n"
  case " $PERSISTENT " in
    *" $role "*)
      i=0
      while [ "$i" -lt "$n" ]; do
        plan="$plan$role $i data-$sts-$i
"
        i=$((i + 1))
      done
      ;;
  esac
done
replicas="{$replicas}"

pvcs=$(k get persistentvolumeclaims -l "$SELECTOR" -o 'jsonpath={range .items[*]}{.metadata.name}{"\t"}{.spec.resources.requests.storage}{"\t"}c{.spec.storageClassName}{"\n"}{end}') || fail "cannot list PVCs"
count=0
rows=""
while read -r role ordinal pvc; do
  [ -n "$pvc" ] || continue
  row=""
  while IFS="$TAB" read -r name size class; do
    if [ "$name" = "$pvc" ]; then row="$role	$ordinal	$pvc	$size	${class#c}"; fi
  done <<LIST
$pvcs
LIST
  [ -n "$row" ] || fail "PVC $pvc of $role ordinal $ordinal does not exist; nothing was created"
  rows="$rows$row
"
  count=$((count + 1))
done <<PLAN
$plan
PLAN
[ "$count" -gt 0 ] || fail "the release has no data PVCs (persistence off?)"

# --- one snapshot per PVC
labels=$(inner "${RMQ_SNAPSHOT_LABELS:?}")
annotations=$(inner "${RMQ_SNAPSHOT_ANNOTATIONS:?}")
values=""
if [ -n "${RMQ_VALUES:-}" ]; then values=",\"$B/values\":\"$(jstr "$RMQ_VALUES")\""; fi
spec_class=""
if [ -n "$CLASS" ]; then spec_class="\"volumeSnapshotClassName\":\"$CLASS\","; fi
log "backup $id: $count volume(s), class ${CLASS:-(cluster default)}"
while IFS="$TAB" read -r role ordinal pvc size class; do
  [ -n "$pvc" ] || continue
  name="$id-$pvc"
  made=1
  printf '%s' "{\"apiVersion\":\"snapshot.storage.k8s.io/v1\",\"kind\":\"VolumeSnapshot\",\"metadata\":{\"name\":\"$name\",\"namespace\":\"$NS\",\
\"labels\":{$labels,\"$B/id\":\"$id\",\"$B/state\":\"pending\",\"$B/role\":\"$role\",\"$B/ordinal\":\"$ordinal\"},\
\"annotations\":{$annotations,\"$B/replicas\":\"$(jstr "$replicas")\",\"$B/pvc\":\"$pvc\",\"$B/pvc-size\":\"$size\",\
\"$B/storage-class\":\"$class\",\"$B/pvc-count\":\"$count\",\"$B/created-at\":\"$created\"$values}},\
\"spec\":{$spec_class\"source\":{\"persistentVolumeClaimName\":\"$pvc\"}}}" | k create -f - >/dev/null || fail "could not create VolumeSnapshot $name"
  log "created $name"
done <<ROWS
$rows
ROWS

# --- wait until every snapshot is readyToUse; an error on one is reported but waited out (the controller retries)
deadline=$(($(date +%s) + TIMEOUT))
while :; do
  st=$(k get volumesnapshots -l "$IDSEL" -o 'jsonpath={range .items[*]}{.metadata.name}{"\t"}r{.status.readyToUse}{"\t"}{.status.error.message}{"\n"}{end}') || st=""
  ready=0
  errors=""
  while IFS="$TAB" read -r name r err; do
    [ -n "$name" ] || continue
    if [ "$r" = rtrue ]; then ready=$((ready + 1)); fi
    if [ -n "$err" ]; then errors="$errors${errors:+; }$name: $err"; fi
  done <<ST
$st
ST
  [ "$ready" -lt "$count" ] || break
  if [ "$(date +%s)" -ge "$deadline" ]; then
    fail "timed out after ${TIMEOUT}s with $ready of $count snapshots readyToUse${errors:+ ($errors)}"
  fi
  sleep "$POLL"
done
k label volumesnapshots -l "$IDSEL" "$B/state=ready" --overwrite >/dev/null || fail "could not mark $id ready"
trap - TERM INT
log "backup $id ready ($count snapshot(s))"

# --- retention: keep the RETENTION newest ready scheduled backups, delete scheduled ones older than the oldest kept
# (src/core/backup.ts scheduledToPrune). With fewer ready ones nothing goes, so failing runs never eat good backups.
all=$(k get volumesnapshots -l "$SELECTOR,$B/origin=schedule" -o 'jsonpath={range .items[*]}{.metadata.labels.backup\.robustmq\.io/id}{"\t"}s{.metadata.labels.backup\.robustmq\.io/state}{"\n"}{end}') || {
  log "cannot list scheduled backups; nothing pruned"
  exit 0
}
not_ready=$(printf '%s\n' "$all" | while IFS="$TAB" read -r i s; do [ "$s" = sready ] || printf '%s\n' "$i"; done | sort -u)
kept=0
past=""
for old in $(printf '%s\n' "$all" | cut -f1 | sort -u -r); do
  if [ -n "$past" ]; then
    log "retention: deleting $old"
    k delete volumesnapshots -l "$SELECTOR,$B/origin=schedule,$B/id=$old" --wait=false >/dev/null || log "could not delete $old"
    continue
  fi
  case "
$not_ready
" in
    *"
$old
"*) ;;
    *)
      kept=$((kept + 1))
      if [ "$kept" -ge "$RETENTION" ]; then past=1; fi
      ;;
  esac
done
