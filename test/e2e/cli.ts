// Shared helpers of the e2e scenarios: run the BUILT CLI (`node bin/robustmq-install.js`, made by `npm run build`,
// which `npm run test:e2e` runs first) against the suite's control plane, with the pinned helm 3 or 4 and kubectl.
// Nothing here imitates a cluster: every call goes to the real API server of test/support/controlplane.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { CONTEXTS, kubectlResult, kubectlWith } from '../support/controlplane.ts';
import { helmPath, kubectlPath, type HelmMajor } from '../support/tools.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'robustmq-install.js');

export function controlPlane() {
  return inject('controlPlane');
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  helm?: HelmMajor;
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** kill the CLI (SIGTERM, once) if it runs longer than this; the test then fails on the exit code */
  timeoutMs?: number;
  /** no --kubeconfig flag (the test passes its own, or none) */
  noKubeconfig?: boolean;
}

/** A fresh working directory per scenario: overlays and debug bundles land there. */
export function workdir(name: string): string {
  return mkdtempSync(join(tmpdir(), `rmq-e2e-${name}-`));
}

function argvFor(args: string[], o: CliOptions): string[] {
  const cp = controlPlane();
  const extra: string[] = [];
  if (!o.noKubeconfig && !args.includes('--kubeconfig')) extra.push('--kubeconfig', cp.kubeconfig);
  if (!args.includes('--helm') && !['presets'].includes(args[0] ?? '')) extra.push('--helm', helmPath(o.helm ?? 4));
  return [BIN, ...args, ...extra];
}

function envFor(o: CliOptions): NodeJS.ProcessEnv {
  const cp = controlPlane();
  const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: cp.kubeconfig, ROBUSTMQ_INSTALL_KUBECTL: kubectlPath(), NO_COLOR: '1', CI: '1', ...o.env };
  delete env.FORCE_COLOR;
  for (const [k, v] of Object.entries(o.env ?? {})) if (v === undefined) delete env[k];
  return env;
}

/** Starts the CLI; the caller owns the process (Ctrl-C scenarios). */
export function startCli(args: string[], o: CliOptions = {}): { child: ChildProcess; result: Promise<CliResult>; stderrSoFar: () => string } {
  if (!existsSync(BIN)) throw new Error(`${BIN} missing: run npm run build (npm run test:e2e does)`);
  const child = spawn(process.execPath, argvFor(args, o), { cwd: o.cwd ?? ROOT, env: envFor(o), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  let timer: NodeJS.Timeout | undefined;
  if (o.timeoutMs) timer = setTimeout(() => child.kill('SIGTERM'), o.timeoutMs);
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, result, stderrSoFar: () => stderr };
}

export async function cli(args: string[], o: CliOptions = {}): Promise<CliResult> {
  return startCli(args, { timeoutMs: 540_000, ...o }).result;
}

/** Runs the CLI and fails with its whole output when the exit code is not the expected one. */
export async function cliExpect(code: number, args: string[], o: CliOptions = {}): Promise<CliResult> {
  const r = await cli(args, o);
  if (r.code !== code) {
    throw new Error(`robustmq-install ${args.join(' ')} exited ${r.code ?? r.signal}, expected ${code}\n--- stderr ---\n${r.stderr}\n--- stdout ---\n${r.stdout}`);
  }
  return r;
}

/** kubectl as the admin of the suite's control plane. */
export function kubectl(args: string[], input?: string): Promise<string> {
  return kubectlWith(controlPlane().kubeconfig, ['--context', CONTEXTS.admin, ...args], input);
}

export async function kubectlJson<T = any>(args: string[]): Promise<T> {
  return JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
}

export function kubectlTry(args: string[], input?: string) {
  return kubectlResult(controlPlane().kubeconfig, ['--context', CONTEXTS.admin, ...args], input);
}

/** helm 3 or 4 against the control plane. */
export function helm(major: HelmMajor, args: string[], o: { cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const kubeconfig = controlPlane().kubeconfig;
  return helmLocal(major, [...args, '--kubeconfig', kubeconfig], { ...o, env: { KUBECONFIG: kubeconfig } });
}

/** helm commands that don't take --kubeconfig (package, repo index, registry, push with its own flags). */
export function helmLocal(major: HelmMajor, args: string[], o: { cwd?: string; env?: Record<string, string> } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(helmPath(major), args, { cwd: o.cwd ?? ROOT, env: { ...process.env, NO_COLOR: '1', ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

export interface HelmHistoryRow {
  revision: number;
  status: string;
  chart: string;
  description: string;
}

export async function history(major: HelmMajor, release: string, namespace: string): Promise<HelmHistoryRow[]> {
  const r = await helm(major, ['history', release, '-n', namespace, '-o', 'json']);
  if (r.code !== 0) throw new Error(`helm history ${release}: ${r.stderr}`);
  return JSON.parse(r.stdout) as HelmHistoryRow[];
}

export async function releaseStatus(major: HelmMajor, release: string, namespace: string): Promise<string> {
  const r = await helm(major, ['status', release, '-n', namespace, '-o', 'json']);
  if (r.code !== 0) throw new Error(`helm status ${release}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { info: { status: string } }).info.status;
}

export const isReady = (pod: any) => pod.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') === true;

export async function pods(namespace: string, release: string): Promise<any[]> {
  return (await kubectlJson<{ items: any[] }>(['get', 'pods', '-n', namespace, '-l', `app.kubernetes.io/instance=${release},app.kubernetes.io/name=robustmq`])).items.filter(
    (p) => !p.metadata.annotations?.['helm.sh/hook'] && !p.metadata.labels?.['batch.kubernetes.io/job-name'] && p.status?.phase !== 'Succeeded',
  );
}

/** Polls until fn returns something truthy; fails with the last observation. For state, not for timing. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Each scenario cleans its namespace (PVCs and all); nothing waits on it. */
export async function dropNamespace(ns: string): Promise<void> {
  await kubectlTry(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
}

/** The helm majors a ³ scenario runs on (helm 4 always; helm 3 too). */
export const BOTH_HELMS: HelmMajor[] = [4, 3];
