// The real node itself, then the first install on it. Pods here run: the kubelet pulls nothing (images were
// imported), runs init containers and probes, and the CLI's exec and `helm test` go through a real kubelet.
//  1. a plain pod from the RobustMQ image resolves Service names and its own headless name through CoreDNS and
//     reaches the apiserver through its ClusterIP with its ServiceAccount token;
//  2. `--preset dev` through the BUILT CLI, with image.* on the local replica (stand-in binaries): healthy from
//     real readiness probes, init containers exited 0, the RobustMQ check and `helm test` pass.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { cliExpect, dropNamespace, eventually, isReady, kubectl, kubectlJson, pods, workdir } from '../e2e/cli.ts';
import { isStandInImage } from '../../src/core/standin.ts';

const node = inject('realNode');
// the stand-in, or the real image when ROBUSTMQ_IMAGE_ARCHIVE supplies it
const serverImage = node.images.robustmq;
const onStandIn = isStandInImage(serverImage);
const [registry, ...rest] = serverImage.split('/');
const [repository, tag] = rest.join('/').split(':');

describe('the real node', () => {
  it('is Ready, on containerd, with the pod and storage classes it advertises', async () => {
    const n = await kubectlJson(['get', 'node', node.nodeName]);
    expect(n.status.conditions.find((c: any) => c.type === 'Ready').status).toBe('True');
    expect(n.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\/2\./);
    expect(n.status.nodeInfo.kubeletVersion).toBe(node.k8sVersion);
    const scs = (await kubectlJson<{ items: any[] }>(['get', 'storageclasses'])).items;
    const def = scs.find((s) => s.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true');
    expect(def?.metadata.name).toBe(node.storageClasses.default);
    expect(scs.map((s) => s.metadata.name)).toContain(node.storageClasses.fsGroupIgnored);
    console.log(`node: started in ${node.startSeconds}s`);
  });

  it('never pulls: an image that was not imported fails at once against a closed loopback port', async () => {
    const ns = 'node-nopull';
    await kubectl(['create', 'namespace', ns]);
    try {
      await kubectl(['run', 'nopull', '-n', ns, '--image=registry.invalid/robustmq/robustmq:v0.4.11', '--image-pull-policy=IfNotPresent']);
      // The kubelet's Failed event carries the runtime's pull error, whichever back-off state the pod is in now.
      const failed = await eventually('a Failed pull event', async () => {
        const evs = (await kubectlJson<{ items: any[] }>(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=nopull'])).items;
        return evs.find((e) => e.reason === 'Failed' && /pull/i.test(e.message));
      }, 60_000);
      expect(failed.message).toMatch(/127\.0\.0\.1:9\b.*connection refused/);
    } finally {
      await dropNamespace(ns);
    }
  });

  describe('a plain pod', () => {
    const ns = 'node-dns';
    afterAll(() => dropNamespace(ns));

    it('resolves Service and headless pod names through CoreDNS and reaches the apiserver ClusterIP', async () => {
      const t0 = Date.now();
      await kubectl(['create', 'namespace', ns]);
      // The script waits on conditions itself (the headless record appears once the EndpointSlice has the pod).
      const script = [
        'set -eu',
        'echo "kubernetes: $(getent hosts kubernetes.default.svc.cluster.local)"',
        'echo "kube-dns: $(getent hosts kube-dns.kube-system)"',
        `i=0; until getent hosts probe.peers.${ns}.svc.cluster.local; do i=$((i+1)); [ $i -lt 60 ] || exit 3; sleep 1; done`,
        'echo "self: $(hostname -i)"',
        't=/var/run/secrets/kubernetes.io/serviceaccount',
        'curl -sS --fail --cacert $t/ca.crt -H "Authorization: Bearer $(cat $t/token)" https://kubernetes.default.svc/api',
      ].join('\n');
      const manifest = {
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name: 'peers', namespace: ns },
            spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector: { app: 'probe' }, ports: [{ name: 'x', port: 1 }] },
          },
          {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: 'probe', namespace: ns, labels: { app: 'probe' } },
            spec: {
              hostname: 'probe',
              subdomain: 'peers',
              restartPolicy: 'Never',
              securityContext: { runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, seccompProfile: { type: 'RuntimeDefault' } },
              containers: [{
                name: 'probe',
                image: serverImage,
                imagePullPolicy: 'IfNotPresent',
                command: ['sh', '-c', script],
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              }],
            },
          },
        ],
      };
      await kubectl(['apply', '-f', '-'], JSON.stringify(manifest));
      await kubectl(['wait', '-n', ns, 'pod/probe', '--for=jsonpath={.status.phase}=Succeeded', '--timeout=120s']).catch(async (e) => {
        const logs = await kubectl(['logs', '-n', ns, 'probe']).catch(() => '(no logs)');
        throw new Error(`${e instanceof Error ? e.message : e}\n--- logs\n${logs}`);
      });
      const logs = await kubectl(['logs', '-n', ns, 'probe']);
      const pod = await kubectlJson(['get', 'pod', '-n', ns, 'probe']);
      expect(logs).toMatch(/^kubernetes: 10\.96\.0\.1\s+kubernetes\.default\.svc\.cluster\.local/m);
      expect(logs).toMatch(/^kube-dns: 10\.96\.0\.10\s/m);
      expect(logs).toContain(`${pod.status.podIP}`);
      expect(logs).toMatch(new RegExp(`probe\\.peers\\.${ns}\\.svc\\.cluster\\.local`));
      expect(logs).toContain('"kind": "APIVersions"');
      console.log(`node: DNS/Service pod test took ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    });

  });

  describe('--preset dev through the built CLI, on the local replica', () => {
    const ns = 'node-dev';
    const release = 'dev';
    const cwd = workdir('node-dev');
    afterAll(() => dropNamespace(ns));

    it('reaches healthy from real readiness probes, and the RobustMQ check and helm test pass', async () => {
      const t0 = Date.now();
      const r = await cliExpect(0, [
        '--preset', 'dev', '--yes', '-n', ns, '--release', release, '--timeout', '8m',
        '--set', `image.registry=${registry}`, '--set', `image.repository=${repository}`, '--set', `image.tag=${tag}`,
      ], { cwd });
      const seconds = ((Date.now() - t0) / 1000).toFixed(1);
      expect(r.stderr).toMatch(/pods: combined 1\/1 Ready/);
      if (onStandIn) {
        expect(r.stderr).toMatch(/✔ RobustMQ STAND-IN: 1 nodes registered/);
        expect(r.stderr).toContain(`STAND-IN: the servers run ${serverImage}`);
      } else {
        expect(r.stderr).toMatch(/✔ RobustMQ: 1 nodes registered/);
        expect(r.stderr).not.toContain('STAND-IN');
      }
      expect(r.stderr).toMatch(/✔ helm test \(MQTT publish\/subscribe round trip\): passed/);

      const live = await pods(ns, release);
      expect(live).toHaveLength(1);
      expect(live.every(isReady)).toBe(true);
      const p = live[0];
      expect(p.spec.containers[0].image).toBe(serverImage);
      for (const s of p.status.initContainerStatuses ?? []) expect(s.state.terminated, s.name).toMatchObject({ exitCode: 0, reason: 'Completed' });
      expect(p.status.containerStatuses[0].restartCount).toBe(0);
      // A real volume on the default class (the CSI driver's), with the pod's fsGroup (999) applied by the kubelet:
      // the driver makes a root-owned 0755 directory, the kubelet makes it root:999 with group rwx and setgid.
      const pvcs = (await kubectlJson<{ items: any[] }>(['get', 'pvc', '-n', ns])).items;
      expect(pvcs.map((c) => [c.status.phase, c.spec.storageClassName])).toEqual([['Bound', node.storageClasses.default]]);
      const dataDir = await kubectl(['exec', '-n', ns, p.metadata.name, '-c', 'robustmq', '--', 'stat', '-c', '%u:%g %a', '/robustmq/data']);
      expect(dataDir.trim()).toBe('0:999 2775');
      console.log(`node: dev install through the CLI took ${seconds}s`);
    });
  });
});
