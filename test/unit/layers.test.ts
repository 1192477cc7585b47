// The module layers of src/ (docs/DESIGN.md, "CLI internals"): each layer imports only from the layers before it,
// so a flow never reaches into a command and the pure core never into a shell.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = resolve(import.meta.dirname, '../../src');
const ORDER = ['core', 'shell', 'inputs', 'flows', 'commands'] as const;

function layerOf(file: string): number {
  const top = relative(src, file).split('/')[0]!;
  return ORDER.indexOf(top as (typeof ORDER)[number]);
}

/** Every relative import (static or dynamic) of a file, resolved to the source file it names. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\()\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
  return specs.map((s) => resolve(file, '..', s.replace(/\.js$/, '.ts')));
}

const files = readdirSync(src, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts'))
  .map((f) => join(src, f));

describe('src layers', () => {
  it('finds the modules of every layer', () => {
    for (const layer of ORDER) expect(files.some((f) => relative(src, f).startsWith(`${layer}/`)), layer).toBe(true);
  });
  for (const file of files.filter((f) => layerOf(f) >= 0)) {
    it(`${relative(src, file)} imports no later layer`, () => {
      const mine = layerOf(file);
      const later = importsOf(file).filter((dep) => layerOf(dep) > mine).map((dep) => relative(src, dep));
      expect(later).toEqual([]);
    });
  }
});
