// One connection to the cluster per run: a single `kubectl proxy` on a unix socket, and Node's own http through it.
//
// Why kubectl proxy: it keeps every auth method a kubeconfig can hold (client certs, tokens, OIDC, exec plugins)
// without the CLI ever reading a credential. Why a unix socket in a private 0700 directory and never a TCP port: a
// port on loopback would lend the user's credentials to every local process; the socket is reachable only by this
// user. What the proxy cannot do: it rejects exec/attach paths by default, so `kubectl exec` (the RobustMQ check)
// still runs kubectl directly (src/shell/kube.ts).
//
// The proxy has no per-request timeout: every request here carries the CLI's own. A proxy that dies mid-run (Ctrl-C
// reaches it too: it shares the terminal's process group so an exec plugin can prompt there) is started again on
// the next request, a few times at most, then reported. It is stopped when the process exits, whatever the path.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { splitProxyStderrLine } from '../core/kube-api.js';

export interface ProxyOptions {
  kubectl: string;
  /** --kubeconfig/--context, as for every kubectl call */
  globalArgs: string[];
  env: Record<string, string | undefined>;
  /** where an exec plugin's own text (a login prompt, a device-code URL) is shown: the user's stderr */
  userStderr?: Writable;
  /** starts after the first are allowed before requests fail with the proxy's last words */
  maxRestarts?: number;
}

export interface ProxyResponse {
  status: number;
  body: string;
  rawHeaders: string[];
  /** the first attempt lost its connection (the proxy died): a create may have gone through before it did */
  retried?: boolean;
}

export class ProxyError extends Error {
  constructor(
    message: string,
    /** the request never reached the proxy (it is gone): safe to send again */
    readonly notSent: boolean,
    readonly detail = '',
    /** the connection broke mid-request: the proxy died, or a kept-alive socket was closed under it */
    readonly connectionLost = false,
  ) {
    super(message);
    this.name = 'ProxyError';
  }
}

const live = new Set<KubeProxy>();
let exitHook = false;
function stopAllAtExit(): void {
  for (const p of live) p.stop();
}

/** Unix sockets: everywhere but Windows (where the per-call kubectl path stays), and only with a short enough path. */
export function proxySupported(platform: NodeJS.Platform = process.platform, dir: string = tmpdir()): boolean {
  // sun_path holds 104 (macOS) to 108 (Linux) bytes; the socket lives at <dir>/robustmq-install-XXXXXX/proxy.sock
  return platform !== 'win32' && Buffer.byteLength(dir) + 40 < 104;
}

export class KubeProxy {
  private child: ChildProcess | undefined;
  private dir: string | undefined;
  /** the socket of the proxy started last: only its failure may start another */
  private sock: string | undefined;
  private ready: Promise<string> | undefined;
  private starts = 0;
  private lastWords = '';
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  /** why the proxy stopped, once it cannot be started again */
  private broken: string | undefined;

  constructor(private readonly o: ProxyOptions) {}

  /** The socket path, starting the proxy if it is not running. */
  socket(): Promise<string> {
    if (this.broken) return Promise.reject(new ProxyError(this.broken, true));
    if (!this.ready) {
      this.ready = this.start();
      this.ready.catch(() => {
        this.ready = undefined;
      });
    }
    return this.ready;
  }

  private start(): Promise<string> {
    this.starts++;
    if (this.starts > 1 + (this.o.maxRestarts ?? 3)) {
      this.broken = `kubectl proxy stopped ${this.starts - 1} times${this.lastWords ? `: ${this.lastWords}` : ''}`;
      return Promise.reject(new ProxyError(this.broken, true));
    }
    this.cleanDir();
    this.dir = mkdtempSync(join(tmpdir(), 'robustmq-install-'));
    chmodSync(this.dir, 0o700);
    const sock = join(this.dir, 'proxy.sock');
    this.sock = sock;
    if (!exitHook) {
      exitHook = true;
      process.once('exit', stopAllAtExit);
    }
    live.add(this);
    return new Promise<string>((resolve, reject) => {
      // stdin inherited: an exec plugin that asks for a login reads the user's terminal through kubectl
      const child = spawn(this.o.kubectl, [...this.o.globalArgs, 'proxy', `--unix-socket=${sock}`, '--keepalive=30s'], {
        stdio: ['inherit', 'pipe', 'pipe'],
        env: { ...process.env, ...this.o.env } as NodeJS.ProcessEnv,
      });
      this.child = child;
      // the proxy must not keep a finished CLI alive; 'exit' stops it
      child.unref();
      (child.stdout as unknown as { unref?: () => void }).unref?.();
      (child.stderr as unknown as { unref?: () => void }).unref?.();
      let settled = false;
      // also keeps the event loop alive while the unref'd child starts
      const startTimer = setTimeout(() => {
        fail(`kubectl proxy did not start within 30s${this.lastWords ? `: ${this.lastWords}` : ''}`);
        child.kill('SIGTERM');
      }, 30_000);
      const fail = (why: string) => {
        clearTimeout(startTimer);
        if (settled) return;
        settled = true;
        reject(new ProxyError(why, true));
      };
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (d: string) => {
        if (!settled && d.includes('Starting to serve on')) {
          settled = true;
          clearTimeout(startTimer);
          resolve(sock);
        }
      });
      this.followStderr(child);
      child.on('error', (e) => fail(/ENOENT/.test(e.message) ? `kubectl not found (${this.o.kubectl}): install kubectl or set ROBUSTMQ_INSTALL_KUBECTL` : `kubectl proxy failed to start: ${e.message}`));
      child.on('exit', (code, signal) => {
        if (this.child === child) {
          this.child = undefined;
          this.ready = undefined;
        }
        fail(`kubectl proxy exited (${signal ?? `exit ${code}`})${this.lastWords ? `: ${this.lastWords}` : ''}`);
      });
    });
  }

  private followStderr(child: ChildProcess): void {
    const out = this.o.userStderr;
    let partial = '';
    let timer: NodeJS.Timeout | undefined;
    const flushPartial = () => {
      timer = undefined;
      // a prompt ends without a newline: show it once it has sat there a moment and is not a log line
      if (partial && splitProxyStderrLine(partial).log === undefined) {
        out?.write(partial);
        partial = '';
      }
    };
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        const { user, log } = splitProxyStderrLine(line);
        if (user.trim()) out?.write(log === undefined ? `${user}\n` : user);
        if (log !== undefined) {
          const text = log.replace(/^[IWEF]\d{4} \S+\s+\d+ \S+\] /, '').replace(/^error: /, '');
          if (!/context canceled|Starting to serve/.test(text)) this.lastWords = text.slice(0, 300);
        }
      }
      if (timer) clearTimeout(timer);
      if (partial) timer = setTimeout(flushPartial, 50);
    });
  }

  /**
   * One HTTP request through the proxy. `timeoutMs` bounds the whole exchange (the proxy has no timeout of its own);
   * a request that could not be sent because the proxy is gone is sent once more after a restart.
   */
  async request(method: string, path: string, o: { body?: string; contentType?: string; accept?: string; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<ProxyResponse> {
    try {
      return await this.once(method, path, o);
    } catch (e) {
      if (!(e instanceof ProxyError) || this.broken || o.signal?.aborted) throw e;
      if (e.notSent) return this.once(method, path, o);
      if (e.connectionLost) {
        // let the child's exit be noticed, so the next attempt starts a new proxy rather than dialing a dead socket
        await new Promise((r) => setTimeout(r, 100));
        return { ...(await this.once(method, path, o)), retried: true };
      }
      throw e;
    }
  }

  private async once(method: string, path: string, o: { body?: string; contentType?: string; accept?: string; timeoutMs?: number; signal?: AbortSignal }): Promise<ProxyResponse> {
    const socketPath = await this.socket();
    const timeoutMs = o.timeoutMs ?? 20_000;
    return new Promise<ProxyResponse>((resolve, reject) => {
      const headers: Record<string, string> = { Accept: o.accept ?? 'application/json' };
      if (o.body !== undefined) {
        headers['Content-Type'] = o.contentType ?? 'application/json';
        headers['Content-Length'] = String(Buffer.byteLength(o.body));
      }
      const req = http.request({ socketPath, path, method, headers, agent: this.agent, signal: o.signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), rawHeaders: res.rawHeaders });
        });
        res.on('error', (e) => {
          clearTimeout(timer);
          reject(new ProxyError(`connection to kubectl proxy lost: ${e.message}`, false, '', true));
        });
      });
      const timer = setTimeout(() => req.destroy(new Error(`timed out after ${Math.round(timeoutMs / 1000)}s (no answer through kubectl proxy)`)), timeoutMs);
      req.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') {
          // The socket is gone: the proxy died between requests. A late error from a proxy already replaced must not
          // start yet another one (that removed the starting proxy's directory from under it).
          if (socketPath === this.sock) this.ready = undefined;
          reject(new ProxyError(`kubectl proxy is not running${this.lastWords ? ` (${this.lastWords})` : ''}`, true));
        } else if (e.name === 'AbortError') reject(new ProxyError('cancelled', false));
        else if (e.code === 'ECONNRESET' || e.code === 'EPIPE' || /socket hang up/.test(e.message)) reject(new ProxyError(`connection to kubectl proxy lost: ${e.message}`, false, '', true));
        else reject(new ProxyError(e.message, false));
      });
      req.end(o.body);
    });
  }

  /**
   * A streaming GET (a watch): `onData` gets the body as it arrives; resolves with the status when the server ends
   * the stream, rejects when the connection breaks. `idleMs` ends a stream that has gone silent (a proxy or server
   * that hangs without closing); the caller's abort ends it at once.
   */
  async stream(path: string, o: { onData: (chunk: string) => void; signal: AbortSignal; idleMs: number }): Promise<{ status: number; body: string }> {
    const socketPath = await this.socket();
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath, path, method: 'GET', headers: { Accept: 'application/json' }, agent: false, signal: o.signal }, (res) => {
        const status = res.statusCode ?? 0;
        let errBody = '';
        res.setEncoding('utf8');
        let idle = setTimeout(() => req.destroy(new Error('watch went silent')), o.idleMs);
        res.on('data', (c: string) => {
          clearTimeout(idle);
          idle = setTimeout(() => req.destroy(new Error('watch went silent')), o.idleMs);
          if (status >= 300) errBody += c;
          else o.onData(c);
        });
        res.on('end', () => {
          clearTimeout(idle);
          resolve({ status, body: errBody });
        });
        res.on('error', (e) => {
          clearTimeout(idle);
          reject(new ProxyError(e.message, false));
        });
        res.on('close', () => clearTimeout(idle));
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') {
          if (socketPath === this.sock) this.ready = undefined;
          reject(new ProxyError('kubectl proxy is not running', true));
        } else reject(new ProxyError(e.message, false));
      });
      req.end();
    });
  }

  /** Pid of the running proxy (tests, bench). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Synchronous, so it can run in the process's 'exit' handler. */
  stop(): void {
    this.broken ??= 'kubectl proxy stopped';
    const c = this.child;
    this.child = undefined;
    this.ready = undefined;
    if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    this.agent.destroy();
    this.cleanDir();
    live.delete(this);
  }

  private cleanDir(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}
