// A real Kubernetes control plane as local processes, for the e2e tests: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler (all built by tools/build.sh) and kwok playing the kubelet of
// simulated nodes. Everything binds to 127.0.0.1 on ports picked at run time; all state lives in one temp dir.
//
//   const cp = await startControlPlane();      // ~seconds from cached binaries
//   cp.kubeconfig                               // contexts: admin (current), limited, exec, unreachable
//   await installMonitoringCrds(cp.kubeconfig); // ServiceMonitor + PrometheusRule CRDs, on demand
//   await cp.stop();                            // kills every process group, removes the dir
//
// What the cluster simulates (pod lifecycle, faults by image tag or annotation, readiness delay, volumes, load
// balancers) is described in test/support/README.md and at the top of controlplane/kwok-stages.yaml.
// A watchdog process tears everything down if the process that started the control plane dies without stop().
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { HELM_VERSIONS, kubectlPath, snapshotCrdsDir, toolCache } from './tools.ts';
import { caCommand, controlPlaneLeaves, httpsGet, leaf, run, secs, sleep, tailOf } from './proc.ts';

export const K8S_VERSION = 'v1.36.3';
/**
 * The oldest minor the chart declares (Chart.yaml kubeVersion): a second control plane (tools/k8s-old) on which the
 * install scenarios run too, so that the declared floor is a tested one. Keep the three in step.
 */
export const OLDEST_K8S_VERSION = 'v1.32.13';
export const ETCD_VERSION = 'v3.6.16';
export const KWOK_VERSION = 'v0.8.0';

/** Context names in the kubeconfig the control plane writes. */
export const CONTEXTS = {
  /** cluster-admin (O=system:masters); the current context. */
  admin: 'admin',
  /** user "limited-user": may only get/list/watch pods in namespace "limited" (the context's namespace). */
  limited: 'limited',
  /** user "exec-user", cluster-admin, authenticating through a client-go exec plugin (a shell script). */
  exec: 'exec',
  /** admin credentials against a loopback port where nothing listens: an unreachable API. */
  unreachable: 'unreachable',
} as const;

/** Namespace the limited user can read pods in. */
export const LIMITED_NAMESPACE = 'limited';
/** Default StorageClass (Immediate binding) and the WaitForFirstConsumer one. */
export const STORAGE_CLASSES = { default: 'standard', waitForFirstConsumer: 'standard-wffc' } as const;
export const INGRESS_CLASS = 'nginx';
/** Pod annotations the kwok stages read. */
export const ANNOTATIONS = {
  /** Go duration ("5s", "1m"): how long a started pod stays Running but not Ready. */
  readyDelay: 'sim.robustmq.io/ready-delay',
  /** Go duration: how long a Ready run-to-completion pod (Job, hook) runs before it succeeds. */
  completeDelay: 'sim.robustmq.io/complete-delay',
  /** crashloop | imagepull | notready | fail: a fault for every container of the pod. */
  fault: 'sim.robustmq.io/fault',
  /** Go duration, default 5s: how often a crashlooping container "restarts" (restartCount grows). */
  restartInterval: 'sim.robustmq.io/restart-interval',
} as const;
/**
 * Image tags that inject a fault into the containers running them (the tag contains the word), e.g.
 * `--set image.tag=fault-crashloop`. Only spec.containers fail; init containers always complete.
 */
export const FAULT_TAGS = {
  crashloop: 'fault-crashloop',
  imagepull: 'fault-imagepull',
  notready: 'fault-notready',
  fail: 'fault-fail',
} as const;

export const SERVICE_CIDR = '10.96.0.0/16';
export const POD_CIDR = '10.244.0.0/16';

export interface ControlPlaneOptions {
  /** Simulated nodes, spread round-robin over the zones (default 6). */
  nodes?: number;
  /** Zone labels (topology.kubernetes.io/zone), default zone-a, zone-b, zone-c. */
  zones?: string[];
  /** Per node capacity (default cpu 16, memory 64Gi, pods 110). */
  nodeCapacity?: { cpu: string; memory: string; pods: string };
  /** Parent dir for the control plane's temp dir (default os.tmpdir()). */
  parentDir?: string;
  /** Give up starting after this long (default 180 s). */
  startTimeoutMs?: number;
  /** Progress lines (default: silent). */
  log?: (line: string) => void;
  /** K8S_VERSION (default) or OLDEST_K8S_VERSION: which cached control plane build to run. */
  k8sVersion?: string;
  /**
   * Serve the VolumeSnapshot API (default true): its CRDs, the classes in controlplane/snapshot-objects.yaml and the
   * kwok stages that play the snapshot controller. false = a cluster without snapshot support, as many are.
   */
  snapshots?: boolean;
}

/** What a test needs to reach the cluster; plain data, so vitest can `provide` it to the test workers. */
export interface ControlPlaneInfo {
  dir: string;
  kubeconfig: string;
  contexts: typeof CONTEXTS;
  server: string;
  k8sVersion: string;
  /** The kubectl within the supported skew of this control plane; absent means tools.ts kubectlPath(). */
  kubectlBin?: string;
  nodes: { name: string; zone: string }[];
  /** Seconds from startControlPlane() to a usable cluster. */
  startSeconds: number;
}

export interface ControlPlane extends ControlPlaneInfo {
  info(): ControlPlaneInfo;
  /** kubectl against this cluster (admin unless args name another --context). Rejects on a non-zero exit. */
  kubectl(args: string[], opts?: { input?: string }): Promise<string>;
  stop(): Promise<void>;
}

export interface Binaries {
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  etcd: string;
  kwok: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const assets = path.join(here, 'controlplane');

export function controlPlaneBinaries(k8sVersion: string = K8S_VERSION): Binaries {
  const c = toolCache();
  const b: Binaries = {
    kubeApiserver: path.join(c, 'k8s', k8sVersion, 'kube-apiserver'),
    kubeControllerManager: path.join(c, 'k8s', k8sVersion, 'kube-controller-manager'),
    kubeScheduler: path.join(c, 'k8s', k8sVersion, 'kube-scheduler'),
    etcd: path.join(c, 'etcd', ETCD_VERSION, 'etcd'),
    kwok: path.join(c, 'kwok', KWOK_VERSION, 'kwok'),
  };
  for (const p of Object.values(b)) {
    if (!existsSync(p)) {
      const target = k8sVersion === K8S_VERSION ? 'controlplane' : 'controlplane-old';
      throw new Error(`${p} not found: run scripts/provision.sh ${target} (tools/build.sh) first`);
    }
  }
  return b;
}

/** The minor of a `v1.X.Y` version. */
export function minorOf(k8sVersion: string): number {
  const m = /^v?1\.(\d+)\./.exec(k8sVersion);
  if (!m) throw new Error(`not a Kubernetes 1.x version: ${k8sVersion}`);
  return Number(m[1]);
}

/**
 * kubectl within the supported skew (one minor) of a control plane: the provisioned 1.35 for 1.36, the 1.32 that
 * comes with helm 3's layer (scripts/provision.sh) for 1.32, so the oldest cluster is driven as its users would.
 */
export function kubectlFor(k8sVersion: string): string {
  if (minorOf(k8sVersion) >= 34) return kubectlPath();
  const p = path.join(toolCache(), 'helm', HELM_VERSIONS[3], 'kubectl');
  if (!existsSync(p)) throw new Error(`kubectl for ${k8sVersion} not found at ${p}: run scripts/provision.sh helm first`);
  return p;
}

// ---------------------------------------------------------------------------------------------------------------

interface Proc {
  name: string;
  child: ChildProcess;
  log: string;
  exited: boolean;
  exitInfo?: string;
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  // Ports are picked free, then bound by the components a moment later; if another process grabbed one in
  // between, the component fails at once and a second attempt picks new ports.
  try {
    return await startOnce(opts);
  } catch (err) {
    if (!(err instanceof PortRaceError)) throw err;
    opts.log?.(`controlplane: ${err.message}; retrying with new ports`);
    return await startOnce(opts);
  }
}

class PortRaceError extends Error {}

async function startOnce(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const t0 = Date.now();
  const log = opts.log ?? (() => {});
  const k8sVersion = opts.k8sVersion ?? K8S_VERSION;
  const bins = controlPlaneBinaries(k8sVersion);
  const kubectl = kubectlFor(k8sVersion);
  const deadline = t0 + (opts.startTimeoutMs ?? 180_000);
  const dir = await mkdtemp(path.join(opts.parentDir ?? os.tmpdir(), 'robustmq-cp-'));
  const procs: Proc[] = [];
  let watchdog: ChildProcess | undefined;
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // Clients first, then the apiserver, then etcd: an apiserver whose etcd is gone drags out its shutdown.
    const byName = (...names: string[]) => procs.filter((p) => names.includes(p.name));
    await Promise.all(byName('kwok', 'kube-scheduler', 'kube-controller-manager').map((p) => killGroup(p)));
    await Promise.all(byName('kube-apiserver').map((p) => killGroup(p)));
    await Promise.all(procs.map((p) => killGroup(p)));
    if (watchdog?.pid) {
      try {
        process.kill(watchdog.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    for (const d of ['pki', 'logs', 'pids', 'etcd', 'apiserver']) await mkdir(path.join(dir, d), { recursive: true });
    watchdog = startWatchdog(dir);

    const [etcdPort, etcdPeerPort, apiPort, kcmPort, schedPort, kwokPort, deadPort] = await freePorts(7);
    const server = `https://127.0.0.1:${apiPort}`;
    const advertise = advertiseAddress();
    await writePki(dir, advertise);
    const pki = (f: string) => path.join(dir, 'pki', f);

    const nodes = nodeList(opts);
    await writeKubeconfigs(dir, server, deadPort!);
    const kubeconfig = path.join(dir, 'kubeconfig');

    const spawnProc = (name: string, bin: string, args: string[]): Proc => {
      const logFile = path.join(dir, 'logs', `${name}.log`);
      const fd = openSync(logFile, 'a');
      // detached: the component leads its own process group, so teardown kills the whole group.
      const child = spawn(bin, args, { cwd: dir, detached: true, stdio: ['ignore', fd, fd] });
      closeSync(fd);
      const p: Proc = { name, child, log: logFile, exited: false };
      child.on('exit', (code, signal) => {
        p.exited = true;
        p.exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
      });
      child.on('error', (e) => {
        p.exited = true;
        p.exitInfo = String(e);
      });
      if (child.pid) writeFileSync(path.join(dir, 'pids', name), String(child.pid));
      procs.push(p);
      return p;
    };

    const waitFor = async (what: string, watched: Proc[], probe: () => Promise<boolean>): Promise<void> => {
      for (;;) {
        for (const p of watched) {
          if (p.exited) {
            const tail = tailOf(p.log);
            const msg = `${p.name} exited (${p.exitInfo}) while waiting for ${what}:\n${tail}`;
            throw /address already in use|bind: /i.test(tail) ? new PortRaceError(msg) : new Error(msg);
          }
        }
        if (await probe().catch(() => false)) return;
        if (Date.now() > deadline) {
          throw new Error(`timed out waiting for ${what}; logs in ${dir}/logs:\n${watched.map((p) => `--- ${p.name}\n${tailOf(p.log)}`).join('\n')}`);
        }
        await sleep(200);
      }
    };

    // etcd
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    const etcd = spawnProc('etcd', bins.etcd, [
      '--name=cp',
      `--data-dir=${path.join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=cp=${peerUrl}`,
      '--unsafe-no-fsync',
      '--auto-compaction-retention=1',
      '--quota-backend-bytes=4294967296',
      '--log-level=warn',
    ]);
    await waitFor('etcd /health', [etcd], async () => (await httpGet(`${etcdUrl}/health`)).includes('"health":"true"'));
    log(`controlplane: etcd up after ${secs(t0)}s`);

    // kube-apiserver. Every flag given to it, to the controller-manager and to the scheduler exists with the same
    // meaning from OLDEST_K8S_VERSION to K8S_VERSION (checked against both builds' --help), so one list serves both.
    const apiserver = spawnProc('kube-apiserver', bins.kubeApiserver, [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--advertise-address=${advertise}`,
      `--cert-dir=${path.join(dir, 'apiserver')}`,
      `--tls-cert-file=${pki('apiserver.crt')}`,
      `--tls-private-key-file=${pki('apiserver.key')}`,
      `--client-ca-file=${pki('ca.crt')}`,
      `--kubelet-client-certificate=${pki('apiserver-kubelet-client.crt')}`,
      `--kubelet-client-key=${pki('apiserver-kubelet-client.key')}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki('sa.pub')}`,
      `--service-account-signing-key-file=${pki('sa.key')}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--authorization-mode=Node,RBAC',
      '--allow-privileged=true',
      // No kubelets or real endpoints: don't maintain the kubernetes Service endpoints (and so don't insist on
      // a routable advertise address).
      '--endpoint-reconciler-type=none',
      // kubectl logs goes apiserver -> node InternalDNS (localhost) -> kwok's server, which serves the ClusterLogs.
      '--kubelet-preferred-address-types=InternalDNS',
      '--profiling=false',
    ]);
    const adminTls = { ca: await readFile(pki('ca.crt')), cert: await readFile(pki('admin.crt')), key: await readFile(pki('admin.key')) };
    await waitFor('kube-apiserver /readyz', [etcd, apiserver], async () => (await httpsGet(`${server}/readyz`, adminTls)) === 'ok');
    log(`controlplane: kube-apiserver ready after ${secs(t0)}s`);

    // kwok starts a stage controller per resource kind once, at start: the snapshot CRDs must be served before it.
    const kc = (args: string[], input?: string) => run(kubectl, ['--kubeconfig', kubeconfig, '--context', CONTEXTS.admin, ...args], input);
    const snapshots = opts.snapshots !== false;
    if (snapshots) {
      await kc(['apply', '-f', snapshotCrdsDir()]);
      await kc(['wait', '--for=condition=Established', '--timeout=60s', 'crd/volumesnapshots.snapshot.storage.k8s.io', 'crd/volumesnapshotcontents.snapshot.storage.k8s.io', 'crd/volumesnapshotclasses.snapshot.storage.k8s.io']);
      // Established comes before the group is in the OpenAPI v3 index, and kwok reads its schema from there (exits if absent)
      await waitFor('the snapshot API in OpenAPI v3', [etcd, apiserver], async () => {
        const index = JSON.parse(await httpsGet(`${server}/openapi/v3`, adminTls)) as { paths?: Record<string, unknown> };
        return 'apis/snapshot.storage.k8s.io/v1' in (index.paths ?? {});
      });
    }

    // controller-manager, scheduler, kwok; meanwhile the cluster objects.
    const kcm = spawnProc('kube-controller-manager', bins.kubeControllerManager, [
      `--kubeconfig=${path.join(dir, 'kcm.kubeconfig')}`,
      `--authentication-kubeconfig=${path.join(dir, 'kcm.kubeconfig')}`,
      `--authorization-kubeconfig=${path.join(dir, 'kcm.kubeconfig')}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${kcmPort}`,
      '--leader-elect=false',
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${pki('sa.key')}`,
      `--root-ca-file=${pki('ca.crt')}`,
      `--cluster-signing-cert-file=${pki('ca.crt')}`,
      `--cluster-signing-key-file=${pki('ca.key')}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--profiling=false',
    ]);
    const sched = spawnProc('kube-scheduler', bins.kubeScheduler, [
      `--kubeconfig=${path.join(dir, 'scheduler.kubeconfig')}`,
      `--authentication-kubeconfig=${path.join(dir, 'scheduler.kubeconfig')}`,
      `--authorization-kubeconfig=${path.join(dir, 'scheduler.kubeconfig')}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${schedPort}`,
      '--leader-elect=false',
      '--profiling=false',
    ]);
    const kwok = spawnProc('kwok', bins.kwok, [
      `--kubeconfig=${path.join(dir, 'kwok.kubeconfig')}`,
      `--config=${path.join(assets, 'kwok-stages.yaml')}`,
      ...(snapshots ? [`--config=${path.join(assets, 'kwok-snapshot-stages.yaml')}`] : []),
      `--config=${await writeKwokLogsConfig(dir)}`,
      '--manage-all-nodes=true',
      '--node-lease-duration-seconds=40',
      `--cidr=${POD_CIDR}`,
      `--server-address=127.0.0.1:${kwokPort}`,
      `--node-port=${kwokPort}`,
      `--tls-cert-file=${pki('kwok.crt')}`,
      `--tls-private-key-file=${pki('kwok.key')}`,
    ]);
    const all = [etcd, apiserver, kcm, sched, kwok];

    await kc(['apply', '-f', path.join(assets, 'cluster-objects.yaml')]);
    if (snapshots) await kc(['apply', '-f', path.join(assets, 'snapshot-objects.yaml')]);
    await kc(['apply', '-f', '-'], nodeManifests(nodes, opts.nodeCapacity));

    const insecure = { rejectUnauthorized: false };
    await waitFor('kube-controller-manager /healthz', all, async () => (await httpsGet(`https://127.0.0.1:${kcmPort}/healthz`, insecure)) === 'ok');
    await waitFor('kube-scheduler /healthz', all, async () => (await httpsGet(`https://127.0.0.1:${schedPort}/healthz`, insecure)) === 'ok');
    await waitFor(`${nodes.length} Ready nodes`, all, async () => {
      const list = JSON.parse(await httpsGet(`${server}/api/v1/nodes`, adminTls)) as NodeList;
      const ready = list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return ready.length >= nodes.length;
    });
    await waitFor('the default ServiceAccount', all, async () => {
      const sa = JSON.parse(await httpsGet(`${server}/api/v1/namespaces/default/serviceaccounts/default`, adminTls)) as { kind?: string };
      return sa.kind === 'ServiceAccount';
    });
    log(`controlplane: ready after ${secs(t0)}s (${dir})`);

    const info: ControlPlaneInfo = { dir, kubeconfig, contexts: CONTEXTS, server, k8sVersion, kubectlBin: kubectl, nodes, startSeconds: Number(secs(t0)) };
    return { ...info, info: () => info, kubectl: (args, o) => kc(args, o?.input), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

// --- cluster helpers usable from test workers (they only need the kubeconfig path) ----------------------------

/** kubectl with this kubeconfig; resolves to stdout, rejects (with stderr) on a non-zero exit. */
export async function kubectlWith(kubeconfig: string, args: string[], input?: string, kubectl = kubectlPath()): Promise<string> {
  return run(kubectl, ['--kubeconfig', kubeconfig, ...args], input);
}

/** kubectl with this kubeconfig; resolves with the exit code and output, whatever the exit code. */
export function kubectlResult(kubeconfig: string, args: string[], input?: string, kubectl = kubectlPath()): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(kubectl, ['--kubeconfig', kubeconfig, ...args], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Installs the ServiceMonitor and PrometheusRule CRDs and waits until they are served. */
export async function installMonitoringCrds(kubeconfig: string): Promise<void> {
  await kubectlWith(kubeconfig, ['--context', CONTEXTS.admin, 'apply', '-f', path.join(assets, 'monitoring-crds.yaml')]);
  await kubectlWith(kubeconfig, ['--context', CONTEXTS.admin, 'wait', '--for=condition=Established', '--timeout=60s',
    'crd/servicemonitors.monitoring.coreos.com', 'crd/prometheusrules.monitoring.coreos.com']);
}

/** Removes the monitoring CRDs (and so every ServiceMonitor/PrometheusRule) and waits until they are gone. */
export async function uninstallMonitoringCrds(kubeconfig: string): Promise<void> {
  await kubectlWith(kubeconfig, ['--context', CONTEXTS.admin, 'delete', '--ignore-not-found', '--wait=true', '--timeout=60s',
    '-f', path.join(assets, 'monitoring-crds.yaml')]);
}

// --- PKI ------------------------------------------------------------------------------------------------------

async function writePki(dir: string, advertise: string): Promise<void> {
  const d = path.join(dir, 'pki');
  // One shell script, one openssl call per certificate (OpenSSL 3 `req -x509 -CA`): EC P-256, fast to generate.
  const script = [
    'set -e',
    caCommand('/CN=robustmq-test-ca'),
    ...controlPlaneLeaves(advertise),
    leaf('kwok-client', '/O=system:masters/CN=kwok-controller', 'clientAuth'),
    leaf('kwok', '/CN=kwok', 'serverAuth', 'IP:127.0.0.1,DNS:localhost'),
    leaf('limited', '/O=robustmq-test:limited/CN=limited-user', 'clientAuth'),
    leaf('exec', '/O=robustmq-test:exec/CN=exec-user', 'clientAuth'),
    'openssl ecparam -name prime256v1 -genkey -noout -out sa.key',
    'openssl ec -in sa.key -pubout -out sa.pub 2>/dev/null',
  ].join('\n');
  await run('bash', ['-c', script], undefined, d);
}

// --- kubeconfigs ----------------------------------------------------------------------------------------------

async function writeKubeconfigs(dir: string, server: string, deadPort: number): Promise<void> {
  const pki = (f: string) => path.join(dir, 'pki', f);
  const b64 = (f: string) => readFileSync(pki(f)).toString('base64');
  const ca = b64('ca.crt');
  const certUser = (name: string) => ({ 'client-certificate-data': b64(`${name}.crt`), 'client-key-data': b64(`${name}.key`) });

  // The exec plugin: a shell script printing an ExecCredential with the exec user's client certificate.
  const credential = {
    apiVersion: 'client.authentication.k8s.io/v1',
    kind: 'ExecCredential',
    status: { clientCertificateData: readFileSync(pki('exec.crt'), 'utf8'), clientKeyData: readFileSync(pki('exec.key'), 'utf8') },
  };
  await writeFile(pki('exec-credential.json'), JSON.stringify(credential));
  const plugin = path.join(dir, 'exec-credential-plugin.sh');
  await writeFile(plugin, `#!/bin/sh\n# client-go exec credential plugin for the "exec" context\nexec cat '${pki('exec-credential.json')}'\n`);
  await chmod(plugin, 0o755);

  const users = {
    admin: certUser('admin'),
    limited: certUser('limited'),
    exec: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, args: [], interactiveMode: 'Never', provideClusterInfo: false } },
  };
  const main = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'robustmq-test', cluster: { server, 'certificate-authority-data': ca } },
      { name: 'unreachable', cluster: { server: `https://127.0.0.1:${deadPort}`, 'certificate-authority-data': ca } },
    ],
    users: Object.entries(users).map(([name, user]) => ({ name, user })),
    contexts: [
      { name: CONTEXTS.admin, context: { cluster: 'robustmq-test', user: 'admin' } },
      { name: CONTEXTS.limited, context: { cluster: 'robustmq-test', user: 'limited', namespace: LIMITED_NAMESPACE } },
      { name: CONTEXTS.exec, context: { cluster: 'robustmq-test', user: 'exec' } },
      { name: CONTEXTS.unreachable, context: { cluster: 'unreachable', user: 'admin' } },
    ],
    'current-context': CONTEXTS.admin,
  };
  await writeFile(path.join(dir, 'kubeconfig'), stringify(main), { mode: 0o600 });

  const component = (file: string, cert: string) =>
    writeFile(path.join(dir, file), stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server, 'certificate-authority-data': ca } }],
      users: [{ name: 'u', user: certUser(cert) }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'c',
    }), { mode: 0o600 });
  await component('kcm.kubeconfig', 'kcm');
  await component('scheduler.kubeconfig', 'scheduler');
  await component('kwok.kubeconfig', 'kwok-client');
}

// --- kwok's "kubelet" server: kubectl logs ------------------------------------------------------------------

/** Every container "logs" the same fixed lines (and --previous the crash of a crashlooping one). */
async function writeKwokLogsConfig(dir: string): Promise<string> {
  const logs = path.join(dir, 'pod.log');
  const previous = path.join(dir, 'pod-previous.log');
  const ts = '2026-01-01T00:00:00.000000000Z';
  await writeFile(logs, `${ts} stdout F simulated container log: kwok runs no process, this line is fixed\n`);
  await writeFile(previous, `${ts} stderr F simulated crash: the previous instance exited with code 1\n`);
  const file = path.join(dir, 'kwok-logs.yaml');
  await writeFile(file, stringify({
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'ClusterLogs',
    metadata: { name: 'all-pods' },
    spec: { logs: [{ logsFile: logs, previousLogsFile: previous, follow: false }] },
  }));
  return file;
}

// --- nodes ----------------------------------------------------------------------------------------------------

interface NodeList {
  items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[];
}

function nodeList(opts: ControlPlaneOptions): { name: string; zone: string }[] {
  const zones = opts.zones ?? ['zone-a', 'zone-b', 'zone-c'];
  const count = opts.nodes ?? 6;
  const perZone = new Map<string, number>();
  return Array.from({ length: count }, (_, i) => {
    const zone = zones[i % zones.length]!;
    const n = (perZone.get(zone) ?? 0) + 1;
    perZone.set(zone, n);
    return { name: `kwok-${zone}-${n}`, zone };
  });
}

function nodeManifests(nodes: { name: string; zone: string }[], capacity = { cpu: '16', memory: '64Gi', pods: '110' }): string {
  const resources = { ...capacity, 'ephemeral-storage': '200Gi' };
  return nodes
    .map((n, i) =>
      stringify({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name: n.name,
          annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
          labels: {
            'kubernetes.io/hostname': n.name,
            'kubernetes.io/os': 'linux',
            'kubernetes.io/arch': 'amd64',
            'topology.kubernetes.io/zone': n.zone,
            'topology.kubernetes.io/region': 'local',
            'node.kubernetes.io/instance-type': 'kwok',
            type: 'kwok',
          },
        },
        // No kwok taint: every pod may land here, as on a real cluster. Nodes accept status on create.
        status: {
          allocatable: resources,
          capacity: resources,
          addresses: [
            { type: 'InternalIP', address: `10.240.0.${i + 10}` },
            // The apiserver reaches "kubelets" (kwok's server, for kubectl logs) through this address type only.
            { type: 'InternalDNS', address: 'localhost' },
            { type: 'Hostname', address: n.name },
          ],
        },
      }),
    )
    .join('---\n');
}

// --- processes ------------------------------------------------------------------------------------------------

async function killGroup(p: Proc): Promise<void> {
  const pid = p.child.pid;
  if (!pid || p.exited) return;
  const gone = new Promise<void>((resolve) => {
    if (p.exited) resolve();
    p.child.once('exit', () => resolve());
  });
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-pid, s); // the whole process group
    } catch {
      /* already gone */
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 3_000);
  await gone;
  clearTimeout(timer);
  // Anything else left in the group (none of these components fork, but be thorough).
  signal('SIGKILL');
}

/** A detached shell that kills every component and removes the dir once this process is gone. */
function startWatchdog(dir: string): ChildProcess {
  const script = `
parent=$1; dir=$2
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
for f in "$dir"/pids/*; do [ -f "$f" ] && kill -TERM "-$(cat "$f")" 2>/dev/null; done
sleep 3
for f in "$dir"/pids/*; do [ -f "$f" ] && kill -KILL "-$(cat "$f")" 2>/dev/null; done
rm -rf "$dir"
`;
  const child = spawn('sh', ['-c', script, 'robustmq-cp-watchdog', String(process.pid), dir], { detached: true, stdio: 'ignore' });
  child.unref();
  return child;
}


async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      await new Promise<void>((resolve, reject) => s.listen(0, '127.0.0.1', resolve).once('error', reject));
      servers.push(s);
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

/** The apiserver must advertise a non-loopback address: the first non-internal IPv4 (eth0 here). */
function advertiseAddress(): string {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  // No external interface: with --endpoint-reconciler-type=none the apiserver accepts loopback.
  return '127.0.0.1';
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 2_000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}



