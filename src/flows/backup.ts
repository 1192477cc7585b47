// Backups as CSI VolumeSnapshots against the cluster: what a release is made of (values, chart, PVCs and their
// driver), whether the cluster can snapshot and keep them (preflight), taking them all at once and waiting with one
// line per PVC, and the listing, deleting and rebinding of backups. The rules are pure, in src/core/backup.ts and
// src/core/restore.ts; this is their IO.
import type { Context } from '../context.js';
import {
  backupAccessChecks,
  createdAtText,
  replicasOf,
  topologyOf,
  type BackupMeta,
  BACKUP_ANNOTATION,
  BACKUP_LABEL,
  chartName,
  chartVersionOf,
  DEFAULT_SNAPSHOT_CLASS_ANNOTATION,
  plannedPvcs,
  releaseBackupSelector,
  snapshotPhase,
  snapshotPreflight,
  summarizeBackups,
  type BackupSummary,
  type PlannedPvc,
  type PvcStorage,
  type SnapshotClassInfo,
  type SnapshotObject,
  type SnapshotPreflight,
} from '../core/backup.js';
import { ExitCode, UserError } from '../core/errors.js';
import type { K8sObject, K8sPvc } from '../core/k8s-types.js';
import type { Values } from '../core/values.js';
import type { HelmInfo } from '../shell/helm.js';
import type { Kube } from '../shell/kube.js';
import { secs } from './progress.js';
import { releaseHistory, releaseStatus } from './release.js';
import { computedValues } from './smoke.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const POLL_MS = 1000;

export interface ReleaseSource {
  release: string;
  namespace: string;
  revision: number;
  /** helm get values --all: what the chart rendered with (the chart's CronJob stores the same) */
  values: Values;
  name: string;
  chartVersion: string;
  appVersion: string;
  pvcs: PlannedPvc[];
}

/** The release as a backup needs it; a missing or not deployed release is refused (exit 3). */
export async function releaseSource(ctx: Context, helm: HelmInfo, release: string, namespace: string): Promise<ReleaseSource> {
  const st = await releaseStatus(ctx, helm, release, namespace);
  if (!st) throw new UserError(`release ${release} not found in namespace ${namespace}`, { exitCode: ExitCode.preflight, hint: 'check --release/-n/--kube-context; robustmq-install backup list shows the backups that exist' });
  if (st.status !== 'deployed') {
    throw new UserError(`release ${release} is ${st.status}, not deployed: its volumes may be mid-change`, { exitCode: ExitCode.preflight, hint: `finish or undo the operation first (robustmq-install status -n ${namespace}; rollback)` });
  }
  const [values, history] = await Promise.all([computedValues(ctx, helm, release, namespace), releaseHistory(ctx, helm, release, namespace)]);
  if (!values) throw new UserError(`could not read the values of release ${release}`, { exitCode: ExitCode.error, hint: `helm get values ${release} -n ${namespace} --all` });
  const row = history?.find((h) => h.revision === st.revision);
  const name = chartName(values);
  return {
    release,
    namespace,
    revision: st.revision,
    values,
    name,
    chartVersion: chartVersionOf(row?.chart),
    appVersion: row?.app_version ?? '',
    pvcs: plannedPvcs(release, values),
  };
}

/** The metadata of a CLI backup of this release, taken now (both the snapshot and the copy method write it). */
export function cliBackupMeta(src: ReleaseSource, id: string, now: Date): BackupMeta & { values: Values } {
  return {
    id,
    origin: 'cli',
    release: src.release,
    namespace: src.namespace,
    name: src.name,
    chartVersion: src.chartVersion,
    appVersion: src.appVersion,
    topology: topologyOf(src.values),
    replicas: replicasOf(src.values),
    pvcCount: src.pvcs.length,
    createdAt: createdAtText(now),
    values: src.values,
  };
}

export async function snapshotClasses(kube: Kube): Promise<SnapshotClassInfo[]> {
  const items = await kube.list<K8sObject & { driver?: string; deletionPolicy?: string }>('volumesnapshotclasses.snapshot.storage.k8s.io');
  return items.map((c) => ({ name: c.metadata.name, driver: c.driver ?? '', deletionPolicy: c.deletionPolicy ?? '', isDefault: c.metadata.annotations?.[DEFAULT_SNAPSHOT_CLASS_ANNOTATION] === 'true' }));
}

export interface SnapshotReadiness extends SnapshotPreflight {
  storage: PvcStorage[];
  /** PVCs the StatefulSets claim that do not exist or are not Bound */
  missing: string[];
}

/** Preflight of a snapshot backup: the API, a Retain class for the volumes' driver, the PVCs, the permissions. */
export async function checkSnapshotSupport(ctx: Context, kube: Kube, src: { namespace: string; pvcs: PlannedPvc[] }): Promise<SnapshotReadiness> {
  const [crds, pvcs, scs, access] = await Promise.all([
    kube.crdNames(),
    kube.list<K8sPvc>('persistentvolumeclaims', { namespace: src.namespace }),
    kube.storageClasses(),
    kube.accessReviews(backupAccessChecks(src.namespace)).catch(() => []),
  ]);
  const classes = crds.has('volumesnapshotclasses.snapshot.storage.k8s.io') ? await snapshotClasses(kube) : [];
  const byName = new Map(pvcs.map((p) => [p.metadata.name, p]));
  const defaultSc = scs.find((s) => s.isDefault)?.name ?? '';
  const missing: string[] = [];
  const storage: PvcStorage[] = [];
  for (const p of src.pvcs) {
    const pvc = byName.get(p.name);
    if (!pvc || pvc.status?.phase !== 'Bound') {
      missing.push(`${p.name}${pvc ? ` (${pvc.status?.phase ?? 'Pending'})` : ''}`);
      continue;
    }
    const sc = pvc.spec?.storageClassName ?? defaultSc;
    storage.push({ pvc: p.name, storageClass: sc, driver: scs.find((s) => s.name === sc)?.provisioner });
  }
  const pre = snapshotPreflight({
    servedCrds: crds,
    pvcs: storage,
    classes,
    ...(ctx.options.snapshotClass ? { requestedClass: ctx.options.snapshotClass } : {}),
    denied: access.filter((a) => !a.allowed).map((a) => `${a.verb} ${a.resource}`),
  });
  if (missing.length && pre.problems.every((x) => !/VolumeSnapshot API/.test(x.message))) {
    pre.problems.unshift({ message: `PVC${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of the release ${missing.length > 1 ? 'are' : 'is'} missing or not Bound`, hint: 'a backup takes every data volume at once: wait until every pod of the release has started (robustmq-install status)' });
    pre.ok = false;
    delete pre.snapshotClass;
  }
  return { ...pre, storage, missing };
}

/** Every snapshot of a release (optionally of one backup). */
export async function releaseSnapshots(kube: Kube, namespace: string, release: string, id?: string): Promise<SnapshotObject[]> {
  return kube.list<SnapshotObject>('volumesnapshots.snapshot.storage.k8s.io', { namespace, selector: releaseBackupSelector(release, id) });
}

export async function listBackups(kube: Kube, namespace: string, release: string): Promise<BackupSummary[]> {
  return summarizeBackups(await releaseSnapshots(kube, namespace, release));
}

/** One backup by id in the namespace, or a clear refusal naming the way on. */
export async function findBackup(kube: Kube, namespace: string, release: string, id: string): Promise<{ backup: BackupSummary; snapshots: SnapshotObject[] } | undefined> {
  const snapshots = await releaseSnapshots(kube, namespace, release, id);
  const backup = summarizeBackups(snapshots)[0];
  return backup ? { backup, snapshots } : undefined;
}

/** Marks every snapshot of a backup with a state (and the failure); failures to label are reported, not thrown. */
export async function markBackup(kube: Kube, namespace: string, names: string[], state: 'ready' | 'failed', failure?: string): Promise<string[]> {
  const patch = { metadata: { labels: { [BACKUP_LABEL.state]: state }, ...(failure ? { annotations: { [BACKUP_ANNOTATION.failure]: failure.slice(0, 1000) } } : {}) } };
  const results = await Promise.all(names.map((n) => kube.mergePatch('volumesnapshots.snapshot.storage.k8s.io', n, namespace, patch)));
  return results.flatMap((r, i) => (r.exitCode === 0 ? [] : [`${names[i]}: ${r.stderr.trim()}`]));
}

/** The newest Warning event about a snapshot (the controller's reason for a failure), if any. */
export async function snapshotEventMessage(kube: Kube, namespace: string, name: string): Promise<string | undefined> {
  const events = await kube.events(namespace).catch(() => []);
  const about = events.filter((e) => e.involvedObject?.kind === 'VolumeSnapshot' && e.involvedObject?.name === name && e.type === 'Warning');
  about.sort((a, b) => String(b.lastTimestamp ?? b.eventTime ?? '').localeCompare(String(a.lastTimestamp ?? a.eventTime ?? '')));
  return about[0]?.message;
}

export interface WaitOutcome {
  ok: boolean;
  snapshots: SnapshotObject[];
  /** pvc → the failure (status.error, the newest Warning event, or the timeout) */
  failures: { snapshot: string; pvc: string; message: string }[];
}

/**
 * Waits until every snapshot is readyToUse, one line per PVC as it gets there. Stops at the first failed snapshot (a
 * backup with a failed volume is not a backup), at the deadline, or on Ctrl-C.
 */
export async function waitForSnapshots(ctx: Context, kube: Kube, o: { namespace: string; names: { snapshot: string; pvc: string }[]; select: () => Promise<SnapshotObject[]>; deadline: number; what: string }): Promise<WaitOutcome> {
  const t = ctx.term;
  const t0 = Date.now();
  const reported = new Set<string>();
  let last: SnapshotObject[] = [];
  for (;;) {
    last = await o.select().catch(() => last);
    const byName = new Map(last.map((s) => [s.metadata.name, s]));
    const failures: WaitOutcome['failures'] = [];
    for (const n of o.names) {
      const ph = snapshotPhase(byName.get(n.snapshot));
      if (ph.phase === 'ready' && !reported.has(n.snapshot)) {
        reported.add(n.snapshot);
        if (!t.json) t.ok(`${n.pvc}: snapshot ${n.snapshot} ready (${secs(Date.now() - t0)})`);
      }
      if (ph.phase === 'failed') failures.push({ snapshot: n.snapshot, pvc: n.pvc, message: ph.error ?? 'failed' });
    }
    if (failures.length) {
      for (const f of failures) f.message = (await snapshotEventMessage(kube, o.namespace, f.snapshot)) ?? f.message;
      return { ok: false, snapshots: last, failures };
    }
    if (reported.size === o.names.length) return { ok: true, snapshots: last, failures: [] };
    if (ctx.signal.aborted) {
      return { ok: false, snapshots: last, failures: o.names.filter((n) => !reported.has(n.snapshot)).map((n) => ({ ...n, message: 'interrupted (Ctrl-C) before it was ready' })) };
    }
    if (Date.now() > o.deadline) {
      const waiting = o.names.filter((n) => !reported.has(n.snapshot));
      const out: WaitOutcome['failures'] = [];
      for (const n of waiting) out.push({ ...n, message: `not ready after ${secs(Date.now() - t0)} (--timeout ${ctx.options.timeout})${(await snapshotEventMessage(kube, o.namespace, n.snapshot).then((m) => (m ? `: ${m}` : ''))) ?? ''}` });
      return { ok: false, snapshots: last, failures: out };
    }
    await sleep(POLL_MS);
  }
}

/** The credentials Secret's data (base64, as stored); undefined when it does not exist. Never printed. */
export async function secretData(kube: Kube, namespace: string, name: string): Promise<Record<string, string> | undefined> {
  const s = await kube.getObject<K8sObject & { data?: Record<string, string> }>('secret', name, namespace);
  return s ? { ...(s.data ?? {}) } : undefined;
}
