// Scenario 1 (³: helm 4 and helm 3): `--preset dev --yes --skip-smoke`. Health reports all Ready, `status -o json`
// matches the API, the PVCs are bound, the credentials Secret was made by the CLI, and no secret value is in any
// ConfigMap.
import { afterAll, describe, expect, it } from 'vitest';
import { BOTH_HELMS, cliExpect, dropNamespace, isReady, kubectlJson, pods, workdir } from './cli.ts';

describe.each(BOTH_HELMS)('dev install on helm %i', (major) => {
  const ns = `e2e-dev-h${major}`;
  const release = `dev${major}`;
  const cwd = workdir(`dev-h${major}`);
  afterAll(() => dropNamespace(ns));

  it('installs, reports every role Ready, and status -o json matches the API', async () => {
    const r = await cliExpect(0, ['--preset', 'dev', '--yes', '--skip-smoke', '-n', ns, '--release', release, '--timeout', '5m'], { helm: major, cwd });
    expect(r.stderr).toMatch(/pods: combined 1\/1 Ready/);
    expect(r.stderr).toContain('--skip-smoke');
    expect(r.stderr).toMatch(new RegExp(`Secret ${release}-credentials created`));

    const live = await pods(ns, release);
    expect(live).toHaveLength(1);
    expect(live.every(isReady)).toBe(true);

    const s = await cliExpect(0, ['status', '-o', 'json', '-n', ns, '--release', release, '--skip-smoke'], { helm: major, cwd });
    const st = JSON.parse(s.stdout);
    expect(st).toMatchObject({ ok: true, release, namespace: ns, status: 'deployed', revision: 1, health: { status: 'healthy' } });
    expect(st.roles).toHaveLength(1);
    expect(st.roles[0]).toMatchObject({ role: 'combined', ready: 1, desired: 1 });
    expect(st.roles[0].pods.map((p: any) => p.name).sort()).toEqual(live.map((p) => p.metadata.name).sort());
    expect(st.roles[0].pods.map((p: any) => p.node)).toEqual(live.map((p) => p.spec.nodeName));
    const svcs = await kubectlJson<{ items: any[] }>(['get', 'services', '-n', ns, '-l', `app.kubernetes.io/instance=${release}`]);
    expect(st.services.map((x: any) => x.name).sort()).toEqual(svcs.items.map((x) => x.metadata.name).sort());
    expect(st.raftNote).toMatch(/--skip-smoke/);
  });

  it('without --skip-smoke runs helm test, and reports the Raft check as not verified where pods cannot be exec\'d', async () => {
    // kwok runs no containers, so `kubectl exec` fails at the "kubelet": a warning, never exit 4. helm test's Job
    // completes (simulated), so the MQTT round-trip step really goes through helm.
    const rel = `${release}s`;
    const r = await cliExpect(0, ['--preset', 'dev', '--yes', '-n', ns, '--release', rel, '--values-out', `${cwd}/smoke.yaml`], { helm: major, cwd });
    expect(r.stderr).toMatch(/! RobustMQ check skipped: the meta pods could not be asked \(\S+: cannot exec into the pod/);
    expect(r.stderr).toMatch(/Raft state not verified/);
    expect(r.stderr).toMatch(/✔ helm test \(MQTT publish\/subscribe round trip\): passed/);
    const s = await cliExpect(0, ['status', '-o', 'json', '-n', ns, '--release', rel], { helm: major, cwd });
    expect(JSON.parse(s.stdout).raft).toMatchObject({ status: 'blocked', problems: [] });
  });

  it('bound the PVCs', async () => {
    const pvcs = (await kubectlJson<{ items: any[] }>(['get', 'pvc', '-n', ns, '-l', `app.kubernetes.io/instance=${release}`])).items;
    expect(pvcs.length).toBeGreaterThanOrEqual(1);
    expect(new Set(pvcs.map((p) => p.status.phase))).toEqual(new Set(['Bound']));
  });

  it('made the credentials Secret itself, and no secret value is in any ConfigMap or in the overlay', async () => {
    const secret = await kubectlJson(['get', 'secret', `${release}-credentials`, '-n', ns]);
    expect(secret.metadata.labels['app.kubernetes.io/managed-by']).toBe('robustmq-install');
    expect(Object.keys(secret.data).sort()).toEqual(['admin-jwt-secret', 'admin-password', 'mqtt-password']);
    const values = Object.values<string>(secret.data).map((b64) => Buffer.from(b64, 'base64').toString('utf8'));
    for (const v of values) expect(v.length).toBeGreaterThanOrEqual(16);
    const cms = (await kubectlJson<{ items: any[] }>(['get', 'configmaps', '-n', ns])).items;
    expect(cms.length).toBeGreaterThan(0);
    const cmText = JSON.stringify(cms.map((c) => c.data ?? {}));
    for (const v of values) expect(cmText).not.toContain(v);
    const { readFileSync } = await import('node:fs');
    const overlay = readFileSync(`${cwd}/robustmq-values.yaml`, 'utf8');
    for (const v of values) expect(overlay).not.toContain(v);
    expect(overlay).toContain(`existingSecret: ${release}-credentials`);
  });
});
