#!/bin/bash
# Init container of every RobustMQ pod: renders this pod's server.toml from the ConfigMap template and the Secret files,
# then, on a meta (Raft voter) node that has not been a voter yet, waits until joining the cluster is safe (raft-wait.sh).
#
# Inputs (environment; the defaults are the paths inside the pod, so the script also runs outside Kubernetes):
#   RMQ_ROLE             combined | meta | broker | engine                      (required)
#   RMQ_ID_BASE          broker_id of ordinal 0 of this role                     (required)
#   RMQ_META_REPLICAS    combined only: ordinals below this also run meta
#   RMQ_WITH_ENGINE      meta and broker: true when these pods also run the engine role
#   RMQ_HOST_SUFFIX      <headless service>.<namespace>.svc.<clusterDomain>      (required)
#   RMQ_META_ADDRS       "id=host:port ..." of every voter, in the server's iteration order   (required)
#   POD_NAME, POD_INDEX  pod name and the apps.kubernetes.io/pod-index label (the ordinal; falls back to the name suffix)
#   RMQ_TEMPLATE, RMQ_SECRETS_DIR, RMQ_OUT, RMQ_DATA_DIR, RMQ_ENGINE_DATA_DIR, RMQ_TLS_CERT, RMQ_TLS_KEY   paths
#   RMQ_HTTP_PORT, RMQ_ADMIN_USER, RMQ_FIRST_BOOT_WAIT (true | false), and the RMQ_WAIT_* settings of raft-wait.sh
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
POD_NAME=${POD_NAME:-$(hostname)}
POD_INDEX=${POD_INDEX:-}

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
  meta)
    is_meta=true roles='["meta"]'
    # RMQ_WITH_ENGINE: meta pods also run the engine role (chart value meta.withEngine; v0.4.11 needs an engine node
    # before a meta-only node can finish its start-up, src/broker-server/src/lib.rs init_inner_topics)
    if [ "${RMQ_WITH_ENGINE:-false}" = true ]; then is_engine=true roles='["meta", "engine"]'; fi
    ;;
  broker)
    roles='["broker"]'
    # RMQ_WITH_ENGINE (chart value broker.withEngine): v0.4.11 loads the storage cache only on engine nodes
    # (src/broker-server/src/server.rs) but every node waits for the inner-topic shards in it at start-up
    # (src/storage-engine/src/core/shard.rs create_shard_to_place), so a broker-only node exits
    if [ "${RMQ_WITH_ENGINE:-false}" = true ]; then is_engine=true roles='["broker", "engine"]'; fi
    ;;
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

# --- first boot of a meta node: wait until joining is safe ------------------------------------------------------------
$is_meta || exit 0
[ "${RMQ_FIRST_BOOT_WAIT:-true}" = true ] || { log "first-boot wait disabled"; exit 0; }
export RMQ_BROKER_ID=$broker_id RMQ_META_ADDRS=$META_ADDRS RMQ_DATA_DIR=$DATA_DIR RMQ_ADMIN_PASSWORD_FILE=$SECRETS_DIR/admin-password
exec bash "$here/raft-wait.sh"
