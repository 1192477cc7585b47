// The built binary as a user runs it: a real terminal (tmux), `env -u CI` (CI sets it), keystrokes, then the screen.
// No cluster here (test/e2e/interactive.test.ts drives the prompts that need one): a whole wizard into --dry-run,
// the wizard on a cluster it cannot reach (render or stop, offered before the first question), Ctrl-C and Ctrl-D at
// each kind of prompt, and a 60-column terminal. Needs tmux and `npm run build`.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { helmPath } from '../support/tools.js';
import { brokenLines, expectCancelled, ROOT, STACK, Tmux, type Pane } from './tmux.js';

const tmux = new Tmux();
const HELM = helmPath(4);
/** a kubeconfig that points nowhere: the run must not need (or find) a cluster */
const noCluster = (p = '/nonexistent') => ({ KUBECONFIG: `${p}/no-kubeconfig` });

beforeAll(() => {
  expect(existsSync(join(ROOT, 'dist/cli.js')), 'dist/cli.js is missing: run npm run build (npm test does)').toBe(true);
});
afterAll(() => tmux.kill());

/** README material (scripts/readme-screens.mjs): ROBUSTMQ_TTY_CAPTURE_DIR=DIR keeps a screen as DIR/NAME.txt */
function keep(name: string, screen: string): void {
  const dir = process.env.ROBUSTMQ_TTY_CAPTURE_DIR;
  if (dir) writeFileSync(join(dir, `${name}.txt`), screen.replace(/\nEXIT=[\s\S]*$/, '\n'));
}

describe('the install wizard in a real terminal', () => {
  it('test preset, answers typed, a bad answer rejected, into --dry-run', async () => {
    const pane = tmux.start(['--dry-run', '--helm', HELM], { env: noCluster() });
    const cwd = pane.cwd;
    await pane.waitFor(/Environment \(picks the preset\)/, 'the first question');
    expect(pane.screen()).toMatch(/cluster not inspected \(no cluster contact \(--dry-run\/render\)\): defaults come from the presets/);
    pane.keys('Down');
    await pane.waitFor(/❯ test/, 'test highlighted');
    pane.keys('Enter');
    await pane.waitFor(/Release name \(robustmq\)/, 'the release question');
    pane.keys('Enter');
    await pane.waitFor(/Namespace \(robustmq\)/, 'the namespace question');
    pane.type('iot');
    pane.keys('Enter');
    await pane.waitFor(/Topology/, 'the topology question');
    pane.keys('Enter');
    await pane.waitFor(/Pods \(combined\) \(3\)/, 'the pods question');
    pane.keys('Enter');
    await pane.waitFor(/Meta voters among them \(odd, at most 3\) \(3\)/, 'the voters question');
    pane.type('2');
    pane.keys('Enter');
    await pane.waitFor(/meta voters must be odd \(Raft needs a majority\): 1 or 3/, 'the odd-voters error');
    pane.keys('BSpace');
    pane.type('3');
    pane.keys('Enter');
    await pane.waitFor(/StorageClass \(empty = the cluster default\)/, 'the StorageClass question');
    pane.keys('Enter');
    await pane.waitFor(/Volume size per pod \(5Gi\)/, 'the size question');
    pane.type('20Gi');
    pane.keys('Enter');
    await pane.waitFor(/Expose MQTT over WebSocket through an Ingress\? \(y\/N\)/, 'the ingress question');
    pane.type('y');
    pane.keys('Enter');
    await pane.waitFor(/IngressClass \(empty = the cluster default\)/, 'the IngressClass question');
    pane.keys('Enter');
    await pane.waitFor(/WebSocket host name \(mqtt\.iot\.example\.com\)/, 'the host question');
    pane.type('mqtt.example.com');
    pane.keys('Enter');
    await pane.waitFor(/How do MQTT clients reach the brokers\? \(Service type\)/, 'the service question');
    pane.keys('Down', 'Down');
    await pane.waitFor(/❯ LoadBalancer/, 'LoadBalancer highlighted');
    pane.keys('Enter');
    const { code, screen: s } = await pane.exit();
    keep('wizard-dry-run', s);

    expect(code).toBe(0);
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
    expect(s).toMatch(new RegExp(`${HELM.replace(/[.]/g, '\\.')} install robustmq ${ROOT}/chart/robustmq --namespace iot --create-namespace --values ${cwd}/robustmq-values\\.yaml --timeout 10m`));
    expect(s).toMatch(
      /Equivalent command: npx robustmq-install --preset test --set combined\.persistence\.size=20Gi --set ingress\.enabled=true --set 'ingress\.hosts=\{mqtt\.example\.com\}' --set service\.type=LoadBalancer --namespace iot --helm /,
    );
    // no file was written by the dry run
    expect(pane.files()).toEqual([]);
  }, 120_000);

  it('a 60-column terminal: questions, answers and notes wrap between words, none is cut', async () => {
    const width = 60;
    const pane = tmux.start(['--dry-run', '--helm', HELM], { env: noCluster(), width });
    await pane.waitFor(/Environment \(picks the preset\)/, 'the first question');
    // prod: the longest descriptions; then defaults everywhere
    pane.keys('Down', 'Down');
    await pane.waitFor(/❯ prod/, 'prod highlighted');
    await pane.waitFor(/separate meta\/broker\/engine roles/, "prod's description");
    pane.keys('Enter');
    const prompts = [/Release name/, /Namespace/, /Topology/, /Meta voters \(odd\)/, /Broker pods/, /Engine pods/, /StorageClass/, /Volume size per meta pod/, /Volume size per broker pod/, /Volume size per engine pod/, /Expose MQTT over WebSocket through an Ingress\?/, /How do MQTT clients reach the brokers\? \(Service type\)/];
    for (const re of prompts) {
      await pane.waitFor(new RegExp(`\\? ${re.source}`), `the question ${re}`);
      pane.keys('Enter');
      await pane.waitFor(new RegExp(`✔ ${re.source}`), `the answered ${re}`);
    }
    const { code, screen } = await pane.exit();
    expect(code).toBe(0);
    const wizardPart = screen.slice(0, screen.indexOf('Dry run:'));
    expect(wizardPart).toMatch(/monitoring not offered/);
    expect(brokenLines(wizardPart, width)).toEqual([]);
    // each question's final line is there once: the prompt redraws did not leave copies behind
    for (const re of prompts) expect(wizardPart.match(new RegExp(`✔ ${re.source}`, 'g'))).toHaveLength(1);
    expect(wizardPart.match(/\? Environment/g) ?? []).toHaveLength(0);
  }, 120_000);
});

describe('the wizard on a cluster it cannot reach', () => {
  it('says so before the first question; "stop" exits 3 with one line and a hint, nothing written', async () => {
    const pane = tmux.start(['--helm', HELM], { env: noCluster() });
    const s = await pane.waitFor(/Install needs the cluster\. What now\?/, 'the offer');
    expect(s).toMatch(/! cannot reach the cluster: the kubeconfig has no current context/);
    expect(s).not.toMatch(/Environment/);
    pane.keys('Down');
    await pane.waitFor(/❯ stop: fix the connection first/, 'stop highlighted');
    pane.keys('Enter');
    const { code, screen } = await pane.exit();
    expect(code).toBe(3);
    expect(screen).toMatch(/^Error: cannot reach the Kubernetes API \(the kubeconfig has no current context\): .+$/m);
    expect(screen).toMatch(/^hint: check --kube-context\/--kubeconfig/m);
    expect(screen).not.toMatch(STACK);
    expect(screen).not.toMatch(/Environment|Preflight/);
    expect(pane.files()).toEqual([]);
  }, 60_000);

  it('"render": the same questions, then values.yaml and manifests.yaml, no cluster', async () => {
    const pane = tmux.start(['--helm', HELM], { env: noCluster() });
    await pane.waitFor(/Install needs the cluster\. What now\?/, 'the offer');
    pane.keys('Enter');
    await pane.waitFor(/Environment \(picks the preset\)/, 'the first question');
    pane.keys('Enter');
    for (const re of [/Release name/, /Namespace/, /Topology/, /Pods \(combined\)/, /Meta voters among them/, /StorageClass/, /Volume size per pod/]) {
      await pane.waitFor(new RegExp(`\\? ${re.source}`), `the question ${re}`);
      pane.keys('Enter');
    }
    await pane.waitFor(/\? Expose MQTT over WebSocket/, 'the ingress question');
    pane.keys('Enter');
    await pane.waitFor(/\? How do MQTT clients reach the brokers/, 'the service question');
    pane.keys('Enter');
    const { code, screen } = await pane.exit();
    expect(code).toBe(0);
    expect(screen).toMatch(/✔ Install needs the cluster\. What now\? render/);
    expect(screen).toMatch(/wrote .*robustmq-render\/values\.yaml/);
    expect(pane.files()).toEqual(['robustmq-render']);
    const values = parse(readFileSync(join(pane.cwd, 'robustmq-render', 'values.yaml'), 'utf8')) as Record<string, unknown>;
    expect(values).toMatchObject({ topology: 'combined', combined: { replicaCount: 1 }, auth: { existingSecret: 'robustmq-credentials' } });
    expect(readFileSync(join(pane.cwd, 'robustmq-render', 'manifests.yaml'), 'utf8')).toMatch(/kind: StatefulSet/);
  }, 90_000);
});

/** Bring a run to a prompt, then press the key: the CLI must say "aborted", exit 130 and leave no file. */
async function cancelAt(key: 'C-c' | 'C-d', reach: () => Promise<Pane>, typed?: string): Promise<void> {
  const pane = await reach();
  if (typed) {
    pane.type(typed);
    await pane.waitFor(new RegExp(typed), 'the typed text');
  }
  pane.keys(key);
  await expectCancelled(pane);
}

describe('Ctrl-C and Ctrl-D (end of input) cancel every wizard prompt: "aborted", exit 130, nothing written', () => {
  const dry = async (until: (p: Pane) => Promise<void>) => {
    const pane = tmux.start(['--dry-run', '--helm', HELM], { env: noCluster() });
    await pane.waitFor(/\? Environment \(picks the preset\)/, 'the first question');
    await until(pane);
    return pane;
  };
  const prompts: [string, () => Promise<Pane>][] = [
    ['a select (Environment)', () => dry(async () => {})],
    [
      'an input (Release name)',
      () =>
        dry(async (p) => {
          p.keys('Enter');
          await p.waitFor(/\? Release name/, 'the release question');
        }),
    ],
    [
      'a confirm (Ingress?)',
      () =>
        dry(async (p) => {
          p.keys('Enter');
          for (const re of [/Release name/, /Namespace/, /Topology/, /Pods \(combined\)/, /Meta voters among them/, /StorageClass/, /Volume size per pod/]) {
            await p.waitFor(new RegExp(`\\? ${re.source}`), `the question ${re}`);
            p.keys('Enter');
          }
          await p.waitFor(/\? Expose MQTT over WebSocket/, 'the ingress question');
        }),
    ],
    [
      'the unreachable-cluster offer',
      async () => {
        const pane = tmux.start(['--helm', HELM], { env: noCluster() });
        await pane.waitFor(/Install needs the cluster\. What now\?/, 'the offer');
        return pane;
      },
    ],
  ];
  for (const [what, reach] of prompts) {
    it(`Ctrl-C at ${what}`, () => cancelAt('C-c', reach), 60_000);
    it(`Ctrl-D at ${what}`, () => cancelAt('C-d', reach), 60_000);
  }
  it('Ctrl-D at an input that already has text still cancels (it does not just delete a character)', () =>
    cancelAt('C-d', prompts[1]![1], 'half-typed'), 60_000);
});
