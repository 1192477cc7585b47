// Entry point: parse argv, resolve the terminal, dispatch to a command through a dynamic import() so that
// --version/--help load nothing heavy (no prompts, listr2, yaml, execa). Exit-code policy lives here.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { helpText, parseArgs, type CommandName } from './args.js';
import type { Command, Context, Paths } from './context.js';
import { ExitCode, isUserError } from './core/errors.js';
import { CLI_VERSION } from './core/meta.js';
import { bundledChartInfo } from './chart-info.js';
import { createTerminal, type Terminal, type TerminalOptions } from './shell/terminal.js';

const loaders: Record<CommandName, () => Promise<Command>> = {
  install: () => import('./commands/install.js'),
  upgrade: () => import('./commands/upgrade.js'),
  rollback: () => import('./commands/rollback.js'),
  status: () => import('./commands/status.js'),
  uninstall: () => import('./commands/uninstall.js'),
  backup: () => import('./commands/backup.js'),
  restore: () => import('./commands/restore.js'),
  render: () => import('./commands/render.js'),
  preflight: () => import('./commands/preflight.js'),
  presets: () => import('./commands/presets.js'),
};

export function packagePaths(from = fileURLToPath(import.meta.url)): Paths {
  // dist/cli.js and src/cli.ts both sit one level under the package root
  const packageRoot = dirname(dirname(from));
  return { packageRoot, chartDir: join(packageRoot, 'chart', 'robustmq'), presetsDir: join(packageRoot, 'presets') };
}

export interface MainDeps extends TerminalOptions {
  paths?: Paths;
  cwd?: string;
  detectFacts?: Context['detectFacts'];
  now?: () => Date;
  randomBytes?: (n: number) => Uint8Array;
  /** external abort (tests); the process signals are wired by runMain */
  signal?: AbortSignal;
}

function isPromptAbort(e: unknown): boolean {
  const name = (e as { name?: string } | null)?.name;
  return name === 'ExitPromptError' || name === 'AbortPromptError' || name === 'CancelPromptError';
}

function reportError(term: Terminal, e: unknown, json: boolean, env: NodeJS.ProcessEnv): number {
  if (isUserError(e)) {
    term.error(e.message, e.hint);
    if (json) term.writeJson({ ok: false, exitCode: e.exitCode, error: e.message, hint: e.hint ?? null });
    return e.exitCode;
  }
  if (isPromptAbort(e)) {
    term.line('aborted');
    if (json) term.writeJson({ ok: false, exitCode: ExitCode.aborted, error: 'aborted' });
    return ExitCode.aborted;
  }
  const msg = e instanceof Error ? e.message : String(e);
  term.error(`unexpected: ${msg}`, env.DEBUG ? undefined : 'run again with DEBUG=1 for the stack trace, and report it');
  if (env.DEBUG && e instanceof Error && e.stack) term.line(e.stack);
  if (json) term.writeJson({ ok: false, exitCode: ExitCode.error, error: msg });
  return ExitCode.error;
}

export async function main(argv: readonly string[], deps: MainDeps = {}): Promise<number> {
  const env = deps.env ?? process.env;
  const wantsJson = argv.some((a, i) => a === '-ojson' || a === '--output=json' || a === '-o=json' || ((a === '-o' || a === '--output') && argv[i + 1] === 'json'));
  const noColor = argv.includes('--no-color');
  let term = createTerminal({ ...deps, env, noColor, output: wantsJson ? 'json' : 'text' });
  let args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    return reportError(term, e, wantsJson, env);
  }
  const o = args.options;
  term = createTerminal({ ...deps, env, noColor: !o.color, output: o.output });
  const paths = deps.paths ?? packagePaths();

  if (o.version) {
    const chart = bundledChartInfo(paths.chartDir);
    if (o.output === 'json') term.writeJson({ version: CLI_VERSION, chart: chart.version ?? null, appVersion: chart.appVersion ?? null });
    else term.writeOut(`robustmq-install ${CLI_VERSION}${chart.version ? ` (chart ${chart.name ?? 'robustmq'} ${chart.version}, RobustMQ ${chart.appVersion ?? '?'})` : ''}\n`);
    return ExitCode.ok;
  }
  if (o.help) {
    term.writeOut(helpText(args.commandGiven ? args.command : undefined));
    return ExitCode.ok;
  }

  const ctx: Context = {
    args,
    options: o,
    term,
    signal: deps.signal ?? new AbortController().signal,
    paths,
    env,
    cwd: deps.cwd ?? process.cwd(),
    detectFacts: deps.detectFacts,
    now: deps.now,
    randomBytes: deps.randomBytes,
  };
  try {
    const mod = await loaders[args.command]();
    return await mod.run(ctx);
  } catch (e) {
    return reportError(term, e, o.output === 'json', env);
  }
}

/**
 * The process wrapper used by bin/: wires SIGINT/SIGTERM to an AbortController (first signal aborts; helm gets
 * exactly one forwarded signal from src/shell/helm.ts; a third signal exits 130 at once), runs main, flushes, exits.
 */
export async function runMain(argv: readonly string[] = process.argv.slice(2)): Promise<never> {
  const controller = new AbortController();
  let count = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      process.stderr.write(`\n${sig}: stopping (waiting for helm to finish so the release is not left pending)…\n`);
      controller.abort(sig);
    } else if (count === 2) {
      process.stderr.write(`${sig} again: still waiting for helm; once more exits now and may leave the release pending-*\n`);
    } else {
      process.stderr.write('exiting now\n');
      process.exit(ExitCode.aborted);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let code: number;
  try {
    code = await main(argv, { signal: controller.signal });
  } catch (e) {
    process.stderr.write(`unexpected: ${e instanceof Error ? (process.env.DEBUG ? e.stack : e.message) : String(e)}\n`);
    code = ExitCode.error;
  }
  if (controller.signal.aborted && code === ExitCode.ok) code = ExitCode.aborted;
  await Promise.all([new Promise((r) => process.stdout.write('', r)), new Promise((r) => process.stderr.write('', r))]);
  process.exit(code);
}
