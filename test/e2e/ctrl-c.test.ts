// Scenario 6 (³): SIGINT to the CLI during an upgrade that a readiness delay keeps waiting. The CLI forwards one
// signal to helm and waits: the release ends `failed`, not `pending-*`, the CLI exits 130, and the next run
// upgrades cleanly from there.
import { afterAll, describe, expect, it } from 'vitest';
import { ANNOTATIONS } from '../support/controlplane.ts';
import { BOTH_HELMS, cliExpect, dropNamespace, eventually, helm, history, releaseStatus, startCli, workdir } from './cli.ts';

const delayKey = `combined.podAnnotations.${ANNOTATIONS.readyDelay.replace(/\./g, '\\.')}`;

describe.each(BOTH_HELMS)('Ctrl-C during an upgrade on helm %i', (major) => {
  const ns = `e2e-ctrlc-h${major}`;
  const release = `cc${major}`;
  const cwd = workdir(`ctrlc-h${major}`);
  const sel = ['-n', ns, '--release', release];
  afterAll(() => dropNamespace(ns));

  it('forwards one SIGINT, leaves the release failed (not pending), exits 130', async () => {
    await cliExpect(0, ['--preset', 'dev', '--yes', '--skip-smoke', ...sel], { helm: major, cwd });
    const run = startCli(['upgrade', '--yes', '--skip-smoke', ...sel, '--set', `${delayKey}=10m`, '--timeout', '8m'], { helm: major, cwd });
    // helm has started and recorded the new revision as pending-upgrade: now interrupt
    await eventually('the upgrade to be under way', async () => run.stderrSoFar().includes('→ ') && (await helm(major, ['status', release, '-n', ns, '-o', 'json'])).stdout.includes('pending-upgrade'));
    run.child.kill('SIGINT');
    const r = await run.result;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/SIGINT: stopping/);
    expect(r.stderr).toMatch(/interrupted \(SIGINT\): helm exited \d+; release cc\d is failed \(revision 2\)/);
    expect(r.stderr).toMatch(/to return to revision 1: robustmq-install rollback 1/);
    expect(await releaseStatus(major, release, ns)).toBe('failed');
    const h = await history(major, release, ns);
    expect(h.some((x) => x.status.startsWith('pending-'))).toBe(false);
  });

  it('the next run handles what was left', async () => {
    const r = await cliExpect(0, ['upgrade', '--yes', '--skip-smoke', ...sel, '--set', `${delayKey}=0s`], { helm: major, cwd });
    expect(r.stderr).toMatch(/warn release-state: the latest revision 2 of cc\d is failed; the upgrade will replace it/);
    expect(r.stderr).toMatch(/release cc\d revision 3 deployed/);
    expect(await releaseStatus(major, release, ns)).toBe('deployed');
  });
});
