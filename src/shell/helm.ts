// THE one place that spawns helm. Detects the version (>= 3.14), runs helm detached (own process group) so a
// terminal Ctrl-C reaches only us, and forwards exactly one SIGINT/SIGTERM on install/upgrade, then waits.
// Success is judged by exit code, never by stderr.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { UserError, ExitCode } from '../core/errors.js';

export interface HelmInfo {
  path: string;
  /** e.g. "3.17.2" */
  version: string;
  major: 3 | 4;
  minor: number;
}

export const MIN_HELM = { major: 3, minor: 14 } as const;

export interface RunOptions {
  /** aborting it: see `onAbort` */
  signal?: AbortSignal;
  /**
   * What an abort does to the running helm:
   * - 'forward' (install/upgrade): send exactly one signal (the abort reason if it is "SIGINT"/"SIGTERM", else SIGTERM)
   *   to helm's process group and wait for helm to exit (helm marks the release failed). Never SIGKILL.
   * - 'finish' (rollback/uninstall): send nothing, let helm finish.
   * - 'kill' (reads: version, get, history, template; the default): SIGTERM.
   */
  onAbort?: 'forward' | 'finish' | 'kill';
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** the signal that ended helm, if any */
  signal: NodeJS.Signals | null;
  /** true when the abort signal fired while helm ran */
  aborted: boolean;
}

/** Starts helm; resolves when it exits. Rejects only when helm cannot be started (e.g. ENOENT). */
export function run(helmPath: string, argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(helmPath, argv, {
      detached: true, // own process group: the terminal's SIGINT goes to us, not to helm
      stdio: ['ignore', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    let stdout = '';
    let stderr = '';
    let aborted = false;
    let signalled = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (c: string) => {
      stdout += c;
      opts.onStdout?.(c);
    });
    child.stderr.on('data', (c: string) => {
      stderr += c;
      opts.onStderr?.(c);
    });
    const onAbort = () => {
      aborted = true;
      const mode = opts.onAbort ?? 'kill';
      if (mode === 'finish' || signalled || child.exitCode !== null) return;
      signalled = true; // exactly one signal, ever
      const reason = opts.signal?.reason;
      const sig: NodeJS.Signals = mode === 'forward' && (reason === 'SIGINT' || reason === 'SIGTERM') ? reason : 'SIGTERM';
      try {
        process.kill(-child.pid!, sig); // the whole group (helm and any post-renderer it started)
      } catch {
        child.kill(sig);
      }
    };
    if (opts.signal) {
      if (opts.signal.aborted) queueMicrotask(onAbort);
      else opts.signal.addEventListener('abort', onAbort, { once: true });
    }
    child.on('error', (err: NodeJS.ErrnoException) => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (err.code === 'ENOENT') {
        reject(
          new UserError(`helm not found at ${JSON.stringify(helmPath)}`, {
            exitCode: ExitCode.preflight,
            hint: 'install helm >= 3.14 (https://helm.sh/docs/intro/install/) or pass --helm PATH',
          }),
        );
      } else if (err.code === 'EACCES') {
        reject(new UserError(`helm at ${JSON.stringify(helmPath)} is not executable`, { exitCode: ExitCode.preflight, hint: `chmod +x ${helmPath} or pass --helm PATH` }));
      } else reject(err);
    });
    child.on('close', (code, sig) => {
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({ exitCode: code ?? (sig ? 128 + (sig === 'SIGINT' ? 2 : 15) : 1), stdout, stderr, signal: sig, aborted });
    });
  });
}

/** "v3.17.2+g…" → {version, major, minor}; undefined when unparseable. */
export function parseHelmVersion(text: string): { version: string; major: number; minor: number } | undefined {
  const m = /v?(\d+)\.(\d+)\.(\d+)([-+][0-9A-Za-z.+-]*)?/.exec(text.trim());
  if (!m) return undefined;
  return { version: `${m[1]}.${m[2]}.${m[3]}`, major: Number(m[1]), minor: Number(m[2]) };
}

/** Checks a parsed version against the floor; the message names what was found and what is needed. */
export function checkHelmVersion(path: string, v: { version: string; major: number; minor: number }): HelmInfo {
  if (v.major < MIN_HELM.major || (v.major === MIN_HELM.major && v.minor < MIN_HELM.minor)) {
    throw new UserError(`helm ${v.version} at ${path} is too old: robustmq-install needs helm >= 3.14 (upgrade uses --reset-then-reuse-values)`, {
      exitCode: ExitCode.preflight,
      hint: 'install a newer helm (https://helm.sh/docs/intro/install/) or pass --helm PATH',
    });
  }
  if (v.major > 4) {
    throw new UserError(`helm ${v.version} at ${path} is not supported yet (supported: 3.14+ and 4.x)`, { exitCode: ExitCode.preflight, hint: 'pass --helm PATH to a helm 3 or 4 binary' });
  }
  return { path, version: v.version, major: v.major as 3 | 4, minor: v.minor };
}

export async function detectHelm(path: string, opts: { env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}): Promise<HelmInfo> {
  const env = opts.env ?? process.env;
  const identity = binaryIdentity(path, env);
  const known = identity ? readVersionCache(env)[identity] : undefined;
  if (known) {
    const v = parseHelmVersion(known);
    if (v) return checkHelmVersion(path, v);
  }
  const r = await run(path, ['version', '--template', '{{.Version}}'], { env: opts.env, signal: opts.signal });
  const v = r.exitCode === 0 ? parseHelmVersion(r.stdout) : undefined;
  if (v && identity) writeVersionCache(env, identity, v.version);
  if (!v) {
    throw new UserError(`could not read the version of helm at ${path} (exit ${r.exitCode}): ${r.stderr.trim().split('\n')[0] ?? ''}`, {
      exitCode: ExitCode.preflight,
      hint: 'pass --helm PATH to a working helm >= 3.14',
    });
  }
  return checkHelmVersion(path, v);
}

export { shellQuote, formatCommand } from '../core/flags.js';

// Spawning `helm version` costs as much as a small `helm template`, and every command needs the version. It is
// remembered per binary, keyed by real path, inode, size and mtime, so replacing or upgrading helm is noticed.
function versionCachePath(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'robustmq-install', 'helm-versions.json');
}

function binaryIdentity(path: string, env: NodeJS.ProcessEnv): string | undefined {
  try {
    let full = path;
    if (!path.includes('/')) {
      const hit = (env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, path)).find((c) => {
        try {
          return statSync(c).isFile();
        } catch {
          return false;
        }
      });
      if (!hit) return undefined;
      full = hit;
    } else if (!isAbsolute(path)) full = join(process.cwd(), path);
    const real = realpathSync(full);
    const st = statSync(real);
    return `${real}:${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return undefined;
  }
}

function readVersionCache(env: NodeJS.ProcessEnv): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(versionCachePath(env), 'utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}

function writeVersionCache(env: NodeJS.ProcessEnv, identity: string, version: string): void {
  try {
    const file = versionCachePath(env);
    const entries = { ...readVersionCache(env), [identity]: version };
    // keep it small: the newest 20 binaries
    const kept = Object.fromEntries(Object.entries(entries).slice(-20));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(kept));
  } catch {
    // a cache that cannot be written only costs the next run one `helm version`
  }
}
