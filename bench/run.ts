// `npm run bench`: every case, a table on stdout, bench/results.json, and the README's Performance section.
// BENCH_QUICK=1: one iteration at small scale, only to prove the scripts work (CI); results go to bench/.work/.
// BENCH_ONLY=P1,P3: run only those cases. BENCH_P5_SIZES=300: other P5 pod counts (a partial run, to explore).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { startControlPlane } from '../test/support/controlplane.ts';
import { helmPath, kubectlPath } from '../test/support/tools.ts';
import { p1Startup, p2Render, p6Distribution, type CaseResult } from './cases-local.ts';
import { p3p4TimeToReady, p5WatchScale, SCENARIOS } from './cases-cluster.ts';

const root = new URL('..', import.meta.url).pathname;
const quick = process.env.BENCH_QUICK === '1';
const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim().toUpperCase());
const wants = (...ids: string[]) => !only || ids.some((id) => only.includes(id));

const rounds = quick ? { p1: 1, p2: 1, p3: 1, p6: 1 } : { p1: 15, p2: 9, p3: 7, p6: 3 };
// total pods (1 meta, 1 engine, the rest brokers)
const p5Sizes = process.env.BENCH_P5_SIZES ? process.env.BENCH_P5_SIZES.split(',').map(Number) : quick ? [6, 10] : [300, 1000];

const results: CaseResult[] = [];
const helm4 = helmPath(4);
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);

if (wants('P1')) {
  log('P1 start-up');
  results.push(p1Startup(rounds.p1));
}
if (wants('P2')) {
  log('P2 render');
  results.push(p2Render(rounds.p2, helm4));
}
if (wants('P3', 'P4', 'P5')) {
  log('starting the local control plane');
  // room for P5's 1000 pods (the default 6 nodes hold 660)
  const cp = await startControlPlane({ nodes: 8, nodeCapacity: { cpu: '64', memory: '256Gi', pods: '250' } });
  try {
    const cluster = { kubeconfig: cp.kubeconfig, helm4, kubectl: kubectlPath() };
    if (wants('P3', 'P4')) {
      log('P3/P4 time to Ready and detection latency');
      const scenarios = quick ? [SCENARIOS.dev] : [SCENARIOS.dev, SCENARIOS.prodSplit];
      results.push(...(await p3p4TimeToReady(cluster, rounds.p3, scenarios)));
    }
    if (wants('P5')) {
      log(`P5 watch scale at ${p5Sizes.join(' and ')} pods`);
      results.push(await p5WatchScale(cluster, p5Sizes));
    }
  } finally {
    await cp.stop();
  }
}
if (wants('P6')) {
  log('P6 distribution');
  results.push(p6Distribution(rounds.p6));
}

const fmt = (v: number, unit: string) => (unit === 'ms' || unit === 'KiB' ? v.toFixed(0) : unit === 'MB' ? v.toFixed(1) : Number.isInteger(v) ? String(v) : v.toFixed(2));
function table(rs: CaseResult[]): string {
  const out = ['| id | measure | min | median | max | n |', '|---|---|---|---|---|---|'];
  for (const r of rs) {
    for (const row of r.rows) {
      if (row.stats) out.push(`| ${r.id} | ${row.name} (${row.unit}) | ${fmt(row.stats.min, row.unit)} | ${fmt(row.stats.median, row.unit)} | ${fmt(row.stats.max, row.unit)} | ${row.stats.n} |`);
      else out.push(`| ${r.id} | ${row.name} (${row.unit}) |  | ${fmt(row.value!, row.unit)} |  | 1 |`);
    }
  }
  out.push('', '| id | ratio or limit | value | target | met |', '|---|---|---|---|---|');
  for (const r of rs) for (const q of r.ratios) out.push(`| ${r.id} | ${q.name} | ${q.value.toFixed(2)} | ${q.target === undefined ? '—' : `≤${q.target}`} | ${q.met === undefined ? '—' : q.met ? 'yes' : '**no**'} |`);
  return out.join('\n');
}

const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
const helmVersion = execFileSync(helm4, ['version', '--template', '{{.Version}}'], { encoding: 'utf8' }).trim();
const doc = { date: new Date().toISOString(), machine, helm: helmVersion, quick, cases: results };
const text = table(results);
process.stdout.write(`${text}\n`);

if (quick || only || process.env.BENCH_P5_SIZES) {
  const dir = join(root, 'bench', '.work');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify(doc, null, 2)}\n`);
  log(`results: bench/.work/results.json (${quick ? 'quick' : 'partial'} run: bench/results.json and the README are left alone)`);
} else {
  writeFileSync(join(root, 'bench', 'results.json'), `${JSON.stringify(doc, null, 2)}\n`);
  const readme = join(root, 'README.md');
  const begin = '<!-- bench:begin -->';
  const end = '<!-- bench:end -->';
  const current = readFileSync(readme, 'utf8');
  const section = `${begin}\nMeasured ${doc.date.slice(0, 10)} on ${machine}, helm ${helmVersion}, by \`npm run bench\` (do not edit by hand).\n\n${text}\n${end}`;
  if (current.includes(begin)) {
    writeFileSync(readme, current.replace(new RegExp(`${begin}[\\s\\S]*${end}`), section));
    log('results: bench/results.json and the README Performance section');
  } else {
    log('results: bench/results.json (README has no bench markers)');
  }
}
