// Measurement primitives shared by the benchmark cases. Everything is a ratio against a baseline taken in the
// same run, interleaved, because these machines are noisy.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Stats {
  n: number;
  min: number;
  median: number;
  max: number;
}

export function stats(samples: number[]): Stats {
  if (samples.length === 0) throw new Error('no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { n: sorted.length, min: sorted[0]!, median, max: sorted[sorted.length - 1]! };
}

export interface Measured {
  wallMs: number;
  userMs: number;
  sysMs: number;
  maxRssKb: number;
  stdout: string;
  stderr: string;
  exitCode: number;
}

// GNU time reports the child's own CPU and peak RSS; node's spawnSync cannot.
export function measure(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Measured {
  const dir = mkdtempSync(join(tmpdir(), 'bench-'));
  const out = join(dir, 'time');
  try {
    const t0 = process.hrtime.bigint();
    const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', '-o', out, cmd, ...args], {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const [u, s, m] = readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    return {
      wallMs,
      userMs: u! * 1000,
      sysMs: s! * 1000,
      maxRssKb: m!,
      stdout: r.stdout,
      stderr: r.stderr,
      exitCode: r.status ?? -1,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function mustSucceed(m: Measured, what: string): Measured {
  if (m.exitCode !== 0) {
    throw new Error(`${what} exited ${m.exitCode}\n${m.stderr.slice(-2000)}`);
  }
  return m;
}

// Runs each variant once per round, rotating which goes first, so drift in machine load hits all of them alike.
export function interleave<K extends string>(rounds: number, variants: Record<K, () => number>): Record<K, number[]> {
  const keys = Object.keys(variants) as K[];
  const out = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as unknown as Record<K, number[]>;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < keys.length; i++) {
      const k = keys[(i + r) % keys.length]!;
      out[k].push(variants[k]());
    }
  }
  return out;
}

export function ratio(a: Stats, b: Stats): number {
  return a.median / b.median;
}

// Streams a child's stderr/stdout lines with their receive time, for latency cases.
export function spawnTimed(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string },
  onLine: (line: string, atMs: number) => void,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      let buf = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const at = performance.timeOrigin + performance.now();
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          onLine(buf.slice(0, nl), at);
          buf = buf.slice(nl + 1);
        }
      });
    }
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? -1));
  });
}
