// Helpers shared by the real-node scenarios: the --set flags that put a release on the local replica image, a pod
// watcher that keeps every state the apiserver reported (so "never two down at once" is judged from the whole
// stream, not from samples), a one-shot client pod run from the replica image, and the admin API's MQTT user routes
// reached from inside a server pod.
import { spawn } from 'node:child_process';
import { expect, inject } from 'vitest';
import { JsonStreamSplitter } from '../../src/core/json-stream.ts';
import { kubectlPath } from '../support/tools.ts';
import { cli, eventually, isReady, kubectl, kubectlJson, kubectlTry, type CliResult } from '../e2e/cli.ts';

export function standinImage(): string {
  return inject('realNode').images.robustmq;
}

/** `--set image.*` for the local replica (localhost/robustmq-standin:v0.4.11): nothing is ever pulled. */
export function imageSets(): string[] {
  const [registry, ...rest] = standinImage().split('/');
  const [repository, tag] = rest.join('/').split(':');
  return ['--set', `image.registry=${registry}`, '--set', `image.repository=${repository}`, '--set', `image.tag=${tag}`];
}

/**
 * `--set backup.image.*` for the local backup CronJob image (localhost/backup-kubectl:<kubectl version>, built by
 * test/images/build.sh): the chart's default docker.io/alpine/kubectl cannot be pulled on the real node.
 */
export function backupImageSets(): string[] {
  const [registry, ...rest] = inject('realNode').images.backup.split('/');
  const [repository, tag] = rest.join('/').split(':');
  return [
    '--set', `backup.image.registry=${registry}`, '--set', `backup.image.repository=${repository}`,
    '--set', `backup.image.tag=${tag}`, '--set', 'backup.image.pullPolicy=IfNotPresent',
  ];
}

/** `status -o json` of a release: exit code and the parsed document (undefined when stdout is not JSON). */
export async function statusJson(args: string[]): Promise<{ r: CliResult; doc: any }> {
  const r = await cli(['status', '-o', 'json', ...args], { timeoutMs: 120_000 });
  let doc: any;
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    doc = undefined;
  }
  return { r, doc };
}

export interface PodState {
  name: string;
  uid: string;
  ready: boolean;
  deleting: boolean;
  /** the last status the apiserver reported before the pod went away */
  last: any;
}

export interface PodEvent {
  at: number;
  type: string;
  pod: string;
  uid: string;
  ready: boolean;
  deleting: boolean;
  /** the server container's restart count and state, for the failure report */
  server: string;
}

/** `running`, `waiting (reason)` or `terminated (exit N)`, with the restart count: one line of a failure report. */
function serverSummary(pod: any): string {
  const c = serverStatus(pod);
  if (!c) return 'no server container status';
  const st = c.state ?? {};
  const now = st.running ? 'running' : st.waiting ? `waiting (${st.waiting.reason})` : st.terminated ? `terminated (exit ${st.terminated.exitCode})` : 'unknown';
  const before = c.lastState?.terminated ? `; last exit ${c.lastState.terminated.exitCode} at ${c.lastState.terminated.finishedAt}` : '';
  return `${now}, restarts ${c.restartCount}${before}`;
}

/**
 * `kubectl get pods -w --output-watch-events -o json`: every change of the selected pods, in order. `down(names)` at
 * each event counts the named pods that are absent, terminating or not Ready.
 */
export function watchPods(namespace: string, selector: string) {
  const child = spawn(kubectlPath(), ['--kubeconfig', inject('realNode').kubeconfig, 'get', 'pods', '-n', namespace, '-l', selector, '-w', '--output-watch-events', '-o', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const split = new JsonStreamSplitter();
  const current = new Map<string, PodState>();
  const gone = new Map<string, PodState[]>();
  const events: PodEvent[] = [];
  const listeners: (() => void)[] = [];
  // Every server container the watch sees running is followed with `kubectl logs -f` while it lives: a scenario's
  // pods are deleted by the time a test can look, and their logs with them.
  const logs = new Map<string, string>();
  const followers: ReturnType<typeof spawn>[] = [];
  const follow = (p: any) => {
    const c = serverStatus(p);
    if (!c?.state?.running || p.metadata.deletionTimestamp) return;
    const key = `${p.metadata.name} (uid ${String(p.metadata.uid).slice(0, 8)}, container start ${c.restartCount})`;
    if (logs.has(key)) return;
    logs.set(key, '');
    const f = spawn(kubectlPath(), ['--kubeconfig', inject('realNode').kubeconfig, 'logs', '-f', '--timestamps', '-n', namespace, p.metadata.name, '-c', 'robustmq'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const add = (t: string) => logs.set(key, logs.get(key)! + t);
    f.stdout!.setEncoding('utf8').on('data', add);
    f.stderr!.setEncoding('utf8').on('data', (t: string) => add(`kubectl logs: ${t}`));
    f.on('error', (e) => add(`kubectl logs: ${e.message}\n`));
    followers.push(f);
  };
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    for (const doc of split.push(c).docs as { type: string; object: any }[]) {
      const p = doc.object;
      if (!p?.metadata?.name) continue;
      const s: PodState = { name: p.metadata.name, uid: p.metadata.uid, ready: isReady(p), deleting: !!p.metadata.deletionTimestamp, last: p };
      if (doc.type === 'DELETED') {
        current.delete(s.name);
        gone.set(s.name, [...(gone.get(s.name) ?? []), s]);
      } else current.set(s.name, s);
      events.push({ at: Date.now(), type: doc.type, pod: s.name, uid: s.uid, ready: s.ready && !s.deleting && doc.type !== 'DELETED', deleting: s.deleting, server: serverSummary(p) });
      if (doc.type !== 'DELETED') follow(p);
    }
    for (const l of listeners.splice(0)) l();
  });
  /**
   * How many of `names` were down after each event, replayed from the stream; counted from the first event at which
   * every name has been seen (the watch's initial list arrives one pod at a time).
   */
  function downCounts(names: string[]): { at: number; down: string[] }[] {
    const up = new Map<string, boolean>();
    const out: { at: number; down: string[] }[] = [];
    for (const e of events) {
      up.set(e.pod, e.type !== 'DELETED' && e.ready);
      if (names.every((n) => up.has(n))) out.push({ at: e.at, down: names.filter((n) => !up.get(n)) });
    }
    return out;
  }
  return {
    current,
    gone,
    events,
    downCounts,
    stderr: () => stderr,
    /** resolves once the watch has delivered its initial list (one event per existing pod) */
    started: (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => (events.length >= n ? resolve() : listeners.push(check));
        check();
      }),
    /**
     * What a failed assertion about these pods needs to be understood after the node is gone: every watched event
     * with the server's state, the Kubernetes events of the namespace (probe failures with their messages, kills)
     * and the tail of every server container's log.
     */
    async report(tailLines = 80): Promise<string> {
      const t0 = events[0]?.at ?? Date.now();
      const out = ['--- pod events watched (seconds from the first) ---'];
      for (const e of events) out.push(`${((e.at - t0) / 1000).toFixed(1).padStart(7)}s ${e.type.padEnd(8)} ${e.pod} ${e.uid.slice(0, 8)} ${e.ready ? 'Ready' : 'not Ready'}${e.deleting ? ' deleting' : ''}; ${e.server}`);
      out.push('--- namespace events ---');
      const ev = await kubectlTry(['get', 'events', '-n', namespace, '-o', 'json']);
      if (ev.code === 0) {
        const items = (JSON.parse(ev.stdout).items as any[])
          .map((x) => ({ at: x.lastTimestamp ?? x.eventTime ?? x.firstTimestamp, x }))
          .sort((a, b) => String(a.at).localeCompare(String(b.at)));
        for (const { at, x } of items) out.push(`${at} ${x.involvedObject?.name} ${x.reason} ×${x.count ?? 1}: ${String(x.message).replace(/\s+/g, ' ').slice(0, 400)}`);
      } else out.push(`kubectl get events failed: ${ev.stderr.trim()}`);
      for (const [key, text] of logs) {
        const lines = text.trimEnd().split('\n');
        out.push(`--- log of ${key}, last ${Math.min(tailLines, lines.length)} of ${lines.length} lines ---`, ...lines.slice(-tailLines));
      }
      return out.join('\n');
    },
    stop: () => {
      child.kill('SIGTERM');
      for (const f of followers) f.kill('SIGTERM');
    },
  };
}

/** Runs `assertions`; when they fail, prints the watcher's report first, so the CI log says why. */
export async function explainedBy<T>(w: { report(): Promise<string> }, assertions: () => Promise<T>): Promise<T> {
  try {
    const r = await assertions();
    if (process.env.NODE_REPORT_ALWAYS) console.log(await w.report());
    return r;
  } catch (e) {
    // a report that cannot be made must not hide the assertion's own error
    console.log(await w.report().catch((r: unknown) => `(no pod report: ${String(r)})`));
    throw e;
  }
}

/** The server container's status fields from a pod object. */
export function serverStatus(pod: any): any {
  return (pod.status?.containerStatuses ?? []).find((c: any) => c.name === 'robustmq');
}

/**
 * Runs `script` in a pod of the replica image (non-root 999, read-only root, no capabilities: admitted under Pod
 * Security restricted) and returns its log once it Succeeded; fails with the log otherwise.
 */
export async function runClientPod(namespace: string, name: string, script: string, volumes: { secret: string; mountPath: string }[] = []): Promise<string> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/name': 'robustmq-client' } },
    spec: {
      restartPolicy: 'Never',
      securityContext: { runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, seccompProfile: { type: 'RuntimeDefault' } },
      volumes: volumes.map((v, i) => ({ name: `v${i}`, secret: { secretName: v.secret } })),
      containers: [{
        name: 'client',
        image: standinImage(),
        imagePullPolicy: 'IfNotPresent',
        command: ['bash', '-c', script],
        volumeMounts: volumes.map((v, i) => ({ name: `v${i}`, mountPath: v.mountPath, readOnly: true })),
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
      }],
    },
  };
  await kubectl(['apply', '-f', '-'], JSON.stringify(pod));
  const done = await kubectlTry(['wait', '-n', namespace, `pod/${name}`, '--for=jsonpath={.status.phase}=Succeeded', '--timeout=120s']);
  const logs = (await kubectlTry(['logs', '-n', namespace, name])).stdout;
  await kubectlTry(['delete', 'pod', '-n', namespace, name, '--wait=false']);
  if (done.code !== 0) throw new Error(`client pod ${name} did not succeed: ${done.stderr}\n--- logs\n${logs}`);
  return logs;
}

export const secs = (t0: number) => ((Date.now() - t0) / 1000).toFixed(1);

/** One row of the admin API's MQTT user list (v0.4.11 src/admin-server/src/cluster/user.rs UserListRow). */
export interface MqttUserRow {
  tenant: string;
  username: string;
  is_superuser: boolean;
  create_time: number;
}

export interface AdminApiTarget {
  namespace: string;
  /** a server pod with the admin HTTP server (any role: every node serves the admin API) */
  pod: string;
  /** the chart's config.http_port */
  httpPort?: number;
}

/**
 * Calls the admin API of `pod` the way the CLI's RobustMQ check does (src/flows/smoke.ts): `kubectl exec` into the
 * server container and curl over loopback, which v0.4.11 lets through without a JWT. A JSON body goes through stdin,
 * so a password never shows in a process list or in an error message. Returns the envelope's `data`; throws when curl
 * or kubectl fails, or when `code` is not 0 (RobustMQ answers HTTP 200 for most refusals).
 */
async function adminApi(t: AdminApiTarget, method: 'GET' | 'POST', path: string, body?: unknown): Promise<any> {
  const url = `http://127.0.0.1:${t.httpPort ?? 58080}${path}`;
  const curl = ['curl', '-sS', '--max-time', '10', '-X', method, ...(body === undefined ? [] : ['-H', 'Content-Type: application/json', '--data-binary', '@-']), url];
  const r = await kubectlTry(['exec', ...(body === undefined ? [] : ['-i']), '-n', t.namespace, t.pod, '-c', 'robustmq', '--', ...curl], body === undefined ? undefined : JSON.stringify(body));
  if (r.code !== 0) throw new Error(`${method} ${path} on ${t.pod}: kubectl exec exited ${r.code}: ${r.stderr.trim()}`);
  let doc: any;
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    throw new Error(`${method} ${path} on ${t.pod}: not JSON: ${r.stdout.slice(0, 500)}`);
  }
  if (doc?.code !== 0) throw new Error(`${method} ${path} on ${t.pod}: code ${doc?.code}: ${doc?.error ?? doc?.message}`);
  return doc.data;
}

/**
 * Creates an MQTT user through the admin API (`POST /api/cluster/user/create`, v0.4.11). The meta leader stores it;
 * other nodes learn it within seconds, so read it back from another pod with `eventually`.
 */
export async function createMqttUser(t: AdminApiTarget, user: { username: string; password: string; isSuperuser?: boolean; tenant?: string }): Promise<void> {
  await adminApi(t, 'POST', '/api/cluster/user/create', { tenant: user.tenant ?? 'default', username: user.username, password: user.password, is_superuser: user.isSuperuser ?? false });
}

/** Every MQTT user `pod` knows (`GET /api/cluster/user/list`; its pages hold 10 by default, so ask for a big one). */
export async function listMqttUsers(t: AdminApiTarget, tenant?: string): Promise<MqttUserRow[]> {
  const q = new URLSearchParams({ limit: '10000', ...(tenant === undefined ? {} : { tenant }) });
  const data = await adminApi(t, 'GET', `/api/cluster/user/list?${q}`);
  return data.data as MqttUserRow[];
}

/** Deletes an MQTT user (`POST /api/cluster/user/delete`); throws when it does not exist. */
export async function deleteMqttUser(t: AdminApiTarget, username: string, tenant = 'default'): Promise<void> {
  await adminApi(t, 'POST', '/api/cluster/user/delete', { tenant, username });
}

/**
 * What a backup must keep, for a combined ×3 release: a retained MQTT message and an MQTT user, written before the
 * backup and read back after the restore (the stand-in keeps both in its data directory as the server keeps them in
 * RocksDB), and one healthy Raft cluster. Shared by the snapshot and the copy scenarios.
 */
/** How long backupProof's retained-message check waits for the message, as the chart's helm test waits (tests.timeoutSeconds). */
const RETAINED_WAIT_SECONDS = 120;

export function backupProof(o: { namespace: string; release: string; topic: string; message: string; user: { username: string; password: string } }) {
  const { namespace: ns, release, topic, message, user } = o;
  const sel = ['-n', ns, '--release', release];
  const podNames = [0, 1, 2].map((i) => `${release}-robustmq-${i}`);

  /** The MQTT password of the release's superuser, from the credentials Secret (never printed). */
  async function mqttPassword(): Promise<string> {
    const s = await kubectlJson(['get', 'secret', '-n', ns, `${release}-credentials`]);
    return Buffer.from(s.data['mqtt-password'], 'base64').toString();
  }

  /**
   * Runs the image's own cli-command inside a server pod, as the chart's helm test does. The password goes in on stdin
   * (first line), so it never shows in argv or in a failure message.
   */
  async function mqttInPod(pod: string, args: { username: string; password: string }, script: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const body = ['set -uo pipefail', 'IFS= read -r pw', 'cd /tmp', script].join('\n');
    return kubectlTry(['exec', '-i', '-n', ns, pod, '-c', 'robustmq', '--', 'bash', '-c', body.replaceAll('$USER_NAME', args.username)], `${args.password}\n`);
  }

  const publishRetained = (pod: string, who: { username: string; password: string }) =>
    mqttInPod(pod, who, `printf '%s\\n' '${message}' | /robustmq/libs/cli-command mqtt --server 127.0.0.1:1883 publish --username "$USER_NAME" --password "$pw" --topic '${topic}' --qos 1 --retained`);

  /**
   * Subscribes and prints what arrived once the retained message did, the subscriber ended or RETAINED_WAIT_SECONDS
   * passed: the chart's helm test (mqtt-roundtrip.sh) gives the same cli-command up to 120 s. The stand-in answers at
   * once; the real v0.4.11 cli-command printed nothing but `able to connect` within the 8 s this used to allow
   * (docs/real-server-run.md, run 4).
   */
  const readRetained = (pod: string, who: { username: string; password: string }) =>
    mqttInPod(pod, who, [
      'log=$(mktemp /tmp/retained.XXXXXX)',
      `/robustmq/libs/cli-command mqtt --server 127.0.0.1:1883 subscribe --username "$USER_NAME" --password "$pw" --topic '${topic}' --qos 1 >"$log" 2>&1 &`,
      'sub=$!',
      `deadline=$((SECONDS + ${RETAINED_WAIT_SECONDS}))`,
      `until grep -qF -- 'payload: ${message}' "$log"; do`,
      '  kill -0 "$sub" 2>/dev/null || break',
      '  ((SECONDS < deadline)) || break',
      '  sleep 1',
      'done',
      'kill "$sub" 2>/dev/null; wait "$sub" 2>/dev/null',
      'cat "$log"; rm -f "$log"; true',
    ].join('\n'));

  /** One Raft cluster, three voters, every node registered, the leader answering (the RobustMQ check via status). */
  async function expectOneHealthyCluster(): Promise<void> {
    const { r, doc } = await statusJson(sel);
    expect(r.code, r.stderr).toBe(0);
    expect(doc.raft.status, JSON.stringify(doc.raft.problems)).toBe('ok');
    for (const s of doc.raft.shards) expect(s.voters).toEqual([1, 2, 3]);
    expect(new Set(doc.raft.shards.map((s: any) => s.leader)).size).toBe(1);
    expect(doc.raft.nodes.map((n: any) => n.pod)).toEqual(podNames);
  }

  /** The data survived: the retained message arrives for the superuser and for the user created before the backup. */
  async function expectDataBack(): Promise<void> {
    const admin = { username: 'admin', password: await mqttPassword() };
    await eventually('the created user on every node', async () => {
      for (const pod of podNames) {
        const users = await listMqttUsers({ namespace: ns, pod });
        if (!users.some((u) => u.username === user.username)) return false;
      }
      return true;
    }, 60_000);
    for (const who of [admin, user]) {
      const got = await readRetained(podNames[2]!, who);
      expect(got.stdout, got.stderr).toContain(`payload: ${message}`);
    }
  }

  return { podNames, mqttPassword, publishRetained, readRetained, expectOneHealthyCluster, expectDataBack };
}
