import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createTerminal, isCI, resolveColor } from '../../src/shell/terminal.js';

function sink(isTTY = false) {
  const s = new PassThrough() as PassThrough & { isTTY?: boolean; text: () => string };
  s.isTTY = isTTY;
  let buf = '';
  s.on('data', (c) => (buf += c));
  s.text = () => buf;
  return s;
}
function term(o: { tty?: boolean; env?: NodeJS.ProcessEnv; noColor?: boolean; output?: 'text' | 'json' } = {}) {
  const stdin = sink(o.tty);
  const stdout = sink(o.tty);
  const stderr = sink(o.tty);
  return { t: createTerminal({ env: o.env ?? {}, stdin, stdout, stderr, noColor: o.noColor, output: o.output }), stdout, stderr };
}

describe('terminal modes', () => {
  it('CI means set and not empty/0/false', () => {
    expect(isCI({})).toBe(false);
    expect(isCI({ CI: '' })).toBe(false);
    expect(isCI({ CI: 'false' })).toBe(false);
    expect(isCI({ CI: '0' })).toBe(false);
    expect(isCI({ CI: 'true' })).toBe(true);
    expect(isCI({ CI: '1' })).toBe(true);
  });
  it('interactive only with a TTY and without CI', () => {
    expect(term({ tty: true }).t.interactive).toBe(true);
    expect(term({ tty: true, env: { CI: 'true' } }).t.interactive).toBe(false);
    expect(term({ tty: false }).t.interactive).toBe(false);
  });
  it('color: --no-color, NO_COLOR, TERM=dumb, no TTY turn it off; FORCE_COLOR forces', () => {
    expect(resolveColor({ env: {}, isTTY: true })).toBe(true);
    expect(resolveColor({ env: {}, isTTY: false })).toBe(false);
    expect(resolveColor({ env: {}, isTTY: true, noColorFlag: true })).toBe(false);
    expect(resolveColor({ env: { NO_COLOR: '1' }, isTTY: true })).toBe(false);
    expect(resolveColor({ env: { NO_COLOR: '' }, isTTY: true })).toBe(true);
    expect(resolveColor({ env: { TERM: 'dumb' }, isTTY: true })).toBe(false);
    expect(resolveColor({ env: { FORCE_COLOR: '1' }, isTTY: false })).toBe(true);
    expect(resolveColor({ env: { FORCE_COLOR: '1' }, isTTY: true, noColorFlag: true })).toBe(false);
  });
  it('children get NO_COLOR=1 when color is off', () => {
    expect(term({ tty: true, noColor: true, env: { FORCE_COLOR: '3' } }).t.childEnv).toMatchObject({ NO_COLOR: '1' });
    expect(term({ tty: true, noColor: true, env: { FORCE_COLOR: '3' } }).t.childEnv.FORCE_COLOR).toBeUndefined();
    expect(term({ tty: true }).t.childEnv.NO_COLOR).toBeUndefined();
  });
  it('human text to stderr, JSON to stdout, no ANSI without color', () => {
    const { t, stdout, stderr } = term({ output: 'json' });
    t.ok('done');
    t.warn('careful');
    t.error('broken', 'fix it');
    t.writeJson({ a: 1 });
    expect(stderr.text()).toBe('✔ done\n! careful\nError: broken\nhint: fix it\n');
    expect(JSON.parse(stdout.text())).toEqual({ a: 1 });
    expect(t.json).toBe(true);
  });
  it('styles only with color', () => {
    expect(term({ tty: true }).t.style('red', 'x')).toBe('\u001b[31mx\u001b[39m');
    expect(term({ tty: false }).t.style('red', 'x')).toBe('x');
  });
  it('prompts are refused without an interactive terminal', async () => {
    await expect(term({ tty: false }).t.prompts()).rejects.toThrow('a prompt was requested without an interactive terminal');
  });
});

describe('tasks (listr2)', () => {
  it('test renderer: titles, skip reasons (dry-run style), failures; all on stderr', async () => {
    const { t, stdout, stderr } = term();
    const ctx = { ran: [] as string[] };
    await expect(
      t.tasks(
        [
          { title: 'preflight', run: (c) => void c.ran.push('preflight') },
          { title: 'helm install', skip: () => '[dry run] helm install robustmq ./chart', run: (c) => void c.ran.push('install') },
          { title: 'watch', enabled: () => false, run: (c) => void c.ran.push('watch') },
          {
            title: 'health',
            run: (_c, task) => {
              task.output('pods 1/3 Ready');
              task.title('health: 1/3');
              throw new Error('pod robustmq-1 CrashLoopBackOff');
            },
          },
        ],
        ctx,
        { renderer: 'test' },
      ),
    ).rejects.toThrow('pod robustmq-1 CrashLoopBackOff');
    expect(ctx.ran).toEqual(['preflight']);
    expect(stdout.text()).toBe('');
    const events = stderr
      .text()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { event: string; data?: unknown; task?: { title?: string; message?: { skip?: string; error?: string } } });
    const states = events.filter((e) => e.event === 'STATE').map((e) => `${e.task?.title}:${String(e.data)}`);
    expect(states).toEqual(expect.arrayContaining(['preflight:STARTED', 'preflight:COMPLETED', 'helm install:SKIPPED', 'health: 1/3:FAILED']));
    expect(states.some((s) => s.startsWith('watch'))).toBe(false);
    expect(events).toContainEqual(expect.objectContaining({ event: 'OUTPUT', data: 'pods 1/3 Ready' }));
    expect(events.find((e) => e.event === 'MESSAGE' && e.task?.message?.skip)?.task?.message?.skip).toBe('[dry run] helm install robustmq ./chart');
  });
  it('simple renderer without a TTY: plain lines, no ANSI, no spinner', async () => {
    const { t, stderr } = term({ tty: false });
    await t.tasks([{ title: 'step one', run: () => {} }, { title: 'step two', skip: () => 'not needed', run: () => {} }], {});
    const out = stderr.text();
    expect(out).not.toMatch(/\u001b\[/);
    expect(out).toContain('✔ step one');
    expect(out).toContain('step two');
    expect(out).toContain('not needed');
  });
  it('does not install a SIGINT handler', async () => {
    const before = process.listenerCount('SIGINT');
    const { t } = term();
    await t.tasks([{ title: 'x', run: () => expect(process.listenerCount('SIGINT')).toBe(before) }], {}, { renderer: 'silent' });
  });
});
