// Pure, helm-version-aware mapping from what we want to helm argv. Commands are data (argv arrays): the same
// arrays feed the real run and the --dry-run text, so they cannot drift apart.
import { createHash } from 'node:crypto';

export type HelmMajor = 3 | 4;

export interface Connection {
  namespace: string;
  kubeContext?: string;
  kubeconfig?: string;
}

/** Global connection flags, identical for every helm command that talks to the cluster. */
export function connectionFlags(c: Connection): string[] {
  const out = ['--namespace', c.namespace];
  if (c.kubeContext) out.push('--kube-context', c.kubeContext);
  if (c.kubeconfig) out.push('--kubeconfig', c.kubeconfig);
  return out;
}

/** How helm waits: helm 4 uses the kstatus watcher, helm 3 its plain --wait. */
export function waitFlags(major: HelmMajor): string[] {
  return major === 4 ? ['--wait=watcher'] : ['--wait'];
}

/** Opt-in helm-managed rollback of a failed upgrade (helm 4 renamed --atomic). Install never gets it. */
export function rollbackOnFailureFlags(major: HelmMajor): string[] {
  return major === 4 ? ['--rollback-on-failure'] : ['--atomic'];
}

export function dryRunFlags(major: HelmMajor, mode: 'client' | 'server'): string[] {
  // both majors accept --dry-run=client|server (helm 3 since 3.13); spelled the same so the text is stable
  void major;
  return [`--dry-run=${mode}`];
}

export interface ChartSource {
  /** what goes in the CHART position */
  ref: string;
  version?: string;
  plainHttp?: boolean;
  caFile?: string;
}

export function chartFlags(c: ChartSource): string[] {
  const out: string[] = [];
  if (c.version) out.push('--version', c.version);
  if (c.plainHttp) out.push('--plain-http');
  if (c.caFile) out.push('--ca-file', c.caFile);
  return out;
}

export type ApplyMethod = 'server-side' | 'client-side';

export interface DeployInput extends Connection {
  helmMajor: HelmMajor;
  action: 'install' | 'upgrade';
  release: string;
  chart: ChartSource;
  /** the overlay file (the only -f) */
  valuesFile: string;
  /** helm's --timeout (Go duration) */
  timeout: string;
  /** default true */
  wait?: boolean;
  /** let helm itself roll back a failed upgrade (off by default: the deploy flow rolls back itself). Ignored for install. */
  helmRollback?: boolean;
  /** helm 4 upgrade: the previous release's apply method (from `helm get metadata`); absent = "auto" */
  inheritedApplyMethod?: ApplyMethod;
  dryRun?: 'client' | 'server';
}

/**
 * install: `helm install RELEASE CHART --create-namespace -f OVERLAY --wait… --timeout T` (never uninstalls on failure:
 *   no --atomic / --rollback-on-failure; the failed release and its evidence are kept).
 * upgrade: `helm upgrade RELEASE CHART --reset-then-reuse-values -f OVERLAY --wait… --timeout T` (+ helm 4 --server-side
 *   inherited from the previous release).
 */
export function deployArgv(i: DeployInput): string[] {
  const argv: string[] = [i.action, i.release, i.chart.ref, ...connectionFlags(i)];
  if (i.action === 'install') argv.push('--create-namespace');
  else argv.push('--reset-then-reuse-values');
  argv.push('--values', i.valuesFile);
  argv.push(...chartFlags(i.chart));
  if (i.wait !== false) argv.push(...waitFlags(i.helmMajor));
  argv.push('--timeout', i.timeout);
  if (i.action === 'upgrade' && i.helmRollback) argv.push(...rollbackOnFailureFlags(i.helmMajor));
  if (i.helmMajor === 4 && i.action === 'upgrade' && i.inheritedApplyMethod) {
    argv.push(`--server-side=${i.inheritedApplyMethod === 'server-side' ? 'true' : 'false'}`);
  }
  if (i.dryRun) argv.push(...dryRunFlags(i.helmMajor, i.dryRun));
  return argv;
}

export interface RollbackInput extends Connection {
  helmMajor: HelmMajor;
  release: string;
  /** undefined = the previous revision */
  revision?: number;
  timeout: string;
  wait?: boolean;
}

export function rollbackArgv(i: RollbackInput): string[] {
  const argv = ['rollback', i.release];
  if (i.revision !== undefined) argv.push(String(i.revision));
  argv.push(...connectionFlags(i));
  if (i.wait !== false) argv.push(...waitFlags(i.helmMajor));
  argv.push('--timeout', i.timeout);
  return argv;
}

export interface UninstallInput extends Connection {
  helmMajor: HelmMajor;
  release: string;
  timeout: string;
  wait?: boolean;
}

export function uninstallArgv(i: UninstallInput): string[] {
  const argv = ['uninstall', i.release, ...connectionFlags(i)];
  if (i.wait !== false) argv.push(...waitFlags(i.helmMajor));
  argv.push('--timeout', i.timeout);
  return argv;
}

export interface TemplateInput {
  release: string;
  namespace: string;
  chart: ChartSource;
  valuesFile: string;
  /** APIs to assume present (e.g. monitoring.coreos.com/v1/ServiceMonitor) */
  apiVersions?: string[];
  kubeVersion?: string;
}

/** `helm template` (no cluster contact): same values, same chart as the deploy. */
export function templateArgv(i: TemplateInput): string[] {
  const argv = ['template', i.release, i.chart.ref, '--namespace', i.namespace, '--values', i.valuesFile, ...chartFlags(i.chart)];
  for (const a of i.apiVersions ?? []) argv.push('--api-versions', a);
  if (i.kubeVersion) argv.push('--kube-version', i.kubeVersion);
  return argv;
}

/** Read-only release queries. */
export function getValuesArgv(c: Connection & { release: string; revision?: number }): string[] {
  const argv = ['get', 'values', c.release, ...connectionFlags(c), '--output', 'json'];
  if (c.revision !== undefined) argv.push('--revision', String(c.revision));
  return argv;
}
export function getMetadataArgv(c: Connection & { release: string }): string[] {
  return ['get', 'metadata', c.release, ...connectionFlags(c), '--output', 'json'];
}
export function historyArgv(c: Connection & { release: string; max?: number }): string[] {
  return ['history', c.release, ...connectionFlags(c), '--output', 'json', '--max', String(c.max ?? 20)];
}
export function statusArgv(c: Connection & { release: string }): string[] {
  return ['status', c.release, ...connectionFlags(c), '--output', 'json'];
}
// No --logs: helm reads logs only from Pod hooks, and the chart's test is a Job (its log is read with kubectl).
export function testArgv(c: Connection & { release: string; timeout: string }): string[] {
  return ['test', c.release, ...connectionFlags(c), '--timeout', c.timeout];
}

/** `helm get metadata -o json`: helm 4 records the apply method; helm 3 releases have none (= client-side). */
export function applyMethodFromMetadata(json: string): ApplyMethod | undefined {
  try {
    const m = JSON.parse(json) as Record<string, unknown>;
    const v = m.applyMethod ?? m.apply_method ?? m.ApplyMethod;
    if (v === 'ssa' || v === 'server-side' || v === 'serverside') return 'server-side';
    if (v === 'csa' || v === 'client-side' || v === 'clientside') return 'client-side';
    return undefined;
  } catch {
    return undefined;
  }
}

/** A helm repo name that cannot clash with the user's own repos: robustmq-install-<hash of the URL>. */
export function privateRepoName(url: string): string {
  return `robustmq-install-${createHash('sha256').update(url).digest('hex').slice(0, 10)}`;
}

export function repoAddArgv(url: string, opts: { caFile?: string } = {}): string[] {
  const argv = ['repo', 'add', privateRepoName(url), url, '--force-update'];
  if (opts.caFile) argv.push('--ca-file', opts.caFile);
  return argv;
}
export function repoUpdateArgv(url: string): string[] {
  return ['repo', 'update', privateRepoName(url)];
}

export type ChartKind = 'bundled' | 'local' | 'oci' | 'repo';

/**
 * Classify --chart. `isLocal` says whether the path exists on disk (the shell checks; this stays pure).
 * - absent → the chart bundled in the package
 * - oci://… → OCI (the user's registry config applies)
 * - an existing path (dir or .tgz) → local
 * - with --repo-url: NAME or X/NAME → `robustmq-install-<hash>/NAME` after repo add/update
 * - REPO/NAME → a repo the user already configured
 */
export function resolveChart(
  o: { chart?: string; chartVersion?: string; repoUrl?: string; plainHttp?: boolean; caFile?: string; bundledPath: string },
  isLocal: (p: string) => boolean,
): { kind: ChartKind; source: ChartSource; repoUrl?: string } {
  const common = { version: o.chartVersion, plainHttp: o.plainHttp || undefined, caFile: o.caFile };
  if (!o.chart) return { kind: 'bundled', source: { ref: o.bundledPath } };
  if (o.chart.startsWith('oci://')) return { kind: 'oci', source: { ref: o.chart, ...common } };
  if (o.repoUrl) {
    const name = o.chart.split('/').pop()!;
    return { kind: 'repo', source: { ref: `${privateRepoName(o.repoUrl)}/${name}`, ...common }, repoUrl: o.repoUrl };
  }
  if (isLocal(o.chart)) return { kind: 'local', source: { ref: o.chart, version: undefined, plainHttp: undefined, caFile: undefined } };
  return { kind: 'repo', source: { ref: o.chart, ...common } };
}

/** Quote one argument for a POSIX shell (dry-run text and reproduce commands). */
export function shellQuote(arg: string): string {
  if (arg === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function formatCommand(argv: readonly string[], program = 'helm'): string {
  return [program, ...argv].map(shellQuote).join(' ');
}
