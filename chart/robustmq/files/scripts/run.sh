#!/bin/bash
# Server entrypoint (the server container's command).
# - Raises the open-file soft limit to the hard limit (upstream's bin/robust-server does this, but the image runs
#   libs/broker-server directly).
# - Supervises start-up: RobustMQ v0.4.11 exits with 1 when a start-up step fails, e.g. a meta-only node before any
#   engine node has registered ("CreateSegment, There are not enough nodes available", src/broker-server/src/lib.rs
#   init_inner_topics), and the engine can only register while a meta node is up. Leaving those restarts to the
#   kubelet's growing back-off makes the two rarely overlap, so a server that fails within RMQ_STARTUP_SECONDS (120) is
#   restarted here after RMQ_STARTUP_RETRY_DELAY_SECONDS (3), up to RMQ_STARTUP_RETRIES (30) times. Any other exit ends the container.
# - Before every start of a meta node that has not been a voter yet (no marker from ready.sh) other than the first one
#   (the init container did that), repeats the wait of raft-wait.sh, so a retry never bootstraps a second cluster or
#   joins through a node that cannot take it. SIGTERM ends that wait at once.
# - Forwards SIGTERM/SIGINT to the server and exits with its status.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CONFIG=${RMQ_CONFIG:-/robustmq/config/server.toml}
BIN=${RMQ_SERVER_BIN:-/robustmq/libs/broker-server}
STATE_DIR=${RMQ_STATE_DIR:-/tmp} # an emptyDir: survives container restarts, not pod restarts
STARTUP_SECONDS=${RMQ_STARTUP_SECONDS:-120}
STARTUP_RETRIES=${RMQ_STARTUP_RETRIES:-30}
RETRY_DELAY=${RMQ_STARTUP_RETRY_DELAY_SECONDS:-3}
say() { echo "robustmq: $*" >&2; }

hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=1048576
ulimit -n "$hard" 2>/dev/null || say "could not raise the open-file limit to $hard"
say "open-file limit $(ulimit -Sn)"

is_meta=false
grep -q '^roles = .*"meta"' "$CONFIG" && [ -n "${RMQ_META_ADDRS:-}" ] && is_meta=true
broker_id=$(sed -n 's/^broker_id = \([0-9][0-9]*\)$/\1/p' "$CONFIG")

# shellcheck source=lib.sh
source "$here/lib.sh"

child=''
stopping=''
trap 'stopping=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM INT

# Runs a command in the background and waits for it, so that SIGTERM is handled at once: bash runs a trap only
# after a foreground child exits, and the wait below may last until the pod's grace period ends in a SIGKILL.
run_interruptibly() {
  "$@" &
  child=$!
  local rc
  wait_child
  return "$rc"
}

attempt=0
while :; do
  if $is_meta; then
    if [ -f "$STATE_DIR/.robustmq-started" ] && [ ! -f "$(member_marker)" ]; then
      say "starting again before broker_id $broker_id was seen as a voter: checking the cluster first"
      # the peers had the init container's full grace period already: a short one is enough here
      RMQ_BROKER_ID=$broker_id RMQ_BOOTSTRAP_GRACE_SECONDS=${RMQ_RESTART_BOOTSTRAP_GRACE_SECONDS:-3} run_interruptibly bash "$here/raft-wait.sh"
      rc=$?
      [ -n "$stopping" ] && exit 143
      ((rc == 0)) || exit 1
    fi
    touch "$STATE_DIR/.robustmq-started" 2>/dev/null || true
  fi
  [ -n "$stopping" ] && exit 143
  started=$SECONDS
  # a new server start must hear from its leader again before it is Ready (ready.sh)
  rm -f "$STATE_DIR/.robustmq-leader-confirmed"
  "$BIN" --conf="$CONFIG" "$@" &
  child=$!
  wait_child
  [ -n "$stopping" ] && exit "$rc"
  lived=$((SECONDS - started))
  if ((rc != 0 && lived < STARTUP_SECONDS && attempt < STARTUP_RETRIES)); then
    attempt=$((attempt + 1))
    say "server exited with $rc after ${lived}s, during start-up; restarting in ${RETRY_DELAY}s (attempt $attempt of $STARTUP_RETRIES)"
    run_interruptibly sleep "$RETRY_DELAY"
    [ -n "$stopping" ] && exit 143
    continue
  fi
  say "server exited with $rc after ${lived}s"
  exit "$rc"
done
