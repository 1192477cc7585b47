// What a live watch keeps of each object (src/core/k8s-slim.ts): everything the health rules, progress, rollback and
// the debug bundle read, so every judgement is the same on the slim objects as on the ones the API serves.
import { describe, expect, it } from 'vitest';
import { assess, isHookOrJobPod } from '../../src/core/health.js';
import { slimEvent, slimPod, slimPvc, slimStatefulSet } from '../../src/core/k8s-slim.js';
import { eventTime, type K8sEvent, type K8sPod, type K8sPvc, type K8sStatefulSet } from '../../src/core/k8s-types.js';
import { expectedFrom, rolledOutSince, stsGenerations, verdictOf } from '../../src/flows/watch.js';

const T0 = Date.parse('2026-12-05T10:00:00Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();

// Shaped like `kubectl get pod -o json` of a chart pod on a v1.36 API server: the spec the chart renders (env,
// probes, projected volumes, security contexts), managedFields, and a status as the kubelet writes it.
function servedPod(name: string, o: { ready?: boolean; crash?: boolean; pending?: boolean; hook?: boolean; deleting?: boolean; rev?: string } = {}): K8sPod {
  const ready = o.ready ?? true;
  const container = (n: string) => ({
    name: n,
    image: 'ghcr.io/robustmq/robustmq:v0.4.11',
    imagePullPolicy: 'IfNotPresent',
    command: ['/bin/sh', '/scripts/run.sh'],
    env: Array.from({ length: 12 }, (_, i) => ({ name: `ROBUSTMQ_VAR_${i}`, value: `value-${i}` })),
    ports: [1883, 8883, 8083, 8084, 58080, 1228].map((p) => ({ containerPort: p, name: `p${p}`, protocol: 'TCP' })),
    readinessProbe: { exec: { command: ['/bin/sh', '/scripts/ready.sh'] }, periodSeconds: 5, timeoutSeconds: 10, failureThreshold: 3, successThreshold: 1 },
    livenessProbe: { tcpSocket: { port: 1228 }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6, successThreshold: 1 },
    resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '1Gi' } },
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    volumeMounts: [
      { mountPath: '/robustmq/data', name: 'data' },
      { mountPath: '/robustmq/config', name: 'config', readOnly: true },
      { mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', name: 'kube-api-access', readOnly: true },
    ],
  });
  const status = (n: string) =>
    o.crash
      ? { name: n, ready: false, restartCount: 4, image: 'ghcr.io/robustmq/robustmq:v0.4.11', imageID: 'sha256:abc', started: false, containerID: 'containerd://1', state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } }, lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: iso(0), finishedAt: iso(1000) } }, volumeMounts: [{ name: 'data', mountPath: '/robustmq/data' }] }
      : { name: n, ready, restartCount: 0, image: 'ghcr.io/robustmq/robustmq:v0.4.11', imageID: 'sha256:abc', started: ready, containerID: 'containerd://1', state: ready ? { running: { startedAt: iso(1500) } } : { waiting: { reason: 'ContainerCreating' } }, volumeMounts: [{ name: 'data', mountPath: '/robustmq/data' }] };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'robustmq',
      uid: `uid-${name}`,
      resourceVersion: '4711',
      creationTimestamp: iso(0),
      generateName: 'robustmq-',
      labels: { 'app.kubernetes.io/name': 'robustmq', 'app.kubernetes.io/instance': 'robustmq', 'app.kubernetes.io/component': 'combined', 'controller-revision-hash': o.rev ?? 'robustmq-7d9f8c6b5' },
      annotations: { 'checksum/config': 'f00', ...(o.hook ? { 'helm.sh/hook': 'test' } : {}) },
      ...(o.deleting ? { deletionTimestamp: iso(3000) } : {}),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'robustmq', uid: 'sts-uid', controller: true, blockOwnerDeletion: true }],
      managedFields: [{ manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1', time: iso(0), fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } } } }],
    } as unknown as K8sPod['metadata'],
    spec: {
      ...(o.pending ? {} : { nodeName: 'node-a' }),
      initContainers: [container('config')],
      containers: [container('robustmq')],
      volumes: [
        { name: 'data', persistentVolumeClaim: { claimName: `data-${name}` } },
        { name: 'config', emptyDir: {} },
        { name: 'kube-api-access', projected: { sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }] } },
      ],
      securityContext: { fsGroup: 999, runAsUser: 999, runAsGroup: 999 },
      dnsPolicy: 'ClusterFirst',
      schedulerName: 'default-scheduler',
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
    } as K8sPod['spec'],
    status: o.pending
      ? { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.', lastTransitionTime: iso(0), lastProbeTime: null } as never], qosClass: 'Burstable' } as K8sPod['status']
      : ({
          phase: 'Running',
          startTime: iso(500),
          hostIP: '10.0.0.1',
          podIP: '10.244.0.5',
          podIPs: [{ ip: '10.244.0.5' }],
          qosClass: 'Burstable',
          conditions: [
            { type: 'Initialized', status: 'True', lastTransitionTime: iso(1000), lastProbeTime: null },
            { type: 'Ready', status: ready && !o.crash ? 'True' : 'False', lastTransitionTime: iso(2000), lastProbeTime: null, ...(ready && !o.crash ? {} : { reason: 'ContainersNotReady', message: 'containers with unready status: [robustmq]' }) },
            { type: 'PodScheduled', status: 'True', lastTransitionTime: iso(0), lastProbeTime: null },
          ],
          initContainerStatuses: [{ ...status('config'), ready: true, started: false, state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: iso(600), finishedAt: iso(900) } }, restartCount: 0 }],
          containerStatuses: [status('robustmq')],
        } as unknown as K8sPod['status']),
  };
}

const served = [
  servedPod('robustmq-0'),
  servedPod('robustmq-1', { ready: false }),
  servedPod('robustmq-2', { crash: true }),
  servedPod('robustmq-3', { pending: true }),
  servedPod('robustmq-4', { deleting: true }),
  servedPod('robustmq-5', { rev: 'robustmq-old' }),
  servedPod('robustmq-test', { hook: true }),
];

const servedSts: K8sStatefulSet = {
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'robustmq', namespace: 'robustmq', generation: 3, labels: { 'app.kubernetes.io/component': 'sts-label' }, managedFields: [{ manager: 'helm' }] } as K8sStatefulSet['metadata'],
  spec: { replicas: 6, selector: { matchLabels: { 'app.kubernetes.io/instance': 'robustmq' } }, serviceName: 'robustmq-headless', template: { metadata: { labels: { 'app.kubernetes.io/component': 'combined' } }, spec: { containers: [{ name: 'robustmq', image: 'x' }] } } } as K8sStatefulSet['spec'],
  status: { replicas: 6, readyReplicas: 2, currentRevision: 'robustmq-old', updateRevision: 'robustmq-7d9f8c6b5', observedGeneration: 3 },
};

const servedPvcs: K8sPvc[] = ['robustmq-0', 'robustmq-3'].map((n, i) => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name: `data-${n}`, namespace: 'robustmq', labels: { 'app.kubernetes.io/instance': 'robustmq' }, annotations: { 'volume.kubernetes.io/selected-node': 'node-a' } },
  spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'standard', volumeMode: 'Filesystem', resources: { requests: { storage: '10Gi' } } } as K8sPvc['spec'],
  status: { phase: i === 0 ? 'Bound' : 'Pending' },
}));

const servedEvents: K8sEvent[] = [
  {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'robustmq-3.1', namespace: 'robustmq', creationTimestamp: iso(100), managedFields: [{ manager: 'scheduler' }] } as K8sEvent['metadata'],
    involvedObject: { kind: 'Pod', name: 'robustmq-3', namespace: 'robustmq', uid: 'uid-robustmq-3', apiVersion: 'v1', resourceVersion: '12', fieldPath: '' } as K8sEvent['involvedObject'],
    reason: 'FailedScheduling',
    message: '0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.',
    type: 'Warning',
    count: 3,
    firstTimestamp: iso(100),
    lastTimestamp: iso(2500),
    eventTime: null,
    source: { component: 'default-scheduler', host: 'cp' } as K8sEvent['source'],
    reportingComponent: 'default-scheduler',
    reportingInstance: 'default-scheduler-cp',
  } as K8sEvent,
  { apiVersion: 'v1', kind: 'Event', metadata: { name: 'robustmq-2.2', namespace: 'robustmq' }, involvedObject: { kind: 'Pod', name: 'robustmq-2' }, reason: 'BackOff', message: 'Back-off restarting failed container robustmq', type: 'Warning', eventTime: iso(2800), reportingComponent: 'kubelet' },
];

const clone = <T>(x: T): T => structuredClone(x);
const slimAll = () => ({ pods: clone(served).map(slimPod), events: clone(servedEvents).map(slimEvent), pvcs: clone(servedPvcs).map(slimPvc), statefulSets: [slimStatefulSet(clone(servedSts))] });
const fullAll = () => ({ pods: clone(served), events: clone(servedEvents), pvcs: clone(servedPvcs), statefulSets: [clone(servedSts)] });

describe('slim objects of a live watch', () => {
  it('judge exactly as the objects the API serves: every pod state, event, claim and rollout revision', () => {
    for (const since of [T0, T0 + 60_000]) {
      for (const now of [T0 + 5_000, T0 + 10 * 60_000]) {
        const full = verdictOf(fullAll(), { now, since });
        expect(verdictOf(slimAll(), { now, since })).toEqual(full);
      }
    }
    // the cases above are really told apart (a verdict with nothing to judge would agree trivially)
    const v = verdictOf(fullAll(), { now: T0 + 10 * 60_000, since: T0 });
    const issues = v.roles.flatMap((r) => r.pods).map((p) => p.issue?.kind ?? 'ready');
    expect(new Set(issues).size).toBeGreaterThanOrEqual(3);
    expect(v.status).not.toBe('healthy');
  });

  it('keep the container names and images rollback and the debug bundle read, and the hook marks', () => {
    const p = slimPod(clone(served[2]!));
    expect(p.spec?.containers).toEqual([{ name: 'robustmq', image: 'ghcr.io/robustmq/robustmq:v0.4.11' }]);
    expect(p.spec?.initContainers).toEqual([{ name: 'config', image: 'ghcr.io/robustmq/robustmq:v0.4.11' }]);
    expect(p.spec?.volumes).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: 'data-robustmq-2' } }]);
    expect(p.status?.containerStatuses?.[0]).toMatchObject({ restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1 } } });
    expect(served.map((x) => isHookOrJobPod(slimPod(clone(x))))).toEqual(served.map(isHookOrJobPod));
    expect(servedEvents.map((e) => eventTime(slimEvent(clone(e))))).toEqual(servedEvents.map(eventTime));
  });

  it('drop what nothing reads: managedFields, env, probes, projected volumes, pod IPs (a quarter of the size or less)', () => {
    const full = served[0]!;
    const slim = slimPod(clone(full));
    const text = JSON.stringify(slim);
    for (const gone of ['managedFields', 'ROBUSTMQ_VAR_0', 'readinessProbe', 'projected', 'podIP', 'resourceVersion', 'containerID']) expect(text).not.toContain(gone);
    expect(text.length).toBeLessThan(JSON.stringify(full).length / 4);
    expect(slimEvent(clone(servedEvents[0]!))).not.toHaveProperty('reportingInstance');
    expect(JSON.stringify(slimPvc(clone(servedPvcs[0]!)))).not.toContain('accessModes');
  });

  it("a StatefulSet keeps its role (the pod template's labels), replicas, generation and revisions", () => {
    const slim = slimStatefulSet(clone(servedSts));
    expect(expectedFrom([slim])).toEqual(expectedFrom([servedSts]));
    expect(expectedFrom([slim]).expected).toEqual({ combined: 6 });
    const before = stsGenerations([{ ...servedSts, metadata: { ...servedSts.metadata, generation: 2 } as K8sStatefulSet['metadata'] }]);
    expect(rolledOutSince(before, [slim])).toBe(true);
    expect(rolledOutSince(stsGenerations([slim]), [slim])).toBe(false);
    expect(JSON.stringify(slim)).not.toContain('serviceName');
  });

  it('assess gives the same answer on slim pods at scale (a thousand pods, half of them Ready)', () => {
    const pods = Array.from({ length: 1000 }, (_, i) => servedPod(`robustmq-${i}`, { ready: i % 2 === 0 }));
    const input = (ps: K8sPod[]) => ({ now: T0 + 5000, since: T0, expected: { combined: 1000 }, pods: ps, events: [], pvcs: [], workloads: ['robustmq'], updateRevisions: {} });
    const full = assess(input(pods));
    expect(assess(input(pods.map((p) => slimPod(clone(p)))))).toEqual(full);
    expect(full.summary).toMatch(/combined 500\/1000 Ready/);
  });
});
