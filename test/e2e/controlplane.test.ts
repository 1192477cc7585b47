// Proves the local control plane (test/support/controlplane.ts) gives the e2e suite what it relies on: a real
// v1.36 API, controllers and scheduler, kwok-simulated pods with faults and delays, storage, users, Pod Security.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from './cli.ts';
import {
  ANNOTATIONS,
  CONTEXTS,
  FAULT_TAGS,
  LIMITED_NAMESPACE,
  installMonitoringCrds,
  kubectlResult,
  kubectlWith,
  uninstallMonitoringCrds,
} from '../support/controlplane.ts';

const cp = inject('controlPlane');
const kubectl = (args: string[], input?: string) => kubectlWith(cp.kubeconfig, ['--context', CONTEXTS.admin, ...args], input);
const getJson = async <T = any>(args: string[]): Promise<T> => JSON.parse(await kubectl(['get', '-o', 'json', ...args])) as T;

const IMAGE = 'ghcr.io/robustmq/robustmq';
const ns = `cp-proof-${process.pid}`;

const isReady = (pod: any) => pod.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') === true;

function pod(name: string, image: string, extra: { annotations?: Record<string, string>; restartPolicy?: string } = {}): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, annotations: extra.annotations ?? {} },
    spec: {
      restartPolicy: extra.restartPolicy ?? 'Always',
      initContainers: [{ name: 'init', image }],
      containers: [{ name: 'main', image }],
    },
  });
}

beforeAll(async () => {
  await kubectl(['create', 'namespace', ns]);
  // The ServiceAccount admission plugin rejects pods until the controller-manager made the default SA.
  await eventually('default ServiceAccount', async () => (await getJson(['-n', ns, 'serviceaccount', 'default'])).metadata?.name);
});

afterAll(async () => {
  await kubectl(['delete', 'namespace', ns, 'cp-proof-psa', '--ignore-not-found', '--wait=false']);
});

describe('local control plane', () => {
  it('reports the real Kubernetes version, so helm kubeVersion constraints work', async () => {
    const version = JSON.parse(await kubectl(['get', '--raw', '/version']));
    expect(version.gitVersion).toMatch(/^v1\.36\.\d+$/);
    expect(version.major).toBe('1');
    expect(version.minor).toBe('36');
  });

  it('has Ready nodes across three zones', async () => {
    const nodes = await getJson(['nodes']);
    const zones = new Set(nodes.items.map((n: any) => n.metadata.labels['topology.kubernetes.io/zone']));
    expect(nodes.items.length).toBeGreaterThanOrEqual(5);
    expect(zones.size).toBe(3);
    for (const n of nodes.items) {
      expect(n.status.conditions.find((c: any) => c.type === 'Ready').status).toBe('True');
      expect(n.spec.taints ?? []).toEqual([]);
    }
  });

  it('runs a StatefulSet to 3 Ready pods with Bound PVCs, spread over the zones', async () => {
    const sts = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'web', namespace: ns },
      spec: {
        replicas: 3,
        serviceName: 'web',
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            topologySpreadConstraints: [
              { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } },
            ],
            initContainers: [{ name: 'init', image: `${IMAGE}:v0.4.11`, command: ['sh', '-c', 'true'] }],
            containers: [{ name: 'main', image: `${IMAGE}:v0.4.11`, volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
          },
        },
        volumeClaimTemplates: [
          { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
        ],
      },
    };
    await kubectl(['apply', '-f', '-'], JSON.stringify(sts));
    const pods = await eventually('3 Ready web pods', async () => {
      const list = (await getJson(['-n', ns, 'pods', '-l', 'app=web'])).items;
      return list.length === 3 && list.every(isReady) && list;
    });
    const s = await getJson(['-n', ns, 'statefulset', 'web']);
    expect(s.status.readyReplicas).toBe(3);

    const nodes = await getJson(['nodes']);
    const zoneOf = new Map(nodes.items.map((n: any) => [n.metadata.name, n.metadata.labels['topology.kubernetes.io/zone']]));
    expect(new Set(pods.map((p: any) => zoneOf.get(p.spec.nodeName))).size).toBe(3);
    for (const p of pods) {
      expect(p.status.phase).toBe('Running');
      expect(p.status.podIP).toMatch(/^10\.244\./);
      expect(p.status.containerStatuses[0]).toMatchObject({ name: 'main', ready: true, state: { running: {} } });
      expect(p.status.initContainerStatuses[0]).toMatchObject({ name: 'init', state: { terminated: { exitCode: 0, reason: 'Completed' } } });
    }

    const pvcs = await eventually('3 Bound PVCs', async () => {
      const list = (await getJson(['-n', ns, 'pvc'])).items.filter((c: any) => c.metadata.name.startsWith('data-web-'));
      return list.length === 3 && list.every((c: any) => c.status.phase === 'Bound') && list;
    });
    for (const c of pvcs) expect(c.spec.storageClassName).toBe('standard');
    const pvNames = pvcs.map((c: any) => c.spec.volumeName);
    const pvs = await getJson(['pv', ...pvNames]);
    for (const pv of pvs.items) expect(pv.status.phase).toBe('Bound');

    // Deleting the claims deletes their volumes (reclaimPolicy Delete), once the pods no longer use them.
    await kubectl(['-n', ns, 'delete', 'statefulset', 'web', '--wait=true']);
    await eventually('web pods gone', async () => (await getJson(['-n', ns, 'pods', '-l', 'app=web'])).items.length === 0);
    await kubectl(['-n', ns, 'delete', 'pvc', ...pvcs.map((c: any) => c.metadata.name), '--wait=true', '--timeout=60s']);
    await eventually('PVs deleted', async () => {
      const left = (await getJson(['pv'])).items.filter((pv: any) => pvNames.includes(pv.metadata.name));
      return left.length === 0;
    });
  });

  it('binds a WaitForFirstConsumer claim once its pod is scheduled', async () => {
    const objs = [
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'late', namespace: ns },
        spec: { storageClassName: 'standard-wffc', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'late-user', namespace: ns },
        spec: {
          containers: [{ name: 'main', image: `${IMAGE}:v0.4.11`, volumeMounts: [{ name: 'd', mountPath: '/d' }] }],
          volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'late' } }],
        },
      },
    ];
    await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objs }));
    const p = await eventually('late-user Ready', async () => {
      const x = await getJson(['-n', ns, 'pod', 'late-user']);
      return isReady(x) && x;
    });
    const pvc = await getJson(['-n', ns, 'pvc', 'late']);
    expect(pvc.status.phase).toBe('Bound');
    expect(pvc.metadata.annotations['volume.kubernetes.io/selected-node']).toBe(p.spec.nodeName);
  });

  it('shows CrashLoopBackOff with a growing restart count for the crashloop fault image tag', async () => {
    await kubectl(['apply', '-f', '-'], pod('crash', `${IMAGE}:${FAULT_TAGS.crashloop}`, { annotations: { [ANNOTATIONS.restartInterval]: '1s' } }));
    const p = await eventually('restartCount >= 3', async () => {
      const x = await getJson(['-n', ns, 'pod', 'crash']);
      return (x.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 3 && x;
    });
    const main = p.status.containerStatuses[0];
    expect(p.status.phase).toBe('Running');
    expect(isReady(p)).toBe(false);
    expect(main.ready).toBe(false);
    expect(main.state.waiting.reason).toBe('CrashLoopBackOff');
    expect(main.lastState.terminated.exitCode).toBe(1);
    // The init container ran to completion: the fault is in the main process.
    expect(p.status.initContainerStatuses[0].state.terminated.reason).toBe('Completed');
    const events = await getJson(['-n', ns, 'events', '--field-selector', 'involvedObject.name=crash']);
    expect(events.items.some((e: any) => e.reason === 'BackOff' && e.type === 'Warning')).toBe(true);
  });

  it('shows ImagePullBackOff for the imagepull fault image tag and for the fault annotation', async () => {
    await kubectl(['apply', '-f', '-'], pod('nopull', `${IMAGE}:${FAULT_TAGS.imagepull}`));
    await kubectl(['apply', '-f', '-'], pod('nopull-annotated', `${IMAGE}:v0.4.11`, { annotations: { [ANNOTATIONS.fault]: 'imagepull' } }));
    for (const name of ['nopull', 'nopull-annotated']) {
      const p = await eventually(`${name} ImagePullBackOff`, async () => {
        const x = await getJson(['-n', ns, 'pod', name]);
        return x.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff' && x;
      });
      expect(p.status.phase).toBe('Pending');
      expect(p.status.containerStatuses[0].state.waiting.message).toContain('manifest unknown');
      expect(p.status.containerStatuses[0].state.waiting.message).toContain(p.spec.containers[0].image);
    }
  });

  it('keeps a pod Running but not Ready for its readiness delay, then makes it Ready', async () => {
    await kubectl(['apply', '-f', '-'], pod('slow', `${IMAGE}:v0.4.11`, { annotations: { [ANNOTATIONS.readyDelay]: '6s' } }));
    const running = await eventually('slow Running', async () => {
      const x = await getJson(['-n', ns, 'pod', 'slow']);
      return x.status?.phase === 'Running' && x;
    });
    expect(isReady(running)).toBe(false);
    expect(running.status.containerStatuses[0]).toMatchObject({ ready: false, state: { running: {} } });
    const ready = await eventually('slow Ready', async () => {
      const x = await getJson(['-n', ns, 'pod', 'slow']);
      return isReady(x) && x;
    });
    expect(ready.status.containerStatuses[0].ready).toBe(true);
  });

  it('serves container logs through kwok (fixed lines), also --previous', async () => {
    const logs = await kubectl(['-n', ns, 'logs', 'crash', '-c', 'main']);
    expect(logs).toContain('simulated container log');
    const previous = await kubectl(['-n', ns, 'logs', 'crash', '-c', 'main', '--previous']);
    expect(previous).toContain('simulated crash');
  });

  it('completes a Job', async () => {
    await kubectl(['-n', ns, 'create', 'job', 'once', `--image=${IMAGE}:v0.4.11`, '--', 'true']);
    await kubectl(['-n', ns, 'wait', '--for=condition=Complete', '--timeout=90s', 'job/once']);
    const job = await getJson(['-n', ns, 'job', 'once']);
    expect(job.status.succeeded).toBe(1);
    const pods = (await getJson(['-n', ns, 'pods', '-l', 'job-name=once'])).items;
    expect(pods.map((p: any) => p.status.phase)).toContain('Succeeded');
  });

  it('completes a run-to-completion pod (helm test hook style)', async () => {
    await kubectl(['apply', '-f', '-'], pod('hook', `${IMAGE}:v0.4.11`, { restartPolicy: 'Never' }));
    const p = await eventually('hook Succeeded', async () => {
      const x = await getJson(['-n', ns, 'pod', 'hook']);
      return x.status?.phase === 'Succeeded' && x;
    });
    expect(p.status.containerStatuses[0].state.terminated.exitCode).toBe(0);
  });

  it('enforces Pod Security "restricted" on labelled namespaces', async () => {
    await kubectl(['create', 'namespace', 'cp-proof-psa']);
    await kubectl(['label', 'namespace', 'cp-proof-psa', 'pod-security.kubernetes.io/enforce=restricted']);
    const privileged = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'root', namespace: 'cp-proof-psa' },
      spec: { containers: [{ name: 'main', image: `${IMAGE}:v0.4.11`, securityContext: { privileged: true } }] },
    });
    const r = await kubectlResult(cp.kubeconfig, ['--context', CONTEXTS.admin, 'apply', '-f', '-'], privileged);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/violates PodSecurity "restricted/);
  });

  it('authenticates the exec-plugin user', async () => {
    const who = JSON.parse(await kubectlWith(cp.kubeconfig, ['--context', CONTEXTS.exec, 'auth', 'whoami', '-o', 'json']));
    expect(who.status.userInfo.username).toBe('exec-user');
    const namespaces = JSON.parse(await kubectlWith(cp.kubeconfig, ['--context', CONTEXTS.exec, 'get', 'namespaces', '-o', 'json']));
    expect(namespaces.items.map((n: any) => n.metadata.name)).toContain('default');
  });

  it('denies the limited user what a chart creates, but lets it list pods in its namespace', async () => {
    const create = await kubectlResult(cp.kubeconfig, ['--context', CONTEXTS.limited, 'auth', 'can-i', 'create', 'statefulsets', '-n', 'default']);
    expect(create.code).not.toBe(0);
    expect(create.stdout.trim()).toBe('no');
    const list = await kubectlResult(cp.kubeconfig, ['--context', CONTEXTS.limited, 'auth', 'can-i', 'list', 'pods', '-n', LIMITED_NAMESPACE]);
    expect(list.stdout.trim()).toBe('yes');
    const get = await kubectlResult(cp.kubeconfig, ['--context', CONTEXTS.limited, 'get', 'pods']);
    expect(get.code).toBe(0);
  });

  it('fails fast against the unreachable context', async () => {
    const r = await kubectlResult(cp.kubeconfig, ['--context', CONTEXTS.unreachable, 'get', 'namespaces', '--request-timeout=5s']);
    expect(r.code).not.toBe(0);
    // client-go words it either way, depending on where the dial fails
    expect(r.stderr).toMatch(/connection refused|connection to the server \S+ was refused/);
  });

  it('gives LoadBalancer Services an ingress IP', async () => {
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'lb', namespace: ns },
      spec: { type: 'LoadBalancer', selector: { app: 'none' }, ports: [{ name: 'mqtt', port: 1883 }] },
    };
    await kubectl(['apply', '-f', '-'], JSON.stringify(svc));
    const s = await eventually('LoadBalancer ingress', async () => {
      const x = await getJson(['-n', ns, 'service', 'lb']);
      return x.status?.loadBalancer?.ingress?.length > 0 && x;
    });
    expect(s.status.loadBalancer.ingress[0].ip).toMatch(/^172\.30\.\d+\.\d+$/);
  });

  it('installs and removes the monitoring CRDs on demand', async () => {
    const served = async () => (await kubectl(['api-resources', '--api-group=monitoring.coreos.com', '-o', 'name'])).trim().split('\n').filter(Boolean).sort();
    await installMonitoringCrds(cp.kubeconfig);
    expect(await served()).toEqual(['prometheusrules.monitoring.coreos.com', 'servicemonitors.monitoring.coreos.com']);
    const sm = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: 'sm', namespace: ns },
      spec: { selector: { matchLabels: { app: 'x' } }, endpoints: [{ port: 'metrics', interval: '30s' }] },
    };
    await kubectl(['apply', '--validate=strict', '-f', '-'], JSON.stringify(sm));
    await uninstallMonitoringCrds(cp.kubeconfig);
    await eventually('monitoring API gone', async () => (await served()).length === 0);
  });
});
