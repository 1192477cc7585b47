#!/bin/bash
# Readiness of a server container. Meta nodes: this node's OWN Raft view, read from its gRPC port on loopback
# (MetaServiceService/ClusterStatus over gRPC-web; tonic-web is enabled on grpc_port, src/broker-server/src/grpc.rs):
# this node is a voter; after each server start, every shard has a leader that confirms it leads (below). Not
# /api/info: in v0.4.11 it is answered by the first reachable entry of meta_addrs (grpc-clients retry_call starts at
# index 0), i.e. by node 1, not this pod.
# Broker nodes: the MQTT TCP port, which opens only after the meta quorum answered. Never /api/health/ready: it
# TCP-connects to the UDP QUIC port and so fails on every broker (src/common/healthy/src/ready.rs).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
CONFIG=${RMQ_CONFIG:-/robustmq/config/server.toml}
GRPC_PORT=${RMQ_GRPC_PORT:-1228}
MQTT_PORT=${RMQ_MQTT_PORT:-}
HOST=${RMQ_READY_HOST:-127.0.0.1}
STATE_DIR=${RMQ_STATE_DIR:-/tmp} # an emptyDir: survives container restarts, not pod restarts
# The probe's timeoutSeconds (rendered from probes.readiness.timeoutSeconds). The gRPC calls below get whatever of it
# is left, less 2 s for bash and the kubelet's exec and 2 s for the MQTT check: on v0.4.11 a healthy node's own
# ClusterStatus took more than 3 s while a peer was restarting (docs/real-server-run.md), and a fixed 3 s limit then
# turned a Ready leader not-Ready in the middle of a rolling restart.
PROBE_TIMEOUT=${RMQ_READY_TIMEOUT_SECONDS:-20}
# now_ms: the clock in milliseconds, into $now. Not $SECONDS: it counts whole seconds, and a second boundary between
# two reads took a whole second off a call's budget. (bash before 5.0 has no EPOCHREALTIME: whole seconds there.)
now_ms() {
  if [ -n "${EPOCHREALTIME:-}" ]; then
    now=${EPOCHREALTIME//[.,]/}
    now=$((10#$now / 1000))
  else
    now=$((SECONDS * 1000))
  fi
}
now_ms
deadline=$((now + (PROBE_TIMEOUT - 2) * 1000))
reserve=0
[ -z "$MQTT_PORT" ] || reserve=2000

fail() { echo "not ready: $*"; exit 1; }
# time_left WHAT: seconds a call may take (curl's --max-time, to the millisecond), at least 1; fails the probe when
# nothing is left of the budget.
time_left() {
  now_ms
  local left=$((deadline - now - reserve))
  ((left >= 1000)) || fail "no time left for $1 within the probe's ${PROBE_TIMEOUT}s (probes.readiness.timeoutSeconds)"
  limit=$((left / 1000)).$(printf '%03d' $((left % 1000)))
}
broker_id=$(sed -n 's/^broker_id = \([0-9][0-9]*\)$/\1/p' "$CONFIG")
roles=$(sed -n 's/^roles = //p' "$CONFIG")
[ -n "$broker_id" ] || fail "no broker_id in $CONFIG"

if [[ $roles == *'"meta"'* ]]; then
  time_left "ClusterStatus on $HOST:$GRPC_PORT"
  status=$(RMQ_GRPC_TIMEOUT_SECONDS=$limit grpc_status "$HOST" "$GRPC_PORT") ||
    fail "ClusterStatus on $HOST:$GRPC_PORT: $status"
  mapfile -t leaders < <(raft_leaders "$status")
  mapfile -t configs < <(raft_configs "$status")
  mapfile -t states < <(raft_states "$status")
  ((${#leaders[@]} > 0)) || fail "no Raft shard in ClusterStatus: ${status:0:200}"
  confirmed="$STATE_DIR/.robustmq-leader-confirmed"
  if [ -f "$confirmed" ]; then
    # Confirmed for this server start: readiness is about this pod alone. An election (Candidate, no leader) is the
    # cluster's state, not this pod's. Failing it turned the survivors not-Ready whenever an election outlasted three
    # probes, e.g. while cached DNS answers (30 s) hid a restarted peer from the candidate, and a rolling restart then
    # counted two voters down. The next voter is still restarted only after the restarted one has confirmed a leader,
    # and `robustmq-install status` reports the election.
    for s in "${states[@]}"; do [[ $s == Leader || $s == Follower || $s == Candidate ]] || fail "a shard is $s (states: ${states[*]})"; done
  else
    for l in "${leaders[@]}"; do [ "$l" != null ] || fail "a shard has no leader (leaders: ${leaders[*]})"; done
    for s in "${states[@]}"; do [[ $s == Leader || $s == Follower ]] || fail "a shard is $s (states: ${states[*]})"; done
  fi
  ((${#states[@]} == ${#leaders[@]} && ${#configs[@]} == ${#leaders[@]})) || fail "incomplete Raft metrics"
  for c in "${configs[@]}"; do config_has_voter "$c" "$broker_id" || fail "broker_id $broker_id is not a voter of $c"; done
  # A server that has just (re)started is Ready only once every leader it names has answered, from its own Raft view,
  # that it leads: after a leader dies the survivors keep naming it (same term) for 25-55 s (hand run of v0.4.11),
  # and a rolling restart that counted such a pod Ready would take a second voter down before the first had rejoined.
  # Confirmed once per server start (run.sh clears the flag): after that readiness is about this pod alone, so an
  # election never turns every meta pod not-Ready at once (no endpoints, a PDB that allows nothing).
  if [ ! -f "$confirmed" ]; then
    declare -A views=()
    mapfile -t own < <(raft_shards "$status")
    for line in "${own[@]}"; do
      read -r name state leader _ <<<"$line"
      if [ "$leader" = "$broker_id" ]; then
        [ "$state" = Leader ] || fail "this node names itself leader of $name but is $state (stale view after a restart)"
        continue
      fi
      if [ -z "${views[$leader]:-}" ]; then
        addr=''
        for pair in ${RMQ_META_ADDRS:-}; do [ "${pair%%=*}" = "$leader" ] && addr=${pair#*=}; done
        [ -n "$addr" ] || fail "leader $leader of $name is not in RMQ_META_ADDRS"
        time_left "leader $leader ($addr)"
        views[$leader]=$(RMQ_GRPC_TIMEOUT_SECONDS=$limit grpc_status "${addr%:*}" "${addr##*:}") || fail "leader $leader ($addr) does not answer: waiting for it or for an election"
      fi
      lstate=$(raft_shards "${views[$leader]}" | while read -r n st _; do [ "$n" = "$name" ] && echo "$st"; done)
      [ "$lstate" = Leader ] || fail "node $leader does not confirm it leads $name (its state: ${lstate:-unknown}): waiting for an election"
    done
    : >"$confirmed" 2>/dev/null || true
  fi
  # remember that this node has been a voter, so that a restart never waits (init-config.sh, run.sh)
  marker=$(member_marker)
  [ -f "$marker" ] || { mkdir -p "$(dirname "$marker")" && printf '%s\n' "$broker_id" >"$marker"; } 2>/dev/null || true
fi
if [ -n "$MQTT_PORT" ]; then
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$HOST" "$MQTT_PORT" 2>/dev/null || fail "MQTT port $MQTT_PORT closed"
fi
exit 0
