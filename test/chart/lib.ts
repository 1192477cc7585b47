// Helpers of the chart tests: run the pinned helm binaries, parse rendered manifests, validate them with
// kubernetes-models, run the chart's bash scripts. Nothing here downloads anything.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { helmBinaries, type HelmMajor } from '../support/tools.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHART = join(ROOT, 'chart', 'robustmq');
export const PRESETS = ['dev', 'test', 'prod'].map((p) => join(ROOT, 'presets', `${p}.yaml`));
export const FIXTURE = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/robustmq-config-v0.4.11.json'), 'utf8'));

// Secrets with everything TOML and JSON must escape (bash cannot hold NUL, and a trailing newline is stripped).
export const NASTY = {
  'admin-password': `a"b\\c'd$e\`f&g\t h\u00e9\u4e2d🙂\u0001\u007f\r\nend`,
  'admin-jwt-secret': 'jwt & \\& \\\\ "quoted" ${HOME} $(id) %s %d',
  'mqtt-password': 'mqtt\npass\\u0041 [x] = "y" # not a comment',
};

export const HELMS = helmBinaries();
export type Helm = (typeof HELMS)[number];
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; [k: string]: any }; [k: string]: any };

export function tempDir(prefix = 'rmq-chart-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function helmRun(helm: Helm, args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(helm.path, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, HELM_CACHE_HOME: join(tmpdir(), 'rmq-helm-cache') } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export type RenderOpts = { values?: object[]; files?: string[]; release?: string; namespace?: string; extra?: string[]; chart?: string };

/** helm template; returns the parsed objects (throws with helm's message on failure). */
export function render(helm: Helm, opts: RenderOpts = {}): K8sObject[] {
  const text = renderText(helm, opts);
  return parseManifests(text);
}

export function renderText(helm: Helm, opts: RenderOpts = {}): string {
  const r = renderRaw(helm, opts);
  if (r.code !== 0) throw new Error(`helm ${helm.major} template failed:\n${r.stderr}`);
  return r.stdout;
}

export function renderRaw(helm: Helm, opts: RenderOpts = {}) {
  const dir = tempDir();
  try {
    const args = ['template', opts.release ?? 'rmq', opts.chart ?? CHART, '--namespace', opts.namespace ?? 'mq'];
    for (const f of opts.files ?? []) args.push('-f', f);
    (opts.values ?? []).forEach((v, i) => {
      const f = join(dir, `values-${i}.yaml`);
      writeFileSync(f, JSON.stringify(v));
      args.push('-f', f);
    });
    args.push(...(opts.extra ?? []));
    return helmRun(helm, args);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw new Error(`YAML error: ${d.errors[0]!.message}`);
      return d.toJS();
    })
    .filter((o) => o && typeof o === 'object') as K8sObject[];
}

export const byKind = (objs: K8sObject[], kind: string) => objs.filter((o) => o.kind === kind);
export const find = (objs: K8sObject[], kind: string, name: string) => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind}/${name} in [${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}]`);
  return o;
};

/** Pod specs of every workload (StatefulSets and Jobs). */
export function podSpecs(objs: K8sObject[]): { owner: K8sObject; spec: any; meta: any }[] {
  return objs
    .filter((o) => o.kind === 'StatefulSet' || o.kind === 'Job')
    .map((o) => ({ owner: o, spec: o.spec.template.spec, meta: o.spec.template.metadata }));
}

// --- kubernetes-models --------------------------------------------------------------------------------------------
const MODEL_MODULES: Record<string, string> = {
  v1: 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'batch/v1': 'kubernetes-models/batch/v1',
  'policy/v1': 'kubernetes-models/policy/v1',
  'networking.k8s.io/v1': 'kubernetes-models/networking.k8s.io/v1',
  'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
  'cert-manager.io/v1': '@kubernetes-models/cert-manager/cert-manager.io/v1',
  'gateway.networking.k8s.io/v1': '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1',
};

/** Validates an object with its kubernetes-models class; returns an error message or null. */
export async function validateModel(obj: K8sObject): Promise<string | null> {
  const path = MODEL_MODULES[obj.apiVersion];
  if (!path) return `no model module for apiVersion ${obj.apiVersion}`;
  const mod: any = await import(path);
  const Model = mod[obj.kind];
  if (!Model) return `no model for ${obj.apiVersion} ${obj.kind}`;
  try {
    new Model(obj).validate();
    return null;
  } catch (e: any) {
    return `${obj.kind}/${obj.metadata?.name}: ${e.message}`;
  }
}

// --- bash scripts --------------------------------------------------------------------------------------------------
/** Writes the scripts of the rendered scripts ConfigMap and the server.toml template into dir. */
export function extractScripts(objs: K8sObject[], dir: string, fullname = 'rmq-robustmq') {
  const scripts = find(objs, 'ConfigMap', `${fullname}-scripts`).data as Record<string, string>;
  for (const [name, text] of Object.entries(scripts)) writeFileSync(join(dir, name), text, { mode: 0o755 });
  const cfg = find(objs, 'ConfigMap', `${fullname}-config`).data as Record<string, string>;
  writeFileSync(join(dir, 'server.toml.tmpl'), cfg['server.toml.tmpl']!);
  writeFileSync(join(dir, 'logger.toml'), cfg['logger.toml']!);
  return { scripts, config: cfg };
}

export function bash(script: string, env: Record<string, string>, opts: { input?: string; timeoutMs?: number } = {}) {
  const r = spawnSync('bash', [script], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir(), ...env },
    input: opts.input,
    timeout: opts.timeoutMs ?? 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Async variant (the fake servers of a test run in this same process, so the script must not block the loop). */
export function bashAsync(script: string, env: Record<string, string>, timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    import('node:child_process').then(({ spawn }) => {
      const p = spawn('bash', [script], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir(), ...env } });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
      p.on('close', (code) => {
        clearTimeout(t);
        resolve({ code: code ?? -1, stdout, stderr });
      });
    });
  });
}

export function gitFile(path: string): string {
  return execFileSync('git', ['show', `HEAD:${path}`], { cwd: ROOT, encoding: 'utf8' });
}

export type { HelmMajor };
