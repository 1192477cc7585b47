// Scenario 13: install with helm 3, upgrade with helm 4. helm 4 inherits the release's apply method (a helm 3
// release has none: client-side), so nothing conflicts, and the objects keep one field manager style.
import { afterAll, describe, expect, it } from 'vitest';
import { cliExpect, dropNamespace, helm, history, isReady, kubectlJson, pods, workdir } from './cli.ts';

describe('install with helm 3, upgrade with helm 4', () => {
  const ns = 'e2e-cross';
  const release = 'cross';
  const cwd = workdir('cross');
  const sel = ['-n', ns, '--release', release];
  afterAll(() => dropNamespace(ns));

  it('upgrades without conflicts and keeps client-side apply', async () => {
    await cliExpect(0, ['--preset', 'dev', '--yes', '--skip-smoke', ...sel], { helm: 3, cwd });
    const r = await cliExpect(0, ['upgrade', '--yes', '--skip-smoke', ...sel, '--set', 'combined.replicaCount=3'], { helm: 4, cwd });
    expect(r.stderr).not.toMatch(/conflict/i);
    expect(r.stderr).not.toMatch(/--server-side=true/);
    const meta = await helm(4, ['get', 'metadata', release, '-n', ns, '-o', 'json']);
    expect(meta.code, meta.stderr).toBe(0);
    const m = JSON.parse(meta.stdout);
    expect(m.applyMethod ?? m.apply_method ?? 'csa').toMatch(/^(csa|client-side)$/);

    // a second helm 4 upgrade inherits the same method
    await cliExpect(0, ['upgrade', '--yes', '--skip-smoke', ...sel, '--set', 'config.cluster_name=cross-2'], { helm: 4, cwd });
    expect((await history(4, release, ns)).map((h) => h.status)).toEqual(['superseded', 'superseded', 'deployed']);
    const sts = (await kubectlJson(['get', 'statefulset', '-n', ns, '-l', `app.kubernetes.io/instance=${release}`, '--show-managed-fields'])).items[0];
    expect(sts.spec.replicas).toBe(3);
    const appliers = (sts.metadata.managedFields as any[]).filter((f) => f.operation === 'Apply').map((f) => f.manager);
    expect(appliers).toEqual([]);
    const live = await pods(ns, release);
    expect(live.length).toBe(3);
    expect(live.every(isReady)).toBe(true);
  });
});
