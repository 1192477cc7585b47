// Cases on the local control plane (test/support/controlplane.ts): time to a Ready cluster through the CLI against
// raw helm (P3), how fast the CLI notices health (P4), and the health watch at scale (P5).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
}

const now = () => performance.timeOrigin + performance.now();
const CLK_TCK = 100;

// Samples /proc/<pid> so the figures are the CLI's own, without the helm and kubectl processes it starts.
function sampleProc(pid: number, into: { cpuMs: number; rssKb: number }): void {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    into.cpuMs = ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (hwm) into.rssKb = Number(hwm[1]);
  } catch {
    // the process has exited between samples
  }
}

function runTimed(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const lines: Line[] = [];
    const startedAt = now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const usage = { cpuMs: 0, rssKb: 0 };
    const sampler = setInterval(() => sampleProc(child.pid!, usage), 20);
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
      resolve({ code: code ?? -1, lines, startedAt, endedAt: now(), ownCpuMs: usage.cpuMs, ownMaxRssKb: usage.rssKb });
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

// A separate watcher process: the receive time of the event in which the last expected pod became Ready.
class ReadyWatcher {
  private child;
  private ready = new Map<string, boolean>();
  allReadyAt: number | undefined;
  events = 0;
  constructor(c: Cluster, namespace: string, private expected: number) {
    this.child = spawn(
      c.kubectl,
      ['--kubeconfig', c.kubeconfig, '--context', 'admin', '-n', namespace, 'get', 'pods', '-w', '--output-watch-events', '-o', 'json', '-l', 'app.kubernetes.io/name=robustmq'],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let buf = '';
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => {
      const at = now();
      buf += chunk;
      // with --output-watch-events, kubectl writes each event as one line of compact JSON
      let end: number;
      while ((end = buf.indexOf('\n')) >= 0) {
        const text = buf.slice(0, end).trim();
        buf = buf.slice(end + 1);
        if (text) this.onEvent(JSON.parse(text), at);
      }
    });
  }
  private onEvent(ev: { type: string; object: { metadata: { name: string; labels?: Record<string, string> }; spec?: { restartPolicy?: string }; status?: { conditions?: { type: string; status: string }[] } } }, at: number): void {
    this.events++;
    const pod = ev.object;
    if (pod.spec?.restartPolicy && pod.spec.restartPolicy !== 'Always') return; // helm test pods are not members
    const isReady = ev.type !== 'DELETED' && !!pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    this.ready.set(pod.metadata.name, isReady);
    const count = [...this.ready.values()].filter(Boolean).length;
    if (count >= this.expected && this.allReadyAt === undefined) this.allReadyAt = at;
  }
  stop(): void {
    this.child.kill('SIGTERM');
  }
}

interface Scenario {
  name: string;
  args: string[];
  pods: number;
}

export const SCENARIOS: Record<'dev' | 'prodSplit', Scenario> = {
  dev: { name: 'dev (combined ×1)', args: ['--preset', 'dev'], pods: 1 },
  prodSplit: { name: 'prod split (3+3+3)', args: ['--preset', 'prod', '--kube-context', 'admin'], pods: 9 },
};

function cliArgs(c: Cluster, s: Scenario, ns: string, valuesOut: string, extra: string[] = []): string[] {
  return [cli, 'install', ...s.args, '--yes', '--skip-smoke', '-n', ns, '--kubeconfig', c.kubeconfig, '--helm', c.helm4, '--values-out', valuesOut, '--timeout', '5m', ...extra];
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
}

async function cliInstall(c: Cluster, s: Scenario, work: string, extra: string[] = []): Promise<CliInstall> {
  const ns = freshNamespace('cli');
  const valuesOut = join(work, `${ns}.yaml`);
  const watcher = new ReadyWatcher(c, ns, s.pods);
  const run = await runTimed(process.execPath, cliArgs(c, s, ns, valuesOut, extra), { ...process.env, KUBECONFIG: c.kubeconfig, CI: 'true' });
  watcher.stop();
  if (run.code !== 0) throw new Error(`CLI install exited ${run.code}:\n${run.lines.map((l) => l.text).join('\n')}`);
  const helmStart = run.lines.find((l) => HELM_START.test(l.text));
  const healthy = run.lines.find((l) => HEALTHY.test(l.text));
  if (!helmStart || !healthy) throw new Error(`CLI output lacks the helm-start or healthy line:\n${run.lines.map((l) => l.text).join('\n')}`);
  return { run, ns, valuesOut, helmStartAt: helmStart.at, healthyAt: healthy.at, watcher };
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
  void kubectl(c, ['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
  return run.endedAt - run.startedAt;
}

const cleanup = (c: Cluster, ns: string) => void kubectl(c, ['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);

export async function p3p4TimeToReady(c: Cluster, rounds: number, scenarios: Scenario[]): Promise<CaseResult[]> {
  const work = mkdtempSync(join(tmpdir(), 'bench-p3-'));
  const p3: CaseResult = { id: 'P3', title: 'helm start → all pods Ready through the CLI, against raw `helm upgrade --install --wait=watcher` (helm 4, same chart and values, fresh namespace)', rows: [], ratios: [] };
  const p4: CaseResult = { id: 'P4', title: "detection latency: last pod Ready as received by a separate watcher → the CLI's healthy line", rows: [], ratios: [] };
  try {
    for (const s of scenarios) {
      const cliReady: number[] = [];
      const cliWhole: number[] = [];
      const raw: number[] = [];
      const latency: number[] = [];
      // interleaved: each round runs the CLI and raw helm, alternating which goes first
      for (let r = 0; r < rounds; r++) {
        const order = r % 2 === 0 ? ['cli', 'raw'] : ['raw', 'cli'];
        let lastCli: CliInstall | undefined;
        for (const which of order) {
          if (which === 'cli') {
            const i = await cliInstall(c, s, work);
            cliReady.push(i.healthyAt - i.helmStartAt);
            cliWhole.push(i.run.endedAt - i.run.startedAt);
            if (i.watcher.allReadyAt !== undefined) latency.push(i.healthyAt - i.watcher.allReadyAt);
            lastCli = i;
          } else {
            // raw helm needs the CLI's final values; on the first round the CLI has not run yet, so make them
            const ref = lastCli ?? (await cliInstall(c, s, work));
            raw.push(await rawHelmInstall(c, ref.valuesOut, ref.ns));
            if (!lastCli) cleanup(c, ref.ns);
          }
        }
        if (lastCli) cleanup(c, lastCli.ns);
      }
      const ready = stats(cliReady);
      const base = stats(raw);
      const whole = stats(cliWhole);
      p3.rows.push(
        { name: `${s.name}: raw helm --wait=watcher`, unit: 'ms', stats: base },
        { name: `${s.name}: CLI, helm start → healthy line`, unit: 'ms', stats: ready },
        { name: `${s.name}: CLI whole run (preflight, Secret, helm, health)`, unit: 'ms', stats: whole },
        { name: `${s.name}: CLI whole run − raw helm (absolute overhead)`, unit: 'ms', value: whole.median - base.median },
      );
      p3.ratios.push({ name: `${s.name}: CLI to Ready / raw helm`, value: ready.median / base.median, target: 1.05, met: ready.median / base.median <= 1.05 });
      if (latency.length) {
        const l = stats(latency);
        p4.rows.push({ name: `${s.name}: last Ready (watcher) → healthy line`, unit: 'ms', stats: l });
        p4.ratios.push({ name: `${s.name}: median latency (s, ≤0.5)`, value: l.median / 1000, target: 0.5, met: l.median <= 500 });
      }
    }
    return [p3, p4];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// P5: the health watch at N broker pods (split topology, small requests, no volumes, so only the watch scales).
export async function p5WatchScale(c: Cluster, sizes: number[]): Promise<CaseResult> {
  const work = mkdtempSync(join(tmpdir(), 'bench-p5-'));
  const result: CaseResult = { id: 'P5', title: 'health-watch scale: CLI own CPU, peak RSS and detection latency by broker pod count', rows: [], ratios: [] };
  const per: { n: number; cpu: number; rss: number; latency: number; events: number }[] = [];
  try {
    for (const n of sizes) {
      const s: Scenario = {
        name: `${n} brokers`,
        pods: n + 2,
        args: [
          '--preset', 'dev',
          '--set', 'topology=split',
          '--set', 'meta.replicaCount=1',
          '--set', 'engine.replicaCount=1',
          '--set', `broker.replicaCount=${n}`,
          ...['meta', 'broker', 'engine'].flatMap((r) => ['--set', `${r}.persistence.enabled=false`, '--set', `${r}.resources.requests.cpu=10m`, '--set', `${r}.resources.requests.memory=16Mi`]),
        ],
      };
      const i = await cliInstall(c, s, work);
      cleanup(c, i.ns);
      const latency = i.watcher.allReadyAt !== undefined ? i.healthyAt - i.watcher.allReadyAt : NaN;
      per.push({ n: s.pods, cpu: i.run.ownCpuMs, rss: i.run.ownMaxRssKb, latency, events: i.watcher.events });
      result.rows.push(
        { name: `${s.pods} pods: CLI own CPU (whole run)`, unit: 'ms', value: i.run.ownCpuMs },
        { name: `${s.pods} pods: CLI peak RSS`, unit: 'MB', value: i.run.ownMaxRssKb / 1024 },
        { name: `${s.pods} pods: detection latency`, unit: 'ms', value: latency },
        { name: `${s.pods} pods: pod watch events seen by the separate watcher`, unit: 'events', value: i.watcher.events },
      );
    }
    const small = per[0]!;
    const big = per[per.length - 1]!;
    if (per.length > 1) {
      const scale = big.n / small.n;
      result.ratios.push({ name: `CPU growth / pod growth (${small.n}→${big.n} pods; ≤1 is linear or better)`, value: big.cpu / small.cpu / scale, target: 1, met: big.cpu / small.cpu <= scale });
    }
    result.ratios.push(
      { name: `${big.n} pods: CLI own CPU (s, ≤2)`, value: big.cpu / 1000, target: 2, met: big.cpu <= 2000 },
      { name: `${big.n} pods: peak RSS (MB, ≤150)`, value: big.rss / 1024, target: 150, met: big.rss / 1024 <= 150 },
      { name: `${big.n} pods: detection latency (s, ≤1)`, value: big.latency / 1000, target: 1, met: big.latency <= 1000 },
    );
    return result;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

