// One connection to the cluster per run (src/shell/kube.ts, src/shell/kube-proxy.ts), on the real control plane: the
// CLI's kubectl is a wrapper that logs each start and then runs the real kubectl, so what the CLI spawned is on record.
import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ANNOTATIONS } from '../support/controlplane.ts';
import { Kube } from '../../src/shell/kube.js';
import { CONTEXTS } from '../support/controlplane.ts';
import { kubectlPath, helmPath } from '../support/tools.ts';
import { BIN, cliExpect, controlPlane, dropNamespace, eventually, kubectl, startCli, workdir } from './cli.ts';

const cwd = workdir('proxy');
const delayKey = `combined.podAnnotations.${ANNOTATIONS.readyDelay.replace(/\./g, '\\.')}`;
const namespaces: string[] = [];
afterAll(async () => {
  for (const ns of namespaces) await dropNamespace(ns);
});

let wrappers = 0;
/** A kubectl that writes "<pid> <argv>" to a log before it becomes the real kubectl (exec keeps the pid). */
function loggingKubectl(): { path: string; starts: () => { pid: number; args: string }[] } {
  const n = ++wrappers;
  const log = join(cwd, `kubectl-${n}.log`);
  writeFileSync(log, '');
  const path = join(cwd, `kubectl-${n}.sh`);
  writeFileSync(path, `#!/bin/sh\necho "$$ $*" >> '${log}'\nexec '${kubectlPath()}' "$@"\n`);
  chmodSync(path, 0o755);
  return {
    path,
    starts: () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => ({ pid: Number(l.slice(0, l.indexOf(' '))), args: l.slice(l.indexOf(' ') + 1) })),
  };
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
const socketDir = (args: string) => /--unix-socket=(\S+)\/proxy\.sock/.exec(args)?.[1];

describe('one kubectl proxy per run', () => {
  it('an install reads, checks permissions, dry-runs and watches through one proxy; only the offline kubeconfig read is another kubectl', async () => {
    const ns = 'e2e-proxy-one';
    namespaces.push(ns);
    const k = loggingKubectl();
    const r = await cliExpect(0, ['install', '--preset', 'dev', '--yes', '--skip-smoke', '-n', ns], { cwd, env: { ROBUSTMQ_INSTALL_KUBECTL: k.path } });
    expect(r.stderr).toMatch(/ok {3}rbac: all \d+ permissions allowed/);
    expect(r.stderr).toMatch(/ok {3}server-dry-run: \d+ objects accepted/);
    expect(r.stderr).toMatch(/✔ pods: combined 1\/1 Ready/);
    const starts = k.starts();
    const proxies = starts.filter((s) => / proxy --unix-socket=/.test(s.args));
    expect(proxies).toHaveLength(1);
    expect(starts.filter((s) => !/ proxy --unix-socket=/.test(s.args)).map((s) => s.args.replace(/^--kubeconfig=\S+ /, ''))).toEqual(['config view --minify -o json']);
    // stopped, and its private directory gone, once the CLI has exited
    expect(alive(proxies[0]!.pid)).toBe(false);
    expect(existsSync(socketDir(proxies[0]!.args)!)).toBe(false);
  });

  it('a list longer than a page comes back whole through the proxy (the server\'s continue tokens), slimmed item by item', async () => {
    const ns = 'e2e-proxy-pages';
    namespaces.push(ns);
    await kubectl(['create', 'namespace', ns]);
    // 600 objects: three pages of 250 (src/shell/kube.ts LIST_PAGE), the last one partial
    const names = Array.from({ length: 600 }, (_, i) => `bulk-${String(i).padStart(3, '0')}`);
    const items = names.map((name) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { bulk: 'yes' } }, data: { payload: 'x'.repeat(200) } }));
    await kubectl(['-n', ns, 'create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
    const kube = new Kube({ kubectl: kubectlPath(), kubeconfig: controlPlane().kubeconfig, context: CONTEXTS.admin, transport: 'proxy' });
    try {
      expect(kube.proxy).toBeDefined();
      const all = await kube.list<{ metadata: { name: string; managedFields?: unknown }; data?: Record<string, string> }>('configmaps', { namespace: ns, selector: 'bulk=yes' });
      expect(all.map((c) => c.metadata.name).sort()).toEqual(names);
      expect(all.filter((c) => c.metadata.managedFields !== undefined)).toEqual([]);
      expect(all[0]!.data?.payload).toHaveLength(200);
      const kept = await kube.list<{ metadata: { name: string } }>('configmaps', { namespace: ns, selector: 'bulk=yes', keep: (c) => ({ metadata: { name: c.metadata.name } }) });
      expect(kept).toHaveLength(600);
      expect(kept.every((c) => Object.keys(c).length === 1 && Object.keys(c.metadata).length === 1)).toBe(true);
      // a watch's first list pages the same way, and every object arrives as ADDED
      const added: string[] = [];
      const w = kube.watch<{ metadata: { name: string } }>('configmaps', { namespace: ns, selector: 'bulk=yes', onChange: (type, o) => type === 'ADDED' && added.push(o.metadata.name) });
      await eventually('600 ADDED events', async () => added.length === 600, 60_000);
      await w.stop();
      expect([...added].sort()).toEqual(names);
    } finally {
      kube.close();
    }
  });

  it('a proxy killed mid-run is started again and the run completes', async () => {
    const ns = 'e2e-proxy-killed';
    namespaces.push(ns);
    const k = loggingKubectl();
    const run = startCli(['install', '--preset', 'dev', '--yes', '--skip-smoke', '-n', ns, '--set', `${delayKey}=4s`], { cwd, env: { ROBUSTMQ_INSTALL_KUBECTL: k.path } });
    await eventually('helm to be running', async () => /^→ .*helm install /m.test(run.stderrSoFar()));
    const first = k.starts().find((s) => / proxy /.test(s.args))!;
    process.kill(first.pid, 'SIGKILL');
    const r = await run.result;
    expect(r.stderr).toMatch(/✔ pods: combined 1\/1 Ready/);
    expect(r.code).toBe(0);
    const proxies = k.starts().filter((s) => / proxy /.test(s.args));
    expect(proxies.length).toBeGreaterThanOrEqual(2);
    for (const p of proxies) expect(alive(p.pid)).toBe(false);
  });

  it('a proxy killed as soon as it has started (facts, preflight in flight) is started again; requests in flight are sent again', async () => {
    const ns = 'e2e-proxy-killed-early';
    namespaces.push(ns);
    const k = loggingKubectl();
    const run = startCli(['install', '--preset', 'dev', '--yes', '--skip-smoke', '-n', ns], { cwd, env: { ROBUSTMQ_INSTALL_KUBECTL: k.path } });
    const first = await eventually('the proxy to start', async () => k.starts().find((s) => / proxy /.test(s.args)), 60_000);
    process.kill(first.pid, 'SIGKILL');
    const r = await run.result;
    expect(r.stderr).toMatch(/✔ pods: combined 1\/1 Ready/);
    expect(r.code).toBe(0);
    for (const p of k.starts().filter((s) => / proxy /.test(s.args))) expect(alive(p.pid)).toBe(false);
  });

  it('Ctrl-C at the terminal (SIGINT to the whole process group) leaves no proxy behind', async () => {
    const ns = 'e2e-proxy-ctrlc';
    namespaces.push(ns);
    const k = loggingKubectl();
    const cp = controlPlane();
    // its own process group, as a shell gives a foreground job, so the signal reaches the proxy too
    const child = spawn(process.execPath, [BIN, 'install', '--preset', 'dev', '--yes', '--skip-smoke', '-n', ns, '--set', `${delayKey}=10m`, '--timeout', '8m', '--kubeconfig', cp.kubeconfig, '--helm', helmPath(4)], {
      cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KUBECONFIG: cp.kubeconfig, ROBUSTMQ_INSTALL_KUBECTL: k.path, NO_COLOR: '1', CI: '1' },
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.stdout.resume();
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await eventually('the pod watch to be under way', async () => /pods: combined 0\/1 Ready/.test(stderr));
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited).toBe(130);
    appendFileSync(join(cwd, 'ctrlc.stderr'), stderr);
    const proxies = k.starts().filter((s) => / proxy /.test(s.args));
    expect(proxies.length).toBeGreaterThanOrEqual(1);
    for (const p of proxies) {
      expect(alive(p.pid)).toBe(false);
      expect(existsSync(socketDir(p.args)!)).toBe(false);
    }
  });

  it('an exec credential plugin works through the proxy', async () => {
    const r = await cliExpect(0, ['preflight', '--preset', 'dev', '--kube-context', 'exec', '-n', 'e2e-proxy-exec'], { cwd });
    expect(r.stderr).toMatch(/ok {3}rbac: all \d+ permissions allowed/);
  });

  it('ROBUSTMQ_INSTALL_KUBE_TRANSPORT=kubectl keeps the per-call path (what Windows uses) working end to end', async () => {
    const ns = 'e2e-proxy-percall';
    namespaces.push(ns);
    const k = loggingKubectl();
    const r = await cliExpect(0, ['install', '--preset', 'dev', '--yes', '--skip-smoke', '-n', ns], { cwd, env: { ROBUSTMQ_INSTALL_KUBECTL: k.path, ROBUSTMQ_INSTALL_KUBE_TRANSPORT: 'kubectl' } });
    expect(r.stderr).toMatch(/✔ pods: combined 1\/1 Ready/);
    const starts = k.starts();
    expect(starts.some((s) => / proxy /.test(s.args))).toBe(false);
    expect(starts.some((s) => / get pods .*-w/.test(s.args))).toBe(true);
  });
});

describe('progress at scale without a TTY', () => {
  it('one line per role when its count or reasons change, never one per pod', async () => {
    const ns = 'e2e-proxy-scale';
    namespaces.push(ns);
    const brokers = 60;
    const sets = [
      'topology=split',
      'meta.replicaCount=1',
      'engine.replicaCount=1',
      `broker.replicaCount=${brokers}`,
      ...['meta', 'broker', 'engine'].flatMap((r) => [`${r}.persistence.enabled=false`, `${r}.resources.requests.cpu=10m`, `${r}.resources.requests.memory=16Mi`]),
    ].flatMap((s) => ['--set', s]);
    const r = await cliExpect(0, ['install', '--preset', 'dev', '--yes', '--skip-smoke', '-n', ns, ...sets], { cwd });
    const progress = r.stderr.split('\n').filter((l) => /^ {2}pods: /.test(l));
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.length).toBeLessThan(brokers);
    for (const l of progress) expect(l).toMatch(/^ {2}pods: (waiting for the StatefulSets|(meta|broker|engine) \d+\/\d+ Ready)/);
    expect(progress.filter((l) => / broker /.test(l) || /pods: broker/.test(l)).every((l) => !/robustmq-broker-\d+:/.test(l))).toBe(true);
    expect(r.stderr).toMatch(new RegExp(`✔ pods: meta 1/1 Ready, broker ${brokers}/${brokers} Ready, engine 1/1 Ready`));
  });
});
