// Scenario 7: uninstall keeps the PVCs and the credentials Secret by default (and says so); a reinstall reuses them;
// --delete-data deletes both.
import { afterAll, describe, expect, it } from 'vitest';
import { cliExpect, dropNamespace, eventually, helm, kubectlJson, kubectlTry, workdir } from './cli.ts';

describe('uninstall', () => {
  const ns = 'e2e-uninstall';
  const release = 'un';
  const cwd = workdir('uninstall');
  const sel = ['-n', ns, '--release', release];
  const pvcNames = async () => (await kubectlJson<{ items: any[] }>(['get', 'pvc', '-n', ns, '-l', `app.kubernetes.io/instance=${release}`])).items.map((p) => p.metadata.name).sort();
  const secretData = async () => (await kubectlJson(['get', 'secret', `${release}-credentials`, '-n', ns])).data;
  afterAll(() => dropNamespace(ns));

  it('without a terminal needs --yes', async () => {
    await cliExpect(0, ['--preset', 'test', '--yes', '--skip-smoke', ...sel], { cwd });
    const r = await cliExpect(2, ['uninstall', ...sel], { cwd });
    expect(r.stderr).toMatch(/uninstall needs --yes without a terminal \(release un, namespace e2e-uninstall, context admin/);
  });

  it('keeps PVCs and the Secret by default, and prints what it kept', async () => {
    const pvcs = await pvcNames();
    expect(pvcs).toHaveLength(3);
    const data = await secretData();
    const r = await cliExpect(0, ['uninstall', '--yes', ...sel], { cwd });
    expect(r.stderr).toMatch(/release un uninstalled/);
    expect(r.stderr).toContain(`Kept: ${pvcs.map((p) => `pvc/${p}`).join(', ')}, secret/${release}-credentials`);
    expect((await helm(4, ['status', release, '-n', ns])).code).not.toBe(0);
    expect(await pvcNames()).toEqual(pvcs);
    expect(await secretData()).toEqual(data);
  });

  it('a reinstall reuses the kept Secret (same password for the stored MQTT user)', async () => {
    const data = await secretData();
    const r = await cliExpect(0, ['--preset', 'test', '--yes', '--skip-smoke', ...sel], { cwd });
    expect(r.stderr).toMatch(/warn leftover-pvcs: 3 PVCs from an earlier install of un will be reused with their data, and so will Secret un-credentials/);
    expect(r.stderr).toMatch(/Secret un-credentials exists: reused as-is/);
    expect(await secretData()).toEqual(data);
  });

  it('--delete-data deletes the PVCs and the Secret', async () => {
    const r = await cliExpect(0, ['uninstall', '--yes', '--delete-data', '-o', 'json', ...sel], { cwd });
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ ok: true, uninstalled: true, kept: [] });
    expect(out.deleted).toContain(`secret/${release}-credentials`);
    expect(out.deleted.filter((d: string) => d.startsWith('pvc/'))).toHaveLength(3);
    await eventually('PVCs gone', async () => (await pvcNames()).length === 0);
    const s = await kubectlTry(['get', 'secret', `${release}-credentials`, '-n', ns]);
    expect(s.code).not.toBe(0);
    expect(s.stderr).toMatch(/NotFound/);
  });

  it('an uninstalled release is reported as not found', async () => {
    const r = await cliExpect(3, ['uninstall', '--yes', ...sel], { cwd });
    expect(r.stderr).toMatch(/release un not found in namespace e2e-uninstall/);
  });
});
