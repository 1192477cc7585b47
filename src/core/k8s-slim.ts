// What a live watch keeps of each object: exactly the slices of src/core/k8s-types.ts that the health rules, the
// progress lines, rollback and the debug bundle read. A chart pod as served is tens of kB once parsed (env, probes,
// projected volumes, security contexts); a thousand of them, kept whole, were most of the CLI's memory (bench P5).
// The debug bundle takes full objects from the API itself, never from a watch.
import type { ContainerStatus, K8sEvent, K8sPod, K8sPvc, K8sStatefulSet, ObjectMeta } from './k8s-types.js';

/** ObjectMeta as read, plus `generation` (StatefulSet rollouts are judged by it). */
export function slimMeta(m: ObjectMeta & { generation?: number }): ObjectMeta & { generation?: number } {
  const out: ObjectMeta & { generation?: number } = { name: m.name };
  if (m.namespace !== undefined) out.namespace = m.namespace;
  if (m.uid !== undefined) out.uid = m.uid;
  if (m.labels !== undefined) out.labels = m.labels;
  if (m.annotations !== undefined) out.annotations = m.annotations;
  if (m.creationTimestamp !== undefined) out.creationTimestamp = m.creationTimestamp;
  if (m.deletionTimestamp !== undefined) out.deletionTimestamp = m.deletionTimestamp;
  if (m.ownerReferences !== undefined) out.ownerReferences = m.ownerReferences.map((o) => ({ kind: o.kind, name: o.name, ...(o.uid !== undefined ? { uid: o.uid } : {}) }));
  if (m.generation !== undefined) out.generation = m.generation;
  return out;
}

const named = (cs: { name: string; image?: string }[] | undefined) => cs?.map((c) => ({ name: c.name, ...(c.image !== undefined ? { image: c.image } : {}) }));

function slimStatuses(s: ContainerStatus[] | undefined): ContainerStatus[] | undefined {
  return s?.map((c) => {
    const out: ContainerStatus = { name: c.name, ready: c.ready, restartCount: c.restartCount };
    if (c.image !== undefined) out.image = c.image;
    if (c.imageID !== undefined) out.imageID = c.imageID;
    if (c.started !== undefined) out.started = c.started;
    if (c.state !== undefined) out.state = c.state;
    if (c.lastState !== undefined) out.lastState = c.lastState;
    return out;
  });
}

function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export function slimPod(p: K8sPod): K8sPod {
  const spec = p.spec;
  const st = p.status;
  return defined({
    metadata: slimMeta(p.metadata),
    spec: spec
      ? defined({
          nodeName: spec.nodeName,
          containers: named(spec.containers),
          initContainers: named(spec.initContainers),
          volumes: spec.volumes?.filter((v) => v.persistentVolumeClaim).map((v) => ({ name: v.name, persistentVolumeClaim: { claimName: v.persistentVolumeClaim!.claimName } })),
        })
      : undefined,
    status: st
      ? defined({
          phase: st.phase,
          reason: st.reason,
          message: st.message,
          nominatedNodeName: st.nominatedNodeName,
          startTime: st.startTime,
          conditions: st.conditions?.map((c) => defined({ type: c.type, status: c.status, reason: c.reason, message: c.message, lastTransitionTime: c.lastTransitionTime })),
          containerStatuses: slimStatuses(st.containerStatuses),
          initContainerStatuses: slimStatuses(st.initContainerStatuses),
        })
      : undefined,
  });
}

export function slimEvent(e: K8sEvent): K8sEvent {
  return defined({
    metadata: slimMeta(e.metadata),
    involvedObject: e.involvedObject ? defined({ kind: e.involvedObject.kind, name: e.involvedObject.name, namespace: e.involvedObject.namespace, uid: e.involvedObject.uid }) : undefined,
    reason: e.reason,
    message: e.message,
    type: e.type,
    count: e.count,
    firstTimestamp: e.firstTimestamp,
    lastTimestamp: e.lastTimestamp,
    eventTime: e.eventTime,
    source: e.source?.component !== undefined ? { component: e.source.component } : undefined,
    reportingComponent: e.reportingComponent,
  });
}

export function slimPvc(c: K8sPvc): K8sPvc {
  const storage = c.spec?.resources?.requests?.storage;
  return defined({
    metadata: slimMeta(c.metadata),
    spec: c.spec ? defined({ storageClassName: c.spec.storageClassName, resources: storage !== undefined ? { requests: { storage } } : undefined }) : undefined,
    status: c.status?.phase !== undefined ? { phase: c.status.phase } : undefined,
  });
}

type StsSpec = NonNullable<K8sStatefulSet['spec']> & { template?: { metadata?: { labels?: Record<string, string> } } };

/** Keeps the pod template's labels: a StatefulSet's role is read from them. */
export function slimStatefulSet(s: K8sStatefulSet): K8sStatefulSet {
  const spec = s.spec as StsSpec | undefined;
  const labels = spec?.template?.metadata?.labels;
  return defined({
    metadata: slimMeta(s.metadata),
    spec: spec
      ? (defined({ replicas: spec.replicas, selector: spec.selector, template: labels ? { metadata: { labels } } : undefined }) as K8sStatefulSet['spec'])
      : undefined,
    status: s.status,
  });
}
