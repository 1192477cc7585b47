// `robustmq-install restore ID` (the backup's snapshots are still in the namespace) and `restore --from FILE` (the
// namespace is gone: the retained VolumeSnapshotContents are bound to new snapshots first). Refuses before anything is
// created when the release or its PVCs exist, or when release, namespace, topology or replica counts differ from the
// backup (RobustMQ's Raft state stores its peers' pod FQDNs). Then: the credentials Secret, each PVC under exactly the
// name its StatefulSet will claim (dataSource: its snapshot), and the install with the values stored in the backup,
// watched and checked as install is. A failed restore leaves its debug bundle and removes the release and the PVCs it
// made, so a retry starts from the same place; the snapshots (the backup) are never touched.
import { randomBytes } from 'node:crypto';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { bundledChartInfo } from '../chart-info.js';
import type { Context } from '../context.js';
import {
  accessText,
  authSecretName,
  BACKUP_ANNOTATION,
  COPY_MANIFEST,
  parseBackupFile,
  plannedPvcs,
  replicasOf,
  replicasSummary,
  restoreAccessChecks,
  restoreRefusals,
  SNAPSHOT_CRDS,
  topologyOf,
  type AnyBackupFile,
  type BackupFile,
  type BackupSummary,
  type CopyBackupFile,
  type Replicas,
  type Topology,
} from '../core/backup.js';
import { AbortedError, ExitCode, UserError, usageError } from '../core/errors.js';
import { formatCommand, uninstallArgv } from '../core/flags.js';
import type { K8sObject } from '../core/k8s-types.js';
import { generateCredentials } from '../core/overlay.js';
import { plan as makePlan } from '../core/plan.js';
import { reboundSnapshot, restoredContent, restoredPvc, restoreVolumes } from '../core/restore.js';
import { isMap, type Values } from '../core/values.js';
import { findBackup, releaseSnapshots, waitForSnapshots } from '../flows/backup.js';
import { copyIn, deleteCopyPods, eachLimited } from '../flows/backup-copy.js';
import { secs } from '../flows/progress.js';
import { gatherFacts, helmAndReachableCluster, kubeOf } from '../flows/cluster.js';
import { ensureNamespace } from '../flows/credentials.js';
import { assertNoProblems } from '../flows/plan-report.js';
import { releaseStatus } from '../flows/release.js';
import { resolveChartOption } from '../inputs/chart-source.js';
import { planInput } from '../inputs/plan-input.js';
import { assertReplaceable, fileDigest, isDirectory, readInputFile, writeSafely } from '../shell/files.js';
import { run as runHelm } from '../shell/helm.js';
import type { Kube } from '../shell/kube.js';

/** Where the backup is read from: snapshots in the namespace, a file, or both (file for the credentials). */
interface Source {
  id: string;
  release: string;
  namespace: string;
  topology: Topology;
  replicas: Replicas;
  values: Values;
  chartVersion: string;
  appVersion: string;
  createdAt: string;
  /** pvc → snapshot (and its restore size) */
  snapshots: { pvc: string; name: string; restoreSize?: string }[];
  inCluster?: BackupSummary;
  file?: BackupFile;
  /** a `backup --copy` directory: its backup.json and where the archives are */
  copy?: { file: CopyBackupFile; dir: string };
}

/** --from: a backup file, or a `backup --copy` directory (its backup.json; the archives next to it). */
function readFileSource(ctx: Context, path: string): { file: AnyBackupFile; dir: string } {
  const given = isAbsolute(path) ? path : resolve(ctx.cwd, path);
  const asDir = isDirectory(given);
  const abs = asDir ? join(given, COPY_MANIFEST) : given;
  const shown = asDir ? join(path, COPY_MANIFEST) : path;
  // values of a large split cluster and the credentials fit well under 4 MiB
  const text = readInputFile(abs, { what: 'backup file', shown, maxBytes: 4 * 1024 * 1024, hint: asDir ? `${path} is not a backup --copy directory (no ${COPY_MANIFEST})` : 'pass the file `robustmq-install backup` wrote' });
  const file = parseBackupFile(text, `backup file ${shown}`);
  if (asDir && file.method !== 'copy') throw usageError(`${shown} is a snapshot backup file, not a copy`, `pass the file itself: restore --from ${shown}`);
  return { file, dir: dirname(abs) };
}

/** Every archive of a copy backup is there and has the recorded sha256, before anything is created. */
async function verifyArchives(ctx: Context, copy: { file: CopyBackupFile; dir: string }): Promise<void> {
  const t0 = Date.now();
  for (const v of copy.file.volumes) {
    const abs = join(copy.dir, v.archive);
    let d: { sha256: string; bytes: number };
    try {
      d = await fileDigest(abs);
    } catch (e) {
      throw usageError(`archive ${abs} of ${v.pvc} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'the backup directory is incomplete; use another backup');
    }
    if (d.sha256 !== v.sha256 || d.bytes !== v.bytes) {
      throw usageError(`archive ${abs} of ${v.pvc} is damaged: sha256 ${d.sha256.slice(0, 12)}… (${d.bytes} bytes), the backup recorded ${v.sha256.slice(0, 12)}… (${v.bytes} bytes)`, 'nothing was created; restore from an intact copy of the backup directory');
    }
  }
  if (!ctx.term.json) ctx.term.ok(`${copy.file.volumes.length} archives match their sha256 (${secs(Date.now() - t0)})`);
}

function storedValues(b: BackupSummary, snapshots: { metadata: { annotations?: Record<string, string> } }[]): Values {
  const text = snapshots.map((s) => s.metadata.annotations?.[BACKUP_ANNOTATION.values]).find(Boolean);
  try {
    const v = JSON.parse(text ?? '');
    if (isMap(v)) return v;
  } catch {
    // fall through to the refusal
  }
  throw new UserError(`backup ${b.id} carries no release values`, { exitCode: ExitCode.preflight, hint: 'restore it with --from FILE (the backup file holds them)' });
}

export async function run(ctx: Context): Promise<number> {
  const o = ctx.options;
  const t = ctx.term;
  const loaded = o.from ? readFileSource(ctx, o.from) : undefined;
  const anyFile = loaded?.file;
  const file = anyFile?.method === 'snapshot' ? anyFile : undefined;
  const copy = anyFile?.method === 'copy' ? { file: anyFile, dir: loaded!.dir } : undefined;
  const wantedId = ctx.args.positionals[0] ?? anyFile!.id;
  if (anyFile && wantedId !== anyFile.id) throw usageError(`backup file ${o.from} is of backup ${anyFile.id}, not ${wantedId}`, `restore ${anyFile.id} --from ${o.from}, or drop the ID`);
  if (copy) await verifyArchives(ctx, copy);

  const { helm, facts } = await helmAndReachableCluster(ctx);
  const kube = kubeOf(ctx);
  const crds = copy ? new Set<string>(SNAPSHOT_CRDS) : await kube.crdNames();
  const missingCrds = SNAPSHOT_CRDS.filter((c) => !crds.has(c));
  if (missingCrds.length) {
    throw new UserError(`this cluster does not serve the VolumeSnapshot API (${missingCrds.join(', ')} missing)`, { exitCode: ExitCode.preflight, hint: 'a snapshot backup restores only where its CSI driver and snapshot controller run' });
  }

  // 1. the backup
  const inCluster = facts.namespaceExists === false || copy ? undefined : await findBackup(kube, o.namespace, o.release, wantedId);
  let src: Source;
  if (copy) {
    const f = copy.file;
    src = {
      id: f.id,
      release: f.release,
      namespace: f.namespace,
      topology: f.topology,
      replicas: f.replicas,
      values: f.values,
      chartVersion: f.chart.version,
      appVersion: f.appVersion,
      createdAt: f.createdAt,
      // restoreVolumes pairs the planned PVCs with these by PVC name
      snapshots: f.volumes.map((v) => ({ pvc: v.pvc, name: v.archive })),
      copy,
    };
  } else if (inCluster) {
    const b = inCluster.backup;
    if (!b.usable) throw new UserError(`backup ${b.id} is ${b.status}${b.failure ? ` (${b.failure})` : ''}: it cannot be restored`, { exitCode: ExitCode.preflight, hint: 'robustmq-install backup list shows the usable ones' });
    src = {
      id: b.id,
      release: b.release,
      namespace: b.namespace,
      topology: b.topology,
      replicas: b.replicas,
      values: file?.values ?? storedValues(b, inCluster.snapshots),
      chartVersion: b.chartVersion,
      appVersion: b.appVersion,
      createdAt: b.createdAt,
      snapshots: b.snapshots.map((s) => ({ pvc: s.pvc, name: s.name, ...(inCluster.snapshots.find((x) => x.metadata.name === s.name)?.status?.restoreSize ? { restoreSize: inCluster.snapshots.find((x) => x.metadata.name === s.name)!.status!.restoreSize! } : {}) })),
      inCluster: b,
      ...(file ? { file } : {}),
    };
  } else if (file) {
    src = {
      id: file.id,
      release: file.release,
      namespace: file.namespace,
      topology: file.topology,
      replicas: file.replicas,
      values: file.values,
      chartVersion: file.chart.version,
      appVersion: file.appVersion,
      createdAt: file.createdAt,
      snapshots: file.volumes.map((v) => ({ pvc: v.pvc, name: v.snapshot, ...(v.restoreSize ? { restoreSize: v.restoreSize } : {}) })),
      file,
    };
  } else {
    throw new UserError(`no backup ${wantedId} of release ${o.release} in namespace ${o.namespace}`, {
      exitCode: ExitCode.preflight,
      hint: `robustmq-install backup list${o.namespace !== 'robustmq' ? ` -n ${o.namespace}` : ''} shows the backups there; after the namespace was deleted: restore --from FILE (the file backup wrote)`,
    });
  }

  // 2. the install plan: the backup's values, then -f/--set over them (an image tag, resources; never the topology)
  const chart = resolveChartOption(ctx);
  const valuesFile = resolve(ctx.cwd, o.valuesOut);
  let current = await gatherFacts(ctx, { offline: false });
  const p = makePlan(planInput(ctx, { command: 'install', facts: current, helm, chart, valuesFile, preset: { name: `backup ${src.id}`, source: o.from ?? `backup ${src.id}`, values: src.values }, offline: false }));
  const values = p.overlay;

  // 3. every refusal before anything is created
  const planned = plannedPvcs(o.release, values);
  const existingPvcs = facts.namespaceExists === false ? [] : (await kube.list('persistentvolumeclaims', { namespace: o.namespace })).map((x) => x.metadata.name);
  const releaseExists = (await releaseStatus(ctx, helm, o.release, o.namespace)) !== undefined;
  const refusals = restoreRefusals(
    { id: src.id, release: src.release, namespace: src.namespace, topology: src.topology, replicas: src.replicas },
    { release: o.release, namespace: o.namespace, topology: topologyOf(values), replicas: replicasOf(values) },
    { releaseExists, existingPvcs, plannedPvcs: planned.map((x) => x.name) },
    src.snapshots.map((s) => s.pvc),
  );
  if (refusals.length) {
    const [first, ...rest] = refusals;
    throw new UserError(first!.message, { exitCode: ExitCode.preflight, hint: [first!.hint, ...rest.map((r) => `also: ${r.message}`)].join('; ') });
  }
  assertNoProblems(p);

  // 4. the credentials: the Secret still in the namespace, or the one in the backup file
  const secretName = (isMap(p.overlay.auth) && typeof p.overlay.auth.existingSecret === 'string' && p.overlay.auth.existingSecret) || authSecretName(o.release, values);
  const secretExists = facts.namespaceExists !== false && (await kube.getObject('secret', secretName, o.namespace)) !== undefined;
  if (!secretExists && !anyFile) {
    throw new UserError(`the credentials Secret ${secretName} is gone from ${o.namespace}, and the snapshots do not hold it`, {
      exitCode: ExitCode.preflight,
      hint: `pass the backup file: robustmq-install restore ${src.id} --from robustmq-backup-${src.id}.json (or recreate Secret ${secretName} with the passwords of that time)`,
    });
  }
  const access = await kube.accessReviews(restoreAccessChecks(o.namespace, !src.inCluster, !secretExists, copy !== undefined)).catch(() => []);
  const denied = access.filter((a) => !a.allowed).map(accessText);
  if (denied.length) {
    const why = copy ? 'a copy restore creates the PVCs and a pod per PVC that tar is exec’d in' : 'a restore creates the PVCs from snapshots (and, from a file, cluster-scoped VolumeSnapshotContents)';
    throw new UserError(`your credentials may not ${denied.join(', ')}`, { exitCode: ExitCode.preflight, hint: `${why}: ask for those permissions` });
  }
  assertReplaceable(ctx, o.valuesOut, 'overlay');
  const installVersion = chart.version ?? (chart.localDir ? bundledChartInfo(chart.localDir).version : undefined);
  if (!t.json) {
    t.line(t.style('bold', `Restore ${src.id}`) + ` (taken ${src.createdAt}, chart ${src.chartVersion}, RobustMQ ${src.appVersion})`);
    t.line(`  into release ${o.release} in ${o.namespace}${facts.context ? ` (context ${facts.context})` : ''}: ${src.topology}, ${replicasSummary(src.topology, src.replicas)}`);
    const from = copy ? `the archives in ${copy.dir} (copied in before the install)` : src.inCluster ? 'the snapshots in the namespace' : `the retained snapshot contents named in ${o.from}`;
    t.line(`  ${planned.length} PVCs from ${from}; credentials from ${secretExists ? `Secret ${secretName} (still there)` : o.from}`);
    if (installVersion && src.chartVersion && installVersion !== src.chartVersion) t.warn(`the backup was taken with chart ${src.chartVersion}; installing with chart ${installVersion} (${chart.display})`);
  }

  // 5. the install preflight (the same as install's), then the confirm
  const { gatherPreflight, printResults, assertPreflight } = await import('../flows/preflight.js');
  if (!t.json) t.line(t.style('bold', 'Preflight'));
  const { results } = await gatherPreflight(ctx, { mode: 'install', plan: p, helm, facts: current, smoke: !o.skipSmoke });
  if (!t.json) printResults(ctx, results);
  assertPreflight(ctx, results);
  if (!o.yes && t.interactive) {
    const pr = await t.prompts();
    if (!(await pr.confirm({ message: `Restore ${src.id} into ${o.release} in ${o.namespace}?`, default: true }, t.promptContext))) throw new AbortedError('not confirmed');
  }

  // 6. namespace, snapshots bound again (file only), Secret, PVCs
  const createdPvcs: string[] = [];
  if ((await ensureNamespace(ctx, kube, o.namespace)) === 'created' && !t.json) t.ok(`namespace ${o.namespace} created`);
  if (!src.inCluster && !copy) await rebind(ctx, kube, src.file!);
  if (ctx.signal.aborted) throw new AbortedError('interrupted before any PVC was created');
  if (!secretExists) {
    const r = await kube.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: secretName, namespace: o.namespace, labels: { 'app.kubernetes.io/name': 'robustmq', 'app.kubernetes.io/instance': o.release, 'app.kubernetes.io/managed-by': 'robustmq-install' } },
      type: 'Opaque',
      data: anyFile!.credentials.data,
    });
    if (r.exitCode !== 0) throw new UserError(`could not create Secret ${secretName}: ${r.stderr.trim()}`, { exitCode: ExitCode.error });
    if (!t.json) t.ok(`Secret ${secretName} restored from ${o.from} (values never printed)`);
  }
  const snaps = src.inCluster || copy ? src.snapshots : await currentSnapshotSizes(kube, o.namespace, o.release, src);
  const volumes = restoreVolumes(o.release, values, snaps);
  for (const v of volumes) {
    const r = await kube.create(restoredPvc(o.release, o.namespace, values, v, copy?.file.volumes.find((x) => x.pvc === v.pvc.name)));
    if (r.exitCode !== 0) {
      await cleanup(ctx, kube, { release: undefined, pvcs: createdPvcs, helmPath: helm.path, helmMajor: helm.major });
      throw new UserError(`could not create PVC ${v.pvc.name}: ${r.stderr.trim()}`, { exitCode: ExitCode.error, hint: 'the PVCs made so far were removed; fix the cause and restore again' });
    }
    createdPvcs.push(v.pvc.name);
  }
  if (copy) await copyInAll(ctx, kube, { copy, volumes, values, createdPvcs, helm });
  else if (!t.json) t.ok(`${createdPvcs.length} PVCs created from the snapshots: ${createdPvcs.join(', ')}`);

  // 7. install with the stored values, watched and checked as install is
  const bak = await writeSafely(ctx, o.valuesOut, p.overlayYaml, 'overlay');
  if (!t.json) t.ok(`wrote ${valuesFile}${bak ? ` (previous kept as ${bak})` : ''}`);
  current = await gatherFacts(ctx, { offline: false });
  const { deploy } = await import('../flows/deploy.js');
  const code = await deploy(ctx, { plan: p, helm, facts: current, credentials: generateCredentials(ctx.randomBytes ?? ((n) => randomBytes(n))), rollbackOnFailure: false, preflightDone: true });
  if (code !== ExitCode.ok) {
    const st = await releaseStatus(ctx, helm, o.release, o.namespace);
    await cleanup(ctx, kube, { release: st ? o.release : undefined, pvcs: createdPvcs, helmPath: helm.path, helmMajor: helm.major });
    if (!t.json) t.line(`  the restore failed; the release and the ${createdPvcs.length} restored PVCs were removed so a retry starts clean (the backup's snapshots are untouched)`);
    return code;
  }
  if (!t.json) t.ok(`restored ${src.id} into release ${o.release}`);
  return code;
}


/** A copy restore's data: each archive into its new PVC through a short-lived pod; a failure removes pods and PVCs. */
async function copyInAll(
  ctx: Context,
  kube: Kube,
  o: { copy: { file: CopyBackupFile; dir: string }; volumes: ReturnType<typeof restoreVolumes>; values: Values; createdPvcs: string[]; helm: { path: string; major: 3 | 4 } },
): Promise<void> {
  const t = ctx.term;
  const opts = ctx.options;
  const deadline = Date.now() + opts.timeoutMs;
  // all at once: scheduled together, a role's copy pods spread over the nodes, and its PVCs with them
  const failure = await eachLimited(o.volumes, o.volumes.length, async (v) => {
    const rec = o.copy.file.volumes.find((x) => x.pvc === v.pvc.name)!;
    const ms = await copyIn(ctx, kube, { release: opts.release, namespace: opts.namespace, pvc: v.pvc.name, role: v.pvc.role, readOnly: false, values: o.values }, join(o.copy.dir, rec.archive), deadline);
    if (!t.json) t.ok(`${v.pvc.name}: ${rec.archive} copied in (${rec.bytes} bytes, ${secs(ms)})`);
  });
  if (failure === undefined) {
    if (!t.json) t.ok(`${o.createdPvcs.length} PVCs created and filled from the archives: ${o.createdPvcs.join(', ')}`);
    return;
  }
  const podErr = await deleteCopyPods(kube, opts.namespace, opts.release);
  if (podErr) t.warn(podErr);
  await cleanup(ctx, kube, { release: undefined, pvcs: o.createdPvcs, helmPath: o.helm.path, helmMajor: o.helm.major });
  if (failure instanceof UserError) throw new UserError(failure.message, { exitCode: failure.exitCode, hint: `${failure.hint ? `${failure.hint}; ` : ''}the copy pods and the PVCs made so far were removed; fix the cause and restore again` });
  throw failure;
}

/** After the namespace was deleted: pre-provisioned contents for the retained handles, and snapshots bound to them. */
async function rebind(ctx: Context, kube: Kube, f: BackupFile): Promise<void> {
  const t = ctx.term;
  for (const v of f.volumes) {
    const content = restoredContent(f, v);
    const existing = await kube.getObject<K8sObject & { spec?: { source?: { snapshotHandle?: string } } }>('volumesnapshotcontents.snapshot.storage.k8s.io', content.metadata.name);
    if (existing && existing.spec?.source?.snapshotHandle !== v.snapshotHandle) {
      throw new UserError(`VolumeSnapshotContent ${content.metadata.name} exists with another snapshot handle`, { exitCode: ExitCode.preflight, hint: `it is not from this backup file; delete it (kubectl delete volumesnapshotcontent ${content.metadata.name}) if it is stale` });
    }
    if (!existing) {
      const r = await kube.create(content);
      if (r.exitCode !== 0) throw new UserError(`could not create VolumeSnapshotContent ${content.metadata.name}: ${r.stderr.trim()}`, { exitCode: ExitCode.error, hint: 'pre-provisioning a content is cluster-scoped: it needs create on volumesnapshotcontents' });
    }
    const snap = reboundSnapshot(f, v);
    const r = await kube.create(snap);
    if (r.exitCode !== 0 && !/AlreadyExists/.test(r.stderr)) throw new UserError(`could not create VolumeSnapshot ${snap.metadata.name}: ${r.stderr.trim()}`, { exitCode: ExitCode.error });
  }
  if (!t.json) t.line(`  binding ${f.volumes.length} snapshots to their retained contents…`);
  const waited = await waitForSnapshots(ctx, kube, {
    namespace: f.namespace,
    names: f.volumes.map((v) => ({ snapshot: v.snapshot, pvc: v.pvc })),
    select: () => releaseSnapshots(kube, f.namespace, f.release, f.id),
    deadline: Date.now() + ctx.options.timeoutMs,
    what: 'restore',
  });
  if (!waited.ok) {
    const f0 = waited.failures[0]!;
    throw new UserError(`snapshot ${f0.snapshot} (${f0.pvc}) did not become ready: ${f0.message}`, {
      exitCode: ctx.signal.aborted ? ExitCode.aborted : ExitCode.health,
      hint: 'the snapshot data must still exist on the storage (a content deleted with deletionPolicy Delete took it along); nothing else was created, a retry reuses these snapshots',
    });
  }
}

/** Restore sizes as the rebound snapshots report them. */
async function currentSnapshotSizes(kube: Kube, namespace: string, release: string, src: Source): Promise<Source['snapshots']> {
  const now = await releaseSnapshots(kube, namespace, release, src.id);
  return src.snapshots.map((s) => {
    const size = now.find((x) => x.metadata.name === s.name)?.status?.restoreSize ?? s.restoreSize;
    return { pvc: s.pvc, name: s.name, ...(size ? { restoreSize: size } : {}) };
  });
}

/** Removes what a failed restore made (never the snapshots, never the Secret: a retry needs both). */
async function cleanup(ctx: Context, kube: Kube, o: { release: string | undefined; pvcs: string[]; helmPath: string; helmMajor: 3 | 4 }): Promise<void> {
  const opts = ctx.options;
  if (o.release) {
    const argv = uninstallArgv({ helmMajor: o.helmMajor, release: o.release, namespace: opts.namespace, kubeContext: opts.kubeContext, kubeconfig: opts.kubeconfig, timeout: opts.timeout });
    const r = await runHelm(o.helmPath, argv, { env: ctx.term.childEnv, onAbort: 'finish' });
    if (r.exitCode !== 0) ctx.term.warn(`could not remove the failed release: ${formatCommand(argv, o.helmPath)} exited ${r.exitCode}`);
  }
  if (o.pvcs.length) {
    const r = await kube.run(['delete', 'pvc', '-n', opts.namespace, ...o.pvcs, '--ignore-not-found', '--wait=false']);
    if (r.exitCode !== 0) ctx.term.warn(`could not remove the restored PVCs: kubectl delete pvc -n ${opts.namespace} ${o.pvcs.join(' ')}`);
  }
}
