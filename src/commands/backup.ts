// `robustmq-install backup`: a VolumeSnapshot of every data PVC of the release (all roles, all ordinals) created at
// once, one line per PVC as each gets readyToUse, every snapshot labelled with the backup id and annotated with what a
// restore needs, then a local backup file (0600) with the same metadata, the retained VolumeSnapshotContents and the
// credentials Secret. A snapshot that fails or times out marks the whole backup failed (listed, never usable) and the
// command exits 4. `backup list` (table or -o json) and `backup delete ID` (confirm or --yes).
//
// Consistency: the snapshots are taken while the cluster runs, so each volume is crash-consistent on its own and the
// set is as consistent as the moments the driver cut them (README: Backup and restore).
import { basename, isAbsolute, join, resolve } from 'node:path';
import type { Context } from '../context.js';
import {
  authSecretName,
  backupFileName,
  backupId,
  backupTable,
  BACKUP_FILE_MODE,
  BACKUP_FILE_WARNING,
  archiveName,
  COPY_MANIFEST,
  makeBackupFile,
  makeCopyBackupFile,
  type CopyFileVolume,
  serializeBackupFile,
  snapshotName,
  volumeSnapshot,
  type BackupFileVolume,
  type SnapshotObject,
} from '../core/backup.js';
import { AbortedError, ExitCode, UserError, usageError } from '../core/errors.js';
import type { K8sObject } from '../core/k8s-types.js';
import { checkSnapshotSupport, cliBackupMeta, findBackup, listBackups, markBackup, releaseSnapshots, releaseSource, secretData, waitForSnapshots } from '../flows/backup.js';
import { helmAndReachableCluster, kubeOf } from '../flows/cluster.js';
import { copyOut, deleteCopyPods, eachLimited, recordReplicas, startRelease, stopRelease, checkCopySupport, type CopiedVolume, type Stopped } from '../flows/backup-copy.js';
import { secs } from '../flows/progress.js';
import { assertCreatable, assertEmptyDir, createPrivateDir, createSecretFile, removeWritten } from '../shell/files.js';

export async function run(ctx: Context): Promise<number> {
  const [action, id] = ctx.args.positionals;
  if (action === 'list') return list(ctx);
  if (action === 'delete') return remove(ctx, id!);
  if (ctx.options.copy !== undefined) return takeCopy(ctx);
  return take(ctx);
}

interface ContentObject extends K8sObject {
  spec?: { driver?: string; volumeSnapshotClassName?: string; deletionPolicy?: string; source?: { volumeHandle?: string; snapshotHandle?: string } };
  status?: { snapshotHandle?: string; restoreSize?: number; readyToUse?: boolean };
}

async function take(ctx: Context): Promise<number> {
  const o = ctx.options;
  const t = ctx.term;
  const { helm, facts } = await helmAndReachableCluster(ctx);
  const kube = kubeOf(ctx);
  const now = ctx.now?.() ?? new Date();
  const src = await releaseSource(ctx, helm, o.release, o.namespace);
  const id = backupId(o.release, now);
  const filePath = o.file ?? backupFileName(id);
  const fileAbs = isAbsolute(filePath) ? filePath : resolve(ctx.cwd, filePath);
  // refused before anything is created: the file is the only copy of the credentials once the namespace is gone
  assertCreatable(filePath, fileAbs, 'backup file');

  const pre = await checkSnapshotSupport(ctx, kube, src);
  if (!pre.ok || !pre.snapshotClass) {
    const [first, ...rest] = pre.problems;
    throw new UserError(first?.message ?? 'the cluster cannot take snapshots', { exitCode: ExitCode.preflight, hint: [first?.hint, ...rest.map((r) => `also: ${r.message}`)].filter(Boolean).join('; ') });
  }
  const secretName = authSecretName(o.release, src.values);
  const secret = await secretData(kube, o.namespace, secretName);
  if (!secret) throw new UserError(`the credentials Secret ${secretName} does not exist in ${o.namespace}`, { exitCode: ExitCode.preflight, hint: 'a restore needs it: recreate it with the passwords the cluster was installed with, then back up' });

  const meta = cliBackupMeta(src, id, now);
  const cls = pre.snapshotClass;
  const volumes = src.pvcs.map((p) => ({ pvc: p.name, role: p.role, ordinal: p.ordinal, size: p.size, storageClass: pre.storage.find((s) => s.pvc === p.name)?.storageClass ?? '' }));
  if (!t.json) {
    t.line(`${t.style('bold', `Backup ${id}`)}: ${volumes.length} volume${volumes.length > 1 ? 's' : ''} of release ${o.release} in ${o.namespace}${facts.context ? ` (context ${facts.context})` : ''}, class ${cls.name} (${cls.driver}, ${cls.deletionPolicy})`);
  }

  // all at once: the closest a CSI snapshot API gets to one moment across the volumes
  const created: string[] = [];
  const createErrors: string[] = [];
  await Promise.all(
    volumes.map(async (v) => {
      const r = await kube.create(volumeSnapshot(meta, v, cls.name));
      if (r.exitCode === 0) created.push(snapshotName(id, v.pvc));
      else createErrors.push(`${v.pvc}: ${r.stderr.trim()}`);
    }),
  );
  const names = volumes.map((v) => ({ snapshot: snapshotName(id, v.pvc), pvc: v.pvc }));
  if (createErrors.length) {
    await markBackup(kube, o.namespace, created, 'failed', `not every snapshot could be created: ${createErrors.join('; ')}`);
    throw new UserError(`creating the snapshots failed: ${createErrors[0]}`, { exitCode: ExitCode.error, hint: `nothing is usable; remove what was made: robustmq-install backup delete ${id}${nsFlags(ctx)}` });
  }
  const waited = await waitForSnapshots(ctx, kube, {
    namespace: o.namespace,
    names,
    select: () => releaseSnapshots(kube, o.namespace, o.release, id),
    deadline: Date.now() + o.timeoutMs,
    what: 'backup',
  });
  if (!waited.ok) {
    const why = waited.failures.map((f) => `${f.pvc}: ${f.message}`).join('; ');
    const unmarked = await markBackup(kube, o.namespace, created, 'failed', why);
    const exitCode = ctx.signal.aborted ? ExitCode.aborted : ExitCode.health;
    const message = `backup ${id} failed: ${waited.failures[0]!.pvc}: ${waited.failures[0]!.message}`;
    const hint = `it is marked failed and never offered for restore; remove it with robustmq-install backup delete ${id}${nsFlags(ctx)}`;
    if (t.json) {
      t.error(message, hint);
      t.writeJson({ ok: false, exitCode, error: message, hint, id, status: 'failed', failures: waited.failures, ...(unmarked.length ? { unmarked } : {}) });
      return exitCode;
    }
    for (const f of waited.failures) t.line(t.style('red', `✖ ${f.pvc}: ${f.message}`));
    if (unmarked.length) t.warn(`could not mark as failed: ${unmarked.join('; ')}`);
    throw new UserError(message, { exitCode, hint });
  }

  // what a restore needs after the namespace is gone: the retained contents and their handles
  const fileVolumes: BackupFileVolume[] = [];
  for (const v of volumes) {
    const s = waited.snapshots.find((x) => x.metadata.name === snapshotName(id, v.pvc)) as SnapshotObject;
    const contentName = s.status?.boundVolumeSnapshotContentName ?? '';
    const content = contentName ? await kube.getObject<ContentObject>('volumesnapshotcontents.snapshot.storage.k8s.io', contentName) : undefined;
    const handle = content?.status?.snapshotHandle ?? content?.spec?.source?.snapshotHandle ?? '';
    if (!content || !handle) {
      await markBackup(kube, o.namespace, created, 'failed', `the snapshot content of ${v.pvc} has no snapshot handle`);
      throw new UserError(`snapshot ${s.metadata.name} is ready but its content ${contentName || '(none)'} has no snapshot handle`, { exitCode: ExitCode.error, hint: 'the CSI snapshotter did not record it; check its logs' });
    }
    fileVolumes.push({
      ...v,
      snapshot: s.metadata.name,
      snapshotContent: contentName,
      snapshotHandle: handle,
      driver: content.spec?.driver ?? cls.driver,
      volumeSnapshotClassName: content.spec?.volumeSnapshotClassName ?? cls.name,
      ...(s.status?.restoreSize ? { restoreSize: s.status.restoreSize } : {}),
    });
  }
  const unmarked = await markBackup(kube, o.namespace, created, 'ready');
  if (unmarked.length) throw new UserError(`the snapshots are ready but could not be marked so: ${unmarked[0]}`, { exitCode: ExitCode.error, hint: `backup list shows it as pending; retry the labels with kubectl label volumesnapshot -n ${o.namespace} -l backup.robustmq.io/id=${id} backup.robustmq.io/state=ready --overwrite` });
  const file = makeBackupFile(meta, fileVolumes, { secretName, data: secret });
  createSecretFile(filePath, fileAbs, serializeBackupFile(file), 'backup file');

  if (t.json) {
    t.writeJson({ ok: true, id, release: o.release, namespace: o.namespace, snapshotClass: cls.name, file: fileAbs, fileMode: BACKUP_FILE_MODE.toString(8), volumes: fileVolumes.map((v) => ({ pvc: v.pvc, snapshot: v.snapshot, snapshotContent: v.snapshotContent })) });
  } else {
    t.ok(`backup ${id}: ${fileVolumes.length} snapshots ready`);
    t.ok(`wrote ${fileAbs} (mode 0600)`);
    t.warn(BACKUP_FILE_WARNING);
    t.line(`  restore while the namespace exists: robustmq-install restore ${id}${nsFlags(ctx)}`);
    t.line(`  after the namespace is gone:        robustmq-install restore --from ${filePath}${nsFlags(ctx)}`);
  }
  return ExitCode.ok;
}

/** How many volumes are copied at once: the release is down for the whole copy, but a node's disk is shared. */
const COPY_PARALLEL = 4;

/**
 * `backup --copy DIR`, for clusters without CSI snapshots: checks first (nothing changes), a confirm that says the
 * cluster goes down, the StatefulSets scaled to 0, one short-lived pod per PVC streaming `tar -cf -` into
 * DIR/<pvc>.tar, DIR/backup.json (0600, with the credentials), and the recorded replicas back, whatever happened.
 */
async function takeCopy(ctx: Context): Promise<number> {
  const o = ctx.options;
  const t = ctx.term;
  const dirPath = o.copy!;
  const dirAbs = isAbsolute(dirPath) ? dirPath : resolve(ctx.cwd, dirPath);
  // refused before the cluster is asked anything: an earlier backup is never overwritten
  const dirExists = assertEmptyDir(dirPath, dirAbs, 'backup directory');
  const { helm, facts } = await helmAndReachableCluster(ctx);
  const kube = kubeOf(ctx);
  const now = ctx.now?.() ?? new Date();
  const src = await releaseSource(ctx, helm, o.release, o.namespace);
  const id = backupId(o.release, now);
  const secretName = authSecretName(o.release, src.values);
  const secret = await secretData(kube, o.namespace, secretName);
  const pre = await checkCopySupport(kube, { namespace: o.namespace, release: o.release, pvcs: src.pvcs, secretName, secretFound: secret !== undefined });
  if (pre.problems.length) {
    const [first, ...rest] = pre.problems;
    throw new UserError(first!.message, { exitCode: ExitCode.preflight, hint: [first!.hint, ...rest.map((r) => `also: ${r.message}`)].join('; ') });
  }
  const statefulSets = [...new Set(src.pvcs.map((p) => p.statefulSet))];
  const what = `release ${o.release} in namespace ${o.namespace}${facts.context ? ` (context ${facts.context})` : ''}`;
  if (!o.yes) {
    if (!t.interactive) throw usageError(`backup --copy stops ${what} for the copy: it needs --yes without a terminal`, 'add --yes to confirm the downtime');
    const pr = await t.prompts();
    t.line(t.style('bold', `Backup ${id} by copy`) + `: ${src.pvcs.length} volume${src.pvcs.length > 1 ? 's' : ''} (${src.pvcs.map((p) => p.name).join(', ')}) into ${dirPath}`);
    t.line(t.style('red', `The cluster goes DOWN: ${what} is scaled to 0 (${statefulSets.join(', ')}) while the files are copied, then started again. MQTT clients are disconnected.`));
    if (!(await pr.confirm({ message: `Stop ${o.release} and copy its volumes?`, default: false }, t.promptContext))) throw new AbortedError('not confirmed');
  }
  const meta = cliBackupMeta(src, id, now);
  const stopped: Stopped = await recordReplicas(kube, o.namespace, statefulSets);
  createPrivateDir(dirPath, dirAbs, dirExists, 'backup directory');
  if (!t.json) t.line(`${t.style('bold', `Backup ${id}`)} by copy: ${src.pvcs.length} volumes of ${what} into ${dirAbs}; the release is stopped for the copy`);

  const t0 = Date.now();
  const deadline = t0 + o.timeoutMs;
  const written: string[] = [];
  const copied: CopiedVolume[] = [];
  let failure: unknown;
  let downMs = 0;
  try {
    await stopRelease(ctx, kube, o.namespace, o.release, stopped, deadline);
    failure = await eachLimited(src.pvcs, COPY_PARALLEL, async (p) => {
      if (ctx.signal.aborted) throw new UserError('interrupted before every volume was copied', { exitCode: ExitCode.aborted });
      const c = await copyOut(ctx, kube, { release: o.release, namespace: o.namespace, pvc: p.name, role: p.role, readOnly: true, values: src.values }, dirAbs, archiveName(p.name), deadline, written);
      copied.push(c);
      if (!t.json) t.ok(`${p.name}: ${archiveName(p.name)} ${sizeText(c.bytes)} (${secs(c.ms)})`);
    });
  } catch (e) {
    failure ??= e;
  } finally {
    // whatever happened after the scale-down: no copy pod left, the recorded replicas back
    const podErr = await deleteCopyPods(kube, o.namespace, o.release);
    if (podErr) t.warn(podErr);
    // its own --timeout: the start is waited for as long as an install would be
    const startProblems = await startRelease(ctx, kube, o.namespace, stopped, Date.now() + o.timeoutMs);
    // down from the scale-down until every pod is Ready again
    downMs = Date.now() - t0;
    if (startProblems.length) {
      for (const p of startProblems) t.line(t.style('red', `✖ ${p}`));
      if (failure === undefined) failure = new UserError(startProblems[0]!, { exitCode: ExitCode.health, hint: `the copy itself ${copied.length === src.pvcs.length ? 'finished' : 'did not finish'}; check the release: robustmq-install status${nsFlags(ctx)}` });
      else t.warn(`and the release did not come back: ${startProblems[0]}`);
    }
  }

  const complete = copied.length === src.pvcs.length;
  if (complete) {
    const byPvc = new Map(copied.map((c) => [c.pvc, c]));
    const volumes: CopyFileVolume[] = src.pvcs.map((p) => {
      const pvc = pre.pvcs.get(p.name);
      const c = byPvc.get(p.name)!;
      const accessModes = (pvc?.spec as { accessModes?: string[] } | undefined)?.accessModes;
      return { pvc: p.name, role: p.role, ordinal: p.ordinal, size: pvc?.spec?.resources?.requests?.storage ?? p.size, storageClass: pvc?.spec?.storageClassName ?? '', accessModes: accessModes?.length ? accessModes : ['ReadWriteOnce'], archive: c.archive, sha256: c.sha256, bytes: c.bytes };
    });
    const file = makeCopyBackupFile(meta, volumes, { secretName, data: secret! });
    const manifest = join(dirPath, COPY_MANIFEST);
    createSecretFile(manifest, join(dirAbs, COPY_MANIFEST), serializeBackupFile(file), 'backup file');
    written.push(join(dirAbs, COPY_MANIFEST));
    if (failure === undefined) {
      const total = copied.reduce((n, c) => n + c.bytes, 0);
      if (t.json) {
        t.writeJson({ ok: true, id, method: 'copy', release: o.release, namespace: o.namespace, dir: dirAbs, downSeconds: Math.round(downMs / 1000), volumes: volumes.map((v) => ({ pvc: v.pvc, archive: v.archive, bytes: v.bytes, sha256: v.sha256 })) });
      } else {
        t.ok(`backup ${id}: ${volumes.length} volumes, ${sizeText(total)} in ${dirAbs} (the release was down ${secs(downMs)}: stop, copy, start)`);
        t.ok(`wrote ${join(dirAbs, COPY_MANIFEST)} (mode 0600)`);
        t.warn(BACKUP_FILE_WARNING);
        t.line(`  restore (after uninstall --delete-data, or in a new cluster): robustmq-install restore --from ${dirPath}${nsFlags(ctx)}`);
      }
      return ExitCode.ok;
    }
    // the copy is whole, only the start failed: the backup is kept and said so
    t.warn(`the backup itself is complete: ${join(dirAbs, COPY_MANIFEST)}`);
    throw failure;
  }
  // an incomplete copy is no backup: remove what this run wrote (never anything else)
  removeWritten(written, dirExists ? undefined : dirAbs);
  if (failure instanceof UserError) {
    const hint = failure.hint ? `${failure.hint}; ` : '';
    throw new UserError(failure.message, { exitCode: failure.exitCode, hint: `${hint}nothing was kept in ${basename(dirAbs)}; the release was started again` });
  }
  throw failure;
}

function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

function nsFlags(ctx: Context): string {
  const o = ctx.options;
  return `${o.release !== 'robustmq' ? ` --release ${o.release}` : ''}${o.namespace !== 'robustmq' ? ` -n ${o.namespace}` : ''}${o.kubeContext ? ` --kube-context ${o.kubeContext}` : ''}`;
}

async function list(ctx: Context): Promise<number> {
  const o = ctx.options;
  const t = ctx.term;
  await helmAndReachableCluster(ctx);
  const kube = kubeOf(ctx);
  const crds = await kube.crdNames();
  const backups = crds.has('volumesnapshots.snapshot.storage.k8s.io') ? await listBackups(kube, o.namespace, o.release) : [];
  if (t.json) {
    t.writeJson({ release: o.release, namespace: o.namespace, snapshotApi: crds.has('volumesnapshots.snapshot.storage.k8s.io'), backups });
    return ExitCode.ok;
  }
  if (!backups.length) {
    t.line(`no backups of release ${o.release} in namespace ${o.namespace}${crds.has('volumesnapshots.snapshot.storage.k8s.io') ? '' : ' (this cluster serves no VolumeSnapshot API)'}`);
    return ExitCode.ok;
  }
  for (const l of backupTable(backups)) t.writeOut(`${l}\n`);
  const unusable = backups.filter((b) => !b.usable);
  if (unusable.length) t.line(`${unusable.length} not usable (failed, incomplete or still pending): robustmq-install backup delete ID removes one`);
  return ExitCode.ok;
}

async function remove(ctx: Context, id: string): Promise<number> {
  const o = ctx.options;
  const t = ctx.term;
  const { facts } = await helmAndReachableCluster(ctx);
  const kube = kubeOf(ctx);
  const found = await findBackup(kube, o.namespace, o.release, id);
  if (!found) throw new UserError(`no backup ${id} of release ${o.release} in namespace ${o.namespace}`, { exitCode: ExitCode.preflight, hint: `robustmq-install backup list${nsFlags(ctx)}` });
  const { backup, snapshots } = found;
  const contents = snapshots.map((s) => s.status?.boundVolumeSnapshotContentName).filter((c): c is string => Boolean(c));
  if (!o.yes) {
    if (!t.interactive) throw usageError(`backup delete needs --yes without a terminal (backup ${id}, ${backup.status}, ${snapshots.length} snapshots)`, 'add --yes to confirm');
    const pr = await t.prompts();
    t.line(`Backup ${t.style('bold', id)} (${backup.origin}, ${backup.status}, ${backup.createdAt}): ${snapshots.length} snapshots and their ${contents.length} retained contents in ${o.namespace}${facts.context ? ` (context ${facts.context})` : ''}.`);
    t.line(t.style('red', 'The snapshot data is deleted from the storage: a backup file of this id will no longer restore.'));
    if (!(await pr.confirm({ message: `Delete backup ${id}?`, default: false }, t.promptContext))) throw new AbortedError('not confirmed');
  }
  // A retained content keeps the storage snapshot after its VolumeSnapshot is gone: switch it to Delete first, so
  // deleting really frees the data (the controller deletes content and storage snapshot), then delete what is left.
  const errors: string[] = [];
  for (const c of contents) {
    const r = await kube.mergePatch('volumesnapshotcontents.snapshot.storage.k8s.io', c, '', { spec: { deletionPolicy: 'Delete' } });
    if (r.exitCode !== 0 && !/NotFound|not found/i.test(r.stderr)) errors.push(`content ${c}: ${r.stderr.trim()}`);
  }
  if (errors.length) throw new UserError(`could not set deletionPolicy Delete: ${errors[0]}`, { exitCode: ExitCode.error, hint: 'deleting a VolumeSnapshotContent needs cluster-scoped permissions; nothing was deleted' });
  const del = await kube.run(['delete', 'volumesnapshots.snapshot.storage.k8s.io', '-n', o.namespace, '-l', `backup.robustmq.io/id=${id},app.kubernetes.io/instance=${o.release}`, '--ignore-not-found', '--wait=false']);
  if (del.exitCode !== 0) throw new UserError(`deleting the snapshots of ${id} failed: ${del.stderr.trim()}`, { exitCode: ExitCode.error });
  if (contents.length) {
    const dc = await kube.run(['delete', 'volumesnapshotcontents.snapshot.storage.k8s.io', ...contents, '--ignore-not-found', '--wait=false']);
    if (dc.exitCode !== 0) throw new UserError(`deleting the snapshot contents of ${id} failed: ${dc.stderr.trim()}`, { exitCode: ExitCode.error });
  }
  if (t.json) t.writeJson({ ok: true, id, deleted: { snapshots: snapshots.map((s) => s.metadata.name), contents } });
  else t.ok(`backup ${id} deleted (${snapshots.length} snapshots, ${contents.length} contents)`);
  return ExitCode.ok;
}
