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

export interface BackupFile {
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
  volumes: BackupFileVolume[];
  credentials: { secretName: string; data: Record<string, string> };
}

export function makeBackupFile(m: BackupMeta & { values: Values }, volumes: BackupFileVolume[], credentials: BackupFile['credentials']): BackupFile {
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
    volumes: [...volumes].sort((a, b) => a.pvc.localeCompare(b.pvc)),
    credentials,
  };
}

export function serializeBackupFile(f: BackupFile): string {
  return `${JSON.stringify(f, null, 2)}\n`;
}

/** Reads a backup file; a wrong kind, version or a missing field is a usage error naming it. */
export function parseBackupFile(text: string, source = 'backup file'): BackupFile {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw usageError(`${source} is not JSON: ${(e as Error).message}`, 'pass the file `robustmq-install backup` wrote');
  }
  if (!isMap(o) || o.kind !== BACKUP_FILE_KIND) throw usageError(`${source} is not a RobustMQ backup file (kind ${BACKUP_FILE_KIND} missing)`, 'pass the file `robustmq-install backup` wrote');
  if (o.version !== BACKUP_FILE_VERSION) throw usageError(`${source} has version ${JSON.stringify(o.version)}; this CLI reads version ${BACKUP_FILE_VERSION}`, 'use the robustmq-install version that wrote it');
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
      for (const k of ['pvc', 'size', 'snapshot', 'snapshotContent', 'snapshotHandle', 'driver'])
        if (!isMap(v) || typeof v[k] !== 'string' || v[k] === '') missing.push(`volumes[${i}].${k}`);
    });
  if (missing.length) throw usageError(`${source} lacks ${missing.join(', ')}`, 'the file is damaged or was edited; use another backup');
  return o as unknown as BackupFile;
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
      out.push({ code: 'pvcs-differ', message: `backup ${src.id} has no snapshot for ${missing.join(', ')} (persistence settings changed since the backup?)`, hint: 'restore with the values stored in the backup' });
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

const NO_SNAPSHOTS_HINT = 'install your CSI driver’s snapshot support (the external-snapshotter CRDs and snapshot-controller); without it, see “Clusters without snapshots” in the README';

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
    if (!ofDriver.length) problems.push({ message: `no VolumeSnapshotClass for the volumes’ CSI driver ${driver}`, hint: `create one with driver: ${driver} and deletionPolicy: Retain (or see “Clusters without snapshots” in the README)` });
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

/** What a backup needs to be allowed to do (SelfSubjectAccessReviews). */
export function backupAccessChecks(namespace: string, withCopy = false): { verb: string; resource: string; group?: string; namespace?: string }[] {
  if (withCopy) return [];
  const g = 'snapshot.storage.k8s.io';
  return [
    { verb: 'create', resource: 'volumesnapshots', group: g, namespace },
    { verb: 'patch', resource: 'volumesnapshots', group: g, namespace },
    { verb: 'get', resource: 'volumesnapshotcontents', group: g },
    { verb: 'get', resource: 'secrets', namespace },
  ];
}

/** What a restore needs to be allowed to do; rebinding (after the namespace is gone) adds the cluster-scoped contents. */
export function restoreAccessChecks(namespace: string, rebind: boolean, createSecret: boolean): { verb: string; resource: string; group?: string; namespace?: string }[] {
  const g = 'snapshot.storage.k8s.io';
  return [
    { verb: 'create', resource: 'persistentvolumeclaims', namespace },
    { verb: 'delete', resource: 'persistentvolumeclaims', namespace },
    ...(createSecret ? [{ verb: 'create', resource: 'secrets', namespace }] : []),
    ...(rebind ? [{ verb: 'create', resource: 'volumesnapshotcontents', group: g }, { verb: 'create', resource: 'volumesnapshots', group: g, namespace }] : []),
  ];
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
