// IO helpers shared by install/render/upgrade/preflight: read presets and values files, resolve the chart, detect
// helm and facts, build the PlanInput, print a plan, write the overlay safely (.bak, never silently).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { dirname, isAbsolute, resolve, basename } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Context } from '../context.js';
import { ExitCode, UserError, usageError } from '../core/errors.js';
import type { Facts, FactsRequest } from '../core/facts.js';
import { formatCommand, resolveChart, type ChartKind, type ChartSource } from '../core/flags.js';
import { CLI_VERSION } from '../core/meta.js';
import type { Plan, PlanInput } from '../core/plan.js';
import { PRESET_NAMES, presetRef, type PresetName } from '../core/presets.js';
import { isMap, type Values } from '../core/values.js';
import { detectHelm, type HelmInfo } from '../shell/helm.js';
import { bundledChartInfo } from '../chart-info.js';

/** Read a YAML map of values. `shown` is the path as the user typed it (for messages). */
export function readValuesFile(path: string, what: string, shown = path): Values {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw usageError(`${what} ${shown}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`, what === 'preset' ? `use one of ${PRESET_NAMES.join(', ')} or a values file` : 'check the path');
  }
  const prebuilt = parsedAtBuild(text);
  if (prebuilt) return prebuilt;
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true });
  } catch (e) {
    const first = ((e as Error).message ?? '').split('\n')[0];
    throw usageError(`${what} ${shown} is not valid YAML: ${first}`, 'fix the file (helm needs a YAML map of values)');
  }
  if (doc === null || doc === undefined) return {};
  if (!isMap(doc)) throw usageError(`${what} ${shown} must be a YAML map of values, not a ${Array.isArray(doc) ? 'list' : typeof doc}`, 'e.g. "topology: split"');
  return doc;
}

// The bundled chart's values.yaml (600+ commented lines) and the presets are parsed at build time
// (scripts/build.mjs): parsing them at run time was a tenth of `render` (bench P2). Keyed by the text's hash, so an
// edited file is parsed as usual; absent outside the bundle (tests run the sources).
let prebuiltValues: Record<string, Values> | null | undefined;
function parsedAtBuild(text: string): Values | undefined {
  if (prebuiltValues === undefined) {
    try {
      prebuiltValues = JSON.parse(readFileSync(new URL('../values-cache.json', import.meta.url), 'utf8')) as Record<string, Values>;
    } catch {
      prebuiltValues = null;
    }
  }
  const hit = prebuiltValues?.[createHash('sha256').update(text).digest('hex')];
  return hit ? structuredClone(hit) : undefined;
}

export function loadPreset(ctx: Context, arg: string): { name: string; source: string; values: Values } {
  const ref = presetRef(arg, ctx.paths.presetsDir);
  if (!ref.builtin) {
    const p = resolve(ctx.cwd, ref.path);
    if (!existsSync(p)) {
      throw usageError(`unknown preset ${JSON.stringify(arg)}: not one of ${PRESET_NAMES.join(', ')} and no such file`, 'robustmq-install presets lists them');
    }
    return { name: arg, source: arg, values: readValuesFile(p, 'preset', arg) };
  }
  return { name: ref.name, source: ref.name, values: readValuesFile(ref.path, 'preset') };
}

export function loadBuiltinPresets(ctx: Context): Record<PresetName, Values> {
  return Object.fromEntries(PRESET_NAMES.map((n) => [n, readValuesFile(`${ctx.paths.presetsDir}/${n}.yaml`, 'preset')])) as Record<PresetName, Values>;
}

export function loadValuesFiles(ctx: Context): { path: string; values: Values }[] {
  return ctx.options.values.map((p) => ({ path: p, values: readValuesFile(resolve(ctx.cwd, p), 'values file', p) }));
}

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
  if (o.caFile && !existsSync(resolve(ctx.cwd, o.caFile))) throw usageError(`--ca-file ${o.caFile}: no such file`, 'pass the CA bundle that signed the registry/repository certificate');
  if (r.kind === 'bundled') {
    if (!existsSync(`${ctx.paths.chartDir}/Chart.yaml`)) {
      throw new UserError(`the bundled chart is missing at ${ctx.paths.chartDir}`, { exitCode: ExitCode.error, hint: 'reinstall the package, or pass --chart PATH|TGZ|REPO/NAME|oci://…' });
    }
    const info = bundledChartInfo(ctx.paths.chartDir);
    return { ...r, display: `${info.name ?? 'robustmq'} (bundled)`, version: info.version, localDir: ctx.paths.chartDir };
  }
  if (r.kind === 'local') {
    const abs = resolve(ctx.cwd, o.chart!);
    const isDir = statSync(abs).isDirectory();
    if (isDir && !existsSync(`${abs}/Chart.yaml`)) throw usageError(`--chart ${o.chart}: no Chart.yaml in that directory`, 'point --chart at a chart directory, a .tgz, REPO/NAME or oci://…');
    const info = isDir ? bundledChartInfo(abs) : {};
    return { ...r, source: { ...r.source, ref: abs }, display: isDir ? `${info.name ?? basename(abs)} (${o.chart})` : o.chart!, version: info.version, localDir: isDir ? abs : undefined };
  }
  if (r.kind === 'repo' && !r.repoUrl && !o.chart!.includes('/')) {
    throw usageError(`--chart ${o.chart}: no such file or directory, and not REPO/NAME or oci://…`, 'pass a chart path, a .tgz, REPO/NAME (a repo you added), NAME with --repo-url URL, or oci://…');
  }
  return { ...r, display: r.repoUrl ? `${o.chart} from ${r.repoUrl}` : o.chart!, version: o.chartVersion };
}

export function loadChartDefaults(chart: ResolvedChart): Values | undefined {
  if (!chart.localDir) return undefined;
  const p = `${chart.localDir}/values.yaml`;
  if (!existsSync(p)) return undefined;
  return readValuesFile(p, 'chart values');
}

export async function helmInfo(ctx: Context): Promise<HelmInfo> {
  return detectHelm(ctx.options.helm, { env: ctx.term.childEnv, signal: ctx.signal });
}

/** What the commands that act on an existing release need first: helm, and a cluster that answers (else exit 3). */
export async function helmAndReachableCluster(ctx: Context): Promise<{ helm: HelmInfo; facts: Facts }> {
  const helm = await helmInfo(ctx);
  const facts = await gatherFacts(ctx, { offline: false });
  if (!facts.reachable) {
    throw new UserError(`cannot reach the Kubernetes API${facts.context ? ` of context ${facts.context}` : ''}: ${facts.unreachableReason ?? 'no answer'}`, { exitCode: ExitCode.preflight, hint: 'check --kube-context/--kubeconfig' });
  }
  return { helm, facts };
}

export const OFFLINE_REASON = 'no cluster contact (--dry-run/render)';

export async function gatherFacts(ctx: Context, o: { offline: boolean; namespace?: string; release?: string }): Promise<Facts> {
  const req: FactsRequest = {
    namespace: o.namespace ?? ctx.options.namespace,
    release: o.release ?? ctx.options.release,
    kubeContext: ctx.options.kubeContext,
    kubeconfig: ctx.options.kubeconfig,
    helm: ctx.options.helm,
    env: ctx.term.childEnv,
    signal: ctx.signal,
    offline: o.offline,
  };
  const detect = ctx.detectFacts ?? (await import('../shell/facts.js')).detectFacts;
  const facts = await detect(req);
  // offline, the reason nothing is known is always the same (whatever the kubeconfig said)
  return o.offline ? { ...facts, reachable: false, unreachableReason: OFFLINE_REASON } : facts;
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
  if (o.valuesOut !== './robustmq-values.yaml' && ctx.args.command !== 'render') out.push('--values-out', o.valuesOut);
  return out;
}

export function planInput(
  ctx: Context,
  o: {
    command: PlanInput['command'];
    facts: Facts;
    helm: HelmInfo;
    chart: ResolvedChart;
    valuesFile: string;
    preset?: PlanInput['preset'];
    answers?: Values;
    currentValues?: Values;
    offline: boolean;
    release?: string;
    namespace?: string;
  },
): PlanInput {
  const opts = ctx.options;
  return {
    command: o.command,
    preset: o.preset,
    valuesFiles: loadValuesFiles(ctx),
    sets: opts.set,
    answers: o.answers,
    chartDefaults: loadChartDefaults(o.chart),
    currentValues: o.currentValues,
    facts: { ...o.facts, helmMajor: o.helm.major },
    flags: {
      release: o.release ?? opts.release,
      namespace: o.namespace ?? opts.namespace,
      kubeContext: opts.kubeContext,
      kubeconfig: opts.kubeconfig,
      registry: opts.registry,
      timeout: opts.timeout,
      valuesFile: o.valuesFile,
      chart: o.chart,
      reproduceExtra: chartReproduceFlags(ctx),
      offline: o.offline,
    },
    meta: { cliVersion: CLI_VERSION, date: (ctx.now?.() ?? new Date()).toISOString() },
  };
}

/** Throws the plan's problems as one UserError: input problems → exit 2, else preflight → exit 3. */
export function assertNoProblems(plan: Plan): void {
  if (plan.problems.length === 0) return;
  const input = plan.problems.filter((p) => p.kind === 'input');
  const list = input.length ? input : plan.problems;
  const first = list[0]!;
  const more = list.length > 1 ? ` (and ${list.length - 1} more: ${list.slice(1).map((p) => p.message).join('; ')})` : '';
  throw new UserError(`${first.message}${more}`, { exitCode: input.length ? ExitCode.usage : ExitCode.preflight, hint: first.hint });
}

/** The dry-run / plan text: notes, overlay, the exact helm commands. Human text → stderr. */
export function printPlan(ctx: Context, plan: Plan, helm: HelmInfo, o: { title: string }): void {
  const t = ctx.term;
  t.line(t.style('bold', o.title));
  t.line(`  release ${plan.release}, namespace ${plan.namespace}, preset ${plan.preset}, helm ${helm.version}`);
  for (const n of plan.notes) t.line(`  ${t.style('dim', '•')} ${n}`);
  for (const w of plan.warnings) t.warn(w);
  t.line('');
  t.line(t.style('bold', `Overlay (${plan.valuesFile}):`));
  t.line(plan.overlayYaml.trimEnd());
  t.line('');
  t.line(t.style('bold', 'Commands:'));
  t.line(`  # Secret ${plan.secret.name} in namespace ${plan.namespace}, created if absent: keys ${plan.secret.keys.join(', ')} (random; never printed)`);
  for (const s of plan.helm) {
    t.line(`  # ${s.purpose}`);
    t.line(`  ${formatCommand(s.argv, helm.path === 'helm' ? 'helm' : helm.path)}`);
  }
}

export function planJson(plan: Plan, helm: HelmInfo, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    action: plan.action,
    release: plan.release,
    namespace: plan.namespace,
    preset: plan.preset,
    helm: { path: helm.path, version: helm.version, major: helm.major },
    valuesFile: plan.valuesFile,
    overlay: plan.overlay,
    overlayYaml: plan.overlayYaml,
    commands: plan.helm.map((s) => ({ purpose: s.purpose, argv: [helm.path, ...s.argv], mutates: s.mutates })),
    secret: plan.secret,
    checks: plan.checks,
    notes: plan.notes,
    warnings: plan.warnings,
    problems: plan.problems,
    reproduceCommand: plan.reproduceCommand,
    ...extra,
  };
}

/** Fail early (before any cluster work) when a file exists and nobody can be asked about replacing it. */
export function assertReplaceable(ctx: Context, path: string, what: string): void {
  const abs = isAbsolute(path) ? path : resolve(ctx.cwd, path);
  if (existsSync(abs) && statSync(abs).isDirectory()) throw usageError(`${what} ${path} is a directory`, 'give a file path');
  if (existsSync(abs) && !ctx.options.yes && !ctx.term.interactive) {
    throw usageError(`${what} ${path} already exists`, 'pass --yes to replace it (the old file is kept as .bak), or choose another path');
  }
}

/**
 * Write a file, never silently over an existing one: with an existing file, ask (TTY) or require --yes; the old
 * content is kept as FILE.bak. Returns the .bak path when one was made.
 */
export async function writeSafely(ctx: Context, path: string, content: string, what: string): Promise<string | undefined> {
  const abs = isAbsolute(path) ? path : resolve(ctx.cwd, path);
  if (existsSync(abs) && statSync(abs).isDirectory()) throw usageError(`${what} ${path} is a directory`, 'give a file path');
  try {
    mkdirSync(dirname(abs), { recursive: true });
  } catch (e) {
    throw new UserError(`cannot create the directory for ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { exitCode: ExitCode.usage, hint: 'choose a writable path' });
  }
  let bak: string | undefined;
  if (existsSync(abs)) {
    const old = readFileSync(abs, 'utf8');
    if (old === content) return undefined;
    if (!ctx.options.yes) {
      if (!ctx.term.interactive) {
        throw usageError(`${what} ${path} already exists`, 'pass --yes to replace it (the old file is kept as .bak), or choose another path');
      }
      const { confirm } = await ctx.term.prompts();
      const ok = await confirm({ message: `${path} exists. Replace it (the old one is kept as ${basename(path)}.bak)?`, default: false }, ctx.term.promptContext);
      if (!ok) throw new UserError(`kept the existing ${path}`, { exitCode: ExitCode.aborted, hint: 'choose another path with --values-out/--out-dir' });
    }
    bak = `${abs}.bak`;
    copyFileSync(abs, bak);
  }
  const tmp = `${abs}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, content, { mode: 0o644 });
    renameSync(tmp, abs);
  } catch (e) {
    throw new UserError(`cannot write ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { exitCode: ExitCode.error, hint: 'choose a writable path' });
  }
  return bak;
}
