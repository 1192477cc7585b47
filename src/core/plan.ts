// The planner: PURE. preset + values files + --set + wizard answers + detected facts + flags → Plan.
// The Plan is data: the overlay, the helm argv arrays (fed to both the real run and the --dry-run text), the checks
// to run, problems found without a cluster, notes and the reproduce command.
import { CLI_NAME } from './meta.js';
import type { Facts } from './facts.js';
import {
  deployArgv,
  formatCommand,
  repoAddArgv,
  repoUpdateArgv,
  shellQuote,
  templateArgv,
  type ChartKind,
  type ChartSource,
  type HelmMajor,
} from './flags.js';
import { credentialsSecretName, CREDENTIAL_KEYS, renderOverlay, type OverlayHeader } from './overlay.js';
import { topologyOf, ROLES } from './presets.js';
import { validateReplicas, validateQuantity } from './questions.js';
import { clone, deepMerge, diffValues, getPath, isMap, mergeAll, parseSet, setPath, setsToValues, toSetExpr, type Values } from './values.js';
import { imageProblems } from './image-ref.js';

export type CheckId =
  | 'helm-version'
  | 'api-reachable'
  | 'kube-version'
  | 'rbac'
  | 'storage-class'
  | 'crds'
  | 'release-state'
  | 'leftover-pvcs'
  | 'server-dry-run';

export interface Problem {
  id: string;
  /** input → exit 2; preflight → exit 3 */
  kind: 'input' | 'preflight';
  message: string;
  hint?: string;
}

export interface HelmStep {
  /** what it is for, shown in --dry-run */
  purpose: string;
  argv: string[];
  /** false for reads (still run by preflight), true for writes (skipped by --dry-run) */
  mutates: boolean;
}

export interface PlanInput {
  command: 'install' | 'upgrade' | 'render';
  /** the preset already read; name = dev/test/prod or the file path */
  preset?: { name: string; source: string; values: Values };
  /** -f files in order, already read */
  valuesFiles?: { path: string; values: Values }[];
  /** --set expressions in order */
  sets?: string[];
  /** the wizard's answers as values (applied after files, before --set) */
  answers?: Values;
  /** chart's values.yaml, to resolve what the preset leaves to the chart (monitoring auto) */
  chartDefaults?: Values;
  /** for upgrade: the current release values (`helm get values`), the base under everything else */
  currentValues?: Values;
  facts: Facts & { helmMajor: HelmMajor };
  flags: {
    release: string;
    namespace: string;
    kubeContext?: string;
    kubeconfig?: string;
    registry?: string;
    /** Go duration for helm --timeout */
    timeout: string;
    /** where the overlay is written (render: DIR/values.yaml) */
    valuesFile: string;
    chart: { kind: ChartKind; source: ChartSource; repoUrl?: string; display: string; version?: string };
    /** extra reproduce-command flags (the user's -f paths, --chart…), already in argv form */
    reproduceExtra?: string[];
    /** true when the plan will not contact the cluster (--dry-run, render): facts are assumptions */
    offline?: boolean;
    /** let helm roll back a failed upgrade itself (default: the deploy flow does it) */
    helmRollback?: boolean;
    /** helm's own --wait as well (default: helm applies and the deploy flow's health watch decides readiness) */
    helmWait?: boolean;
  };
  meta: { cliVersion: string; date: string };
}

export interface Plan {
  action: 'install' | 'upgrade' | 'render';
  release: string;
  namespace: string;
  preset: string;
  /** the complete user-supplied values (everything but chart defaults) */
  overlay: Values;
  /** overlay with its header, as written to the file */
  overlayYaml: string;
  header: OverlayHeader;
  valuesFile: string;
  /** in order: repo add/update (only with --repo-url), then the deploy (install|upgrade) or template (render) */
  helm: HelmStep[];
  /** render: the template step (same values and chart as a deploy) */
  template: HelmStep;
  /** the credentials Secret the deploy flow creates if absent */
  secret: { name: string; keys: readonly string[] };
  checks: CheckId[];
  problems: Problem[];
  warnings: string[];
  /** decisions worth showing, e.g. "monitoring auto → off: no ServiceMonitor CRD" */
  notes: string[];
  reproduceCommand: string;
  /** the --set expressions equivalent to the wizard answers */
  answerSets: string[];
  /** API versions assumed present for helm template */
  apiVersions: string[];
}

const SM = 'metrics.serviceMonitor.enabled';
const PR = 'metrics.prometheusRule.enabled';
const SM_API = 'monitoring.coreos.com/v1/ServiceMonitor';
const PR_API = 'monitoring.coreos.com/v1/PrometheusRule';

/** auto|true|false|"true"… → 'auto' | true | false | undefined */
function tri(v: unknown): 'auto' | boolean | undefined {
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  if (v === 'auto') return 'auto';
  return undefined;
}

/** The --set expressions that turn `base` into `target` (for the wizard's equivalent command). */
export function setsBetween(base: Values, target: Values): string[] {
  return diffValues(base, target).map((c) => toSetExpr(c.key, c.to === undefined ? null : c.to));
}

export function plan(input: PlanInput): Plan {
  const { facts, flags } = input;
  const problems: Problem[] = [];
  const warnings: string[] = [];
  const notes: string[] = [];
  const assumes: string[] = [];
  const presetName = input.preset?.name ?? (input.currentValues ? 'current release values' : 'chart defaults');

  // 1. layers: current (upgrade) < preset < -f files < answers < --set
  const presetValues = input.preset?.values ?? {};
  const beforeAnswers = mergeAll(input.currentValues ?? {}, presetValues, ...(input.valuesFiles ?? []).map((f) => f.values));
  const answers = input.answers ?? {};
  const withAnswers = deepMerge(beforeAnswers, answers);
  // the equivalent --set list: only answers that change what the chart would otherwise get
  const defaults = input.chartDefaults ?? {};
  const answerSets = setsBetween(deepMerge(defaults, beforeAnswers), deepMerge(defaults, withAnswers));
  let overlay = deepMerge(withAnswers, setsToValues(input.sets ?? []));

  // 2. keys the CLI owns
  overlay = clone(overlay);
  if (input.command === 'upgrade') {
    // helm reuses the release's values under this file: a key removed here would come back, so a null stays a null
    // (helm then drops the key and the chart default applies)
    for (const e of (input.sets ?? []).flatMap((x) => parseSet(x))) if (e.value === null) setPath(overlay, e.path, null);
  }
  const secretName = credentialsSecretName(flags.release);
  const userSecret = getPath(overlay, 'auth.existingSecret');
  if (typeof userSecret === 'string' && userSecret !== '' && userSecret !== secretName) {
    notes.push(`auth.existingSecret=${userSecret} given: the CLI will use that Secret and not create ${secretName}`);
  } else {
    setPath(overlay, 'auth.existingSecret', secretName);
  }
  if (flags.registry !== undefined) {
    setPath(overlay, 'global.imageRegistry', flags.registry);
    notes.push(flags.registry ? `every image is pulled from ${flags.registry} (global.imageRegistry)` : 'global.imageRegistry cleared');
  }
  for (const key of ['auth.adminPassword', 'auth.password', 'auth.mqttPassword', 'auth.jwtSecret']) {
    if (getPath(overlay, key) !== undefined) {
      problems.push({ id: 'secret-in-values', kind: 'input', message: `${key} would put a secret in the overlay`, hint: `leave it out: the CLI keeps credentials in Secret ${secretName}` });
    }
  }

  // 3. monitoring: auto → on/off from the detected CRDs
  const effective = deepMerge(input.chartDefaults ?? {}, overlay);
  const apiVersions: string[] = [];
  const crdFor = { [SM]: facts.crds.serviceMonitor, [PR]: facts.crds.prometheusRule } as Record<string, boolean | undefined>;
  const label = { [SM]: 'ServiceMonitor', [PR]: 'PrometheusRule' } as Record<string, string>;
  for (const key of [SM, PR]) {
    const want = tri(getPath(effective, key));
    const has = crdFor[key];
    const api = key === SM ? SM_API : PR_API;
    if (want === undefined) continue; // neither chart nor preset mention it
    if (want === 'auto') {
      const on = has === true;
      setPath(overlay, key, on);
      if (has === undefined) {
        notes.push(`${key}: auto → false (the ${label[key]} CRD was not checked: ${flags.offline ? 'no cluster contact' : 'cluster not reachable'})`);
        assumes.push(`${label[key]} CRD (${api}) absent → ${key}=false`);
      } else {
        notes.push(`${key}: auto → ${on} (${label[key]} CRD ${on ? 'found' : 'not found'} in the cluster)`);
        assumes.push(`${label[key]} CRD (${api}) ${on ? 'present' : 'absent'} (detected) → ${key}=${on}`);
      }
      if (on) apiVersions.push(api);
    } else if (want === true) {
      if (has === false) {
        problems.push({
          id: 'monitoring-crds',
          kind: 'preflight',
          message: `${key}=true but the ${label[key]} CRD (${api}) is not installed in the cluster`,
          hint: `install the Prometheus Operator CRDs first, or use --set ${key}=false (or auto)`,
        });
      }
      assumes.push(`${label[key]} CRD (${api}) present${has === undefined ? ' (not checked)' : ' (detected)'}`);
      apiVersions.push(api);
    }
  }

  // 4. input validation (the same rules as the wizard)
  const prod = input.preset?.name === 'prod';
  const topo = topologyOf(effective);
  if (!['combined', 'split'].includes(String(getPath(effective, 'topology') ?? 'combined'))) {
    problems.push({ id: 'topology', kind: 'input', message: `topology must be combined or split, not ${JSON.stringify(getPath(effective, 'topology'))}`, hint: '--set topology=combined|split' });
  }
  const voterKey = topo === 'combined' ? 'combined.metaReplicas' : 'meta.replicaCount';
  const voters = getPath(effective, voterKey);
  if (voters !== undefined) {
    const r = validateReplicas(voters, { voters: true, prod });
    if (r !== true) problems.push({ id: 'replicas', kind: 'input', message: `${voterKey}: ${r}`, hint: `--set ${voterKey}=3` });
  }
  for (const role of ROLES[topo]) {
    if (role === 'meta') continue;
    const key = `${role}.replicaCount`;
    const n = getPath(effective, key);
    if (n !== undefined) {
      const r = validateReplicas(n, { voters: false, prod });
      if (r !== true) problems.push({ id: 'replicas', kind: 'input', message: `${key}: ${r}`, hint: `--set ${key}=3` });
    }
    const size = getPath(effective, `${role}.persistence.size`);
    if (size !== undefined) {
      const r = validateQuantity(String(size));
      if (r !== true) problems.push({ id: 'storage-size', kind: 'input', message: `${role}.persistence.size: ${r}`, hint: `--set ${role}.persistence.size=10Gi` });
    }
  }
  if (topo === 'combined') {
    const total = getPath(effective, 'combined.replicaCount');
    if (typeof voters === 'number' && typeof total === 'number' && voters > total) {
      problems.push({ id: 'replicas', kind: 'input', message: `combined.metaReplicas (${voters}) exceeds combined.replicaCount (${total})`, hint: 'meta voters run on the first pods: metaReplicas <= replicaCount' });
    }
  }

  for (const i of imageProblems(effective)) problems.push({ id: 'image', kind: 'input', message: i.message, hint: i.hint });

  // 5. storage class exists?
  for (const role of ROLES[topo]) {
    const sc = getPath(effective, `${role}.persistence.storageClass`);
    if (typeof sc === 'string' && sc !== '' && sc !== '-' && facts.storageClasses && !facts.storageClasses.some((s) => s.name === sc)) {
      problems.push({
        id: 'storage-class',
        kind: 'preflight',
        message: `StorageClass ${JSON.stringify(sc)} (${role}.persistence.storageClass) does not exist in the cluster`,
        hint: `available: ${facts.storageClasses.map((s) => s.name + (s.isDefault ? ' (default)' : '')).join(', ') || 'none'}`,
      });
    }
  }
  if (facts.storageClasses && facts.storageClasses.length > 0 && !facts.storageClasses.some((s) => s.isDefault)) {
    const unset = ROLES[topo].some((r) => !getPath(effective, `${r}.persistence.storageClass`) && getPath(effective, `${r}.persistence.enabled`) !== false);
    if (unset) warnings.push('the cluster has no default StorageClass and some role leaves persistence.storageClass empty: its PVCs will stay Pending');
  }

  // 6. release state
  const rel = facts.existingRelease;
  if (input.command === 'install' && rel) {
    if (rel.status.startsWith('pending-')) {
      problems.push({ id: 'release-pending', kind: 'preflight', message: `release ${flags.release} is ${rel.status} (revision ${rel.revision})`, hint: 'robustmq-install rollback (offers the last deployed revision)' });
    } else {
      problems.push({
        id: 'release-exists',
        kind: 'input',
        message: `release ${flags.release} already exists in namespace ${flags.namespace} (revision ${rel.revision}, ${rel.status})`,
        hint: rel.status === 'failed' ? 'retry it with robustmq-install upgrade and the same flags (the failed revision is replaced), or uninstall first' : 'use robustmq-install upgrade, or uninstall first',
      });
    }
  }

  // 7. helm steps (data)
  const conn = { namespace: flags.namespace, kubeContext: flags.kubeContext, kubeconfig: flags.kubeconfig };
  const helm: HelmStep[] = [];
  if (flags.chart.repoUrl) {
    helm.push({ purpose: 'add the chart repository under a private name', argv: repoAddArgv(flags.chart.repoUrl, { caFile: flags.chart.source.caFile }), mutates: true });
    helm.push({ purpose: 'refresh that repository index', argv: repoUpdateArgv(flags.chart.repoUrl), mutates: true });
  }
  const template: HelmStep = {
    purpose: 'render the manifests (no cluster contact)',
    argv: templateArgv({ release: flags.release, namespace: flags.namespace, chart: flags.chart.source, valuesFile: flags.valuesFile, apiVersions, kubeVersion: facts.kubeVersion }),
    mutates: false,
  };
  if (input.command === 'render') {
    helm.push(template);
  } else {
    helm.push({
      purpose: `${input.command === 'install' ? 'install the release (never uninstalls on failure)' : 'upgrade the release (reset-then-reuse values)'}; ${flags.helmWait ? "helm's --wait and" : 'then'} the health watch wait${flags.helmWait ? '' : 's'} for readiness`,
      argv: deployArgv({
        helmMajor: facts.helmMajor,
        action: input.command,
        release: flags.release,
        chart: flags.chart.source,
        valuesFile: flags.valuesFile,
        timeout: flags.timeout,
        wait: flags.helmWait === true || flags.helmRollback === true,
        helmRollback: flags.helmRollback,
        inheritedApplyMethod: rel?.applyMethod,
        ...conn,
      }),
      mutates: true,
    });
  }

  const checks: CheckId[] =
    input.command === 'render'
      ? []
      : ['helm-version', 'api-reachable', 'kube-version', 'rbac', 'storage-class', 'crds', 'release-state', 'leftover-pvcs', 'server-dry-run'];

  // 8. reproduce command
  const rep: string[] = ['npx', CLI_NAME];
  if (input.command !== 'install') rep.push(input.command);
  if (input.preset) rep.push('--preset', input.preset.source === input.preset.name ? input.preset.name : input.preset.source);
  for (const f of input.valuesFiles ?? []) rep.push('-f', f.path);
  for (const s of answerSets) rep.push('--set', s);
  for (const s of input.sets ?? []) rep.push('--set', s);
  if (flags.release !== 'robustmq') rep.push('--release', flags.release);
  if (flags.namespace !== 'robustmq') rep.push('--namespace', flags.namespace);
  if (flags.kubeContext) rep.push('--kube-context', flags.kubeContext);
  if (flags.registry !== undefined) rep.push('--registry', flags.registry);
  rep.push(...(flags.reproduceExtra ?? []));
  const reproduceCommand = rep.map(shellQuote).join(' ');

  const header: OverlayHeader = {
    preset: presetName,
    presetSource: input.preset?.source,
    cliVersion: input.meta.cliVersion,
    chart: flags.chart.display,
    chartVersion: flags.chart.version,
    date: input.meta.date,
    reproduce: reproduceCommand,
    assumes,
    context: facts.context,
    server: facts.server,
    namespace: flags.namespace,
    release: flags.release,
    secretName,
  };
  if (!isMap(overlay)) throw new Error('internal: overlay is not a map');
  return {
    action: input.command,
    release: flags.release,
    namespace: flags.namespace,
    preset: presetName,
    overlay,
    overlayYaml: renderOverlay(header, overlay),
    header,
    valuesFile: flags.valuesFile,
    helm,
    template,
    secret: { name: secretName, keys: CREDENTIAL_KEYS },
    checks,
    problems,
    warnings,
    notes,
    reproduceCommand,
    answerSets,
    apiVersions,
  };
}

/** The --dry-run text of the helm steps: exactly the argv the real run executes. */
export function formatSteps(p: Plan, helmPath = 'helm'): string[] {
  return p.helm.map((s) => formatCommand(s.argv, helmPath));
}
