// The RobustMQ check after the pods are Ready, and `helm test` (the chart's MQTT round trip).
//
// How each meta pod is asked: `kubectl exec <pod> -- curl http://127.0.0.1:<http_port>/api/info`.
// Why not pods/proxy with a login from the Secret: RobustMQ v0.4.11 wants the admin JWT in `Authorization: Bearer`,
// and the API server consumes that header itself (it authenticates the proxy request with it and strips it), so a
// token never reaches the pod through pods/proxy. Loopback callers are exempt from admin auth (source notes, b. Auth),
// so exec + curl on 127.0.0.1 needs no credentials at all, and curl ships in the image. Where exec is forbidden or the
// kubelet cannot be reached (some managed control planes), the check is reported as blocked: a warning, not exit 4.
import type { Context } from '../context.js';
import { checkCluster, confirmLeaders, describeLeaders, type ClusterCheckResult, type LeaderAnswer, type PodAnswer } from '../core/robustmq-check.js';
import { serverImages, standInImageOf, standInNote } from '../core/standin.js';
import type { K8sPod } from '../core/k8s-types.js';
import { isHookOrJobPod } from '../core/health.js';
import { getPath, type Values } from '../core/values.js';
import { getValuesArgv, testArgv } from '../core/flags.js';
import type { Kube } from '../shell/kube.js';
import { run as runHelm, type HelmInfo } from '../shell/helm.js';
import { releaseSelector } from './watch.js';

const BLOCKED = /forbidden|cannot create resource "pods\/exec"|error dialing backend|unable to upgrade connection|upgrade request required|does not allow|not implemented|connection refused.*10250|no preferred addresses|Unauthorized/i;

export interface Topology {
  topology: 'combined' | 'split';
  expectedNodes: number;
  expectedVoters: number;
  httpPort: number;
}

/** From `helm get values --all` (the computed values, chart defaults included). */
export function topologyFromValues(v: Values): Topology {
  const split = getPath(v, 'topology') === 'split';
  const num = (k: string, d: number) => {
    const x = getPath(v, k);
    return typeof x === 'number' ? x : typeof x === 'string' && /^\d+$/.test(x) ? Number(x) : d;
  };
  const httpPort = num('config.http_port', 58080);
  if (split) {
    const meta = num('meta.replicaCount', 3);
    return { topology: 'split', expectedNodes: meta + num('broker.replicaCount', 3) + num('engine.replicaCount', 3), expectedVoters: meta, httpPort };
  }
  return { topology: 'combined', expectedNodes: num('combined.replicaCount', 1), expectedVoters: num('combined.metaReplicas', 1), httpPort };
}

/** Meta pods: split → component=meta; combined → ordinals below metaReplicas. */
export function metaPods(pods: K8sPod[], t: Topology): K8sPod[] {
  const live = pods.filter((p) => !p.metadata.deletionTimestamp && !isHookOrJobPod(p));
  const metas =
    t.topology === 'split'
      ? live.filter((p) => p.metadata.labels?.['app.kubernetes.io/component'] === 'meta')
      : live.filter((p) => {
          const m = /-(\d+)$/.exec(p.metadata.name);
          return p.metadata.labels?.['app.kubernetes.io/component'] === 'combined' && m && Number(m[1]) < t.expectedVoters;
        });
  return metas.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name, 'en', { numeric: true }));
}

export async function computedValues(ctx: Context, helm: HelmInfo, release: string, namespace: string): Promise<Values | undefined> {
  const argv = [...getValuesArgv({ release, namespace, kubeContext: ctx.options.kubeContext, kubeconfig: ctx.options.kubeconfig }), '--all'];
  const r = await runHelm(helm.path, argv, { env: ctx.term.childEnv });
  if (r.exitCode !== 0) return undefined;
  try {
    return (JSON.parse(r.stdout) ?? {}) as Values;
  } catch {
    return undefined;
  }
}

/** Asks every meta pod for /api/info over loopback and judges the answers. */
export async function raftCheck(kube: Kube, namespace: string, release: string, t: Topology): Promise<ClusterCheckResult> {
  const pods = await kube.list<K8sPod>('pods', { namespace, selector: releaseSelector(release) });
  const metas = metaPods(pods, t);
  const answers: PodAnswer[] = await Promise.all(
    metas.map(async (p): Promise<PodAnswer> => {
      const container = p.spec?.containers?.find((c) => c.name === 'robustmq')?.name ?? p.spec?.containers?.[0]?.name ?? 'robustmq';
      const r = await kube.exec(namespace, p.metadata.name, container, ['curl', '-sS', '--max-time', '5', `http://127.0.0.1:${t.httpPort}/api/info`], { timeoutMs: 20_000 });
      if (r.exitCode === 0) return { pod: p.metadata.name, body: r.stdout };
      const err = r.stderr.trim().split('\n').filter(Boolean).slice(-2).join(' | ') || `exit ${r.exitCode}`;
      // curl ran and failed ("command terminated with exit code N", curl's own message): the answer is a problem.
      // kubectl could not run it at all (RBAC, kubelet unreachable or without exec): the check is blocked.
      const ran = /command terminated with exit code|^curl: \(/m.test(r.stderr);
      const blocked = !ran && (BLOCKED.test(r.stderr) || /error executing command in container|Internal error occurred|error: unable to|container not found/i.test(r.stderr));
      return { pod: p.metadata.name, error: blocked ? `cannot exec into the pod (${err})` : `curl 127.0.0.1:${t.httpPort}/api/info failed: ${err}`, blocked };
    }),
  );
  const standIn = standInImageOf(serverImages(metas));
  const tag = <R extends ClusterCheckResult>(r: R): R => (standIn ? { ...r, standIn } : r);
  if (answers.length === 0) return tag({ status: 'failed', shards: [], nodes: [], problems: ['no meta pod found'], warnings: [] });
  const agreed = checkCluster({ answers, expectedNodes: t.expectedNodes, expectedVoters: t.expectedVoters });
  if (agreed.status === 'blocked') return tag(agreed);
  return tag(confirmLeaders(agreed, await askLeaders(kube, namespace, agreed, answers)));
}

/** The stand-in image the release's server pods run, if any (src/core/standin.ts). */
export async function standInOfRelease(kube: Kube, namespace: string, release: string): Promise<string | undefined> {
  const pods = await kube.list<K8sPod>('pods', { namespace, selector: releaseSelector(release) }).catch(() => [] as K8sPod[]);
  return standInImageOf(serverImages(pods.filter((p) => !isHookOrJobPod(p))));
}

/** Where the chart puts its scripts in every server container (templates/_config.tpl "robustmq.path"). */
const STATUS_SCRIPT = '/robustmq/chart/scripts/status.sh';

/**
 * Each named leader's own Raft view, read by the chart's status.sh from another meta pod over the pod network (the
 * leader's pod may be gone, and a view read through the leader's own loopback would not show that peers cannot
 * reach it).
 */
async function askLeaders(kube: Kube, namespace: string, r: ClusterCheckResult, answers: PodAnswer[]): Promise<LeaderAnswer[]> {
  const leaders = [...new Set(r.shards.map((s) => s.leader).filter((l): l is number => typeof l === 'number'))];
  const askers = answers.filter((a) => 'body' in a).map((a) => a.pod);
  return Promise.all(
    leaders.map(async (leader): Promise<LeaderAnswer> => {
      const addr = r.voterAddrs?.[leader];
      if (!addr || !/:\d+$/.test(addr)) return { leader, addr: '?', error: 'its gRPC address is not in the Raft membership', blocked: false };
      const leaderPod = r.nodes.find((n) => n.id === leader)?.pod;
      const asker = askers.find((p) => p !== leaderPod) ?? askers[0]!;
      const host = addr.slice(0, addr.lastIndexOf(':'));
      const port = addr.slice(addr.lastIndexOf(':') + 1);
      const res = await kube.exec(namespace, asker, 'robustmq', ['env', `RMQ_READY_HOST=${host}`, `RMQ_GRPC_PORT=${port}`, 'bash', STATUS_SCRIPT], { timeoutMs: 20_000 });
      if (res.exitCode === 0) return { leader, addr, text: res.stdout };
      const out = `${res.stdout}\n${res.stderr}`;
      const failed = /ClusterStatus failed: (.*)/.exec(out)?.[1]?.trim();
      const ran = failed !== undefined || /command terminated with exit code/.test(res.stderr);
      const err = failed || res.stderr.trim().split('\n').filter(Boolean).slice(-1)[0] || `exit ${res.exitCode}`;
      return { leader, addr, error: ran ? err : `cannot exec into ${asker} (${err})`, blocked: !ran };
    }),
  );
}

/**
 * How long the RobustMQ check keeps asking while it fails. Right after a rolling restart the real v0.4.11 can take 5 s
 * and more to answer /api/info, and followers name a dead leader for a while, although every pod is Ready
 * (docs/real-server-run.md): one failed look would roll a healthy upgrade back.
 */
export const RAFT_SETTLE_MS = 60_000;
const RAFT_RETRY_MS = 3_000;

/**
 * Runs `check` until it does not fail, or until `settleMs` have passed since the first call (then the last failure
 * stands). `onRetry` hears each failure that will be asked again. A blocked check is final at once.
 */
export async function settled<R extends { status: string }>(
  check: () => Promise<R>,
  o: { settleMs: number; retryMs: number; now?: () => number; sleep?: (ms: number) => Promise<void>; aborted?: () => boolean; onRetry?: (r: R, attempt: number) => void },
): Promise<{ result: R; attempts: number; ms: number }> {
  const now = o.now ?? Date.now;
  const pause = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const t0 = now();
  let attempts = 1;
  let result = await check();
  while (result.status === 'failed' && now() - t0 + o.retryMs < o.settleMs && !o.aborted?.()) {
    o.onRetry?.(result, attempts);
    await pause(o.retryMs);
    attempts++;
    result = await check();
  }
  return { result, attempts, ms: now() - t0 };
}

export type SmokeLevel = 'ok' | 'warn' | 'fail' | 'info';

export interface SmokeResult {
  /** ok; failed (exit 4); warning (check blocked: printed, exit unaffected); skipped (--skip-smoke) */
  status: 'ok' | 'failed' | 'warning' | 'skipped';
  lines: string[];
  /** the same lines with how to show each */
  levels: SmokeLevel[];
  raft?: ClusterCheckResult;
  helmTest?: { exitCode: number; output: string };
}

/** The RobustMQ check, then `helm test`. */
export async function smoke(ctx: Context, o: { kube: Kube; helm: HelmInfo; release: string; namespace: string; timeout: string }): Promise<SmokeResult> {
  // Said first and even with --skip-smoke: the pods' Ready line just printed is health too.
  const standIn = await standInOfRelease(o.kube, o.namespace, o.release);
  const note: string[] = standIn ? [standInNote(standIn)] : [];
  if (ctx.options.skipSmoke) return { status: 'skipped', lines: [...note, 'RobustMQ check and helm test skipped (--skip-smoke): Raft leadership, node registration and the MQTT round trip were NOT verified'], levels: [...note.map((): SmokeLevel => 'warn'), 'warn'] };
  const lines: string[] = [];
  const levels: SmokeLevel[] = [];
  const say = (level: SmokeLevel, ...texts: string[]) => {
    for (const x of texts) {
      lines.push(x);
      levels.push(level);
    }
  };
  say('warn', ...note);
  const who = standIn ? 'RobustMQ STAND-IN' : 'RobustMQ';
  const values = await computedValues(ctx, o.helm, o.release, o.namespace);
  const t = topologyFromValues(values ?? {});
  const { result: raft, attempts, ms } = await settled(() => raftCheck(o.kube, o.namespace, o.release, t), {
    settleMs: RAFT_SETTLE_MS,
    retryMs: RAFT_RETRY_MS,
    aborted: () => ctx.signal.aborted,
    onRetry: (r, attempt) => {
      if (attempt === 1 && !ctx.term.json) ctx.term.line(`  ${who} check: not settled yet (${r.problems[0] ?? 'failed'}); asking again for up to ${RAFT_SETTLE_MS / 1000}s`);
    },
  });
  const after = attempts > 1 ? ` (after ${attempts} looks over ${Math.round(ms / 1000)}s)` : '';
  let status: SmokeResult['status'] = 'ok';
  if (raft.status === 'blocked') {
    status = 'warning';
    say('warn', `${who} check skipped: the meta pods could not be asked (${raft.warnings[0] ?? 'blocked'}); Raft state not verified`);
  } else if (raft.status === 'failed') {
    status = 'failed';
    say('fail', `${who} check failed${after}:`, ...raft.problems.map((p) => `  ${p}`));
  } else {
    say('ok', `${who}: ${raft.nodes.length} nodes registered; ${describeLeaders(raft).join('; ')}${after}`);
    for (const w of raft.warnings) say('warn', `  ${w}`);
  }
  if (status === 'failed') return { status, lines, levels, raft };

  const argv = testArgv({ release: o.release, namespace: o.namespace, kubeContext: ctx.options.kubeContext, kubeconfig: ctx.options.kubeconfig, timeout: o.timeout });
  const ht = await runHelm(o.helm.path, argv, { env: ctx.term.childEnv, signal: ctx.signal });
  const output = `${ht.stdout}${ht.stderr}`;
  if (ht.exitCode === 0) say('ok', `helm test (MQTT publish/subscribe round trip): passed${standIn ? ' (STAND-IN server and cli-command)' : ''}`);
  else {
    status = 'failed';
    say('fail', `helm test failed (exit ${ht.exitCode}):`, ...output.trim().split('\n').slice(-12).map((l) => `  ${l}`));
    const logs = await o.kube.run(['logs', '-n', o.namespace, '-l', `app.kubernetes.io/instance=${o.release},app.kubernetes.io/component=test`, '--tail=20', '--all-containers'], { timeoutMs: 30_000 });
    if (logs.exitCode === 0 && logs.stdout.trim()) say('info', '  test pod log:', ...logs.stdout.trimEnd().split('\n').map((l) => `    ${l}`));
    say('info', `  rerun: ${[o.helm.path, ...argv].join(' ')}`);
  }
  return { status, lines, levels, raft, helmTest: { exitCode: ht.exitCode, output } };
}

/** Prints a smoke result line by line, each with its own mark. */
export function printSmoke(ctx: Context, sm: SmokeResult): void {
  const t = ctx.term;
  if (t.json) return;
  sm.lines.forEach((l, i) => {
    const level = sm.levels[i] ?? 'info';
    if (level === 'ok') t.ok(l);
    else if (level === 'warn') t.warn(l);
    else if (level === 'fail') t.line(t.style('red', l));
    else t.line(l);
  });
}
