// What a command does with a finished plan before acting on it: refuse its problems, or show it (text or JSON).
import type { Context } from '../context.js';
import { ExitCode, UserError } from '../core/errors.js';
import { formatCommand } from '../core/flags.js';
import type { Plan } from '../core/plan.js';
import type { HelmInfo } from '../shell/helm.js';

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
