// The CLI in-process: exit codes and one-line errors for bad input, --version/--help, JSON on stdout only.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unknownFacts, type FactsRequest } from '../../src/core/facts.js';
import { helmPath } from '../support/tools.js';
import { parse } from 'yaml';
import { bundledChartInfo } from '../../src/chart-info.js';
import { realPaths, runCli } from './cli-harness.js';

const helm4 = helmPath(4);

describe('--version / --help', () => {
  it('prints the CLI and chart versions', async () => {
    const chart = bundledChartInfo(realPaths.chartDir);
    expect(chart.version).toMatch(/^\d+\.\d+\.\d+/);
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`robustmq-install 0.0.0-dev (chart robustmq ${chart.version}, RobustMQ ${chart.appVersion})\n`);
    expect(r.stderr).toBe('');
    const j = await runCli(['--version', '-o', 'json']);
    expect(JSON.parse(j.stdout)).toEqual({ version: '0.0.0-dev', chart: chart.version, appVersion: chart.appVersion });
  });
  it('--help and help COMMAND', async () => {
    expect((await runCli(['--help'])).stdout).toContain('Usage: robustmq-install [command] [flags]');
    const r = await runCli(['help', 'uninstall']);
    expect(r.stdout).toContain('Usage: robustmq-install uninstall [--delete-data] [flags]');
    expect(r.stdout).toContain('--delete-data');
  });
});

describe('bad input → one line, a hint, the right exit code, no stack', () => {
  it.each([
    [['--bogus'], 2, 'Error: unknown flag --bogus\nhint: see robustmq-install --help\n'],
    [['--preset', 'staging', '--dry-run', '--helm', helm4], 2, 'Error: unknown preset "staging": not one of dev, test, prod and no such file\nhint: robustmq-install presets lists them\n'],
    [['--preset', 'dev', '--dry-run', '--helm', '/nope/helm'], 3, 'Error: helm not found at "/nope/helm"\nhint: install helm >= 3.14 (https://helm.sh/docs/intro/install/) or pass --helm PATH\n'],
    [['--preset', 'dev', '--dry-run', '--helm', helm4, '--set', 'novalue'], 2, 'Error: --set "novalue": "novalue" has no "="\nhint: use --set key=value, e.g. --set broker.replicaCount=3\n'],
    [['--preset', 'dev', '--dry-run', '--helm', helm4, '--set', 'combined.metaReplicas=2,combined.replicaCount=4'], 2, 'Error: combined.metaReplicas: meta voters must be odd (Raft needs a majority): 1 or 3\nhint: --set combined.metaReplicas=3\n'],
    [['--preset', 'prod', '--dry-run', '--helm', helm4, '--set', 'meta.replicaCount=1'], 2, 'Error: meta.replicaCount: prod needs at least 3 meta voters to survive losing one\nhint: --set meta.replicaCount=3\n'],
    [['--preset', 'dev', '--dry-run', '--helm', helm4, '-f', 'missing.yaml'], 2, 'Error: values file missing.yaml: no such file\nhint: check the path\n'],
    [['--preset', 'dev', '--dry-run', '--helm', helm4, '--chart', 'nosuchchart'], 2, 'Error: --chart nosuchchart: no such file or directory, and not REPO/NAME or oci://…\nhint: pass a chart path, a .tgz, REPO/NAME (a repo you added), NAME with --repo-url URL, or oci://…\n'],
    [['--preset', 'dev', '--dry-run', '--helm', helm4, '--chart', 'oci://r/c', '--ca-file', '/nope.pem'], 2, 'Error: --ca-file /nope.pem: no such file\nhint: pass the CA bundle that signed the registry/repository certificate\n'],
  ])('%j → %d', async (argv, code, stderr) => {
    const r = await runCli(argv as string[]);
    expect(r.code).toBe(code);
    expect(r.stderr).toBe(stderr);
    expect(r.stdout).toBe('');
  });

  it('no --preset without a TTY: exit 2 naming --preset, and no prompt', async () => {
    const r = await runCli(['--helm', helm4], { tty: false });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('Error: --preset is required without a terminal (the wizard needs a TTY)\nhint: e.g. robustmq-install --preset dev   (dev, test, prod or a values file; robustmq-install presets shows them)\n');
  });
  it('no --preset with a TTY but CI set: exit 2 naming --preset', async () => {
    const r = await runCli([], { tty: true, env: { CI: 'true', NO_COLOR: '1' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^Error: --preset is required when CI is set/);
  });
  it('-o json: the error is JSON on stdout too', async () => {
    const r = await runCli(['--preset', 'nope', '-o', 'json', '--dry-run', '--helm', helm4]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({ ok: false, exitCode: 2, error: 'unknown preset "nope": not one of dev, test, prod and no such file', hint: 'robustmq-install presets lists them' });
  });
  it('values files that are not a map, or not YAML', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rmq-'));
    writeFileSync(join(cwd, 'list.yaml'), '- a\n- b\n');
    writeFileSync(join(cwd, 'bad.yaml'), 'a: [1, 2\n');
    const list = await runCli(['--preset', 'dev', '--dry-run', '--helm', helm4, '-f', 'list.yaml'], { cwd });
    expect(list.stderr).toBe('Error: values file list.yaml must be a YAML map of values, not a list\nhint: e.g. "topology: split"\n');
    const bad = await runCli(['--preset', 'dev', '--dry-run', '--helm', helm4, '-f', 'bad.yaml'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^Error: values file bad.yaml is not valid YAML: /);
  });
  it('an unexpected error: short message, exit 1; the stack only with DEBUG=1', async () => {
    const detectFacts = async () => {
      throw new Error('kaboom');
    };
    const r = await runCli(['--preset', 'dev', '--helm', helm4, '--yes'], { detectFacts });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error: unexpected: kaboom\nhint: run again with DEBUG=1 for the stack trace, and report it\n');
    const d = await runCli(['--preset', 'dev', '--helm', helm4, '--yes'], { detectFacts, env: { DEBUG: '1' } });
    expect(d.stderr).toMatch(/^Error: unexpected: kaboom\nError: kaboom\n\s+at /);
  });
  it('prod without a TTY needs --yes and --kube-context', async () => {
    const facts = async () => ({ ...unknownFacts('test'), context: 'kind-x' });
    const r = await runCli(['--preset', 'prod', '--helm', helm4], { detectFacts: facts });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('Error: the prod preset without a terminal needs --yes and --kube-context\nhint: e.g. --preset prod --yes --kube-context my-prod-cluster\n');
    const y = await runCli(['--preset', 'prod', '--helm', helm4, '--yes'], { detectFacts: facts });
    expect(y.stderr).toBe('Error: the prod preset without a terminal needs --kube-context as well as --yes\nhint: name the cluster explicitly: --yes --kube-context NAME\n');
  });
  it('an existing overlay is not replaced without --yes (no TTY), and nothing else happens', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rmq-'));
    writeFileSync(join(cwd, 'robustmq-values.yaml'), 'old: true\n');
    const r = await runCli(['--preset', 'dev', '--helm', helm4], { cwd, detectFacts: async () => unknownFacts('test') });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('Error: overlay ./robustmq-values.yaml already exists\nhint: pass --yes to replace it (the old file is kept as .bak), or choose another path\n');
    expect(readdirSync(cwd)).toEqual(['robustmq-values.yaml']);
  });
  it('install over an existing release points to upgrade', async () => {
    const facts = async () => ({ ...unknownFacts('t'), reachable: true, crds: {}, existingRelease: { revision: 4, status: 'deployed' } });
    const r = await runCli(['--preset', 'dev', '--helm', helm4, '--yes'], { detectFacts: facts });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('Error: release robustmq already exists in namespace robustmq (revision 4, deployed)\nhint: use robustmq-install upgrade, or uninstall first\n');
  });
  it('explicit monitoring without the CRDs is a preflight error (exit 3)', async () => {
    const facts = async () => ({ ...unknownFacts('t'), reachable: true, crds: { serviceMonitor: false, prometheusRule: false } });
    const r = await runCli(['--preset', 'dev', '--helm', helm4, '--yes', '--set', 'metrics.serviceMonitor.enabled=true'], { detectFacts: facts });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^Error: metrics.serviceMonitor.enabled=true but the ServiceMonitor CRD \(monitoring.coreos.com\/v1\/ServiceMonitor\) is not installed in the cluster\n/);
  });
});

describe('--dry-run contacts no cluster', () => {
  it('asks the detector for offline facts only', async () => {
    const calls: FactsRequest[] = [];
    const r = await runCli(['--preset', 'dev', '--dry-run', '--helm', helm4], { detectFacts: async (req) => (calls.push(req), unknownFacts('offline')) });
    expect(r.code).toBe(0);
    expect(calls.map((c) => c.offline)).toEqual([true]);
  });
});

describe('presets', () => {
  const files = Object.fromEntries(['dev', 'test', 'prod'].map((n) => [n, parse(readFileSync(join(realPaths.presetsDir, `${n}.yaml`), 'utf8')) as { topology: string }]));
  it('a table with one column per preset (human text on stderr)', async () => {
    const r = await runCli(['presets'], { env: { NO_COLOR: '1' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n');
    expect(lines[0]).toMatch(/^\s+dev\s+test\s+prod$/);
    for (const row of ['topology', 'replicas', 'storage', 'resources', 'ingress', 'monitoring']) expect(lines.some((l) => l.startsWith(row))).toBe(true);
    expect(lines.find((l) => l.startsWith('topology'))).toMatch(new RegExp(`^topology\\s+${files.dev!.topology}\\s+${files.test!.topology}\\s+${files.prod!.topology}$`));
  });
  it('-o json: one object per preset on stdout', async () => {
    const r = await runCli(['presets', '-o', 'json']);
    const j = JSON.parse(r.stdout) as { presets: { name: string; topology: string; replicas: string }[] };
    expect(j.presets.map((p) => [p.name, p.topology])).toEqual(['dev', 'test', 'prod'].map((n) => [n, files[n]!.topology]));
  });
});

describe('bad output paths', () => {
  it('--values-out that is a directory, --out-dir that is a file', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rmq-'));
    writeFileSync(join(cwd, 'afile'), 'x');
    const facts = async () => ({ ...unknownFacts('t'), reachable: false, crds: {} });
    const d = await runCli(['--preset', 'dev', '--helm', helm4, '--yes', '--values-out', '.'], { cwd, detectFacts: facts });
    // refused before any cluster work
    expect(d.code).toBe(2);
    expect(d.stderr).toBe('Error: overlay . is a directory\nhint: give a file path\n');
    const r = await runCli(['render', '--preset', 'dev', '--helm', helm4, '--out-dir', 'afile'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('Error: --out-dir afile is a file, not a directory\nhint: choose a directory (it is created if missing)\n');
  });
});
