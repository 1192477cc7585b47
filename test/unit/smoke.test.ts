import { describe, expect, it } from 'vitest';
import type { K8sPod } from '../../src/core/k8s-types.js';
import { metaPods, topologyFromValues } from '../../src/flows/smoke.js';
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
