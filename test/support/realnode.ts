// A single-node Kubernetes cluster with a REAL node, for the tests that need containers to run: etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, containerd (runc), kubelet, kube-proxy (iptables mode),
// CoreDNS, a small volume provisioner and CSI snapshots (the test-only hostpath driver, csi-provisioner,
// csi-snapshotter, snapshot-controller), all as processes inside ONE set of mount, PID, network, UTS and IPC
// namespaces made with unshare. Needs root.
//
//   const node = await startRealNode();   // ~tens of seconds from cached binaries and images
//   node.kubeconfig                        // context "admin"; the apiserver is https://<nodeIP>:6443
//   await node.stop();                     // kills the namespace's PID 1: every process, mount and interface goes
//
// Network: the namespace's only links are lo, a dummy for the Service range, the pod bridge cni0, and one end of a
// veth pair whose host end (rmqnode<N>, 10.250.N.1/30) is how the host's tests, CLI and kubectl reach the
// apiserver at 10.250.N.2. No default route anywhere in the namespace; pods cannot start connections out of it.
// Layout, DNS, storage and what the node still changes on the host: test/support/README.md, "The real node".
// A watchdog process tears everything down if the process that started the node dies without stop().
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { controlPlaneBinaries, K8S_VERSION } from './controlplane.ts';
import { kubectlPath } from './tools.ts';
import { caCommand, controlPlaneLeaves, httpsGet, leaf, run, secs, sleep, tailOf } from './proc.ts';
import {
  cniConflist, containerdConfig, CONTAINERD_SOCKET, corefile, guardRuleset, kubeletConfig, kubeProxyConfig, registryHostsToml, type NodeLayout,
} from './realnode/configs.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const assets = path.join(here, 'realnode');
const ROOT = path.join(here, '..', '..');

export const NODE_NAME = 'robustmq-node';
export const REALNODE_SERVICE_CIDR = '10.96.0.0/16';
export const REALNODE_CLUSTER_CIDR = '10.244.0.0/16';
export const REALNODE_POD_SUBNET = '10.244.0.0/24';
export const REALNODE_DNS_IP = '10.96.0.10';
/**
 * CSI snapshots on the node (realnode/csi-objects.yaml, csi-snapshot-classes.yaml): the test-only driver's name, its
 * StorageClass (the node's default class), and its VolumeSnapshotClasses (Retain is the default snapshot class).
 */
export const REALNODE_CSI = {
  csiDriver: 'hostpath.csi.robustmq-install.test',
  csiStorageClass: 'csi-hostpath',
  snapshotClassRetain: 'csi-hostpath-retain',
  snapshotClassDelete: 'csi-hostpath-delete',
} as const;
/**
 * Default StorageClass (the CSI driver's, fsGroup applied by the kubelet) and the local-path-like one
 * (realnode/provisioner.mjs: 0777 dirs, fsGroup ignored).
 */
export const REALNODE_STORAGE_CLASSES = { default: REALNODE_CSI.csiStorageClass, fsGroupIgnored: 'local-path' } as const;
const SNAPSHOT_CRDS = ['volumesnapshotclasses', 'volumesnapshotcontents', 'volumesnapshots'].map((r) => `crd/${r}.snapshot.storage.k8s.io`);
/** Prefix of the state dirs (under os.tmpdir()); `node:down --all` sweeps them. */
export const DIR_PREFIX = 'robustmq-realnode-';
/** Sysctls the kubelet sets at start on the host (not namespaced): saved before, restored by teardown. */
const KUBELET_SYSCTLS = ['vm.overcommit_memory', 'vm.panic_on_oom', 'kernel.panic', 'kernel.panic_on_oops', 'kernel.keys.root_maxkeys', 'kernel.keys.root_maxbytes'];

export interface NodeBinaries {
  kubelet: string;
  kubeProxy: string;
  containerd: string;
  ctr: string;
  shim: string;
  coredns: string;
  runc: string;
  cniBinDir: string;
  /** The static pause binary test/images/build.sh makes the sandbox image from. */
  pause: string;
  snapshotController: string;
  csiSnapshotter: string;
  csiProvisioner: string;
  /** The test-only CSI driver (test/csi-hostpath). */
  csiHostpath: string;
  /** Dir of the snapshot.storage.k8s.io v1 CRDs, from the external-snapshotter client module. */
  snapshotCrds: string;
}

export interface NodeImages {
  /** Name of the pause image in its archive (the sandbox image). */
  pause: string;
  pauseArchive: string;
  /** The RobustMQ replica (or, with ROBUSTMQ_IMAGE_ARCHIVE, the real image). */
  robustmq: string;
  robustmqArchive: string;
  /** The backup CronJob's image (localhost/backup-kubectl:<kubectl version>): sh, coreutils, sed and kubectl. */
  backup: string;
  backupArchive: string;
}

export interface RealNodeOptions {
  /** Parent of the state dir (default os.tmpdir()). Not under /run, /var/lib or /var/log: the namespace hides those. */
  parentDir?: string;
  /** A fixed state dir instead of a fresh temp one (the by-hand cluster of run-realnode.ts). */
  dir?: string;
  binaries?: NodeBinaries;
  images?: NodeImages;
  /** Tear down when this process exits without stop() (default true; run-realnode.ts's node outlives it). */
  watchdog?: boolean;
  /** Give up starting after this long (default 300 s). */
  startTimeoutMs?: number;
  log?: (line: string) => void;
}

/** Plain data, so vitest can `provide` it to test workers. */
export interface RealNodeInfo {
  dir: string;
  kubeconfig: string;
  context: 'admin';
  server: string;
  nodeName: string;
  nodeIP: string;
  hostIP: string;
  veth: string;
  k8sVersion: string;
  /** backup: for `--set backup.image.*` (backupImageSets() in test/node/node-helpers.ts); nothing is ever pulled. */
  images: { pause: string; robustmq: string; backup: string };
  storageClasses: typeof REALNODE_STORAGE_CLASSES;
  csiDriver: typeof REALNODE_CSI.csiDriver;
  csiStorageClass: typeof REALNODE_CSI.csiStorageClass;
  snapshotClassRetain: typeof REALNODE_CSI.snapshotClassRetain;
  snapshotClassDelete: typeof REALNODE_CSI.snapshotClassDelete;
  /** Seconds from startRealNode() to a Ready node with DNS and images. */
  startSeconds: number;
  /** Host PID of the namespace's PID 1, and its PID namespace ("pid:[inode]"). */
  nsPid: number;
  nsPidNs: string;
}

export interface RealNode extends RealNodeInfo {
  info(): RealNodeInfo;
  kubectl(args: string[], opts?: { input?: string }): Promise<string>;
  stop(): Promise<void>;
}

// --- tools and images -----------------------------------------------------------------------------------------

function keyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9_-]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/**
 * The node's binaries, from `scripts/provision.sh node` (idempotent: with everything cached it only prints the
 * paths; on a cold machine it builds, which is minutes).
 */
export async function nodeBinaries(): Promise<NodeBinaries> {
  const kv = keyValues(await run('bash', [path.join(ROOT, 'scripts', 'provision.sh'), 'node']));
  const need = (k: string) => {
    const v = kv[k];
    if (!v || !existsSync(v)) throw new Error(`scripts/provision.sh node did not give ${k}= (got: ${JSON.stringify(kv)})`);
    return v;
  };
  return {
    kubelet: need('kubelet'),
    kubeProxy: need('kube-proxy'),
    containerd: need('containerd'),
    ctr: need('ctr'),
    shim: need('containerd-shim-runc-v2'),
    coredns: need('coredns'),
    runc: need('runc'),
    cniBinDir: need('cni_bin_dir'),
    pause: need('pause'),
    snapshotController: need('snapshot-controller'),
    csiSnapshotter: need('csi-snapshotter'),
    csiProvisioner: need('csi-provisioner'),
    csiHostpath: need('csi-hostpath'),
    snapshotCrds: need('snapshot-crds'),
  };
}

/** The image archives, from test/images/build.sh (idempotent; honours ROBUSTMQ_IMAGE_ARCHIVE). */
export async function nodeImages(bins: Pick<NodeBinaries, 'pause'>): Promise<NodeImages> {
  const kv = keyValues(await run('bash', [path.join(ROOT, 'test', 'images', 'build.sh'), '--pause', bins.pause]));
  if (!kv.pause_image || !kv.pause_archive) throw new Error(`test/images/build.sh gave no pause image (got: ${JSON.stringify(kv)})`);
  if (!kv.robustmq_image || !kv.robustmq_archive) throw new Error(`test/images/build.sh gave no RobustMQ image (got: ${JSON.stringify(kv)})`);
  if (!kv.backup_image || !kv.backup_archive) throw new Error(`test/images/build.sh gave no backup image (got: ${JSON.stringify(kv)})`);
  return {
    pause: kv.pause_image, pauseArchive: kv.pause_archive, robustmq: kv.robustmq_image, robustmqArchive: kv.robustmq_archive,
    backup: kv.backup_image, backupArchive: kv.backup_archive,
  };
}

// --- start ----------------------------------------------------------------------------------------------------

interface Proc {
  name: string;
  child: ChildProcess;
  log: string;
  exited: boolean;
  exitInfo?: string;
}

export async function startRealNode(opts: RealNodeOptions = {}): Promise<RealNode> {
  const t0 = Date.now();
  const log = opts.log ?? (() => {});
  if (process.getuid?.() !== 0) throw new Error('the real node needs root (namespaces, mounts, cgroups, iptables)');
  const cp = controlPlaneBinaries();
  const bins = opts.binaries ?? (await nodeBinaries());
  const images = opts.images ?? (await nodeImages(bins));
  const deadline = t0 + (opts.startTimeoutMs ?? 300_000);
  const parent = opts.parentDir ?? os.tmpdir();
  if (/^\/(run|var\/run|var\/lib|var\/log)(\/|$)/.test(path.resolve(opts.dir ?? parent))) {
    throw new Error(`the node's state dir may not be under /run, /var/lib or /var/log (hidden inside its namespace)`);
  }
  let dir: string;
  if (opts.dir) {
    await mkdir(opts.dir, { recursive: false });
    dir = opts.dir;
  } else {
    dir = await mkdtemp(path.join(parent, DIR_PREFIX));
  }
  const procs: Proc[] = [];
  let watchdog: ChildProcess | undefined;
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await teardown(dir);
    if (watchdog?.pid) {
      try {
        process.kill(watchdog.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };

  try {
    for (const d of ['pki', 'logs', 'etcd', 'apiserver', 'kubelet', 'volumes', 'containerd/certs.d/_default', 'cni/net.d', 'cni/ipam']) {
      await mkdir(path.join(dir, d), { recursive: true });
    }
    const slot = pickSlot();
    const veth = `rmqnode${slot}`;
    const hostIP = `10.250.${slot}.1`;
    const nodeIP = `10.250.${slot}.2`;
    const cgroupRoot = `robustmq-node-${slot}`;
    const env = { NS_PID: '', NS_PIDNS: '', VETH: veth, CGROUP_ROOT: cgroupRoot };
    const writeEnv = () => writeFileSync(path.join(dir, 'realnode.env'), Object.entries(env).map(([k, v]) => `${k}='${v}'\n`).join(''));
    writeEnv();
    if (opts.watchdog !== false) watchdog = startWatchdog(dir);
    await saveSysctls(dir);

    const layout: NodeLayout = {
      dir, nodeName: NODE_NAME, nodeIP, podSubnet: REALNODE_POD_SUBNET, podGateway: '10.244.0.1', clusterCIDR: REALNODE_CLUSTER_CIDR,
      serviceCIDR: REALNODE_SERVICE_CIDR, dnsIP: REALNODE_DNS_IP, cgroupRoot: `/${cgroupRoot}`, cniBinDir: bins.cniBinDir, runc: bins.runc,
      shim: bins.shim, pauseImage: images.pause,
    };
    const server = `https://${nodeIP}:6443`;
    await writePki(dir, nodeIP);
    await writeKubeconfigs(dir, server);
    const kubeconfig = path.join(dir, 'kubeconfig');
    await writeFile(path.join(dir, 'containerd.toml'), containerdConfig(layout));
    await writeFile(path.join(dir, 'containerd', 'certs.d', '_default', 'hosts.toml'), registryHostsToml());
    await writeFile(path.join(dir, 'cni', 'net.d', '10-robustmq-realnode.conflist'), cniConflist(layout));
    await writeFile(path.join(dir, 'kubelet.yaml'), kubeletConfig(layout));
    await writeFile(path.join(dir, 'kube-proxy.yaml'), kubeProxyConfig(layout));
    await writeFile(path.join(dir, 'Corefile'), corefile(layout));
    await writeFile(path.join(dir, 'resolv.conf'), '# the node has no upstream resolver: nothing outside the cluster is reachable\n');
    await makeCgroupRoot(cgroupRoot);

    // The namespaces and their PID 1.
    const unshareLog = path.join(dir, 'logs', 'init.log');
    const initFd = openSync(unshareLog, 'a');
    const unshare = spawn('unshare', ['--mount', '--pid', '--net', '--uts', '--ipc', '--fork', '--mount-proc', 'bash', path.join(assets, 'init.sh'), dir, NODE_NAME], {
      detached: true, stdio: ['ignore', initFd, initFd],
    });
    closeSync(initFd);
    const initProc: Proc = { name: 'init', child: unshare, log: unshareLog, exited: false };
    watchExit(initProc);
    procs.push(initProc);
    if (opts.watchdog === false) unshare.unref();

    const waitFor = async (what: string, probe: () => Promise<boolean>, watched: Proc[] = procs): Promise<void> => {
      for (;;) {
        for (const p of watched) {
          if (p.exited) throw new Error(`${p.name} exited (${p.exitInfo}) while waiting for ${what}:\n${tailOf(p.log)}`);
        }
        if (await probe().catch(() => false)) return;
        if (Date.now() > deadline) {
          throw new Error(`timed out waiting for ${what}; logs in ${dir}/logs:\n${watched.map((p) => `--- ${p.name}\n${tailOf(p.log)}`).join('\n')}`);
        }
        await sleep(200);
      }
    };

    await waitFor('the node namespaces', async () => existsSync(path.join(dir, 'ns-ready')));
    const nsPid = Number(readFileSync(`/proc/${unshare.pid}/task/${unshare.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
    env.NS_PID = String(nsPid);
    env.NS_PIDNS = (await run('readlink', [`/proc/${nsPid}/ns/pid`])).trim();
    writeEnv();
    const ns = (cmd: string, args: string[], input?: string) => run('nsenter', [...nsFlags(nsPid), cmd, ...args], input);
    log(`realnode: namespaces up (PID 1 = ${nsPid}) after ${secs(t0)}s`);

    // The veth: host end with the host's address, node end moved into the namespace as eth0.
    await run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(nsPid)]);
    await run('ip', ['addr', 'add', `${hostIP}/30`, 'dev', veth]);
    await run('ip', ['link', 'set', veth, 'up']);
    await ns('sh', ['-c', [
      'set -e',
      `ip addr add ${nodeIP}/30 dev eth0`,
      'ip link set eth0 up',
      // Locally generated packets to Service IPs need a route before kube-proxy's DNAT. It points at a veth whose
      // peer stays down, so whatever is not DNATed is dropped here instead of going anywhere (a dummy link would
      // do the same, but not every kernel has the dummy driver).
      'ip link add svc0 type veth peer name svc0-peer',
      'ip link set svc0 up',
      `ip route add ${REALNODE_SERVICE_CIDR} dev svc0`,
      'nft -f -',
    ].join('\n')], guardRuleset());

    const spawnNs = (name: string, bin: string, args: string[]): Proc => {
      const logFile = path.join(dir, 'logs', `${name}.log`);
      const fd = openSync(logFile, 'a');
      const child = spawn('nsenter', [...nsFlags(nsPid), bin, ...args], {
        cwd: dir, detached: true, stdio: ['ignore', fd, fd],
        env: { ...process.env, PATH: `${path.dirname(bins.shim)}:${path.dirname(bins.ctr)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` },
      });
      closeSync(fd);
      const p: Proc = { name, child, log: logFile, exited: false };
      watchExit(p);
      if (opts.watchdog === false) child.unref();
      procs.push(p);
      return p;
    };
    const pki = (f: string) => path.join(dir, 'pki', f);
    // Where a CSI node plugin's socket conventionally lives (the kubelet learns it from the registration).
    const csiSocket = path.join(dir, 'kubelet', 'plugins', REALNODE_CSI.csiDriver, 'csi.sock');

    spawnNs('etcd', cp.etcd, [
      '--name=node', `--data-dir=${path.join(dir, 'etcd')}`,
      '--listen-client-urls=http://127.0.0.1:2379', '--advertise-client-urls=http://127.0.0.1:2379',
      '--listen-peer-urls=http://127.0.0.1:2380', '--initial-advertise-peer-urls=http://127.0.0.1:2380',
      '--initial-cluster=node=http://127.0.0.1:2380', '--unsafe-no-fsync', '--auto-compaction-retention=1',
      '--quota-backend-bytes=4294967296', '--log-level=warn',
    ]);
    spawnNs('containerd', bins.containerd, [`--config=${path.join(dir, 'containerd.toml')}`]);
    spawnNs('kube-apiserver', cp.kubeApiserver, [
      '--etcd-servers=http://127.0.0.1:2379',
      '--bind-address=0.0.0.0', '--secure-port=6443', `--advertise-address=${nodeIP}`,
      `--cert-dir=${path.join(dir, 'apiserver')}`,
      `--tls-cert-file=${pki('apiserver.crt')}`, `--tls-private-key-file=${pki('apiserver.key')}`,
      `--client-ca-file=${pki('ca.crt')}`,
      `--kubelet-client-certificate=${pki('apiserver-kubelet-client.crt')}`, `--kubelet-client-key=${pki('apiserver-kubelet-client.key')}`,
      `--kubelet-certificate-authority=${pki('ca.crt')}`, '--kubelet-preferred-address-types=InternalIP',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki('sa.pub')}`, `--service-account-signing-key-file=${pki('sa.key')}`,
      `--service-cluster-ip-range=${REALNODE_SERVICE_CIDR}`,
      '--authorization-mode=Node,RBAC', '--enable-admission-plugins=NodeRestriction',
      '--allow-privileged=true', '--profiling=false',
    ]);

    // Images go into containerd while the apiserver starts.
    const containerdUp = waitFor('containerd', async () => {
      await ns('test', ['-S', CONTAINERD_SOCKET]);
      return true;
    });
    const imported = containerdUp.then(async () => {
      // the backup archive after the replica's: they share the base layer blob, which containerd then already has
      const archives = [images.pauseArchive, ...(images.robustmqArchive ? [images.robustmqArchive] : []), images.backupArchive];
      for (const a of archives) {
        await ns(bins.ctr, ['--address', CONTAINERD_SOCKET, '-n', 'k8s.io', 'images', 'import', '--local', a]);
      }
      const list = await ns(bins.ctr, ['--address', CONTAINERD_SOCKET, '-n', 'k8s.io', 'images', 'ls', '-q']);
      for (const img of [images.pause, images.robustmq, images.backup]) {
        if (!list.split('\n').includes(img)) throw new Error(`image ${img} not in containerd after import; it has:\n${list}`);
      }
      log(`realnode: images imported after ${secs(t0)}s`);
    });
    imported.catch(() => {}); // awaited below; don't let an early failure be an unhandled rejection

    const adminTls = { ca: await readFile(pki('ca.crt')), cert: await readFile(pki('admin.crt')), key: await readFile(pki('admin.key')) };
    await waitFor('kube-apiserver /readyz', async () => (await httpsGet(`${server}/readyz`, adminTls)) === 'ok');
    log(`realnode: kube-apiserver ready after ${secs(t0)}s`);

    const kubectl = kubectlPath();
    const kc = (args: string[], input?: string) => run(kubectl, ['--kubeconfig', kubeconfig, '--context', 'admin', ...args], input);
    await kc(['apply', '-f', path.join(assets, 'cluster-objects.yaml'), '-f', path.join(assets, 'csi-objects.yaml'), '-f', bins.snapshotCrds]);
    await kc(['apply', '-f', '-'], dnsEndpointSlice(nodeIP));

    spawnNs('kube-controller-manager', cp.kubeControllerManager, [
      `--kubeconfig=${path.join(dir, 'kcm.kubeconfig')}`,
      `--authentication-kubeconfig=${path.join(dir, 'kcm.kubeconfig')}`, `--authorization-kubeconfig=${path.join(dir, 'kcm.kubeconfig')}`,
      '--bind-address=127.0.0.1', '--leader-elect=false', '--use-service-account-credentials=true',
      `--service-account-private-key-file=${pki('sa.key')}`, `--root-ca-file=${pki('ca.crt')}`,
      `--cluster-signing-cert-file=${pki('ca.crt')}`, `--cluster-signing-key-file=${pki('ca.key')}`,
      `--service-cluster-ip-range=${REALNODE_SERVICE_CIDR}`, '--profiling=false',
    ]);
    spawnNs('kube-scheduler', cp.kubeScheduler, [
      `--kubeconfig=${path.join(dir, 'scheduler.kubeconfig')}`,
      `--authentication-kubeconfig=${path.join(dir, 'scheduler.kubeconfig')}`, `--authorization-kubeconfig=${path.join(dir, 'scheduler.kubeconfig')}`,
      '--bind-address=127.0.0.1', '--leader-elect=false', '--profiling=false',
    ]);
    // The CSI driver before the kubelet, so that the kubelet's plugin watcher finds its registration socket at start.
    spawnNs('csi-hostpath', bins.csiHostpath, [
      `--endpoint=${csiSocket}`, `--state-dir=${path.join(dir, 'csi-hostpath')}`, `--node-id=${NODE_NAME}`,
      `--registration-socket=${path.join(dir, 'kubelet', 'plugins_registry', `${REALNODE_CSI.csiDriver}-reg.sock`)}`,
    ]);
    // The sidecars wait for the driver's socket themselves; they need only the RBAC applied above.
    const csiProvisioner = spawnNs('csi-provisioner', bins.csiProvisioner, [`--csi-address=${csiSocket}`, `--kubeconfig=${path.join(dir, 'csi-provisioner.kubeconfig')}`]);
    // Once the CRDs are served: both list snapshot objects at start, and the classes need the CRDs. Group snapshots
    // are off: their CRDs are not installed (both would otherwise probe for them and log that they are missing).
    const snapshotsReady = (async () => {
      await kc(['wait', '--for=condition=Established', ...SNAPSHOT_CRDS]);
      if (stopped) return; // the start failed meanwhile: nothing may be spawned after the teardown
      spawnNs('snapshot-controller', bins.snapshotController, [`--kubeconfig=${path.join(dir, 'snapshot-controller.kubeconfig')}`, '--feature-gates=CSIVolumeGroupSnapshot=false']);
      spawnNs('csi-snapshotter', bins.csiSnapshotter, [
        `--csi-address=${csiSocket}`, `--kubeconfig=${path.join(dir, 'csi-snapshotter.kubeconfig')}`, '--feature-gates=CSIVolumeGroupSnapshot=false',
      ]);
      await kc(['apply', '-f', path.join(assets, 'csi-snapshot-classes.yaml')]);
      log(`realnode: snapshot CRDs, controller and classes after ${secs(t0)}s`);
    })();
    snapshotsReady.catch(() => {}); // awaited below

    // The kubelet only after containerd serves: otherwise its first runtime check fails and it waits out a backoff.
    await containerdUp;
    spawnNs('kubelet', bins.kubelet, [
      `--config=${path.join(dir, 'kubelet.yaml')}`, `--kubeconfig=${path.join(dir, 'kubelet.kubeconfig')}`,
      `--root-dir=${path.join(dir, 'kubelet')}`, `--hostname-override=${NODE_NAME}`, `--node-ip=${nodeIP}`,
      '--node-labels=topology.kubernetes.io/zone=zone-a,node.kubernetes.io/instance-type=realnode',
    ]);
    spawnNs('kube-proxy', bins.kubeProxy, [`--config=${path.join(dir, 'kube-proxy.yaml')}`]);
    spawnNs('coredns', bins.coredns, ['-conf', path.join(dir, 'Corefile')]);
    spawnNs('provisioner', process.execPath, [path.join(assets, 'provisioner.mjs'), server, pki('ca.crt'), pki('provisioner.crt'), pki('provisioner.key'), NODE_NAME, path.join(dir, 'volumes')]);

    await waitFor('the node Ready', async () => {
      const n = JSON.parse(await httpsGet(`${server}/api/v1/nodes/${NODE_NAME}`, adminTls)) as { status?: { conditions?: { type: string; status: string }[] } };
      return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
    });
    log(`realnode: node Ready after ${secs(t0)}s`);
    await waitFor('the default ServiceAccount', async () => {
      const sa = JSON.parse(await httpsGet(`${server}/api/v1/namespaces/default/serviceaccounts/default`, adminTls)) as { kind?: string };
      return sa.kind === 'ServiceAccount';
    });
    await waitFor('CoreDNS to answer kubernetes.default.svc.cluster.local', async () => (await dnsQueryA(nodeIP, 'kubernetes.default.svc.cluster.local')).includes('10.96.0.1'));
    log(`realnode: CoreDNS answering after ${secs(t0)}s`);
    // Without the registration a pod's CSI volume fails to mount ("not found in the list of registered CSI drivers").
    await waitFor(`the kubelet to register ${REALNODE_CSI.csiDriver} (CSINode)`, async () => {
      const n = JSON.parse(await httpsGet(`${server}/apis/storage.k8s.io/v1/csinodes/${NODE_NAME}`, adminTls)) as { spec?: { drivers?: { name: string }[] } };
      return n.spec?.drivers?.some((d) => d.name === REALNODE_CSI.csiDriver) === true;
    });
    log(`realnode: CSI driver registered after ${secs(t0)}s`);
    // csi-hostpath is the default class: a claim made before csi-provisioner's controller runs would wait for its
    // informers. It logs this line once its caches are synced and its workers started (sig-storage-lib-external-
    // provisioner's controller.Run); there is no readiness endpoint without leader election.
    await waitFor('csi-provisioner to start its controller', async () => readFileSync(csiProvisioner.log, 'utf8').includes('Started provisioner controller'));
    log(`realnode: csi-provisioner controller started after ${secs(t0)}s`);
    await snapshotsReady;
    await imported;
    log(`realnode: ready after ${secs(t0)}s (${dir})`);

    const info: RealNodeInfo = {
      dir, kubeconfig, context: 'admin', server, nodeName: NODE_NAME, nodeIP, hostIP, veth, k8sVersion: K8S_VERSION,
      images: { pause: images.pause, robustmq: images.robustmq, backup: images.backup }, storageClasses: REALNODE_STORAGE_CLASSES, ...REALNODE_CSI, startSeconds: Number(secs(t0)), nsPid, nsPidNs: env.NS_PIDNS,
    };
    return { ...info, info: () => info, kubectl: (args, o) => kc(args, o?.input), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function nsFlags(nsPid: number): string[] {
  return ['-t', String(nsPid), '-m', '-n', '-p', '-u', '-i', '--'];
}

/** Runs a command inside a running node's namespaces (e.g. curl a Service IP, nft list ruleset). */
export function nodeExec(nsPid: number, cmd: string[], input?: string): Promise<string> {
  return run('nsenter', [...nsFlags(nsPid), ...cmd], input);
}

function watchExit(p: Proc): void {
  p.child.on('exit', (code, signal) => {
    p.exited = true;
    p.exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
  });
  p.child.on('error', (e) => {
    p.exited = true;
    p.exitInfo = String(e);
  });
}

/** The first N in 0..255 such that no host interface uses 10.250.N.0/30 or the name rmqnode<N>. */
function pickSlot(): number {
  const used = new Set<number>();
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    const m = /^rmqnode(\d+)$/.exec(name);
    if (m) used.add(Number(m[1]));
    for (const a of addrs ?? []) {
      const n = /^10\.250\.(\d+)\./.exec(a.address);
      if (n) used.add(Number(n[1]));
    }
  }
  // A node started moments ago may not have its veth yet: its state dir already names it.
  for (const d of liveNodeDirs()) {
    const m = /VETH='rmqnode(\d+)'/.exec(readFileSync(path.join(d, 'realnode.env'), 'utf8'));
    if (m) used.add(Number(m[1]));
  }
  for (let n = 0; n < 256; n++) if (!used.has(n)) return n;
  throw new Error('no free 10.250.N.0/30 for the node veth');
}

/** State dirs of real nodes on this machine (live or not) under os.tmpdir(). */
export function nodeDirs(parent = os.tmpdir()): string[] {
  try {
    return readdirSync(parent)
      .filter((n) => n.startsWith(DIR_PREFIX))
      .map((n) => path.join(parent, n))
      .filter((d) => existsSync(path.join(d, 'realnode.env')));
  } catch {
    return [];
  }
}

/** Whether the node whose state dir this is still has its namespace's PID 1. */
export function nodeIsLive(dir: string): boolean {
  try {
    const env = readFileSync(path.join(dir, 'realnode.env'), 'utf8');
    const pid = /NS_PID='(\d+)'/.exec(env)?.[1];
    const pidns = /NS_PIDNS='([^']+)'/.exec(env)?.[1];
    if (!pid || !pidns) return false;
    return readFileSyncLink(`/proc/${pid}/ns/pid`) === pidns;
  } catch {
    return false;
  }
}

function liveNodeDirs(): string[] {
  return nodeDirs().filter((d) => existsSync(path.join(d, 'sysctl.saved')));
}

function readFileSyncLink(p: string): string | undefined {
  try {
    return readlinkSync(p); // "pid:[4026531836]"
  } catch {
    return undefined;
  }
}

/**
 * The kubelet rewrites some kernel sysctls at start. The values to restore are the host's own: if another real node
 * is up, its kubelet may already have changed them, so take that node's saved copy instead of the current values.
 */
async function saveSysctls(dir: string): Promise<void> {
  const sibling = liveNodeDirs().find((d) => d !== dir && nodeIsLive(d));
  if (sibling) {
    await writeFile(path.join(dir, 'sysctl.saved'), readFileSync(path.join(sibling, 'sysctl.saved')));
    return;
  }
  const lines = KUBELET_SYSCTLS.map((k) => `${k}=${readFileSync(`/proc/sys/${k.replace(/\./g, '/')}`, 'utf8').trim()}`);
  await writeFile(path.join(dir, 'sysctl.saved'), lines.join('\n') + '\n');
}

/** The kubelet's cgroupRoot must exist in every v1 hierarchy; cpuset needs cpus/mems before anything joins. */
async function makeCgroupRoot(name: string): Promise<void> {
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const base = path.join('/sys/fs/cgroup', h);
    if (!existsSync(path.join(base, 'cgroup.procs'))) continue;
    const d = path.join(base, name);
    await mkdir(d, { recursive: true });
    if (h === 'cpuset') {
      for (const f of ['cpuset.cpus', 'cpuset.mems']) await writeFile(path.join(d, f), readFileSync(path.join(base, f)));
    }
  }
}

function dnsEndpointSlice(nodeIP: string): string {
  return stringify({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'kube-dns-node',
      namespace: 'kube-system',
      // A manager of our own: the EndpointSlice controller leaves slices it does not manage alone.
      labels: { 'kubernetes.io/service-name': 'kube-dns', 'endpointslice.kubernetes.io/managed-by': 'realnode.robustmq.test' },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [nodeIP], conditions: { ready: true }, nodeName: NODE_NAME }],
    ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }],
  });
}

// --- stop -----------------------------------------------------------------------------------------------------

/** Tears a node down by its state dir (stop(), node:down, the watchdog all end here). */
export async function teardown(dir: string): Promise<void> {
  await run('sh', [path.join(assets, 'teardown.sh'), dir]);
}

/** A detached shell that runs teardown.sh once this process is gone. */
function startWatchdog(dir: string): ChildProcess {
  const script = `
parent=$1; dir=$2; teardown=$3
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
exec sh "$teardown" "$dir"
`;
  const child = spawn('sh', ['-c', script, 'robustmq-realnode-watchdog', String(process.pid), dir, path.join(assets, 'teardown.sh')], { detached: true, stdio: 'ignore' });
  child.unref();
  return child;
}

// --- what is left on the host --------------------------------------------------------------------------------

export interface HostSnapshot {
  iptables: string;
  nft: string;
  sysctls: Record<string, string>;
}

/** Host firewall and sysctl state to compare against after stop (take it before start). */
export async function hostSnapshot(): Promise<HostSnapshot> {
  const sysctls: Record<string, string> = {};
  for (const k of KUBELET_SYSCTLS) sysctls[k] = readFileSync(`/proc/sys/${k.replace(/\./g, '/')}`, 'utf8').trim();
  return { iptables: stripCounters(await run('iptables-save', []).catch(() => '')), nft: await run('nft', ['list', 'ruleset']).catch(() => ''), sysctls };
}

function stripCounters(s: string): string {
  return s.split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/g, '')).join('\n');
}

/**
 * Everything a stopped node could have left on the host, as a list of findings (empty = clean): processes of
 * the node's kinds, veths named rmqnode*, named netns, nsfs/overlay/tmpfs mounts of the node, its cgroups and state
 * dir, firewall rules and sysctls that differ from `before`.
 */
export async function hostLeftovers(info: Pick<RealNodeInfo, 'dir' | 'veth'> & { nsPidNs?: string }, before?: HostSnapshot): Promise<string[]> {
  const found: string[] = [];
  // Any process still in the node's PID namespace (a shim that escaped would be here), whatever its name.
  if (info.nsPidNs) {
    for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
      if (readFileSyncLink(`/proc/${p}/ns/pid`) === info.nsPidNs) found.push(`process ${p} in the node's PID namespace`);
    }
  }
  const pg = await run('pgrep', ['-a', '-f', 'kubelet|containerd|kube-proxy|coredns|containerd-shim|etcd|kube-apiserver|kube-controller-manager|kube-scheduler|provisioner.mjs|csi-hostpath|csi-provisioner|csi-snapshotter|snapshot-controller']).catch(() => '');
  for (const line of pg.split('\n').filter(Boolean)) if (line.includes(info.dir)) found.push(`process: ${line}`);
  const links = await run('ip', ['-o', 'link', 'show']).catch(() => '');
  if (links.includes(`${info.veth}@`) || links.includes(`${info.veth}:`)) found.push(`veth ${info.veth}`);
  const netns = (await run('ip', ['netns', 'list']).catch(() => '')).trim();
  if (netns) found.push(`named netns: ${netns}`);
  const mounts = await run('findmnt', ['-rn', '-o', 'TARGET,FSTYPE,SOURCE,OPTIONS']).catch(() => '');
  for (const m of mounts.split('\n')) if (m.includes(info.dir) || m.includes('robustmq-node-') || /\bnsfs\b/.test(m)) found.push(`mount: ${m}`);
  const slot = /rmqnode(\d+)/.exec(info.veth)?.[1];
  for (const h of readdirSync('/sys/fs/cgroup')) if (slot && existsSync(`/sys/fs/cgroup/${h}/robustmq-node-${slot}`)) found.push(`cgroup /sys/fs/cgroup/${h}/robustmq-node-${slot}`);
  if (existsSync(info.dir)) found.push(`state dir ${info.dir}`);
  if (before) {
    const now = await hostSnapshot();
    if (now.iptables !== before.iptables) found.push(`host iptables changed:\n${now.iptables}`);
    if (now.nft !== before.nft) found.push(`host nft ruleset changed:\n${now.nft}`);
    for (const [k, v] of Object.entries(before.sysctls)) if (now.sysctls[k] !== v) found.push(`sysctl ${k}=${now.sysctls[k]} (was ${v})`);
  }
  return found;
}

// --- PKI and kubeconfigs --------------------------------------------------------------------------------------

/** The CSI processes that talk to the apiserver: each a client certificate and kubeconfig, a ClusterRole in csi-objects.yaml. */
const CSI_USERS = ['csi-provisioner', 'csi-snapshotter', 'snapshot-controller'];

async function writePki(dir: string, nodeIP: string): Promise<void> {
  // Same scheme as controlplane.ts: one openssl call per certificate, EC P-256.
  const script = [
    'set -e',
    caCommand('/CN=robustmq-realnode-ca'),
    ...controlPlaneLeaves(nodeIP),
    leaf('kubelet', `/O=system:nodes/CN=system:node:${NODE_NAME}`, 'clientAuth'),
    leaf('kubelet-serving', `/O=system:nodes/CN=system:node:${NODE_NAME}`, 'serverAuth', `IP:${nodeIP},IP:127.0.0.1,DNS:${NODE_NAME},DNS:localhost`),
    leaf('kube-proxy', '/CN=system:kube-proxy', 'clientAuth'),
    leaf('coredns', '/CN=system:coredns', 'clientAuth'),
    leaf('provisioner', '/CN=robustmq-test:realnode-provisioner', 'clientAuth'),
    ...CSI_USERS.map((u) => leaf(u, `/CN=robustmq-test:${u}`, 'clientAuth')),
    'openssl ecparam -name prime256v1 -genkey -noout -out sa.key',
    'openssl ec -in sa.key -pubout -out sa.pub 2>/dev/null',
  ].join('\n');
  await run('bash', ['-c', script], undefined, path.join(dir, 'pki'));
}

async function writeKubeconfigs(dir: string, server: string): Promise<void> {
  const b64 = (f: string) => readFileSync(path.join(dir, 'pki', f)).toString('base64');
  const ca = b64('ca.crt');
  const kubeconfig = (context: string, cert: string) =>
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'robustmq-realnode', cluster: { server, 'certificate-authority-data': ca } }],
      users: [{ name: cert, user: { 'client-certificate-data': b64(`${cert}.crt`), 'client-key-data': b64(`${cert}.key`) } }],
      contexts: [{ name: context, context: { cluster: 'robustmq-realnode', user: cert } }],
      'current-context': context,
    });
  await writeFile(path.join(dir, 'kubeconfig'), kubeconfig('admin', 'admin'), { mode: 0o600 });
  for (const c of ['kcm', 'scheduler', 'kubelet', 'kube-proxy', 'coredns', ...CSI_USERS]) {
    await writeFile(path.join(dir, `${c}.kubeconfig`), kubeconfig('default', c), { mode: 0o600 });
  }
  await chmod(path.join(dir, 'pki'), 0o700);
}

// --- small helpers --------------------------------------------------------------------------------------------

/** One A query over UDP; resolves to the answer's IPv4 addresses (empty on NXDOMAIN). */
export function dnsQueryA(server: string, name: string, timeoutMs = 2_000): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const id = Math.floor(Math.random() * 65535);
    const labels = name.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
    const q = Buffer.concat([
      Buffer.from([id >> 8, id & 255, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]),
      ...labels, Buffer.from([0, 0, 1, 0, 1]),
    ]);
    const sock = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error(`no DNS answer from ${server} for ${name}`));
    }, timeoutMs);
    sock.on('message', (msg) => {
      clearTimeout(timer);
      sock.close();
      const ancount = msg.readUInt16BE(6);
      let off = q.length;
      const ips: string[] = [];
      for (let i = 0; i < ancount && off < msg.length; i++) {
        // Answers name the question by a compression pointer (2 bytes) from CoreDNS; handle labels too.
        if ((msg[off]! & 0xc0) === 0xc0) off += 2;
        else { while (msg[off] !== 0) off += msg[off]! + 1; off += 1; }
        const type = msg.readUInt16BE(off);
        const rdlen = msg.readUInt16BE(off + 8);
        if (type === 1 && rdlen === 4) ips.push(Array.from(msg.subarray(off + 10, off + 14)).join('.'));
        off += 10 + rdlen;
      }
      resolve(ips);
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      sock.close();
      reject(e);
    });
    sock.send(q, 53, server);
  });
}




