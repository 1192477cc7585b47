// Scenario 3: an upgrade that changes replicas and a config value. The values plan names both changes, the pods roll
// (the config checksum annotation changes, every pod is replaced onto the new revision) and health passes.
import { afterAll, describe, expect, it } from 'vitest';
import { cliExpect, dropNamespace, isReady, kubectlJson, pods, workdir } from './cli.ts';

describe('upgrade: replicas and a config value', () => {
  const ns = 'e2e-upgrade';
  const release = 'up';
  const cwd = workdir('upgrade');
  afterAll(() => dropNamespace(ns));
  const sel = ['-n', ns, '--release', release];

  it('rolls every pod onto the new revision and passes health', async () => {
    await cliExpect(0, ['--preset', 'dev', '--yes', '--skip-smoke', ...sel], { cwd });
    const before = await pods(ns, release);
    const stsBefore = await kubectlJson(['get', 'statefulset', '-n', ns, '-l', `app.kubernetes.io/instance=${release}`]);
    const checksumBefore = stsBefore.items[0].spec.template.metadata.annotations['checksum/config'];

    const r = await cliExpect(0, ['upgrade', '--yes', '--skip-smoke', ...sel, '--set', 'combined.replicaCount=3', '--set', 'config.cluster_name=e2e-upgraded'], { cwd });
    expect(r.stderr).toMatch(/replicas:\n\s+combined\.replicaCount: 1 → 3/);
    expect(r.stderr).toMatch(/RobustMQ configuration:\n\s+config\.cluster_name: (\(unset\)|""|robustmq) → e2e-upgraded/);
    expect(r.stderr).toContain('--reset-then-reuse-values');
    expect(r.stderr).toMatch(/pods: combined 3\/3 Ready/);
    expect(r.stderr).toMatch(/release up revision 2 deployed/);

    const sts = (await kubectlJson(['get', 'statefulset', '-n', ns, '-l', `app.kubernetes.io/instance=${release}`])).items[0];
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.template.metadata.annotations['checksum/config']).not.toBe(checksumBefore);
    const after = await pods(ns, release);
    expect(after).toHaveLength(3);
    expect(after.every(isReady)).toBe(true);
    for (const p of after) expect(p.metadata.labels['controller-revision-hash']).toBe(sts.status.updateRevision);
    // the pod that existed before was replaced (new uid), not kept with stale config
    const oldUid = before[0].metadata.uid;
    expect(after.map((p) => p.metadata.uid)).not.toContain(oldUid);
    const cm = (await kubectlJson<{ items: any[] }>(['get', 'configmaps', '-n', ns, '-l', `app.kubernetes.io/instance=${release}`])).items;
    expect(JSON.stringify(cm.map((c) => c.data))).toContain('e2e-upgraded');
  });

  it('refuses an install-only key, naming it and the way out', async () => {
    const r = await cliExpect(2, ['upgrade', '--yes', '--skip-smoke', ...sel, '--set', 'combined.persistence.size=20Gi'], { cwd });
    expect(r.stderr).toMatch(/combined\.persistence\.size cannot change on upgrade \(2Gi → 20Gi\)/);
    expect(r.stderr).toMatch(/hint: keep the current size here; to grow volumes, resize each PVC/);
    const r2 = await cliExpect(2, ['upgrade', '--yes', '--skip-smoke', ...sel, '--set', 'topology=split'], { cwd });
    expect(r2.stderr).toMatch(/topology cannot change on upgrade \(combined → split\)/);
  });

  it('-o json: the deploy result on stdout', async () => {
    const r = await cliExpect(0, ['upgrade', '--yes', '--skip-smoke', '-o', 'json', ...sel, '--set', 'combined.replicaCount=1'], { cwd });
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ ok: true, exitCode: 0, action: 'upgrade', release, namespace: ns, revision: 3, status: 'deployed', health: { status: 'healthy' }, smoke: { status: 'skipped' } });
    expect(out.health.roles).toEqual([{ role: 'combined', ready: 1, desired: 1 }]);
  });
});
