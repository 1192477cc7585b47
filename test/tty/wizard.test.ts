// The built binary as a user runs it: a real terminal (tmux), `env -u CI` (CI sets it), keystrokes, then the screen.
// Goes through a whole wizard into --dry-run and asserts the questions, a rejected answer, the skipped monitoring
// question with its reason, the printed overlay and the equivalent command. Needs tmux and `npm run build`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { helmPath } from '../support/tools.js';

const root = resolve(import.meta.dirname, '../..');
const socket = `rmq-tty-${process.pid}`;
const session = 'wizard';
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-J', '-S', '-', '-t', session);

/** Wait until the pane shows `re` (bounded: the binary and helm start in well under the limit). */
async function waitFor(re: RegExp, what: string): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const s = screen();
    if (re.test(s)) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the screen never showed ${what} (${re}); last screen:\n${screen()}`);
}
const keys = (...k: string[]) => tmux('send-keys', '-t', session, ...k);
const type = (text: string) => tmux('send-keys', '-t', session, '-l', text);

afterAll(() => {
  try {
    tmux('kill-server');
  } catch {
    // already gone
  }
});

function start(name: string, args: string): string {
  const cwd = mkdtempSync(join(tmpdir(), 'rmq-tty-'));
  const script = join(cwd, 'run.sh');
  writeFileSync(
    script,
    [
      '#!/bin/sh',
      `cd ${cwd}`,
      `env -u CI -u FORCE_COLOR NO_COLOR=1 TERM=xterm-256color KUBECONFIG=${cwd}/no-kubeconfig node ${root}/bin/robustmq-install.js ${args}`,
      'echo "EXIT=$?"',
      'sleep 600',
    ].join('\n'),
  );
  tmux('-f', '/dev/null', 'new-session', '-d', '-s', name, '-x', '160', '-y', '60', `sh ${script}`);
  return cwd;
}

describe('the wizard in a real terminal', () => {
  it('Ctrl-C at a question: "aborted", exit 130, nothing written', async () => {
    const cwd = start('ctrlc', `--helm ${helmPath(4)}`);
    const cap = () => tmux('capture-pane', '-p', '-J', '-S', '-', '-t', 'ctrlc');
    for (let i = 0; i < 300 && !/Environment \(picks the preset\)/.test(cap()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(cap()).toMatch(/Environment \(picks the preset\)/);
    tmux('send-keys', '-t', 'ctrlc', 'C-c');
    for (let i = 0; i < 300 && !/EXIT=\d+/.test(cap()); i++) await new Promise((r) => setTimeout(r, 100));
    const s = cap();
    expect(s).toMatch(/^aborted$/m);
    expect(s).toMatch(/EXIT=130/);
    expect(s).not.toMatch(/ExitPromptError|at \S+:\d+:\d+/);
    expect(existsSync(join(cwd, 'robustmq-values.yaml'))).toBe(false);
  }, 60_000);


  it('prod-less walk: test preset, answers typed, a bad answer rejected, into --dry-run', async () => {
    expect(existsSync(join(root, 'dist/cli.js')), 'dist/cli.js is missing: run npm run build (npm test does)').toBe(true);
    const cwd = mkdtempSync(join(tmpdir(), 'rmq-tty-'));
    const script = join(cwd, 'run.sh');
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        `cd ${cwd}`,
        // a user's terminal: no CI, a kubeconfig that points nowhere (the dry run must not need one)
        `env -u CI -u FORCE_COLOR NO_COLOR=1 TERM=xterm-256color KUBECONFIG=${cwd}/no-kubeconfig node ${root}/bin/robustmq-install.js --dry-run --helm ${helmPath(4)}`,
        'echo "EXIT=$?"',
        'sleep 600',
      ].join('\n'),
    );
    tmux('-f', '/dev/null', 'new-session', '-d', '-s', session, '-x', '160', '-y', '60', `sh ${script}`);
    tmux('set-option', '-t', session, 'history-limit', '5000');

    await waitFor(/Environment \(picks the preset\)/, 'the first question');
    expect(screen()).toMatch(/cluster not inspected \(no cluster contact \(--dry-run\/render\)\): defaults come from the presets/);
    keys('Down');
    await waitFor(/❯ test/, 'test highlighted');
    keys('Enter');
    await waitFor(/Release name \(robustmq\)/, 'the release question');
    keys('Enter');
    await waitFor(/Namespace \(robustmq\)/, 'the namespace question');
    type('iot');
    keys('Enter');
    await waitFor(/Topology/, 'the topology question');
    keys('Enter');
    await waitFor(/Pods \(combined\) \(3\)/, 'the pods question');
    keys('Enter');
    await waitFor(/Meta voters among them \(odd, at most 3\) \(3\)/, 'the voters question');
    type('2');
    keys('Enter');
    await waitFor(/meta voters must be odd \(Raft needs a majority\): 1 or 3/, 'the odd-voters error');
    keys('BSpace');
    type('3');
    keys('Enter');
    await waitFor(/StorageClass \(empty = the cluster default\)/, 'the StorageClass question');
    keys('Enter');
    await waitFor(/Volume size per pod \(5Gi\)/, 'the size question');
    type('20Gi');
    keys('Enter');
    await waitFor(/Expose MQTT over WebSocket through an Ingress\? \(y\/N\)/, 'the ingress question');
    type('y');
    keys('Enter');
    await waitFor(/IngressClass \(empty = the cluster default\)/, 'the IngressClass question');
    keys('Enter');
    await waitFor(/WebSocket host name \(mqtt\.iot\.example\.com\)/, 'the host question');
    type('mqtt.example.com');
    keys('Enter');
    await waitFor(/How do MQTT clients reach the brokers\? \(Service type\)/, 'the service question');
    keys('Down', 'Down');
    await waitFor(/❯ LoadBalancer/, 'LoadBalancer highlighted');
    keys('Enter');
    const s = await waitFor(/EXIT=\d+/, 'the end of the run');
    // README material: ROBUSTMQ_TTY_CAPTURE=FILE keeps the screen of this run
    if (process.env.ROBUSTMQ_TTY_CAPTURE) writeFileSync(process.env.ROBUSTMQ_TTY_CAPTURE, s.replace(/\nEXIT=[\s\S]*$/, '\n'));

    expect(s).toMatch(/EXIT=0/);
    // answered questions stay on screen with their answers
    for (const line of [
      /✔ Environment \(picks the preset\) test/,
      /✔ Release name robustmq/,
      /✔ Namespace iot/,
      /✔ Topology combined/,
      /✔ Pods \(combined\) 3/,
      /✔ Meta voters among them \(odd, at most 3\) 3/,
      /✔ Volume size per pod 20Gi/,
      /✔ Expose MQTT over WebSocket through an Ingress\? Yes/,
      /✔ WebSocket host name mqtt\.example\.com/,
      /✔ How do MQTT clients reach the brokers\? \(Service type\) LoadBalancer/,
    ]) {
      expect(s).toMatch(line);
    }
    expect(s).toContain('monitoring not offered: could not check for the Prometheus Operator CRDs (no cluster contact (--dry-run/render))');
    expect(s).toContain('Dry run: nothing was contacted or written. The real run would do this:');

    // the printed overlay
    const start = s.indexOf('# robustmq-install values overlay');
    const end = s.indexOf('\nCommands:');
    expect(start).toBeGreaterThan(0);
    const overlay = parse(s.slice(start, end)) as Record<string, unknown>;
    expect(overlay).toMatchObject({
      topology: 'combined',
      combined: { replicaCount: 3, metaReplicas: 3, persistence: { size: '20Gi', storageClass: '' } },
      ingress: { enabled: true, className: '', hosts: ['mqtt.example.com'] },
      service: { type: 'LoadBalancer' },
      metrics: { serviceMonitor: { enabled: false }, prometheusRule: { enabled: false } },
      auth: { existingSecret: 'robustmq-credentials' },
    });
    expect(s).toContain('# preset: test');
    expect(s).toMatch(new RegExp(`${helmPath(4).replace(/[.]/g, '\\.')} install robustmq ${root}/chart/robustmq --namespace iot --create-namespace --values ${cwd}/robustmq-values\\.yaml --wait=watcher --timeout 10m`));
    expect(s).toMatch(
      /Equivalent command: npx robustmq-install --preset test --set combined\.persistence\.size=20Gi --set ingress\.enabled=true --set 'ingress\.hosts=\{mqtt\.example\.com\}' --set service\.type=LoadBalancer --namespace iot --helm /,
    );
    // no file was written by the dry run
    expect(existsSync(join(cwd, 'robustmq-values.yaml'))).toBe(false);
  }, 90_000);
});
