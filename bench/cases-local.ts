// Cases that need no cluster: start-up (P1), render (P2) and distribution (P6).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interleave, measure, mustSucceed, ratio, stats, type Stats } from './lib.ts';

export interface CaseResult {
  id: string;
  title: string;
  rows: { name: string; unit: string; stats?: Stats; value?: number }[];
  /** without a target: reported, not judged */
  ratios: { name: string; value: number; target?: number; met?: boolean }[];
  notes?: string[];
}

const root = new URL('..', import.meta.url).pathname;
const cli = join(root, 'bin', 'robustmq-install.js');

function timeOf(cmd: string, args: string[], env?: NodeJS.ProcessEnv): () => number {
  return () => mustSucceed(measure(cmd, args, { env }), `${cmd} ${args.join(' ')}`).wallMs;
}

export function p1Startup(rounds: number): CaseResult {
  const s = interleave(rounds, {
    baseline: timeOf(process.execPath, ['-e', '0']),
    version: timeOf(process.execPath, [cli, '--version']),
    help: timeOf(process.execPath, [cli, '--help']),
  });
  const base = stats(s.baseline);
  const version = stats(s.version);
  const help = stats(s.help);
  return {
    id: 'P1',
    title: 'start-up: --version and --help against `node -e 0`',
    rows: [
      { name: 'node -e 0', unit: 'ms', stats: base },
      { name: 'robustmq-install --version', unit: 'ms', stats: version },
      { name: 'robustmq-install --help', unit: 'ms', stats: help },
    ],
    ratios: [
      { name: '--version / node -e 0', value: ratio(version, base), target: 1.5, met: ratio(version, base) <= 1.5 },
      { name: '--help / node -e 0', value: ratio(help, base), target: 2, met: ratio(help, base) <= 2 },
    ],
  };
}

export function p2Render(rounds: number, helm: string): CaseResult {
  const work = mkdtempSync(join(tmpdir(), 'bench-p2-'));
  try {
    let n = 0;
    const renderOnce = (): number => {
      const out = join(work, `r${n++}`);
      return mustSucceed(
        measure(process.execPath, [cli, 'render', '--preset', 'prod', '--out-dir', out, '--helm', helm]),
        'render',
      ).wallMs;
    };
    // One render first, to get the exact final values the baseline must template with.
    const ref = join(work, 'ref');
    mustSucceed(measure(process.execPath, [cli, 'render', '--preset', 'prod', '--out-dir', ref, '--helm', helm]), 'render');
    const values = join(ref, 'values.yaml');
    const chart = join(root, 'chart', 'robustmq');
    const preset = join(root, 'presets', 'prod.yaml');
    // The floor of any Node tool that calls helm: start node, then helm template, in one shell.
    const floor = `"${process.execPath}" -e 0 && "${helm}" template robustmq "${chart}" -n robustmq -f "${preset}" -f "${values}" >/dev/null`;
    const s = interleave(rounds, {
      floor: timeOf('/bin/sh', ['-c', floor]),
      render: renderOnce,
    });
    const f = stats(s.floor);
    const r = stats(s.render);
    return {
      id: 'P2',
      title: 'render --preset prod against `node -e 0 && helm template` (same chart, same values)',
      rows: [
        { name: 'node -e 0 && helm template', unit: 'ms', stats: f },
        { name: 'robustmq-install render --preset prod', unit: 'ms', stats: r },
      ],
      ratios: [{ name: 'render / floor', value: ratio(r, f), target: 1.3, met: ratio(r, f) <= 1.3 }],
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function dirSize(path: string): number {
  let total = 0;
  for (const e of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, e.name);
    total += e.isDirectory() ? dirSize(p) : statSync(p).size;
  }
  return total;
}

export function p6Distribution(rounds: number): CaseResult {
  const work = mkdtempSync(join(tmpdir(), 'bench-p6-'));
  try {
    const pack = spawnSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8' });
    if (pack.status !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
    const info = JSON.parse(pack.stdout)[0] as { filename: string; size: number; unpackedSize: number; entryCount: number };
    const tarball = join(work, info.filename.replace(/^@/, '').replace(/\//, '-'));
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    const runtimeDeps = Object.keys(pkg.dependencies ?? {}).length;
    const installs: number[] = [];
    let installedBytes = 0;
    for (let i = 0; i < rounds; i++) {
      const into = join(work, `install-${i}`);
      spawnSync('mkdir', ['-p', into]);
      const m = mustSucceed(
        measure('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--prefix', into, tarball]),
        'npm install tarball',
      );
      installs.push(m.wallMs);
      installedBytes = dirSize(join(into, 'node_modules'));
    }
    const inst = stats(installs);
    return {
      id: 'P6',
      title: 'distribution: packed size, runtime dependencies, install time (warm cache)',
      rows: [
        { name: 'npm pack size', unit: 'KiB', value: info.size / 1024 },
        { name: 'unpacked size', unit: 'KiB', value: info.unpackedSize / 1024 },
        { name: 'files in package', unit: 'files', value: info.entryCount },
        { name: 'runtime dependencies', unit: 'deps', value: runtimeDeps },
        { name: 'installed node_modules', unit: 'KiB', value: installedBytes / 1024 },
        { name: 'npm install <tarball> into an empty folder', unit: 'ms', stats: inst },
      ],
      ratios: [
        { name: 'packed MB (≤1.5)', value: info.size / 1e6, target: 1.5, met: info.size / 1e6 <= 1.5 },
        { name: 'runtime deps (≤5)', value: runtimeDeps, target: 5, met: runtimeDeps <= 5 },
      ],
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
