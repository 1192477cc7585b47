import { describe, expect, it } from 'vitest';
import type { K8sPod } from '../../src/core/k8s-types.js';
import { metaPods, settled, topologyFromValues } from '../../src/flows/smoke.js';
import { expectedFrom } from '../../src/flows/watch.js';
import type { K8sStatefulSet } from '../../src/core/k8s-types.js';

const pod = (name: string, component: string, extra: Partial<K8sPod['metadata']> = {}): K8sPod => ({
  metadata: { name, labels: { 'app.kubernetes.io/component': component, 'app.kubernetes.io/instance': 'robustmq' }, ...extra },
  spec: { containers: [{ name: 'robustmq' }] },
});

describe('which pods are meta voters', () => {
  it('combined: the first metaReplicas ordinals (computed values from helm get values --all)', () => {
    const t = topologyFromValues({ topology: 'combined', combined: { replicaCount: 5, metaReplicas: 3 }, config: { http_port: 58080 } });
    expect(t).toEqual({ topology: 'combined', expectedNodes: 5, expectedVoters: 3, httpPort: 58080 });
    const pods = ['robustmq-4', 'robustmq-0', 'robustmq-10', 'robustmq-2', 'robustmq-1'].map((n) => pod(n, 'combined'));
    expect(metaPods(pods, t).map((p) => p.metadata.name)).toEqual(['robustmq-0', 'robustmq-1', 'robustmq-2']);
  });
  it('split: the meta component; test hook pods and terminating pods are skipped', () => {
    const t = topologyFromValues({ topology: 'split', meta: { replicaCount: 3 }, broker: { replicaCount: 2 }, engine: { replicaCount: 1 }, config: { http_port: '8080' } });
    expect(t).toEqual({ topology: 'split', expectedNodes: 6, expectedVoters: 3, httpPort: 8080 });
    const pods = [pod('rmq-meta-0', 'meta'), pod('rmq-broker-0', 'broker'), pod('rmq-meta-1', 'meta', { deletionTimestamp: '2026-11-26T10:00:00Z' }), pod('rmq-test', 'meta', { annotations: { 'helm.sh/hook': 'test' } })];
    expect(metaPods(pods, t).map((p) => p.metadata.name)).toEqual(['rmq-meta-0']);
  });
  it('defaults follow the chart when values are missing', () => {
    expect(topologyFromValues({})).toEqual({ topology: 'combined', expectedNodes: 1, expectedVoters: 1, httpPort: 58080 });
  });
});

describe('desired replicas from the live StatefulSets', () => {
  const sts = (name: string, role: string, replicas: number, o: { gen?: number; observed?: number; rev?: string; deleting?: boolean } = {}): K8sStatefulSet => ({
    metadata: { name, ...(o.gen ? { generation: o.gen } : {}), ...(o.deleting ? { deletionTimestamp: 'x' } : {}) } as K8sStatefulSet['metadata'],
    spec: { replicas, template: { metadata: { labels: { 'app.kubernetes.io/component': role } } } } as K8sStatefulSet['spec'],
    status: { ...(o.observed ? { observedGeneration: o.observed } : {}), ...(o.rev ? { updateRevision: o.rev } : {}) },
  });
  it('orders roles meta, broker, engine and takes update revisions only once observed', () => {
    const r = expectedFrom([sts('rmq-engine', 'engine', 3, { gen: 2, observed: 1, rev: 'e-old' }), sts('rmq-meta', 'meta', 3, { gen: 1, observed: 1, rev: 'm-1' }), sts('rmq-broker', 'broker', 2), sts('gone', 'broker', 9, { deleting: true })]);
    expect(Object.keys(r.expected)).toEqual(['meta', 'broker', 'engine']);
    expect(r.expected).toEqual({ meta: 3, broker: 2, engine: 3 });
    expect(r.updateRevisions).toEqual({ meta: 'm-1' });
    expect(r.workloads).toEqual(['rmq-engine', 'rmq-meta', 'rmq-broker']);
  });
});

describe('the RobustMQ check waits for the cluster to settle', () => {
  // a clock that only the pauses move, and a check that answers from a script
  const run = (answers: string[], o: { settleMs?: number; retryMs?: number; abortAfter?: number } = {}) => {
    let clock = 0;
    let calls = 0;
    const retries: number[] = [];
    const p = settled(async () => ({ status: answers[Math.min(calls++, answers.length - 1)]!, problems: [`look ${calls}`] }), {
      settleMs: o.settleMs ?? 60_000,
      retryMs: o.retryMs ?? 3_000,
      now: () => clock,
      sleep: async (ms) => void (clock += ms),
      aborted: () => o.abortAfter !== undefined && calls >= o.abortAfter,
      onRetry: (_r, attempt) => retries.push(attempt),
    });
    return p.then((r) => ({ ...r, calls, retries }));
  };

  it('a first good look is final: no retry', async () => {
    expect(await run(['ok'])).toMatchObject({ result: { status: 'ok' }, attempts: 1, ms: 0, retries: [] });
  });
  it('a failure that clears (the real server after a rolling restart) ends ok, counting the looks', async () => {
    expect(await run(['failed', 'failed', 'ok'])).toMatchObject({ result: { status: 'ok' }, attempts: 3, ms: 6_000, retries: [1, 2] });
  });
  it('a failure that lasts stands after the settle time, never past it', async () => {
    const r = await run(['failed'], { settleMs: 10_000, retryMs: 3_000 });
    expect(r.result).toMatchObject({ status: 'failed' });
    expect(r.attempts).toBe(4); // at 0, 3, 6 and 9 s: a fifth would start past 10 s
    expect(r.ms).toBeLessThanOrEqual(10_000);
  });
  it('blocked (no exec) is final at once; an abort stops the asking', async () => {
    expect(await run(['blocked'])).toMatchObject({ result: { status: 'blocked' }, attempts: 1 });
    expect(await run(['failed'], { abortAfter: 2 })).toMatchObject({ result: { status: 'failed' }, attempts: 2 });
  });
});
