// `robustmq-install [install]`: the wizard (TTY, no --preset) or non-interactive planning (--preset), then either
// --dry-run (print the overlay and the exact helm commands; no cluster, no file) or: confirm, write the overlay,
// hand the Plan to the deploy flow (src/flows/deploy.ts).
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { Context } from '../context.js';
import { AbortedError, ExitCode, usageError } from '../core/errors.js';
import type { Facts } from '../core/facts.js';
import { generateCredentials } from '../core/overlay.js';
import { plan as makePlan, type Plan } from '../core/plan.js';
import { summarizePreset } from '../core/presets.js';
import { assertNoProblems, gatherFacts, helmInfo, loadChartDefaults, loadPreset, planInput, planJson, printPlan, resolveChartOption, writeSafely } from './shared.js';
import { chooseByWizard, type PromptDriver } from './wizard.js';

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
  const facts: Facts = await gatherFacts(ctx, { offline });

  let preset;
  let answers;
  let release = o.release;
  let namespace = o.namespace;
  const wizard = !o.preset;
  if (o.preset) preset = loadPreset(ctx, o.preset);
  else {
    const w = await chooseByWizard(ctx, { facts, chart, offline, driver });
    ({ preset, answers, release, namespace } = w);
  }
  const valuesFile = resolve(ctx.cwd, o.valuesOut);
  const p = makePlan(planInput(ctx, { command: 'install', facts, helm, chart, valuesFile, preset, answers, offline, release, namespace }));

  if (o.dryRun) {
    assertNoProblems(p);
    if (o.output === 'json') t.writeJson(planJson(p, helm, { dryRun: true }));
    else {
      printPlan(ctx, p, helm, { title: 'Dry run: nothing was contacted or written. The real run would do this:' });
      t.line('');
      t.line(`${wizard ? 'Equivalent command' : 'Reproduce'}: ${p.reproduceCommand}`);
    }
    return ExitCode.ok;
  }

  assertNoProblems(p);
  if (wizard) {
    t.line('');
    t.line(`Equivalent command: ${t.style('cyan', p.reproduceCommand)}`);
  }
  await confirmTarget(ctx, p, facts, loadChartDefaults(chart));
  const bak = await writeSafely(ctx, o.valuesOut, p.overlayYaml, 'overlay');
  t.ok(`wrote ${valuesFile}${bak ? ` (previous kept as ${bak})` : ''}`);
  const credentials = generateCredentials(ctx.randomBytes ?? ((n) => randomBytes(n)));
  const { deploy } = await import('../flows/deploy.js');
  return deploy({ ...ctx, options: { ...o, release, namespace } }, { plan: p, helm, facts, credentials, rollbackOnFailure: false });
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
  const lines = [
    `context:   ${context ?? '(kubeconfig current context)'}`,
    `API server: ${facts.server ?? '(unknown)'}`,
    `namespace: ${p.namespace}`,
    `release:   ${p.release} (preset ${p.preset})`,
    `topology:  ${s.topology}, ${s.replicas}`,
    `storage:   ${s.storage}`,
    `overlay:   ${p.valuesFile}`,
  ];
  if (o.yes) {
    if (prod && !o.kubeContext && !t.interactive) {
      throw usageError('the prod preset without a terminal needs --kube-context as well as --yes', 'name the cluster explicitly: --yes --kube-context NAME');
    }
    return;
  }
  if (!t.interactive) {
    if (prod) throw usageError('the prod preset without a terminal needs --yes and --kube-context', 'e.g. --preset prod --yes --kube-context my-prod-cluster');
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
