// The run's one connection (src/shell/kube-proxy.ts) with the real kubectl, no cluster: a kubeconfig whose server
// is a loopback port where nothing listens, and a real exec credential plugin (a shell script). What a cluster adds
// (reads, watches, dry-runs through it) is proven by test/e2e/kube-proxy.test.ts.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { KubeProxy } from '../../src/shell/kube-proxy.js';
import { Kube, KubeError } from '../../src/shell/kube.js';
import { kubectlPath } from '../support/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'rmq-proxy-'));
const kubectl = kubectlPath();

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const plugin = join(dir, 'login.sh');
// An exec plugin that "asks for a login" on stderr (no newline, like a prompt), then hands out a token.
writeFileSync(
  plugin,
  `#!/bin/sh\nprintf 'Password for test-user: ' >&2\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t"}}'\n`,
);
chmodSync(plugin, 0o755);

async function kubeconfig(): Promise<string> {
  const port = await freePort();
  const p = join(dir, `kubeconfig-${port}`);
  writeFileSync(
    p,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: `https://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
      users: [
        { name: 'token', user: { token: 'x' } },
        { name: 'plugin', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never' } } },
      ],
      contexts: [
        { name: 'token', context: { cluster: 'c', user: 'token' } },
        { name: 'plugin', context: { cluster: 'c', user: 'plugin' } },
      ],
      'current-context': 'token',
    }),
  );
  return p;
}

const proxies: KubeProxy[] = [];
function proxy(cfg: string, o: { context?: string; userStderr?: Writable; maxRestarts?: number } = {}): KubeProxy {
  const p = new KubeProxy({ kubectl, globalArgs: [`--kubeconfig=${cfg}`, ...(o.context ? [`--context=${o.context}`] : [])], env: {}, ...(o.userStderr ? { userStderr: o.userStderr } : {}), ...(o.maxRestarts !== undefined ? { maxRestarts: o.maxRestarts } : {}) });
  proxies.push(p);
  return p;
}
afterAll(() => proxies.forEach((p) => p.stop()));

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

describe('kubectl proxy on a private unix socket', () => {
  it('listens on a socket in a directory only this user can enter, never on a TCP port', async () => {
    const p = proxy(await kubeconfig());
    const sock = await p.socket();
    expect(statSync(dirname(sock)).mode & 0o777).toBe(0o700);
    expect(statSync(sock).isSocket()).toBe(true);
    const tcp = readFileSync('/proc/net/tcp', 'utf8') + (existsSync('/proc/net/tcp6') ? readFileSync('/proc/net/tcp6', 'utf8') : '');
    const inodes = spawnSync('ls', ['-l', `/proc/${p.pid}/fd`], { encoding: 'utf8' }).stdout.match(/socket:\[(\d+)\]/g)?.map((s) => s.slice(8, -1)) ?? [];
    const listening = tcp.split('\n').filter((l) => / 0A /.test(l) && inodes.some((i) => l.includes(` ${i} `)));
    expect(listening).toEqual([]);
    p.stop();
    expect(existsSync(dirname(sock))).toBe(false);
  });

  it('an unreachable API server reads as unreachable, with the dial error, within the request timeout', async () => {
    const kube = new Kube({ kubectl, kubeconfig: await kubeconfig(), transport: 'proxy' });
    proxies.push(kube.proxy!);
    const e = await kube.serverVersion().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KubeError);
    expect((e as KubeError).unreachable).toBe(true);
    expect((e as KubeError).stderr).toMatch(/connection refused/);
    kube.close();
  });

  it('a proxy that dies between requests is started again', async () => {
    const p = proxy(await kubeconfig());
    await p.request('GET', '/version');
    const first = p.pid!;
    process.kill(first, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    const r = await p.request('GET', '/version');
    expect(r.status).toBeGreaterThanOrEqual(500);
    expect(p.pid).toBeDefined();
    expect(p.pid).not.toBe(first);
  });

  it('a proxy killed under many requests in flight is started again once, and every request is answered', async () => {
    const p = proxy(await kubeconfig());
    await p.request('GET', '/version');
    const first = p.pid!;
    const dirs = new Set<string>();
    process.kill(first, 'SIGKILL');
    // sent before the CLI has noticed the exit: each fails on the dead socket, and their late failures must not
    // start more proxies (each new one removed the directory of the one still starting: "bind: no such file")
    const answers = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        await new Promise((r) => setTimeout(r, i % 4));
        const r = await p.request('GET', '/version');
        dirs.add(dirname(await p.socket()));
        return r.status;
      }),
    );
    expect(answers.every((s) => s >= 500)).toBe(true);
    expect(dirs.size).toBe(1);
    expect(p.pid).not.toBe(first);
  });

  it('one that keeps dying is reported, not waited for', async () => {
    const p = proxy(await kubeconfig(), { maxRestarts: 1 });
    for (let i = 0; i < 2; i++) {
      await p.socket();
      const pid = p.pid!;
      process.kill(pid, 'SIGKILL');
      while (alive(pid)) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 50));
    }
    await expect(p.request('GET', '/version')).rejects.toThrow(/kubectl proxy stopped/);
  });

  it('a proxy that cannot start says why (an unknown context)', async () => {
    const p = proxy(await kubeconfig(), { context: 'no-such-context' });
    await expect(p.socket()).rejects.toThrow(/no-such-context/);
  });

  it("an exec plugin's prompt reaches the user's stderr; the proxy's own log lines do not", async () => {
    let shown = '';
    const userStderr = new Writable({
      write(chunk, _enc, cb) {
        shown += String(chunk);
        cb();
      },
    });
    const p = proxy(await kubeconfig(), { context: 'plugin', userStderr });
    await p.request('GET', '/version');
    await new Promise((r) => setTimeout(r, 300));
    expect(shown).toContain('Password for test-user: ');
    expect(shown).not.toMatch(/proxy_server\.go|Error while proxying/);
  });

  it('is stopped when the process exits, whatever the path', async () => {
    const script = join(dir, 'exits.mts');
    writeFileSync(
      script,
      `import { KubeProxy } from ${JSON.stringify(join(import.meta.dirname, '../../src/shell/kube-proxy.ts'))};
const p = new KubeProxy({ kubectl: ${JSON.stringify(kubectl)}, globalArgs: ['--kubeconfig=${join(dir, 'none')}'], env: {} });
const sock = await p.socket();
console.log(JSON.stringify({ pid: p.pid, sock }));
if (process.argv[2] === 'throw') throw new Error('crash');
process.exit(3);
`,
    );
    writeFileSync(join(dir, 'none'), JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }], users: [{ name: 'u', user: { token: 'x' } }], contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }], 'current-context': 'c' }));
    for (const how of ['exit', 'throw']) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', script, how], { encoding: 'utf8', cwd: join(import.meta.dirname, '../..') });
      const { pid, sock } = JSON.parse(r.stdout.trim().split('\n')[0]!) as { pid: number; sock: string };
      // SIGTERM is sent as the CLI exits; kubectl itself takes a moment to go (longer on a loaded machine)
      for (const until = Date.now() + 10_000; alive(pid) && Date.now() < until; ) await new Promise((res) => setTimeout(res, 20));
      expect(alive(pid), how).toBe(false);
      expect(existsSync(dirname(sock)), how).toBe(false);
    }
  });
});
