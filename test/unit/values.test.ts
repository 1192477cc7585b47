import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import { applySets, deepMerge, diffValues, flatten, getPath, mergeAll, parsePath, parseSet, setPath, setsToValues, toSetExpr, typedScalar } from '../../src/core/values.js';

describe('deepMerge (helm semantics)', () => {
  it('merges maps, replaces lists and scalars, deletes on null, never mutates', () => {
    const a = { x: { y: 1, z: [1, 2] }, keep: 'a', gone: 1 };
    const b = { x: { z: [3], w: true }, gone: null };
    const m = deepMerge(a, b);
    expect(m).toEqual({ x: { y: 1, z: [3], w: true }, keep: 'a' });
    expect(a).toEqual({ x: { y: 1, z: [1, 2] }, keep: 'a', gone: 1 });
  });
  it('mergeAll applies layers in order', () => {
    expect(mergeAll({ a: 1 }, { a: 2, b: 1 }, { b: 3 })).toEqual({ a: 2, b: 3 });
  });
  it('a map replaces a scalar and vice versa', () => {
    expect(deepMerge({ a: 1 }, { a: { b: 2 } })).toEqual({ a: { b: 2 } });
    expect(deepMerge({ a: { b: 2 } }, { a: 'x' })).toEqual({ a: 'x' });
  });
});

describe('paths', () => {
  it('parses dots, escaped dots and indexes', () => {
    expect(parsePath('a.b.c')).toEqual(['a', 'b', 'c']);
    expect(parsePath('podAnnotations.prometheus\\.io/scrape')).toEqual(['podAnnotations', 'prometheus.io/scrape']);
    expect(parsePath('ingress.hosts[0]')).toEqual(['ingress', 'hosts', 0]);
    expect(parsePath('a.list[1].b')).toEqual(['a', 'list', 1, 'b']);
  });
  it.each(['', 'a..b', '.a', 'a.', '[0]', 'a[x]', 'a[-1]', 'a[0'])('rejects %j', (p) => expect(() => parsePath(p)).toThrow(UserError));
  it('get/set create the way', () => {
    const v = {};
    setPath(v, 'a.list[1].b', 2);
    expect(v).toEqual({ a: { list: [undefined, { b: 2 }] } });
    expect(getPath(v, 'a.list[1].b')).toBe(2);
    expect(getPath(v, 'a.nope.deeper')).toBeUndefined();
  });
});

describe('--set parsing', () => {
  it('types values like helm', () => {
    expect(typedScalar('true')).toBe(true);
    expect(typedScalar('false')).toBe(false);
    expect(typedScalar('null')).toBeNull();
    expect(typedScalar('3')).toBe(3);
    expect(typedScalar('-3')).toBe(-3);
    expect(typedScalar('03')).toBe('03');
    expect(typedScalar('1.5')).toBe('1.5');
    expect(typedScalar('10Gi')).toBe('10Gi');
  });
  it('splits pairs on commas, lists in braces, escapes', () => {
    expect(parseSet('a=1,b.c=x')).toEqual([
      { key: 'a', path: ['a'], value: 1 },
      { key: 'b.c', path: ['b', 'c'], value: 'x' },
    ]);
    expect(parseSet('ingress.hosts={a.example.com,b.example.com}')[0]!.value).toEqual(['a.example.com', 'b.example.com']);
    expect(parseSet('x={}')[0]!.value).toEqual([]);
    expect(parseSet('note=a\\,b')[0]!.value).toBe('a,b');
    expect(parseSet('k=v=w')[0]!.value).toBe('v=w');
    expect(parseSet('k=')[0]!.value).toBe('');
  });
  it.each([
    ['noequals', /has no "="/],
    ['=v', /empty key/],
    ['a..b=1', /empty segment/],
  ])('rejects %j', (expr, msg) => {
    expect(() => parseSet(expr)).toThrow(msg);
  });
  it('applies in order; null deletes', () => {
    const base = { a: { b: 1, c: 2 } };
    expect(applySets(base, ['a.b=5', 'a.c=null', 'd[0]=x'])).toEqual({ a: { b: 5 }, d: ['x'] });
    expect(setsToValues(['a.c=null'])).toEqual({ a: { c: null } });
  });
  it('toSetExpr round-trips through parseSet', () => {
    for (const [k, v] of [
      ['a.b', 3],
      ['s', 'x,y=z'],
      ['l', ['p', 'q']],
      ['t', true],
      ['e', ''],
    ] as const) {
      const expr = toSetExpr(k, v as never);
      expect(parseSet(expr)[0]!.value).toEqual(v);
    }
  });
});

describe('flatten / diff', () => {
  it('flattens leaves, escapes dotted keys, lists are leaves', () => {
    expect([...flatten({ a: { b: 1, 'x.y': 2 }, l: [1], e: {} }).entries()]).toEqual([
      ['a.b', 1],
      ['a.x\\.y', 2],
      ['l', [1]],
      ['e', {}],
    ]);
  });
  it('lists changed keys only, sorted', () => {
    expect(diffValues({ a: 1, b: { c: 2 }, gone: 1 }, { a: 1, b: { c: 3 }, added: true })).toEqual([
      { key: 'added', from: undefined, to: true },
      { key: 'b.c', from: 2, to: 3 },
      { key: 'gone', from: 1, to: undefined },
    ]);
  });
});
