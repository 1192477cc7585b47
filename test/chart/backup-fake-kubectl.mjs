#!/usr/bin/env node
// A stand-in for kubectl in the backup script tests: keeps StatefulSets, PVCs and VolumeSnapshots in a JSON state
// file, answers `get` with a small jsonpath evaluator, and records every call. Snapshots become readyToUse after the
// number of polls the state asks for, or carry an error and never do, the way the snapshot controller reports them.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';

const STATE = process.env.FAKE_KUBE_STATE;
const LOG = process.env.FAKE_KUBE_LOG;
const argv = process.argv.slice(2);
const state = JSON.parse(readFileSync(STATE, 'utf8'));
const stdin = argv.includes('-f') ? readFileSync(0, 'utf8') : '';
appendFileSync(LOG, JSON.stringify({ argv, stdin }) + '\n');

const opts = {};
const pos = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const eq = a.match(/^(--[\w-]+)=(.*)$/);
  if (eq) opts[eq[1]] = eq[2];
  else if (['--namespace', '-n', '-o', '-l', '-f'].includes(a)) opts[a] = argv[++i];
  else if (a.startsWith('--')) opts[a] = true;
  else pos.push(a);
}
const ns = opts['--namespace'] ?? opts['-n'];
const die = (msg, code = 1) => {
  process.stderr.write(`Error from server: ${msg}\n`);
  process.exit(code);
};
if (ns !== state.namespace) die(`namespace ${ns} is not served here`);

const KINDS = { statefulset: 'statefulsets', statefulsets: 'statefulsets', persistentvolumeclaims: 'pvcs', pvc: 'pvcs', volumesnapshots: 'snapshots', volumesnapshot: 'snapshots' };
const save = () => writeFileSync(STATE, JSON.stringify(state, null, 1));

function matches(sel, labels = {}) {
  if (!sel) return true;
  return sel.split(',').every((term) => {
    const [k, v] = term.split('=');
    return v === undefined ? k in labels : labels[k] === v;
  });
}

// jsonpath subset: literal text, {.a.b\.c}, {"\t"}, {range .items[*]} ... {end}
function jsonpath(tpl, obj) {
  const tokens = [...tpl.matchAll(/\{([^}]*)\}|([^{]+)/g)].map((m) => (m[2] !== undefined ? { text: m[2] } : { expr: m[1] }));
  const get = (o, path) => {
    const keys = path.replace(/^\./, '').split(/(?<!\\)\./).map((k) => k.replace(/\\\./g, '.'));
    return keys.reduce((cur, k) => (cur == null ? undefined : cur[k]), o);
  };
  function run(toks, ctx) {
    let out = '';
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i];
      if (t.text !== undefined) out += t.text;
      else if (t.expr.startsWith('range ')) {
        let depth = 1;
        let j = i + 1;
        for (; j < toks.length; j++) {
          if (toks[j].expr?.startsWith('range ')) depth++;
          if (toks[j].expr === 'end' && --depth === 0) break;
        }
        const list = get(ctx, t.expr.slice(6).replace(/\[\*\]$/, '')) ?? [];
        for (const item of list) out += run(toks.slice(i + 1, j), item);
        i = j;
      } else if (t.expr.startsWith('"')) out += JSON.parse(t.expr);
      else {
        const v = get(ctx, t.expr);
        out += v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
      }
    }
    return out;
  }
  return run(tokens, obj);
}

function output(obj) {
  const o = opts['-o'];
  if (o?.startsWith('jsonpath=')) process.stdout.write(jsonpath(o.slice(9), obj));
  else process.stdout.write(JSON.stringify(obj));
}

const [verb] = pos;
const resource = verb === 'create' ? JSON.parse(stdin).kind?.toLowerCase() : pos[1];
const name = pos[2];
const kind = KINDS[resource];
if (!kind) die(`the server doesn't have a resource type "${resource}"`);
const items = () => state[kind].filter((o) => matches(opts['-l'], o.metadata.labels));

if (verb === 'get') {
  if (kind === 'snapshots') {
    // every poll moves the snapshot controller one step
    for (const s of state.snapshots) {
      const b = state.behavior?.[s.spec.source.persistentVolumeClaimName] ?? state.behavior?.default ?? { readyAfter: 0 };
      s._polls = (s._polls ?? 0) + 1;
      s.status = { readyToUse: false };
      if (b.error) s.status.error = { message: b.error, time: '2025-01-01T00:00:00Z' };
      else if (s._polls > b.readyAfter) s.status = { readyToUse: true, boundVolumeSnapshotContentName: `snapcontent-${s.metadata.name}`, restoreSize: '1Gi' };
    }
    save();
  }
  if (name) {
    const o = state[kind].find((x) => x.metadata.name === name);
    if (!o) die(`${resource} "${name}" not found`);
    output(o);
  } else output({ apiVersion: 'v1', kind: 'List', items: items() });
} else if (verb === 'create') {
  const o = JSON.parse(stdin);
  if (state.failCreate?.includes(o.spec?.source?.persistentVolumeClaimName)) die('admission webhook denied the request');
  if (state[kind].some((x) => x.metadata.name === o.metadata.name)) die(`volumesnapshots "${o.metadata.name}" already exists`);
  state[kind].push(o);
  save();
} else if (verb === 'label' || verb === 'annotate') {
  const field = verb === 'label' ? 'labels' : 'annotations';
  const pairs = pos.slice(2).map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]);
  for (const o of items()) for (const [k, v] of pairs) (o.metadata[field] ??= {})[k] = v;
  save();
} else if (verb === 'delete') {
  const gone = new Set(items());
  state[kind] = state[kind].filter((o) => !gone.has(o));
  save();
} else die(`unknown verb ${verb}`, 2);
