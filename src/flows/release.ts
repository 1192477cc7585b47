// A helm release's recorded state: history, status, the revision a rollback returns to, and the guided recovery of a
// release an interrupted operation left pending-*.
import type { Context } from '../context.js';
import { ExitCode, UserError } from '../core/errors.js';
import { historyArgv, statusArgv } from '../core/flags.js';
import { run as runHelm, type HelmInfo } from '../shell/helm.js';
import { connection, kubeOf } from './cluster.js';
import { rollbackAndWatch } from './rollback.js';

export interface HistoryRow {
  revision: number;
  status: string;
  chart?: string;
  app_version?: string;
  updated?: string;
  description?: string;
}

export async function releaseHistory(ctx: Context, helm: HelmInfo, release: string, namespace: string): Promise<HistoryRow[] | undefined> {
  const r = await runHelm(helm.path, historyArgv({ release, ...connection(ctx, namespace), max: 50 }), { env: ctx.term.childEnv });
  if (r.exitCode !== 0) return undefined;
  try {
    return (JSON.parse(r.stdout) as HistoryRow[]).sort((a, b) => a.revision - b.revision);
  } catch {
    return undefined;
  }
}

export async function releaseStatus(ctx: Context, helm: HelmInfo, release: string, namespace: string): Promise<{ status: string; revision: number } | undefined> {
  const r = await runHelm(helm.path, statusArgv({ release, ...connection(ctx, namespace) }), { env: ctx.term.childEnv });
  if (r.exitCode !== 0) return undefined;
  try {
    const j = JSON.parse(r.stdout) as { version?: number; info?: { status?: string } };
    return { status: j.info?.status ?? 'unknown', revision: j.version ?? 0 };
  } catch {
    return undefined;
  }
}

export function lastGood(history: HistoryRow[]): HistoryRow | undefined {
  return [...history].reverse().find((h) => h.status === 'deployed' || h.status === 'superseded');
}

export function historyLines(history: HistoryRow[], max = 8): string[] {
  return history.slice(-max).map((h) => `  ${String(h.revision).padStart(3)}  ${h.status.padEnd(16)} ${(h.chart ?? '').padEnd(18)} ${h.updated ?? ''}  ${h.description ?? ''}`.trimEnd());
}

/** The exact command that rolls back, with the user's connection flags. */
export function rollbackCommand(ctx: Context, release: string, namespace: string, revision: number): string {
  const parts = ['robustmq-install', 'rollback', String(revision)];
  if (release !== 'robustmq') parts.push('--release', release);
  if (namespace !== 'robustmq') parts.push('-n', namespace);
  if (ctx.options.kubeContext) parts.push('--kube-context', ctx.options.kubeContext);
  if (ctx.options.kubeconfig) parts.push('--kubeconfig', ctx.options.kubeconfig);
  if (ctx.options.helm !== 'helm') parts.push('--helm', ctx.options.helm);
  return parts.join(' ');
}

/**
 * Guided recovery of a release left `pending-*` by an interrupted operation: shows the history and offers a rollback
 * to the last deployed revision (TTY), or fails with the exact command (no TTY). Returns true when it rolled back.
 */
export async function recoverPending(ctx: Context, helm: HelmInfo, release: string, namespace: string): Promise<boolean> {
  const st = await releaseStatus(ctx, helm, release, namespace);
  if (!st || !st.status.startsWith('pending-')) return false;
  const t = ctx.term;
  const history = (await releaseHistory(ctx, helm, release, namespace)) ?? [];
  const good = lastGood(history);
  t.warn(`release ${release} is ${st.status} at revision ${st.revision}: an earlier operation was interrupted before helm could finish it`);
  if (history.length) {
    t.line('  revision status           chart              updated');
    for (const l of historyLines(history)) t.line(l);
  }
  if (!good) {
    throw new UserError(`release ${release} is ${st.status} and no revision was ever deployed, so there is nothing to roll back to`, {
      exitCode: ExitCode.preflight,
      hint: `robustmq-install uninstall --release ${release} -n ${namespace} (keeps PVCs and the credentials Secret), then install again`,
    });
  }
  const cmd = rollbackCommand(ctx, release, namespace, good.revision);
  if (!t.interactive) {
    throw new UserError(`release ${release} is ${st.status} (revision ${st.revision}); roll it back to revision ${good.revision} (the last deployed) first`, { exitCode: ExitCode.preflight, hint: cmd });
  }
  const pr = await t.prompts();
  const ok = await pr.confirm({ message: `Roll back ${release} to revision ${good.revision} (last deployed) now?`, default: true }, t.promptContext);
  if (!ok) throw new UserError(`release ${release} left ${st.status}`, { exitCode: ExitCode.preflight, hint: cmd });
  const r = await rollbackAndWatch(ctx, { helm, kube: kubeOf(ctx), release, namespace, revision: good.revision });
  if (!r.ok) throw new UserError(`rollback to revision ${good.revision} did not become healthy`, { exitCode: ExitCode.health, hint: r.bundle ? `debug bundle: ${r.bundle}` : undefined });
  return true;
}
