// Issue 9 scenarios 5 and 7 and the second StorageClass, on ONE `--preset dev` release (one install for three checks):
//  5. in a namespace enforcing Pod Security `restricted`, the pods are admitted AND run: runc really applies the
//     security context (uid/gid 999, read-only root, no capabilities, no_new_privs, seccomp), read from the running
//     container itself;
//  - its volume is on `local-path` (root-owned 0777 directory, fsGroup ignored): the server writes its data as 999;
//  - the CLI says STAND-IN in every health report (install, status), since the server is the stand-in;
//  7. SIGINT to the CLI during a real rollout (the restarted pod really waits for a leader: the stand-in's stale
//     window set to 10 min through combined.extraEnvVars) leaves the release failed, never pending, and the next
//     upgrade goes on from there with the data kept.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliExpect, dropNamespace, eventually, helm, history, isReady, kubectl, kubectlJson, kubectlTry, pods, releaseStatus, startCli, workdir } from '../e2e/cli.ts';
import { imageSets, secs, serverStatus, standinImage } from './node-helpers.ts';

const ns = 'node-psa';
const release = 'psa';
const sel = ['-n', ns, '--release', release];
const pod = `${release}-robustmq-0`;

function staleEnv(file: string, ms: number): string {
  writeFileSync(file, `combined:\n  extraEnvVars:\n    - name: STANDIN_STALE_LEADER_MS\n      value: "${ms}"\n`);
  return file;
}

describe('--preset dev under Pod Security restricted, on the local-path class', () => {
  const cwd = workdir('node-psa');
  afterAll(() => dropNamespace(ns));

  it('is admitted and runs as 999 with a read-only root, no capabilities and seccomp; data on local-path as 999', async () => {
    const t0 = Date.now();
    await kubectl(['create', 'namespace', ns]);
    await kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/enforce-version=latest']);
    const r = await cliExpect(0, ['--preset', 'dev', '--yes', ...sel, '--timeout', '8m', ...imageSets(), '--set', 'combined.persistence.storageClass=local-path'], { cwd });
    expect(r.stderr).not.toMatch(/violates PodSecurity/);
    expect(r.stderr).toContain(`STAND-IN: the servers run ${standinImage()}`);
    expect(r.stderr).toMatch(/✔ RobustMQ STAND-IN: 1 nodes registered/);
    expect(r.stderr).toMatch(/helm test \(MQTT publish\/subscribe round trip\): passed \(STAND-IN server and cli-command\)/);
    const events = (await kubectlJson<{ items: any[] }>(['get', 'events', '-n', ns])).items;
    expect(events.filter((e) => e.reason === 'FailedCreate').map((e) => e.message)).toEqual([]);
    const live = await pods(ns, release);
    expect(live.map((p) => p.metadata.name)).toEqual([pod]);
    expect(isReady(live[0])).toBe(true);
    for (const s of live[0].status.initContainerStatuses ?? []) expect(s.state.terminated, s.name).toMatchObject({ exitCode: 0 });
    const pvcs = (await kubectlJson<{ items: any[] }>(['get', 'pvc', '-n', ns])).items;
    expect(pvcs.map((c) => [c.status.phase, c.spec.storageClassName])).toEqual([['Bound', 'local-path']]);

    // from inside the running server container: what runc applied, not what the spec asked for
    const probe = await kubectl(['exec', '-n', ns, pod, '-c', 'robustmq', '--', 'bash', '-c', [
      'echo "uid=$(id -u) gid=$(id -g)"',
      'if touch /rootfs-probe 2>/dev/null; then echo "root: writable"; else echo "root: read-only"; fi',
      'grep -E "^(CapEff|CapPrm|CapBnd|NoNewPrivs|Seccomp):" /proc/1/status',
      'echo "data dir: $(stat -c "%u:%g %a" /robustmq/data)"',
      'echo "raft state: $(stat -c "%u" /robustmq/data/_rocksdb/standin-meta.json)"',
      'touch /robustmq/data/.probe && rm /robustmq/data/.probe && echo "data: writable"',
    ].join('\n')]);
    expect(probe).toMatch(/^uid=999 gid=999$/m);
    expect(probe).toMatch(/^root: read-only$/m);
    for (const cap of ['CapEff', 'CapPrm', 'CapBnd']) expect(probe).toMatch(new RegExp(`^${cap}:\\s+0000000000000000$`, 'm'));
    expect(probe).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(probe).toMatch(/^Seccomp:\s+2$/m); // 2 = filter mode: RuntimeDefault is loaded
    // local-path: the kubelet left the directory as the provisioner made it (fsGroup not applied)
    expect(probe).toMatch(/^data dir: 0:0 777$/m);
    expect(probe).toMatch(/^raft state: 999$/m);
    expect(probe).toMatch(/^data: writable$/m);

    const st = await cliExpect(0, ['status', ...sel], { cwd });
    expect(st.stderr).toContain(`STAND-IN: the servers run ${standinImage()}`);
    expect(st.stderr).toMatch(/^  Raft \(STAND-IN\): .*metadata_0: leader psa-robustmq-0 \(node 1\)/m);
    console.log(`node-psa: restricted + local-path install and checks took ${secs(t0)}s`);
  });

  it('SIGINT during a real rollout (--helm-wait) leaves the release failed, not pending; the next upgrade goes on with the data', async () => {
    const t0 = Date.now();
    const before = await kubectlJson(['get', 'pod', '-n', ns, pod]);
    const pvcUid = (await kubectlJson(['get', 'pvc', '-n', ns, `data-${pod}`])).metadata.uid;
    // --helm-wait: helm itself waits for the rollout, so it is interrupted mid-wait (pending-upgrade) and must end failed
    const run = startCli(['upgrade', '--yes', '--helm-wait', ...sel, '--timeout', '8m', '-f', staleEnv(join(cwd, 'slow.yaml'), 600_000)], { cwd });
    // a real rollout under way: the new pod runs, its readiness probe has said why it waits (no leader has answered
    // since it started: its stale window), and helm waits for it
    const waiting = await eventually('the new pod running and failing readiness while helm is pending-upgrade', async () => {
      const p = (await kubectlTry(['get', 'pod', '-n', ns, pod, '-o', 'json'])).stdout;
      if (!p) return undefined;
      const o = JSON.parse(p);
      if (o.metadata.uid === before.metadata.uid || !serverStatus(o)?.state?.running || isReady(o)) return undefined;
      const unhealthy = await kubectl(['get', 'events', '-n', ns, '--field-selector', `involvedObject.uid=${o.metadata.uid},reason=Unhealthy`, '-o', 'jsonpath={.items[*].message}']);
      if (!unhealthy) return undefined;
      const pending = (await helm(4, ['status', release, '-n', ns, '-o', 'json'])).stdout.includes('pending-upgrade');
      return pending ? { pod: o, unhealthy } : undefined;
    }, 180_000);
    expect(waiting.unhealthy).toMatch(/not ready: this node names itself leader of \S+ but is Follower/);
    expect(run.child.exitCode).toBeNull();
    run.child.kill('SIGINT');
    const r = await run.result;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/SIGINT: stopping/);
    expect(r.stderr).toMatch(/interrupted \(SIGINT\): helm exited \d+; release psa is failed \(revision 2\)/);
    expect(await releaseStatus(4, release, ns)).toBe('failed');
    expect((await history(4, release, ns)).some((x) => x.status.startsWith('pending-'))).toBe(false);

    const next = await cliExpect(0, ['upgrade', '--yes', ...sel, '--timeout', '8m', '-f', staleEnv(join(cwd, 'fast.yaml'), 2_000)], { cwd });
    expect(next.stderr).toMatch(/the latest revision 2 of psa is failed; the upgrade will replace it/);
    expect(next.stderr).toMatch(/release psa revision 3 deployed/);
    expect(next.stderr).toMatch(/RobustMQ STAND-IN: 1 nodes registered/);
    expect(next.stderr).toMatch(/helm test \(MQTT publish\/subscribe round trip\): passed/);
    expect(await releaseStatus(4, release, ns)).toBe('deployed');
    // the same volume: the MQTT user of the first start (from the persisted Raft state) passed the round trip
    expect((await kubectlJson(['get', 'pvc', '-n', ns, `data-${pod}`])).metadata.uid).toBe(pvcUid);
    console.log(`node-psa: Ctrl-C during a rollout and the recovery upgrade took ${secs(t0)}s`);
  });
});
