// The wizard end to end in-process: the real @inquirer/prompts rendered by @inquirer/testing, driven by keystrokes,
// over the real question data. Each step asserts the screen it sees before typing.
import { confirm, input, select } from '@inquirer/prompts';
import { render } from '@inquirer/testing';
import { describe, expect, it } from 'vitest';
import { unknownFacts, type Facts } from '../../src/core/facts.js';
import { initialState, type WizardState } from '../../src/core/questions.js';
import { plan } from '../../src/core/plan.js';
import type { Values } from '../../src/core/values.js';
import { ask, runQuestions, type PromptDriver } from '../../src/commands/wizard.js';
import { questionById } from '../../src/core/questions.js';

type Ui = Awaited<ReturnType<typeof render>>;
interface Step {
  /** the prompt's screen must match before keys are sent */
  screen: RegExp;
  keys: (ui: Ui) => Promise<void> | void;
}

/** A PromptDriver that renders each prompt with @inquirer/testing and plays the next scripted step. */
function scripted(steps: Step[], screens: string[]): PromptDriver {
  let i = 0;
  const play = async <T,>(ui: Ui) => {
    const step = steps[i++];
    if (!step) throw new Error(`no scripted step for prompt: ${ui.getScreen()}`);
    screens.push(ui.getScreen());
    expect(ui.getScreen()).toMatch(step.screen);
    await step.keys(ui);
    return (await ui.answer) as T;
  };
  return {
    select: async (cfg) => play<string>(await render(select, cfg)),
    input: async (cfg) => play<string>(await render(input, cfg)),
    confirm: async (cfg) => play<boolean>(await render(confirm, cfg)),
  };
}
const enter = (ui: Ui) => ui.events.keypress('enter');
/** Wait for the prompt to re-render with `text` (validation runs asynchronously). */
async function screenShows(ui: Ui, text: string): Promise<string> {
  for (let i = 0; i < 400 && !ui.getScreen().includes(text); i++) await new Promise((r) => setImmediate(r));
  return ui.getScreen();
}
const typeEnter = (text: string) => (ui: Ui) => {
  ui.events.type(text);
  ui.events.keypress('enter');
};

const presets: Record<'dev' | 'test' | 'prod', Values> = {
  dev: { topology: 'combined', combined: { replicaCount: 1, metaReplicas: 1, persistence: { size: '5Gi' } } },
  test: { topology: 'combined', combined: { replicaCount: 3, metaReplicas: 3, persistence: { size: '10Gi' } } },
  prod: { topology: 'split', meta: { replicaCount: 3, persistence: { size: '10Gi' } }, broker: { replicaCount: 3, persistence: { size: '10Gi' } }, engine: { replicaCount: 3, persistence: { size: '100Gi' } } },
};
const chartDefaults: Values = {
  service: { type: 'ClusterIP' },
  ingress: { enabled: false, className: '', hosts: [] },
  metrics: { serviceMonitor: { enabled: 'auto' }, prometheusRule: { enabled: 'auto' } },
};
const cluster: Facts = {
  reachable: true,
  context: 'kind-lab',
  server: 'https://127.0.0.1:6443',
  crds: { serviceMonitor: true, prometheusRule: true },
  storageClasses: [
    { name: 'standard', isDefault: true, provisioner: 'rancher.io/local-path' },
    { name: 'fast', isDefault: false, provisioner: 'ebs.csi.aws.com' },
  ],
  ingressClasses: [{ name: 'nginx', isDefault: true, controller: 'k8s.io/ingress-nginx' }],
};
const start = (facts: Facts): WizardState => initialState({ facts, presets, chartDefaults, release: 'robustmq', namespace: 'robustmq' });

describe('wizard through @inquirer/testing', () => {
  it('a whole prod wizard against a detected cluster, with a rejected answer on the way', async () => {
    const screens: string[] = [];
    const skipped: string[] = [];
    const driver = scripted(
      [
        { screen: /Environment \(picks the preset\)[\s\S]*❯ dev[\s\S]*test[\s\S]*prod/, keys: (ui) => (ui.events.keypress('down'), ui.events.keypress('down'), ui.events.keypress('enter')) },
        { screen: /Release name \(robustmq\)/, keys: enter },
        { screen: /Namespace \(robustmq\)/, keys: typeEnter('iot') },
        { screen: /Topology[\s\S]*❯ split/, keys: enter },
        {
          screen: /Meta voters \(odd\) \(3\)/,
          keys: async (ui) => {
            ui.events.type('4');
            ui.events.keypress('enter');
            expect(await screenShows(ui, 'must be odd')).toContain('meta voters must be odd (Raft needs a majority): 3 or 5');
            ui.events.keypress('backspace');
            ui.events.type('5');
            ui.events.keypress('enter');
          },
        },
        { screen: /Broker pods \(3\)/, keys: typeEnter('4') },
        { screen: /Engine pods \(3\)/, keys: enter },
        { screen: /StorageClass[\s\S]*❯ standard \(default\)[\s\S]*fast/, keys: (ui) => (ui.events.keypress('down'), ui.events.keypress('enter')) },
        { screen: /Volume size per meta pod \(10Gi\)/, keys: enter },
        { screen: /Volume size per broker pod \(10Gi\)/, keys: enter },
        { screen: /Volume size per engine pod \(100Gi\)/, keys: typeEnter('200Gi') },
        { screen: /Expose MQTT over WebSocket through an Ingress\? \(y\/N\)/, keys: typeEnter('y') },
        { screen: /IngressClass[\s\S]*❯ nginx \(default\)/, keys: enter },
        { screen: /WebSocket host name \(mqtt\.iot\.example\.com\)/, keys: typeEnter('mqtt.example.com') },
        { screen: /Service type\)[\s\S]*❯ ClusterIP[\s\S]*NodePort[\s\S]*LoadBalancer/, keys: (ui) => (ui.events.keypress('down'), ui.events.keypress('down'), ui.events.keypress('enter')) },
        { screen: /Create a ServiceMonitor and PrometheusRules for Prometheus\? \(Y\/n\)/, keys: enter },
      ],
      screens,
    );
    const s = await runQuestions(start(cluster), driver, (q, why) => skipped.push(`${q.id}: ${why}`));
    expect(screens).toHaveLength(16);
    expect(skipped).toEqual([]);
    expect(s.env).toBe('prod');
    expect(s.namespace).toBe('iot');
    expect(s.answers).toEqual({
      topology: 'split',
      meta: { replicaCount: 5, persistence: { storageClass: 'fast', size: '10Gi' } },
      broker: { replicaCount: 4, persistence: { storageClass: 'fast', size: '10Gi' } },
      engine: { replicaCount: 3, persistence: { storageClass: 'fast', size: '200Gi' } },
      ingress: { enabled: true, className: 'nginx', hosts: ['mqtt.example.com'] },
      service: { type: 'LoadBalancer' },
      metrics: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true } },
    });
    // the equivalent command names only what differs from the preset
    const p = plan({
      command: 'install',
      preset: { name: s.env, source: s.env, values: presets[s.env] },
      answers: s.answers,
      chartDefaults,
      facts: { ...cluster, helmMajor: 4 },
      flags: { release: s.release, namespace: s.namespace, timeout: '10m', valuesFile: 'v.yaml', chart: { kind: 'bundled', source: { ref: 'c' }, display: 'c' } },
      meta: { cliVersion: 't', date: 'd' },
    });
    expect(p.reproduceCommand).toBe(
      'npx robustmq-install --preset prod --set broker.persistence.storageClass=fast --set broker.replicaCount=4 --set engine.persistence.size=200Gi --set engine.persistence.storageClass=fast --set ingress.className=nginx --set ingress.enabled=true --set ingress.hosts={mqtt.example.com} --set meta.persistence.storageClass=fast --set meta.replicaCount=5 --set metrics.prometheusRule.enabled=true --set metrics.serviceMonitor.enabled=true --set service.type=LoadBalancer --namespace iot'.replace(
        '--set ingress.hosts={mqtt.example.com}',
        "--set 'ingress.hosts={mqtt.example.com}'",
      ),
    );
  });

  it('without a cluster: StorageClass left to the cluster, a bad size rejected, monitoring not offered with the reason', async () => {
    const skipped: string[] = [];
    const driver = scripted(
      [
        { screen: /Environment/, keys: enter },
        { screen: /Release name/, keys: enter },
        { screen: /Namespace/, keys: enter },
        { screen: /Topology[\s\S]*❯ combined/, keys: enter },
        { screen: /Pods \(combined\) \(1\)/, keys: typeEnter('3') },
        { screen: /Meta voters among them \(odd, at most 3\) \(3\)/, keys: enter },
        { screen: /StorageClass \(empty = the cluster default\)[\s\S]*❯ \(none: leave it to the cluster\)/, keys: enter },
        {
          screen: /Volume size per pod \(5Gi\)/,
          keys: async (ui) => {
            ui.events.type('tiny');
            ui.events.keypress('enter');
            expect(await screenShows(ui, 'not a size')).toContain('"tiny" is not a size: use a Kubernetes quantity like 10Gi or 500Mi');
            for (let i = 0; i < 4; i++) ui.events.keypress('backspace');
            ui.events.type('20Gi');
            ui.events.keypress('enter');
          },
        },
        { screen: /Ingress\? \(y\/N\)/, keys: enter },
        { screen: /Service type/, keys: enter },
      ],
      [],
    );
    const s = await runQuestions(start(unknownFacts('no cluster contact (--dry-run/render)')), driver, (q, why) => skipped.push(`${q.id}: ${why}`));
    expect(skipped).toEqual(['monitoring: monitoring not offered: could not check for the Prometheus Operator CRDs (no cluster contact (--dry-run/render))']);
    expect(s.answers).toEqual({
      topology: 'combined',
      combined: { replicaCount: 3, metaReplicas: 3, persistence: { storageClass: '', size: '20Gi' } },
      ingress: { enabled: false },
      service: { type: 'ClusterIP' },
    });
  });

  it('ask() falls back to text input when a select has no choices', async () => {
    const screens: string[] = [];
    const q = questionById('ingress.className');
    const s0 = questionById('ingress.enabled').apply(true, start({ ...cluster, ingressClasses: [] }));
    // no cluster classes and none default → a single "(none)" choice is still offered
    const driver = scripted([{ screen: /IngressClass[\s\S]*\(none: the cluster default\)/, keys: enter }], screens);
    const s1 = await ask(q, s0, driver);
    expect(s1.answers).toEqual({ ingress: { enabled: true, className: '' } });
  });

  it('monitoring skipped with the reason when the CRDs are absent', async () => {
    const skipped: string[] = [];
    const noCrds = { ...cluster, crds: { serviceMonitor: false, prometheusRule: false } };
    const keys: Step[] = [
      { screen: /Environment/, keys: enter },
      { screen: /Release name/, keys: enter },
      { screen: /Namespace/, keys: enter },
      { screen: /Topology/, keys: enter },
      { screen: /Pods \(combined\)/, keys: enter },
      { screen: /Meta voters among them/, keys: enter },
      { screen: /StorageClass/, keys: enter },
      { screen: /Volume size per pod/, keys: enter },
      { screen: /Ingress\?/, keys: enter },
      { screen: /Service type/, keys: enter },
    ];
    const s = await runQuestions(start(noCrds), scripted(keys, []), (q, why) => skipped.push(`${q.id}: ${why}`));
    expect(skipped).toEqual(['monitoring: monitoring not offered: the ServiceMonitor CRD (monitoring.coreos.com/v1) is not installed in the cluster']);
    expect(s.answers).toEqual({
      topology: 'combined',
      combined: { replicaCount: 1, metaReplicas: 1, persistence: { storageClass: 'standard', size: '5Gi' } },
      ingress: { enabled: false },
      service: { type: 'ClusterIP' },
    });
  });
});
