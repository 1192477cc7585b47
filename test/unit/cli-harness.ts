// Runs the CLI in-process (src/cli.ts main) with captured stdout/stderr, a chosen TTY-ness and environment.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli.js';
import type { Paths } from '../../src/context.js';
import type { FactsDetector } from '../../src/core/facts.js';

const root = resolve(import.meta.dirname, '../..');

/** The package as installed: chart/robustmq and presets/ from the repo. */
export const realPaths: Paths = { packageRoot: root, chartDir: join(root, 'chart', 'robustmq'), presetsDir: join(root, 'presets') };

function sink(isTTY: boolean) {
  const s = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  s.isTTY = isTTY;
  s.columns = 120;
  let buf = '';
  s.on('data', (c) => (buf += c));
  return { s, text: () => buf };
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(
  argv: string[],
  o: { paths?: Paths; env?: NodeJS.ProcessEnv; tty?: boolean; cwd?: string; detectFacts?: FactsDetector; now?: () => Date } = {},
): Promise<CliRun> {
  const out = sink(Boolean(o.tty));
  const err = sink(Boolean(o.tty));
  const inp = sink(Boolean(o.tty));
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...o.env };
  const code = await main(argv, {
    env,
    stdin: inp.s,
    stdout: out.s,
    stderr: err.s,
    paths: o.paths ?? realPaths,
    cwd: o.cwd ?? mkdtempSync(join(tmpdir(), 'rmq-cli-')),
    detectFacts: o.detectFacts,
    now: o.now ?? (() => new Date('2026-01-02T03:04:05Z')),
  });
  return { code, stdout: out.text(), stderr: err.text() };
}
