// Colours through node:util styleText with the CLI's own decision (resolveColor: --no-color, NO_COLOR, TERM=dumb,
// stderr's TTY, FORCE_COLOR). styleText's own checks (stdout's TTY, NO_COLOR in process.env) must not undo that
// decision: this CLI writes its text to stderr. CI runs this file on Node 20 and Node 24.
import { PassThrough } from 'node:stream';
import * as util from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTerminal, makeStyler, type Style } from '../../src/shell/terminal.js';
import { helmPath } from '../support/tools.js';
import { runCli } from './cli-harness.js';

// a ceiling for runs of the CLI and helm on a loaded 2-core machine, not a measured duration
vi.setConfig({ testTimeout: 60_000 });

const ESC = '\u001b';
const STYLES: Style[] = ['bold', 'dim', 'red', 'green', 'yellow', 'cyan', 'magenta', 'gray'];
const CODES: Record<Style, [number, number]> = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39], magenta: [35, 39], gray: [90, 39] };
const expected = (s: Style, text: string) => `${ESC}[${CODES[s][0]}m${text}${ESC}[${CODES[s][1]}m`;

function stream(isTTY: boolean) {
  const s = new PassThrough() as PassThrough & { isTTY?: boolean };
  s.isTTY = isTTY;
  return s;
}

const savedNoColor = process.env.NO_COLOR;
afterEach(() => {
  if (savedNoColor === undefined) delete process.env.NO_COLOR;
  else process.env.NO_COLOR = savedNoColor;
});

describe('makeStyler', () => {
  it(`node ${process.version}: styleText gives every style's codes`, () => {
    const style = makeStyler(util.styleText as never);
    for (const s of STYLES) expect(style(s, 'x'), s).toBe(expected(s, 'x'));
    expect(style(['bold', 'red'], 'x')).toBe(expected('red', expected('bold', 'x')));
  });
  it('styleText is asked with validateStream: false, and its own NO_COLOR check does not apply once the CLI decided', () => {
    const calls: unknown[] = [];
    const spy = (f: Style, t: string, o?: unknown) => (calls.push(o), util.styleText(f, t, o as never));
    process.env.NO_COLOR = '1';
    expect(makeStyler(spy)('green', 'ok')).toBe(expected('green', 'ok'));
    expect(calls.every((o) => (o as { validateStream?: boolean }).validateStream === false)).toBe(true);
  });
  it('a styleText that still strips (checks the stream, no validateStream option) or is missing: the same codes from node’s table', () => {
    const stripping = (_f: Style, t: string) => t;
    const throwing = () => {
      throw new TypeError('unknown option');
    };
    for (const fn of [stripping, throwing, undefined]) {
      const style = makeStyler(fn as never);
      for (const s of STYLES) expect(style(s, 'x'), s).toBe(expected(s, 'x'));
    }
  });
});

describe('the terminal: the CLI decides, styleText only paints', () => {
  const term = (o: { stderrTTY: boolean; env?: NodeJS.ProcessEnv; noColor?: boolean }) =>
    createTerminal({ env: o.env ?? {}, stdin: stream(o.stderrTTY), stdout: stream(false), stderr: stream(o.stderrTTY), noColor: o.noColor });

  it('stderr a TTY, stdout a pipe (`robustmq-install … -o json | jq`): colour on stderr', () => {
    process.env.NO_COLOR = '1'; // the test process's own environment is not the CLI's: the CLI was given env {}
    const t = term({ stderrTTY: true });
    expect(t.color).toBe(true);
    expect(t.style('red', 'x')).toBe(expected('red', 'x'));
  });
  it.each([
    ['--no-color', { stderrTTY: true, noColor: true }],
    ['NO_COLOR=1', { stderrTTY: true, env: { NO_COLOR: '1' } }],
    ['NO_COLOR=1 beats FORCE_COLOR', { stderrTTY: true, env: { NO_COLOR: '1', FORCE_COLOR: '1' } }],
    ['TERM=dumb', { stderrTTY: true, env: { TERM: 'dumb' } }],
    ['stderr not a TTY', { stderrTTY: false }],
    ['FORCE_COLOR=0', { stderrTTY: true, env: { FORCE_COLOR: '0' } }],
  ])('%s: no escape codes at all', (_name, o) => {
    const t = term(o);
    expect(t.color).toBe(false);
    for (const s of STYLES) expect(t.style(s, 'x')).toBe('x');
  });
  it('FORCE_COLOR=1 without a TTY: colour', () => {
    expect(term({ stderrTTY: false, env: { FORCE_COLOR: '1' } }).style('yellow', '!')).toBe(expected('yellow', '!'));
  });
});

describe('through the CLI', () => {
  const helm4 = helmPath(4);
  const argv = ['--preset', 'nope', '--dry-run', '--helm', helm4];
  it('an error on a terminal is coloured; --no-color and NO_COLOR turn it off', async () => {
    const coloured = await runCli(argv, { tty: true, env: { CI: 'true' } });
    expect(coloured.code).toBe(2);
    expect(coloured.stderr).toBe(`${expected('red', 'Error:')} unknown preset "nope": not one of dev, test, prod and no such file\n${expected('dim', 'hint:')} robustmq-install presets lists them\n`);
    for (const plain of [await runCli([...argv, '--no-color'], { tty: true, env: { CI: 'true' } }), await runCli(argv, { tty: true, env: { CI: 'true', NO_COLOR: '1' } })]) {
      expect(plain.stderr).not.toContain(ESC);
      expect(plain.stderr).toMatch(/^Error: unknown preset "nope"/);
    }
  });
});
