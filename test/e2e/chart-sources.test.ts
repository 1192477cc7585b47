// Proves the two chart sources the e2e scenarios use work with both helm majors: a chart repository served by
// startStaticServer (helm package + helm repo index) and an OCI registry from startOciRegistry (helm push --plain-http).
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOciRegistry, startStaticServer, type OciRegistry, type StaticServer } from '../support/servers.ts';
import { helmBinaries } from '../support/tools.ts';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
    ),
  );
}

let work: string;
let repo: StaticServer;
let registry: OciRegistry;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'robustmq-chart-sources-'));
  const chart = path.join(work, 'src', 'demo');
  await mkdir(path.join(chart, 'templates'), { recursive: true });
  await writeFile(path.join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: demo\nversion: 0.1.0\nkubeVersion: ">=1.25.0-0"\n');
  await writeFile(path.join(chart, 'values.yaml'), 'greeting: hello\n');
  await writeFile(path.join(chart, 'templates', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\ndata:\n  greeting: {{ .Values.greeting }}\n');
  await mkdir(path.join(work, 'repo'));
  repo = await startStaticServer(path.join(work, 'repo'));
  registry = await startOciRegistry();
});

afterAll(async () => {
  await repo?.stop();
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

describe.each(helmBinaries())('chart sources with helm $major', ({ major, path: helm }) => {
  // Each helm major gets its own config/cache, so nothing leaks from the user's helm setup or between majors.
  const env = () => ({
    HELM_CONFIG_HOME: path.join(work, `helm${major}`, 'config'),
    HELM_CACHE_HOME: path.join(work, `helm${major}`, 'cache'),
    HELM_DATA_HOME: path.join(work, `helm${major}`, 'data'),
  });

  it('pulls the packaged chart from the static chart repository', async () => {
    const repoDir = path.join(work, 'repo');
    await run(helm, ['package', path.join(work, 'src', 'demo'), '--destination', repoDir], env());
    await run(helm, ['repo', 'index', repoDir, '--url', repo.url], env());
    const out = path.join(work, `pulled-repo-${major}`);
    await mkdir(out);
    await run(helm, ['pull', 'demo', '--repo', repo.url, '--version', '0.1.0', '--destination', out], env());
    expect(await readdir(out)).toEqual(['demo-0.1.0.tgz']);
    expect(repo.requests).toContain('GET /index.yaml 200');
    expect(repo.requests).toContain('GET /demo-0.1.0.tgz 200');
  });

  it('pushes the chart to the OCI registry with --plain-http and reads it back', async () => {
    const pkgDir = path.join(work, `pkg-${major}`);
    await run(helm, ['package', path.join(work, 'src', 'demo'), '--destination', pkgDir], env());
    const pushed = await run(helm, ['push', path.join(pkgDir, 'demo-0.1.0.tgz'), `oci://${registry.host}/charts${major}`, '--plain-http'], env()).catch(
      (e: Error) => e.message,
    );
    expect(pushed).not.toMatch(/error/i);
    const shown = await run(helm, ['show', 'chart', `oci://${registry.host}/charts${major}/demo`, '--version', '0.1.0', '--plain-http'], env());
    expect(shown).toContain('name: demo');
    const tpl = await run(helm, ['template', 'x', `oci://${registry.host}/charts${major}/demo`, '--version', '0.1.0', '--plain-http'], env());
    expect(tpl).toContain('greeting: hello');
  });
});
