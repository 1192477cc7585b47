import { describe, expect, it } from 'vitest';
import { unknownFacts, type Facts } from '../../src/core/facts.js';
import { initialState, questionById, QUESTIONS, upgradeState, validateCpu, validateDnsLabel, validateHost, validateMemory, validateQuantity, validateReplicas, type WizardState } from '../../src/core/questions.js';
import { getPath, type Values } from '../../src/core/values.js';

const presets: Record<'dev' | 'test' | 'prod', Values> = {
  dev: { topology: 'combined', combined: { replicaCount: 1, metaReplicas: 1, persistence: { size: '5Gi' } }, metrics: { serviceMonitor: { enabled: false } } },
  test: { topology: 'combined', combined: { replicaCount: 3, metaReplicas: 3, persistence: { size: '10Gi' } } },
  prod: { topology: 'split', meta: { replicaCount: 3 }, broker: { replicaCount: 3 }, engine: { replicaCount: 3, persistence: { size: '100Gi', storageClass: 'fast' } } },
};
const chartDefaults: Values = {
  topology: 'combined',
  combined: { replicaCount: 1, metaReplicas: 1, persistence: { enabled: true, size: '8Gi', storageClass: '' } },
  meta: { replicaCount: 3, persistence: { enabled: true, size: '2Gi' } },
  broker: { replicaCount: 3, persistence: { enabled: false, size: '2Gi' } },
  engine: { replicaCount: 3, persistence: { enabled: true, size: '20Gi' } },
  service: { type: 'ClusterIP' },
  ingress: { enabled: false, className: '', hosts: [] },
  metrics: { serviceMonitor: { enabled: 'auto' }, prometheusRule: { enabled: 'auto' } },
};
const cluster: Facts = {
  reachable: true,
  crds: { serviceMonitor: true, prometheusRule: true },
  storageClasses: [
    { name: 'standard', isDefault: false, provisioner: 'rancher.io/local-path', volumeBindingMode: 'WaitForFirstConsumer' },
    { name: 'fast', isDefault: true, provisioner: 'ebs.csi.aws.com' },
  ],
  ingressClasses: [
    { name: 'nginx', isDefault: true, controller: 'k8s.io/ingress-nginx' },
    { name: 'traefik', isDefault: false },
  ],
};

function state(facts: Facts = cluster, over: Partial<WizardState> = {}, fixed: string[] = []): WizardState {
  return { ...initialState({ facts, presets, chartDefaults, release: 'robustmq', namespace: 'robustmq', fixed: new Set(fixed) }), ...over };
}
function pick(s: WizardState, id: string, answer: string | boolean) {
  return questionById(id).apply(answer, s);
}

describe('validators', () => {
  it('replicas: whole, 1..99; voters odd; prod voters >= 3', () => {
    expect(validateReplicas(3, { voters: true, prod: true })).toBe(true);
    expect(validateReplicas('5', { voters: true, prod: false })).toBe(true);
    expect(validateReplicas(1, { voters: true, prod: false })).toBe(true);
    expect(validateReplicas(1, { voters: true, prod: true })).toBe('prod needs at least 3 meta voters to survive losing one');
    expect(validateReplicas(4, { voters: true, prod: false })).toBe('meta voters must be odd (Raft needs a majority): 3 or 5');
    expect(validateReplicas(4, { voters: false, prod: true })).toBe(true);
    expect(validateReplicas(0, { voters: false, prod: false })).toBe('must be at least 1');
    expect(validateReplicas(300, { voters: false, prod: false })).toBe(true);
    expect(validateReplicas(1001, { voters: false, prod: false })).toBe('must be at most 1000');
    expect(validateReplicas(11, { voters: true, prod: false })).toMatch(/^at most 9 meta voters/);
    expect(validateReplicas('2.5', { voters: false, prod: false })).toBe('must be a whole number, not "2.5"');
    expect(validateReplicas('', { voters: false, prod: false })).toBe('must be a whole number, not ""');
  });
  it('quantities', () => {
    for (const ok of ['10Gi', '500Mi', '1Ti', '2G', '1.5Gi', '1048576']) expect(validateQuantity(ok)).toBe(true);
    expect(validateQuantity('10GB')).toMatch(/not a size/);
    expect(validateQuantity('0Gi')).toBe('must be more than 0');
    expect(validateQuantity('10Ki')).toBe('10Ki is too small for a volume: at least 1Mi');
    expect(validateQuantity('-1Gi')).toMatch(/not a size/);
  });
  it('names and hosts', () => {
    expect(validateDnsLabel('robustmq')).toBe(true);
    expect(validateDnsLabel('')).toBe('name must not be empty');
    expect(validateDnsLabel('Bad')).toMatch(/lowercase/);
    expect(validateDnsLabel('a'.repeat(54), 53, 'release name')).toBe('release name must be at most 53 characters');
    expect(validateHost('mqtt.example.com')).toBe(true);
    expect(validateHost('*.example.com')).toBe(true);
    expect(validateHost('mqtt..example.com')).toMatch(/not a DNS host name/);
    expect(validateHost('MQTT.example.com')).toMatch(/not a DNS host name/);
  });
});

describe('questions are data', () => {
  it('every question has an id, a type and keys; ids are unique', () => {
    const ids = QUESTIONS.map((q) => q.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([
      'environment', 'release', 'namespace', 'topology', 'replicas.combined', 'scale-down.combined', 'voters.combined', 'voters.change.combined',
      'replicas.meta', 'voters.change.meta', 'replicas.broker', 'scale-down.broker', 'replicas.engine', 'scale-down.engine',
      'storage.class', 'storage.size.combined', 'storage.size.meta', 'storage.size.broker', 'storage.size.engine',
      'resources.change',
      ...['combined', 'meta', 'broker', 'engine'].flatMap((r) => ['requests.cpu', 'requests.memory', 'limits.memory'].map((k) => `resources.${r}.${k}`)),
      'image.tag',
      'ingress.enabled', 'ingress.className', 'ingress.host', 'service.type', 'monitoring',
    ]);
  });
  it('the environment picks the preset and re-applies earlier answers', () => {
    let s = state();
    expect(questionById('environment').default(s)).toBe('dev');
    s = pick(s, 'environment', 'prod');
    expect(s.env).toBe('prod');
    expect(questionById('topology').default(s)).toBe('split');
    expect(questionById('replicas.meta').default(s)).toBe('3');
  });
  it('replica questions follow the topology', () => {
    const combined = state();
    expect(questionById('replicas.combined').when!(combined)).toBe(true);
    expect(questionById('replicas.meta').when!(combined)).toBe(false);
    const split = pick(combined, 'topology', 'split');
    expect(questionById('replicas.combined').when!(split)).toBe(false);
    expect(questionById('replicas.broker').when!(split)).toBe(true);
    expect(split.answers).toEqual({ topology: 'split' });
  });
  it('voters: default capped and odd, validated against the pod count and prod', () => {
    let s = pick(state(), 'replicas.combined', '4');
    const q = questionById('voters.combined');
    expect(q.default(s)).toBe('3');
    expect(q.validate!('5', s)).toBe('at most the number of pods (4)');
    expect(q.validate!('2', s)).toMatch(/odd/);
    s = pick(pick(state(), 'environment', 'prod'), 'topology', 'combined');
    expect(questionById('replicas.combined').validate!('1', s)).toBe('prod needs at least 3 pods (3 meta voters)');
    expect(q.validate!('1', pick(s, 'replicas.combined', '3'))).toBe('prod needs at least 3 meta voters to survive losing one');
  });
  it('storage class: cluster classes with the default marked; default = preset if it exists, else the cluster default', () => {
    const q = questionById('storage.class');
    const s = state();
    expect(q.choices!(s)).toEqual([
      { value: 'standard', name: 'standard', description: 'rancher.io/local-path, WaitForFirstConsumer' },
      { value: 'fast', name: 'fast (default)', description: 'ebs.csi.aws.com' },
    ]);
    expect(q.default(s)).toBe('fast');
    const prod = pick(s, 'environment', 'prod');
    expect(q.keys(prod)).toEqual(['meta.persistence.storageClass', 'broker.persistence.storageClass', 'engine.persistence.storageClass']);
    const applied = q.apply('standard', prod);
    expect(applied.answers).toEqual({ meta: { persistence: { storageClass: 'standard' } }, broker: { persistence: { storageClass: 'standard' } }, engine: { persistence: { storageClass: 'standard' } } });
  });
  it('storage class without a cluster: free text, empty means the cluster default', () => {
    const q = questionById('storage.class');
    const s = state(unknownFacts('offline'));
    expect(q.choices!(s)).toEqual([{ value: '', name: '(none: leave it to the cluster)' }]);
    expect(q.default(s)).toBe('');
    expect(q.message(s)).toBe('StorageClass (empty = the cluster default)');
    expect(q.validate!('', s)).toBe(true);
    expect(q.validate!('Fast_SSD', s)).toMatch(/lowercase/);
  });
  it('a preset class missing from the cluster is offered but not the default', () => {
    const q = questionById('storage.class');
    const s = pick(state({ ...cluster, storageClasses: [{ name: 'standard', isDefault: true }] }), 'environment', 'prod');
    expect(q.choices!(s).map((c) => c.name)).toEqual(['standard (default)', 'fast (from the preset; not in this cluster)']);
    expect(q.default(s)).toBe('standard');
  });
  it('sizes: one per role with persistence; roles with persistence off say why', () => {
    const prod = pick(state(), 'environment', 'prod');
    expect(questionById('storage.size.engine').default(prod)).toBe('100Gi');
    expect(questionById('storage.size.meta').default(prod)).toBe('2Gi');
    expect(questionById('storage.size.broker').when!(prod)).toBe('broker: persistence is off in this preset (emptyDir), no volume size to ask');
    expect(questionById('storage.size.combined').when!(prod)).toBe(false);
    expect(questionById('storage.size.engine').validate!('huge', prod)).toMatch(/not a size/);
    expect(pick(prod, 'storage.size.engine', ' 50Gi ').answers).toEqual({ engine: { persistence: { size: '50Gi' } } });
  });
  it('ingress: class and host only when enabled; classes from the cluster', () => {
    let s = state();
    expect(questionById('ingress.enabled').default(s)).toBe(false);
    expect(questionById('ingress.className').when!(s)).toBe(false);
    s = pick(s, 'ingress.enabled', true);
    expect(questionById('ingress.className').when!(s)).toBe(true);
    expect(questionById('ingress.className').default(s)).toBe('nginx');
    expect(questionById('ingress.className').choices!(s).map((c) => c.name)).toEqual(['nginx (default)', 'traefik']);
    expect(questionById('ingress.host').default(s)).toBe('mqtt.robustmq.example.com');
    expect(questionById('ingress.host').validate!('not a host', s)).toMatch(/not a DNS host name/);
    s = pick(s, 'ingress.host', 'mqtt.example.com');
    expect(s.answers).toEqual({ ingress: { enabled: true, hosts: ['mqtt.example.com'] } });
  });
  it('MQTT exposure: service type choices, default from the preset or chart', () => {
    const s = state();
    expect(questionById('service.type').choices!(s).map((c) => c.value)).toEqual(['ClusterIP', 'NodePort', 'LoadBalancer']);
    expect(questionById('service.type').default(s)).toBe('ClusterIP');
  });
  it('monitoring: offered only with the CRDs, otherwise says why', () => {
    const q = questionById('monitoring');
    expect(q.when!(state())).toBe(true);
    expect(q.keys(state())).toEqual(['metrics.serviceMonitor.enabled', 'metrics.prometheusRule.enabled']);
    expect(q.default(state())).toBe(false); // dev preset says false
    expect(q.default(pick(state(), 'environment', 'prod'))).toBe(true); // chart default auto
    expect(q.when!(state({ ...cluster, crds: { serviceMonitor: false } }))).toBe('monitoring not offered: the ServiceMonitor CRD (monitoring.coreos.com/v1) is not installed in the cluster');
    expect(q.when!(state(unknownFacts('no cluster contact (--dry-run/render)')))).toBe('monitoring not offered: could not check for the Prometheus Operator CRDs (no cluster contact (--dry-run/render))');
    expect(q.apply(true, state({ ...cluster, crds: { serviceMonitor: true } })).answers).toEqual({ metrics: { serviceMonitor: { enabled: true } } });
  });
  it('keys fixed by --set are not asked, and the user is told', () => {
    const s = state(cluster, {}, ['service.type', 'topology']);
    expect(questionById('service.type').when!(s)).toBe('set by --set (service.type)');
    expect(questionById('topology').when!(s)).toBe('set by --set (topology)');
  });
  it('release and namespace are validated', () => {
    expect(questionById('release').validate!('Bad Name', state())).toMatch(/lowercase/);
    expect(questionById('namespace').validate!('ok-ns', state())).toBe(true);
    expect(pick(state(), 'namespace', 'iot').namespace).toBe('iot');
  });
});

describe('upgrade mode: defaults are what runs, scaling tells the truth', () => {
  const computed: Values = {
    topology: 'split',
    meta: { replicaCount: 5, resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '2Gi' } }, persistence: { enabled: true, size: '10Gi', storageClass: 'fast' } },
    broker: { replicaCount: 3, persistence: { enabled: true, size: '10Gi', storageClass: 'fast', retentionPolicy: { whenScaled: 'Retain' } } },
    engine: { replicaCount: 3, persistence: { enabled: true, size: '50Gi', storageClass: 'fast', retentionPolicy: { whenScaled: 'Delete' } } },
    image: { tag: 'v0.4.10', digest: '' },
    service: { type: 'ClusterIP' },
  };
  const up = () => upgradeState({ facts: cluster, userValues: { topology: 'split', meta: { replicaCount: 5 } }, computed, release: 'mq', namespace: 'iot', testedTags: ['v0.4.11'] });

  it('defaults come from the release; install-only questions show the running value', () => {
    const s = up();
    expect(questionById('replicas.meta').default(s)).toBe('5');
    expect(questionById('replicas.engine').default(s)).toBe('3');
    expect(questionById('topology').installOnly!(s)).toBe('split');
    expect(questionById('storage.class').installOnly!(s)).toBe('fast');
    expect(questionById('storage.size.engine').installOnly!(s)).toBe('50Gi');
    expect(questionById('environment').modes).toEqual(['install']);
  });

  it('voters: up is a rolling restart to confirm; down needs the top ids to leave first; below two is refused', () => {
    const s = up();
    const q = questionById('replicas.meta');
    expect(q.validate!('1', s)).toMatch(/RobustMQ refuses to remove voters below two \(cluster node leave\), so 5 → 1 cannot be done by an upgrade/);
    expect(q.validate!('4', s)).toMatch(/must be odd/);
    expect(q.validate!('3', s)).toBe(true);
    const down = q.apply('3', s);
    const guide = questionById('voters.change.meta');
    expect(guide.when!(down)).toBe(true);
    expect(guide.message(down)).toBe(
      'Raft voters 5 → 3: ids 5 and 4 must leave Raft first, highest first, while they run (kubectl exec mq-robustmq-meta-0 -c robustmq -- /robustmq/libs/cli-command cluster node leave -n <id>). Have they left? (No keeps 5)',
    );
    expect(guide.default(down)).toBe(false);
    expect(getPath(guide.apply(false, down).answers, 'meta.replicaCount')).toBeUndefined();
    expect(getPath(guide.apply(true, down).answers, 'meta.replicaCount')).toBe(3);
    const upTo7 = q.apply('7', s);
    expect(guide.message(upTo7)).toMatch(/^Raft voters 5 → 7: meta_addrs changes, so every pod restarts, one at a time/);
    expect(guide.default(upTo7)).toBe(true);
    expect(guide.when!(q.apply('5', s))).toBe(false);
  });

  it('broker and engine scale-down name the pods leaving and what goes with them; no keeps the count', () => {
    const s = up();
    const b = questionById('replicas.broker').apply('1', s);
    const qb = questionById('scale-down.broker');
    expect(qb.when!(b)).toBe(true);
    expect(qb.message(b)).toBe(
      'broker pods 3 → 1: mq-robustmq-broker-2 and mq-robustmq-broker-1 leave; their MQTT clients are disconnected and must reconnect to the other brokers. Their PVCs are kept; clear their node ids afterwards with cluster node leave. Scale down?',
    );
    expect(getPath(qb.apply(false, b).answers, 'broker.replicaCount')).toBeUndefined();
    const e = questionById('replicas.engine').apply('2', s);
    expect(questionById('scale-down.engine').message(e)).toMatch(/^engine pods 3 → 2: mq-robustmq-engine-2 leave; the data their storage engines hold is no longer served\. Their PVCs are DELETED \(retentionPolicy\.whenScaled: Delete\)/);
    expect(questionById('scale-down.engine').when!(questionById('replicas.engine').apply('4', s))).toBe(false);
  });

  it('image tag: the tested versions, and the running one marked untested; resources validated', () => {
    const s = up();
    const q = questionById('image.tag');
    expect(q.when!(s)).toBe(true);
    expect(q.choices!(s).map((c) => c.name)).toEqual(['v0.4.11', 'v0.4.10 (running now; not tested with this chart)']);
    expect(q.default(s)).toBe('v0.4.10');
    expect(q.when!({ ...s, testedTags: [] })).toMatch(/image tag not offered/);
    const lim = questionById('resources.meta.limits.memory');
    expect(lim.validate!('512Mi', s)).toBe('below the memory request (1Gi): a limit must be at least the request');
    expect(lim.validate!('4Gi', s)).toBe(true);
    expect(validateCpu('250m')).toBe(true);
    expect(validateCpu('2 cores')).toMatch(/not a CPU amount/);
    expect(validateMemory('10')).toMatch(/too little memory/);
  });
});
