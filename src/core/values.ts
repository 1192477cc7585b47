// Values as plain objects: deep merge (helm semantics: maps merge, lists and scalars replace, null deletes),
// helm --set parsing, dotted paths and a changed-keys diff. Pure.
import { usageError } from './errors.js';

export type Scalar = string | number | boolean | null;
export type Value = Scalar | Value[] | Values;
export interface Values {
  [key: string]: Value;
}

export function isMap(v: unknown): v is Values {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Merge b over a (new object). Maps merge recursively; anything else replaces; null in b deletes the key (helm). */
export function deepMerge(a: Values, b: Values): Values {
  const out: Values = clone(a);
  for (const [k, v] of Object.entries(b)) {
    if (v === null) {
      delete out[k];
    } else if (isMap(v) && isMap(out[k])) {
      out[k] = deepMerge(out[k] as Values, v);
    } else {
      out[k] = clone(v);
    }
  }
  return out;
}

export function mergeAll(...layers: Values[]): Values {
  return layers.reduce((acc, l) => deepMerge(acc, l), {} as Values);
}

export type PathSegment = string | number;

/** "a.b[0].c" → ["a","b",0,"c"]; "\." escapes a dot inside a key. */
export function parsePath(path: string): PathSegment[] {
  const segs: PathSegment[] = [];
  let cur = '';
  let pendingKey = false;
  for (let i = 0; i < path.length; i++) {
    const ch = path[i]!;
    if (ch === '\\' && i + 1 < path.length) {
      cur += path[++i];
      pendingKey = true;
    } else if (ch === '.') {
      if (!pendingKey && cur === '' && segs.length > 0 && typeof segs[segs.length - 1] === 'number') continue; // after ]
      if (cur === '') throw usageError(`bad key ${JSON.stringify(path)}: empty segment`, 'keys look like a.b.c or a.list[0].b');
      segs.push(cur);
      cur = '';
      pendingKey = false;
    } else if (ch === '[') {
      if (cur !== '') segs.push(cur);
      else if (segs.length === 0) throw usageError(`bad key ${JSON.stringify(path)}`, 'keys look like a.b.c or a.list[0].b');
      cur = '';
      pendingKey = false;
      const end = path.indexOf(']', i);
      const idx = end < 0 ? NaN : Number(path.slice(i + 1, end));
      if (!Number.isInteger(idx) || idx < 0 || idx > 1000) throw usageError(`bad list index in ${JSON.stringify(path)}`, 'use a[0], a[1], …');
      segs.push(idx);
      i = end;
    } else {
      cur += ch;
      pendingKey = true;
    }
  }
  if (cur !== '') segs.push(cur);
  else if (pendingKey || segs.length === 0 || typeof segs[segs.length - 1] !== 'number') {
    throw usageError(`bad key ${JSON.stringify(path)}: empty segment`, 'keys look like a.b.c or a.list[0].b');
  }
  return segs;
}

export function getPath(v: Values, path: string | PathSegment[]): Value | undefined {
  const segs = typeof path === 'string' ? parsePath(path) : path;
  let cur: unknown = v;
  for (const s of segs) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[s];
  }
  return cur as Value | undefined;
}

/** Set in place (creating maps/lists on the way). */
export function setPath(v: Values, path: string | PathSegment[], value: Value): Values {
  const segs = typeof path === 'string' ? parsePath(path) : path;
  let cur: Values | Value[] = v;
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i]!;
    const last = i === segs.length - 1;
    const c = cur as Record<string | number, Value>;
    if (last) {
      c[s] = value;
    } else {
      const nextIsIndex = typeof segs[i + 1] === 'number';
      const existing = c[s];
      if (nextIsIndex ? !Array.isArray(existing) : !isMap(existing)) {
        c[s] = nextIsIndex ? [] : {};
      }
      cur = c[s] as Values | Value[];
    }
  }
  return v;
}

/** Typed like helm --set: true/false, null, integers become typed; everything else is a string. */
export function typedScalar(raw: string): Scalar {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (raw === 'null') return null;
  if (/^-?(0|[1-9]\d{0,15})$/.test(raw)) return Number(raw);
  return raw;
}

/** Split on an unescaped separator; keeps escapes for the next stage. */
function splitUnescaped(s: string, sep: string, braces = false): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '\\' && i + 1 < s.length) {
      cur += ch + s[i + 1];
      i++;
      continue;
    }
    if (braces && ch === '{') depth++;
    if (braces && ch === '}') depth = Math.max(0, depth - 1);
    if (ch === sep && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function unescapeValue(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

export interface SetEntry {
  key: string;
  path: PathSegment[];
  value: Value;
}

/**
 * helm --set syntax: `a.b=c`, several pairs separated by commas, `a={x,y}` for a list, `a[0].b=1`, `\,` `\.` `\=`
 * escapes, `a=null` deletes. Values are typed like helm (true/false/null/integers).
 */
export function parseSet(expr: string): SetEntry[] {
  const entries: SetEntry[] = [];
  for (const pair of splitUnescaped(expr, ',', true)) {
    if (pair === '') continue;
    const eq = splitUnescaped(pair, '=');
    if (eq.length < 2) throw usageError(`--set ${JSON.stringify(expr)}: ${JSON.stringify(pair)} has no "="`, 'use --set key=value, e.g. --set broker.replicaCount=3');
    const key = eq[0]!;
    const raw = eq.slice(1).join('=');
    if (key.trim() === '') throw usageError(`--set ${JSON.stringify(expr)}: empty key`, 'use --set key=value');
    const path = parsePath(key);
    let value: Value;
    if (raw.startsWith('{') && raw.endsWith('}')) {
      const inner = raw.slice(1, -1);
      value = inner === '' ? [] : splitUnescaped(inner, ',').map((x) => typedScalar(unescapeValue(x)));
    } else {
      value = typedScalar(unescapeValue(raw));
    }
    entries.push({ key, path, value });
  }
  return entries;
}

/** Apply --set expressions in order to a values object (new object). */
export function applySets(base: Values, exprs: readonly string[]): Values {
  const out = clone(base);
  for (const e of exprs) {
    for (const { path, value } of parseSet(e)) {
      if (value === null) deletePath(out, path);
      else setPath(out, path, value);
    }
  }
  return out;
}

/** The same sets as an overlay-only object (nulls kept as null so a later merge deletes). */
export function setsToValues(exprs: readonly string[]): Values {
  const out: Values = {};
  for (const e of exprs) for (const { path, value } of parseSet(e)) setPath(out, path, value);
  return out;
}

export function deletePath(v: Values, path: PathSegment[]): void {
  const parent = getPath(v, path.slice(0, -1));
  if (parent !== null && typeof parent === 'object') delete (parent as Record<string | number, unknown>)[path[path.length - 1]!];
}

/** Flatten to dotted leaf paths (lists are leaves). */
export function flatten(v: Values, prefix = ''): Map<string, Value> {
  const out = new Map<string, Value>();
  for (const [k, val] of Object.entries(v)) {
    const key = prefix ? `${prefix}.${k.replace(/\./g, '\\.')}` : k.replace(/\./g, '\\.');
    if (isMap(val) && Object.keys(val).length > 0) for (const [kk, vv] of flatten(val, key)) out.set(kk, vv);
    else out.set(key, val);
  }
  return out;
}

export interface Change {
  key: string;
  from: Value | undefined;
  to: Value | undefined;
}

/** Changed leaf keys between two values objects, sorted by key. */
export function diffValues(from: Values, to: Values): Change[] {
  const a = flatten(from);
  const b = flatten(to);
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  const out: Change[] = [];
  for (const k of keys) {
    if (JSON.stringify(a.get(k)) !== JSON.stringify(b.get(k))) out.push({ key: k, from: a.get(k), to: b.get(k) });
  }
  return out;
}

/** Render a scalar/list for a --set expression (inverse of parseSet for what the wizard produces). */
export function toSetExpr(key: string, value: Value): string {
  const esc = (s: string) => s.replace(/([\\,={}])/g, '\\$1');
  if (Array.isArray(value)) return `${key}={${value.map((x) => esc(String(x))).join(',')}}`;
  if (isMap(value)) throw new Error(`internal: cannot express a map at ${key} as --set`);
  return `${key}=${value === null ? 'null' : esc(String(value))}`;
}
