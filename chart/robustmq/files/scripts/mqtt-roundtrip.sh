#!/bin/bash
# helm test: an MQTT publish/subscribe round trip through the client Service with the image's own cli-command.
# Uses the MQTT superuser from the auth Secret; the password there applies only at the FIRST start of the cluster.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
HOST=${RMQ_MQTT_HOST:?RMQ_MQTT_HOST is required}
PORT=${RMQ_MQTT_PORT:-1883}
USER_NAME=${RMQ_MQTT_USER:-admin}
TIMEOUT=${RMQ_TEST_TIMEOUT_SECONDS:-120}
CLI=${RMQ_CLI:-/robustmq/libs/cli-command}
WORKDIR=${RMQ_WORKDIR:-/tmp}
password=$(read_secret "${RMQ_SECRETS_DIR:-/robustmq/chart/secrets}/mqtt-password")
cd "$WORKDIR"
topic="robustmq-helm-test/$(hostname)-$$-$RANDOM"
message="roundtrip-$$-$RANDOM-$(date +%s)"

subscribe() {
  "$CLI" mqtt --server "$HOST:$PORT" subscribe --username "$USER_NAME" --password "$password" --topic "$topic" --qos 1 >sub.log 2>&1 &
  sub=$!
}
subscribe
trap 'kill "$sub" 2>/dev/null || true' EXIT
deadline=$((SECONDS + TIMEOUT))
until grep -q 'subscribe success' sub.log; do
  ((SECONDS < deadline)) || { cat sub.log >&2; die "subscriber not subscribed after ${TIMEOUT}s"; }
  if ! kill -0 "$sub" 2>/dev/null; then
    # Right after the pods turn Ready the Service may not route yet (EndpointSlice and kube-proxy follow the
    # readiness by a second or so): a connection nothing accepted (v0.4.11's cli-command: "Unable to connect:
    # TcpTlsConnectFailure") is tried again. Anything else, a refused login included, is an answer.
    grep -q 'Unable to connect: TcpTlsConnectFailure' sub.log || { cat sub.log >&2; die "subscriber exited before subscribing"; }
    log "subscriber could not connect to $HOST:$PORT yet (TcpTlsConnectFailure); trying again"
    sleep 1
    subscribe
    continue
  fi
  sleep 1
done
log "subscribed to $topic on $HOST:$PORT"
if ! printf '%s\n' "$message" | "$CLI" mqtt --server "$HOST:$PORT" publish --username "$USER_NAME" --password "$password" --topic "$topic" --qos 1 >pub.log 2>&1; then
  cat pub.log >&2
  die "publish failed"
fi
log "published $message"
until grep -qF "payload: $message" sub.log; do
  kill -0 "$sub" 2>/dev/null || { cat sub.log >&2; die "subscriber exited before the message arrived"; }
  ((SECONDS < deadline)) || { cat sub.log >&2; die "message not received within ${TIMEOUT}s"; }
  sleep 1
done
log "round trip OK: received $message on $topic"
