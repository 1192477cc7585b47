// The helm driver: real helm 3 and 4 for version detection; small stand-in scripts only where a behaviour of the
// process (signals, process groups, old versions) must be provoked. No cluster is involved here.
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { checkHelmVersion, detectHelm, parseHelmVersion, run } from '../../src/shell/helm.js';
import { helmBinaries } from '../support/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'rmq-helm-'));
function script(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}
const pgrp = (pid: number | 'self') => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[2];

describe('detectHelm on the real binaries', () => {
  for (const h of helmBinaries()) {
    it(`helm ${h.version}`, async () => {
      expect(await detectHelm(h.path)).toEqual({ path: h.path, version: h.version, major: h.major, minor: Number(h.version.split('.')[1]) });
    });
  }
});

describe('version floor and errors', () => {
  it('parses helm version strings', () => {
    expect(parseHelmVersion('v3.17.2')).toEqual({ version: '3.17.2', major: 3, minor: 17 });
    expect(parseHelmVersion('v4.1.4+g05fa379')).toEqual({ version: '4.1.4', major: 4, minor: 1 });
    expect(parseHelmVersion('garbage')).toBeUndefined();
  });
  it('refuses helm < 3.14 and > 4 with the reason', () => {
    expect(() => checkHelmVersion('/h', { version: '3.13.3', major: 3, minor: 13 })).toThrow('helm 3.13.3 at /h is too old: robustmq-install needs helm >= 3.14 (upgrade uses --reset-then-reuse-values)');
    expect(() => checkHelmVersion('/h', { version: '5.0.0', major: 5, minor: 0 })).toThrow('not supported yet');
    expect(checkHelmVersion('/h', { version: '3.14.0', major: 3, minor: 14 }).major).toBe(3);
  });
  it('an old helm binary: exit 3 with a hint', async () => {
    const old = script('helm-old', 'echo v3.12.0');
    const e = await detectHelm(old).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).exitCode).toBe(3);
    expect((e as UserError).hint).toMatch(/--helm PATH/);
  });
  it('a missing helm: exit 3 naming the path', async () => {
    const e = (await detectHelm('/nonexistent/helm').catch((x: unknown) => x)) as UserError;
    expect(e.message).toBe('helm not found at "/nonexistent/helm"');
    expect(e.exitCode).toBe(3);
  });
  it('a helm that fails: exit 3 with its stderr', async () => {
    const broken = script('helm-broken', 'echo "boom: cannot run" >&2; exit 7');
    const e = (await detectHelm(broken).catch((x: unknown) => x)) as UserError;
    expect(e.message).toBe(`could not read the version of helm at ${broken} (exit 7): boom: cannot run`);
  });
});

describe('run', () => {
  it('judges by exit code, streams output, passes env', async () => {
    const h = script('helm-echo', 'echo "out:$NO_COLOR"; echo "warning: noisy" >&2; exit 0');
    const chunks: string[] = [];
    const r = await run(h, ['x'], { env: { ...process.env, NO_COLOR: '1' }, onStdout: (c) => chunks.push(c) });
    expect(r).toMatchObject({ exitCode: 0, stdout: 'out:1\n', stderr: 'warning: noisy\n', aborted: false, signal: null });
    expect(chunks.join('')).toBe('out:1\n');
    const f = await run(script('helm-fail', 'exit 5'), []);
    expect(f.exitCode).toBe(5);
  });
  it('spawns helm in its own process group', async () => {
    const h = script('helm-pgrp', "cut -d' ' -f5 /proc/$$/stat");
    const r = await run(h, []);
    expect(r.stdout.trim()).not.toBe(pgrp('self'));
  });
  it("onAbort 'forward': exactly one signal (the abort reason) to helm's group, then waits for helm to finish", async () => {
    const h = script(
      'helm-trap',
      [
        'n=0',
        "trap 'n=$((n+1)); echo \"INT $n\"' INT",
        "trap 'n=$((n+1)); echo \"TERM $n\"' TERM",
        'echo started',
        'i=0; while [ $i -lt 40 ]; do sleep 0.05; i=$((i+1)); done',
        'echo "finished after $n signal(s)"',
        'exit 9',
      ].join('\n'),
    );
    const ac = new AbortController();
    const p = run(h, ['install'], {
      signal: ac.signal,
      onAbort: 'forward',
      onStdout: (c) => {
        if (c.includes('started')) {
          ac.abort('SIGINT');
          ac.abort('SIGTERM'); // a second abort is a no-op: AbortSignal fires once
        }
      },
    });
    const r = await p;
    expect(r.aborted).toBe(true);
    expect(r.stdout).toBe('started\nINT 1\nfinished after 1 signal(s)\n');
    expect(r.exitCode).toBe(9);
  });
  it("onAbort 'finish': rollback/uninstall are left to finish", async () => {
    const h = script('helm-finish', "trap 'echo signalled' INT TERM\necho started\nsleep 0.3\necho done");
    const ac = new AbortController();
    const r = await run(h, ['rollback'], { signal: ac.signal, onAbort: 'finish', onStdout: (c) => c.includes('started') && ac.abort('SIGINT') });
    expect(r).toMatchObject({ aborted: true, exitCode: 0, stdout: 'started\ndone\n' });
  });
  it("onAbort 'kill' (reads): SIGTERM ends it", async () => {
    const h = script('helm-read', 'echo started\nexec sleep 5');
    const ac = new AbortController();
    const r = await run(h, ['get'], { signal: ac.signal, onStdout: (c) => c.includes('started') && ac.abort() });
    expect(r.signal).toBe('SIGTERM');
    expect(r.exitCode).toBe(143);
  });
});

describe('version cache', () => {
  it('asks a binary for its version once, and again after the binary changes', async () => {
    const env = { ...process.env, XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'rmq-xdg-')) };
    const calls = join(dir, 'calls');
    writeFileSync(calls, '');
    const fake = script('helm-counting', `echo x >> ${calls}; echo v3.16.1`);
    expect((await detectHelm(fake, { env })).version).toBe('3.16.1');
    expect((await detectHelm(fake, { env })).version).toBe('3.16.1');
    expect(readFileSync(calls, 'utf8').trim().split('\n')).toHaveLength(1);
    script('helm-counting', `echo x >> ${calls}; echo v4.0.0 # upgraded in place`);
    expect(await detectHelm(fake, { env })).toMatchObject({ version: '4.0.0', major: 4 });
    expect(readFileSync(calls, 'utf8').trim().split('\n')).toHaveLength(2);
  });
});
