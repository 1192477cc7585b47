// `robustmq-install upgrade`: the release's current values (`helm get values`) are the base; --preset/-f/--set change
// them, or, on a terminal without any of those (and without --yes), the upgrade wizard does (src/commands/wizard.ts). Shows a values-level plan (current → new, changed keys only, grouped by question), refuses install-only keys
// with the way out, runs preflight, then the deploy flow with reset-then-reuse semantics and rollback on failure
// (default on; --no-rollback-on-failure keeps the failed revision).
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { Context } from '../context.js';
import { ExitCode, UserError, usageError } from '../core/errors.js';
import { unreachableHint } from '../core/preflight.js';
import type { Facts } from '../core/facts.js';
import { getValuesArgv } from '../core/flags.js';
import { generateCredentials } from '../core/overlay.js';
import { plan as makePlan } from '../core/plan.js';
import { formatValuesPlan, formatViolation, installOnlyViolations, valuesPlan } from '../core/upgrade-plan.js';
import { deepMerge, isMap, type Values } from '../core/values.js';
import { run as runHelm, type HelmInfo } from '../shell/helm.js';
import { guardUnattended } from './install.js';
import { validatePlanLocally } from '../flows/chart-render.js';
import { gatherFacts, helmInfo } from '../flows/cluster.js';
import { assertNoProblems, planJson, printPlan } from '../flows/plan-report.js';
import { loadChartDefaults, resolveChartOption } from '../inputs/chart-source.js';
import { planInput } from '../inputs/plan-input.js';
import { loadPreset } from '../inputs/values-files.js';
import { assertReplaceable, writeSafely } from '../shell/files.js';
import { chooseForUpgrade, type PromptDriver } from './wizard.js';

export async function releaseValues(ctx: Context, helm: HelmInfo, o: { all: boolean; revision?: number }): Promise<Values> {
  const argv = getValuesArgv({ release: ctx.options.release, namespace: ctx.options.namespace, kubeContext: ctx.options.kubeContext, kubeconfig: ctx.options.kubeconfig, ...(o.revision ? { revision: o.revision } : {}) });
  if (o.all) argv.push('--all');
  const r = await runHelm(helm.path, argv, { env: ctx.term.childEnv, signal: ctx.signal });
  if (r.exitCode !== 0) throw new UserError(`helm get values failed: ${r.stderr.trim()}`, { exitCode: ExitCode.error });
  const v = JSON.parse(r.stdout.trim() || 'null') as unknown;
  return isMap(v) ? v : {};
}

/** The release must exist and be reachable; a pending-* release gets the guided recovery first. */
export async function requireRelease(ctx: Context, helm: HelmInfo, what: string): Promise<Facts> {
  const o = ctx.options;
  let facts = await gatherFacts(ctx, { offline: false });
  if (!facts.reachable) {
    throw new UserError(`cannot reach the Kubernetes API${facts.context ? ` of context ${facts.context}` : ''}: ${facts.unreachableReason ?? 'no answer'}`, {
      exitCode: ExitCode.preflight,
      hint: unreachableHint('check --kube-context/--kubeconfig and the network path to the API server'),
    });
  }
  if (!facts.existingRelease) {
    throw new UserError(`release ${o.release} not found in namespace ${o.namespace}${facts.context ? ` (context ${facts.context})` : ''}: nothing to ${what}`, {
      exitCode: ExitCode.preflight,
      hint: 'check --release/-n/--kube-context, or install first: robustmq-install --preset dev',
    });
  }
  if (facts.existingRelease.status.startsWith('pending-')) {
    if (o.dryRun) throw new UserError(`release ${o.release} is ${facts.existingRelease.status}`, { exitCode: ExitCode.preflight, hint: `run without --dry-run for the guided recovery, or robustmq-install rollback` });
    const { recoverPending } = await import('../flows/release.js');
    await recoverPending(ctx, helm, o.release, o.namespace);
    facts = await gatherFacts(ctx, { offline: false });
  }
  return facts;
}

/** The wizard runs when nobody said what to change and someone can answer. */
export function upgradeByWizard(ctx: Context): boolean {
  const o = ctx.options;
  return ctx.term.interactive && !ctx.term.json && !o.yes && !o.preset && o.values.length === 0 && o.set.length === 0;
}

export async function run(ctx: Context, driver?: PromptDriver): Promise<number> {
  const o = ctx.options;
  const t = ctx.term;
  const chart = resolveChartOption(ctx);
  const helm = await helmInfo(ctx);
  const facts = await requireRelease(ctx, helm, 'upgrade');
  const rel = facts.existingRelease!;
  const current = await releaseValues(ctx, helm, { all: false });
  const computed = await releaseValues(ctx, helm, { all: true });
  const preset = o.preset ? loadPreset(ctx, o.preset) : undefined;
  const wizard = upgradeByWizard(ctx);
  const answers = wizard ? (await chooseForUpgrade(ctx, { facts, chart, userValues: current, computed, revision: rel.revision, driver })).answers : undefined;
  const valuesFile = resolve(ctx.cwd, o.valuesOut);
  const p = makePlan(planInput(ctx, { command: 'upgrade', facts, helm, chart, valuesFile, preset, answers, currentValues: current, offline: false }));
  assertNoProblems(p);

  const chartDefaults = loadChartDefaults(chart);
  const next = chartDefaults ? deepMerge(chartDefaults, p.overlay) : deepMerge(computed, p.overlay);
  const violations = installOnlyViolations(computed, next);
  if (violations.length) {
    const first = violations[0]!;
    const more = violations.length > 1 ? ` (and ${violations.slice(1).map((v) => v.key).join(', ')})` : '';
    throw usageError(`${formatViolation(first)}${more}`, first.wayOut);
  }

  const groups = valuesPlan(current, p.overlay);
  const chartChange = rel.chartVersion && chart.version && rel.chartVersion !== chart.version ? `, chart ${rel.chartVersion} → ${chart.version}` : chart.version ? `, chart ${chart.version}` : '';
  if (wizard && groups.length === 0 && !(rel.chartVersion && chart.version && rel.chartVersion !== chart.version) && rel.status === 'deployed') {
    // every answer kept what runs: a new revision would change nothing
    t.line('');
    t.ok(`no value changes: release ${p.release} stays at revision ${rel.revision}; nothing was written`);
    return ExitCode.ok;
  }
  if (wizard) t.line('');
  if (o.dryRun) {
    const checked = await validatePlanLocally(ctx, p, helm);
    if (t.json) t.writeJson(planJson(checked, helm, { dryRun: true, fromRevision: rel.revision, valuesPlan: groups }));
    else {
      t.line(t.style('bold', `Upgrade plan for release ${p.release} (revision ${rel.revision}${chartChange}), values current → new:`));
      for (const l of formatValuesPlan(groups)) t.line(l);
      t.line('');
      printPlan(ctx, checked, helm, { title: 'Dry run: nothing was changed or written. The real run would do this:' });
    }
    return ExitCode.ok;
  }

  guardUnattended(ctx, p);
  assertReplaceable(ctx, o.valuesOut, 'overlay');
  if (!t.json) {
    t.line(t.style('bold', `Upgrade plan for release ${p.release} in ${p.namespace} (revision ${rel.revision}${chartChange}), values current → new:`));
    for (const l of formatValuesPlan(groups)) t.line(l);
    for (const n of p.notes) t.line(`${t.style('dim', '•')} ${n}`);
    for (const w of p.warnings) t.warn(w);
  }

  const { gatherPreflight, printResults, assertPreflight } = await import('../flows/preflight.js');
  if (!t.json) t.line(t.style('bold', 'Preflight'));
  const { results } = await gatherPreflight(ctx, { mode: 'upgrade', plan: p, helm, facts, smoke: !o.skipSmoke });
  if (!t.json) printResults(ctx, results);
  assertPreflight(ctx, results);

  if (t.interactive && !o.yes) {
    const pr = await t.prompts();
    t.line(`  context ${facts.context ?? '(current)'} (${facts.server ?? 'unknown server'}), namespace ${p.namespace}, release ${p.release}`);
    if (p.preset === 'prod') {
      const expected = facts.context ?? p.release;
      const typed = await pr.input({ message: `prod: type the ${facts.context ? 'context' : 'release'} name (${expected}) to upgrade` }, t.promptContext);
      if (typed.trim() !== expected) throw new UserError('not confirmed', { exitCode: ExitCode.aborted });
    } else if (!(await pr.confirm({ message: `Upgrade release ${p.release}?`, default: true }, t.promptContext))) {
      throw new UserError('not confirmed', { exitCode: ExitCode.aborted });
    }
  }
  const bak = await writeSafely(ctx, o.valuesOut, p.overlayYaml, 'overlay');
  if (!t.json) t.ok(`wrote ${valuesFile}${bak ? ` (previous kept as ${bak})` : ''}`);
  const credentials = generateCredentials(ctx.randomBytes ?? ((n) => randomBytes(n)));
  const { deploy } = await import('../flows/deploy.js');
  return deploy(ctx, {
    plan: p,
    helm,
    facts,
    credentials,
    rollbackOnFailure: o.rollbackOnFailure ?? true,
    ...(rel.status === 'deployed' ? { rollbackTo: rel.revision } : {}),
    preflightDone: true,
  });
}
