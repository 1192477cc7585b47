import { describe, expect, it } from 'vitest';
import {
  accessText,
  archiveName,
  backupAccessChecks,
  COPY_MANIFEST,
  copyPod,
  copyPodName,
  copyPodSecurityContext,
  copyPreflight,
  makeCopyBackupFile,
  restoreAccessChecks,
  serverImage,
  serverPodSelector,
  TAR_IN,
  TAR_OUT,
  tarInSucceeded,
  BACKUP_FILE_MODE,
  BACKUP_FILE_VERSION,
  type BackupMeta,
  backupId,
  backupSelector,
  chartFullname,
  createdAtText,
  makeBackupFile,
  parseBackupFile,
  plannedPvcs,
  replicasOf,
  replicasText,
  restoreRefusals,
  scheduledToPrune,
  serializeBackupFile,
  snapshotMetadata,
  summarizeBackups,
  volumeSnapshot,
  type RestoreSource,
  type SnapshotObject,
} from '../../src/core/backup.js';
import { UserError } from '../../src/core/errors.js';
import { restoredPvc, restoreVolumes } from '../../src/core/restore.js';

const AT = new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 678));
const META: BackupMeta = {
  id: 'rmq-20250102-030405',
  origin: 'cli',
  release: 'rmq',
  namespace: 'mq',
  name: 'robustmq',
  chartVersion: '0.1.0',
  appVersion: '0.4.11',
  topology: 'split',
  replicas: { meta: 3, broker: 2, engine: 1 },
  pvcCount: 6,
  createdAt: '2025-01-02T03:04:05Z',
};
const VOL = { pvc: 'data-rmq-robustmq-meta-1', role: 'meta' as const, ordinal: 1, size: '5Gi', storageClass: 'csi-hostpath' };

describe('backup ids and names', () => {
  it('is <release>-<UTC stamp>, within the 63 characters of a label value', () => {
    expect(backupId('rmq', AT)).toBe('rmq-20250102-030405');
    expect(createdAtText(AT)).toBe('2025-01-02T03:04:05Z');
    const long = backupId('a'.repeat(46) + '-bbbbbb', AT);
    expect(long).toBe(`${'a'.repeat(46)}-20250102-030405`);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(backupId('x'.repeat(53), AT)).toHaveLength(63);
  });

  it('names the chart objects as _helpers.tpl does', () => {
    expect(chartFullname('rmq', {})).toBe('rmq-robustmq');
    expect(chartFullname('robustmq-prod', {})).toBe('robustmq-prod');
    expect(chartFullname('rmq', { nameOverride: 'mqtt' })).toBe('rmq-mqtt');
    expect(chartFullname('rmq', { fullnameOverride: 'x'.repeat(39) + '-yy' })).toBe('x'.repeat(39));
  });

  it('plans the PVCs each StatefulSet claims, per role and ordinal, skipping roles without persistence', () => {
    const values = {
      topology: 'split',
      meta: { replicaCount: 3, persistence: { enabled: true, size: '5Gi', storageClass: '' } },
      broker: { replicaCount: 2, persistence: { enabled: false, size: '5Gi', storageClass: '' } },
      engine: { replicaCount: 1, persistence: { enabled: true, size: '20Gi', storageClass: '-' } },
    };
    expect(plannedPvcs('rmq', values).map((p) => [p.name, p.role, p.ordinal, p.statefulSet, p.storageClass])).toEqual([
      ['data-rmq-robustmq-meta-0', 'meta', 0, 'rmq-robustmq-meta', undefined],
      ['data-rmq-robustmq-meta-1', 'meta', 1, 'rmq-robustmq-meta', undefined],
      ['data-rmq-robustmq-meta-2', 'meta', 2, 'rmq-robustmq-meta', undefined],
      ['data-rmq-robustmq-engine-0', 'engine', 0, 'rmq-robustmq-engine', ''],
    ]);
    expect(replicasOf(values)).toEqual({ meta: 3, broker: 2, engine: 1 });
    expect(plannedPvcs('rmq', { combined: { replicaCount: 2, persistence: { size: '10Gi' } } }).map((p) => p.name)).toEqual(['data-rmq-robustmq-0', 'data-rmq-robustmq-1']);
  });
});

describe('snapshot metadata', () => {
  it('carries the backup id, release, versions, topology, replicas and the volume', () => {
    const m = snapshotMetadata(META, VOL);
    expect(m.labels).toEqual({
      'app.kubernetes.io/name': 'robustmq',
      'app.kubernetes.io/instance': 'rmq',
      'backup.robustmq.io/id': 'rmq-20250102-030405',
      'backup.robustmq.io/origin': 'cli',
      'backup.robustmq.io/state': 'pending',
      'backup.robustmq.io/role': 'meta',
      'backup.robustmq.io/ordinal': '1',
    });
    expect(m.annotations).toEqual({
      'backup.robustmq.io/release': 'rmq',
      'backup.robustmq.io/namespace': 'mq',
      'backup.robustmq.io/chart-version': '0.1.0',
      'backup.robustmq.io/app-version': '0.4.11',
      'backup.robustmq.io/topology': 'split',
      'backup.robustmq.io/replicas': '{"meta":3,"broker":2,"engine":1}',
      'backup.robustmq.io/pvc': 'data-rmq-robustmq-meta-1',
      'backup.robustmq.io/pvc-size': '5Gi',
      'backup.robustmq.io/storage-class': 'csi-hostpath',
      'backup.robustmq.io/pvc-count': '6',
      'backup.robustmq.io/created-at': '2025-01-02T03:04:05Z',
    });
    expect(snapshotMetadata({ ...META, values: { topology: 'split' } }, VOL).annotations['backup.robustmq.io/values']).toBe('{"topology":"split"}');
    for (const v of Object.values(m.labels)) expect(v.length).toBeLessThanOrEqual(63);
  });

  it('writes replicas in chart role order whatever the input order', () => {
    expect(replicasText('split', { engine: 1, meta: 3, broker: 2 })).toBe('{"meta":3,"broker":2,"engine":1}');
    expect(replicasText('combined', { combined: 3 })).toBe('{"combined":3}');
  });

  it('builds the VolumeSnapshot, with the class only when named', () => {
    const s = volumeSnapshot(META, VOL, 'csi-retain');
    expect(s.metadata.name).toBe('rmq-20250102-030405-data-rmq-robustmq-meta-1');
    expect(s.spec).toEqual({ volumeSnapshotClassName: 'csi-retain', source: { persistentVolumeClaimName: 'data-rmq-robustmq-meta-1' } });
    expect(volumeSnapshot(META, VOL).spec).toEqual({ source: { persistentVolumeClaimName: 'data-rmq-robustmq-meta-1' } });
    expect(backupSelector('robustmq', 'rmq')).toBe('app.kubernetes.io/name=robustmq,app.kubernetes.io/instance=rmq,backup.robustmq.io/id');
    expect(backupSelector('robustmq', 'rmq', META.id)).toBe(`app.kubernetes.io/name=robustmq,app.kubernetes.io/instance=rmq,backup.robustmq.io/id=${META.id}`);
  });
});

function snaps(id: string, state: 'pending' | 'ready' | 'failed', o: { origin?: 'cli' | 'schedule'; count?: number; made?: number; ready?: boolean; createdAt?: string } = {}): SnapshotObject[] {
  const count = o.count ?? 2;
  return Array.from({ length: o.made ?? count }, (_, i) => {
    const md = snapshotMetadata({ ...META, id, origin: o.origin ?? 'schedule', topology: 'combined', replicas: { combined: count }, pvcCount: count, createdAt: o.createdAt ?? `${id.slice(4, 8)}-01-01T00:00:00Z` }, { pvc: `data-rmq-robustmq-${i}`, role: 'combined', ordinal: i, size: '1Gi', storageClass: '' }, state);
    return { metadata: { name: `${id}-data-rmq-robustmq-${i}`, ...md }, status: { readyToUse: o.ready ?? state === 'ready', boundVolumeSnapshotContentName: `snapcontent-${i}` } };
  });
}

describe('listing and retention', () => {
  it('groups snapshots into backups, newest first, and says which are usable', () => {
    const list = summarizeBackups([
      ...snaps('rmq-20250101-000000', 'ready'),
      ...snaps('rmq-20250102-000000', 'ready', { made: 1 }), // a snapshot was deleted by hand
      ...snaps('rmq-20250103-000000', 'failed'),
      ...snaps('rmq-20250104-000000', 'pending'),
      ...snaps('rmq-20250105-000000', 'ready', { ready: false }), // content lost its readiness
      { metadata: { name: 'unrelated' } },
    ]);
    expect(list.map((b) => [b.id, b.status, b.usable])).toEqual([
      ['rmq-20250105-000000', 'incomplete', false],
      ['rmq-20250104-000000', 'pending', false],
      ['rmq-20250103-000000', 'failed', false],
      ['rmq-20250102-000000', 'incomplete', false],
      ['rmq-20250101-000000', 'ready', true],
    ]);
    expect(list[4]!.snapshots.map((s) => s.content)).toEqual(['snapcontent-0', 'snapcontent-1']);
    expect(list[4]!.replicas).toEqual({ combined: 2 });
  });

  it('prunes scheduled backups older than the retention-th newest ready one, never CLI ones, never while too few are ready', () => {
    const backups = summarizeBackups([
      ...snaps('rmq-20250101-000000', 'ready'),
      ...snaps('rmq-20250102-000000', 'failed'),
      ...snaps('rmq-20250103-000000', 'ready'),
      ...snaps('rmq-20250100-000000', 'ready', { origin: 'cli' }),
      ...snaps('rmq-20250104-000000', 'failed'),
      ...snaps('rmq-20250105-000000', 'ready'),
    ]);
    expect(scheduledToPrune(backups, 2).sort()).toEqual(['rmq-20250101-000000', 'rmq-20250102-000000']);
    expect(scheduledToPrune(backups, 1).sort()).toEqual(['rmq-20250101-000000', 'rmq-20250102-000000', 'rmq-20250103-000000', 'rmq-20250104-000000']);
    expect(scheduledToPrune(backups, 3)).toEqual([]);
    expect(scheduledToPrune(backups, 4)).toEqual([]);
  });
});

describe('the local backup file', () => {
  const file = makeBackupFile(
    { ...META, values: { topology: 'split' } },
    [{ pvc: 'data-b', role: 'meta', ordinal: 1, size: '5Gi', storageClass: 'csi', snapshot: 's-b', snapshotContent: 'c-b', snapshotHandle: 'h-b', driver: 'hostpath.csi.k8s.io', volumeSnapshotClassName: 'csi-retain' }, { pvc: 'data-a', role: 'meta', ordinal: 0, size: '5Gi', storageClass: 'csi', snapshot: 's-a', snapshotContent: 'c-a', snapshotHandle: 'h-a', driver: 'hostpath.csi.k8s.io', volumeSnapshotClassName: 'csi-retain' }],
    { secretName: 'rmq-robustmq-auth', data: { 'admin-password': 'YWRtaW4=' } },
  );

  it('holds what a restore needs, says it is a secret, and is written 0600', () => {
    expect(file).toMatchObject({ kind: 'RobustMQBackup', version: BACKUP_FILE_VERSION, release: 'rmq', namespace: 'mq', chart: { name: 'robustmq', version: '0.1.0' }, appVersion: '0.4.11', topology: 'split' });
    expect(file.warning).toMatch(/credentials.*kubeconfig.*0600/);
    expect(file.volumes.map((v) => v.pvc)).toEqual(['data-a', 'data-b']);
    expect(BACKUP_FILE_MODE).toBe(0o600);
    expect(parseBackupFile(serializeBackupFile(file))).toEqual(file);
  });

  it.each([
    ['not json', '{', /is not JSON/],
    ['another kind', JSON.stringify({ kind: 'Other' }), /not a RobustMQ backup file/],
    ['a newer version', JSON.stringify({ kind: 'RobustMQBackup', version: 2 }), /version 2; this CLI reads version 1/],
  ])('refuses %s', (_n, text, msg) => {
    expect(() => parseBackupFile(text)).toThrow(msg);
    expect(() => parseBackupFile(text)).toThrow(UserError);
  });

  it('names every missing field', () => {
    const broken = JSON.parse(serializeBackupFile(file));
    delete broken.credentials;
    broken.volumes[1].snapshotHandle = '';
    delete broken.namespace;
    expect(() => parseBackupFile(JSON.stringify(broken), 'b.json')).toThrow('b.json lacks namespace, credentials, volumes[1].snapshotHandle');
  });

  it('is a snapshot file (method snapshot); a file written before methods existed reads as one', () => {
    expect(file.method).toBe('snapshot');
    const old = JSON.parse(serializeBackupFile(file));
    delete old.method;
    expect(parseBackupFile(JSON.stringify(old))).toEqual(file);
  });

  it('refuses a method it does not know', () => {
    expect(() => parseBackupFile(JSON.stringify({ ...JSON.parse(serializeBackupFile(file)), method: 'rsync' }))).toThrow(/method "rsync"; this CLI knows snapshot and copy/);
  });
});

describe('the backup.json of a copy backup', () => {
  const sha = 'a'.repeat(64);
  const copyFile = makeCopyBackupFile(
    { ...META, values: { topology: 'combined' } },
    [
      { pvc: 'data-rmq-robustmq-1', role: 'combined', ordinal: 1, size: '2Gi', storageClass: 'local-path', accessModes: ['ReadWriteOnce'], archive: 'data-rmq-robustmq-1.tar', sha256: sha, bytes: 10240 },
      { pvc: 'data-rmq-robustmq-0', role: 'combined', ordinal: 0, size: '2Gi', storageClass: 'local-path', accessModes: ['ReadWriteOnce'], archive: archiveName('data-rmq-robustmq-0'), sha256: sha, bytes: 0 },
    ],
    { secretName: 'rmq-credentials', data: { 'mqtt-password': 'cHc=' } },
  );

  it('is the backup file format with method copy and an archive, sha256 and size per volume', () => {
    expect(copyFile).toMatchObject({ kind: 'RobustMQBackup', version: 1, method: 'copy', credentials: { secretName: 'rmq-credentials' } });
    expect(copyFile.volumes.map((v) => v.archive)).toEqual(['data-rmq-robustmq-0.tar', 'data-rmq-robustmq-1.tar']);
    expect(parseBackupFile(serializeBackupFile(copyFile))).toEqual(copyFile);
    expect(COPY_MANIFEST).toBe('backup.json');
  });

  it('names what a copy volume lacks, and refuses an archive that is a path or a sha256 that is not one', () => {
    const broken = JSON.parse(serializeBackupFile(copyFile));
    delete broken.volumes[0].sha256;
    broken.volumes[1].archive = '../../etc/passwd';
    broken.volumes[1].bytes = -1;
    expect(() => parseBackupFile(JSON.stringify(broken), 'b.json')).toThrow('b.json lacks volumes[0].sha256, volumes[1].bytes, volumes[1].archive (a plain file name)');
    const short = JSON.parse(serializeBackupFile(copyFile));
    short.volumes[0].sha256 = 'abc';
    expect(() => parseBackupFile(JSON.stringify(short))).toThrow(/volumes\[0\]\.sha256 \(64 hex digits\)/);
  });

  it('restores each PVC empty (no dataSource) with the class, size and access modes recorded', () => {
    const values = { combined: { replicaCount: 2, persistence: { enabled: true, size: '1Gi', storageClass: '' } } };
    const vols = restoreVolumes('rmq', values, copyFile.volumes.map((v) => ({ pvc: v.pvc, name: v.archive })));
    expect(vols.map((v) => v.pvc.name)).toEqual(['data-rmq-robustmq-0', 'data-rmq-robustmq-1']);
    const pvc = restoredPvc('rmq', 'mq', values, vols[0]!, copyFile.volumes[0]);
    expect(pvc.spec).toEqual({ accessModes: ['ReadWriteOnce'], storageClassName: 'local-path', resources: { requests: { storage: '2Gi' } } });
    expect(pvc.metadata.annotations).toEqual({ 'backup.robustmq.io/restored-from': 'archive data-rmq-robustmq-0.tar' });
  });
});

describe('the copy pod', () => {
  const values = {
    image: { registry: 'ghcr.io', repository: 'robustmq/robustmq', tag: 'v0.4.11', digest: '', pullPolicy: 'IfNotPresent', pullSecrets: ['img-secret'] },
    global: { imageRegistry: '', imagePullSecrets: [{ name: 'global-secret' }, 'img-secret'] },
    combined: { imagePullSecrets: ['role-secret'] },
    podSecurityContext: { enabled: true, runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999, fsGroupChangePolicy: 'OnRootMismatch', seccompProfile: { type: 'RuntimeDefault' } },
  };
  const spec = { release: 'rmq', namespace: 'mq', pvc: 'data-rmq-robustmq-0', role: 'combined' as const, readOnly: true, values };

  it('runs the release’s own server image with its pull secrets, mounting the PVC at /data', () => {
    const p = copyPod(spec);
    expect(p.metadata.name).toBe(copyPodName('rmq', 'data-rmq-robustmq-0'));
    expect(p.metadata.name).toMatch(/^rmq-copy-[0-9a-f]{8}$/);
    expect(copyPodName('rmq', 'data-rmq-robustmq-1')).not.toBe(p.metadata.name);
    expect(p.metadata.labels).toEqual({ 'app.kubernetes.io/instance': 'rmq', 'app.kubernetes.io/component': 'backup-copy', 'backup.robustmq.io/role': 'combined', 'app.kubernetes.io/managed-by': 'robustmq-install' });
    // a role's copy pods spread over the nodes (a restore's PVCs bind where they land)
    expect(p.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]!.podAffinityTerm).toEqual({ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: p.metadata.labels } });
    const c = p.spec.containers[0]!;
    expect(c.image).toBe('ghcr.io/robustmq/robustmq:v0.4.11');
    expect(c.command).toEqual(['sleep', '86400']);
    expect(p.spec.imagePullSecrets).toEqual([{ name: 'global-secret' }, { name: 'img-secret' }, { name: 'role-secret' }]);
    expect(c.volumeMounts).toEqual([{ name: 'data', mountPath: '/data', readOnly: true }]);
    expect(p.spec.volumes).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: 'data-rmq-robustmq-0', readOnly: true } }]);
    expect(copyPod({ ...spec, readOnly: false }).spec.containers[0]!.volumeMounts[0]!.readOnly).toBe(false);
    expect(p.spec.automountServiceAccountToken).toBe(false);
  });

  it('meets restricted Pod Security with the chart’s user, group and fsGroup', () => {
    const p = copyPod(spec);
    expect(p.spec.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999, fsGroupChangePolicy: 'OnRootMismatch', seccompProfile: { type: 'RuntimeDefault' } });
    expect(p.spec.containers[0]!.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
    // other ids from the values; none in openshift mode (the SCC assigns them)
    expect(copyPodSecurityContext({ podSecurityContext: { enabled: true, runAsUser: 1001, runAsGroup: 1002, fsGroup: 1003 } })).toMatchObject({ runAsUser: 1001, runAsGroup: 1002, fsGroup: 1003 });
    const os = copyPodSecurityContext({ ...values, openshift: true });
    expect(os).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
  });

  it('writes the image as the chart does: global registry first, the digest over the tag', () => {
    expect(serverImage({ ...values, global: { imageRegistry: 'mirror.local:5000' } }).image).toBe('mirror.local:5000/robustmq/robustmq:v0.4.11');
    expect(serverImage({ image: { ...values.image, digest: `sha256:${'b'.repeat(64)}` } }).image).toBe(`ghcr.io/robustmq/robustmq@sha256:${'b'.repeat(64)}`);
    expect(serverImage({ image: { repository: 'robustmq', tag: 'dev' } })).toEqual({ image: 'robustmq:dev', pullPolicy: 'IfNotPresent' });
  });

  it('takes tar -x as done when only the volume root’s mode and times could not be set (root-owned local-path directory)', () => {
    const root = 'tar: .: Cannot utime: Operation not permitted\ntar: .: Cannot change mode to rwxr-xr-x: Operation not permitted\ntar: Exiting with failure status due to previous errors\ncommand terminated with exit code 2\n';
    expect(tarInSucceeded(0, '')).toBe(true);
    expect(tarInSucceeded(2, root)).toBe(true);
    expect(tarInSucceeded(2, `${root}tar: ./a/f: Cannot open: Permission denied\n`)).toBe(false);
    expect(tarInSucceeded(2, 'tar: Unexpected EOF in archive\ntar: Exiting with failure status due to previous errors\n')).toBe(false);
    expect(tarInSucceeded(1, root)).toBe(false);
  });

  it('tar streams the whole volume out and back in without chown', () => {
    expect(TAR_OUT).toEqual(['tar', '-C', '/data', '--numeric-owner', '-cf', '-', '.']);
    expect(TAR_IN).toEqual(['tar', '-C', '/data', '--no-same-owner', '--no-overwrite-dir', '-xf', '-']);
    expect(serverPodSelector('rmq')).toBe('app.kubernetes.io/instance=rmq,app.kubernetes.io/component in (combined,meta,broker,engine)');
  });
});

describe('copy preflight', () => {
  const base = { planned: ['data-a', 'data-b'], phases: { 'data-a': 'Bound', 'data-b': 'Bound' }, denied: [], secretName: 'rmq-credentials', secretFound: true, leftoverPods: [] };

  it('is clean when every PVC is Bound, the permissions and the Secret are there', () => {
    expect(copyPreflight(base)).toEqual([]);
  });

  it('names a missing or unbound PVC, a denied permission, a missing Secret and leftover copy pods', () => {
    const p = copyPreflight({ ...base, phases: { 'data-a': 'Pending' }, denied: ['create pods/exec'], secretFound: false, leftoverPods: ['rmq-copy-1234abcd'] });
    expect(p.map((x) => x.message)).toEqual([
      'PVCs data-a (Pending), data-b of the release are missing or not Bound',
      'your credentials may not create pods/exec',
      'the credentials Secret rmq-credentials does not exist',
      'copy pod rmq-copy-1234abcd of an earlier run still exists',
    ]);
  });

  it('refuses a release without persistence', () => {
    expect(copyPreflight({ ...base, planned: [] })[0]!.message).toMatch(/no data PVCs.*nothing to copy/);
  });

  it('asks for scale, pods and exec, and the Secret; a restore by copy for pods and exec', () => {
    expect(backupAccessChecks('mq', true).map(accessText)).toEqual(['get statefulsets', 'patch statefulsets/scale', 'create pods', 'delete pods', 'create pods/exec', 'get secrets']);
    expect(restoreAccessChecks('mq', true, false, true).map(accessText)).toEqual(['create persistentvolumeclaims', 'delete persistentvolumeclaims', 'create pods', 'delete pods', 'create pods/exec']);
  });
});

describe('restore refusals', () => {
  const src: RestoreSource = { id: META.id, release: 'rmq', namespace: 'mq', topology: 'split', replicas: { meta: 3, broker: 2, engine: 1 } };
  const planned = ['data-rmq-robustmq-meta-0', 'data-rmq-robustmq-meta-1'];
  const clean = { releaseExists: false, existingPvcs: ['data-other-0'], plannedPvcs: planned };

  it('lets a restore into the same place with the same shape go', () => {
    expect(restoreRefusals(src, { release: 'rmq', namespace: 'mq', topology: 'split', replicas: { engine: 1, meta: 3, broker: 2 } }, clean, planned)).toEqual([]);
  });

  it('refuses when the release or its PVCs exist, naming the way out', () => {
    const r = restoreRefusals(src, { release: 'rmq', namespace: 'mq', topology: 'split', replicas: src.replicas }, { ...clean, releaseExists: true, existingPvcs: [planned[1]!] }, planned);
    expect(r.map((x) => x.code)).toEqual(['release-exists', 'pvcs-exist']);
    expect(r[0]!.hint).toContain('uninstall -n mq --release rmq');
    expect(r[1]!.message).toContain('data-rmq-robustmq-meta-1 already exists');
    expect(r[1]!.hint).toContain('kubectl delete pvc -n mq data-rmq-robustmq-meta-1');
  });

  it.each([
    ['another release', { release: 'rmq2', namespace: 'mq', topology: 'split', replicas: src.replicas }, 'release-differs'],
    ['another namespace', { release: 'rmq', namespace: 'prod', topology: 'split', replicas: src.replicas }, 'namespace-differs'],
    ['another topology', { release: 'rmq', namespace: 'mq', topology: 'combined', replicas: { combined: 3 } }, 'topology-differs'],
    ['other replica counts', { release: 'rmq', namespace: 'mq', topology: 'split', replicas: { meta: 5, broker: 2, engine: 1 } }, 'replicas-differ'],
  ] as const)('refuses %s because Raft stores the peers’ pod FQDNs', (_n, req, code) => {
    const r = restoreRefusals(src, req, clean, planned);
    expect(r.map((x) => x.code)).toEqual([code]);
    expect(r[0]!.message).toContain("Raft state stores its peers' pod FQDNs");
  });

  it('refuses a PVC the backup has no snapshot for', () => {
    const r = restoreRefusals(src, { release: 'rmq', namespace: 'mq', topology: 'split', replicas: src.replicas }, clean, [planned[0]!]);
    expect(r.map((x) => x.code)).toEqual(['pvcs-differ']);
    expect(r[0]!.message).toContain('no volume for data-rmq-robustmq-meta-1');
  });
});
