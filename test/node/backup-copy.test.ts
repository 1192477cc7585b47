// Backup and restore by copy on the real node, for clusters without CSI snapshots: a `--preset test` release
// (combined ×3, three Raft voters) on the `local-path` class (no snapshot support there) in a namespace enforcing Pod
// Security `restricted` (so the copy pods are admitted under it) gets a retained MQTT message and an MQTT user;
// `backup --copy DIR --yes` stops it, streams each volume through a short-lived pod into DIR/<pvc>.tar and starts it
// again (healthy, the data still there); `uninstall --delete-data`; `restore --from DIR --yes`: one Raft cluster, the
// retained message and the user back, `helm test` passes.
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliExpect, dropNamespace, eventually, kubectl, kubectlJson, pods, workdir } from '../e2e/cli.ts';
import { backupProof, createMqttUser, imageSets, secs, standinImage } from './node-helpers.ts';
import { isStandInImage } from '../../src/core/standin.ts';

const ns = 'node-copy';
const release = 'cp';
const sel = ['-n', ns, '--release', release];
const TOPIC = 'copy/proof';
const message = `retained-${randomBytes(4).toString('hex')}`;
const user = { username: 'bob', password: `pw-${randomBytes(6).toString('hex')}` };
const { podNames, mqttPassword, publishRetained, expectOneHealthyCluster, expectDataBack } = backupProof({ namespace: ns, release, topic: TOPIC, message, user });

const copyPods = async () => (await kubectlJson<{ items: any[] }>(['get', 'pods', '-n', ns, '-l', 'app.kubernetes.io/component=backup-copy'])).items;

describe('backup --copy and restore --from DIR of a combined ×3 release on local-path', () => {
  const cwd = workdir('node-copy');
  const dir = join(cwd, 'copy-backup');
  afterAll(() => dropNamespace(ns));

  it('installs on local-path under restricted Pod Security; a retained message and a user are written', async () => {
    const t0 = Date.now();
    await kubectl(['create', 'namespace', ns]);
    await kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/enforce-version=latest']);
    await cliExpect(0, ['--preset', 'test', '--yes', ...sel, '--timeout', '8m', ...imageSets(), '--set', 'combined.persistence.storageClass=local-path'], { cwd });
    const pvcs = (await kubectlJson<{ items: any[] }>(['get', 'pvc', '-n', ns])).items;
    expect(pvcs.map((p) => p.spec.storageClassName)).toEqual(['local-path', 'local-path', 'local-path']);
    const admin = { username: 'admin', password: await mqttPassword() };
    const pub = await publishRetained(podNames[0]!, admin);
    expect(pub.code, pub.stderr + pub.stdout).toBe(0);
    await createMqttUser({ namespace: ns, pod: podNames[1]! }, user);
    await expectDataBack();
    console.log(`node-copy: install and data took ${secs(t0)}s`);
  });

  it('backup --copy stops the release, writes one archive per PVC and backup.json, and starts it again', async () => {
    const t0 = Date.now();
    const r = await cliExpect(0, ['backup', '--copy', dir, '--yes', ...sel], { cwd });
    console.log(`node-copy: backup --copy took ${secs(t0)}s\n${r.stderr}`);
    expect(r.stderr).toMatch(/release stopped: cp-robustmq scaled to 0/);
    for (const p of podNames) expect(r.stderr).toMatch(new RegExp(`✔ data-${p}: data-${p}\\.tar \\S+ \\S+ \\(\\d+(\\.\\d)?s\\)`));
    expect(r.stderr).toMatch(/release running again: every pod Ready/);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir).sort()).toEqual(['backup.json', ...podNames.map((p) => `data-${p}.tar`)]);
    const manifest = join(dir, 'backup.json');
    expect(statSync(manifest).mode & 0o777).toBe(0o600);
    const f = JSON.parse(readFileSync(manifest, 'utf8'));
    expect(f).toMatchObject({ kind: 'RobustMQBackup', method: 'copy', release, namespace: ns, topology: 'combined', replicas: { combined: 3 } });
    for (const v of f.volumes) {
      const data = readFileSync(join(dir, v.archive));
      expect(v.bytes).toBe(data.length);
      expect(v.sha256).toBe(createHash('sha256').update(data).digest('hex'));
      expect(v.storageClass).toBe('local-path');
      expect(v.bytes).toBeGreaterThan(10_240);
      console.log(`node-copy: ${v.pvc}: ${v.bytes} bytes`);
    }
    expect(await copyPods()).toEqual([]);
    // the cluster came back with its data
    await expectOneHealthyCluster();
    await expectDataBack();
  });

  it('after uninstall --delete-data, restore --from DIR brings back one Raft cluster with the retained message and the user', async () => {
    await cliExpect(0, ['uninstall', '--yes', '--delete-data', ...sel], { cwd });
    await eventually('PVCs gone', async () => (await kubectlJson<{ items: any[] }>(['get', 'pvc', '-n', ns])).items.length === 0);
    await eventually('pods gone', async () => (await pods(ns, release)).length === 0);
    const t0 = Date.now();
    const r = await cliExpect(0, ['restore', '--from', dir, '--yes', ...sel, '--timeout', '8m', '--values-out', 'restored.yaml'], { cwd });
    console.log(`node-copy: restore --from DIR took ${secs(t0)}s\n${r.stderr}`);
    expect(r.stderr).toMatch(/3 archives match their sha256/);
    expect(r.stderr).toMatch(/3 PVCs created and filled from the archives/);
    // the same suite runs on the real image (ROBUSTMQ_IMAGE_ARCHIVE), where the CLI must not say STAND-IN
    expect(r.stderr).toMatch(new RegExp(`✔ RobustMQ${isStandInImage(standinImage()) ? ' STAND-IN' : ''}: 3 nodes registered`));
    expect(r.stderr).toMatch(/helm test \(MQTT publish\/subscribe round trip\): passed/);
    expect(await copyPods()).toEqual([]);
    await expectOneHealthyCluster();
    await expectDataBack();
  });
});
