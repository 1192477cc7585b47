// `robustmq-install preflight`: the checks only (src/flows/preflight.ts gathers them). Exit 3 when a check of
// severity error fails.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from '../context.js';
import { ExitCode } from '../core/errors.js';
import { getValuesArgv } from '../core/flags.js';
import { plan as makePlan } from '../core/plan.js';
import { failed } from '../core/preflight.js';
import type { Values } from '../core/values.js';
import { run as runHelm } from '../shell/helm.js';
import { gatherFacts, helmInfo } from '../flows/cluster.js';
import { assertNoProblems } from '../flows/plan-report.js';
import { assertPreflight, gatherPreflight, printResults } from '../flows/preflight.js';
import { resolveChartOption } from '../inputs/chart-source.js';
import { planInput } from '../inputs/plan-input.js';
import { loadPreset } from '../inputs/values-files.js';

export async function run(ctx: Context): Promise<number> {
  const o = ctx.options;
  const t = ctx.term;
  const chart = resolveChartOption(ctx);
  const helm = await helmInfo(ctx);
  const facts = await gatherFacts(ctx, { offline: false });
  const rel = facts.existingRelease;
  const mode: 'install' | 'upgrade' = rel && !rel.status.startsWith('pending-') ? 'upgrade' : 'install';

  let currentValues: Values | undefined;
  if (mode === 'upgrade') {
    const g = await runHelm(helm.path, getValuesArgv({ release: o.release, namespace: o.namespace, kubeContext: o.kubeContext, kubeconfig: o.kubeconfig }), { env: t.childEnv, signal: ctx.signal });
    if (g.exitCode === 0) currentValues = (JSON.parse(g.stdout || '{}') ?? {}) as Values;
  }
  const dir = mkdtempSync(join(tmpdir(), 'robustmq-preflight-'));
  try {
    const valuesFile = join(dir, 'values.yaml');
    const preset = o.preset ? loadPreset(ctx, o.preset) : undefined;
    const p = makePlan(planInput(ctx, { command: mode, facts, helm, chart, valuesFile, preset, currentValues, offline: false }));
    const inputProblems = p.problems.filter((x) => x.kind === 'input');
    if (inputProblems.length) assertNoProblems({ ...p, problems: inputProblems });
    if (!t.json) t.line(`Preflight for ${mode === 'upgrade' ? `an upgrade of release ${p.release}` : `installing release ${p.release}`} in namespace ${p.namespace}${facts.context ? ` (context ${facts.context})` : ''}:`);
    const { results } = await gatherPreflight(ctx, { mode, plan: p, helm, facts, smoke: !o.skipSmoke });
    const bad = failed(results);
    if (t.json) t.writeJson({ ok: bad.length === 0, exitCode: bad.length ? ExitCode.preflight : ExitCode.ok, mode, release: p.release, namespace: p.namespace, context: facts.context ?? null, checks: results });
    else printResults(ctx, results);
    if (bad.length && !t.json) assertPreflight(ctx, results);
    if (!t.json) t.ok('preflight passed');
    return bad.length ? ExitCode.preflight : ExitCode.ok;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
