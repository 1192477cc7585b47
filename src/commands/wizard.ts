// Runs the wizard: asks QUESTIONS (src/core/questions.ts) through a PromptDriver. The driver is injectable (tests),
// the default one uses @inquirer/prompts rendering on stderr. Never called without an interactive terminal.
import type { Context } from '../context.js';
import type { Facts } from '../core/facts.js';
import { PRESET_NAMES, type PresetName } from '../core/presets.js';
import { initialState, QUESTIONS, type Choice, type Question, type WizardState } from '../core/questions.js';
import { flatten, mergeAll, setsToValues, type Values } from '../core/values.js';
import { loadChartDefaults, type ResolvedChart } from '../inputs/chart-source.js';
import { loadBuiltinPresets, loadValuesFiles } from '../inputs/values-files.js';

export interface PromptDriver {
  select(cfg: { message: string; choices: Choice[]; default: string }): Promise<string>;
  input(cfg: { message: string; default: string; validate?: (v: string) => true | string }): Promise<string>;
  confirm(cfg: { message: string; default: boolean }): Promise<boolean>;
}

export async function inquirerDriver(ctx: Context): Promise<PromptDriver> {
  const p = await ctx.term.prompts();
  const c = ctx.term.promptContext;
  return {
    select: (cfg) => p.select({ message: cfg.message, choices: cfg.choices, default: cfg.default, pageSize: 10 }, c),
    input: (cfg) => p.input({ message: cfg.message, default: cfg.default, validate: cfg.validate }, c),
    confirm: (cfg) => p.confirm({ message: cfg.message, default: cfg.default }, c),
  };
}

/** Ask one question (exported for tests): returns the new state. */
export async function ask(q: Question, s: WizardState, d: PromptDriver): Promise<WizardState> {
  const message = q.message(s);
  const def = q.default(s);
  if (q.type === 'confirm') return q.apply(await d.confirm({ message, default: def === true }), s);
  if (q.type === 'select' && q.choices) {
    const choices = q.choices(s);
    if (choices.length > 0) {
      const value = await d.select({ message, choices, default: choices.some((c) => c.value === def) ? String(def) : choices[0]!.value });
      return q.apply(value, s);
    }
  }
  // input (or a select with nothing to choose from: free text)
  const value = await d.input({ message, default: String(def), validate: q.validate ? (v) => q.validate!(v.trim(), s) : undefined });
  return q.apply(value.trim(), s);
}

/** Run every question in order; skipped ones with a reason go to onSkip. */
export async function runQuestions(s: WizardState, d: PromptDriver, onSkip: (q: Question, why: string) => void = () => {}): Promise<WizardState> {
  let state = s;
  for (const q of QUESTIONS) {
    const when = q.when ? q.when(state) : true;
    if (when === false) continue;
    if (typeof when === 'string') {
      onSkip(q, when);
      continue;
    }
    state = await ask(q, state, d);
  }
  return state;
}

export interface WizardResult {
  preset: { name: string; source: string; values: Values };
  answers: Values;
  release: string;
  namespace: string;
  state: WizardState;
}

export async function chooseByWizard(ctx: Context, o: { facts: Facts; chart: ResolvedChart; offline: boolean; driver?: PromptDriver }): Promise<WizardResult> {
  const t = ctx.term;
  const presets = loadBuiltinPresets(ctx);
  const files = mergeAll(...loadValuesFiles(ctx).map((f) => f.values));
  const fixed = new Set(flatten(setsToValues(ctx.options.set)).keys());
  const s0 = initialState({
    facts: o.facts,
    presets,
    files,
    chartDefaults: loadChartDefaults(o.chart) ?? {},
    fixed,
    release: ctx.options.release,
    namespace: ctx.options.namespace,
  });
  t.line(t.style('bold', 'RobustMQ on Kubernetes'));
  if (o.facts.reachable) {
    t.line(t.style('dim', `cluster: ${o.facts.context ?? '?'} (${o.facts.server ?? '?'}), Kubernetes ${o.facts.kubeVersion ?? '?'}`));
  } else {
    t.line(t.style('dim', `cluster not inspected (${o.facts.unreachableReason ?? 'not reachable'}): defaults come from the presets`));
  }
  const driver = o.driver ?? (await inquirerDriver(ctx));
  const state = await runQuestions(s0, driver, (_q, why) => t.line(t.style('dim', `  ${why}`)));
  const env: PresetName = PRESET_NAMES.includes(state.env) ? state.env : 'dev';
  return {
    preset: { name: env, source: env, values: presets[env] },
    answers: state.answers,
    release: state.release,
    namespace: state.namespace,
    state,
  };
}
