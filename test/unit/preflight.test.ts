import { describe, expect, it } from 'vitest';
import {
  accessNeeds,
  checkApi,
  checkCrds,
  checkDryRun,
  checkHelmVersion,
  checkKubeVersion,
  checkLeftovers,
  checkRbac,
  checkRelease,
  checkStorage,
  crdNeedsFromManifests,
  failed,
  formatResults,
  parseManifests,
  resourceOf,
  storageNeedsFromManifests,
} from '../../src/core/preflight.js';

const rendered = `---
# Source: robustmq/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: robustmq
  namespace: mq
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: robustmq
  namespace: mq
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: robustmq
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: robustmq
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: robustmq
---
# an empty document
---
apiVersion: v1
kind: Pod
metadata:
  name: robustmq-test-mqtt
  annotations:
    helm.sh/hook: test
`;

describe('manifests', () => {
  const objs = parseManifests(rendered);
  it('parses every object, skipping empty documents, marking hooks', () => {
    expect(objs.map((o) => `${o.kind}/${o.name}`)).toEqual(['ServiceAccount/robustmq', 'StatefulSet/robustmq', 'NetworkPolicy/robustmq', 'PodDisruptionBudget/robustmq', 'ServiceMonitor/robustmq', 'Pod/robustmq-test-mqtt']);
    expect(objs[5]!.hook).toBe('test');
  });
  it('maps kinds to resources', () => {
    expect(['NetworkPolicy', 'Ingress', 'PodDisruptionBudget', 'ServiceMonitor', 'HTTPRoute', 'Endpoints', 'Gateway'].map(resourceOf)).toEqual([
      'networkpolicies',
      'ingresses',
      'poddisruptionbudgets',
      'servicemonitors',
      'httproutes',
      'endpoints',
      'gateways',
    ]);
  });
});

describe('RBAC needs', () => {
  const objs = parseManifests(rendered);
  it('asks for helm verbs on every rendered kind in the target namespace, with the right API group', () => {
    const needs = accessNeeds(objs, { namespace: 'mq', namespaceExists: true, smoke: true });
    const has = (verb: string, resource: string, group: string) => needs.find((n) => n.verb === verb && n.resource === resource && n.group === group && n.namespace === 'mq');
    expect(has('create', 'statefulsets', 'apps')?.severity).toBe('error');
    expect(has('patch', 'networkpolicies', 'networking.k8s.io')).toBeDefined();
    expect(has('delete', 'poddisruptionbudgets', 'policy')).toBeDefined();
    expect(has('create', 'servicemonitors', 'monitoring.coreos.com')).toBeDefined();
    expect(has('list', 'secrets', '')?.why).toMatch(/helm release records/);
    expect(needs.find((n) => n.subresource === 'exec')?.severity).toBe('warning');
    expect(needs.find((n) => n.resource === 'namespaces')).toBeUndefined();
  });
  it('test hooks are warnings; a missing namespace adds cluster-scoped namespace create', () => {
    const needs = accessNeeds(objs, { namespace: 'mq', namespaceExists: false, smoke: false });
    expect(needs.find((n) => n.resource === 'namespaces')).toMatchObject({ verb: 'create', severity: 'error' });
    expect(needs.find((n) => n.resource === 'namespaces')?.namespace).toBeUndefined();
    // the test Pod alone needs "create pods": a warning, since only `helm test` creates it
    expect(needs.find((n) => n.verb === 'create' && n.resource === 'pods' && !n.subresource)?.severity).toBe('warning');
    expect(needs.find((n) => n.subresource === 'exec')).toBeUndefined();
  });
  it('denied required permissions fail with one line each; denied optional ones warn', () => {
    const needs = accessNeeds(objs, { namespace: 'mq', namespaceExists: true, smoke: true });
    const r = checkRbac(needs.map((n) => ({ ...n, allowed: !(n.resource === 'statefulsets' && n.verb === 'create'), reason: '' })));
    expect(r.status).toBe('fail');
    expect(r.severity).toBe('error');
    expect(r.details).toEqual(['statefulsets.apps in mq: create denied (the chart creates StatefulSet robustmq)']);
    const w = checkRbac(needs.map((n) => ({ ...n, allowed: n.subresource !== 'exec' })));
    expect(w.severity).toBe('warning');
    expect(failed([w])).toEqual([]);
    expect(checkRbac(needs.map((n) => ({ ...n, allowed: true }))).status).toBe('pass');
  });
});

describe('checks', () => {
  it('helm version floor', () => {
    expect(checkHelmVersion('v3.13.3').status).toBe('fail');
    expect(checkHelmVersion('3.14.0').status).toBe('pass');
    expect(checkHelmVersion('v4.1.4+g05fa379').status).toBe('pass');
    expect(checkHelmVersion(undefined).hint).toMatch(/--helm PATH/);
  });

  it('API unreachable names the context and the likely fix', () => {
    const r = checkApi({ reachable: false, context: 'prod', server: 'https://10.0.0.1:6443', error: 'dial tcp 10.0.0.1:6443: connect: connection refused' });
    expect(r.message).toBe('cannot reach the Kubernetes API of context prod (https://10.0.0.1:6443): dial tcp 10.0.0.1:6443: connect: connection refused');
    expect(checkApi({ reachable: false, context: 'nope', error: 'error: context "nope" does not exist' }).hint).toMatch(/get-contexts/);
    expect(checkApi({ reachable: false, context: 'nope', error: 'cannot locate context nope' }).hint).toMatch(/get-contexts/);
  });

  it('API unreachable or no kubeconfig: one line, and the hint names the ways to get a cluster', () => {
    for (const error of ['dial tcp 127.0.0.1:6443: connect: connection refused', 'error: no configuration has been provided, try setting KUBERNETES_MASTER environment variable']) {
      const r = checkApi({ reachable: false, error });
      expect(r.message).not.toContain('\n');
      expect(r.hint).not.toContain('\n');
      expect(r.hint).toMatch(/kind, k3d or minikube, or use a cloud cluster/);
      expect(r.hint).toContain('`npm run node:up`');
    }
    // a context typo is not a missing cluster
    expect(checkApi({ reachable: false, context: 'nope', error: 'error: context "nope" does not exist' }).hint).not.toMatch(/minikube/);
  });

  it('kube version range', () => {
    expect(checkKubeVersion({ major: 1, minor: 31, gitVersion: 'v1.31.13' })).toMatchObject({ status: 'fail', message: 'Kubernetes v1.31.13 is older than 1.32 (the chart needs >= 1.32)' });
    expect(checkKubeVersion({ major: 1, minor: 32, gitVersion: 'v1.32.13' }).status).toBe('pass');
    expect(checkKubeVersion({ major: 1, minor: 36, gitVersion: 'v1.36.0' }).status).toBe('pass');
    expect(checkKubeVersion({ major: 1, minor: 40, gitVersion: 'v1.40.0' }).severity).toBe('warning');
    expect(checkKubeVersion(undefined).status).toBe('skip');
  });

  it('storage: default class needed for empty storageClass; named class must exist', () => {
    const classes = [
      { name: 'standard', isDefault: true, volumeBindingMode: 'Immediate' },
      { name: 'standard-wffc', isDefault: false, volumeBindingMode: 'WaitForFirstConsumer' },
    ];
    expect(checkStorage([{ role: 'combined', enabled: true, storageClass: '' }], classes).message).toBe('combined: standard (default)');
    expect(checkStorage([{ role: 'meta', enabled: true, storageClass: 'standard-wffc' }], classes).message).toBe('meta: standard-wffc (WaitForFirstConsumer)');
    const missing = checkStorage([{ role: 'engine', enabled: true, storageClass: 'fast' }], classes);
    expect(missing.status).toBe('fail');
    expect(missing.hint).toBe('available: standard (default), standard-wffc; pick one with --set <role>.persistence.storageClass=NAME');
    expect(checkStorage([{ role: 'combined', enabled: true, storageClass: '' }], [{ name: 'x', isDefault: false }]).message).toMatch(/no default StorageClass/);
    expect(checkStorage([{ role: 'combined', enabled: false, storageClass: 'fast' }], []).status).toBe('pass');
  });

  it('CRDs: an explicit request without the CRD fails, naming the way out', () => {
    const r = checkCrds([{ key: 'metrics.serviceMonitor.enabled', crd: 'servicemonitors.monitoring.coreos.com' }], new Set());
    expect(r.status).toBe('fail');
    expect(r.hint).toContain('--set metrics.serviceMonitor.enabled=false');
    expect(checkCrds([{ key: 'k', crd: 'c' }], new Set(['c'])).status).toBe('pass');
  });

  it('release state: pending gets the exact recovery command', () => {
    const p = checkRelease({ status: 'pending-upgrade', revision: 3, lastDeployed: 2 }, { mode: 'upgrade', release: 'robustmq', namespace: 'mq' });
    expect(p.hint).toBe('robustmq-install rollback 2 --release robustmq -n mq');
    const pi = checkRelease({ status: 'pending-install', revision: 1 }, { mode: 'install', release: 'robustmq', namespace: 'mq' });
    expect(pi.hint).toMatch(/^nothing was ever deployed: robustmq-install uninstall/);
    expect(checkRelease({}, { mode: 'upgrade', release: 'r', namespace: 'n' }).severity).toBe('error');
    expect(checkRelease({}, { mode: 'install', release: 'r', namespace: 'n' }).status).toBe('pass');
    expect(checkRelease({ status: 'deployed', revision: 1 }, { mode: 'install', release: 'r', namespace: 'n' }).hint).toMatch(/upgrade/);
    expect(checkRelease({ status: 'failed', revision: 4, lastDeployed: 3 }, { mode: 'upgrade', release: 'r', namespace: 'n' }).severity).toBe('warning');
  });

  it('leftover PVCs without the credentials Secret are an error', () => {
    const base = { releaseExists: false, pvcs: ['data-robustmq-0'], secretName: 'robustmq-credentials', release: 'robustmq' };
    expect(checkLeftovers({ ...base, secretExists: true }).severity).toBe('warning');
    const e = checkLeftovers({ ...base, secretExists: false });
    expect(e.severity).toBe('error');
    expect(e.hint).toMatch(/restore Secret robustmq-credentials/);
    expect(checkLeftovers({ ...base, releaseExists: true, secretExists: false }).status).toBe('pass');
  });

  it('dry-run errors become details, the namespace note is kept', () => {
    const r = checkDryRun({ ok: false, applied: [], errors: ['Error from server (BadRequest): error when creating "STDIN": StatefulSet in version "v1" cannot be handled as a StatefulSet: strict decoding error: unknown field "spec.template.spec.containers[0].bogus"'], note: 'namespace mq does not exist yet' }, 9);
    expect(r.details).toHaveLength(2);
    expect(formatResults([r])[0]).toBe('FAIL server-dry-run: the API server rejected an object of the rendered chart');
    expect(checkDryRun({ ok: true, applied: [], errors: [] }, 9).message).toBe('9 objects accepted by the API server');
  });
});

describe('needs read from the rendered chart', () => {
  const yaml = `
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: rmq-meta }
spec:
  template: { metadata: { labels: { app.kubernetes.io/component: meta } } }
  volumeClaimTemplates:
    - metadata: { name: data }
      spec: { accessModes: [ReadWriteOnce] }
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: rmq-engine }
spec:
  template: { metadata: { labels: { app.kubernetes.io/component: engine } } }
  volumeClaimTemplates:
    - metadata: { name: data }
      spec: { storageClassName: fast }
    - metadata: { name: static }
      spec: { storageClassName: "" }
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: { name: rmq }
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: { name: rmq-tls }
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: rmq }
`;
  const objs = parseManifests(yaml);
  it('storage classes per volumeClaimTemplate: absent = default, "" = no class', () => {
    expect(storageNeedsFromManifests(objs)).toEqual([
      { role: 'meta', enabled: true, storageClass: '' },
      { role: 'engine', enabled: true, storageClass: 'fast' },
      { role: 'engine', enabled: true, storageClass: '-' },
    ]);
  });
  it('CRDs for every non-built-in group, named by the values key that enables them', () => {
    const needs = crdNeedsFromManifests(objs);
    expect(needs).toEqual([
      { key: 'metrics.serviceMonitor.enabled', crd: 'servicemonitors.monitoring.coreos.com' },
      { key: 'tls.source', crd: 'certificates.cert-manager.io' },
    ]);
    expect(checkCrds(needs, new Set()).hint).toBe('install the CRDs first, or turn the feature off (--set metrics.serviceMonitor.enabled=false --set tls.source=selfSigned)');
  });
});

describe('YAML as Kubernetes reads it', () => {
  it('parses YAML 1.1 octals (defaultMode: 0555 is 365)', () => {
    const [o] = parseManifests('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  volumes:\n    - name: s\n      configMap: {name: c, defaultMode: 0555}\n');
    expect((o!.raw.spec as { volumes: { configMap: { defaultMode: number } }[] }).volumes[0]!.configMap.defaultMode).toBe(0o555);
  });
});

describe('kubectl missing', () => {
  it('says how to provide kubectl', () => {
    expect(checkApi({ reachable: false, error: 'kubectl not found (kubectl): install kubectl or set ROBUSTMQ_INSTALL_KUBECTL' }).hint).toMatch(/ROBUSTMQ_INSTALL_KUBECTL/);
  });
});

describe('Pod Security seen in the dry-run', () => {
  const warn = 'would violate PodSecurity "restricted:latest": runAsNonRoot != true (pod or containers "robustmq" must set securityContext.runAsNonRoot=true)';
  it('a warning at the enforced level is an error: the pods would be rejected later', () => {
    const r = checkDryRun({ ok: true, applied: [], errors: [], warnings: [warn] }, 10, { enforce: 'restricted' });
    expect(r).toMatchObject({ status: 'fail', severity: 'error', message: 'the namespace enforces Pod Security "restricted", which would reject the pods' });
    expect(r.details).toEqual([warn]);
  });
  it('a warning at another level (the warn label) stays a warning', () => {
    expect(checkDryRun({ ok: true, applied: [], errors: [], warnings: [warn] }, 10, { enforce: 'baseline' }).severity).toBe('warning');
    expect(checkDryRun({ ok: true, applied: [], errors: [], warnings: [warn] }, 10).severity).toBe('warning');
  });
  it('other warnings do not matter', () => {
    expect(checkDryRun({ ok: true, applied: [], errors: [], warnings: ['spec.foo is deprecated'] }, 10, { enforce: 'restricted' }).status).toBe('pass');
  });
});
