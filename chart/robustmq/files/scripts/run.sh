#!/bin/bash
# Server entrypoint: raise the open-file soft limit to the hard limit (upstream's bin/robust-server does this, but the
# image runs libs/broker-server directly), then exec the server so it receives SIGTERM itself.
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=1048576
ulimit -n "$hard" 2>/dev/null || echo "robustmq: could not raise the open-file limit to $hard" >&2
echo "robustmq: open-file limit $(ulimit -Sn)" >&2
exec "${RMQ_SERVER_BIN:-/robustmq/libs/broker-server}" --conf="${RMQ_CONFIG:-/robustmq/config/server.toml}" "$@"
