import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/args.js';
import {
  authSecretName,
  backupTable,
  chartVersionOf,
  releaseBackupSelector,
  SNAPSHOT_CRDS,
  snapshotPhase,
  snapshotPreflight,
  summarizeBackups,
  volumeSnapshot,
  type BackupMeta,
  type SnapshotClassInfo,
  type SnapshotPreflightInput,
} from '../../src/core/backup.js';
import { UserError } from '../../src/core/errors.js';
import { largerQuantity, reboundSnapshot, restoredContent, restoredContentName, restoredPvc, restoreVolumes } from '../../src/core/restore.js';

const retain: SnapshotClassInfo = { name: 'csi-retain', driver: 'hostpath.csi', deletionPolicy: 'Retain', isDefault: true };
const del: SnapshotClassInfo = { name: 'csi-delete', driver: 'hostpath.csi', deletionPolicy: 'Delete', isDefault: false };
const other: SnapshotClassInfo = { name: 'ebs', driver: 'ebs.csi.aws.com', deletionPolicy: 'Retain', isDefault: true };
const base: SnapshotPreflightInput = {
  servedCrds: new Set(SNAPSHOT_CRDS),
  pvcs: [0, 1, 2].map((i) => ({ pvc: `data-rmq-robustmq-${i}`, storageClass: 'fast', driver: 'hostpath.csi' })),
  classes: [retain, del, other],
  denied: [],
};

describe('snapshot preflight', () => {
  it('picks the default Retain class of the volumes’ driver', () => {
    const r = snapshotPreflight(base);
    expect(r).toMatchObject({ ok: true, snapshotClass: retain, problems: [] });
  });

  it('without the snapshot API: one problem, naming the missing CRDs and the way out', () => {
    const r = snapshotPreflight({ ...base, servedCrds: new Set(['volumesnapshotclasses.snapshot.storage.k8s.io']) });
    expect(r.ok).toBe(false);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.message).toBe('this cluster does not serve the VolumeSnapshot API (snapshot.storage.k8s.io/v1: volumesnapshots.snapshot.storage.k8s.io, volumesnapshotcontents.snapshot.storage.k8s.io missing)');
    expect(r.problems[0]!.hint).toMatch(/external-snapshotter CRDs and snapshot-controller/);
  });

  it('refuses a Delete class, a class of another driver, an unknown class, and names the classes there are', () => {
    expect(snapshotPreflight({ ...base, requestedClass: 'csi-delete' }).problems[0]!.message).toMatch(/csi-delete has deletionPolicy Delete: the snapshots would be deleted with the namespace/);
    expect(snapshotPreflight({ ...base, requestedClass: 'ebs' }).problems[0]!.message).toMatch(/ebs is for driver ebs.csi.aws.com, the volumes are on hostpath.csi/);
    const unknown = snapshotPreflight({ ...base, requestedClass: 'nope' });
    expect(unknown.problems[0]).toEqual({ message: 'VolumeSnapshotClass nope does not exist', hint: 'classes for hostpath.csi: csi-retain, csi-delete' });
  });

  it('asks for --snapshot-class when the driver has several classes and none or several defaults', () => {
    const r = snapshotPreflight({ ...base, classes: [{ ...retain, isDefault: false }, del] });
    expect(r.problems[0]).toEqual({ message: '2 VolumeSnapshotClasses for hostpath.csi (csi-retain, csi-delete) and none marked default', hint: 'name one with --snapshot-class' });
    // exactly one class for the driver: it is the one, default or not
    expect(snapshotPreflight({ ...base, classes: [{ ...retain, isDefault: false }] }).snapshotClass?.name).toBe('csi-retain');
  });

  it('refuses no class for the driver, mixed drivers, a vanished StorageClass, no PVCs, and missing permissions', () => {
    expect(snapshotPreflight({ ...base, classes: [other] }).problems[0]!.message).toBe('no VolumeSnapshotClass for the volumes’ CSI driver hostpath.csi');
    const mixed = snapshotPreflight({ ...base, pvcs: [...base.pvcs, { pvc: 'x', storageClass: 'gp3', driver: 'ebs.csi.aws.com' }] });
    expect(mixed.problems[0]!.message).toMatch(/use 2 storage drivers \(hostpath.csi, ebs.csi.aws.com\)/);
    const gone = snapshotPreflight({ ...base, pvcs: [{ pvc: 'data-0', storageClass: 'old', driver: undefined }] });
    expect(gone.problems[0]!.message).toBe('StorageClass old of PVC data-0 does not exist, so its CSI driver is unknown');
    expect(snapshotPreflight({ ...base, pvcs: [] }).problems[0]!.message).toMatch(/no data PVCs \(persistence is off\)/);
    const denied = snapshotPreflight({ ...base, denied: ['create volumesnapshots', 'get secrets'] });
    expect(denied.ok).toBe(false);
    expect(denied.snapshotClass).toBeUndefined();
    expect(denied.problems[0]!.message).toBe('your credentials may not create volumesnapshots, get secrets');
  });
});

describe('snapshot phases and the listing table', () => {
  it('ready, failed with the message, or waiting', () => {
    expect(snapshotPhase(undefined)).toEqual({ phase: 'waiting' });
    expect(snapshotPhase({ metadata: { name: 's' }, status: { readyToUse: true } })).toEqual({ phase: 'ready' });
    expect(snapshotPhase({ metadata: { name: 's' }, status: { readyToUse: false, error: { message: 'quota' } } })).toEqual({ phase: 'failed', error: 'quota' });
    expect(snapshotPhase({ metadata: { name: 's' }, status: { readyToUse: false } })).toEqual({ phase: 'waiting' });
  });

  it('prints aligned rows with ready/total volumes and the topology', () => {
    const meta: BackupMeta = { id: 'rmq-20250102-030405', origin: 'cli', release: 'rmq', namespace: 'mq', name: 'robustmq', chartVersion: '0.4.11', appVersion: 'v0.4.11', topology: 'split', replicas: { meta: 3, broker: 2, engine: 1 }, pvcCount: 2, createdAt: '2025-01-02T03:04:05Z' };
    const snaps = ['data-rmq-robustmq-meta-0', 'data-rmq-robustmq-broker-0'].map((pvc, i) => {
      const s = volumeSnapshot(meta, { pvc, role: i ? 'broker' : 'meta', ordinal: 0, size: '1Gi', storageClass: 'fast' });
      s.metadata.labels['backup.robustmq.io/state'] = 'ready';
      return { ...s, status: { readyToUse: i === 0 } };
    });
    const rows = backupTable(summarizeBackups(snaps));
    expect(rows[0]).toBe('ID                   ORIGIN  STATUS      CREATED               VOLUMES  TOPOLOGY                            CHART   APP');
    expect(rows[1]).toBe('rmq-20250102-030405  cli     incomplete  2025-01-02T03:04:05Z  1/2      split (meta 3, broker 2, engine 1)  0.4.11  v0.4.11');
  });

  it('names: the auth Secret as the chart does, the chart version from helm history, a selector for a gone release', () => {
    expect(authSecretName('rmq', { auth: { existingSecret: 'rmq-credentials' } })).toBe('rmq-credentials');
    expect(authSecretName('rmq', {})).toBe('rmq-robustmq-auth');
    expect(chartVersionOf('robustmq-0.4.11')).toBe('0.4.11');
    expect(chartVersionOf('my-fork-1.2.3-rc.1', 'robustmq')).toBe('1.2.3-rc.1');
    expect(chartVersionOf(undefined)).toBe('');
    expect(releaseBackupSelector('rmq')).toBe('app.kubernetes.io/instance=rmq,backup.robustmq.io/id');
    expect(releaseBackupSelector('rmq', 'rmq-20250102-030405')).toBe('app.kubernetes.io/instance=rmq,backup.robustmq.io/id=rmq-20250102-030405');
  });
});

describe('restore objects', () => {
  const file = {
    kind: 'RobustMQBackup' as const,
    version: 1 as const,
    warning: '',
    id: 'rmq-20250102-030405',
    origin: 'cli' as const,
    createdAt: '2025-01-02T03:04:05Z',
    release: 'rmq',
    namespace: 'mq',
    chart: { name: 'robustmq', version: '0.4.11' },
    appVersion: 'v0.4.11',
    topology: 'combined' as const,
    replicas: { combined: 1 },
    values: { combined: { replicaCount: 1, persistence: { enabled: true, size: '2Gi', storageClass: 'fast', accessModes: ['ReadWriteOncePod'] } } },
    volumes: [{ pvc: 'data-rmq-robustmq-0', role: 'combined' as const, ordinal: 0, size: '2Gi', storageClass: 'fast', snapshot: 'rmq-20250102-030405-data-rmq-robustmq-0', snapshotContent: 'snapcontent-1', snapshotHandle: 'h-1', driver: 'hostpath.csi', volumeSnapshotClassName: 'csi-retain', restoreSize: '3Gi' }],
    credentials: { secretName: 'rmq-credentials', data: {} },
    method: 'snapshot' as const,
  };

  it('pre-provisions a Retain content for the retained handle, bound to the snapshot under its original name', () => {
    const v = file.volumes[0]!;
    expect(restoredContentName(v)).toBe('restored-rmq-20250102-030405-data-rmq-robustmq-0');
    expect(restoredContent(file, v).spec).toEqual({
      deletionPolicy: 'Retain',
      driver: 'hostpath.csi',
      source: { snapshotHandle: 'h-1' },
      volumeSnapshotClassName: 'csi-retain',
      volumeSnapshotRef: { apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', name: v.snapshot, namespace: 'mq' },
    });
    const s = reboundSnapshot(file, v);
    expect(s.metadata.name).toBe(v.snapshot);
    expect(s.metadata.labels).toMatchObject({ 'backup.robustmq.io/id': file.id, 'backup.robustmq.io/state': 'ready', 'app.kubernetes.io/instance': 'rmq' });
    expect(JSON.parse((s.metadata.annotations as Record<string, string>)['backup.robustmq.io/values']!)).toEqual(file.values);
    expect(s.spec.source).toEqual({ volumeSnapshotContentName: restoredContentName(v) });
  });

  it('creates each PVC under the StatefulSet’s claim name, with the chart’s labels, access modes and the larger size', () => {
    const vols = restoreVolumes('rmq', file.values, [{ pvc: 'data-rmq-robustmq-0', name: 'snap-0', restoreSize: '3Gi' }]);
    expect(vols).toHaveLength(1);
    const pvc = restoredPvc('rmq', 'mq', file.values, vols[0]!);
    expect(pvc.metadata).toEqual({
      name: 'data-rmq-robustmq-0',
      namespace: 'mq',
      labels: { 'app.kubernetes.io/name': 'robustmq', 'app.kubernetes.io/instance': 'rmq', 'app.kubernetes.io/component': 'combined' },
      annotations: { 'backup.robustmq.io/restored-from': 'snap-0' },
    });
    expect(pvc.spec).toEqual({ accessModes: ['ReadWriteOncePod'], storageClassName: 'fast', resources: { requests: { storage: '3Gi' } }, dataSource: { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: 'snap-0' } });
  });

  it('compares quantities across units', () => {
    expect(largerQuantity('1Gi', '1073741824')).toBe('1Gi');
    expect(largerQuantity('1Gi', '2G')).toBe('2G');
    expect(largerQuantity('10Gi', '1Ti')).toBe('1Ti');
    expect(largerQuantity('1Gi', undefined)).toBe('1Gi');
    expect(largerQuantity('1Gi', 'weird')).toBe('1Gi');
  });
});

describe('backup and restore arguments', () => {
  it('takes backup, backup list, backup delete ID and restore ID | --from FILE', () => {
    expect(parseArgs(['backup']).positionals).toEqual([]);
    expect(parseArgs(['backup', 'list', '-o', 'json']).positionals).toEqual(['list']);
    expect(parseArgs(['backup', 'delete', 'rmq-20250102-030405', '--yes']).options.yes).toBe(true);
    expect(parseArgs(['restore', 'rmq-20250102-030405']).positionals).toEqual(['rmq-20250102-030405']);
    expect(parseArgs(['restore', '--from', 'b.json', '--set', 'image.tag=v0.4.12']).options).toMatchObject({ from: 'b.json', set: ['image.tag=v0.4.12'] });
    expect(parseArgs(['backup', '--snapshot-class', 'csi', '--file', 'x.json']).options).toMatchObject({ snapshotClass: 'csi', file: 'x.json' });
  });

  it('refuses what makes no sense, with the usage as the hint', () => {
    const refused = (argv: string[]) => {
      try {
        parseArgs(argv);
      } catch (e) {
        return [(e as UserError).message, (e as UserError).hint];
      }
      throw new Error(`accepted ${argv.join(' ')}`);
    };
    expect(refused(['backup', 'lsit'])).toEqual(['unknown backup action "lsit"', 'usage: robustmq-install backup | backup --copy DIR | backup list | backup delete ID (did you mean list?)']);
    expect(refused(['backup', 'delete'])[0]).toBe('backup delete needs the backup ID');
    expect(refused(['backup', 'delete', 'latest'])[0]).toBe('"latest" is not a backup ID');
    expect(refused(['backup', 'list', '--file', 'x'])[0]).toBe('--file does not apply to backup list');
    expect(refused(['restore'])).toEqual(['restore needs a backup ID or --from FILE|DIR', 'usage: robustmq-install restore ID | restore --from FILE|DIR']);
    expect(refused(['restore', 'a', 'b'])[0]).toBe('unexpected argument "b"');
    expect(refused(['backup', '--from', 'x'])[0]).toBe('--from does not apply to backup');
    expect(refused(['backup', '--copy', 'dir', '--snapshot-class', 'c'])[0]).toBe('--snapshot-class does not apply to backup --copy');
    expect(refused(['backup', '--copy', 'dir', '--file', 'f'])[0]).toBe('--file does not apply to backup --copy');
    expect(refused(['backup', 'list', '--copy', 'dir'])[0]).toBe('--copy does not apply to backup list');
    expect(refused(['restore', '--copy', 'dir'])[0]).toBe('--copy does not apply to restore');
  });
});
