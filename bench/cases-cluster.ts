// Cases on the local control plane (test/support/controlplane.ts): time to a Ready cluster through the CLI against
// raw helm (P3), how fast the CLI notices health (P4), and the health watch at scale (P5).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stats } from './lib.ts';
import type { CaseResult } from './cases-local.ts';

const root = new URL('..', import.meta.url).pathname;
const cli = join(root, 'bin', 'robustmq-install.js');
const chart = join(root, 'chart', 'robustmq');

export interface Cluster {
  kubeconfig: string;
  helm4: string;
  kubectl: string;
}

let seq = 0;
const freshNamespace = (tag: string) => `bench-${tag}-${process.pid % 10000}-${++seq}`;

interface Line {
  at: number;
  text: string;
}

interface Run {
  code: number;
  lines: Line[];
  startedAt: number;
  endedAt: number;
  /** the CLI's own CPU (user+sys) and peak RSS, sampled from /proc until it exits */
  ownCpuMs: number;
  ownMaxRssKb: number;
  /** the CLI's whole process tree but helm: its own CPU, its reaped children's (minus helm's), the live proxy's */
  treeCpuMs: number;
  /** the kubectl proxy's CPU and peak RSS (0 when none ran) */
  proxyCpuMs: number;
  proxyMaxRssKb: number;
}

const now = () => performance.timeOrigin + performance.now();
const CLK_TCK = 100;

// Samples /proc/<pid> so the figures are the CLI's own, without the helm and kubectl processes it starts.
function sampleProc(pid: number, into: { cpuMs: number; rssKb: number; childCpuMs?: number }): void {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    into.cpuMs = ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
    into.childCpuMs = ((Number(f[13]) + Number(f[14])) * 1000) / CLK_TCK;
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (hwm) into.rssKb = Number(hwm[1]);
  } catch {
    // the process has exited between samples
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(' ').map(Number));
    }
  } catch {
    // gone
  }
  return out;
}

/**
 * The CLI's descendants by pid, with their latest CPU: helm's (to take out of the CLI's reaped-children CPU, since
 * helm is the baseline's own work) and the proxy's (never reaped by the CLI: the exit handler kills it).
 */
class TreeSampler {
  readonly helm = new Map<number, number>();
  readonly proxy = new Map<number, { cpuMs: number; rssKb: number }>();
  sample(root: number): void {
    const stack = childrenOf(root);
    while (stack.length) {
      const pid = stack.pop()!;
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      } catch {
        continue;
      }
      const u: { cpuMs: number; rssKb: number; childCpuMs?: number } = { cpuMs: 0, rssKb: 0 };
      sampleProc(pid, u);
      if (/(^|\/)helm$/.test(cmd.split(' ')[0] ?? '')) this.helm.set(pid, u.cpuMs + (u.childCpuMs ?? 0));
      else if (/ proxy --unix-socket=/.test(cmd)) this.proxy.set(pid, { cpuMs: Math.max(u.cpuMs, this.proxy.get(pid)?.cpuMs ?? 0), rssKb: Math.max(u.rssKb, this.proxy.get(pid)?.rssKb ?? 0) });
      stack.push(...childrenOf(pid));
    }
  }
}

function runTimed(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const lines: Line[] = [];
    const startedAt = now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const usage: { cpuMs: number; rssKb: number; childCpuMs?: number } = { cpuMs: 0, rssKb: 0 };
    const tree = new TreeSampler();
    const sampler = setInterval(() => sampleProc(child.pid!, usage), 20);
    const treeSampler = setInterval(() => tree.sample(child.pid!), 50);
    for (const s of [child.stdout, child.stderr]) {
      let buf = '';
      s.setEncoding('utf8');
      s.on('data', (c: string) => {
        const at = now();
        buf += c;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          lines.push({ at, text: buf.slice(0, i) });
          buf = buf.slice(i + 1);
        }
      });
    }
    child.on('error', reject);
    // 'exit' fires before the pipes close: take a last sample while /proc still has the zombie's counters.
    child.on('exit', () => sampleProc(child.pid!, usage));
    child.on('close', (code) => {
      clearInterval(sampler);
      clearInterval(treeSampler);
      const helmCpu = [...tree.helm.values()].reduce((a, b) => a + b, 0);
      const proxyCpu = [...tree.proxy.values()].reduce((a, b) => a + b.cpuMs, 0);
      const proxyRss = Math.max(0, ...[...tree.proxy.values()].map((p) => p.rssKb));
      const treeCpuMs = usage.cpuMs + Math.max(0, (usage.childCpuMs ?? 0) - helmCpu) + proxyCpu;
      resolve({ code: code ?? -1, lines, startedAt, endedAt: now(), ownCpuMs: usage.cpuMs, ownMaxRssKb: usage.rssKb, treeCpuMs, proxyCpuMs: proxyCpu, proxyMaxRssKb: proxyRss });
    });
  });
}

function kubectl(c: Cluster, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(c.kubectl, ['--kubeconfig', c.kubeconfig, '--context', 'admin', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`kubectl ${args.join(' ')}: ${err}`))));
  });
}

// A separate watcher process, a plain `kubectl get pods -w -o json` of the same pods: the receive time of the event
// in which the last expected pod became Ready (P4), and its own CPU and peak RSS (P5's baseline).
class ReadyWatcher {
  private child!: ChildProcess;
  private ready = new Set<string>();
  /** CPU of instances that have exited, plus the live one's latest sample */
  private doneCpuMs = 0;
  private usage = { cpuMs: 0, rssKb: 0 };
  private peakRssKb = 0;
  private sampler: NodeJS.Timeout | undefined;
  private exited!: Promise<void>;
  private stopping = false;
  allReadyAt: number | undefined;
  events = 0;
  /** times the API server dropped its watch (kubectl get -w then exits) and it was started again */
  restarts = 0;
  constructor(private c: Cluster, private namespace: string, private expected: number) {
    this.spawn();
  }
  private spawn(): void {
    const child = spawn(this.c.kubectl, ['--kubeconfig', this.c.kubeconfig, '--context', 'admin', '-n', this.namespace, 'get', 'pods', '-w', '-o', 'json', '-l', 'app.kubernetes.io/name=robustmq'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.child = child;
    const pid = child.pid!;
    const sample = () => {
      sampleProc(pid, this.usage);
      this.peakRssKb = Math.max(this.peakRssKb, this.usage.rssKb);
    };
    clearInterval(this.sampler);
    this.usage = { cpuMs: 0, rssKb: 0 };
    this.sampler = setInterval(sample, 50);
    this.exited = new Promise((resolve) =>
      child.on('exit', () => {
        sample();
        this.doneCpuMs += this.usage.cpuMs;
        this.usage = { cpuMs: 0, rssKb: 0 };
        // dropped before it saw every pod Ready: a user would run it again; so does the baseline, counting both
        if (!this.stopping && this.allReadyAt === undefined) {
          this.restarts++;
          this.spawn();
        }
        resolve();
      }),
    );
    child.stdout!.setEncoding('utf8');
    // plain -o json: each object pretty-printed (4-space indent, sorted keys), its closing brace alone on a line.
    // Read with searches, not a parse of every object: this reader must never be why kubectl waits on a full pipe
    // (the API server drops a watch whose client falls behind), since kubectl's CPU is the baseline.
    let buf = '';
    child.stdout!.on('data', (chunk: string) => {
      const at = now();
      buf += chunk;
      let end: number;
      let from = 0;
      while ((end = buf.indexOf('\n}\n', from)) >= 0) {
        this.onPod(buf.slice(from, end + 2), at);
        from = end + 3;
      }
      buf = buf.slice(from);
    });
  }
  private onPod(text: string, at: number): void {
    this.events++;
    const name = /\n {8}"name": "([^"]+)"/.exec(text)?.[1];
    if (!name) return;
    const restart = /"restartPolicy": "(\w+)"/.exec(text)?.[1];
    if (restart && restart !== 'Always') return; // helm test pods are not members
    const isReady = !/\n {8}"deletionTimestamp"/.test(text) && /"status": "True",\s+"type": "Ready"/.test(text);
    if (isReady) this.ready.add(name);
    else this.ready.delete(name);
    if (this.allReadyAt === undefined && this.ready.size >= this.expected) this.allReadyAt = at;
  }
  /**
   * Stops the watcher once it has seen every pod Ready (it may lag behind the CLI, printing under load: stopping it
   * earlier would count only part of its work), or after `graceMs`. Its CPU (every instance) and peak RSS.
   */
  async stop(graceMs = 60_000): Promise<{ cpuMs: number; rssKb: number; complete: boolean; restarts: number }> {
    const until = now() + graceMs;
    while (this.allReadyAt === undefined && now() < until) await new Promise((r) => setTimeout(r, 50));
    this.stopping = true;
    sampleProc(this.child.pid!, this.usage);
    this.child.kill('SIGTERM');
    await this.exited;
    clearInterval(this.sampler);
    return { cpuMs: this.doneCpuMs, rssKb: this.peakRssKb, complete: this.allReadyAt !== undefined, restarts: this.restarts };
  }
}

interface Pod {
  metadata: { name: string; deletionTimestamp?: string };
  spec?: { restartPolicy?: string };
  status?: { conditions?: { type: string; status: string }[] };
}

interface Scenario {
  name: string;
  /** dev | prod: the ratio rows' names */
  short?: string;
  args: string[];
  pods: number;
  timeout?: string;
}

export const SCENARIOS: Record<'dev' | 'prodSplit', Scenario> = {
  dev: { name: 'dev (combined ×1)', short: 'dev', args: ['--preset', 'dev'], pods: 1 },
  prodSplit: { name: 'prod split (3+3+3)', short: 'prod', args: ['--preset', 'prod', '--kube-context', 'admin'], pods: 9 },
};

function cliArgs(c: Cluster, s: Scenario, ns: string, valuesOut: string, extra: string[] = []): string[] {
  return [cli, 'install', ...s.args, '--yes', '--skip-smoke', '-n', ns, '--kubeconfig', c.kubeconfig, '--helm', c.helm4, '--values-out', valuesOut, '--timeout', s.timeout ?? '5m', ...extra];
}

const HEALTHY = /^✔ pods: /;
const HELM_START = /^→ .*\bhelm (install|upgrade) /;

export interface CliInstall {
  run: Run;
  ns: string;
  valuesOut: string;
  helmStartAt: number;
  healthyAt: number;
  watcher: ReadyWatcher;
  /** the separate `kubectl get pods -w -o json` over the same run */
  watcherUsage: { cpuMs: number; rssKb: number; complete: boolean; restarts: number };
}

async function cliInstall(c: Cluster, s: Scenario, work: string, extra: string[] = []): Promise<CliInstall> {
  const ns = freshNamespace('cli');
  const valuesOut = join(work, `${ns}.yaml`);
  const watcher = new ReadyWatcher(c, ns, s.pods);
  const run = await runTimed(process.execPath, cliArgs(c, s, ns, valuesOut, extra), { ...process.env, KUBECONFIG: c.kubeconfig, ROBUSTMQ_INSTALL_KUBECTL: c.kubectl, CI: 'true' });
  const watcherUsage = await watcher.stop();
  if (run.code !== 0) throw new Error(`CLI install exited ${run.code}:\n${run.lines.map((l) => l.text).join('\n')}`);
  const helmStart = run.lines.find((l) => HELM_START.test(l.text));
  const healthy = run.lines.find((l) => HEALTHY.test(l.text));
  if (!helmStart || !healthy) throw new Error(`CLI output lacks the helm-start or healthy line:\n${run.lines.map((l) => l.text).join('\n')}`);
  return { run, ns, valuesOut, helmStartAt: helmStart.at, healthyAt: healthy.at, watcher, watcherUsage };
}

async function rawHelmInstall(c: Cluster, valuesFile: string, credentialsFrom: string): Promise<number> {
  const ns = freshNamespace('raw');
  // the same credentials Secret the CLI made, so the raw install gets identical objects (not timed)
  await kubectl(c, ['create', 'namespace', ns]);
  const secret = JSON.parse(await kubectl(c, ['-n', credentialsFrom, 'get', 'secret', 'robustmq-credentials', '-o', 'json'])) as { data: Record<string, string> };
  const literal = Object.entries(secret.data).map(([k, v]) => `--from-literal=${k}=${Buffer.from(v, 'base64').toString()}`);
  await kubectl(c, ['-n', ns, 'create', 'secret', 'generic', 'robustmq-credentials', ...literal]);
  const run = await runTimed(c.helm4, ['upgrade', '--install', 'robustmq', chart, '-n', ns, '-f', valuesFile, '--wait=watcher', '--timeout', '5m'], { ...process.env, KUBECONFIG: c.kubeconfig });
  if (run.code !== 0) throw new Error(`raw helm exited ${run.code}: ${run.lines.map((l) => l.text).join('\n')}`);
  const ms = run.endedAt - run.startedAt;
  await drained(c, ns);
  return ms;
}

const cleanup = (c: Cluster, ns: string) => void kubectl(c, ['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
/**
 * Deletes a measured namespace and waits until it is gone (not timed): a teardown still running (pods, PVCs, PVs
 * garbage-collected) loads the API server under the next measurement, and hits the side with more API calls harder.
 */
const drained = (c: Cluster, ns: string) => kubectl(c, ['delete', 'namespace', ns, '--wait=true', '--timeout=180s']).then(() => undefined, () => undefined);

export async function p3p4TimeToReady(c: Cluster, rounds: number, scenarios: Scenario[]): Promise<CaseResult[]> {
  const work = mkdtempSync(join(tmpdir(), 'bench-p3-'));
  const p3: CaseResult = {
    id: 'P3',
    title: "the whole CLI run (preflight, Secret, helm applying, the CLI's health watch until every pod is Ready; --skip-smoke: kwok cannot exec, so the RobustMQ check and helm test are left out) against raw `helm upgrade --install --wait=watcher` (helm 4, same chart, values and Secret, fresh namespace), dev and prod interleaved in one run",
    rows: [],
    ratios: [],
  };
  const p4: CaseResult = { id: 'P4', title: "detection latency: last pod Ready as received by a separate watcher → the CLI's healthy line", rows: [], ratios: [] };
  type Samples = { cliReady: number[]; cliWhole: number[]; raw: number[]; latency: number[] };
  const per = new Map<Scenario, Samples>(scenarios.map((s) => [s, { cliReady: [], cliWhole: [], raw: [], latency: [] }]));
  try {
    // Interleaved: each round runs every scenario's CLI install and raw helm, alternating which goes first, so load
    // from the other developers on these 2 cores hits both sides alike.
    for (let r = 0; r < rounds; r++) {
      for (const s of scenarios) {
        const m = per.get(s)!;
        const order = (r + scenarios.indexOf(s)) % 2 === 0 ? ['cli', 'raw'] : ['raw', 'cli'];
        let lastCli: CliInstall | undefined;
        for (const which of order) {
          if (which === 'cli') {
            const i = await cliInstall(c, s, work);
            m.cliReady.push(i.healthyAt - i.helmStartAt);
            m.cliWhole.push(i.run.endedAt - i.run.startedAt);
            if (i.watcher.allReadyAt !== undefined) m.latency.push(i.healthyAt - i.watcher.allReadyAt);
            lastCli = i;
          } else {
            // raw helm needs the CLI's final values; when raw goes first the CLI has not run yet, so make them
            const ref = lastCli ?? (await cliInstall(c, s, work));
            m.raw.push(await rawHelmInstall(c, ref.valuesOut, ref.ns));
            if (!lastCli) await drained(c, ref.ns);
          }
        }
        if (lastCli) await drained(c, lastCli.ns);
      }
    }
    for (const s of scenarios) {
      const m = per.get(s)!;
      const ready = stats(m.cliReady);
      const base = stats(m.raw);
      const whole = stats(m.cliWhole);
      const overhead = whole.median - base.median;
      const short = s.short ?? s.name;
      p3.rows.push(
        { name: `${s.name}: raw helm --wait=watcher`, unit: 'ms', stats: base },
        { name: `${s.name}: CLI, helm start → healthy line`, unit: 'ms', stats: ready },
        { name: `${s.name}: CLI whole run (preflight, Secret, helm, health)`, unit: 'ms', stats: whole },
        { name: `${s.name}: CLI whole run − raw helm (absolute overhead)`, unit: 'ms', value: overhead },
      );
      p3.ratios.push(
        { name: `whole run / raw helm (${short})`, value: whole.median / base.median, ...(short === 'prod' ? { target: 1.15, met: whole.median / base.median <= 1.15 } : {}) },
        { name: `${short}: whole run − raw helm (s, ≤0.7)`, value: overhead / 1000, target: 0.7, met: overhead <= 700 },
        { name: `${s.name}: CLI to Ready / raw helm`, value: ready.median / base.median, target: 1.05, met: ready.median / base.median <= 1.05 },
      );
      if (m.latency.length) {
        const l = stats(m.latency);
        p4.rows.push({ name: `${s.name}: last Ready (watcher) → healthy line`, unit: 'ms', stats: l });
        p4.ratios.push({ name: `${s.name}: median latency (s, ≤0.5)`, value: l.median / 1000, target: 0.5, met: l.median <= 500 });
      }
    }
    return [p3, p4];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// P5: the health watch at N pods (split topology: 1 meta, 1 engine, N-2 brokers; small requests, no volumes, so only
// the watch scales), with a plain `kubectl get pods -w -o json` of the same pods in the same run as the baseline.
export async function p5WatchScale(c: Cluster, sizes: number[]): Promise<CaseResult> {
  const work = mkdtempSync(join(tmpdir(), 'bench-p5-'));
  const result: CaseResult = {
    id: 'P5',
    title: "health-watch scale by pod count: the CLI's CPU for the whole run (its process tree: node and the kubectl proxy; helm excluded) against a plain `kubectl get pods -w -o json` of the same pods in the same run, peak RSS, detection latency, progress lines without a TTY",
    rows: [],
    ratios: [],
  };
  const per: { n: number; tree: number; own: number; rss: number; kubectlCpu: number; latency: number; lines: number }[] = [];
  try {
    for (const n of sizes) {
      const s: Scenario = {
        name: `${n} pods`,
        pods: n,
        timeout: '20m',
        args: [
          '--preset', 'dev',
          '--set', 'topology=split',
          '--set', 'meta.replicaCount=1',
          '--set', 'engine.replicaCount=1',
          '--set', `broker.replicaCount=${n - 2}`,
          ...['meta', 'broker', 'engine'].flatMap((r) => ['--set', `${r}.persistence.enabled=false`, '--set', `${r}.resources.requests.cpu=10m`, '--set', `${r}.resources.requests.memory=16Mi`]),
        ],
      };
      const i = await cliInstall(c, s, work);
      cleanup(c, i.ns);
      const latency = i.watcher.allReadyAt !== undefined ? i.healthyAt - i.watcher.allReadyAt : NaN;
      const lines = i.run.lines.filter((l) => /^ {2}pods: /.test(l.text)).length;
      per.push({ n, tree: i.run.treeCpuMs, own: i.run.ownCpuMs, rss: i.run.ownMaxRssKb, kubectlCpu: i.watcherUsage.cpuMs, latency, lines });
      result.rows.push(
        { name: `${n} pods: CLI CPU, whole run, process tree (node + kubectl proxy; helm excluded)`, unit: 'ms', value: i.run.treeCpuMs },
        { name: `${n} pods: of which the CLI's node process`, unit: 'ms', value: i.run.ownCpuMs },
        { name: `${n} pods: of which kubectl proxy`, unit: 'ms', value: i.run.proxyCpuMs },
        { name: `${n} pods: plain kubectl get pods -w -o json, same pods, same run`, unit: 'ms', value: i.watcherUsage.cpuMs },
        { name: `${n} pods: CLI peak RSS (node)`, unit: 'MB', value: i.run.ownMaxRssKb / 1024 },
        { name: `${n} pods: kubectl proxy peak RSS`, unit: 'MB', value: i.run.proxyMaxRssKb / 1024 },
        // an upper bound for the tree: the two peaks need not coincide
        { name: `${n} pods: CLI + kubectl proxy, sum of their peak RSS`, unit: 'MB', value: (i.run.ownMaxRssKb + i.run.proxyMaxRssKb) / 1024 },
        { name: `${n} pods: plain kubectl get -w peak RSS`, unit: 'MB', value: i.watcherUsage.rssKb / 1024 },
        { name: `${n} pods: detection latency`, unit: 'ms', value: latency },
        { name: `${n} pods: progress lines without a TTY`, unit: 'lines', value: lines },
        { name: `${n} pods: pod objects received by the plain watcher`, unit: 'events', value: i.watcher.events },
        // 0 would mean it was stopped before it had printed every pod Ready: its CPU would be understated
        { name: `${n} pods: plain watcher saw every pod Ready (1 = yes)`, unit: 'flag', value: i.watcherUsage.complete ? 1 : 0 },
        { name: `${n} pods: plain watcher restarted after the API server dropped its watch`, unit: 'times', value: i.watcherUsage.restarts },
      );
    }
    const small = per[0]!;
    const big = per[per.length - 1]!;
    for (const p of per) {
      result.ratios.push({ name: `${p.n} pods: CLI CPU / plain kubectl get -w (≤2)`, value: p.tree / p.kubectlCpu, target: 2, met: p.tree <= 2 * p.kubectlCpu });
    }
    if (per.length > 1) {
      const scale = big.n / small.n;
      result.ratios.push(
        { name: `CPU growth / pod growth (${small.n}→${big.n} pods; ≤1 is linear or better)`, value: big.tree / small.tree / scale, target: 1, met: big.tree / small.tree <= scale },
        { name: `RSS growth / pod growth (${small.n}→${big.n} pods; ≤1 is linear or better)`, value: big.rss / small.rss / scale, target: 1, met: big.rss / small.rss <= scale },
      );
    }
    result.ratios.push(
      { name: `${big.n} pods: CLI peak RSS (MB, ≤200)`, value: big.rss / 1024, target: 200, met: big.rss / 1024 <= 200 },
      { name: `${big.n} pods: detection latency (s, ≤1)`, value: big.latency / 1000, target: 1, met: big.latency <= 1000 },
    );
    return result;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
