// `render` and `--dry-run` on the real helm 3 and 4, against the chart (see PATHS). No cluster is contacted:
// KUBECONFIG points nowhere.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { helmBinaries } from '../support/tools.js';
import { realPaths, runCli } from './cli-harness.js';

const PATHS = realPaths;
const env = { KUBECONFIG: '/nonexistent/kubeconfig', NO_COLOR: '1' };
const tmp = () => mkdtempSync(join(tmpdir(), 'rmq-render-'));
type Obj = { kind: string; metadata: { name: string }; spec?: Record<string, unknown> };
const docs = (text: string) =>
  parseAllDocuments(text)
    .map((d) => d.toJSON() as Obj | null)
    .filter((d): d is Obj => d !== null);

describe.each(helmBinaries())('helm $version', ({ path: helm, major }) => {
  it('--dry-run: prints the overlay and the exact helm command, writes nothing', async () => {
    const cwd = tmp();
    const r = await runCli(['--preset', 'test', '--dry-run', '--helm', helm, '--set', 'service.type=NodePort', '-n', 'iot'], { paths: PATHS, cwd, env });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(readdirSync(cwd)).toEqual([]);
    const e = r.stderr;
    expect(e).toContain('Dry run: nothing was contacted or written. The real run would do this:');
    expect(e).toContain(`Overlay (${join(cwd, 'robustmq-values.yaml')}):`);
    expect(e).toContain('# preset: test\n');
    expect(e).toContain('# reproduce: npx robustmq-install --preset test --set service.type=NodePort --namespace iot');
    expect(e).toContain('metrics.serviceMonitor.enabled: auto → false (the ServiceMonitor CRD was not checked: no cluster contact)');
    const cmd = `${helm} install robustmq ${PATHS.chartDir} --namespace iot --create-namespace --values ${join(cwd, 'robustmq-values.yaml')} --timeout 10m`;
    expect(e).toContain(`  ${cmd}\n`);
    expect(e).toContain('# Secret robustmq-credentials in namespace iot, created if absent');
    // the overlay block parses back to values
    const overlay = e.slice(e.indexOf('# robustmq-install values overlay'), e.indexOf('\n\nCommands:'));
    expect(parse(overlay)).toMatchObject({ topology: 'combined', service: { type: 'NodePort' }, auth: { existingSecret: 'robustmq-credentials' } });
  });

  it('--dry-run --helm-wait: the helm command carries this major\'s wait flag, the reproduce line the option', async () => {
    const cwd = tmp();
    const r = await runCli(['--preset', 'dev', '--dry-run', '--helm-wait', '--helm', helm, '-n', 'iot'], { paths: PATHS, cwd, env });
    expect(r.code).toBe(0);
    const wait = major === 4 ? '--wait=watcher' : '--wait';
    expect(r.stderr).toContain(`  ${helm} install robustmq ${PATHS.chartDir} --namespace iot --create-namespace --values ${join(cwd, 'robustmq-values.yaml')} ${wait} --timeout 10m\n`);
    expect(r.stderr).toContain("# install the release (never uninstalls on failure); helm's --wait and the health watch wait for readiness");
    expect(r.stderr).toMatch(/# reproduce: npx robustmq-install --preset dev --namespace iot --helm \S+ --helm-wait/);
  });

  it('--dry-run -o json: the same plan as data; the printed argv is accepted by this helm', async () => {
    const cwd = tmp();
    const r = await runCli(['--preset', 'dev', '--dry-run', '--helm', helm, '-o', 'json', '--registry', 'mirror.example.com'], { paths: PATHS, cwd, env });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { dryRun: boolean; overlayYaml: string; overlay: Record<string, unknown>; commands: { argv: string[]; mutates: boolean }[]; helm: { major: number } };
    expect(j.dryRun).toBe(true);
    expect(j.helm.major).toBe(major);
    expect(parse(j.overlayYaml)).toEqual(j.overlay);
    expect(j.overlay).toMatchObject({ global: { imageRegistry: 'mirror.example.com' } });
    expect(j.commands).toHaveLength(1);
    const [bin, ...argv] = j.commands[0]!.argv;
    expect(bin).toBe(helm);
    // run exactly that command, as a client-side dry run, with the overlay where the plan says it will be
    writeFileSync(join(cwd, 'robustmq-values.yaml'), j.overlayYaml);
    const res = spawnSync(helm, [...argv, '--dry-run=client'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    if (major === 4) {
      expect(res.stderr).toBe('');
      expect(res.status).toBe(0);
      expect(res.stdout).toContain('image: mirror.example.com/robustmq/robustmq:v0.4.11');
    } else {
      // helm 3's install --dry-run=client still asks the API server for its version: the flags parsed, then it stopped there
      expect(res.stderr).toMatch(/Kubernetes cluster unreachable/);
      expect(res.stderr).not.toMatch(/unknown flag|invalid argument/);
    }
  });

  it('render: values.yaml (with header) and manifests.yaml from the same values, no cluster', async () => {
    const cwd = tmp();
    const r = await runCli(['render', '--preset', 'prod', '--out-dir', 'out', '--helm', helm, '--registry', 'registry.cn.example.com/mirror'], { paths: PATHS, cwd, env });
    expect(r.stderr).toMatch(/✔ wrote .*out\/values.yaml\n✔ wrote .*out\/manifests.yaml: \d+ objects\n/);
    expect(r.code).toBe(0);
    const values = readFileSync(join(cwd, 'out/values.yaml'), 'utf8');
    expect(values.split('\n').slice(0, 2)).toEqual(['# robustmq-install values overlay: pass it to helm as-is, or to `robustmq-install --preset FILE`.', '# preset: prod']);
    expect(values).toContain('# assumes: ServiceMonitor CRD (monitoring.coreos.com/v1/ServiceMonitor) absent → metrics.serviceMonitor.enabled=false\n');
    expect(values).toMatch(/# reproduce: npx robustmq-install render --preset prod --registry registry.cn.example.com\/mirror/);
    const objs = docs(readFileSync(join(cwd, 'out/manifests.yaml'), 'utf8'));
    const sts = objs.filter((o) => o.kind === 'StatefulSet').map((o) => o.metadata.name);
    expect(sts).toEqual(expect.arrayContaining(['robustmq-meta', 'robustmq-broker', 'robustmq-engine']));
    const images = readFileSync(join(cwd, 'out/manifests.yaml'), 'utf8').match(/image: \S+/g) ?? [];
    expect(images.length).toBeGreaterThan(0);
    for (const i of images) expect(i).toMatch(/^image: "?registry\.cn\.example\.com\/mirror\//);
    expect(objs.some((o) => o.kind === 'ServiceMonitor')).toBe(false);
    // the same helm template run by hand gives the same manifests (the chart's self-signed TLS material is random per render)
    const again = execFileSync(helm, ['template', 'robustmq', PATHS.chartDir, '--namespace', 'robustmq', '--values', join(cwd, 'out/values.yaml')], { encoding: 'utf8' });
    const masked = (t: string) => t.replace(/^(\s+(?:tls\.crt|tls\.key|ca\.crt|checksum\/[\w.-]+)): .*$/gm, '$1: <random>');
    expect(masked(again)).toBe(masked(readFileSync(join(cwd, 'out/manifests.yaml'), 'utf8')));
  });

  it('render: an explicit monitoring request is assumed available and rendered', async () => {
    const cwd = tmp();
    const r = await runCli(['render', '--preset', 'test', '--out-dir', '.', '--helm', helm, '--set', 'metrics.serviceMonitor.enabled=true', '-o', 'json'], { paths: PATHS, cwd, env });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { assumes: string[] };
    expect(j.assumes).toContain('ServiceMonitor CRD (monitoring.coreos.com/v1/ServiceMonitor) present (not checked)');
    expect(docs(readFileSync(join(cwd, 'manifests.yaml'), 'utf8')).some((o) => o.kind === 'ServiceMonitor')).toBe(true);
    expect(readFileSync(join(cwd, 'values.yaml'), 'utf8')).toContain('# assumes: ServiceMonitor CRD (monitoring.coreos.com/v1/ServiceMonitor) present (not checked)\n');
  });

  it('render never overwrites silently: refuses without --yes, keeps .bak with --yes', async () => {
    const cwd = tmp();
    expect((await runCli(['render', '--preset', 'dev', '--out-dir', 'o', '--helm', helm], { paths: PATHS, cwd, env })).code).toBe(0);
    const first = readFileSync(join(cwd, 'o/values.yaml'), 'utf8');
    const refused = await runCli(['render', '--preset', 'test', '--out-dir', 'o', '--helm', helm], { paths: PATHS, cwd, env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`Error: ${join(cwd, 'o/values.yaml')} and ${join(cwd, 'o/manifests.yaml')} already exist\nhint: pass --yes to replace (old files are kept as .bak), or use another --out-dir\n`);
    expect(readFileSync(join(cwd, 'o/values.yaml'), 'utf8')).toBe(first);
    const replaced = await runCli(['render', '--preset', 'test', '--out-dir', 'o', '--helm', helm, '--yes'], { paths: PATHS, cwd, env });
    expect(replaced.code).toBe(0);
    expect(readFileSync(join(cwd, 'o/values.yaml.bak'), 'utf8')).toBe(first);
    expect(existsSync(join(cwd, 'o/manifests.yaml.bak'))).toBe(true);
    expect(readFileSync(join(cwd, 'o/values.yaml'), 'utf8')).toContain('# preset: test');
  });

  it('render: a value the chart schema rejects is bad input (exit 2) with helm’s reason', async () => {
    const r = await runCli(['render', '--preset', 'dev', '--out-dir', 'o', '--helm', helm, '--set', 'service.type=Ingress'], { paths: PATHS, cwd: tmp(), env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^Error: helm template failed \(exit 1\): .*service/);
    expect(r.stderr).toMatch(/hint: .*values.yaml was written so you can inspect it/);
  });
});

describe('render from a chart repository (--chart NAME --repo-url URL --chart-version V)', () => {
  it.each(helmBinaries())('helm $version: adds the repo under a private name, renders the pinned version, leaves the user repo config alone', async ({ path: helm }) => {
    const { createServer } = await import('node:http');
    const { privateRepoName } = await import('../../src/core/flags.js');
    const { bundledChartInfo } = await import('../../src/chart-info.js');
    const work = tmp();
    const repoDir = join(work, 'repo');
    execFileSync(helm, ['package', PATHS.chartDir, '--destination', repoDir], { encoding: 'utf8' });
    const server = createServer((req, res) => {
      try {
        res.end(readFileSync(join(repoDir, decodeURIComponent((req.url ?? '/').split('?')[0]!))));
      } catch {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      execFileSync(helm, ['repo', 'index', repoDir, '--url', url]);
      const helmHome = {
        HELM_CONFIG_HOME: join(work, 'helm-config'),
        HELM_CACHE_HOME: join(work, 'helm-cache'),
        HELM_DATA_HOME: join(work, 'helm-data'),
        HELM_REPOSITORY_CONFIG: join(work, 'helm-config/repositories.yaml'),
        HELM_REPOSITORY_CACHE: join(work, 'helm-cache/repository'),
      };
      // the user already has a repo of their own: it must survive untouched (async: this process serves the repo)
      const { promisify } = await import('node:util');
      const { execFile } = await import('node:child_process');
      await promisify(execFile)(helm, ['repo', 'add', 'robustmq', url], { env: { ...process.env, ...helmHome } });
      const before = readFileSync(helmHome.HELM_REPOSITORY_CONFIG, 'utf8');
      const version = bundledChartInfo(PATHS.chartDir).version!;
      const r = await runCli(['render', '--preset', 'dev', '--out-dir', 'out', '--helm', helm, '--chart', 'robustmq', '--repo-url', url, '--chart-version', version], {
        paths: PATHS,
        cwd: work,
        env: { ...env, ...helmHome },
      });
      expect(r.stderr).toMatch(/✔ wrote .*out\/manifests.yaml: \d+ objects/);
      expect(r.code).toBe(0);
      const repos = parse(readFileSync(helmHome.HELM_REPOSITORY_CONFIG, 'utf8')) as { repositories: { name: string; url: string }[] };
      expect(repos.repositories.map((x) => x.name).sort()).toEqual(['robustmq', privateRepoName(url)].sort());
      expect(parse(before)).toMatchObject({ repositories: [{ name: 'robustmq', url }] });
      expect(readFileSync(join(work, 'out/values.yaml'), 'utf8')).toContain(`--chart robustmq --chart-version ${version} --repo-url ${url}`);
      expect(docs(readFileSync(join(work, 'out/manifests.yaml'), 'utf8')).some((o) => o.kind === 'StatefulSet')).toBe(true);
      // a version the repo does not have fails hard, naming helm's reason
      const missing = await runCli(['render', '--preset', 'dev', '--out-dir', 'out2', '--helm', helm, '--chart', 'robustmq', '--repo-url', url, '--chart-version', '99.0.0'], { paths: PATHS, cwd: work, env: { ...env, ...helmHome } });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/^Error: helm template failed \(exit 1\): .*99\.0\.0/);
    } finally {
      server.close();
    }
  });
});
