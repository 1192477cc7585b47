// `robustmq-install [install]`: the wizard (TTY, no --preset) or non-interactive planning (--preset), then either
// --dry-run (print the overlay and the exact helm commands; no cluster, no file) or: confirm, write the overlay,
// hand the Plan to the deploy flow (src/flows/deploy.ts).
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { Context } from '../context.js';
import { AbortedError, ExitCode, usageError } from '../core/errors.js';
import type { Facts } from '../core/facts.js';
import { generateCredentials } from '../core/overlay.js';
import { plan as makePlan, type Plan, type PlanInput } from '../core/plan.js';
import type { Values } from '../core/values.js';
import { summarizePreset } from '../core/presets.js';
import { validatePlanLocally } from '../flows/chart-render.js';
import { gatherFacts, helmInfo } from '../flows/cluster.js';
import { assertNoProblems, planJson, printPlan } from '../flows/plan-report.js';
import { loadChartDefaults, resolveChartOption } from '../inputs/chart-source.js';
import { planInput } from '../inputs/plan-input.js';
import { loadPreset } from '../inputs/values-files.js';
import { assertReplaceable, writeSafely } from '../shell/files.js';
import { chooseByWizard, offerRenderWhenUnreachable, RENDER_DIR, type PromptDriver } from './wizard.js';

export async function run(ctx: Context, driver?: PromptDriver): Promise<number> {
  const o = ctx.options;
  const t = ctx.term;
  if (!o.preset && !t.interactive) {
    throw usageError(
      `--preset is required ${t.isTTY ? 'when CI is set' : 'without a terminal'} (the wizard needs a TTY)`,
      'e.g. robustmq-install --preset dev   (dev, test, prod or a values file; robustmq-install presets shows them)',
    );
  }
  const offline = o.dryRun;
  const chart = resolveChartOption(ctx);
  const helm = await helmInfo(ctx);
  let facts: Facts = await gatherFacts(ctx, { offline });

  let preset: PlanInput['preset'];
  let answers: Values | undefined;
  let release = o.release;
  let namespace = o.namespace;
  const wizard = !o.preset;
  if (wizard && !offline && !facts.reachable) {
    // answering every question only to fail preflight wastes the user's time: offer render (or stop) first
    await offerRenderWhenUnreachable(ctx, facts, driver);
    const { run: render } = await import('./render.js');
    return render({ ...ctx, options: { ...o, outDir: RENDER_DIR } });
  }
  if (o.preset) preset = loadPreset(ctx, o.preset);
  else {
    const w = await chooseByWizard(ctx, { facts, chart, offline, driver });
    ({ preset, answers, release, namespace } = w);
    // the release state belongs to the namespace/release the wizard settled on
    if (!offline && (release !== o.release || namespace !== o.namespace)) facts = await gatherFacts(ctx, { offline, release, namespace });
  }
  const valuesFile = resolve(ctx.cwd, o.valuesOut);
  const makeInput = (f: Facts) => planInput(ctx, { command: 'install', facts: f, helm, chart, valuesFile, preset, answers, offline, release, namespace });
  let p = makePlan(makeInput(facts));

  if (o.dryRun) {
    assertNoProblems(p);
    p = await validatePlanLocally(ctx, p, helm);
    if (o.output === 'json') t.writeJson(planJson(p, helm, { dryRun: true }));
    else {
      printPlan(ctx, p, helm, { title: 'Dry run: nothing was contacted or written. The real run would do this:' });
      t.line('');
      t.line(`${wizard ? 'Equivalent command' : 'Reproduce'}: ${p.reproduceCommand}`);
    }
    return ExitCode.ok;
  }

  // the wizard may have changed release/namespace: every later step sees them
  const rctx: Context = { ...ctx, options: { ...o, release, namespace } };
  let current = facts;
  if (current.existingRelease?.status.startsWith('pending-')) {
    // guided recovery (history + offer a rollback to the last deployed revision); afterwards the release exists
    const { recoverPending } = await import('../flows/release.js');
    await recoverPending(rctx, helm, release, namespace);
    current = await gatherFacts(rctx, { offline: false, release, namespace });
    p = makePlan(makeInput(current));
  }
  assertNoProblems(p);
  if (wizard) {
    t.line('');
    t.line(`Equivalent command: ${t.style('cyan', p.reproduceCommand)}`);
  }
  guardUnattended(rctx, p);
  assertReplaceable(rctx, o.valuesOut, 'overlay');

  // validate before asking: preflight proves the plan against the cluster, then the confirm
  const { gatherPreflight, printResults, assertPreflight } = await import('../flows/preflight.js');
  if (!t.json) t.line(t.style('bold', 'Preflight'));
  const { results } = await gatherPreflight(rctx, { mode: 'install', plan: p, helm, facts: current, smoke: !o.skipSmoke });
  if (!t.json) printResults(rctx, results);
  assertPreflight(rctx, results);
  if (!t.json) {
    for (const n of p.notes) t.line(`${t.style('dim', '•')} ${n}`);
    for (const w of p.warnings) t.warn(w);
  }

  await confirmTarget(rctx, p, current, loadChartDefaults(chart));
  const bak = await writeSafely(rctx, o.valuesOut, p.overlayYaml, 'overlay');
  if (!t.json) t.ok(`wrote ${valuesFile}${bak ? ` (previous kept as ${bak})` : ''}`);
  const credentials = generateCredentials(ctx.randomBytes ?? ((n) => randomBytes(n)));
  const { deploy } = await import('../flows/deploy.js');
  return deploy(rctx, { plan: p, helm, facts: current, credentials, rollbackOnFailure: false, preflightDone: true });
}

/** Without a TTY (or with --yes) nobody confirms: prod then needs both --yes and --kube-context naming the cluster. */
export function guardUnattended(ctx: Context, p: Plan): void {
  const o = ctx.options;
  if (p.preset !== 'prod' || (ctx.term.interactive && !o.yes)) return;
  if (!o.yes) throw usageError('the prod preset without a terminal needs --yes and --kube-context', 'e.g. --preset prod --yes --kube-context my-prod-cluster');
  if (!o.kubeContext && !ctx.term.interactive) {
    throw usageError('the prod preset without a terminal needs --kube-context as well as --yes', 'name the cluster explicitly: --yes --kube-context NAME');
  }
}

/**
 * The summary confirm: context, API server URL, namespace. Prod needs the context name typed; without a TTY (or
 * in CI) prod needs --yes and --kube-context. --yes skips the question.
 */
export async function confirmTarget(ctx: Context, p: Plan, facts: Facts, chartDefaults?: Record<string, unknown>): Promise<void> {
  const t = ctx.term;
  const o = ctx.options;
  const prod = p.preset === 'prod';
  const context = facts.context ?? o.kubeContext;
  const s = summarizePreset(p.preset, p.overlay, (chartDefaults ?? {}) as never);
  const lines = (
    [
      ['context', context ?? '(kubeconfig current context)'],
      ['API server', facts.server ?? '(unknown)'],
      ['namespace', p.namespace],
      ['release', `${p.release} (preset ${p.preset})`],
      ['topology', `${s.topology}, ${s.replicas}`],
      ['storage', s.storage],
      ['overlay', p.valuesFile],
    ] as const
  ).map(([k, v]) => `${`${k}:`.padEnd(12)}${v}`);
  if (o.yes || !t.interactive) {
    guardUnattended(ctx, p);
    return;
  }
  t.line('');
  t.line(t.style('bold', 'About to install:'));
  for (const l of lines) t.line(`  ${l}`);
  const pr = await t.prompts();
  if (prod) {
    const expected = context ?? p.release;
    const typed = await pr.input(
      {
        message: `prod: type the ${context ? 'context' : 'release'} name (${expected}) to continue`,
        validate: (v: string) => (v.trim() === expected || v.trim() === '' ? true : `that is not ${expected}`),
      },
      t.promptContext,
    );
    if (typed.trim() !== expected) throw new AbortedError('not confirmed');
  } else {
    const ok = await pr.confirm({ message: 'Install?', default: true }, t.promptContext);
    if (!ok) throw new AbortedError('not confirmed');
  }
}
