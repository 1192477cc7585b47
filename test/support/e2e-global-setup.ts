// vitest globalSetup of the e2e project: ONE control plane per suite run (two cores don't carry several), torn
// down when the run ends. Tests reach it through
//   import { inject } from 'vitest';  const cp = inject('controlPlane');  // ControlPlaneInfo: kubeconfig, contexts...
// and KUBECONFIG is pointed at it too, so nothing a test spawns can touch a real cluster by accident.
// To poke at the same cluster by hand: npx tsx test/support/run-controlplane.ts
import type { TestProject } from 'vitest/node';
import { startControlPlane, type ControlPlane, type ControlPlaneInfo } from './controlplane.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    controlPlane: ControlPlaneInfo;
  }
}

let cp: ControlPlane | undefined;

export async function setup(project: TestProject): Promise<void> {
  cp = await startControlPlane({ log: (line) => console.log(line) });
  const info = cp.info();
  project.provide('controlPlane', info);
  process.env.KUBECONFIG = info.kubeconfig;
  process.env.ROBUSTMQ_E2E_KUBECONFIG = info.kubeconfig;
  console.log(`e2e: control plane ${info.k8sVersion} at ${info.server} started in ${info.startSeconds}s; KUBECONFIG=${info.kubeconfig}`);
}

export async function teardown(): Promise<void> {
  const t0 = Date.now();
  await cp?.stop();
  console.log(`e2e: control plane stopped in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
}
