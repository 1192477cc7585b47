// The objects a restore creates before helm runs, pure: the VolumeSnapshots of a backup file bound again to their
// retained VolumeSnapshotContents (after the namespace is gone), and the PVCs under exactly the names the StatefulSets
// will claim, each from its snapshot. The StatefulSet controller adopts an existing PVC of the claim's name, so the pods
// start on the restored data instead of empty volumes.
import { BACKUP_LABEL, chartName, plannedPvcs, SNAPSHOT_API_VERSION, snapshotMetadata, type BackupFile, type BackupFileVolume, type BackupMeta, type CopyFileVolume, type PlannedPvc } from './backup.js';
import { isMap, type Values } from './values.js';

const GROUP = 'snapshot.storage.k8s.io';

/** The BackupMeta a backup file describes (to write the same labels/annotations on rebound snapshots). */
export function metaOfFile(f: BackupFile): BackupMeta {
  return {
    id: f.id,
    origin: f.origin,
    release: f.release,
    namespace: f.namespace,
    name: f.chart.name,
    chartVersion: f.chart.version,
    appVersion: f.appVersion,
    topology: f.topology,
    replicas: f.replicas,
    pvcCount: f.volumes.length,
    createdAt: f.createdAt,
    values: f.values,
  };
}

/**
 * The name of the content a restore pre-provisions for one volume. Cluster-scoped and deterministic, so a retried
 * restore finds the one it made (the retained original still points at the deleted snapshot and cannot be reused:
 * its volumeSnapshotRef carries the old uid).
 */
export function restoredContentName(vol: BackupFileVolume): string {
  return `restored-${vol.snapshot}`.slice(0, 253);
}

/** A pre-provisioned VolumeSnapshotContent for a retained snapshot handle, bound to the snapshot restore recreates. */
export function restoredContent(f: BackupFile, vol: BackupFileVolume) {
  return {
    apiVersion: SNAPSHOT_API_VERSION,
    kind: 'VolumeSnapshotContent',
    metadata: { name: restoredContentName(vol), labels: { [BACKUP_LABEL.id]: f.id, [BACKUP_LABEL.instance]: f.release } },
    spec: {
      // Retain: deleting the restored namespace again must not delete the backup
      deletionPolicy: 'Retain',
      driver: vol.driver,
      source: { snapshotHandle: vol.snapshotHandle },
      ...(vol.volumeSnapshotClassName ? { volumeSnapshotClassName: vol.volumeSnapshotClassName } : {}),
      volumeSnapshotRef: { apiVersion: SNAPSHOT_API_VERSION, kind: 'VolumeSnapshot', name: vol.snapshot, namespace: f.namespace },
    },
  };
}

/** The VolumeSnapshot under its original name and labels, bound to the pre-provisioned content: `backup list` shows it again. */
export function reboundSnapshot(f: BackupFile, vol: BackupFileVolume) {
  const { labels, annotations } = snapshotMetadata(metaOfFile(f), { pvc: vol.pvc, role: vol.role, ordinal: vol.ordinal, size: vol.size, storageClass: vol.storageClass }, 'ready');
  return {
    apiVersion: SNAPSHOT_API_VERSION,
    kind: 'VolumeSnapshot',
    metadata: { name: vol.snapshot, namespace: f.namespace, labels, annotations: { ...annotations, [`backup.robustmq.io/restored-from`]: 'file' } },
    spec: {
      ...(vol.volumeSnapshotClassName ? { volumeSnapshotClassName: vol.volumeSnapshotClassName } : {}),
      source: { volumeSnapshotContentName: restoredContentName(vol) },
    },
  };
}

/** The larger of two Kubernetes quantities (a snapshot may restore bigger than the PVC that was snapshotted). */
export function largerQuantity(a: string, b: string | undefined): string {
  if (!b) return a;
  const n = (q: string) => {
    const m = /^(\d+(?:\.\d+)?)([KMGTPE]i?|[kmu]|)$/.exec(q.trim());
    if (!m) return NaN;
    const unit = m[2]!;
    const pow: Record<string, number> = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60, m: 1e-3, u: 1e-6 };
    return Number(m[1]) * (pow[unit] ?? NaN);
  };
  const x = n(a);
  const y = n(b);
  if (Number.isNaN(x)) return b;
  if (Number.isNaN(y)) return a;
  return y > x ? b : a;
}

export interface RestoreVolume {
  pvc: PlannedPvc & { accessModes: string[] };
  snapshot: string;
  restoreSize?: string;
}

/** Access modes of a role's persistence in the computed values (the chart's default is ReadWriteOnce). */
function accessModesOf(values: Values, role: string): string[] {
  const v = values[role];
  const p = isMap(v) && isMap(v.persistence) ? v.persistence : {};
  return Array.isArray(p.accessModes) && p.accessModes.length ? p.accessModes.map(String) : ['ReadWriteOnce'];
}

/** The PVCs a restore pre-creates for these computed values, each paired with the snapshot of the same PVC name. */
export function restoreVolumes(release: string, computed: Values, snapshots: { pvc: string; name: string; restoreSize?: string }[]): RestoreVolume[] {
  return plannedPvcs(release, computed).flatMap((p) => {
    const s = snapshots.find((x) => x.pvc === p.name);
    return s ? [{ pvc: { ...p, accessModes: accessModesOf(computed, p.role) }, snapshot: s.name, ...(s.restoreSize ? { restoreSize: s.restoreSize } : {}) }] : [];
  });
}

/**
 * One PVC with the labels of the chart's volumeClaimTemplate, its data from the snapshot; or, for a copy backup
 * (`copied`), empty (no dataSource) with the storage class, size and access modes the backed-up PVC had: the archive
 * is written into it before the install.
 */
export function restoredPvc(release: string, namespace: string, computed: Values, v: RestoreVolume, copied?: CopyFileVolume) {
  const sc = copied ? copied.storageClass : v.pvc.storageClass;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: v.pvc.name,
      namespace,
      labels: {
        'app.kubernetes.io/name': chartName(computed),
        'app.kubernetes.io/instance': release,
        'app.kubernetes.io/component': v.pvc.role,
      },
      annotations: { 'backup.robustmq.io/restored-from': copied ? `archive ${copied.archive}` : v.snapshot },
    },
    spec: {
      accessModes: copied?.accessModes.length ? copied.accessModes : v.pvc.accessModes,
      ...(sc !== undefined ? { storageClassName: sc } : {}),
      resources: { requests: { storage: copied ? largerQuantity(v.pvc.size, copied.size) : largerQuantity(v.pvc.size, v.restoreSize) } },
      ...(copied ? {} : { dataSource: { apiGroup: GROUP, kind: 'VolumeSnapshot', name: v.snapshot } }),
    },
  };
}
