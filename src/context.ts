// What every command receives. Commands export `run(ctx: Context): Promise<number>` (the exit code).
import type { ParsedArgs, Options } from './args.js';
import type { FactsDetector } from './core/facts.js';
import type { Terminal } from './shell/terminal.js';

export interface Paths {
  /** the installed package root (bin/.., dist/..) */
  packageRoot: string;
  /** the chart bundled in the package: <root>/chart/robustmq */
  chartDir: string;
  /** <root>/presets */
  presetsDir: string;
}

export interface Context {
  args: ParsedArgs;
  options: Options;
  term: Terminal;
  /** aborted on the first SIGINT/SIGTERM; reason is the signal name */
  signal: AbortSignal;
  paths: Paths;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** injectable for tests; default: src/shell/facts.ts detectFacts */
  detectFacts?: FactsDetector;
  /** injectable clock/random for tests */
  now?: () => Date;
  randomBytes?: (n: number) => Uint8Array;
}

export type Command = { run(ctx: Context): Promise<number> };
