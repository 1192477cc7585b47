#!/bin/bash
# Prints this node's own Raft view (runbooks: kubectl exec <pod> -c robustmq -- bash /robustmq/chart/scripts/status.sh):
# one line per shard with its state, leader, term and voters, read from the local gRPC port like ready.sh.
# Every meta pod of one healthy cluster shows the same voters and, per shard, the same leader.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
CONFIG=${RMQ_CONFIG:-/robustmq/config/server.toml}
GRPC_PORT=${RMQ_GRPC_PORT:-1228}
HOST=${RMQ_READY_HOST:-127.0.0.1}
broker_id=$(sed -n 's/^broker_id = \([0-9][0-9]*\)$/\1/p' "$CONFIG")
status=$(grpc_status "$HOST" "$GRPC_PORT") ||
  { echo "broker_id=$broker_id: ClusterStatus failed: $status"; exit 1; }
mapfile -t names < <(grep -oE '"[a-z]+_[0-9]+"[[:space:]]*:[[:space:]]*\{"running_state"' <<<"$status" | cut -d'"' -f2)
mapfile -t leaders < <(raft_leaders "$status")
mapfile -t configs < <(raft_configs "$status")
mapfile -t states < <(raft_states "$status")
mapfile -t terms < <(grep -oE '"current_term"[[:space:]]*:[[:space:]]*[0-9]+' <<<"$status" | grep -oE '[0-9]+$')
((${#leaders[@]} > 0)) || { echo "broker_id=$broker_id: no Raft shard (${status:0:200})"; exit 1; }
for i in "${!leaders[@]}"; do
  echo "broker_id=$broker_id shard=${names[$i]:-?} state=${states[$i]:-?} leader=${leaders[$i]} term=${terms[$i]:-?} voters=${configs[$i]:-?}"
done
