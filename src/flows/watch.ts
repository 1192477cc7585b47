// Live state of one release, from four kubectl watches (pods, events, PVCs, StatefulSets), judged by the pure
// health rules (src/core/health.ts). Used by deploy (while helm runs with its own --wait), rollback and the pending
// recovery. One-shot snapshots (status, the final check after helm) use `snapshotOnce`.
import { assess, type HealthThresholds, type Verdict } from '../core/health.js';
import { slimEvent, slimPod, slimPvc, slimStatefulSet } from '../core/k8s-slim.js';
import type { K8sEvent, K8sPod, K8sPvc, K8sStatefulSet } from '../core/k8s-types.js';
import type { Kube, WatchHandle } from '../shell/kube.js';

export const ROLE_ORDER = ['combined', 'meta', 'broker', 'engine'];

export function releaseSelector(release: string): string {
  return `app.kubernetes.io/instance=${release},app.kubernetes.io/name=robustmq`;
}

export interface Snapshot {
  pods: K8sPod[];
  events: K8sEvent[];
  pvcs: K8sPvc[];
  statefulSets: K8sStatefulSet[];
  storageClassModes?: Record<string, string>;
}

function roleOfSts(s: K8sStatefulSet): string {
  const tpl = (s.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template;
  return tpl?.metadata?.labels?.['app.kubernetes.io/component'] ?? s.metadata.labels?.['app.kubernetes.io/component'] ?? s.metadata.name;
}

/** Desired replicas per role, and each role's update revision, from the live StatefulSets. */
export function expectedFrom(statefulSets: K8sStatefulSet[]): { expected: Record<string, number>; updateRevisions: Record<string, string>; workloads: string[] } {
  const expected: Record<string, number> = {};
  const updateRevisions: Record<string, string> = {};
  const live = statefulSets.filter((s) => !s.metadata.deletionTimestamp);
  const sorted = [...live].sort((a, b) => rank(roleOfSts(a)) - rank(roleOfSts(b)));
  for (const s of sorted) {
    const role = roleOfSts(s);
    expected[role] = (expected[role] ?? 0) + (s.spec?.replicas ?? 1);
    // Only when the controller has seen the current spec is its updateRevision the one pods must reach.
    const gen = (s.metadata as { generation?: number }).generation;
    if (s.status?.updateRevision && (gen === undefined || s.status.observedGeneration === gen)) updateRevisions[role] = s.status.updateRevision;
  }
  return { expected, updateRevisions, workloads: live.map((s) => s.metadata.name) };
}

function rank(role: string): number {
  const i = ROLE_ORDER.indexOf(role);
  return i < 0 ? ROLE_ORDER.length : i;
}

export function verdictOf(s: Snapshot, o: { now: number; since: number; thresholds?: Partial<HealthThresholds> }): Verdict & { known: boolean } {
  const { expected, updateRevisions, workloads } = expectedFrom(s.statefulSets);
  const v = assess({
    now: o.now,
    since: o.since,
    expected,
    pods: s.pods,
    events: s.events,
    pvcs: s.pvcs,
    workloads,
    updateRevisions,
    ...(s.storageClassModes ? { storageClassModes: s.storageClassModes } : {}),
    ...(o.thresholds ? { thresholds: o.thresholds } : {}),
  });
  // Before helm has created the StatefulSets nothing is known: never "healthy".
  const known = workloads.length > 0;
  return { ...v, status: known ? v.status : v.status === 'failed' ? 'failed' : 'progressing', known };
}

export class ReleaseWatch {
  private handles: { pods?: WatchHandle<K8sPod>; events?: WatchHandle<K8sEvent>; pvcs?: WatchHandle<K8sPvc>; sts?: WatchHandle<K8sStatefulSet> } = {};
  private listeners = new Set<() => void>();
  readonly errors: string[] = [];
  storageClassModes?: Record<string, string>;

  constructor(
    private readonly kube: Kube,
    readonly namespace: string,
    readonly release: string,
  ) {}

  /** Pods that look Ready, kept per event (cheap), so "all Ready" is known without judging every pod. */
  private readonly readyPods = new Set<string>();

  private podChanged(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: K8sPod): void {
    const key = pod.metadata.name;
    const ready = type !== 'DELETED' && !pod.metadata.deletionTimestamp && (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
    if (ready) this.readyPods.add(key);
    else this.readyPods.delete(key);
  }

  /** Every desired pod looks Ready: worth judging at once. */
  allLookReady(): boolean {
    const sts = this.handles.sts?.objects() ?? [];
    if (sts.length === 0) return false;
    const desired = sts.reduce((a, s) => a + (s.metadata.deletionTimestamp ? 0 : (s.spec?.replicas ?? 1)), 0);
    return this.readyPods.size >= desired;
  }

  /**
   * How often the full judgement (every pod through the health rules) is worth its cost: every 100 ms for a few
   * pods, less often as they grow (+1 ms per pod, at most 1 s), so a thousand-pod rollout is judged ~1/s instead of
   * 10/s. The moment every pod looks Ready is not delayed by it (`readyOrAfter`).
   */
  judgeIntervalMs(): number {
    return Math.min(1000, 100 + (this.handles.pods?.objects().length ?? 0));
  }

  /** Resolves after `ms`, or as soon as every desired pod looks Ready. */
  readyOrAfter(ms: number): Promise<void> {
    if (this.allLookReady()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        off();
        resolve();
      };
      const timer = setTimeout(done, ms);
      const off = this.onChange(() => {
        if (this.allLookReady()) done();
      });
    });
  }

  start(): void {
    const changed = () => {
      for (const l of this.listeners) l();
    };
    const onError = (m: string) => {
      if (this.errors.length < 50) this.errors.push(m);
    };
    const sel = releaseSelector(this.release);
    this.handles.pods = this.kube.watch<K8sPod>('pods', {
      namespace: this.namespace,
      selector: sel,
      onChange: (type, pod) => {
        this.podChanged(type, pod);
        changed();
      },
      onError,
      keep: slimPod,
    });
    this.handles.events = this.kube.watch<K8sEvent>('events', { namespace: this.namespace, onChange: changed, onError, keep: slimEvent });
    this.handles.pvcs = this.kube.watch<K8sPvc>('persistentvolumeclaims', { namespace: this.namespace, selector: `app.kubernetes.io/instance=${this.release}`, onChange: changed, onError, keep: slimPvc });
    this.handles.sts = this.kube.watch<K8sStatefulSet>('statefulsets.apps', { namespace: this.namespace, selector: `app.kubernetes.io/instance=${this.release}`, onChange: changed, onError, keep: slimStatefulSet });
    void this.kube
      .storageClasses()
      .then((scs) => {
        this.storageClassModes = Object.fromEntries(scs.map((c) => [c.name, c.volumeBindingMode]));
      })
      .catch(() => undefined);
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  snapshot(): Snapshot {
    return {
      pods: this.handles.pods?.objects() ?? [],
      events: this.handles.events?.objects() ?? [],
      pvcs: this.handles.pvcs?.objects() ?? [],
      statefulSets: this.handles.sts?.objects() ?? [],
      ...(this.storageClassModes ? { storageClassModes: this.storageClassModes } : {}),
    };
  }

  async stop(): Promise<void> {
    await Promise.all(Object.values(this.handles).map((h) => h?.stop()));
    this.listeners.clear();
  }
}

/** Each StatefulSet's metadata.generation, to tell a rolled-out upgrade from the state before it. */
export function stsGenerations(statefulSets: K8sStatefulSet[]): Map<string, number | undefined> {
  return new Map(statefulSets.map((s) => [s.metadata.name, (s.metadata as { generation?: number }).generation]));
}

/**
 * True once helm's change has reached the StatefulSets: at least one has a new generation and the controller has
 * observed every current generation. Before that, Ready pods are the previous revision's and prove nothing.
 */
export function rolledOutSince(before: Map<string, number | undefined>, statefulSets: K8sStatefulSet[]): boolean {
  const live = statefulSets.filter((s) => !s.metadata.deletionTimestamp);
  const gen = (s: K8sStatefulSet) => (s.metadata as { generation?: number }).generation;
  const changed = live.some((s) => !before.has(s.metadata.name) || before.get(s.metadata.name) !== gen(s));
  return changed && live.every((s) => s.status?.observedGeneration === gen(s));
}

/**
 * True once the watch has caught up with the StatefulSets as helm left them (`applied`, read after helm exited): the
 * same live set, each at least at that generation and observed by the controller (see below for generation 1). Unlike `rolledOutSince` it holds
 * for an upgrade that changed no StatefulSet.
 */
export function caughtUp(applied: Map<string, number | undefined>, statefulSets: K8sStatefulSet[]): boolean {
  const live = statefulSets.filter((s) => !s.metadata.deletionTimestamp);
  const gen = (s: K8sStatefulSet) => (s.metadata as { generation?: number }).generation;
  if (live.length !== applied.size) return false;
  return live.every((s) => {
    if (!applied.has(s.metadata.name)) return false;
    const want = applied.get(s.metadata.name);
    const g = gen(s);
    if (want !== undefined && (g === undefined || g < want)) return false;
    // A StatefulSet at generation 1 has only ever had one spec, so its Ready pods are of that spec: no need to wait
    // for its controller's status (which lags the pods by 0.1–0.5 s on a busy controller-manager).
    return g === 1 || s.status?.observedGeneration === g;
  });
}

/** The same four lists, read once (status, the final check after helm). */
export async function snapshotOnce(kube: Kube, namespace: string, release: string): Promise<Snapshot> {
  const [pods, events, pvcs, statefulSets, scs] = await Promise.all([
    kube.list<K8sPod>('pods', { namespace, selector: releaseSelector(release), keep: slimPod }),
    kube.list<K8sEvent>('events', { namespace, keep: slimEvent }),
    kube.list<K8sPvc>('persistentvolumeclaims', { namespace, selector: `app.kubernetes.io/instance=${release}`, keep: slimPvc }),
    kube.list<K8sStatefulSet>('statefulsets.apps', { namespace, selector: `app.kubernetes.io/instance=${release}`, keep: slimStatefulSet }),
    kube.storageClasses().catch(() => []),
  ]);
  return { pods, events, pvcs, statefulSets, storageClassModes: Object.fromEntries(scs.map((c) => [c.name, c.volumeBindingMode])) };
}
