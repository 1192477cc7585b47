// The bundle (npm test builds first): the launcher, lazy loading, no runtime dependencies.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { helmPath } from '../support/tools.js';

const root = resolve(import.meta.dirname, '../..');
const dist = join(root, 'dist');

/** Every file reached from `entry` through static imports (what loads before any dynamic import()). */
function staticGraph(entry: string, seen = new Set<string>()): Set<string> {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  const text = readFileSync(entry, 'utf8');
  for (const m of text.matchAll(/^import\s+(?:[^'"]*?from\s+)?["'](\.{1,2}\/[^"']+)["'];?/gm)) staticGraph(resolve(dirname(entry), m[1]!), seen);
  return seen;
}

describe('bundle', () => {
  it('exists (npm run build)', () => {
    expect(existsSync(join(dist, 'cli.js')), 'run npm run build').toBe(true);
  });
  it('--version/--help load no dependency: the static graph of dist/cli.js has no node_modules code', () => {
    const files = [...staticGraph(join(dist, 'cli.js'))];
    expect(files.length).toBeGreaterThan(1);
    for (const f of files) {
      const fromDeps = readFileSync(f, 'utf8').match(/^\/\/ node_modules\/\S+/gm) ?? [];
      expect(fromDeps, `${f} bundles dependency code`).toEqual([]);
    }
  });
  it('the heavy modules are separate chunks behind import()', () => {
    const all = execFileSync('grep', ['-rlE', '^// node_modules/(@inquirer|listr2|yaml|execa)/', dist], { encoding: 'utf8' }).trim().split('\n');
    const eager = staticGraph(join(dist, 'cli.js'));
    expect(all.length).toBeGreaterThan(0);
    for (const f of all) expect(eager.has(f)).toBe(false);
  });
  it('imports nothing outside node: builtins and its own chunks', () => {
    const files = execFileSync('find', [dist, '-name', '*.js'], { encoding: 'utf8' }).trim().split('\n');
    for (const f of files) {
      const specs = [...readFileSync(f, 'utf8').matchAll(/(?:^import\s+(?:[^'"]*?from\s+)?|import\()["']([^"']+)["']/gm)].map((m) => m[1]!);
      for (const s of specs) expect(isBuiltin(s) || /^\.{1,2}\//.test(s), `${f} imports ${s}`).toBe(true);
    }
  });
  it('the launcher runs dist/cli.js and checks the Node version first', () => {
    const v = spawnSync(process.execPath, [join(root, 'bin/robustmq-install.js'), '--version'], { encoding: 'utf8' });
    expect(v.status).toBe(0);
    expect(v.stdout).toMatch(/^robustmq-install \d+\.\d+\.\d+ \(chart robustmq /);
    const launcher = readFileSync(join(root, 'bin/robustmq-install.js'), 'utf8');
    expect(launcher.indexOf('process.versions.node')).toBeLessThan(launcher.indexOf("import('../dist/cli.js')"));
    // the same check, fed an old version
    const old = spawnSync(process.execPath, ['--input-type=module', '-e', launcher.replaceAll('process.versions.node', "'20.18.0'").replace(/^#!.*\n/, '')], { encoding: 'utf8' });
    expect(old.status).toBe(1);
    expect(old.stderr).toBe('robustmq-install needs Node.js >= 20.19 (this is 20.18.0).\nhint: install a current Node.js (https://nodejs.org) or use a version manager such as nvm or fnm\n');
  });
  it('exit codes reach the process: unknown flag → 2, with the one-line error on stderr only', () => {
    const r = spawnSync(process.execPath, [join(root, 'bin/robustmq-install.js'), '--frobnicate'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('Error: unknown flag --frobnicate\nhint: see robustmq-install --help\n');
  });
});

describe('values parsed at build time', () => {
  it('holds the shipped chart values and every preset, exactly as the YAML parser reads them', async () => {
    const { parse } = await import('yaml');
    const { createHash } = await import('node:crypto');
    const { readdirSync } = await import('node:fs');
    const prebuilt = JSON.parse(readFileSync(join(dist, 'values-cache.json'), 'utf8')) as Record<string, unknown>;
    const shipped = [join(root, 'chart/robustmq/values.yaml'), ...readdirSync(join(root, 'presets')).filter((f) => f.endsWith('.yaml')).map((f) => join(root, 'presets', f))];
    expect(shipped.length).toBeGreaterThanOrEqual(4);
    for (const file of shipped) {
      const text = readFileSync(file, 'utf8');
      expect(prebuilt[createHash('sha256').update(text).digest('hex')], file).toEqual(parse(text));
    }
  });

  it('gives render the same overlay as parsing at run time', () => {
    const helm = helmPath(4);
    const render = (cacheFile: string | undefined) => {
      const out = join(root, '.cache', `render-${cacheFile ? 'prebuilt' : 'parsed'}-${process.pid}`);
      const r = spawnSync(process.execPath, [join(root, 'bin/robustmq-install.js'), 'render', '--preset', 'prod', '--out-dir', out, '--yes', '--helm', helm], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return readFileSync(join(out, 'values.yaml'), 'utf8').replace(/^# date: .*$/m, '');
    };
    const withCache = render('prebuilt');
    const saved = readFileSync(join(dist, 'values-cache.json'), 'utf8');
    try {
      writeFileSync(join(dist, 'values-cache.json'), '{}');
      expect(render(undefined)).toBe(withCache);
    } finally {
      writeFileSync(join(dist, 'values-cache.json'), saved);
    }
  });
});
