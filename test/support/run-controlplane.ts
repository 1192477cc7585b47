// Starts the test control plane by hand and keeps it until Ctrl-C:  npx tsx test/support/run-controlplane.ts
// Prints the kubeconfig to use (export KUBECONFIG=...). Handy to try a chart or the CLI against the simulation.
import { startControlPlane } from './controlplane.ts';

const cp = await startControlPlane({ log: (line) => console.error(line) });
console.log(`export KUBECONFIG=${cp.kubeconfig}`);
console.log(`contexts: ${Object.values(cp.contexts).join(', ')}; logs: ${cp.dir}/logs; Ctrl-C (or kill -INT ${process.pid}) stops it`);
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await cp.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
setInterval(() => {}, 1 << 30);
