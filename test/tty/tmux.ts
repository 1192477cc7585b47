// A real terminal for the built CLI: one tmux server per test file (its own socket), one session per run. Keys go in
// with send-keys, the screen comes out with capture-pane. Every wait is for something on the screen, bounded only so
// that a broken prompt fails the test with the last screen instead of hanging it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin', 'robustmq-install.js');

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export class Tmux {
  readonly socket = `rmq-tty-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private n = 0;

  run(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  /**
   * Start `robustmq-install ARGS` in a fresh session and working directory, as a user's shell would: no CI, no
   * colours (stable text), the given environment. The pane stays after the CLI ends, showing EXIT=<code>.
   */
  start(args: string[], o: { env?: Record<string, string>; width?: number; height?: number; cwd?: string } = {}): Pane {
    const cwd = o.cwd ?? mkdtempSync(join(tmpdir(), 'rmq-tty-'));
    const name = `s${++this.n}`;
    const env = Object.entries({ NO_COLOR: '1', TERM: 'xterm-256color', ...o.env }).map(([k, v]) => `${k}=${q(v)}`);
    const script = join(cwd, '..', `${name}-${process.pid}-${Date.now()}.sh`);
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        `cd ${q(cwd)}`,
        `env -u CI -u FORCE_COLOR ${env.join(' ')} node ${q(BIN)} ${args.map(q).join(' ')}`,
        'echo "EXIT=$?"',
        'exec sleep 3600',
      ].join('\n'),
    );
    this.run('-f', '/dev/null', 'new-session', '-d', '-s', name, '-x', String(o.width ?? 160), '-y', String(o.height ?? 50), `sh ${q(script)}`);
    this.run('set-option', '-t', name, 'history-limit', '10000');
    return new Pane(this, name, cwd);
  }

  kill(): void {
    try {
      this.run('kill-server');
    } catch {
      // no server left
    }
  }
}

export class Pane {
  constructor(
    private readonly tmux: Tmux,
    readonly name: string,
    readonly cwd: string,
  ) {}

  /** The whole pane, wrapped lines joined (what was printed). */
  screen(): string {
    return this.tmux.run('capture-pane', '-p', '-J', '-S', '-', '-t', this.name);
  }

  /** The whole pane as the terminal shows it, row by row (for the width checks). */
  rows(): string[] {
    return this.tmux.run('capture-pane', '-p', '-S', '-', '-t', this.name).split('\n');
  }

  /**
   * Wait until `re` matches the screen at least `count` times. Bounded by a number of looks (default about 60 s of
   * them), not asserted on: a slow machine only waits longer within the bound.
   */
  async waitFor(re: RegExp, what: string, o: { count?: number; looks?: number } = {}): Promise<string> {
    const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
    for (let i = 0; i < (o.looks ?? 600); i++) {
      const s = this.screen();
      if ((s.match(g)?.length ?? 0) >= (o.count ?? 1)) return s;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the screen never showed ${what} (${re}${o.count ? ` ×${o.count}` : ''}); last screen:\n${this.screen()}`);
  }

  keys(...k: string[]): void {
    this.tmux.run('send-keys', '-t', this.name, ...k);
  }

  type(text: string): void {
    this.tmux.run('send-keys', '-t', this.name, '-l', text);
  }

  /** Wait for the CLI to end; its exit code and the final screen. */
  async exit(looks = 600): Promise<{ code: number; screen: string }> {
    const s = await this.waitFor(/^EXIT=\d+$/m, 'the end of the run', { looks });
    return { code: Number(/^EXIT=(\d+)$/m.exec(s)![1]), screen: s };
  }

  /** Files the run left in its working directory. */
  files(): string[] {
    return readdirSync(this.cwd);
  }
}

/**
 * Printed lines the terminal had to wrap (wider than the pane) and cut inside a word at the edge: what a user sees
 * as a broken line. Lines wrapped by the CLI itself or by the prompt library end with a newline and are fine.
 */
export function brokenLines(joined: string, width: number): string[] {
  const out: string[] = [];
  for (const line of joined.split('\n')) {
    const cps = [...line.replace(/\s+$/, '')];
    for (let edge = width; edge < cps.length; edge += width) {
      if (/\S/.test(cps[edge - 1]!) && /\S/.test(cps[edge]!)) {
        out.push(line);
        break;
      }
    }
  }
  return out;
}

/** No stack trace, no internal error class on the screen. */
export const STACK = /ExitPromptError|AbortPromptError|^\s+at \S+ \(|at \S+:\d+:\d+|unexpected:/m;

/** After Ctrl-C or Ctrl-D at a prompt: "aborted", no stack trace, exit 130, and no file written in the run's directory. */
export async function expectCancelled(pane: Pane): Promise<void> {
  const { code, screen } = await pane.exit();
  expect(screen).toMatch(/^aborted$/m);
  expect(screen).not.toMatch(STACK);
  expect(code).toBe(130);
  expect(pane.files()).toEqual([]);
}
