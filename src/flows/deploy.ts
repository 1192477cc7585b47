// The deploy flow: preflight → namespace + credentials Secret → helm install|upgrade (with its own --wait) while the
// CLI watches the pods → on a terminal failure: debug bundle, ONE SIGTERM to helm (release becomes `failed`, never
// `pending-*`), rollback (upgrade, default on) and exit 4 → on success: the RobustMQ check and helm test.
//
// Signals: ctx.signal aborts on the first Ctrl-C/SIGTERM. helm.ts forwards exactly one signal to install/upgrade
// and waits for it; rollbacks run to completion whatever happens. Exit 130 after an abort.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Context } from '../context.js';
import { bundleDirName, bundleItems } from '../core/bundle.js';
import { ExitCode, UserError } from '../core/errors.js';
import type { Facts } from '../core/facts.js';
import { connectionFlags, historyArgv, rollbackArgv, statusArgv } from '../core/flags.js';
import { describeFailure, notReadyLines, type Verdict } from '../core/health.js';
import { credentialsSecretManifest, CREDENTIAL_KEYS, type Credentials } from '../core/overlay.js';
import type { Plan } from '../core/plan.js';
import { decodeSecretData, makeRedactor, type Redactor } from '../core/redact.js';
import { getPath } from '../core/values.js';
import type { K8sObject } from '../core/k8s-types.js';
import { kubeFor } from '../shell/facts.js';
import { run as runHelm, type HelmInfo, type RunResult } from '../shell/helm.js';
import type { Kube } from '../shell/kube.js';
import { printSmoke, smoke, type SmokeResult } from './smoke.js';
import { ReleaseWatch, releaseSelector, rolledOutSince, snapshotOnce, stsGenerations, verdictOf, type Snapshot } from './watch.js';
import type { K8sStatefulSet } from '../core/k8s-types.js';

export interface DeployRequest {
  plan: Plan;
  helm: HelmInfo;
  facts: Facts;
  /** fresh random credentials; used only when the Secret plan.secret.name does not exist yet */
  credentials: Credentials;
  /** upgrade: roll back when health fails (default on); install: ignored (never uninstalls) */
  rollbackOnFailure: boolean;
  /** the revision to roll back to (upgrade); default: the release's current revision when it is deployed */
  rollbackTo?: number;
  /** preflight already ran (e.g. the upgrade command ran it before its confirm) */
  preflightDone?: boolean;
}

const TICK_MS = 1000;
/** At most this often is the pod state judged while events stream in: the bound on the added latency. */
const JUDGE_INTERVAL_MS = 100;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function kubeOf(ctx: Context): Kube {
  return kubeFor({ kubeContext: ctx.options.kubeContext, kubeconfig: ctx.options.kubeconfig, env: ctx.term.childEnv });
}

function conn(ctx: Context, namespace: string) {
  return { namespace, kubeContext: ctx.options.kubeContext, kubeconfig: ctx.options.kubeconfig };
}

/** Human-readable duration for messages. */
function secs(ms: number): string {
  return ms < 90_000 ? `${Math.round(ms / 1000)}s` : `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

// ---- progress ---------------------------------------------------------------------------------------------------

/** Prints one line whenever the per-role counts or the reasons change (no spinners: works in CI and logs alike). */
export class Progress {
  private last = '';
  constructor(private readonly ctx: Context) {}
  show(v: Verdict & { known?: boolean }, prefix = 'pods'): void {
    if (this.ctx.term.json) return;
    const reasons = notReadyLines(v).slice(0, 4);
    const summary = v.known === false ? 'waiting for the StatefulSets' : v.summary || 'no pods yet';
    const line = `  ${prefix}: ${summary}${reasons.length ? ` (${reasons.join('; ')}${notReadyLines(v).length > 4 ? '; …' : ''})` : ''}`;
    if (line !== this.last) {
      this.last = line;
      this.ctx.term.line(this.ctx.term.style('dim', line));
    }
  }
}

// ---- namespace and credentials ----------------------------------------------------------------------------------

export async function ensureNamespace(ctx: Context, kube: Kube, namespace: string): Promise<'created' | 'exists'> {
  if (await kube.getObject('namespace', namespace)) return 'exists';
  const r = await kube.run(['create', 'namespace', namespace]);
  if (r.exitCode !== 0 && !/AlreadyExists/.test(r.stderr)) {
    throw new UserError(`could not create namespace ${namespace}: ${r.stderr.trim()}`, { exitCode: ExitCode.error });
  }
  return r.exitCode === 0 ? 'created' : 'exists';
}

/**
 * The credentials Secret `<release>-credentials` (admin-password, admin-jwt-secret, mqtt-password): created with
 * random values when absent, reused when present (a reinstall must keep the MQTT user's password), completed when a
 * key is missing. Values travel on kubectl's stdin, never in argv, and are never printed.
 * A user-named `auth.existingSecret` must already exist with all three keys.
 */
export async function ensureCredentials(ctx: Context, kube: Kube, plan: Plan, creds: Credentials): Promise<{ name: string; action: 'created' | 'reused' | 'completed' | 'user' }> {
  const ns = plan.namespace;
  const wanted = getPath(plan.overlay, 'auth.existingSecret');
  const name = typeof wanted === 'string' && wanted ? wanted : plan.secret.name;
  const existing = await kube.getObject<K8sObject & { data?: Record<string, string> }>('secret', name, ns);
  const missing = CREDENTIAL_KEYS.filter((k) => !existing?.data?.[k]);
  if (name !== plan.secret.name) {
    if (!existing) throw new UserError(`auth.existingSecret ${name} does not exist in namespace ${ns}`, { exitCode: ExitCode.preflight, hint: `create it with keys ${CREDENTIAL_KEYS.join(', ')}, or drop auth.existingSecret so the CLI creates ${plan.secret.name}` });
    if (missing.length) throw new UserError(`Secret ${name} lacks key${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, { exitCode: ExitCode.preflight, hint: `add ${missing.join(', ')} to Secret ${name}` });
    return { name, action: 'user' };
  }
  if (!existing) {
    const manifest = credentialsSecretManifest(plan.release, ns, creds);
    const r = await kube.run(['create', '-f', '-', '-o', 'name'], { input: JSON.stringify(manifest) });
    if (r.exitCode !== 0) throw new UserError(`could not create Secret ${name}: ${r.stderr.trim()}`, { exitCode: ExitCode.error });
    return { name, action: 'created' };
  }
  if (missing.length) {
    const patch = { data: Object.fromEntries(missing.map((k) => [k, Buffer.from(creds[k]).toString('base64')])) };
    const r = await kube.run(['patch', 'secret', name, '-n', ns, '--type=merge', '--patch-file=/dev/stdin'], { input: JSON.stringify(patch) });
    if (r.exitCode !== 0) throw new UserError(`could not add ${missing.join(', ')} to Secret ${name}: ${r.stderr.trim()}`, { exitCode: ExitCode.error });
    return { name, action: 'completed' };
  }
  return { name, action: 'reused' };
}

/** A redactor built from the credentials Secret's actual values (plus any values we hold in memory). */
export async function redactorFor(kube: Kube, namespace: string, secretName: string, extra: Record<string, string> = {}): Promise<Redactor> {
  let values: Record<string, string> = {};
  try {
    const s = await kube.getObject<K8sObject & { data?: Record<string, string> }>('secret', secretName, namespace);
    values = decodeSecretData(s?.data);
  } catch {
    // no read access: redact what we know
  }
  return makeRedactor({ ...extra, ...values });
}

// ---- helm release state -----------------------------------------------------------------------------------------

export interface HistoryRow {
  revision: number;
  status: string;
  chart?: string;
  app_version?: string;
  updated?: string;
  description?: string;
}

export async function releaseHistory(ctx: Context, helm: HelmInfo, release: string, namespace: string): Promise<HistoryRow[] | undefined> {
  const r = await runHelm(helm.path, historyArgv({ release, ...conn(ctx, namespace), max: 50 }), { env: ctx.term.childEnv });
  if (r.exitCode !== 0) return undefined;
  try {
    return (JSON.parse(r.stdout) as HistoryRow[]).sort((a, b) => a.revision - b.revision);
  } catch {
    return undefined;
  }
}

export async function releaseStatus(ctx: Context, helm: HelmInfo, release: string, namespace: string): Promise<{ status: string; revision: number } | undefined> {
  const r = await runHelm(helm.path, statusArgv({ release, ...conn(ctx, namespace) }), { env: ctx.term.childEnv });
  if (r.exitCode !== 0) return undefined;
  try {
    const j = JSON.parse(r.stdout) as { version?: number; info?: { status?: string } };
    return { status: j.info?.status ?? 'unknown', revision: j.version ?? 0 };
  } catch {
    return undefined;
  }
}

export function lastGood(history: HistoryRow[]): HistoryRow | undefined {
  return [...history].reverse().find((h) => h.status === 'deployed' || h.status === 'superseded');
}

export function historyLines(history: HistoryRow[], max = 8): string[] {
  return history.slice(-max).map((h) => `  ${String(h.revision).padStart(3)}  ${h.status.padEnd(16)} ${(h.chart ?? '').padEnd(18)} ${h.updated ?? ''}  ${h.description ?? ''}`.trimEnd());
}

/** The exact command that rolls back, with the user's connection flags. */
export function rollbackCommand(ctx: Context, release: string, namespace: string, revision: number): string {
  const parts = ['robustmq-install', 'rollback', String(revision)];
  if (release !== 'robustmq') parts.push('--release', release);
  if (namespace !== 'robustmq') parts.push('-n', namespace);
  if (ctx.options.kubeContext) parts.push('--kube-context', ctx.options.kubeContext);
  if (ctx.options.kubeconfig) parts.push('--kubeconfig', ctx.options.kubeconfig);
  if (ctx.options.helm !== 'helm') parts.push('--helm', ctx.options.helm);
  return parts.join(' ');
}

/**
 * Guided recovery of a release left `pending-*` by an interrupted operation: shows the history and offers a rollback
 * to the last deployed revision (TTY), or fails with the exact command (no TTY). Returns true when it rolled back.
 */
export async function recoverPending(ctx: Context, helm: HelmInfo, release: string, namespace: string): Promise<boolean> {
  const st = await releaseStatus(ctx, helm, release, namespace);
  if (!st || !st.status.startsWith('pending-')) return false;
  const t = ctx.term;
  const history = (await releaseHistory(ctx, helm, release, namespace)) ?? [];
  const good = lastGood(history);
  t.warn(`release ${release} is ${st.status} at revision ${st.revision}: an earlier operation was interrupted before helm could finish it`);
  if (history.length) {
    t.line('  revision status           chart              updated');
    for (const l of historyLines(history)) t.line(l);
  }
  if (!good) {
    throw new UserError(`release ${release} is ${st.status} and no revision was ever deployed, so there is nothing to roll back to`, {
      exitCode: ExitCode.preflight,
      hint: `robustmq-install uninstall --release ${release} -n ${namespace} (keeps PVCs and the credentials Secret), then install again`,
    });
  }
  const cmd = rollbackCommand(ctx, release, namespace, good.revision);
  if (!t.interactive) {
    throw new UserError(`release ${release} is ${st.status} (revision ${st.revision}); roll it back to revision ${good.revision} (the last deployed) first`, { exitCode: ExitCode.preflight, hint: cmd });
  }
  const pr = await t.prompts();
  const ok = await pr.confirm({ message: `Roll back ${release} to revision ${good.revision} (last deployed) now?`, default: true }, t.promptContext);
  if (!ok) throw new UserError(`release ${release} left ${st.status}`, { exitCode: ExitCode.preflight, hint: cmd });
  const r = await rollbackAndWatch(ctx, { helm, kube: kubeOf(ctx), release, namespace, revision: good.revision });
  if (!r.ok) throw new UserError(`rollback to revision ${good.revision} did not become healthy`, { exitCode: ExitCode.health, hint: r.bundle ? `debug bundle: ${r.bundle}` : undefined });
  return true;
}

// ---- debug bundle -----------------------------------------------------------------------------------------------

export interface BundleRequest {
  kube: Kube;
  helm: HelmInfo;
  release: string;
  namespace: string;
  secretName: string;
  overlayYaml?: string;
  summary: string;
  verdict?: unknown;
  snapshot?: Snapshot;
  /** secret values held in memory (e.g. credentials just generated) */
  knownSecrets?: Record<string, string>;
}

/** Writes the redacted debug bundle under the current directory; returns its path (undefined if it could not). */
export async function writeDebugBundle(ctx: Context, b: BundleRequest): Promise<string | undefined> {
  const t = ctx.term;
  const dir = resolve(ctx.cwd, bundleDirName(b.release, ctx.now?.() ?? new Date()));
  try {
    const redact = await redactorFor(b.kube, b.namespace, b.secretName, b.knownSecrets);
    const pods = (b.snapshot?.pods ?? (await b.kube.list('pods', { namespace: b.namespace, selector: releaseSelector(b.release) }).catch(() => [])))
      .map((p) => {
        const pod = p as import('../core/k8s-types.js').K8sPod;
        const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
        const names = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => c.name);
        return { name: pod.metadata.name, containers: names.map((n) => ({ name: n, restarted: (statuses.find((s) => s.name === n)?.restartCount ?? 0) > 0 })) };
      })
      .slice(0, 30);
    const items = bundleItems({
      release: b.release,
      namespace: b.namespace,
      selector: releaseSelector(b.release),
      helmConnection: connectionFlags(conn(ctx, b.namespace)),
      pods,
      summary: b.summary,
      ...(b.overlayYaml !== undefined ? { overlayYaml: b.overlayYaml } : {}),
      ...(b.verdict !== undefined ? { verdict: b.verdict } : {}),
    });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const queue = [...items];
    const worker = async () => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        let text: string;
        if (item.source.kind === 'text') text = item.source.text;
        else if (item.source.kind === 'kubectl') {
          const r = await b.kube.run(item.source.argv, { timeoutMs: 60_000 });
          text = r.exitCode === 0 ? r.stdout : `${r.stdout}\n(kubectl ${item.source.argv.join(' ')} failed: ${r.stderr.trim()})\n`;
        } else {
          const r: RunResult = await runHelm(b.helm.path, item.source.argv, { env: ctx.term.childEnv });
          text = r.exitCode === 0 ? r.stdout : `${r.stdout}\n(helm ${item.source.argv.join(' ')} failed: ${r.stderr.trim()})\n`;
        }
        const path = join(dir, item.file);
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
        writeFileSync(path, redact(text), { mode: 0o600 });
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    return dir;
  } catch (e) {
    t.warn(`could not write the debug bundle to ${dir}: ${(e as Error).message}`);
    return undefined;
  }
}

// ---- rollback ---------------------------------------------------------------------------------------------------

export interface RollbackOutcome {
  ok: boolean;
  exitCode: number;
  verdict?: Verdict;
  helm?: RunResult;
  bundle?: string;
}

/**
 * `helm rollback` (with its own --wait) while the pods are watched; runs to completion even after Ctrl-C. Then the
 * old revision's health is checked from a fresh snapshot.
 */
export async function rollbackAndWatch(ctx: Context, o: { helm: HelmInfo; kube: Kube; release: string; namespace: string; revision?: number; overlayYaml?: string; secretName?: string }): Promise<RollbackOutcome> {
  const t = ctx.term;
  const start = Date.now();
  const watch = new ReleaseWatch(o.kube, o.namespace, o.release);
  const progress = new Progress(ctx);
  watch.start();
  const argv = rollbackArgv({ helmMajor: o.helm.major, release: o.release, revision: o.revision, ...conn(ctx, o.namespace), timeout: ctx.options.timeout });
  if (!t.json) t.line(`→ ${[o.helm.path, ...argv].join(' ')}`);
  let done = false;
  // Rollbacks are never interrupted: 'finish' forwards nothing, whatever the user presses.
  const hp = runHelm(o.helm.path, argv, { env: t.childEnv, signal: ctx.signal, onAbort: 'finish' }).finally(() => {
    done = true;
  });
  const deleted = new Set<string>();
  try {
    while (!done) {
      await Promise.race([hp, sleep(TICK_MS)]);
      const v = verdictOf(watch.snapshot(), { now: Date.now(), since: start });
      progress.show(v, 'rollback');
      // "Forced rollback" (StatefulSet docs): a pod stuck on the failed revision may never be replaced by the
      // controller (OrderedReady waits for it to become Ready); once the restored revision is the update
      // revision, delete it so it is recreated from the restored template. Harmless with Parallel.
      for (const pod of v.roles.flatMap((r) => r.pods)) {
        if (pod.outdated && pod.issue?.terminal && !deleted.has(pod.name)) {
          deleted.add(pod.name);
          await o.kube.run(['delete', 'pod', '-n', o.namespace, pod.name, '--wait=false']);
          if (!t.json) t.line(`  deleted pod ${pod.name}: stuck on the failed revision (${pod.issue.reason}); its StatefulSet recreates it from the restored one`);
        }
      }
    }
  } finally {
    await hp.catch(() => undefined);
    await watch.stop();
  }
  const r = await hp;
  const snap = await snapshotOnce(o.kube, o.namespace, o.release).catch(() => undefined);
  const v = snap ? verdictOf(snap, { now: Date.now(), since: start }) : undefined;
  if (r.exitCode === 0 && v?.status === 'healthy') {
    if (!t.json) t.ok(`rolled back ${o.release}${o.revision ? ` to revision ${o.revision}` : ''}: ${v.summary}`);
    return { ok: true, exitCode: ExitCode.ok, verdict: v, helm: r };
  }
  const why = r.exitCode !== 0 ? `helm rollback failed (exit ${r.exitCode}): ${lastLines(r.stderr)}` : `the pods are not healthy: ${v ? notReadyLines(v).join('; ') || v.summary : 'no snapshot'}`;
  if (!t.json) t.error(`rollback of ${o.release} did not finish healthy: ${why}`);
  const bundle = await writeDebugBundle(ctx, {
    kube: o.kube,
    helm: o.helm,
    release: o.release,
    namespace: o.namespace,
    secretName: o.secretName ?? `${o.release}-credentials`,
    summary: `rollback of ${o.release}${o.revision ? ` to revision ${o.revision}` : ''} failed: ${why}\n`,
    ...(o.overlayYaml !== undefined ? { overlayYaml: o.overlayYaml } : {}),
    ...(v ? { verdict: v } : {}),
    ...(snap ? { snapshot: snap } : {}),
  });
  if (bundle && !t.json) t.line(`  debug bundle: ${bundle}`);
  return { ok: false, exitCode: ExitCode.health, ...(v ? { verdict: v } : {}), helm: r, ...(bundle ? { bundle } : {}) };
}

function lastLines(s: string, n = 3): string {
  return s.trim().split('\n').filter(Boolean).slice(-n).join(' | ');
}

const HELM_TIMEOUT = /context deadline exceeded|timed out waiting for the condition|timeout waiting|\bdeadline\b/i;
const HELM_NOT_READY = /not ready\. status: (Failed|InProgress)|pods? (have|has) failed|resource not ready/i;

// ---- the flow ---------------------------------------------------------------------------------------------------

export interface DeployResult {
  ok: boolean;
  exitCode: number;
  action: 'install' | 'upgrade';
  release: string;
  namespace: string;
  revision?: number;
  status?: string;
  verdict?: Verdict;
  failure?: string;
  bundle?: string;
  rolledBack?: { to?: number; ok: boolean };
  smoke?: SmokeResult;
  secret?: { name: string; action: string };
}

/** Runs plan.helm (install/upgrade) concurrently with the pod watch; returns the exit code (0, 1, 3, 4, 130). */
export async function deploy(ctx: Context, req: DeployRequest): Promise<number> {
  const res = await deployFlow(ctx, req);
  if (ctx.term.json) {
    const { verdict, ...rest } = res;
    ctx.term.writeJson({ ...rest, ...(verdict ? { health: { status: verdict.status, summary: verdict.summary, roles: verdict.roles.map((r) => ({ role: r.role, ready: r.ready, desired: r.desired })), failure: verdict.failure ?? null } } : {}) });
  }
  return res.exitCode;
}

export async function deployFlow(ctx: Context, req: DeployRequest): Promise<DeployResult> {
  const { plan, helm } = req;
  const t = ctx.term;
  const action: 'install' | 'upgrade' = plan.action === 'upgrade' ? 'upgrade' : 'install';
  const base = { action, release: plan.release, namespace: plan.namespace };
  const kube = kubeOf(ctx);
  const step = plan.helm.find((s) => s.mutates && (s.argv[0] === 'install' || s.argv[0] === 'upgrade'));
  if (!step) throw new UserError('internal: the plan has no install/upgrade step', { exitCode: ExitCode.error });

  // 1. preflight (proves, touches nothing)
  if (!req.preflightDone) {
    const { gatherPreflight, printResults, assertPreflight } = await import('../commands/preflight.js');
    if (!t.json) t.line(t.style('bold', 'Preflight'));
    const { results } = await gatherPreflight(ctx, { mode: action, plan, helm, facts: req.facts, smoke: !ctx.options.skipSmoke });
    if (!t.json) printResults(ctx, results);
    assertPreflight(ctx, results);
  }
  if (ctx.signal.aborted) return { ...base, ok: false, exitCode: ExitCode.aborted, failure: 'aborted before anything was changed' };

  // The watch starts before the namespace and Secret steps, so starting its kubectl processes overlaps those steps
  // rather than competing with helm for the CPU (bench P3). A namespace that does not exist yet is fine to watch.
  const watch = new ReleaseWatch(kube, plan.namespace, plan.release);
  watch.start();
  let secret: Awaited<ReturnType<typeof ensureCredentials>>;
  let knownSecrets: Record<string, string>;
  let rollbackTo: number | undefined;
  let stsBefore: Map<string, number | undefined> | undefined;
  try {
    // 2. repo steps (only with --repo-url), namespace, credentials
    for (const s of plan.helm.filter((x) => x !== step && x.mutates)) {
      const r = await runHelm(helm.path, s.argv, { env: t.childEnv, signal: ctx.signal });
      if (r.exitCode !== 0) throw new UserError(`${s.purpose} failed: helm ${s.argv.join(' ')}: ${lastLines(r.stderr)}`, { exitCode: ExitCode.error });
    }
    if ((await ensureNamespace(ctx, kube, plan.namespace)) === 'created' && !t.json) t.ok(`namespace ${plan.namespace} created`);
    secret = await ensureCredentials(ctx, kube, plan, req.credentials);
    if (!t.json) {
      const what = { created: 'created (random values; never printed)', reused: 'exists: reused as-is', completed: 'exists: missing keys added', user: 'given by auth.existingSecret' }[secret.action];
      t.ok(`Secret ${secret.name} ${what}`);
    }
    knownSecrets = secret.action === 'created' ? { ...req.credentials } : {};

    // Where a failed upgrade goes back to.
    rollbackTo = req.rollbackTo;
    if (action === 'upgrade' && rollbackTo === undefined) {
      const rel = req.facts.existingRelease;
      if (rel?.status === 'deployed') rollbackTo = rel.revision;
      else rollbackTo = lastGood((await releaseHistory(ctx, helm, plan.release, plan.namespace)) ?? [])?.revision;
    }
    // An upgrade starts from Ready pods: remember the StatefulSets as they were, so the early healthy line waits
    // for helm's change to reach them.
    if (action === 'upgrade') stsBefore = stsGenerations(await kube.list<K8sStatefulSet>('statefulsets.apps', { namespace: plan.namespace, selector: `app.kubernetes.io/instance=${plan.release}` }));
  } catch (e) {
    await watch.stop();
    throw e;
  }

  // What every debug bundle of this run has; each failure adds its summary, verdict and snapshot.
  const bundleOf = (what: Pick<BundleRequest, 'summary' | 'verdict' | 'snapshot'>) =>
    writeDebugBundle(ctx, { kube, helm, release: plan.release, namespace: plan.namespace, secretName: secret.name, overlayYaml: plan.overlayYaml, knownSecrets, ...what });

  // 3. helm with its own --wait, the watch alongside
  const start = Date.now();
  const progress = new Progress(ctx);
  const helmAbort = new AbortController();
  const forwardAbort = () => helmAbort.abort(ctx.signal.reason);
  if (ctx.signal.aborted) forwardAbort();
  else ctx.signal.addEventListener('abort', forwardAbort, { once: true });
  if (!t.json) t.line(`→ ${[helm.path, ...step.argv].join(' ')}`);
  let helmDone = false;
  const hp = runHelm(helm.path, step.argv, { env: t.childEnv, signal: helmAbort.signal, onAbort: 'forward' }).finally(() => {
    helmDone = true;
  });
  let failure: (Verdict & { known: boolean }) | undefined;
  let last: (Verdict & { known: boolean }) | undefined;
  // Judged on every watch event (the limit is the latency of an event, not a poll interval); the tick only moves
  // the time-based thresholds (grace periods) along when nothing changes.
  let changed: () => void = () => undefined;
  const unsubscribe = watch.onChange(() => changed());
  let healthySummary: string | undefined;
  let judgedAt = 0;
  try {
    while (!helmDone) {
      const change = new Promise<void>((resolve) => (changed = resolve));
      await Promise.race([hp, sleep(TICK_MS), change]);
      if (helmDone) break;
      // A rollout of hundreds of pods is a burst of thousands of events: judge the burst, not every event in it
      // (bench P5 measured 4.2 s of CPU at 300 pods judging each one).
      const wait = JUDGE_INTERVAL_MS - (Date.now() - judgedAt);
      if (wait > 0) await Promise.race([hp, sleep(wait)]);
      if (helmDone) break;
      judgedAt = Date.now();
      last = verdictOf(watch.snapshot(), { now: Date.now(), since: start });
      if (last.status === 'healthy' && healthySummary === undefined && (!stsBefore || rolledOutSince(stsBefore, watch.snapshot().statefulSets))) {
        // said as soon as it is seen; helm's own --wait still has to agree before the run counts as done
        healthySummary = last.summary;
        if (!t.json) t.ok(`pods: ${last.summary} (after ${secs(Date.now() - start)}; waiting for helm to finish)`);
      } else if (last.status !== 'healthy') progress.show(last);
      if (last.status === 'failed' && !ctx.signal.aborted) {
        failure = last;
        break;
      }
    }
  } catch (e) {
    unsubscribe();
    // helm could not be started at all: nothing is left running but the watch
    await watch.stop();
    ctx.signal.removeEventListener('abort', forwardAbort);
    throw e;
  }

  // 3a. terminal failure seen while helm waits: evidence first, then stop helm with one SIGTERM
  if (failure?.failure) {
    const f = failure.failure;
    if (!t.json) {
      t.error(`${action} failed after ${secs(Date.now() - start)}: ${f.object}: ${f.reason}`);
      for (const l of describeFailure(f).split('\n').slice(1)) t.line(l);
    }
    if (f.logsFrom) {
      const logs = await kube.logs(plan.namespace, f.logsFrom.pod, f.logsFrom.container, { tail: 15, previous: f.logsFrom.previous });
      const redact = await redactorFor(kube, plan.namespace, secret.name, knownSecrets);
      if (logs.trim() && !t.json) {
        t.line(`  last log lines of ${f.logsFrom.pod}/${f.logsFrom.container}${f.logsFrom.previous ? ' (previous instance)' : ''}:`);
        for (const l of redact(logs).trimEnd().split('\n')) t.line(`    ${l}`);
      }
    }
    const bundle = await bundleOf({
      summary: `${action} of ${plan.release} failed: ${describeFailure(f)}\n\nhelm command: ${[helm.path, ...step.argv].join(' ')}\n`,
      verdict: failure,
      snapshot: watch.snapshot(),
    });
    if (bundle && !t.json) t.line(`  debug bundle: ${bundle}`);
    if (!t.json) t.line(`  stopping helm (one SIGTERM; helm marks the release failed)…`);
    helmAbort.abort('SIGTERM');
    const r = await hp;
    unsubscribe();
    await watch.stop();
    ctx.signal.removeEventListener('abort', forwardAbort);
    const st = await releaseStatus(ctx, helm, plan.release, plan.namespace);
    const after = `helm exited ${r.exitCode} after one SIGTERM; release ${plan.release} is ${st ? `${st.status} (revision ${st.revision})` : 'unknown'}`;
    if (!t.json) t.line(`  ${after}`);
    if (bundle) appendFileSync(join(bundle, 'README.txt'), `\nafter the bundle was written: ${after}\n`);
    const out: DeployResult = { ...base, ok: false, exitCode: ExitCode.health, verdict: failure, failure: describeFailure(f), ...(bundle ? { bundle } : {}), ...(st ? { status: st.status, revision: st.revision } : {}), secret };
    return finishFailure(ctx, out, { helm, kube, plan, rollbackOn: req.rollbackOnFailure, rollbackTo, secretName: secret.name });
  }

  const r = await hp;
  unsubscribe();
  await watch.stop();
  ctx.signal.removeEventListener('abort', forwardAbort);

  // 3b. aborted by the user: helm got exactly one signal and has exited
  if (ctx.signal.aborted) {
    const st = await releaseStatus(ctx, helm, plan.release, plan.namespace);
    if (!t.json) {
      t.warn(`interrupted (${String(ctx.signal.reason ?? 'signal')}): helm exited ${r.exitCode}; release ${plan.release} is ${st ? `${st.status} (revision ${st.revision})` : 'not installed'}`);
      if (st?.status.startsWith('pending-')) t.line(`  it is still ${st.status}: the next run offers a rollback (robustmq-install upgrade), or: ${rollbackCommand(ctx, plan.release, plan.namespace, rollbackTo ?? st.revision - 1)}`);
      else if (action === 'upgrade' && rollbackTo) t.line(`  to return to revision ${rollbackTo}: ${rollbackCommand(ctx, plan.release, plan.namespace, rollbackTo)}`);
      else if (st) t.line('  run the same command again to retry (as an upgrade), or robustmq-install uninstall');
    }
    return { ...base, ok: false, exitCode: ExitCode.aborted, failure: 'aborted', ...(st ? { status: st.status, revision: st.revision } : {}), secret };
  }

  // 3c. helm failed on its own: a timeout is a health failure (4), anything else an error (1)
  if (r.exitCode !== 0) {
    const snap = await snapshotOnce(kube, plan.namespace, plan.release).catch(() => undefined);
    const v = snap ? verdictOf(snap, { now: Date.now(), since: start }) : last;
    const timedOut = HELM_TIMEOUT.test(r.stderr);
    // helm 4's kstatus watcher gives up by itself at the first CrashLoopBackOff ("status: Failed, message: N pods
    // have failed"), before the CLI's own crash-loop grace is over: still a health failure, reported with our reasons.
    const notReady = !timedOut && HELM_NOT_READY.test(r.stderr);
    const reasons = v ? notReadyLines(v) : [];
    const state = `${v?.summary ?? 'unknown pod state'}${reasons.length ? `: ${reasons.join('; ')}` : ''}`;
    const why = timedOut
      ? `timed out after ${secs(Date.now() - start)} (--timeout ${ctx.options.timeout}) with ${state}`
      : notReady
        ? `helm's readiness wait gave up after ${secs(Date.now() - start)} (${lastLines(r.stderr, 1).replace(/^Error: /, '')}) with ${state}`
        : `helm ${step.argv[0]} failed (exit ${r.exitCode}): ${lastLines(r.stderr, 5)}`;
    if (!t.json) t.error(`${action} failed: ${why}`);
    const crashed = v?.roles.flatMap((x) => x.pods).find((p) => p.issue?.kind === 'crash-loop' && p.issue.container);
    if ((timedOut || notReady) && crashed && !t.json) {
      const logs = await kube.logs(plan.namespace, crashed.name, crashed.issue!.container!, { tail: 15, previous: true });
      if (logs.trim()) {
        const redact = await redactorFor(kube, plan.namespace, secret.name, knownSecrets);
        t.line(`  last log lines of ${crashed.name}/${crashed.issue!.container} (previous instance):`);
        for (const l of redact(logs).trimEnd().split('\n')) t.line(`    ${l}`);
      }
    }
    const st = await releaseStatus(ctx, helm, plan.release, plan.namespace);
    const bundle = st
      ? await bundleOf({
          summary: `${action} of ${plan.release} failed: ${why}\n\nhelm stderr:\n${r.stderr}\n`,
          ...(v ? { verdict: v } : {}),
          ...(snap ? { snapshot: snap } : {}),
        })
      : undefined;
    if (bundle && !t.json) t.line(`  debug bundle: ${bundle}`);
    const out: DeployResult = { ...base, ok: false, exitCode: timedOut || notReady ? ExitCode.health : ExitCode.error, failure: why, ...(v ? { verdict: v } : {}), ...(bundle ? { bundle } : {}), ...(st ? { status: st.status, revision: st.revision } : {}), secret };
    // Only a revision this run created is rolled back (helm may fail before creating one).
    const fromRevision = req.facts.existingRelease?.revision ?? 0;
    const newRevision = !!st && st.revision > fromRevision && st.status !== 'deployed';
    return newRevision || action === 'install' ? finishFailure(ctx, out, { helm, kube, plan, rollbackOn: req.rollbackOnFailure, rollbackTo, secretName: secret.name }) : out;
  }

  // 4. helm succeeded: confirm from a fresh snapshot, then the RobustMQ check and helm test
  const st = await releaseStatus(ctx, helm, plan.release, plan.namespace);
  const snap = await snapshotOnce(kube, plan.namespace, plan.release);
  const v = verdictOf(snap, { now: Date.now(), since: start });
  if (!t.json) t.ok(`helm ${step.argv[0]} finished in ${secs(Date.now() - start)}: release ${plan.release} revision ${st?.revision ?? '?'} ${st?.status ?? ''}`.trimEnd());
  if (v.status !== 'healthy') {
    const why = `helm reported success but the pods are not all Ready: ${v.summary}; ${notReadyLines(v).join('; ')}`;
    if (!t.json) t.error(why);
    const bundle = await bundleOf({ summary: `${why}\n`, verdict: v, snapshot: snap });
    const out: DeployResult = { ...base, ok: false, exitCode: ExitCode.health, verdict: v, failure: why, ...(bundle ? { bundle } : {}), ...(st ? { status: st.status, revision: st.revision } : {}), secret };
    return finishFailure(ctx, out, { helm, kube, plan, rollbackOn: req.rollbackOnFailure, rollbackTo, secretName: secret.name });
  }
  if (!t.json && v.summary !== healthySummary) t.ok(`pods: ${v.summary}`);
  const sm = await smoke(ctx, { kube, helm, release: plan.release, namespace: plan.namespace, timeout: ctx.options.timeout });
  printSmoke(ctx, sm);
  if (sm.status === 'failed') {
    const bundle = await bundleOf({ summary: `${sm.lines.join('\n')}\n`, verdict: { health: v, smoke: sm }, snapshot: snap });
    const out: DeployResult = { ...base, ok: false, exitCode: ExitCode.health, verdict: v, failure: sm.lines.join('\n'), ...(bundle ? { bundle } : {}), ...(st ? { status: st.status, revision: st.revision } : {}), smoke: sm, secret };
    return finishFailure(ctx, out, { helm, kube, plan, rollbackOn: req.rollbackOnFailure, rollbackTo, secretName: secret.name });
  }
  if (!t.json) await printAccess(ctx, kube, plan.release, plan.namespace);
  return { ...base, ok: true, exitCode: ExitCode.ok, verdict: v, ...(st ? { status: st.status, revision: st.revision } : {}), smoke: sm, secret };
}

/** After a failed install/upgrade: rollback (upgrade with rollback on), then the exit code (4, or 130 if aborted). */
async function finishFailure(ctx: Context, out: DeployResult, o: { helm: HelmInfo; kube: Kube; plan: Plan; rollbackOn: boolean; rollbackTo?: number; secretName: string }): Promise<DeployResult> {
  const t = ctx.term;
  const { plan } = o;
  if (out.bundle === undefined && !t.json) t.line('  (no debug bundle)');
  if (out.action === 'install') {
    if (!t.json) {
      t.line(`  the failed release and its pods are kept for inspection (install never uninstalls).`);
      const sel = `${plan.release !== 'robustmq' ? ` --release ${plan.release}` : ''}${plan.namespace !== 'robustmq' ? ` -n ${plan.namespace}` : ''}`;
      t.line(`  next: fix the cause, then robustmq-install upgrade${sel} with the fix (the release exists now), or robustmq-install uninstall${sel} (keeps PVCs and the credentials Secret)`);
    }
    return ctx.signal.aborted ? { ...out, exitCode: ExitCode.aborted } : out;
  }
  if (!o.rollbackOn) {
    if (!t.json) t.line(`  rollback off (--no-rollback-on-failure): release ${plan.release} stays ${out.status ?? 'failed'}${o.rollbackTo ? `; to go back: ${rollbackCommand(ctx, plan.release, plan.namespace, o.rollbackTo)}` : ''}`);
    return ctx.signal.aborted ? { ...out, exitCode: ExitCode.aborted } : out;
  }
  if (o.rollbackTo === undefined) {
    if (!t.json) t.warn(`no earlier deployed revision of ${plan.release} to roll back to: the release stays ${out.status ?? 'failed'}`);
    return ctx.signal.aborted ? { ...out, exitCode: ExitCode.aborted } : out;
  }
  if (!t.json) t.line(t.style('bold', `Rolling back ${plan.release} to revision ${o.rollbackTo}`));
  const rb = await rollbackAndWatch(ctx, { helm: o.helm, kube: o.kube, release: plan.release, namespace: plan.namespace, revision: o.rollbackTo, overlayYaml: plan.overlayYaml, secretName: o.secretName });
  const res: DeployResult = { ...out, rolledBack: { to: o.rollbackTo, ok: rb.ok } };
  if (ctx.signal.aborted) return { ...res, exitCode: ExitCode.aborted };
  return res;
}

/** Services and how to reach them: type, ports, load-balancer address. */
export async function printAccess(ctx: Context, kube: Kube, release: string, namespace: string): Promise<void> {
  const t = ctx.term;
  const svcs = await kube.list<import('../core/k8s-types.js').K8sService>('services', { namespace, selector: `app.kubernetes.io/instance=${release}` }).catch(() => []);
  for (const s of svcs) {
    if (s.spec?.clusterIP === 'None') continue;
    const ports = (s.spec?.ports ?? []).map((p) => `${p.name ?? p.protocol ?? ''} ${p.port}${p.nodePort ? `:${p.nodePort}` : ''}`.trim()).join(', ');
    const lb = (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname).filter(Boolean);
    const addr = s.spec?.type === 'LoadBalancer' ? (lb.length ? ` at ${lb.join(', ')}` : ' (load-balancer address pending)') : '';
    t.line(`  service ${s.metadata.name}: ${s.spec?.type ?? 'ClusterIP'}${addr} [${ports}]`);
  }
  const mqtt = svcs.find((s) => s.spec?.clusterIP !== 'None' && (s.spec?.ports ?? []).some((p) => p.port === 1883));
  if (mqtt) t.line(`  MQTT in the cluster: ${mqtt.metadata.name}.${namespace}.svc:1883`);
  t.line(`  the MQTT password is in Secret ${release}-credentials, key mqtt-password (never printed by this tool)`);
}
