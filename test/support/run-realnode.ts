// A real single-node cluster by hand, to try the CLI on: it stays up after this command returns.
//   npm run node:up [-- --yes]    start it (asks first: it needs root and changes the host), print export KUBECONFIG=...
//   npm run node:down [-- --all]  remove it and everything it made; --all: also real nodes of crashed test runs
// The node is the one the `node` test project uses (test/support/realnode.ts); its state dir is fixed, so there is
// one by-hand node at a time and node:down finds it.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { DIR_PREFIX, hostLeftovers, nodeDirs, nodeIsLive, startRealNode, teardown } from './realnode.ts';

const dir = path.join(os.tmpdir(), `${DIR_PREFIX}byhand`);
const [command = 'up', ...flags] = process.argv.slice(2);

function exportLine(): string {
  return `export KUBECONFIG=${path.join(dir, 'kubeconfig')}`;
}

async function confirm(): Promise<boolean> {
  console.error(`This starts a single-node Kubernetes cluster with a real kubelet on THIS machine. It needs root, and
besides its own mount, PID and network namespaces (gone when it stops) it changes the host:
  - a veth interface rmqnode<N> with address 10.250.<N>.1/30 (the way to the apiserver at 10.250.<N>.2:6443);
    no route or NAT off the machine is added, and pods cannot reach outside their namespace;
  - cgroup directories /sys/fs/cgroup/*/robustmq-node-<N> (the kubelet's cgroupRoot);
  - kernel sysctls the kubelet sets at start: vm.overcommit_memory=1, vm.panic_on_oom=0, kernel.panic=10,
    kernel.panic_on_oops=1, kernel.keys.root_maxkeys/root_maxbytes (the old values are restored by node:down);
  - its state (etcd, images, volumes, logs) in ${dir}.
\`npm run node:down\` removes all of it.`);
  if (flags.includes('--yes') || flags.includes('-y')) return true;
  if (!process.stdin.isTTY) {
    console.error('Not a terminal: pass --yes to start it anyway (npm run node:up -- --yes).');
    return false;
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question('Start it? [y/N] ');
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}

async function up(): Promise<number> {
  if (process.getuid?.() !== 0) {
    console.error('node:up needs root (namespaces, mounts, cgroups, the veth). Run it as root, e.g. sudo npm run node:up.');
    return 1;
  }
  if (existsSync(dir)) {
    if (nodeIsLive(dir)) {
      console.error(`The node is already up (${dir}).`);
      console.log(exportLine());
      return 0;
    }
    console.error(`Removing what is left of an earlier node in ${dir}`);
    await teardown(dir);
  }
  if (!(await confirm())) return 1;
  const node = await startRealNode({ dir, watchdog: false, log: (line) => console.error(line) });
  console.error(`Node ${node.nodeName} is up after ${node.startSeconds}s; apiserver ${node.server}; logs in ${dir}/logs.`);
  console.error(`Images in its containerd: ${[node.images.robustmq, node.images.pause, node.images.backup].filter(Boolean).join(', ')} (nothing is ever pulled).`);
  if (node.images.robustmq) {
    const [registry, ...rest] = node.images.robustmq.split('/');
    const [repository, tag] = rest.join('/').split(':');
    console.error(`Try: npx robustmq-install --preset dev --set image.registry=${registry} --set image.repository=${repository} --set image.tag=${tag}`);
  }
  if (node.images.backup) {
    const [registry, ...rest] = node.images.backup.split('/');
    const [repository, tag] = rest.join('/').split(':');
    console.error(`Scheduled backups: --set backup.image.registry=${registry} --set backup.image.repository=${repository} --set backup.image.tag=${tag}`);
  }
  console.error('Stop it with: npm run node:down');
  console.log(exportLine());
  return 0;
}

async function down(): Promise<number> {
  const dirs = flags.includes('--all') ? nodeDirs() : existsSync(dir) ? [dir] : [];
  if (dirs.length === 0) {
    console.error('No real node to remove.');
    return 0;
  }
  let rc = 0;
  for (const d of dirs) {
    const { veth, nsPidNs } = envOf(d);
    const t0 = Date.now();
    await teardown(d).catch((e) => {
      console.error(String(e));
      rc = 1;
    });
    const left = await hostLeftovers({ dir: d, veth, nsPidNs });
    console.error(`Removed the node in ${d} in ${((Date.now() - t0) / 1000).toFixed(1)}s; left on the host: ${left.length ? left.join('; ') : 'nothing'}`);
    if (left.length) rc = 1;
  }
  return rc;
}

function envOf(d: string): { veth: string; nsPidNs?: string } {
  try {
    const env = readFileSync(path.join(d, 'realnode.env'), 'utf8');
    return { veth: /VETH='([^']+)'/.exec(env)?.[1] ?? '', nsPidNs: /NS_PIDNS='([^']+)'/.exec(env)?.[1] || undefined };
  } catch {
    return { veth: '' };
  }
}

const commands: Record<string, () => Promise<number>> = { up, down };
const fn = commands[command];
if (!fn) {
  console.error('usage: tsx test/support/run-realnode.ts up [--yes] | down [--all]');
  process.exit(2);
}
// Explicit exit: the node's processes are detached and must not keep this one alive (nor be waited for).
process.exit(
  await fn().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    return 1;
  }),
);
