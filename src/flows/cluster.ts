// How a flow reaches the cluster: helm detected once, the run's one Kube (src/shell/kube.ts) with the user's
// context/kubeconfig, and the facts a
// plan is made from. The one place that turns the command-line connection flags into those.
import type { Context } from '../context.js';
import { ExitCode, UserError } from '../core/errors.js';
import { unreachableHint } from '../core/preflight.js';
import type { Facts, FactsRequest } from '../core/facts.js';
import { kubeFor, releaseFact } from '../shell/facts.js';
import { detectHelm, type HelmInfo } from '../shell/helm.js';
import type { Kube } from '../shell/kube.js';

export function kubeOf(ctx: Context): Kube {
  return kubeFor({ kubeContext: ctx.options.kubeContext, kubeconfig: ctx.options.kubeconfig, env: ctx.term.childEnv });
}

/** The connection part of helm's argv for a namespace. */
export function connection(ctx: Context, namespace: string) {
  return { namespace, kubeContext: ctx.options.kubeContext, kubeconfig: ctx.options.kubeconfig };
}

export async function helmInfo(ctx: Context): Promise<HelmInfo> {
  return detectHelm(ctx.options.helm, { env: ctx.term.childEnv, signal: ctx.signal });
}

/** What the commands that act on an existing release need first: helm, and a cluster that answers (else exit 3). */
export async function helmAndReachableCluster(ctx: Context): Promise<{ helm: HelmInfo; facts: Facts }> {
  const helm = await helmInfo(ctx);
  const facts = await gatherFacts(ctx, { offline: false });
  if (!facts.reachable) {
    throw new UserError(`cannot reach the Kubernetes API${facts.context ? ` of context ${facts.context}` : ''}: ${facts.unreachableReason ?? 'no answer'}`, { exitCode: ExitCode.preflight, hint: unreachableHint('check --kube-context/--kubeconfig') });
  }
  return { helm, facts };
}

export const OFFLINE_REASON = 'no cluster contact (--dry-run/render)';

export async function gatherFacts(ctx: Context, o: { offline: boolean; namespace?: string; release?: string }): Promise<Facts> {
  const req: FactsRequest = {
    namespace: o.namespace ?? ctx.options.namespace,
    release: o.release ?? ctx.options.release,
    kubeContext: ctx.options.kubeContext,
    kubeconfig: ctx.options.kubeconfig,
    helm: ctx.options.helm,
    env: ctx.term.childEnv,
    signal: ctx.signal,
    offline: o.offline,
  };
  const detect = ctx.detectFacts ?? (await import('../shell/facts.js')).detectFacts;
  const facts = await detect(req);
  // offline, the reason nothing is known is always the same (whatever the kubeconfig said)
  return o.offline ? { ...facts, reachable: false, unreachableReason: OFFLINE_REASON } : facts;
}

/**
 * The release's latest revision and status as helm stored them (Secrets, helm's default driver), read over the run's
 * one connection instead of starting `helm status`. undefined when helm is set to another storage driver or the read
 * fails: the caller then asks helm.
 */
export async function storedRelease(ctx: Context, release: string, namespace: string): Promise<{ status: string; revision: number } | undefined> {
  const driver = ctx.term.childEnv.HELM_DRIVER ?? '';
  if (!['', 'secret', 'secrets'].includes(driver)) return undefined;
  const kube = kubeOf(ctx);
  if (!kube.proxy) return undefined;
  const f = await releaseFact(kube, namespace, release).catch(() => undefined);
  return f ? { status: f.status, revision: f.revision } : undefined;
}
