#!/usr/bin/env node
// Regenerates the README's terminal screenshots from real tmux captures: runs the tmux tests that keep their final
// screen (ROBUSTMQ_TTY_CAPTURE_DIR), removes what belongs to this machine (temporary directories, the pinned helm path,
// loopback ports, dates), and replaces each block between `<!-- screen:NAME:begin -->` and `<!-- screen:NAME:end -->`.
// Needs what the tests need: `npm run build`, tmux, helm, and for the upgrade the local control plane
// (scripts/setup.sh). Usage: node scripts/readme-screens.mjs   (then review `git diff README.md`)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const readme = join(root, 'README.md');

/** name → the test that keeps it, and the label saying where it ran */
const SCREENS = {
  'wizard-dry-run': {
    run: ['--project', 'unit', 'test/tty/wizard.test.ts', '-t', 'into --dry-run'],
    label: 'Ran on: no cluster (`--dry-run`, a kubeconfig that points nowhere), in tmux, by `test/tty/wizard.test.ts`.',
  },
  'upgrade-wizard': {
    run: ['--project', 'e2e', 'test/e2e/interactive.test.ts', '-t', 'upgrade on a terminal'],
    label:
      'Ran on: the local control plane of the e2e suite (kube-apiserver, controller-manager and scheduler v1.36, etcd, kwok as the kubelet of 6 simulated nodes: pods run no containers, so the RobustMQ check is skipped with `--skip-smoke`), in tmux, by `test/e2e/interactive.test.ts`.',
  },
};

const only = process.argv.slice(2);
const names = only.length ? only : Object.keys(SCREENS);
const dir = mkdtempSync(join(tmpdir(), 'rmq-screens-'));
try {
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  for (const name of names) {
    const s = SCREENS[name];
    if (!s) throw new Error(`unknown screen ${name}; known: ${Object.keys(SCREENS).join(', ')}`);
    execFileSync('npx', ['vitest', 'run', ...s.run], { cwd: root, stdio: 'inherit', env: { ...process.env, ROBUSTMQ_TTY_CAPTURE_DIR: dir } });
    const file = join(dir, `${name}.txt`);
    if (!existsSync(file)) throw new Error(`the test did not keep ${name}`);
    const screen = scrub(readFileSync(file, 'utf8'));
    replaceBlock(name, `${s.label}\n\n\`\`\`text\n${screen.trimEnd()}\n\`\`\``);
    console.log(`README.md: screen ${name} updated`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function scrub(text) {
  const cache = process.env.ROBUSTMQ_INSTALL_CACHE ?? join(homedir(), '.cache', 'robustmq-install');
  return text
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replaceAll(`${cache}/helm/`, '<cache>/helm/')
    .replace(/<cache>\/helm\/[\d.]+\/helm/g, 'helm')
    .replaceAll(root, '<package>')
    .replace(new RegExp(`${tmpdir().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/rmq-[\\w-]+`, 'g'), '.')
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<date>')
    .replace(/\b\d+(\.\d+)?s\b(?=[)\s;,]|$)/g, '<t>s');
}

function replaceBlock(name, body) {
  const text = readFileSync(readme, 'utf8');
  const begin = `<!-- screen:${name}:begin -->`;
  const end = `<!-- screen:${name}:end -->`;
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`README.md has no ${begin} … ${end} block`);
  writeFileSync(readme, `${text.slice(0, i + begin.length)}\n${body}\n${text.slice(j)}`);
}
