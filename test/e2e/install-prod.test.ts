// Scenario 2: prod preset, split topology meta 3 / broker 3 / engine 3. PDBs are present, pods spread across zones,
// services are right, and monitoring `auto` follows the CRDs: off with a note when they are absent, a ServiceMonitor
// when they are present.
import { afterAll, describe, expect, it } from 'vitest';
import { CONTEXTS, installMonitoringCrds, uninstallMonitoringCrds } from '../support/controlplane.ts';
import { cliExpect, controlPlane, dropNamespace, eventually, isReady, kubectlJson, pods, workdir } from './cli.ts';

const prodArgs = (ns: string, release: string) => ['--preset', 'prod', '--yes', '--kube-context', CONTEXTS.admin, '--skip-smoke', '-n', ns, '--release', release, '--timeout', '6m'];

describe('prod install (split 3/3/3)', () => {
  const ns = 'e2e-prod';
  const release = 'prod';
  const cwd = workdir('prod');
  afterAll(() => dropNamespace(ns));

  it('installs all three roles Ready and says monitoring auto is off without the CRDs', async () => {
    const r = await cliExpect(0, prodArgs(ns, release), { cwd });
    expect(r.stderr).toMatch(/metrics\.serviceMonitor\.enabled: auto → false \(ServiceMonitor CRD not found/);
    expect(r.stderr).toMatch(/pods: meta 3\/3 Ready, broker 3\/3 Ready, engine 3\/3 Ready/);
    const live = await pods(ns, release);
    expect(live).toHaveLength(9);
    expect(live.every(isReady)).toBe(true);
    const byRole = (role: string) => live.filter((p) => p.metadata.labels['app.kubernetes.io/component'] === role).length;
    expect([byRole('meta'), byRole('broker'), byRole('engine')]).toEqual([3, 3, 3]);
    const sms = await kubectlJson<{ items: any[] }>(['get', 'customresourcedefinitions']);
    expect(sms.items.some((c) => c.metadata.name === 'servicemonitors.monitoring.coreos.com')).toBe(false);
  });

  it('has a PDB per role', async () => {
    const pdbs = (await kubectlJson<{ items: any[] }>(['get', 'pdb', '-n', ns, '-l', `app.kubernetes.io/instance=${release}`])).items;
    const roles = pdbs.map((p) => p.spec.selector.matchLabels['app.kubernetes.io/component']).sort();
    expect(roles).toEqual(['broker', 'engine', 'meta']);
    for (const p of pdbs) expect(p.spec.maxUnavailable).toBe(1);
  });

  it('spreads each role over the three zones', async () => {
    const cp = controlPlane();
    const zoneOf = new Map(cp.nodes.map((n) => [n.name, n.zone]));
    const live = await pods(ns, release);
    for (const role of ['meta', 'broker', 'engine']) {
      const zones = new Set(live.filter((p) => p.metadata.labels['app.kubernetes.io/component'] === role).map((p) => zoneOf.get(p.spec.nodeName)));
      expect([role, zones.size]).toEqual([role, 3]);
    }
    const metaNodes = new Set(live.filter((p) => p.metadata.labels['app.kubernetes.io/component'] === 'meta').map((p) => p.spec.nodeName));
    expect(metaNodes.size).toBe(3);
  });

  it('exposes MQTT on the client Service (brokers only) and a headless Service per role', async () => {
    const svcs = (await kubectlJson<{ items: any[] }>(['get', 'services', '-n', ns, '-l', `app.kubernetes.io/instance=${release}`])).items;
    const headless = svcs.filter((s) => s.spec.clusterIP === 'None');
    expect(headless.length).toBeGreaterThanOrEqual(3);
    const client = svcs.find((s) => s.spec.clusterIP !== 'None' && s.spec.ports.some((p: any) => p.port === 1883));
    expect(client).toBeDefined();
    expect(client.spec.type).toBe('ClusterIP');
    expect(client.spec.selector['app.kubernetes.io/component']).toBe('broker');
    // The EndpointSlice controller catches up with the pods' readiness on its own time: wait for it, don't sample it.
    const ready = await eventually('3 ready broker endpoints', async () => {
      const slices = (await kubectlJson<{ items: any[] }>(['get', 'endpointslices', '-n', ns, '-l', `kubernetes.io/service-name=${client.metadata.name}`])).items;
      const r = slices.flatMap((s) => s.endpoints ?? []).filter((e: any) => e.conditions?.ready);
      return r.length === 3 ? r : undefined;
    });
    expect(ready).toHaveLength(3);
  });
});

describe('prod install with the monitoring CRDs present', () => {
  const ns = 'e2e-prod-mon';
  const release = 'prodmon';
  const cwd = workdir('prod-mon');
  afterAll(async () => {
    await dropNamespace(ns);
    await uninstallMonitoringCrds(controlPlane().kubeconfig);
  });

  it('turns monitoring auto on and creates a ServiceMonitor', async () => {
    await installMonitoringCrds(controlPlane().kubeconfig);
    const r = await cliExpect(0, prodArgs(ns, release), { cwd });
    expect(r.stderr).toMatch(/metrics\.serviceMonitor\.enabled: auto → true \(ServiceMonitor CRD found/);
    const sms = (await kubectlJson<{ items: any[] }>(['get', 'servicemonitors.monitoring.coreos.com', '-n', ns])).items;
    expect(sms.length).toBeGreaterThanOrEqual(1);
    expect(sms[0].metadata.labels['app.kubernetes.io/instance']).toBe(release);
  });
});
