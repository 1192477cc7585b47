#!/bin/bash
# Runs three combined RobustMQ stand-ins as plain host processes, each started by the chart's own scripts exactly as a
# pod would (init-config.sh with the first-boot wait, then run.sh), on loopback only, and drives the chart's
# ready.sh, status.sh and mqtt-roundtrip.sh against them; then kills the leader and prints what the survivors report
# through the stale-leader window until the new leader, and restarts the dead node. Everything it starts is stopped
# on exit. A demonstration and a smoke check of the stand-in, not part of any test suite.
#
# Each node has its own loopback address (127.0.0.11-13) and the chart's default ports, like pods with their own IPs:
# raft-wait.sh logs in to every voter on the same http_port, so distinct ports on one address would not be what the
# chart assumes. Environment: HELM (default: the newest helm under the tool cache), STANDIN_STALE_LEADER_MS (30000).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${ROBUSTMQ_INSTALL_CACHE:-$HOME/.cache/robustmq-install}
HELM=${HELM:-$(ls -d "$cache"/helm/*/helm 2>/dev/null | sort -V | tail -n 1)}
[ -x "$HELM" ] || { echo "no helm: run scripts/setup.sh or set HELM" >&2; exit 1; }
scripts=$repo/chart/robustmq/files/scripts
say() { printf '\n=== %s\n' "$*"; }

while IFS='=' read -r k v; do
  case $k in broker-server) BROKER=$v ;; cli-command) CLI=$v ;; esac
done < <(bash "$here/build.sh")

work=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 -- "-$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$p" 2>/dev/null || true
  done
  [ -n "${STANDIN_KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT

# --- the chart's config and secrets -------------------------------------------------------------------------------
"$HELM" template rmq "$repo/chart/robustmq" --namespace default --set topology=combined --set combined.replicaCount=3 \
  --set combined.metaReplicas=3 --show-only templates/configmap.yaml >"$work/configmap.yaml"
awk '/^  server.toml.tmpl: \|/{on=1; next} on && /^  [^ ]/{on=0} on{sub(/^    /, ""); print}' "$work/configmap.yaml" >"$work/server.toml.tmpl"
grep -q '@@BROKER_ID@@' "$work/server.toml.tmpl" || { echo "could not extract server.toml.tmpl" >&2; exit 1; }
mkdir -p "$work/secrets" "$work/tls"
for k in admin-password admin-jwt-secret mqtt-password; do head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$work/secrets/$k"; done
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=robustmq-standin-test-ca' -keyout "$work/tls/ca.key" -out "$work/tls/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj '/CN=rmq-robustmq' -keyout "$work/tls/tls.key" -out "$work/tls/tls.csr" 2>/dev/null
openssl x509 -req -in "$work/tls/tls.csr" -CA "$work/tls/ca.crt" -CAkey "$work/tls/ca.key" -CAcreateserial -days 2 \
  -extfile <(printf 'subjectAltName=IP:127.0.0.11,IP:127.0.0.12,IP:127.0.0.13,DNS:localhost') -out "$work/tls/tls.crt" 2>/dev/null

ip() { echo "127.0.0.1$1"; }
META="1=$(ip 1):1228 2=$(ip 2):1228 3=$(ip 3):1228"
META_TOML="{ \"1\" = \"$(ip 1):1228\", \"2\" = \"$(ip 2):1228\", \"3\" = \"$(ip 3):1228\" }"

# start_pod K [init]: the pod of broker_id K: the init container (first boot only), then the server container (run.sh)
start_pod() {
  local k=$1 init=${2:-} d=$work/n$1
  mkdir -p "$d/data" "$d/state" "$d/rendered"
  (
    export POD_NAME=rmq-robustmq-$((k - 1)) POD_INDEX=$((k - 1))
    export RMQ_DATA_DIR=$d/data RMQ_META_ADDRS=$META
    if [ -n "$init" ]; then
      RMQ_ROLE=combined RMQ_ID_BASE=1 RMQ_META_REPLICAS=3 RMQ_WITH_ENGINE=true RMQ_HOST_SUFFIX=rmq-robustmq-headless.default.svc.cluster.local \
        RMQ_HTTP_PORT=58080 RMQ_ADMIN_USER=admin RMQ_TEMPLATE=$work/server.toml.tmpl RMQ_SECRETS_DIR=$work/secrets \
        RMQ_OUT=$d/rendered/server.toml RMQ_ENGINE_DATA_DIR=$d/data/engine RMQ_TLS_CERT=$work/tls/tls.crt RMQ_TLS_KEY=$work/tls/tls.key \
        RMQ_WAIT_POLL_SECONDS=1 RMQ_BOOTSTRAP_GRACE_SECONDS=5 bash "$scripts/init-config.sh" || exit 1
    fi
    # what differs from a pod: no per-pod DNS and no /robustmq paths, through v0.4.11's own ROBUST_MQ_SERVER_* overrides
    export ROBUST_MQ_SERVER_BROKER_IP="\"$(ip "$k")\"" ROBUST_MQ_SERVER_META_ADDRS="$META_TOML" \
      ROBUST_MQ_SERVER_DATA_PATH="\"$d/data\"" ROBUST_MQ_SERVER_BROKER_NETWORK_TLS_CERT="\"$work/tls/tls.crt\"" \
      ROBUST_MQ_SERVER_BROKER_NETWORK_TLS_KEY="\"$work/tls/tls.key\"" STANDIN_BIND=$(ip "$k")
    RMQ_CONFIG=$d/rendered/server.toml RMQ_SERVER_BIN=$BROKER RMQ_STATE_DIR=$d/state RMQ_GRPC_PORT=1228 RMQ_MQTT_PORT=1883 \
      exec bash "$scripts/run.sh"
  ) >>"$d/pod.log" 2>&1 &
  pids[k]=$!
}
ready() { [ -f "$work/n$1/rendered/server.toml" ] || { echo "not rendered yet"; return 1; }; RMQ_CONFIG=$work/n$1/rendered/server.toml RMQ_DATA_DIR=$work/n$1/data RMQ_READY_HOST=$(ip "$1") RMQ_GRPC_PORT=1228 RMQ_MQTT_PORT=1883 bash "$scripts/ready.sh"; }
status() { RMQ_CONFIG=$work/n$1/rendered/server.toml RMQ_READY_HOST=$(ip "$1") RMQ_GRPC_PORT=1228 bash "$scripts/status.sh"; }
wait_ready() {
  local k t0=$SECONDS
  for k in "$@"; do
    until out=$(ready "$k"); do
      ((SECONDS - t0 < 180)) || { echo "node $k not ready after 180s: $out" >&2; tail -n 30 "$work/n$k/pod.log" >&2; exit 1; }
      sleep 1
    done
    echo "node $k ready after $((SECONDS - t0))s"
  done
}

say "first boot: three pods started together (init-config.sh + raft-wait.sh, then run.sh)"
set +m
for k in 1 2 3; do set -m; start_pod "$k" init; set +m; done
wait_ready 1 2 3
for k in 1 2 3; do status "$k"; done

say "the CLI's RobustMQ check: GET /api/info on loopback from every meta node, judged by src/core/robustmq-check.ts"
for k in 1 2 3; do curl -sS --max-time 5 "http://$(ip "$k"):58080/api/info" >"$work/info-$k.json"; done
(cd "$repo" && npx --no-install tsx -e "
import { readFileSync } from 'node:fs';
import { checkCluster, describeLeaders } from './src/core/robustmq-check.ts';
const answers = [1, 2, 3].map((k) => ({ pod: 'rmq-robustmq-' + (k - 1), body: readFileSync('$work/info-' + k + '.json', 'utf8') }));
const r = checkCluster({ answers, expectedNodes: 3, expectedVoters: 3 });
console.log(r.status, r.problems.join('; '));
console.log(describeLeaders(r).join('\n'));
")

say "login as raft-wait.sh does (127.0.0.0/8 is loopback, so the token is not needed here; the Go tests cover the 401s)"
body=$(printf '{"username":"admin","password":"%s"}' "$(cat "$work/secrets/admin-password")")
tok=$(curl -sS -H 'Content-Type: application/json' --data-binary "$body" "http://$(ip 1):58080/api/v1/login" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
info=$(curl -sS -H "Authorization: Bearer $tok" "http://$(ip 1):58080/api/info")
echo "token of ${#tok} characters; /api/info with it: ${info:0:160}..."

say "helm test: mqtt-roundtrip.sh with the stand-in cli-command, on each node"
for k in 1 2 3; do
  mkdir -p "$work/rt$k"
  RMQ_MQTT_HOST=$(ip "$k") RMQ_MQTT_PORT=1883 RMQ_CLI=$CLI RMQ_WORKDIR=$work/rt$k RMQ_SECRETS_DIR=$work/secrets RMQ_TEST_TIMEOUT_SECONDS=30 \
    bash "$scripts/mqtt-roundtrip.sh"
done

say "across nodes: subscribe on node 2, publish on node 3; a wrong password is refused; TLS with the chart's CA"
pw=$(cat "$work/secrets/mqtt-password")
: >"$work/cross.log"
"$CLI" mqtt --server "$(ip 2):1883" subscribe --username admin --password "$pw" --topic x/cross --qos 1 >"$work/cross.log" 2>&1 &
subpid=$!
until grep -q 'subscribe success' "$work/cross.log"; do sleep 0.2; done
echo "hello-across" | "$CLI" mqtt --server "$(ip 3):1883" publish --username admin --password "$pw" --topic x/cross --qos 1 >/dev/null
for _ in $(seq 50); do grep -q 'payload: hello-across' "$work/cross.log" && break; sleep 0.2; done
grep 'payload:' "$work/cross.log"
kill "$subpid"
"$CLI" mqtt --server "$(ip 1):1883" subscribe --username admin --password wrong --topic x --qos 1 2>&1 | grep -i 'unable' || true
echo | openssl s_client -connect "$(ip 1):1885" -CAfile "$work/tls/ca.crt" -verify_return_error 2>/dev/null | grep -E 'Verify return code'
echo "retained" | "$CLI" mqtt --server "$(ip 1):1883" publish --username admin --password "$pw" --topic x/retained --qos 1 --retained | grep retained

leader=$(status 1 | sed -n 's/.*shard=metadata_0 .* leader=\([0-9]*\) .*/\1/p')
say "kill -9 of the leader's pod (broker_id $leader); the survivors' own view every 3 s"
kill -KILL -- "-${pids[$leader]}"
t0=$SECONDS
survivor=$((leader == 1 ? 2 : 1))
sub_tried=''
while :; do
  line=''
  for k in 1 2 3; do
    [ "$k" = "$leader" ] && continue
    s=$(status "$k" | grep 'shard=metadata_0' | sed 's/ voters=.*//')
    r=$(ready "$k" >/dev/null && echo ready || echo not-ready)
    line+="  [$s $r]"
  done
  echo "t+$((SECONDS - t0))s$line"
  new=$(status $((leader == 1 ? 2 : 1)) | sed -n 's/.*shard=metadata_0 state=\([A-Za-z]*\) leader=\([0-9]*\) .*/\1 \2/p')
  [[ $new =~ ^(Leader|Follower)\ ([0-9]+)$ && ${BASH_REMATCH[2]} != "$leader" ]] && break
  ((SECONDS - t0 < 120)) || { echo "no new leader after 120s" >&2; exit 1; }
  if [ -z "$sub_tried" ] && ((SECONDS - t0 >= 6)); then
    sub_tried=1
    echo "  a subscription on node $survivor during the window:"
    timeout 10 "$CLI" mqtt --server "$(ip "$survivor"):1883" subscribe --username admin --password "$pw" --topic x/window --qos 1 2>&1 |
      grep -E 'subscribe success|panicked|subscribe_many' | sed 's/^/    /' || true
  fi
  sleep 3
done
echo "after the election, the helm test round trip on node $survivor:"
RMQ_MQTT_HOST=$(ip $((leader == 1 ? 2 : 1))) RMQ_MQTT_PORT=1883 RMQ_CLI=$CLI RMQ_WORKDIR=$work/rt$((leader == 1 ? 2 : 1)) \
  RMQ_SECRETS_DIR=$work/secrets RMQ_TEST_TIMEOUT_SECONDS=30 bash "$scripts/mqtt-roundtrip.sh"

say "the dead pod comes back (run.sh, no init: it has its marker) and rejoins"
set -m; start_pod "$leader"; set +m
t0=$SECONDS
for _ in $(seq 20); do
  echo "t+$((SECONDS - t0))s $(status "$leader" | grep 'shard=metadata_0' | sed 's/ voters=.*//') $(ready "$leader" >/dev/null && echo ready || echo not-ready)"
  ready "$leader" >/dev/null && break
  sleep 1
done
for k in 1 2 3; do status "$k"; done
echo "retained message after the restart:"
timeout 5 "$CLI" mqtt --server "$(ip "$leader"):1883" subscribe --username admin --password "$pw" --topic x/retained --qos 1 | grep payload || true

say "graceful stop: SIGTERM to every pod"
for k in 1 2 3; do
  t=$SECONDS
  kill -TERM -- "-${pids[$k]}"
  while kill -0 -- "-${pids[$k]}" 2>/dev/null; do sleep 0.1; done
  echo "node $k stopped within $((SECONDS - t))s: $(grep -c 'graceful stop complete' "$work/n$k/pod.log") graceful stop(s) logged"
done
pids=()
grep -h -i -E "$(paste -sd'|' "$work"/secrets/*)" "$work"/n*/pod.log && echo "SECRET LEAKED INTO A LOG" || echo "no secret in any log"
