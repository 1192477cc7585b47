#!/bin/bash
# Init container of every RobustMQ pod: renders this pod's server.toml from the ConfigMap template and the Secret files,
# then, on the first boot of a meta (Raft voter) node, waits until joining the cluster is safe.
#
# Inputs (environment; the defaults are the paths inside the pod, so the script also runs outside Kubernetes):
#   RMQ_ROLE             combined | meta | broker | engine                      (required)
#   RMQ_ID_BASE          broker_id of ordinal 0 of this role                     (required)
#   RMQ_META_REPLICAS    combined only: ordinals below this also run meta
#   RMQ_HOST_SUFFIX      <headless service>.<namespace>.svc.<clusterDomain>      (required)
#   RMQ_META_ADDRS       "id=host:port ..." of every voter, in the server's iteration order   (required)
#   POD_NAME, POD_INDEX  pod name and the apps.kubernetes.io/pod-index label (the ordinal; falls back to the name suffix)
#   RMQ_TEMPLATE, RMQ_SECRETS_DIR, RMQ_OUT, RMQ_DATA_DIR, RMQ_ENGINE_DATA_DIR, RMQ_TLS_CERT, RMQ_TLS_KEY   paths
#   RMQ_HTTP_PORT, RMQ_ADMIN_USER                 admin API of the peers (first-boot wait)
#   RMQ_FIRST_BOOT_WAIT  true | false; RMQ_WAIT_POLL_SECONDS (2), RMQ_WAIT_LOG_SECONDS (10), RMQ_WAIT_TIMEOUT_SECONDS (0 = forever)
#   RMQ_BOOTSTRAP_GRACE_SECONDS (30): the first voter bootstraps only after no other voter answered for this long
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true # bash 5.2: '&' in a ${x//p/r} replacement would insert the match
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

TEMPLATE=${RMQ_TEMPLATE:-/robustmq/chart/config/server.toml.tmpl}
SECRETS_DIR=${RMQ_SECRETS_DIR:-/robustmq/chart/secrets}
OUT=${RMQ_OUT:-/robustmq/chart/rendered/server.toml}
DATA_DIR=${RMQ_DATA_DIR:-/robustmq/data}
ENGINE_DATA_DIR=${RMQ_ENGINE_DATA_DIR:-/robustmq/data/engine}
TLS_CERT=${RMQ_TLS_CERT:-/robustmq/tls/tls.crt}
TLS_KEY=${RMQ_TLS_KEY:-/robustmq/tls/tls.key}
ROLE=${RMQ_ROLE:?RMQ_ROLE is required: combined, meta, broker or engine}
ID_BASE=${RMQ_ID_BASE:?RMQ_ID_BASE is required}
META_REPLICAS=${RMQ_META_REPLICAS:-0}
HOST_SUFFIX=${RMQ_HOST_SUFFIX:?RMQ_HOST_SUFFIX is required}
META_ADDRS=${RMQ_META_ADDRS:?RMQ_META_ADDRS is required}
HTTP_PORT=${RMQ_HTTP_PORT:-58080}
ADMIN_USER=${RMQ_ADMIN_USER:-admin}
POD_NAME=${POD_NAME:-$(hostname)}
POD_INDEX=${POD_INDEX:-}
FIRST_BOOT_WAIT=${RMQ_FIRST_BOOT_WAIT:-true}
WAIT_POLL=${RMQ_WAIT_POLL_SECONDS:-2}
WAIT_LOG=${RMQ_WAIT_LOG_SECONDS:-10}
WAIT_TIMEOUT=${RMQ_WAIT_TIMEOUT_SECONDS:-0}
BOOTSTRAP_GRACE=${RMQ_BOOTSTRAP_GRACE_SECONDS:-30}

# --- identity -------------------------------------------------------------------------------------------------------
ordinal=$POD_INDEX
[[ $ordinal =~ ^[0-9]+$ ]] || ordinal=${POD_NAME##*-}
[[ $ordinal =~ ^[0-9]+$ ]] || die "cannot tell the StatefulSet ordinal: POD_INDEX='$POD_INDEX', POD_NAME='$POD_NAME'"
ordinal=$((10#$ordinal))
[[ $ID_BASE =~ ^[0-9]+$ ]] || die "RMQ_ID_BASE must be a number, got '$ID_BASE'"
broker_id=$((ID_BASE + ordinal))
is_meta=false
is_engine=false
case $ROLE in
  combined)
    is_engine=true
    if ((ordinal < META_REPLICAS)); then is_meta=true roles='["meta", "broker", "engine"]'; else roles='["broker", "engine"]'; fi
    ;;
  meta) is_meta=true roles='["meta"]' ;;
  broker) roles='["broker"]' ;;
  engine) is_engine=true roles='["engine"]' ;;
  *) die "unknown RMQ_ROLE '$ROLE'" ;;
esac
broker_ip="$POD_NAME.$HOST_SUFFIX"

meta_ids=()
meta_hosts=()
for pair in $META_ADDRS; do
  id=${pair%%=*} addr=${pair#*=}
  [[ $id =~ ^[0-9]+$ && $addr == *:* ]] || die "bad RMQ_META_ADDRS entry '$pair' (want id=host:port)"
  meta_ids+=("$id")
  meta_hosts+=("$addr")
done
((${#meta_ids[@]} > 0)) || die "RMQ_META_ADDRS lists no voter"
if $is_meta; then
  found=false
  for id in "${meta_ids[@]}"; do [ "$id" = "$broker_id" ] && found=true; done
  $found || die "broker_id $broker_id is a meta node but not a key of meta_addrs ($META_ADDRS)"
fi

# --- render server.toml ---------------------------------------------------------------------------------------------
[ -r "$TEMPLATE" ] || die "template $TEMPLATE is missing"
[ -s "$TLS_CERT" ] && [ -s "$TLS_KEY" ] || die "TLS certificate or key missing at $TLS_CERT / $TLS_KEY: the TLS listeners always start and the server exits without them"
admin_password=$(read_secret "$SECRETS_DIR/admin-password")
admin_jwt_secret=$(read_secret "$SECRETS_DIR/admin-jwt-secret")
mqtt_password=$(read_secret "$SECRETS_DIR/mqtt-password")
if $is_engine; then storage_paths="[\"$(esc "$ENGINE_DATA_DIR")\"]"; else storage_paths='[]'; fi

toml=$(<"$TEMPLATE")
sub() { # sub PLACEHOLDER TOML-VALUE: replaces "@@PLACEHOLDER@@" (with its quotes)
  local from="\"@@$1@@\"" to=$2
  [[ $toml == *"$from"* ]] || die "template has no $from placeholder"
  toml=${toml//"$from"/"$to"}
}
sub BROKER_ID "$broker_id"
sub BROKER_IP "\"$(esc "$broker_ip")\""
sub ROLES "$roles"
sub STORAGE_DATA_PATH "$storage_paths"
sub ADMIN_PASSWORD "\"$(esc "$admin_password")\""
sub ADMIN_JWT_SECRET "\"$(esc "$admin_jwt_secret")\""
sub MQTT_PASSWORD "\"$(esc "$mqtt_password")\""
! [[ $toml =~ \"@@[A-Z_]+@@\" ]] || die "unreplaced placeholder left in $TEMPLATE"

umask 077
mkdir -p "$(dirname "$OUT")"
printf '%s\n' "$toml" >"$OUT.tmp"
mv -f "$OUT.tmp" "$OUT"
log "rendered $OUT: broker_id=$broker_id roles=$roles broker_ip=$broker_ip"
if $is_engine && [ -d "$DATA_DIR" ]; then mkdir -p "$ENGINE_DATA_DIR"; fi

# --- first boot of a meta node --------------------------------------------------------------------------------------
# RobustMQ v0.4.11 (src/meta-service/src/raft/manager.rs start()): a node with Raft state recovers; a fresh node joins
# through the FIRST reachable other entry of meta_addrs, and bootstraps a new single-node cluster when none is
# reachable. gRPC opens before that decision, so an open port proves nothing. The join (JoinCluster ->
# add_learner + change_membership on every shard, src/meta-service/src/raft/services.rs) fails and the process exits
# when the peer is not initialised yet; a follower redirects it to the leader (grpc-clients retry_call), which only
# works when one node leads every shard. So a fresh voter waits until, seen through its join target's admin API
# (login with the admin Secret, then /api/info): every shard has the same leader, the join target is a voter, and
# every voter before this one has joined (one join at a time). Only the first voter may find nobody and bootstrap,
# and only after nobody answered for RMQ_BOOTSTRAP_GRACE_SECONDS: at a cold restart where meta-0 lost its volume,
# the other voters (which have data and do not wait) open their gRPC port within seconds, and meta-0 then joins
# them instead of founding a second cluster.
$is_meta || exit 0
[ "$FIRST_BOOT_WAIT" = true ] || { log "first-boot wait disabled"; exit 0; }
if [ -n "$(ls -A "$DATA_DIR/_rocksdb" 2>/dev/null)" ]; then
  log "Raft data exists in $DATA_DIR/_rocksdb: restart, no wait"
  exit 0
fi

reachable() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null; }

# cluster_state HOST: login to HOST's admin API with the admin Secret, then GET /api/info. Sets $info or $reason.
cluster_state() {
  local host=$1 body resp token
  body=$(printf '{"username":"%s","password":"%s"}' "$(esc "$ADMIN_USER")" "$(esc "$admin_password")")
  if ! resp=$(printf '%s' "$body" | curl -sS --max-time 5 -H 'Content-Type: application/json' --data-binary @- "http://$host:$HTTP_PORT/api/v1/login" 2>&1); then
    reason="admin API of $host not answering: $resp"
    return 1
  fi
  token=$(sed -n 's/.*"token"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' <<<"$resp")
  if [ -z "$token" ]; then
    reason="login to $host refused: ${resp:0:200}"
    return 1
  fi
  if ! info=$(printf 'Authorization: Bearer %s\n' "$token" | curl -sS --max-time 5 -H @- "http://$host:$HTTP_PORT/api/info" 2>&1); then
    reason="GET /api/info on $host failed: $info"
    return 1
  fi
}

self_pos=-1
for i in "${!meta_ids[@]}"; do [ "${meta_ids[$i]}" = "$broker_id" ] && self_pos=$i; done

waited_since=$SECONDS
alone_since=$SECONDS
last_log=-9999
while :; do
  reason=''
  target_id='' target_host=''
  for i in "${!meta_ids[@]}"; do
    [ "$i" = "$self_pos" ] && continue
    addr=${meta_hosts[$i]}
    if reachable "${addr%:*}" "${addr##*:}"; then
      target_id=${meta_ids[$i]} target_host=${addr%:*}
      break
    fi
  done
  [ -n "$target_id" ] && alone_since=$SECONDS
  if [ -z "$target_id" ]; then
    if [ "$self_pos" = 0 ]; then
      if ((SECONDS - alone_since >= BOOTSTRAP_GRACE)); then
        log "no other voter answered for ${BOOTSTRAP_GRACE}s and this is the first voter (broker_id $broker_id): the server bootstraps the cluster"
        exit 0
      fi
      reason="no other voter reachable; this first voter bootstraps a new cluster if none answers within ${BOOTSTRAP_GRACE}s"
    else
      reason="no other voter reachable yet; waiting for ${meta_hosts[0]%:*} (broker_id ${meta_ids[0]}) to bootstrap"
    fi
  elif cluster_state "$target_host"; then
    mapfile -t leaders < <(raft_leaders "$info")
    mapfile -t configs < <(raft_configs "$info")
    if ((${#leaders[@]} == 0)); then
      reason="/api/info on $target_host shows no Raft shard yet: ${info:0:200}"
    else
      leader=${leaders[0]}
      same=true
      for l in "${leaders[@]}"; do [ "$l" = "$leader" ] || same=false; done
      missing=''
      for ((i = 0; i < self_pos; i++)); do
        for cfg in "${configs[@]}"; do config_has_voter "$cfg" "${meta_ids[$i]}" || { missing+=" ${meta_ids[$i]}"; break; }; done
      done
      target_voter=true
      for cfg in "${configs[@]}"; do config_has_voter "$cfg" "$target_id" || target_voter=false; done
      if [ "$leader" = null ] || ! $same; then
        reason="the shards do not share one leader (leaders: ${leaders[*]}); a join would be refused by some shard"
      elif ((${#configs[@]} != ${#leaders[@]})); then
        reason="membership of some shard not readable on $target_host"
      elif ! $target_voter; then
        reason="join target $target_host (broker_id $target_id) is not a voter yet (configs: ${configs[*]})"
      elif [ -n "$missing" ]; then
        reason="waiting for the voters before this one to join (missing:$missing; configs: ${configs[*]})"
      else
        log "cluster ready: leader $leader, voters ${configs[0]}; starting, the server joins through $target_host (broker_id $target_id)"
        exit 0
      fi
    fi
  fi
  elapsed=$((SECONDS - waited_since))
  if ((SECONDS - last_log >= WAIT_LOG)); then
    log "first boot of broker_id $broker_id, waiting ${elapsed}s: $reason"
    last_log=$SECONDS
  fi
  if ((WAIT_TIMEOUT > 0 && elapsed >= WAIT_TIMEOUT)); then die "gave up after ${elapsed}s: $reason"; fi
  sleep "$WAIT_POLL"
done
