// `robustmq-install presets`: each preset's topology, replicas, storage, resources, ingress and monitoring.
import type { Context } from '../context.js';
import { ExitCode } from '../core/errors.js';
import { readFileSync } from 'node:fs';
import { PRESET_NAMES, presetPurpose, summarizePreset, type PresetSummary } from '../core/presets.js';
import { loadChartDefaults, resolveChartOption } from '../inputs/chart-source.js';
import { loadBuiltinPresets } from '../inputs/values-files.js';

const ROWS: [keyof PresetSummary, string][] = [
  ['topology', 'topology'],
  ['replicas', 'replicas'],
  ['storage', 'storage'],
  ['resources', 'resources'],
  ['ingress', 'ingress'],
  ['monitoring', 'monitoring'],
];

/** A table with one column per preset; multi-part cells ("meta …, broker …") wrap onto lines. */
export function presetsTable(rows: PresetSummary[]): string {
  const cell = (s: string) => s.split(/;\s+|,\s+(?=(?:meta|broker|engine) )/);
  const header = ['', ...rows.map((r) => r.name)];
  const body = ROWS.map(([k, label]) => [label, ...rows.map((r) => String(r[k]))]);
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((line) => Math.max(...cell(line[i]!).map((x) => x.length)))));
  const fmt = (cols: string[]) => {
    const parts = cols.map(cell);
    const height = Math.max(...parts.map((p) => p.length));
    const out: string[] = [];
    for (let l = 0; l < height; l++) out.push(parts.map((p, i) => (p[l] ?? '').padEnd(widths[i]!)).join('  ').trimEnd());
    return out.join('\n');
  };
  const sep = widths.map((w) => '-'.repeat(w)).join('  ');
  return [fmt(header), sep, ...body.map(fmt)].join('\n') + '\n';
}

export async function run(ctx: Context): Promise<number> {
  const presets = loadBuiltinPresets(ctx);
  const chart = resolveChartOption(ctx);
  const defaults = loadChartDefaults(chart) ?? {};
  const purpose = Object.fromEntries(PRESET_NAMES.map((n) => [n, presetPurpose(readFileSync(`${ctx.paths.presetsDir}/${n}.yaml`, 'utf8'))]));
  const rows = PRESET_NAMES.map((n) => summarizePreset(n, presets[n], defaults));
  if (ctx.options.output === 'json') {
    ctx.term.writeJson({ presets: rows.map((r) => ({ ...r, for: purpose[r.name] ?? null })) });
    return ExitCode.ok;
  }
  ctx.term.line(presetsTable(rows).trimEnd());
  ctx.term.line('');
  for (const n of PRESET_NAMES) if (purpose[n]) ctx.term.line(`${ctx.term.style('bold', n.padEnd(5))} for ${purpose[n]}`);
  ctx.term.line('monitoring: the ServiceMonitor/PrometheusRule CRDs of the Prometheus Operator (monitoring.coreos.com/v1)');
  ctx.term.line('');
  ctx.term.line(ctx.term.style('dim', `use: robustmq-install --preset <name>   (files: ${ctx.paths.presetsDir}/<name>.yaml)`));
  return ExitCode.ok;
}
