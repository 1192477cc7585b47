// Preflight proves, not guesses. Each check has an id, a severity and a hint; the shell gathers evidence from the
// cluster (src/commands/preflight.ts) and these pure functions judge it. A failed check of severity `error` makes
// the command exit 3; warnings are printed and do not stop anything.
import { parseAllDocuments } from 'yaml';

export type Severity = 'error' | 'warning' | 'info';

export interface CheckResult {
  id: string;
  title: string;
  severity: Severity;
  status: 'pass' | 'fail' | 'skip';
  message: string;
  hint?: string;
  /** one line per finding (denied permissions, dry-run errors, leftover PVC names) */
  details?: string[];
}

export const MIN_HELM = { major: 3, minor: 14 };
/**
 * The oldest and newest minors the e2e suite installs on. `min` is the chart's kubeVersion floor too (Chart.yaml;
 * test/chart/docs.test.ts keeps the two equal): declared only because it is tested (test/e2e/oldest-kube.test.ts).
 */
export const KUBE_RANGE = { min: { major: 1, minor: 32 }, testedMax: { major: 1, minor: 36 } };

export function failed(results: CheckResult[]): CheckResult[] {
  return results.filter((r) => r.status === 'fail' && r.severity === 'error');
}

const pass = (id: string, title: string, message: string, details?: string[]): CheckResult => ({ id, title, severity: 'info', status: 'pass', message, ...(details?.length ? { details } : {}) });

// ---- helm and API -----------------------------------------------------------------------------------------------

export function checkHelmVersion(version: string | undefined, path = 'helm'): CheckResult {
  const title = 'helm version';
  const m = version ? /(\d+)\.(\d+)\.(\d+)/.exec(version) : null;
  if (!m) return { id: 'helm-version', title, severity: 'error', status: 'fail', message: `could not run ${path} version`, hint: 'install helm >= 3.14 or pass --helm PATH' };
  const [maj, min] = [Number(m[1]), Number(m[2])];
  if (maj < MIN_HELM.major || (maj === MIN_HELM.major && min < MIN_HELM.minor)) {
    return { id: 'helm-version', title, severity: 'error', status: 'fail', message: `helm ${m[0]} is older than 3.14 (upgrade needs --reset-then-reuse-values)`, hint: 'install a newer helm or pass --helm PATH' };
  }
  if (maj > 4) return { id: 'helm-version', title, severity: 'error', status: 'fail', message: `helm ${m[0]} is not supported (3.14+ and 4.x are)`, hint: 'pass --helm PATH to a helm 3 or 4 binary' };
  return pass('helm-version', title, `helm ${m[0]}`);
}

/**
 * Appended to the hint of "cannot reach the Kubernetes API" when the cause may be that there is no cluster at all (a
 * newcomer's first run): the usual ways to get one, and this repository's own local node.
 */
export const GET_A_CLUSTER = 'no cluster yet? create one with kind, k3d or minikube, or use a cloud cluster; from a clone of robustmq-install, `npm run node:up` starts a local one';

/** A connection hint, with GET_A_CLUSTER after it. */
export function unreachableHint(hint: string): string {
  return `${hint}; ${GET_A_CLUSTER}`;
}

export function checkApi(o: { reachable: boolean; error?: string; context?: string; server?: string }): CheckResult {
  const where = `${o.context ? `context ${o.context}` : 'the current context'}${o.server ? ` (${o.server})` : ''}`;
  if (o.reachable) return pass('api-reachable', 'API server reachable', `reached ${where}`);
  const err = o.error ?? 'no answer';
  const noContext = /context .*(does not exist|not found)|context was not found|no context|cannot locate context/i.test(err);
  const noConfig = /no configuration has been provided|invalid configuration|kubeconfig/i.test(err) && !noContext;
  return {
    id: 'api-reachable',
    title: 'API server reachable',
    severity: 'error',
    status: 'fail',
    message: `cannot reach the Kubernetes API of ${where}: ${err}`,
    hint: /kubectl not found|ENOENT/.test(err)
      ? 'install kubectl (the CLI reaches the cluster through it), or point ROBUSTMQ_INSTALL_KUBECTL at it'
      : noContext
      ? 'check --kube-context against `kubectl config get-contexts`'
      : noConfig
        ? unreachableHint('set KUBECONFIG or pass --kubeconfig FILE')
        : unreachableHint('check the network path to the API server, VPN, and that the credentials in the kubeconfig are valid'),
  };
}

export function checkKubeVersion(v: { major: number; minor: number; gitVersion: string } | undefined): CheckResult {
  const title = 'Kubernetes version';
  if (!v) return { id: 'kube-version', title, severity: 'error', status: 'skip', message: 'not checked: the API server was not reached' };
  const { min, testedMax } = KUBE_RANGE;
  if (v.major < min.major || (v.major === min.major && v.minor < min.minor)) {
    return { id: 'kube-version', title, severity: 'error', status: 'fail', message: `Kubernetes ${v.gitVersion} is older than ${min.major}.${min.minor} (the chart needs >= ${min.major}.${min.minor})`, hint: 'upgrade the cluster' };
  }
  if (v.major > testedMax.major || (v.major === testedMax.major && v.minor > testedMax.minor)) {
    return { id: 'kube-version', title, severity: 'warning', status: 'fail', message: `Kubernetes ${v.gitVersion} is newer than the newest tested (${testedMax.major}.${testedMax.minor})` };
  }
  return pass('kube-version', title, `Kubernetes ${v.gitVersion}`);
}

// ---- what the chart creates ---------------------------------------------------------------------------------------

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  /** helm hook kind(s) (`test`, `pre-install`, …) when the object is a hook */
  hook?: string;
  /** the whole object as rendered */
  raw: Record<string, unknown>;
}

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'StorageClass',
  'PriorityClass',
  'IngressClass',
  'PersistentVolume',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'ClusterIssuer',
]);

export function isClusterScoped(kind: string): boolean {
  return CLUSTER_SCOPED.has(kind);
}

/** Splits `helm template` output into objects (empty documents and comments skipped). */
export function parseManifests(yamlText: string): ManifestObject[] {
  const out: ManifestObject[] = [];
  // YAML 1.1, as helm and kubectl read it (sigs.k8s.io/yaml): 0555 is octal, yes/no are booleans.
  for (const doc of parseAllDocuments(yamlText, { version: '1.1' })) {
    const o = doc.toJS() as { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> } } | null;
    if (!o || typeof o !== 'object' || !o.kind || !o.apiVersion) continue;
    out.push({
      raw: o as Record<string, unknown>,
      apiVersion: o.apiVersion,
      kind: o.kind,
      name: o.metadata?.name ?? '',
      ...(o.metadata?.namespace ? { namespace: o.metadata.namespace } : {}),
      ...(o.metadata?.annotations?.['helm.sh/hook'] ? { hook: o.metadata.annotations['helm.sh/hook'] } : {}),
    });
  }
  return out;
}

const IRREGULAR: Record<string, string> = { Endpoints: 'endpoints', EndpointSlice: 'endpointslices' };

/** `NetworkPolicy` → `networkpolicies` (the API's plural for every kind a chart renders). */
export function resourceOf(kind: string): string {
  if (IRREGULAR[kind]) return IRREGULAR[kind];
  const k = kind.toLowerCase();
  if (k.endsWith('y') && !/[aeiou]y$/.test(k)) return `${k.slice(0, -1)}ies`;
  if (k.endsWith('s') || k.endsWith('x') || k.endsWith('ch') || k.endsWith('sh')) return `${k}es`;
  return `${k}s`;
}

export function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
}

export interface AccessNeed {
  verb: string;
  resource: string;
  group: string;
  namespace?: string;
  subresource?: string;
  severity: Severity;
  why: string;
}

/**
 * Every permission the operation needs, for SelfSubjectAccessReview: helm's create/get/patch/delete on each kind the
 * chart renders, helm's release storage (Secrets), what the CLI itself does (namespace, credentials Secret, watching
 * pods/events/PVCs, logs for the bundle) and, as warnings, what only the RobustMQ check and `helm test` need.
 */
export function accessNeeds(objects: ManifestObject[], o: { namespace: string; namespaceExists: boolean; smoke: boolean }): AccessNeed[] {
  const needs = new Map<string, AccessNeed>();
  const add = (n: AccessNeed) => {
    const key = `${n.verb} ${n.group}/${n.resource}${n.subresource ? `/${n.subresource}` : ''} ${n.namespace ?? '*'}`;
    const prev = needs.get(key);
    if (!prev || (prev.severity !== 'error' && n.severity === 'error')) needs.set(key, n);
  };
  const ns = o.namespace;
  if (!o.namespaceExists) add({ verb: 'create', resource: 'namespaces', group: '', severity: 'error', why: `create namespace ${ns}` });
  for (const obj of objects) {
    const test = obj.hook?.split(',').includes('test') ?? false;
    const cluster = isClusterScoped(obj.kind);
    const severity: Severity = test ? 'warning' : 'error';
    const why = test ? `helm test creates ${obj.kind} ${obj.name}` : `the chart creates ${obj.kind} ${obj.name}`;
    const verbs = test ? ['create', 'get', 'delete'] : ['create', 'get', 'patch', 'delete'];
    for (const verb of verbs) add({ verb, resource: resourceOf(obj.kind), group: groupOf(obj.apiVersion), ...(cluster ? {} : { namespace: obj.namespace ?? ns }), severity, why });
  }
  for (const verb of ['create', 'get', 'list', 'patch', 'delete']) add({ verb, resource: 'secrets', group: '', namespace: ns, severity: 'error', why: 'helm release records and the credentials Secret' });
  for (const r of ['pods', 'events', 'persistentvolumeclaims']) {
    for (const verb of ['list', 'watch']) add({ verb, resource: r, group: '', namespace: ns, severity: 'error', why: 'watching the rollout' });
  }
  for (const verb of ['list', 'watch']) add({ verb, resource: 'statefulsets', group: 'apps', namespace: ns, severity: 'error', why: 'helm --wait reads the StatefulSets' });
  add({ verb: 'get', resource: 'pods', group: '', namespace: ns, subresource: 'log', severity: 'warning', why: 'container logs for the debug bundle' });
  if (o.smoke) add({ verb: 'create', resource: 'pods', group: '', namespace: ns, subresource: 'exec', severity: 'warning', why: 'the RobustMQ check asks each meta pod on loopback' });
  return [...needs.values()];
}

export function checkRbac(results: (AccessNeed & { allowed: boolean; reason?: string })[]): CheckResult {
  const denied = results.filter((r) => !r.allowed);
  // One line per resource: "statefulsets.apps in ns: create, get, patch, delete (the chart creates StatefulSet x)".
  const groups = new Map<string, { verbs: string[]; why: string; reason?: string }>();
  for (const r of denied) {
    const key = `${r.group ? `${r.resource}.${r.group}` : r.resource}${r.subresource ? `/${r.subresource}` : ''}${r.namespace ? ` in ${r.namespace}` : ' (cluster-wide)'}`;
    const g = groups.get(key) ?? { verbs: [], why: r.why, ...(r.reason ? { reason: r.reason } : {}) };
    if (!g.verbs.includes(r.verb)) g.verbs.push(r.verb);
    groups.set(key, g);
  }
  const details = [...groups.entries()].map(([k, g]) => `${k}: ${g.verbs.join(', ')} denied (${g.why})${g.reason ? ` [${g.reason}]` : ''}`);
  const hard = denied.filter((r) => r.severity === 'error');
  if (hard.length) {
    return {
      id: 'rbac',
      title: 'permissions (SelfSubjectAccessReview)',
      severity: 'error',
      status: 'fail',
      message: `${hard.length} of ${results.length} permissions the install needs are denied`,
      details,
      hint: 'ask a cluster admin for these permissions in the namespace, or use a context with them',
    };
  }
  if (denied.length) {
    return {
      id: 'rbac',
      title: 'permissions (SelfSubjectAccessReview)',
      severity: 'warning',
      status: 'fail',
      message: `${denied.length} optional permissions are denied; the install works, some checks will be skipped`,
      details,
    };
  }
  return pass('rbac', 'permissions (SelfSubjectAccessReview)', `all ${results.length} permissions allowed`);
}

// ---- storage, CRDs, release state ------------------------------------------------------------------------------------

export interface StorageNeed {
  role: string;
  enabled: boolean;
  /** '' = the cluster default; '-' = no class (pre-provisioned PVs) */
  storageClass: string;
}

/**
 * Storage needs as the chart rendered them: each StatefulSet volumeClaimTemplate's storageClassName, where an
 * absent field means the cluster default and "" means no class (pre-provisioned volumes).
 */
export function storageNeedsFromManifests(objects: ManifestObject[]): StorageNeed[] {
  const needs: StorageNeed[] = [];
  for (const o of objects.filter((x) => x.kind === 'StatefulSet')) {
    const spec = (o.raw.spec ?? {}) as { volumeClaimTemplates?: { metadata?: { name?: string }; spec?: { storageClassName?: string } }[]; template?: { metadata?: { labels?: Record<string, string> } } };
    const role = spec.template?.metadata?.labels?.['app.kubernetes.io/component'] ?? o.name;
    for (const t of spec.volumeClaimTemplates ?? []) {
      const sc = t.spec?.storageClassName;
      needs.push({ role, enabled: true, storageClass: sc === undefined || sc === null ? '' : sc === '' ? '-' : sc });
    }
  }
  return needs;
}

/** API groups served by Kubernetes itself; anything else the chart renders needs a CRD. */
const BUILTIN_GROUPS = new Set([
  '',
  'apps',
  'batch',
  'policy',
  'autoscaling',
  'networking.k8s.io',
  'rbac.authorization.k8s.io',
  'storage.k8s.io',
  'scheduling.k8s.io',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'certificates.k8s.io',
  'node.k8s.io',
  'events.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'resource.k8s.io',
  'authentication.k8s.io',
  'authorization.k8s.io',
]);

const FEATURE_KEY: Record<string, string> = {
  ServiceMonitor: 'metrics.serviceMonitor.enabled',
  PrometheusRule: 'metrics.prometheusRule.enabled',
  Certificate: 'tls.source',
  Issuer: 'tls.source',
  HTTPRoute: 'httpRoute.enabled',
  GrafanaDashboard: 'metrics.grafanaDashboard.enabled',
};

/** Every CRD-backed kind the chart rendered, with the values key that turned it on. */
export function crdNeedsFromManifests(objects: ManifestObject[]): CrdNeed[] {
  const seen = new Map<string, CrdNeed>();
  for (const o of objects) {
    const group = groupOf(o.apiVersion);
    if (BUILTIN_GROUPS.has(group)) continue;
    const crd = `${resourceOf(o.kind)}.${group}`;
    if (!seen.has(crd)) seen.set(crd, { key: FEATURE_KEY[o.kind] ?? `the ${o.kind} ${o.name}`, crd });
  }
  return [...seen.values()];
}

export function checkStorage(needs: StorageNeed[], classes: { name: string; isDefault: boolean; volumeBindingMode?: string }[]): CheckResult {
  const title = 'StorageClass';
  const problems: string[] = [];
  const used: string[] = [];
  const def = classes.filter((c) => c.isDefault);
  for (const n of needs.filter((x) => x.enabled)) {
    if (n.storageClass === '-') {
      used.push(`${n.role}: no class (pre-provisioned PersistentVolumes)`);
    } else if (n.storageClass === '') {
      if (def.length === 0) problems.push(`${n.role}.persistence.storageClass is empty and the cluster has no default StorageClass: the PVCs would stay Pending`);
      else used.push(`${n.role}: ${def[0]!.name} (default${def[0]!.volumeBindingMode === 'WaitForFirstConsumer' ? ', WaitForFirstConsumer' : ''})`);
    } else {
      const c = classes.find((x) => x.name === n.storageClass);
      if (!c) problems.push(`${n.role}.persistence.storageClass ${JSON.stringify(n.storageClass)} does not exist`);
      else used.push(`${n.role}: ${c.name}${c.volumeBindingMode === 'WaitForFirstConsumer' ? ' (WaitForFirstConsumer)' : ''}`);
    }
  }
  if (problems.length) {
    return {
      id: 'storage-class',
      title,
      severity: 'error',
      status: 'fail',
      message: problems.join('; '),
      hint: `available: ${classes.map((c) => c.name + (c.isDefault ? ' (default)' : '')).join(', ') || 'none'}; pick one with --set <role>.persistence.storageClass=NAME`,
    };
  }
  if (!needs.some((n) => n.enabled)) return pass('storage-class', title, 'persistence disabled: data lives in emptyDir and is lost with the pod');
  return pass('storage-class', title, used.join('; '));
}

export interface CrdNeed {
  /** the values key that asks for it */
  key: string;
  crd: string;
}

function offSwitch(key: string): string {
  if (key === 'tls.source') return '--set tls.source=selfSigned';
  if (key.startsWith('the ')) return `drop ${key.slice(4)} from your values`;
  return `--set ${key}=false`;
}

export function checkCrds(needs: CrdNeed[], installed: Set<string>): CheckResult {
  const missing = needs.filter((n) => !installed.has(n.crd));
  if (missing.length) {
    return {
      id: 'crds',
      title: 'CRDs for enabled features',
      severity: 'error',
      status: 'fail',
      message: missing.map((m) => `${m.key} needs CRD ${m.crd}, which is not installed`).join('; '),
      hint: `install the CRDs first, or turn the feature off (${missing.map((m) => offSwitch(m.key)).join(' ')})`,
    };
  }
  return pass('crds', 'CRDs for enabled features', needs.length ? `present: ${needs.map((n) => n.crd).join(', ')}` : 'no CRD-backed feature enabled');
}

export interface ReleaseState {
  /** latest revision's status, e.g. deployed, failed, pending-upgrade; undefined = no release */
  status?: string;
  revision?: number;
  /** last revision whose status is deployed or superseded */
  lastDeployed?: number;
}

export function checkRelease(r: ReleaseState, o: { mode: 'install' | 'upgrade'; release: string; namespace: string }): CheckResult {
  const title = 'release state';
  const id = 'release-state';
  if (!r.status) {
    if (o.mode === 'upgrade') return { id, title, severity: 'error', status: 'fail', message: `release ${o.release} not found in namespace ${o.namespace}`, hint: 'install it first (robustmq-install --preset …), or check --release/--namespace' };
    return pass(id, title, `no release ${o.release} in ${o.namespace} yet`);
  }
  if (r.status.startsWith('pending-')) {
    return {
      id,
      title,
      severity: 'error',
      status: 'fail',
      message: `release ${o.release} is ${r.status} (revision ${r.revision}): an earlier operation was interrupted`,
      hint:
        r.lastDeployed !== undefined
          ? `robustmq-install rollback ${r.lastDeployed} --release ${o.release} -n ${o.namespace}`
          : `nothing was ever deployed: robustmq-install uninstall --release ${o.release} -n ${o.namespace} (keeps PVCs and credentials), then install again`,
    };
  }
  if (o.mode === 'install') {
    return { id, title, severity: 'error', status: 'fail', message: `release ${o.release} already exists in ${o.namespace} (revision ${r.revision}, ${r.status})`, hint: 'use robustmq-install upgrade, or uninstall first' };
  }
  if (r.status === 'failed') {
    return { id, title, severity: 'warning', status: 'fail', message: `the latest revision ${r.revision} of ${o.release} is failed; the upgrade will replace it`, ...(r.lastDeployed ? { hint: `the last good revision is ${r.lastDeployed}` } : {}) };
  }
  return pass(id, title, `release ${o.release} revision ${r.revision} is ${r.status}`);
}

export function checkLeftovers(o: { releaseExists: boolean; pvcs: string[]; secretExists: boolean; secretName: string; release: string }): CheckResult {
  const title = 'leftover PVCs';
  if (o.releaseExists || o.pvcs.length === 0) return pass('leftover-pvcs', title, o.releaseExists ? 'PVCs belong to the existing release' : 'none');
  if (o.secretExists) {
    return {
      id: 'leftover-pvcs',
      title,
      severity: 'warning',
      status: 'fail',
      message: `${o.pvcs.length} PVCs from an earlier install of ${o.release} will be reused with their data, and so will Secret ${o.secretName}`,
      details: o.pvcs,
      hint: 'to start empty instead: robustmq-install uninstall --delete-data (or delete these PVCs)',
    };
  }
  return {
    id: 'leftover-pvcs',
    title,
    severity: 'error',
    status: 'fail',
    message: `${o.pvcs.length} PVCs from an earlier install of ${o.release} hold data whose stored MQTT user has the old password, but Secret ${o.secretName} is gone: new random credentials would not match`,
    details: o.pvcs,
    hint: `restore Secret ${o.secretName} (keys admin-password, admin-jwt-secret, mqtt-password) from your backup, or delete the PVCs to start empty`,
  };
}

/**
 * The dry-run result. Pod Security admission only warns about workload objects (StatefulSets, Jobs) and enforces on
 * the pods their controllers create later, so a `would violate PodSecurity "<level>:…"` warning at the level the
 * namespace enforces means those pods will be rejected: an error, found before anything exists.
 */
export function checkDryRun(r: { ok: boolean; applied: string[]; errors: string[]; warnings?: string[]; note?: string }, objectCount: number, o: { enforce?: string } = {}): CheckResult {
  const title = 'server-side dry-run (strict field validation)';
  if (!r.ok) {
    return {
      id: 'server-dry-run',
      title,
      severity: 'error',
      status: 'fail',
      message: `the API server rejected ${r.errors.length === 1 ? 'an object' : `${r.errors.length} objects`} of the rendered chart`,
      details: [...r.errors.slice(0, 8), ...(r.errors.length > 8 ? [`(and ${r.errors.length - 8} more)`] : []), ...(r.note ? [`note: ${r.note}`] : [])],
      hint: r.errors.every((e) => /\(Forbidden\)|forbidden/.test(e))
        ? 'the dry-run is refused for lack of permissions: see the rbac check'
        : 'fix the values named in the errors (unknown fields come from --set/-f keys the chart passes through verbatim)',
    };
  }
  const psa = (r.warnings ?? []).filter((w) => /would violate PodSecurity/.test(w));
  const enforced = psa.filter((w) => o.enforce && new RegExp(`PodSecurity "${o.enforce}:`).test(w));
  if (enforced.length) {
    return {
      id: 'server-dry-run',
      title,
      severity: 'error',
      status: 'fail',
      message: `the namespace enforces Pod Security "${o.enforce}", which would reject the pods`,
      details: enforced,
      hint: 'keep the chart security contexts (podSecurityContext/containerSecurityContext enabled), or use a namespace with a lower pod-security.kubernetes.io/enforce level',
    };
  }
  if (psa.length) {
    return { id: 'server-dry-run', title, severity: 'warning', status: 'fail', message: `${objectCount} objects accepted, with Pod Security warnings (not enforced here)`, details: psa };
  }
  return pass('server-dry-run', title, `${objectCount} objects accepted by the API server${r.note ? ` (${r.note})` : ''}`);
}

/** Lines for the text report: `✔ id: message`, `✖ …`, with details and hints indented. */
export function formatResults(results: CheckResult[]): string[] {
  const lines: string[] = [];
  for (const r of results) {
    const mark = r.status === 'pass' ? 'ok  ' : r.status === 'skip' ? 'skip' : r.severity === 'error' ? 'FAIL' : 'warn';
    lines.push(`${mark} ${r.id}: ${r.message}`);
    for (const d of r.details ?? []) lines.push(`       ${d}`);
    if (r.hint && r.status === 'fail') lines.push(`       hint: ${r.hint}`);
  }
  return lines;
}
