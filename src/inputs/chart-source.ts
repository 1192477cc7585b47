// --chart/--chart-version/--repo-url/--ca-file: which chart a run uses, its defaults, and the flags that reproduce it.
import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { bundledChartInfo } from '../chart-info.js';
import type { Context } from '../context.js';
import { ExitCode, UserError, usageError } from '../core/errors.js';
import { resolveChart, type ChartKind, type ChartSource } from '../core/flags.js';
import type { Values } from '../core/values.js';
import { notRegularFile, readInputFile } from '../shell/files.js';
import { readValuesFile } from './values-files.js';

export interface ResolvedChart {
  kind: ChartKind;
  source: ChartSource;
  repoUrl?: string;
  /** shown in the header */
  display: string;
  version?: string;
  /** a local chart directory (bundled or a path), for reading values.yaml */
  localDir?: string;
}

export function resolveChartOption(ctx: Context): ResolvedChart {
  const o = ctx.options;
  const r = resolveChart(
    { chart: o.chart, chartVersion: o.chartVersion, repoUrl: o.repoUrl, plainHttp: o.plainHttp, caFile: o.caFile, bundledPath: ctx.paths.chartDir },
    (p) => existsSync(resolve(ctx.cwd, p)),
  );
  if (o.caFile) checkCaFile(resolve(ctx.cwd, o.caFile), o.caFile);
  if (o.kubeconfig) checkKubeconfig(resolve(ctx.cwd, o.kubeconfig), o.kubeconfig);
  if (r.kind === 'bundled') {
    if (!existsSync(`${ctx.paths.chartDir}/Chart.yaml`)) {
      throw new UserError(`the bundled chart is missing at ${ctx.paths.chartDir}`, { exitCode: ExitCode.error, hint: 'reinstall the package, or pass --chart PATH|TGZ|REPO/NAME|oci://…' });
    }
    const info = bundledChartInfo(ctx.paths.chartDir);
    return { ...r, display: `${info.name ?? 'robustmq'} (bundled)`, version: info.version, localDir: ctx.paths.chartDir };
  }
  if (r.kind === 'local') {
    const abs = resolve(ctx.cwd, o.chart!);
    const st = statSync(abs);
    const isDir = st.isDirectory();
    // helm reads the archive: a FIFO or a device there would hang it
    const odd = isDir ? undefined : notRegularFile(st);
    if (odd) throw usageError(`--chart ${o.chart}: ${odd}`, 'point --chart at a chart directory, a .tgz, REPO/NAME or oci://…');
    if (isDir && !existsSync(`${abs}/Chart.yaml`)) throw usageError(`--chart ${o.chart}: no Chart.yaml in that directory`, 'point --chart at a chart directory, a .tgz, REPO/NAME or oci://…');
    if (isDir) readInputFile(`${abs}/Chart.yaml`, { what: '--chart', shown: `${o.chart}/Chart.yaml`, hint: 'point --chart at a chart directory, a .tgz, REPO/NAME or oci://…' });
    const info = isDir ? bundledChartInfo(abs) : {};
    return { ...r, source: { ...r.source, ref: abs }, display: isDir ? `${info.name ?? basename(abs)} (${o.chart})` : o.chart!, version: info.version, localDir: isDir ? abs : undefined };
  }
  if (r.kind === 'repo' && !r.repoUrl && !o.chart!.includes('/')) {
    throw usageError(`--chart ${o.chart}: no such file or directory, and not REPO/NAME or oci://…`, 'pass a chart path, a .tgz, REPO/NAME (a repo you added), NAME with --repo-url URL, or oci://…');
  }
  return { ...r, display: r.repoUrl ? `${o.chart} from ${r.repoUrl}` : o.chart!, version: o.chartVersion };
}

const CA_HINT = 'pass the CA bundle that signed the registry/repository certificate';

/** helm reads --ca-file only once it reaches the registry, where a wrong file shows up as a TLS failure instead. */
function checkCaFile(abs: string, shown: string): void {
  const text = readInputFile(abs, { what: '--ca-file', shown, hint: CA_HINT });
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw usageError(`--ca-file ${shown}: no PEM certificate in it (no "-----BEGIN CERTIFICATE-----" line)`, CA_HINT);
}

/**
 * kubectl and helm read --kubeconfig, not the CLI: only what would hang or mislead them is refused here (a FIFO blocks
 * both forever). Its content and size are theirs to judge.
 */
function checkKubeconfig(abs: string, shown: string): void {
  let st;
  try {
    st = statSync(abs);
  } catch {
    throw usageError(`--kubeconfig ${shown}: no such file`, 'pass the kubeconfig file of the cluster, or leave --kubeconfig out (KUBECONFIG and ~/.kube/config apply)');
  }
  const odd = notRegularFile(st);
  if (odd) throw usageError(`--kubeconfig ${shown}: ${odd}`, 'pass the kubeconfig file of the cluster, or leave --kubeconfig out (KUBECONFIG and ~/.kube/config apply)');
}

export function loadChartDefaults(chart: ResolvedChart): Values | undefined {
  if (!chart.localDir) return undefined;
  const p = `${chart.localDir}/values.yaml`;
  if (!existsSync(p)) return undefined;
  return readValuesFile(p, 'chart values');
}

/** --chart/--chart-version/--repo-url/… as argv for the reproduce command. */
export function chartReproduceFlags(ctx: Context): string[] {
  const o = ctx.options;
  const out: string[] = [];
  if (o.chart) out.push('--chart', o.chart);
  if (o.chartVersion) out.push('--chart-version', o.chartVersion);
  if (o.repoUrl) out.push('--repo-url', o.repoUrl);
  if (o.plainHttp) out.push('--plain-http');
  if (o.caFile) out.push('--ca-file', o.caFile);
  if (o.helm !== 'helm') out.push('--helm', o.helm);
  if (o.helmWait) out.push('--helm-wait');
  if (o.valuesOut !== './robustmq-values.yaml' && ctx.args.command !== 'render') out.push('--values-out', o.valuesOut);
  return out;
}
