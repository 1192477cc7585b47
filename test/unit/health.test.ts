import { describe, expect, it } from 'vitest';
import { assess, describeFailure, notReadyLines, DEFAULT_THRESHOLDS, type HealthInput } from '../../src/core/health.js';
import type { ContainerStatus, K8sEvent, K8sPod, K8sPvc } from '../../src/core/k8s-types.js';

// Objects below are shaped like `kubectl get pod -o json` from a v1.3x API server (fields trimmed, none invented).
const T0 = Date.parse('2026-11-26T10:00:00Z');
const iso = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();

function pod(name: string, role: string, o: { ready?: boolean; phase?: K8sPod['status'] extends infer S ? S extends { phase?: infer P } ? P : never : never; containers?: ContainerStatus[]; inits?: ContainerStatus[]; conditions?: NonNullable<K8sPod['status']>['conditions']; node?: string | null; created?: number; started?: number; uid?: string; rev?: string; claims?: string[]; deleting?: boolean; nominated?: string; annotations?: Record<string, string> } = {}): K8sPod {
  const ready = o.ready ?? true;
  const node = o.node === null ? undefined : (o.node ?? 'kwok-node-0');
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'robustmq',
      uid: o.uid ?? `uid-${name}`,
      creationTimestamp: iso(o.created ?? 0),
      labels: {
        'app.kubernetes.io/name': 'robustmq',
        'app.kubernetes.io/instance': 'robustmq',
        'app.kubernetes.io/component': role,
        'controller-revision-hash': o.rev ?? `${name.replace(/-\d+$/, '')}-7d9f8c6b5`,
        'statefulset.kubernetes.io/pod-name': name,
      },
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...(o.deleting ? { deletionTimestamp: iso(1000) } : {}),
    },
    spec: {
      ...(node ? { nodeName: node } : {}),
      containers: [{ name: 'robustmq', image: 'ghcr.io/robustmq/robustmq:v0.4.11' }],
      volumes: [
        ...(o.claims ?? [`data-${name}`]).map((c) => ({ name: 'data', persistentVolumeClaim: { claimName: c } })),
        { name: 'config', persistentVolumeClaim: undefined as never },
      ].filter((v) => v.persistentVolumeClaim),
    },
    status: {
      phase: o.phase ?? (ready ? 'Running' : 'Pending'),
      ...(o.started !== undefined ? { startTime: iso(o.started) } : node ? { startTime: iso(o.created ?? 0) } : {}),
      ...(o.nominated ? { nominatedNodeName: o.nominated } : {}),
      conditions: o.conditions ?? [
        { type: 'PodReadyToStartContainers', status: 'True', lastTransitionTime: iso(1000) },
        { type: 'Initialized', status: 'True', lastTransitionTime: iso(1000) },
        { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: iso(2000), ...(ready ? {} : { reason: 'ContainersNotReady', message: 'containers with unready status: [robustmq]' }) },
        { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: iso(2000) },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: iso(0) },
      ],
      ...(o.inits ? { initContainerStatuses: o.inits } : {}),
      containerStatuses: o.containers ?? [
        { name: 'robustmq', ready, restartCount: 0, image: 'ghcr.io/robustmq/robustmq:v0.4.11', started: ready, state: ready ? { running: { startedAt: iso(1500) } } : { waiting: { reason: 'ContainerCreating' } } },
      ],
    },
  };
}

function cs(o: Partial<ContainerStatus> & { waiting?: { reason: string; message?: string }; lastExit?: { exitCode: number; reason?: string } }): ContainerStatus {
  return {
    name: o.name ?? 'robustmq',
    ready: o.ready ?? false,
    restartCount: o.restartCount ?? 0,
    image: o.image ?? 'ghcr.io/robustmq/robustmq:v0.4.11',
    started: false,
    state: o.state ?? (o.waiting ? { waiting: o.waiting } : { running: { startedAt: iso(0) } }),
    ...(o.lastExit ? { lastState: { terminated: { exitCode: o.lastExit.exitCode, reason: o.lastExit.reason ?? 'Error', startedAt: iso(0), finishedAt: iso(5000) } } } : {}),
  };
}

function ev(kind: string, name: string, reason: string, message: string, at: number, o: { type?: 'Normal' | 'Warning'; count?: number; uid?: string } = {}): K8sEvent {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${name}.${reason}.${at}`, namespace: 'robustmq', creationTimestamp: iso(at) },
    involvedObject: { kind, name, namespace: 'robustmq', ...(o.uid ? { uid: o.uid } : {}) },
    reason,
    message,
    type: o.type ?? 'Warning',
    count: o.count ?? 1,
    firstTimestamp: iso(at),
    lastTimestamp: iso(at),
  };
}

function pvc(name: string, phase: 'Pending' | 'Bound', sc = 'standard'): K8sPvc {
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'robustmq' }, spec: { storageClassName: sc, resources: { requests: { storage: '10Gi' } } }, status: { phase } };
}

function input(pods: K8sPod[], o: Partial<HealthInput> = {}): HealthInput {
  return { now: T0 + 10_000, since: T0, expected: { combined: 3 }, pods, ...o };
}

const unschedulable = (msg: string, at = 0) => [
  { type: 'PodScheduled' as const, status: 'False' as const, reason: 'Unschedulable', message: msg, lastTransitionTime: iso(at) },
];

describe('health: counting', () => {
  it('all pods Ready → healthy, x/y per role', () => {
    const v = assess(input([pod('robustmq-0', 'combined'), pod('robustmq-1', 'combined'), pod('robustmq-2', 'combined')]));
    expect(v.status).toBe('healthy');
    expect(v.summary).toBe('combined 3/3 Ready');
    expect(v.failure).toBeUndefined();
  });

  it('split topology counts each role separately and stays progressing until all are Ready', () => {
    const pods = [
      pod('rmq-meta-0', 'meta'),
      pod('rmq-meta-1', 'meta'),
      pod('rmq-meta-2', 'meta'),
      pod('rmq-broker-0', 'broker'),
      pod('rmq-broker-1', 'broker', { ready: false }),
      pod('rmq-engine-0', 'engine'),
    ];
    const v = assess(input(pods, { expected: { meta: 3, broker: 2, engine: 2 } }));
    expect(v.status).toBe('progressing');
    expect(v.summary).toBe('meta 3/3 Ready, broker 1/2 Ready, engine 1/2 Ready');
    expect(notReadyLines(v)).toEqual(['rmq-broker-1: ContainerCreating']);
  });

  it('a Ready pod being deleted does not count', () => {
    const v = assess(input([pod('robustmq-0', 'combined', { deleting: true })], { expected: { combined: 1 } }));
    expect(v.status).toBe('progressing');
    expect(v.roles[0]!.pods[0]!.issue?.reason).toBe('Terminating');
  });

  it('pods of an old revision are not counted Ready while the rollout runs', () => {
    const pods = [pod('robustmq-0', 'combined', { rev: 'robustmq-new' }), pod('robustmq-1', 'combined', { rev: 'robustmq-old' })];
    const v = assess(input(pods, { expected: { combined: 2 }, updateRevisions: { combined: 'robustmq-new' } }));
    expect(v.summary).toBe('combined 1/2 Ready');
    expect(v.status).toBe('progressing');
    expect(notReadyLines(v)).toEqual(['robustmq-1: old revision, waiting to be replaced']);
  });

  it('completed helm test pods are not members', () => {
    const t = pod('robustmq-test-mqtt', 'combined', { phase: 'Succeeded', ready: false, annotations: { 'helm.sh/hook': 'test' } });
    const v = assess(input([pod('robustmq-0', 'combined'), t], { expected: { combined: 1 } }));
    expect(v.status).toBe('healthy');
  });

  it('a running helm test Job pod is not a member', () => {
    const t = pod('robustmq-test-x7k2p', 'test', { ready: false, phase: 'Running' });
    t.metadata.labels!['batch.kubernetes.io/job-name'] = 'robustmq-test';
    t.metadata.ownerReferences = [{ kind: 'Job', name: 'robustmq-test' }];
    const v = assess(input([pod('robustmq-0', 'combined'), t], { expected: { combined: 1 } }));
    expect(v.status).toBe('healthy');
    expect(v.summary).toBe('combined 1/1 Ready');
  });

  it('missing pods keep it progressing', () => {
    expect(assess(input([pod('robustmq-0', 'combined')])).status).toBe('progressing');
  });
});

describe('health: image pull', () => {
  const pulling = (reason: string, message: string, created = 0) =>
    pod('robustmq-0', 'combined', { ready: false, created, containers: [cs({ waiting: { reason, message }, image: 'ghcr.io/robustmq/robustmq:v9.9.9-nope' })] });

  it('manifest unknown is terminal at once', () => {
    const p = pulling('ErrImagePull', 'rpc error: code = NotFound desc = failed to pull and unpack image "ghcr.io/robustmq/robustmq:v9.9.9-nope": failed to resolve reference: ghcr.io/robustmq/robustmq:v9.9.9-nope: not found: manifest unknown');
    const v = assess(input([p], { now: T0 + 3000 }));
    expect(v.status).toBe('failed');
    expect(v.failure?.kind).toBe('image-pull');
    expect(v.failure?.reason).toBe('ErrImagePull: manifest unknown');
    expect(v.failure?.hint).toContain('v9.9.9-nope');
    expect(v.failure?.object).toBe('pod/robustmq-0');
  });

  it('unauthorized is terminal and points at pull secrets', () => {
    const p = pulling('ErrImagePull', 'failed to authorize: failed to fetch anonymous token: unexpected status: 401 Unauthorized');
    const v = assess(input([p]));
    expect(v.status).toBe('failed');
    expect(v.failure?.hint).toMatch(/pullSecrets/);
  });

  it('ImagePullBackOff reads the pull error from the Failed event when the waiting message has none', () => {
    const p = pulling('ImagePullBackOff', 'Back-off pulling image "ghcr.io/robustmq/robustmq:v9.9.9-nope"');
    const e = ev('Pod', 'robustmq-0', 'Failed', 'Failed to pull image "ghcr.io/robustmq/robustmq:v9.9.9-nope": manifest unknown', 2000, { uid: 'uid-robustmq-0' });
    const v = assess(input([p], { events: [e] }));
    expect(v.status).toBe('failed');
    expect(v.failure?.reason).toBe('ImagePullBackOff: manifest unknown');
  });

  it('a pull timeout is transient: never terminal by itself, even long after', () => {
    const p = pulling('ErrImagePull', 'rpc error: code = Unknown desc = failed to pull image: dial tcp 140.82.113.33:443: i/o timeout');
    const v = assess(input([p], { now: T0 + 30 * 60_000 }));
    expect(v.status).toBe('progressing');
    const issue = v.roles[0]!.pods[0]!.issue!;
    expect(issue.terminal).toBe(false);
    expect(issue.reason).toMatch(/transient \(.*timeout\)/);
    expect(issue.hint).toMatch(/--registry/);
  });

  it('an unclassified pull error becomes terminal only after the grace period', () => {
    const p = pulling('ImagePullBackOff', 'Back-off pulling image "x": something odd');
    expect(assess(input([p], { now: T0 + DEFAULT_THRESHOLDS.imagePullGraceMs - 1 })).status).toBe('progressing');
    expect(assess(input([p], { now: T0 + DEFAULT_THRESHOLDS.imagePullGraceMs })).status).toBe('failed');
  });

  it('InvalidImageName is terminal', () => {
    const v = assess(input([pulling('InvalidImageName', 'Failed to apply default image tag "ghcr.io//x:": invalid reference format')]));
    expect(v.failure?.reason).toBe('InvalidImageName');
  });

  it('events from before the operation started are not evidence', () => {
    const p = pulling('ImagePullBackOff', 'Back-off pulling image "x"');
    const old = ev('Pod', 'robustmq-0', 'Failed', 'Failed to pull image "x": manifest unknown', -600_000);
    const v = assess(input([p], { events: [old], now: T0 + 5000 }));
    expect(v.status).toBe('progressing');
  });
});

describe('health: crash loops', () => {
  const crashing = (restarts: number, started = 0, reason = 'Error') =>
    pod('robustmq-1', 'combined', {
      ready: false,
      phase: 'Running',
      started,
      containers: [cs({ restartCount: restarts, waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=robustmq pod=robustmq-1_robustmq' }, lastExit: { exitCode: reason === 'OOMKilled' ? 137 : 1, reason } })],
    });

  it('one or two exits while Raft forms are tolerated', () => {
    const v = assess(input([crashing(2)], { now: T0 + 10 * 60_000 }));
    expect(v.status).toBe('progressing');
    expect(v.roles[0]!.pods[0]!.issue?.reason).toContain('2 restarts, last exit 1 Error');
  });

  it('N restarts inside the grace period are still tolerated', () => {
    const v = assess(input([crashing(5)], { now: T0 + DEFAULT_THRESHOLDS.crashLoopGraceMs - 1 }));
    expect(v.status).toBe('progressing');
  });

  it('N restarts past the grace period are terminal and ask for the previous log', () => {
    const v = assess(input([crashing(3)], { now: T0 + DEFAULT_THRESHOLDS.crashLoopGraceMs }));
    expect(v.status).toBe('failed');
    expect(v.failure?.kind).toBe('crash-loop');
    expect(v.failure?.logsFrom).toEqual({ pod: 'robustmq-1', container: 'robustmq', previous: true });
    expect(describeFailure(v.failure!)).toContain('pod/robustmq-1 (container robustmq): CrashLoopBackOff (3 restarts, last exit 1 Error)');
  });

  it('the grace period runs from the later of operation start and pod start', () => {
    // An upgrade started at T0 replaced the pod at T0+60s: it gets its own full grace period.
    const v = assess(input([crashing(4, 60_000)], { now: T0 + DEFAULT_THRESHOLDS.crashLoopGraceMs + 30_000 }));
    expect(v.status).toBe('progressing');
  });

  it('OOMKilled says to raise the memory limit', () => {
    const v = assess(input([crashing(3, 0, 'OOMKilled')], { now: T0 + 600_000 }));
    expect(v.failure?.hint).toMatch(/limits\.memory/);
  });

  it('init container crash loops are reported as Init:', () => {
    const p = pod('robustmq-0', 'combined', {
      ready: false,
      inits: [cs({ name: 'render-config', restartCount: 4, waiting: { reason: 'CrashLoopBackOff' }, lastExit: { exitCode: 2 } })],
      containers: [cs({ waiting: { reason: 'PodInitializing' } })],
    });
    const v = assess(input([p], { now: T0 + 600_000 }));
    expect(v.failure?.reason).toMatch(/^Init:CrashLoopBackOff \(4 restarts/);
    expect(v.failure?.logsFrom?.container).toBe('render-config');
  });

  it('thresholds are configurable', () => {
    const v = assess(input([crashing(1)], { now: T0 + 1000, thresholds: { crashLoopRestarts: 1, crashLoopGraceMs: 0 } }));
    expect(v.status).toBe('failed');
  });
});

describe('health: scheduling', () => {
  const pending = (msg: string, o: { nominated?: string; at?: number } = {}) =>
    pod('robustmq-2', 'combined', { ready: false, node: null, conditions: unschedulable(msg, o.at ?? 0), containers: [], ...(o.nominated ? { nominated: o.nominated } : {}) });

  it('Unschedulable is not terminal inside the grace period', () => {
    const v = assess(input([pending('0/5 nodes are available: 5 Insufficient cpu.')], { now: T0 + DEFAULT_THRESHOLDS.unschedulableGraceMs - 1 }));
    expect(v.status).toBe('progressing');
    expect(notReadyLines(v)).toEqual(['robustmq-2: Unschedulable']);
  });

  it('Unschedulable past the grace period with no scale-up is terminal, with a hint from the scheduler message', () => {
    const v = assess(input([pending('0/5 nodes are available: 5 Insufficient cpu. preemption: 0/5 nodes are available: 5 No preemption victims found for incoming pod.')], { now: T0 + DEFAULT_THRESHOLDS.unschedulableGraceMs }));
    expect(v.status).toBe('failed');
    expect(v.failure?.kind).toBe('unschedulable');
    expect(v.failure?.hint).toMatch(/resources\.requests/);
  });

  it('a cluster-autoscaler scale-up keeps it waiting', () => {
    const e = ev('Pod', 'robustmq-2', 'TriggeredScaleUp', 'pod triggered scale-up: [{ng-1 3->4 (max: 10)}]', 5000, { type: 'Normal' });
    const v = assess(input([pending('0/5 nodes are available: 5 Insufficient memory.')], { events: [e], now: T0 + 10 * 60_000 }));
    expect(v.status).toBe('progressing');
    expect(v.roles[0]!.pods[0]!.issue?.reason).toMatch(/capacity is being added/);
  });

  it('a nominated node (preemption or Karpenter) keeps it waiting', () => {
    const v = assess(input([pending('0/5 nodes are available: 5 Insufficient memory.', { nominated: 'node-7' })], { now: T0 + 10 * 60_000 }));
    expect(v.status).toBe('progressing');
  });

  it('NotTriggerScaleUp is not progress', () => {
    const e = ev('Pod', 'robustmq-2', 'NotTriggerScaleUp', "pod didn't trigger scale-up: 1 max node group size reached", 5000, { type: 'Normal' });
    const v = assess(input([pending('0/5 nodes are available: 5 node(s) didn\'t match pod anti-affinity rules.')], { events: [e], now: T0 + 10 * 60_000 }));
    expect(v.status).toBe('failed');
    expect(v.failure?.message).toContain('max node group size reached');
    expect(v.failure?.hint).toMatch(/affinity/);
  });

  it('an unbound claim that is being provisioned is progress', () => {
    const p = pending('0/5 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: not eligible');
    const e = ev('PersistentVolumeClaim', 'data-robustmq-2', 'ExternalProvisioning', "Waiting for a volume to be created either by the external provisioner 'x' or manually by the system administrator", 1000, { type: 'Normal' });
    const v = assess(input([p], { events: [e], pvcs: [pvc('data-robustmq-2', 'Pending')], now: T0 + 10 * 60_000 }));
    expect(v.status).toBe('progressing');
    expect(v.roles[0]!.pods[0]!.issue?.kind).toBe('volume');
  });

  it('a claim whose storage class does not exist is terminal', () => {
    const p = pending('0/5 nodes are available: pod has unbound immediate PersistentVolumeClaims.');
    const e = ev('PersistentVolumeClaim', 'data-robustmq-2', 'ProvisioningFailed', 'storageclass.storage.k8s.io "fast-ssd" not found', 1000);
    const v = assess(input([p], { events: [e], pvcs: [pvc('data-robustmq-2', 'Pending', 'fast-ssd')], now: T0 + 60_000 }));
    expect(v.status).toBe('failed');
    expect(v.failure?.hint).toMatch(/storageClass/);
  });

  it('a WaitForFirstConsumer claim of a scheduled pod is progress, named as such', () => {
    const p = pod('robustmq-0', 'combined', { ready: false, containers: [cs({ waiting: { reason: 'ContainerCreating' } })] });
    // kube-scheduler has picked a node; the claim still waits while the volume is provisioned for that node.
    const v = assess(input([p], { pvcs: [pvc('data-robustmq-0', 'Pending', 'wffc')], storageClassModes: { wffc: 'WaitForFirstConsumer' }, now: T0 + 10 * 60_000 }));
    expect(v.status).toBe('progressing');
    expect(notReadyLines(v)).toEqual(['robustmq-0: volume data-robustmq-0 waits for first consumer']);
  });
});

describe('health: configuration and creation errors', () => {
  it('CreateContainerConfigError (missing Secret key) is terminal after its grace period', () => {
    const p = pod('robustmq-0', 'combined', { ready: false, containers: [cs({ waiting: { reason: 'CreateContainerConfigError', message: 'couldn\'t find key mqtt-password in Secret robustmq/robustmq-credentials' } })] });
    expect(assess(input([p], { now: T0 + 5000 })).status).toBe('progressing');
    const v = assess(input([p], { now: T0 + DEFAULT_THRESHOLDS.createErrorGraceMs }));
    expect(v.status).toBe('failed');
    expect(v.failure?.hint).toMatch(/admin-password, admin-jwt-secret, mqtt-password/);
  });

  it('a StatefulSet that Pod Security forbids from creating pods is terminal', () => {
    const msg = 'create Pod robustmq-0 in StatefulSet robustmq failed error: pods "robustmq-0" is forbidden: violates PodSecurity "restricted:latest": runAsNonRoot != true';
    const evs = [ev('StatefulSet', 'robustmq', 'FailedCreate', msg, 1000, { count: 4 })];
    const v = assess(input([], { events: evs, workloads: ['robustmq'], now: T0 + 5000 }));
    expect(v.status).toBe('failed');
    expect(v.failure?.object).toBe('statefulset/robustmq');
    expect(v.failure?.hint).toMatch(/Pod Security/);
  });

  it('a single early FailedCreate is not yet terminal', () => {
    const evs = [ev('StatefulSet', 'robustmq', 'FailedCreate', 'exceeded quota: compute, requested: cpu=2', 1000)];
    const v = assess(input([], { events: evs, workloads: ['robustmq'], now: T0 + 5000 }));
    expect(v.status).toBe('progressing');
    const later = assess(input([], { events: evs, workloads: ['robustmq'], now: T0 + DEFAULT_THRESHOLDS.createErrorGraceMs + 1000 }));
    expect(later.failure?.hint).toMatch(/ResourceQuota/);
  });

  it('Running but not Ready shows the readiness probe message', () => {
    const p = pod('robustmq-1', 'combined', { ready: false, phase: 'Running', containers: [cs({ state: { running: { startedAt: iso(0) } } })] });
    const e = ev('Pod', 'robustmq-1', 'Unhealthy', 'Readiness probe failed: dial tcp 10.0.0.5:1883: connect: connection refused', 4000, { uid: 'uid-robustmq-1' });
    const v = assess(input([p], { events: [e], now: T0 + 10 * 60_000 }));
    expect(v.status).toBe('progressing');
    expect(notReadyLines(v)[0]).toBe('robustmq-1: Running, not Ready: Readiness probe failed: dial tcp 10.0.0.5:1883: connect: connection refused');
  });

  it('the most actionable of several terminal failures is reported', () => {
    const crash = pod('robustmq-1', 'combined', { ready: false, containers: [cs({ restartCount: 9, waiting: { reason: 'CrashLoopBackOff' }, lastExit: { exitCode: 1 } })] });
    const pull = pod('robustmq-2', 'combined', { ready: false, containers: [cs({ waiting: { reason: 'ErrImagePull', message: 'manifest unknown' } })] });
    const v = assess(input([crash, pull], { now: T0 + 600_000 }));
    expect(v.failure?.kind).toBe('image-pull');
  });
});

describe('health: waiting for the kubelet', () => {
  it('a scheduled pod with no container status says so', () => {
    const p = pod('robustmq-0', 'combined', { ready: false, containers: [] });
    delete p.status!.containerStatuses;
    p.status!.conditions = [{ type: 'PodScheduled', status: 'True', lastTransitionTime: iso(0) }];
    const v = assess(input([p], { expected: { combined: 1 }, now: T0 + 600_000 }));
    expect(v.status).toBe('progressing');
    expect(notReadyLines(v)).toEqual(['robustmq-0: scheduled on kwok-node-0, not started yet (no container status from the kubelet)']);
  });
});
