// Scenario 10: every preset installs into a namespace that enforces Pod Security "restricted" (the admission plugin
// of the real API server rejects any pod that does not comply, so Ready pods prove compliance).
import { afterAll, describe, expect, it } from 'vitest';
import { CONTEXTS } from '../support/controlplane.ts';
import { cliExpect, dropNamespace, isReady, kubectl, kubectlJson, pods, workdir } from './cli.ts';

const PRESETS = [
  { preset: 'dev', pods: 1 },
  { preset: 'test', pods: 3 },
  { preset: 'prod', pods: 9 },
];

describe.each(PRESETS)('Pod Security restricted: preset $preset', ({ preset, pods: count }) => {
  const ns = `e2e-psa-${preset}`;
  const release = `psa-${preset}`;
  const cwd = workdir(`psa-${preset}`);
  afterAll(() => dropNamespace(ns));

  it('installs with every pod admitted and Ready', async () => {
    await kubectl(['create', 'namespace', ns]);
    await kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/enforce-version=latest']);
    const args = ['--preset', preset, '--yes', '--skip-smoke', '-n', ns, '--release', release, '--timeout', '6m'];
    if (preset === 'prod') args.push('--kube-context', CONTEXTS.admin);
    const r = await cliExpect(0, args, { cwd });
    expect(r.stderr).not.toMatch(/violates PodSecurity/);
    const live = await pods(ns, release);
    expect(live.length).toBe(count);
    expect(live.every(isReady)).toBe(true);
    const nsObj = await kubectlJson(['get', 'namespace', ns]);
    expect(nsObj.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    // no FailedCreate from the StatefulSet controller: nothing was rejected along the way
    const events = (await kubectlJson<{ items: any[] }>(['get', 'events', '-n', ns])).items;
    expect(events.filter((e) => e.reason === 'FailedCreate').map((e) => e.message)).toEqual([]);
  });
});

describe('Pod Security restricted: a non-compliant setting', () => {
  const ns = 'e2e-psa-bad';
  afterAll(() => dropNamespace(ns));

  it('is stopped by preflight (the dry-run\'s PodSecurity warning at the enforced level), before anything is created', async () => {
    await kubectl(['create', 'namespace', ns]);
    await kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted']);
    const r = await cliExpect(3, ['--preset', 'dev', '--yes', '--skip-smoke', '-n', ns, '--release', 'bad', '--set', 'podSecurityContext.enabled=false', '--set', 'containerSecurityContext.enabled=false'], { cwd: workdir('psa-bad') });
    expect(r.stderr).toMatch(/FAIL server-dry-run: the namespace enforces Pod Security "restricted", which would reject the pods/);
    expect(r.stderr).toMatch(/would violate PodSecurity "restricted:latest"/);
    const sts = await kubectlJson<{ items: unknown[] }>(['get', 'statefulsets', '-n', ns]);
    expect(sts.items).toEqual([]);
  });
});
