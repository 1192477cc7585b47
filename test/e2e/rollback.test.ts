// Scenario 5 (³): `rollback 1` after an upgrade; the history is right and the pods are back to revision 1's shape.
import { afterAll, describe, expect, it } from 'vitest';
import { BOTH_HELMS, cliExpect, dropNamespace, history, isReady, kubectlJson, pods, workdir } from './cli.ts';

describe.each(BOTH_HELMS)('rollback on helm %i', (major) => {
  const ns = `e2e-rollback-h${major}`;
  const release = `rb${major}`;
  const cwd = workdir(`rollback-h${major}`);
  const sel = ['-n', ns, '--release', release];
  afterAll(() => dropNamespace(ns));

  it('goes back to revision 1 and records it in the history', async () => {
    await cliExpect(0, ['--preset', 'dev', '--yes', '--skip-smoke', ...sel], { helm: major, cwd });
    await cliExpect(0, ['upgrade', '--yes', '--skip-smoke', ...sel, '--set', 'combined.replicaCount=3'], { helm: major, cwd });
    expect((await pods(ns, release)).length).toBe(3);

    const r = await cliExpect(0, ['rollback', '1', '--yes', '--skip-smoke', ...sel], { helm: major, cwd });
    expect(r.stderr).toMatch(/rolled back rb\d to revision 1: combined 1\/1 Ready/);
    expect(r.stderr).toMatch(/History:/);

    const h = await history(major, release, ns);
    expect(h.map((x) => [x.revision, x.status])).toEqual([
      [1, 'superseded'],
      [2, 'superseded'],
      [3, 'deployed'],
    ]);
    expect(h[2]!.description).toMatch(/Rollback to 1/);
    const sts = (await kubectlJson(['get', 'statefulset', '-n', ns, '-l', `app.kubernetes.io/instance=${release}`])).items[0];
    expect(sts.spec.replicas).toBe(1);
    const live = await pods(ns, release);
    expect(live.length).toBe(1);
    expect(live.every(isReady)).toBe(true);
  });

  it('needs a revision without a terminal, and refuses one that is not in the history', async () => {
    const none = await cliExpect(2, ['rollback', '--skip-smoke', ...sel], { helm: major, cwd });
    expect(none.stderr).toMatch(/rollback needs a REVISION without a terminal/);
    expect(none.stderr).toMatch(/deployed/);
    const bad = await cliExpect(2, ['rollback', '9', '--skip-smoke', ...sel], { helm: major, cwd });
    expect(bad.stderr).toMatch(/revision 9 is not in the history of rb\d \(kept: 1, 2, 3\)/);
  });
});
