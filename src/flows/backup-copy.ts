// Copy backups against the cluster, for clusters without CSI snapshots: stopping a release (its StatefulSets scaled to
// 0, the recorded replica counts given back at the end whatever happened) and a short-lived pod per PVC that tar is
// exec'd in, streaming a volume's files to or from a local archive. The pod spec and the rules are pure, in
// src/core/backup.ts; this is their IO.
import { join } from 'node:path';
import type { Context } from '../context.js';
import {
  accessText,
  backupAccessChecks,
  COPY_COMPONENT,
  COPY_CONTAINER,
  copyPod,
  copyPodName,
  copyPreflight,
  serverPodSelector,
  TAR_IN,
  TAR_OUT,
  tarInSucceeded,
  type CopyPodSpec,
  type PlannedPvc,
} from '../core/backup.js';
import { ExitCode, UserError } from '../core/errors.js';
import type { K8sPod, K8sPvc, K8sStatefulSet } from '../core/k8s-types.js';
import { closeFd, fileDigest, openForReading, openNewPrivateFile } from '../shell/files.js';
import type { Kube } from '../shell/kube.js';
import { secs } from './progress.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const POLL_MS = 1000;

export interface CopyReadiness {
  problems: { message: string; hint: string }[];
  /** pvc → the PVC as it is (storage class and access modes go into the backup file) */
  pvcs: Map<string, K8sPvc>;
}

/** Preflight of a copy backup: every PVC Bound, the permissions, the Secret, no leftover copy pods. Changes nothing. */
export async function checkCopySupport(kube: Kube, o: { namespace: string; release: string; pvcs: PlannedPvc[]; secretName: string; secretFound: boolean }): Promise<CopyReadiness> {
  const [pvcs, access, leftovers] = await Promise.all([
    kube.list<K8sPvc>('persistentvolumeclaims', { namespace: o.namespace }),
    kube.accessReviews(backupAccessChecks(o.namespace, true)).catch(() => []),
    kube.list<K8sPod>('pods', { namespace: o.namespace, selector: copySelector(o.release) }),
  ]);
  const byName = new Map(pvcs.map((p) => [p.metadata.name, p]));
  const phases: Record<string, string> = {};
  for (const p of o.pvcs) {
    const pvc = byName.get(p.name);
    if (pvc) phases[p.name] = pvc.status?.phase ?? 'Pending';
  }
  const problems = copyPreflight({
    planned: o.pvcs.map((p) => p.name),
    phases,
    denied: access.filter((a) => !a.allowed).map(accessText),
    secretName: o.secretName,
    secretFound: o.secretFound,
    leftoverPods: leftovers.map((p) => p.metadata.name),
  });
  return { problems, pvcs: byName };
}

export function copySelector(release: string): string {
  return `app.kubernetes.io/instance=${release},app.kubernetes.io/component=${COPY_COMPONENT}`;
}

export interface Stopped {
  /** StatefulSet → the replicas it had */
  replicas: Map<string, number>;
}

/** The release's StatefulSets and their replica counts now (the ones its PVCs belong to). */
export async function recordReplicas(kube: Kube, namespace: string, statefulSets: string[]): Promise<Stopped> {
  const items = await kube.list<K8sStatefulSet>('statefulsets.apps', { namespace });
  const replicas = new Map<string, number>();
  for (const name of statefulSets) {
    const s = items.find((x) => x.metadata.name === name);
    if (!s) throw new UserError(`StatefulSet ${name} of the release does not exist`, { exitCode: ExitCode.preflight, hint: 'the release is not as its values describe it: robustmq-install status' });
    replicas.set(name, (s.spec as { replicas?: number } | undefined)?.replicas ?? 1);
  }
  return { replicas };
}

async function scale(kube: Kube, namespace: string, sts: string, replicas: number): Promise<string | undefined> {
  // its own process group: a Ctrl-C during the scale-back must not kill it
  const r = await kube.run(['scale', 'statefulset', sts, '-n', namespace, `--replicas=${replicas}`], { detached: true, timeoutMs: 60_000 });
  return r.exitCode === 0 ? undefined : r.stderr.trim() || `exit ${r.exitCode}`;
}

/** Scales every StatefulSet to 0 and waits until no server pod of the release is left. */
export async function stopRelease(ctx: Context, kube: Kube, namespace: string, release: string, stopped: Stopped, deadline: number): Promise<void> {
  const t = ctx.term;
  const t0 = Date.now();
  for (const sts of stopped.replicas.keys()) {
    const err = await scale(kube, namespace, sts, 0);
    if (err) throw new UserError(`could not scale StatefulSet ${sts} to 0: ${err}`, { exitCode: ExitCode.error });
  }
  for (;;) {
    const left = await kube.list<K8sPod>('pods', { namespace, selector: serverPodSelector(release) }).catch(() => undefined);
    if (left && left.length === 0) break;
    if (ctx.signal.aborted) throw new UserError('interrupted while the release stopped', { exitCode: ExitCode.aborted });
    if (Date.now() > deadline) throw new UserError(`the release's pods did not stop within --timeout ${ctx.options.timeout}: ${(left ?? []).map((p) => p.metadata.name).join(', ')}`, { exitCode: ExitCode.health, hint: 'a pod stuck in Terminating usually waits for its node: kubectl describe pod' });
    await sleep(POLL_MS);
  }
  if (!t.json) t.ok(`release stopped: ${[...stopped.replicas.keys()].join(', ')} scaled to 0 (${secs(Date.now() - t0)})`);
}

/**
 * Gives every StatefulSet its recorded replicas back and waits until they are all Ready. Never throws: the problems
 * come back (the caller reports them after whatever else went wrong).
 */
export async function startRelease(ctx: Context, kube: Kube, namespace: string, stopped: Stopped, deadline: number): Promise<string[]> {
  const t = ctx.term;
  const t0 = Date.now();
  const problems: string[] = [];
  for (const [sts, n] of stopped.replicas) {
    let err = await scale(kube, namespace, sts, n).catch((e: Error) => e.message);
    // one retry: the proxy or the API may have hiccupped under a Ctrl-C
    if (err) err = await scale(kube, namespace, sts, n).catch((e: Error) => e.message);
    if (err) problems.push(`could not scale ${sts} back to ${n}: ${err} (kubectl scale statefulset ${sts} -n ${namespace} --replicas=${n})`);
  }
  if (problems.length) return problems;
  if (!t.json) t.line(`  starting the release again: ${[...stopped.replicas].map(([s, n]) => `${s} → ${n}`).join(', ')}…`);
  for (;;) {
    const items = await kube.list<K8sStatefulSet>('statefulsets.apps', { namespace }).catch(() => undefined);
    const waiting = [...stopped.replicas].filter(([name, n]) => {
      const s = items?.find((x) => x.metadata.name === name);
      const st = s?.status as { readyReplicas?: number; replicas?: number } | undefined;
      return !s || (st?.readyReplicas ?? 0) < n;
    });
    if (items && waiting.length === 0) break;
    if (Date.now() > deadline) {
      const ready = (name: string) => ((items?.find((x) => x.metadata.name === name)?.status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0);
      problems.push(`the release is not Ready within --timeout ${ctx.options.timeout}: ${waiting.map(([s, n]) => `${s} ${ready(s)}/${n} Ready`).join(', ')}`);
      return problems;
    }
    await sleep(POLL_MS * 2);
  }
  if (!t.json) t.ok(`release running again: every pod Ready (${secs(Date.now() - t0)})`);
  return problems;
}

/** Creates a copy pod and waits until it runs; a pod that cannot start is reported with its reason. */
export async function startCopyPod(ctx: Context, kube: Kube, spec: CopyPodSpec, deadline: number): Promise<string> {
  const pod = copyPod(spec);
  const r = await kube.create(pod);
  if (r.exitCode !== 0) throw new UserError(`could not create copy pod ${pod.metadata.name} for ${spec.pvc}: ${r.stderr.trim()}`, { exitCode: ExitCode.error, hint: 'a namespace with restricted Pod Security admits it; a quota or a policy engine may not' });
  for (;;) {
    const p = await kube.getObject<K8sPod>('pods', pod.metadata.name, spec.namespace).catch(() => undefined);
    const phase = p?.status?.phase;
    if (phase === 'Running') return pod.metadata.name;
    if (phase === 'Failed' || phase === 'Succeeded') throw new UserError(`copy pod ${pod.metadata.name} for ${spec.pvc} ended (${phase}) before the copy`, { exitCode: ExitCode.error, hint: `kubectl describe pod -n ${spec.namespace} ${pod.metadata.name}` });
    if (ctx.signal.aborted) throw new UserError(`interrupted while copy pod ${pod.metadata.name} started`, { exitCode: ExitCode.aborted });
    if (Date.now() > deadline) {
      const waiting = p?.status?.containerStatuses?.[0]?.state?.waiting;
      const why = waiting ? `${waiting.reason ?? ''}${waiting.message ? `: ${waiting.message}` : ''}` : (p?.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False')?.message ?? phase ?? 'not created');
      throw new UserError(`copy pod ${pod.metadata.name} for ${spec.pvc} did not start within --timeout ${ctx.options.timeout}: ${why}`, { exitCode: ExitCode.health, hint: `the pod runs the release's server image (${(pod.spec.containers[0] as { image: string }).image}); kubectl describe pod -n ${spec.namespace} ${pod.metadata.name}` });
    }
    await sleep(POLL_MS);
  }
}

/** Deletes the copy pods of a release and waits (bounded) until they are gone, so their volumes are free again. */
export async function deleteCopyPods(kube: Kube, namespace: string, release: string, names?: string[]): Promise<string | undefined> {
  const args = names?.length ? ['delete', 'pod', '-n', namespace, ...names] : ['delete', 'pod', '-n', namespace, '-l', copySelector(release)];
  const r = await kube.run([...args, '--ignore-not-found', '--grace-period=0', '--wait=false'], { detached: true, timeoutMs: 60_000 });
  if (r.exitCode !== 0) return `could not delete the copy pods: ${r.stderr.trim()} (kubectl delete pod -n ${namespace} -l ${copySelector(release)})`;
  const until = Date.now() + 120_000;
  while (Date.now() < until) {
    const left = await kube.list<K8sPod>('pods', { namespace, selector: copySelector(release) }).catch(() => []);
    if (!left.some((p) => !names || names.includes(p.metadata.name))) return undefined;
    await sleep(POLL_MS);
  }
  return undefined;
}

export interface CopiedVolume {
  pvc: string;
  archive: string;
  sha256: string;
  bytes: number;
  ms: number;
}

/** One PVC out: a read-only copy pod, `tar -cf -` streamed into DIR/<archive> (0600, new), its digest, the pod deleted. */
export async function copyOut(ctx: Context, kube: Kube, spec: CopyPodSpec, dir: string, archive: string, deadline: number, written: string[]): Promise<CopiedVolume> {
  const t0 = Date.now();
  const pod = await startCopyPod(ctx, kube, { ...spec, readOnly: true }, deadline);
  const abs = join(dir, archive);
  let fd: number;
  try {
    fd = openNewPrivateFile(abs);
  } catch (e) {
    throw new UserError(`cannot create ${abs}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { exitCode: ExitCode.error });
  }
  written.push(abs);
  let r;
  try {
    r = await kube.execStream(spec.namespace, pod, COPY_CONTAINER, TAR_OUT, { stdoutFd: fd, signal: ctx.signal });
  } finally {
    closeFd(fd);
  }
  if (r.exitCode !== 0) {
    if (ctx.signal.aborted) throw new UserError(`interrupted while copying ${spec.pvc}`, { exitCode: ExitCode.aborted });
    throw new UserError(`copying ${spec.pvc} out of pod ${pod} failed: ${lastLine(r.stderr) || `exit ${r.exitCode}`}`, { exitCode: ExitCode.error, hint: `kubectl exec -n ${spec.namespace} ${pod} -- ${TAR_OUT.join(' ')} is what ran` });
  }
  const d = await fileDigest(abs);
  const err = await deleteCopyPods(kube, spec.namespace, spec.release, [pod]);
  if (err) ctx.term.warn(err);
  return { pvc: spec.pvc, archive, ...d, ms: Date.now() - t0 };
}

/** One PVC in: a read-write copy pod, the archive fed to `tar -xf -`, the pod deleted. */
export async function copyIn(ctx: Context, kube: Kube, spec: CopyPodSpec, archiveAbs: string, deadline: number): Promise<number> {
  const t0 = Date.now();
  const pod = await startCopyPod(ctx, kube, { ...spec, readOnly: false }, deadline);
  const fd = openForReading(archiveAbs);
  let r;
  try {
    r = await kube.execStream(spec.namespace, pod, COPY_CONTAINER, TAR_IN, { stdinFd: fd, signal: ctx.signal });
  } finally {
    closeFd(fd);
  }
  if (!tarInSucceeded(r.exitCode, r.stderr)) {
    if (ctx.signal.aborted) throw new UserError(`interrupted while copying ${spec.pvc} back`, { exitCode: ExitCode.aborted });
    throw new UserError(`copying ${archiveAbs} into ${spec.pvc} (pod ${pod}) failed: ${lastLine(r.stderr) || `exit ${r.exitCode}`}`, { exitCode: ExitCode.error, hint: `kubectl exec -i -n ${spec.namespace} ${pod} -- ${TAR_IN.join(' ')} is what ran` });
  }
  const err = await deleteCopyPods(kube, spec.namespace, spec.release, [pod]);
  if (err) ctx.term.warn(err);
  return Date.now() - t0;
}

/** Runs fn over items, at most `limit` at once; after the first failure no new item starts. Returns that failure. */
export async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<unknown> {
  const queue = [...items];
  let failure: unknown;
  const worker = async () => {
    for (let x = queue.shift(); x !== undefined && failure === undefined; x = queue.shift()) await fn(x);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, () => worker().catch((e: unknown) => void (failure ??= e))));
  return failure;
}

function lastLine(s: string): string {
  return s.trim().split('\n').filter(Boolean).slice(-2).join(' | ');
}

export { copyPodName };
