// Backup and restore on the real node, through real CSI snapshots (the test-only hostpath driver with the upstream
// csi-provisioner, csi-snapshotter and snapshot-controller; docs/csi-hostpath.md). A `--preset test` release (combined
// ×3, three Raft voters) on the csi-hostpath class gets a retained MQTT message and an MQTT user; `backup`; `uninstall
// --delete-data`; `restore ID --from FILE`: one Raft cluster again, the retained message and the user are there (the
// stand-in keeps both in its data directory as the server keeps them in RocksDB), `helm test` passes. Then the same
// after the whole namespace was deleted (`restore --from FILE` binds the retained snapshot contents again). Last, the
// chart's scheduled CronJob (image built locally: localhost/backup-kubectl) takes a backup that `backup list` offers.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { cliExpect, dropNamespace, eventually, kubectl, kubectlJson, pods, workdir } from '../e2e/cli.ts';
import { backupImageSets, backupProof, createMqttUser, imageSets, secs, standinImage } from './node-helpers.ts';
import { isStandInImage } from '../../src/core/standin.ts';

const ns = 'node-backup';
const release = 'bk';
const sel = ['-n', ns, '--release', release];
const podNames = [0, 1, 2].map((i) => `${release}-robustmq-${i}`);
const TOPIC = 'backup/proof';
const message = `retained-${randomBytes(4).toString('hex')}`;
const user = { username: 'alice', password: `pw-${randomBytes(6).toString('hex')}` };

const proof = backupProof({ namespace: ns, release, topic: TOPIC, message, user });
const { mqttPassword, publishRetained, expectOneHealthyCluster, expectDataBack } = proof;

describe('backup and restore of a combined ×3 release on real CSI snapshots', () => {
  const cwd = workdir('node-backup');
  let id = '';
  let file = '';
  afterAll(() => dropNamespace(ns));

  it('installs on the csi-hostpath class; a retained message and a user are written', async () => {
    const t0 = Date.now();
    await cliExpect(0, ['--preset', 'test', '--yes', ...sel, '--timeout', '8m', ...imageSets(), '--set', 'combined.persistence.storageClass=csi-hostpath'], { cwd });
    const pvcs = (await kubectlJson<{ items: any[] }>(['get', 'pvc', '-n', ns])).items;
    expect(pvcs.map((p) => p.spec.storageClassName)).toEqual(['csi-hostpath', 'csi-hostpath', 'csi-hostpath']);
    const admin = { username: 'admin', password: await mqttPassword() };
    const pub = await publishRetained(podNames[0]!, admin);
    expect(pub.code, pub.stderr + pub.stdout).toBe(0);
    await createMqttUser({ namespace: ns, pod: podNames[1]! }, user);
    await expectDataBack();
    console.log(`node-backup: install and data took ${secs(t0)}s`);
  });

  it('backup snapshots the three volumes and writes the backup file', async () => {
    const t0 = Date.now();
    const r = await cliExpect(0, ['backup', ...sel], { cwd });
    id = /Backup (bk-\d{8}-\d{6}): 3 volumes of release bk in node-backup \(context admin\), class csi-hostpath-retain \(hostpath\.csi\.robustmq-install\.test, Retain\)/.exec(r.stderr)?.[1] ?? '';
    expect(id, r.stderr).not.toBe('');
    file = /wrote (\S+) \(mode 0600\)/.exec(r.stderr)?.[1] ?? '';
    const f = JSON.parse(readFileSync(file, 'utf8'));
    expect(f.volumes.map((v: any) => v.pvc)).toEqual(podNames.map((p) => `data-${p}`));
    expect(f.volumes.every((v: any) => v.driver === 'hostpath.csi.robustmq-install.test' && v.snapshotHandle)).toBe(true);
    const snaps = (await kubectlJson<{ items: any[] }>(['get', 'volumesnapshots', '-n', ns, '-l', `backup.robustmq.io/id=${id}`])).items;
    const times = snaps.map((s) => Date.parse(s.status.creationTime)).sort();
    // the spread between the first and the last snapshot is the window a write may fall into (README: Consistency)
    console.log(`node-backup: backup took ${secs(t0)}s; snapshot creation times spread over ${times[times.length - 1]! - times[0]!} ms`);
    expect(snaps).toHaveLength(3);
  });

  it('after uninstall --delete-data, restore brings back one Raft cluster with the retained message and the user', async () => {
    await cliExpect(0, ['uninstall', '--yes', '--delete-data', ...sel], { cwd });
    await eventually('PVCs gone', async () => (await kubectlJson<{ items: any[] }>(['get', 'pvc', '-n', ns])).items.length === 0);
    await eventually('pods gone', async () => (await pods(ns, release)).length === 0);
    const t0 = Date.now();
    const r = await cliExpect(0, ['restore', id, '--from', file, '--yes', ...sel, '--timeout', '8m', '--values-out', 'restored.yaml'], { cwd });
    console.log(`node-backup: restore took ${secs(t0)}s`);
    expect(r.stderr).toMatch(/3 PVCs created from the snapshots/);
    // the same suite runs on the real image (ROBUSTMQ_IMAGE_ARCHIVE), where the CLI must not say STAND-IN
    expect(r.stderr).toMatch(new RegExp(`✔ RobustMQ${isStandInImage(standinImage()) ? ' STAND-IN' : ''}: 3 nodes registered`));
    expect(r.stderr).toMatch(/helm test \(MQTT publish\/subscribe round trip\): passed/);
    await expectOneHealthyCluster();
    await expectDataBack();
  });

  it('after the namespace itself was deleted, restore --from FILE binds the retained contents and brings it all back', async () => {
    await kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=180s']);
    const t0 = Date.now();
    const r = await cliExpect(0, ['restore', '--from', file, '--yes', ...sel, '--timeout', '8m', '--values-out', 'again.yaml'], { cwd });
    console.log(`node-backup: restore after the namespace was deleted took ${secs(t0)}s`);
    expect(r.stderr).toMatch(/binding 3 snapshots to their retained contents/);
    expect(r.stderr).toMatch(/helm test \(MQTT publish\/subscribe round trip\): passed/);
    await expectOneHealthyCluster();
    await expectDataBack();
  });

  it('the chart’s scheduled CronJob takes a snapshot backup the CLI lists as usable', async () => {
    const t0 = Date.now();
    await cliExpect(0, ['upgrade', '--yes', ...sel, '--timeout', '8m', '--skip-smoke', '--set', 'backup.enabled=true', '--set', 'backup.schedule=* * * * *', '--set', 'backup.volumeSnapshotClassName=csi-hostpath-retain', ...backupImageSets()], { cwd });
    const scheduled = await eventually('a ready scheduled backup', async () => {
      const j = JSON.parse((await cliExpect(0, ['backup', 'list', '-o', 'json', ...sel], { cwd })).stdout);
      return j.backups.find((b: any) => b.origin === 'schedule' && b.status === 'ready');
    }, 240_000);
    console.log(`node-backup: the first scheduled backup was ready ${secs(t0)}s after the upgrade began`);
    expect(scheduled).toMatchObject({ usable: true, topology: 'combined', replicas: { combined: 3 }, release: 'bk', namespace: ns });
    expect(scheduled.snapshots.map((s: any) => s.pvc)).toEqual(podNames.map((p) => `data-${p}`));
    expect(scheduled.snapshots.every((s: any) => s.readyToUse && s.content)).toBe(true);
    await cliExpect(0, ['upgrade', '--yes', ...sel, '--timeout', '8m', '--skip-smoke', '--set', 'backup.enabled=false'], { cwd });
  });
});
