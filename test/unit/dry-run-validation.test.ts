// `--dry-run` (install and upgrade) judges the values as `render` does: the chart's values.schema.json and its
// validate template through `helm template`, no cluster. Same message, same exit code; the plan is shown only for
// values the chart accepts. On the real helm 3 and 4; KUBECONFIG points nowhere.
import { chmodSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { bundledChartInfo } from '../../src/chart-info.js';
import type { Facts } from '../../src/core/facts.js';
import { helmBinaries } from '../support/tools.js';
import { realPaths, runCli } from './cli-harness.js';

// a ceiling for runs of the CLI and helm on a loaded 2-core machine, not a measured duration
vi.setConfig({ testTimeout: 60_000 });

const env = { KUBECONFIG: '/nonexistent/kubeconfig', NO_COLOR: '1' };
const tmp = () => mkdtempSync(join(tmpdir(), 'rmq-dryrun-'));
const firstLine = (s: string) => s.split('\n')[0]!;

/** helm, except that `helm get values` answers with a release's values (upgrade reads them from the cluster). */
function helmWithRelease(realHelm: string, user: Record<string, unknown>): string {
  const dir = tmp();
  const all = { ...(parse(readFileSync(join(realPaths.chartDir, 'values.yaml'), 'utf8')) as Record<string, unknown>), ...user };
  writeFileSync(join(dir, 'user.json'), JSON.stringify(user));
  writeFileSync(join(dir, 'all.json'), JSON.stringify(all));
  const script = join(dir, 'helm');
  writeFileSync(
    script,
    `#!/bin/sh
if [ "$1" = get ] && [ "$2" = values ]; then
  case " $* " in *" --all "*) cat '${dir}/all.json' ;; *) cat '${dir}/user.json' ;; esac
  exit 0
fi
exec '${realHelm}' "$@"
`,
  );
  chmodSync(script, 0o755);
  return script;
}

const deployed: () => Promise<Facts> = async () => ({
  reachable: true,
  context: 'test',
  server: 'https://127.0.0.1:6443',
  kubeVersion: 'v1.36.0',
  crds: { serviceMonitor: false, prometheusRule: false },
  storageClasses: [{ name: 'standard', isDefault: true }],
  namespaceExists: true,
  credentialsSecretExists: true,
  existingRelease: { revision: 1, status: 'deployed', chartVersion: bundledChartInfo(realPaths.chartDir).version },
});

describe.each(helmBinaries())('helm $version', ({ path: helm }) => {
  // a schema violation (enum) and a validate-template violation (tls.source=existingSecret without the Secret's name)
  describe.each([
    ['the schema', 'service.type=Ingress', /^Error: helm template failed \(exit 1\): Error: values don't meet the specifications of the schema.*service[./]type/],
    ['the validate template', 'tls.source=existingSecret', /^Error: helm template failed \(exit 1\): Error: execution error at \(robustmq\/templates\/validate\.yaml.*tls\.source=existingSecret needs tls\.existingSecret/],
  ])('values %s rejects', (_what, set, message) => {
    it('install --dry-run fails exactly as render does: same message, exit 2, nothing written, no plan', async () => {
      const cwd = tmp();
      const dry = await runCli(['--preset', 'dev', '--dry-run', '--helm', helm, '--set', set], { cwd, env });
      const render = await runCli(['render', '--preset', 'dev', '--out-dir', 'out', '--helm', helm, '--set', set], { cwd: tmp(), env });
      expect(firstLine(dry.stderr)).toMatch(message);
      expect(firstLine(dry.stderr)).toBe(firstLine(render.stderr));
      expect(dry.code).toBe(2);
      expect(render.code).toBe(2);
      expect(dry.stderr).not.toContain('Dry run:');
      expect(dry.stderr).toMatch(/\nhint: fix the values named in the error; `robustmq-install render --out-dir DIR` with the same flags writes the overlay and the manifests to inspect\n$/);
      expect(dry.stdout).toBe('');
      expect(readdirSync(cwd)).toEqual([]);
    });
    it('install --dry-run -o json: the same error as JSON on stdout', async () => {
      const r = await runCli(['--preset', 'dev', '--dry-run', '--helm', helm, '--set', set, '-o', 'json'], { cwd: tmp(), env });
      expect(r.code).toBe(2);
      const j = JSON.parse(r.stdout) as { ok: boolean; exitCode: number; error: string };
      expect(j).toMatchObject({ ok: false, exitCode: 2 });
      expect(`Error: ${j.error}`).toMatch(message);
    });
    it('upgrade --dry-run fails the same way', async () => {
      const fake = helmWithRelease(helm, { topology: 'combined', auth: { existingSecret: 'robustmq-credentials' } });
      const up = await runCli(['upgrade', '--dry-run', '--helm', fake, '--set', set], { cwd: tmp(), env, detectFacts: deployed });
      expect(firstLine(up.stderr)).toMatch(message);
      expect(up.code).toBe(2);
      expect(up.stderr).not.toContain('Dry run:');
    });
  });

  it('values the chart accepts: the plan says they were rendered locally (install and upgrade)', async () => {
    const r = await runCli(['--preset', 'prod', '--dry-run', '--helm', helm], { cwd: tmp(), env });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/• chart rendered locally \(helm template, no cluster\): \d+ objects; the values pass the chart's schema and checks\n/);
    const fake = helmWithRelease(helm, { topology: 'combined', auth: { existingSecret: 'robustmq-credentials' } });
    const up = await runCli(['upgrade', '--dry-run', '--helm', fake, '--set', 'service.type=NodePort', '-o', 'json'], { cwd: tmp(), env, detectFacts: deployed });
    expect(up.code).toBe(0);
    const j = JSON.parse(up.stdout) as { notes: string[]; dryRun: boolean };
    expect(j.dryRun).toBe(true);
    expect(j.notes.some((n) => /^chart rendered locally \(helm template, no cluster\): \d+ objects/.test(n))).toBe(true);
  });
});

describe('image references are refused before helm runs, naming the part (render and --dry-run alike)', () => {
  const helm = helmBinaries()[0]!.path;
  it.each([
    [['--set', 'image.tag=v0.4.11!'], 'Error: image.tag "v0.4.11!": "v0.4.11!" is not a valid tag (letters, digits, _ . -, not starting with . or -)\nhint: e.g. --set image.tag=v0.4.11\n'],
    [['--set', 'image.repository=RobustMQ/robustmq'], 'Error: image.repository "RobustMQ/robustmq": "RobustMQ" is not a valid path component (lowercase letters and digits, separated by one . or _, two __, or dashes)\nhint: e.g. --set image.repository=robustmq/robustmq\n'],
    [['--registry', 'mirror'], 'Error: global.imageRegistry "mirror": "mirror" is not a registry host (no dot, no port, not localhost): runtimes would pull docker.io/mirror/…\nhint: host[:port][/path], e.g. --registry registry.example.com/mirror\n'],
    [['--registry', 'https://mirror.example.com'], 'Error: global.imageRegistry "https://mirror.example.com": "https://mirror.example.com" is a URL: give the host (and path) only, without https://\nhint: host[:port][/path], e.g. --registry registry.example.com/mirror\n'],
    [['--set', 'image.digest=sha256:abc'], 'Error: image.digest "sha256:abc": "sha256:abc" is not a digest (algorithm:hex, e.g. sha256: and 64 hex digits)\nhint: e.g. --set image.digest=sha256:<64 lowercase hex digits>, or leave it empty to use image.tag\n'],
  ])('%j', async (extra, stderr) => {
    const dry = await runCli(['--preset', 'dev', '--dry-run', '--helm', helm, ...extra], { cwd: tmp(), env });
    expect(dry.stderr).toBe(stderr);
    expect(dry.code).toBe(2);
    const render = await runCli(['render', '--preset', 'dev', '--out-dir', 'o', '--helm', helm, ...extra], { cwd: tmp(), env });
    expect(render.stderr).toBe(stderr);
    expect(render.code).toBe(2);
  });
});
