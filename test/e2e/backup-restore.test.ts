// Backup and restore at API level: the control plane serves the VolumeSnapshot API and kwok stages play the snapshot
// controller (test/support/controlplane/kwok-snapshot-stages.yaml: class kwok-retain gets ready, kwok-delete has
// deletionPolicy Delete, kwok-fail fails with a message, kwok-stuck never gets ready). The whole CLI flow: backup,
// list, every refusal, a failed and a timed-out backup, delete, restore by id after `uninstall --delete-data`, and
// restore --from FILE after the namespace itself was deleted. Data is proven on the real node (test/node/backup.test.ts).
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliExpect, dropNamespace, eventually, helm, kubectl, kubectlJson, kubectlTry, workdir } from './cli.ts';

describe('backup and restore (VolumeSnapshots played by kwok)', () => {
  const ns = 'e2e-backup';
  const release = 'bk';
  const cwd = workdir('backup');
  const sel = ['-n', ns, '--release', release];
  let id = '';
  let file = '';
  const snapshots = async (selector = `app.kubernetes.io/instance=${release}`) => (await kubectlJson<{ items: any[] }>(['get', 'volumesnapshots', '-n', ns, '-l', selector])).items;
  const pvcs = async () => (await kubectlJson<{ items: any[] }>(['get', 'pvc', '-n', ns, '-l', `app.kubernetes.io/instance=${release}`])).items;
  const secret = async () => (await kubectlJson(['get', 'secret', `${release}-credentials`, '-n', ns])).data as Record<string, string>;

  beforeAll(async () => {
    await cliExpect(0, ['--preset', 'test', '--yes', '--skip-smoke', ...sel], { cwd });
  });
  afterAll(() => dropNamespace(ns));

  it('refuses a release that does not exist, before anything is made', async () => {
    const r = await cliExpect(3, ['backup', '-n', ns, '--release', 'nope'], { cwd });
    expect(r.stderr).toMatch(/release nope not found in namespace e2e-backup/);
    expect(await snapshots('app.kubernetes.io/instance=nope')).toHaveLength(0);
  });

  it('refuses a snapshot class with deletionPolicy Delete (the snapshots would die with the namespace)', async () => {
    const r = await cliExpect(3, ['backup', '--snapshot-class', 'kwok-delete', ...sel], { cwd });
    expect(r.stderr).toMatch(/VolumeSnapshotClass kwok-delete has deletionPolicy Delete: the snapshots would be deleted with the namespace/);
    expect(r.stderr).toMatch(/deletionPolicy: Retain/);
    expect(await snapshots()).toHaveLength(0);
  });

  it('snapshots every data PVC at once, waits per PVC, labels them and writes a 0600 backup file', async () => {
    const r = await cliExpect(0, ['backup', ...sel], { cwd });
    id = /Backup (bk-\d{8}-\d{6}): 3 volumes of release bk in e2e-backup \(context admin\), class kwok-retain \(kwok.x-k8s.io\/volume, Retain\)/.exec(r.stderr)?.[1] ?? '';
    expect(id).not.toBe('');
    file = /wrote (\S+) \(mode 0600\)/.exec(r.stderr)?.[1] ?? '';
    expect(file).toBe(join(cwd, `robustmq-backup-${id}.json`));
    expect(r.stderr).toContain(`robustmq-install restore ${id} --release bk -n e2e-backup`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // one line per PVC, and the warning that the file is a secret
    for (let i = 0; i < 3; i++) expect(r.stderr).toMatch(new RegExp(`data-bk-robustmq-${i}: snapshot ${id}-data-bk-robustmq-${i} ready`));
    expect(r.stderr).toMatch(/contains the RobustMQ credentials/);

    const snaps = await snapshots(`backup.robustmq.io/id=${id}`);
    expect(snaps.map((s) => s.metadata.name).sort()).toEqual([0, 1, 2].map((i) => `${id}-data-bk-robustmq-${i}`));
    for (const s of snaps) {
      expect(s.metadata.labels).toMatchObject({ 'backup.robustmq.io/state': 'ready', 'backup.robustmq.io/origin': 'cli', 'app.kubernetes.io/instance': release });
      expect(s.metadata.annotations).toMatchObject({ 'backup.robustmq.io/topology': 'combined', 'backup.robustmq.io/replicas': '{"combined":3}', 'backup.robustmq.io/pvc-count': '3', 'backup.robustmq.io/namespace': ns });
      expect(JSON.parse(s.metadata.annotations['backup.robustmq.io/values']).combined.replicaCount).toBe(3);
      expect(s.spec.volumeSnapshotClassName).toBe('kwok-retain');
    }

    const f = JSON.parse(readFileSync(file, 'utf8'));
    expect(f).toMatchObject({ kind: 'RobustMQBackup', version: 1, id, release, namespace: ns, topology: 'combined', replicas: { combined: 3 } });
    expect(f.credentials).toEqual({ secretName: `${release}-credentials`, data: await secret() });
    expect(f.volumes).toHaveLength(3);
    for (const v of f.volumes) {
      expect(v.driver).toBe('kwok.x-k8s.io/volume');
      expect(v.snapshotHandle).toMatch(/^kwok-snap-/);
      const content = await kubectlJson(['get', 'volumesnapshotcontent', v.snapshotContent]);
      expect(content.spec.deletionPolicy).toBe('Retain');
    }
    // never a secret on the terminal
    for (const v of Object.values(await secret())) {
      const plain = Buffer.from(v, 'base64').toString();
      expect(r.stderr + r.stdout).not.toContain(plain);
    }
  });

  it('lists the backup as a table and as JSON', async () => {
    const t = await cliExpect(0, ['backup', 'list', ...sel], { cwd });
    expect(t.stdout).toMatch(/^ID\s+ORIGIN\s+STATUS\s+CREATED\s+VOLUMES\s+TOPOLOGY\s+CHART\s+APP/);
    expect(t.stdout).toMatch(new RegExp(`${id}\\s+cli\\s+ready\\s+\\S+\\s+3/3\\s+combined \\(3\\)`));
    const j = JSON.parse((await cliExpect(0, ['backup', 'list', '-o', 'json', ...sel], { cwd })).stdout);
    expect(j.backups).toHaveLength(1);
    expect(j.backups[0]).toMatchObject({ id, status: 'ready', usable: true, origin: 'cli' });
  });

  it('a snapshot that fails marks the backup failed with the driver message (exit 4); delete removes it', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // ids have second precision
    const r = await cliExpect(4, ['backup', '--snapshot-class', 'kwok-fail', '-o', 'json', ...sel], { cwd });
    expect(r.stderr).toMatch(/failed: data-bk-robustmq-\d: kwok: simulated failure: the storage backend refused to snapshot data-bk-robustmq-\d/);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ ok: false, status: 'failed', exitCode: 4 });
    expect(out.failures[0].message).toMatch(/simulated failure/);
    expect(r.stderr).toMatch(/marked failed and never offered for restore; remove it with robustmq-install backup delete bk-/);
    const failedId = /backup (bk-\d{8}-\d{6}) failed/.exec(r.stderr)![1]!;
    const j = JSON.parse((await cliExpect(0, ['backup', 'list', '-o', 'json', ...sel], { cwd })).stdout);
    expect(j.backups.find((b: any) => b.id === failedId)).toMatchObject({ status: 'failed', usable: false });
    expect(j.backups.find((b: any) => b.id === failedId).failure).toMatch(/simulated failure/);
    // no file for a failed backup
    expect(() => statSync(join(cwd, `robustmq-backup-${failedId}.json`))).toThrow();

    const refused = await cliExpect(3, ['restore', failedId, ...sel], { cwd });
    expect(refused.stderr).toMatch(new RegExp(`backup ${failedId} is failed`));

    expect((await cliExpect(2, ['backup', 'delete', failedId, ...sel], { cwd })).stderr).toMatch(/backup delete needs --yes without a terminal/);
    await cliExpect(0, ['backup', 'delete', failedId, '--yes', ...sel], { cwd });
    expect(await snapshots(`backup.robustmq.io/id=${failedId}`)).toHaveLength(0);
  });

  it('a snapshot that never gets ready times out (exit 4) and is marked failed', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const r = await cliExpect(4, ['backup', '--snapshot-class', 'kwok-stuck', '--timeout', '3s', ...sel], { cwd });
    expect(r.stderr).toMatch(/data-bk-robustmq-0: not ready after \d+(\.\d)?s \(--timeout 3s\)/);
    const stuckId = /backup (bk-\d{8}-\d{6}) failed/.exec(r.stderr)![1]!;
    const snaps = await snapshots(`backup.robustmq.io/id=${stuckId}`);
    expect(snaps.every((s) => s.metadata.labels['backup.robustmq.io/state'] === 'failed')).toBe(true);
    await cliExpect(0, ['backup', 'delete', stuckId, '--yes', ...sel], { cwd });
  });

  it('never writes over an existing file, and refuses it before making any snapshot', async () => {
    const taken = join(cwd, 'taken.json');
    writeFileSync(taken, 'mine');
    const before = (await snapshots()).length;
    const r = await cliExpect(2, ['backup', '--file', taken, ...sel], { cwd });
    expect(r.stderr).toMatch(/backup file .*taken.json already exists/);
    expect(readFileSync(taken, 'utf8')).toBe('mine');
    expect((await snapshots()).length).toBe(before);
  });

  it('restore refuses while the release exists, for another release name, and for other replica counts (Raft stores the pod FQDNs)', async () => {
    const scaled = await cliExpect(3, ['restore', id, '--set', 'combined.replicaCount=5', ...sel], { cwd });
    expect(scaled.stderr).toMatch(/backup bk-\d+-\d+ has replicas \{"combined":3\}, the values ask for \{"combined":5\}/);
    const r = await cliExpect(3, ['restore', id, ...sel], { cwd });
    expect(r.stderr).toMatch(/release bk exists in namespace e2e-backup/);
    expect(r.stderr).toMatch(/PVCs data-bk-robustmq-0, data-bk-robustmq-1, data-bk-robustmq-2 already exist/);
    const other = await cliExpect(3, ['restore', '--from', file, '-n', ns, '--release', 'other'], { cwd });
    expect(other.stderr).toMatch(/backup bk-\d+-\d+ is of release bk, not other: RobustMQ's Raft state stores its peers' pod FQDNs/);
    expect(other.stderr).toMatch(/restore with --release bk/);
  });

  it('restore ID after uninstall --delete-data: refused without the file (the Secret is gone), then restored from the snapshots', async () => {
    const before = await secret();
    await cliExpect(0, ['uninstall', '--yes', '--delete-data', ...sel], { cwd });
    await eventually('PVCs gone', async () => (await pvcs()).length === 0);

    const noSecret = await cliExpect(3, ['restore', id, ...sel], { cwd });
    expect(noSecret.stderr).toMatch(/the credentials Secret bk-credentials is gone from e2e-backup, and the snapshots do not hold it/);
    expect(noSecret.stderr).toContain(`--from robustmq-backup-${id}.json`);
    expect(await pvcs()).toHaveLength(0);

    const r = await cliExpect(0, ['restore', id, '--from', file, '--skip-smoke', '--values-out', 'restored.yaml', ...sel], { cwd });
    expect(r.stderr).toMatch(/Secret bk-credentials restored from/);
    expect(r.stderr).toMatch(/3 PVCs created from the snapshots: data-bk-robustmq-0, data-bk-robustmq-1, data-bk-robustmq-2/);
    expect(r.stderr).toContain(`restored ${id} into release bk`);
    expect(await secret()).toEqual(before);
    const restored = await pvcs();
    expect(restored.map((p) => [p.metadata.name, p.spec.dataSource?.kind, p.spec.dataSource?.name]).sort()).toEqual([0, 1, 2].map((i) => [`data-bk-robustmq-${i}`, 'VolumeSnapshot', `${id}-data-bk-robustmq-${i}`]));
    expect(restored.every((p) => p.status.phase === 'Bound')).toBe(true);
    const st = await helm(4, ['status', release, '-n', ns, '-o', 'json']);
    expect(JSON.parse(st.stdout).info.status).toBe('deployed');
    expect(readFileSync(join(cwd, 'restored.yaml'), 'utf8')).toMatch(/replicaCount: 3/);
  });

  it('restore --from FILE after the namespace was deleted binds the retained contents again', async () => {
    await kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=120s']);
    const r = await cliExpect(0, ['restore', '--from', file, '--skip-smoke', '--yes', '--values-out', 'again.yaml', ...sel], { cwd });
    expect(r.stderr).toMatch(/namespace e2e-backup created/);
    expect(r.stderr).toMatch(/binding 3 snapshots to their retained contents/);
    const snaps = await snapshots(`backup.robustmq.io/id=${id}`);
    expect(snaps.map((s) => s.spec.source.volumeSnapshotContentName).sort()).toEqual([0, 1, 2].map((i) => `restored-${id}-data-bk-robustmq-${i}`));
    expect(snaps.every((s) => s.status.readyToUse === true)).toBe(true);
    // it shows up in the listing again, usable
    const j = JSON.parse((await cliExpect(0, ['backup', 'list', '-o', 'json', ...sel], { cwd })).stdout);
    expect(j.backups.find((b: any) => b.id === id)).toMatchObject({ status: 'ready', usable: true });
    const st = await helm(4, ['status', release, '-n', ns, '-o', 'json']);
    expect(JSON.parse(st.stdout).info.status).toBe('deployed');
    expect((await pvcs()).every((p) => p.spec.dataSource?.kind === 'VolumeSnapshot')).toBe(true);
  });

  it('a failed restore leaves its debug bundle and removes what it made, so the retry succeeds', async () => {
    await cliExpect(0, ['uninstall', '--yes', '--delete-data', ...sel], { cwd });
    await eventually('PVCs gone', async () => (await pvcs()).length === 0);
    const failed = await cliExpect(4, ['restore', id, '--from', file, '--skip-smoke', '--set', 'image.tag=fault-crashloop', '--values-out', 'failed.yaml', ...sel], { cwd });
    expect(failed.stderr).toMatch(/CrashLoopBackOff/);
    expect(failed.stderr).toMatch(/the restore failed; the release and the 3 restored PVCs were removed so a retry starts clean/);
    const bundle = /debug bundle: (\S+)/.exec(failed.stderr)?.[1];
    expect(bundle && statSync(bundle).isDirectory()).toBe(true);
    expect((await helm(4, ['status', release, '-n', ns])).code).not.toBe(0);
    await eventually('restored PVCs removed', async () => (await pvcs()).length === 0);
    expect((await snapshots(`backup.robustmq.io/id=${id}`)).length).toBe(3);

    const retry = await cliExpect(0, ['restore', id, '--skip-smoke', '--yes', '--values-out', 'retry.yaml', ...sel], { cwd });
    expect(retry.stderr).toMatch(/credentials from Secret bk-credentials \(still there\)/);
    expect(JSON.parse((await helm(4, ['status', release, '-n', ns, '-o', 'json'])).stdout).info.status).toBe('deployed');
  });

  it('a damaged backup file is one line, exit 2', async () => {
    const bad = join(cwd, 'bad.json');
    writeFileSync(bad, '{"kind":"RobustMQBackup","version":1}');
    const r = await cliExpect(2, ['restore', '--from', bad, ...sel], { cwd });
    expect(r.stderr).toMatch(/backup file .*bad.json lacks id, release, namespace/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const wrong = await cliExpect(2, ['restore', 'not-an-id', ...sel], { cwd });
    expect(wrong.stderr).toMatch(/"not-an-id" is not a backup ID/);
    const tried = await kubectlTry(['get', 'ns', 'e2e-backup']);
    expect(tried.code).toBe(0);
  });
});
