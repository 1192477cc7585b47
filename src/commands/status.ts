// `robustmq-install status [-o json]`: the release (revision, status, chart), pods per role (x/y Ready, with the
// reason for each one not Ready), services with their ready endpoints (EndpointSlices) and load-balancer address,
// and the Raft leaders when the meta pods can be asked (skipped with --skip-smoke).
// Exit 0 when every pod is Ready and the RobustMQ check (when asked) did not fail, 4 otherwise, 3 when the release or
// the API cannot be found.
import type { Context } from '../context.js';
import { ExitCode, UserError } from '../core/errors.js';
import { describeLeaders, type ClusterCheckResult } from '../core/robustmq-check.js';
import { isHookOrJobPod } from '../core/health.js';
import { serverImages, standInImageOf, standInNote } from '../core/standin.js';
import type { K8sObject, K8sService } from '../core/k8s-types.js';
import { helmAndReachableCluster, kubeOf } from '../flows/cluster.js';
import { releaseHistory, releaseStatus } from '../flows/release.js';
import { computedValues, raftCheck, topologyFromValues } from '../flows/smoke.js';
import { snapshotOnce, verdictOf } from '../flows/watch.js';
import type { Kube } from '../shell/kube.js';

interface EndpointSlice extends K8sObject {
  endpoints?: { conditions?: { ready?: boolean } }[];
}

export interface ServiceView {
  name: string;
  type: string;
  clusterIP: string;
  ports: { name?: string; port: number; nodePort?: number; protocol?: string }[];
  loadBalancer: string[];
  endpoints: { ready: number; total: number };
}

async function services(kube: Kube, release: string, namespace: string): Promise<ServiceView[]> {
  const svcs = await kube.list<K8sService>('services', { namespace, selector: `app.kubernetes.io/instance=${release}` });
  return Promise.all(
    svcs.map(async (s) => {
      const slices = await kube.endpointSlices(namespace, s.metadata.name).catch(() => [] as EndpointSlice[]);
      const eps = (slices as EndpointSlice[]).flatMap((sl) => sl.endpoints ?? []);
      return {
        name: s.metadata.name,
        type: s.spec?.type ?? 'ClusterIP',
        clusterIP: s.spec?.clusterIP ?? '',
        ports: (s.spec?.ports ?? []).map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port, ...(p.nodePort ? { nodePort: p.nodePort } : {}), ...(p.protocol ? { protocol: p.protocol } : {}) })),
        loadBalancer: (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname ?? '').filter(Boolean),
        endpoints: { ready: eps.filter((e) => e.conditions?.ready !== false).length, total: eps.length },
      };
    }),
  );
}

export async function run(ctx: Context): Promise<number> {
  const o = ctx.options;
  const t = ctx.term;
  const { helm, facts } = await helmAndReachableCluster(ctx);
  const st = await releaseStatus(ctx, helm, o.release, o.namespace);
  if (!st) {
    throw new UserError(`release ${o.release} not found in namespace ${o.namespace}${facts.context ? ` (context ${facts.context})` : ''}`, { exitCode: ExitCode.preflight, hint: 'check --release/-n/--kube-context' });
  }
  const kube = kubeOf(ctx);
  const [history, snap, svcs] = await Promise.all([releaseHistory(ctx, helm, o.release, o.namespace), snapshotOnce(kube, o.namespace, o.release), services(kube, o.release, o.namespace)]);
  const current = history?.find((h) => h.revision === st.revision);
  const v = verdictOf(snap, { now: Date.now(), since: 0 });
  const standIn = standInImageOf(serverImages(snap.pods.filter((p) => !isHookOrJobPod(p))));

  let raft: ClusterCheckResult | undefined;
  let raftNote: string;
  if (o.skipSmoke) raftNote = 'not asked (--skip-smoke)';
  else if (v.roles.every((r) => r.ready === 0)) raftNote = 'not asked: no pod is Ready';
  else {
    const values = await computedValues(ctx, helm, o.release, o.namespace);
    raft = await raftCheck(kube, o.namespace, o.release, topologyFromValues(values ?? {}));
    raftNote = raft.status === 'blocked' ? `not reachable: ${raft.warnings[raft.warnings.length - 1] ?? 'blocked'}` : raft.status === 'failed' ? `problems: ${raft.problems.join('; ')}` : describeLeaders(raft).join('; ');
  }
  // Ready pods that disagree on the leader, or name one that does not answer, are mid-election or split: not healthy.
  const healthy = v.status === 'healthy' && st.status === 'deployed' && raft?.status !== 'failed';
  const exit = healthy ? ExitCode.ok : ExitCode.health;

  if (t.json) {
    t.writeJson({
      ok: healthy,
      release: o.release,
      namespace: o.namespace,
      context: facts.context ?? null,
      server: facts.server ?? null,
      revision: st.revision,
      status: st.status,
      chart: current?.chart ?? null,
      appVersion: current?.app_version ?? null,
      updated: current?.updated ?? null,
      health: { status: v.status, summary: v.summary, failure: v.failure ?? null },
      standIn: standIn ?? null,
      roles: v.roles.map((r) => ({
        role: r.role,
        ready: r.ready,
        desired: r.desired,
        pods: r.pods.map((p) => ({ name: p.name, ready: p.ready, phase: p.phase, restarts: p.restarts, node: p.node ?? null, reason: p.ready ? null : (p.issue?.reason ?? 'not Ready'), ...(p.outdated ? { outdated: true } : {}) })),
      })),
      pvcs: snap.pvcs.map((p) => ({ name: p.metadata.name, phase: p.status?.phase ?? 'Unknown', storageClass: p.spec?.storageClassName ?? null, size: p.spec?.resources?.requests?.storage ?? null })),
      services: svcs,
      raft: raft ? { status: raft.status, shards: raft.shards, nodes: raft.nodes, problems: raft.problems, warnings: raft.warnings } : null,
      raftNote,
    });
    return exit;
  }
  t.line(`${t.style('bold', `release ${o.release}`)} in ${o.namespace}${facts.context ? ` (context ${facts.context})` : ''}: revision ${st.revision} ${st.status}${current?.chart ? `, chart ${current.chart}` : ''}${current?.app_version ? `, RobustMQ ${current.app_version}` : ''}`);
  if (standIn) t.line(t.style('yellow', standInNote(standIn)));
  for (const r of v.roles) {
    const mark = r.ready >= r.desired && r.pods.every((p) => p.ready) ? t.style('green', '✔') : t.style('yellow', '!');
    t.line(`${mark} ${r.role}: ${r.ready}/${r.desired} Ready`);
    for (const p of r.pods) {
      if (!p.ready || p.outdated) t.line(`    ${p.name}: ${p.outdated && p.ready ? 'old revision' : (p.issue?.reason ?? 'not Ready')}${p.restarts ? ` (${p.restarts} restarts)` : ''}`);
    }
  }
  if (v.failure) t.line(t.style('red', `  failing: ${v.failure.object}: ${v.failure.reason}${v.failure.hint ? ` (${v.failure.hint})` : ''}`));
  const bound = snap.pvcs.filter((p) => p.status?.phase === 'Bound').length;
  if (snap.pvcs.length) t.line(`  volumes: ${bound}/${snap.pvcs.length} PVCs Bound`);
  for (const s of svcs) {
    const ports = s.ports.map((p) => `${p.name ?? ''} ${p.port}${p.nodePort ? `:${p.nodePort}` : ''}`.trim()).join(', ');
    const lb = s.type === 'LoadBalancer' ? (s.loadBalancer.length ? ` address ${s.loadBalancer.join(', ')}` : ' (address pending)') : '';
    t.line(`  service ${s.name}: ${s.type}${s.clusterIP === 'None' ? ' (headless)' : ''}${lb}, ${s.endpoints.ready}/${s.endpoints.total} endpoints ready [${ports}]`);
  }
  t.line(`  Raft${standIn ? ' (STAND-IN)' : ''}: ${raftNote}`);
  return exit;
}
