// `robustmq-install render --out-dir DIR`: DIR/values.yaml (the overlay with its header) and DIR/manifests.yaml
// (helm template with the same values). No cluster contact. Existing files are never replaced silently (.bak kept).
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Context } from '../context.js';
import { ExitCode, UserError, usageError } from '../core/errors.js';
import { unknownFacts } from '../core/facts.js';
import { plan as makePlan } from '../core/plan.js';
import { run as runHelm } from '../shell/helm.js';
import { templatePlan } from '../flows/chart-render.js';
import { helmInfo } from '../flows/cluster.js';
import { assertNoProblems } from '../flows/plan-report.js';
import { resolveChartOption } from '../inputs/chart-source.js';
import { planInput } from '../inputs/plan-input.js';
import { loadPreset } from '../inputs/values-files.js';
import { writeSafely } from '../shell/files.js';
import { chooseByWizard } from './wizard.js';

export async function run(ctx: Context): Promise<number> {
  const o = ctx.options;
  const dir = resolve(ctx.cwd, o.outDir!);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw usageError(`--out-dir ${o.outDir} is a file, not a directory`, 'choose a directory (it is created if missing)');
  const valuesPath = join(dir, 'values.yaml');
  const manifestsPath = join(dir, 'manifests.yaml');
  const chart = resolveChartOption(ctx);
  const helm = await helmInfo(ctx);
  const facts = unknownFacts('render contacts no cluster');

  let preset;
  let answers;
  if (o.preset) preset = loadPreset(ctx, o.preset);
  else {
    if (!ctx.term.interactive) throw usageError('render needs --preset without a terminal', 'e.g. robustmq-install render --preset prod --out-dir ./out');
    const w = await chooseByWizard(ctx, { facts, chart, offline: true });
    preset = w.preset;
    answers = w.answers;
  }
  const p = makePlan(planInput(ctx, { command: 'render', facts, helm, chart, valuesFile: valuesPath, preset, answers, offline: true }));
  assertNoProblems(p);

  // ask about both files before writing either
  const existing = [valuesPath, manifestsPath].filter((f) => existsSync(f));
  if (existing.length && !o.yes) {
    if (!ctx.term.interactive) throw usageError(`${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''}`, 'pass --yes to replace (old files are kept as .bak), or use another --out-dir');
    const { confirm } = await ctx.term.prompts();
    const ok = await confirm({ message: `Replace ${existing.join(' and ')} (old files kept as .bak)?`, default: false }, ctx.term.promptContext);
    if (!ok) throw new UserError('kept the existing files', { exitCode: ExitCode.aborted });
  }
  const yesCtx = { ...ctx, options: { ...o, yes: true } };
  const bak1 = await writeSafely(yesCtx, valuesPath, p.overlayYaml, 'values file');
  // --repo-url: helm repo add/update under the private name first (network, but no cluster)
  for (const step of p.helm.filter((x) => x !== p.template)) {
    const rr = await runHelm(helm.path, step.argv, { env: ctx.term.childEnv, signal: ctx.signal });
    if (rr.exitCode !== 0) {
      throw new UserError(`${step.purpose} failed (exit ${rr.exitCode}): ${rr.stderr.trim().split('\n').filter(Boolean).slice(-2).join(' | ')}`, {
        exitCode: ExitCode.error,
        hint: `check --repo-url${o.caFile ? ' and --ca-file' : ''}; rerun: helm ${step.argv.join(' ')}`,
      });
    }
  }
  const manifests = await templatePlan(ctx, p, helm, { overlayAt: valuesPath, hint: `${valuesPath} was written so you can inspect it; rerun: ${['helm', ...p.template.argv].join(' ')}` });
  const bak2 = await writeSafely(yesCtx, manifestsPath, manifests, 'manifests file');
  const docs = (manifests.match(/^kind: /gm) ?? []).length;
  if (o.output === 'json') {
    ctx.term.writeJson({ ok: true, values: valuesPath, manifests: manifestsPath, objects: docs, backups: [bak1, bak2].filter(Boolean), assumes: p.header.assumes, notes: p.notes, reproduceCommand: p.reproduceCommand });
  } else {
    ctx.term.ok(`wrote ${valuesPath}${bak1 ? ` (previous kept as ${bak1})` : ''}`);
    ctx.term.ok(`wrote ${manifestsPath}: ${docs} objects${bak2 ? ` (previous kept as ${bak2})` : ''}`);
    for (const a of p.header.assumes) ctx.term.line(`  assumes: ${a}`);
    ctx.term.line(`  reproduce: ${p.reproduceCommand}`);
  }
  return ExitCode.ok;
}
