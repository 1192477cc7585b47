// `robustmq-install rollback [REVISION]`: without a revision, a picker over `helm history` (TTY) or an error that
// lists the history (no TTY). helm rollback runs with its own --wait and always to completion (Ctrl-C does not cut
// it); health is checked afterwards from the pods, then the RobustMQ check and helm test unless --skip-smoke.
import type { Context } from '../context.js';
import { ExitCode, UserError, usageError } from '../core/errors.js';
import { formatCommand, rollbackArgv } from '../core/flags.js';
import { helmAndReachableCluster, kubeOf } from '../flows/cluster.js';
import { historyLines, releaseHistory, type HistoryRow } from '../flows/release.js';
import { rollbackAndWatch } from '../flows/rollback.js';
import { printSmoke, smoke } from '../flows/smoke.js';

export async function run(ctx: Context): Promise<number> {
  const o = ctx.options;
  const t = ctx.term;
  const { helm, facts } = await helmAndReachableCluster(ctx);
  const history = await releaseHistory(ctx, helm, o.release, o.namespace);
  if (!history || history.length === 0) {
    throw new UserError(`release ${o.release} not found in namespace ${o.namespace}${facts.context ? ` (context ${facts.context})` : ''}`, { exitCode: ExitCode.preflight, hint: 'check --release/-n/--kube-context' });
  }
  const latest = history[history.length - 1]!;
  const table = ['  revision status           chart              updated', ...historyLines(history, 20)];

  let revision: number;
  if (ctx.args.positionals[0] !== undefined) {
    revision = Number(ctx.args.positionals[0]);
    if (!history.some((h) => h.revision === revision)) {
      throw usageError(`revision ${revision} is not in the history of ${o.release} (kept: ${history.map((h) => h.revision).join(', ')})`, 'robustmq-install rollback (without a revision) shows a picker');
    }
  } else if (t.interactive && !o.dryRun) {
    revision = await pick(ctx, history, latest);
  } else {
    if (!t.json) for (const l of table) t.line(l);
    throw usageError('rollback needs a REVISION without a terminal', `e.g. robustmq-install rollback ${defaultTarget(history, latest)?.revision ?? latest.revision}`);
  }

  const argv = rollbackArgv({ helmMajor: helm.major, release: o.release, revision, namespace: o.namespace, kubeContext: o.kubeContext, kubeconfig: o.kubeconfig, timeout: o.timeout });
  if (o.dryRun) {
    if (t.json) t.writeJson({ dryRun: true, release: o.release, namespace: o.namespace, from: latest.revision, to: revision, commands: [{ argv: [helm.path, ...argv] }] });
    else {
      t.line(`Dry run: would roll back ${o.release} from revision ${latest.revision} (${latest.status}) to ${revision}:`);
      t.line(`  ${formatCommand(argv, helm.path)}`);
    }
    return ExitCode.ok;
  }
  if (t.interactive && !o.yes && ctx.args.positionals[0] !== undefined) {
    const pr = await t.prompts();
    const ok = await pr.confirm({ message: `Roll back ${o.release} in ${o.namespace} (context ${facts.context ?? 'current'}) from revision ${latest.revision} to ${revision}?`, default: true }, t.promptContext);
    if (!ok) throw new UserError('not confirmed', { exitCode: ExitCode.aborted });
  }

  const kube = kubeOf(ctx);
  const rb = await rollbackAndWatch(ctx, { helm, kube, release: o.release, namespace: o.namespace, revision });
  let exit = rb.exitCode;
  const after = await releaseHistory(ctx, helm, o.release, o.namespace);
  let sm;
  if (rb.ok) {
    sm = await smoke(ctx, { kube, helm, release: o.release, namespace: o.namespace, timeout: o.timeout });
    printSmoke(ctx, sm);
    if (sm.status === 'failed') exit = ExitCode.health;
  }
  if (!t.json && after) {
    t.line('History:');
    for (const l of historyLines(after)) t.line(l);
  }
  if (ctx.signal.aborted) exit = ExitCode.aborted;
  if (t.json) {
    const v = rb.verdict;
    t.writeJson({
      ok: exit === 0,
      exitCode: exit,
      release: o.release,
      namespace: o.namespace,
      from: latest.revision,
      to: revision,
      revision: after?.[after.length - 1]?.revision ?? null,
      health: v ? { status: v.status, summary: v.summary, roles: v.roles.map((r) => ({ role: r.role, ready: r.ready, desired: r.desired })) } : null,
      smoke: sm ? { status: sm.status, lines: sm.lines } : null,
      bundle: rb.bundle ?? null,
      history: after ?? [],
    });
  }
  return exit;
}

/** The newest deployed/superseded revision before the latest one: what "undo the last change" means. */
export function defaultTarget(history: HistoryRow[], latest: HistoryRow): HistoryRow | undefined {
  return [...history].reverse().find((h) => h.revision !== latest.revision && (h.status === 'superseded' || h.status === 'deployed'));
}

async function pick(ctx: Context, history: HistoryRow[], latest: HistoryRow): Promise<number> {
  const pr = await ctx.term.prompts();
  const def = defaultTarget(history, latest);
  const choices = [...history].reverse().map((h) => ({
    value: String(h.revision),
    name: `${h.revision}  ${h.status.padEnd(16)} ${h.chart ?? ''}  ${h.updated ?? ''}${h.revision === latest.revision ? '  (current)' : ''}`,
    description: h.description ?? '',
  }));
  const v = await pr.select({ message: `Roll back ${ctx.options.release} to which revision?`, choices, default: String(def?.revision ?? latest.revision), pageSize: 10 }, ctx.term.promptContext);
  return Number(v);
}
