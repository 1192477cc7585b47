// Terminal IO: human text on stderr, JSON on stdout, colors resolved once, prompts only with a TTY,
// and a listr2 `tasks` helper (spinner tree on a TTY, plain lines otherwise). listr2 and @inquirer/prompts
// are imported lazily, so `--help`/`--version` never load them.
import { emitKeypressEvents } from 'node:readline';
import * as util from 'node:util';
import type { Readable, Writable } from 'node:stream';

export type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan' | 'magenta' | 'gray';

export interface TerminalOptions {
  env?: NodeJS.ProcessEnv;
  stdin?: Readable & { isTTY?: boolean };
  stdout?: Writable & { isTTY?: boolean };
  stderr?: Writable & { isTTY?: boolean; columns?: number };
  /** --no-color given */
  noColor?: boolean;
  output?: 'text' | 'json';
}

/** A task for `Terminal.tasks`: a thin, listr2-independent shape so commands don't import listr2 types. */
export interface TaskSpec<Ctx> {
  title: string;
  /** return a string to skip with that reason (np's "[dry run] …" pattern) */
  skip?: (ctx: Ctx) => string | false | undefined;
  enabled?: (ctx: Ctx) => boolean;
  run: (ctx: Ctx, task: TaskHandle) => Promise<void> | void;
}
export interface TaskHandle {
  /** live output line under the task */
  output(line: string): void;
  /** change the title (e.g. "pods 2/3 Ready") */
  title(text: string): void;
}

export interface Terminal {
  /** stdin and stderr are TTYs (prompts and spinners are possible) */
  readonly isTTY: boolean;
  /** a TTY and no CI: the wizard and confirms may be shown */
  readonly interactive: boolean;
  readonly color: boolean;
  readonly json: boolean;
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: Readable & { isTTY?: boolean };
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** env for child processes: NO_COLOR=1 (and no FORCE_COLOR) when color is off */
  readonly childEnv: NodeJS.ProcessEnv;
  style(s: Style | Style[], text: string): string;
  /** a line of human text (stderr) */
  line(text?: string): void;
  info(text: string): void;
  ok(text: string): void;
  warn(text: string): void;
  error(text: string, hint?: string): void;
  /** JSON on stdout */
  writeJson(value: unknown): void;
  /** raw data to stdout (e.g. the overlay in --dry-run text mode goes to stderr; manifests may go here) */
  writeOut(text: string): void;
  /** @inquirer/prompts, loaded on first use; throws when not interactive (a prompt is never shown without a TTY) */
  prompts(): Promise<Prompts>;
  /** prompt context: render on stderr, read stdin */
  readonly promptContext: { input: Readable; output: Writable; clearPromptOnDone?: boolean; signal?: AbortSignal };
  tasks<Ctx extends object>(list: TaskSpec<Ctx>[], ctx: Ctx, opts?: { renderer?: 'default' | 'simple' | 'test' | 'silent'; concurrent?: boolean; exitOnError?: boolean }): Promise<Ctx>;
}

export type Prompts = typeof import('@inquirer/prompts');

type StyleFn = (format: Style, text: string, options?: { validateStream?: boolean }) => string;

/**
 * Styling through node:util styleText, applied only after the CLI itself decided colour is on (resolveColor): its own
 * checks look at stdout and the environment while this CLI's text goes to stderr, so they are switched off with
 * `validateStream: false` where that option exists. A Node that checks the stream but lacks the option (it returns the
 * text unstyled even with `validateStream: false`) gets the same escape codes from node's own table instead.
 */
export function makeStyler(styleText: StyleFn | undefined): (s: Style | Style[], text: string) => string {
  const works = (() => {
    try {
      return styleText !== undefined && styleText('red', 'x', { validateStream: false }) !== 'x';
    } catch {
      return false;
    }
  })();
  const one: (name: Style, text: string) => string = works
    ? (name, text) => styleText!(name, text, { validateStream: false })
    : (name, text) => {
        const pair = util.inspect.colors[name];
        return pair ? `\u001b[${pair[0]}m${text}\u001b[${pair[1]}m` : text;
      };
  // one format at a time: array formats are not accepted by every styleText this CLI runs on (Node >= 20.19)
  return (s, text) => (Array.isArray(s) ? s : [s]).reduce((out, name) => one(name, out), text);
}

let styler: ((s: Style | Style[], text: string) => string) | undefined;

/** CI means the variable is set to anything but "", "0" or "false". */
export function isCI(env: NodeJS.ProcessEnv): boolean {
  const v = env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

export function resolveColor(opts: { noColorFlag?: boolean; env: NodeJS.ProcessEnv; isTTY: boolean }): boolean {
  if (opts.noColorFlag) return false;
  if (opts.env.NO_COLOR !== undefined && opts.env.NO_COLOR !== '') return false;
  const force = opts.env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  if (opts.env.TERM === 'dumb') return false;
  return opts.isTTY;
}

export function createTerminal(opts: TerminalOptions = {}): Terminal {
  const env = opts.env ?? process.env;
  const stdin = opts.stdin ?? process.stdin;
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const isTTY = Boolean(stdin.isTTY && (stderr as { isTTY?: boolean }).isTTY);
  const interactive = isTTY && !isCI(env);
  const color = resolveColor({ noColorFlag: opts.noColor, env, isTTY: Boolean((stderr as { isTTY?: boolean }).isTTY) });
  const childEnv: NodeJS.ProcessEnv = { ...env };
  if (!color) {
    childEnv.NO_COLOR = '1';
    delete childEnv.FORCE_COLOR;
  }
  const style = (s: Style | Style[], text: string) => (color ? (styler ??= makeStyler(util.styleText as StyleFn | undefined))(s, text) : text);
  const line = (text = '') => void stderr.write(text + '\n');
  // Ctrl-D (end of input) cancels like Ctrl-C: inquirer's readline closes on it but never settles the prompt, and the
  // process would then end with exit 0 and nothing said. Aborting the prompts' signal makes it an AbortPromptError,
  // which cli.ts reports as "aborted" (130).
  const endOfInput = new AbortController();
  let watchingEof = false;

  const term: Terminal = {
    isTTY,
    interactive,
    color,
    json: opts.output === 'json',
    env,
    stdin,
    stdout,
    stderr,
    childEnv,
    style,
    line,
    info: (t) => line(t),
    ok: (t) => line(`${style('green', '✔')} ${t}`),
    warn: (t) => line(`${style('yellow', '!')} ${t}`),
    error: (t, hint) => {
      line(`${style('red', 'Error:')} ${t}`);
      if (hint) line(`${style('dim', 'hint:')} ${hint}`);
    },
    writeJson: (v) => void stdout.write(JSON.stringify(v, null, 2) + '\n'),
    writeOut: (t) => void stdout.write(t),
    promptContext: { input: stdin, output: stderr, signal: endOfInput.signal },
    async prompts() {
      if (!interactive) {
        throw new Error('internal: a prompt was requested without an interactive terminal');
      }
      if (!watchingEof) {
        watchingEof = true;
        emitKeypressEvents(stdin);
        stdin.on('keypress', (_s: unknown, key?: { ctrl?: boolean; name?: string }) => {
          if (key?.ctrl && key.name === 'd') endOfInput.abort('end of input (Ctrl-D)');
        });
      }
      return import('@inquirer/prompts');
    },
    async tasks(list, ctx, o = {}) {
      if (!color) {
        // colorette (listr2's palette) reads the environment when first loaded
        process.env.NO_COLOR = '1';
        delete process.env.FORCE_COLOR;
      }
      const { Listr, ListrLogger, ProcessOutput } = await import('listr2');
      const renderer = o.renderer ?? (isTTY && env.TERM !== 'dumb' ? 'default' : 'simple');
      // listr2 writes "stdout" through ProcessOutput: route both to stderr so stdout stays for JSON.
      const processOutput = new ProcessOutput(stderr as NodeJS.WriteStream, stderr as NodeJS.WriteStream);
      const logger = new ListrLogger({ useIcons: renderer !== 'test', processOutput });
      const listr = new Listr(
        list.map((t) => ({
          title: t.title,
          enabled: t.enabled ? () => t.enabled!(ctx) : true,
          skip: t.skip ? () => t.skip!(ctx) ?? false : false,
          task: async (_c: unknown, wrapper: { output: string; title: string }) => {
            await t.run(ctx, {
              output: (l) => {
                wrapper.output = l;
              },
              title: (s) => {
                wrapper.title = s;
              },
            });
          },
        })),
        {
          ctx,
          concurrent: o.concurrent ?? false,
          exitOnError: o.exitOnError ?? true,
          // listr2's default handler calls process.exit(127); signals are ours (see cli.ts / helm.ts)
          registerSignalListeners: false,
          renderer,
          fallbackRenderer: 'simple',
          fallbackRendererCondition: false,
          silentRendererCondition: false,
          rendererOptions: {
            logger,
            ...(renderer === 'default' ? { collapseSubtasks: false, showErrorMessage: true } : {}),
            ...(renderer === 'test' ? { task: ['title', 'message'] as const } : {}),
          },
          // eslint-disable-next-line @typescript-eslint/no-explicit-any
        } as any,
      );
      await listr.run();
      return ctx;
    },
  };
  return term;
}
