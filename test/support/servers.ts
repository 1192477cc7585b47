// Two real services the e2e suite serves charts from, both on 127.0.0.1 at a port picked at run time:
//   startStaticServer(dir)  a plain HTTP file server, for a helm chart repository (helm package + helm repo index)
//   startOciRegistry()      Debian's docker-registry (distribution 2.8) with a temp storage dir, an OCI registry
//                           for `helm push --plain-http` and `--chart oci://...` (scripts/install-system-deps.sh
//                           installs it)
// Both return { url, stop() }; stop() frees the port and, for the registry, kills it and removes its storage.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createReadStream, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface StaticServer {
  /** e.g. http://127.0.0.1:41234 (no trailing slash) */
  url: string;
  port: number;
  /** Paths requested so far ("GET /index.yaml 200"), to prove a download went through this server. */
  requests: string[];
  stop(): Promise<void>;
}

const contentTypes: Record<string, string> = {
  '.yaml': 'application/x-yaml',
  '.yml': 'application/x-yaml',
  '.tgz': 'application/gzip',
  '.gz': 'application/gzip',
  '.json': 'application/json',
  '.prov': 'text/plain',
  '.txt': 'text/plain',
};

/** Serves the files under dir (read at request time, so files may be added after start). */
export async function startStaticServer(dir: string): Promise<StaticServer> {
  const root = path.resolve(dir);
  const requests: string[] = [];
  const server = http.createServer(async (req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = path.resolve(root, '.' + urlPath);
    const done = (code: number) => requests.push(`${req.method} ${urlPath} ${code}`);
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !file.startsWith(root + path.sep)) {
      res.writeHead(req.method === 'GET' || req.method === 'HEAD' ? 403 : 405).end();
      return done(res.statusCode);
    }
    try {
      const st = await stat(file);
      if (!st.isFile()) throw new Error('not a file');
      res.writeHead(200, { 'content-type': contentTypes[path.extname(file)] ?? 'application/octet-stream', 'content-length': st.size });
      done(200);
      if (req.method === 'HEAD') return void res.end();
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      done(404);
    }
  });
  await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface OciRegistry {
  /** host:port, e.g. 127.0.0.1:41235: use as oci://<host>/<path> with --plain-http */
  host: string;
  /** http://host:port */
  url: string;
  dir: string;
  stop(): Promise<void>;
}

export function dockerRegistryPath(): string {
  const p = process.env.DOCKER_REGISTRY_BIN ?? '/usr/bin/docker-registry';
  if (!existsSync(p)) throw new Error(`${p} not found: run scripts/install-system-deps.sh (Debian package docker-registry)`);
  return p;
}

/** Starts docker-registry on 127.0.0.1 (no auth, plain HTTP, storage in a temp dir) and waits until /v2/ answers. */
export async function startOciRegistry(opts: { timeoutMs?: number } = {}): Promise<OciRegistry> {
  const bin = dockerRegistryPath();
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRegistryOnce(bin, opts.timeoutMs ?? 30_000);
    } catch (err) {
      // The port was free when picked but another process may take it before the registry binds it.
      if (attempt >= 3 || !/address already in use/i.test(String(err))) throw err;
    }
  }
}

async function startRegistryOnce(bin: string, timeoutMs: number): Promise<OciRegistry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'robustmq-oci-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = path.join(dir, 'config.yml');
  // Our own config: the packaged /etc/docker/registry/config.yml turns on htpasswd auth and listens on :5000.
  await writeFile(
    config,
    [
      'version: 0.1',
      'log: { level: warn, accesslog: { disabled: true }, fields: { service: registry } }',
      `storage: { filesystem: { rootdirectory: ${JSON.stringify(path.join(dir, 'storage'))} }, delete: { enabled: true } }`,
      `http: { addr: ${JSON.stringify(host)}, headers: { X-Content-Type-Options: [nosniff] } }`,
      '',
    ].join('\n'),
  );
  const logFile = path.join(dir, 'registry.log');
  const fd = openSync(logFile, 'a');
  const child: ChildProcess = spawn(bin, ['serve', config], { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, OTEL_TRACES_EXPORTER: 'none' } });
  closeSync(fd);
  // If this process dies without stop(), a detached watchdog kills the registry and removes its storage.
  if (child.pid) {
    const script = 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; kill -TERM "-$2" 2>/dev/null; sleep 2; kill -KILL "-$2" 2>/dev/null; rm -rf "$3"';
    const watchdog = spawn('sh', ['-c', script, 'robustmq-oci-watchdog', String(process.pid), String(child.pid), dir], { detached: true, stdio: 'ignore' });
    watchdog.unref();
    child.once('exit', () => {
      try {
        if (watchdog.pid) process.kill(watchdog.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    });
  }
  let exited = false;
  child.on('exit', () => (exited = true));
  child.on('error', () => (exited = true));

  const stop = async () => {
    if (!exited && child.pid) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      const t = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 3_000);
      await gone;
      clearTimeout(t);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (exited) throw new Error(`docker-registry exited: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
      if ((await probe(`http://${host}/v2/`)) === 200) break;
      if (Date.now() > deadline) throw new Error(`docker-registry did not answer on ${host}: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { host, url: `http://${host}`, dir, stop };
}

function probe(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve, reject) => s.listen(0, '127.0.0.1', resolve).once('error', reject));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}
