// `helm template` of a plan: the local validation `render` and `--dry-run` share (the chart's values.schema.json, its
// validate template and every other `fail` in it), so both refuse the same values with the same message and exit code.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from '../context.js';
import { ExitCode, UserError } from '../core/errors.js';
import type { Plan } from '../core/plan.js';
import { run as runHelm, type HelmInfo } from '../shell/helm.js';

/** Values the chart refuses on purpose (schema or `fail`) are the user's input (exit 2); anything else is helm's or the chart's (exit 1). */
export function templateFailure(r: { exitCode: number; stderr: string }, hint: string): UserError {
  const lines = r.stderr.trim().split('\n').filter(Boolean);
  const refusedValues = /values don't meet the specifications of the schema|execution error at \(/.test(r.stderr);
  return new UserError(`helm template failed (exit ${r.exitCode}): ${lines.slice(0, 6).join(' | ')}`, { exitCode: refusedValues ? ExitCode.usage : ExitCode.error, hint });
}

/**
 * Run the plan's `helm template` and return the manifests. `overlayAt`: the overlay is already written there (render);
 * otherwise it goes to a private temporary file that is removed afterwards (--dry-run writes no file of the user's).
 */
export async function templatePlan(ctx: Context, p: Plan, helm: HelmInfo, o: { overlayAt?: string; hint: string }): Promise<string> {
  let dir: string | undefined;
  let argv = p.template.argv;
  if (!o.overlayAt) {
    dir = mkdtempSync(join(tmpdir(), 'robustmq-template-'));
    const file = join(dir, 'values.yaml');
    writeFileSync(file, p.overlayYaml, { mode: 0o600 });
    argv = argv.map((a) => (a === p.valuesFile ? file : a));
  }
  try {
    const r = await runHelm(helm.path, argv, { env: ctx.term.childEnv, signal: ctx.signal });
    if (r.exitCode !== 0) throw templateFailure(r, o.hint);
    return r.stdout;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `--dry-run` (install and upgrade): the plan is shown only for values the chart accepts, as `render` would judge
 * them. Returns the plan with a note saying what was proven (or why it could not be).
 */
export async function validatePlanLocally(ctx: Context, p: Plan, helm: HelmInfo): Promise<Plan> {
  // a chart from --repo-url is reachable only after `helm repo add`, which changes helm's config: not for a dry run
  if (p.helm.some((s) => s.argv[0] === 'repo')) {
    return { ...p, notes: [...p.notes, 'chart not rendered: --repo-url needs `helm repo add`, which --dry-run does not run (`render` does)'] };
  }
  const manifests = await templatePlan(ctx, p, helm, {
    hint: 'fix the values named in the error; `robustmq-install render --out-dir DIR` with the same flags writes the overlay and the manifests to inspect',
  });
  const objects = (manifests.match(/^kind: /gm) ?? []).length;
  return { ...p, notes: [...p.notes, `chart rendered locally (helm template, no cluster): ${objects} objects; the values pass the chart's schema and checks`] };
}
