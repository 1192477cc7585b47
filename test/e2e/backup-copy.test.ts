// backup --copy / restore --from DIR on the kwok control plane: pods do not really run there (exec fails), so this is
// every refusal and argument error, each proven to happen before anything changes (replicas untouched, no directory,
// no PVC, no pod). The copy itself is proven on the real node (test/node/backup-copy.test.ts).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliExpect, dropNamespace, kubectlJson, kubectlTry, workdir } from './cli.ts';

describe('backup --copy and restore --from DIR: refusals before anything changes', () => {
  const ns = 'e2e-copy';
  const release = 'cp';
  const cwd = workdir('backup-copy');
  const sel = ['-n', ns, '--release', release];
  const replicas = async () => (await kubectlJson(['get', 'statefulset', `${release}-robustmq`, '-n', ns])).spec.replicas as number;
  const copyPods = async (n = ns) => (await kubectlJson<{ items: any[] }>(['get', 'pods', '-n', n, '-l', 'app.kubernetes.io/component=backup-copy'])).items;

  beforeAll(async () => {
    await cliExpect(0, ['--preset', 'test', '--yes', '--skip-smoke', ...sel], { cwd });
  });
  afterAll(async () => {
    await dropNamespace(ns);
    await dropNamespace('e2e-copy-new');
  });

  it('refuses a directory that is not empty, and never touches what is in it', async () => {
    const dir = join(cwd, 'full');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'keep.txt'), 'mine');
    const r = await cliExpect(2, ['backup', '--copy', dir, '--yes', ...sel], { cwd });
    expect(r.stderr).toMatch(/backup directory .*full is not empty/);
    expect(r.stderr).toMatch(/never overwritten/);
    expect(readFileSync(join(dir, 'keep.txt'), 'utf8')).toBe('mine');
    expect(await replicas()).toBe(3);
    const file = join(cwd, 'a-file');
    writeFileSync(file, 'x');
    expect((await cliExpect(2, ['backup', '--copy', file, '--yes', ...sel], { cwd })).stderr).toMatch(/exists and is not a directory/);
  });

  it('refuses --copy with --snapshot-class (a copy takes no snapshots)', async () => {
    const r = await cliExpect(2, ['backup', '--copy', join(cwd, 'new'), '--snapshot-class', 'kwok-retain', ...sel], { cwd });
    expect(r.stderr).toMatch(/--snapshot-class does not apply to backup --copy/);
    expect(existsSync(join(cwd, 'new'))).toBe(false);
  });

  it('without a terminal needs --yes, since the cluster goes down; nothing is stopped and no directory made', async () => {
    const dir = join(cwd, 'unconfirmed');
    const r = await cliExpect(2, ['backup', '--copy', dir, ...sel], { cwd });
    expect(r.stderr).toMatch(/backup --copy stops release cp in namespace e2e-copy .*for the copy: it needs --yes without a terminal/);
    expect(r.stderr).toMatch(/add --yes to confirm the downtime/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(dir)).toBe(false);
    expect(await replicas()).toBe(3);
    expect(await copyPods()).toEqual([]);
  });

  it('refuses a release that does not exist (exit 3) before making the directory', async () => {
    const dir = join(cwd, 'nope');
    const r = await cliExpect(3, ['backup', '--copy', dir, '--yes', '-n', ns, '--release', 'nope'], { cwd });
    expect(r.stderr).toMatch(/release nope not found in namespace e2e-copy/);
    expect(existsSync(dir)).toBe(false);
  });

  /** A copy backup directory as `backup --copy` writes it, with archives of our choosing. */
  function copyDir(name: string, o: { namespace: string; damage?: boolean }): string {
    const dir = join(cwd, name);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const volumes = [0, 1, 2].map((i) => {
      const pvc = `data-${release}-robustmq-${i}`;
      const data = Buffer.from(`archive of ${pvc}\n`);
      writeFileSync(join(dir, `${pvc}.tar`), o.damage && i === 1 ? Buffer.from('flipped bits\n') : data, { mode: 0o600 });
      return { pvc, role: 'combined', ordinal: i, size: '1Gi', storageClass: 'standard', accessModes: ['ReadWriteOnce'], archive: `${pvc}.tar`, sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length };
    });
    const file = {
      kind: 'RobustMQBackup',
      version: 1,
      method: 'copy',
      warning: 'test',
      id: 'cp-20260101-000000',
      origin: 'cli',
      createdAt: '2026-01-01T00:00:00Z',
      release,
      namespace: o.namespace,
      chart: { name: 'robustmq', version: '0.1.0' },
      appVersion: 'v0.4.11',
      topology: 'combined',
      replicas: { combined: 3 },
      values: { topology: 'combined', combined: { replicaCount: 3, metaReplicas: 3, persistence: { enabled: true, size: '1Gi' } } },
      volumes,
      credentials: { secretName: `${release}-credentials`, data: { 'admin-password': Buffer.from('never-printed').toString('base64') } },
    };
    writeFileSync(join(dir, 'backup.json'), JSON.stringify(file), { mode: 0o600 });
    return dir;
  }

  it('restore --from DIR refuses a damaged archive (sha256 mismatch) before anything is created', async () => {
    const dir = copyDir('damaged', { namespace: 'e2e-copy-new', damage: true });
    const r = await cliExpect(2, ['restore', '--from', dir, '--yes', '-n', 'e2e-copy-new', '--release', release], { cwd });
    expect(r.stderr).toMatch(/archive .*data-cp-robustmq-1\.tar of data-cp-robustmq-1 is damaged: sha256 [0-9a-f]{12}… \(13 bytes\), the backup recorded [0-9a-f]{12}…/);
    expect(r.stderr).toMatch(/nothing was created/);
    expect(r.stderr).not.toContain('never-printed');
    expect((await kubectlTry(['get', 'ns', 'e2e-copy-new'])).code).not.toBe(0);
  });

  it('restore --from DIR has the snapshot restore’s refusals: the release and its PVCs exist, another release name', async () => {
    const dir = copyDir('intact', { namespace: ns });
    const r = await cliExpect(3, ['restore', '--from', dir, '--yes', ...sel], { cwd });
    expect(r.stderr).toMatch(/3 archives match their sha256/);
    expect(r.stderr).toMatch(/release cp exists in namespace e2e-copy/);
    expect(r.stderr).toMatch(/PVCs data-cp-robustmq-0, data-cp-robustmq-1, data-cp-robustmq-2 already exist/);
    const other = await cliExpect(3, ['restore', '--from', dir, '--yes', '-n', ns, '--release', 'other'], { cwd });
    expect(other.stderr).toMatch(/is of release cp, not other: RobustMQ's Raft state stores its peers' pod FQDNs/);
    expect(await copyPods()).toEqual([]);
    // a directory without backup.json is not a copy backup
    const empty = join(cwd, 'empty');
    mkdirSync(empty, { recursive: true });
    expect((await cliExpect(2, ['restore', '--from', empty, ...sel], { cwd })).stderr).toMatch(/backup file .*empty\/backup\.json: /);
  });
});
