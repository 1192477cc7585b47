// helm rollback with the pods watched to healthy; used by `rollback`, by a failed upgrade and by pending recovery.
import type { Context } from '../context.js';
import { ExitCode } from '../core/errors.js';
import { rollbackArgv } from '../core/flags.js';
import { isHookOrJobPod, notReadyLines, type Verdict } from '../core/health.js';
import { serverImages, standInImageOf } from '../core/standin.js';
import { run as runHelm, type HelmInfo, type RunResult } from '../shell/helm.js';
import type { Kube } from '../shell/kube.js';
import { connection } from './cluster.js';
import { writeDebugBundle } from './debug-bundle.js';
import { lastLines, Progress } from './progress.js';
import { ReleaseWatch, snapshotOnce, verdictOf } from './watch.js';

const TICK_MS = 1000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

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
  const argv = rollbackArgv({ helmMajor: o.helm.major, release: o.release, revision: o.revision, ...connection(ctx, o.namespace), timeout: ctx.options.timeout });
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
    const standIn = snap && standInImageOf(serverImages(snap.pods.filter((p) => !isHookOrJobPod(p))));
    if (!t.json) t.ok(`rolled back ${o.release}${o.revision ? ` to revision ${o.revision}` : ''}: ${v.summary}${standIn ? ` (STAND-IN ${standIn}, not RobustMQ)` : ''}`);
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
