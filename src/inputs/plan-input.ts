// Everything the pure plan needs, gathered from the command line, the files it names and the detected facts.
import type { Context } from '../context.js';
import type { Facts } from '../core/facts.js';
import { CLI_VERSION } from '../core/meta.js';
import type { PlanInput } from '../core/plan.js';
import type { Values } from '../core/values.js';
import type { HelmInfo } from '../shell/helm.js';
import { chartReproduceFlags, loadChartDefaults, type ResolvedChart } from './chart-source.js';
import { loadValuesFiles } from './values-files.js';

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
      helmWait: opts.helmWait,
    },
    meta: { cliVersion: CLI_VERSION, date: (ctx.now?.() ?? new Date()).toISOString() },
  };
}
