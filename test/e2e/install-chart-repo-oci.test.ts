// Scenarios 8 and 9: the CLI installs the chart from a repository (`helm package` + `helm repo index`, served on
// loopback by startStaticServer, used through --repo-url) and from OCI (`helm push` to Debian's docker-registry on
// loopback, used with --plain-http and --chart oci://…). helm's repository/registry config lives in a temp dir for
// every helm this file starts (the CLI's included), so the user's own config is never touched.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOciRegistry, startStaticServer, type OciRegistry, type StaticServer } from '../support/servers.ts';
import { ROOT, cliExpect, dropNamespace, helmLocal, isReady, pods, workdir } from './cli.ts';

const home = workdir('helm-home');
const helmEnv = {
  HELM_CONFIG_HOME: join(home, 'config'),
  HELM_CACHE_HOME: join(home, 'cache'),
  HELM_DATA_HOME: join(home, 'data'),
  HELM_REPOSITORY_CONFIG: join(home, 'config', 'repositories.yaml'),
  HELM_REPOSITORY_CACHE: join(home, 'cache', 'repository'),
  HELM_REGISTRY_CONFIG: join(home, 'config', 'registry.json'),
};

const repoDir = workdir('chart-repo');
let tgz: string;
let repo: StaticServer;
let registry: OciRegistry;

beforeAll(async () => {
  const r = await helmLocal(4, ['package', join(ROOT, 'chart', 'robustmq'), '-d', repoDir], { env: helmEnv });
  expect(r.code, r.stderr).toBe(0);
  tgz = join(repoDir, readdirSync(repoDir).find((f) => f.endsWith('.tgz'))!);
  repo = await startStaticServer(repoDir);
  const idx = await helmLocal(4, ['repo', 'index', repoDir, '--url', repo.url], { env: helmEnv });
  expect(idx.code, idx.stderr).toBe(0);
  registry = await startOciRegistry();
  const push = await helmLocal(4, ['push', tgz, `oci://${registry.host}/charts`, '--plain-http'], { env: helmEnv });
  expect(push.code, push.stderr).toBe(0);
});

afterAll(async () => {
  await repo?.stop();
  await registry?.stop();
});

describe('install from a chart repository (--repo-url)', () => {
  const ns = 'e2e-repo';
  const release = 'repo';
  afterAll(() => dropNamespace(ns));

  it('adds the repository under a private name and installs the packaged chart from it', async () => {
    const r = await cliExpect(0, ['--preset', 'dev', '--yes', '--skip-smoke', '-n', ns, '--release', release, '--chart', 'robustmq', '--repo-url', repo.url, '--chart-version', '0.1.0'], { cwd: workdir('repo'), env: helmEnv });
    expect(r.stderr).toMatch(/→ \S*helm install repo robustmq-install-[0-9a-f]{10}\/robustmq /);
    expect(r.stderr).toMatch(/--version 0\.1\.0/);
    expect(repo.requests).toContain('GET /index.yaml 200');
    expect(repo.requests.some((x) => /^GET \/robustmq-0\.1\.0\.tgz 200$/.test(x))).toBe(true);
    const live = await pods(ns, release);
    expect(live.length).toBe(1);
    expect(live.every(isReady)).toBe(true);
  });

  it('fails preflight for a chart version the repository does not have', async () => {
    const r = await cliExpect(3, ['--preset', 'dev', '--yes', '--skip-smoke', '-n', `${ns}-missing`, '--release', 'missing', '--chart', 'robustmq', '--repo-url', repo.url, '--chart-version', '9.9.9'], { cwd: workdir('repo-missing'), env: helmEnv });
    expect(r.stderr).toMatch(/FAIL render: helm template failed: .*9\.9\.9/);
  });
});

describe('install from OCI (--plain-http)', () => {
  const ns = 'e2e-oci';
  const release = 'oci';
  afterAll(() => dropNamespace(ns));

  it('installs oci://…/robustmq', async () => {
    const r = await cliExpect(0, ['--preset', 'dev', '--yes', '--skip-smoke', '-n', ns, '--release', release, '--chart', `oci://${registry.host}/charts/robustmq`, '--chart-version', '0.1.0', '--plain-http'], { cwd: workdir('oci'), env: helmEnv });
    expect(r.stderr).toMatch(/→ \S*helm install oci oci:\/\/127\.0\.0\.1:\d+\/charts\/robustmq .*--plain-http/);
    const live = await pods(ns, release);
    expect(live.length).toBe(1);
    expect(live.every(isReady)).toBe(true);
  });
});
