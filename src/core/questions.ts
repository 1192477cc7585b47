// The wizard's questions as DATA: id, the values keys each one writes, validation, and a default that may depend on
// what was detected. The runner (src/commands/install.ts) only asks, validates and applies; everything here is pure.
import { defaultIngressClass, defaultStorageClass, type Facts } from './facts.js';
import { PRESET_NAMES, type PresetName, ROLES, topologyOf, type Topology } from './presets.js';
import { clone, deepMerge, getPath, isMap, setPath, type Value, type Values } from './values.js';

// ---------- validators (also used by plan.ts for non-interactive input) ----------

export type Validation = true | string;

export function validateReplicas(v: unknown, o: { voters: boolean; prod: boolean }): Validation {
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) return `must be a whole number, not ${JSON.stringify(v)}`;
  if (n < 1) return 'must be at least 1';
  // the chart's broker_id ranges give each role 1000 ids (meta 1.., broker 1001.., engine 2001..)
  if (n > 1000) return 'must be at most 1000';
  if (o.voters) {
    if (n > 9) return 'at most 9 meta voters (more slows every Raft write, and ids above 9 break the order of meta_addrs)';
    if (n % 2 === 0) return `meta voters must be odd (Raft needs a majority): ${n - 1} or ${n + 1}`;
    if (o.prod && n < 3) return 'prod needs at least 3 meta voters to survive losing one';
  }
  return true;
}

const QUANTITY = /^(\d+(\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;
export function validateQuantity(s: string): Validation {
  const m = QUANTITY.exec(s.trim());
  if (!m) return `${JSON.stringify(s)} is not a size: use a Kubernetes quantity like 10Gi or 500Mi`;
  if (Number(m[1]) <= 0) return 'must be more than 0';
  const unit = m[3] ?? '';
  const bytes = Number(m[1]) * (({ '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 }) as Record<string, number>)[unit]!;
  if (bytes < 2 ** 20) return `${s} is too small for a volume: at least 1Mi`;
  return true;
}

const UNIT_BYTES: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

/** Bytes of a memory quantity, or undefined when it is not one. */
export function quantityBytes(s: string): number | undefined {
  const m = QUANTITY.exec(s.trim());
  return m ? Number(m[1]) * UNIT_BYTES[m[3] ?? '']! : undefined;
}

export function validateMemory(s: string): Validation {
  const b = quantityBytes(s);
  if (b === undefined) return `${JSON.stringify(s)} is not a memory size: use a Kubernetes quantity like 512Mi or 2Gi`;
  // RobustMQ does not start in less (and a bare "512" would mean 512 bytes)
  if (b < 64 * 2 ** 20) return `${s} is too little memory for RobustMQ: at least 64Mi`;
  return true;
}

export function validateCpu(s: string): Validation {
  const m = /^(\d+(\.\d+)?)(m?)$/.exec(s.trim());
  if (!m) return `${JSON.stringify(s)} is not a CPU amount: use cores (1, 0.5) or millicores (250m)`;
  if (Number(m[1]) <= 0) return 'must be more than 0';
  return true;
}

export function validateDnsLabel(s: string, max = 63, what = 'name'): Validation {
  if (s.length === 0) return `${what} must not be empty`;
  if (s.length > max) return `${what} must be at most ${max} characters`;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s)) return `${what} may only have lowercase letters, digits and "-", starting and ending with a letter or digit`;
  return true;
}

export function validateHost(s: string): Validation {
  if (s.length === 0) return 'host must not be empty';
  if (s.length > 253) return 'host must be at most 253 characters';
  const labels = s.startsWith('*.') ? s.slice(2).split('.') : s.split('.');
  for (const l of labels) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(l) || l.length > 63) return `${JSON.stringify(s)} is not a DNS host name (lowercase, e.g. mqtt.example.com)`;
  }
  return true;
}

// ---------- state and question shapes ----------

export interface WizardState {
  /** upgrade: the release exists; install-only questions are shown with their value, not asked */
  mode: 'install' | 'upgrade';
  facts: Facts;
  /** the built-in presets, already read */
  presets: Record<PresetName, Values>;
  /** -f files merged (applied over the chosen preset) */
  files: Values;
  /** the chart's values.yaml (for defaults the presets leave to the chart); upgrade: the release's computed values
   *  (`helm get values --all`), so every default is what runs now */
  chartDefaults: Values;
  /** the RobustMQ image tags the chart is tested with (empty: not known, e.g. a chart from a repository) */
  testedTags: readonly string[];
  /** the answer to "change CPU and memory?" (upgrade) */
  changeResources?: boolean;
  /** leaf keys fixed by --set: questions writing only those keys are not asked */
  fixed: ReadonlySet<string>;
  env: PresetName;
  release: string;
  namespace: string;
  /** preset + files + answers so far (no chart defaults) */
  values: Values;
  /** the answers alone, as values (what plan() receives as `answers`) */
  answers: Values;
}

export interface Choice {
  value: string;
  name: string;
  description?: string;
}

export interface Question {
  id: string;
  type: 'select' | 'input' | 'confirm';
  /** values keys this question writes (empty for release/namespace/environment) */
  keys: (s: WizardState) => string[];
  message: (s: WizardState) => string;
  /** true: ask; false: skip silently; a string: skip and tell the user why */
  when?: (s: WizardState) => boolean | string;
  choices?: (s: WizardState) => Choice[];
  /** select: a choice value; input: text; confirm: boolean */
  default: (s: WizardState) => string | boolean;
  validate?: (answer: string, s: WizardState) => Validation;
  apply: (answer: string | boolean, s: WizardState) => WizardState;
  /** which runs ask it (default: both) */
  modes?: readonly WizardState['mode'][];
  /** fixed once installed: on upgrade the question is not asked and this (the current value) is shown instead */
  installOnly?: (s: WizardState) => string;
}

export function initialState(o: {
  facts: Facts;
  presets: Record<PresetName, Values>;
  files?: Values;
  chartDefaults?: Values;
  fixed?: ReadonlySet<string>;
  release: string;
  namespace: string;
  testedTags?: readonly string[];
}): WizardState {
  const env: PresetName = 'dev';
  return {
    mode: 'install',
    testedTags: o.testedTags ?? [],
    facts: o.facts,
    presets: o.presets,
    files: o.files ?? {},
    chartDefaults: o.chartDefaults ?? {},
    fixed: o.fixed ?? new Set(),
    env,
    release: o.release,
    namespace: o.namespace,
    values: deepMerge(o.presets[env] ?? {}, o.files ?? {}),
    answers: {},
  };
}

/**
 * The upgrade wizard's start: the release's own values (`helm get values`) are what answers go over, its computed
 * values (`--all`) stand where the chart defaults stand at install, so each question defaults to what runs now.
 */
export function upgradeState(o: {
  facts: Facts;
  userValues: Values;
  computed: Values;
  files?: Values;
  fixed?: ReadonlySet<string>;
  release: string;
  namespace: string;
  testedTags?: readonly string[];
}): WizardState {
  return {
    mode: 'upgrade',
    testedTags: o.testedTags ?? [],
    facts: o.facts,
    presets: { dev: {}, test: {}, prod: {} },
    files: o.files ?? {},
    chartDefaults: o.computed,
    fixed: o.fixed ?? new Set(),
    env: 'dev',
    release: o.release,
    namespace: o.namespace,
    values: deepMerge(o.userValues, o.files ?? {}),
    answers: {},
  };
}

/** What runs now (upgrade): the release's computed value of a key. */
function installed(s: WizardState, key: string): Value | undefined {
  return getPath(s.chartDefaults, key);
}

/** The effective value: answers > preset+files > chart defaults. */
export function current(s: WizardState, key: string): Value | undefined {
  const v = getPath(s.values, key);
  return v !== undefined ? v : getPath(s.chartDefaults, key);
}

/** Drop an answer again (a scale-down or voter change the user did not confirm keeps what runs). */
function unsetAnswer(s: WizardState, key: string): WizardState {
  const values = clone(s.values);
  const answers = clone(s.answers);
  const was = installed(s, key);
  const parts = key.split('.');
  const last = parts.pop()!;
  for (const v of [values, answers]) {
    const parent = getPath(v, parts.join('.'));
    if (isMap(parent)) delete parent[last];
  }
  if (was !== undefined && getPath(values, key) === undefined) setPath(values, key, was);
  return { ...s, values, answers };
}

function setAnswer(s: WizardState, entries: [string, Value][]): WizardState {
  const values = clone(s.values);
  const answers = clone(s.answers);
  for (const [k, v] of entries) {
    setPath(values, k, v);
    setPath(answers, k, v);
  }
  return { ...s, values, answers };
}

function topo(s: WizardState): Topology {
  return topologyOf(deepMerge(s.chartDefaults, s.values));
}

/** Roles of a topology (the StorageClass question writes each one's persistence.storageClass). */
export function dataRoles(t: Topology): string[] {
  return [...ROLES[t]];
}

/** The first StorageClass a role of the topology already names (preset, files or earlier answers). */
function presetStorageClass(s: WizardState): string {
  for (const r of dataRoles(topo(s))) {
    const v = current(s, `${r}.persistence.storageClass`);
    if (typeof v === 'string' && v !== '' && v !== '-') return v;
  }
  return '';
}

function str(v: unknown, fallback = ''): string {
  return v === undefined || v === null ? fallback : String(v);
}

const ENV_TEXT: Record<PresetName, string> = {
  dev: 'one pod, small volume: for a laptop or a CI cluster',
  test: 'a small cluster that survives a pod loss',
  prod: 'separate meta/broker/engine roles, 3 voters, PodDisruptionBudgets',
};

function notFixed(keys: string[], s: WizardState): boolean | string {
  if (keys.length > 0 && keys.every((k) => s.fixed.has(k))) return `set by --set (${keys.join(', ')})`;
  return true;
}

const SM = 'metrics.serviceMonitor.enabled';
const PR = 'metrics.prometheusRule.enabled';

type Role = 'combined' | 'meta' | 'broker' | 'engine';
/** broker_id of ordinal 0 of each role (the chart's id ranges) */
const FIRST_ID: Record<Role, number> = { combined: 1, meta: 1, broker: 1001, engine: 2001 };

/** The chart's fullname: the StatefulSet and pod name prefix (templates/_helpers.tpl "robustmq.fullname"). */
function fullname(s: WizardState): string {
  const over = str(current(s, 'fullnameOverride'));
  const name = str(current(s, 'nameOverride')) || 'robustmq';
  const full = over || (s.release.includes(name) ? s.release : `${s.release}-${name}`);
  return full.slice(0, 40).replace(/-+$/, '');
}
function podName(s: WizardState, role: Role, ordinal: number): string {
  return `${fullname(s)}${role === 'combined' ? '' : `-${role}`}-${ordinal}`;
}
/** "a, b and c" */
function listing(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
/** ordinals from `to` up to `from` - 1, highest first (the order pods leave and voters must be removed) */
function leaving(from: number, to: number): number[] {
  return Array.from({ length: from - to }, (_, i) => from - 1 - i);
}

function resourcesText(s: WizardState, role: string): string {
  const g = (k: string) => str(current(s, `${role}.resources.${k}`), '-');
  return `${g('requests.cpu')}/${g('requests.memory')}, limit ${g('limits.memory')}`;
}

/**
 * What an upgrade can do to the voter count (chart README, "Scale the voters"): up is a rolling restart, down needs
 * the top voters to leave Raft first, and RobustMQ v0.4.11 refuses a leave below two voters.
 */
function voterChangeAllowed(s: WizardState, key: string, to: number): Validation {
  const from = Number(installed(s, key) ?? to);
  if (to < from && to < 3 && from >= 3) return `RobustMQ refuses to remove voters below two (cluster node leave), so ${from} → ${to} cannot be done by an upgrade: keep ${from}, or reinstall`;
  return true;
}

/** Confirm a voter count change with what it does; "no" keeps the running count. */
function voterChange(role: 'combined' | 'meta'): Question {
  const key = role === 'combined' ? 'combined.metaReplicas' : 'meta.replicaCount';
  const counts = (s: WizardState) => ({ from: Number(installed(s, key)), to: Number(current(s, key)) });
  return {
    id: `voters.change.${role}`,
    type: 'confirm',
    keys: () => [],
    modes: ['upgrade'],
    message: (s) => {
      const { from, to } = counts(s);
      if (to > from) return `Raft voters ${from} → ${to}: meta_addrs changes, so every pod restarts, one at a time, and the new voters join one by one. Go ahead?`;
      const ids = leaving(from, to).map((o) => FIRST_ID[role] + o);
      return `Raft voters ${from} → ${to}: ids ${listing(ids.map(String))} must leave Raft first, highest first, while they run (kubectl exec ${podName(s, role, 0)} -c robustmq -- /robustmq/libs/cli-command cluster node leave -n <id>). Have they left? (No keeps ${from})`;
    },
    when: (s) => {
      const { from, to } = counts(s);
      return Number.isFinite(from) && from !== to;
    },
    default: (s) => counts(s).to > counts(s).from,
    apply: (a, s) => (a === true ? s : unsetAnswer(s, key)),
  };
}

/** Confirm a scale-down with what leaves with the pods; "no" keeps the running count. */
function scaleDown(role: Role): Question {
  const key = `${role}.replicaCount`;
  const counts = (s: WizardState) => ({ from: Number(installed(s, key)), to: Number(current(s, key)) });
  return {
    id: `scale-down.${role}`,
    type: 'confirm',
    keys: () => [],
    modes: ['upgrade'],
    message: (s) => {
      const { from, to } = counts(s);
      const pods = leaving(from, to).map((o) => podName(s, role, o));
      const what =
        role === 'broker'
          ? 'their MQTT clients are disconnected and must reconnect to the other brokers'
          : role === 'engine'
            ? 'the data their storage engines hold is no longer served'
            : role === 'meta'
              ? ''
              : 'their MQTT clients are disconnected and must reconnect to the other pods, and the data their engines hold is no longer served';
      const volumes =
        current(s, `${role}.persistence.enabled`) === false
          ? 'Their data is on emptyDir and goes with them'
          : current(s, `${role}.persistence.retentionPolicy.whenScaled`) === 'Delete'
            ? 'Their PVCs are DELETED (retentionPolicy.whenScaled: Delete)'
            : 'Their PVCs are kept';
      return `${role} pods ${from} → ${to}: ${listing(pods)} leave; ${what}. ${volumes}; clear their node ids afterwards with cluster node leave. Scale down?`;
    },
    when: (s) => {
      if (role === 'meta') return false;
      const { from, to } = counts(s);
      return Number.isFinite(from) && to < from;
    },
    default: () => false,
    apply: (a, s) => (a === true ? s : unsetAnswer(s, key)),
  };
}

export const QUESTIONS: readonly Question[] = [
  {
    id: 'environment',
    type: 'select',
    keys: () => [],
    message: () => 'Environment (picks the preset)',
    choices: () => PRESET_NAMES.map((p) => ({ value: p, name: p, description: ENV_TEXT[p] })),
    default: (s) => s.env,
    // a preset only shapes a first install; afterwards the release's own values are the base
    modes: ['install'],
    apply: (a, s) => {
      const env = a as PresetName;
      return { ...s, env, values: deepMerge(deepMerge(s.presets[env] ?? {}, s.files), s.answers) };
    },
  },
  {
    id: 'release',
    type: 'input',
    keys: () => [],
    message: () => 'Release name',
    default: (s) => s.release,
    installOnly: (s) => s.release,
    validate: (a) => validateDnsLabel(a, 53, 'release name'),
    apply: (a, s) => ({ ...s, release: String(a) }),
  },
  {
    id: 'namespace',
    type: 'input',
    keys: () => [],
    message: () => 'Namespace',
    default: (s) => s.namespace,
    installOnly: (s) => s.namespace,
    validate: (a) => validateDnsLabel(a, 63, 'namespace'),
    apply: (a, s) => ({ ...s, namespace: String(a) }),
  },
  {
    id: 'topology',
    type: 'select',
    keys: () => ['topology'],
    message: () => 'Topology',
    when: (s) => notFixed(['topology'], s),
    choices: () => [
      { value: 'combined', name: 'combined', description: 'every pod runs broker + engine; the first N are also meta voters' },
      { value: 'split', name: 'split', description: 'separate meta, broker and engine StatefulSets' },
    ],
    default: (s) => topo(s),
    installOnly: (s) => topo(s),
    apply: (a, s) => setAnswer(s, [['topology', String(a)]]),
  },
  {
    id: 'replicas.combined',
    type: 'input',
    keys: () => ['combined.replicaCount'],
    message: () => 'Pods (combined)',
    when: (s) => topo(s) === 'combined' && notFixed(['combined.replicaCount'], s),
    default: (s) => str(current(s, 'combined.replicaCount'), s.env === 'dev' ? '1' : '3'),
    validate: (a, s) => {
      const r = validateReplicas(a, { voters: false, prod: s.env === 'prod' });
      if (r !== true) return r;
      if (s.env === 'prod' && Number(a) < 3) return 'prod needs at least 3 pods (3 meta voters)';
      const voters = Number(installed(s, 'combined.metaReplicas') ?? 0);
      if (s.mode === 'upgrade' && Number(a) < voters) return `the first ${voters} pods are the Raft voters: keep at least ${voters} pods (fewer voters first: see "Scale the voters" in the chart README)`;
      return true;
    },
    apply: (a, s) => setAnswer(s, [['combined.replicaCount', Number(a)]]),
  },
  scaleDown('combined'),
  {
    id: 'voters.combined',
    type: 'input',
    keys: () => ['combined.metaReplicas'],
    message: (s) => `Meta voters among them (odd, at most ${str(current(s, 'combined.replicaCount'), '?')})`,
    when: (s) => topo(s) === 'combined' && notFixed(['combined.metaReplicas'], s),
    default: (s) => {
      if (s.mode === 'upgrade') return str(installed(s, 'combined.metaReplicas'), '1');
      const n = Number(current(s, 'combined.replicaCount') ?? 1);
      const m = Number(current(s, 'combined.metaReplicas') ?? 1);
      const capped = Math.min(Math.max(m, n >= 3 ? 3 : 1), n);
      return String(capped % 2 === 0 ? capped - 1 : capped);
    },
    validate: (a, s) => {
      const r = validateReplicas(a, { voters: true, prod: s.env === 'prod' });
      if (r !== true) return r;
      const n = Number(current(s, 'combined.replicaCount') ?? 1);
      if (Number(a) > n) return `at most the number of pods (${n})`;
      return s.mode === 'upgrade' ? voterChangeAllowed(s, 'combined.metaReplicas', Number(a)) : true;
    },
    apply: (a, s) => setAnswer(s, [['combined.metaReplicas', Number(a)]]),
  },
  voterChange('combined'),
  ...(['meta', 'broker', 'engine'] as const).map(
    (role): Question => ({
      id: `replicas.${role}`,
      type: 'input',
      keys: () => [`${role}.replicaCount`],
      message: () => (role === 'meta' ? 'Meta voters (odd)' : `${role[0]!.toUpperCase()}${role.slice(1)} pods`),
      when: (s) => topo(s) === 'split' && notFixed([`${role}.replicaCount`], s),
      default: (s) => str(current(s, `${role}.replicaCount`), '3'),
      validate: (a, s) => {
        const r = validateReplicas(a, { voters: role === 'meta', prod: s.env === 'prod' });
        if (r !== true || role !== 'meta' || s.mode !== 'upgrade') return r;
        return voterChangeAllowed(s, 'meta.replicaCount', Number(a));
      },
      apply: (a, s) => setAnswer(s, [[`${role}.replicaCount`, Number(a)]]),
    }),
  ).flatMap((q) => [q, q.id === 'replicas.meta' ? voterChange('meta') : scaleDown(q.id.slice('replicas.'.length) as Role)]),
  {
    id: 'storage.class',
    type: 'select',
    keys: (s) => dataRoles(topo(s)).map((r) => `${r}.persistence.storageClass`),
    message: (s) => (s.facts.storageClasses?.length ? 'StorageClass' : 'StorageClass (empty = the cluster default)'),
    when: (s) => notFixed(dataRoles(topo(s)).map((r) => `${r}.persistence.storageClass`), s),
    choices: (s) => {
      const list = s.facts.storageClasses ?? [];
      const preset = presetStorageClass(s);
      const out: Choice[] = list.map((c) => ({
        value: c.name,
        name: `${c.name}${c.isDefault ? ' (default)' : ''}`,
        description: [c.provisioner, c.volumeBindingMode].filter(Boolean).join(', ') || undefined,
      }));
      if (preset && preset !== '-' && !list.some((c) => c.name === preset)) {
        out.push({ value: preset, name: `${preset} (from the preset; not in this cluster)` });
      }
      if (!list.some((c) => c.isDefault)) out.push({ value: '', name: '(none: leave it to the cluster)' });
      return out;
    },
    default: (s) => {
      const preset = presetStorageClass(s);
      const list = s.facts.storageClasses;
      if (preset && (!list || list.some((c) => c.name === preset))) return preset;
      return defaultStorageClass(s.facts) ?? (list && list.length ? list[0]!.name : '');
    },
    validate: (a) => (a === '' ? true : validateDnsLabel(a, 253, 'StorageClass')),
    installOnly: (s) => {
      const classes = [...new Set(dataRoles(topo(s)).map((r) => str(current(s, `${r}.persistence.storageClass`))))];
      return classes.map((c) => (c === '' ? '(the cluster default)' : c)).join(', ');
    },
    apply: (a, s) => setAnswer(s, dataRoles(topo(s)).map((r) => [`${r}.persistence.storageClass`, String(a)] as [string, Value])),
  },
  ...(['combined', 'meta', 'broker', 'engine'] as const).map(
    (role): Question => ({
      id: `storage.size.${role}`,
      type: 'input',
      keys: () => [`${role}.persistence.size`],
      message: () => (role === 'combined' ? 'Volume size per pod' : `Volume size per ${role} pod`),
      when: (s) => {
        if (!(ROLES[topo(s)] as readonly string[]).includes(role)) return false;
        if (current(s, `${role}.persistence.enabled`) === false) return `${role}: persistence is off in this preset (emptyDir), no volume size to ask`;
        return notFixed([`${role}.persistence.size`], s);
      },
      default: (s) => str(current(s, `${role}.persistence.size`), '10Gi'),
      installOnly: (s) => str(current(s, `${role}.persistence.size`), '?'),
      validate: (a) => validateQuantity(a),
      apply: (a, s) => setAnswer(s, [[`${role}.persistence.size`, String(a).trim()]]),
    }),
  ),
  {
    id: 'resources.change',
    type: 'confirm',
    keys: () => [],
    modes: ['upgrade'],
    message: (s) => `Change CPU or memory? (now ${rolesOf(s).map((r) => `${r} ${resourcesText(s, r)}`).join('; ')})`,
    default: () => false,
    apply: (a, s) => ({ ...s, changeResources: a === true }),
  },
  ...(['combined', 'meta', 'broker', 'engine'] as const).flatMap((role) =>
    (
      [
        ['requests.cpu', 'CPU request', validateCpu],
        ['requests.memory', 'Memory request', validateMemory],
        ['limits.memory', 'Memory limit', validateMemory],
      ] as const
    ).map(
      ([path, label, check]): Question => ({
        id: `resources.${role}.${path}`,
        type: 'input',
        keys: () => [`${role}.resources.${path}`],
        message: () => `${label} per ${role === 'combined' ? '' : `${role} `}pod`,
        modes: ['upgrade'],
        when: (s) => s.changeResources === true && (ROLES[topo(s)] as readonly string[]).includes(role) && notFixed([`${role}.resources.${path}`], s),
        default: (s) => str(current(s, `${role}.resources.${path}`)),
        validate: (a, s) => {
          const r = check(a);
          if (r !== true || path !== 'limits.memory') return r;
          const req = quantityBytes(str(current(s, `${role}.resources.requests.memory`)));
          return req !== undefined && quantityBytes(a)! < req ? `below the memory request (${str(current(s, `${role}.resources.requests.memory`))}): a limit must be at least the request` : true;
        },
        apply: (a, s) => setAnswer(s, [[`${role}.resources.${path}`, String(a).trim()]]),
      }),
    ),
  ),
  {
    id: 'image.tag',
    type: 'select',
    keys: () => ['image.tag'],
    message: () => 'RobustMQ version (image tag)',
    when: (s) => {
      if (s.testedTags.length === 0) return s.mode === 'upgrade' ? 'image tag not offered: the RobustMQ versions this chart is tested with are not known (a chart from a repository); --set image.tag=… changes it' : false;
      if (str(current(s, 'image.digest')) !== '') return `image tag not offered: the image is pinned by image.digest (${str(current(s, 'image.digest'))})`;
      const cur = str(current(s, 'image.tag'));
      // at install one tested version and nothing else is no choice
      if (s.mode === 'install' && s.testedTags.length === 1 && (cur === '' || cur === s.testedTags[0])) return false;
      return notFixed(['image.tag'], s);
    },
    choices: (s) => {
      const cur = str(current(s, 'image.tag'));
      const out: Choice[] = s.testedTags.map((t) => ({ value: t, name: `${t}${t === cur ? ' (running now)' : ''}`, description: 'tested with this chart' }));
      if (cur !== '' && !s.testedTags.includes(cur)) out.push({ value: cur, name: `${cur} (running now; not tested with this chart)`, description: 'keeps the current image' });
      return out;
    },
    default: (s) => str(current(s, 'image.tag'), s.testedTags[0] ?? ''),
    apply: (a, s) => setAnswer(s, [['image.tag', String(a)]]),
  },
  {
    id: 'ingress.enabled',
    type: 'confirm',
    keys: () => ['ingress.enabled'],
    message: () => 'Expose MQTT over WebSocket through an Ingress?',
    when: (s) => notFixed(['ingress.enabled'], s),
    default: (s) => current(s, 'ingress.enabled') === true,
    apply: (a, s) => setAnswer(s, [['ingress.enabled', a === true]]),
  },
  {
    id: 'ingress.className',
    type: 'select',
    keys: () => ['ingress.className'],
    message: (s) => (s.facts.ingressClasses?.length ? 'IngressClass' : 'IngressClass (empty = the cluster default)'),
    when: (s) => current(s, 'ingress.enabled') === true && notFixed(['ingress.className'], s),
    choices: (s) => {
      const list = s.facts.ingressClasses ?? [];
      const out: Choice[] = list.map((c) => ({ value: c.name, name: `${c.name}${c.isDefault ? ' (default)' : ''}`, description: c.controller }));
      if (!list.some((c) => c.isDefault)) out.push({ value: '', name: '(none: the cluster default)' });
      return out;
    },
    default: (s) => {
      const preset = str(current(s, 'ingress.className'));
      const list = s.facts.ingressClasses;
      if (preset && (!list || list.some((c) => c.name === preset))) return preset;
      return defaultIngressClass(s.facts) ?? (list && list.length ? list[0]!.name : '');
    },
    validate: (a) => (a === '' ? true : validateDnsLabel(a, 253, 'IngressClass')),
    apply: (a, s) => setAnswer(s, [['ingress.className', String(a)]]),
  },
  {
    id: 'ingress.host',
    type: 'input',
    keys: () => ['ingress.hosts'],
    message: () => 'WebSocket host name',
    when: (s) => current(s, 'ingress.enabled') === true && notFixed(['ingress.hosts'], s),
    default: (s) => {
      const hosts = current(s, 'ingress.hosts');
      const first = Array.isArray(hosts) ? hosts[0] : undefined;
      const h = isMap(first) ? first.host : first;
      return typeof h === 'string' && h ? h : `mqtt.${s.namespace}.example.com`;
    },
    validate: (a) => validateHost(a.trim()),
    apply: (a, s) => setAnswer(s, [['ingress.hosts', [String(a).trim()]]]),
  },
  {
    id: 'service.type',
    type: 'select',
    keys: () => ['service.type'],
    message: () => 'How do MQTT clients reach the brokers? (Service type)',
    when: (s) => notFixed(['service.type'], s),
    choices: () => [
      { value: 'ClusterIP', name: 'ClusterIP', description: 'inside the cluster only' },
      { value: 'NodePort', name: 'NodePort', description: 'a port on every node' },
      { value: 'LoadBalancer', name: 'LoadBalancer', description: "the cloud's load balancer" },
    ],
    default: (s) => str(current(s, 'service.type'), 'ClusterIP'),
    apply: (a, s) => setAnswer(s, [['service.type', String(a)]]),
  },
  {
    id: 'monitoring',
    type: 'confirm',
    keys: (s) => (s.facts.crds.prometheusRule ? [SM, PR] : [SM]),
    message: (s) => `Create a ServiceMonitor${s.facts.crds.prometheusRule ? ' and PrometheusRules' : ''} for Prometheus?`,
    when: (s) => {
      if (s.facts.crds.serviceMonitor === true) return notFixed([SM], s);
      if (s.facts.crds.serviceMonitor === false) return 'monitoring not offered: the ServiceMonitor CRD (monitoring.coreos.com/v1) is not installed in the cluster';
      return `monitoring not offered: could not check for the Prometheus Operator CRDs (${s.facts.unreachableReason ?? 'cluster not reachable'})`;
    },
    default: (s) => {
      const v = current(s, SM);
      return v === true || v === 'true' || v === 'auto' || v === undefined;
    },
    apply: (a, s) => setAnswer(s, s.facts.crds.prometheusRule ? [[SM, a === true], [PR, a === true]] : [[SM, a === true]]),
  },
];

export function questionById(id: string): Question {
  const q = QUESTIONS.find((x) => x.id === id);
  if (!q) throw new Error(`internal: no question ${id}`);
  return q;
}

/** Roles present in the chosen topology, for summaries. */
export function rolesOf(s: WizardState): readonly string[] {
  return ROLES[topo(s)];
}
