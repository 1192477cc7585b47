// Every prompt that needs a cluster, in a real terminal (tmux, test/tty/tmux.ts) against the suite's control plane:
// the upgrade wizard end to end (and a scale-down it warns about), the rollback picker driven by arrow keys, the
// uninstall typed confirmation, the prod context confirmation, and Ctrl-C / Ctrl-D at each of these prompts. Each test
// checks what the action did (or, cancelled, did not do) in the cluster and in the working directory.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { helmPath, kubectlPath } from '../support/tools.ts';
import { expectCancelled, Tmux, type Pane } from '../tty/tmux.ts';
import { cliExpect, controlPlane, dropNamespace, helm, history, kubectlJson, kubectlTry, workdir } from './cli.ts';

const tmux = new Tmux();
afterAll(() => tmux.kill());

/** The CLI on a user's terminal pointed at the control plane by KUBECONFIG alone (as a user's would be). */
function start(args: string[], o: { width?: number } = {}): Pane {
  const env = { KUBECONFIG: controlPlane().kubeconfig, ROBUSTMQ_INSTALL_KUBECTL: kubectlPath() };
  return tmux.start([...args, '--helm', helmPath(4)], { env, width: o.width });
}

/** README material (scripts/readme-screens.mjs) */
function keep(name: string, screen: string): void {
  const dir = process.env.ROBUSTMQ_TTY_CAPTURE_DIR;
  if (dir) writeFileSync(join(dir, `${name}.txt`), screen.replace(/\nEXIT=[\s\S]*$/, '\n'));
}

async function answer(pane: Pane, question: RegExp, ...keys: (string | { type: string })[]): Promise<void> {
  const s = await pane.waitFor(new RegExp(`\\? ${question.source}`), `the question ${question}`);
  const answered = s.match(/^✔ /gm)?.length ?? 0;
  for (const k of keys) if (typeof k === 'string') pane.keys(k); else pane.type(k.type);
  await pane.waitFor(/^✔ /m, `the answer to ${question}`, { count: answered + 1 });
}

const sts = async (ns: string, release: string) => (await kubectlJson(['get', 'statefulset', '-n', ns, '-l', `app.kubernetes.io/instance=${release}`])).items[0];
const userValues = async (ns: string, release: string) => JSON.parse((await helm(4, ['get', 'values', release, '-n', ns, '-o', 'json'])).stdout) as Record<string, any>;
const released = async (ns: string, release: string) => (await helm(4, ['status', release, '-n', ns])).code === 0;

describe('upgrade wizard, rollback picker and uninstall confirm on one release', () => {
  const ns = 'e2e-tty';
  const release = 'up';
  const sel = ['-n', ns, '--release', release];
  afterAll(() => dropNamespace(ns));

  it('upgrade on a terminal asks, defaults to what runs, shows install-only values, plans, confirms and upgrades', async () => {
    await cliExpect(0, ['--preset', 'dev', '--yes', '--skip-smoke', ...sel], { cwd: workdir('tty-up') });
    const pane = start(['upgrade', '--skip-smoke', ...sel]);
    const first = await pane.waitFor(/\? Pods \(combined\) \(1\)/, 'the first question, defaulting to the running 1');
    expect(first).toMatch(/Upgrade RobustMQ release up \(revision 1\)/);
    for (const fixed of [/Release name: up \(fixed at install\)/, /Namespace: e2e-tty \(fixed at install\)/, /Topology: combined \(fixed at install\)/]) {
      expect(first).toMatch(fixed);
    }
    expect(first).not.toMatch(/Environment/);
    pane.type('3');
    pane.keys('Enter');
    await answer(pane, /Meta voters among them \(odd, at most 3\) \(1\)/, 'Enter');
    await pane.waitFor(/StorageClass: \(the cluster default\) \(fixed at install\)\n\s+Volume size per pod: 2Gi \(fixed at install\)/, 'the storage shown, not asked');
    await answer(pane, /Change CPU or memory\? \(now combined 100m\/256Mi, limit 1Gi\)/, { type: 'y' }, 'Enter');
    await answer(pane, /CPU request per pod \(100m\)/, { type: '200m' }, 'Enter');
    await answer(pane, /Memory request per pod \(256Mi\)/, 'Enter');
    await pane.waitFor(/\? Memory limit per pod \(1Gi\)/, 'the memory limit');
    pane.type('100Mi');
    pane.keys('Enter');
    await pane.waitFor(/below the memory request \(256Mi\): a limit must be at least the request/, 'the limit refused');
    pane.keys('BSpace', 'BSpace', 'BSpace', 'BSpace', 'BSpace');
    pane.type('2Gi');
    pane.keys('Enter');
    await pane.waitFor(/✔ Memory limit per pod 2Gi/, 'the limit');
    await pane.waitFor(/❯ v0\.4\.11 \(running now\)/, 'the tested RobustMQ version, marked as running');
    await answer(pane, /RobustMQ version \(image tag\)/, 'Enter');
    await answer(pane, /Expose MQTT over WebSocket through an Ingress\? \(y\/N\)/, { type: 'y' }, 'Enter');
    await pane.waitFor(/❯ nginx \(default\)/, "the cluster's IngressClass");
    await answer(pane, /IngressClass/, 'Enter');
    await answer(pane, /WebSocket host name \(mqtt\.e2e-tty\.example\.com\)/, { type: 'mqtt.example.com' }, 'Enter');
    await pane.waitFor(/\? How do MQTT clients reach the brokers\?/, 'the Service type');
    pane.keys('Down');
    await pane.waitFor(/❯ NodePort/, 'NodePort highlighted');
    pane.keys('Enter');
    const plan = await pane.waitFor(/\? Create a ServiceMonitor|\? Upgrade release up\? \(Y\/n\)/, 'monitoring or the confirm');
    if (/\? Create a ServiceMonitor/.test(plan)) {
      pane.keys('Enter');
      await pane.waitFor(/\? Upgrade release up\? \(Y\/n\)/, 'the confirm');
    }
    const s = pane.screen();
    // the values-level plan: changed keys only, current → new
    expect(s).toMatch(/Upgrade plan for release up in e2e-tty \(revision 1, chart 0\.1\.0\), values current → new:/);
    expect(s).toMatch(/replicas:\n\s+combined\.replicaCount: 1 → 3/);
    expect(s).toMatch(/resources:\n\s+combined\.resources\.limits\.memory: 1Gi → 2Gi\n\s+combined\.resources\.requests\.cpu: 100m → 200m\n/);
    expect(s).toMatch(/WebSocket ingress:\n\s+ingress\.className: \(unset\) → nginx\n\s+ingress\.enabled: \(unset\) → true\n\s+ingress\.hosts: \(unset\) → \["mqtt\.example\.com"\]/);
    expect(s).toMatch(/MQTT exposure:\n\s+service\.type: \(unset\) → NodePort/);
    // questions left at what runs change nothing and pin nothing
    expect(s).not.toMatch(/image\.tag:|metaReplicas:|requests\.memory:/);
    expect(s).toMatch(/Preflight/);
    pane.keys('Enter');
    const { code, screen } = await pane.exit(3000);
    keep('upgrade-wizard', screen);
    expect(code, screen).toBe(0);
    expect(screen).toMatch(/release up revision 2 deployed/);

    const st = await sts(ns, release);
    expect(st.spec.replicas).toBe(3);
    const c = st.spec.template.spec.containers.find((x: any) => x.name === 'robustmq');
    expect(c.resources).toMatchObject({ requests: { cpu: '200m', memory: '256Mi' }, limits: { memory: '2Gi' } });
    const svcs = (await kubectlJson(['get', 'services', '-n', ns, '-l', `app.kubernetes.io/instance=${release}`])).items;
    expect(svcs.some((x: any) => x.spec.type === 'NodePort')).toBe(true);
    const ing = (await kubectlJson(['get', 'ingress', '-n', ns])).items;
    expect(ing[0].spec.rules[0].host).toBe('mqtt.example.com');
    const v = await userValues(ns, release);
    expect(v.combined.replicaCount).toBe(3);
    expect(v.image?.tag).toBeUndefined();
    expect(parse(readFileSync(join(pane.cwd, 'robustmq-values.yaml'), 'utf8'))).toMatchObject({ service: { type: 'NodePort' } });
  });

  it('a scale-down names the pods that leave and what goes with them; "no" keeps the release as it is', async () => {
    const pane = start(['upgrade', '--skip-smoke', ...sel]);
    await pane.waitFor(/\? Pods \(combined\) \(3\)/, 'the pods question at the running 3');
    pane.type('1');
    pane.keys('Enter');
    // the prompt wraps its long message at the pane's width: compare it as one line
    const s = (await pane.waitFor(/\? combined pods 3 → 1: [\s\S]*Scale down\? \(y\/N\)/, 'the scale-down warning')).replace(/\n/g, ' ');
    expect(s).toMatch(/combined pods 3 → 1: up-robustmq-2 and up-robustmq-1 leave; their MQTT clients are disconnected and must reconnect to the other pods, and the data their engines hold is no longer served\. Their PVCs are kept; clear their node ids afterwards with cluster node leave\. Scale down\?/);
    pane.keys('Enter');
    await pane.waitFor(/✔ combined pods 3 → 1/, 'the answer');
    for (const q of [/Meta voters among them/, /Change CPU or memory\?/, /RobustMQ version/, /Expose MQTT over WebSocket/, /IngressClass/, /WebSocket host name/, /How do MQTT clients reach the brokers\?/]) await answer(pane, q, 'Enter');
    const next = await pane.waitFor(/\? Create a ServiceMonitor|^EXIT=\d+$/m, 'monitoring or the end');
    if (/\? Create a ServiceMonitor/.test(next)) pane.keys('Enter');
    const { code, screen } = await pane.exit();
    expect(code, screen).toBe(0);
    expect(screen).toMatch(/no value changes: release up stays at revision 2; nothing was written/);
    expect((await history(4, release, ns)).length).toBe(2);
    expect((await sts(ns, release)).spec.replicas).toBe(3);
  });

  it('rollback picker: arrow keys choose the revision, and that one is rolled back to', async () => {
    await cliExpect(0, ['upgrade', '--yes', '--skip-smoke', ...sel, '--set', 'combined.replicaCount=2'], { cwd: workdir('tty-up3') });
    const pane = start(['rollback', '--skip-smoke', ...sel]);
    // newest first; the default is the last good revision before the current one
    const s = await pane.waitFor(/\? Roll back up to which revision\?[\s\S]*❯ 2 /, 'the picker on revision 2');
    expect(s).toMatch(/3 +deployed[^\n]*\(current\)/);
    pane.keys('Down');
    await pane.waitFor(/❯ 1 +superseded/, 'revision 1 highlighted');
    pane.keys('Enter');
    const { code, screen } = await pane.exit(3000);
    expect(code, screen).toBe(0);
    const h = await history(4, release, ns);
    expect(h.at(-1)).toMatchObject({ revision: 4, status: 'deployed', description: 'Rollback to 1' });
    expect((await sts(ns, release)).spec.replicas).toBe(1);
    expect((await userValues(ns, release)).combined.replicaCount).toBe(1);
  });

  it('uninstall --delete-data: the wrong name refuses and deletes nothing; the release name deletes it and its data', async () => {
    const pvcs = async () => (await kubectlJson(['get', 'pvc', '-n', ns, '-l', `app.kubernetes.io/instance=${release}`])).items.length;
    const before = await pvcs();
    expect(before).toBeGreaterThan(0);
    const wrong = start(['uninstall', '--delete-data', ...sel]);
    await wrong.waitFor(/\? type the release name \(up\) to delete it and its data/, 'the typed confirm');
    expect(wrong.screen()).toMatch(/will be DELETED: the data is gone for good/);
    wrong.type('upp');
    wrong.keys('Enter');
    const w = await wrong.exit();
    expect(w.code).toBe(130);
    expect(w.screen).toMatch(/^Error: not confirmed$/m);
    expect(await released(ns, release)).toBe(true);
    expect(await pvcs()).toBe(before);

    const right = start(['uninstall', '--delete-data', ...sel]);
    await right.waitFor(/\? type the release name \(up\) to delete it and its data/, 'the typed confirm');
    right.type('up');
    right.keys('Enter');
    const r = await right.exit(3000);
    expect(r.code, r.screen).toBe(0);
    expect(await released(ns, release)).toBe(false);
    expect(await pvcs()).toBe(0);
    expect((await kubectlTry(['get', 'secret', '-n', ns, `${release}-credentials`])).code).not.toBe(0);
  });
});

describe('the prod context confirm', () => {
  const ns = 'e2e-tty-prod';
  afterAll(() => dropNamespace(ns));

  it('the wrong context name is refused at the prompt; the right one installs', async () => {
    const pane = start(['--preset', 'prod', '-n', ns, '--release', 'p', '--skip-smoke']);
    const s = await pane.waitFor(/\? prod: type the context name \(admin\) to continue/, 'the typed context');
    expect(s).toMatch(/About to install:\n\s+context: +admin\n\s+API server: +https:\/\/127\.0\.0\.1:\d+\n\s+namespace: +e2e-tty-prod/);
    pane.type('amdin');
    pane.keys('Enter');
    await pane.waitFor(/that is not admin/, 'the refusal');
    expect(pane.files()).toEqual([]);
    expect(await released(ns, 'p')).toBe(false);
    pane.keys('BSpace', 'BSpace', 'BSpace', 'BSpace', 'BSpace');
    pane.type('admin');
    pane.keys('Enter');
    const { code, screen } = await pane.exit(3000);
    expect(code, screen).toBe(0);
    expect(await released(ns, 'p')).toBe(true);
    expect(pane.files()).toEqual(['robustmq-values.yaml']);
  });
});

describe('Ctrl-C and Ctrl-D at every cluster prompt: "aborted", exit 130, nothing written, nothing changed', () => {
  const ns = 'e2e-tty-cancel';
  const release = 'c';
  const sel = ['-n', ns, '--release', release];
  afterAll(() => dropNamespace(ns));
  let ready: Promise<void> | undefined;
  /** one release with two revisions, made once */
  const setup = () =>
    (ready ??= (async () => {
      const cwd = workdir('tty-cancel');
      await cliExpect(0, ['--preset', 'dev', '--yes', '--skip-smoke', ...sel], { cwd });
      await cliExpect(0, ['upgrade', '--yes', '--skip-smoke', ...sel, '--set', 'combined.replicaCount=2'], { cwd });
    })());

  const prompts: [string, string[], RegExp][] = [
    ['the install confirm', ['--preset', 'dev', '-n', ns, '--release', 'fresh', '--skip-smoke'], /\? Install\? \(Y\/n\)/],
    ['the prod typed context', ['--preset', 'prod', '-n', ns, '--release', 'fresh', '--skip-smoke'], /\? prod: type the context name \(admin\)/],
    ['an upgrade wizard question', ['upgrade', ...sel], /\? Pods \(combined\) \(2\)/],
    ['the upgrade confirm', ['upgrade', ...sel, '--set', 'combined.replicaCount=3'], /\? Upgrade release c\? \(Y\/n\)/],
    ['the rollback picker', ['rollback', ...sel], /\? Roll back c to which revision\?/],
    ['the rollback confirm', ['rollback', '1', ...sel], /\? Roll back c in e2e-tty-cancel .* from revision 2 to 1\? \(Y\/n\)/],
    ['the uninstall confirm', ['uninstall', ...sel], /\? Uninstall c from e2e-tty-cancel on admin\? \(y\/N\)/],
    ['the uninstall typed name', ['uninstall', '--delete-data', ...sel], /\? type the release name \(c\)/],
  ];
  for (const [what, args, prompt] of prompts) {
    for (const key of ['C-c', 'C-d'] as const) {
      it(`${key === 'C-c' ? 'Ctrl-C' : 'Ctrl-D'} at ${what}`, async () => {
        await setup();
        const pane = start(args);
        await pane.waitFor(prompt, what);
        pane.keys(key);
        await expectCancelled(pane);
        const h = await history(4, release, ns);
        expect(h.map((r) => r.status)).toEqual(['superseded', 'deployed']);
        expect(await released(ns, 'fresh')).toBe(false);
        expect((await kubectlTry(['get', 'secret', '-n', ns, 'fresh-credentials'])).code).not.toBe(0);
      });
    }
  }
});
