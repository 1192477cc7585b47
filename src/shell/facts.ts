// The facts detector: what the wizard and the planner need to know about the cluster, through src/shell/kube.ts
// with the same kubeconfig/context as helm. Never throws: an unreachable cluster gives `reachable: false` with
// kubectl's reason, and the wizard falls back to typed answers.
import { gunzipSync } from 'node:zlib';
import { unknownFacts, type Facts, type FactsRequest, type ReleaseFact } from '../core/facts.js';
import { credentialsSecretName } from '../core/overlay.js';
import type { K8sObject } from '../core/k8s-types.js';
import { Kube, KubeError } from './kube.js';

const kubes = new Map<string, Kube>();

/**
 * The Kube for a kubeconfig/context, one per process: the facts, preflight, deploy and watch of a run share its one
 * `kubectl proxy` instead of each starting their own.
 */
export function kubeFor(req: Pick<FactsRequest, 'kubeContext' | 'kubeconfig' | 'kubectl' | 'env'>): Kube {
  const key = JSON.stringify([req.kubectl ?? '', req.kubeconfig ?? '', req.kubeContext ?? '', req.env?.KUBECONFIG ?? '', req.env?.ROBUSTMQ_INSTALL_KUBE_TRANSPORT ?? '', req.env?.ROBUSTMQ_INSTALL_KUBECTL ?? '']);
  let k = kubes.get(key);
  if (!k) {
    k = new Kube({ kubectl: req.kubectl ?? req.env?.ROBUSTMQ_INSTALL_KUBECTL, kubeconfig: req.kubeconfig, context: req.kubeContext, env: req.env as Record<string, string | undefined> | undefined });
    kubes.set(key, k);
  }
  return k;
}

function reason(e: unknown): string {
  if (e instanceof KubeError) {
    const lines = e.stderr.trim().split('\n').filter(Boolean);
    return (lines[lines.length - 1] ?? e.message).replace(/^error: /, '');
  }
  return (e as Error).message;
}

export async function detectFacts(req: FactsRequest): Promise<Facts> {
  const kube = kubeFor(req);
  let context: string | undefined;
  let server: string | undefined;
  // the first request (which starts the proxy) overlaps the kubeconfig read; never when offline
  const version = req.offline ? undefined : kube.serverVersion().then((v) => v, (e: unknown) => e as Error);
  try {
    const t = await kube.currentTarget();
    context = t.context || req.kubeContext;
    server = t.apiServerUrl || undefined;
  } catch (e) {
    return unknownFacts(reason(e), { context: req.kubeContext });
  }
  if (req.offline) return unknownFacts('no cluster contact (--dry-run/render)', { context, server });
  const v = await version!;
  if (v instanceof Error) return unknownFacts(reason(v), { context, server });
  const kubeVersion = v.gitVersion;
  const facts: Facts = { reachable: true, context, server, kubeVersion, crds: {} };
  // the release and the Secret are asked for at once too: in a namespace that does not exist they are simply absent
  const [sc, ic, crds, ns, rel, secret] = await Promise.allSettled([
    kube.storageClasses(),
    kube.ingressClasses(),
    kube.crdNames(),
    kube.getObject('namespace', req.namespace),
    releaseFact(kube, req.namespace, req.release),
    kube.getObject('secret', credentialsSecretName(req.release), req.namespace),
  ]);
  if (sc.status === 'fulfilled') facts.storageClasses = sc.value;
  if (ic.status === 'fulfilled') facts.ingressClasses = ic.value;
  if (crds.status === 'fulfilled') {
    facts.crds = {
      serviceMonitor: crds.value.has('servicemonitors.monitoring.coreos.com'),
      prometheusRule: crds.value.has('prometheusrules.monitoring.coreos.com'),
      certManager: crds.value.has('certificates.cert-manager.io'),
      gatewayHttpRoute: crds.value.has('httproutes.gateway.networking.k8s.io'),
    };
  }
  if (ns.status === 'fulfilled') facts.namespaceExists = ns.value !== undefined;
  if (facts.namespaceExists) {
    if (rel.status === 'fulfilled' && rel.value) facts.existingRelease = rel.value;
    // Existence only: `kubectl get secret` returns the data, which is dropped here unread.
    if (secret.status === 'fulfilled') facts.credentialsSecretExists = secret.value !== undefined;
  } else if (facts.namespaceExists === false) {
    facts.credentialsSecretExists = false;
  }
  return facts;
}

interface HelmReleaseSecret extends K8sObject {
  data?: { release?: string };
}

/**
 * The latest revision of a release, read from helm's own storage (Secrets `sh.helm.release.v1.<name>.v<N>`,
 * labelled owner=helm,name=<release>,status,version; the default driver of helm 3 and 4). The chart version and
 * helm 4's apply method come from the release record itself (base64 → gzip → JSON).
 */
export async function releaseFact(kube: Kube, namespace: string, release: string): Promise<ReleaseFact | undefined> {
  const items = await kube.list<HelmReleaseSecret>('secrets', { namespace, selector: `owner=helm,name=${release}` });
  const latest = items.map((s) => ({ s, v: Number(s.metadata.labels?.version ?? 0) })).sort((a, b) => b.v - a.v)[0];
  if (!latest) return undefined;
  const fact: ReleaseFact = { revision: latest.v, status: latest.s.metadata.labels?.status ?? 'unknown' };
  const rec = decodeHelmRelease(latest.s.data?.release);
  if (rec) {
    if (rec.chart?.metadata?.version) fact.chartVersion = rec.chart.metadata.version;
    if (rec.chart?.metadata?.appVersion) fact.appVersion = rec.chart.metadata.appVersion;
    if (rec.info?.status) fact.status = rec.info.status;
    if (rec.apply_method === 'ssa') fact.applyMethod = 'server-side';
    else if (rec.apply_method === 'csa') fact.applyMethod = 'client-side';
  }
  return fact;
}

export interface HelmReleaseRecord {
  name?: string;
  version?: number;
  info?: { status?: string; description?: string };
  chart?: { metadata?: { version?: string; appVersion?: string } };
  apply_method?: string;
}

/** The `release` key of a helm storage Secret as kubectl shows it (base64 of helm's base64 of gzipped JSON). */
export function decodeHelmRelease(data: string | undefined): HelmReleaseRecord | undefined {
  if (!data) return undefined;
  try {
    const inner = Buffer.from(Buffer.from(data, 'base64').toString('utf8'), 'base64');
    const json = inner[0] === 0x1f && inner[1] === 0x8b ? gunzipSync(inner).toString('utf8') : inner.toString('utf8');
    return JSON.parse(json) as HelmReleaseRecord;
  } catch {
    return undefined;
  }
}
