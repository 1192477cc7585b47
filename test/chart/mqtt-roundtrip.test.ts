// The chart's helm test script (mqtt-roundtrip.sh), as rendered, against a fake cli-command that plays a Service
// which accepts no connection for a while: right after the pods turn Ready, the EndpointSlice and kube-proxy follow by a
// second or so (seen on the real node once the CLI stopped waiting for helm's own watcher).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bashAsync, extractScripts, HELMS, render, tempDir } from './lib.ts';

// mqtt --server HOST:PORT subscribe|publish --username U --password P --topic T --qos 1
const FAKE_CLI = `#!/bin/bash
state=$FAKE_STATE
case "$4" in
subscribe)
  n=$(( $(cat "$state/attempts" 2>/dev/null || echo 0) + 1 ))
  echo "$n" >"$state/attempts"
  # v0.4.11's cli-command when nothing accepts the connection
  if [ "$n" -le "$FAKE_REFUSE" ]; then echo "Unable to connect: TcpTlsConnectFailure"; exit 1; fi
  if [ -n "\${FAKE_FAIL:-}" ]; then echo "$FAKE_FAIL"; exit 1; fi
  echo "subscribe success"
  until [ -f "$state/msg" ]; do sleep 0.1; done
  echo "payload: $(cat "$state/msg")"
  sleep 600 ;;
publish)
  IFS= read -r m
  printf '%s' "$m" >"$state/msg.tmp" && mv "$state/msg.tmp" "$state/msg" ;;
esac
`;

describe.each(HELMS)('helm $major: the helm test round trip', (helm) => {
  const objs = render(helm, {});

  function setup(env: Record<string, string>) {
    const dir = tempDir('rmq-roundtrip-');
    extractScripts(objs, dir);
    mkdirSync(join(dir, 'secrets'));
    writeFileSync(join(dir, 'secrets', 'mqtt-password'), 'p4ss');
    mkdirSync(join(dir, 'state'));
    writeFileSync(join(dir, 'cli'), FAKE_CLI, { mode: 0o755 });
    const run = () =>
      bashAsync(join(dir, 'mqtt-roundtrip.sh'), {
        RMQ_MQTT_HOST: 'rmq-robustmq',
        RMQ_CLI: join(dir, 'cli'),
        RMQ_WORKDIR: join(dir, 'state'),
        RMQ_SECRETS_DIR: join(dir, 'secrets'),
        FAKE_STATE: join(dir, 'state'),
        FAKE_REFUSE: '0',
        ...env,
      });
    return { dir, run };
  }

  it('tries a refused connection again until the Service routes, then makes the round trip', async () => {
    const { dir, run } = setup({ FAKE_REFUSE: '2', RMQ_TEST_TIMEOUT_SECONDS: '30' });
    const r = await run();
    expect(r.stderr).toMatch(/round trip OK: received roundtrip-\S+ on robustmq-helm-test\//);
    expect(r.code).toBe(0);
    expect(r.stderr.match(/subscriber could not connect to rmq-robustmq:1883 yet \(TcpTlsConnectFailure\); trying again/g)).toHaveLength(2);
    expect(readFileSync(join(dir, 'state', 'attempts'), 'utf8').trim()).toBe('3');
  });

  it('any other subscriber failure is an answer: it fails at once, with the output', async () => {
    // a login the broker refused (the stand-in prints the CONNACK reason so): not a connection nothing accepted
    const { dir, run } = setup({ FAKE_FAIL: 'Unable to connect: reason code 134: bad user name or password', FAKE_REFUSE: '0', RMQ_TEST_TIMEOUT_SECONDS: '30' });
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ERROR: subscriber exited before subscribing/);
    expect(r.stderr).toContain('bad user name or password');
    expect(readFileSync(join(dir, 'state', 'attempts'), 'utf8').trim()).toBe('1');
  });

  it('a Service that never routes ends at the test timeout, saying so', async () => {
    const { run } = setup({ FAKE_REFUSE: '1000', RMQ_TEST_TIMEOUT_SECONDS: '3' });
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ERROR: subscriber not subscribed after 3s/);
    expect(r.stderr).toMatch(/Unable to connect: TcpTlsConnectFailure/);
  });
});
