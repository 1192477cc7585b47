// vitest globalSetup of the `node` project: ONE real node per run (two cores carry one), torn down when the run
// ends, and then checked: a run fails if the node left anything on the host (process, mount, veth, netns, cgroup,
// firewall rule, sysctl). Tests reach it through
//   import { inject } from 'vitest';  const node = inject('realNode');   // RealNodeInfo
// It is also provided as `controlPlane` (kubeconfig, context admin), so the e2e helpers of test/e2e/cli.ts (the
// built CLI, kubectl, helm, pods, eventually) work unchanged against the real node. KUBECONFIG points at it too.
import type { TestProject } from 'vitest/node';
import { CONTEXTS, type ControlPlaneInfo } from '../controlplane.ts';
import { hostLeftovers, hostSnapshot, startRealNode, type HostSnapshot, type RealNode, type RealNodeInfo } from '../realnode.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    realNode: RealNodeInfo;
  }
}

let node: RealNode | undefined;
let before: HostSnapshot | undefined;

export async function setup(project: TestProject): Promise<void> {
  before = await hostSnapshot();
  node = await startRealNode({ log: (line) => console.log(line) });
  const info = node.info();
  project.provide('realNode', info);
  // Only the admin context exists in the node's kubeconfig; scenarios that need limited/exec/unreachable users
  // stay on the kwok control plane.
  const compat: ControlPlaneInfo = {
    dir: info.dir, kubeconfig: info.kubeconfig, contexts: CONTEXTS, server: info.server, k8sVersion: info.k8sVersion,
    nodes: [{ name: info.nodeName, zone: 'zone-a' }], startSeconds: info.startSeconds,
  };
  project.provide('controlPlane', compat);
  process.env.KUBECONFIG = info.kubeconfig;
  console.log(`node: real node ${info.nodeName} (${info.k8sVersion}) at ${info.server} started in ${info.startSeconds}s; KUBECONFIG=${info.kubeconfig}`);
}

export async function teardown(): Promise<void> {
  if (!node) return;
  const t0 = Date.now();
  const info = node.info();
  await node.stop();
  const left = await hostLeftovers(info, before);
  console.log(`node: real node stopped in ${((Date.now() - t0) / 1000).toFixed(1)}s; left on the host: ${left.length ? left.join('; ') : 'nothing'}`);
  if (left.length) throw new Error(`the real node left things on the host:\n${left.join('\n')}`);
}
