#!/bin/bash
# Shared helpers of the chart's scripts (sourced). Pure bash + coreutils + curl: the RobustMQ image has nothing else.

log() { printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# wait_child: waits for the background process $child and sets rc to its exit status (run.sh). A trap interrupts
# `wait`, which then returns 128+signal (143 for SIGTERM), not the child's status. When the child has exited and
# been reaped by the time the trap is done, one more `wait` returns the status bash kept for it; without it a server
# that stopped cleanly on SIGTERM ended its container with 143: once in the node suite's uninstall, and 2 stops in
# 100 in a hand run on a loaded host.
wait_child() {
  while :; do
    wait "$child"
    rc=$?
    kill -0 "$child" 2>/dev/null || break # a trap interrupted wait: wait for the child itself
  done
  wait "$child" 2>/dev/null
  local kept=$?
  # 127: bash no longer knows the child; outside 0-255: bash 5.2 reports -1 when the child got the signal itself at
  # the same moment. rc then stays the last wait's.
  ((kept == 127 || kept < 0 || kept > 255)) || rc=$kept
  child=''
}

# esc STRING: escape for a TOML basic string and a JSON string (the same escapes are valid in both):
# backslash, quote, and every control character (U+0000-U+001F, U+007F) as \b \t \n \f \r or \u00XX.
esc() {
  local s=$1 out='' c i code
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\t'/\\t}
  s=${s//$'\r'/\\r}
  s=${s//$'\b'/\\b}
  s=${s//$'\f'/\\f}
  if [[ $s == *[$'\x01'-$'\x1f'$'\x7f']* ]]; then
    local LC_ALL=C
    for ((i = 0; i < ${#s}; i++)); do
      c=${s:i:1}
      if [[ $c == [$'\x01'-$'\x1f'$'\x7f'] ]]; then
        printf -v code '%d' "'$c"
        printf -v c '\\u%04x' "$code"
      fi
      out+=$c
    done
    s=$out
  fi
  printf '%s' "$s"
}

# read_secret FILE: the file's content without trailing newlines; fails when missing or empty.
read_secret() {
  local f=$1 v
  [ -r "$f" ] || die "secret file $f is missing (is the auth Secret mounted and does it have this key?)"
  v=$(<"$f")
  [ -n "$v" ] || die "secret file $f is empty"
  printf '%s' "$v"
}

# raft_leaders JSON: the current_leader of every Raft shard in an openraft metrics map, one per line (number or null).
raft_leaders() { grep -oE '"current_leader"[[:space:]]*:[[:space:]]*(null|[0-9]+)' <<<"$1" | grep -oE '(null|[0-9]+)$' || true; }

# raft_configs JSON: the membership "configs" of every shard, one per line, e.g. [[1,2,3]] (joint: [[1,2],[1,2,3]]).
raft_configs() { grep -oE '"configs"[[:space:]]*:[[:space:]]*\[[][0-9,[:space:]]*\]' <<<"$1" | sed -E 's/^"configs"[[:space:]]*:[[:space:]]*//; s/[[:space:]]//g' || true; }

# raft_states JSON: the state of every shard (Leader, Follower, Candidate, Learner, Shutdown).
raft_states() { grep -oE '"state"[[:space:]]*:[[:space:]]*"[A-Za-z]+"' <<<"$1" | grep -oE '[A-Za-z]+"$' | tr -d '"' || true; }

# config_has_voter CONFIG ID: true when CONFIG is a single (non-joint) membership config that contains ID.
config_has_voter() {
  local cfg=$1 id=$2
  [[ $cfg == \[\[*\]\] && $cfg != *'],['* ]] || return 1
  [[ ,${cfg//[][]/}, == *",$id,"* ]]
}

# grpc_status HOST PORT: that node's OWN Raft metrics (MetaServiceService/ClusterStatus over gRPC-web, no login; tonic-web
# is enabled on grpc_port, src/broker-server/src/grpc.rs), printable characters only. Fails when the node does not answer.
grpc_status() {
  printf '\0\0\0\0\0' | curl -sS --max-time "${RMQ_GRPC_TIMEOUT_SECONDS:-3}" -X POST -H 'Content-Type: application/grpc-web+proto' -H 'X-Grpc-Web: 1' \
    --data-binary @- "http://$1:$2/meta.service.common.MetaServiceService/ClusterStatus" 2>&1 | tr -c '[:print:]' ' '
  return "${PIPESTATUS[1]}"
}

# Marker on the data volume: this node has been seen as a Raft voter with a leader (written by ready.sh). A restart of
# such a node never waits.
member_marker() { printf '%s/.robustmq-chart/raft-member' "${RMQ_DATA_DIR:-/robustmq/data}"; }

# raft_shards JSON: one line per shard of an openraft metrics map: "<shard> <state> <current_leader> <configs>".
# Shards are cut at their names (each metrics object starts with "running_state"), because the order of the shards
# differs from node to node (a HashMap in the server).
raft_shards() {
  local seg name state leader cfg
  sed -E 's/"([a-z]+_[0-9]+)"[[:space:]]*:[[:space:]]*\{[[:space:]]*"running_state"/\n\1 /g' <<<"$1" | tail -n +2 |
    while IFS= read -r seg; do
      name=${seg%% *}
      state=$(raft_states "$seg" | head -n 1)
      leader=$(raft_leaders "$seg" | head -n 1)
      cfg=$(raft_configs "$seg" | head -n 1)
      printf '%s %s %s %s\n' "$name" "${state:-?}" "${leader:-?}" "${cfg:-?}"
    done
}
