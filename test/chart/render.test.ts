// helm lint + helm template on helm 3 and helm 4 for every preset and the replica variants, with the invariants the
// chart promises checked on every render, and every object validated with kubernetes-models.
import { Buffer } from 'node:buffer';
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { byKind, CHART, find, HELMS, helmRun, type K8sObject, podSpecs, PRESETS, render, renderRaw, renderText, ROOT, tempDir, validateModel } from './lib.ts';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type Variant = { files?: string[]; values?: object[]; expect: { topology: 'combined' | 'split'; replicas: Record<string, number>; voters: number } };

const combined = (n: number, m: number): Variant => ({
  values: [{ topology: 'combined', combined: { replicaCount: n, metaReplicas: m } }],
  expect: { topology: 'combined', replicas: { combined: n }, voters: m },
});
const split = (m: number, b: number, e: number): Variant => ({
  values: [{ topology: 'split', meta: { replicaCount: m }, broker: { replicaCount: b }, engine: { replicaCount: e } }],
  expect: { topology: 'split', replicas: { meta: m, broker: b, engine: e }, voters: m },
});

const EVERYTHING = {
  topology: 'split',
  clusterDomain: 'corp.internal',
  global: { imageRegistry: 'registry.corp.internal', imagePullSecrets: ['corp-pull'] },
  image: { digest: 'sha256:' + 'a'.repeat(64) },
  meta: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule' }] },
  broker: { podLabels: { team: 'iot', 'app.kubernetes.io/version': 'mine', 'app.kubernetes.io/component': 'x' }, extraEnvVars: [{ name: 'X', value: 'y' }], persistence: { enabled: false } },
  engine: { persistence: { storageClass: 'fast', retentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' } } },
  tls: { source: 'certManager', certManager: { issuerRef: { name: 'corp-ca', kind: 'ClusterIssuer' } }, extraDnsNames: ['mqtt.corp.example'] },
  service: { labels: { 'app.kubernetes.io/name': 'other', tier: 'edge' }, type: 'LoadBalancer', loadBalancerClass: 'lb', loadBalancerSourceRanges: ['10.0.0.0/8'], externalTrafficPolicy: 'Local', nodePorts: { mqtt: 31883 } },
  quicService: { enabled: true, type: 'LoadBalancer' },
  protocols: { kafka: { enabled: true }, amqp: { enabled: true }, nats: { enabled: true } },
  ingress: { enabled: true, className: 'nginx', hosts: ['mqtt.corp.example'], tls: [{ secretName: 'mqtt-tls', hosts: ['mqtt.corp.example'] }] },
  httpRoute: { enabled: true, parentRefs: [{ name: 'gw', namespace: 'infra' }], hostnames: ['ws.corp.example'] },
  metrics: { serviceMonitor: { enabled: true, labels: { release: 'prom', 'app.kubernetes.io/instance': 'other' } }, prometheusRule: { enabled: true }, grafanaDashboard: { enabled: true } },
  networkPolicy: { allowExternal: false, monitoringNamespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
  auth: { existingSecret: 'rmq-credentials' },
  logging: { formatter: 'json', targets: [{ path: 'openraft', level: 'warn' }] },
  config: { cluster_name: 'corp', mqtt_runtime: { keep_alive: { max_time: 7200 } }, delay_task: { delay_task_queue_num: 4, delay_task_handler_concurrency: 8 } },
};

const VARIANTS: Record<string, Variant> = {
  'preset dev': { files: [PRESETS[0]!], expect: { topology: 'combined', replicas: { combined: 1 }, voters: 1 } },
  'preset test': { files: [PRESETS[1]!], expect: { topology: 'combined', replicas: { combined: 3 }, voters: 3 } },
  'preset prod': { files: [PRESETS[2]!], expect: { topology: 'split', replicas: { meta: 3, broker: 3, engine: 3 }, voters: 3 } },
  'combined x1': combined(1, 1),
  'combined x3': combined(3, 3),
  'combined x5': combined(5, 5),
  'combined x4 with 3 voters': combined(4, 3),
  'split 1/1/1': split(1, 1, 1),
  'split 3/3/3': split(3, 3, 3),
  'split 5/5/5': split(5, 5, 5),
  'split 9/12/4': split(9, 12, 4),
  'everything on': { values: [EVERYTHING], expect: { topology: 'split', replicas: { meta: 3, broker: 3, engine: 3 }, voters: 3 } },
  openshift: { values: [{ openshift: true }], expect: { topology: 'combined', replicas: { combined: 1 }, voters: 1 } },
};

const VERSION_LABELS = ['app.kubernetes.io/version', 'helm.sh/chart'];
const PSS_VOLUME_TYPES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];

function selectorsOf(o: K8sObject): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  if (o.kind === 'StatefulSet' || o.kind === 'PodDisruptionBudget') out.push(o.spec.selector.matchLabels);
  if (o.kind === 'Service') out.push(o.spec.selector ?? {});
  if (o.kind === 'NetworkPolicy') out.push(o.spec.podSelector.matchLabels);
  if (o.kind === 'ServiceMonitor') out.push(o.spec.selector.matchLabels);
  if (o.kind === 'StatefulSet') for (const vct of o.spec.volumeClaimTemplates ?? []) out.push(vct.metadata.labels ?? {});
  return out;
}

const matches = (sel: Record<string, string>, labels: Record<string, string>) => Object.entries(sel).every(([k, v]) => labels?.[k] === v);

/** Pod Security Standards "restricted" (v1.27+), checked field by field. Returns the violations. */
function restrictedViolations(spec: any, where: string): string[] {
  const v: string[] = [];
  const psc = spec.securityContext ?? {};
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) v.push(`${where}: host namespaces`);
  for (const vol of spec.volumes ?? []) {
    const type = Object.keys(vol).find((k) => k !== 'name');
    if (!PSS_VOLUME_TYPES.includes(type!)) v.push(`${where}: volume ${vol.name} of type ${type}`);
  }
  const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  for (const c of containers) {
    const sc = c.securityContext ?? {};
    const w = `${where}/${c.name}`;
    if (sc.privileged) v.push(`${w}: privileged`);
    if (sc.allowPrivilegeEscalation !== false) v.push(`${w}: allowPrivilegeEscalation not false`);
    if ((sc.runAsNonRoot ?? psc.runAsNonRoot) !== true) v.push(`${w}: runAsNonRoot not true`);
    if ((sc.runAsUser ?? psc.runAsUser) === 0) v.push(`${w}: runAsUser 0`);
    const seccomp = (sc.seccompProfile ?? psc.seccompProfile)?.type;
    if (!['RuntimeDefault', 'Localhost'].includes(seccomp)) v.push(`${w}: seccomp ${seccomp}`);
    if (!sc.capabilities?.drop?.includes('ALL')) v.push(`${w}: capabilities not dropping ALL`);
    for (const add of sc.capabilities?.add ?? []) if (add !== 'NET_BIND_SERVICE') v.push(`${w}: adds ${add}`);
    for (const p of c.ports ?? []) if (p.hostPort) v.push(`${w}: hostPort`);
    if (sc.readOnlyRootFilesystem !== true) v.push(`${w}: root filesystem writable`);
  }
  return v;
}

describe.each(HELMS)('helm $major ($version)', (helm) => {
  describe.each(Object.entries(VARIANTS))('%s', (_name, variant) => {
    const opts = { files: variant.files, values: variant.values };

    it('passes helm lint --strict', () => {
      const dir = tempDir();
      const args = ['lint', CHART, '--strict', '--namespace', 'mq'];
      for (const f of variant.files ?? []) args.push('-f', f);
      (variant.values ?? []).forEach((v, i) => {
        writeFileSync(join(dir, `v${i}.json`), JSON.stringify(v));
        args.push('-f', join(dir, `v${i}.json`));
      });
      const r = helmRun(helm, args);
      expect(r.stderr + r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
      expect(r.code).toBe(0);
    });

    it('renders objects that kubernetes-models accepts', async () => {
      const objs = render(helm, opts);
      expect(objs.length).toBeGreaterThan(8);
      const errors = (await Promise.all(objs.map(validateModel))).filter(Boolean);
      expect(errors).toEqual([]);
    });

    it('keeps the invariants', () => {
      const objs = render(helm, opts);
      const { topology, replicas, voters } = variant.expect;
      const sts = byKind(objs, 'StatefulSet');
      expect(sts.map((s) => s.metadata.labels['app.kubernetes.io/component']).sort()).toEqual(Object.keys(replicas).sort());

      // every object carries the standard labels; selectors and volumeClaimTemplates never carry version labels
      for (const o of objs) {
        expect(o.metadata.labels?.['app.kubernetes.io/name'], `${o.kind}/${o.metadata.name}`).toBe('robustmq');
        expect(o.metadata.labels?.['app.kubernetes.io/instance']).toBe('rmq');
        for (const sel of selectorsOf(o)) for (const l of VERSION_LABELS) expect(sel, `${o.kind}/${o.metadata.name} selector`).not.toHaveProperty([l]);
      }

      for (const s of sts) {
        const role = s.metadata.labels['app.kubernetes.io/component'];
        expect(s.spec.replicas).toBe(replicas[role]);
        expect(s.spec.podManagementPolicy).toBe('Parallel');
        expect(matches(s.spec.selector.matchLabels, s.spec.template.metadata.labels)).toBe(true);
        expect(s.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'robustmq', 'app.kubernetes.io/instance': 'rmq', 'app.kubernetes.io/component': role });
        // headless Service: resolvable before Ready, same selector
        const headless = find(objs, 'Service', s.spec.serviceName);
        expect(headless.spec.clusterIP).toBe('None');
        expect(headless.spec.publishNotReadyAddresses).toBe(true);
        expect(headless.spec.selector).toEqual(s.spec.selector.matchLabels);
        const pod = s.spec.template.spec;
        expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30);
        expect(pod.automountServiceAccountToken).toBe(false);
        expect(pod.enableServiceLinks).toBe(false);
        // init container: ordinal from the pod-index label, config rendered by the chart's script
        const init = pod.initContainers[0];
        expect(init.name).toBe('config');
        expect(init.env.find((e: any) => e.name === 'POD_INDEX').valueFrom.fieldRef.fieldPath).toBe("metadata.labels['apps.kubernetes.io/pod-index']");
        // server container: only the files it needs, never the credentials
        const server = pod.containers.find((c: any) => c.name === 'robustmq');
        const mounts = Object.fromEntries(server.volumeMounts.map((m: any) => [m.mountPath, m]));
        expect(mounts['/robustmq/config/server.toml']).toMatchObject({ name: 'rendered', subPath: 'server.toml' });
        expect(mounts['/robustmq/config/logger.toml']).toMatchObject({ name: 'config', subPath: 'logger.toml' });
        expect(server.volumeMounts.map((m: any) => m.name)).not.toContain('secrets');
        expect(server.command).toEqual(['/bin/bash', '/robustmq/chart/scripts/run.sh']);
        for (const c of [...pod.initContainers, ...pod.containers]) {
          for (const m of c.volumeMounts ?? []) {
            const known = pod.volumes.some((v: any) => v.name === m.name) || (s.spec.volumeClaimTemplates ?? []).some((v: any) => v.metadata.name === m.name);
            expect(known, `${s.metadata.name}/${c.name} mounts unknown volume ${m.name}`).toBe(true);
          }
        }
        const portNames = server.ports.map((p: any) => p.name);
        expect(new Set(portNames).size).toBe(portNames.length);
        expect(new Set(server.ports.map((p: any) => `${p.protocol}/${p.containerPort}`)).size).toBe(portNames.length);
        // probes: truthful readiness per role, never the health endpoints (QUIC makes /health/ready fail on brokers)
        expect(server.startupProbe.tcpSocket.port).toBe('http');
        expect(server.livenessProbe.tcpSocket.port).toBe('http');
        if (role === 'meta' || role === 'combined') {
          expect(server.readinessProbe.exec.command).toEqual(['/bin/bash', '/robustmq/chart/scripts/ready.sh']);
          // ready.sh's gRPC calls share the probe's timeout (v0.4.11's ClusterStatus can take more than 3 s while a peer restarts)
          expect(server.readinessProbe.timeoutSeconds).toBe(20);
          expect(server.env.find((e: any) => e.name === 'RMQ_READY_TIMEOUT_SECONDS')?.value).toBe('20');
        }
        if (role === 'broker') expect(server.readinessProbe.tcpSocket.port).toBe('mqtt');
        if (role === 'engine') expect(server.readinessProbe.tcpSocket.port).toBe('storage');
        expect(JSON.stringify([server.startupProbe, server.livenessProbe, server.readinessProbe])).not.toMatch(/health/);
        // PDB with maxUnavailable 1 where requested
        const pdbs = byKind(objs, 'PodDisruptionBudget').filter((p) => p.metadata.labels['app.kubernetes.io/component'] === role);
        if (_name === 'preset dev') expect(pdbs).toEqual([]);
        else {
          expect(pdbs).toHaveLength(1);
          expect(pdbs[0]!.spec.maxUnavailable).toBe(1);
          expect(pdbs[0]!.spec.selector.matchLabels).toEqual(s.spec.selector.matchLabels);
        }
        // PVCs: data volume per pod unless disabled
        if (s.spec.volumeClaimTemplates) {
          expect(s.spec.volumeClaimTemplates.map((v: any) => v.metadata.name)).toEqual(['data']);
          expect(s.spec.persistentVolumeClaimRetentionPolicy).toBeDefined();
        } else expect(pod.volumes.find((v: any) => v.name === 'data').emptyDir).toBeDefined();
      }

      // meta voters in the server.toml template match the voter count, one per pod of the meta role
      const cfg = find(objs, 'ConfigMap', 'rmq-robustmq-config').data['server.toml.tmpl'] as string;
      const addrs = cfg.match(/^meta_addrs = \{(.*)\}$/m)![1];
      expect(addrs!.match(/"\d+" = /g)).toHaveLength(voters);

      // security: restricted Pod Security Standard, fixed ids unless OpenShift, no RBAC, SA without token
      for (const { owner, spec } of podSpecs(objs)) {
        expect(restrictedViolations(spec, `${owner.kind}/${owner.metadata.name}`)).toEqual([]);
        if (_name === 'openshift') {
          expect(spec.securityContext).not.toHaveProperty('runAsUser');
          expect(spec.securityContext).not.toHaveProperty('fsGroup');
        } else expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999 });
      }
      expect(objs.filter((o) => /Role|RoleBinding/.test(o.kind))).toEqual([]);
      const sa = byKind(objs, 'ServiceAccount');
      expect(sa).toHaveLength(1);
      expect(sa[0]!.automountServiceAccountToken).toBe(false);

      // Services: named target ports exist with the same protocol on the pods they select
      const pods = sts.map((s) => ({ labels: s.spec.template.metadata.labels, ports: s.spec.template.spec.containers[0].ports }));
      for (const svc of byKind(objs, 'Service')) {
        const selected = pods.filter((p) => matches(svc.spec.selector, p.labels));
        expect(selected.length, `Service ${svc.metadata.name} selects no pod`).toBeGreaterThan(0);
        for (const port of svc.spec.ports) {
          for (const p of selected) {
            const cp = p.ports.find((x: any) => x.name === port.targetPort);
            expect(cp, `${svc.metadata.name}:${port.name} -> ${port.targetPort}`).toBeDefined();
            expect(cp.protocol).toBe(port.protocol);
          }
        }
      }
      const client = find(objs, 'Service', 'rmq-robustmq');
      expect(client.spec.selector['app.kubernetes.io/component']).toBe(topology === 'split' ? 'broker' : 'combined');
      expect(Object.fromEntries(client.spec.ports.map((p: any) => [p.name, [p.port, p.targetPort]]))).toEqual({
        mqtt: [1883, 'mqtt'],
        ws: [8083, 'ws'],
        mqtts: [8883, 'mqtts'],
        wss: [8084, 'wss'],
      });
      expect(client.spec.ports.every((p: any) => p.protocol === 'TCP')).toBe(true);
      const admin = find(objs, 'Service', 'rmq-robustmq-admin');
      expect(admin.spec.type).toBe('ClusterIP');
      expect(admin.spec.ports.map((p: any) => p.port)).toEqual([58080]);
      for (const svc of byKind(objs, 'Service').filter((s) => s.metadata.name.endsWith('-protocols'))) expect(svc.spec.type).toBe('ClusterIP');
      for (const ing of byKind(objs, 'Ingress')) expect(JSON.stringify(ing)).not.toContain('58080');

      // no secret in any ConfigMap: the chart-generated Secret values never appear, passwords are placeholders
      const secretValues = byKind(objs, 'Secret')
        .filter((s) => s.type === 'Opaque')
        .flatMap((s) => Object.values(s.data as Record<string, string>).map((b) => Buffer.from(b, 'base64').toString()));
      for (const cm of byKind(objs, 'ConfigMap')) for (const sv of secretValues) expect(JSON.stringify(cm.data)).not.toContain(sv);
      expect(cfg).toMatch(/^password = "@@ADMIN_PASSWORD@@"$/m);
      expect(cfg).toMatch(/^jwt_secret = "@@ADMIN_JWT_SECRET@@"$/m);
      expect(cfg).toMatch(/^default_password = "@@MQTT_PASSWORD@@"$/m);

      // helm test Job: one image for everything, runs to completion
      const job = find(objs, 'Job', 'rmq-robustmq-test');
      expect(job.metadata.annotations['helm.sh/hook']).toBe('test');
      expect(job.spec.template.spec.restartPolicy).toBe('Never');
      const images = new Set(podSpecs(objs).flatMap(({ spec }) => [...(spec.initContainers ?? []), ...spec.containers].map((c: any) => c.image)));
      expect(images.size).toBe(1);
    });
  });

  it('accepts provider Kubernetes versions from 1.32 on (the -0 in kubeVersion) and refuses 1.31', () => {
    for (const v of ['v1.32.9-eks-2d98532', 'v1.33.2-gke.1587003', '1.36.0']) expect(renderRaw(helm, { extra: ['--kube-version', v] }).code, v).toBe(0);
    const old = renderRaw(helm, { extra: ['--kube-version', 'v1.31.13-eks-2d98532'] });
    expect(old.code).not.toBe(0);
    expect(old.stderr).toContain('chart requires kubeVersion: >=1.32.0-0');
  });

  it('never hard-codes cluster.local, and uses clusterDomain in every pod FQDN', () => {
    const text = renderText(helm, { values: [EVERYTHING] });
    expect(text).not.toContain('cluster.local');
    expect(text).toContain('rmq-robustmq-meta-0.rmq-robustmq-meta-headless.mq.svc.corp.internal:1228');
    expect(text).toContain('*.rmq-robustmq-broker-headless.mq.svc.corp.internal');
  });

  it("gives ready.sh the readiness probe's timeoutSeconds, on every pod whose probe runs it", () => {
    const objs = render(helm, { values: [{ topology: 'split', probes: { readiness: { timeoutSeconds: 30 } } }] });
    const sets = byKind(objs, 'StatefulSet');
    expect(sets.length).toBeGreaterThan(1);
    for (const s of sets) {
      const server = s.spec.template.spec.containers.find((c: any) => c.name === 'robustmq');
      const env = server.env.find((e: any) => e.name === 'RMQ_READY_TIMEOUT_SECONDS');
      expect(server.readinessProbe.timeoutSeconds).toBe(30);
      if (server.readinessProbe.exec) expect(env?.value, s.metadata.name).toBe('30');
      else expect(env, s.metadata.name).toBeUndefined();
    }
  });

  it('renders monitoring objects only when asked, or on auto when the CRD API exists', () => {
    const kinds = (objs: K8sObject[]) => objs.map((o) => o.kind).filter((k) => ['ServiceMonitor', 'PrometheusRule'].includes(k));
    expect(kinds(render(helm))).toEqual([]);
    expect(kinds(render(helm, { extra: ['--api-versions', 'monitoring.coreos.com/v1/ServiceMonitor', '--api-versions', 'monitoring.coreos.com/v1/PrometheusRule'] })).sort()).toEqual(['PrometheusRule', 'ServiceMonitor']);
    expect(kinds(render(helm, { values: [{ metrics: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true } } }] })).sort()).toEqual(['PrometheusRule', 'ServiceMonitor']);
    expect(kinds(render(helm, { values: [{ metrics: { serviceMonitor: { enabled: false }, prometheusRule: { enabled: false } } }], extra: ['--api-versions', 'monitoring.coreos.com/v1/ServiceMonitor'] }))).toEqual([]);
  });

  it('hashes only user input in the checksum annotation', () => {
    const checksums = (objs: K8sObject[]) => Object.fromEntries(byKind(objs, 'StatefulSet').map((s) => [s.metadata.name, s.spec.template.metadata.annotations['checksum/config']]));
    const secretData = (objs: K8sObject[]) => byKind(objs, 'Secret').map((s) => s.data);
    const base = { topology: 'split' };
    const a = render(helm, { values: [base] });
    const b = render(helm, { values: [base] });
    expect(secretData(a)).not.toEqual(secretData(b)); // random credentials and certificates differ between renders...
    expect(checksums(a)).toEqual(checksums(b)); // ...and the checksum does not see them
    const scaled = render(helm, { values: [{ ...base, broker: { replicaCount: 7 }, engine: { replicaCount: 5 } }] });
    expect(checksums(scaled)).toEqual(checksums(a)); // scaling brokers/engines rolls nothing
    const changed = render(helm, { values: [{ ...base, config: { mqtt_runtime: { keep_alive: { max_time: 7200 } } } }] });
    for (const [name, sum] of Object.entries(checksums(changed))) expect(sum, name).not.toBe(checksums(a)[name]);
    const voters = render(helm, { values: [{ ...base, meta: { replicaCount: 5 } }] });
    for (const [name, sum] of Object.entries(checksums(voters))) expect(sum, name).not.toBe(checksums(a)[name]); // meta_addrs changed
  });

  it('writes the server certificate for every pod and Service name, and no secret when the user brings one', () => {
    const objs = render(helm, { values: [{ topology: 'split' }] });
    const tls = find(objs, 'Secret', 'rmq-robustmq-tls');
    expect(tls.type).toBe('kubernetes.io/tls');
    const hash = tls.metadata.annotations['robustmq.io/dns-names-hash'];
    expect(hash).toMatch(/^[0-9a-f]{16}$/);
    const cert = new X509Certificate(Buffer.from(tls.data['tls.crt'], 'base64'));
    for (const name of ['rmq-robustmq', 'rmq-robustmq.mq.svc.cluster.local', '*.rmq-robustmq-meta-headless.mq.svc.cluster.local', '*.rmq-robustmq-broker-headless.mq.svc.cluster.local', '*.rmq-robustmq-engine-headless.mq.svc.cluster.local', 'localhost'])
      expect(cert.subjectAltName).toContain(`DNS:${name}`);
    expect(new Date(cert.validTo).getTime()).toBeGreaterThan(Date.now() + 365 * 24 * 3600 * 1000);
    expect(cert.checkIssued(new X509Certificate(Buffer.from(tls.data['ca.crt'], 'base64')))).toBe(true);
    const own = render(helm, { values: [{ auth: { existingSecret: 'mine' }, tls: { source: 'existingSecret', existingSecret: 'my-tls' } }] });
    expect(byKind(own, 'Secret')).toEqual([]);
    const sts = byKind(own, 'StatefulSet')[0]!.spec.template.spec;
    expect(sts.volumes.find((v: any) => v.name === 'tls').secret.secretName).toBe('my-tls');
    expect(sts.volumes.find((v: any) => v.name === 'secrets').secret.secretName).toBe('mine');
  });
});

describe('the model validation itself', () => {
  it('rejects a malformed object, so the checks above are not vacuous', async () => {
    const bad = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'x' }, spec: { replicas: 'three', selector: {}, serviceName: 'x', template: {} } };
    expect(await validateModel(bad as any)).toMatch(/StatefulSet\/x/);
    const badRule = { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'r' }, spec: { groups: [{ name: 'g', rules: [{ alert: 'A' }] }] } };
    expect(await validateModel(badRule as any)).toMatch(/PrometheusRule\/r/);
  });
});

describe('monitoring content', () => {
  it('uses only metrics RobustMQ v0.4.11 exports (docs/robustmq-source-notes.md, read from src/common/metrics)', () => {
    const notes = readFileSync(join(ROOT, 'docs/robustmq-source-notes.md'), 'utf8');
    const objs = render(HELMS[0]!, { values: [{ topology: 'split', metrics: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true }, grafanaDashboard: { enabled: true } } }] });
    const rule = find(objs, 'PrometheusRule', 'rmq-robustmq');
    const dashboard = JSON.parse(find(objs, 'ConfigMap', 'rmq-robustmq-dashboard').data['robustmq.json']);
    const exprs = [
      ...rule.spec.groups.flatMap((g: any) => g.rules.map((r: any) => r.expr as string)),
      ...dashboard.panels.flatMap((p: any) => p.targets.map((t: any) => t.expr as string)),
    ];
    const metrics = new Set(exprs.flatMap((e) => [...e.matchAll(/([a-z_][a-z0-9_]*)\{/g)].map((m) => m[1]!)).filter((m) => m !== 'up'));
    expect(metrics.size).toBeGreaterThan(5);
    for (const m of metrics) expect(notes, `metric ${m}`).toMatch(new RegExp('`' + m + '`'));
    expect(rule.spec.groups[0].rules.map((r: any) => r.alert)).toEqual(['RobustMQTargetDown', 'RobustMQRaftQuorumAtRisk', 'RobustMQRaftWritesFailing', 'RobustMQRaftApplyLag', 'RobustMQMqttAuthFailures']);
    // quorum alert knows the voter count: 3 voters -> fewer than 2 up
    expect(rule.spec.groups[0].rules[1].expr).toContain('pod=~\"rmq-robustmq-meta-(0|1|2)\"} == 1) < 2');
  });
});
