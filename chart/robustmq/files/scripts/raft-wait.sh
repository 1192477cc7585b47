#!/bin/bash
# Waits until it is safe for this meta (Raft voter) node to start, when it has not been a voter yet. Called by
# init-config.sh (first start of the pod, with the admin Secret) and by run.sh (a restart of the server container, where
# init containers do not run again; without the Secret).
#
# Why (RobustMQ v0.4.11, src/meta-service/src/raft/manager.rs start()): a node with Raft state recovers; a fresh node
# joins through the FIRST reachable other entry of meta_addrs and bootstraps a single-node cluster when none is
# reachable. gRPC opens before that decision, so an open port proves nothing. The join (JoinCluster -> add_learner +
# change_membership on every shard, src/meta-service/src/raft/services.rs) makes the process exit when the peer is not
# initialised; a follower redirects it to the leader of the shard that refused it (grpc-clients retry_call), so one node
# must lead every shard. Right after a restart a node still names its last leader (persisted vote), so the leader must
# confirm it leads. Hence this node starts when, seen through its join target: every shard has the same leader L, L is
# not this node and L's own Raft view says it leads every shard, the join target is a voter, and every voter before this
# one has joined (one join at a time). With the admin Secret the target's view comes from a login and /api/info (the
# admin API); without it from the target's own gRPC ClusterStatus. Only the first voter may find nobody and bootstrap,
# and only after nobody answered for RMQ_BOOTSTRAP_GRACE_SECONDS: at a cold restart where meta-0 lost its volume the
# other voters (which have data and do not wait) open their gRPC port within seconds, and meta-0 joins them instead of
# founding a second cluster.
#
# Environment: RMQ_BROKER_ID, RMQ_META_ADDRS ("id=host:port ..." in the server's order), RMQ_DATA_DIR (/robustmq/data),
# RMQ_HTTP_PORT (58080), RMQ_ADMIN_USER (admin), RMQ_ADMIN_PASSWORD_FILE (optional), RMQ_WAIT_POLL_SECONDS (2),
# RMQ_WAIT_LOG_SECONDS (10), RMQ_WAIT_TIMEOUT_SECONDS (0 = forever), RMQ_BOOTSTRAP_GRACE_SECONDS (30).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
broker_id=${RMQ_BROKER_ID:?RMQ_BROKER_ID is required}
META_ADDRS=${RMQ_META_ADDRS:?RMQ_META_ADDRS is required}
DATA_DIR=${RMQ_DATA_DIR:-/robustmq/data}
HTTP_PORT=${RMQ_HTTP_PORT:-58080}
ADMIN_USER=${RMQ_ADMIN_USER:-admin}
PASSWORD_FILE=${RMQ_ADMIN_PASSWORD_FILE:-}
WAIT_POLL=${RMQ_WAIT_POLL_SECONDS:-2}
WAIT_LOG=${RMQ_WAIT_LOG_SECONDS:-10}
WAIT_TIMEOUT=${RMQ_WAIT_TIMEOUT_SECONDS:-0}
BOOTSTRAP_GRACE=${RMQ_BOOTSTRAP_GRACE_SECONDS:-30}
export RMQ_DATA_DIR=$DATA_DIR

if [ -f "$(member_marker)" ]; then
  log "broker_id $broker_id has been a Raft voter ($(member_marker)): restart, no wait"
  exit 0
fi
if [ -n "$(ls -A "$DATA_DIR/_rocksdb" 2>/dev/null)" ]; then
  log "broker_id $broker_id has data but was never seen as a voter: checking the cluster before starting"
fi
admin_password=''
[ -z "$PASSWORD_FILE" ] || admin_password=$(read_secret "$PASSWORD_FILE")

meta_ids=() meta_hosts=() self_pos=-1
for pair in $META_ADDRS; do
  [ "${pair%%=*}" = "$broker_id" ] && self_pos=${#meta_ids[@]}
  meta_ids+=("${pair%%=*}")
  meta_hosts+=("${pair#*=}")
done
((self_pos >= 0)) || die "broker_id $broker_id is not in RMQ_META_ADDRS ($META_ADDRS)"
addr_of() { local i; for i in "${!meta_ids[@]}"; do [ "${meta_ids[$i]}" = "$1" ] && { printf '%s' "${meta_hosts[$i]}"; return 0; }; done; return 1; }

reachable() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null; }

# cluster_view HOST PORT: the cluster's Raft metrics as seen through the join target. Sets $info or $reason.
cluster_view() {
  local host=$1 port=$2 body resp token
  if [ -z "$admin_password" ]; then
    info=$(grpc_status "$host" "$port") || { reason="ClusterStatus on $host:$port failed: $info"; return 1; }
    return 0
  fi
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


# join_verdict: prints why this node must wait and fails, or prints what it found and succeeds. Uses $info (the cluster
# as seen through the join target).
join_verdict() {
  local shards=() line name state leader cfg missing='' target_voter=true self_member=true l lview lines st i
  mapfile -t shards < <(raft_shards "$info")
  ((${#shards[@]} > 0)) || { echo "no Raft metrics through $target_host yet: ${info:0:200}"; return 1; }
  declare -A lead=()
  for line in "${shards[@]}"; do
    read -r name state leader cfg <<<"$line"
    [[ $leader =~ ^[0-9]+$ ]] || { echo "shard $name has no leader (election running)"; return 1; }
    [ "$leader" != "$broker_id" ] || { echo "the cluster still names this node ($broker_id) as leader of $name: stale view after a restart, waiting for an election"; return 1; }
    lead[$name]=$leader
    config_has_voter "$cfg" "$target_id" || target_voter=false
    config_has_voter "$cfg" "$broker_id" || self_member=false
    for ((i = 0; i < self_pos; i++)); do config_has_voter "$cfg" "${meta_ids[$i]}" || [[ $missing == *" ${meta_ids[$i]}"* ]] || missing+=" ${meta_ids[$i]}"; done
  done
  local leaders=("${lead[@]}")
  local distinct
  distinct=$(printf '%s\n' "${leaders[@]}" | sort -u | paste -sd ' ')
  if ! $self_member; then
    # a new member joins every shard through one JoinCluster call: one node must lead them all
    [ "$(wc -w <<<"$distinct")" = 1 ] || { echo "the shards do not share one leader (leaders: $distinct); a join would be refused by some shard"; return 1; }
    $target_voter || { echo "join target $target_host (broker_id $target_id) is not a voter yet"; return 1; }
    [ -z "$missing" ] || { echo "waiting for the voters before this one to join (missing:$missing)"; return 1; }
  fi
  # every named leader must confirm, from its own Raft view, that it leads the shards it is named for
  for l in $distinct; do
    local addr
    addr=$(addr_of "$l") || { echo "leader $l is not in meta_addrs"; return 1; }
    lview=$(grpc_status "${addr%:*}" "${addr##*:}") || { echo "leader $l ($addr) does not answer: $lview"; return 1; }
    mapfile -t lines < <(raft_shards "$lview")
    for name in "${!lead[@]}"; do
      [ "${lead[$name]}" = "$l" ] || continue
      st=''
      for line in "${lines[@]}"; do [ "${line%% *}" = "$name" ] && { read -r _ st _ _ <<<"$line"; }; done
      [ "$st" = Leader ] || { echo "node $l does not confirm it leads $name (its state: ${st:-unknown}); waiting for an election"; return 1; }
    done
  done
  if $self_member; then
    echo "broker_id $broker_id is already a voter of every shard (it lost its data): leaders ${distinct} confirmed; starting, the leaders re-replicate to it"
  else
    echo "cluster ready: leader ${distinct}, every voter before this one joined; starting, the server joins through $target_host (broker_id $target_id)"
  fi
}

waited_since=$SECONDS
alone_since=$SECONDS
last_log=-9999
while :; do
  reason='' target_id='' target_host='' target_port=''
  for i in "${!meta_ids[@]}"; do
    [ "$i" = "$self_pos" ] && continue
    addr=${meta_hosts[$i]}
    if reachable "${addr%:*}" "${addr##*:}"; then
      target_id=${meta_ids[$i]} target_host=${addr%:*} target_port=${addr##*:}
      break
    fi
  done
  [ -n "$target_id" ] && alone_since=$SECONDS
  if [ -z "$target_id" ]; then
    if [ "$self_pos" = 0 ]; then
      if ((SECONDS - alone_since >= BOOTSTRAP_GRACE)); then
        log "no other voter answered for ${BOOTSTRAP_GRACE}s and this is the first voter (broker_id $broker_id): the server bootstraps the cluster (or recovers its own Raft state)"
        exit 0
      fi
      reason="no other voter reachable; this first voter bootstraps a new cluster if none answers within ${BOOTSTRAP_GRACE}s"
    else
      reason="no other voter reachable yet; waiting for ${meta_hosts[0]%:*} (broker_id ${meta_ids[0]}) to bootstrap"
    fi
  elif cluster_view "$target_host" "$target_port"; then
    reason=$(join_verdict) && {
      log "$reason"
      exit 0
    }
  fi
  elapsed=$((SECONDS - waited_since))
  if ((SECONDS - last_log >= WAIT_LOG)); then
    log "broker_id $broker_id, not a voter yet, waiting ${elapsed}s: $reason"
    last_log=$SECONDS
  fi
  if ((WAIT_TIMEOUT > 0 && elapsed >= WAIT_TIMEOUT)); then die "gave up after ${elapsed}s: $reason"; fi
  sleep "$WAIT_POLL"
done
