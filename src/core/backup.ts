// Backups of a release's data volumes as CSI VolumeSnapshots, pure: the metadata every snapshot carries (the CLI's
// `backup` and the chart's scheduled CronJob write the same keys; test/chart/backup.test.ts runs the chart's script and
// compares its snapshots with snapshotMetadata), the local backup file, the PVC names a StatefulSet will claim, the
// listing and retention rules, and why a restore is refused.
//
// Restore keeps release name, namespace, topology and replica counts because RobustMQ's Raft state (meta_addrs and
// the membership in the meta data directory) stores every voter's pod FQDN, <pod>.<headless>.<namespace>.svc.<domain>,
// and the pod name is derived from the release. A volume restored under another name would hold peers that do not exist.
import { usageError } from './errors.js';
import { isMap, type Values } from './values.js';

export type Role = 'combined' | 'meta' | 'broker' | 'engine';
export type Topology = 'combined' | 'split';
export type BackupOrigin = 'cli' | 'schedule';
/** pending: snapshots created, not all readyToUse yet (or the writer died); failed: never usable. */
export type BackupState = 'pending' | 'ready' | 'failed';

export const SNAPSHOT_API_VERSION = 'snapshot.storage.k8s.io/v1';
export const ROLES_OF: Record<Topology, Role[]> = { combined: ['combined'], split: ['meta', 'broker', 'engine'] };
/** The chart's volumeClaimTemplate name (templates/_statefulset.tpl). */
export const DATA_VOLUME = 'data';

const P = 'backup.robustmq.io';
export const BACKUP_LABEL = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  id: `${P}/id`,
  origin: `${P}/origin`,
  state: `${P}/state`,
  role: `${P}/role`,
  ordinal: `${P}/ordinal`,
} as const;

export const BACKUP_ANNOTATION = {
  release: `${P}/release`,
  namespace: `${P}/namespace`,
  chartVersion: `${P}/chart-version`,
  appVersion: `${P}/app-version`,
  topology: `${P}/topology`,
  /** JSON object, roles in chart order: {"combined":3} or {"meta":3,"broker":3,"engine":3} */
  replicas: `${P}/replicas`,
  pvc: `${P}/pvc`,
  pvcSize: `${P}/pvc-size`,
  storageClass: `${P}/storage-class`,
  /** how many snapshots make the whole backup: a listing with fewer is incomplete */
  pvcCount: `${P}/pvc-count`,
  createdAt: `${P}/created-at`,
  /** JSON of the release values, so a backup restores after the Helm release is gone */
  values: `${P}/values`,
  /** set with state=failed */
  failure: `${P}/failure`,
} as const;

/** Label values are at most 63 characters; a Helm release name may have 53, the timestamp takes 16. */
const ID_RELEASE_MAX = 47;

/** `<release>-<YYYYMMDD>-<HHMMSS>` in UTC; also the prefix of every snapshot name of the backup. */
export function backupId(release: string, at: Date): string {
  const iso = at.toISOString(); // 2025-01-02T03:04:05.678Z
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
  return `${release.slice(0, ID_RELEASE_MAX).replace(/-+$/, '')}-${stamp}`;
}

/** created-at: second precision, so the chart's `date -u` writes the same text. */
export function createdAtText(at: Date): string {
  return `${at.toISOString().slice(0, 19)}Z`;
}

export function snapshotName(id: string, pvc: string): string {
  return `${id}-${pvc}`;
}

// --- names the chart gives (templates/_helpers.tpl) ------------------------------------------------------------------

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
const trunc = (s: string, n: number) => s.slice(0, n).replace(/-+$/, '');

/** "robustmq.name": the app.kubernetes.io/name label. */
export function chartName(values: Values): string {
  return trunc(str(values.nameOverride) || 'robustmq', 63);
}

/** "robustmq.fullname": the StatefulSet and pod name prefix. */
export function chartFullname(release: string, values: Values): string {
  const over = str(values.fullnameOverride);
  if (over) return trunc(over, 40);
  const name = str(values.nameOverride) || 'robustmq';
  return trunc(release.includes(name) ? release : `${release}-${name}`, 40);
}

export function statefulSetName(release: string, values: Values, role: Role): string {
  const full = chartFullname(release, values);
  return role === 'combined' ? full : `${full}-${role}`;
}

export function topologyOf(values: Values): Topology {
  return values.topology === 'split' ? 'split' : 'combined';
}

export type Replicas = Partial<Record<Role, number>>;

function roleValues(values: Values, role: Role): Values {
  const v = values[role];
  return isMap(v) ? v : {};
}

/** Replica counts per role of the topology, in chart order, from the computed values. */
export function replicasOf(values: Values): Replicas {
  const out: Replicas = {};
  for (const role of ROLES_OF[topologyOf(values)]) out[role] = Number(roleValues(values, role).replicaCount ?? 0);
  return out;
}

export interface PlannedPvc {
  name: string;
  role: Role;
  ordinal: number;
  statefulSet: string;
  size: string;
  /** the PVC's storageClassName as the chart writes it: undefined = cluster default, "" = no class */
  storageClass: string | undefined;
}

/**
 * The PVCs the StatefulSets of these computed values claim: `<volumeClaimTemplate>-<statefulset>-<ordinal>` for every
 * role with persistence on. A restore pre-creates exactly these, so the StatefulSet adopts them instead of new ones.
 */
export function plannedPvcs(release: string, values: Values): PlannedPvc[] {
  const out: PlannedPvc[] = [];
  for (const role of ROLES_OF[topologyOf(values)]) {
    const v = roleValues(values, role);
    const p = isMap(v.persistence) ? v.persistence : {};
    if (p.enabled === false) continue;
    const sts = statefulSetName(release, values, role);
    const sc = str(p.storageClass);
    const n = Number(v.replicaCount ?? 0);
    for (let i = 0; i < n; i++) {
      out.push({ name: `${DATA_VOLUME}-${sts}-${i}`, role, ordinal: i, statefulSet: sts, size: str(p.size), storageClass: sc === '' ? undefined : sc === '-' ? '' : sc });
    }
  }
  return out;
}

// --- snapshot metadata -----------------------------------------------------------------------------------------------

export interface BackupMeta {
  id: string;
  origin: BackupOrigin;
  release: string;
  namespace: string;
  /** app.kubernetes.io/name of the release's objects (the chart name or nameOverride) */
  name: string;
  chartVersion: string;
  appVersion: string;
  topology: Topology;
  replicas: Replicas;
  pvcCount: number;
  createdAt: string;
  values?: Values;
}

export interface SnapshotVolume {
  pvc: string;
  role: Role;
  ordinal: number;
  size: string;
  /** the PVC's storageClassName; "" when it has none */
  storageClass: string;
}

/** `{"meta":3,"broker":3,"engine":3}`: roles in chart order, no spaces (the chart's script writes the same text). */
export function replicasText(topology: Topology, replicas: Replicas): string {
  return `{${ROLES_OF[topology].map((r) => `"${r}":${replicas[r] ?? 0}`).join(',')}}`;
}

/** Labels and annotations of one VolumeSnapshot of a backup; state starts at pending. */
export function snapshotMetadata(m: BackupMeta, vol: SnapshotVolume, state: BackupState = 'pending'): { labels: Record<string, string>; annotations: Record<string, string> } {
  const labels: Record<string, string> = {
    [BACKUP_LABEL.name]: m.name,
    [BACKUP_LABEL.instance]: m.release,
    [BACKUP_LABEL.id]: m.id,
    [BACKUP_LABEL.origin]: m.origin,
    [BACKUP_LABEL.state]: state,
    [BACKUP_LABEL.role]: vol.role,
    [BACKUP_LABEL.ordinal]: String(vol.ordinal),
  };
  const annotations: Record<string, string> = {
    [BACKUP_ANNOTATION.release]: m.release,
    [BACKUP_ANNOTATION.namespace]: m.namespace,
    [BACKUP_ANNOTATION.chartVersion]: m.chartVersion,
    [BACKUP_ANNOTATION.appVersion]: m.appVersion,
    [BACKUP_ANNOTATION.topology]: m.topology,
    [BACKUP_ANNOTATION.replicas]: replicasText(m.topology, m.replicas),
    [BACKUP_ANNOTATION.pvc]: vol.pvc,
    [BACKUP_ANNOTATION.pvcSize]: vol.size,
    [BACKUP_ANNOTATION.storageClass]: vol.storageClass,
    [BACKUP_ANNOTATION.pvcCount]: String(m.pvcCount),
    [BACKUP_ANNOTATION.createdAt]: m.createdAt,
  };
  if (m.values !== undefined) annotations[BACKUP_ANNOTATION.values] = JSON.stringify(m.values);
  return { labels, annotations };
}

/** The VolumeSnapshot object of one PVC; no class = the cluster's default VolumeSnapshotClass. */
export function volumeSnapshot(m: BackupMeta, vol: SnapshotVolume, volumeSnapshotClassName?: string) {
  return {
    apiVersion: SNAPSHOT_API_VERSION,
    kind: 'VolumeSnapshot',
    metadata: { name: snapshotName(m.id, vol.pvc), namespace: m.namespace, ...snapshotMetadata(m, vol) },
    spec: {
      ...(volumeSnapshotClassName ? { volumeSnapshotClassName } : {}),
      source: { persistentVolumeClaimName: vol.pvc },
    },
  };
}

/** Label selector of every snapshot of a release (optionally of one backup). */
export function backupSelector(name: string, release: string, id?: string): string {
  const parts = [`${BACKUP_LABEL.name}=${name}`, `${BACKUP_LABEL.instance}=${release}`];
  if (id) parts.push(`${BACKUP_LABEL.id}=${id}`);
  else parts.push(BACKUP_LABEL.id);
  return parts.join(',');
}

// --- listing and retention -------------------------------------------------------------------------------------------

/** The slice of a VolumeSnapshot the listing reads. */
export interface SnapshotObject {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { volumeSnapshotClassName?: string; source?: { persistentVolumeClaimName?: string } };
  status?: { readyToUse?: boolean; boundVolumeSnapshotContentName?: string; restoreSize?: string; error?: { message?: string } };
}

/** What a listing shows: `incomplete` = fewer snapshots than pvc-count, or one marked ready that is not readyToUse. */
export type BackupStatus = BackupState | 'incomplete';

export interface BackupSummary {
  id: string;
  origin: BackupOrigin;
  status: BackupStatus;
  usable: boolean;
  release: string;
  namespace: string;
  createdAt: string;
  chartVersion: string;
  appVersion: string;
  topology: Topology;
  replicas: Replicas;
  failure?: string;
  snapshots: { name: string; pvc: string; role: Role; ordinal: number; size: string; storageClass: string; readyToUse: boolean; content?: string; error?: string }[];
}

function parseReplicas(text: string | undefined): Replicas {
  try {
    const o = JSON.parse(text ?? '{}');
    return isMap(o) ? (o as Replicas) : {};
  } catch {
    return {};
  }
}

/** Groups a release's VolumeSnapshots into backups, newest first. Snapshots without a backup id are ignored. */
export function summarizeBackups(snapshots: SnapshotObject[]): BackupSummary[] {
  const byId = new Map<string, SnapshotObject[]>();
  for (const s of snapshots) {
    const id = s.metadata.labels?.[BACKUP_LABEL.id];
    if (!id) continue;
    byId.set(id, [...(byId.get(id) ?? []), s]);
  }
  const out: BackupSummary[] = [];
  for (const [id, list] of byId) {
    const first = list[0]!.metadata;
    const a = first.annotations ?? {};
    const l = first.labels ?? {};
    const states = new Set(list.map((s) => s.metadata.labels?.[BACKUP_LABEL.state] ?? 'pending'));
    const expected = Number(a[BACKUP_ANNOTATION.pvcCount] ?? NaN);
    const allReady = list.every((s) => s.status?.readyToUse === true);
    let status: BackupStatus;
    if (states.has('failed')) status = 'failed';
    else if (!(list.length === expected)) status = 'incomplete';
    else if (states.size === 1 && states.has('ready')) status = allReady ? 'ready' : 'incomplete';
    else status = 'pending';
    const failure = list.map((s) => s.metadata.annotations?.[BACKUP_ANNOTATION.failure]).find(Boolean);
    out.push({
      id,
      origin: l[BACKUP_LABEL.origin] === 'schedule' ? 'schedule' : 'cli',
      status,
      usable: status === 'ready',
      release: a[BACKUP_ANNOTATION.release] ?? l[BACKUP_LABEL.instance] ?? '',
      namespace: a[BACKUP_ANNOTATION.namespace] ?? '',
      createdAt: a[BACKUP_ANNOTATION.createdAt] ?? '',
      chartVersion: a[BACKUP_ANNOTATION.chartVersion] ?? '',
      appVersion: a[BACKUP_ANNOTATION.appVersion] ?? '',
      topology: a[BACKUP_ANNOTATION.topology] === 'split' ? 'split' : 'combined',
      replicas: parseReplicas(a[BACKUP_ANNOTATION.replicas]),
      ...(failure ? { failure } : {}),
      snapshots: list
        .map((s) => ({
          name: s.metadata.name,
          pvc: s.metadata.annotations?.[BACKUP_ANNOTATION.pvc] ?? s.spec?.source?.persistentVolumeClaimName ?? '',
          role: (s.metadata.labels?.[BACKUP_LABEL.role] ?? 'combined') as Role,
          ordinal: Number(s.metadata.labels?.[BACKUP_LABEL.ordinal] ?? 0),
          size: s.metadata.annotations?.[BACKUP_ANNOTATION.pvcSize] ?? '',
          storageClass: s.metadata.annotations?.[BACKUP_ANNOTATION.storageClass] ?? '',
          readyToUse: s.status?.readyToUse === true,
          ...(s.status?.boundVolumeSnapshotContentName ? { content: s.status.boundVolumeSnapshotContentName } : {}),
          ...(s.status?.error?.message ? { error: s.status.error.message } : {}),
        }))
        .sort((x, y) => x.pvc.localeCompare(y.pvc)),
    });
  }
  // ids share the release prefix, so their timestamps order them; createdAt breaks nothing when ids were truncated
  return out.sort((x, y) => (x.createdAt === y.createdAt ? y.id.localeCompare(x.id) : y.createdAt.localeCompare(x.createdAt)));
}

/**
 * The scheduled backups retention deletes: keep the `retention` newest ready ones; delete every scheduled backup older
 * than the oldest kept one (ready, failed or left pending by a killed run). Newer failures stay for inspection, and
 * with fewer ready backups than `retention` nothing goes: failing runs never eat the good backups. CLI backups are
 * never pruned. The chart's backup.sh applies the same rule.
 */
export function scheduledToPrune(backups: BackupSummary[], retention: number): string[] {
  const scheduled = backups.filter((b) => b.origin === 'schedule').sort((x, y) => y.id.localeCompare(x.id));
  const ready = scheduled.filter((b) => b.status === 'ready');
  if (retention < 1 || ready.length < retention) return [];
  const oldestKept = ready[retention - 1]!.id;
  return scheduled.filter((b) => b.id.localeCompare(oldestKept) < 0).map((b) => b.id);
}

// --- the local backup file -------------------------------------------------------------------------------------------

export const BACKUP_FILE_KIND = 'RobustMQBackup';
export const BACKUP_FILE_VERSION = 1;
/** It holds the credentials Secret: owner read/write only, like a kubeconfig. */
export const BACKUP_FILE_MODE = 0o600;
export const BACKUP_FILE_WARNING =
  'This file contains the RobustMQ credentials (admin and MQTT passwords, JWT secret) in plain base64. Keep it like a kubeconfig: mode 0600, never in git or a shared folder.';

export interface BackupFileVolume {
  pvc: string;
  role: Role;
  ordinal: number;
  size: string;
  storageClass: string;
  snapshot: string;
  /** the retained VolumeSnapshotContent; after the namespace is gone a restore binds a new snapshot to it */
  snapshotContent: string;
  /** what rebinding a pre-provisioned content needs (source.snapshotHandle, driver, class) */
  snapshotHandle: string;
  driver: string;
  volumeSnapshotClassName: string;
  restoreSize?: string;
}

/** How a backup was taken: CSI VolumeSnapshots (the cluster runs on), or the stopped release's files copied out. */
export type BackupMethod = 'snapshot' | 'copy';

/** One volume of a `backup --copy` directory: its files as `archive` (a tar next to backup.json), checked by sha256. */
export interface CopyFileVolume {
  pvc: string;
  role: Role;
  ordinal: number;
  size: string;
  /** the PVC's storageClassName at backup time; "" when it had none */
  storageClass: string;
  accessModes: string[];
  /** file name inside the backup directory (never a path) */
  archive: string;
  sha256: string;
  bytes: number;
}

interface BackupFileCommon {
  kind: typeof BACKUP_FILE_KIND;
  version: typeof BACKUP_FILE_VERSION;
  warning: string;
  id: string;
  origin: BackupOrigin;
  createdAt: string;
  release: string;
  namespace: string;
  chart: { name: string; version: string };
  appVersion: string;
  topology: Topology;
  replicas: Replicas;
  values: Values;
  credentials: { secretName: string; data: Record<string, string> };
}

/** A snapshot backup file (a file without `method`, written before copies existed, reads as this). */
export interface BackupFile extends BackupFileCommon {
  method: 'snapshot';
  volumes: BackupFileVolume[];
}

/** backup.json of a `backup --copy DIR` directory. */
export interface CopyBackupFile extends BackupFileCommon {
  method: 'copy';
  volumes: CopyFileVolume[];
}

export type AnyBackupFile = BackupFile | CopyBackupFile;

/** The name of backup.json inside a `backup --copy` directory. */
export const COPY_MANIFEST = 'backup.json';

function fileCommon(m: BackupMeta & { values: Values }, credentials: BackupFileCommon['credentials']): BackupFileCommon {
  return {
    kind: BACKUP_FILE_KIND,
    version: BACKUP_FILE_VERSION,
    warning: BACKUP_FILE_WARNING,
    id: m.id,
    origin: m.origin,
    createdAt: m.createdAt,
    release: m.release,
    namespace: m.namespace,
    chart: { name: m.name, version: m.chartVersion },
    appVersion: m.appVersion,
    topology: m.topology,
    replicas: { ...m.replicas },
    values: m.values,
    credentials,
  };
}

export function makeBackupFile(m: BackupMeta & { values: Values }, volumes: BackupFileVolume[], credentials: BackupFile['credentials']): BackupFile {
  return { ...fileCommon(m, credentials), method: 'snapshot', volumes: [...volumes].sort((a, b) => a.pvc.localeCompare(b.pvc)) };
}

export function makeCopyBackupFile(m: BackupMeta & { values: Values }, volumes: CopyFileVolume[], credentials: CopyBackupFile['credentials']): CopyBackupFile {
  return { ...fileCommon(m, credentials), method: 'copy', volumes: [...volumes].sort((a, b) => a.pvc.localeCompare(b.pvc)) };
}

export function serializeBackupFile(f: AnyBackupFile): string {
  return `${JSON.stringify(f, null, 2)}\n`;
}

/**
 * Reads a backup file; a wrong kind, version, method or a missing field is a usage error naming it. A file without
 * `method` is a snapshot backup (files written before `backup --copy` existed).
 */
export function parseBackupFile(text: string, source = 'backup file'): AnyBackupFile {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw usageError(`${source} is not JSON: ${(e as Error).message}`, 'pass the file `robustmq-install backup` wrote');
  }
  if (!isMap(o) || o.kind !== BACKUP_FILE_KIND) throw usageError(`${source} is not a RobustMQ backup file (kind ${BACKUP_FILE_KIND} missing)`, 'pass the file `robustmq-install backup` wrote');
  if (o.version !== BACKUP_FILE_VERSION) throw usageError(`${source} has version ${JSON.stringify(o.version)}; this CLI reads version ${BACKUP_FILE_VERSION}`, 'use the robustmq-install version that wrote it');
  const method = o.method ?? 'snapshot';
  if (method !== 'snapshot' && method !== 'copy') throw usageError(`${source} has method ${JSON.stringify(o.method)}; this CLI knows snapshot and copy`, 'use the robustmq-install version that wrote it');
  const missing: string[] = [];
  for (const k of ['id', 'release', 'namespace', 'createdAt', 'appVersion'] as const) if (typeof o[k] !== 'string' || o[k] === '') missing.push(k);
  if (o.topology !== 'combined' && o.topology !== 'split') missing.push('topology');
  if (!isMap(o.chart) || typeof o.chart.version !== 'string') missing.push('chart.version');
  if (!isMap(o.replicas)) missing.push('replicas');
  if (!isMap(o.values)) missing.push('values');
  if (!isMap(o.credentials) || !isMap(o.credentials.data) || typeof o.credentials.secretName !== 'string') missing.push('credentials');
  if (!Array.isArray(o.volumes) || o.volumes.length === 0) missing.push('volumes');
  else
    o.volumes.forEach((v, i) => {
      const strings = method === 'snapshot' ? ['pvc', 'size', 'snapshot', 'snapshotContent', 'snapshotHandle', 'driver'] : ['pvc', 'size', 'archive', 'sha256'];
      for (const k of strings) if (!isMap(v) || typeof v[k] !== 'string' || v[k] === '') missing.push(`volumes[${i}].${k}`);
      if (method === 'copy' && isMap(v)) {
        if (typeof v.bytes !== 'number' || !Number.isSafeInteger(v.bytes) || v.bytes < 0) missing.push(`volumes[${i}].bytes`);
        // a name inside the backup directory, never a path: a damaged or edited file must not reach outside it
        if (typeof v.archive === 'string' && v.archive !== '' && !ARCHIVE_NAME.test(v.archive)) missing.push(`volumes[${i}].archive (a plain file name)`);
        if (typeof v.sha256 === 'string' && v.sha256 !== '' && !/^[0-9a-f]{64}$/.test(v.sha256)) missing.push(`volumes[${i}].sha256 (64 hex digits)`);
      }
    });
  if (missing.length) throw usageError(`${source} lacks ${missing.join(', ')}`, 'the file is damaged or was edited; use another backup');
  return { ...o, method } as unknown as AnyBackupFile;
}

/** What an archive's name may be: a plain file name (the copy backup writes `<pvc>.tar`). */
const ARCHIVE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The archive file of one PVC in a `backup --copy` directory. */
export function archiveName(pvc: string): string {
  return `${pvc}.tar`;
}

// --- restore refusals ------------------------------------------------------------------------------------------------

export interface RestoreSource {
  id: string;
  release: string;
  namespace: string;
  topology: Topology;
  replicas: Replicas;
}

export interface RestoreRequest {
  release: string;
  namespace: string;
  /** topology and replicas of the values the restore would install (from --values / --set over the stored values) */
  topology: Topology;
  replicas: Replicas;
}

export interface RestoreCluster {
  releaseExists: boolean;
  /** PVC names that exist in the target namespace */
  existingPvcs: string[];
  /** the PVCs the restore will create (plannedPvcs of the restore values) */
  plannedPvcs: string[];
}

export type RefusalCode = 'release-exists' | 'pvcs-exist' | 'release-differs' | 'namespace-differs' | 'topology-differs' | 'replicas-differ' | 'pvcs-differ';

export interface Refusal {
  code: RefusalCode;
  message: string;
  hint: string;
}

const RAFT_REASON = "RobustMQ's Raft state stores its peers' pod FQDNs, which contain the release name and the namespace";

/** Every reason the restore must not start, before anything is created. Empty = go. */
export function restoreRefusals(src: RestoreSource, req: RestoreRequest, cluster: RestoreCluster, backupVolumes: string[]): Refusal[] {
  const out: Refusal[] = [];
  if (cluster.releaseExists)
    out.push({
      code: 'release-exists',
      message: `release ${req.release} exists in namespace ${req.namespace}`,
      hint: `restore only into an empty place: robustmq-install uninstall -n ${req.namespace} --release ${req.release} --delete-data (after a backup you trust), then restore`,
    });
  const clash = cluster.plannedPvcs.filter((p) => cluster.existingPvcs.includes(p));
  if (clash.length)
    out.push({
      code: 'pvcs-exist',
      message: `PVC${clash.length > 1 ? 's' : ''} ${clash.join(', ')} already exist${clash.length > 1 ? '' : 's'}; the StatefulSet would adopt ${clash.length > 1 ? 'them' : 'it'} instead of the restored data`,
      hint: `delete ${clash.length > 1 ? 'them' : 'it'} (kubectl delete pvc -n ${req.namespace} ${clash.join(' ')}) once you no longer need the data, then restore`,
    });
  if (src.release !== req.release)
    out.push({ code: 'release-differs', message: `backup ${src.id} is of release ${src.release}, not ${req.release}: ${RAFT_REASON}`, hint: `restore with --release ${src.release}` });
  if (src.namespace !== req.namespace)
    out.push({ code: 'namespace-differs', message: `backup ${src.id} is from namespace ${src.namespace}, not ${req.namespace}: ${RAFT_REASON}`, hint: `restore with -n ${src.namespace}` });
  if (src.topology !== req.topology)
    out.push({ code: 'topology-differs', message: `backup ${src.id} is of a ${src.topology} cluster, the values ask for ${req.topology}: ${RAFT_REASON}, and the roles own the volumes`, hint: `restore with topology=${src.topology}; change the topology later with a new install and a migration` });
  else {
    const want = replicasText(src.topology, src.replicas);
    const got = replicasText(req.topology, req.replicas);
    if (want !== got)
      out.push({ code: 'replicas-differ', message: `backup ${src.id} has replicas ${want}, the values ask for ${got}: ${RAFT_REASON}, so the voters must come back as they were`, hint: 'restore with the backup’s replica counts, then scale with upgrade' });
  }
  if (out.every((r) => r.code !== 'topology-differs' && r.code !== 'replicas-differ' && r.code !== 'release-differs')) {
    const missing = cluster.plannedPvcs.filter((p) => !backupVolumes.includes(p));
    if (missing.length)
      out.push({ code: 'pvcs-differ', message: `backup ${src.id} has no volume for ${missing.join(', ')} (persistence settings changed since the backup?)`, hint: 'restore with the values stored in the backup' });
  }
  return out;
}

// --- preflight: can this cluster take the snapshots, and keep them? -------------------------------------------------

export const SNAPSHOT_CRDS = ['volumesnapshots.snapshot.storage.k8s.io', 'volumesnapshotcontents.snapshot.storage.k8s.io', 'volumesnapshotclasses.snapshot.storage.k8s.io'] as const;
export const DEFAULT_SNAPSHOT_CLASS_ANNOTATION = 'snapshot.storage.kubernetes.io/is-default-class';

export interface SnapshotClassInfo {
  name: string;
  driver: string;
  deletionPolicy: string;
  isDefault: boolean;
}

/** The CSI driver behind each PVC: its StorageClass's provisioner. */
export interface PvcStorage {
  pvc: string;
  storageClass: string;
  /** undefined: the StorageClass does not exist (any more) */
  driver: string | undefined;
}

export interface SnapshotPreflightInput {
  servedCrds: Set<string>;
  pvcs: PvcStorage[];
  classes: SnapshotClassInfo[];
  /** --snapshot-class */
  requestedClass?: string;
  /** permissions the user lacks, as "verb resource" */
  denied: string[];
}

export interface SnapshotPreflight {
  ok: boolean;
  /** the class every snapshot uses (one driver per release is the rule; mixed drivers are refused) */
  snapshotClass?: SnapshotClassInfo;
  problems: { message: string; hint: string }[];
}

const NO_SNAPSHOTS_HINT = 'install your CSI driver’s snapshot support (the external-snapshotter CRDs and snapshot-controller); without it, use robustmq-install backup --copy DIR (stops the release; see “Clusters without snapshots” in the README)';

/** Everything that must hold before a snapshot backup creates anything; the first problem is the one to fix. */
export function snapshotPreflight(i: SnapshotPreflightInput): SnapshotPreflight {
  const problems: SnapshotPreflight['problems'] = [];
  const missingCrds = SNAPSHOT_CRDS.filter((c) => !i.servedCrds.has(c));
  if (missingCrds.length) {
    problems.push({ message: `this cluster does not serve the VolumeSnapshot API (${SNAPSHOT_API_VERSION}: ${missingCrds.join(', ')} missing)`, hint: NO_SNAPSHOTS_HINT });
    return { ok: false, problems };
  }
  if (i.pvcs.length === 0) {
    problems.push({ message: 'the release has no data PVCs (persistence is off): there is nothing to snapshot', hint: 'turn persistence on (persistence.enabled=true per role) before relying on backups' });
    return { ok: false, problems };
  }
  const classless = i.pvcs.filter((p) => p.driver === undefined);
  if (classless.length) {
    problems.push({ message: `StorageClass ${[...new Set(classless.map((p) => p.storageClass || '(none)'))].join(', ')} of PVC ${classless.map((p) => p.pvc).join(', ')} does not exist, so its CSI driver is unknown`, hint: 'snapshots need the CSI driver of the volumes: restore the StorageClass' });
    return { ok: false, problems };
  }
  const drivers = [...new Set(i.pvcs.map((p) => p.driver!))];
  if (drivers.length > 1) {
    problems.push({ message: `the release’s volumes use ${drivers.length} storage drivers (${drivers.join(', ')}); one backup takes one snapshot class`, hint: 'use one StorageClass for every role' });
    return { ok: false, problems };
  }
  const driver = drivers[0]!;
  let chosen: SnapshotClassInfo | undefined;
  if (i.requestedClass) {
    chosen = i.classes.find((c) => c.name === i.requestedClass);
    if (!chosen) problems.push({ message: `VolumeSnapshotClass ${i.requestedClass} does not exist`, hint: `classes for ${driver}: ${i.classes.filter((c) => c.driver === driver).map((c) => c.name).join(', ') || 'none'}` });
    else if (chosen.driver !== driver) problems.push({ message: `VolumeSnapshotClass ${chosen.name} is for driver ${chosen.driver}, the volumes are on ${driver}`, hint: `pick a class of driver ${driver}` });
  } else {
    const ofDriver = i.classes.filter((c) => c.driver === driver);
    const defaults = ofDriver.filter((c) => c.isDefault);
    chosen = defaults.length === 1 ? defaults[0] : ofDriver.length === 1 ? ofDriver[0] : undefined;
    if (!ofDriver.length) problems.push({ message: `no VolumeSnapshotClass for the volumes’ CSI driver ${driver}`, hint: `create one with driver: ${driver} and deletionPolicy: Retain (or, without snapshots, robustmq-install backup --copy DIR: see “Clusters without snapshots” in the README)` });
    else if (!chosen) problems.push({ message: `${ofDriver.length} VolumeSnapshotClasses for ${driver} (${ofDriver.map((c) => c.name).join(', ')}) and ${defaults.length ? 'several' : 'none'} marked default`, hint: 'name one with --snapshot-class' });
  }
  if (chosen && chosen.driver === driver && chosen.deletionPolicy !== 'Retain')
    problems.push({
      message: `VolumeSnapshotClass ${chosen.name} has deletionPolicy ${chosen.deletionPolicy}: the snapshots would be deleted with the namespace`,
      hint: `use a class with deletionPolicy: Retain (--snapshot-class), e.g. a copy of ${chosen.name} with that one field changed`,
    });
  if (i.denied.length) problems.push({ message: `your credentials may not ${i.denied.join(', ')}`, hint: 'ask for those permissions (or run as a user who has them)' });
  return { ok: problems.length === 0, ...(chosen && problems.length === 0 ? { snapshotClass: chosen } : {}), problems };
}

type AccessCheck = { verb: string; resource: string; group?: string; namespace?: string; subresource?: string };

/**
 * What a backup needs to be allowed to do (SelfSubjectAccessReviews). A copy backup stops the release (the StatefulSets'
 * scale subresource), runs a pod per PVC and streams tar out of it (pods/exec), and reads the credentials Secret.
 */
export function backupAccessChecks(namespace: string, withCopy = false): AccessCheck[] {
  if (withCopy)
    return [
      { verb: 'get', resource: 'statefulsets', group: 'apps', namespace },
      { verb: 'patch', resource: 'statefulsets', group: 'apps', namespace, subresource: 'scale' },
      { verb: 'create', resource: 'pods', namespace },
      { verb: 'delete', resource: 'pods', namespace },
      { verb: 'create', resource: 'pods', namespace, subresource: 'exec' },
      { verb: 'get', resource: 'secrets', namespace },
    ];
  const g = 'snapshot.storage.k8s.io';
  return [
    { verb: 'create', resource: 'volumesnapshots', group: g, namespace },
    { verb: 'patch', resource: 'volumesnapshots', group: g, namespace },
    { verb: 'get', resource: 'volumesnapshotcontents', group: g },
    { verb: 'get', resource: 'secrets', namespace },
  ];
}

/**
 * What a restore needs to be allowed to do; rebinding (after the namespace is gone) adds the cluster-scoped contents,
 * a copy restore the pods that write the archives into the new PVCs.
 */
export function restoreAccessChecks(namespace: string, rebind: boolean, createSecret: boolean, copy = false): AccessCheck[] {
  const g = 'snapshot.storage.k8s.io';
  return [
    { verb: 'create', resource: 'persistentvolumeclaims', namespace },
    { verb: 'delete', resource: 'persistentvolumeclaims', namespace },
    ...(createSecret ? [{ verb: 'create', resource: 'secrets', namespace }] : []),
    ...(rebind && !copy ? [{ verb: 'create', resource: 'volumesnapshotcontents', group: g }, { verb: 'create', resource: 'volumesnapshots', group: g, namespace }] : []),
    ...(copy ? [{ verb: 'create', resource: 'pods', namespace }, { verb: 'delete', resource: 'pods', namespace }, { verb: 'create', resource: 'pods', namespace, subresource: 'exec' }] : []),
  ];
}

/** "verb resource[/subresource]" of a denied check, as the refusal names it. */
export function accessText(a: AccessCheck): string {
  return `${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''}`;
}

// --- copy backups: the stopped release's files through a short-lived pod per PVC -------------------------------------

export const COPY_COMPONENT = 'backup-copy';
/** The mount point of the PVC in a copy pod. */
export const COPY_MOUNT = '/data';
export const COPY_CONTAINER = 'copy';

export interface CopyPreflightInput {
  /** the PVCs the StatefulSets claim */
  planned: string[];
  /** pvc → its phase; absent = does not exist */
  phases: Record<string, string>;
  /** checks the user fails, as accessText() gives them */
  denied: string[];
  secretName: string;
  secretFound: boolean;
  /** copy pods of this release left over by an earlier run */
  leftoverPods: string[];
}

/** Everything that must hold before a copy backup stops the release; the first problem is the one to fix. */
export function copyPreflight(i: CopyPreflightInput): { message: string; hint: string }[] {
  const out: { message: string; hint: string }[] = [];
  if (i.planned.length === 0) {
    out.push({ message: 'the release has no data PVCs (persistence is off): there is nothing to copy', hint: 'turn persistence on (persistence.enabled=true per role) before relying on backups' });
    return out;
  }
  const missing = i.planned.filter((p) => i.phases[p] !== 'Bound').map((p) => `${p}${i.phases[p] ? ` (${i.phases[p]})` : ''}`);
  if (missing.length)
    out.push({ message: `PVC${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of the release ${missing.length > 1 ? 'are' : 'is'} missing or not Bound`, hint: 'a backup copies every data volume: wait until every pod of the release has started (robustmq-install status)' });
  if (i.denied.length) out.push({ message: `your credentials may not ${i.denied.join(', ')}`, hint: 'a copy backup scales the StatefulSets, runs a pod per PVC and execs tar in it: ask for those permissions' });
  if (!i.secretFound) out.push({ message: `the credentials Secret ${i.secretName} does not exist`, hint: 'a restore needs it: recreate it with the passwords the cluster was installed with, then back up' });
  if (i.leftoverPods.length)
    out.push({ message: `copy pod${i.leftoverPods.length > 1 ? 's' : ''} ${i.leftoverPods.join(', ')} of an earlier run still exist${i.leftoverPods.length > 1 ? '' : 's'}`, hint: `delete ${i.leftoverPods.length > 1 ? 'them' : 'it'} first (kubectl delete pod -l app.kubernetes.io/component=${COPY_COMPONENT})` });
  return out;
}

function copyLabels(release: string, role: Role): Record<string, string> {
  return { [BACKUP_LABEL.instance]: release, 'app.kubernetes.io/component': COPY_COMPONENT, [BACKUP_LABEL.role]: role, 'app.kubernetes.io/managed-by': 'robustmq-install' };
}

/** `<release>-copy-<8 hex of the PVC name>`: short, stable, one per PVC. */
export function copyPodName(release: string, pvc: string): string {
  let h = 0x811c9dc5; // FNV-1a: stable across runs, no crypto needed for a name
  for (let i = 0; i < pvc.length; i++) {
    h ^= pvc.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `${release}-copy-${h.toString(16).padStart(8, '0')}`;
}

/** The server image of these computed values, as the chart's "robustmq.image" writes it (the digest wins). */
export function serverImage(values: Values): { image: string; pullPolicy: string } {
  const img = isMap(values.image) ? values.image : {};
  const global = isMap(values.global) ? values.global : {};
  const registry = str(global.imageRegistry) || str(img.registry);
  const repo = registry ? `${registry}/${str(img.repository)}` : str(img.repository);
  const image = str(img.digest) ? `${repo}@${str(img.digest)}` : `${repo}:${str(img.tag)}`;
  return { image, pullPolicy: str(img.pullPolicy) || 'IfNotPresent' };
}

/** imagePullSecrets of a role's pods: global + image + role, names or {name}, deduplicated (the chart's rule). */
export function pullSecretsOf(values: Values, role: Role): { name: string }[] {
  const img = isMap(values.image) ? values.image : {};
  const global = isMap(values.global) ? values.global : {};
  const list = (v: unknown) => (Array.isArray(v) ? v : []);
  const names = [...list(global.imagePullSecrets), ...list(img.pullSecrets), ...list(roleValues(values, role).imagePullSecrets)].map((x) => (isMap(x) ? str(x.name) : str(x))).filter(Boolean);
  return [...new Set(names)].map((name) => ({ name }));
}

/**
 * The pod security context of a copy pod: restricted Pod Security (non-root, RuntimeDefault seccomp), the user, group
 * and fsGroup of the chart's podSecurityContext (999, the image's robustmq user), none of those in openshift mode (the
 * SCC assigns them).
 */
export function copyPodSecurityContext(values: Values): Record<string, unknown> {
  const psc = isMap(values.podSecurityContext) && values.podSecurityContext.enabled !== false ? values.podSecurityContext : {};
  const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isInteger(v) ? v : d);
  const ids = values.openshift === true ? {} : { runAsUser: num(psc.runAsUser, 999), runAsGroup: num(psc.runAsGroup, 999), fsGroup: num(psc.fsGroup, 999) };
  return {
    runAsNonRoot: true,
    ...ids,
    ...(typeof psc.fsGroupChangePolicy === 'string' && values.openshift !== true ? { fsGroupChangePolicy: psc.fsGroupChangePolicy } : {}),
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export interface CopyPodSpec {
  release: string;
  namespace: string;
  pvc: string;
  role: Role;
  /** backup: the volume is mounted read-only; restore: read-write */
  readOnly: boolean;
  values: Values;
}

/**
 * A short-lived pod that mounts one PVC at /data and sleeps, so tar can be exec'd in it: the release's own server
 * image (Debian, has tar), restricted Pod Security, no API token, the release's pull secrets. Labelled with the
 * release and component backup-copy (never the chart's selector labels: no Service or StatefulSet picks it up).
 */
export function copyPod(s: CopyPodSpec) {
  const { image, pullPolicy } = serverImage(s.values);
  const secrets = pullSecretsOf(s.values, s.role);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: copyPodName(s.release, s.pvc),
      namespace: s.namespace,
      labels: copyLabels(s.release, s.role),
      annotations: { 'backup.robustmq.io/pvc': s.pvc },
    },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      // sleep as PID 1 ignores SIGTERM: no grace period to wait out on delete
      terminationGracePeriodSeconds: 0,
      // a CLI that died mid-copy leaves the pod; it ends by itself within a day
      activeDeadlineSeconds: 86_400,
      securityContext: copyPodSecurityContext(s.values),
      // A restore's new PVCs bind where their copy pod lands (WaitForFirstConsumer, local volumes): spread a role's
      // copy pods over the nodes as its StatefulSet's anti-affinity will want its pods.
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: copyLabels(s.release, s.role) } } }],
        },
      },
      ...(secrets.length ? { imagePullSecrets: secrets } : {}),
      containers: [
        {
          name: COPY_CONTAINER,
          image,
          imagePullPolicy: pullPolicy,
          command: ['sleep', '86400'],
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
          resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '1', memory: '256Mi' } },
          volumeMounts: [{ name: 'data', mountPath: COPY_MOUNT, readOnly: s.readOnly }],
        },
      ],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: s.pvc, readOnly: s.readOnly } }],
    },
  };
}

/** tar out of a copy pod (every file of the volume, numeric owners) and into one (as the pod's user, no chown). */
export const TAR_OUT = ['tar', '-C', COPY_MOUNT, '--numeric-owner', '-cf', '-', '.'];
export const TAR_IN = ['tar', '-C', COPY_MOUNT, '--no-same-owner', '--no-overwrite-dir', '-xf', '-'];

/**
 * Whether `tar -x` into a volume succeeded. As the pod's non-root user, tar cannot set the mode and times of the
 * volume's root directory when the volume plugin made it root's (local-path: a 0777 directory owned by root): it says
 * so about `.` and exits 2 after extracting everything else. Those lines alone are success; any other error is not.
 */
export function tarInSucceeded(exitCode: number, stderr: string): boolean {
  if (exitCode === 0) return true;
  if (exitCode !== 2) return false;
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const harmless = (l: string) => /^tar: \.\/?: Cannot (utime|change mode|change ownership)/.test(l) || /^tar: Exiting with failure status due to previous errors$/.test(l) || /^command terminated with exit code 2$/.test(l);
  return lines.some((l) => l.startsWith('tar: .')) && lines.every(harmless);
}

/** The server pods of a release (never hook, test or copy pods): the selector a stopped release has none of. */
export function serverPodSelector(release: string): string {
  return `${BACKUP_LABEL.instance}=${release},app.kubernetes.io/component in (combined,meta,broker,engine)`;
}

// --- waiting: one line per PVC ----------------------------------------------------------------------------------------

export type SnapshotPhase = 'waiting' | 'ready' | 'failed';

/** Where one snapshot stands; a status.error is final (the controller retries only on a new snapshot). */
export function snapshotPhase(s: SnapshotObject | undefined): { phase: SnapshotPhase; error?: string } {
  if (!s) return { phase: 'waiting' };
  if (s.status?.readyToUse === true) return { phase: 'ready' };
  if (s.status?.error?.message) return { phase: 'failed', error: s.status.error.message };
  return { phase: 'waiting' };
}

// --- the listing as a table ------------------------------------------------------------------------------------------

export function replicasSummary(topology: Topology, replicas: Replicas): string {
  return ROLES_OF[topology].map((r) => `${r === 'combined' ? '' : `${r} `}${replicas[r] ?? 0}`).join(', ');
}

/** `backup list` rows: ID, ORIGIN, STATUS, CREATED, VOLUMES, TOPOLOGY, CHART/APP. */
export function backupTable(backups: BackupSummary[]): string[] {
  const head = ['ID', 'ORIGIN', 'STATUS', 'CREATED', 'VOLUMES', 'TOPOLOGY', 'CHART', 'APP'];
  const rows = backups.map((b) => [
    b.id,
    b.origin,
    b.status,
    b.createdAt,
    `${b.snapshots.filter((s) => s.readyToUse).length}/${b.snapshots.length}`,
    `${b.topology} (${replicasSummary(b.topology, b.replicas)})`,
    b.chartVersion,
    b.appVersion,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
}

/** The Secret the release's pods read the credentials from ("robustmq.authSecretName"). */
export function authSecretName(release: string, values: Values): string {
  const auth = isMap(values.auth) ? values.auth : {};
  return str(auth.existingSecret) || `${chartFullname(release, values)}-auth`;
}

/** Every backup snapshot of a release, whatever its nameOverride was (the release may be gone). */
export function releaseBackupSelector(release: string, id?: string): string {
  return `${BACKUP_LABEL.instance}=${release},${id ? `${BACKUP_LABEL.id}=${id}` : BACKUP_LABEL.id}`;
}

/** "robustmq-0.4.11" (helm history's chart column) → "0.4.11". */
export function chartVersionOf(chart: string | undefined, name = 'robustmq'): string {
  if (!chart) return '';
  return chart.startsWith(`${name}-`) ? chart.slice(name.length + 1) : (/-(\d+\.\d+\.\d+.*)$/.exec(chart)?.[1] ?? chart);
}

/** The default local backup file name. */
export function backupFileName(id: string): string {
  return `robustmq-backup-${id}.json`;
}
