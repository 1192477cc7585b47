// A release left `pending-upgrade` by an operation that died without cleaning up (a SIGKILLed helm: laptop sleep, a
// CI job cancelled hard). Without a terminal the CLI refuses with the exact rollback command; that command recovers
// it, and the upgrade then goes through.
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { ANNOTATIONS } from '../support/controlplane.ts';
import { helmPath } from '../support/tools.ts';
import { BOTH_HELMS, cliExpect, controlPlane, dropNamespace, eventually, helm, history, releaseStatus, workdir } from './cli.ts';

describe.each(BOTH_HELMS)('pending-upgrade recovery on helm %i', (major) => {
  const ns = `e2e-pending-h${major}`;
  const release = `pend${major}`;
  const cwd = workdir(`pending-h${major}`);
  const sel = ['-n', ns, '--release', release];
  afterAll(() => dropNamespace(ns));

  it('refuses with the exact command, which then recovers the release', async () => {
    await cliExpect(0, ['--preset', 'dev', '--yes', '--skip-smoke', ...sel], { helm: major, cwd });
    // helm itself, killed with SIGKILL mid-upgrade: the one thing the CLI never does
    const key = `combined.podAnnotations.${ANNOTATIONS.readyDelay.replace(/\./g, '\\.')}=10m`;
    const child = spawn(helmPath(major), ['upgrade', release, 'chart/robustmq', '-n', ns, '--reuse-values', '--set', key, '--wait', '--timeout', '5m', '--kubeconfig', controlPlane().kubeconfig], { stdio: 'ignore' });
    await eventually('helm to mark the release pending-upgrade', async () => (await helm(major, ['status', release, '-n', ns, '-o', 'json'])).stdout.includes('pending-upgrade'));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    expect(await releaseStatus(major, release, ns)).toBe('pending-upgrade');

    const r = await cliExpect(3, ['upgrade', '--yes', '--skip-smoke', ...sel, '--set', 'config.cluster_name=after-recovery'], { helm: major, cwd });
    expect(r.stderr).toMatch(/release pend\d is pending-upgrade at revision 2: an earlier operation was interrupted/);
    expect(r.stderr).toMatch(/2 {2}pending-upgrade/);
    const hint = /hint: (robustmq-install rollback 1 .*)$/m.exec(r.stderr);
    expect(hint).not.toBeNull();

    const args = hint![1]!.split(' ').slice(1);
    const rb = await cliExpect(0, [...args.filter((a, i, all) => !(a === '--helm' || all[i - 1] === '--helm')), '--skip-smoke'], { helm: major, cwd });
    expect(rb.stderr).toMatch(/rolled back pend\d to revision 1/);
    expect(await releaseStatus(major, release, ns)).toBe('deployed');

    await cliExpect(0, ['upgrade', '--yes', '--skip-smoke', ...sel, '--set', 'config.cluster_name=after-recovery'], { helm: major, cwd });
    const h = await history(major, release, ns);
    expect(h[h.length - 1]).toMatchObject({ revision: 4, status: 'deployed' });
  });
});
