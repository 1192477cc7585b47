// The scheduled backup (backup.*): its objects on helm 3 and 4, least-privilege RBAC, a Pod Security "restricted" pod,
// the schema and validation refusals, the PVC names src/core/backup.ts predicts, and files/scripts/backup.sh run against
// a fake kubectl (backup-fake-kubectl.mjs) under bash and under POSIX sh, with its snapshots compared to
// src/core/backup.ts's snapshotMetadata: the chart and the CLI write one metadata contract.
import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { Role as RbacRole, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { CronJob } from 'kubernetes-models/batch/v1';
import {
  BACKUP_ANNOTATION,
  BACKUP_LABEL,
  type BackupMeta,
  type BackupSummary,
  plannedPvcs,
  replicasOf,
  scheduledToPrune,
  snapshotMetadata,
  snapshotName,
  summarizeBackups,
  type SnapshotObject,
  type Role,
} from '../../src/core/backup.ts';
import { byKind, CHART, find, HELMS, helmRun, type K8sObject, render, renderRaw, ROOT, tempDir, validateModel } from './lib.ts';

const ON = { backup: { enabled: true } };
const chartYaml = parseYaml(readFileSync(join(CHART, 'Chart.yaml'), 'utf8'));
const chartValues = parseYaml(readFileSync(join(CHART, 'values.yaml'), 'utf8'));
const backupObjects = (objs: K8sObject[]) => objs.filter((o) => o.metadata.name.endsWith('-backup')).map((o) => `${o.kind}/${o.metadata.name}`).sort();
const envOf = (cron: K8sObject): Record<string, string> => Object.fromEntries(cron.spec.jobTemplate.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));

describe.each(HELMS)('helm $major: backup objects', (helm) => {
  it('renders nothing of the backup by default', () => {
    const objs = render(helm);
    expect(backupObjects(objs)).toEqual([]);
    expect(byKind(objs, 'CronJob')).toEqual([]);
  });

  it('renders the CronJob, its ServiceAccount, Role and RoleBinding when enabled, all valid', async () => {
    const objs = render(helm, { values: [ON] });
    expect(backupObjects(objs)).toEqual(['CronJob/rmq-robustmq-backup', 'Role/rmq-robustmq-backup', 'RoleBinding/rmq-robustmq-backup', 'ServiceAccount/rmq-robustmq-backup']);
    const sa = find(objs, 'ServiceAccount', 'rmq-robustmq-backup');
    expect(sa.automountServiceAccountToken).toBe(false);
    expect(await validateModel(sa)).toBeNull();
    expect(await validateModel(find(objs, 'ConfigMap', 'rmq-robustmq-scripts'))).toBeNull();
    for (const [o, Model] of [
      [find(objs, 'Role', 'rmq-robustmq-backup'), RbacRole],
      [find(objs, 'RoleBinding', 'rmq-robustmq-backup'), RoleBinding],
      [find(objs, 'CronJob', 'rmq-robustmq-backup'), CronJob],
    ] as const) {
      expect(() => new (Model as any)(o).validate(), o.kind).not.toThrow();
      expect(o.metadata.namespace).toBe('mq');
      expect(o.metadata.labels).toMatchObject({ 'app.kubernetes.io/name': 'robustmq', 'app.kubernetes.io/instance': 'rmq', 'app.kubernetes.io/component': 'backup' });
    }
    // the only RBAC of the chart is the backup's, and nothing cluster-wide
    expect(objs.filter((o) => /Role/.test(o.kind)).map((o) => o.kind).sort()).toEqual(['Role', 'RoleBinding']);
  });

  it('passes helm lint --strict with the backup on, in both topologies', () => {
    for (const topology of ['combined', 'split']) {
      const r = helmRun(helm, ['lint', CHART, '--strict', '--namespace', 'mq', '--set', 'backup.enabled=true', '--set', `topology=${topology}`]);
      expect(r.stderr + r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
      expect(r.code).toBe(0);
    }
  });

  it('grants exactly what backup.sh does, namespaced, nothing on Secrets', () => {
    const objs = render(helm, { values: [ON] });
    expect(find(objs, 'Role', 'rmq-robustmq-backup').rules).toEqual([
      { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['get', 'list'] },
      { apiGroups: ['apps'], resources: ['statefulsets'], verbs: ['get', 'list'] },
      { apiGroups: ['snapshot.storage.k8s.io'], resources: ['volumesnapshots'], verbs: ['create', 'get', 'list', 'patch', 'delete'] },
    ]);
    const rb = find(objs, 'RoleBinding', 'rmq-robustmq-backup');
    expect(rb.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'rmq-robustmq-backup' });
    expect(rb.subjects).toEqual([{ kind: 'ServiceAccount', name: 'rmq-robustmq-backup', namespace: 'mq' }]);
    expect(byKind(objs, 'ClusterRole')).toEqual([]);
    expect(byKind(objs, 'ClusterRoleBinding')).toEqual([]);
  });

  it.each([
    ['defaults', {}],
    ['openshift', { openshift: true }],
  ])('runs a Pod Security "restricted" pod with its own token (%s)', (_n, extra) => {
    const cron = find(render(helm, { values: [ON, extra] }), 'CronJob', 'rmq-robustmq-backup');
    expect(cron.spec).toMatchObject({ schedule: '0 3 * * *', concurrencyPolicy: 'Forbid', suspend: false });
    expect(cron.spec).not.toHaveProperty('timeZone');
    expect(cron.spec.jobTemplate.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 1200 });
    const pod = cron.spec.jobTemplate.spec.template.spec;
    expect(pod).toMatchObject({ restartPolicy: 'Never', serviceAccountName: 'rmq-robustmq-backup', automountServiceAccountToken: true, enableServiceLinks: false });
    expect(pod.hostNetwork ?? false).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    if (_n === 'openshift') expect(pod.securityContext).not.toHaveProperty('runAsUser');
    else expect(pod.securityContext.runAsUser).toBe(999);
    expect(pod.containers).toHaveLength(1);
    const c = pod.containers[0];
    expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.image).toBe('docker.io/alpine/kubectl:1.34.1');
    expect(c.command).toEqual(['/bin/sh', '/robustmq/chart/scripts/backup.sh']);
    expect(c.resources).toEqual({ requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } });
    // only the script and a scratch dir: no Secret, no PVC, nothing of the host
    // (defaultMode is the same 0555 as the server pods' scripts volume; the YAML 1.2 parser here reads it as decimal)
    expect(pod.volumes.map(({ configMap, ...v }: any) => ({ ...v, ...(configMap ? { configMap: { ...configMap, defaultMode: undefined } } : {}) }))).toEqual([
      { name: 'scripts', configMap: { name: 'rmq-robustmq-scripts', defaultMode: undefined, items: [{ key: 'backup.sh', path: 'backup.sh' }] } },
      { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
    ]);
    expect(c.ports).toBeUndefined();
  });

  it('takes image, schedule, class and retention from the values', () => {
    const cron = find(
      render(helm, {
        values: [{ global: { imageRegistry: 'mirror.corp' }, backup: { enabled: true, schedule: '@hourly', timeZone: 'Europe/Berlin', volumeSnapshotClassName: 'csi-retain', retention: 3, timeoutSeconds: 60, suspend: true, image: { repository: 'tools/kubectl', digest: 'sha256:' + 'b'.repeat(64) } } }],
      }),
      'CronJob',
      'rmq-robustmq-backup',
    );
    expect(cron.spec).toMatchObject({ schedule: '@hourly', timeZone: 'Europe/Berlin', suspend: true });
    expect(cron.spec.jobTemplate.spec.activeDeadlineSeconds).toBe(360);
    expect(cron.spec.jobTemplate.spec.template.spec.containers[0].image).toBe(`mirror.corp/tools/kubectl@sha256:${'b'.repeat(64)}`);
    expect(envOf(cron)).toMatchObject({ RMQ_SNAPSHOT_CLASS: 'csi-retain', RMQ_RETENTION: '3', RMQ_TIMEOUT_SECONDS: '60' });
  });

  it('leaves egress open under the chart NetworkPolicy, so the job reaches the API server', () => {
    const objs = render(helm, { values: [ON] });
    const np = find(objs, 'NetworkPolicy', 'rmq-robustmq');
    expect(np.spec.policyTypes).toEqual(['Ingress']);
    expect(np.spec).not.toHaveProperty('egress');
  });

  it('hands the script the StatefulSets of the topology and the roles that keep data on PVCs', () => {
    const split = envOf(find(render(helm, { values: [ON, { topology: 'split', broker: { persistence: { enabled: false } } }] }), 'CronJob', 'rmq-robustmq-backup'));
    expect(split.RMQ_STATEFULSETS).toBe('meta=rmq-robustmq-meta broker=rmq-robustmq-broker engine=rmq-robustmq-engine');
    expect(split.RMQ_PERSISTENT_ROLES).toBe('meta engine');
    expect(split.RMQ_SELECTOR).toBe('app.kubernetes.io/name=robustmq,app.kubernetes.io/instance=rmq');
    expect(JSON.parse(split.RMQ_VALUES!).topology).toBe('split');
    const comb = envOf(find(render(helm, { values: [ON] }), 'CronJob', 'rmq-robustmq-backup'));
    expect([comb.RMQ_STATEFULSETS, comb.RMQ_PERSISTENT_ROLES]).toEqual(['combined=rmq-robustmq', 'combined']);
  });

  it('refuses bad backup values through the schema', () => {
    for (const [values, path] of [
      [{ backup: { enabled: true, retention: 0 } }, 'backup.retention'],
      [{ backup: { schedule: 'every day' } }, 'backup.schedule'],
      [{ backup: { timeoutSeconds: 5 } }, 'backup.timeoutSeconds'],
      [{ backup: { volumeSnapshotClassName: 'Not_A_Name' } }, 'backup.volumeSnapshotClassName'],
      [{ backup: { keep: 3 } }, 'backup'],
    ] as const) {
      const r = renderRaw(helm, { values: [values] });
      expect(r.code, JSON.stringify(values)).not.toBe(0);
      expect(r.stderr).toMatch(/schema/i);
      expect(r.stderr).toMatch(new RegExp(path.replaceAll('.', '[./]')));
    }
  });

  it('lists the backup problems in the one validation failure, also without the schema', () => {
    const r = renderRaw(helm, { values: [{ backup: { enabled: true, retention: 0, schedule: 'daily', timeoutSeconds: 1 }, combined: { persistence: { enabled: false } } }], extra: ['--skip-schema-validation'] });
    expect(r.code).not.toBe(0);
    expect(r.stderr.match(/VALUES VALIDATION/g)).toHaveLength(1);
    for (const m of [
      'backup.enabled needs persistence on at least one role',
      'backup.schedule must be a cron expression of five fields or an @daily-style macro, got "daily"',
      'backup.retention must be at least 1',
      'backup.timeoutSeconds must be at least 30',
    ])
      expect(r.stderr).toContain(m);
    // off, the same values are nobody's business
    expect(renderRaw(helm, { values: [{ backup: { enabled: false, retention: 0, schedule: 'daily' } }], extra: ['--skip-schema-validation'] }).code).toBe(0);
  });

  it.each([
    ['combined x3', 'rmq', { combined: { replicaCount: 3, metaReplicas: 3 } }],
    ['split, broker without PVCs', 'rmq', { topology: 'split', meta: { replicaCount: 5 }, broker: { persistence: { enabled: false } }, engine: { replicaCount: 2, persistence: { storageClass: 'fast' } } }],
    ['release containing the chart name', 'robustmq-prod', { combined: { persistence: { storageClass: '-' } } }],
    ['fullnameOverride', 'rmq', { fullnameOverride: 'mq-cluster-with-a-rather-long-name-over-forty-chars', topology: 'split' }],
    ['nameOverride', 'rmq', { nameOverride: 'broker-x' }],
  ])('src/core plannedPvcs names the PVCs the StatefulSets claim (%s)', (_n, release, values) => {
    const objs = render(helm, { release, values: [values] });
    const claimed = byKind(objs, 'StatefulSet').flatMap((s) =>
      (s.spec.volumeClaimTemplates ?? []).flatMap((t: any) =>
        Array.from({ length: s.spec.replicas }, (_, i) => ({ name: `${t.metadata.name}-${s.metadata.name}-${i}`, role: s.metadata.labels['app.kubernetes.io/component'], ordinal: i, statefulSet: s.metadata.name, size: t.spec.resources.requests.storage, storageClass: t.spec.storageClassName })),
      ),
    );
    const computed = mergeValues(chartValues, values);
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    expect([...plannedPvcs(release, computed)].sort(byName)).toEqual(claimed.sort(byName));
    expect(claimed.length).toBeGreaterThan(0);
  });
});

describe.each(HELMS)('helm $major: the server pods do not depend on backup.sh', (helm) => {
  const checksums = (chart: string) =>
    byKind(render(helm, { chart, values: [{ topology: 'split', backup: { enabled: true } }] }), 'StatefulSet').map((s) => s.spec.template.metadata.annotations['checksum/config']);
  it('a change to backup.sh leaves checksum/config alone (no restart of the servers); a change to a server script does not', () => {
    const chart = join(tempDir('rmq-backup-chart-'), 'robustmq');
    cpSync(CHART, chart, { recursive: true });
    const before = checksums(chart);
    appendFileSync(join(chart, 'files/scripts/backup.sh'), '\n# changed\n');
    expect(checksums(chart)).toEqual(before);
    appendFileSync(join(chart, 'files/scripts/ready.sh'), '\n# changed\n');
    const after = checksums(chart);
    for (const [i, c] of after.entries()) expect(c).not.toBe(before[i]);
  });
});

describe('backup metadata: chart helpers and src/core', () => {
  it('the labels and annotations the chart fixes at render time are those of snapshotMetadata', () => {
    const env = envOf(find(render(HELMS[0]!, { values: [ON, { topology: 'split' }] }), 'CronJob', 'rmq-robustmq-backup'));
    const { labels, annotations } = snapshotMetadata(meta({ topology: 'split', origin: 'schedule' }), { pvc: 'data-rmq-robustmq-meta-0', role: 'meta', ordinal: 0, size: '5Gi', storageClass: '' });
    const fixedLabels = JSON.parse(env.RMQ_SNAPSHOT_LABELS!);
    const fixedAnnotations = JSON.parse(env.RMQ_SNAPSHOT_ANNOTATIONS!);
    expect(Object.keys(fixedLabels).length).toBe(3);
    expect(Object.keys(fixedAnnotations).length).toBe(5);
    for (const [k, v] of Object.entries(fixedLabels)) expect(labels[k], k).toBe(v);
    for (const [k, v] of Object.entries(fixedAnnotations)) expect(annotations[k], k).toBe(v);
  });
});

// --- backup.sh against a fake kubectl ---------------------------------------------------------------------------------

const FAKE = join(ROOT, 'test/chart/backup-fake-kubectl.mjs');
const SHELLS = ['bash', 'sh'] as const;
const EPOCH = Date.UTC(2025, 0, 2, 3, 4, 5) / 1000;

function meta(o: Partial<BackupMeta> = {}): BackupMeta {
  const topology = o.topology ?? 'combined';
  return {
    id: 'rmq-20250102-030405',
    origin: 'schedule',
    release: 'rmq',
    namespace: 'mq',
    name: 'robustmq',
    chartVersion: chartYaml.version,
    appVersion: chartYaml.appVersion,
    topology,
    replicas: topology === 'split' ? { meta: 3, broker: 2, engine: 1 } : { combined: 3 },
    pvcCount: topology === 'split' ? 6 : 3,
    createdAt: '2025-01-02T03:04:05Z',
    ...o,
  };
}

type Fixture = { topology: 'combined' | 'split'; values: object; statefulsets: Record<string, number>; pvcs: { name: string; role: Role; size: string; storageClass?: string }[] };
const COMBINED: Fixture = {
  topology: 'combined',
  values: { combined: { replicaCount: 3, metaReplicas: 3 } },
  statefulsets: { 'rmq-robustmq': 3 },
  pvcs: [0, 1, 2].map((i) => ({ name: `data-rmq-robustmq-${i}`, role: 'combined' as Role, size: '10Gi', storageClass: 'csi-hostpath' })),
};
const SPLIT: Fixture = {
  topology: 'split',
  values: { topology: 'split', meta: { replicaCount: 3 }, broker: { replicaCount: 2 }, engine: { replicaCount: 1 } },
  statefulsets: { 'rmq-robustmq-meta': 3, 'rmq-robustmq-broker': 2, 'rmq-robustmq-engine': 1 },
  pvcs: [
    ...[0, 1, 2].map((i) => ({ name: `data-rmq-robustmq-meta-${i}`, role: 'meta' as Role, size: '5Gi' })),
    ...[0, 1].map((i) => ({ name: `data-rmq-robustmq-broker-${i}`, role: 'broker' as Role, size: '5Gi' })),
    { name: 'data-rmq-robustmq-engine-0', role: 'engine' as Role, size: '20Gi', storageClass: 'fast' },
    // left behind by a scale-down (whenScaled: Retain): not part of the cluster, not part of the backup
    { name: 'data-rmq-robustmq-engine-1', role: 'engine' as Role, size: '20Gi', storageClass: 'fast' },
  ],
};

type Run = { code: number; stdout: string; stderr: string; calls: { argv: string[]; stdin: string }[]; state: any; env: Record<string, string> };

async function runBackup(shell: string, fx: Fixture, o: { state?: object; env?: Record<string, string>; values?: object[] } = {}): Promise<Run> {
  const objs = render(HELMS[0]!, { values: [ON, fx.values, ...(o.values ?? [])] });
  const dir = tempDir('rmq-backup-');
  const script = join(dir, 'backup.sh');
  writeFileSync(script, find(objs, 'ConfigMap', 'rmq-robustmq-scripts').data['backup.sh']);
  writeFileSync(join(dir, 'kubectl'), `#!/bin/sh\nexec "${process.execPath}" "${FAKE}" "$@"\n`, { mode: 0o755 });
  const stateFile = join(dir, 'state.json');
  const log = join(dir, 'calls.jsonl');
  writeFileSync(log, '');
  const sel = { 'app.kubernetes.io/name': 'robustmq', 'app.kubernetes.io/instance': 'rmq' };
  writeFileSync(
    stateFile,
    JSON.stringify({
      namespace: 'mq',
      statefulsets: Object.entries(fx.statefulsets).map(([name, replicas]) => ({ metadata: { name, labels: sel }, spec: { replicas } })),
      pvcs: [
        ...fx.pvcs.map((p) => ({ metadata: { name: p.name, labels: { ...sel, 'app.kubernetes.io/component': p.role } }, spec: { resources: { requests: { storage: p.size } }, ...(p.storageClass ? { storageClassName: p.storageClass } : {}) } })),
        // another release's PVC in the same namespace
        { metadata: { name: 'data-other-robustmq-0', labels: { 'app.kubernetes.io/name': 'robustmq', 'app.kubernetes.io/instance': 'other' } }, spec: { resources: { requests: { storage: '1Gi' } } } },
      ],
      snapshots: [],
      ...o.state,
    }),
  );
  const env: Record<string, string> = { ...envOf(find(objs, 'CronJob', 'rmq-robustmq-backup')), RMQ_BACKUP_EPOCH: String(EPOCH), RMQ_POLL_SECONDS: '0.2', ...o.env };
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(shell, [script], { env: { PATH: `${dir}:${process.env.PATH}`, HOME: dir, FAKE_KUBE_STATE: stateFile, FAKE_KUBE_LOG: log, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
  // every call is namespaced (the Job's activeDeadlineSeconds bounds it); the tests look at what follows
  const calls = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .map((c) => {
      // no client override (such as --request-timeout) may be added: it would turn off kubectl's in-cluster config
      expect(c.argv.slice(0, 2)).toEqual(['--namespace', env.RMQ_NAMESPACE]);
      expect(c.argv.some((a: string) => /^--(request-timeout|server|kubeconfig|token)/.test(a))).toBe(false);
      return { ...c, argv: c.argv.slice(2) };
    });
  return { ...r, calls, state: JSON.parse(readFileSync(stateFile, 'utf8')), env };
}

const snapshotsOf = (r: Run) => r.state.snapshots as (SnapshotObject & { spec: any; metadata: any })[];

/** A scheduled backup already in the namespace (older runs, another release, a CLI backup). */
function existing(id: string, state: 'ready' | 'failed' | 'pending', o: { origin?: 'schedule' | 'cli'; release?: string; pvcs?: string[] } = {}) {
  const release = o.release ?? 'rmq';
  return (o.pvcs ?? ['data-rmq-robustmq-0']).map((pvc) => {
    const md = snapshotMetadata(meta({ id, release, origin: o.origin ?? 'schedule', pvcCount: (o.pvcs ?? [1]).length }), { pvc, role: 'combined', ordinal: 0, size: '10Gi', storageClass: '' }, state);
    return { apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', metadata: { name: snapshotName(id, pvc), ...md }, spec: { source: { persistentVolumeClaimName: pvc } }, status: { readyToUse: state === 'ready' } };
  });
}

describe.each(SHELLS)('backup.sh under %s with a fake kubectl', (shell) => {
  it.each([
    ['combined', COMBINED],
    ['split', SPLIT],
  ] as const)('snapshots every data PVC (%s) with the metadata src/core defines, waits until ready, marks it ready', async (_n, fx) => {
    const r = await runBackup(shell, fx, { state: { behavior: { default: { readyAfter: 2 } } }, env: { RMQ_SNAPSHOT_CLASS: 'csi-retain' } });
    expect(r.stderr).toContain('backup rmq-20250102-030405 ready');
    expect(r.code).toBe(0);
    const expected = fx.pvcs.filter((p) => !p.name.endsWith('engine-1'));
    const snaps = snapshotsOf(r);
    expect(snaps.map((s) => s.metadata.name).sort()).toEqual(expected.map((p) => `rmq-20250102-030405-${p.name}`).sort());
    const m = meta({ topology: fx.topology, pvcCount: expected.length, replicas: replicasOf({ ...fx.values } as any) });
    for (const p of expected) {
      const s = snaps.find((x) => x.spec.source.persistentVolumeClaimName === p.name)!;
      const want = snapshotMetadata(m, { pvc: p.name, role: p.role, ordinal: Number(p.name.split('-').at(-1)), size: p.size, storageClass: p.storageClass ?? '' }, 'ready');
      const { [BACKUP_ANNOTATION.values]: values, ...annotations } = s.metadata.annotations;
      expect(s.metadata.labels).toEqual(want.labels);
      expect(annotations).toEqual(want.annotations);
      // the values the release was rendered with, so a restore after `helm uninstall` has them
      expect(JSON.parse(values)).toEqual(JSON.parse(r.env.RMQ_VALUES!));
      expect(JSON.parse(values)).toMatchObject(fx.values);
      expect(s.spec).toEqual({ volumeSnapshotClassName: 'csi-retain', source: { persistentVolumeClaimName: p.name } });
      expect(s.metadata.namespace).toBe('mq');
    }
    // the listing src/core will show agrees
    const [summary] = summarizeBackups(snaps);
    expect(summary).toMatchObject({ id: 'rmq-20250102-030405', origin: 'schedule', status: 'ready', usable: true, topology: fx.topology });
    // it polled until ready (each snapshot ready on the third look), and every call stayed in the namespace
    const polls = r.calls.filter((c) => c.argv[0] === 'get' && c.argv.includes('volumesnapshots') && c.argv.some((a) => a.includes('backup.robustmq.io/id=')));
    expect(polls.length).toBe(3);
    expect(r.calls.map((c) => c.argv[1])).not.toContain('secrets');
    expect(new Set(r.calls.map((c) => `${c.argv[0]} ${c.argv[1]}`))).toEqual(new Set(['get statefulset', 'get persistentvolumeclaims', 'create -f', 'get volumesnapshots', 'label volumesnapshots']));
  });

  it('uses the cluster default VolumeSnapshotClass when none is named', async () => {
    const r = await runBackup(shell, COMBINED);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('class (cluster default)');
    for (const s of snapshotsOf(r)) expect(s.spec).toEqual({ source: { persistentVolumeClaimName: s.spec.source.persistentVolumeClaimName } });
  });

  it('creates nothing when a PVC of the cluster is missing', async () => {
    const r = await runBackup(shell, { ...COMBINED, pvcs: COMBINED.pvcs.slice(0, 2) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('PVC data-rmq-robustmq-2 of combined ordinal 2 does not exist; nothing was created');
    expect(snapshotsOf(r)).toEqual([]);
    expect(r.calls.filter((c) => ['create', 'label', 'annotate', 'delete'].includes(c.argv[0]!))).toEqual([]);
  });

  it('marks the backup failed, with the snapshot error, when a snapshot is not ready in time', async () => {
    const r = await runBackup(shell, COMBINED, { state: { behavior: { default: { readyAfter: 0 }, 'data-rmq-robustmq-1': { error: 'Failed to check and update snapshot content: rpc error: code = Internal' } } }, env: { RMQ_TIMEOUT_SECONDS: '1' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('backup rmq-20250102-030405 FAILED: timed out after 1s with 2 of 3 snapshots readyToUse (rmq-20250102-030405-data-rmq-robustmq-1: Failed to check and update snapshot content');
    for (const s of snapshotsOf(r)) {
      expect(s.metadata.labels[BACKUP_LABEL.state]).toBe('failed');
      expect(s.metadata.annotations[BACKUP_ANNOTATION.failure]).toMatch(/^timed out after 1s with 2 of 3 snapshots readyToUse/);
    }
    expect(summarizeBackups(snapshotsOf(r))[0]).toMatchObject({ status: 'failed', usable: false });
    // a failed run prunes nothing
    expect(r.calls.filter((c) => c.argv[0] === 'delete')).toEqual([]);
  });

  it('marks what it made failed when a create is refused half-way', async () => {
    const r = await runBackup(shell, COMBINED, { state: { failCreate: ['data-rmq-robustmq-1'] } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('could not create VolumeSnapshot rmq-20250102-030405-data-rmq-robustmq-1');
    const snaps = snapshotsOf(r);
    expect(snaps.map((s) => s.metadata.name)).toEqual(['rmq-20250102-030405-data-rmq-robustmq-0']);
    expect(snaps[0]!.metadata.labels[BACKUP_LABEL.state]).toBe('failed');
    expect(summarizeBackups(snaps)[0]!.usable).toBe(false);
  });

  it("prunes only this release's scheduled backups beyond retention, the same ones scheduledToPrune picks", async () => {
    const before = [
      ...existing('rmq-20241230-030405', 'ready'),
      ...existing('rmq-20241231-030405', 'ready'),
      ...existing('rmq-20250101-010101', 'failed'),
      ...existing('rmq-20250101-030405', 'ready'),
      ...existing('rmq-20250101-120000', 'failed'), // newer than the oldest kept: stays for inspection
      ...existing('rmq-20241201-000000', 'ready', { origin: 'cli' }), // CLI backups are never pruned
      ...existing('other-20241201-000000', 'ready', { release: 'other', pvcs: ['data-other-robustmq-0'] }), // another release
    ];
    const r = await runBackup(shell, COMBINED, { state: { snapshots: before }, env: { RMQ_RETENTION: '2' } });
    expect(r.code).toBe(0);
    const ids = new Set(snapshotsOf(r).map((s) => s.metadata.labels[BACKUP_LABEL.id]));
    expect([...ids].sort()).toEqual(['other-20241201-000000', 'rmq-20241201-000000', 'rmq-20250101-030405', 'rmq-20250101-120000', 'rmq-20250102-030405']);
    expect(r.stderr).toContain('retention: deleting rmq-20241231-030405');
    // the pure rule gives the same answer on the state before the prune
    const beforeSummaries: BackupSummary[] = summarizeBackups([...before, ...snapshotsOf(r).filter((s) => s.metadata.labels[BACKUP_LABEL.id] === 'rmq-20250102-030405')] as SnapshotObject[]).filter((b) => b.release === 'rmq');
    expect(scheduledToPrune(beforeSummaries, 2).sort()).toEqual(['rmq-20241230-030405', 'rmq-20241231-030405', 'rmq-20250101-010101']);
    // deletes name the release, the origin and the id: nothing else can match
    for (const c of r.calls.filter((x) => x.argv[0] === 'delete')) expect(c.argv.join(' ')).toMatch(/-l app\.kubernetes\.io\/name=robustmq,app\.kubernetes\.io\/instance=rmq,backup\.robustmq\.io\/origin=schedule,backup\.robustmq\.io\/id=rmq-\d{8}-\d{6}/);
  });

  it('keeps everything while fewer ready backups than the retention exist', async () => {
    const before = [...existing('rmq-20241230-030405', 'failed'), ...existing('rmq-20241231-030405', 'failed')];
    const r = await runBackup(shell, COMBINED, { state: { snapshots: before }, env: { RMQ_RETENTION: '2' } });
    expect(r.code).toBe(0);
    expect(r.calls.filter((c) => c.argv[0] === 'delete')).toEqual([]);
    expect(snapshotsOf(r)).toHaveLength(5);
  });
});

describe('the fake kubectl', () => {
  it('evaluates the jsonpath the script uses and refuses other namespaces, so the checks above are not vacuous', async () => {
    const r = await runBackup('sh', COMBINED, { env: { RMQ_NAMESPACE: 'elsewhere' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot read StatefulSet rmq-robustmq');
  });
});

function mergeValues(a: any, b: any): any {
  if (b === null || typeof b !== 'object' || Array.isArray(b) || typeof a !== 'object' || a === null || Array.isArray(a)) return b;
  const out: any = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in a ? mergeValues(a[k], v) : v;
  return out;
}

// ajv over the same schema: the values.yaml defaults pass, and backup off needs nothing else
describe('values.schema.json backup', () => {
  it('accepts the defaults and a full backup block', () => {
    const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')));
    expect(validate(chartValues), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(mergeValues(chartValues, { backup: { enabled: true, schedule: '*/30 * * * *', volumeSnapshotClassName: 'csi-hostpath-snapclass', retention: 1 } })), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(mergeValues(chartValues, { backup: { retention: 0 } }))).toBe(false);
  });
});
