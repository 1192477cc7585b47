// The install scenarios again on the oldest Kubernetes minor the chart declares (Chart.yaml kubeVersion): dev in a
// namespace enforcing Pod Security "restricted" (helm 4), and the prod split 3/3/3 (helm 3), on a second control
// plane (OLDEST_K8S_VERSION, tools/k8s-old) that this file starts next to the suite's own and drives with a kubectl
// of that minor, as its users would. The floor the chart declares is then one the suite has installed on; the
// first test ties the two together, so raising one without the other fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONTEXTS, OLDEST_K8S_VERSION, kubectlFor, kubectlWith, minorOf, startControlPlane, type ControlPlane } from '../support/controlplane.ts';
import { KUBE_RANGE } from '../../src/core/preflight.ts';
import { cliExpect, eventually, isReady, ROOT, workdir, type CliOptions } from './cli.ts';
import type { HelmMajor } from '../support/tools.ts';

let cp: ControlPlane | undefined;

beforeAll(async () => {
  // without the VolumeSnapshot API, as many clusters are: the backup refusal is tested here
  cp = await startControlPlane({ k8sVersion: OLDEST_K8S_VERSION, snapshots: false, log: (line) => console.log(`oldest: ${line}`) });
});
afterAll(async () => {
  await cp?.stop();
});

const kubectl = (args: string[], input?: string) => kubectlWith(cp!.kubeconfig, ['--context', CONTEXTS.admin, ...args], input, kubectlFor(OLDEST_K8S_VERSION));
const kubectlJson = async <T = any>(args: string[]): Promise<T> => JSON.parse(await kubectl([...args, '-o', 'json'])) as T;

/** The CLI against the oldest control plane (cli.ts only adds --kubeconfig when the args carry none). */
function onOldest(code: number, args: string[], helm: HelmMajor, cwd: string) {
  const o: CliOptions = { helm, cwd, env: { KUBECONFIG: cp!.kubeconfig, ROBUSTMQ_INSTALL_KUBECTL: kubectlFor(OLDEST_K8S_VERSION) } };
  return cliExpect(code, [...args, '--kubeconfig', cp!.kubeconfig, '--kube-context', CONTEXTS.admin], o);
}

async function releasePods(ns: string, release: string): Promise<any[]> {
  const list = await kubectlJson<{ items: any[] }>(['get', 'pods', '-n', ns, '-l', `app.kubernetes.io/instance=${release},app.kubernetes.io/name=robustmq`]);
  return list.items.filter((p) => !p.metadata.labels?.['batch.kubernetes.io/job-name'] && p.status?.phase !== 'Succeeded');
}

/** Preflight judged the version as inside the supported range: no warning or failure about it. */
function expectVersionAccepted(stderr: string): void {
  expect(stderr).not.toMatch(/Kubernetes v\S+ is (older|newer) than/);
  expect(stderr).not.toMatch(/chart requires kubeVersion/);
}

describe(`the oldest declared Kubernetes (${OLDEST_K8S_VERSION})`, () => {
  it('is what the API server reports, and what Chart.yaml and the CLI preflight declare as their floor', async () => {
    const v = JSON.parse(await kubectl(['version', '-o', 'json'])) as { serverVersion: { gitVersion: string; minor: string } };
    expect(v.serverVersion.gitVersion).toBe(OLDEST_K8S_VERSION);
    const minor = minorOf(OLDEST_K8S_VERSION);
    const chart = parse(readFileSync(join(ROOT, 'chart', 'robustmq', 'Chart.yaml'), 'utf8')) as { kubeVersion: string };
    expect(chart.kubeVersion).toBe(`>=1.${minor}.0-0`);
    expect(KUBE_RANGE.min).toEqual({ major: 1, minor });
  });
});

describe(`dev install on ${OLDEST_K8S_VERSION}, Pod Security restricted, helm 4`, () => {
  const ns = 'e2e-oldest-dev';
  const release = 'olddev';
  const cwd = workdir('oldest-dev');

  it('installs with the pod admitted and Ready, and status -o json reports it healthy', async () => {
    await kubectl(['create', 'namespace', ns]);
    await kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/enforce-version=latest']);
    const r = await onOldest(0, ['--preset', 'dev', '--yes', '--skip-smoke', '-n', ns, '--release', release, '--timeout', '5m'], 4, cwd);
    expect(r.stderr).toMatch(/pods: combined 1\/1 Ready/);
    expect(r.stderr).not.toMatch(/violates PodSecurity/);
    expectVersionAccepted(r.stderr);

    const live = await releasePods(ns, release);
    expect(live).toHaveLength(1);
    expect(live.every(isReady)).toBe(true);
    const events = (await kubectlJson<{ items: any[] }>(['get', 'events', '-n', ns])).items;
    expect(events.filter((e) => e.reason === 'FailedCreate').map((e) => e.message)).toEqual([]);

    const s = await onOldest(0, ['status', '-o', 'json', '-n', ns, '--release', release, '--skip-smoke'], 4, cwd);
    const st = JSON.parse(s.stdout);
    expect(st).toMatchObject({ ok: true, release, namespace: ns, status: 'deployed', revision: 1, health: { status: 'healthy' } });
    expect(st.roles).toHaveLength(1);
    expect(st.roles[0]).toMatchObject({ role: 'combined', ready: 1, desired: 1 });
  });

  it('backup on a cluster without the VolumeSnapshot API: one clear error and the way out, nothing created', async () => {
    const r = await onOldest(3, ['backup', '-n', ns, '--release', release], 4, cwd);
    expect(r.stderr).toMatch(/this cluster does not serve the VolumeSnapshot API \(snapshot.storage.k8s.io\/v1: volumesnapshots.snapshot.storage.k8s.io, volumesnapshotcontents.snapshot.storage.k8s.io, volumesnapshotclasses.snapshot.storage.k8s.io missing\)/);
    expect(r.stderr).toMatch(/hint: install your CSI driver’s snapshot support/);
    expect(readdirSync(cwd).filter((f) => f.startsWith('robustmq-backup-'))).toEqual([]);
    const list = await onOldest(0, ['backup', 'list', '-n', ns, '--release', release], 4, cwd);
    expect(list.stderr).toMatch(/no backups of release olddev in namespace e2e-oldest-dev \(this cluster serves no VolumeSnapshot API\)/);
  });

  it('bound the PVC, and the API server kept the StatefulSet\'s PVC retention policy', async () => {
    const pvcs = (await kubectlJson<{ items: any[] }>(['get', 'pvc', '-n', ns, '-l', `app.kubernetes.io/instance=${release}`])).items;
    expect(pvcs.length).toBeGreaterThanOrEqual(1);
    expect(new Set(pvcs.map((p) => p.status.phase))).toEqual(new Set(['Bound']));
    // An API server without the field (or with its gate off) drops it silently; the chart's retention would be lost.
    const sts = (await kubectlJson<{ items: any[] }>(['get', 'statefulsets', '-n', ns, '-l', `app.kubernetes.io/instance=${release}`])).items;
    expect(sts).toHaveLength(1);
    expect(sts[0].spec.persistentVolumeClaimRetentionPolicy).toMatchObject({ whenDeleted: expect.stringMatching(/^(Retain|Delete)$/), whenScaled: expect.stringMatching(/^(Retain|Delete)$/) });
  });
});

describe(`prod install (split 3/3/3) on ${OLDEST_K8S_VERSION}, helm 3`, () => {
  const ns = 'e2e-oldest-prod';
  const release = 'oldprod';
  const cwd = workdir('oldest-prod');

  it('installs all three roles Ready', async () => {
    const r = await onOldest(0, ['--preset', 'prod', '--yes', '--skip-smoke', '-n', ns, '--release', release, '--timeout', '6m'], 3, cwd);
    expect(r.stderr).toMatch(/pods: meta 3\/3 Ready, broker 3\/3 Ready, engine 3\/3 Ready/);
    expectVersionAccepted(r.stderr);
    const live = await releasePods(ns, release);
    expect(live).toHaveLength(9);
    expect(live.every(isReady)).toBe(true);
    // The init script reads the ordinal from this label (GA in 1.32), the pod name being only its fallback.
    for (const p of live) expect([p.metadata.name, p.metadata.labels['apps.kubernetes.io/pod-index']]).toEqual([p.metadata.name, p.metadata.name.replace(/^.*-/, '')]);
    const s = await onOldest(0, ['status', '-o', 'json', '-n', ns, '--release', release, '--skip-smoke'], 3, cwd);
    expect(JSON.parse(s.stdout)).toMatchObject({ ok: true, status: 'deployed', health: { status: 'healthy' } });
  });

  it('has a PDB per role and spreads each role over the three zones', async () => {
    const pdbs = (await kubectlJson<{ items: any[] }>(['get', 'pdb', '-n', ns, '-l', `app.kubernetes.io/instance=${release}`])).items;
    expect(pdbs.map((p) => p.spec.selector.matchLabels['app.kubernetes.io/component']).sort()).toEqual(['broker', 'engine', 'meta']);
    for (const p of pdbs) expect(p.spec.maxUnavailable).toBe(1);
    const zoneOf = new Map(cp!.nodes.map((n) => [n.name, n.zone]));
    const live = await releasePods(ns, release);
    for (const role of ['meta', 'broker', 'engine']) {
      const zones = new Set(live.filter((p) => p.metadata.labels['app.kubernetes.io/component'] === role).map((p) => zoneOf.get(p.spec.nodeName)));
      expect([role, zones.size]).toEqual([role, 3]);
    }
  });

  it('exposes MQTT on the client Service with the three brokers as ready endpoints', async () => {
    const svcs = (await kubectlJson<{ items: any[] }>(['get', 'services', '-n', ns, '-l', `app.kubernetes.io/instance=${release}`])).items;
    expect(svcs.filter((s) => s.spec.clusterIP === 'None').length).toBeGreaterThanOrEqual(3);
    const client = svcs.find((s) => s.spec.clusterIP !== 'None' && s.spec.ports.some((p: any) => p.port === 1883));
    expect(client?.spec.selector['app.kubernetes.io/component']).toBe('broker');
    // The EndpointSlice controller catches up with the pods' readiness on its own time: wait for it, don't sample it.
    const readyEndpoints = async () =>
      (await kubectlJson<{ items: any[] }>(['get', 'endpointslices', '-n', ns, '-l', `kubernetes.io/service-name=${client.metadata.name}`])).items
        .flatMap((s) => s.endpoints ?? [])
        .filter((e: any) => e.conditions?.ready);
    const ready = await eventually('3 ready broker endpoints', async () => {
      const r = await readyEndpoints();
      return r.length === 3 ? r : undefined;
    });
    expect(ready).toHaveLength(3);
  });
});
