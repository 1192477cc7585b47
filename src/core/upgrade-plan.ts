// Upgrade planning, pure: the values-level plan (current → new, changed keys only, grouped by the question that owns
// them) and the install-only keys an upgrade must not change, each with the way out.
import { diffValues, getPath, type Change, type Value, type Values } from './values.js';

export interface ChangeGroup {
  group: string;
  changes: Change[];
}

/** Key prefixes → the wizard question (or area) they belong to; first match wins. */
const GROUPS: [RegExp, string][] = [
  [/^topology$/, 'topology'],
  [/^(combined|meta|broker|engine)\.(replicaCount|metaReplicas)$/, 'replicas'],
  [/^(combined|meta|broker|engine)\.persistence\./, 'storage'],
  [/^ingress\./, 'WebSocket ingress'],
  [/^(service|quicService)\./, 'MQTT exposure'],
  [/^metrics\./, 'monitoring'],
  [/^(image|global)\./, 'image'],
  [/^(combined|meta|broker|engine)\.resources\./, 'resources'],
  [/^(combined|meta|broker|engine)\./, 'scheduling and pods'],
  [/^config\./, 'RobustMQ configuration'],
  [/^(tls|auth)\./, 'security'],
  [/^protocols\./, 'protocols'],
];
const ORDER = ['topology', 'replicas', 'storage', 'WebSocket ingress', 'MQTT exposure', 'monitoring', 'image', 'resources', 'scheduling and pods', 'RobustMQ configuration', 'security', 'protocols', 'other'];

export function groupOfKey(key: string): string {
  return GROUPS.find(([re]) => re.test(key))?.[1] ?? 'other';
}

/** current user values (`helm get values`) → the new overlay: changed leaf keys, grouped. */
export function valuesPlan(current: Values, next: Values): ChangeGroup[] {
  const byGroup = new Map<string, Change[]>();
  for (const c of diffValues(current, next)) {
    const g = groupOfKey(c.key);
    byGroup.set(g, [...(byGroup.get(g) ?? []), c]);
  }
  return ORDER.filter((g) => byGroup.has(g)).map((g) => ({ group: g, changes: byGroup.get(g)! }));
}

function show(v: Value | undefined): string {
  if (v === undefined) return '(unset)';
  if (typeof v === 'string') return v === '' ? '""' : v;
  return JSON.stringify(v);
}

export function formatValuesPlan(groups: ChangeGroup[]): string[] {
  if (groups.length === 0) return ['  no value changes'];
  const lines: string[] = [];
  for (const g of groups) {
    lines.push(`  ${g.group}:`);
    for (const c of g.changes) lines.push(`    ${c.key}: ${show(c.from)} → ${show(c.to)}`);
  }
  return lines;
}

export interface InstallOnlyViolation {
  key: string;
  from: Value | undefined;
  to: Value | undefined;
  why: string;
  wayOut: string;
}

const ROLES = { combined: ['combined'], split: ['meta', 'broker', 'engine'] } as const;

/**
 * Keys fixed at install: a StatefulSet's selector and volumeClaimTemplates are immutable, names and DNS are baked
 * into the Raft membership (meta_addrs), and a topology change means other StatefulSets. Compares the release's
 * computed values (`helm get values --all`) with the new effective values (chart defaults + overlay).
 */
export function installOnlyViolations(current: Values, next: Values): InstallOnlyViolation[] {
  const out: InstallOnlyViolation[] = [];
  const check = (key: string, why: string, wayOut: string) => {
    const a = getPath(current, key);
    const b = getPath(next, key);
    const norm = (v: Value | undefined) => (v === undefined || v === null || v === '' ? '' : JSON.stringify(v));
    if (norm(a) !== norm(b)) out.push({ key, from: a, to: b, why, wayOut });
  };
  const reinstall = 'keep the current value, or uninstall (PVCs and the credentials Secret are kept) and install again with the new value';
  check('topology', 'combined and split run different StatefulSets, and the Raft membership lives on their volumes', 'keep the current topology, or install a second release with the new topology and move clients over');
  check('clusterDomain', 'the meta nodes joined Raft under DNS names built from it (meta_addrs)', reinstall);
  check('nameOverride', 'it is part of the selector labels and object names, which are immutable', reinstall);
  check('fullnameOverride', 'it names the StatefulSets, headless Services and the Raft peers’ DNS names', reinstall);
  const topo = getPath(current, 'topology') === 'split' ? 'split' : 'combined';
  for (const role of ROLES[topo]) {
    check(`${role}.persistence.enabled`, 'volumeClaimTemplates of a StatefulSet are immutable', reinstall);
    check(`${role}.persistence.storageClass`, 'volumeClaimTemplates of a StatefulSet are immutable', 'keep the current class; to move data to another class, install a new release and migrate');
    check(
      `${role}.persistence.size`,
      'volumeClaimTemplates of a StatefulSet are immutable',
      `keep the current size here; to grow volumes, resize each PVC (kubectl patch pvc data-<pod> -p '{"spec":{"resources":{"requests":{"storage":"<size>"}}}}') if the StorageClass allows expansion`,
    );
    check(`${role}.persistence.accessModes`, 'volumeClaimTemplates of a StatefulSet are immutable', reinstall);
  }
  return out;
}

export function formatViolation(v: InstallOnlyViolation): string {
  return `${v.key} cannot change on upgrade (${show(v.from)} → ${show(v.to)}): ${v.why}`;
}
