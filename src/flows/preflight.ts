// The preflight gatherer: evidence from the cluster (src/shell/kube.ts, same kubeconfig/context as helm) and the rendered chart
// (helm template), judged by the pure checks in src/core/preflight.ts. Proves, touches nothing. Run by the
// `preflight` command and by every deploy before it changes anything.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from '../context.js';
import { ExitCode, UserError } from '../core/errors.js';
import type { Facts } from '../core/facts.js';
import type { Plan } from '../core/plan.js';
import {
  accessNeeds,
  checkApi,
  checkCrds,
  checkDryRun,
  checkHelmVersion,
  checkKubeVersion,
  checkLeftovers,
  checkRbac,
  checkRelease,
  checkStorage,
  crdNeedsFromManifests,
  failed,
  formatResults,
  parseManifests,
  storageNeedsFromManifests,
  type CheckResult,
} from '../core/preflight.js';
import { run as runHelm, type HelmInfo } from '../shell/helm.js';
import { kubeOf } from './cluster.js';
import { lastGood, releaseHistory } from './release.js';

export interface PreflightInput {
  mode: 'install' | 'upgrade';
  plan: Plan;
  helm: HelmInfo;
  facts: Facts;
  /** the RobustMQ check and helm test will run (adds their permissions, as warnings) */
  smoke: boolean;
}

export interface PreflightOutcome {
  results: CheckResult[];
  /** `helm template` output, when rendering worked */
  manifests?: string;
}

function parseKubeVersion(v: string | undefined): { major: number; minor: number; gitVersion: string } | undefined {
  const m = v ? /^v?(\d+)\.(\d+)/.exec(v) : null;
  return m ? { major: Number(m[1]), minor: Number(m[2]), gitVersion: v! } : undefined;
}

/** Runs every check the plan lists, in order; stops early only where later checks cannot run (no API, no render). */
export async function gatherPreflight(ctx: Context, i: PreflightInput): Promise<PreflightOutcome> {
  const { plan, helm, facts } = i;
  const env = ctx.term.childEnv;
  const results: CheckResult[] = [checkHelmVersion(helm.version, helm.path)];
  results.push(checkApi({ reachable: facts.reachable, error: facts.unreachableReason, context: facts.context ?? ctx.options.kubeContext, server: facts.server }));
  if (!facts.reachable) return { results };
  results.push(checkKubeVersion(parseKubeVersion(facts.kubeVersion)));

  for (const p of plan.problems.filter((x) => x.kind === 'preflight')) {
    results.push({ id: p.id, title: p.id, severity: 'error', status: 'fail', message: p.message, ...(p.hint ? { hint: p.hint } : {}) });
  }

  // --repo-url: the private repo entry must exist before helm can render from it (touches helm's repo config only).
  for (const step of plan.helm.filter((x) => x.argv[0] === 'repo')) {
    const rr = await runHelm(helm.path, step.argv, { env, signal: ctx.signal });
    if (rr.exitCode !== 0) {
      results.push({ id: 'chart-source', title: 'chart repository', severity: 'error', status: 'fail', message: `${step.purpose} failed: ${rr.stderr.trim().split('\n').slice(-2).join(' | ')}`, hint: 'check --repo-url (and --ca-file for a private CA)' });
      return { results };
    }
  }

  // What does not need the rendered chart is asked for while helm renders it. Settled (never rejecting) promises,
  // so an early return below leaves nothing unhandled.
  const kube = kubeOf(ctx);
  const ns = plan.namespace;
  const nsExists = facts.namespaceExists !== false;
  const rel = facts.existingRelease;
  const settle = <T,>(p: Promise<T>) => p.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error: error as Error }));
  // Listed here rather than taken from the facts, so a permission problem is told apart from "no classes".
  const storageP = settle(kube.storageClasses());
  const crdP = settle(kube.crdNames());
  const lastDeployedP = settle(rel && rel.status !== 'deployed' ? releaseHistory(ctx, helm, plan.release, ns).then((h) => lastGood(h ?? [])?.revision) : Promise.resolve(undefined));
  // permission problems are reported by the rbac check
  const pvcsP = nsExists ? kube.list('persistentvolumeclaims', { namespace: ns, selector: `app.kubernetes.io/instance=${plan.release}` }).then((l) => l.map((p) => p.metadata.name), () => [] as string[]) : Promise.resolve([] as string[]);
  // the API groups every rendering of the chart uses, for the dry-run below
  kube.prefetchDiscovery(['v1', 'apps/v1', 'policy/v1', 'batch/v1', 'rbac.authorization.k8s.io/v1', 'networking.k8s.io/v1']);
  const enforceP = nsExists ? kube.getObject('namespace', ns).then((o) => o?.metadata.labels?.['pod-security.kubernetes.io/enforce'], () => undefined) : Promise.resolve(undefined);

  // Rendered from the plan's overlay in a private temp file: the real overlay may not be written yet (preflight
  // runs before the confirm), and must not be written by a check.
  const tmp = mkdtempSync(join(tmpdir(), 'robustmq-preflight-'));
  let r;
  try {
    const valuesFile = join(tmp, 'values.yaml');
    writeFileSync(valuesFile, plan.overlayYaml, { mode: 0o600 });
    const argv = plan.template.argv.map((a) => (a === plan.valuesFile ? valuesFile : a));
    r = await runHelm(helm.path, argv, { env, signal: ctx.signal });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (r.exitCode !== 0) {
    const lines = r.stderr.trim().split('\n').filter(Boolean);
    results.push({ id: 'render', title: 'render the chart', severity: 'error', status: 'fail', message: `helm template failed: ${lines.slice(0, 4).join(' | ')}`, hint: 'fix the values named in the error' });
    return { results };
  }
  const manifests = r.stdout;
  const objects = parseManifests(manifests);
  const needs = accessNeeds(objects, { namespace: ns, namespaceExists: nsExists, smoke: i.smoke });
  // The rest does not depend on each other either: all requests go out at once over the one connection
  // (src/shell/kube.ts); the results are reported in the order the plan lists them.
  const [rbac, storageR, crdR, lastDeployedR, pvcs, dry, enforce] = await Promise.all([
    kube.accessReviews(needs).then(
      (reviews) => checkRbac(needs.map((n, k) => ({ ...n, allowed: reviews[k]!.allowed, reason: reviews[k]!.reason }))),
      (e: unknown): CheckResult => ({ id: 'rbac', title: 'permissions (SelfSubjectAccessReview)', severity: 'error', status: 'fail', message: `SelfSubjectAccessReview failed: ${(e as Error).message}` }),
    ),
    storageP,
    crdP,
    lastDeployedP,
    pvcsP,
    kube.dryRunApply(
      objects.map((o) => o.raw),
      ns,
      { namespaceExists: nsExists },
    ),
    enforceP,
  ]);
  const storage: CheckResult = storageR.ok
    ? checkStorage(storageNeedsFromManifests(objects), storageR.value)
    : { id: 'storage-class', title: 'StorageClass', severity: 'warning', status: 'fail', message: `could not list StorageClasses: ${storageR.error.message}` };
  const crds: CheckResult = crdR.ok
    ? checkCrds(crdNeedsFromManifests(objects), crdR.value)
    : { id: 'crds', title: 'CRDs for enabled features', severity: 'warning', status: 'fail', message: `could not list CRDs: ${crdR.error.message}` };
  if (!lastDeployedR.ok) throw lastDeployedR.error;
  const lastDeployed = lastDeployedR.value;
  results.push(rbac, storage, crds);
  results.push(checkRelease({ status: rel?.status, revision: rel?.revision, lastDeployed }, { mode: i.mode, release: plan.release, namespace: ns }));
  results.push(checkLeftovers({ releaseExists: !!rel, pvcs, secretExists: facts.credentialsSecretExists === true, secretName: plan.secret.name, release: plan.release }));
  results.push(checkDryRun(dry, objects.length, enforce ? { enforce } : {}));
  return { results, manifests };
}

export function printResults(ctx: Context, results: CheckResult[]): void {
  const t = ctx.term;
  for (const line of formatResults(results)) {
    if (line.startsWith('FAIL')) t.line(t.style('red', line));
    else if (line.startsWith('warn')) t.line(t.style('yellow', line));
    else t.line(line);
  }
}

/** Prints the results; throws a preflight UserError (exit 3) naming the first failed check. */
export function assertPreflight(ctx: Context, results: CheckResult[]): void {
  const bad = failed(results);
  if (bad.length === 0) return;
  const first = bad[0]!;
  throw new UserError(`preflight failed: ${first.id}: ${first.message}${bad.length > 1 ? ` (and ${bad.length - 1} more failed check${bad.length > 2 ? 's' : ''}: ${bad.slice(1).map((b) => b.id).join(', ')})` : ''}`, {
    exitCode: ExitCode.preflight,
    hint: first.hint,
  });
}
