// Scenario 4 (³): an upgrade to a fault-injected image. It fails fast with the reason (an image pull, not a
// timeout), exits 4 and writes a debug bundle; with rollback on (the default) the previous revision is running and
// healthy again; with --no-rollback-on-failure the release stays as helm left it: `deployed` but not healthy when
// helm only applied (the default), `failed` with --helm-wait; never `pending-*`.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FAULT_TAGS } from '../support/controlplane.ts';
import { BOTH_HELMS, cliExpect, dropNamespace, history, isReady, kubectlJson, pods, releaseStatus, workdir } from './cli.ts';

describe.each(BOTH_HELMS)('broken upgrade on helm %i', (major) => {
  const ns = `e2e-broken-h${major}`;
  const release = `broken${major}`;
  const cwd = workdir(`broken-h${major}`);
  const sel = ['-n', ns, '--release', release];
  afterAll(() => dropNamespace(ns));

  it('fails fast on the pull error, writes a bundle, rolls back to a healthy previous revision', async () => {
    await cliExpect(0, ['--preset', 'dev', '--yes', '--skip-smoke', ...sel], { helm: major, cwd });
    const r = await cliExpect(4, ['upgrade', '--yes', '--skip-smoke', ...sel, '--set', `image.tag=${FAULT_TAGS.imagepull}`, '--timeout', '5m'], { helm: major, cwd });
    expect(r.stderr).toMatch(/upgrade failed after \S+: pod\/\S+: (ImagePullBackOff|ErrImagePull): manifest unknown/);
    expect(r.stderr).not.toMatch(/timed out/);
    expect(r.stderr).toMatch(/hint: the image \S+:fault-imagepull does not exist/);
    expect(r.stderr).toMatch(/Rolling back broken\d to revision 1/);
    expect(r.stderr).toMatch(/rolled back broken\d to revision 1: combined 1\/1 Ready/);

    const bundleLine = /debug bundle: (\S+)/.exec(r.stderr);
    expect(bundleLine).not.toBeNull();
    const bundle = bundleLine![1]!;
    expect(existsSync(bundle)).toBe(true);
    const files = readdirSync(bundle);
    expect(files).toEqual(expect.arrayContaining(['README.txt', 'helm-history.txt', 'values-overlay.yaml', 'events.txt', 'describe-pods.txt']));
    expect(readdirSync(join(bundle, 'logs')).length).toBeGreaterThan(0);
    expect(readFileSync(join(bundle, 'README.txt'), 'utf8')).toMatch(/manifest unknown/);
    const secret = await kubectlJson(['get', 'secret', `${release}-credentials`, '-n', ns]);
    const all = files.filter((f) => f !== 'logs').map((f) => readFileSync(join(bundle, f), 'utf8')).join('\n');
    for (const b64 of Object.values<string>(secret.data)) expect(all).not.toContain(Buffer.from(b64, 'base64').toString('utf8'));

    const h = await history(major, release, ns);
    // helm only applies (no --helm-wait), so it has usually finished when the pull error shows: revision 2 was
    // deployed, then superseded by the rollback. Seen while helm still ran, helm got one SIGTERM and marked it failed.
    if (/stopping helm \(one SIGTERM/.test(r.stderr)) expect(h.map((x) => x.status)).toEqual(['superseded', 'failed', 'deployed']);
    else {
      expect(r.stderr).toMatch(/helm had applied it; release broken\d is deployed \(revision 2\), its pods are not healthy/);
      expect(h.map((x) => x.status)).toEqual(['superseded', 'superseded', 'deployed']);
    }
    expect(h[2]!.description).toMatch(/Rollback to 1/);
    const live = await pods(ns, release);
    expect(live.length).toBe(1);
    expect(live.every(isReady)).toBe(true);
    expect(live[0].spec.containers.find((c: any) => c.name === 'robustmq').image).not.toContain(FAULT_TAGS.imagepull);
  });

  it('with --no-rollback-on-failure (helm only applied) the release stays deployed and is said to be not healthy', async () => {
    const r = await cliExpect(4, ['upgrade', '--yes', '--skip-smoke', '--no-rollback-on-failure', ...sel, '--set', `image.tag=${FAULT_TAGS.imagepull}`, '--timeout', '5m'], { helm: major, cwd });
    expect(r.stderr).toMatch(/manifest unknown/);
    const h = await history(major, release, ns);
    expect(h.some((x) => x.status.startsWith('pending-'))).toBe(false);
    expect(h).toHaveLength(4);
    // as in the first test: a pull error seen while helm still ran ends with helm's `failed`
    const status = /stopping helm \(one SIGTERM/.test(r.stderr) ? 'failed' : 'deployed';
    expect(r.stderr).toMatch(new RegExp(`rollback off \\(--no-rollback-on-failure\\): release broken\\d stays ${status}${status === 'deployed' ? ' \\(not healthy\\)' : ''}; to go back: robustmq-install rollback 3`));
    expect(h[3]!.status).toBe(status);
    // back to the healthy revision for the next test
    await cliExpect(0, ['rollback', '3', '--yes', '--skip-smoke', ...sel], { helm: major, cwd });
  });

  it('with --helm-wait --no-rollback-on-failure helm marks the release failed, never pending', async () => {
    const r = await cliExpect(4, ['upgrade', '--yes', '--skip-smoke', '--helm-wait', '--no-rollback-on-failure', ...sel, '--set', `image.tag=${FAULT_TAGS.imagepull}`, '--timeout', '5m'], { helm: major, cwd });
    expect(r.stderr).toMatch(/manifest unknown/);
    expect(r.stderr).toMatch(/stopping helm \(one SIGTERM/);
    expect(r.stderr).toMatch(/rollback off \(--no-rollback-on-failure\): release broken\d stays failed; to go back: robustmq-install rollback 5/);
    expect(await releaseStatus(major, release, ns)).toBe('failed');
    const h = await history(major, release, ns);
    expect(h[h.length - 1]!.status).toBe('failed');
    expect(h.some((x) => x.status.startsWith('pending-'))).toBe(false);
  });
});
