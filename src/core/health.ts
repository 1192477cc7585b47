// Pod status snapshots → per-role x/y Ready and a verdict: healthy, still progressing, or failed for a reason that
// waiting longer will not fix. Pure: the caller owns the clock (`now`) and the watches that fill the snapshot.
//
// Terminal failures use thresholds and grace periods, because RobustMQ may exit once or twice during a healthy first
// boot while the meta Raft group forms (a broker blocks until a Raft write succeeds; a joining node that starts before
// its peer may exit(1) and be restarted):
// - image pull: terminal at once on `manifest unknown`, `unauthorized`, `not found`, `denied` and invalid names;
//   transient (never terminal by itself) on timeouts, resets, rate limits; anything else after `imagePullGraceMs`;
// - CrashLoopBackOff (and repeated Error/OOMKilled exits): terminal after `crashLoopRestarts` restarts AND
//   `crashLoopGraceMs` since the pod started; the caller then attaches the last log lines of the crashed container;
// - Unschedulable: terminal after `unschedulableGraceMs` only if nothing is making room: no cluster-autoscaler scale-up
//   event, no nomination (preemption / Karpenter), no volume provisioning in flight; a NotTriggerScaleUp event does not
//   count as progress;
// - a PVC waiting for its first consumer (WaitForFirstConsumer) or being provisioned is progress, not a failure;
// - CreateContainerConfigError / CreateContainerError and a StatefulSet that cannot create its pods (FailedCreate:
//   Pod Security, quota) are terminal after `createErrorGraceMs`.
import { eventTime, type ContainerStatus, type K8sEvent, type K8sPod, type K8sPvc } from './k8s-types.js';

export interface HealthThresholds {
  crashLoopRestarts: number;
  crashLoopGraceMs: number;
  unschedulableGraceMs: number;
  imagePullGraceMs: number;
  createErrorGraceMs: number;
}

export const DEFAULT_THRESHOLDS: HealthThresholds = {
  crashLoopRestarts: 3,
  crashLoopGraceMs: 120_000,
  unschedulableGraceMs: 90_000,
  imagePullGraceMs: 120_000,
  createErrorGraceMs: 45_000,
};

export const ROLE_LABEL = 'app.kubernetes.io/component';

export interface HealthInput {
  now: number;
  /** When the operation (install/upgrade/rollback) started; events older than this are history, not evidence. */
  since: number;
  /** Desired replicas per role (`combined`, or `meta`/`broker`/`engine`). */
  expected: Record<string, number>;
  pods: K8sPod[];
  events?: K8sEvent[];
  pvcs?: K8sPvc[];
  /** Names of the release's StatefulSets, to read their FailedCreate events. */
  workloads?: string[];
  /** Storage classes by name → volumeBindingMode, to recognise WaitForFirstConsumer claims. */
  storageClassModes?: Record<string, string>;
  /** Pods whose controller-revision-hash differs are old (still rolling); counted Ready only when they are. */
  updateRevisions?: Record<string, string>;
  thresholds?: Partial<HealthThresholds>;
}

export type IssueKind =
  | 'image-pull'
  | 'crash-loop'
  | 'unschedulable'
  | 'config-error'
  | 'create-failed'
  | 'volume'
  | 'starting'
  | 'not-ready'
  | 'terminating'
  | 'evicted';

export interface PodIssue {
  kind: IssueKind;
  terminal: boolean;
  /** Short reason, e.g. `ImagePullBackOff: manifest unknown`. */
  reason: string;
  /** The API's own words (container message, condition message or event), for the bundle and the failure text. */
  message: string;
  container?: string;
  hint?: string;
}

export interface PodReport {
  name: string;
  role: string;
  ready: boolean;
  phase: string;
  restarts: number;
  node?: string;
  /** Why it is not Ready (absent when Ready). */
  issue?: PodIssue;
  outdated?: boolean;
}

export interface RoleReport {
  role: string;
  ready: number;
  desired: number;
  pods: PodReport[];
}

export interface Failure extends PodIssue {
  /** Pod or workload the failure is about. */
  object: string;
  /** Container whose previous log the caller should attach (crash loops). */
  logsFrom?: { pod: string; container: string; previous: boolean };
}

export interface Verdict {
  status: 'healthy' | 'progressing' | 'failed';
  roles: RoleReport[];
  failure?: Failure;
  /** `meta 3/3 Ready, broker 1/3 Ready` */
  summary: string;
}

const TERMINAL_PULL = /manifest unknown|manifest for .* not found|not found|unauthorized|authentication required|denied|repository does not exist|may require ['"]?docker login|invalid reference format|no match for platform|pull access denied/i;
const TRANSIENT_PULL = /timeout|timed out|deadline exceeded|connection reset|connection refused|TLS handshake|too many requests|\b429\b|\b50[234]\b|temporar|EOF|network is unreachable|try again/i;

function ms(t: string | undefined | null): number | undefined {
  if (!t) return undefined;
  const v = Date.parse(t);
  return Number.isNaN(v) ? undefined : v;
}

function isReady(p: K8sPod): boolean {
  if (p.metadata.deletionTimestamp) return false;
  return (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

// Pod events by pod name, built once per events array: scanning every event for every pod is quadratic, and a
// rollout of a thousand pods is judged ten times a second.
const podEventIndex = new WeakMap<K8sEvent[], Map<string, K8sEvent[]>>();

function podEvents(events: K8sEvent[], pod: K8sPod, since: number): K8sEvent[] {
  let index = podEventIndex.get(events);
  if (!index) {
    index = new Map();
    for (const e of events) {
      if (e.involvedObject?.kind !== 'Pod') continue;
      const name = e.involvedObject.name ?? '';
      const list = index.get(name);
      if (list) list.push(e);
      else index.set(name, [e]);
    }
    podEventIndex.set(events, index);
  }
  return (index.get(pod.metadata.name) ?? [])
    .filter((e) => (!pod.metadata.uid || !e.involvedObject!.uid || e.involvedObject!.uid === pod.metadata.uid) && eventTime(e) >= since - 1000)
    .sort((a, b) => eventTime(a) - eventTime(b));
}

function pullIssue(cs: ContainerStatus, pod: K8sPod, evs: K8sEvent[], now: number, th: HealthThresholds): PodIssue | undefined {
  const w = cs.state?.waiting;
  if (!w?.reason) return undefined;
  if (w.reason === 'InvalidImageName') {
    return { kind: 'image-pull', terminal: true, reason: 'InvalidImageName', message: w.message ?? '', container: cs.name, hint: 'check image.registry/repository/tag (or --registry)' };
  }
  if (w.reason !== 'ErrImagePull' && w.reason !== 'ImagePullBackOff') return undefined;
  // The waiting message of ImagePullBackOff is often just "Back-off pulling image X"; the pull error itself is in
  // the latest `Failed` event ("Failed to pull image ...: ... manifest unknown").
  const failedEv = [...evs].reverse().find((e) => e.reason === 'Failed' && /pull/i.test(e.message ?? ''));
  const text = [w.message ?? '', failedEv?.message ?? ''].join(' ');
  const image = cs.image ?? '';
  if (TRANSIENT_PULL.test(text) && !TERMINAL_PULL.test(text.replace(/Back-off pulling image/i, ''))) {
    return {
      kind: 'image-pull',
      terminal: false,
      reason: `${w.reason}: transient (${firstMatch(text, TRANSIENT_PULL)}), retrying`,
      message: text.trim(),
      container: cs.name,
      hint: 'the registry is slow or unreachable from the nodes; a mirror can help (--registry)',
    };
  }
  if (TERMINAL_PULL.test(text.replace(/Back-off pulling image/i, ''))) {
    const why = mostSpecific(text.replace(/Back-off pulling image/i, ''));
    return {
      kind: 'image-pull',
      terminal: true,
      reason: `${w.reason}: ${why}`,
      message: text.trim(),
      container: cs.name,
      hint: /unauthorized|authentication|denied|login/i.test(why)
        ? `the registry refused the credentials for ${image}: set image.pullSecrets / global.imagePullSecrets`
        : `the image ${image} does not exist: check image.tag / image.repository (or --registry)`,
    };
  }
  const since = ms(pod.status?.startTime) ?? ms(pod.metadata.creationTimestamp) ?? now;
  return {
    kind: 'image-pull',
    terminal: now - since >= th.imagePullGraceMs,
    reason: `${w.reason}`,
    message: text.trim(),
    container: cs.name,
    hint: `cannot pull ${image}; check the image reference and the nodes' access to the registry`,
  };
}

// In the order a user can act on: the most specific words first ("...: not found: manifest unknown" → manifest unknown).
const PULL_REASONS = [/manifest unknown/i, /unauthorized/i, /authentication required/i, /pull access denied/i, /denied/i, /repository does not exist/i, /invalid reference format/i, /no match for platform/i, /manifest for .* not found/i, /not found/i];

function mostSpecific(s: string): string {
  for (const re of PULL_REASONS) {
    const m = re.exec(s);
    if (m) return m[0];
  }
  return firstMatch(s, TERMINAL_PULL);
}

function firstMatch(s: string, re: RegExp): string {
  const m = re.exec(s);
  return m ? m[0] : '';
}

function crashIssue(cs: ContainerStatus, pod: K8sPod, now: number, since: number, th: HealthThresholds, init: boolean): PodIssue | undefined {
  const w = cs.state?.waiting;
  const last = cs.lastState?.terminated ?? cs.state?.terminated;
  const crashing = w?.reason === 'CrashLoopBackOff' || (w?.reason === 'RunContainerError' && cs.restartCount > 0) || (!cs.ready && last && (last.exitCode ?? 0) !== 0 && cs.restartCount > 0 && !cs.state?.running);
  if (!crashing) return undefined;
  const started = Math.max(ms(pod.status?.startTime) ?? ms(pod.metadata.creationTimestamp) ?? since, since);
  const exit = last ? `exit ${last.exitCode ?? '?'}${last.reason ? ` ${last.reason}` : ''}` : '';
  const terminal = cs.restartCount >= th.crashLoopRestarts && now - started >= th.crashLoopGraceMs;
  const oom = last?.reason === 'OOMKilled';
  return {
    kind: 'crash-loop',
    terminal,
    reason: `${init ? 'Init:' : ''}${w?.reason ?? 'Error'} (${cs.restartCount} restarts${exit ? `, last ${exit}` : ''})`,
    message: [w?.message, last?.message].filter(Boolean).join(' | '),
    container: cs.name,
    hint: oom
      ? 'the container was OOMKilled: raise resources.limits.memory for this role'
      : terminal
        ? 'the container keeps exiting; its last log lines are below'
        : `restarting; RobustMQ may exit while the meta Raft group forms (terminal after ${th.crashLoopRestarts} restarts and ${Math.round(th.crashLoopGraceMs / 1000)}s)`,
  };
}

function configIssue(cs: ContainerStatus, pod: K8sPod, now: number, since: number, th: HealthThresholds): PodIssue | undefined {
  const w = cs.state?.waiting;
  if (!w?.reason || !/^(CreateContainerConfigError|CreateContainerError|ContainerCannotRun)$/.test(w.reason)) return undefined;
  const created = Math.max(ms(pod.metadata.creationTimestamp) ?? since, since);
  return {
    kind: 'config-error',
    terminal: now - created >= th.createErrorGraceMs,
    reason: w.reason,
    message: w.message ?? '',
    container: cs.name,
    hint: /secret/i.test(w.message ?? '') ? 'a Secret or key the pod references is missing (auth.existingSecret must hold admin-password, admin-jwt-secret, mqtt-password)' : 'the container could not be created; see the message',
  };
}

function claimNames(pod: K8sPod): string[] {
  return (pod.spec?.volumes ?? []).map((v) => v.persistentVolumeClaim?.claimName).filter((n): n is string => !!n);
}

function unschedulableIssue(pod: K8sPod, evs: K8sEvent[], allEvents: K8sEvent[], input: HealthInput, th: HealthThresholds): PodIssue | undefined {
  const cond = (pod.status?.conditions ?? []).find((c) => c.type === 'PodScheduled');
  if (!cond || cond.status !== 'False' || cond.reason !== 'Unschedulable') return undefined;
  const msg = cond.message ?? '';
  const since = Math.max(ms(cond.lastTransitionTime) ?? ms(pod.metadata.creationTimestamp) ?? input.since, input.since);
  const waited = input.now - since;

  // Volumes: an unbound claim being provisioned (or waiting for this very pod to be placed) is progress.
  const claims = claimNames(pod);
  const pvcs = (input.pvcs ?? []).filter((c) => claims.includes(c.metadata.name));
  const pvcEvents = allEvents.filter((e) => e.involvedObject?.kind === 'PersistentVolumeClaim' && claims.includes(e.involvedObject.name ?? ''));
  const provisioningFailed = [...pvcEvents].reverse().find((e) => e.reason === 'ProvisioningFailed');
  if (provisioningFailed && /not found|no provisioner|invalid/i.test(provisioningFailed.message ?? '')) {
    return {
      kind: 'volume',
      terminal: waited >= th.createErrorGraceMs,
      reason: 'ProvisioningFailed',
      message: provisioningFailed.message ?? '',
      hint: 'the PersistentVolumeClaim cannot be provisioned: check persistence.storageClass',
    };
  }
  const volumeMsg = /unbound (immediate )?PersistentVolumeClaims|waiting for first consumer|persistentvolumeclaim .* not found|didn't find available persistent volumes|binding volumes/i.test(msg);
  const provisioning = pvcEvents.some((e) => /^(Provisioning|ExternalProvisioning|WaitForFirstConsumer|WaitForPodScheduled)$/.test(e.reason ?? '')) || pvcs.some((c) => c.status?.phase === 'Pending');
  if (volumeMsg && provisioning) {
    return { kind: 'volume', terminal: false, reason: 'waiting for volume provisioning', message: msg, hint: 'the storage provisioner is creating the volume' };
  }

  const nominated = !!pod.status?.nominatedNodeName || evs.some((e) => /^(Nominated|TriggeredScaleUp)$/.test(e.reason ?? ''));
  const refused = [...evs].reverse().find((e) => e.reason === 'NotTriggerScaleUp');
  if (nominated && !refused) {
    return { kind: 'unschedulable', terminal: false, reason: 'Unschedulable, capacity is being added', message: msg, hint: 'a node scale-up or preemption is in progress' };
  }
  return {
    kind: 'unschedulable',
    terminal: waited >= th.unschedulableGraceMs,
    reason: 'Unschedulable',
    message: refused ? `${msg} | cluster-autoscaler: ${refused.message ?? ''}` : msg,
    hint: schedulingHint(msg),
  };
}

function schedulingHint(msg: string): string {
  if (/Insufficient (cpu|memory)/i.test(msg)) return 'not enough free cpu/memory on the nodes: lower resources.requests or add nodes';
  if (/anti-affinity|topology spread/i.test(msg)) return 'the spread rules need more nodes/zones than the cluster has: add nodes or relax affinity/topologySpreadConstraints';
  if (/taint/i.test(msg)) return 'the nodes are tainted: add tolerations or use other nodes';
  if (/node\(s\) didn't match (Pod's )?node (affinity|selector)/i.test(msg)) return 'no node matches nodeSelector/affinity';
  return 'no node can take the pod; see the scheduler message';
}

function workloadFailure(input: HealthInput, th: HealthThresholds, podCount: number, desiredTotal: number): Failure | undefined {
  if (!input.workloads?.length || podCount >= desiredTotal) return undefined;
  const evs = (input.events ?? [])
    .filter((e) => e.involvedObject?.kind === 'StatefulSet' && input.workloads!.includes(e.involvedObject.name ?? '') && e.reason === 'FailedCreate' && eventTime(e) >= input.since - 1000)
    .sort((a, b) => eventTime(a) - eventTime(b));
  const last = evs[evs.length - 1];
  if (!last) return undefined;
  const first = evs[0]!;
  const persisted = input.now - Math.max(input.since, ms(first.firstTimestamp) ?? eventTime(first)) >= th.createErrorGraceMs;
  const repeated = (last.count ?? 1) >= 3 || evs.length >= 3;
  if (!persisted && !repeated) return undefined;
  const text = last.message ?? '';
  return {
    object: `statefulset/${last.involvedObject?.name}`,
    kind: 'create-failed',
    terminal: true,
    reason: 'FailedCreate',
    message: text,
    hint: /PodSecurity|violates/i.test(text)
      ? 'the namespace Pod Security level rejects the pods: keep the chart security contexts, or relabel the namespace'
      : /quota/i.test(text)
        ? 'a ResourceQuota in the namespace is exhausted: lower resources.requests or raise the quota'
        : 'the StatefulSet controller cannot create the pods; see the message',
  };
}

function readinessMessage(evs: K8sEvent[]): string | undefined {
  const e = [...evs].reverse().find((x) => x.reason === 'Unhealthy' || x.reason === 'ProbeWarning');
  return e?.message;
}

/** One pod's report: Ready, or the most telling reason it is not. */
export function podReport(pod: K8sPod, input: HealthInput, th: HealthThresholds = { ...DEFAULT_THRESHOLDS, ...input.thresholds }): PodReport {
  const role = pod.metadata.labels?.[ROLE_LABEL] ?? 'unknown';
  const all = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const restarts = all.reduce((n, c) => n + (c.restartCount ?? 0), 0);
  const rev = pod.metadata.labels?.['controller-revision-hash'];
  const want = input.updateRevisions?.[role];
  const outdated = !!(want && rev && rev !== want);
  const base: PodReport = {
    name: pod.metadata.name,
    role,
    ready: isReady(pod),
    phase: pod.metadata.deletionTimestamp ? 'Terminating' : (pod.status?.phase ?? 'Pending'),
    restarts,
    ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}),
    ...(outdated ? { outdated } : {}),
  };
  if (base.ready) return base;
  const events = input.events ?? [];
  const evs = podEvents(events, pod, input.since);
  const issue = podIssue(pod, evs, events, input, th);
  return { ...base, issue };
}

function podIssue(pod: K8sPod, evs: K8sEvent[], events: K8sEvent[], input: HealthInput, th: HealthThresholds): PodIssue {
  const now = input.now;
  if (pod.metadata.deletionTimestamp) return { kind: 'terminating', terminal: false, reason: 'Terminating', message: '' };
  if (pod.status?.phase === 'Failed') {
    return { kind: 'evicted', terminal: false, reason: pod.status.reason ?? 'Failed', message: pod.status.message ?? '', hint: 'the StatefulSet controller replaces failed pods' };
  }
  const un = unschedulableIssue(pod, evs, events, input, th);
  if (un) return un;
  const inits = pod.status?.initContainerStatuses ?? [];
  const mains = pod.status?.containerStatuses ?? [];
  const candidates: PodIssue[] = [];
  for (const [list, init] of [
    [inits, true],
    [mains, false],
  ] as const) {
    for (const cs of list) {
      const i = pullIssue(cs, pod, evs, now, th) ?? configIssue(cs, pod, now, input.since, th) ?? crashIssue(cs, pod, now, input.since, th, init);
      if (i) candidates.push(i);
    }
  }
  const terminal = candidates.find((c) => c.terminal);
  if (terminal) return terminal;
  if (candidates[0]) return candidates[0];

  // Nothing wrong yet: say what it is waiting for.
  const claims = claimNames(pod);
  const pendingClaim = (input.pvcs ?? []).find((c) => claims.includes(c.metadata.name) && c.status?.phase === 'Pending');
  if (pendingClaim) {
    const mode = input.storageClassModes?.[pendingClaim.spec?.storageClassName ?? ''];
    return {
      kind: 'volume',
      terminal: false,
      reason: mode === 'WaitForFirstConsumer' ? `volume ${pendingClaim.metadata.name} waits for first consumer` : `volume ${pendingClaim.metadata.name} Pending`,
      message: '',
    };
  }
  const waitingInit = inits.find((c) => !c.ready);
  if (waitingInit) {
    return { kind: 'starting', terminal: false, reason: `Init:${waitingInit.state?.waiting?.reason ?? (waitingInit.state?.running ? 'Running' : 'Waiting')} (${waitingInit.name})`, message: waitingInit.state?.waiting?.message ?? '' };
  }
  const waiting = mains.find((c) => c.state?.waiting);
  if (waiting) return { kind: 'starting', terminal: false, reason: waiting.state!.waiting!.reason ?? 'Waiting', message: waiting.state!.waiting!.message ?? '', container: waiting.name };
  if (!pod.spec?.nodeName) return { kind: 'starting', terminal: false, reason: 'waiting to be scheduled', message: '' };
  if (pod.status?.phase === 'Running') {
    const probe = readinessMessage(evs);
    return {
      kind: 'not-ready',
      terminal: false,
      reason: probe ? `Running, not Ready: ${probe}` : 'Running, not Ready yet',
      message: probe ?? '',
      hint: 'brokers open their MQTT ports only once the meta Raft group has a leader',
    };
  }
  if (pod.status?.phase === 'Pending' && mains.length === 0) {
    return { kind: 'starting', terminal: false, reason: `scheduled on ${pod.spec.nodeName}, not started yet (no container status from the kubelet)`, message: '' };
  }
  return { kind: 'starting', terminal: false, reason: pod.status?.phase ?? 'Pending', message: '' };
}

/** helm hook pods and Job pods (the chart's `helm test` Job) are not cluster members. */
export function isHookOrJobPod(p: K8sPod): boolean {
  return (
    !!p.metadata.annotations?.['helm.sh/hook'] ||
    !!p.metadata.labels?.['batch.kubernetes.io/job-name'] ||
    !!p.metadata.labels?.['job-name'] ||
    (p.metadata.ownerReferences ?? []).some((o) => o.kind === 'Job')
  );
}

// One collator for every comparison: localeCompare with options builds a new one per call, which made sorting a
// thousand pods, ten times a second, the CLI's largest CPU cost (bench P5).
const byName = new Intl.Collator('en', { numeric: true }).compare;

const SEVERITY: IssueKind[] = ['config-error', 'image-pull', 'create-failed', 'volume', 'crash-loop', 'unschedulable'];

/** The verdict for one snapshot. */
export function assess(input: HealthInput): Verdict {
  const th: HealthThresholds = { ...DEFAULT_THRESHOLDS, ...input.thresholds };
  const reports = input.pods
    .filter((p) => p.status?.phase !== 'Succeeded') // completed test-hook pods are not members
    .filter((p) => !isHookOrJobPod(p))
    .map((p) => podReport(p, input, th))
    .sort((a, b) => byName(a.name, b.name));

  const roleNames = [...new Set([...Object.keys(input.expected), ...reports.map((r) => r.role)])];
  const roles: RoleReport[] = roleNames.map((role) => {
    const pods = reports.filter((r) => r.role === role);
    return { role, desired: input.expected[role] ?? 0, ready: pods.filter((p) => p.ready && !p.outdated).length, pods };
  });
  const summary = roles
    .filter((r) => r.desired > 0 || r.pods.length > 0)
    .map((r) => `${r.role} ${r.ready}/${r.desired} Ready`)
    .join(', ');

  const desiredTotal = Object.values(input.expected).reduce((a, b) => a + b, 0);
  const terminal = reports
    .filter((r) => r.issue?.terminal)
    .sort((a, b) => SEVERITY.indexOf(a.issue!.kind) - SEVERITY.indexOf(b.issue!.kind))[0];
  if (terminal?.issue) {
    const i = terminal.issue;
    return {
      status: 'failed',
      roles,
      summary,
      failure: {
        ...i,
        object: `pod/${terminal.name}`,
        ...(i.kind === 'crash-loop' && i.container ? { logsFrom: { pod: terminal.name, container: i.container, previous: true } } : {}),
      },
    };
  }
  const wf = workloadFailure(input, th, reports.length, desiredTotal);
  if (wf) return { status: 'failed', roles, summary, failure: wf };

  const allReady = roles.every((r) => r.ready >= r.desired && r.pods.every((p) => p.ready && !p.outdated)) && reports.length >= desiredTotal;
  return { status: allReady ? 'healthy' : 'progressing', roles, summary };
}

/** One line per pod that is not Ready, for progress output and the failure text. */
export function notReadyLines(v: Verdict): string[] {
  return v.roles.flatMap((r) => r.pods.filter((p) => !p.ready || p.outdated).map((p) => `${p.name}: ${p.outdated && p.ready ? 'old revision, waiting to be replaced' : (p.issue?.reason ?? 'not Ready')}`));
}

/** The failure as text: what, why, the API's words and the way out. */
export function describeFailure(f: Failure): string {
  const lines = [`${f.object}${f.container ? ` (container ${f.container})` : ''}: ${f.reason}`];
  if (f.message) lines.push(`  ${f.message}`);
  if (f.hint) lines.push(`  hint: ${f.hint}`);
  return lines.join('\n');
}
