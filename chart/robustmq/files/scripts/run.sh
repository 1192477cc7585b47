#!/bin/bash
# Server entrypoint.
# 1. On a RESTART of the server container of a meta node that has not been a voter yet (a failed join makes the server
#    exit; init containers do not run again), repeat the wait of raft-wait.sh, so a retry never bootstraps a second
#    cluster or joins through a node that cannot take it.
# 2. Raise the open-file soft limit to the hard limit (upstream's bin/robust-server does this, but the image runs
#    libs/broker-server directly).
# 3. exec the server, so it receives SIGTERM itself.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CONFIG=${RMQ_CONFIG:-/robustmq/config/server.toml}
STATE_DIR=${RMQ_STATE_DIR:-/tmp} # an emptyDir: it survives container restarts, not pod restarts
if grep -q '^roles = .*"meta"' "$CONFIG" && [ -n "${RMQ_META_ADDRS:-}" ]; then
  if [ -f "$STATE_DIR/.robustmq-started" ]; then
    echo "robustmq: server container restarted" >&2
    RMQ_BROKER_ID=$(sed -n 's/^broker_id = \([0-9][0-9]*\)$/\1/p' "$CONFIG") bash "$here/raft-wait.sh" || exit 1
  fi
  touch "$STATE_DIR/.robustmq-started" 2>/dev/null || true
fi
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=1048576
ulimit -n "$hard" 2>/dev/null || echo "robustmq: could not raise the open-file limit to $hard" >&2
echo "robustmq: open-file limit $(ulimit -Sn)" >&2
exec "${RMQ_SERVER_BIN:-/robustmq/libs/broker-server}" --conf="$CONFIG" "$@"
