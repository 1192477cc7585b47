// The RobustMQ check, after the pods are Ready: every meta pod's admin API answers `GET /api/info`, they all report
// the same leader and term for every Raft shard (metadata_0, offset_N, data_N), the voters are the meta nodes, and
// every node is registered. Pure: parsing and judging answers shaped like RobustMQ v0.4.11's types
// (AdminServerResponse {code,data,error}, ClusterInfoResp, BrokerNode, MetaStatus = openraft RaftMetrics).
// How the answers are fetched (exec + loopback curl, or pods/proxy) is the caller's business; an answer that could not
// be fetched because access is blocked is a warning, not a failure.

export interface BrokerNode {
  node_id: number;
  node_ip: string;
  roles: string[];
  grpc_addr?: string;
  http_addr?: string;
  engine_addr?: string;
  start_time?: number;
  register_time?: number;
}

export interface MetaStatus {
  id?: number;
  state?: string;
  current_term?: number;
  current_leader?: number | null;
  last_log_index?: number | null;
  membership_config?: { membership?: { configs?: number[][]; nodes?: Record<string, { node_id?: number; rpc_addr?: string }> } };
}

export interface ClusterInfo {
  version?: string;
  cluster_name?: string;
  start_time?: number;
  broker_node_list: BrokerNode[];
  meta: Record<string, MetaStatus>;
  nodes?: string[];
}

export type Parsed = { ok: true; info: ClusterInfo } | { ok: false; error: string };

/** Parses the body of `GET /api/info`. RobustMQ answers HTTP 200 even for errors; `code` tells. */
export function parseInfo(body: string): Parsed {
  let j: unknown;
  try {
    j = JSON.parse(body);
  } catch {
    const first = body.trim().split('\n')[0] ?? '';
    return { ok: false, error: `not JSON: ${first.slice(0, 200) || '(empty answer)'}` };
  }
  const r = j as { code?: number; data?: unknown; error?: string | null; message?: string };
  if (r.code !== 0) return { ok: false, error: `code ${r.code ?? '?'}: ${r.error ?? r.message ?? 'no error text'}` };
  const d = r.data as Partial<ClusterInfo> | undefined;
  if (!d || typeof d !== 'object' || !Array.isArray(d.broker_node_list) || typeof d.meta !== 'object' || d.meta === null) {
    return { ok: false, error: 'answer has no broker_node_list/meta (not a RobustMQ /api/info answer?)' };
  }
  return { ok: true, info: d as ClusterInfo };
}

/** Parses `POST /api/v1/login` (wrapper uses `message`, not `error`). */
export function parseLogin(body: string): { ok: true; token: string; expiresIn: number } | { ok: false; error: string } {
  try {
    const r = JSON.parse(body) as { code?: number; data?: { token?: string; expires_in?: number } | null; message?: string };
    if (r.code === 0 && r.data?.token) return { ok: true, token: r.data.token, expiresIn: r.data.expires_in ?? 0 };
    return { ok: false, error: `login refused: ${r.message ?? `code ${r.code}`}` };
  } catch {
    return { ok: false, error: `login: not JSON: ${body.slice(0, 200)}` };
  }
}

export type PodAnswer = { pod: string; body: string } | { pod: string; error: string; blocked: boolean };

export interface ClusterCheckInput {
  answers: PodAnswer[];
  /** every node the release runs (combined: replicaCount; split: meta + broker + engine) */
  expectedNodes: number;
  /** meta voters (combined.metaReplicas or meta.replicaCount) */
  expectedVoters: number;
}

export interface ShardView {
  shard: string;
  leader: number | null;
  term: number | null;
  voters: number[];
  /** pod names that reported this view */
  reportedBy: string[];
}

export interface ClusterCheckResult {
  /** ok: all agree and all registered; failed: they disagree or something is missing; blocked: no answer could be fetched */
  status: 'ok' | 'failed' | 'blocked';
  shards: ShardView[];
  nodes: { id: number; host: string; pod: string; roles: string[] }[];
  /** the gRPC address (host:port) of each voter, from the Raft membership the pods reported */
  voterAddrs?: Record<number, string>;
  problems: string[];
  warnings: string[];
  /** the test stand-in's image when the meta pods run it (src/core/standin.ts) */
  standIn?: string;
}

/** `robustmq-1.robustmq-headless.ns.svc.cluster.local` → `robustmq-1` */
export function podOfHost(host: string): string {
  return host.split(':')[0]!.split('.')[0]!;
}

export function checkCluster(input: ClusterCheckInput): ClusterCheckResult {
  const problems: string[] = [];
  const warnings: string[] = [];
  const parsed: { pod: string; info: ClusterInfo }[] = [];
  let blocked = 0;
  for (const a of input.answers) {
    if ('error' in a) {
      if (a.blocked) {
        blocked++;
        warnings.push(`${a.pod}: ${a.error}`);
      } else problems.push(`${a.pod}: ${a.error}`);
      continue;
    }
    const p = parseInfo(a.body);
    if (p.ok) parsed.push({ pod: a.pod, info: p.info });
    else problems.push(`${a.pod}: /api/info ${p.error}`);
  }
  if (input.answers.length > 0 && blocked === input.answers.length) {
    return { status: 'blocked', shards: [], nodes: [], problems: [], warnings };
  }

  // Same leader and term per shard, from every pod that answered.
  const byShard = new Map<string, ShardView[]>();
  const voterAddrs: Record<number, string> = {};
  for (const { pod, info } of parsed) {
    for (const [shard, m] of Object.entries(info.meta)) {
      for (const n of Object.values(m.membership_config?.membership?.nodes ?? {})) {
        if (typeof n.node_id === 'number' && n.rpc_addr) voterAddrs[n.node_id] ??= n.rpc_addr;
      }
      const voters = [...new Set((m.membership_config?.membership?.configs ?? []).flat())].sort((a, b) => a - b);
      const view = { leader: m.current_leader ?? null, term: m.current_term ?? null, voters };
      const views = byShard.get(shard) ?? [];
      const same = views.find((v) => v.leader === view.leader && v.term === view.term && v.voters.join() === view.voters.join());
      if (same) same.reportedBy.push(pod);
      else views.push({ shard, ...view, reportedBy: [pod] });
      byShard.set(shard, views);
    }
  }
  const shards: ShardView[] = [];
  for (const [shard, views] of [...byShard.entries()].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
    if (views.length > 1) {
      problems.push(`shard ${shard}: the meta pods disagree: ${views.map((v) => `${v.reportedBy.join(',')} → leader ${v.leader ?? 'none'} term ${v.term ?? '?'}`).join('; ')}`);
    }
    const v = views[0]!;
    shards.push(v);
    if (v.leader === null || v.leader === undefined) problems.push(`shard ${shard}: no leader: election in progress`);
    else if (!v.voters.includes(v.leader)) problems.push(`shard ${shard}: leader ${v.leader} is not a voter (${v.voters.join(',')})`);
    if (v.voters.length !== input.expectedVoters) problems.push(`shard ${shard}: ${v.voters.length} voters (${v.voters.join(',') || 'none'}), expected ${input.expectedVoters}`);
  }
  if (parsed.length > 0 && shards.length === 0) problems.push('no Raft shard reported (meta service not running?)');
  if (parsed.length > 0 && !shards.some((s) => s.shard.startsWith('metadata'))) problems.push('the metadata shard is missing from the Raft status');

  // Every node registered: take the longest list (all pods read the same registry).
  const registry = parsed.map((p) => p.info.broker_node_list).sort((a, b) => b.length - a.length)[0] ?? [];
  const nodes = registry
    .map((n) => ({ id: n.node_id, host: n.node_ip, pod: podOfHost(n.node_ip), roles: n.roles ?? [] }))
    .sort((a, b) => a.id - b.id);
  if (parsed.length > 0 && nodes.length !== input.expectedNodes) {
    problems.push(`${nodes.length} nodes registered (${nodes.map((n) => n.pod).join(', ') || 'none'}), expected ${input.expectedNodes}`);
  }
  if (blocked > 0) warnings.unshift(`${blocked} of ${input.answers.length} meta pods could not be asked`);
  return { status: problems.length ? 'failed' : 'ok', shards, nodes, voterAddrs, problems, warnings };
}

/** One shard of a node's OWN Raft view, as the chart's status.sh prints it. */
export interface OwnShardView {
  shard: string;
  state: string;
  leader: number | null;
  term: number | null;
}

/** `broker_id=2 shard=metadata_0 state=Follower leader=1 term=3 voters=[[1,2,3]]` lines (status.sh) → views. */
export function parseStatusLines(text: string): OwnShardView[] {
  const out: OwnShardView[] = [];
  for (const line of text.split('\n')) {
    const f = Object.fromEntries([...line.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    if (!f.shard || !f.state) continue;
    out.push({ shard: f.shard, state: f.state, leader: /^\d+$/.test(f.leader ?? '') ? Number(f.leader) : null, term: /^\d+$/.test(f.term ?? '') ? Number(f.term) : null });
  }
  return out;
}

/** What the named leader said about itself, asked over the pod network from another meta pod. */
export type LeaderAnswer = { leader: number; addr: string; text: string } | { leader: number; addr: string; error: string; blocked: boolean };

/**
 * The pods agreeing on a leader proves nothing by itself: after a leader dies, v0.4.11's survivors keep naming it, same
 * term, for 25-55 s (hand run). So every named leader must answer, from its own Raft view, that it leads each shard it
 * is named for, at the same term; otherwise the cluster is mid-election, whatever the followers say.
 */
export function confirmLeaders(r: ClusterCheckResult, answers: LeaderAnswer[]): ClusterCheckResult {
  if (r.status === 'blocked') return r;
  const problems = [...r.problems];
  const warnings = [...r.warnings];
  const podOf = new Map(r.nodes.map((n) => [n.id, n.pod]));
  const name = (id: number) => `leader ${id}${podOf.get(id) ? ` (${podOf.get(id)})` : ''}`;
  for (const a of answers) {
    const named = r.shards.filter((s) => s.leader === a.leader);
    if (named.length === 0) continue;
    const terms = [...new Set(named.map((s) => s.term ?? '?'))].join(',');
    if ('error' in a) {
      if (a.blocked) warnings.push(`${name(a.leader)} could not be asked whether it leads: ${a.error}`);
      else problems.push(`${name(a.leader)} unreachable at ${a.addr} (${a.error}); the meta pods still name it (term ${terms}): election in progress or the pod is down`);
      continue;
    }
    const own = parseStatusLines(a.text);
    for (const s of named) {
      const v = own.find((o) => o.shard === s.shard);
      if (!v) problems.push(`${name(a.leader)} does not report shard ${s.shard} in its own Raft view`);
      else if (v.state !== 'Leader' || (s.term !== null && v.term !== s.term)) {
        problems.push(`${name(a.leader)} does not confirm it leads shard ${s.shard} (its own view: ${v.state}, term ${v.term ?? '?'}; the others say term ${s.term ?? '?'}): election in progress`);
      }
    }
  }
  return { ...r, status: problems.length ? 'failed' : 'ok', problems, warnings };
}

/** `metadata_0 leader robustmq-0 (node 1, term 1)`: node ids named by pod where the registry says which is which. */
export function describeLeaders(r: ClusterCheckResult): string[] {
  const podOf = new Map(r.nodes.map((n) => [n.id, n.pod]));
  return r.shards.map((s) => `${s.shard}: leader ${s.leader === null ? 'none' : `${podOf.get(s.leader) ?? '?'} (node ${s.leader})`}, term ${s.term ?? '?'}, voters ${s.voters.join(',')}`);
}
