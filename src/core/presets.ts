// Presets: dev/test/prod values files shipped in presets/, or any values file given to --preset. Pure helpers;
// reading files happens in the commands.
import { getPath, isMap, type Values } from './values.js';

export const PRESET_NAMES = ['dev', 'test', 'prod'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export function isPresetName(s: string): s is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(s);
}

export interface PresetRef {
  /** dev/test/prod, or the file's path */
  name: string;
  /** absolute or relative path to read */
  path: string;
  builtin: boolean;
}

/** `--preset dev` → presets/dev.yaml in the package; anything else is a file path. */
export function presetRef(arg: string, presetsDir: string): PresetRef {
  if (isPresetName(arg)) return { name: arg, path: `${presetsDir}/${arg}.yaml`, builtin: true };
  return { name: arg, path: arg, builtin: false };
}

export type Topology = 'combined' | 'split';
export const ROLES = { combined: ['combined'], split: ['meta', 'broker', 'engine'] } as const;

export function topologyOf(v: Values): Topology {
  return getPath(v, 'topology') === 'split' ? 'split' : 'combined';
}

export interface PresetSummary {
  name: string;
  topology: Topology;
  /** "meta 3 / broker 3 / engine 3" or "1 (1 meta voter)" */
  replicas: string;
  storage: string;
  resources: string;
  ingress: string;
  monitoring: string;
}

function str(v: unknown): string {
  return v === undefined || v === null || v === '' ? '' : String(v);
}

function resourcesOf(v: Values, role: string): string {
  const r = getPath(v, `${role}.resources`);
  if (!isMap(r)) return 'chart default';
  const req = isMap(r.requests) ? r.requests : {};
  const lim = isMap(r.limits) ? r.limits : {};
  const parts: string[] = [];
  if (req.cpu !== undefined) parts.push(`cpu ${str(req.cpu)}`);
  if (req.memory !== undefined) parts.push(`mem ${str(req.memory)}`);
  if (lim.cpu !== undefined) parts.push(`cpu limit ${str(lim.cpu)}`);
  if (lim.memory !== undefined) parts.push(`mem limit ${str(lim.memory)}`);
  return parts.length ? parts.join(', ') : 'none';
}

function storageOf(v: Values, role: string): string {
  const p = getPath(v, `${role}.persistence`);
  if (!isMap(p)) return 'chart default';
  if (p.enabled === false) return 'emptyDir';
  return `${str(p.size) || '?'}${p.storageClass ? ` (${str(p.storageClass)})` : ''}`;
}

/**
 * One row of the presets table. `chartDefaults` fills in what the preset leaves to the chart, so the row
 * shows what would actually be installed.
 */
export function summarizePreset(name: string, preset: Values, chartDefaults: Values = {}): PresetSummary {
  const merged = mergeForSummary(chartDefaults, preset);
  const topology = topologyOf(merged);
  let replicas: string;
  let storage: string;
  let resources: string;
  if (topology === 'combined') {
    const n = str(getPath(merged, 'combined.replicaCount')) || '?';
    const m = str(getPath(merged, 'combined.metaReplicas')) || '?';
    replicas = `${n} (${m} meta voter${m === '1' ? '' : 's'})`;
    storage = storageOf(merged, 'combined');
    resources = resourcesOf(merged, 'combined');
  } else {
    replicas = ROLES.split.map((r) => `${r} ${str(getPath(merged, `${r}.replicaCount`)) || '?'}`).join(', ');
    storage = ROLES.split.map((r) => `${r} ${storageOf(merged, r)}`).join(', ');
    resources = ROLES.split.map((r) => `${r} ${resourcesOf(merged, r)}`).join('; ');
  }
  const ing = getPath(merged, 'ingress');
  const ingress = isMap(ing) && ing.enabled === true ? `on${ing.className ? ` (${str(ing.className)})` : ''}` : 'off';
  const sm = getPath(merged, 'metrics.serviceMonitor.enabled');
  const pr = getPath(merged, 'metrics.prometheusRule.enabled');
  const word = (v: unknown) => (v === 'auto' ? 'auto' : v === true || v === 'true' ? 'on' : 'off');
  const monitoring =
    word(sm) === word(pr)
      ? { auto: 'auto (on if the CRDs exist)', on: 'on (needs the CRDs)', off: 'off' }[word(sm)]
      : `ServiceMonitor ${word(sm)}, PrometheusRule ${word(pr)}`;
  return { name, topology, replicas, storage, resources, ingress, monitoring };
}

function mergeForSummary(a: Values, b: Values): Values {
  const out: Values = structuredClone(a);
  for (const [k, v] of Object.entries(b)) {
    if (isMap(v) && isMap(out[k])) out[k] = mergeForSummary(out[k] as Values, v);
    else out[k] = structuredClone(v);
  }
  return out;
}

/** "For: …" from a preset file's leading comment, up to the first sentence end (for the presets table). */
export function presetPurpose(text: string): string | undefined {
  const comment = text
    .split('\n')
    .filter((l) => l.startsWith('#'))
    .map((l) => l.replace(/^#\s?/, ''))
    .join(' ');
  const m = /\bFor:\s*(.+?)(?:\.\s|\.$|$)/.exec(comment);
  return m?.[1]?.trim();
}
