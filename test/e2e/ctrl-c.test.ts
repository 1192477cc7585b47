// Scenario 6 (³): SIGINT to the CLI during an upgrade that a readiness delay keeps waiting. Without --helm-wait helm
// has already applied and recorded the revision: the CLI stops watching, says the pods were not verified, and the
// release is `deployed`. With --helm-wait the CLI forwards one signal to helm and waits: the release ends `failed`.
// Never `pending-*`; the CLI exits 130, and the next run upgrades cleanly from there.
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

  it('while the CLI waits for the pods after helm applied: exits 130, the release is deployed and said to be unverified', async () => {
    await cliExpect(0, ['--preset', 'dev', '--yes', '--skip-smoke', ...sel], { helm: major, cwd });
    const run = startCli(['upgrade', '--yes', '--skip-smoke', ...sel, '--set', `${delayKey}=10m`, '--timeout', '8m'], { helm: major, cwd });
    await eventually('helm to have applied the upgrade', async () => /helm upgrade finished in \S+: release cc\d revision 2 deployed; waiting for the pods/.test(run.stderrSoFar()));
    run.child.kill('SIGINT');
    const r = await run.result;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted \(SIGINT\): helm exited 0; release cc\d is deployed \(revision 2\)/);
    expect(r.stderr).toMatch(/helm had applied it before the interrupt; its pods were not yet all Ready/);
    expect(r.stderr).toMatch(/to return to revision 1: robustmq-install rollback 1/);
    expect(await releaseStatus(major, release, ns)).toBe('deployed');
    expect((await history(major, release, ns)).some((x) => x.status.startsWith('pending-'))).toBe(false);
  });

  it('with --helm-wait: forwards one SIGINT to helm, leaves the release failed (not pending), exits 130', async () => {
    const run = startCli(['upgrade', '--yes', '--skip-smoke', '--helm-wait', ...sel, '--set', `${delayKey}=9m`, '--timeout', '8m'], { helm: major, cwd });
    // helm has started and recorded the new revision as pending-upgrade: now interrupt
    await eventually('the upgrade to be under way', async () => run.stderrSoFar().includes('→ ') && (await helm(major, ['status', release, '-n', ns, '-o', 'json'])).stdout.includes('pending-upgrade'));
    run.child.kill('SIGINT');
    const r = await run.result;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/SIGINT: stopping/);
    expect(r.stderr).toMatch(/interrupted \(SIGINT\): helm exited \d+; release cc\d is failed \(revision 3\)/);
    expect(r.stderr).toMatch(/to return to revision 2: robustmq-install rollback 2/);
    expect(await releaseStatus(major, release, ns)).toBe('failed');
    const h = await history(major, release, ns);
    expect(h.some((x) => x.status.startsWith('pending-'))).toBe(false);
  });

  it('the next run handles what was left', async () => {
    const r = await cliExpect(0, ['upgrade', '--yes', '--skip-smoke', ...sel, '--set', `${delayKey}=0s`], { helm: major, cwd });
    expect(r.stderr).toMatch(/warn release-state: the latest revision 3 of cc\d is failed; the upgrade will replace it/);
    expect(r.stderr).toMatch(/release cc\d revision 4 deployed/);
    expect(await releaseStatus(major, release, ns)).toBe('deployed');
  });
});
