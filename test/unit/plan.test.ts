import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { unknownFacts, type Facts } from '../../src/core/facts.js';
import { privateRepoName } from '../../src/core/flags.js';
import { formatSteps, plan, setsBetween, type PlanInput } from '../../src/core/plan.js';

const chartDefaults = {
  topology: 'combined',
  combined: { replicaCount: 1, metaReplicas: 1, persistence: { enabled: true, size: '8Gi', storageClass: '' } },
  meta: { replicaCount: 3, persistence: { enabled: true, size: '2Gi', storageClass: '' } },
  broker: { replicaCount: 3, persistence: { enabled: true, size: '2Gi', storageClass: '' } },
  engine: { replicaCount: 3, persistence: { enabled: true, size: '20Gi', storageClass: '' } },
  metrics: { serviceMonitor: { enabled: 'auto' }, prometheusRule: { enabled: 'auto' } },
};
const prodPreset = { topology: 'split', meta: { replicaCount: 3 }, broker: { replicaCount: 3 }, engine: { replicaCount: 3, persistence: { size: '100Gi' } } };
const reachable: Facts = {
  reachable: true,
  context: 'kind-test',
  server: 'https://127.0.0.1:6443',
  kubeVersion: 'v1.36.0',
  storageClasses: [
    { name: 'standard', isDefault: true },
    { name: 'fast', isDefault: false },
  ],
  ingressClasses: [{ name: 'nginx', isDefault: true }],
  crds: { serviceMonitor: true, prometheusRule: false },
};

function input(over: Omit<Partial<PlanInput>, 'facts'> & { facts?: Facts } = {}, flags: Partial<PlanInput['flags']> = {}): PlanInput {
  const { facts, ...rest } = over;
  return {
    command: 'install',
    preset: { name: 'prod', source: 'prod', values: prodPreset },
    chartDefaults,
    facts: { ...(facts ?? reachable), helmMajor: 4 },
    flags: {
      release: 'robustmq',
      namespace: 'robustmq',
      timeout: '10m',
      valuesFile: '/project/robustmq-values.yaml',
      chart: { kind: 'bundled', source: { ref: '/pkg/chart/robustmq' }, display: 'robustmq (bundled)', version: '0.1.0' },
      ...flags,
    },
    meta: { cliVersion: '1.2.3', date: '2026-01-02T03:04:05.000Z' },
    ...rest,
  };
}

describe('plan: layering', () => {
  it('preset < -f files < answers < --set < CLI-owned keys', () => {
    const p = plan(
      input({
        valuesFiles: [
          { path: 'a.yaml', values: { broker: { replicaCount: 4 }, service: { type: 'NodePort' } } },
          { path: 'b.yaml', values: { broker: { replicaCount: 5 } } },
        ],
        answers: { broker: { replicaCount: 6 }, engine: { replicaCount: 5 } },
        sets: ['engine.replicaCount=7', 'auth.existingSecret=mine'],
      }),
    );
    expect(p.overlay).toMatchObject({ topology: 'split', broker: { replicaCount: 6 }, engine: { replicaCount: 7 }, service: { type: 'NodePort' }, auth: { existingSecret: 'mine' } });
    expect(p.notes).toContain('auth.existingSecret=mine given: the CLI will use that Secret and not create robustmq-credentials');
    expect(p.answerSets).toEqual(['broker.replicaCount=6', 'engine.replicaCount=5']);
    expect(p.problems).toEqual([]);
  });
  it('upgrade: key=null stays null in the overlay (helm reuses old values under it), install drops it', () => {
    const current = { topology: 'split', broker: { replicaCount: 9, podAnnotations: { a: 'b' } } };
    const up = plan(input({ command: 'upgrade', preset: undefined, currentValues: current, sets: ['broker.podAnnotations=null'] }));
    expect(up.overlay.broker).toEqual({ replicaCount: 9, podAnnotations: null });
    expect(up.overlayYaml).toContain('podAnnotations: null');
    const inst = plan(input({ sets: ['broker.podAnnotations=null'] }));
    expect(inst.overlay.broker).toEqual({ replicaCount: 3 });
  });
  it('sets auth.existingSecret to <release>-credentials and --registry to global.imageRegistry', () => {
    const p = plan(input({}, { release: 'mq1', registry: 'mirror.example.com/robustmq' }));
    expect(p.overlay.auth).toEqual({ existingSecret: 'mq1-credentials' });
    expect(p.overlay.global).toEqual({ imageRegistry: 'mirror.example.com/robustmq' });
    expect(p.secret).toEqual({ name: 'mq1-credentials', keys: ['admin-password', 'admin-jwt-secret', 'mqtt-password'] });
  });
  it('upgrade: current values are the base', () => {
    const p = plan(input({ command: 'upgrade', preset: undefined, currentValues: { topology: 'split', broker: { replicaCount: 9 }, engine: { replicaCount: 3 } }, sets: ['engine.replicaCount=5'] }));
    expect(p.overlay).toMatchObject({ broker: { replicaCount: 9 }, engine: { replicaCount: 5 } });
    expect(p.preset).toBe('current release values');
    expect(p.helm[0]!.argv).toContain('--reset-then-reuse-values');
  });
});

describe('plan: monitoring auto', () => {
  it('auto becomes on/off from the detected CRDs and is shown', () => {
    const p = plan(input());
    expect(p.overlay.metrics).toEqual({ serviceMonitor: { enabled: true }, prometheusRule: { enabled: false } });
    expect(p.notes).toContain('metrics.serviceMonitor.enabled: auto → true (ServiceMonitor CRD found in the cluster)');
    expect(p.notes).toContain('metrics.prometheusRule.enabled: auto → false (PrometheusRule CRD not found in the cluster)');
    expect(p.apiVersions).toEqual(['monitoring.coreos.com/v1/ServiceMonitor']);
    expect(p.template.argv).toEqual(expect.arrayContaining(['--api-versions', 'monitoring.coreos.com/v1/ServiceMonitor']));
  });
  it('without cluster contact auto is off, and the header says what was assumed', () => {
    const p = plan(input({ facts: unknownFacts('no cluster contact') }, { offline: true }));
    expect(p.overlay.metrics).toEqual({ serviceMonitor: { enabled: false }, prometheusRule: { enabled: false } });
    expect(p.header.assumes).toEqual([
      'ServiceMonitor CRD (monitoring.coreos.com/v1/ServiceMonitor) absent → metrics.serviceMonitor.enabled=false',
      'PrometheusRule CRD (monitoring.coreos.com/v1/PrometheusRule) absent → metrics.prometheusRule.enabled=false',
    ]);
    expect(p.notes[0]).toContain('not checked: no cluster contact');
  });
  it('an explicit true without the CRD is a preflight problem (exit 3)', () => {
    const p = plan(input({ sets: ['metrics.prometheusRule.enabled=true'] }));
    expect(p.problems).toEqual([
      {
        id: 'monitoring-crds',
        kind: 'preflight',
        message: 'metrics.prometheusRule.enabled=true but the PrometheusRule CRD (monitoring.coreos.com/v1/PrometheusRule) is not installed in the cluster',
        hint: 'install the Prometheus Operator CRDs first, or use --set metrics.prometheusRule.enabled=false (or auto)',
      },
    ]);
  });
  it('an explicit true offline is assumed present and rendered with the API version', () => {
    const p = plan(input({ facts: unknownFacts('render'), sets: ['metrics.serviceMonitor.enabled=true'] }, { offline: true }));
    expect(p.problems).toEqual([]);
    expect(p.header.assumes[0]).toBe('ServiceMonitor CRD (monitoring.coreos.com/v1/ServiceMonitor) present (not checked)');
    expect(p.apiVersions).toContain('monitoring.coreos.com/v1/ServiceMonitor');
  });
  it('false stays false and adds nothing', () => {
    const p = plan(input({ sets: ['metrics.serviceMonitor.enabled=false', 'metrics.prometheusRule.enabled=false'] }));
    expect(p.apiVersions).toEqual([]);
    expect(p.header.assumes).toEqual([]);
  });
});

describe('plan: input and preflight problems', () => {
  it.each([
    [['meta.replicaCount=2'], 'meta.replicaCount: meta voters must be odd (Raft needs a majority): 1 or 3'],
    [['meta.replicaCount=1'], 'meta.replicaCount: prod needs at least 3 meta voters to survive losing one'],
    [['broker.replicaCount=0'], 'broker.replicaCount: must be at least 1'],
    [['engine.replicaCount=three'], 'engine.replicaCount: must be a whole number, not "three"'],
    [['engine.persistence.size=lots'], 'engine.persistence.size: "lots" is not a size: use a Kubernetes quantity like 10Gi or 500Mi'],
    [['topology=mesh'], 'topology must be combined or split, not "mesh"'],
    [['auth.adminPassword=hunter2'], 'auth.adminPassword would put a secret in the overlay'],
  ])('%j → input problem', (sets, message) => {
    const p = plan(input({ sets }));
    expect(p.problems.map((x) => [x.kind, x.message])).toContainEqual(['input', message]);
  });
  it('combined: voters may not exceed pods; dev allows 1', () => {
    const dev = { name: 'dev', source: 'dev', values: { topology: 'combined', combined: { replicaCount: 1, metaReplicas: 1 } } };
    expect(plan(input({ preset: dev })).problems).toEqual([]);
    const p = plan(input({ preset: dev, sets: ['combined.metaReplicas=3'] }));
    expect(p.problems.map((x) => x.message)).toEqual(['combined.metaReplicas (3) exceeds combined.replicaCount (1)']);
  });
  it('an unknown StorageClass is a preflight problem naming the available ones', () => {
    const p = plan(input({ sets: ['engine.persistence.storageClass=gold'] }));
    expect(p.problems).toEqual([
      { id: 'storage-class', kind: 'preflight', message: 'StorageClass "gold" (engine.persistence.storageClass) does not exist in the cluster', hint: 'available: standard (default), fast' },
    ]);
  });
  it('warns when nothing is default and a role leaves the class empty', () => {
    const p = plan(input({ facts: { ...reachable, storageClasses: [{ name: 'fast', isDefault: false }] } }));
    expect(p.warnings[0]).toMatch(/no default StorageClass/);
  });
  it('install over an existing release: exists → input, pending → preflight with the way out', () => {
    const exists = plan(input({ facts: { ...reachable, existingRelease: { revision: 2, status: 'deployed' } } }));
    expect(exists.problems[0]).toMatchObject({ id: 'release-exists', kind: 'input', hint: 'use robustmq-install upgrade, or uninstall first' });
    const failed = plan(input({ facts: { ...reachable, existingRelease: { revision: 1, status: 'failed' } } }));
    expect(failed.problems[0]!.hint).toBe('retry it with robustmq-install upgrade and the same flags (the failed revision is replaced), or uninstall first');
    const pending = plan(input({ facts: { ...reachable, existingRelease: { revision: 3, status: 'pending-upgrade' } } }));
    expect(pending.problems[0]).toMatchObject({ id: 'release-pending', kind: 'preflight', message: 'release robustmq is pending-upgrade (revision 3)' });
  });
});

describe('plan: helm steps are data', () => {
  it('install: one mutating step, the checks list', () => {
    const p = plan(input());
    expect(p.helm).toHaveLength(1);
    expect(p.helm[0]).toMatchObject({ mutates: true });
    // no --wait: helm applies, the deploy flow's health watch decides readiness
    expect(p.helm[0]!.argv).toEqual(['install', 'robustmq', '/pkg/chart/robustmq', '--namespace', 'robustmq', '--create-namespace', '--values', '/project/robustmq-values.yaml', '--timeout', '10m']);
    expect(p.helm[0]!.purpose).toBe('install the release (never uninstalls on failure); then the health watch waits for readiness');
    expect(p.checks).toEqual(['helm-version', 'api-reachable', 'kube-version', 'rbac', 'storage-class', 'crds', 'release-state', 'leftover-pvcs', 'server-dry-run']);
    expect(formatSteps(p, '/opt/helm')[0]).toBe('/opt/helm install robustmq /pkg/chart/robustmq --namespace robustmq --create-namespace --values /project/robustmq-values.yaml --timeout 10m');
  });
  it('--repo-url adds repo add/update under the private name before the deploy', () => {
    const url = 'https://charts.example.com';
    const ref = `${privateRepoName(url)}/robustmq`;
    const p = plan(input({}, { chart: { kind: 'repo', source: { ref, version: '0.1.0', caFile: '/ca.pem' }, repoUrl: url, display: 'x' }, kubeContext: 'prod-eu', kubeconfig: '/k' }));
    expect(p.helm.map((s) => s.argv.slice(0, 2))).toEqual([
      ['repo', 'add'],
      ['repo', 'update'],
      ['install', 'robustmq'],
    ]);
    expect(p.helm[0]!.argv).toEqual(['repo', 'add', privateRepoName(url), url, '--force-update', '--ca-file', '/ca.pem']);
    expect(p.helm[2]!.argv).toEqual(expect.arrayContaining([ref, '--version', '0.1.0', '--ca-file', '/ca.pem', '--kube-context', 'prod-eu', '--kubeconfig', '/k']));
  });
  it('render: only helm template (no cluster), no checks', () => {
    const p = plan(input({ command: 'render', facts: unknownFacts('render') }, { offline: true, valuesFile: '/out/values.yaml' }));
    expect(p.helm).toEqual([p.template]);
    expect(p.template.argv.slice(0, 7)).toEqual(['template', 'robustmq', '/pkg/chart/robustmq', '--namespace', 'robustmq', '--values', '/out/values.yaml']);
    expect(p.checks).toEqual([]);
  });
  it('--helm-wait adds helm\'s own wait, in each major\'s spelling, and says so', () => {
    const p4 = plan(input({}, { helmWait: true }));
    expect(p4.helm[0]!.argv).toContain('--wait=watcher');
    expect(p4.helm[0]!.purpose).toBe("install the release (never uninstalls on failure); helm's --wait and the health watch wait for readiness");
    const p3 = plan({ ...input({}, { helmWait: true }), facts: { ...reachable, helmMajor: 3 } });
    expect(p3.helm[0]!.argv).toContain('--wait');
    expect(p3.helm[0]!.argv).not.toContain('--wait=watcher');
    expect(plan({ ...input(), facts: { ...reachable, helmMajor: 3 } }).helm[0]!.argv.some((a) => a.startsWith('--wait'))).toBe(false);
  });
  it('helm 4 upgrade carries the inherited apply method', () => {
    const p = plan(input({ command: 'upgrade', facts: { ...reachable, existingRelease: { revision: 1, status: 'deployed', applyMethod: 'client-side' } } }));
    expect(p.helm[0]!.argv).toContain('--server-side=false');
  });
});

describe('plan: reproduce command and overlay header', () => {
  it('the reproduce command replays preset, files, answers, sets and non-default flags', () => {
    const p = plan(
      input(
        { valuesFiles: [{ path: 'my values.yaml', values: {} }], answers: { broker: { replicaCount: 5 } }, sets: ['service.type=LoadBalancer'] },
        { release: 'mq', namespace: 'iot', kubeContext: 'prod-eu', registry: 'mirror.local', reproduceExtra: ['--chart', './c.tgz'] },
      ),
    );
    expect(p.reproduceCommand).toBe(
      "npx robustmq-install --preset prod -f 'my values.yaml' --set broker.replicaCount=5 --set service.type=LoadBalancer --release mq --namespace iot --kube-context prod-eu --registry mirror.local --chart ./c.tgz",
    );
  });
  it('the overlay has a header and parses back to the overlay; no secret values in it', () => {
    const p = plan(input());
    const lines = p.overlayYaml.split('\n');
    expect(lines.slice(0, 10)).toEqual([
      '# robustmq-install values overlay: pass it to helm as-is, or to `robustmq-install --preset FILE`.',
      '# preset: prod',
      '# generated by: robustmq-install 1.2.3; chart: robustmq (bundled) 0.1.0',
      '# date: 2026-01-02T03:04:05.000Z',
      '# release: robustmq, namespace: robustmq, context: kind-test (https://127.0.0.1:6443)',
      '# reproduce: npx robustmq-install --preset prod',
      '# assumes: ServiceMonitor CRD (monitoring.coreos.com/v1/ServiceMonitor) present (detected) → metrics.serviceMonitor.enabled=true',
      '# assumes: PrometheusRule CRD (monitoring.coreos.com/v1/PrometheusRule) absent (detected) → metrics.prometheusRule.enabled=false',
      '# secrets: none in this file; credentials are in Secret robustmq-credentials (auth.existingSecret)',
      'topology: split',
    ]);
    expect(parse(p.overlayYaml)).toEqual(p.overlay);
    expect(p.overlayYaml).not.toMatch(/password:|jwt-secret:/i);
  });
  it('a preset file shows its path', () => {
    const p = plan(input({ preset: { name: './mine.yaml', source: './mine.yaml', values: { topology: 'combined' } } }));
    expect(p.reproduceCommand).toBe('npx robustmq-install --preset ./mine.yaml');
    expect(p.overlayYaml).toContain('# preset: ./mine.yaml\n');
  });
  it('setsBetween gives the minimal --set list', () => {
    expect(setsBetween({ a: 1, b: { c: 2 } }, { a: 1, b: { c: 3 }, d: ['x'] })).toEqual(['b.c=3', 'd={x}']);
    expect(setsBetween({ a: 1 }, {})).toEqual(['a=null']);
  });
});
