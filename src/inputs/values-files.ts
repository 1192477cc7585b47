// The YAML files a user hands the CLI: presets (built-in or a path) and -f values files, each read as a map of values.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Context } from '../context.js';
import { usageError } from '../core/errors.js';
import { PRESET_NAMES, presetRef, type PresetName } from '../core/presets.js';
import { isMap, type Values } from '../core/values.js';
import { readInputFile } from '../shell/files.js';

/** Read a YAML map of values. `shown` is the path as the user typed it (for messages). */
export function readValuesFile(path: string, what: string, shown = path): Values {
  const text = readInputFile(path, { what, shown, hint: what === 'preset' ? `use one of ${PRESET_NAMES.join(', ')} or a values file` : 'check the path' });
  const prebuilt = parsedAtBuild(text);
  if (prebuilt) return prebuilt;
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true });
  } catch (e) {
    const first = ((e as Error).message ?? '').split('\n')[0];
    throw usageError(`${what} ${shown} is not valid YAML: ${first}`, 'fix the file (helm needs a YAML map of values)');
  }
  if (doc === null || doc === undefined) return {};
  if (!isMap(doc)) throw usageError(`${what} ${shown} must be a YAML map of values, not a ${Array.isArray(doc) ? 'list' : typeof doc}`, 'e.g. "topology: split"');
  return doc;
}

// The bundled chart's values.yaml (600+ commented lines) and the presets are parsed at build time
// (scripts/build.mjs): parsing them at run time was a tenth of `render` (bench P2). Keyed by the text's hash, so an
// edited file is parsed as usual; absent outside the bundle (tests run the sources).
let prebuiltValues: Record<string, Values> | null | undefined;
function parsedAtBuild(text: string): Values | undefined {
  if (prebuiltValues === undefined) {
    try {
      prebuiltValues = JSON.parse(readFileSync(new URL('../values-cache.json', import.meta.url), 'utf8')) as Record<string, Values>;
    } catch {
      prebuiltValues = null;
    }
  }
  const hit = prebuiltValues?.[createHash('sha256').update(text).digest('hex')];
  return hit ? structuredClone(hit) : undefined;
}

export function loadPreset(ctx: Context, arg: string): { name: string; source: string; values: Values } {
  const ref = presetRef(arg, ctx.paths.presetsDir);
  if (!ref.builtin) {
    const p = resolve(ctx.cwd, ref.path);
    if (!existsSync(p)) {
      throw usageError(`unknown preset ${JSON.stringify(arg)}: not one of ${PRESET_NAMES.join(', ')} and no such file`, 'robustmq-install presets lists them');
    }
    return { name: arg, source: arg, values: readValuesFile(p, 'preset', arg) };
  }
  return { name: ref.name, source: ref.name, values: readValuesFile(ref.path, 'preset') };
}

export function loadBuiltinPresets(ctx: Context): Record<PresetName, Values> {
  return Object.fromEntries(PRESET_NAMES.map((n) => [n, readValuesFile(`${ctx.paths.presetsDir}/${n}.yaml`, 'preset')])) as Record<PresetName, Values>;
}

export function loadValuesFiles(ctx: Context): { path: string; values: Values }[] {
  return ctx.options.values.map((p) => ({ path: p, values: readValuesFile(resolve(ctx.cwd, p), 'values file', p) }));
}
