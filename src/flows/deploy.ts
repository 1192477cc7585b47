// The deploy flow: preflight → namespace + credentials Secret → helm install|upgrade while the CLI watches the pods →
// the CLI's health watch decides when the pods are Ready (by default helm only applies: its own --wait watcher lags
// the pods by 0.3–0.5 s; with --helm-wait, helm's --wait must agree too) → on a terminal failure: debug bundle, ONE
// SIGTERM to helm if it still runs (the release becomes `failed`, never `pending-*`), rollback (upgrade, default on)
// and exit 4 → on success: the RobustMQ check and helm test.
//
// Signals: ctx.signal aborts on the first Ctrl-C/SIGTERM. helm.ts forwards exactly one signal to install/upgrade
// and waits for it; rollbacks run to completion whatever happens. Exit 130 after an abort.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../context.js';
import { ExitCode, UserError } from '../core/errors.js';
import type { Facts } from '../core/facts.js';
import { describeFailure, notReadyLines, type Verdict } from '../core/health.js';
import type { K8sService, K8sStatefulSet } from '../core/k8s-types.js';
import type { Credentials } from '../core/overlay.js';
import type { Plan } from '../core/plan.js';
import { run as runHelm, type HelmInfo } from '../shell/helm.js';
import type { Kube } from '../shell/kube.js';
import { kubeOf, storedRelease } from './cluster.js';
import { ensureCredentials, ensureNamespace, redactorFor } from './credentials.js';
import { writeDebugBundle, type BundleRequest } from './debug-bundle.js';
import { lastLines, Progress, secs } from './progress.js';
import { lastGood, releaseHistory, releaseStatus, rollbackCommand } from './release.js';
import { rollbackAndWatch } from './rollback.js';
import { printSmoke, smoke, type SmokeResult } from './smoke.js';
import { caughtUp, ReleaseWatch, rolledOutSince, snapshotOnce, stsGenerations, verdictOf, type Snapshot } from './watch.js';

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
  // --helm-wait (or a helm-managed rollback): helm's own --wait must agree before the run is done
  const helmWaits = step.argv.some((a) => a.startsWith('--wait'));

  // 1. preflight (proves, touches nothing)
  if (!req.preflightDone) {
    const { gatherPreflight, printResults, assertPreflight } = await import('./preflight.js');
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
    if (action === 'upgrade' && helmWaits) stsBefore = stsGenerations(await kube.list<K8sStatefulSet>('statefulsets.apps', { namespace: plan.namespace, selector: `app.kubernetes.io/instance=${plan.release}` }));
  } catch (e) {
    await watch.stop();
    throw e;
  }

  // What every debug bundle of this run has; each failure adds its summary, verdict and snapshot.
  const bundleOf = (what: Pick<BundleRequest, 'summary' | 'verdict' | 'snapshot'>) =>
    writeDebugBundle(ctx, { kube, helm, release: plan.release, namespace: plan.namespace, secretName: secret.name, overlayYaml: plan.overlayYaml, knownSecrets, ...what });

  // 3. helm, the watch alongside. Without --helm-wait helm returns once the objects are applied, and the run is
  // done when the watch sees every pod Ready on what helm applied (or fails, or --timeout passes).
  const start = Date.now();
  const deadline = start + ctx.options.timeoutMs;
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
  // once helm has exited, waits race against the watch and the clock only
  const helmOrNever = (): Promise<unknown> => (helmDone ? new Promise<never>(() => undefined) : hp);
  let failure: (Verdict & { known: boolean }) | undefined;
  let last: (Verdict & { known: boolean }) | undefined;
  // Judged on every watch event (the limit is the latency of an event, not a poll interval); the tick only moves
  // the time-based thresholds (grace periods) along when nothing changes.
  let changed: () => void = () => undefined;
  const unsubscribe = watch.onChange(() => changed());
  const wakeOnAbort = () => changed();
  ctx.signal.addEventListener('abort', wakeOnAbort, { once: true });
  let healthySummary: string | undefined;
  let judgedAt = 0;
  /** without --helm-wait: the StatefulSets as helm left them, and the release it recorded */
  let applied: { generations: Map<string, number | undefined>; release?: { status: string; revision: number } } | undefined;
  let ownTimeout = false;
  let judgeNow = false;
  let healthy = false;
  try {
    for (;;) {
      if (helmDone) {
        if (helmWaits) break;
        const hr = await hp;
        if (hr.exitCode !== 0 || ctx.signal.aborted) break;
        if (!applied) {
          // (a failed read is tried again on the next tick, until --timeout)
          const read = await Promise.all([
            kube.list<K8sStatefulSet>('statefulsets.apps', { namespace: plan.namespace, selector: `app.kubernetes.io/instance=${plan.release}` }),
            storedRelease(ctx, plan.release, plan.namespace),
          ]).catch(() => undefined);
          if (read) {
            const [sts, rel] = read;
            applied = { generations: stsGenerations(sts.filter((x) => !x.metadata.deletionTimestamp)), ...(rel ? { release: rel } : {}) };
            if (!t.json) t.ok(`helm ${step.argv[0]} finished in ${secs(Date.now() - start)}: release ${plan.release}${rel ? ` revision ${rel.revision} ${rel.status}` : ''}; waiting for the pods`);
            // the pods may all be Ready already, with no event left to come: judge now
            judgeNow = true;
          }
        }
        if (Date.now() >= deadline) {
          ownTimeout = true;
          break;
        }
      }
      if (judgeNow) judgeNow = false;
      else {
        const change = new Promise<void>((resolve) => (changed = resolve));
        await Promise.race([helmOrNever(), sleep(TICK_MS), change]);
        if (helmDone && (helmWaits || !applied)) continue;
        if (ctx.signal.aborted && helmDone) continue;
        // A rollout of hundreds of pods is a burst of thousands of events: judge the burst, not every event in it
        // (bench P5 measured 4.2 s of CPU at 300 pods judging each one).
        const wait = Math.max(JUDGE_INTERVAL_MS, watch.judgeIntervalMs()) - (Date.now() - judgedAt);
        if (wait > 0) await Promise.race([helmOrNever(), watch.readyOrAfter(wait)]);
        if (helmDone && (helmWaits || !applied)) continue;
      }
      judgedAt = Date.now();
      const snap = watch.snapshot();
      last = verdictOf(snap, { now: Date.now(), since: start });
      // without --helm-wait nothing counts as healthy before helm has applied
      const reached = applied ? caughtUp(applied.generations, snap.statefulSets) : helmWaits && (!stsBefore || rolledOutSince(stsBefore, snap.statefulSets));
      if (last.status === 'healthy' && reached) {
        if (applied) {
          healthy = true;
          break;
        }
        if (healthySummary === undefined) {
          // said as soon as it is seen; helm's own --wait still has to agree before the run counts as done
          healthySummary = last.summary;
          if (!t.json) t.ok(`pods: ${last.summary} (after ${secs(Date.now() - start)}; waiting for helm to finish)`);
        }
      } else if (last.status !== 'healthy') progress.show(last);
      if (last.status === 'failed' && !ctx.signal.aborted) {
        failure = last;
        break;
      }
    }
  } catch (e) {
    unsubscribe();
    ctx.signal.removeEventListener('abort', wakeOnAbort);
    // helm could not be started at all: nothing is left running but the watch
    await watch.stop();
    ctx.signal.removeEventListener('abort', forwardAbort);
    throw e;
  }
  ctx.signal.removeEventListener('abort', wakeOnAbort);

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
    const helmWasRunning = !helmDone;
    if (helmWasRunning) {
      if (!t.json) t.line(`  stopping helm (one SIGTERM; helm marks the release failed)…`);
      helmAbort.abort('SIGTERM');
    }
    const r = await hp;
    unsubscribe();
    await watch.stop();
    ctx.signal.removeEventListener('abort', forwardAbort);
    const st = await releaseStatus(ctx, helm, plan.release, plan.namespace);
    const released = `release ${plan.release} is ${st ? `${st.status} (revision ${st.revision})` : 'unknown'}`;
    const after = helmWasRunning ? `helm exited ${r.exitCode} after one SIGTERM; ${released}` : `helm had applied it; ${released}, its pods are not healthy`;
    if (!t.json) t.line(`  ${after}`);
    if (bundle) appendFileSync(join(bundle, 'README.txt'), `\nafter the bundle was written: ${after}\n`);
    const out: DeployResult = { ...base, ok: false, exitCode: ExitCode.health, verdict: failure, failure: describeFailure(f), ...(bundle ? { bundle } : {}), ...(st ? { status: st.status, revision: st.revision } : {}), secret };
    return finishFailure(ctx, out, { helm, kube, plan, rollbackOn: req.rollbackOnFailure, rollbackTo, secretName: secret.name });
  }

  const r = await hp;
  const finalSnapshot = watch.snapshot();
  unsubscribe();
  await watch.stop();
  ctx.signal.removeEventListener('abort', forwardAbort);

  // 3b. aborted by the user: helm got exactly one signal and has exited
  if (ctx.signal.aborted) {
    const st = await releaseStatus(ctx, helm, plan.release, plan.namespace);
    if (!t.json) {
      t.warn(`interrupted (${String(ctx.signal.reason ?? 'signal')}): helm exited ${r.exitCode}; release ${plan.release} is ${st ? `${st.status} (revision ${st.revision})` : 'not installed'}`);
      if (applied && st?.status === 'deployed') t.line(`  helm had applied it before the interrupt; its pods were not yet all Ready (robustmq-install status shows them)`);
      if (st?.status.startsWith('pending-')) t.line(`  it is still ${st.status}: the next run offers a rollback (robustmq-install upgrade), or: ${rollbackCommand(ctx, plan.release, plan.namespace, rollbackTo ?? st.revision - 1)}`);
      else if (action === 'upgrade' && rollbackTo) t.line(`  to return to revision ${rollbackTo}: ${rollbackCommand(ctx, plan.release, plan.namespace, rollbackTo)}`);
      else if (st) t.line('  run the same command again to retry (as an upgrade), or robustmq-install uninstall');
    }
    return { ...base, ok: false, exitCode: ExitCode.aborted, failure: 'aborted', ...(st ? { status: st.status, revision: st.revision } : {}), secret };
  }

  // 3c. helm failed on its own, or (without --helm-wait) the pods were not Ready by --timeout: a timeout is a health
  // failure (4), anything else an error (1)
  if (r.exitCode !== 0 || ownTimeout) {
    const snap = await snapshotOnce(kube, plan.namespace, plan.release).catch(() => undefined);
    const v = snap ? verdictOf(snap, { now: Date.now(), since: start }) : last;
    const timedOut = ownTimeout || HELM_TIMEOUT.test(r.stderr);
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
    const newRevision = !!st && st.revision > fromRevision && (st.status !== 'deployed' || ownTimeout);
    return newRevision || action === 'install' ? finishFailure(ctx, out, { helm, kube, plan, rollbackOn: req.rollbackOnFailure, rollbackTo, secretName: secret.name }) : out;
  }

  // 4. helm succeeded and the pods are Ready (the watch saw it; with --helm-wait, confirmed from a fresh snapshot),
  // then the RobustMQ check and helm test
  let snap: Snapshot;
  let st: { status: string; revision: number } | undefined;
  if (healthy) {
    snap = finalSnapshot;
    st = applied?.release ?? (await releaseStatus(ctx, helm, plan.release, plan.namespace));
  } else {
    const [stored, fresh] = await Promise.all([storedRelease(ctx, plan.release, plan.namespace), snapshotOnce(kube, plan.namespace, plan.release)]);
    snap = fresh;
    st = stored ?? (await releaseStatus(ctx, helm, plan.release, plan.namespace));
    if (!t.json) t.ok(`helm ${step.argv[0]} finished in ${secs(Date.now() - start)}: release ${plan.release} revision ${st?.revision ?? '?'} ${st?.status ?? ''}`.trimEnd());
  }
  const v = healthy && last ? last : verdictOf(snap, { now: Date.now(), since: start });
  if (v.status !== 'healthy') {
    const why = `helm reported success but the pods are not all Ready: ${v.summary}; ${notReadyLines(v).join('; ')}`;
    if (!t.json) t.error(why);
    const bundle = await bundleOf({ summary: `${why}\n`, verdict: v, snapshot: snap });
    const out: DeployResult = { ...base, ok: false, exitCode: ExitCode.health, verdict: v, failure: why, ...(bundle ? { bundle } : {}), ...(st ? { status: st.status, revision: st.revision } : {}), secret };
    return finishFailure(ctx, out, { helm, kube, plan, rollbackOn: req.rollbackOnFailure, rollbackTo, secretName: secret.name });
  }
  if (!t.json && v.summary !== healthySummary) t.ok(`pods: ${v.summary}${healthy ? ` (after ${secs(Date.now() - start)})` : ''}`);
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
    if (!t.json) t.line(`  rollback off (--no-rollback-on-failure): release ${plan.release} stays ${out.status ?? 'failed'}${out.status === 'deployed' ? ' (not healthy)' : ''}${o.rollbackTo ? `; to go back: ${rollbackCommand(ctx, plan.release, plan.namespace, o.rollbackTo)}` : ''}`);
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
  const svcs = await kube.list<K8sService>('services', { namespace, selector: `app.kubernetes.io/instance=${release}` }).catch(() => []);
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
