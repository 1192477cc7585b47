// Runs the wizard: asks QUESTIONS (src/core/questions.ts) through a PromptDriver. The driver is injectable (tests),
// the default one uses @inquirer/prompts rendering on stderr. Never called without an interactive terminal.
import { bundledChartInfo } from '../chart-info.js';
import type { Context } from '../context.js';
import { ExitCode, UserError } from '../core/errors.js';
import { unreachableHint } from '../core/preflight.js';
import type { Facts } from '../core/facts.js';
import { PRESET_NAMES, type PresetName } from '../core/presets.js';
import { initialState, QUESTIONS, upgradeState, type Choice, type Question, type WizardState } from '../core/questions.js';
import { flatten, getPath, mergeAll, setPath, setsToValues, type Value, type Values } from '../core/values.js';
import type { Terminal } from '../shell/terminal.js';
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

/** Run every question in order; skipped ones with a reason go to onSkip (on upgrade: install-only ones with their value). */
export async function runQuestions(s: WizardState, d: PromptDriver, onSkip: (q: Question, why: string) => void = () => {}): Promise<WizardState> {
  let state = s;
  for (const q of QUESTIONS) {
    if (q.modes && !q.modes.includes(state.mode)) continue;
    const when = q.when ? q.when(state) : true;
    if (when === false) continue;
    if (state.mode === 'upgrade' && q.installOnly) {
      onSkip(q, `${q.message(state)}: ${q.installOnly(state)} (fixed at install)`);
      continue;
    }
    if (typeof when === 'string') {
      onSkip(q, when);
      continue;
    }
    state = await ask(q, state, d);
  }
  return state;
}

/**
 * Word-wrap one line of human text to the terminal's width, continuation lines indented like the first: the
 * terminal would otherwise cut words in two at its edge.
 */
export function wrapText(text: string, width: number | undefined): string[] {
  if (!width || width < 20 || text.length <= width) return [text];
  const indent = /^\s*/.exec(text)![0] + '  ';
  const out: string[] = [];
  let cur = '';
  for (const word of text.trimStart().split(' ')) {
    const lead = out.length === 0 && cur === '' ? /^\s*/.exec(text)![0] : '';
    const next = cur === '' ? `${out.length ? indent : lead}${word}` : `${cur} ${word}`;
    if (next.length > width && cur.trim() !== '') {
      out.push(cur);
      cur = `${indent}${word}`;
    } else cur = next;
  }
  if (cur) out.push(cur);
  return out;
}

/** A wrapped line on stderr, in a style. */
export function say(t: Terminal, text: string, style?: Parameters<Terminal['style']>[0]): void {
  for (const l of wrapText(text, (t.stderr as { columns?: number }).columns)) t.line(style ? t.style(style, l) : l);
}

/** The RobustMQ image tags a local chart is written and tested for: its values.yaml tag and its appVersion. */
export function testedTags(chart: ResolvedChart, chartDefaults: Values | undefined): string[] {
  if (!chart.localDir) return [];
  const tags: string[] = [];
  const tag = chartDefaults ? getPath(chartDefaults, 'image.tag') : undefined;
  if (typeof tag === 'string' && tag) tags.push(tag);
  const app = bundledChartInfo(chart.localDir).appVersion;
  if (app && !tags.includes(`v${app}`) && !tags.includes(app)) tags.push(`v${app}`);
  return tags;
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
  const chartDefaults = loadChartDefaults(o.chart);
  const s0 = initialState({
    facts: o.facts,
    presets,
    files,
    chartDefaults: chartDefaults ?? {},
    fixed,
    release: ctx.options.release,
    namespace: ctx.options.namespace,
    testedTags: testedTags(o.chart, chartDefaults),
  });
  t.line(t.style('bold', 'RobustMQ on Kubernetes'));
  if (o.facts.reachable) {
    say(t, `cluster: ${o.facts.context ?? '?'} (${o.facts.server ?? '?'}), Kubernetes ${o.facts.kubeVersion ?? '?'}`, 'dim');
  } else {
    say(t, `cluster not inspected (${o.facts.unreachableReason ?? 'not reachable'}): defaults come from the presets`, 'dim');
  }
  const driver = o.driver ?? (await inquirerDriver(ctx));
  const state = await runQuestions(s0, driver, (_q, why) => say(t, `  ${why}`, 'dim'));
  const env: PresetName = PRESET_NAMES.includes(state.env) ? state.env : 'dev';
  return {
    preset: { name: env, source: env, values: presets[env] },
    answers: state.answers,
    release: state.release,
    namespace: state.namespace,
    state,
  };
}

/**
 * Before the first question of an install wizard, when the cluster cannot be reached: say so, and offer `render`
 * (the same questions, files instead of a cluster) or stop, rather than failing preflight after every answer.
 */
export async function offerRenderWhenUnreachable(ctx: Context, facts: Facts, driver?: PromptDriver): Promise<void> {
  const t = ctx.term;
  const where = facts.context ? `context ${facts.context}${facts.server ? ` (${facts.server})` : ''}` : 'the kubeconfig has no current context';
  const why = facts.unreachableReason ?? 'no answer';
  say(t, `${t.style('yellow', '!')} cannot reach the cluster: ${where}: ${why}`);
  const d = driver ?? (await inquirerDriver(ctx));
  const choice = await d.select({
    message: 'Install needs the cluster. What now?',
    choices: [
      { value: 'render', name: 'render: answer the questions, write values.yaml and manifests.yaml', description: `into ${ctx.options.outDir ?? RENDER_DIR}; no cluster needed; install them later with helm or --preset` },
      { value: 'stop', name: 'stop: fix the connection first', description: 'check --kube-context/--kubeconfig and the network path to the API server' },
    ],
    default: 'render',
  });
  if (choice === 'stop') {
    throw new UserError(`cannot reach the Kubernetes API (${where}): ${why}`, { exitCode: ExitCode.preflight, hint: unreachableHint('check --kube-context/--kubeconfig and the network path; robustmq-install render --out-dir DIR works without a cluster') });
  }
}

export const RENDER_DIR = './robustmq-render';

/**
 * The upgrade wizard: the questions that make sense once installed, each defaulting to what the release runs now
 * (`computed`, `helm get values --all`); install-only ones are shown with their value. Returns only answers that
 * differ from what runs, so an untouched question never pins a value the chart would otherwise manage.
 */
export async function chooseForUpgrade(
  ctx: Context,
  o: { facts: Facts; chart: ResolvedChart; userValues: Values; computed: Values; revision: number; driver?: PromptDriver },
): Promise<{ answers: Values; state: WizardState }> {
  const t = ctx.term;
  const s0 = upgradeState({
    facts: o.facts,
    userValues: o.userValues,
    computed: o.computed,
    release: ctx.options.release,
    namespace: ctx.options.namespace,
    testedTags: testedTags(o.chart, loadChartDefaults(o.chart)),
  });
  t.line(t.style('bold', `Upgrade RobustMQ release ${ctx.options.release} (revision ${o.revision})`));
  say(t, `cluster: ${o.facts.context ?? '?'} (${o.facts.server ?? '?'}), Kubernetes ${o.facts.kubeVersion ?? '?'}; every answer defaults to what runs now`, 'dim');
  const driver = o.driver ?? (await inquirerDriver(ctx));
  const state = await runQuestions(s0, driver, (_q, why) => say(t, `  ${why}`, 'dim'));
  return { answers: changedOnly(state.answers, o.computed), state };
}

/** The leaves of `answers` whose value differs from `running`. */
export function changedOnly(answers: Values, running: Values): Values {
  const out: Values = {};
  for (const [k, v] of flatten(answers)) {
    if (JSON.stringify(getPath(running, k) ?? null) !== JSON.stringify(v ?? null)) setPath(out, k, v as Value);
  }
  return out;
}
